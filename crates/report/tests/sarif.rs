//! The SARIF output checked against what GitHub code scanning requires.

mod common;

use rampart_report::{Format, WriteOptions, write};
use rampart_types::{Ecosystem, Severity};
use serde_json::Value;

fn sarif(report: &rampart_types::Report, options: &WriteOptions) -> Value {
    let mut out = Vec::new();
    write(report, Format::Sarif, options, &mut out).expect("writing to memory");
    serde_json::from_slice(&out).expect("SARIF is JSON")
}

fn non_empty_str(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Everything in `doc` that SARIF 2.1.0 or GitHub's upload would reject.
fn problems(doc: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if !non_empty_str(&doc["$schema"]) {
        p.push("missing $schema".to_string());
    }
    if doc["version"] != "2.1.0" {
        p.push("version is not 2.1.0".to_string());
    }
    let Some(runs) = doc["runs"].as_array().filter(|r| !r.is_empty()) else {
        p.push("no runs".to_string());
        return p;
    };
    for run in runs {
        let driver = &run["tool"]["driver"];
        if !non_empty_str(&driver["name"]) {
            p.push("driver without name".to_string());
        }
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        if ids.len() != rules.len() || ids.iter().any(|id| id.is_empty()) {
            p.push("rule without id".to_string());
        }
        for rule in &rules {
            let id = rule["id"].as_str().unwrap_or("?");
            for field in ["shortDescription", "fullDescription"] {
                if !non_empty_str(&rule[field]["text"]) {
                    p.push(format!("rule {id}: empty {field}"));
                }
            }
            for field in ["text", "markdown"] {
                if !non_empty_str(&rule["help"][field]) {
                    p.push(format!("rule {id}: empty help.{field}"));
                }
            }
            let score = rule["properties"]["security-severity"].as_str().and_then(|s| s.parse::<f64>().ok());
            if !score.is_some_and(|s| (0.0..=10.0).contains(&s)) {
                p.push(format!("rule {id}: security-severity is not a score string"));
            }
            let tags = rule["properties"]["tags"].as_array().cloned().unwrap_or_default();
            if !tags.iter().any(|t| t == "security") {
                p.push(format!("rule {id}: no security tag"));
            }
        }
        let Some(results) = run["results"].as_array() else {
            p.push("run without results array".to_string());
            continue;
        };
        for (n, result) in results.iter().enumerate() {
            let rule_id = result["ruleId"].as_str().unwrap_or("");
            match ids.iter().position(|id| *id == rule_id) {
                None => p.push(format!("result {n}: ruleId {rule_id:?} is not a rule")),
                Some(i) if result["ruleIndex"].as_u64() != Some(i as u64) => {
                    p.push(format!("result {n}: ruleIndex does not point at {rule_id}"))
                }
                Some(_) => {}
            }
            if !["error", "warning", "note", "none"].contains(&result["level"].as_str().unwrap_or("")) {
                p.push(format!("result {n}: bad level"));
            }
            if !non_empty_str(&result["message"]["text"]) {
                p.push(format!("result {n}: empty message"));
            }
            let locations = result["locations"].as_array().cloned().unwrap_or_default();
            if locations.is_empty() {
                p.push(format!("result {n}: no locations"));
            }
            for loc in &locations {
                let phys = &loc["physicalLocation"];
                let uri = phys["artifactLocation"]["uri"].as_str().unwrap_or("");
                let first_segment = uri.split('/').next().unwrap_or("");
                if uri.is_empty() || uri.starts_with('/') || uri.contains('\\') || first_segment.contains(':')
                {
                    p.push(format!("result {n}: uri {uri:?} is not a relative /-separated path"));
                }
                let start = phys["region"]["startLine"].as_u64().unwrap_or(0);
                let end = phys["region"]["endLine"].as_u64().unwrap_or(start);
                if start < 1 || end < start {
                    p.push(format!("result {n}: region {start}-{end} is not a line range from 1"));
                }
            }
        }
        if let Some(bases) = run["originalUriBaseIds"].as_object() {
            for (name, base) in bases {
                let uri = base["uri"].as_str().unwrap_or("");
                if !uri.starts_with("file:///") || !uri.ends_with('/') {
                    p.push(format!("base {name}: {uri:?} is not a file URI ending in /"));
                }
            }
        }
    }
    p
}

#[test]
fn output_satisfies_github_requirements() {
    let options = WriteOptions { artifact_root: Some("/srv/app".into()), ..WriteOptions::default() };
    let doc = sarif(&common::report(), &options);
    assert_eq!(problems(&doc), Vec::<String>::new());
    // Six vulnerabilities, two failed checks, two secrets.
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(10));
    assert_eq!(doc["runs"][0]["originalUriBaseIds"]["ROOTPATH"]["uri"], "file:///srv/app/");
    assert_eq!(doc["runs"][0]["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_checker_catches_what_github_rejects() {
    let mut doc = sarif(&common::report(), &WriteOptions::default());
    let run = &mut doc["runs"][0];
    run["tool"]["driver"]["rules"][0]["help"]["text"] = Value::from("");
    run["results"][0]["ruleId"] = Value::from("CVE-0000-0000");
    run["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    run["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("/abs/path");
    let found = problems(&doc);
    assert_eq!(found.len(), 4, "{found:#?}");
}

#[test]
fn rules_are_sorted_and_unique_per_id() {
    let mut report = common::report();
    // The same flaw in a second package: still one rule, naming both packages.
    let mut other = report.results[0].vulnerabilities[2].clone();
    other.pkg_name = "lodash-es".to_string();
    other.severity = Severity::Critical;
    report.results[1].vulnerabilities.push(other);
    let doc = sarif(&report, &WriteOptions::default());
    assert_eq!(problems(&doc), Vec::<String>::new());
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().clone();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
    let rule = rules.iter().find(|r| r["id"] == "CVE-2021-23337").unwrap();
    let help = rule["help"]["text"].as_str().unwrap();
    assert!(help.contains("lodash 4.17.20") && help.contains("lodash-es 4.17.20"), "{help}");
    // The worst finding decides the rule's level and tags.
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == "CRITICAL"));
}

#[test]
fn security_severity_uses_cvss_then_the_severity_band() {
    let doc = sarif(&common::report(), &WriteOptions::default());
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().clone();
    let score =
        |id: &str| rules.iter().find(|r| r["id"] == id).unwrap()["properties"]["security-severity"].clone();
    assert_eq!(score("CVE-2021-44906"), "9.8");
    assert_eq!(score("CVE-2020-28500"), "5.5");
    assert_eq!(score("CVE-2022-42969"), "2.0");
    assert_eq!(score("PYSEC-2021-142"), "0.0");
}

#[test]
fn levels_follow_severity() {
    let doc = sarif(&common::report(), &WriteOptions::default());
    for result in doc["runs"][0]["results"].as_array().unwrap() {
        let text = result["message"]["text"].as_str().unwrap();
        let expected = if text.contains("Severity: CRITICAL") || text.contains("Severity: HIGH") {
            "error"
        } else if text.contains("Severity: MEDIUM") {
            "warning"
        } else {
            "note"
        };
        assert_eq!(result["level"], expected, "{text}");
    }
}

/// The rule and the results for `id`.
fn rule_and_results(doc: &Value, id: &str) -> (Value, Vec<Value>) {
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no rule {id}")).clone();
    let results = run["results"].as_array().unwrap().iter().filter(|r| r["ruleId"] == id).cloned().collect();
    (rule, results)
}

/// `(uri, startLine, endLine)` of each location of `result`.
fn places(result: &Value) -> Vec<(String, u64, u64)> {
    result["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let phys = &l["physicalLocation"];
            let uri = phys["artifactLocation"]["uri"].as_str().unwrap().to_string();
            (uri, phys["region"]["startLine"].as_u64().unwrap(), phys["region"]["endLine"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn failed_checks_are_results_of_their_check_rule() {
    let doc = sarif(&common::report(), &WriteOptions::default());
    let (rule, results) = rule_and_results(&doc, "DS002");
    assert_eq!(rule["name"], "ImageUserShouldNotBeRoot");
    assert_eq!(rule["shortDescription"]["text"], "Image user should not be 'root'");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert_eq!(rule["helpUri"], "https://avd.aquasec.com/misconfig/ds002");
    let help = rule["help"]["text"].as_str().unwrap();
    assert!(help.contains("the description of DS002"), "{help}");
    assert!(help.contains("Resolution: Create an unprivileged user"), "{help}");
    assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == "misconfiguration"));

    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["level"], "error");
    assert_eq!(places(&results[0]), [("build/Dockerfile".to_string(), 1, 14)]);
    let message = results[0]["message"]["text"].as_str().unwrap();
    assert!(message.contains("no USER instruction"), "{message}");
    let (rule, _) = rule_and_results(&doc, "DS001");
    assert_eq!(rule["defaultConfiguration"]["level"], "warning");
    assert_eq!(rule["properties"]["security-severity"], "5.5");
}

#[test]
fn secrets_are_results_of_their_rule_and_never_quote_the_match() {
    let report = common::report();
    let mut out = Vec::new();
    write(&report, Format::Sarif, &WriteOptions::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();

    let (rule, results) = rule_and_results(&doc, "aws-access-key-id");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == "secret"));
    for field in [&rule["help"]["text"], &rule["help"]["markdown"], &rule["fullDescription"]["text"]] {
        let text = field.as_str().unwrap();
        assert!(text.contains("AWS Access Key ID was found; rotate it and remove it from history"), "{text}");
    }
    assert_eq!(results.len(), 1);
    assert_eq!(places(&results[0]), [("web/.env".to_string(), 3, 3)]);
    let message = results[0]["message"]["text"].as_str().unwrap();
    assert!(message.contains("Added in layer sha256:beee9f30bc1f by COPY . /app"), "{message}");

    let (_, results) = rule_and_results(&doc, "slack-web-hook");
    assert_eq!(results[0]["level"], "warning");
    let message = results[0]["message"]["text"].as_str().unwrap();
    assert!(message.contains("Commit 9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6 by Dana"), "{message}");

    // Even masked, the matched lines stay out of a log GitHub stores.
    for matched in [common::AWS_MATCH, common::SLACK_MATCH] {
        let (before_mask, _) = matched.split_once('*').unwrap();
        assert!(!text.contains(before_mask), "{before_mask} in:\n{text}");
    }
    assert!(!text.contains("**********"), "{text}");
}

#[test]
fn without_a_root_there_is_no_base_uri_and_empty_reports_are_valid() {
    let mut report = common::report();
    report.results.clear();
    let doc = sarif(&report, &WriteOptions::default());
    assert_eq!(problems(&doc), Vec::<String>::new());
    assert!(doc["runs"][0].get("originalUriBaseIds").is_none());
    assert_eq!(doc["runs"][0]["results"], Value::Array(Vec::new()));
}

#[test]
fn odd_targets_still_get_relative_uris() {
    let mut report = common::report();
    report.results[0].target = "C:\\work\\app\\package-lock.json".to_string();
    report.results[1].target = String::new();
    report.results[1].vulnerabilities.push(common::vuln(common::Vuln {
        id: "CVE-2024-0001",
        aliases: &[],
        ecosystem: Ecosystem::Npm,
        pkg: "x",
        installed: "1",
        fixed: "",
        severity: Severity::High,
        title: "t",
        description: "",
        url: "",
        cvss: &[],
        lines: &[(9, 3)],
    }));
    // Checks and secrets without a known line, in files without a name.
    report.results[3].target = "./".to_string();
    report.results[3].misconfigurations[0].cause_metadata.start_line = 0;
    report.results[3].misconfigurations[1].cause_metadata.end_line = 0;
    report.results[4].target = String::new();
    report.results[4].secrets[0].start_line = 0;
    report.results[4].secrets[0].end_line = 0;
    let doc = sarif(&report, &WriteOptions::default());
    assert_eq!(problems(&doc), Vec::<String>::new());
}
