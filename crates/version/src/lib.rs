//! Version schemes of every ecosystem rampart scans, and OSV range evaluation.
//!
//! Each scheme orders versions the way its package manager does; comparing
//! with the wrong scheme is the most common cause of false positives.

mod apk;
mod composer;
mod dpkg;
mod maven;
pub mod npm;
mod nuget;
pub mod osv;
mod pep440;
mod rpm;
mod rubygems;
mod semver;
mod util;

use std::cmp::Ordering;
use std::fmt;

pub use apk::{apk_fuzzy_match, is_valid_apk};

/// A version ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// SemVer 2.0 (crates.io, Hex, Pub, and OSV `SEMVER` ranges).
    Semver,
    /// npm's semver: prereleases, loose forms, `v` prefix.
    Npm,
    /// Go modules: `v` prefix, pseudo-versions, `+incompatible`.
    Go,
    Pep440,
    Maven,
    RubyGems,
    NuGet,
    Composer,
    Dpkg,
    Rpm,
    Apk,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {scheme} version {version:?}: {reason}")]
pub struct VersionError {
    pub scheme: &'static str,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> VersionError {
        VersionError { scheme: scheme.name(), version: version.to_owned(), reason: reason.into() }
    }
}

impl Scheme {
    /// Every scheme, for listings and exhaustive tests.
    pub const ALL: [Scheme; 11] = [
        Scheme::Semver,
        Scheme::Npm,
        Scheme::Go,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
    ];

    /// The scheme of an OSV ecosystem string (`"PyPI"`, `"Alpine:v3.18"`, `"Debian:12"`).
    pub fn for_ecosystem(osv_ecosystem: &str) -> Option<Scheme> {
        let base = osv_ecosystem.split(':').next().unwrap_or_default().trim();
        let eq = |name: &str| base.eq_ignore_ascii_case(name);
        if eq("PyPI") {
            Some(Scheme::Pep440)
        } else if eq("npm") {
            Some(Scheme::Npm)
        } else if ["crates.io", "Hex", "Pub", "Kubernetes", "SwiftURL"].iter().any(|n| eq(n)) {
            Some(Scheme::Semver)
        } else if eq("Go") {
            Some(Scheme::Go)
        } else if eq("Maven") {
            Some(Scheme::Maven)
        } else if eq("RubyGems") {
            Some(Scheme::RubyGems)
        } else if eq("NuGet") {
            Some(Scheme::NuGet)
        } else if eq("Packagist") {
            Some(Scheme::Composer)
        } else if ["Alpine", "Wolfi", "Chainguard", "Alpaquita", "MinimOS"].iter().any(|n| eq(n)) {
            Some(Scheme::Apk)
        } else if eq("Debian") || eq("Ubuntu") {
            Some(Scheme::Dpkg)
        } else if [
            "Red Hat",
            "Rocky Linux",
            "AlmaLinux",
            "openSUSE",
            "SUSE",
            "Photon OS",
            "Mageia",
            "openEuler",
        ]
        .iter()
        .any(|n| eq(n))
        {
            Some(Scheme::Rpm)
        } else {
            None
        }
    }

    /// The scheme for a name a user types: `deb`, `dpkg`, `apk`, `rpm`, `npm`,
    /// `pypi`, `go`, `maven`, `cargo`, `semver`, `gem`, `nuget`, `composer`, …
    /// and every OSV ecosystem name.
    pub fn from_name(name: &str) -> Option<Scheme> {
        let word = name.trim().to_ascii_lowercase();
        let scheme = match word.as_str() {
            "deb" | "dpkg" | "debian" | "ubuntu" => Scheme::Dpkg,
            "apk" | "alpine" | "wolfi" | "chainguard" => Scheme::Apk,
            "rpm" | "redhat" | "rhel" | "centos" | "fedora" | "rocky" | "alma" => Scheme::Rpm,
            "npm" | "node" => Scheme::Npm,
            "pypi" | "pep440" | "python" | "pip" => Scheme::Pep440,
            "go" | "golang" => Scheme::Go,
            "maven" | "java" => Scheme::Maven,
            "cargo" | "crates.io" | "semver" | "hex" | "pub" => Scheme::Semver,
            "gem" | "rubygems" | "ruby" => Scheme::RubyGems,
            "nuget" => Scheme::NuGet,
            "composer" | "packagist" | "php" => Scheme::Composer,
            _ => return Scheme::for_ecosystem(name),
        };
        Some(scheme)
    }

