//! How ignore rules' package URLs match findings' (parsing is
//! [`rampart_types::Purl`]'s).

pub(crate) use rampart_types::Purl;

/// Ignore-rule matching of a pattern purl against a finding's purl.
pub(crate) trait PurlPattern {
    /// Whether `target` is a package this pattern names: versions, subpaths
    /// and qualifiers constrain only when the pattern gives them.
    fn matches(&self, target: &Purl) -> bool;
}

impl PurlPattern for Purl {
    fn matches(&self, target: &Purl) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
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
