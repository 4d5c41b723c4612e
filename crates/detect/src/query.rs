//! What to look up for a package: the advisory key, name and version.

use rampart_types::{Ecosystem, Package};

/// One database lookup. Packages that share it (Debian binaries built from
/// one source package, a module listed twice) are evaluated once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Query {
    /// The OSV ecosystem key (`PyPI`, `Alpine:v3.18`, `Debian:12`).
    pub key: String,
    pub name: String,
    /// The version compared against advisory ranges, normalized.
    pub version: String,
}

impl Query {
    /// Distribution advisories are filed against source packages (Debian)
    /// or origins (Alpine), so OS packages are looked up by their source name
    /// and version; language packages by their own.
    pub(crate) fn for_package(pkg: &Package, release: Option<&str>) -> Query {
        let eco = pkg.ecosystem;
        if eco.is_os() {
            let release = release.map(|r| normalize_release(eco, r));
            let name = non_empty(pkg.src_name.as_deref()).unwrap_or(&pkg.name);
            let version = non_empty(pkg.src_version.as_deref()).unwrap_or(&pkg.version);
            Query {
                key: eco.osv_key(release.as_deref()),
                name: name.trim().to_string(),
                version: version.trim().to_string(),
            }
        } else {
            // Spellings such as Go's `v1.2.3` / `go1.21` against OSV's `1.2.3`
            // are the version scheme's business, not the lookup's.
            Query {
                key: eco.osv_name().to_string(),
                name: pkg.name.trim().to_string(),
                version: pkg.version.trim().to_string(),
            }
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// Accepts a release as `/etc/os-release` or `/etc/alpine-release` spell it:
/// Alpine `3.18.4` → `v3.18` (secdb branches are major.minor), Debian
/// `12.4` → `12` (point releases share advisories). Other forms pass through.
fn normalize_release(eco: Ecosystem, release: &str) -> String {
    let release = release.trim();
    match eco {
        Ecosystem::Alpine => {
            let bare = release.strip_prefix('v').unwrap_or(release);
            let mut parts = bare.split('.');
            match (parts.next(), parts.next()) {
                (Some(major), Some(minor)) if is_number(major) && is_number(minor) => {
                    format!("v{major}.{minor}")
                }
                _ => release.to_string(),
            }
        }
        Ecosystem::Debian => match release.split_once('.') {
            Some((major, _)) if is_number(major) => major.to_string(),
            _ => release.to_string(),
        },
        _ => release.to_string(),
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_packages_use_source_name_and_version() {
        let mut p = Package::new(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u1");
        p.src_name = Some("openssl".into());
        p.src_version = Some("3.0.11-1~deb12u2".into());
        let q = Query::for_package(&p, Some("12"));
        assert_eq!(
            q,
            Query { key: "Debian:12".into(), name: "openssl".into(), version: "3.0.11-1~deb12u2".into() }
        );

        let p = Package::new(Ecosystem::Alpine, "musl", "1.1.22-r3");
        let q = Query::for_package(&p, Some("3.10.9"));
        assert_eq!(q, Query { key: "Alpine:v3.10".into(), name: "musl".into(), version: "1.1.22-r3".into() });
    }

    #[test]
    fn language_packages_ignore_the_release() {
        let p = Package::new(Ecosystem::PyPI, "Django", "3.2.1");
        let q = Query::for_package(&p, Some("12"));
        assert_eq!(q, Query { key: "PyPI".into(), name: "Django".into(), version: "3.2.1".into() });
    }

    #[test]
    fn releases_are_normalized() {
        assert_eq!(normalize_release(Ecosystem::Alpine, "v3.18"), "v3.18");
        assert_eq!(normalize_release(Ecosystem::Alpine, "3.18.4"), "v3.18");
        assert_eq!(normalize_release(Ecosystem::Alpine, "edge"), "edge");
        assert_eq!(normalize_release(Ecosystem::Debian, "12.4"), "12");
        assert_eq!(normalize_release(Ecosystem::Debian, "bookworm"), "bookworm");
        assert_eq!(normalize_release(Ecosystem::Ubuntu, "22.04"), "22.04");
    }
}
