//! Images on disk: OCI layout directories, OCI archives and docker-archives.
//!
//! An archive is indexed once (headers only, data skipped by seeking) and
//! its blobs are then read in place by offset. A compressed archive cannot
//! be read by offset, so it is first decompressed into an unlinked
//! temporary file.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::digest::Digest;
use super::layer::{Normalized, Zstd, normalize};
use super::resolve::{self, Documents};
use super::spec::{self, Descriptor, DockerArchiveEntry, ImageConfig};
use super::tar::{Kind, SeekInput, TarReader};
use super::{Image, ImageError, ImageMetadata, LayerInfo, Limits, OpenOptions, RawManifest, Store};

/// A file tree holding an image: a directory or an indexed tar.
pub(crate) trait Tree: Send + Sync {
    fn exists(&self, path: &str) -> bool;
    /// A small file (JSON), at most `max` bytes.
    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, ImageError>;
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, ImageError>;
}

pub(crate) fn open_path(path: &Path, tag: Option<&str>, opts: &OpenOptions) -> Result<Image, ImageError> {
    let shown = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| io_err(path, e))?;
    let tree: Box<dyn Tree> = if meta.is_dir() {
        Box::new(DirTree::new(path)?)
    } else {
        Box::new(TarTree::open(path, &opts.limits)?)
    };
    open_tree(tree, &shown, tag, opts)
}

/// Reads an image from a tree: `manifest.json` makes it a docker-archive
/// (which Docker 25+ also gives an `index.json`; its `RepoTags` win),
/// `index.json` an OCI layout.
pub(crate) fn open_tree(
    tree: Box<dyn Tree>,
    shown: &str,
    tag: Option<&str>,
    opts: &OpenOptions,
) -> Result<Image, ImageError> {
    if tree.exists("manifest.json") {
        docker_archive(tree, shown, tag, opts)
    } else if tree.exists("index.json") {
        oci_layout(tree, shown, tag, opts)
    } else {
        Err(ImageError::NotAnImage {
            input: shown.to_string(),
            reason: "it has neither manifest.json (docker save) nor index.json (OCI layout)".to_string(),
        })
    }
}

fn docker_archive(
    tree: Box<dyn Tree>,
    shown: &str,
    tag: Option<&str>,
    opts: &OpenOptions,
) -> Result<Image, ImageError> {
    let what = || format!("{shown}: manifest.json");
    let bytes = tree.read("manifest.json", spec::MAX_DOCUMENT)?;
    let entries: Vec<DockerArchiveEntry> = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::Malformed { what: what(), reason: e.to_string() })?;
    let all_tags: Vec<String> = entries.iter().flat_map(|e| e.repo_tags.iter().cloned()).collect();
    let mut matching: Vec<DockerArchiveEntry> = match tag {
        Some(t) => {
            entries.into_iter().filter(|e| e.repo_tags.iter().any(|n| resolve::name_matches(n, t))).collect()
        }
        None => entries,
    };
    let entry = match matching.len() {
        1 => matching.swap_remove(0),
        0 if tag.is_none() => {
            return Err(ImageError::NotAnImage {
                input: shown.to_string(),
                reason: "manifest.json is empty".into(),
            });
        }
        n => {
            let wanted = match tag {
                Some(t) if n == 0 => format!("tag {t:?}"),
                _ => format!("one image ({n} are stored; add :TAG to choose)"),
            };
            return Err(ImageError::NoMatch {
                input: shown.to_string(),
                wanted,
                available: resolve::list(&all_tags),
            });
        }
    };
    let config_bytes = tree.read(&entry.config, spec::MAX_DOCUMENT)?;
    let config = ImageConfig::parse(&config_bytes, &|| format!("{shown}: {}", entry.config))?;
    if let Some(wanted) = &opts.platform
        && !wanted.matches(&config.platform())
    {
        return Err(ImageError::NoMatch {
            input: shown.to_string(),
            wanted: format!("platform {wanted}"),
            available: config.platform().to_string(),
        });
    }
    resolve::check_diff_ids(shown, entry.layers.len(), &config)?;
    let steps = config.layer_steps(entry.layers.len());
    let layers = config
        .diff_ids
        .iter()
        .zip(steps)
        .map(|(diff_id, created_by)| LayerInfo {
            digest: None,
            diff_id: diff_id.clone(),
            media_type: None,
            size: None,
            created_by,
        })
        .collect();
    let metadata = ImageMetadata {
        name: shown.to_string(),
        image_id: Digest::sha256(&config_bytes).to_string(),
        manifest_digest: None,
        repo_tags: entry.repo_tags,
        repo_digests: Vec::new(),
        config,
        layers,
    };
    Ok(Image {
        metadata,
        manifest: None,
        config_bytes,
        store: Store::Tree { tree, layers: entry.layers },
        limits: opts.limits.clone(),
    })
}

