//! Container images: sources, manifests, configs and layer streaming.
//!
//! [`open`] reads an image from a local OCI layout, OCI archive or
//! docker-archive, a registry, or a Docker Engine. [`Image::scan`] then
//! streams each layer exactly once: one decompression, one SHA-256 of the
//! tar stream (checked against the config's DiffIDs), one walk of the tar
//! headers. Only files the caller claims are read into memory, and only
//! those claimed [`Claim::Keep`] stay there; nothing is ever written to
//! disk, except the scratch copy of a compressed archive or a Docker Engine
//! export, which is an unlinked temporary file.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

mod daemon;
mod digest;
mod layer;
mod local;
mod reference;
mod registry;
mod resolve;
mod spec;
mod tar;

pub use layer::{Candidate, Claim, ImageFile, Link, Squashed};
pub use reference::Reference;
pub use registry::{Credentials, FetchedManifest, RegistryClient, RegistryOptions, default_docker_config};
pub use spec::{HistoryEntry, ImageConfig, Platform};

use digest::{Digest, VerifyReader};
use layer::{LayerInput, Scanner};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{input}: not a container image: {reason}")]
    NotAnImage { input: String, reason: String },
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what}: {reason}")]
    Unsupported { what: String, reason: String },
    /// No image in an index or archive matches the tag or platform asked for.
    #[error("{input}: no image for {wanted}; available: {available}")]
    NoMatch { input: String, wanted: String, available: String },
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("invalid platform {platform:?}: expected os/arch[/variant], e.g. linux/arm64")]
    InvalidPlatform { platform: String },
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },
    /// A [`Limits`] bound was hit: a decompression bomb or an absurd image.
    #[error("{layer}: {what} exceeds the limit of {limit}")]
    LimitExceeded { layer: String, what: String, limit: String },
    /// A layer that cannot be decompressed or is not a valid tar.
    #[error("{layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error("{url}: {reason}")]
    Registry { url: String, reason: String },
    /// The registry refused access. Never contains a password or token.
    #[error("{registry}: authentication failed: {reason}")]
    Unauthorized { registry: String, reason: String },
    #[error("{reference}: not found in the registry")]
    ManifestNotFound { reference: String },
    #[error("{reference}: offline mode forbids pulling from a registry")]
    Offline { reference: String },
    #[error("Docker Engine at {socket}: {reason}")]
    Daemon { socket: PathBuf, reason: String },
}

/// Bounds on what one image may make rampart read or keep. The defaults are
/// far above real images and stop decompression bombs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Decompressed bytes of one layer.
    pub max_layer_bytes: u64,
    /// Decompressed bytes of all layers together (also bounds the scratch
    /// copy of a compressed archive or an engine export).
    pub max_image_bytes: u64,
    /// Tar entries over all layers.
    pub max_entries: u64,
    /// A claimed file larger than this is skipped with a warning.
    pub max_file_bytes: u64,
    /// Kept file contents held at once (the squashed view). Visit-only
    /// files do not count: each is dropped once visited.
    pub max_buffered_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 20 << 30,
            max_image_bytes: 64 << 30,
            max_entries: 5_000_000,
            max_file_bytes: 64 << 20,
            max_buffered_bytes: 2 << 30,
        }
    }
}

/// Where an image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSource {
    /// An OCI layout directory, an OCI archive or a docker-archive (`docker
    /// save`, plain or gzipped); `tag` chooses among several images.
    Path {
        path: PathBuf,
        tag: Option<String>,
    },
    Registry(Reference),
    /// An image held by a Docker Engine, exported through its API socket.
    Daemon {
        socket: PathBuf,
        name: String,
    },
}

