//! `--secret-config` files: Trivy's trivy-secret.yaml shape, and clear
//! errors that name the file, the rule and the field.

use std::path::Path;

use rampart_secret::{AllowRule, Scanner, SecretConfig, SecretError};
use rampart_types::Severity;

const GITHUB: &str = "ghp_R8wKq2VnT5mZ3xLp9cHd4fJs7gBy1aE6uWoN";

fn parse(yaml: &str) -> Result<SecretConfig, SecretError> {
    SecretConfig::parse(yaml, Path::new("conf/trivy-secret.yaml"))
}

fn build(yaml: &str) -> Result<Scanner, SecretError> {
    Scanner::with_config(&parse(yaml)?)
}

fn rule_ids(scanner: &Scanner, path: &str, text: &str) -> Vec<String> {
    scanner.scan(path, text.as_bytes()).into_iter().map(|f| f.rule_id).collect()
}

#[test]
fn a_trivy_style_file_parses_field_by_field() {
    let config = parse(
        r#"
rules:
  - id: internal-token
    category: Internal
    title: Internal service token
    severity: HIGH
    path: '\.env$'
    keywords: [ITK_]
    regex: 'itk_(?P<value>[a-z0-9]{32})'
    secret-group-name: value
    entropy: 3.0
    allow-rules:
      - id: zeros
        description: the CI fixture
        regex: '^0+$'
enable-builtin-rules: [github-pat]
disable-rules: [jwt-token]
allow-rules:
  - id: fixtures
    description: test fixtures
    path: '^testdata/'
disable-allow-rules: [dependency-dirs]
"#,
    )
    .unwrap();
    assert_eq!(config.origin, Path::new("conf/trivy-secret.yaml"));
    let rule = &config.rules[0];
    assert_eq!(
        (rule.id.as_str(), rule.category.as_str(), rule.title.as_str()),
        ("internal-token", "Internal", "Internal service token")
    );
    assert_eq!(rule.severity, Severity::High);
    assert_eq!(rule.keywords, ["itk_"], "keywords are lowercased for the prefilter");
    assert_eq!(rule.secret_group.as_deref(), Some("value"));
    assert_eq!(rule.path.as_deref(), Some(r"\.env$"));
    assert_eq!(rule.min_entropy, Some(3.0));
    assert_eq!(rule.allow[0].regex.as_deref(), Some("^0+$"));
    assert_eq!(config.enable_builtin_rules, ["github-pat"]);
    assert_eq!(config.disable_rules, ["jwt-token"]);
    assert_eq!(
        config.allow_rules,
        [AllowRule {
            id: "fixtures".into(),
            description: "test fixtures".into(),
            regex: None,
            path: Some("^testdata/".into())
        }]
    );
    assert_eq!(config.disable_allow_rules, ["dependency-dirs"]);
}

#[test]
fn custom_rules_find_their_group_and_respect_keywords_path_and_allow_rules() {
    let scanner = build(
        r#"
rules:
  - id: internal-token
    category: Internal
    title: Internal service token
    severity: critical
    keywords: [itk_]
    path: '\.env$'
    regex: 'itk_(?P<value>[a-z0-9]{32})'
    secret-group-name: value
    allow-rules:
      - id: ci-fixture
        regex: '^ci'
"#,
    )
    .unwrap();
    let text = "TOKEN=itk_k3j9x2m7q8w4e6r1t5y0u2i8o3p7a9s4\nCI=itk_ci9x2m7q8w4e6r1t5y0u2i8o3p7a9s4d\n";
    let found = scanner.scan_located("prod.env", text.as_bytes());
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(
        (f.finding.rule_id.as_str(), f.finding.category.as_str(), f.finding.severity),
        ("internal-token", "Internal", Severity::Critical)
    );
    assert_eq!((f.finding.start_line, f.start_column), (1, 11), "the named group, not the whole match");
    assert_eq!(f.finding.matched, format!("TOKEN=itk_{}", "*".repeat(32)));
    // Built-in generic rules still see `TOKEN=…`; only the custom rule is checked.
    let custom = |path: &str, text: &str| {
        scanner.scan(path, text.as_bytes()).into_iter().filter(|f| f.rule_id == "internal-token").count()
    };
    assert_eq!(custom("prod.txt", text), 0, "path restricts the rule");
    assert_eq!(custom("prod.env", &text.replace("itk_", "ITK_")), 0, "the regex is case-sensitive");
}

