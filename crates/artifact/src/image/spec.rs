//! The JSON documents of OCI and Docker images: indexes, manifests, configs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::ImageError;

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Everything a registry may answer a manifest request with that we can read.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";
/// Manifests, indexes and configs are small; anything bigger is not one.
pub(crate) const MAX_DOCUMENT: u64 = 4 * 1024 * 1024;
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Treats JSON `null` like a missing field: Docker writes `"Env": null`.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<PlatformSpec>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub(crate) fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_LIST
    }

    /// The tag a layout's index gives this manifest.
    pub(crate) fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).or_else(|| self.annotations.get(CONTAINERD_NAME)).map(String::as_str)
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct PlatformSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) variant: Option<String>,
}

/// An index or a manifest: which one is decided by what it holds, since
/// `mediaType` is optional in OCI documents.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Document {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) schema_version: u32,
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    #[serde(default)]
    pub(crate) manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub(crate) config: Option<Descriptor>,
    #[serde(default)]
    pub(crate) layers: Option<Vec<Descriptor>>,
}

pub(crate) enum Parsed {
    Index(Vec<Descriptor>),
    Manifest { config: Descriptor, layers: Vec<Descriptor> },
}

impl Document {
    pub(crate) fn parse(bytes: &[u8], what: &dyn Fn() -> String) -> Result<Parsed, ImageError> {
        let doc: Document = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::Malformed { what: what(), reason: e.to_string() })?;
        if doc.schema_version == 1 {
            return Err(ImageError::Unsupported {
                what: what(),
                reason: "Docker schema 1 manifests are deprecated and not supported".to_string(),
            });
        }
        match doc {
            Document { manifests: Some(m), .. } => Ok(Parsed::Index(m)),
            Document { config: Some(config), layers, .. } => {
                Ok(Parsed::Manifest { config, layers: layers.unwrap_or_default() })
            }
            Document { media_type, .. } => Err(ImageError::Malformed {
                what: what(),
                reason: format!(
                    "neither an image index nor a manifest (media type {})",
                    media_type.as_deref().unwrap_or("unset")
                ),
            }),
        }
    }
}

/// Refuses manifests of things that are not container images (Helm charts,
/// signatures, SBOM attachments), which share the registry format.
pub(crate) fn check_config_media_type(
    config: &Descriptor,
    what: &dyn Fn() -> String,
) -> Result<(), ImageError> {
    match config.media_type.as_str() {
        "" | OCI_CONFIG | DOCKER_CONFIG => Ok(()),
        other => Err(ImageError::NotAnImage {
            input: what(),
            reason: format!("its config has media type {other}, not an image config"),
        }),
    }
}

/// What a layer's media type says about its content. The bytes are sniffed
/// anyway; this only refuses what is certainly not a filesystem layer.
pub(crate) fn check_layer_media_type(
    layer: &Descriptor,
    what: &dyn Fn() -> String,
) -> Result<(), ImageError> {
    let t = layer.media_type.as_str();
    let known = t.is_empty()
        || t.starts_with("application/vnd.oci.image.layer.")
        || t.starts_with("application/vnd.docker.image.rootfs.");
    if known {
        Ok(())
    } else {
        Err(ImageError::NotAnImage { input: what(), reason: format!("it has a layer of media type {t}") })
    }
}

