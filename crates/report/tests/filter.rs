//! Severity and fix filters, ignore files, and the CI gate, for
//! vulnerabilities, misconfigurations and secrets.

mod common;

use std::path::Path;

use rampart_report::{Filter, FindingKind, IgnoreRules, ReportError, apply_filter, should_fail};
use rampart_types::{MisconfSummary, Report, Severity};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2024 - 06 - 01);

/// The ids left in the report, sorted.
fn ids(report: &Report) -> Vec<String> {
    let mut ids: Vec<String> =
        report.results.iter().flat_map(|r| &r.vulnerabilities).map(|v| v.vulnerability_id.clone()).collect();
    ids.sort();
    ids
}

/// The ids of the failed checks left in the report, sorted.
fn checks(report: &Report) -> Vec<String> {
    let mut ids: Vec<String> =
        report.results.iter().flat_map(|r| &r.misconfigurations).map(|m| m.id.clone()).collect();
    ids.sort();
    ids
}

/// The rule ids of the secrets left in the report, sorted.
fn secrets(report: &Report) -> Vec<String> {
    let mut ids: Vec<String> =
        report.results.iter().flat_map(|r| &r.secrets).map(|s| s.rule_id.clone()).collect();
    ids.sort();
    ids
}

/// The Dockerfile result's pass/fail counts.
fn summary(report: &Report) -> MisconfSummary {
    report.results.iter().find_map(|r| r.misconf_summary).expect("the Dockerfile has a summary")
}

fn filtered(filter: &Filter) -> Report {
    let mut report = common::report();
    apply_filter(&mut report, filter, TODAY);
    report
}

fn ignoring(rules: IgnoreRules) -> Filter {
    Filter { ignore: rules, ..Filter::default() }
}

fn lines(text: &str) -> IgnoreRules {
    IgnoreRules::from_lines(text, Path::new(".rampartignore")).expect("valid ignore file")
}

fn yaml(text: &str) -> IgnoreRules {
    IgnoreRules::from_yaml(text, Path::new(".rampartignore.yaml")).expect("valid ignore file")
}

fn yaml_error(text: &str) -> String {
    match IgnoreRules::from_yaml(text, Path::new(".rampartignore.yaml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const ALL: [&str; 6] = [
    "CVE-2020-28500",
    "CVE-2021-23337",
    "CVE-2021-44906",
    "CVE-2022-42969",
    "CVE-2023-32681",
    "PYSEC-2021-142",
];

#[test]
fn empty_filter_keeps_everything() {
    assert_eq!(ids(&filtered(&Filter::default())), ALL);
}

#[test]
fn severity_filter_keeps_only_listed_levels() {
    let filter = Filter { severities: vec![Severity::High, Severity::Critical], ..Filter::default() };
    let mut report = common::report();
    let stats = apply_filter(&mut report, &filter, TODAY);
    assert_eq!(ids(&report), ["CVE-2021-23337", "CVE-2021-44906"]);
    // Four vulnerabilities, the MEDIUM check and the MEDIUM secret.
    assert_eq!(stats.by_severity, 6);
    // Targets stay listed, as in Trivy's JSON, even when nothing is left in them.
    assert_eq!(report.results.len(), 5);
}

#[test]
fn severity_filter_applies_to_misconfigurations_and_secrets() {
    let report =
        filtered(&Filter { severities: vec![Severity::High, Severity::Critical], ..Filter::default() });
    assert_eq!(checks(&report), ["DS002"]);
    assert_eq!(secrets(&report), ["aws-access-key-id"]);
    // A dropped failure no longer counts as one; the passed checks still passed.
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 1 });

    let report = filtered(&Filter { severities: vec![Severity::Low], ..Filter::default() });
    assert_eq!((checks(&report).len(), secrets(&report).len()), (0, 0));
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 0 });
}

#[test]
fn ignore_unfixed_keeps_misconfigurations_and_secrets() {
    let report = filtered(&Filter { ignore_unfixed: true, ..Filter::default() });
    assert_eq!(checks(&report), ["DS001", "DS002"]);
    assert_eq!(secrets(&report), ["aws-access-key-id", "slack-web-hook"]);
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 2 });
}

#[test]
fn ignore_unfixed_drops_findings_without_a_fix() {
    let mut report = common::report();
    // Marked fixed but with no version to move to: still nothing to upgrade to.
    report.results[1].vulnerabilities[2].fixed_version.clear();
    let stats = apply_filter(&mut report, &Filter { ignore_unfixed: true, ..Filter::default() }, TODAY);
    assert_eq!(stats.unfixed, 2);
    assert_eq!(ids(&report), ["CVE-2020-28500", "CVE-2021-23337", "CVE-2021-44906", "CVE-2023-32681"]);
}

