//! `rampart fs` end to end: the real binary on project trees, against a
//! database imported from `../shared/data`.

mod common;

use common::*;
use serde_json::Value;

fn vuln_ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .map(|v| v["VulnerabilityID"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn seed_pipeline_gate_stops_on_high_and_critical() {
    let dir =
        project(&[("Cargo.lock", CARGO_LOCK_VULNERABLE), ("requirements.txt", REQUIREMENTS_VULNERABLE)]);
    let out = scan("fs", dir.path())
        .args(["--exit-code", "192", "--severity", "HIGH,CRITICAL", "--skip-dirs", "ssl", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 192, "stderr: {}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("Cargo.lock (cargo)"), "{table}");
    assert!(table.contains("CVE-2019-15551"), "{table}");
    assert!(table.contains("CRITICAL"), "{table}");
    // PyPA advisories carry no CVSS, so PyYAML's findings are UNKNOWN and filtered out here.
    assert!(!table.contains("CVE-2019-20477"), "{table}");
}

#[test]
fn gate_passes_when_fixed_versions_are_installed() {
    let lock = CARGO_LOCK_VULNERABLE.replace("0.6.9", "0.6.14");
    let dir = project(&[("Cargo.lock", &lock)]);
    let out = scan("fs", dir.path()).args(["--exit-code", "192", "."]).output().unwrap();
    assert_eq!(code(&out), 0, "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
}

#[test]
fn json_report_has_trivy_schema() {
    let dir = project(&[
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
        ("py/requirements.txt", REQUIREMENTS_VULNERABLE),
        ("go.mod", GO_MOD_VULNERABLE),
    ]);
    let out = scan("fs", dir.path()).args(["--format", "json", "."]).output().unwrap();
    assert_eq!(code(&out), 0, "no --exit-code means success: {}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["SchemaVersion"], 2);
    assert_eq!(report["ArtifactName"], ".");
    assert_eq!(report["ArtifactType"], "filesystem");
    let results = report["Results"].as_array().unwrap();
    let targets: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| (r["Target"].as_str().unwrap(), r["Class"].as_str().unwrap(), r["Type"].as_str().unwrap()))
        .collect();
    assert!(targets.contains(&("Cargo.lock", "lang-pkgs", "cargo")), "{targets:?}");
    assert!(targets.contains(&("go.mod", "lang-pkgs", "gomod")), "{targets:?}");
    assert!(targets.contains(&("py/requirements.txt", "lang-pkgs", "pip")), "{targets:?}");

    let cargo = results.iter().find(|r| r["Target"] == "Cargo.lock").unwrap();
    let v = cargo["Vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2019-15551")
        .expect("RUSTSEC-2019-0009 reported under its CVE");
    assert_eq!(v["PkgName"], "smallvec");
    assert_eq!(v["PkgID"], "smallvec@0.6.9");
    assert_eq!(v["InstalledVersion"], "0.6.9");
    assert_eq!(v["FixedVersion"], "0.6.10");
    assert_eq!(v["Status"], "fixed");
    assert_eq!(v["Severity"], "CRITICAL");
    assert_eq!(v["PkgIdentifier"]["PURL"], "pkg:cargo/smallvec@0.6.9");
    assert!(v["VendorIDs"].as_array().unwrap().iter().any(|i| i == "RUSTSEC-2019-0009"));

    let ids = vuln_ids(&report);
    // smallvec 0.6.9: RUSTSEC-2018-0018, 2019-0009, 2019-0012, 2021-0003.
    for id in ["CVE-2018-25023", "CVE-2019-15551", "CVE-2019-15554", "CVE-2021-25900"] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    // PyYAML 5.1.2 (name spelled with capitals): PYSEC-2020-176, 2020-96, 2021-142; not 2018-49 (fixed in 5.1).
    for id in ["CVE-2019-20477", "CVE-2020-1747", "CVE-2020-14343"] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    assert!(!ids.contains(&"CVE-2017-18342".to_string()), "PyYAML 5.1.2 is past PYSEC-2018-49's fix");
    // golang.org/x/text v0.3.6: GO-2021-0113 (fixed 0.3.7).
    assert!(ids.contains(&"CVE-2021-38561".to_string()), "{ids:?}");
}

#[test]
fn list_all_pkgs_lists_clean_packages_too() {
    let dir = project(&[("requirements.txt", "flask==2.3.3\n")]);
    let out = scan("fs", dir.path()).args(["-f", "json", "--list-all-pkgs", "."]).output().unwrap();
    let report = json(&out);
    let pkgs = &report["Results"][0]["Packages"];
    assert_eq!(pkgs[0]["Name"], "flask", "{report}");
    assert_eq!(pkgs[0]["Version"], "2.3.3");
    assert_eq!(pkgs[0]["Identifier"]["PURL"], "pkg:pypi/flask@2.3.3");
}

#[test]
fn sarif_is_accepted_by_code_scanning() {
    let dir = project(&[("app/Cargo.lock", CARGO_LOCK_VULNERABLE)]);
    let out =
        scan("fs", dir.path()).args(["--format", "sarif", "-o", "rampart.sarif", "."]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "-o writes the report to the file, not stdout");
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("rampart.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "rampart");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for rule in rules {
        assert!(!rule["help"]["text"].as_str().unwrap_or("").is_empty(), "rule without help: {rule}");
    }
    for r in results {
        let rule_id = r["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|x| x["id"] == rule_id), "result rule {rule_id} not among rules");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "app/Cargo.lock");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn ignore_files_suppress_findings_until_they_expire() {
    let dir = project(&[
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
        (".rampartignore", "# accepted risks\nCVE-2019-15551\nRUSTSEC-2019-0012\n\n"),
    ]);
    let out = scan("fs", dir.path()).args(["-f", "json", "."]).output().unwrap();
    let ids = vuln_ids(&json(&out));
    assert!(!ids.contains(&"CVE-2019-15551".to_string()), "ignored by CVE id: {ids:?}");
    assert!(!ids.contains(&"CVE-2019-15554".to_string()), "ignored by its RUSTSEC alias: {ids:?}");
    assert!(ids.contains(&"CVE-2021-25900".to_string()), "{ids:?}");

    let yaml = "vulnerabilities:\n  - id: CVE-2021-25900\n    statement: not reachable\n  - id: CVE-2019-15551\n    expired_at: 2020-01-01\n";
    std::fs::remove_file(dir.path().join(".rampartignore")).unwrap();
    std::fs::write(dir.path().join("accepted.yaml"), yaml).unwrap();
    let out =
        scan("fs", dir.path()).args(["-f", "json", "--ignorefile", "accepted.yaml", "."]).output().unwrap();
    let ids = vuln_ids(&json(&out));
    assert!(!ids.contains(&"CVE-2021-25900".to_string()), "{ids:?}");
    assert!(ids.contains(&"CVE-2019-15551".to_string()), "an expired entry stops ignoring: {ids:?}");
}

#[test]
fn bad_ignore_file_is_a_usage_error() {
    let dir = project(&[("Cargo.lock", CARGO_LOCK_VULNERABLE), ("i.yaml", "vulnerabilities:\n  - idd: X\n")]);
    let out = scan("fs", dir.path()).args(["--ignorefile", "i.yaml", "."]).output().unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("i.yaml"), "{}", stderr(&out));
}

#[test]
fn skip_dirs_and_skip_files() {
    let dir = project(&[
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
        ("ssl/requirements.txt", REQUIREMENTS_VULNERABLE),
        ("vendor/lib/go.mod", GO_MOD_VULNERABLE),
    ]);
    let out = scan("fs", dir.path())
        .args([
            "-f",
            "json",
            "--skip-dirs",
            "ssl",
            "--skip-dirs",
            "vendor/**",
            "--skip-files",
            "Cargo.lock",
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert!(
        report["Results"].as_array().map(|r| r.is_empty()).unwrap_or(true),
        "everything skipped: {report}"
    );
}

#[test]
fn malformed_lockfile_is_a_warning_and_the_scan_goes_on() {
    let dir = project(&[
        ("broken/package-lock.json", "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n"),
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
    ]);
    let out = scan("fs", dir.path()).args(["-f", "json", "--exit-code", "5", "."]).output().unwrap();
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("broken/package-lock.json"), "warning names the file: {}", stderr(&out));
    assert!(vuln_ids(&json(&out)).contains(&"CVE-2019-15551".to_string()));
}

#[test]
fn scanning_a_single_lockfile() {
    let dir = project(&[("deps/Cargo.lock", CARGO_LOCK_VULNERABLE)]);
    let out = scan("fs", dir.path()).args(["-f", "json", "deps/Cargo.lock"]).output().unwrap();
    let report = json(&out);
    assert_eq!(report["Results"][0]["Target"], "Cargo.lock");
    assert!(vuln_ids(&report).contains(&"CVE-2019-15551".to_string()));
}

#[test]
fn ignore_unfixed_and_severity_filters() {
    let dir = project(&[("requirements.txt", REQUIREMENTS_VULNERABLE)]);
    let out = scan("fs", dir.path()).args(["-f", "json", "--severity", "CRITICAL", "."]).output().unwrap();
    assert!(vuln_ids(&json(&out)).is_empty(), "PyYAML findings are UNKNOWN severity");
    let out = scan("fs", dir.path())
        .args(["-f", "json", "--severity", "UNKNOWN", "--ignore-unfixed", "."])
        .output()
        .unwrap();
    let report = json(&out);
    for v in report["Results"][0]["Vulnerabilities"].as_array().unwrap() {
        assert_eq!(v["Status"], "fixed");
        assert!(!v["FixedVersion"].as_str().unwrap().is_empty());
    }
}

#[test]
fn errors_have_their_own_exit_codes() {
    let dir = project(&[]);
    let out = scan("fs", dir.path()).args(["--exit-code", "1", "does-not-exist"]).output().unwrap();
    assert_eq!(code(&out), 65, "missing target: {}", stderr(&out));
    assert!(stderr(&out).contains("does-not-exist"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "one-line error: {}", stderr(&out));

    let out = scan("fs", dir.path()).args(["--severity", "SEVERE", "."]).output().unwrap();
    assert_eq!(code(&out), 64, "bad flag value: {}", stderr(&out));

    let out = scan("fs", dir.path()).args(["--exit-code", "65", "."]).output().unwrap();
    assert_eq!(code(&out), 64, "an exit code that collides with rampart's own is refused");

    let empty_cache = tempfile::tempdir().unwrap();
    let out =
        rampart(empty_cache.path()).current_dir(dir.path()).args(["fs", "--offline", "."]).output().unwrap();
    assert_eq!(code(&out), 65, "no database offline: {}", stderr(&out));
    assert!(stderr(&out).contains("db import"), "says how to get a database: {}", stderr(&out));
}

#[test]
fn config_file_and_environment_set_options() {
    let dir = project(&[
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
        ("rampart.yaml", "exit-code: 7\nseverity:\n  - CRITICAL\nscan:\n  skip-dirs:\n    - ssl\n"),
        ("ssl/go.mod", GO_MOD_VULNERABLE),
    ]);
    let out = scan("fs", dir.path()).args(["-f", "json", "."]).output().unwrap();
    assert_eq!(code(&out), 7, "exit-code from rampart.yaml: {}", stderr(&out));
    let report = json(&out);
    assert!(report["Results"].as_array().unwrap().iter().all(|r| r["Target"] != "ssl/go.mod"), "{report}");
    for v in report["Results"][0]["Vulnerabilities"].as_array().unwrap() {
        assert_eq!(v["Severity"], "CRITICAL");
    }
    // Environment beats the config file, and a flag beats both.
    let out = scan("fs", dir.path()).env("RAMPART_EXIT_CODE", "9").args(["-q", "."]).output().unwrap();
    assert_eq!(code(&out), 9);
    let out = scan("fs", dir.path())
        .env("RAMPART_EXIT_CODE", "9")
        .args(["-q", "--exit-code", "3", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3);
}

#[test]
fn development_dependencies_are_left_out_unless_asked_for() {
    let pipfile = r#"{
    "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},
    "default": {"flask": {"version": "==2.3.3"}},
    "develop": {"pyyaml": {"version": "==5.1.2"}}
}"#;
    let dir = project(&[("Pipfile.lock", pipfile)]);
    let out = scan("fs", dir.path()).args(["-f", "json", "--list-all-pkgs", "."]).output().unwrap();
    let report = json(&out);
    assert!(vuln_ids(&report).is_empty(), "dev-only PyYAML is not reported: {report}");
    let names: Vec<&str> = report["Results"][0]["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["flask"]);

    let out = scan("fs", dir.path()).args(["-f", "json", "--include-dev-deps", "."]).output().unwrap();
    assert!(vuln_ids(&json(&out)).contains(&"CVE-2019-20477".to_string()));
}
