//! Checkouts against real git servers on 127.0.0.1 (`git daemon` and smart
//! HTTP through `git http-backend`) and against local repositories.
//!
//! Servers bind 127.0.0.1 only, are killed when their guard drops, and a
//! watchdog kills them after two minutes so a hung client cannot hang the tests.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rampart_artifact::{ArtifactError, RepoRef, checkout};
use rampart_testkit::{GitDaemon, GitHttpServer};
use tempfile::TempDir;

/// Runs git for building fixtures, with a fixed identity and no signing.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"])
        .args(["-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A repository with history: main (c1 → c2), a `feature` branch off c1,
/// an annotated tag `v1` at c1 and a lightweight tag `light` on feature.
struct Fixture {
    dir: TempDir,
    c1: String,
    c2: String,
    feature: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        fs::create_dir(&work).unwrap();
        git(&work, &["init", "--quiet"]);
        write(&work, "a.txt", "one");
        write(&work, "lib/dep.lock", "v1");
        git(&work, &["add", "."]);
        git(&work, &["commit", "--quiet", "-m", "c1"]);
        let c1 = git(&work, &["rev-parse", "HEAD"]);
        git(&work, &["tag", "-a", "v1", "-m", "release 1"]);
        git(&work, &["checkout", "--quiet", "-b", "feature"]);
        write(&work, "a.txt", "feature");
        write(&work, "feature-only.txt", "f");
        git(&work, &["add", "."]);
        git(&work, &["commit", "--quiet", "-m", "feature"]);
        let feature = git(&work, &["rev-parse", "HEAD"]);
        git(&work, &["tag", "light"]);
        git(&work, &["checkout", "--quiet", "main"]);
        write(&work, "a.txt", "two");
        #[cfg(unix)]
        std::os::unix::fs::symlink("a.txt", work.join("link.txt")).unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "--quiet", "-m", "c2"]);
        let c2 = git(&work, &["rev-parse", "HEAD"]);
        fs::create_dir(dir.path().join("served")).unwrap();
        git(dir.path(), &["clone", "--quiet", "--bare", "work", "served/repo.git"]);
        Fixture { dir, c1, c2, feature }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn served(&self) -> PathBuf {
        self.dir.path().join("served")
    }
}

fn branch(b: &str) -> RepoRef {
    RepoRef { branch: Some(b.into()), ..RepoRef::default() }
}

fn tag(t: &str) -> RepoRef {
    RepoRef { tag: Some(t.into()), ..RepoRef::default() }
}

fn commit(c: &str) -> RepoRef {
    RepoRef { commit: Some(c.into()), ..RepoRef::default() }
}

/// The checks shared by every transport: the right tree, commit and branch
/// for the default branch, a branch, both kinds of tag and a commit.
fn check_remote_refs(fx: &Fixture, url: &str) {
    let repo = checkout(url, &RepoRef::default(), false).unwrap();
    assert_eq!(repo.commit, fx.c2);
    assert_eq!(repo.branch.as_deref(), Some("main"));
    assert_eq!(repo.url.as_deref(), Some(url));
    assert_eq!(read(&repo.root, "a.txt"), "two");
    assert_eq!(read(&repo.root, "lib/dep.lock"), "v1");
    assert!(!repo.root.join(".git").exists());
    #[cfg(unix)]
    assert_eq!(fs::read_link(repo.root.join("link.txt")).unwrap(), Path::new("a.txt"));

    let repo = checkout(url, &branch("feature"), false).unwrap();
    assert_eq!((repo.commit.as_str(), repo.branch.as_deref()), (fx.feature.as_str(), Some("feature")));
    assert_eq!(read(&repo.root, "a.txt"), "feature");
    assert_eq!(read(&repo.root, "feature-only.txt"), "f");

    let repo = checkout(url, &tag("v1"), false).unwrap();
    assert_eq!((repo.commit.as_str(), repo.branch.as_deref()), (fx.c1.as_str(), None));
    assert_eq!(read(&repo.root, "a.txt"), "one");
    assert!(!repo.root.join("link.txt").exists());

    let repo = checkout(url, &tag("light"), false).unwrap();
    assert_eq!(repo.commit, fx.feature);

    let repo = checkout(url, &commit(&fx.c1.to_uppercase()), false).unwrap();
    assert_eq!(repo.commit, fx.c1);
    assert_eq!(read(&repo.root, "a.txt"), "one");

    // An abbreviated id cannot be fetched directly: the whole history is fetched instead.
    let repo = checkout(url, &commit(&fx.feature[..10]), false).unwrap();
    assert_eq!(repo.commit, fx.feature);
    assert_eq!(read(&repo.root, "a.txt"), "feature");
}

