//! Ignore files, in the two formats Trivy users already keep in their repos:
//! `.rampartignore` (one id a line, like `.trivyignore`) and
//! `.rampartignore.yaml` (rules with paths, purls and expiry, like
//! `.trivyignore.yaml`).

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rampart_types::{DetectedVulnerability, Misconfiguration, SecretFinding};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::purl::{Purl, PurlPattern};
use crate::{FindingKind, ReportError};

/// The rules of one ignore file.
#[derive(Clone, Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<IgnoreRule>,
}

#[derive(Clone, Debug)]
pub(crate) struct IgnoreRule {
    /// The kind of finding a YAML section holds; `None` for a plain-file id,
    /// which names a vulnerability, a check or a secret rule alike.
    kind: Option<FindingKind>,
    /// `None` only in YAML entries that select by paths or purls alone.
    id: Option<String>,
    /// Globs over the result target; `None` matches every target.
    paths: Option<GlobSet>,
    /// Package patterns; empty matches every package.
    purls: Vec<Purl>,
    /// The first day on which the rule no longer applies.
    expires: Option<Date>,
    pub(crate) statement: Option<String>,
}

impl IgnoreRules {
    /// Reads an ignore file, choosing the format by extension: `.yaml`/`.yml`
    /// is the rule format, anything else the one-id-a-line format.
    /// A missing file is an error; callers probing a default path check first.
    pub fn load(path: &Path) -> Result<IgnoreRules, ReportError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ReportError::ReadIgnoreFile { path: path.to_path_buf(), source })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                IgnoreRules::from_yaml(&text, path)
            }
            _ => IgnoreRules::from_lines(&text, path),
        }
    }

    /// Parses the `.trivyignore` format: one id a line, `#` comments, blank
    /// lines, and an optional `exp:YYYY-MM-DD` word after the id; other words
    /// after the id are free-form notes. `origin` names the file in errors.
    pub fn from_lines(text: &str, origin: &Path) -> Result<IgnoreRules, ReportError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let Some(id) = words.next() else { continue };
            let mut expires = None;
            if let Some(word) = words.find(|w| w.starts_with("exp:")) {
                let date = parse_date(&word["exp:".len()..]).ok_or_else(|| ReportError::IgnoreFile {
                    path: origin.to_path_buf(),
                    line: index as u64 + 1,
                    column: column_of(raw, word),
                    message: format!("invalid expiry `{word}` (expected exp:YYYY-MM-DD)"),
                })?;
                expires = Some(date);
            }
            rules.push(IgnoreRule {
                kind: None,
                id: Some(id.to_string()),
                paths: None,
                purls: Vec::new(),
                expires,
                statement: None,
            });
        }
        Ok(IgnoreRules { rules })
    }

    /// Parses the `.trivyignore.yaml` format. The `vulnerabilities`,
    /// `misconfigurations` and `secrets` sections each apply to their kind of
    /// finding; `licenses` is accepted so shared files keep working.
    /// `origin` names the file in errors.
    pub fn from_yaml(text: &str, origin: &Path) -> Result<IgnoreRules, ReportError> {
        let file: YamlFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(origin, &e))?;
        let sections = [
            (FindingKind::Vulnerability, file.vulnerabilities),
            (FindingKind::Misconfiguration, file.misconfigurations),
            (FindingKind::Secret, file.secrets),
        ];
        let mut rules = Vec::new();
        for (kind, entries) in sections {
            for (i, entry) in entries.unwrap_or_default().into_iter().enumerate() {
                rules.push(entry.into_rule(origin, kind, i + 1)?);
            }
        }
        Ok(IgnoreRules { rules })
    }

    /// The first rule still in force on `today` that covers `vuln` in `target`.
    pub(crate) fn for_vulnerability(
        &self,
        target: &str,
        vuln: &DetectedVulnerability,
        today: Date,
    ) -> Option<&IgnoreRule> {
        if self.rules.is_empty() {
            return None;
        }
        let pkg = Purl::parse(&vuln.pkg_identifier.purl);
        self.find(FindingKind::Vulnerability, target, today, |id| names(vuln, id), pkg.as_ref())
    }

    /// The first rule still in force on `today` that covers the failed check in `target`.
    pub(crate) fn for_misconfiguration(
        &self,
        target: &str,
        misconf: &Misconfiguration,
        today: Date,
    ) -> Option<&IgnoreRule> {
        self.find(FindingKind::Misconfiguration, target, today, |id| same_check(&misconf.id, id), None)
    }

    /// The first rule still in force on `today` that covers the secret in `target`.
    pub(crate) fn for_secret(
        &self,
        target: &str,
        secret: &SecretFinding,
        today: Date,
    ) -> Option<&IgnoreRule> {
        self.find(FindingKind::Secret, target, today, |id| secret.rule_id.eq_ignore_ascii_case(id), None)
    }

    /// `names` says whether a rule id names the finding; `pkg` is the
    /// finding's package, for rules that list purls.
    fn find(
        &self,
        kind: FindingKind,
        target: &str,
        today: Date,
        names: impl Fn(&str) -> bool,
        pkg: Option<&Purl>,
    ) -> Option<&IgnoreRule> {
        let target = target.trim_start_matches("./");
        self.rules.iter().find(|rule| {
            rule.kind.is_none_or(|k| k == kind)
                && rule.expires.is_none_or(|d| today < d)
                && rule.id.as_deref().is_none_or(&names)
                && rule.paths.as_ref().is_none_or(|set| set.is_match(target))
                // A finding without a usable purl cannot be shown to be the
                // package a rule names, so a purl rule leaves it reported.
                && (rule.purls.is_empty() || pkg.is_some_and(|pkg| rule.purls.iter().any(|p| p.matches(pkg))))
        })
    }
}