    /// The canonical short name, accepted back by [`Scheme::from_name`].
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Semver => "semver",
            Scheme::Npm => "npm",
            Scheme::Go => "go",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Composer => "composer",
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
        }
    }

    /// Compares two versions; an unparseable version is an error, never a guess.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let a = self.parse(a)?;
        let b = self.parse(b)?;
        Ok(a.repr.cmp_same(&b.repr))
    }

    /// Parses a version once so it can be compared many times.
    pub fn parse(self, version: &str) -> Result<Version<'_>, VersionError> {
        let err = |reason: String| VersionError::new(self, version, reason);
        let repr = match self {
            Scheme::Semver => Repr::Sv(semver::parse_strict(version).map_err(err)?),
            Scheme::Npm => Repr::Sv(npm::parse_parts(version, true).map_err(err)?),
            Scheme::Go => Repr::Sv(semver::parse_go(version).map_err(err)?),
            Scheme::Pep440 => Repr::Pep440(pep440::parse(version).map_err(err)?),
            Scheme::Maven => Repr::Maven(maven::parse(version).map_err(err)?),
            Scheme::RubyGems => Repr::RubyGems(rubygems::parse(version).map_err(err)?),
            Scheme::NuGet => Repr::NuGet(nuget::parse(version).map_err(err)?),
            Scheme::Composer => Repr::Composer(composer::parse(version).map_err(err)?),
            Scheme::Dpkg => Repr::Dpkg(dpkg::parse(version).map_err(err)?),
            Scheme::Rpm => Repr::Rpm(rpm::parse(version).map_err(err)?),
            Scheme::Apk => Repr::Apk(apk::parse(version).map_err(err)?),
        };
        Ok(Version { scheme: self, raw: version, repr })
    }
}

/// A version parsed under one scheme; borrows the input where it can.
///
/// Versions of the same scheme compare as their package manager orders them;
/// versions of different schemes are incomparable (`partial_cmp` is `None`).
#[derive(Clone, Debug)]
pub struct Version<'a> {
    scheme: Scheme,
    raw: &'a str,
    repr: Repr<'a>,
}

impl<'a> Version<'a> {
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
}

impl fmt::Display for Version<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self.scheme == other.scheme).then(|| self.repr.cmp_same(&other.repr))
    }
}