impl ImageSource {
    /// Reads `--input PATH[:TAG]`. An existing path is taken whole (so a
    /// file may contain `:`); otherwise the longest existing prefix before a
    /// `:` is the path and the rest the tag.
    pub fn parse_input(input: &str) -> Result<ImageSource, ImageError> {
        if Path::new(input).exists() {
            return Ok(ImageSource::Path { path: PathBuf::from(input), tag: None });
        }
        let mut best = None;
        for (i, _) in input.match_indices(':') {
            let (path, tag) = (&input[..i], &input[i + 1..]);
            if !path.is_empty() && !tag.is_empty() && Path::new(path).exists() {
                best = Some(ImageSource::Path { path: PathBuf::from(path), tag: Some(tag.to_string()) });
            }
        }
        best.ok_or_else(|| ImageError::NotFound { path: PathBuf::from(input) })
    }
}

#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The platform to take from a multi-platform index. `None` prefers
    /// linux/amd64 and accepts any single-platform image; `Some` is strict.
    pub platform: Option<Platform>,
    /// Refuse registries (local sources and the Docker socket still work).
    pub offline: bool,
    pub registry: RegistryOptions,
    pub limits: Limits,
}

/// Opens an image: reads its manifest and config, but no layer yet.
pub fn open(source: &ImageSource, opts: &OpenOptions) -> Result<Image, ImageError> {
    match source {
        ImageSource::Path { path, tag } => local::open_path(path, tag.as_deref(), opts),
        ImageSource::Registry(reference) => {
            if opts.offline {
                return Err(ImageError::Offline { reference: reference.to_string() });
            }
            RegistryClient::new(opts.registry.clone())?.open(reference, opts)
        }
        ImageSource::Daemon { socket, name } => daemon::open(socket, name, opts),
    }
}

/// The Docker Engine socket: `DOCKER_HOST` when it is a `unix://` URL,
/// else `/var/run/docker.sock`.
pub fn default_docker_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

/// One layer of an image, bottom first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// The blob digest (compressed), when the source records one; `docker
    /// save` archives do not.
    pub digest: Option<String>,
    /// The uncompressed digest from the config, verified when scanned.
    pub diff_id: String,
    pub media_type: Option<String>,
    /// Blob size in bytes, when known.
    pub size: Option<u64>,
    /// The build step that made the layer (history, `empty_layer` skipped).
    pub created_by: String,
}

impl LayerInfo {
    /// The layer as reports show it.
    pub fn report_layer(&self) -> rampart_types::Layer {
        rampart_types::Layer {
            digest: self.digest.clone().unwrap_or_default(),
            diff_id: self.diff_id.clone(),
            created_by: self.created_by.clone(),
        }
    }
}

/// What is known about an image before its layers are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageMetadata {
    /// How the user named it (path, reference or engine image name).
    pub name: String,
    /// The config digest (`sha256:…`), Docker's image ID.
    pub image_id: String,
    /// The digest of the platform manifest, when the source has one.
    pub manifest_digest: Option<String>,
    /// `repo:tag` names (docker-archive `RepoTags`, the pulled reference, the engine's tags).
    pub repo_tags: Vec<String>,
    /// `repo@sha256:…` names (for pulls, the digest the tag pointed to).
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerInfo>,
}

impl ImageMetadata {
    /// The report's image facts; the OS is left to the OS analyzers.
    pub fn report_metadata(&self) -> rampart_types::Metadata {
        rampart_types::Metadata {
            image_id: Some(self.image_id.clone()),
            diff_ids: self.layers.iter().map(|l| l.diff_id.clone()).collect(),
            repo_tags: self.repo_tags.clone(),
            repo_digests: self.repo_digests.clone(),
            ..rampart_types::Metadata::default()
        }
    }
}

/// The manifest as stored, byte for byte (its digest depends on it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawManifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// An opened image, ready to scan.
pub struct Image {
    metadata: ImageMetadata,
    manifest: Option<RawManifest>,
    config_bytes: Vec<u8>,
    store: Store,
    limits: Limits,
}

/// Where the layer blobs are, in the order of `ImageMetadata::layers`.
pub(crate) enum Store {
    /// Paths in a layout directory or an archive.
    Tree { tree: Box<dyn local::Tree>, layers: Vec<String> },
    /// Digests and sizes in a registry repository.
    Registry { remote: registry::Remote, layers: Vec<(Digest, u64)> },
}

