//! Imports the real feeds of ../shared/data once and checks lookups against
//! facts read by hand from the source files.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use rampart_types::NoProgress;
use rampart_version::osv::{Event, Range, RangeType};
use rampart_vulndb::{AffectedPackage, Db, ImportSummary, SCHEMA_VERSION, import};

struct Imported {
    db: Db,
    summary: ImportSummary,
}

fn imported() -> &'static Imported {
    static DB: OnceLock<Imported> = OnceLock::new();
    DB.get_or_init(|| {
        let data = common::data_dir();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vulndb-real-data");
        let summary = import(&[data.join("osv"), data.join("distro")], &dir, &NoProgress).expect("import");
        Imported { db: Db::open(&dir).expect("open"), summary }
    })
}

fn db() -> &'static Db {
    &imported().db
}

fn entry(ecosystem: &str, name: &str, advisory: &str) -> AffectedPackage {
    let entries = db().affected(ecosystem, name).unwrap();
    entries.iter().find(|e| e.advisory_id == advisory).cloned().unwrap_or_else(|| {
        let ids: Vec<_> = entries.iter().map(|e| e.advisory_id.as_str()).collect();
        panic!("{advisory} not among the {} entries for {ecosystem}/{name}: {ids:?}", entries.len())
    })
}

fn events(pairs: &[(&str, &str)]) -> Vec<Event> {
    pairs
        .iter()
        .map(|&(kind, v)| match kind {
            "introduced" => Event::Introduced(v.to_string()),
            "fixed" => Event::Fixed(v.to_string()),
            other => panic!("event kind {other}"),
        })
        .collect()
}

