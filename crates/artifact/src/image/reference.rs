//! Image references as Docker spells them: `alpine`, `ghcr.io/o/app:1.2`,
//! `localhost:5000/app@sha256:…`.

use std::fmt;
use std::str::FromStr;

use super::ImageError;
use super::digest::Digest;

const DOCKER_HUB: &str = "docker.io";

/// A parsed reference: registry host, repository path, and a tag and/or digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses a reference; `alpine` is `docker.io/library/alpine:latest`.
    pub fn parse(s: &str) -> Result<Reference, ImageError> {
        let bad = |reason: &str| ImageError::InvalidReference {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => {
                let d = Digest::parse(d).map_err(|e| bad(&e))?;
                (rest, Some(d.as_str().to_string()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !valid {
                return Err(bad("invalid tag"));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => (first, path),
            _ => (DOCKER_HUB, name),
        };
        if !valid_host(registry) {
            return Err(bad("invalid registry host"));
        }
        let registry = if registry == "index.docker.io" { DOCKER_HUB } else { registry };
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad("repository names are lowercase letters, digits and separators (._-)"));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference { registry: registry.to_string(), repository, tag, digest })
    }

    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host to connect to: Docker Hub's API is not at `docker.io`.
    pub fn endpoint(&self) -> &str {
        if self.registry == DOCKER_HUB { "registry-1.docker.io" } else { &self.registry }
    }

    /// `library/alpine`, `org/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `sha256:…`, when the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// What to put after `/manifests/`: the digest when pinned, else the tag.
    pub(crate) fn manifest_ref(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The repository as `docker` prints it: `alpine`, `user/app`, `ghcr.io/o/app`.
    pub fn familiar_repository(&self) -> String {
        match (self.registry.as_str(), self.repository.strip_prefix("library/")) {
            (DOCKER_HUB, Some(short)) if !short.contains('/') => short.to_string(),
            (DOCKER_HUB, _) => self.repository.clone(),
            (host, _) => format!("{host}/{}", self.repository),
        }
    }

    /// The same repository at another tag or digest.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference { tag: None, digest: Some(digest.to_string()), ..self.clone() }
    }

    /// The same repository at another tag, without a digest (cosign keeps
    /// an image's signatures under the tag `sha256-<hex>.sig`).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ImageError> {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(ImageError::InvalidReference {
                reference: format!("{self}:{tag}"),
                reason: "invalid tag".into(),
            });
        }
        Ok(Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() })
    }
}

/// Whether a `host[:port]` is this machine, where plain HTTP is the norm
/// (as Docker and go-containerregistry assume).
pub(crate) fn is_loopback_host(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

impl fmt::Display for Reference {
    /// The full form: `docker.io/library/alpine:3.20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Reference, ImageError> {
        Reference::parse(s)
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`: the grammar also keeps
/// names safe to put in a URL path.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut prev_sep: Option<u8> = None;
    let mut run = 0;
    for &ch in b {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            prev_sep = None;
            run = 0;
        } else if matches!(ch, b'.' | b'_' | b'-') {
            run += 1;
            let ok = match (prev_sep, ch) {
                (None, _) => true,
                (Some(b'_'), b'_') => run == 2,
                (Some(b'-'), b'-') => true,
                _ => false,
            };
            if !ok {
                return false;
            }
            prev_sep = Some(ch);
        } else {
            return false;
        }
    }
    true
}

fn valid_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) => {
                if !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
                    return false;
                }
                ("v6", rest.strip_prefix(':'))
            }
            None => return false,
        },
        None => match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        },
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    name_ok && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse(s).unwrap();
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn docker_hub_defaults() {
        assert_eq!(
            parts("alpine"),
            ("docker.io".into(), "library/alpine".into(), Some("latest".into()), None)
        );
        assert_eq!(parts("user/app:1"), ("docker.io".into(), "user/app".into(), Some("1".into()), None));
        let r = Reference::parse("index.docker.io/library/alpine:3.20").unwrap();
        assert_eq!((r.endpoint(), r.familiar_repository().as_str()), ("registry-1.docker.io", "alpine"));
        assert_eq!(r.to_string(), "docker.io/library/alpine:3.20");
    }

    #[test]
    fn hosts_ports_and_digests() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            parts(&format!("127.0.0.1:5000/team/app@{d}")),
            ("127.0.0.1:5000".into(), "team/app".into(), None, Some(d.clone()))
        );
        assert_eq!(parts("localhost/app:v1.2_x").0, "localhost");
        assert_eq!(parts(&format!("ghcr.io/o/app:1@{d}")).2.as_deref(), Some("1"));
        assert!(is_loopback_host(Reference::parse("127.0.0.1:5000/app").unwrap().registry()));
        assert!(!is_loopback_host(Reference::parse("ghcr.io/o/app").unwrap().registry()));
        assert!(is_loopback_host(Reference::parse("[::1]:5000/app").unwrap().registry()));
        assert!(is_loopback_host("localhost") && !is_loopback_host("127example.com"));
    }

    #[test]
    fn rejects_what_is_not_a_reference() {
        for bad in [
            "",
            "Alpine",
            "a/../b",
            "a//b",
            "app:",
            "app:-x",
            "app@sha256:12",
            "h:99999x/app",
            "a/b?x=1",
            "-a",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(valid_component("a__b") && valid_component("a--b") && !valid_component("a___b"));
        assert!(!valid_component("a._b") && !valid_component("a."));
    }
}
