//! The directory walk against real trees in temporary directories.

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use rampart_artifact::{ArtifactError, WalkOptions, WalkOutcome, walk};
use tempfile::TempDir;

fn tree(files: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let path = dir.path().join(f);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, f.as_bytes()).unwrap();
    }
    dir
}

fn all(_: &str) -> bool {
    true
}

fn rels(outcome: &WalkOutcome) -> Vec<&str> {
    outcome.files.iter().map(|f| f.rel.as_str()).collect()
}

fn opts(skip_dirs: &[&str], skip_files: &[&str]) -> WalkOptions {
    WalkOptions {
        skip_dirs: skip_dirs.iter().map(|s| s.to_string()).collect(),
        skip_files: skip_files.iter().map(|s| s.to_string()).collect(),
    }
}

fn walk_rels(root: &Path, o: &WalkOptions) -> Vec<String> {
    walk(root, o, &all).unwrap().files.into_iter().map(|f| f.rel).collect()
}

#[test]
fn ignore_files_and_hidden_names_are_not_honored_but_git_internals_are_skipped() {
    let dir = tree(&[
        ".gitignore",
        "ignored.lock",
        ".hidden/x.lock",
        "a/b/c.lock",
        ".git/config",
        ".git/objects/ab/cdef",
        "vendor/m/.git/HEAD",
        "vendor/m/go.sum",
    ]);
    fs::write(dir.path().join(".gitignore"), "ignored.lock\n.hidden\nvendor\n").unwrap();
    fs::write(dir.path().join(".ignore"), "a\n").unwrap();
    let out = walk(dir.path(), &WalkOptions::default(), &all).unwrap();
    assert_eq!(
        rels(&out),
        [".gitignore", ".hidden/x.lock", ".ignore", "a/b/c.lock", "ignored.lock", "vendor/m/go.sum"]
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.files[3].path, dir.path().join("a/b/c.lock"));
}

#[test]
fn claim_sees_relative_slash_paths_of_files_only() {
    let dir = tree(&["a/b/package-lock.json", "a/readme.md", "Cargo.lock", ".git/HEAD"]);
    let seen = Mutex::new(Vec::new());
    let claim = |rel: &str| {
        seen.lock().unwrap().push(rel.to_string());
        rel.ends_with(".lock") || rel.ends_with("-lock.json")
    };
    let out = walk(dir.path(), &WalkOptions::default(), &claim).unwrap();
    assert_eq!(rels(&out), ["Cargo.lock", "a/b/package-lock.json"]);
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, ["Cargo.lock", "a/b/package-lock.json", "a/readme.md"]);
}

