//! OSV evaluation: hand-written records in the shape real databases publish,
//! and a sweep over the advisories in `shared/data/osv`.

use std::fs;
use std::path::{Path, PathBuf};

use rampart_version::Scheme;
use rampart_version::osv::{Event, Range, RangeType, Verdict, evaluate};
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    affected: Vec<Affected>,
}

#[derive(Deserialize)]
struct Affected {
    package: Package,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: String,
}

fn check(record: &str, version: &str) -> Verdict {
    let record: Record = serde_json::from_str(record).unwrap();
    let a = &record.affected[0];
    let scheme = Scheme::for_ecosystem(&a.package.ecosystem).unwrap();
    evaluate(scheme, version, &a.ranges, &a.versions).unwrap()
}

fn verdict(affected: bool, fixed: &[&str]) -> Verdict {
    Verdict { affected, fixed: fixed.iter().map(|f| (*f).to_owned()).collect() }
}

/// A Go module advisory: SEMVER pairs without the `v` the module versions carry.
const GO_RECORD: &str = r#"{
  "id": "GO-0000-0001",
  "affected": [{
    "package": {"name": "example.com/mod", "ecosystem": "Go"},
    "ranges": [{
      "type": "SEMVER",
      "events": [
        {"introduced": "0"}, {"fixed": "0.17.0"},
        {"introduced": "1.0.0"}, {"fixed": "1.4.2"},
        {"introduced": "2.0.0-rc.1"}, {"fixed": "2.1.0"}
      ]
    }]
  }]
}"#;

#[test]
fn go_semver_pairs() {
    assert_eq!(check(GO_RECORD, "v0.16.9"), verdict(true, &["0.17.0", "1.4.2", "2.1.0"]));
    assert_eq!(check(GO_RECORD, "v0.17.0"), verdict(false, &[]));
    assert_eq!(
        check(GO_RECORD, "v0.0.0-20220101000000-abcdefabcdef"),
        verdict(true, &["0.17.0", "1.4.2", "2.1.0"])
    );
    assert_eq!(check(GO_RECORD, "v1.4.1"), verdict(true, &["1.4.2", "2.1.0"]));
    assert_eq!(check(GO_RECORD, "v1.4.2"), verdict(false, &[]));
    assert_eq!(check(GO_RECORD, "v2.0.0-beta.1"), verdict(false, &[]));
    assert_eq!(check(GO_RECORD, "v2.0.0+incompatible"), verdict(true, &["2.1.0"]));
    assert_eq!(check(GO_RECORD, "v2.1.0"), verdict(false, &[]));
}

/// The Go standard library, matched by toolchain version.
#[test]
fn go_stdlib_toolchain() {
    let record = r#"{"id": "GO-0000-0002", "affected": [{
      "package": {"name": "stdlib", "ecosystem": "Go"},
      "ranges": [{"type": "SEMVER", "events": [
        {"introduced": "0"}, {"fixed": "1.20.8"}, {"introduced": "1.21.0-0"}, {"fixed": "1.21.1"}]}]}]}"#;
    assert_eq!(check(record, "go1.20.7"), verdict(true, &["1.20.8", "1.21.1"]));
    assert_eq!(check(record, "go1.21rc2"), verdict(true, &["1.21.1"]));
    assert_eq!(check(record, "go1.21.0"), verdict(true, &["1.21.1"]));
    assert_eq!(check(record, "go1.21.1"), verdict(false, &[]));
}

/// A PyPI advisory with `last_affected`, PEP 440 spellings, and a versions list.
const PYPI_RECORD: &str = r#"{
  "id": "PYSEC-0000-1",
  "affected": [{
    "package": {"name": "example", "ecosystem": "PyPI"},
    "ranges": [{
      "type": "ECOSYSTEM",
      "events": [{"introduced": "1.0"}, {"last_affected": "1.5.post1"}, {"introduced": "2.0rc1"}, {"fixed": "2.0.3"}]
    }],
    "versions": ["0.9.dev1"]
  }]
}"#;

#[test]
fn pypi_last_affected_and_versions() {
    assert_eq!(check(PYPI_RECORD, "0.9"), verdict(false, &[]));
    assert_eq!(check(PYPI_RECORD, "0.9.dev1"), verdict(true, &[]));
    assert_eq!(check(PYPI_RECORD, "1.0.0"), verdict(true, &["2.0.3"]));
    assert_eq!(check(PYPI_RECORD, "1.5.post1"), verdict(true, &["2.0.3"]));
    assert_eq!(check(PYPI_RECORD, "1.5.post2"), verdict(false, &[]));
    assert_eq!(check(PYPI_RECORD, "2.0.0c1"), verdict(true, &["2.0.3"]));
    assert_eq!(check(PYPI_RECORD, "2.0.0b9"), verdict(false, &[]));
    assert_eq!(check(PYPI_RECORD, "2.0.3"), verdict(false, &[]));
}

