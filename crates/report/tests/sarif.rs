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
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(6));
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
    let doc = sarif(&report, &WriteOptions::default());
    assert_eq!(problems(&doc), Vec::<String>::new());
}
