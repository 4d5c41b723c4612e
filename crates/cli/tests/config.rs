//! `rampart config` end to end: Dockerfiles and Kubernetes manifests from
//! files, directories and stdin, and the same checks inside `fs`.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;
use serde_json::Value;

const DOCKERFILE: &str =
    "FROM python:3.12\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\nCMD python /app/main.py\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
";

fn failures(report: &Value) -> Vec<(String, String, u64)> {
    report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            let target = r["Target"].as_str().unwrap().to_string();
            r["Misconfigurations"].as_array().cloned().unwrap_or_default().into_iter().map(move |m| {
                (
                    target.clone(),
                    m["ID"].as_str().unwrap().to_string(),
                    m["CauseMetadata"]["StartLine"].as_u64().unwrap(),
                )
            })
        })
        .collect()
}

#[test]
fn dockerfile_and_manifest_findings_point_at_their_lines() {
    let dir = project(&[("Dockerfile", DOCKERFILE), ("k8s/web.yaml", DEPLOYMENT), ("notes.yaml", "a: 1\n")]);
    let out = scan("config", dir.path()).args(["-f", "json", "."]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let found = failures(&report);
    let has =
        |target: &str, id: &str, line: u64| found.iter().any(|f| f.0 == target && f.1 == id && f.2 == line);
    assert!(has("Dockerfile", "DS002", 1), "runs as root: {found:?}");
    assert!(has("Dockerfile", "DS029", 2), "apt-get without --no-install-recommends: {found:?}");
    assert!(has("k8s/web.yaml", "KSV017", 13), "privileged container at its field: {found:?}");
    let results = report["Results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["Target"] != "notes.yaml"), "plain YAML is not a manifest");
    let k8s = results.iter().find(|r| r["Target"] == "k8s/web.yaml").unwrap();
    assert_eq!(k8s["Class"], "config");
    assert_eq!(k8s["Type"], "kubernetes");
    assert!(k8s["MisconfSummary"]["Successes"].as_u64().unwrap() > 0);

    let out = scan("config", dir.path())
        .args(["--severity", "HIGH,CRITICAL", "--exit-code", "192", "Dockerfile"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 192, "{}", stderr(&out));
    assert!(stdout(&out).contains("DS002"), "{}", stdout(&out));
}

#[test]
fn manifests_from_stdin() {
    let mut child = scan("config", std::env::temp_dir().as_path())
        .args(["-f", "json", "--exit-code", "3", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(DEPLOYMENT.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(failures(&json(&out)).iter().any(|f| f.1 == "KSV017"));
}

#[test]
fn fs_runs_the_checks_with_the_misconfig_scanner() {
    let dir = project(&[("Dockerfile", DOCKERFILE), ("Cargo.lock", CARGO_LOCK_VULNERABLE)]);
    let out =
        scan("fs", dir.path()).args(["-f", "json", "--scanners", "vuln,misconfig", "."]).output().unwrap();
    let report = json(&out);
    assert!(failures(&report).iter().any(|f| f.1 == "DS002"));
    assert!(report["Results"].as_array().unwrap().iter().any(|r| r["Class"] == "lang-pkgs"));
    let out = scan("fs", dir.path()).args(["-f", "json", "."]).output().unwrap();
    assert!(failures(&json(&out)).is_empty(), "misconfig is not a default scanner");
}

#[test]
fn terraform_exposing_a_database_is_caught() {
    let main_tf = r#"variable "public" {
  default = true
}

resource "aws_db_instance" "main" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  publicly_accessible = var.public
  storage_encrypted   = true
}
"#;
    let dir = project(&[("infra/main.tf", main_tf)]);
    let out = scan("config", dir.path())
        .args(["-f", "json", "--severity", "CRITICAL", "--exit-code", "192", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 192, "{}", stderr(&out));
    let report = json(&out);
    assert!(
        failures(&report).contains(&("infra/main.tf".to_string(), "AVD-AWS-0082".to_string(), 8)),
        "{:?}",
        failures(&report)
    );
    assert_eq!(report["Results"][0]["Type"], "terraform");
}
