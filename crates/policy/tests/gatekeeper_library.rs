//! Every Suite of the Gatekeeper policy library passes, case by case, as with `gator verify`.

use std::path::PathBuf;

use rampart_policy::suite;

mod samples;

fn library() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/gatekeeper-library/library"
    ));
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need the data bundle at ../shared/data beside the project root",
        dir.display()
    );
    dir
}

#[test]
fn every_library_suite_passes() {
    let reports = suite::run_all(&library()).expect("suites load");
    let mut failures = Vec::new();
    let (mut tests, mut cases) = (0, 0);
    for report in &reports {
        let suite_name = report.path.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy();
        for test in &report.tests {
            tests += 1;
            if let Some(e) = &test.error {
                failures.push(format!("{suite_name} / {}: {e}", test.name));
            }
            for case in &test.cases {
                cases += 1;
                assert!(!case.skipped, "{suite_name} / {} / {} was skipped", test.name, case.name);
                if !case.passed {
                    failures.push(format!(
                        "{suite_name} / {} / {}: {}",
                        test.name,
                        case.name,
                        case.failure.as_deref().unwrap_or("failed")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failing suite cases:\n{}", failures.len(), failures.join("\n"));
    assert_eq!((reports.len(), tests, cases), (30, 43, 130), "suites, tests and cases found");
}

/// Replicas of each library sample (another name and uid, as a Deployment's
/// Pods have) are judged exactly as without any cache, while templates that
/// read neither answer them from the results of the first.
#[test]
fn cached_results_shared_by_replicas_match_fresh_evaluation() {
    let lib = library();
    let mut requests = Vec::new();
    samples::samples(&lib, &lib.join("general"), &mut requests);
    assert!(requests.len() > 100, "{} library samples", requests.len());
    let mut fresh = rampart_policy::Gatekeeper::new();
    fresh.set_decision_cache(0);
    fresh.load_path(&lib.join("general")).unwrap();
    let mut cached = rampart_policy::Gatekeeper::new();
    cached.load_path(&lib.join("general")).unwrap();
    let verdicts = |v: Vec<rampart_policy::Violation>| -> Vec<(String, String)> {
        v.into_iter().map(|v| (v.constraint, v.message)).collect()
    };
    let mut replicas = 0;
    for (name, request) in &requests {
        for replica in 0..4 {
            let mut r = request.clone();
            if replica == 3 {
                // The same object updated: templates that skip updates
                // (`is_update(input.review)`) must not answer from a CREATE.
                r["operation"] = serde_json::json!("UPDATE");
                r["oldObject"] = r["object"].clone();
            } else if replica > 0 {
                let renamed =
                    format!("{}-{replica}", r["object"]["metadata"]["name"].as_str().unwrap_or("x"));
                r["uid"] = serde_json::json!(format!("uid-{replica}"));
                r["name"] = serde_json::json!(renamed);
                if r["object"]["metadata"].is_object() {
                    r["object"]["metadata"]["name"] = serde_json::json!(renamed);
                }
                replicas += 1;
            }
            assert_eq!(
                verdicts(cached.review(&r, None).unwrap()),
                verdicts(fresh.review(&r, None).unwrap()),
                "{name}, replica {replica}"
            );
        }
    }
    // Every review of `fresh` evaluates; `cached` skips most replica evaluations.
    let (with_cache, without) = (cached.evaluations(), fresh.evaluations());
    assert!(
        with_cache * 2 < without,
        "{with_cache} evaluations with the cache, {without} without ({replicas} replicas)"
    );
}
