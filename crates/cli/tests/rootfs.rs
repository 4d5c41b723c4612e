//! `rampart rootfs` end to end on the Alpine minirootfs tarballs of
//! `../shared/data/images`, against the ground-truth package lists.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn unpack(tarball: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_data().join("images/rootfs").join(tarball);
    let status = Command::new("tar").arg("-xzf").arg(&src).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success(), "unpacking {}", src.display());
    dir
}

fn ground_truth(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(shared_data().join("images/ground-truth").join(name)).unwrap();
    let mut rows: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .filter(|(name, _)| name != "name" && name != "package")
        .collect();
    rows.sort();
    rows
}

fn set_version(root: &Path, package: &str, version: &str) {
    let db = root.join("lib/apk/db/installed");
    let text = std::fs::read_to_string(&db).unwrap();
    let mut out = String::new();
    let mut hit = false;
    for line in text.lines() {
        if hit && line.starts_with("V:") {
            out.push_str(&format!("V:{version}\n"));
            hit = false;
            continue;
        }
        hit = line == format!("P:{package}");
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(db, out).unwrap();
}

#[test]
fn alpine_packages_match_the_ground_truth_and_old_musl_is_flagged() {
    let root = unpack("alpine-minirootfs-3.10.9-x86_64.tar.gz");
    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["Metadata"]["OS"]["Family"], "alpine");
    assert_eq!(report["Metadata"]["OS"]["Name"], "3.10.9");
    let os = &report["Results"][0];
    assert_eq!(os["Class"], "os-pkgs");
    assert_eq!(os["Type"], "alpine");
    let mut found: Vec<(String, String)> = os["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["Name"].as_str().unwrap().to_string(), p["Version"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(found, ground_truth("alpine-minirootfs-3.10.9.apk-packages.tsv"));
    assert!(
        os["Vulnerabilities"].as_array().is_none_or(|v| v.is_empty()),
        "3.10.9 postdates the secdb snapshot"
    );

    // Alpine secdb v3.10: musl 1.1.22-r3 fixes CVE-2019-14697.
    set_version(root.path(), "musl", "1.1.22-r2");
    let out = scan("rootfs", cwd.path())
        .args(["-f", "json", "--exit-code", "9"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let report = json(&out);
    let vulns = report["Results"][0]["Vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{vulns:?}");
    assert_eq!(vulns[0]["VulnerabilityID"], "CVE-2019-14697");
    assert_eq!(vulns[0]["PkgName"], "musl");
    assert_eq!(vulns[0]["InstalledVersion"], "1.1.22-r2");
    assert_eq!(vulns[0]["FixedVersion"], "1.1.22-r3");

    // Secrets anywhere in the tree, scanned as the files are read.
    std::fs::write(root.path().join("root/.env"), "AWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7\n").unwrap();
    let out = scan("rootfs", cwd.path()).args(["-f", "json"]).arg(root.path()).output().unwrap();
    let report = json(&out);
    let secret =
        report["Results"].as_array().unwrap().iter().find(|r| r["Class"] == "secret").expect("a secret");
    assert_eq!(secret["Target"], "root/.env");
    assert_eq!(secret["Secrets"][0]["RuleID"], "aws-access-key-id");
}
