//! Import behaviour on small hand-made inputs: malformed records, corrupt
//! database files, failed and interrupted imports.

mod common;

use std::fs;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rampart_types::{NoProgress, Progress};
use rampart_vulndb::{DB_FILE_NAME, Db, DbError, import, is_stale};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn osv(id: &str, ecosystem: &str, name: &str, fixed: &str, modified: &str) -> String {
    format!(
        r#"{{"id": "{id}", "modified": "{modified}", "aliases": ["CVE-2099-0001"],
            "summary": "summary of {id}",
            "affected": [{{"package": {{"ecosystem": "{ecosystem}", "name": "{name}"}},
                           "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}],
                           "ecosystem_specific": {{"severity": "HIGH"}}}}],
            "database_specific": {{"severity": "MODERATE", "cwe_ids": ["CWE-79"]}}}}"#
    )
}

fn fixed_of(db: &Db, ecosystem: &str, name: &str) -> Vec<String> {
    db.affected(ecosystem, name)
        .unwrap()
        .iter()
        .flat_map(|e| &e.ranges)
        .flat_map(|r| &r.events)
        .filter_map(|e| match e {
            rampart_version::osv::Event::Fixed(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn malformed_records_become_warnings_and_the_rest_is_imported() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    write(src.path(), "good/GHSA-1.json", &osv("GHSA-1", "npm", "left-pad", "1.1.0", "2024-01-01T00:00:00Z"));
    let bad_json =
        write(src.path(), "bad/GHSA-2.json", "{\n  \"id\": \"GHSA-2\",\n  \"affected\": [\n    {,\n");
    let bad_yaml = write(src.path(), "bad/PYSEC-3.yaml", "id: PYSEC-3\naffected:\n  - package: [unclosed\n");
    write(src.path(), "bad/no-id.json", r#"{"affected": [], "modified": "2024-01-01T00:00:00Z"}"#);
    // Not advisories at all: skipped silently when found in a directory.
    write(src.path(), "config.json", r#"{"distributions": {}}"#);
    write(src.path(), "README.md", "# notes");

    let summary = import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    assert_eq!(summary.advisories, 1);
    assert_eq!(summary.packages, 1);
    assert_eq!(summary.warnings.len(), 3, "{:?}", summary.warnings);
    let json_warning = summary.warnings.iter().find(|w| w.path == bad_json.display().to_string()).unwrap();
    assert_eq!(json_warning.line, Some(4), "{json_warning}");
    let yaml_warning = summary.warnings.iter().find(|w| w.path == bad_yaml.display().to_string()).unwrap();
    assert!(yaml_warning.line.is_some(), "{yaml_warning}");
    assert!(summary.warnings.iter().any(|w| w.path.ends_with("no-id.json") && w.message.contains("no `id`")));

    let db = Db::open(db_dir.path()).unwrap();
    let e = &db.affected("npm", "left-pad").unwrap()[0];
    assert_eq!(e.severity.as_deref(), Some("HIGH"));
    let a = db.advisory("GHSA-1").unwrap().unwrap();
    assert_eq!(a.database_severity.as_deref(), Some("MODERATE"));
    assert_eq!(a.cwe_ids, ["CWE-79"]);
}

#[test]
fn an_explicit_file_that_is_no_advisory_is_reported() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    let good = write(src.path(), "a.json", &osv("GHSA-1", "npm", "a", "1.0.0", "2024-01-01T00:00:00Z"));
    let other = write(src.path(), "config.json", r#"{"distributions": {}}"#);
    let summary = import(&[good, other.clone()], db_dir.path(), &NoProgress).unwrap();
    assert_eq!(summary.advisories, 1);
    assert_eq!(summary.warnings.len(), 1);
    assert_eq!(summary.warnings[0].path, other.display().to_string());
}

#[test]
fn free_form_fields_of_unexpected_shape_do_not_cost_the_record() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    write(
        src.path(),
        "x.json",
        r#"{"id": "X-1", "aliases": null, "severity": [{"type": "Ubuntu", "score": 7.5}],
            "database_specific": "free text",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "x"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]},
                                     {"type": "FUTURE", "events": [{"introduced": "0"}]}],
                          "ecosystem_specific": {"severity": {"nested": true}, "affects": [1, 2]},
                          "database_specific": [1, 2, 3]}]}"#,
    );
    let summary = import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let db = Db::open(db_dir.path()).unwrap();
    let e = &db.affected("crates.io", "x").unwrap()[0];
    assert_eq!(e.ranges.len(), 1, "the unknown range type is dropped");
    assert_eq!(e.severity, None);
    let a = db.advisory("X-1").unwrap().unwrap();
    assert_eq!(a.severity[0].score, "7.5");
    assert!(a.aliases.is_empty());
}

