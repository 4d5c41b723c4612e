//! History walks over repositories built here: every blob once, attributed
//! to the commit that introduced it.

use std::collections::HashMap;
use std::fs;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};

use rampart_artifact::ArtifactError;
use rampart_artifact::history::{HistoryBlob, HistorySummary, blobs};
use tempfile::TempDir;

const SECRET: &str = "GITHUB_TOKEN=ghp_R8wKq2VnT5mZ3xLp9cHd4fJs7gBy1aE6uWoN\n";

/// Runs git with a fixed identity and dates, so commit order and metadata
/// are known.
fn git_as(dir: &Path, who: (&str, &str), date: &str, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"])
        .args([
            "-c",
            "core.autocrlf=false",
            "-c",
            "user.name=Committer",
            "-c",
            "user.email=c@example.invalid",
        ])
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", who.0)
        .env("GIT_AUTHOR_EMAIL", who.1)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const ALICE: (&str, &str) = ("Alice Example", "alice@example.invalid");
const BOB: (&str, &str) = ("Bob", "bob@example.invalid");
const CAROL: (&str, &str) = ("Carol", "carol@example.invalid");
const DAVE: (&str, &str) = ("Dave", "dave@example.invalid");

fn write(dir: &Path, rel: &str, content: &[u8]) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// main: c1 (Alice) → c2 (Bob, adds the secret) → c3 (Carol, deletes it)
///   → merge of `feature` (Carol) that also edits a file itself.
/// feature: off c2, f1 (Dave) adds a branch-only file.
struct Repo {
    dir: TempDir,
    c1: String,
    c2: String,
    c3: String,
    f1: String,
    merge: String,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        let at = |who, date, args: &[&str]| git_as(w, who, date, args);
        at(ALICE, "2024-01-01T10:00:00+00:00", &["init", "--quiet"]);
        write(w, "README.md", b"# demo\n");
        write(w, "config/shared.txt", b"the same bytes under two paths\n");
        write(w, "assets/logo.png", b"not really a png\n");
        write(w, "assets/blob.bin", b"\x7fELF\0\0binary");
        write(w, "big.txt", &b"x".repeat(4096));
        #[cfg(unix)]
        std::os::unix::fs::symlink("README.md", w.join("link.md")).unwrap();
        at(ALICE, "2024-01-01T10:00:00+00:00", &["add", "."]);
        at(ALICE, "2024-01-01T10:00:00+00:00", &["commit", "--quiet", "-m", "c1"]);
        let c1 = at(ALICE, "2024-01-01T10:00:00+00:00", &["rev-parse", "HEAD"]);
        at(ALICE, "2024-01-01T10:00:00+00:00", &["tag", "-a", "v1", "-m", "release 1"]);

        write(w, ".env", SECRET.as_bytes());
        write(w, "docs/copy.txt", b"the same bytes under two paths\n");
        write(w, "docs/logo-source.txt", b"not really a png\n");
        at(BOB, "2024-01-02T10:00:00+02:00", &["add", "."]);
        at(BOB, "2024-01-02T10:00:00+02:00", &["commit", "--quiet", "-m", "c2 adds a token"]);
        let c2 = at(BOB, "2024-01-02T10:00:00+02:00", &["rev-parse", "HEAD"]);

        at(DAVE, "2024-01-03T09:00:00+00:00", &["checkout", "--quiet", "-b", "feature"]);
        write(w, "feature.txt", b"only on the branch\n");
        at(DAVE, "2024-01-03T09:00:00+00:00", &["add", "."]);
        at(DAVE, "2024-01-03T09:00:00+00:00", &["commit", "--quiet", "-m", "f1"]);
        let f1 = at(DAVE, "2024-01-03T09:00:00+00:00", &["rev-parse", "HEAD"]);
        at(DAVE, "2024-01-03T09:00:00+00:00", &["checkout", "--quiet", "main"]);

        at(CAROL, "2024-01-04T10:00:00+00:00", &["rm", "--quiet", ".env"]);
        at(CAROL, "2024-01-04T10:00:00+00:00", &["commit", "--quiet", "-m", "c3 removes the token"]);
        let c3 = at(CAROL, "2024-01-04T10:00:00+00:00", &["rev-parse", "HEAD"]);
        Repo { dir, c1, c2, c3, f1, merge: String::new() }
    }

    /// Merges `feature` into main and edits README.md in the merge itself.
    fn with_merge(mut self) -> Repo {
        let w = self.dir.path();
        let date = "2024-01-05T10:00:00+00:00";
        git_as(w, CAROL, date, &["merge", "--quiet", "--no-ff", "--no-commit", "feature"]);
        write(w, "README.md", b"# demo, merged\n");
        git_as(w, CAROL, date, &["add", "README.md"]);
        git_as(w, CAROL, date, &["commit", "--quiet", "-m", "merge feature"]);
        self.merge = git_as(w, CAROL, date, &["rev-parse", "HEAD"]);
        self
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn no_skip(_: &str) -> bool {
    false
}

fn walk(repo: &Path, refs: &[&str], max: u64) -> (Vec<HistoryBlob>, HistorySummary) {
    let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
    let mut seen = Vec::new();
    let summary = blobs(repo, &refs, max, &no_skip, &mut |b| {
        seen.push(b);
        ControlFlow::Continue(())
    })
    .unwrap();
    (seen, summary)
}

fn by_path(seen: &[HistoryBlob]) -> HashMap<&str, &HistoryBlob> {
    let map: HashMap<&str, &HistoryBlob> = seen.iter().map(|b| (b.path.as_str(), b)).collect();
    assert_eq!(map.len(), seen.len(), "a path reported twice: {seen:?}");
    map
}

#[test]
fn every_blob_once_with_the_commit_that_introduced_it() {
    let repo = Repo::new().with_merge();
    let (seen, summary) = walk(repo.path(), &[], 1024);
    let mut ids: Vec<&str> = seen.iter().map(|b| b.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), seen.len(), "a blob visited twice");

    let mut paths: Vec<&str> = seen.iter().map(|b| b.path.as_str()).collect();
    paths.sort();
    // The copy and the png's twin are the same blobs as earlier paths; the
    // binary, the 4 KiB file and the symlink are left out. README.md has
    // two versions.
    assert_eq!(
        paths,
        [".env", "README.md", "README.md", "assets/logo.png", "config/shared.txt", "feature.txt"],
        "{seen:#?}"
    );
    let found: HashMap<&str, &HistoryBlob> = seen.iter().map(|b| (b.path.as_str(), b)).collect();
    assert_eq!(summary.commits, 5);
    assert_eq!(summary.visited, 6, "the merged README is a blob of its own");
    assert_eq!((summary.binary, summary.too_large, summary.missing), (1, 1, 0));

    let env = found[".env"];
    assert_eq!(env.content, SECRET.as_bytes());
    assert_eq!(env.commit.commit, repo.c2);
    assert_eq!(env.commit.author, "Bob <bob@example.invalid>");
    assert_eq!(env.commit.date, "2024-01-02T10:00:00+02:00");

    let shared = found["config/shared.txt"];
    assert_eq!(
        (shared.commit.commit.as_str(), shared.commit.author.as_str()),
        (repo.c1.as_str(), "Alice Example <alice@example.invalid>")
    );
    assert_eq!(shared.commit.date, "2024-01-01T10:00:00Z", "RFC 3339, UTC as Z");

    let branch_only = found["feature.txt"];
    assert_eq!(
        (branch_only.commit.commit.as_str(), branch_only.commit.author.as_str()),
        (repo.f1.as_str(), "Dave <dave@example.invalid>")
    );

    let readmes: Vec<&HistoryBlob> = seen.iter().filter(|b| b.content.starts_with(b"# demo")).collect();
    assert_eq!(readmes.len(), 2);
    assert_eq!(readmes[0].commit.commit, repo.c1);
    // Only what the merge itself changed is the merge's; feature.txt stays Dave's.
    assert_eq!(readmes[1].commit.commit, repo.merge);
    assert_eq!(readmes[1].content, b"# demo, merged\n");
    assert!(seen.iter().all(|b| b.commit.commit != repo.c3), "c3 only deletes");
}

#[test]
fn refs_limit_the_walk() {
    let repo = Repo::new();
    let (main, _) = walk(repo.path(), &["main"], 1024);
    let main = by_path(&main);
    assert!(main.contains_key(".env") && !main.contains_key("feature.txt"));

    let (feature, summary) = walk(repo.path(), &["feature"], 1024);
    let feature = by_path(&feature);
    assert!(feature.contains_key("feature.txt") && feature.contains_key(".env"));
    assert_eq!(summary.commits, 3);

    let (first, summary) = walk(repo.path(), &["v1"], 1024);
    assert_eq!(summary.commits, 1);
    assert!(first.iter().all(|b| b.commit.commit == repo.c1));
    let (by_id, _) = walk(repo.path(), &[&repo.c2[..12]], 1024);
    assert!(by_path(&by_id).contains_key(".env"));
}

#[test]
fn the_size_limit_and_path_filter_apply_before_reading() {
    let repo = Repo::new();
    let (seen, summary) = walk(repo.path(), &[], 1 << 20);
    assert_eq!(summary.too_large, 0);
    assert!(by_path(&seen).contains_key("big.txt"));

    let skip_png = |path: &str| path.ends_with(".png");
    let mut seen = Vec::new();
    blobs(repo.path(), &[], 1024, &skip_png, &mut |b| {
        seen.push(b);
        ControlFlow::Continue(())
    })
    .unwrap();
    // The same bytes appear later at a path the filter accepts.
    let twin = by_path(&seen)["docs/logo-source.txt"];
    assert_eq!(
        (twin.content.as_slice(), twin.commit.commit.as_str()),
        (&b"not really a png\n"[..], repo.c2.as_str())
    );
    assert!(!seen.iter().any(|b| b.path.ends_with(".png")));
}

#[test]
fn the_visitor_can_stop_the_walk() {
    let repo = Repo::new();
    // Enough blobs that git blocks on a full pipe once reading stops.
    let w = repo.path();
    for i in 0..3000 {
        write(w, &format!("many/{i}.txt"), format!("file {i}\n").as_bytes());
    }
    git_as(w, BOB, "2024-01-06T10:00:00+00:00", &["add", "."]);
    git_as(w, BOB, "2024-01-06T10:00:00+00:00", &["commit", "--quiet", "-m", "many"]);
    let mut visited = 0;
    let summary = blobs(w, &[], 1024, &no_skip, &mut |_| {
        visited += 1;
        if visited == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert_eq!((visited, summary.visited), (10, 10));
}

#[test]
fn bad_inputs_are_reported() {
    let repo = Repo::new();
    let run = |dir: &Path, refs: &[&str]| {
        let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        blobs(dir, &refs, 1024, &no_skip, &mut |_| ControlFlow::Continue(())).unwrap_err()
    };
    let err = run(repo.path(), &["no-such-branch"]);
    assert!(matches!(&err, ArtifactError::UnknownRef { name, .. } if name == "no-such-branch"), "{err:?}");
    assert!(matches!(run(repo.path(), &["--all"]), ArtifactError::InvalidRef { .. }));

    let plain = tempfile::tempdir().unwrap();
    assert!(matches!(run(plain.path(), &[]), ArtifactError::NotARepository { .. }));

    let empty = tempfile::tempdir().unwrap();
    git_as(empty.path(), ALICE, "2024-01-01T10:00:00+00:00", &["init", "--quiet"]);
    assert!(matches!(run(empty.path(), &[]), ArtifactError::NoCommits { .. }));
}

#[test]
fn clones_are_walked_through_remote_tracking_branches_and_bare() {
    let repo = Repo::new();
    let clones = tempfile::tempdir().unwrap();
    for (name, bare) in [("work", false), ("repo.git", true)] {
        let target = clones.path().join(name);
        let mut clone = Command::new("git");
        clone.args(["clone", "--quiet"]);
        if bare {
            clone.arg("--bare");
        }
        let out = clone.arg(repo.path()).arg(&target).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // A plain clone has `feature` only as origin/feature.
        let (seen, _) = walk(&target, &[], 1024);
        let found = by_path(&seen);
        assert!(found.contains_key("feature.txt") && found.contains_key(".env"), "{name}");
    }
}
