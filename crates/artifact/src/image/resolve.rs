//! From an index to one image: tag and platform selection through nested
//! indexes, then the manifest and config. Shared by OCI layouts (local or
//! archived) and registries.

use super::digest::Digest;
use super::spec::{self, Descriptor, Document, ImageConfig, Parsed, Platform};
use super::{ImageError, Reference};

/// Reads verified documents from wherever the image lives.
pub(crate) trait Documents {
    /// The input as the user named it, for messages.
    fn input(&self) -> String;
    /// An index or manifest, checked against the descriptor's digest.
    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError>;
    /// A config blob, checked against the descriptor's digest.
    fn config(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError>;
}

/// A manifest reachable from the top index.
pub(crate) struct Candidate {
    pub(crate) desc: Descriptor,
    /// The platform the enclosing index claims for it.
    pub(crate) platform: Option<Platform>,
    /// The tag the top-level index gives it (layouts only).
    pub(crate) name: Option<String>,
    /// The manifest, when it had to be fetched to learn what it was.
    pub(crate) bytes: Option<Vec<u8>>,
}

/// The chosen image's documents.
pub(crate) struct Chosen {
    pub(crate) manifest_digest: Digest,
    pub(crate) manifest_media_type: String,
    pub(crate) manifest_bytes: Vec<u8>,
    pub(crate) layers: Vec<Descriptor>,
    pub(crate) config_bytes: Vec<u8>,
    pub(crate) config: ImageConfig,
    pub(crate) config_digest: Digest,
}

/// Nested indexes deeper than this are a loop or an attack.
const MAX_NESTING: usize = 4;

/// Whether a layout's ref name matches what the user asked for: exactly,
/// or as the tag of a full name (`busybox:1.38.0-musl` for `1.38.0-musl`),
/// or as the same reference spelled differently (`alpine:3.20`).
pub(crate) fn name_matches(name: &str, wanted: &str) -> bool {
    if name == wanted || name.strip_suffix(wanted).is_some_and(|head| head.ends_with(':')) {
        return true;
    }
    match (Reference::parse(name), Reference::parse(wanted)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Picks one manifest from a top-level list of descriptors.
pub(crate) fn select(
    docs: &dyn Documents,
    top: Vec<Descriptor>,
    tag: Option<&str>,
    platform: Option<&Platform>,
) -> Result<Candidate, ImageError> {
    let top = match tag {
        None => top,
        Some(tag) => {
            let names: Vec<String> = top.iter().filter_map(|d| d.ref_name().map(str::to_string)).collect();
            let matching: Vec<Descriptor> =
                top.into_iter().filter(|d| d.ref_name().is_some_and(|n| name_matches(n, tag))).collect();
            if matching.is_empty() {
                return Err(ImageError::NoMatch {
                    input: docs.input(),
                    wanted: format!("tag {tag:?}"),
                    available: list(&names),
                });
            }
            matching
        }
    };
    let mut candidates = Vec::new();
    expand(docs, top, None, 0, &mut candidates)?;
    choose(docs, candidates, platform)
}

fn expand(
    docs: &dyn Documents,
    entries: Vec<Descriptor>,
    parent_name: Option<&str>,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<(), ImageError> {
    if depth > MAX_NESTING {
        return Err(ImageError::Malformed {
            what: docs.input(),
            reason: format!("image indexes nested more than {MAX_NESTING} deep"),
        });
    }
    for desc in entries {
        let name = parent_name.map(str::to_string).or_else(|| desc.ref_name().map(str::to_string));
        let platform = desc.platform.as_ref().map(Platform::from_spec);
        let known_manifest =
            desc.media_type == spec::OCI_MANIFEST || desc.media_type == spec::DOCKER_MANIFEST;
        if known_manifest {
            out.push(Candidate { desc, platform, name, bytes: None });
            continue;
        }
        if !desc.is_index() && !desc.media_type.is_empty() {
            // Signatures, SBOMs and other artifacts sharing the index.
            continue;
        }
        let bytes = docs.manifest(&desc)?;
        match Document::parse(&bytes, &|| format!("{}: {}", docs.input(), desc.digest))? {
            Parsed::Index(children) => expand(docs, children, name.as_deref(), depth + 1, out)?,
            Parsed::Manifest { .. } => out.push(Candidate { desc, platform, name, bytes: Some(bytes) }),
        }
    }
    Ok(())
}

fn choose(
    docs: &dyn Documents,
    candidates: Vec<Candidate>,
    platform: Option<&Platform>,
) -> Result<Candidate, ImageError> {
    // BuildKit attaches attestations as manifests of platform unknown/unknown.
    let usable: Vec<Candidate> =
        candidates.into_iter().filter(|c| c.platform.as_ref().is_none_or(|p| p.os != "unknown")).collect();
    let describe = |c: &Candidate| match (&c.name, &c.platform) {
        (Some(n), Some(p)) => format!("{n} ({p})"),
        (Some(n), None) => n.clone(),
        (None, Some(p)) => p.to_string(),
        (None, None) => c.desc.digest.clone(),
    };
    let available: Vec<String> = usable.iter().map(describe).collect();
    let wanted = platform.cloned().unwrap_or_else(Platform::linux_amd64);
    let fits = |c: &Candidate| c.platform.as_ref().is_none_or(|p| wanted.matches(p));
    let mut matching: Vec<Candidate> = if platform.is_none() && usable.len() == 1 {
        usable
    } else {
        usable.into_iter().filter(fits).collect()
    };
    let names: std::collections::BTreeSet<&str> = matching.iter().filter_map(|c| c.name.as_deref()).collect();
    if names.len() > 1 {
        return Err(ImageError::NoMatch {
            input: docs.input(),
            wanted: "one image (several are stored; add :TAG to choose)".to_string(),
            available: list(&available),
        });
    }
    if matching.is_empty() {
        return Err(ImageError::NoMatch {
            input: docs.input(),
            wanted: format!("platform {wanted}"),
            available: list(&available),
        });
    }
    Ok(matching.swap_remove(0))
}

/// Reads the chosen manifest and its config. With an explicit platform, a
/// manifest no index vouched for must match its config's platform.
pub(crate) fn load(
    docs: &dyn Documents,
    chosen: Candidate,
    platform: Option<&Platform>,
) -> Result<Chosen, ImageError> {
    let what = || format!("{}: manifest {}", docs.input(), chosen.desc.digest);
    let manifest_digest = Digest::parse(&chosen.desc.digest)
        .map_err(|reason| ImageError::Malformed { what: docs.input(), reason })?;
    let bytes = match chosen.bytes {
        Some(b) => b,
        None => docs.manifest(&chosen.desc)?,
    };
    let (config_desc, layers) = match Document::parse(&bytes, &what)? {
        Parsed::Manifest { config, layers } => (config, layers),
        Parsed::Index(_) => {
            return Err(ImageError::Malformed {
                what: what(),
                reason: "expected a manifest, found an index".into(),
            });
        }
    };
    spec::check_config_media_type(&config_desc, &|| docs.input())?;
    for l in &layers {
        spec::check_layer_media_type(l, &|| docs.input())?;
    }
    let config_digest = Digest::parse(&config_desc.digest).map_err(|reason| ImageError::Malformed {
        what: what(),
        reason: format!("config digest: {reason}"),
    })?;
    let config_bytes = docs.config(&config_desc)?;
    let config =
        ImageConfig::parse(&config_bytes, &|| format!("{}: config {}", docs.input(), config_digest))?;
    if let Some(wanted) = platform
        && chosen.platform.is_none()
        && !wanted.matches(&config.platform())
    {
        return Err(ImageError::NoMatch {
            input: docs.input(),
            wanted: format!("platform {wanted}"),
            available: config.platform().to_string(),
        });
    }
    let manifest_media_type = if chosen.desc.media_type.is_empty() {
        media_type_of(&bytes).unwrap_or_else(|| spec::OCI_MANIFEST.to_string())
    } else {
        chosen.desc.media_type.clone()
    };
    Ok(Chosen {
        manifest_digest,
        manifest_media_type,
        manifest_bytes: bytes,
        layers,
        config_bytes,
        config,
        config_digest,
    })
}

/// The `mediaType` a document declares about itself.
pub(crate) fn media_type_of(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Document>(bytes).ok().and_then(|d| d.media_type)
}

/// Layer-count consistency between manifest and config.
pub(crate) fn check_diff_ids(input: &str, layers: usize, config: &ImageConfig) -> Result<(), ImageError> {
    if config.diff_ids.len() == layers {
        return Ok(());
    }
    Err(ImageError::Malformed {
        what: format!("{input}: config"),
        reason: format!("{} DiffIDs for {layers} layers", config.diff_ids.len()),
    })
}

pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}
