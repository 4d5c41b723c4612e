//! `rampart db` end to end, including `db update` from a mirror on 127.0.0.1.

mod common;

use common::*;

#[test]
fn info_shows_every_imported_source() {
    let out = rampart(cache_dir()).args(["db", "info", "--format", "json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let info = json(&out);
    assert!(info["advisories"].as_u64().unwrap() > 8_000, "{info}");
    let kinds: Vec<&str> =
        info["sources"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    for kind in ["osv", "alpine-secdb", "debian-dsa", "debian-dla"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let out = rampart(cache_dir()).args(["db", "info"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("Advisories:") && text.contains("ago"), "{text}");
}

#[test]
fn update_from_a_loopback_mirror_and_keep_the_old_db_on_failure() {
    let mirror = tempfile::tempdir().unwrap();
    zip_dir(&shared_data().join("osv/crates.io"), &mirror.path().join("crates.io/all.zip"));
    let url = serve_dir(mirror.path().to_path_buf());
    let cache = tempfile::tempdir().unwrap();

    let out = rampart(cache.path())
        .args(["db", "update", "--db-mirror", &url, "--ecosystems", "crates.io"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let info = json(&rampart(cache.path()).args(["db", "info", "-f", "json"]).output().unwrap());
    let count = info["advisories"].as_u64().unwrap();
    assert!(count > 1_000, "RustSec has over 1,000 advisories: {info}");

    // The mirror lacks PyPI: the update fails and the previous database stays.
    let out = rampart(cache.path())
        .args(["db", "update", "--db-mirror", &url, "--ecosystems", "crates.io,PyPI"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 65);
    assert!(stderr(&out).contains("PyPI"), "names what failed: {}", stderr(&out));
    let info = json(&rampart(cache.path()).args(["db", "info", "-f", "json"]).output().unwrap());
    assert_eq!(info["advisories"].as_u64().unwrap(), count);

    // A scan with a fresh database does not update, and finds RustSec issues.
    let dir = project(&[("Cargo.lock", CARGO_LOCK_VULNERABLE)]);
    let out = rampart(cache.path())
        .current_dir(dir.path())
        .args(["fs", "--db-mirror", "http://127.0.0.1:9/unreachable", "--exit-code", "4", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 4, "{}", stderr(&out));
}

#[test]
fn missing_database_is_fetched_before_a_scan() {
    let mirror = tempfile::tempdir().unwrap();
    for eco in ["crates.io", "Go"] {
        zip_dir(&shared_data().join("osv").join(eco), &mirror.path().join(eco).join("all.zip"));
    }
    let url = serve_dir(mirror.path().to_path_buf());
    let cache = tempfile::tempdir().unwrap();
    let dir = project(&[("Cargo.lock", CARGO_LOCK_VULNERABLE)]);
    let out = rampart(cache.path())
        .current_dir(dir.path())
        .env("RAMPART_DB_ECOSYSTEMS", "crates.io,Go")
        .args(["fs", "--db-mirror", &url, "-f", "json", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("CVE-2019-15551"));
}

#[test]
fn update_is_refused_offline_and_import_names_missing_paths() {
    let cache = tempfile::tempdir().unwrap();
    let out = rampart(cache.path()).args(["--offline", "db", "update"]).output().unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    let out = rampart(cache.path()).args(["db", "import", "/nonexistent/advisories"]).output().unwrap();
    assert_eq!(code(&out), 65);
    assert!(stderr(&out).contains("/nonexistent/advisories"), "{}", stderr(&out));
}
