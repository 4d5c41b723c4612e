//! `rampart repo` end to end: local repositories at a branch, tag or commit,
//! and a remote one cloned over smart HTTP from a git server on 127.0.0.1.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use rampart_testkit::GitHttpServer;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository whose tag `v1.0` locks a vulnerable smallvec, whose `main`
/// has the fix, and whose `legacy` branch adds vulnerable Python deps.
fn history() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    std::fs::write(d.join("Cargo.lock"), CARGO_LOCK_VULNERABLE).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "first"]);
    let first = git(d, &["rev-parse", "HEAD"]);
    git(d, &["tag", "v1.0"]);
    git(d, &["branch", "legacy"]);
    std::fs::write(d.join("Cargo.lock"), CARGO_LOCK_VULNERABLE.replace("0.6.9", "0.6.14")).unwrap();
    git(d, &["commit", "-qam", "fix smallvec"]);
    git(d, &["checkout", "-q", "legacy"]);
    std::fs::write(d.join("requirements.txt"), REQUIREMENTS_VULNERABLE).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "python"]);
    git(d, &["checkout", "-q", "main"]);
    (dir, first)
}

fn targets(report: &serde_json::Value) -> Vec<String> {
    report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["Vulnerabilities"].as_array().is_some_and(|v| !v.is_empty()))
        .map(|r| r["Target"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn local_repository_at_head_tag_commit_and_branch() {
    let (repo, first) = history();
    let path = repo.path().to_str().unwrap();
    let cwd = tempfile::tempdir().unwrap();

    let out = scan("repo", cwd.path()).args(["--exit-code", "192", path]).output().unwrap();
    assert_eq!(code(&out), 0, "main has the fix: {}", stderr(&out));

    let out = scan("repo", cwd.path())
        .args(["--exit-code", "192", "--tag", "v1.0", "-f", "json", path])
        .output()
        .unwrap();
    assert_eq!(code(&out), 192, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["ArtifactType"], "repository");
    assert_eq!(report["Metadata"]["Commit"], first.as_str());

    let out = scan("repo", cwd.path()).args(["--commit", &first, "--exit-code", "3", path]).output().unwrap();
    assert_eq!(code(&out), 3);

    let out = scan("repo", cwd.path()).args(["--branch", "legacy", "-f", "json", path]).output().unwrap();
    let t = targets(&json(&out));
    assert_eq!(t, vec!["Cargo.lock".to_string(), "requirements.txt".to_string()]);

    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "", "the user's worktree is untouched");
    assert_eq!(git(repo.path(), &["rev-parse", "--abbrev-ref", "HEAD"]), "main");

    let out = scan("repo", cwd.path()).args(["--branch", "no-such-branch", path]).output().unwrap();
    assert_eq!(code(&out), 65);
    assert!(stderr(&out).contains("no-such-branch"), "{}", stderr(&out));
}

#[test]
fn remote_repository_over_http() {
    let (repo, first) = history();
    let served = tempfile::tempdir().unwrap();
    let bare = served.path().join("app.git");
    git(served.path(), &["clone", "-q", "--bare", repo.path().to_str().unwrap(), bare.to_str().unwrap()]);
    let server = GitHttpServer::start(served.path());
    let url = server.url("app.git");
    let cwd = tempfile::tempdir().unwrap();

    let out = scan("repo", cwd.path()).args(["--exit-code", "192", &url]).output().unwrap();
    // --offline refuses the network, even loopback.
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(stderr(&out).contains("offline"), "{}", stderr(&out));

    let online = |args: &[&str]| {
        rampart(cache_dir())
            .current_dir(cwd.path())
            .arg("repo")
            .arg("--skip-db-update")
            .args(args)
            .output()
            .unwrap()
    };
    let out = online(&["--exit-code", "192", &url]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = online(&["--exit-code", "192", "--tag", "v1.0", "-f", "json", &url]);
    assert_eq!(code(&out), 192, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["Metadata"]["Commit"], first.as_str());
    assert_eq!(report["ArtifactName"], url.as_str());
    let out = online(&["--branch", "legacy", "-f", "json", &url]);
    assert_eq!(targets(&json(&out)), vec!["Cargo.lock".to_string(), "requirements.txt".to_string()]);
    let out = online(&["--commit", &first, "--exit-code", "192", &url]);
    assert_eq!(code(&out), 192, "{}", stderr(&out));
}

#[test]
fn history_finds_secrets_that_were_deleted() {
    let repo = tempfile::tempdir().unwrap();
    let d = repo.path();
    git(d, &["init", "-q"]);
    std::fs::write(d.join("README.md"), "app\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "start"]);
    std::fs::write(d.join(".env"), "AWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "config"]);
    let added = git(d, &["rev-parse", "HEAD"]);
    git(d, &["rm", "-q", ".env"]);
    git(d, &["commit", "-qm", "oops"]);
    let cwd = tempfile::tempdir().unwrap();

    let out = scan("repo", cwd.path()).args(["--exit-code", "5", d.to_str().unwrap()]).output().unwrap();
    assert_eq!(code(&out), 0, "the tree at HEAD has no secret: {}", stderr(&out));

    let check = |out: std::process::Output| {
        assert_eq!(code(&out), 5, "{}", stderr(&out));
        let report = json(&out);
        let result = report["Results"].as_array().unwrap().iter().find(|r| r["Class"] == "secret").unwrap();
        assert_eq!(result["Target"], ".env");
        let secret = &result["Secrets"][0];
        assert_eq!(secret["RuleID"], "aws-access-key-id");
        assert_eq!(secret["Commit"]["Commit"], added.as_str());
        assert!(secret["Commit"]["Author"].as_str().unwrap().contains("test@example.com"));
        assert!(!report.to_string().contains("RAMPART2FIXTURE7"), "redacted");
    };
    check(
        scan("repo", cwd.path())
            .args(["--history", "-f", "json", "--exit-code", "5", d.to_str().unwrap()])
            .output()
            .unwrap(),
    );

    let served = tempfile::tempdir().unwrap();
    let bare = served.path().join("app.git");
    git(served.path(), &["clone", "-q", "--bare", d.to_str().unwrap(), bare.to_str().unwrap()]);
    let server = GitHttpServer::start(served.path());
    let url = server.url("app.git");
    let out = rampart(cache_dir())
        .current_dir(cwd.path())
        .args(["repo", "--skip-db-update", "--history", "-f", "json", "--exit-code", "5", &url])
        .output()
        .unwrap();
    check(out);
}