impl Image {
    pub fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    /// The config JSON as stored.
    pub fn config_bytes(&self) -> &[u8] {
        &self.config_bytes
    }

    /// The manifest, for sources that have one (not `docker save` archives).
    pub fn manifest(&self) -> Option<&RawManifest> {
        self.manifest.as_ref()
    }

    /// Streams every layer once. `claim` is asked once about each regular
    /// file and hard link, from its tar header; `visit` gets every file
    /// claimed [`Claim::Visit`] or [`Claim::Keep`] of every layer in order,
    /// including those a later layer deletes or replaces (secrets in them
    /// are still in the image). Returns the squashed view, which holds only
    /// the files claimed `Keep`.
    ///
    /// A claimed hard link to a file whose content was not kept (busybox's
    /// applets) is the one exception to the single pass: its layer is read
    /// a second time for the target's content, and `visit` sees it after
    /// the last layer.
    pub fn scan(
        &self,
        claim: &dyn Fn(&Candidate<'_>) -> Claim,
        visit: &mut dyn FnMut(&ImageFile),
    ) -> Result<Squashed, ImageError> {
        let mut scanner = Scanner::new(claim, &self.limits);
        for (index, info) in self.metadata.layers.iter().enumerate() {
            let label = self.layer_label(index);
            let diff_id = Digest::parse(&info.diff_id)
                .map_err(|reason| ImageError::Malformed { what: format!("{label}: DiffID"), reason })?;
            let blob = self.open_layer(index)?;
            scanner.layer(LayerInput { index, label, diff_id, blob }, visit)?;
        }
        for (index, links) in scanner.unresolved_hard_links() {
            let targets: HashSet<String> = links.iter().map(|(_, target, _)| target.clone()).collect();
            let claim_targets =
                |file: &Candidate<'_>| if targets.contains(file.path) { Claim::Keep } else { Claim::No };
            let mut reread = Scanner::new(&claim_targets, &self.limits);
            let label = self.layer_label(index);
            let diff_id = Digest::parse(&self.metadata.layers[index].diff_id)
                .map_err(|reason| ImageError::Malformed { what: format!("{label}: DiffID"), reason })?;
            let blob = self.open_layer(index)?;
            reread.layer(LayerInput { index, label: label.clone(), diff_id, blob }, &mut |_| {})?;
            let found = reread.finish();
            scanner.fill_hard_links(links, &found, &label, visit)?;
        }
        Ok(scanner.finish())
    }

    /// The final filesystem's kept files, without a per-layer visitor.
    /// [`Claim::Visit`] acts as [`Claim::No`]: with no visitor there is no
    /// reason to read those files.
    pub fn squashed(&self, claim: &dyn Fn(&Candidate<'_>) -> Claim) -> Result<Squashed, ImageError> {
        let keep_only = |file: &Candidate<'_>| match claim(file) {
            Claim::Keep => Claim::Keep,
            Claim::Visit | Claim::No => Claim::No,
        };
        self.scan(&keep_only, &mut |_| {})
    }

    /// `layer 2 (sha256:…)`: 1-based, as people count layers.
    fn layer_label(&self, index: usize) -> String {
        let info = &self.metadata.layers[index];
        format!(
            "{}: layer {} ({})",
            self.metadata.name,
            index + 1,
            info.digest.as_deref().unwrap_or(&info.diff_id)
        )
    }

    /// A layer's blob as stored (compressed or not); registry blobs are
    /// verified against their digest as they stream.
    pub(crate) fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        match &self.store {
            Store::Tree { tree, layers } => tree.open(&layers[index]),
            Store::Registry { remote, layers } => {
                let (digest, size) = &layers[index];
                let body = remote.blob(digest, *size)?;
                Ok(Box::new(VerifyReader::new(body, digest.clone())))
            }
        }
    }
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image").field("metadata", &self.metadata).finish_non_exhaustive()
    }
}