#[test]
fn plain_file_skips_comments_and_blank_lines_and_notes() {
    let rules = lines(
        "\u{feff}# accepted risks\n\n  CVE-2021-23337   # lodash template is unused\r\n\t\n#CVE-2021-44906\nCVE-2023-32681 reviewed by sec team\n",
    );
    let mut report = common::report();
    let stats = apply_filter(&mut report, &ignoring(rules), TODAY);
    assert_eq!(ids(&report), ["CVE-2020-28500", "CVE-2021-44906", "CVE-2022-42969", "PYSEC-2021-142"]);
    assert_eq!(stats.ignored.len(), 2);
    assert_eq!(stats.ignored[0].vulnerability_id, "CVE-2021-23337");
    assert_eq!(stats.ignored[0].target, "web/package-lock.json");
    assert_eq!(stats.ignored[0].pkg_id, "lodash@4.17.20");
}

#[test]
fn plain_file_ids_name_checks_by_either_id_and_secret_rules() {
    let rules = lines("AVD-DS-0002  # root is dropped at runtime\nDS001 exp:2024-01-01\nAWS-Access-Key-ID\n");
    let mut report = common::report();
    let stats = apply_filter(&mut report, &ignoring(rules), TODAY);
    assert_eq!(ids(&report), ALL);
    // DS001's rule expired.
    assert_eq!(checks(&report), ["DS001"]);
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 1 });
    assert_eq!(secrets(&report), ["slack-web-hook"]);
    let ignored: Vec<(FindingKind, &str, &str, &str)> = stats
        .ignored
        .iter()
        .map(|s| (s.kind, s.target.as_str(), s.vulnerability_id.as_str(), s.pkg_id.as_str()))
        .collect();
    // Recorded under the ids the findings are reported with, not the rules' spelling.
    assert_eq!(
        ignored,
        [
            (FindingKind::Misconfiguration, "build/Dockerfile", "DS002", ""),
            (FindingKind::Secret, "web/.env", "aws-access-key-id", ""),
        ]
    );
}

#[test]
fn plain_file_expiry_stops_ignoring_on_the_day() {
    let rules = lines(
        "CVE-2021-23337 exp:2024-06-02\nCVE-2021-44906 exp:2024-06-01\nCVE-2020-28500 exp:2023-01-01\n",
    );
    assert_eq!(
        ids(&filtered(&ignoring(rules))),
        ["CVE-2020-28500", "CVE-2021-44906", "CVE-2022-42969", "CVE-2023-32681", "PYSEC-2021-142"]
    );
}

#[test]
fn plain_file_bad_expiry_names_file_and_line() {
    let err = IgnoreRules::from_lines("CVE-1\n\nCVE-2 exp:2024-13-01\n", Path::new("ci/.rampartignore"))
        .expect_err("month 13");
    let msg = err.to_string();
    assert!(matches!(err, ReportError::IgnoreFile { line: 3, column: 7, .. }), "{err:?}");
    assert!(msg.starts_with("ci/.rampartignore:3:7: ") && msg.contains("exp:2024-13-01"), "{msg}");
}

#[test]
fn ignoring_an_alias_ignores_the_finding() {
    // The finding is reported as CVE-2021-23337; the file names its GHSA (in lower case).
    let report = filtered(&ignoring(lines("ghsa-35jh-r3h4-6jhm\n")));
    assert!(!ids(&report).contains(&"CVE-2021-23337".to_string()));
    assert_eq!(ids(&report).len(), 5);
}

#[test]
fn yaml_rules_match_ids_paths_and_expiry() {
    let rules = yaml(
        r#"
vulnerabilities:
  - id: CVE-2021-23337
    paths:
      - "**/package-lock.json"
    statement: template() is never called
  - id: CVE-2021-44906
    paths: ["*/package-lock.json"]   # matches web/package-lock.json
  - id: CVE-2023-32681
    paths: ["*.lock"]                # `*` stays in one directory: misses services/api/poetry.lock
  - id: CVE-2022-42969
    expired_at: 2024-05-31
  - id: GHSA-29mw-wpgm-hmr9
    expired_at: 2024-06-30
misconfigurations:
secrets:
  - id: aws-access-key-id
licenses: []
"#,
    );
    let mut report = common::report();
    let stats = apply_filter(&mut report, &ignoring(rules), TODAY);
    assert_eq!(ids(&report), ["CVE-2022-42969", "CVE-2023-32681", "PYSEC-2021-142"]);
    let statement = stats.ignored.iter().find(|s| s.vulnerability_id == "CVE-2021-23337").unwrap();
    assert_eq!(statement.statement.as_deref(), Some("template() is never called"));
}

