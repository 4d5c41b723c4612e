//! Misconfiguration checks for infrastructure-as-code: Dockerfiles,
//! Kubernetes manifests and Terraform, each check with an id, severity, explanation, fix
//! and the line of the offending instruction or field.

mod dockerfile;
mod kubernetes;
mod rego_input;
mod suppress;
mod terraform;

pub use rego_input::{RegoInput, rego_inputs};

use std::path::Path;

use rampart_types::{Diagnostic, Misconfiguration, Severity};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read as its format at all; the scan goes on without it.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed { path: String, line: Option<u32>, message: String },
}

/// A kind of configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigKind {
    Dockerfile,
    /// YAML or JSON that may hold Kubernetes objects; files without
    /// `apiVersion`/`kind` documents yield nothing.
    Kubernetes,
    /// Terraform (`*.tf`, and `*.tf.json` in its JSON syntax), read
    /// together with the other files of its module directory.
    Terraform,
}

impl ConfigKind {
    /// The `Type` findings of this kind carry in reports, as Trivy names it.
    pub fn check_kind(self) -> &'static str {
        match self {
            ConfigKind::Dockerfile => "Dockerfile Security Check",
            ConfigKind::Kubernetes => "Kubernetes Security Check",
            ConfigKind::Terraform => "Terraform Security Check",
        }
    }

    /// The kind of a file, judged by its name only: `Dockerfile`,
    /// `Dockerfile.*`, `*.dockerfile`, `Containerfile`; `*.yaml`, `*.yml`, `*.json`; `*.tf`, `*.tf.json`.
    pub fn detect(path: &Path) -> Option<ConfigKind> {
        let name = path.file_name()?.to_string_lossy();
        if dockerfile::is_dockerfile_name(&name) {
            return Some(ConfigKind::Dockerfile);
        }
        if name.ends_with(".tf.json") {
            return Some(ConfigKind::Terraform);
        }
        let ext = Path::new(name.as_ref()).extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" | "json" => Some(ConfigKind::Kubernetes),
            "tf" => Some(ConfigKind::Terraform),
            _ => None,
        }
    }

    /// The result type Trivy reports use (`dockerfile`, `kubernetes`, `terraform`).
    pub fn trivy_type(self) -> &'static str {
        match self {
            ConfigKind::Dockerfile => "dockerfile",
            ConfigKind::Kubernetes => "kubernetes",
            ConfigKind::Terraform => "terraform",
        }
    }
}

/// A built-in check, for listings and SARIF rule metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    pub id: &'static str,
    pub kind: ConfigKind,
    pub title: &'static str,
    pub severity: Severity,
    pub description: &'static str,
    pub resolution: &'static str,
}

/// What the checks found in one file.
#[derive(Debug, Default)]
pub struct Outcome {
    /// False when the file is not of the kind at all (a YAML file with no
    /// Kubernetes objects): it is then left out of the report.
    pub applicable: bool,
    pub failures: Vec<Misconfiguration>,
    /// Checks that ran and passed.
    pub successes: u32,
    pub warnings: Vec<Diagnostic>,
}

/// Runs every check of `kind` on one file. `display` is the path shown to
/// the user. Findings an inline `rampart:ignore:ID` comment covers are
/// left out.
pub fn scan(kind: ConfigKind, path: &Path, display: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    let mut outcome = match kind {
        ConfigKind::Dockerfile => dockerfile::scan(path, display, content),
        ConfigKind::Kubernetes => kubernetes::scan(display, content),
        ConfigKind::Terraform => terraform::scan(path, display, content),
    }?;
    if let Ok(text) = std::str::from_utf8(content) {
        suppress::apply(kind, text, &mut outcome.failures);
    }
    Ok(outcome)
}

/// Every built-in check.
pub fn checks() -> Vec<CheckInfo> {
    let mut all = dockerfile::checks();
    all.extend(kubernetes::checks());
    all.extend(terraform::checks());
    all
}