#[test]
fn a_custom_rule_without_keywords_runs_on_every_file_and_defaults_its_metadata() {
    let scanner = build("rules:\n  - id: employee-id\n    regex: 'EMP-[0-9]{6}'\n").unwrap();
    let found = scanner.scan("hr.csv", b"name,id\nann,EMP-204817\n");
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].title.as_str(), found[0].category.as_str(), found[0].severity),
        ("employee-id", "Custom", Severity::Unknown)
    );
    assert_eq!(found[0].matched, "ann,**********", "no group: the whole match is the secret");
}

#[test]
fn keywords_gate_custom_rules() {
    let scanner = build("rules:\n  - id: gated\n    keywords: [acme]\n    regex: 'EMP-[0-9]{6}'\n").unwrap();
    assert!(scanner.scan("hr.csv", b"ann,EMP-204817\n").is_empty());
    assert_eq!(scanner.scan("hr.csv", b"# ACME staff\nann,EMP-204817\n").len(), 1);
}

#[test]
fn a_custom_rule_can_replace_a_builtin_one() {
    let scanner = build("rules:\n  - id: github-pat\n    severity: LOW\n    keywords: [ghp_]\n    regex: 'ghp_[A-Za-z0-9]{36}'\n").unwrap();
    let found = scanner.scan("a.env", format!("T={GITHUB}\n").as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].rule_id.as_str(), found[0].severity), ("github-pat", Severity::Low));
    assert_eq!(scanner.rules().filter(|r| r.id == "github-pat").count(), 1);
}

#[test]
fn rules_can_be_disabled_or_narrowed_to_a_list() {
    let text = format!("T={GITHUB}\nK=AKIA5TQ7NWRJ3VXK2M8P\n");
    let all = Scanner::new().unwrap();
    assert_eq!(rule_ids(&all, "a.env", &text), ["github-pat", "aws-access-key-id"]);
    let disabled = build("disable-rules: [github-pat]\n").unwrap();
    assert_eq!(rule_ids(&disabled, "a.env", &text), ["aws-access-key-id"]);
    let only = build("enable-builtin-rules: [github-pat]\n").unwrap();
    assert_eq!(rule_ids(&only, "a.env", &text), ["github-pat"]);
    assert_eq!(only.rules().count(), 1);
}

#[test]
fn global_allow_rules_by_secret_and_by_path() {
    let text = format!("T={GITHUB}\n");
    let by_value =
        build("allow-rules:\n  - id: known\n    description: rotated\n    regex: 'R8wKq2'\n").unwrap();
    assert!(by_value.scan("a.env", text.as_bytes()).is_empty());
    let by_path = build("allow-rules:\n  - id: fixtures\n    path: '^testdata/'\n").unwrap();
    assert!(by_path.skips_path("testdata/a.env"));
    assert!(by_path.scan("testdata/a.env", text.as_bytes()).is_empty());
    assert_eq!(by_path.scan("src/a.env", text.as_bytes()).len(), 1);
    let both =
        build("allow-rules:\n  - id: fixture-token\n    regex: 'R8wKq2'\n    path: '^testdata/'\n").unwrap();
    assert!(!both.skips_path("testdata/a.env"), "a value rule cannot skip a whole file");
    assert!(both.scan("testdata/a.env", text.as_bytes()).is_empty());
    assert_eq!(both.scan("src/a.env", text.as_bytes()).len(), 1);
}

#[test]
fn builtin_path_allow_rules_can_be_disabled() {
    let text = format!("T={GITHUB}\n");
    let scanner = build("disable-allow-rules: [dependency-dirs]\n").unwrap();
    assert!(!scanner.skips_path("node_modules/pkg/.env"));
    assert_eq!(scanner.scan("node_modules/pkg/.env", text.as_bytes()).len(), 1);
}

#[test]
fn unknown_ids_are_warnings_not_errors() {
    let scanner = build("disable-rules: [adobe-client-secret]\nenable-builtin-rules: [github-pat, no-such-rule]\ndisable-allow-rules: [markdown]\n").unwrap();
    let warnings: Vec<String> = scanner.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    for (warning, id) in warnings.iter().zip(["no-such-rule", "adobe-client-secret", "markdown"]) {
        assert!(warning.starts_with("conf/trivy-secret.yaml: ") && warning.contains(id), "{warning}");
    }
    assert!(Scanner::new().unwrap().warnings().is_empty());
}

