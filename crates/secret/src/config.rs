//! `--secret-config`: a YAML file in the shape of Trivy's `trivy-secret.yaml`,
//! so existing files keep working.
//!
//! ```yaml
//! rules:                     # custom rules; one with a built-in id replaces it
//!   - id: internal-token
//!     category: Internal
//!     title: Internal service token
//!     severity: HIGH
//!     keywords: [itk_]
//!     regex: 'itk_(?P<secret>[a-z0-9]{32})'
//!     secret-group-name: secret   # optional, `secret` by default
//!     path: '\.env$'              # optional
//!     entropy: 3.0                # optional
//!     allow-rules: [{id: fixture, regex: '^0+$'}]
//! enable-builtin-rules: [aws-access-key-id]   # only these built-ins
//! disable-rules: [jwt-token]
//! allow-rules:
//!   - {id: fixtures, description: test fixtures, path: '^testdata/'}
//! disable-allow-rules: [dependency-dirs]
//! ```

use std::path::{Path, PathBuf};

use rampart_types::Severity;
use serde::{Deserialize, Deserializer};

use crate::SecretError;
use crate::rule::{AllowRule, Rule};

/// A parsed secret configuration. Rules are compiled (and their regexes
/// checked) when a [`crate::Scanner`] is built from it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretConfig {
    /// The file it came from, named in errors and warnings.
    pub origin: PathBuf,
    pub rules: Vec<Rule>,
    /// When not empty, the only built-in rules kept.
    pub enable_builtin_rules: Vec<String>,
    /// Rule ids, built-in or custom, to drop.
    pub disable_rules: Vec<String>,
    /// Global allow rules, added to the built-in ones.
    pub allow_rules: Vec<AllowRule>,
    /// Ids of built-in global allow rules to drop.
    pub disable_allow_rules: Vec<String>,
}

impl SecretConfig {
    pub fn load(path: &Path) -> Result<SecretConfig, SecretError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SecretError::Read { path: path.to_path_buf(), source })?;
        SecretConfig::parse(&text, path)
    }

    /// Parses `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<SecretConfig, SecretError> {
        let parse_error = |message: String| SecretError::Parse { path: origin.to_path_buf(), message };
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_saphyr::from_str::<Option<RawConfig>>(text)
                .map_err(|e| {
                    // The rendered error carries a source snippet; its first
                    // line is the message, with line and column.
                    let full = e.to_string();
                    parse_error(
                        full.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string(),
                    )
                })?
                .unwrap_or_default()
        };
        Ok(SecretConfig {
            origin: origin.to_path_buf(),
            rules: raw.rules.into_iter().map(RawRule::into_rule).collect(),
            enable_builtin_rules: raw.enable_builtin_rules,
            disable_rules: raw.disable_rules,
            allow_rules: raw.allow_rules.into_iter().map(RawAllow::into_allow).collect(),
            disable_allow_rules: raw.disable_allow_rules,
        })
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    enable_builtin_rules: Vec<String>,
    #[serde(default)]
    disable_rules: Vec<String>,
    #[serde(default)]
    allow_rules: Vec<RawAllow>,
    #[serde(default)]
    disable_allow_rules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default, deserialize_with = "severity")]
    severity: Option<Severity>,
    regex: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    secret_group_name: Option<String>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    allow_rules: Vec<RawAllow>,
}

impl RawRule {
    fn into_rule(self) -> Rule {
        Rule {
            category: self.category.unwrap_or_else(|| "Custom".to_string()),
            title: self.title.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            severity: self.severity.unwrap_or(Severity::Unknown),
            keywords: self.keywords.iter().map(|k| k.to_lowercase()).collect(),
            regex: self.regex,
            secret_group: self.secret_group_name,
            path: self.path,
            min_entropy: self.entropy,
            allow: self.allow_rules.into_iter().map(RawAllow::into_allow).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAllow {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

impl RawAllow {
    fn into_allow(self) -> AllowRule {
        AllowRule { id: self.id, description: self.description, regex: self.regex, path: self.path }
    }
}

/// Severity names in any case (`HIGH`, `high`), as Trivy accepts them.
fn severity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Severity>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(serde::de::Error::custom)
}
