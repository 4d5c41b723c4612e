//! Writer output compared with reviewed files under tests/golden/.
//! `UPDATE_GOLDEN=1 cargo test -p rampart-report` rewrites them.

mod common;

use std::path::{Path, PathBuf};

use rampart_report::{Format, WriteOptions, write};
use rampart_types::{ArtifactType, Metadata, Report, SCHEMA_VERSION};

fn render(report: &Report, format: Format, options: &WriteOptions) -> String {
    let mut out = Vec::new();
    write(report, format, options, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("writers emit UTF-8")
}

fn options() -> WriteOptions {
    WriteOptions {
        color: false,
        tool_version: "0.1.0".to_string(),
        artifact_root: Some(PathBuf::from("/home/ci/demo app")),
    }
}

fn check(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("reading {}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display())
    });
    assert!(
        actual == expected,
        "{} differs from the writer's output (review, then UPDATE_GOLDEN=1 to accept):\n{actual}",
        path.display()
    );
}

#[test]
fn json_matches_golden() {
    check("report.json", &render(&common::report(), Format::Json, &options()));
}

#[test]
fn json_reads_back_as_the_same_report() {
    let json = render(&common::report(), Format::Json, &options());
    assert!(json.ends_with("}\n"));
    assert!(json.starts_with("{\n  \"SchemaVersion\": 2,\n"), "pretty-printed with 2 spaces:\n{json}");
    let parsed: Report = serde_json::from_str(&json).expect("valid report JSON");
    let mut expected = common::report();
    // Line ranges are for SARIF only; Trivy's JSON has no place for them.
    for r in &mut expected.results {
        for v in &mut r.vulnerabilities {
            v.locations.clear();
        }
    }
    assert_eq!(parsed, expected);
}

#[test]
fn table_matches_golden() {
    let table = render(&common::report(), Format::Table, &options());
    assert!(!table.contains('\x1b'), "no color unless asked");
    // The masked match is the only trace of a secret, shown once.
    assert_eq!(table.matches(common::AWS_MATCH).count(), 1);
    assert_eq!(table.matches(common::SLACK_MATCH).count(), 1);
    check("report.txt", &table);
}

#[test]
fn colored_table_matches_golden() {
    let table = render(&common::report(), Format::Table, &WriteOptions { color: true, ..options() });
    assert!(table.contains("\x1b[31mCRITICAL\x1b[0m"));
    assert!(table.contains("\x1b[91mHIGH\x1b[0m"));
    assert!(table.contains("DS002 (\x1b[91mHIGH\x1b[0m): Image user"));
    assert!(table.contains("\x1b[31mCRITICAL\x1b[0m: AWS (aws-access-key-id)"));
    check("report.color.txt", &table);
}

#[test]
fn sarif_matches_golden() {
    check("report.sarif", &render(&common::report(), Format::Sarif, &options()));
}

#[test]
fn empty_report_table_is_one_note() {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: "2024-06-01T12:00:00Z".to_string(),
        artifact_name: "empty-dir".to_string(),
        artifact_type: ArtifactType::Filesystem,
        metadata: Metadata::default(),
        results: Vec::new(),
    };
    let table = render(&report, Format::Table, &options());
    assert_eq!(table.lines().count(), 1);
    check("empty.txt", &table);
}
