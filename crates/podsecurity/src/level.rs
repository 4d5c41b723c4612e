//! Levels, versions and the `pod-security.kubernetes.io/*` namespace labels.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::Error;

/// The newest Kubernetes minor version whose Pod Security Standards this
/// crate knows; `latest` and any newer version evaluate as this one.
pub const LATEST_MINOR: u32 = 35;

/// A Pod Security Standards level, from least to most restrictive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(Error::Level(s.to_string())),
        }
    }
}

/// The version of the standards: `latest` or `v1.N`. Versions older than
/// v1.0 are refused; versions newer than this crate knows act as `latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Version {
    #[default]
    Latest,
    V1(u32),
}

impl Version {
    /// The minor version whose rules apply.
    pub fn minor(self) -> u32 {
        match self {
            Version::Latest => LATEST_MINOR,
            Version::V1(m) => m.min(LATEST_MINOR),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::V1(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for Version {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let minor = s
            .strip_prefix("v1.")
            .filter(|m| !m.is_empty() && m.len() <= 4 && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse::<u32>().ok());
        minor.map(Version::V1).ok_or_else(|| Error::Version(s.to_string()))
    }
}

/// A level at a version, written `restricted:latest` as in the plugin's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub const PRIVILEGED: LevelVersion = LevelVersion { level: Level::Privileged, version: Version::Latest };

    pub fn new(level: Level, version: Version) -> Self {
        LevelVersion { level, version }
    }

    pub fn latest(level: Level) -> Self {
        LevelVersion { level, version: Version::Latest }
    }
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

impl FromStr for LevelVersion {
    type Err = Error;

    /// `restricted` or `restricted:v1.30`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.split_once(':') {
            Some((l, v)) => Ok(LevelVersion::new(l.parse()?, v.parse()?)),
            None => Ok(LevelVersion::latest(s.parse()?)),
        }
    }
}

/// The three modes of the PodSecurity plugin: `enforce` rejects, `warn`
/// returns warnings to the user, `audit` annotates the audit record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub warn: LevelVersion,
    pub audit: LevelVersion,
}

impl Policy {
    /// Every mode at the same level.
    pub fn uniform(lv: LevelVersion) -> Self {
        Policy { enforce: lv, warn: lv, audit: lv }
    }

    /// The policy a namespace's labels set, on top of `defaults` for the
    /// modes it leaves unset. A label with an invalid value is an error
    /// naming the label, since the plugin refuses such namespaces too.
    pub fn from_namespace(namespace: &Value, defaults: Policy) -> Result<Policy, Error> {
        let labels = namespace.get("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object);
        let Some(labels) = labels else { return Ok(defaults) };
        let label = |key: &str| labels.get(key).and_then(Value::as_str);
        let mode = |name: &str, default: LevelVersion| -> Result<LevelVersion, Error> {
            let level_key = format!("pod-security.kubernetes.io/{name}");
            let version_key = format!("{level_key}-version");
            let level = match label(&level_key) {
                Some(v) => v.parse().map_err(|e: Error| e.in_label(&level_key))?,
                None => default.level,
            };
            let version = match label(&version_key) {
                Some(v) => v.parse().map_err(|e: Error| e.in_label(&version_key))?,
                None if label(&level_key).is_some() => Version::Latest,
                None => default.version,
            };
            Ok(LevelVersion::new(level, version))
        };
        Ok(Policy {
            enforce: mode("enforce", defaults.enforce)?,
            warn: mode("warn", defaults.warn)?,
            audit: mode("audit", defaults.audit)?,
        })
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::uniform(LevelVersion::PRIVILEGED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_levels_and_versions() {
        let cases: &[(&str, Option<&str>)] = &[
            ("restricted", Some("restricted:latest")),
            ("baseline:v1.24", Some("baseline:v1.24")),
            ("privileged:latest", Some("privileged:latest")),
            ("strict", None),
            ("baseline:1.24", None),
            ("baseline:v2.0", None),
            ("baseline:v1.", None),
            ("baseline:v1.-1", None),
        ];
        for (input, want) in cases {
            let got = input.parse::<LevelVersion>().ok().map(|lv| lv.to_string());
            assert_eq!(got.as_deref(), *want, "{input}");
        }
        assert_eq!(Version::V1(99).minor(), LATEST_MINOR);
        assert!(Level::Restricted > Level::Baseline && Level::Baseline > Level::Privileged);
    }

    #[test]
    fn namespace_labels_override_defaults() {
        let defaults = Policy::uniform(LevelVersion::latest(Level::Baseline));
        let ns = json!({"metadata": {"labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.24",
            "pod-security.kubernetes.io/warn": "privileged",
        }}});
        let p = Policy::from_namespace(&ns, defaults).unwrap();
        assert_eq!(p.enforce.to_string(), "restricted:v1.24");
        assert_eq!(p.warn.to_string(), "privileged:latest");
        assert_eq!(p.audit.to_string(), "baseline:latest");
        let unlabeled = Policy::from_namespace(&json!({"metadata": {"name": "x"}}), defaults).unwrap();
        assert_eq!(unlabeled, defaults);
        let bad = json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "strict"}}});
        let err = Policy::from_namespace(&bad, defaults).unwrap_err().to_string();
        assert!(err.contains("pod-security.kubernetes.io/enforce") && err.contains("strict"), "{err}");
    }
}
