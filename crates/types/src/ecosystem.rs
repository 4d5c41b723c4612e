use std::fmt;

use serde::{Deserialize, Serialize};

/// A package universe: where names are unique and one version scheme applies.
///
/// Distribution ecosystems (`Alpine`, `Debian`, …) are split by release in
/// advisory data (`Alpine:v3.18`, `Debian:12`); the release is carried next
/// to the ecosystem, see [`Ecosystem::parse_osv`] and [`Ecosystem::osv_key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    Npm,
    PyPI,
    CratesIo,
    Go,
    Maven,
    RubyGems,
    NuGet,
    Packagist,
    Pub,
    Hex,
    /// Packages conda installed. OSV has no conda ecosystem, so no advisory
    /// names one: they are listed, never matched.
    Conda,
    Kubernetes,
    Alpine,
    Debian,
    Ubuntu,
    RedHat,
    Rocky,
    AlmaLinux,
    Wolfi,
    Chainguard,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown ecosystem {0:?}")]
pub struct EcosystemParseError(pub String);

impl Ecosystem {
    /// The ecosystem's name as OSV spells it (without a release).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Pub => "Pub",
            Ecosystem::Hex => "Hex",
            Ecosystem::Conda => "conda",
            Ecosystem::Kubernetes => "Kubernetes",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::RedHat => "Red Hat",
            Ecosystem::Rocky => "Rocky Linux",
            Ecosystem::AlmaLinux => "AlmaLinux",
            Ecosystem::Wolfi => "Wolfi",
            Ecosystem::Chainguard => "Chainguard",
        }
    }

    /// Splits an OSV ecosystem string (`"Alpine:v3.18"`, `"Ubuntu:22.04:LTS"`,
    /// `"PyPI"`, lower-case `"kubernetes"`) into the ecosystem and its release.
    pub fn parse_osv(s: &str) -> Result<(Ecosystem, Option<String>), EcosystemParseError> {
        let (base, release) = match s.split_once(':') {
            Some((b, r)) if !r.is_empty() => (b, Some(r.to_string())),
            _ => (s, None),
        };
        let eco = match base.to_ascii_lowercase().as_str() {
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::PyPI,
            "crates.io" => Ecosystem::CratesIo,
            "go" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "rubygems" => Ecosystem::RubyGems,
            "nuget" => Ecosystem::NuGet,
            "packagist" => Ecosystem::Packagist,
            "pub" => Ecosystem::Pub,
            "hex" => Ecosystem::Hex,
            "conda" => Ecosystem::Conda,
            "kubernetes" | "k8s" => Ecosystem::Kubernetes,
            "alpine" => Ecosystem::Alpine,
            "debian" => Ecosystem::Debian,
            "ubuntu" => Ecosystem::Ubuntu,
            "red hat" | "redhat" => Ecosystem::RedHat,
            "rocky linux" | "rocky" => Ecosystem::Rocky,
            "almalinux" => Ecosystem::AlmaLinux,
            "wolfi" => Ecosystem::Wolfi,
            "chainguard" => Ecosystem::Chainguard,
            _ => return Err(EcosystemParseError(s.to_string())),
        };
        Ok((eco, release))
    }

    /// The key advisory data is stored under: the OSV name, plus `:release`
    /// for distributions (`Alpine:v3.18`, `Debian:12`).
    pub fn osv_key(self, release: Option<&str>) -> String {
        match release {
            Some(r) if !r.is_empty() => format!("{}:{}", self.osv_name(), r),
            _ => self.osv_name().to_string(),
        }
    }

    /// True for operating-system package universes.
    pub fn is_os(self) -> bool {
        matches!(
            self,
            Ecosystem::Alpine
                | Ecosystem::Debian
                | Ecosystem::Ubuntu
                | Ecosystem::RedHat
                | Ecosystem::Rocky
                | Ecosystem::AlmaLinux
                | Ecosystem::Wolfi
                | Ecosystem::Chainguard
        )
    }

    /// The package-URL type (`pkg:<type>/…`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Packagist => "composer",
            Ecosystem::Pub => "pub",
            Ecosystem::Hex => "hex",
            Ecosystem::Conda => "conda",
            Ecosystem::Kubernetes => "k8s",
            Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard => "apk",
            Ecosystem::Debian | Ecosystem::Ubuntu => "deb",
            Ecosystem::RedHat | Ecosystem::Rocky | Ecosystem::AlmaLinux => "rpm",
        }
    }

    /// Normalizes a package name the way the ecosystem compares names, so an
    /// advisory for `Django` matches a lockfile's `django`.
    ///
    /// PyPI follows PEP 503 (case-folded, runs of `-`, `_`, `.` become `-`);
    /// NuGet and Packagist are case-insensitive; everything else is exact.
    pub fn normalize_name(self, name: &str) -> String {
        let name = name.trim();
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut in_sep = false;
                for c in name.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !in_sep {
                            out.push('-');
                        }
                        in_sep = true;
                    } else {
                        out.extend(c.to_lowercase());
                        in_sep = false;
                    }
                }
                out
            }
            Ecosystem::NuGet | Ecosystem::Packagist => name.to_ascii_lowercase(),
            _ => name.to_string(),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_distro_releases() {
        let (e, r) = Ecosystem::parse_osv("Ubuntu:22.04:LTS").unwrap();
        assert_eq!(e, Ecosystem::Ubuntu);
        assert_eq!(r.as_deref(), Some("22.04:LTS"));
        assert_eq!(Ecosystem::Alpine.osv_key(Some("v3.18")), "Alpine:v3.18");
        assert_eq!(Ecosystem::parse_osv("kubernetes").unwrap().0, Ecosystem::Kubernetes);
        assert!(Ecosystem::parse_osv("Nonsense").is_err());
    }

    #[test]
    fn conda_names_round_trip() {
        assert_eq!(Ecosystem::Conda.osv_name(), "conda");
        assert_eq!(Ecosystem::parse_osv("conda").unwrap(), (Ecosystem::Conda, None));
        assert_eq!(Ecosystem::Conda.osv_key(None), "conda");
        assert_eq!(Ecosystem::Conda.purl_type(), "conda");
        assert!(!Ecosystem::Conda.is_os());
        assert_eq!(Ecosystem::Conda.normalize_name("_libgcc_mutex"), "_libgcc_mutex");
    }

    #[test]
    fn pep503_normalization() {
        assert_eq!(Ecosystem::PyPI.normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(Ecosystem::Go.normalize_name("github.com/Foo/bar"), "github.com/Foo/bar");
    }
}