/// The parts of an image config rampart reads, as stored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawConfig {
    #[serde(default, deserialize_with = "nullable")]
    architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    config: RawRunConfig,
    #[serde(default, deserialize_with = "nullable")]
    rootfs: RawRootfs,
    #[serde(default, deserialize_with = "nullable")]
    history: Vec<RawHistory>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRunConfig {
    #[serde(default, deserialize_with = "nullable")]
    user: String,
    #[serde(default, deserialize_with = "nullable")]
    env: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    entrypoint: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    cmd: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    working_dir: String,
    #[serde(default, deserialize_with = "nullable")]
    exposed_ports: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRootfs {
    #[serde(default, deserialize_with = "nullable")]
    diff_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawHistory {
    #[serde(default)]
    created: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    created_by: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    empty_layer: bool,
}

/// An image's configuration: platform, run settings and build history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// RFC 3339 build time, as recorded.
    pub created: Option<String>,
    pub author: Option<String>,
    /// `USER`; empty means root.
    pub user: String,
    /// `KEY=value` strings.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    /// `80/tcp`, …
    pub exposed_ports: Vec<String>,
    /// Every build step, including those that made no layer (`empty_layer`).
    pub history: Vec<HistoryEntry>,
    /// Uncompressed layer digests, bottom layer first.
    pub diff_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryEntry {
    pub created: Option<String>,
    /// The build step (`/bin/sh -c apk add …`).
    pub created_by: String,
    pub author: Option<String>,
    pub comment: Option<String>,
    /// True when the step changed only the config.
    pub empty_layer: bool,
}

impl ImageConfig {
    pub(crate) fn parse(bytes: &[u8], what: &dyn Fn() -> String) -> Result<ImageConfig, ImageError> {
        let raw: RawConfig = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::Malformed { what: what(), reason: e.to_string() })?;
        Ok(ImageConfig {
            os: raw.os,
            architecture: raw.architecture,
            variant: raw.variant,
            created: raw.created,
            author: raw.author,
            user: raw.config.user,
            env: raw.config.env,
            labels: raw.config.labels,
            entrypoint: raw.config.entrypoint,
            cmd: raw.config.cmd,
            working_dir: raw.config.working_dir,
            exposed_ports: raw.config.exposed_ports.into_keys().collect(),
            history: raw
                .history
                .into_iter()
                .map(|h| HistoryEntry {
                    created: h.created,
                    created_by: h.created_by,
                    author: h.author,
                    comment: h.comment,
                    empty_layer: h.empty_layer,
                })
                .collect(),
            diff_ids: raw.rootfs.diff_ids,
        })
    }

    /// The build step of each layer: history entries that made a layer, in
    /// order. Missing entries (history is optional) give empty strings.
    pub(crate) fn layer_steps(&self, layers: usize) -> Vec<String> {
        let mut steps: Vec<String> = self
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.clone())
            .take(layers)
            .collect();
        steps.resize(layers, String::new());
        steps
    }

    pub(crate) fn platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// A target platform, `os/architecture[/variant]` (`linux/arm64/v8`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let (architecture, implied) = match architecture {
            "x86_64" | "x86-64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "i386" | "i686" => ("386", None),
            "armhf" => ("arm", Some("v7")),
            "armel" => ("arm", Some("v6")),
            other => (other, None),
        };
        let variant = variant.filter(|v| !v.is_empty()).or(implied).map(str::to_string);
        Platform { os: os.to_string(), architecture: architecture.to_string(), variant }
    }

    /// The default when nothing is asked for.
    pub fn linux_amd64() -> Platform {
        Platform::new("linux", "amd64", None)
    }

    /// Whether an image built for `other` runs here. A missing variant
    /// matches any; `arm64` without a variant is `v8`.
    pub fn matches(&self, other: &Platform) -> bool {
        let variant = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        self.os == other.os
            && self.architecture == other.architecture
            && match (variant(self), variant(other)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    pub(crate) fn from_spec(spec: &PlatformSpec) -> Platform {
        Platform::new(&spec.os, &spec.architecture, spec.variant.as_deref())
    }
}

impl FromStr for Platform {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Platform, ImageError> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || ImageError::InvalidPlatform { platform: s.to_string() };
        if parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
            return Err(bad());
        }
        match parts[..] {
            [os, arch] => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One entry of a `docker save` archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerArchiveEntry {
    pub(crate) config: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) repo_tags: Vec<String>,
    pub(crate) layers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_normalize_and_match() {
        let p: Platform = "linux/arm64".parse().unwrap();
        assert!(p.matches(&Platform::new("linux", "aarch64", Some("v8"))));
        assert!(!p.matches(&Platform::linux_amd64()));
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        assert!(v7.matches(&Platform::new("linux", "armhf", None)));
        assert!(!v7.matches(&Platform::new("linux", "arm", Some("v6"))));
        assert_eq!(v7.to_string(), "linux/arm/v7");
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux/amd64/v1/x".parse::<Platform>().is_err());
    }

    #[test]
    fn nulls_in_docker_configs_are_defaults() {
        let c = ImageConfig::parse(
            br#"{"os":"linux","architecture":"amd64","config":{"Env":null,"Labels":null},"history":null}"#,
            &|| "config".to_string(),
        )
        .unwrap();
        assert!(c.env.is_empty() && c.labels.is_empty() && c.history.is_empty());
    }

    #[test]
    fn layer_steps_skip_empty_layers() {
        let c = ImageConfig::parse(
            br#"{"history":[{"created_by":"a"},{"created_by":"b","empty_layer":true},{"created_by":"c"}]}"#,
            &|| "config".to_string(),
        )
        .unwrap();
        assert_eq!(c.layer_steps(3), ["a", "c", ""]);
    }
}