#[test]
fn yaml_purls_match_with_or_without_version() {
    let rules = yaml(
        r#"
vulnerabilities:
  - id: CVE-2021-23337
    purls: ["pkg:npm/lodash"]
  - id: CVE-2020-28500
    purls: ["pkg:npm/lodash@4.17.19"]
  - id: CVE-2023-32681
    purls: ["pkg:pypi/requests@2.25.0"]
"#,
    );
    assert_eq!(
        ids(&filtered(&ignoring(rules))),
        ["CVE-2020-28500", "CVE-2021-44906", "CVE-2022-42969", "PYSEC-2021-142"]
    );
}

#[test]
fn yaml_entries_without_id_ignore_by_path_or_package() {
    let rules = yaml(
        "vulnerabilities:\n  - paths: [\"services/**\"]\n    statement: not deployed\n  - purls: [\"pkg:npm/minimist\"]\n",
    );
    assert_eq!(ids(&filtered(&ignoring(rules))), ["CVE-2020-28500", "CVE-2021-23337"]);
}

#[test]
fn yaml_timestamps_expire_on_their_utc_day() {
    let rules = yaml("vulnerabilities:\n  - id: CVE-2021-23337\n    expired_at: 2024-06-01T23:00:00+02:00\n");
    assert_eq!(ids(&filtered(&ignoring(rules.clone()))), ALL);
    let mut report = common::report();
    apply_filter(&mut report, &ignoring(rules), date!(2024 - 05 - 31));
    assert!(!ids(&report).contains(&"CVE-2021-23337".to_string()));
}

#[test]
fn yaml_misconfiguration_and_secret_sections_match_ids_paths_and_expiry() {
    let rules = yaml(
        r#"
misconfigurations:
  - id: AVD-DS-0002
    paths: ["build/*"]
    statement: the pod runs it as non-root
  - id: DS001
    paths: ["*"]              # `*` stays in one directory: misses build/Dockerfile
secrets:
  - id: slack-web-hook
    expired_at: 2024-06-01    # no longer applies today
  - id: aws-access-key-id
    paths: ["web/**"]
    expired_at: 2024-12-31
    statement: revoked key kept for a test
"#,
    );
    let mut report = common::report();
    let stats = apply_filter(&mut report, &ignoring(rules), TODAY);
    assert_eq!(ids(&report), ALL);
    assert_eq!(checks(&report), ["DS001"]);
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 1 });
    assert_eq!(secrets(&report), ["slack-web-hook"]);
    let statements: Vec<(FindingKind, &str, Option<&str>)> =
        stats.ignored.iter().map(|s| (s.kind, s.vulnerability_id.as_str(), s.statement.as_deref())).collect();
    assert_eq!(
        statements,
        [
            (FindingKind::Misconfiguration, "DS002", Some("the pod runs it as non-root")),
            (FindingKind::Secret, "aws-access-key-id", Some("revoked key kept for a test")),
        ]
    );
}

#[test]
fn yaml_sections_only_apply_to_their_kind() {
    let rules = yaml(
        "vulnerabilities:\n  - id: DS002\n  - id: aws-access-key-id\n\
         misconfigurations:\n  - id: CVE-2021-23337\n  - id: slack-web-hook\n\
         secrets:\n  - id: GHSA-35jh-r3h4-6jhm\n  - id: DS001\n",
    );
    let report = filtered(&ignoring(rules));
    assert_eq!(ids(&report), ALL);
    assert_eq!(checks(&report), ["DS001", "DS002"]);
    assert_eq!(secrets(&report), ["aws-access-key-id", "slack-web-hook"]);
}

#[test]
fn yaml_entries_without_id_ignore_a_kind_by_path() {
    let rules = yaml("misconfigurations:\n  - paths: [\"build/**\"]\nsecrets:\n  - paths: [\"build/**\"]\n");
    let report = filtered(&ignoring(rules));
    assert_eq!(checks(&report), Vec::<String>::new());
    assert_eq!(summary(&report), MisconfSummary { successes: 21, failures: 0 });
    assert_eq!(secrets(&report).len(), 2);
    assert_eq!(ids(&report), ALL);
}