#[test]
fn unknown_ecosystems_are_kept_under_their_own_spelling() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    write(src.path(), "a.json", &osv("BIT-1", "Bitnami", "Apache_HTTP", "2.4.60", "2024-01-01T00:00:00Z"));
    import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    let db = Db::open(db_dir.path()).unwrap();
    assert_eq!(db.affected("Bitnami", "Apache_HTTP").unwrap()[0].ecosystem, "Bitnami");
    assert!(
        db.affected("Bitnami", "apache-http").unwrap().is_empty(),
        "unknown ecosystems compare names exactly"
    );
    let sources = &db.metadata().sources;
    assert_eq!(sources[0].ecosystems, [("Bitnami".to_string(), 1)]);
}

#[test]
fn the_newest_copy_of_an_advisory_wins() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    // Sorted walk order: a.json is read first but is the newer copy.
    write(src.path(), "a.json", &osv("GHSA-9", "PyPI", "Foo", "2.0", "2024-02-01T00:00:00Z"));
    write(src.path(), "b.json", &osv("GHSA-9", "PyPI", "Foo", "1.0", "2024-01-01T00:00:00Z"));
    let summary = import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    assert_eq!((summary.advisories, summary.packages), (1, 1));
    let db = Db::open(db_dir.path()).unwrap();
    assert_eq!(fixed_of(&db, "PyPI", "foo"), ["2.0"]);
}

#[test]
fn alpine_secdb_json_and_osv_zip_exports() {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    write(
        src.path(),
        "v3.18/main.json",
        r#"{"distroversion": "v3.18", "reponame": "main", "packages": [
             {"pkg": {"name": "openssl", "secfixes": {"3.1.1-r0": ["CVE-2023-2650"], "0": ["CVE-2000-0001"]}}},
             {"pkg": {"name": "zlib", "secfixes": {"1.2.13-r0": ["CVE-2022-37434 (extra)"]}}}]}"#,
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("GHSA-z.json", opts).unwrap();
    zip.write_all(osv("GHSA-z", "Go", "example.com/m", "1.2.3", "2024-01-01T00:00:00Z").as_bytes()).unwrap();
    zip.start_file("notes.txt", opts).unwrap();
    zip.write_all(b"ignored").unwrap();
    let zip_path = src.path().join("exports/all.zip");
    fs::create_dir_all(zip_path.parent().unwrap()).unwrap();
    fs::write(&zip_path, zip.finish().unwrap().into_inner()).unwrap();
    fs::write(src.path().join("exports/broken.zip"), b"PK\x03\x04 not really").unwrap();

    let summary = import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(summary.warnings[0].path.ends_with("broken.zip"));
    let db = Db::open(db_dir.path()).unwrap();
    assert_eq!(fixed_of(&db, "Alpine:v3.18", "openssl"), ["3.1.1-r0"]);
    assert_eq!(db.advisory("ALPINE-CVE-2000-0001").unwrap(), None, "`0` means not affected");
    assert_eq!(db.affected("Alpine:v3.18", "zlib").unwrap()[0].advisory_id, "ALPINE-CVE-2022-37434");
    assert_eq!(fixed_of(&db, "Go", "example.com/m"), ["1.2.3"]);
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let db_dir = tempfile::tempdir().unwrap();
    let missing = db_dir.path().join("nope");
    let err = import(std::slice::from_ref(&missing), db_dir.path(), &NoProgress).unwrap_err();
    assert!(matches!(&err, DbError::InputNotFound(p) if *p == missing), "{err}");
    assert!(err.to_string().contains("nope"));
}

#[test]
fn a_missing_database_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Db::open(dir.path()).err().unwrap();
    assert!(matches!(err, DbError::Missing(_)));
    assert!(err.to_string().contains("rampart db update"));
    assert!(is_stale(dir.path(), std::time::Duration::from_secs(3600)));
}

/// A small valid database in a fresh directory.
fn small_db() -> (tempfile::TempDir, tempfile::TempDir) {
    let src = tempfile::tempdir().unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        let id = format!("GHSA-{i}");
        write(
            src.path(),
            &format!("{id}.json"),
            &osv(&id, "npm", &format!("pkg{i}"), "1.0.0", "2024-01-01T00:00:00Z"),
        );
    }
    import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();
    (src, db_dir)
}