/// Blobs of an OCI layout, `blobs/<algorithm>/<hex>`, verified when read.
struct LayoutDocuments<'a> {
    tree: &'a dyn Tree,
    shown: &'a str,
}

impl LayoutDocuments<'_> {
    fn blob(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        let digest = Digest::parse(&desc.digest)
            .map_err(|reason| ImageError::Malformed { what: self.shown.to_string(), reason })?;
        let bytes = self.tree.read(&blob_path(&digest), spec::MAX_DOCUMENT)?;
        digest.verify(&bytes).map_err(|actual| ImageError::DigestMismatch {
            what: format!("{}: blob {}", self.shown, blob_path(&digest)),
            expected: digest.to_string(),
            actual: actual.to_string(),
        })?;
        Ok(bytes)
    }
}

impl Documents for LayoutDocuments<'_> {
    fn input(&self) -> String {
        self.shown.to_string()
    }
    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        self.blob(desc)
    }
    fn config(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        self.blob(desc)
    }
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}

fn oci_layout(
    tree: Box<dyn Tree>,
    shown: &str,
    tag: Option<&str>,
    opts: &OpenOptions,
) -> Result<Image, ImageError> {
    let docs = LayoutDocuments { tree: tree.as_ref(), shown };
    let index_bytes = tree.read("index.json", spec::MAX_DOCUMENT)?;
    let top = match spec::Document::parse(&index_bytes, &|| format!("{shown}: index.json"))? {
        spec::Parsed::Index(m) => m,
        spec::Parsed::Manifest { .. } => {
            return Err(ImageError::Malformed {
                what: format!("{shown}: index.json"),
                reason: "is a manifest, not an index".to_string(),
            });
        }
    };
    let candidate = resolve::select(&docs, top, tag, opts.platform.as_ref())?;
    let chosen = resolve::load(&docs, candidate, opts.platform.as_ref())?;
    resolve::check_diff_ids(shown, chosen.layers.len(), &chosen.config)?;
    let mut paths = Vec::with_capacity(chosen.layers.len());
    let steps = chosen.config.layer_steps(chosen.layers.len());
    let mut layers = Vec::with_capacity(chosen.layers.len());
    for ((desc, diff_id), created_by) in chosen.layers.iter().zip(&chosen.config.diff_ids).zip(steps) {
        let digest = Digest::parse(&desc.digest)
            .map_err(|reason| ImageError::Malformed { what: format!("{shown}: layer"), reason })?;
        paths.push(blob_path(&digest));
        layers.push(LayerInfo {
            digest: Some(desc.digest.clone()),
            diff_id: diff_id.clone(),
            media_type: Some(desc.media_type.clone()).filter(|m| !m.is_empty()),
            size: Some(desc.size),
            created_by,
        });
    }
    let metadata = ImageMetadata {
        name: match tag {
            Some(t) => format!("{shown}:{t}"),
            None => shown.to_string(),
        },
        image_id: chosen.config_digest.to_string(),
        manifest_digest: Some(chosen.manifest_digest.to_string()),
        repo_tags: Vec::new(),
        repo_digests: Vec::new(),
        config: chosen.config,
        layers,
    };
    Ok(Image {
        metadata,
        manifest: Some(RawManifest { media_type: chosen.manifest_media_type, bytes: chosen.manifest_bytes }),
        config_bytes: chosen.config_bytes,
        store: Store::Tree { tree, layers: paths },
        limits: opts.limits.clone(),
    })
}

fn io_err(path: &Path, e: io::Error) -> ImageError {
    match e.kind() {
        io::ErrorKind::NotFound => ImageError::NotFound { path: path.to_path_buf() },
        _ => ImageError::Io { path: path.display().to_string(), source: e },
    }
}

/// A layout directory. Blobs may be symlinks (docker-library's layouts
/// are), but only to files inside the directory.
struct DirTree {
    root: PathBuf,
    canonical: PathBuf,
}

