//! What a rule is, in the owned form users and configs see, and the compact
//! static form the built-in table is written in.

use rampart_types::Severity;

/// A detection rule. Built-in rules and rules from `--secret-config` share
/// this shape (Trivy's `trivy-secret.yaml` fields).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Kebab-case id, the name ignore files and `disable-rules` use.
    pub id: String,
    /// The provider or kind (`AWS`, `GitHub`, `PrivateKey`, `Generic`).
    pub category: String,
    pub title: String,
    pub severity: Severity,
    /// Lowercase words of which at least one must occur (case-insensitively)
    /// in a file for the regex to run at all. Empty: the regex always runs.
    pub keywords: Vec<String>,
    /// The pattern; its `secret` group (or [`Rule::secret_group`]) marks the
    /// secret, otherwise the whole match is the secret.
    pub regex: String,
    /// Capture group holding the secret, when not `secret`.
    pub secret_group: Option<String>,
    /// Only files whose path matches this regex are checked.
    pub path: Option<String>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub min_entropy: Option<f64>,
    /// Matches of this rule to ignore.
    pub allow: Vec<AllowRule>,
}

/// Something not to report. With both `regex` and `path`, both must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowRule {
    pub id: String,
    pub description: String,
    /// Tested against the secret (the capture group, or the whole match).
    pub regex: Option<String>,
    /// Tested against the path of the scanned file.
    pub path: Option<String>,
}

/// A built-in rule as written in the table.
pub(crate) struct Builtin {
    pub id: &'static str,
    pub category: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub keywords: &'static [&'static str],
    pub regex: &'static str,
    pub path: Option<&'static str>,
    pub entropy: Option<f64>,
    /// `(id, description, regex)` of matches to ignore.
    pub allow: &'static [(&'static str, &'static str, &'static str)],
}

pub(crate) const fn rule(
    id: &'static str,
    category: &'static str,
    title: &'static str,
    severity: Severity,
    keywords: &'static [&'static str],
    regex: &'static str,
) -> Builtin {
    Builtin { id, category, title, severity, keywords, regex, path: None, entropy: None, allow: &[] }
}

impl Builtin {
    pub(crate) const fn entropy(self, bits: f64) -> Builtin {
        Builtin { entropy: Some(bits), ..self }
    }

    pub(crate) const fn path(self, regex: &'static str) -> Builtin {
        Builtin { path: Some(regex), ..self }
    }

    pub(crate) const fn allow(self, allow: &'static [(&'static str, &'static str, &'static str)]) -> Builtin {
        Builtin { allow, ..self }
    }

    pub(crate) fn to_rule(&self) -> Rule {
        Rule {
            id: self.id.to_string(),
            category: self.category.to_string(),
            title: self.title.to_string(),
            severity: self.severity,
            keywords: self.keywords.iter().map(|k| k.to_string()).collect(),
            regex: self.regex.to_string(),
            secret_group: None,
            path: self.path.map(str::to_string),
            min_entropy: self.entropy,
            allow: self
                .allow
                .iter()
                .map(|(id, description, regex)| AllowRule {
                    id: id.to_string(),
                    description: description.to_string(),
                    regex: Some(regex.to_string()),
                    path: None,
                })
                .collect(),
        }
    }
}
