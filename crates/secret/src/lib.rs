//! Secret scanning: built-in rules for credentials, a keyword prefilter so
//! most files never reach a regex, entropy checks and allowlists.
//!
//! ```no_run
//! let scanner = rampart_secret::Scanner::new()?;
//! for finding in scanner.scan("app/.env", b"AWS_ACCESS_KEY_ID=AKIA...") {
//!     println!("{}:{} {}", finding.rule_id, finding.start_line, finding.matched);
//! }
//! # Ok::<(), rampart_secret::SecretError>(())
//! ```

use std::io;
use std::path::PathBuf;

mod builtin;
mod config;
mod filter;
mod rule;
mod scanner;

pub use config::SecretConfig;
pub use rule::{AllowRule, Rule};
pub use scanner::{
    DEFAULT_MAX_FILE_SIZE, Located, STREAM_WINDOW, Scanner, builtin_allow_rules, builtin_rules,
};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Malformed YAML, an unknown key or a value of the wrong type.
    #[error("{path}: invalid secret config: {message}")]
    Parse { path: PathBuf, message: String },
    /// `origin` is the config file, or "built-in rules".
    #[error("{origin}: rule {rule:?}: invalid {field}: {source}")]
    BadRegex {
        origin: String,
        rule: String,
        field: String,
        #[source]
        source: regex::Error,
    },
    #[error("{origin}: rule {rule:?}: {reason}")]
    InvalidRule { origin: String, rule: String, reason: String },
}
