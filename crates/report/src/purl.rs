//! Just enough package-URL parsing to match ignore rules against findings.

/// A parsed `pkg:type/namespace/name@version?qualifiers#subpath`, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Purl {
    ty: String,
    namespace: Vec<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
    subpath: Option<String>,
}

impl Purl {
    /// `None` when `s` is not a package URL.
    pub(crate) fn parse(s: &str) -> Option<Purl> {
        let s = s.trim();
        let rest = s.get(..4).filter(|p| p.eq_ignore_ascii_case("pkg:")).map(|_| &s[4..])?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, Some(sp.trim_matches('/')).filter(|sp| !sp.is_empty()).map(decode)),
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
            Some((ns, last)) => (ns.split('/').filter(|s| !s.is_empty()).map(decode).collect(), last),
            None => (Vec::new(), path),
        };
        // Only the last segment can carry the version, so an unencoded npm
        // scope (`@babel/core`) is not mistaken for one.
        let (name, version) = match last.rsplit_once('@') {
            Some((n, v)) if !n.is_empty() => (n, Some(decode(v)).filter(|v| !v.is_empty())),
            _ => (last, None),
        };
        if name.is_empty() {
            return None;
        }
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name: decode(name),
            version,
            qualifiers,
            subpath,
        })
    }

    /// Whether `target` is a package this pattern names: versions, subpaths
    /// and qualifiers constrain only when the pattern gives them.
    pub(crate) fn matches(&self, target: &Purl) -> bool {
        // rampart's OS purls carry no distro namespace (`pkg:deb/libc6`), while
        // Trivy-style patterns do (`pkg:deb/debian/libc6`): let those meet.
        let os_without_namespace =
            matches!(self.ty.as_str(), "deb" | "apk" | "rpm") && target.namespace.is_empty();
        self.ty == target.ty
            && (self.namespace == target.namespace || os_without_namespace)
            && self.name == target.name
            && self.version.as_ref().is_none_or(|v| target.version.as_ref() == Some(v))
            && self.subpath.as_ref().is_none_or(|s| target.subpath.as_ref() == Some(s))
            && self.qualifiers.iter().all(|q| target.qualifiers.contains(q))
    }
}

fn parse_qualifiers(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_ascii_lowercase(), decode(v)))
        .collect()
}

/// Percent-decoding that leaves malformed escapes as they are.
fn decode(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn versionless_pattern_matches_any_version() {
        let target = p("pkg:npm/%40babel/core@7.0.0");
        assert!(p("pkg:npm/@babel/core").matches(&target));
        assert!(p("pkg:npm/%40babel/core@7.0.0").matches(&target));
        assert!(!p("pkg:npm/%40babel/core@7.0.1").matches(&target));
        assert!(!p("pkg:npm/core@7.0.0").matches(&target));
        assert!(!p("pkg:pypi/%40babel/core").matches(&target));
    }

    #[test]
    fn qualifiers_in_the_pattern_must_be_present() {
        let target = p("pkg:deb/debian/curl@7.0?arch=amd64&distro=debian-12");
        assert!(p("pkg:deb/debian/curl?arch=amd64").matches(&target));
        assert!(!p("pkg:deb/debian/curl?arch=arm64").matches(&target));
    }

    #[test]
    fn os_patterns_with_a_distro_match_namespace_less_targets() {
        let target = p("pkg:deb/libssl1.1@1.1.1n-0");
        assert!(p("pkg:deb/debian/libssl1.1").matches(&target));
        assert!(!p("pkg:golang/example.com/libssl1.1").matches(&p("pkg:golang/libssl1.1@1")));
    }
}