#[test]
fn an_empty_file_is_the_default_config() {
    assert_eq!(parse("").unwrap().rules.len(), 0);
    assert_eq!(
        parse("# nothing yet\n").unwrap(),
        SecretConfig { origin: "conf/trivy-secret.yaml".into(), ..SecretConfig::default() }
    );
}

fn error_text(yaml: &str) -> String {
    match build(yaml) {
        Ok(_) => panic!("accepted {yaml:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_regex_names_the_file_and_the_rule() {
    let text = error_text("rules:\n  - id: broken-rule\n    regex: 'key_(?P<secret>[a-z'\n");
    assert!(text.starts_with("conf/trivy-secret.yaml: rule \"broken-rule\": invalid regex"), "{text}");
    let lookaround = error_text("rules:\n  - id: lookahead\n    regex: 'a(?=b)'\n");
    assert!(lookaround.contains("\"lookahead\"") && lookaround.contains("look-around"), "{lookaround}");
    let path = error_text("rules:\n  - id: bad-path\n    regex: 'x'\n    path: '(['\n");
    assert!(path.contains("\"bad-path\": invalid path"), "{path}");
    let allow = error_text(
        "rules:\n  - id: r\n    regex: 'x'\n    allow-rules:\n      - id: a1\n        regex: '+'\n",
    );
    assert!(allow.contains("allow rule \"a1\" regex"), "{allow}");
    let global = error_text("allow-rules:\n  - id: g1\n    path: '[z-a]'\n");
    assert!(global.contains("conf/trivy-secret.yaml") && global.contains("\"g1\" path"), "{global}");
}

#[test]
fn unknown_keys_are_named() {
    let top = parse("disable-rule: [github-pat]\n").unwrap_err().to_string();
    assert!(
        top.starts_with("conf/trivy-secret.yaml: invalid secret config") && top.contains("disable-rule"),
        "{top}"
    );
    assert!(top.contains("line 1 column 1"), "{top}");
    let nested = parse("rules:\n  - id: x\n    regex: y\n    exclude-block:\n      regexes: []\n")
        .unwrap_err()
        .to_string();
    assert!(nested.contains("exclude-block"), "{nested}");
    let allow = parse("allow-rules:\n  - id: a\n    paths: [x]\n").unwrap_err().to_string();
    assert!(allow.contains("paths"), "{allow}");
}

#[test]
fn incomplete_or_inconsistent_rules_are_rejected() {
    let missing = parse("rules:\n  - id: no-regex\n    keywords: [x]\n").unwrap_err().to_string();
    assert!(missing.contains("regex"), "{missing}");
    let severity = parse("rules:\n  - id: s\n    regex: x\n    severity: SEVERE\n").unwrap_err().to_string();
    assert!(severity.contains("SEVERE"), "{severity}");
    let group =
        error_text("rules:\n  - id: grouped\n    regex: 'k=(?P<val>x+)'\n    secret-group-name: secret\n");
    assert!(group.contains("\"grouped\"") && group.contains("no capture group named \"secret\""), "{group}");
    let duplicate = error_text("rules:\n  - id: twice\n    regex: a\n  - id: twice\n    regex: b\n");
    assert!(duplicate.contains("\"twice\""), "{duplicate}");
    let empty_allow = error_text("allow-rules:\n  - id: nothing\n");
    assert!(empty_allow.contains("neither `regex` nor `path`"), "{empty_allow}");
    let empty_keyword = error_text("rules:\n  - id: kw\n    regex: a\n    keywords: ['']\n");
    assert!(empty_keyword.contains("keyword is empty"), "{empty_keyword}");
    let not_a_list = parse("disable-rules: github-pat\n").unwrap_err().to_string();
    assert!(not_a_list.contains("conf/trivy-secret.yaml"), "{not_a_list}");
}

#[test]
fn loading_a_missing_file_names_it() {
    let err = SecretConfig::load(Path::new("/nonexistent/trivy-secret.yaml")).unwrap_err();
    assert!(matches!(err, SecretError::Read { .. }));
    assert!(err.to_string().starts_with("/nonexistent/trivy-secret.yaml: "), "{err}");
}

#[test]
fn loading_reads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.yaml");
    std::fs::write(&path, "disable-rules: [jwt-token]\n").unwrap();
    let config = SecretConfig::load(&path).unwrap();
    assert_eq!(
        (config.origin.as_path(), config.disable_rules.as_slice()),
        (path.as_path(), ["jwt-token".to_string()].as_slice())
    );
}