#[test]
fn the_whole_bundle_imports_cleanly() {
    let s = &imported().summary;
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // 17 Go, 10 PyPI and 13 RustSec records are withdrawn.
    assert_eq!(s.withdrawn, 40);
    let meta = db().metadata();
    assert_eq!(meta.schema_version, SCHEMA_VERSION);
    assert_eq!(meta.advisories, s.advisories);
    assert_eq!(meta.packages, s.packages);
    let count = |kind: &str, eco: &str| {
        meta.sources
            .iter()
            .filter(|s| s.kind == kind)
            .flat_map(|s| &s.ecosystems)
            .find(|(e, _)| e == eco)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    assert_eq!(count("osv", "Go"), 4291 - 17);
    assert_eq!(count("osv", "PyPI"), 2661 - 10);
    assert_eq!(count("osv", "crates.io"), 1206 - 13);
    assert_eq!(count("osv", "Kubernetes"), 44);
    assert_eq!(meta.sources.iter().find(|s| s.kind == "debian-dsa").unwrap().advisories, 5406);
    assert_eq!(meta.sources.iter().find(|s| s.kind == "debian-dla").unwrap().advisories, 3534);
    assert!(count("alpine-secdb", "Alpine:v3.10") > 1000);
    time::OffsetDateTime::parse(&meta.built_at, &time::format_description::well_known::Rfc3339).unwrap();
}

#[test]
fn go_module_advisory() {
    let e = entry("Go", "github.com/gin-gonic/gin", "GO-2020-0001");
    assert_eq!(e.name, "github.com/gin-gonic/gin");
    assert_eq!(
        e.ranges,
        [Range { kind: RangeType::Semver, events: events(&[("introduced", "0"), ("fixed", "1.6.0")]) }]
    );
    let a = db().advisory("GO-2020-0001").unwrap().unwrap();
    assert_eq!(a.aliases, ["CVE-2020-36567", "GHSA-6vm3-jj99-7229"]);
    assert_eq!(a.source, "osv");
    assert!(a.references.iter().any(|r| r.kind == "FIX"));
    // Go module paths are case-sensitive.
    assert!(db().affected("Go", "github.com/Gin-Gonic/gin").unwrap().is_empty());

    let stdlib = entry("Go", "stdlib", "GO-2021-0159");
    assert_eq!(stdlib.ranges[0].events, events(&[("introduced", "0"), ("fixed", "1.4.3")]));
}

#[test]
fn pypi_names_are_pep503_normalized() {
    // osv/PyPI/jw.util/PYSEC-2020-341.yaml: jw.util before 2.3.
    for spelling in ["jw.util", "JW_Util", "jw-util", "Jw__Util"] {
        let e = entry("PyPI", spelling, "PYSEC-2020-341");
        assert_eq!(e.name, "jw.util", "the advisory's spelling is kept");
        assert_eq!(e.ecosystem, "PyPI");
        assert_eq!(
            e.ranges,
            [Range { kind: RangeType::Ecosystem, events: events(&[("introduced", "0"), ("fixed", "2.3")]) }]
        );
        assert!(e.versions.iter().any(|v| v == "1.4"), "quoted YAML versions stay strings");
    }
    let a = db().advisory("PYSEC-2020-341").unwrap().unwrap();
    assert_eq!(a.aliases, ["CVE-2020-13388", "GHSA-h72c-w3q3-55qq"]);
    assert_eq!(a.published.as_deref(), Some("2020-05-22T17:15:00Z"));
    assert_eq!(a.modified.as_deref(), Some("2022-01-05T02:16:25.743194Z"));
    assert!(a.details.starts_with("An exploitable vulnerability exists"));
    // The ecosystem key is matched case-insensitively, like Ecosystem::parse_osv.
    assert!(db().affected("pypi", "jw-util").unwrap().iter().any(|e| e.advisory_id == "PYSEC-2020-341"));
}

#[test]
fn withdrawn_records_are_left_out() {
    assert_eq!(db().advisory("GO-2024-2442").unwrap(), None);
    assert_eq!(db().advisory("PYSEC-2023-73").unwrap(), None);
    assert_eq!(db().advisory("RUSTSEC-2019-0031").unwrap(), None);
}

#[test]
fn rustsec_advisory() {
    let e = entry("crates.io", "image", "RUSTSEC-2019-0014");
    assert_eq!(e.ranges[0].kind, RangeType::Semver);
    assert_eq!(e.ranges[0].events, events(&[("introduced", "0.10.2"), ("fixed", "0.21.3")]));
    let a = db().advisory("RUSTSEC-2019-0014").unwrap().unwrap();
    assert_eq!(a.severity.len(), 1);
    assert_eq!(a.severity[0].kind, "CVSS_V3");
    assert_eq!(a.severity[0].score, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    assert_eq!(a.summary, "Flaw in interface may drop uninitialized instance of arbitrary types");
}

#[test]
fn kubernetes_records_use_the_canonical_key() {
    // The feed spells the ecosystem `kubernetes`; it is stored as `Kubernetes`.
    let e = entry("Kubernetes", "k8s.io/apiserver", "CVE-2017-1002101");
    assert_eq!(e.ecosystem, "Kubernetes");
    assert_eq!(
        e.ranges[0].events,
        events(&[
            ("introduced", "1.3.0"),
            ("fixed", "1.7.14"),
            ("introduced", "1.8.0"),
            ("fixed", "1.8.9"),
            ("introduced", "1.9.0"),
            ("fixed", "1.9.4")
        ])
    );
    assert!(
        db().affected("kubernetes", "k8s.io/kubelet")
            .unwrap()
            .iter()
            .any(|e| e.advisory_id == "CVE-2017-1002101")
    );
    // Per-package CVSS vectors become the advisory's when it has none.
    let a = db().advisory("CVE-2017-1002101").unwrap().unwrap();
    assert_eq!(a.severity.len(), 1);
    assert_eq!(a.severity[0].score, "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H");
}

#[test]
fn alpine_secdb_fix() {
    // distro/alpine-secdb/v3.10/main.yaml: ansible 2.8.4-r0 fixes CVE-2019-10206.
    let e = entry("Alpine:v3.10", "ansible", "ALPINE-CVE-2019-10206");
    assert_eq!(e.ecosystem, "Alpine:v3.10");
    assert_eq!(
        e.ranges,
        [Range { kind: RangeType::Ecosystem, events: events(&[("introduced", "0"), ("fixed", "2.8.4-r0")]) }]
    );
    let a = db().advisory("ALPINE-CVE-2019-10206").unwrap().unwrap();
    assert_eq!(a.aliases, ["CVE-2019-10206"]);
    assert_eq!(a.source, "alpine-secdb");
    // The same flaw in other branches adds to the same advisory.
    let v311 = db().affected("Alpine:v3.11", "ansible").unwrap();
    assert!(v311.iter().any(|e| e.advisory_id == "ALPINE-CVE-2019-10206"));
}

#[test]
fn alpine_secdb_zero_means_not_affected() {
    // v3.8/main.yaml lists CVE-2016-0682 for `db` under "0": never affected.
    let entries = db().affected("Alpine:v3.8", "db").unwrap();
    assert!(entries.iter().all(|e| e.advisory_id != "ALPINE-CVE-2016-0682"), "{entries:?}");
}

#[test]
fn debian_dsa_for_bullseye() {
    let e = entry("Debian:11", "xorg-server", "DSA-5380-1");
    assert_eq!(
        e.ranges,
        [Range {
            kind: RangeType::Ecosystem,
            events: events(&[("introduced", "0"), ("fixed", "2:1.20.11-1+deb11u6")])
        }]
    );
    let a = db().advisory("DSA-5380-1").unwrap().unwrap();
    assert_eq!(a.aliases, ["CVE-2023-1393"]);
    assert_eq!(a.source, "debian-dsa");
    assert_eq!(a.summary, "xorg-server - security update");
    assert_eq!(a.published.as_deref(), Some("2023-03-29T00:00:00Z"));
}

#[test]
fn debian_dla_and_end_of_life() {
    let e = entry("Debian:10", "systemd", "DLA-3377-1");
    assert_eq!(e.ranges[0].events, events(&[("introduced", "0"), ("fixed", "241-7~deb10u9")]));
    assert_eq!(db().advisory("DLA-3377-1").unwrap().unwrap().source, "debian-dla");
    // DSA-3699-1: virtualbox in jessie reached end of life, vulnerable with no fix.
    let e = entry("Debian:8", "virtualbox", "DSA-3699-1");
    assert_eq!(e.ranges[0].events, events(&[("introduced", "0")]));
}

#[test]
fn unknown_packages_and_ids_are_empty() {
    assert!(db().affected("PyPI", "no-such-package-anywhere").unwrap().is_empty());
    assert!(db().affected("NoSuchEcosystem", "x").unwrap().is_empty());
    assert_eq!(db().advisory("GHSA-none-none-none").unwrap(), None);
}