/// True when `id` is the finding's id or one of its aliases, so ignoring a
/// GHSA also hides the same flaw reported under its CVE.
fn names(vuln: &DetectedVulnerability, id: &str) -> bool {
    vuln.vulnerability_id.eq_ignore_ascii_case(id)
        || vuln.vendor_ids.iter().any(|v| v.eq_ignore_ascii_case(id))
}

/// True when `a` and `b` name the same check. Trivy users write a check
/// both by its short id (`DS002`, `KSV001`) and by its AVD id
/// (`AVD-DS-0002`, `AVD-KSV-0001`); both come down to a prefix and a number.
fn same_check(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || check_key(a).is_some_and(|key| check_key(b) == Some(key))
}

/// `AVD-DS-0002`, `DS-002` and `DS002` all give `("DS", 2)`; ids of other
/// shapes (`RPT-DS-009`) give `None` and only match themselves.
fn check_key(id: &str) -> Option<(String, u32)> {
    let id = id.trim();
    let rest = match id.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("AVD-") => &id[4..],
        _ => id,
    };
    let (letters, number) = rest.split_at(rest.find(|c: char| c.is_ascii_digit())?);
    let letters = letters.strip_suffix('-').unwrap_or(letters);
    if letters.is_empty()
        || !letters.chars().all(|c| c.is_ascii_alphabetic())
        || !number.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some((letters.to_ascii_uppercase(), number.parse().ok()?))
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// 1-based column, in characters, of `word`, which is a slice of `line`.
fn column_of(line: &str, word: &str) -> u64 {
    let offset = word.as_ptr() as usize - line.as_ptr() as usize;
    line.get(..offset).map_or(0, |before| before.chars().count() as u64) + 1
}

