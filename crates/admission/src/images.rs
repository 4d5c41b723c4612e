//! Built-in image rules: allowed registries, no `:latest` or untagged
//! images, digest pinning. They read every container (init and ephemeral
//! too) of Pods and of workloads' pod templates.

use rampart_podsecurity::pod_of;
use serde_json::Value;

use crate::Error;
use crate::engine::{Action, Finding, Review, Validator};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageRules {
    /// Registries (`registry.example.com`) or repository prefixes
    /// (`ghcr.io/org`) images must come from; empty allows any.
    pub allowed_registries: Vec<String>,
    /// Refuse `:latest` and untagged images (which mean `:latest`).
    pub disallow_latest: bool,
    /// Refuse images not pinned by digest (`@sha256:…`).
    pub require_digest: bool,
}

impl ImageRules {
    pub fn is_empty(&self) -> bool {
        self.allowed_registries.is_empty() && !self.disallow_latest && !self.require_digest
    }

    /// The rules an image breaks: (rule id, explanation).
    pub fn check(&self, image: &str) -> Vec<(&'static str, String)> {
        let r = ImageRef::parse(image);
        let mut out = Vec::new();
        if !self.allowed_registries.is_empty() {
            let full = format!("{}/{}", r.registry, r.repository);
            let ok = self.allowed_registries.iter().any(|a| {
                let a = a.trim_end_matches('/');
                full == a || full.starts_with(&format!("{a}/"))
            });
            if !ok {
                out.push((
                    "allowed-registries",
                    format!("is not from an allowed registry ({})", self.allowed_registries.join(", ")),
                ));
            }
        }
        if self.disallow_latest && r.digest.is_none() {
            match r.tag {
                None => out.push(("disallow-latest", "has no tag, which means :latest".to_string())),
                Some("latest") => out.push(("disallow-latest", "uses the :latest tag".to_string())),
                Some(_) => {}
            }
        }
        if self.require_digest && r.digest.is_none() {
            out.push(("require-digest", "is not pinned by digest (@sha256:…)".to_string()));
        }
        out
    }
}

/// An image reference split the way container runtimes read it.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub registry: &'a str,
    /// With `library/` added for Docker Hub's official images.
    pub repository: String,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> Self {
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
            _ => ("docker.io", name),
        };
        let registry = if registry == "index.docker.io" { "docker.io" } else { registry };
        let repository = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        ImageRef { registry, repository, tag, digest }
    }
}

const SOURCE: &str = "images";

impl Validator for ImageRules {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn may_block(&self) -> bool {
        false
    }

    fn validate(&self, r: &Review<'_>) -> Result<Vec<Finding>, Error> {
        if self.is_empty() || !r.changes_images() {
            return Ok(Vec::new());
        }
        let mut findings = Vec::new();
        for (name, image) in container_images(r.object) {
            for (rule, why) in self.check(image) {
                findings.push(Finding {
                    source: SOURCE,
                    rule: rule.to_string(),
                    message: format!("[{rule}] container {name:?} image {image:?} {why}"),
                    action: Action::Deny,
                });
            }
        }
        Ok(findings)
    }
}

/// Every container of a Pod or of a workload's pod template, init and
/// ephemeral ones included: (name, image), `""` for what is missing.
pub(crate) fn container_images(object: &Value) -> Vec<(&str, &str)> {
    let Some(pod) = pod_of(object) else { return Vec::new() };
    pod.containers().map(|(name, c)| (name, c.get("image").and_then(Value::as_str).unwrap_or(""))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let cases = [
            ("nginx", "docker.io", "library/nginx", None, None),
            ("nginx:1.25", "docker.io", "library/nginx", Some("1.25"), None),
            ("bitnami/redis:7", "docker.io", "bitnami/redis", Some("7"), None),
            ("localhost:5000/app", "localhost:5000", "app", None, None),
            ("ghcr.io/org/app:v1@sha256:ab", "ghcr.io", "org/app", Some("v1"), Some("sha256:ab")),
            (
                "registry.example.com:443/team/app@sha256:cd",
                "registry.example.com:443",
                "team/app",
                None,
                Some("sha256:cd"),
            ),
            ("index.docker.io/library/busybox:latest", "docker.io", "library/busybox", Some("latest"), None),
        ];
        for (image, registry, repo, tag, digest) in cases {
            let r = ImageRef::parse(image);
            assert_eq!(
                (r.registry, r.repository.as_str(), r.tag, r.digest),
                (registry, repo, tag, digest),
                "{image}"
            );
        }
    }

    #[test]
    fn rules_fire_only_when_configured() {
        let rules = ImageRules {
            allowed_registries: vec![
                "registry.example.com".into(),
                "ghcr.io/org/".into(),
                "docker.io/library".into(),
            ],
            disallow_latest: true,
            require_digest: true,
        };
        let ids = |image: &str| rules.check(image).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids("registry.example.com/app@sha256:ab"), Vec::<&str>::new());
        assert_eq!(ids("ghcr.io/org/app:1@sha256:ab"), Vec::<&str>::new());
        assert_eq!(ids("ghcr.io/organisation/app@sha256:ab"), ["allowed-registries"]);
        assert_eq!(ids("nginx"), ["disallow-latest", "require-digest"]);
        assert_eq!(ids("nginx:latest"), ["disallow-latest", "require-digest"]);
        assert_eq!(ids("evil.example/registry.example.com:1"), ["allowed-registries", "require-digest"]);
        assert_eq!(ids("bitnami/redis:7@sha256:ab"), ["allowed-registries"]);
        assert!(ImageRules::default().check("anything").is_empty());
    }
}