#[test]
fn distro_ecosystems() {
    let debian = r#"{"id": "DSA-0000-1", "affected": [{
      "package": {"name": "openssl", "ecosystem": "Debian:12"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}]}]}]}"#;
    assert_eq!(check(debian, "3.0.9-1"), verdict(true, &["3.0.11-1~deb12u1"]));
    assert_eq!(check(debian, "3.0.11-1"), verdict(false, &[]));
    let alpine = r#"{"id": "ALPINE-0000-1", "affected": [{
      "package": {"name": "busybox", "ecosystem": "Alpine:v3.18"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r1"}]}]}]}"#;
    assert_eq!(check(alpine, "1.36.1-r0"), verdict(true, &["1.36.1-r1"]));
    assert_eq!(check(alpine, "1.36.1_p1-r0"), verdict(false, &[]));
    let rocky = r#"{"id": "RLSA-0000-1", "affected": [{
      "package": {"name": "kernel", "ecosystem": "Rocky Linux:8"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:4.18.0-477.10.1.el8_8"}]}]}]}"#;
    assert_eq!(check(rocky, "4.18.0-425.3.1.el8"), verdict(true, &["0:4.18.0-477.10.1.el8_8"]));
    assert_eq!(check(rocky, "4.18.0-477.10.1.el8_8"), verdict(false, &[]));
}

/// Every fix above the version from every range containing it, once each, lowest first.
#[test]
fn fixes_merge_across_ranges() {
    let record = r#"{"id": "GHSA-0000", "affected": [{
      "package": {"name": "left-pad", "ecosystem": "npm"},
      "ranges": [
        {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.3.0"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}, {"fixed": "1.3.0"}]},
        {"type": "GIT", "repo": "https://example.com/x", "events": [{"introduced": "0"}, {"fixed": "deadbeef"}]}
      ]}]}"#;
    assert_eq!(check(record, "1.2.0"), verdict(true, &["1.3.0", "2.0.0"]));
    assert_eq!(check(record, "1.4.0"), verdict(false, &[]));
    assert_eq!(check(record, "1.5.0"), verdict(false, &[]));
}

fn osv_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/osv"));
    assert!(dir.is_dir(), "the test data at ../shared/data is required (looked for {})", dir.display());
    dir
}

fn records(dir: &Path, out: &mut Vec<(PathBuf, Record)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            records(&path, out);
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let record = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            Some("yaml") => {
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            }
            _ => continue,
        };
        out.push((path, record));
    }
}

/// Whether a range is written the ordinary way: `introduced` then a closing
/// event, repeated, strictly ascending.
fn ordinary(scheme: Scheme, events: &[Event]) -> bool {
    let text = |e: &Event| match e {
        Event::Introduced(s) | Event::Fixed(s) | Event::LastAffected(s) | Event::Limit(s) => s.clone(),
    };
    let alternating = events.iter().enumerate().all(|(i, e)| match e {
        Event::Introduced(_) => i % 2 == 0,
        Event::Fixed(_) | Event::LastAffected(_) => i % 2 == 1,
        Event::Limit(_) => false,
    });
    let versions: Vec<String> = events.iter().map(text).filter(|s| s != "0").collect();
    let parse = versions.iter().all(|v| scheme.parse(v).is_ok());
    let ascending = versions.windows(2).all(|w| scheme.compare(&w[0], &w[1]) == Ok(std::cmp::Ordering::Less));
    alternating && parse && ascending
}

/// Every advisory in the bundle: event versions parse, and each ordinary
/// range says its own `introduced` and `last_affected` versions are affected
/// and its `fixed` versions are not, naming the right fix.
#[test]
fn shared_advisories_evaluate_consistently() {
    let mut all = Vec::new();
    records(&osv_dir(), &mut all);
    assert!(all.len() > 8000, "only {} records", all.len());
    let (mut events, mut unparsed, mut checked) = (0, Vec::new(), 0);
    for (path, record) in &all {
        for a in &record.affected {
            let scheme = Scheme::for_ecosystem(&a.package.ecosystem)
                .unwrap_or_else(|| panic!("{}: ecosystem {}", path.display(), a.package.ecosystem));
            for range in &a.ranges {
                let dialect = match (range.kind, scheme) {
                    (RangeType::Git, _) => continue,
                    (RangeType::Semver, Scheme::Go) => Scheme::Go,
                    (RangeType::Semver, _) => Scheme::Semver,
                    (RangeType::Ecosystem, s) => s,
                };
                for e in &range.events {
                    let (Event::Introduced(s) | Event::Fixed(s) | Event::LastAffected(s) | Event::Limit(s)) =
                        e;
                    events += 1;
                    if s != "0" && dialect.parse(s).is_err() {
                        unparsed.push(format!("{}: {s}", record.id));
                    }
                }
                if !ordinary(dialect, &range.events) {
                    continue;
                }
                let one = std::slice::from_ref(range);
                for pair in range.events.chunks(2) {
                    let closing = pair.get(1);
                    if let Event::Introduced(start) = &pair[0]
                        && start != "0"
                    {
                        let want_fix: Vec<String> = match closing {
                            Some(Event::Fixed(f)) => range
                                .events
                                .iter()
                                .filter_map(|e| match e {
                                    Event::Fixed(g) if dialect.compare(g, f).is_ok_and(|o| o.is_ge()) => {
                                        Some(g.clone())
                                    }
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        let got = evaluate(dialect, start, one, &[]).unwrap();
                        assert_eq!(
                            got,
                            Verdict { affected: true, fixed: want_fix },
                            "{}: {start}",
                            record.id
                        );
                        checked += 1;
                    }
                    match closing {
                        Some(Event::Fixed(f)) => {
                            assert!(!evaluate(dialect, f, one, &[]).unwrap().affected, "{}: {f}", record.id);
                            checked += 1;
                        }
                        Some(Event::LastAffected(l)) => {
                            assert!(evaluate(dialect, l, one, &[]).unwrap().affected, "{}: {l}", record.id);
                            checked += 1;
                        }
                        _ => {}
                    }
                }
            }
            for listed in a.versions.iter().take(3) {
                if let Ok(v) = evaluate(scheme, listed, &[], &a.versions) {
                    assert!(v.affected, "{}: listed {listed}", record.id);
                }
            }
        }
    }
    eprintln!("{} records, {events} events, {checked} range checks, unparsed: {unparsed:?}", all.len());
    assert!(checked > 10_000, "only {checked} checks");
    assert!(unparsed.len() * 1000 < events, "{} of {events} event versions did not parse", unparsed.len());
}