fn check_unknown_refs(url: &str) {
    for (reference, kind) in [
        (branch("nope"), "branch"),
        (tag("v9"), "tag"),
        (commit("0123456789abcdef0123456789abcdef01234567"), "commit"),
        (commit("0123abc"), "commit"),
    ] {
        let err = checkout(url, &reference, false).unwrap_err();
        match &err {
            ArtifactError::UnknownRef { kind: k, .. } => assert_eq!(*k, kind, "{err}"),
            other => panic!("{reference:?}: expected UnknownRef, got {other:?}"),
        }
    }
}

#[test]
fn git_daemon_checkouts() {
    let fx = Fixture::new();
    let daemon = GitDaemon::start(&fx.served());
    let url = daemon.url("repo.git");
    check_remote_refs(&fx, &url);
    check_unknown_refs(&url);

    let err = checkout(&daemon.url("missing.git"), &RepoRef::default(), false).unwrap_err();
    assert!(matches!(err, ArtifactError::RemoteNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.git"), "{err}");
}

#[test]
fn smart_http_checkouts() {
    let fx = Fixture::new();
    let server = GitHttpServer::start(&fx.served());
    let url = server.url("repo.git");
    check_remote_refs(&fx, &url);
    check_unknown_refs(&url);
}

#[test]
fn refused_credentials_are_an_auth_error_that_hides_them() {
    let fx = Fixture::new();
    let server = GitHttpServer::start(&fx.served());
    let err = checkout(&server.url("private/repo.git"), &RepoRef::default(), false).unwrap_err();
    assert!(matches!(err, ArtifactError::AuthFailed { .. }), "{err:?}");

    let with_token = server.url("private/repo.git").replace("http://", "http://user:s3cr3t-token@");
    let err = checkout(&with_token, &tag("v1"), false).unwrap_err();
    assert!(matches!(err, ArtifactError::AuthFailed { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

#[test]
fn the_temporary_checkout_is_removed_on_drop() {
    let fx = Fixture::new();
    let url = format!("file://{}", fx.served().join("repo.git").display());
    let repo = checkout(&url, &RepoRef::default(), false).unwrap();
    let root = repo.root.clone();
    assert!(root.join("a.txt").is_file());
    drop(repo);
    assert!(!root.exists());
}

#[test]
fn offline_refuses_remotes_without_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    for url in [
        format!("http://127.0.0.1:{port}/repo.git"),
        format!("https://127.0.0.1:{port}/repo.git"),
        format!("git://127.0.0.1:{port}/repo.git"),
        format!("ssh://git@127.0.0.1:{port}/repo.git"),
        "git@127.0.0.1:repo.git".to_string(),
    ] {
        let err = checkout(&url, &RepoRef::default(), true).unwrap_err();
        assert!(matches!(err, ArtifactError::Offline { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains("offline"), "{err}");
    }
    assert!(listener.accept().is_err(), "something connected");

    // file:// needs no network, so offline allows it.
    let fx = Fixture::new();
    let url = format!("file://{}", fx.served().join("repo.git").display());
    let repo = checkout(&url, &tag("v1"), true).unwrap();
    assert_eq!(repo.commit, fx.c1);
}

/// Everything git can see of the user's repository state.
fn repo_state(work: &Path) -> (Vec<u8>, String, String, String) {
    (
        fs::read(work.join(".git/index")).unwrap(),
        git(work, &["status", "--porcelain", "--untracked-files=all"]),
        git(work, &["rev-parse", "HEAD"]),
        read(work, "a.txt"),
    )
}

#[test]
fn a_local_repository_without_a_ref_is_scanned_as_it_is() {
    let fx = Fixture::new();
    let work = fx.work();
    write(&work, "a.txt", "uncommitted");
    git(&work, &["remote", "add", "origin", "https://user:tok@example.invalid/org/repo.git"]);
    let repo = checkout(work.to_str().unwrap(), &RepoRef::default(), false).unwrap();
    assert_eq!(repo.root, work);
    assert_eq!(repo.commit, fx.c2);
    assert_eq!(repo.branch.as_deref(), Some("main"));
    assert_eq!(repo.url.as_deref(), Some("https://example.invalid/org/repo.git"));
    drop(repo);
    assert_eq!(read(&work, "a.txt"), "uncommitted", "the user's tree is never removed");

    let sub = checkout(work.join("lib").to_str().unwrap(), &RepoRef::default(), false).unwrap();
    assert_eq!(sub.root, work.join("lib"));
    assert_eq!(sub.commit, fx.c2);
}

#[test]
fn a_local_repository_at_a_ref_leaves_the_users_index_and_tree_alone() {
    let fx = Fixture::new();
    let work = fx.work();
    write(&work, "a.txt", "uncommitted");
    write(&work, "staged.txt", "staged");
    git(&work, &["add", "staged.txt"]);
    let before = repo_state(&work);
    let location = work.to_str().unwrap();

    let repo = checkout(location, &tag("v1"), false).unwrap();
    assert_ne!(repo.root, work);
    assert_eq!((repo.commit.as_str(), repo.branch.as_deref()), (fx.c1.as_str(), None));
    assert_eq!(read(&repo.root, "a.txt"), "one");
    assert!(!repo.root.join("staged.txt").exists());

    let repo = checkout(location, &branch("feature"), false).unwrap();
    assert_eq!((repo.commit.as_str(), repo.branch.as_deref()), (fx.feature.as_str(), Some("feature")));
    assert_eq!(read(&repo.root, "feature-only.txt"), "f");

    let repo = checkout(location, &commit(&fx.c1[..8]), false).unwrap();
    assert_eq!(repo.commit, fx.c1, "the full id is recorded");

    let repo = checkout(work.join("lib").to_str().unwrap(), &tag("v1"), false).unwrap();
    assert!(repo.root.ends_with("lib"), "{}", repo.root.display());
    assert_eq!(read(&repo.root, "dep.lock"), "v1");

    let err = checkout(location, &tag("v9"), false).unwrap_err();
    assert!(matches!(err, ArtifactError::UnknownRef { kind: "tag", .. }), "{err:?}");
    drop(repo);

    assert_eq!(repo_state(&work), before);
}

#[test]
fn a_local_clone_finds_branches_known_only_as_remote_tracking() {
    let fx = Fixture::new();
    git(fx.dir.path(), &["clone", "--quiet", "served/repo.git", "clone"]);
    let clone = fx.dir.path().join("clone");
    let repo = checkout(clone.to_str().unwrap(), &branch("feature"), false).unwrap();
    assert_eq!(repo.commit, fx.feature);
    assert_eq!(read(&repo.root, "a.txt"), "feature");
}

#[test]
fn a_bare_local_repository_is_scanned_at_head() {
    let fx = Fixture::new();
    let bare = fx.served().join("repo.git");
    let repo = checkout(bare.to_str().unwrap(), &RepoRef::default(), true).unwrap();
    assert_ne!(repo.root, bare);
    assert_eq!(repo.commit, fx.c2);
    assert_eq!(read(&repo.root, "a.txt"), "two");
}

#[test]
fn local_errors_are_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let err = checkout(plain.to_str().unwrap(), &RepoRef::default(), false).unwrap_err();
    assert!(matches!(err, ArtifactError::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().contains("not a git repository"), "{err}");

    let err = checkout(dir.path().join("missing").to_str().unwrap(), &RepoRef::default(), false).unwrap_err();
    assert!(matches!(err, ArtifactError::NotFound { .. }), "{err:?}");

    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    git(&empty, &["init", "--quiet"]);
    let err = checkout(empty.to_str().unwrap(), &RepoRef::default(), false).unwrap_err();
    assert!(matches!(err, ArtifactError::NoCommits { .. }), "{err:?}");

    let err = checkout(
        empty.to_str().unwrap(),
        &RepoRef { branch: Some("a".into()), tag: Some("b".into()), ..RepoRef::default() },
        false,
    )
    .unwrap_err();
    assert!(matches!(err, ArtifactError::InvalidRef { .. }), "{err:?}");
}

/// A repository's own configuration can name filter programs; writing the
/// tree by hand means none of them runs.
#[test]
fn no_filter_driver_from_the_repository_config_runs() {
    let fx = Fixture::new();
    let work = fx.work();
    let marker = fx.dir.path().join("filter-ran");
    write(&work, ".gitattributes", "* filter=evil\n");
    git(&work, &["add", ".gitattributes"]);
    git(&work, &["commit", "--quiet", "-m", "attributes"]);
    git(&work, &["tag", "with-attrs"]);
    let smudge = format!("touch {}", marker.display());
    git(&work, &["config", "filter.evil.smudge", &smudge]);
    git(&work, &["config", "filter.evil.process", &smudge]);
    let repo = checkout(work.to_str().unwrap(), &tag("with-attrs"), false).unwrap();
    assert_eq!(read(&repo.root, "a.txt"), "two");
    assert!(!marker.exists(), "a filter driver ran");
}

/// Writes a raw tree object (entries in the given order, unchecked).
fn raw_tree(repo: &Path, entries: &[(&str, &str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, oid) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        let raw: Vec<u8> =
            (0..oid.len()).step_by(2).map(|i| u8::from_str_radix(&oid[i..i + 2], 16).unwrap()).collect();
        bytes.extend_from_slice(&raw);
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["hash-object", "-t", "tree", "-w", "--literally", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn blob(repo: &Path, content: &str) -> String {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(content.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_string()
}

#[test]
fn crafted_trees_cannot_write_outside_the_checkout() {
    let fx = Fixture::new();
    let work = fx.work();
    let file = blob(&work, "x");
    let commit_of = |tree: &str| git(&work, &["commit-tree", tree, "-m", "crafted"]);

    let dotdot = raw_tree(&work, &[("100644", "..", &file)]);
    let parent = raw_tree(&work, &[("40000", "up", &dotdot)]);
    let err = checkout(work.to_str().unwrap(), &commit(&commit_of(&parent)), false).unwrap_err();
    assert!(err.to_string().contains("unsafe path"), "{err}");

    let git_dir = raw_tree(&work, &[("100644", "config", &file)]);
    let top = raw_tree(&work, &[("40000", ".git", &git_dir)]);
    let err = checkout(work.to_str().unwrap(), &commit(&commit_of(&top)), false).unwrap_err();
    assert!(err.to_string().contains("unsafe path"), "{err}");

    // `a` both a link to a directory outside and a directory holding a link:
    // the inner link would land outside through the outer one.
    #[cfg(unix)]
    {
        let outside = fx.dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let target = blob(&work, outside.to_str().unwrap());
        let inner_target = blob(&work, "anything");
        let inner = raw_tree(&work, &[("120000", "b", &inner_target)]);
        let top = raw_tree(&work, &[("120000", "a", &target), ("40000", "a", &inner)]);
        let err = checkout(work.to_str().unwrap(), &commit(&commit_of(&top)), false).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "something was written outside");
    }
}
