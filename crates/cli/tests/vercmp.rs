//! `rampart vercmp`: the comparison the detector uses, by hand.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;

fn vercmp(args: &[&str]) -> (i32, String) {
    let out = rampart(std::env::temp_dir().as_path()).arg("vercmp").args(args).output().unwrap();
    (code(&out), stdout(&out).trim().to_string())
}

#[test]
fn compares_like_each_package_manager() {
    assert_eq!(vercmp(&["deb", "1:2.30-1", "2.40-1"]), (0, ">".into()));
    assert_eq!(vercmp(&["deb", "2.2~rc-4", "2.2-1"]), (0, "<".into()));
    assert_eq!(vercmp(&["apk", "1.2.3-r1", "1.2.3_rc1-r5"]), (0, ">".into()));
    assert_eq!(vercmp(&["rpm", "1.0^git1", "1.0"]), (0, ">".into()));
    assert_eq!(vercmp(&["pypi", "1.0.post1", "1.0"]), (0, ">".into()));
    assert_eq!(vercmp(&["pypi", "1.0rc1", "1.0"]), (0, "<".into()));
    assert_eq!(vercmp(&["npm", "1.0.0-beta.2", "1.0.0-beta.11"]), (0, "<".into()));
    assert_eq!(vercmp(&["go", "v1.2.3", "1.2.3"]), (0, "=".into()));
    assert_eq!(vercmp(&["maven", "1.0-SNAPSHOT", "1.0"]), (0, "<".into()));
    assert_eq!(vercmp(&["Alpine:v3.18", "3.0.8-r0", "3.0.10-r0"]), (0, "<".into()));
}

#[test]
fn unknown_ecosystem_and_bad_versions_are_usage_errors() {
    assert_eq!(vercmp(&["cobol", "1", "2"]).0, 64);
    assert_eq!(vercmp(&["pypi", "not a version!", "1.0"]).0, 64);
}

#[test]
fn batch_reads_pairs_from_stdin() {
    let mut child = rampart(std::env::temp_dir().as_path())
        .args(["vercmp", "deb", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"1.0 1.1\n2:1 1:9\n1.0-1 1.0-1\njust-one\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "<\n>\n=\n!\n");
    assert!(stderr(&out).contains("line 4"), "{}", stderr(&out));
    assert_eq!(code(&out), 65);
}
