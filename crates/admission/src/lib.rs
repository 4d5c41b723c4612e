//! A validating admission webhook: Pod Security Standards, built-in image
//! rules and (through the [`Validator`] trait) Gatekeeper policies, served as
//! AdmissionReview v1 over HTTPS.
//!
//! The [`Engine`] is a list of validators behind namespace exemptions; the
//! same engine answers webhook requests ([`Engine::review`]) and audits
//! manifests at rest ([`Engine::audit`]).

mod engine;
mod gatekeeper;
mod images;
mod metrics;
mod podsecurity;
mod server;
mod signature;
mod tls;

use std::path::PathBuf;

pub use engine::{Action, Decision, Engine, Finding, Review, Validator, audit_request};
pub use gatekeeper::GatekeeperPolicies;
pub use images::{ImageRef, ImageRules};
pub use metrics::Metrics;
pub use podsecurity::{PodSecurity, audit_annotation};
pub use server::{MAX_BODY_BYTES, ServerConfig, serve};
pub use signature::{SignaturePolicy, SignatureRule, docker_config_of, glob_match, merge_docker_configs};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("TLS {}: {message}", path.display())]
    Tls { path: PathBuf, message: String },
    /// A validator could not evaluate a request.
    #[error("{validator}: {message}")]
    Policy { validator: String, message: String },
    #[error("{0}")]
    Config(String),
}

/// What the webhook answers when it cannot evaluate a request (an error or a
/// missed deadline), as the ValidatingWebhookConfiguration's `failurePolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Deny (fail closed).
    #[default]
    Fail,
    /// Allow (fail open), with a warning.
    Ignore,
}

impl FailurePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}