#[test]
fn yaml_misconfiguration_and_secret_entries_reject_purls_and_empty_selectors() {
    let msg = yaml_error("misconfigurations:\n  - id: DS002\n    purls: [\"pkg:npm/lodash\"]\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:13: "), "{msg}");
    assert!(msg.contains("`purls` only apply to vulnerabilities"), "{msg}");
    let msg = yaml_error("secrets:\n  - id: github-pat\n  - statement: all of them\n");
    assert!(msg.contains("secrets entry 2 needs an `id` or `paths`"), "{msg}");
    let msg = yaml_error("misconfigurations:\n  - id: DS002\n    expired_at: soon\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:17: ") && msg.contains("expired_at"), "{msg}");
}

#[test]
fn yaml_unknown_field_names_file_field_and_line() {
    let msg = yaml_error("vulnerabilities:\n  - id: CVE-2021-23337\n    path: [\"web/**\"]\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:5: "), "{msg}");
    assert!(msg.contains("unknown field `path`"), "{msg}");
    let msg = yaml_error("vulnerabilites:\n  - id: CVE-1\n");
    assert!(msg.contains("unknown field `vulnerabilites`"), "{msg}");
}

#[test]
fn yaml_syntax_and_value_errors_have_positions() {
    let msg = yaml_error("vulnerabilities:\n  - id: CVE-1\n  - id: [\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:"), "{msg}");
    let msg = yaml_error("vulnerabilities:\n  - id: CVE-1\n    purls:\n      - lodash\n");
    assert!(msg.starts_with(".rampartignore.yaml:4:9: ") && msg.contains("invalid purl `lodash`"), "{msg}");
    let msg = yaml_error("vulnerabilities:\n  - id: CVE-1\n    expired_at: next week\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:17: ") && msg.contains("expired_at"), "{msg}");
    let msg = yaml_error("vulnerabilities:\n  - id: CVE-1\n    paths: [\"web/[\"]\n");
    assert!(msg.starts_with(".rampartignore.yaml:3:13: ") && msg.contains("web/["), "{msg}");
    let msg = yaml_error("vulnerabilities:\n  - statement: everything is fine\n");
    assert!(msg.contains("entry 1 needs an `id`, `paths` or `purls`"), "{msg}");
}

#[test]
fn load_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = dir.path().join(".rampartignore");
    std::fs::write(&plain, "CVE-2021-23337\n").unwrap();
    let yml = dir.path().join("ignore.yml");
    std::fs::write(&yml, "vulnerabilities:\n  - id: CVE-2021-44906\n").unwrap();

    let report = filtered(&ignoring(IgnoreRules::load(&plain).expect("plain file")));
    assert!(!ids(&report).contains(&"CVE-2021-23337".to_string()));
    let report = filtered(&ignoring(IgnoreRules::load(&yml).expect("yaml file")));
    assert!(!ids(&report).contains(&"CVE-2021-44906".to_string()));

    let missing = dir.path().join("nope.yaml");
    let err = IgnoreRules::load(&missing).expect_err("missing file");
    assert!(matches!(&err, ReportError::ReadIgnoreFile { path, .. } if *path == missing), "{err:?}");
    assert!(err.to_string().contains("nope.yaml"));
}

#[test]
fn gate_fails_only_while_findings_remain() {
    let mut report = common::report();
    assert!(should_fail(&report));
    let filter = Filter { severities: vec![Severity::Critical], ..Filter::default() };
    apply_filter(&mut report, &filter, TODAY);
    assert!(should_fail(&report));
    let filter = Filter { ignore: lines("GHSA-xvch-5gv4-984h\n"), ..Filter::default() };
    apply_filter(&mut report, &filter, TODAY);
    // The critical AWS key is still there.
    assert!(should_fail(&report));
    let filter = Filter { ignore: lines("aws-access-key-id\n"), ..Filter::default() };
    apply_filter(&mut report, &filter, TODAY);
    assert!(!should_fail(&report));
}

#[test]
fn gate_fails_on_misconfigurations_and_secrets_alone() {
    let mut report = common::report();
    for result in &mut report.results {
        result.vulnerabilities.clear();
    }
    assert!(should_fail(&report));
    apply_filter(&mut report, &ignoring(lines("DS001\nDS002\n")), TODAY);
    // Only the secrets are left.
    assert!(should_fail(&report));
    apply_filter(&mut report, &ignoring(lines("aws-access-key-id\nslack-web-hook\n")), TODAY);
    assert!(!should_fail(&report));

    let mut report = common::report();
    for result in &mut report.results {
        result.vulnerabilities.clear();
        result.secrets.clear();
    }
    assert!(should_fail(&report));
    apply_filter(&mut report, &ignoring(lines("AVD-DS-0001\nAVD-DS-0002\n")), TODAY);
    assert!(!should_fail(&report));
}