#[derive(Clone, Debug)]
enum Repr<'a> {
    /// SemVer precedence, shared by the Semver, npm and Go spellings.
    Sv(semver::Sv<'a>),
    Pep440(pep440::Pep440<'a>),
    Maven(maven::MavenVersion),
    RubyGems(rubygems::GemVersion<'a>),
    NuGet(nuget::NuGetVersion<'a>),
    Composer(composer::ComposerVersion),
    Dpkg(dpkg::DebVersion<'a>),
    Rpm(rpm::RpmVersion<'a>),
    Apk(apk::ApkVersion<'a>),
}

impl Repr<'_> {
    /// Compares two representations produced by the same scheme.
    fn cmp_same(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Repr::Sv(a), Repr::Sv(b)) => a.cmp_precedence(b),
            (Repr::Pep440(a), Repr::Pep440(b)) => a.compare(b),
            (Repr::Maven(a), Repr::Maven(b)) => a.compare(b),
            (Repr::RubyGems(a), Repr::RubyGems(b)) => a.compare(b),
            (Repr::NuGet(a), Repr::NuGet(b)) => a.compare(b),
            (Repr::Composer(a), Repr::Composer(b)) => a.compare(b),
            (Repr::Dpkg(a), Repr::Dpkg(b)) => a.compare(b),
            (Repr::Rpm(a), Repr::Rpm(b)) => a.compare(b),
            (Repr::Apk(a), Repr::Apk(b)) => a.compare(b),
            // Unreachable through the public API: `Version` checks the scheme first.
            _ => Ordering::Equal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems_map_to_schemes() {
        let cases = [
            ("PyPI", Scheme::Pep440),
            ("npm", Scheme::Npm),
            ("crates.io", Scheme::Semver),
            ("Go", Scheme::Go),
            ("Maven", Scheme::Maven),
            ("Maven:https://maven.google.com", Scheme::Maven),
            ("RubyGems", Scheme::RubyGems),
            ("NuGet", Scheme::NuGet),
            ("Packagist", Scheme::Composer),
            ("Pub", Scheme::Semver),
            ("Hex", Scheme::Semver),
            ("kubernetes", Scheme::Semver),
            ("Alpine:v3.18", Scheme::Apk),
            ("Wolfi", Scheme::Apk),
            ("Chainguard", Scheme::Apk),
            ("Debian:12", Scheme::Dpkg),
            ("Ubuntu:22.04:LTS", Scheme::Dpkg),
            ("Ubuntu:Pro:18.04:LTS", Scheme::Dpkg),
            ("Red Hat:rhel_aus:8.4::appstream", Scheme::Rpm),
            ("Rocky Linux:9", Scheme::Rpm),
            ("AlmaLinux:8", Scheme::Rpm),
            ("openSUSE:Tumbleweed", Scheme::Rpm),
        ];
        for (ecosystem, scheme) in cases {
            assert_eq!(Scheme::for_ecosystem(ecosystem), Some(scheme), "{ecosystem}");
            assert_eq!(Scheme::from_name(ecosystem), Some(scheme), "{ecosystem}");
        }
        assert_eq!(Scheme::for_ecosystem("GIT"), None);
        assert_eq!(Scheme::for_ecosystem(""), None);
    }

    #[test]
    fn cli_names() {
        let cases = [
            ("deb", Scheme::Dpkg),
            ("DPKG", Scheme::Dpkg),
            ("ubuntu", Scheme::Dpkg),
            ("apk", Scheme::Apk),
            ("alpine", Scheme::Apk),
            ("rpm", Scheme::Rpm),
            ("redhat", Scheme::Rpm),
            ("pypi", Scheme::Pep440),
            ("python", Scheme::Pep440),
            ("golang", Scheme::Go),
            ("cargo", Scheme::Semver),
            ("gem", Scheme::RubyGems),
            ("composer", Scheme::Composer),
            ("hex", Scheme::Semver),
            ("pub", Scheme::Semver),
        ];
        for (name, scheme) in cases {
            assert_eq!(Scheme::from_name(name), Some(scheme), "{name}");
        }
        assert_eq!(Scheme::from_name("cobol"), None);
        let all = Scheme::ALL;
        for scheme in all {
            assert_eq!(Scheme::from_name(scheme.name()), Some(scheme));
        }
    }

    #[test]
    fn errors_name_scheme_version_and_reason() {
        let err = Scheme::Semver.compare("1.2", "1.2.3").unwrap_err();
        assert_eq!(err.scheme, "semver");
        assert_eq!(err.version, "1.2");
        assert_eq!(err.to_string(), "invalid semver version \"1.2\": expected MAJOR.MINOR.PATCH");
        assert!(Scheme::Dpkg.compare("1.0", "").is_err());
    }

    #[test]
    fn parsed_versions_compare_within_a_scheme_only() {
        let a = Scheme::Pep440.parse("1.0").unwrap();
        let b = Scheme::Pep440.parse("1.0.0").unwrap();
        let c = Scheme::Semver.parse("1.0.0").unwrap();
        assert_eq!(a, b);
        assert!(a < Scheme::Pep440.parse("1.1").unwrap());
        assert_eq!(b.partial_cmp(&c), None);
        assert_eq!(b.as_str(), "1.0.0");
        assert_eq!(c.scheme(), Scheme::Semver);
    }

    #[test]
    fn odd_input_never_panics() {
        let inputs = [
            "",
            " ",
            "0",
            "v",
            "-",
            "~",
            "^",
            ".",
            "+",
            ":",
            "_",
            "*",
            "x",
            "é",
            "1é",
            "1.é",
            "1-é",
            "1_é",
            "1~é",
            "1.0-r",
            "1:é",
            "é:1",
            "1.2.3-é",
            "1.2.3+é",
            "1a-é",
            "1-a-1é",
            "1.0-dev-é",
            "dev-é",
            "1!é",
            "1.0+é",
            "99999999999999999999999999.1",
            "1.2.3-99999999999999999999999999",
            "go1.é",
            "1.2rcé",
            "~>é",
            "1 - é",
            ">=é <é",
            "1.x.é",
            "^é",
            "||é",
            "1.0.0 - 2.0.0 - 3",
            "\u{0}",
            "1\u{0}2",
        ];
        let all = Scheme::ALL;
        let opts = [npm::Options::default(), npm::Options { loose: true, include_prerelease: true }];
        for scheme in all {
            for a in inputs {
                for b in inputs {
                    let _ = scheme.compare(a, b);
                    let _ = apk_fuzzy_match(a, b);
                    for o in opts {
                        let _ = npm::satisfies(a, b, o);
                    }
                }
                let _ = is_valid_apk(a);
            }
        }
    }
}
