//! Every Suite of the Gatekeeper policy library passes, case by case, as with `gator verify`.

use std::path::PathBuf;

use rampart_policy::suite;

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
