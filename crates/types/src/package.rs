use serde::{Deserialize, Serialize};

use crate::{Ecosystem, Layer};

/// A line range inside the file a package or finding came from (1-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    pub start_line: u32,
    pub end_line: u32,
}

/// One installed or locked package, as a cataloger found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// The name as the package manager spells it (advisory matching normalizes it).
    pub name: String,
    pub version: String,
    /// Needed only for development or tests, where the lockfile says so.
    #[serde(default)]
    pub dev: bool,
    /// Pulled in by another dependency rather than declared by the project.
    #[serde(default)]
    pub indirect: bool,
    /// For OS packages: the source package advisories are filed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Where in the lockfile the package is declared, when the format has lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// For packages in images: the layer that installed them.
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub layer: Layer,
}

impl Package {
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            ecosystem,
            name: name.into(),
            version: version.into(),
            dev: false,
            indirect: false,
            src_name: None,
            src_version: None,
            licenses: Vec::new(),
            locations: Vec::new(),
            layer: Layer::default(),
        }
    }

    /// `name@version`, the identifier Trivy reports use as `PkgID`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    pub fn purl(&self) -> String {
        purl(self.ecosystem, &self.name, &self.version)
    }
}

/// Builds a package URL (`pkg:type/namespace/name@version`) per the purl spec:
/// npm scopes, Maven `group:artifact`, Go module paths and Composer
/// `vendor/name` become namespaces; reserved characters are percent-encoded.
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let ty = ecosystem.purl_type();
    let name = match ecosystem {
        Ecosystem::PyPI => ecosystem.normalize_name(name).replace('_', "-"),
        _ => name.to_string(),
    };
    let (namespace, short) = match ecosystem {
        Ecosystem::Maven => match name.split_once(':') {
            Some((g, a)) => (Some(g.to_string()), a.to_string()),
            None => (None, name),
        },
        _ => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
            None => (None, name),
        },
    };
    let mut out = format!("pkg:{ty}/");
    if let Some(ns) = namespace {
        for seg in ns.split('/') {
            out.push_str(&encode(seg));
            out.push('/');
        }
    }
    out.push_str(&encode(&short));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    out
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_spec() {
        assert_eq!(purl(Ecosystem::Npm, "@babel/core", "7.0.0"), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(
            purl(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1"),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            purl(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.0"),
            "pkg:golang/github.com/gin-gonic/gin@v1.9.0"
        );
        assert_eq!(purl(Ecosystem::PyPI, "Django_Rest", "1.0+local"), "pkg:pypi/django-rest@1.0%2Blocal");
        assert_eq!(purl(Ecosystem::Debian, "libc6", "2.36-9"), "pkg:deb/libc6@2.36-9");
    }
}