fn yaml_error(origin: &Path, err: &serde_saphyr::Error) -> ReportError {
    let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
    let mut message = err.without_snippet().to_string();
    // The position goes in front, compiler style; drop the library's copy.
    if let Some(stripped) = message.strip_suffix(&format!(" at line {line}, column {column}")) {
        message = stripped.to_string();
    }
    ReportError::IgnoreFile { path: origin.to_path_buf(), line, column, message }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlFile {
    #[serde(default)]
    vulnerabilities: Option<Vec<YamlEntry>>,
    #[serde(default)]
    misconfigurations: Option<Vec<YamlEntry>>,
    #[serde(default)]
    secrets: Option<Vec<YamlEntry>>,
    #[serde(default, rename = "licenses")]
    _licenses: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlEntry {
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    paths: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    purls: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    expired_at: Option<Spanned<String>>,
    #[serde(default)]
    statement: Option<Spanned<String>>,
}

impl YamlEntry {
    /// `kind` is the section the entry is in; `number` is the entry's 1-based
    /// position there, for errors without a location.
    fn into_rule(self, origin: &Path, kind: FindingKind, number: usize) -> Result<IgnoreRule, ReportError> {
        let invalid = |at: &serde_saphyr::Location, message: String| ReportError::IgnoreFile {
            path: origin.to_path_buf(),
            line: at.line(),
            column: at.column(),
            message,
        };
        let section = kind.section();
        let paths = self.paths.unwrap_or_default();
        let purls = self.purls.unwrap_or_default();
        // Only vulnerabilities belong to a package; dropping the purls would
        // silently widen the rule to every file.
        if let Some(p) = purls.first().filter(|_| kind != FindingKind::Vulnerability) {
            return Err(invalid(
                &p.referenced,
                format!("`purls` only apply to vulnerabilities, not to {section} entry {number}"),
            ));
        }
        let id = self.id.filter(|id| !id.value.trim().is_empty());
        if id.is_none() && paths.is_empty() && purls.is_empty() {
            let at = self.expired_at.as_ref().or(self.statement.as_ref()).map(|e| e.referenced);
            let selectors = if kind == FindingKind::Vulnerability {
                "an `id`, `paths` or `purls`"
            } else {
                "an `id` or `paths`"
            };
            return Err(ReportError::IgnoreFile {
                path: origin.to_path_buf(),
                line: at.map_or(0, |l| l.line()),
                column: at.map_or(0, |l| l.column()),
                message: format!("{section} entry {number} needs {selectors}, or it would ignore everything"),
            });
        }

        let globs = if paths.is_empty() {
            None
        } else {
            let mut set = GlobSetBuilder::new();
            for p in &paths {
                // Like Trivy's doublestar: `*` stays within a path segment, `**` crosses them.
                let glob = GlobBuilder::new(p.value.trim_start_matches("./"))
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        invalid(&p.referenced, format!("invalid path pattern `{}`: {e}", p.value))
                    })?;
                set.add(glob);
            }
            Some(set.build().map_err(|e| ReportError::IgnoreFile {
                path: origin.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("path patterns: {e}"),
            })?)
        };

        let purls = purls
            .iter()
            .map(|p| {
                Purl::parse(&p.value).ok_or_else(|| {
                    invalid(&p.referenced, format!("invalid purl `{}` (expected pkg:type/name)", p.value))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let expires = match &self.expired_at {
            None => None,
            Some(e) => Some(parse_expiry(e.value.trim()).ok_or_else(|| {
                invalid(&e.referenced, format!("invalid expired_at `{}` (expected YYYY-MM-DD)", e.value))
            })?),
        };

        Ok(IgnoreRule {
            kind: Some(kind),
            id: id.map(|id| id.value.trim().to_string()),
            paths: globs,
            purls,
            expires,
            statement: self.statement.map(|s| s.value).filter(|s| !s.trim().is_empty()),
        })
    }
}

/// A date, or an RFC 3339 timestamp cut to its UTC day (rules compare whole
/// days, so such a rule stops applying from that day on).
fn parse_expiry(s: &str) -> Option<Date> {
    parse_date(s).or_else(|| {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.to_offset(time::UtcOffset::UTC).date())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avd_ids_name_the_same_check_as_short_ids() {
        assert!(same_check("DS002", "AVD-DS-0002"));
        assert!(same_check("KSV001", "avd-ksv-0001"));
        assert!(same_check("KSV0109", "AVD-KSV-0109"));
        assert!(same_check("ds002", "DS002"));
        assert!(!same_check("DS002", "AVD-DS-0021"));
        assert!(!same_check("DS002", "AVD-KSV-0002"));
        assert!(!same_check("KSV001", "KSV0010"));
        // Ids of other shapes only match themselves.
        assert!(same_check("RPT-DS-009", "rpt-ds-009"));
        assert!(!same_check("RPT-DS-009", "AVD-DS-0009"));
        assert!(!same_check("CVE-2021-0002", "DS002"));
    }
}
