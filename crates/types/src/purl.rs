//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`):
//! building them for packages and parsing them back. The one place in
//! rampart that knows the purl syntax; what a purl *means* (matching rules,
//! ecosystems, distributions) stays with the crates that use it.

use crate::Ecosystem;

/// A parsed package URL, percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    /// The package type (`npm`, `deb`, …), lowercased.
    pub ty: String,
    /// The namespace segments (npm scope, Maven group, distribution, …).
    pub namespace: Vec<String>,
    pub name: String,
    /// `None` when the purl has no version, or an empty one.
    pub version: Option<String>,
    /// `key=value` pairs in their order; keys lowercased, empty values dropped.
    pub qualifiers: Vec<(String, String)>,
    /// The subpath without surrounding slashes; `None` when absent or empty.
    pub subpath: Option<String>,
}

impl Purl {
    /// Parses `pkg:type/namespace/name@version?qualifiers#subpath`; `None`
    /// when `s` is not a package URL. Malformed escapes are kept as written.
    pub fn parse(s: &str) -> Option<Purl> {
        let s = s.trim();
        let rest = s.get(..4).filter(|p| p.eq_ignore_ascii_case("pkg:")).map(|_| &s[4..])?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, Some(sp.trim_matches('/')).filter(|sp| !sp.is_empty()).map(percent_decode)),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, parse_qualifiers(q)),
            None => (rest, Vec::new()),
        };
        let (ty, path) = rest.split_once('/')?;
        if ty.is_empty() {
            return None;
        }
        let path = path.trim_end_matches('/');
        let (namespace, last) = match path.rsplit_once('/') {
            Some((ns, last)) => (ns.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect(), last),
            None => (Vec::new(), path),
        };
        // Only the last segment can carry the version, so an unencoded npm
        // scope (`@babel/core`) is not mistaken for one.
        let (name, version) = match last.rsplit_once('@') {
            Some((n, v)) if !n.is_empty() => (n, Some(percent_decode(v)).filter(|v| !v.is_empty())),
            _ => (last, None),
        };
        if name.is_empty() {
            return None;
        }
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name: percent_decode(name),
            version,
            qualifiers,
            subpath,
        })
    }

    /// The value of the first qualifier named `key` (lowercase).
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn parse_qualifiers(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_ascii_lowercase(), percent_decode(v)))
        .collect()
}

/// Percent-decoding that leaves malformed escapes as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
            out.push_str(&percent_encode(seg));
            out.push('/');
        }
    }
    out.push_str(&percent_encode(&short));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&percent_encode(version));
    }
    out
}

/// Percent-encodes everything but the purl spec's unreserved characters.
pub fn percent_encode(s: &str) -> String {
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
        assert_eq!(purl(Ecosystem::Conda, "_openmp_mutex", "5.1"), "pkg:conda/_openmp_mutex@5.1");
    }

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn parses_components() {
        let purl = p("pkg:npm/%40babel/core@7.0.0?arch=x86_64#lib/x");
        assert_eq!(purl.ty, "npm");
        assert_eq!(purl.namespace, vec!["@babel".to_string()]);
        assert_eq!(purl.name, "core");
        assert_eq!(purl.version.as_deref(), Some("7.0.0"));
        assert_eq!(purl.qualifiers, vec![("arch".to_string(), "x86_64".to_string())]);
        assert_eq!(purl.subpath.as_deref(), Some("lib/x"));
    }

    #[test]
    fn rejects_non_purls() {
        for bad in ["", "npm/foo", "pkg:", "pkg:npm", "pkg:/foo", "pkg:npm/"] {
            assert!(Purl::parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn purls_decode() {
        let purl = p("pkg:npm/%40gar%2Fpromisify@1.1.3");
        assert_eq!(
            (purl.namespace, purl.name, purl.version.as_deref()),
            (vec![], "@gar/promisify".into(), Some("1.1.3"))
        );
        let purl = p("pkg:npm/@babel/core");
        assert_eq!(
            (purl.namespace, purl.name, purl.version),
            (vec!["@babel".to_string()], "core".into(), None)
        );
        let purl = p("pkg:maven/org.apache/log4j@2.14.1?type=jar&Classifier=&X=%41#/sub/");
        assert_eq!(purl.qualifier("type"), Some("jar"));
        assert_eq!(
            purl.qualifiers,
            [("type".to_string(), "jar".to_string()), ("x".to_string(), "A".to_string())]
        );
        assert_eq!(purl.subpath.as_deref(), Some("sub"));
        assert_eq!(p("PKG:DEB//debian/curl@?distro=debian-12").version, None);
        assert_eq!(p("pkg:deb/debian/curl").ty, "deb");
    }

    #[test]
    fn malformed_escapes_stay_as_written() {
        assert_eq!(percent_decode("a%2x%41%"), "a%2xA%");
        assert_eq!(percent_decode("%E2%9C%93"), "\u{2713}");
    }

    #[test]
    fn built_purls_parse_back() {
        let purl = p(&purl(Ecosystem::Npm, "@babel/core", "7.0.0+x"));
        assert_eq!(purl.namespace, ["@babel"]);
        assert_eq!((purl.name.as_str(), purl.version.as_deref()), ("core", Some("7.0.0+x")));
    }
}
