//! `rampart rules validate`: Falco rule files checked end to end.

mod common;

use std::path::PathBuf;

use common::*;

fn falco_data() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/falco");
    assert!(p.is_dir(), "the test data bundle is required at {} (../shared/data)", p.display());
    p
}

fn validate(args: &[&str], files: &[PathBuf]) -> std::process::Output {
    rampart(std::env::temp_dir().as_path())
        .args(["rules", "validate"])
        .args(args)
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn falco_default_rules_are_valid() {
    let rules = falco_data().join("rules/falco_rules.yaml");
    let out = validate(&[], std::slice::from_ref(&rules));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).trim_end().ends_with("valid (25 rules)"), "{}", stdout(&out));
    let out = validate(&["--with-builtins"], &[rules]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("valid (31 rules)"), "{}", stdout(&out));
}

#[test]
fn problems_are_reported_with_file_line_and_item() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "- list: shells\n  items: [bash]\n\
         - rule: Shell\n  desc: d\n  condition: >\n    evt.type = execve\n    and proc.nam in (shells)\n  output: o\n  priority: INFO\n\
         - rule: Other\n  desc: d\n  condition: evt.type = open and not_defined\n  output: o\n  priority: INFO\n",
    )
    .unwrap();
    let out = validate(&[], std::slice::from_ref(&bad));
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let shown = bad.display().to_string();
    assert!(
        text.contains(&format!(
            "{shown}:7:9: error: rule 'Shell': unknown field: 'proc.nam' is not a supported field"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{shown}:12:34: error: rule 'Other': undefined macro 'not_defined'")),
        "{text}"
    );
    assert!(text.trim_end().ends_with("invalid (2 errors)"), "{text}");

    let out = validate(&["--format", "json"], &[bad]);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    assert_eq!(doc["valid"], false);
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["line"], 7);
    assert_eq!(errors[0]["item_type"], "rule");
    assert_eq!(errors[0]["item_name"], "Shell");
}

#[test]
fn falco_invalid_fixtures_fail_and_valid_ones_pass() {
    let rules = falco_data().join("regression/rules");
    for (file, want) in [
        ("invalid_not_yaml.yaml", 1),
        ("invalid_yaml_parse_error.yaml", 1),
        ("invalid_macro_loop.yaml", 1),
        ("invalid_rule_output.yaml", 1),
        ("invalid_list_without_items.yaml", 1),
        ("single_rule.yaml", 0),
        ("rule_names_with_spaces.yaml", 0),
    ] {
        let out = validate(&[], &[rules.join(file)]);
        assert_eq!(code(&out), want, "{file}: {}", stdout(&out));
        if want == 1 {
            assert!(stdout(&out).contains(": error: "), "{file}: {}", stdout(&out));
        }
    }
    // Files load in order: an append needs the file that defines the rule first.
    let out = validate(&[], &[rules.join("single_rule.yaml"), rules.join("append_single_rule.yaml")]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = validate(&[], &[rules.join("append_single_rule.yaml")]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
}

#[test]
fn directories_load_in_name_order_and_missing_files_fail() {
    let out = validate(&[], &[falco_data().join("regression/rules/rules_dir")]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = validate(&[], &[PathBuf::from("/nonexistent/rules.yaml")]);
    assert_eq!(code(&out), 65);
    assert_eq!(stderr(&out).trim(), "rampart: error: /nonexistent/rules.yaml: no such file or directory");
}