#[test]
fn many_files_are_all_found_once_and_sorted() {
    let names: Vec<String> = (0..600).map(|i| format!("d{}/s{}/f{i}.lock", i % 7, i % 3)).collect();
    let dir = tree(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(walk_rels(dir.path(), &WalkOptions::default()), expected);
}

#[test]
fn a_bare_skip_dir_is_relative_to_the_root() {
    let dir = tree(&["ssl/a.lock", "x/ssl/b.lock", "x/c.lock", "sslx/d.lock"]);
    let root = dir.path();
    assert_eq!(walk_rels(root, &opts(&["ssl"], &[])), ["sslx/d.lock", "x/c.lock", "x/ssl/b.lock"]);
    assert_eq!(walk_rels(root, &opts(&["./ssl/"], &[])), ["sslx/d.lock", "x/c.lock", "x/ssl/b.lock"]);
    assert_eq!(walk_rels(root, &opts(&["/ssl"], &[])), ["sslx/d.lock", "x/c.lock", "x/ssl/b.lock"]);
    assert_eq!(walk_rels(root, &opts(&["**/ssl"], &[])), ["sslx/d.lock", "x/c.lock"]);
    assert_eq!(walk_rels(root, &opts(&["x/ssl"], &[])), ["ssl/a.lock", "sslx/d.lock", "x/c.lock"]);
    assert_eq!(walk_rels(root, &opts(&["ssl*"], &[])), ["x/c.lock", "x/ssl/b.lock"]);
    // `*` does not cross `/`: `x/*` skips x's subdirectories, not its files.
    assert_eq!(walk_rels(root, &opts(&["x/*"], &[])), ["ssl/a.lock", "sslx/d.lock", "x/c.lock"]);
    assert_eq!(walk_rels(root, &opts(&["*"], &[])), Vec::<String>::new());
}

#[test]
fn an_absolute_skip_dir_under_the_root_is_made_relative() {
    let dir = tree(&["ssl/a.lock", "x/ssl/b.lock"]);
    let abs = dir.path().join("x/ssl");
    assert_eq!(walk_rels(dir.path(), &opts(&[abs.to_str().unwrap()], &[])), ["ssl/a.lock"]);
    // Spelled through the canonical path (e.g. when the temp dir is behind a symlink).
    let canonical = fs::canonicalize(dir.path()).unwrap().join("ssl");
    assert_eq!(walk_rels(dir.path(), &opts(&[canonical.to_str().unwrap()], &[])), ["x/ssl/b.lock"]);
}

#[test]
fn a_skipped_directory_is_not_descended() {
    let dir = tree(&["keep/a.lock", "skip/deep/b.lock"]);
    let seen = Mutex::new(Vec::new());
    let claim = |rel: &str| {
        seen.lock().unwrap().push(rel.to_string());
        true
    };
    let out = walk(dir.path(), &opts(&["skip"], &[]), &claim).unwrap();
    assert_eq!(rels(&out), ["keep/a.lock"]);
    assert_eq!(seen.into_inner().unwrap(), ["keep/a.lock"]);
}

#[test]
fn skip_files_globs_match_the_relative_path() {
    let dir = tree(&[
        "Gemfile.lock",
        "x/Gemfile.lock",
        "testdata/a/bar",
        "testdata/bar",
        "foo/m/n/main.tf",
        "foo/x.tf",
    ]);
    let root = dir.path();
    let everything_but = |skipped: &[&str]| {
        let mut all = vec![
            "Gemfile.lock",
            "foo/m/n/main.tf",
            "foo/x.tf",
            "testdata/a/bar",
            "testdata/bar",
            "x/Gemfile.lock",
        ];
        all.retain(|f| !skipped.contains(f));
        all
    };
    assert_eq!(walk_rels(root, &opts(&[], &["/Gemfile.lock"])), everything_but(&["Gemfile.lock"]));
    assert_eq!(walk_rels(root, &opts(&[], &["Gemfile.lock"])), everything_but(&["Gemfile.lock"]));
    assert_eq!(
        walk_rels(root, &opts(&[], &["**/Gemfile.lock"])),
        everything_but(&["Gemfile.lock", "x/Gemfile.lock"])
    );
    assert_eq!(walk_rels(root, &opts(&[], &["./testdata/*/bar"])), everything_but(&["testdata/a/bar"]));
    assert_eq!(
        walk_rels(root, &opts(&[], &["./foo/**/*.tf"])),
        everything_but(&["foo/m/n/main.tf", "foo/x.tf"])
    );
    // A skip-files pattern never skips a directory.
    assert_eq!(walk_rels(root, &opts(&[], &["testdata"])), everything_but(&[]));
}

#[test]
fn bad_patterns_are_usage_errors_naming_the_pattern() {
    let dir = tree(&["a.lock"]);
    for (o, needle) in [
        (opts(&["a[b"], &[]), "a[b"),
        (opts(&[], &["{x,y"]), "{x,y"),
        (opts(&["../other"], &[]), "../other"),
        (opts(&["./"], &[]), "./"),
    ] {
        let err = walk(dir.path(), &o, &all).unwrap_err();
        assert!(matches!(err, ArtifactError::BadPattern { .. }), "{err:?}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn a_missing_root_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = walk(&dir.path().join("nope"), &WalkOptions::default(), &all).unwrap_err();
    assert!(matches!(err, ArtifactError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn a_file_root_is_considered_under_its_name() {
    let dir = tree(&["sub/Cargo.lock"]);
    let file = dir.path().join("sub/Cargo.lock");
    let out = walk(&file, &WalkOptions::default(), &all).unwrap();
    assert_eq!(rels(&out), ["Cargo.lock"]);
    assert_eq!(out.files[0].path, file);
    assert!(walk(&file, &WalkOptions::default(), &|_| false).unwrap().files.is_empty());
    assert!(walk(&file, &opts(&[], &["Cargo.lock"]), &all).unwrap().files.is_empty());
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::os::unix::net::UnixListener;
    use std::process::Command;

    use super::*;

    #[test]
    fn symlinks_are_followed_only_to_files_inside_the_root() {
        let outside = tree(&["secret.lock", "dir/x.lock"]);
        let dir = tree(&["real/a.lock", "skipped/s.lock", ".git/config"]);
        let root = dir.path();
        symlink(root.join("real/a.lock"), root.join("inside.lock")).unwrap();
        fs::create_dir(root.join("links")).unwrap();
        symlink("../real/a.lock", root.join("links/relative.lock")).unwrap();
        symlink(outside.path().join("secret.lock"), root.join("links/outside.lock")).unwrap();
        symlink(outside.path().join("dir"), root.join("links/outside-dir")).unwrap();
        symlink("../skipped/s.lock", root.join("links/into-skipped.lock")).unwrap();
        symlink("../.git/config", root.join("links/into-git")).unwrap();
        symlink("nowhere", root.join("links/dangling.lock")).unwrap();
        symlink("loop-b", root.join("links/loop-a")).unwrap();
        symlink("loop-a", root.join("links/loop-b")).unwrap();
        symlink("..", root.join("links/up")).unwrap();
        symlink(".", root.join("real/self")).unwrap();

        let out = walk(root, &opts(&["skipped"], &[]), &all).unwrap();
        assert_eq!(rels(&out), ["inside.lock", "links/relative.lock", "real/a.lock"]);
        // The reader opens the link, which resolves inside the tree.
        assert_eq!(out.files[0].path, root.join("inside.lock"));
        let warned: Vec<&str> = out.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            warned,
            [
                "links/dangling.lock",
                "links/into-git",
                "links/into-skipped.lock",
                "links/loop-a",
                "links/loop-b",
                "links/outside.lock"
            ]
        );
        let outside_warning = &out.warnings[5];
        assert!(outside_warning.message.contains("outside"), "{outside_warning}");
        // Directory links (up, self, outside-dir) are neither descended nor reported.
    }

    #[test]
    fn a_root_given_through_a_symlink_is_walked() {
        let dir = tree(&["real/a.lock"]);
        let link = dir.path().join("link");
        symlink(dir.path().join("real"), &link).unwrap();
        assert_eq!(walk_rels(&link, &WalkOptions::default()), ["a.lock"]);
    }

    #[test]
    fn fifos_and_sockets_are_never_claimed() {
        let dir = tree(&["a.lock"]);
        let fifo = dir.path().join("pipe.lock");
        let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(status.success());
        let _socket = UnixListener::bind(dir.path().join("sock.lock")).unwrap();
        let seen = Mutex::new(Vec::new());
        let claim = |rel: &str| {
            seen.lock().unwrap().push(rel.to_string());
            true
        };
        let out = walk(dir.path(), &WalkOptions::default(), &claim).unwrap();
        assert_eq!(rels(&out), ["a.lock"]);
        assert_eq!(seen.into_inner().unwrap(), ["a.lock"]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    /// A directory whose path exceeds PATH_MAX cannot be listed even by
    /// root, which makes a deterministic unreadable directory.
    #[test]
    fn an_unlistable_directory_is_a_warning_and_the_walk_goes_on() {
        let dir = tree(&["top.lock"]);
        let segment = "d".repeat(200);
        let mut near = dir.path().join("a");
        for _ in 0..10 {
            near.push(&segment);
        }
        fs::create_dir_all(&near).unwrap();
        fs::write(near.join("near.lock"), "x").unwrap();
        let mut far = dir.path().join("b");
        for _ in 0..11 {
            far.push(&segment);
        }
        fs::create_dir_all(&far).unwrap();
        fs::write(far.join("far.lock"), "x").unwrap();
        // Moving the second chain under the first puts its inner directories past PATH_MAX.
        fs::rename(dir.path().join("b"), near.join("b")).unwrap();

        let out = walk(dir.path(), &WalkOptions::default(), &all).unwrap();
        let near_rel = near.strip_prefix(dir.path()).unwrap().join("near.lock");
        assert_eq!(rels(&out), [near_rel.to_str().unwrap(), "top.lock"]);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        let warning = &out.warnings[0];
        assert!(warning.path.starts_with("a/ddd") && warning.path.ends_with("ddd"), "{}", warning.path);
        assert!(warning.path.len() > 4096 - dir.path().as_os_str().len(), "{}", warning.path.len());
        assert!(warning.message.contains("cannot read"), "{}", warning.message);
    }

    /// chmod 000 stops an ordinary user but not root; either way the outcome
    /// must agree with what listing the directory directly does.
    #[test]
    fn a_permission_denied_directory_matches_what_the_os_allows() {
        let dir = tree(&["open/a.lock", "closed/b.lock"]);
        let closed = dir.path().join("closed");
        fs::set_permissions(&closed, fs::Permissions::from_mode(0o000)).unwrap();
        let listable = fs::read_dir(&closed).is_ok();
        let out = walk(dir.path(), &WalkOptions::default(), &all).unwrap();
        fs::set_permissions(&closed, fs::Permissions::from_mode(0o755)).unwrap();
        if listable {
            assert_eq!(rels(&out), ["closed/b.lock", "open/a.lock"]);
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        } else {
            assert_eq!(rels(&out), ["open/a.lock"]);
            assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
            assert_eq!(out.warnings[0].path, "closed");
        }
    }
}
