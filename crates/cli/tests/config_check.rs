//! `--config-check`: custom Rego checks beside the built-in misconfiguration
//! checks, for Dockerfiles, Kubernetes manifests and Terraform.

mod common;

use common::*;
use serde_json::Value;

const DOCKER_CHECK: &str = r#"# METADATA
# title: "No latest tag"
# description: "Base images must be pinned."
# custom:
#   id: USR-DF-001
#   severity: HIGH
#   recommended_action: "Pin the base image to a version."
#   input:
#     selector:
#       - type: dockerfile
package user.dockerfile.latest

deny[res] {
  cmd := input.Stages[_].Commands[_]
  cmd.Cmd == "from"
  endswith(cmd.Value[0], ":latest")
  res := result.new(sprintf("base image %s uses latest", [cmd.Value[0]]), cmd)
}

# Several bodies for one rule, as OPA allows in Rego v0.
deny[msg] {
  cmd := input.Stages[_].Commands[_]
  cmd.Cmd == "user"
  cmd.Value[0] == "root"
  msg := "runs as root"
} {
  cmd := input.Stages[_].Commands[_]
  cmd.Cmd == "run"
  contains(cmd.Value[0], "sudo ")
  msg := "uses sudo"
}
"#;

const K8S_CHECK: &str = r#"package user.k8s.owner

import rego.v1

__rego_metadata__ := {"id": "USR-K8S-001", "title": "Owner label", "severity": "MEDIUM",
                      "recommended_actions": "Add an owner label"}
__rego_input__ := {"selector": [{"type": "kubernetes"}]}

warn contains msg if {
  not input.metadata.labels.owner
  msg := sprintf("%s/%s has no owner label", [input.kind, input.metadata.name])
}
"#;

const TF_CHECK: &str = r#"# METADATA
# title: Public bucket ACL
# custom:
#   id: USR-TF-001
#   severity: CRITICAL
#   input:
#     selector:
#     - type: terraform
package user.tf.acl

deny[{"msg": msg, "startline": lines[0], "endline": lines[1]}] {
  some name
  b := input.resource.aws_s3_bucket[name]
  b.acl == "public-read"
  b.versioning[0].enabled == false
  lines := input.__lines__[sprintf("aws_s3_bucket.%s", [name])]
  msg := sprintf("bucket %s is public", [name])
}
"#;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  labels:\n    owner: me\nspec:\n  ports:\n  - port: 80\n";

const TERRAFORM: &str = "variable \"acl\" {\n  default = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n  acl    = var.acl\n  versioning {\n    enabled = false\n  }\n}\n";

/// (target, id, severity, message, start line, end line) of the custom findings.
fn custom(report: &Value) -> Vec<(String, String, String, String, u64, u64)> {
    let mut out: Vec<_> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            let target = r["Target"].as_str().unwrap().to_string();
            r["Misconfigurations"].as_array().cloned().unwrap_or_default().into_iter().filter_map(move |m| {
                m["ID"].as_str().unwrap().starts_with("USR-").then(|| {
                    (
                        target.clone(),
                        m["ID"].as_str().unwrap().to_string(),
                        m["Severity"].as_str().unwrap().to_string(),
                        m["Message"].as_str().unwrap().to_string(),
                        m["CauseMetadata"]["StartLine"].as_u64().unwrap(),
                        m["CauseMetadata"]["EndLine"].as_u64().unwrap(),
                    )
                })
            })
        })
        .collect();
    out.sort();
    out
}

fn project_with_checks() -> tempfile::TempDir {
    project(&[
        ("checks/docker.rego", DOCKER_CHECK),
        ("checks/k8s/owner.rego", K8S_CHECK),
        ("checks/tf.rego", TF_CHECK),
        ("src/Dockerfile", "FROM alpine:latest\nUSER root\nRUN sudo apk add curl\n"),
        ("src/pod.yaml", POD),
        ("src/main.tf", TERRAFORM),
    ])
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn custom_checks_join_the_built_in_findings() {
    let dir = project_with_checks();
    let out = rampart(cache_dir())
        .current_dir(dir.path())
        .args(["config", "--config-check", "checks", "-f", "json", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        custom(&report),
        vec![
            (s("Dockerfile"), s("USR-DF-001"), s("HIGH"), s("base image alpine:latest uses latest"), 1, 1),
            // Without lines from the check, a finding covers the whole document.
            (s("Dockerfile"), s("USR-DF-001"), s("HIGH"), s("runs as root"), 1, 3),
            (s("Dockerfile"), s("USR-DF-001"), s("HIGH"), s("uses sudo"), 1, 3),
            (s("main.tf"), s("USR-TF-001"), s("CRITICAL"), s("bucket logs is public"), 5, 11),
            (s("pod.yaml"), s("USR-K8S-001"), s("MEDIUM"), s("Pod/web has no owner label"), 1, 8),
        ]
    );
    // The built-in checks still ran on the same files.
    let ids: Vec<&str> = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Misconfigurations"].as_array().unwrap().iter().map(|m| m["ID"].as_str().unwrap()))
        .collect();
    assert!(ids.iter().any(|id| !id.starts_with("USR-")), "{ids:?}");
    let pod = report["Results"].as_array().unwrap().iter().find(|r| r["Target"] == "pod.yaml").unwrap();
    let owner =
        pod["Misconfigurations"].as_array().unwrap().iter().find(|m| m["ID"] == "USR-K8S-001").unwrap();
    assert_eq!(owner["CauseMetadata"]["Resource"], "Pod/web");
    assert_eq!(owner["Resolution"], "Add an owner label");
}

#[test]
fn custom_checks_gate_the_exit_code_and_filter_by_severity() {
    let dir = project_with_checks();
    let out = rampart(cache_dir())
        .current_dir(dir.path())
        .args(["config", "--config-check", "checks/tf.rego", "--severity", "CRITICAL", "--exit-code", "3"])
        .args(["-f", "json", "src/main.tf"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let found = custom(&json(&out));
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn fs_runs_custom_checks_with_the_misconfig_scanner_only() {
    let dir = project_with_checks();
    let out = scan("fs", dir.path())
        .args(["--scanners", "misconfig", "--config-check", "checks", "-f", "json", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(custom(&json(&out)).len(), 5);

    let out = scan("fs", dir.path())
        .args(["--scanners", "secret", "--config-check", "checks", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("--config-check needs the misconfig scanner"), "{}", stderr(&out));
}

#[test]
fn a_broken_check_names_its_file_and_line() {
    let dir = project(&[
        ("checks/ok.rego", K8S_CHECK),
        ("checks/broken.rego", "package user.broken\n\ndeny[msg] {\n  msg := sprintf(\"x\", [1]\n}\n"),
        ("src/pod.yaml", POD),
    ]);
    let out = rampart(cache_dir())
        .current_dir(dir.path())
        .args(["config", "--config-check", "checks", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 65);
    let err = stderr(&out);
    assert!(err.contains("checks/broken.rego:"), "{err}");
    let bad_meta = project(&[
        ("checks/m.rego", "# METADATA\n# title: [unclosed\npackage user.m\n"),
        ("src/pod.yaml", POD),
    ]);
    let out = rampart(cache_dir())
        .current_dir(bad_meta.path())
        .args(["config", "--config-check", "checks", "src"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 65);
    assert!(stderr(&out).contains("checks/m.rego:1 (METADATA)"), "{}", stderr(&out));
}