#[test]
fn corrupt_database_files_give_clear_errors() {
    let (_src, db_dir) = small_db();
    let file = db_dir.path().join(DB_FILE_NAME);
    let good = fs::read(&file).unwrap();

    fs::write(&file, b"definitely not a database, but long enough to hold a header ........").unwrap();
    let err = Db::open(db_dir.path()).err().unwrap();
    assert!(matches!(err, DbError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&file.display().to_string()), "{err}");
    assert!(err.to_string().contains("bad magic"), "{err}");
    assert!(is_stale(db_dir.path(), std::time::Duration::from_secs(3600)));

    let mut newer = good.clone();
    newer[8..12].copy_from_slice(&99u32.to_le_bytes());
    fs::write(&file, &newer).unwrap();
    let err = Db::open(db_dir.path()).err().unwrap();
    assert!(matches!(err, DbError::Incompatible { found: 99, .. }), "{err}");

    // Every truncation is refused at open.
    for len in [0, 10, 71, 72, 100, good.len() / 2, good.len() - 1] {
        fs::write(&file, &good[..len]).unwrap();
        let err =
            Db::open(db_dir.path()).err().unwrap_or_else(|| panic!("truncated to {len} bytes was accepted"));
        assert!(matches!(err, DbError::Corrupt { .. }), "{len}: {err}");
    }

    // Damaged bytes anywhere never panic: open or lookups fail or succeed.
    for at in (0..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[at] ^= 0xA5;
        fs::write(&file, &bad).unwrap();
        if let Ok(db) = Db::open(db_dir.path()) {
            for i in 0..20 {
                let _ = db.affected("npm", &format!("pkg{i}"));
                let _ = db.advisory(&format!("GHSA-{i}"));
            }
        }
    }
}

#[test]
fn a_damaged_table_entry_is_reported_on_lookup() {
    let (_src, db_dir) = small_db();
    let file = db_dir.path().join(DB_FILE_NAME);
    let mut bytes = fs::read(&file).unwrap();
    // The advisory table's offset is at 40; its first entry's key offset
    // follows the count.
    let table = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
    for b in &mut bytes[table + 8..table + 16] {
        *b = 0xFF;
    }
    fs::write(&file, &bytes).unwrap();
    let db = Db::open(db_dir.path()).unwrap();
    let err =
        (0..20).find_map(|i| db.advisory(&format!("GHSA-{i}")).err()).expect("a lookup reaches the entry");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(DB_FILE_NAME), "{err}");
}

/// Panics after `limit` units: an import killed half-way.
struct Interrupt {
    done: AtomicU64,
    limit: u64,
}

impl Progress for Interrupt {
    fn start(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, n: u64) {
        if self.done.fetch_add(n, Ordering::SeqCst) + n >= self.limit {
            panic!("interrupted");
        }
    }
    fn finish(&self) {}
}

#[test]
fn failed_and_interrupted_imports_leave_the_old_database() {
    let (_src, db_dir) = small_db();
    let before = Db::open(db_dir.path()).unwrap().metadata().clone();

    // Interrupted half-way through the real feeds.
    let data = common::data_dir();
    let progress = Interrupt { done: AtomicU64::new(0), limit: 3000 };
    let result = catch_unwind(AssertUnwindSafe(|| import(&[data.join("osv")], db_dir.path(), &progress)));
    assert!(result.is_err(), "the import was to be interrupted");

    // Failed: a missing input, or nothing importable.
    assert!(import(&[db_dir.path().join("missing")], db_dir.path(), &NoProgress).is_err());
    let junk = tempfile::tempdir().unwrap();
    let bad = write(junk.path(), "bad.json", "{");
    let err = import(&[bad], db_dir.path(), &NoProgress).unwrap_err();
    assert!(matches!(&err, DbError::NoAdvisories { warnings } if warnings.len() == 1), "{err}");

    let db = Db::open(db_dir.path()).unwrap();
    assert_eq!(db.metadata(), &before);
    assert_eq!(fixed_of(&db, "npm", "pkg3"), ["1.0.0"]);
    assert_eq!(common::dir_entries(db_dir.path()), [DB_FILE_NAME], "temporary files are cleaned up");
}

#[test]
fn readers_of_the_old_database_keep_working_after_a_replacement() {
    let (_src, db_dir) = small_db();
    let old = Db::open(db_dir.path()).unwrap();
    let src = tempfile::tempdir().unwrap();
    write(src.path(), "n.json", &osv("GHSA-new", "npm", "pkg3", "9.9.9", "2024-05-01T00:00:00Z"));
    import(&[src.path().to_path_buf()], db_dir.path(), &NoProgress).unwrap();

    assert_eq!(fixed_of(&old, "npm", "pkg3"), ["1.0.0"]);
    assert!(old.advisory("GHSA-7").unwrap().is_some());
    let new = Db::open(db_dir.path()).unwrap();
    assert_eq!(fixed_of(&new, "npm", "pkg3"), ["9.9.9"]);
    assert_eq!(new.advisory("GHSA-7").unwrap(), None);
    assert!(!is_stale(db_dir.path(), std::time::Duration::from_secs(3600)));
}