impl DirTree {
    fn new(root: &Path) -> Result<DirTree, ImageError> {
        let canonical = fs::canonicalize(root).map_err(|e| io_err(root, e))?;
        Ok(DirTree { root: root.to_path_buf(), canonical })
    }

    fn locate(&self, rel: &str) -> Result<PathBuf, ImageError> {
        let mut rel = rel.to_string();
        for _ in 0..MAX_PLACEHOLDER_HOPS {
            let (real, size) = self.locate_once(&rel)?;
            match self.placeholder_target(&rel, &real, size)? {
                Some(target) => rel = target,
                None => return Ok(real),
            }
        }
        Err(ImageError::Malformed {
            what: self.root.join(rel).display().to_string(),
            reason: "too many links".into(),
        })
    }

    fn locate_once(&self, rel: &str) -> Result<(PathBuf, u64), ImageError> {
        let shown = self.root.join(rel);
        let Normalized::Path(rel) = normalize(rel.as_bytes()) else {
            return Err(ImageError::Malformed {
                what: shown.display().to_string(),
                reason: "not a file path".into(),
            });
        };
        let real = fs::canonicalize(self.root.join(&rel)).map_err(|e| io_err(&shown, e))?;
        if !real.starts_with(&self.canonical) {
            return Err(ImageError::Malformed {
                what: shown.display().to_string(),
                reason: "a symlink that leads outside the image directory".to_string(),
            });
        }
        let meta = fs::metadata(&real).map_err(|e| io_err(&shown, e))?;
        if !meta.is_file() {
            return Err(ImageError::Malformed {
                what: shown.display().to_string(),
                reason: "not a regular file".into(),
            });
        }
        Ok((real, meta.len()))
    }

    /// A symlink checked out where links are unsupported (git with
    /// `core.symlinks=false`) is a small file holding the target path. A
    /// blob that does not hash to its own name but names a file in the
    /// layout is taken for one.
    fn placeholder_target(&self, rel: &str, real: &Path, size: u64) -> Result<Option<String>, ImageError> {
        let Some(hex) = rel.strip_prefix("blobs/sha256/") else { return Ok(None) };
        if size > 4096 {
            return Ok(None);
        }
        let content = fs::read(real).map_err(|e| io_err(real, e))?;
        if Digest::sha256(&content).hex() == hex {
            return Ok(None);
        }
        let Ok(text) = std::str::from_utf8(&content) else { return Ok(None) };
        let target = text.strip_suffix('\n').unwrap_or(text);
        if target.is_empty() || target.contains(['\n', '\0']) {
            return Ok(None);
        }
        Ok(join_inside("blobs/sha256", target).filter(|t| self.root.join(t).is_file()))
    }
}

/// How many link placeholders may chain.
const MAX_PLACEHOLDER_HOPS: usize = 8;

impl Tree for DirTree {
    fn exists(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, ImageError> {
        let real = self.locate(path)?;
        let file = File::open(&real).map_err(|e| io_err(&real, e))?;
        read_bounded(file, max, &self.root.join(path).display().to_string())
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let real = self.locate(path)?;
        Ok(Box::new(File::open(&real).map_err(|e| io_err(&real, e))?))
    }
}

fn read_bounded(r: impl Read, max: u64, shown: &str) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    r.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|source| ImageError::Io { path: shown.to_string(), source })?;
    if out.len() as u64 > max {
        return Err(ImageError::Malformed {
            what: shown.to_string(),
            reason: format!("larger than {max} bytes; not an image document"),
        });
    }
    Ok(out)
}

enum Member {
    Data { offset: u64, size: u64 },
    Symlink(String),
    HardLink(String),
    Other,
}

/// An archive indexed by member name; blobs are read by offset.
pub(crate) struct TarTree {
    file: File,
    members: HashMap<String, Member>,
    shown: String,
}

impl TarTree {
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<TarTree, ImageError> {
        let shown = path.display().to_string();
        let mut file = File::open(path).map_err(|e| io_err(path, e))?;
        let mut magic = [0u8; 4];
        let n = file.read_at(&mut magic, 0).map_err(|e| io_err(path, e))?;
        let file = if magic[..n].starts_with(&[0x1f, 0x8b]) {
            spool(MultiGzDecoder::new(BufReader::new(&mut file)), &shown, limits)?
        } else if magic[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            spool(Zstd::new(BufReader::new(&mut file)), &shown, limits)?
        } else {
            file
        };
        TarTree::index(file, shown, limits)
    }

