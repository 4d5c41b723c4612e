//! Rego policies: OPA Gatekeeper ConstraintTemplates and Constraints evaluated
//! against admission requests, and the Gatekeeper `Suite` test runner.

use std::path::{Path, PathBuf};

pub mod suite;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{source_name}: {message}")]
    Yaml { source_name: String, message: String },
    /// A document is not a valid ConstraintTemplate / Constraint / Suite.
    #[error("{source_name}: {message}")]
    Invalid { source_name: String, message: String },
    /// Rego that does not compile, with the template it came from.
    #[error("{source_name}: template {template}: {message}")]
    Rego { source_name: String, template: String, message: String },
    /// Evaluation failed at review time.
    #[error("constraint {template}/{constraint}: {message}")]
    Eval { template: String, constraint: String, message: String },
}

/// Something that loaded with a caveat (a CEL-only template, an unknown kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    pub source: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnforcementAction {
    Deny,
    Warn,
    Dryrun,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The template's constraint kind (`K8sRequiredLabels`).
    pub template: String,
    /// The constraint's `metadata.name`.
    pub constraint: String,
    pub message: String,
    pub action: EnforcementAction,
    pub details: Option<serde_json::Value>,
}

/// Loaded ConstraintTemplates and Constraints. `Send + Sync`: `review` may be
/// called from many threads at once.
#[derive(Default)]
pub struct Gatekeeper {}

impl Gatekeeper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Load every ConstraintTemplate and Constraint (YAML, multi-document)
    /// found under a file or directory.
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<LoadWarning>, Error> {
        let _ = path;
        Ok(Vec::new())
    }

    pub fn add_template(&mut self, doc: &serde_json::Value, source: &str) -> Result<Vec<LoadWarning>, Error> {
        let _ = (doc, source);
        Ok(Vec::new())
    }

    pub fn add_constraint(&mut self, doc: &serde_json::Value, source: &str) -> Result<(), Error> {
        let _ = (doc, source);
        Ok(())
    }

    /// Objects visible to referential templates as `data.inventory`.
    pub fn set_inventory(&mut self, objects: Vec<serde_json::Value>) {
        let _ = objects;
    }

    /// Review an AdmissionRequest (AdmissionReview v1 `.request`); `namespace`
    /// is the Namespace object of the request's namespace when known.
    pub fn review(
        &self,
        request: &serde_json::Value,
        namespace: Option<&serde_json::Value>,
    ) -> Result<Vec<Violation>, Error> {
        let _ = (request, namespace);
        Ok(Vec::new())
    }

    /// Audit an object that is not part of a request (reviewed as a CREATE).
    pub fn audit_object(
        &self,
        object: &serde_json::Value,
        namespace: Option<&serde_json::Value>,
    ) -> Result<Vec<Violation>, Error> {
        let _ = (object, namespace);
        Ok(Vec::new())
    }
}
