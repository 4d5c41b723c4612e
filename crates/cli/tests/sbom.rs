//! SBOMs end to end: `--format cyclonedx|spdx-json` out of a scan, and
//! `rampart sbom` finding the same vulnerabilities from the SBOM alone.

mod common;

use common::*;
use serde_json::Value;

fn ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .map(|v| format!("{}:{}", v["PkgName"].as_str().unwrap(), v["VulnerabilityID"].as_str().unwrap()))
        .collect();
    ids.sort();
    ids
}

#[test]
fn an_sbom_scans_to_the_same_findings_as_the_project() {
    let dir = project(&[
        ("Cargo.lock", CARGO_LOCK_VULNERABLE),
        ("requirements.txt", REQUIREMENTS_VULNERABLE),
        ("go.mod", GO_MOD_VULNERABLE),
    ]);
    let direct = json(&scan("fs", dir.path()).args(["-f", "json", "."]).output().unwrap());
    assert!(!ids(&direct).is_empty());
    for (format, file, artifact) in
        [("cyclonedx", "bom.cdx.json", "cyclonedx"), ("spdx-json", "bom.spdx.json", "spdx")]
    {
        let out = scan("fs", dir.path()).args(["-f", format, "-o", file, "."]).output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&std::fs::read(dir.path().join(file)).unwrap()).unwrap();
        let text = doc.to_string();
        assert!(text.contains("pkg:cargo/smallvec@0.6.9"), "every package is listed: {format}");
        assert!(text.contains("pkg:pypi/pyyaml@5.1.2"), "{format}");
        let out = scan("sbom", dir.path()).args(["-f", "json", file]).output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let from_sbom = json(&out);
        assert_eq!(from_sbom["ArtifactType"], artifact);
        assert_eq!(ids(&from_sbom), ids(&direct), "{format}");
    }
}

#[test]
fn sboms_from_other_tools_are_read() {
    let fixtures = shared_data().join("lockfiles/extractor/filesystem/sbom/cdx/testdata");
    let mut scanned = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.contains("invalid") {
            continue;
        }
        let out =
            scan("sbom", std::env::temp_dir().as_path()).args(["-f", "json"]).arg(&path).output().unwrap();
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        json(&out);
        scanned += 1;
    }
    assert!(scanned >= 3, "only {scanned} CycloneDX fixtures found in {}", fixtures.display());

    let dir = project(&[("bad.cdx.json", "{\"bomFormat\": \"CycloneDX\", \"components\": 7}")]);
    let out = scan("sbom", dir.path()).arg("bad.cdx.json").output().unwrap();
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.cdx.json"), "{}", stderr(&out));
}

#[test]
fn a_missing_input_is_one_plain_message_in_every_scan_command() {
    let cwd = std::env::temp_dir();
    for command in ["fs", "rootfs", "sbom", "config", "repo"] {
        let out = scan(command, &cwd).arg("/nonexistent/input").output().unwrap();
        assert_ne!(code(&out), 0, "{command}");
        assert_eq!(
            stderr(&out).trim(),
            "rampart: error: /nonexistent/input: no such file or directory",
            "{command}"
        );
    }
}