    /// Indexes an archive file; only headers are read.
    pub(crate) fn index(file: File, shown: String, limits: &Limits) -> Result<TarTree, ImageError> {
        let io = |source| ImageError::Io { path: shown.clone(), source };
        let len = file.metadata().map_err(io)?.len();
        let mut reader = file.try_clone().map_err(io)?;
        reader.rewind().map_err(io)?;
        let mut tar = TarReader::new(SeekInput { inner: BufReader::with_capacity(64 * 1024, reader) });
        let mut members = HashMap::new();
        let malformed = |reason: String| ImageError::Malformed { what: shown.clone(), reason };
        while let Some(entry) = tar.next_entry().map_err(|e| malformed(e.to_string()))? {
            if members.len() as u64 >= limits.max_entries {
                return Err(malformed(format!("more than {} entries", limits.max_entries)));
            }
            let Normalized::Path(name) = normalize(&entry.path) else { continue };
            if entry.offset.checked_add(entry.size).is_none_or(|end| end > len) {
                return Err(malformed(format!("{name}: truncated archive")));
            }
            let member = match entry.kind {
                Kind::File => Member::Data { offset: entry.offset, size: entry.size },
                Kind::Symlink => Member::Symlink(String::from_utf8_lossy(&entry.link).into_owned()),
                Kind::HardLink => match normalize(&entry.link) {
                    Normalized::Path(target) => Member::HardLink(target),
                    _ => Member::Other,
                },
                Kind::Dir | Kind::Other => Member::Other,
            };
            members.insert(name, member);
        }
        Ok(TarTree { file, members, shown })
    }

    /// Follows links between members (`<id>/layer.tar -> ../<diffid>.tar`),
    /// never out of the archive.
    fn locate(&self, path: &str) -> Result<(u64, u64), ImageError> {
        let missing = || ImageError::Malformed {
            what: self.shown.clone(),
            reason: format!("{path} is missing from the archive"),
        };
        let Normalized::Path(mut current) = normalize(path.as_bytes()) else { return Err(missing()) };
        for _ in 0..16 {
            current = match self.members.get(&current) {
                Some(Member::Data { offset, size }) => return Ok((*offset, *size)),
                Some(Member::HardLink(target)) => target.clone(),
                Some(Member::Symlink(target)) => {
                    let dir = current.rsplit_once('/').map_or("", |(d, _)| d);
                    join_inside(dir, target).ok_or_else(missing)?
                }
                Some(Member::Other) | None => return Err(missing()),
            };
        }
        Err(missing())
    }
}

/// `dir/target` with `..` applied; `None` if it climbs out of the root.
fn join_inside(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> =
        if target.starts_with('/') { Vec::new() } else { dir.split('/').filter(|c| !c.is_empty()).collect() };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

impl Tree for TarTree {
    fn exists(&self, path: &str) -> bool {
        self.locate(path).is_ok()
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, ImageError> {
        let (offset, size) = self.locate(path)?;
        read_bounded(Range { file: &self.file, pos: offset, end: offset + size }, max, &self.shown)
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let (offset, size) = self.locate(path)?;
        Ok(Box::new(Range { file: &self.file, pos: offset, end: offset + size }))
    }
}

/// A slice of a file read with positioned reads, so any number of blobs
/// can be open at once on one descriptor.
struct Range<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Range<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Decompresses an archive into an unlinked temporary file, bounded by the
/// image size limit.
pub(crate) fn spool(mut from: impl Read, shown: &str, limits: &Limits) -> Result<File, ImageError> {
    let io = |source| ImageError::Io { path: shown.to_string(), source };
    let mut file = tempfile::tempfile().map_err(io)?;
    let copied = io::copy(&mut (&mut from).take(limits.max_image_bytes + 1), &mut file).map_err(io)?;
    if copied > limits.max_image_bytes {
        return Err(ImageError::LimitExceeded {
            layer: shown.to_string(),
            what: "the uncompressed archive".to_string(),
            limit: format!("{} bytes", limits.max_image_bytes),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_archives_stay_inside() {
        assert_eq!(join_inside("abc", "../x.tar").as_deref(), Some("x.tar"));
        assert_eq!(join_inside("a/b", "/c").as_deref(), Some("c"));
        assert_eq!(join_inside("a", "../../etc/passwd"), None);
    }
}
