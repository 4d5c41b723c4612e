//! Streaming layers: decompress once, hash the tar stream for its DiffID,
//! walk the tar headers, read only claimed files, keep only those claimed
//! [`Claim::Keep`], and apply whiteouts to build the squashed view.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Cursor, Read};

use flate2::bufread::MultiGzDecoder;
use rampart_types::Diagnostic;
use sha2::{Digest as _, Sha256};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::digest::{Digest, Mismatch};
use super::tar::{Entry, Kind, TarError, TarReader};
use super::{ImageError, Limits};

/// A regular file as its tar header describes it, before its content is
/// read: what a claim can decide on, so that files recognized by their
/// metadata (executables of some size) need not be read to be rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Path relative to `/`, as in [`ImageFile::path`].
    pub path: &'a str,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// Content size in bytes. A hard link has its target's size when the
    /// target was kept, otherwise 0: tar does not record it on the link.
    pub size: u64,
}

/// What a scan does with a regular file (or a hard link to one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Not read.
    No,
    /// Read and shown to the visitor, then dropped: seen without being held
    /// for the rest of the scan.
    Visit,
    /// Read, shown to the visitor and kept in [`Squashed::files`] (while no
    /// later layer deletes or replaces it).
    Keep,
}

/// A regular file from an image, with the layer that wrote it.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// Path relative to `/`, without a leading slash (`etc/os-release`).
    pub path: String,
    /// Index into [`ImageMetadata::layers`](super::ImageMetadata::layers), bottom layer 0.
    pub layer: usize,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub content: Vec<u8>,
}

/// Contents are summarized: they can be megabytes of binary.
impl std::fmt::Debug for ImageFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageFile")
            .field("path", &self.path)
            .field("layer", &self.layer)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .finish()
    }
}

/// A symbolic or hard link in the final filesystem. Never followed outside
/// the image: [`Squashed::resolve`] treats the image root as `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The target as stored: relative to the link's directory for symlinks,
    /// to the image root for hard links.
    pub target: String,
    pub hard: bool,
    pub layer: usize,
}

/// The filesystem an image unpacks to, restricted to kept files.
#[derive(Debug, Default)]
pub struct Squashed {
    /// Regular files claimed [`Claim::Keep`] and present after all layers, by path.
    pub files: BTreeMap<String, ImageFile>,
    /// Every link present after all layers (claimed or not), by path.
    pub links: BTreeMap<String, Link>,
    /// Regular files claimed [`Claim::Visit`] and present after all
    /// layers: what was found in them still describes the image.
    pub visited: BTreeSet<String>,
    /// Entries that were skipped: unsafe paths, claimed files over the size limit.
    pub warnings: Vec<Diagnostic>,
}

/// How many links to follow before giving up, as Linux does.
const MAX_LINK_HOPS: usize = 40;

impl Squashed {
    /// A kept file, following symlinks (and hard links whose target was
    /// not itself kept) the way a chrooted process would: absolute
    /// targets start at the image root and `..` stops there.
    pub fn resolve(&self, path: &str) -> Option<&ImageFile> {
        let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "" | "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => resolved.push(component),
            }
            let Some(link) = self.links.get(&resolved.join("/")) else { continue };
            hops += 1;
            if hops > MAX_LINK_HOPS {
                return None;
            }
            resolved.pop();
            if link.hard || link.target.starts_with('/') {
                resolved.clear();
            }
            pending.extend(link.target.split('/').rev().map(str::to_string));
        }
        self.files.get(&resolved.join("/"))
    }
}

enum Node {
    File(ImageFile),
    /// With what a second read of the link's layer still owes it: a hard
    /// link claimed when its target's content was not at hand. `No` for
    /// symlinks and links already served.
    Link(Link, Claim),
    /// A visit-only file, content dropped once visited.
    Visited(usize),
}

/// One layer to stream, as `Image::scan` hands it over.
pub(crate) struct LayerInput<'a> {
    pub(crate) index: usize,
    /// `layer 2 (sha256:…)`, for messages.
    pub(crate) label: String,
    /// The config's DiffID, checked against the stream.
    pub(crate) diff_id: Digest,
    pub(crate) blob: Box<dyn Read + 'a>,
}

/// What was kept so far, plus the running totals the limits apply to.
pub(crate) struct Scanner<'c> {
    claim: &'c dyn Fn(&Candidate<'_>) -> Claim,
    limits: &'c Limits,
    tree: BTreeMap<String, Node>,
    warnings: Vec<Diagnostic>,
    buffered: u64,
    entries: u64,
    total_bytes: u64,
}

/// Read size between the decompressor and the tar parser.
const STREAM_BUFFER: usize = 256 * 1024;

impl<'c> Scanner<'c> {
    pub(crate) fn new(claim: &'c dyn Fn(&Candidate<'_>) -> Claim, limits: &'c Limits) -> Self {
        Scanner {
            claim,
            limits,
            tree: BTreeMap::new(),
            warnings: Vec::new(),
            buffered: 0,
            entries: 0,
            total_bytes: 0,
        }
    }

    pub(crate) fn finish(self) -> Squashed {
        let mut out = Squashed { warnings: self.warnings, ..Squashed::default() };
        for (path, node) in self.tree {
            match node {
                Node::File(f) => {
                    out.files.insert(path, f);
                }
                Node::Link(l, _) => {
                    out.links.insert(path, l);
                }
                Node::Visited(_) => {
                    out.visited.insert(path);
                }
            }
        }
        out
    }

    /// Claimed hard links whose target's content was not at hand (not
    /// claimed, visit-only, or replaced since), by layer: `(link, target,
    /// claim)`. Tar hard links point back to an earlier member, so their
    /// content needs a second read of the layer.
    pub(crate) fn unresolved_hard_links(&self) -> BTreeMap<usize, Vec<(String, String, Claim)>> {
        let mut out: BTreeMap<usize, Vec<(String, String, Claim)>> = BTreeMap::new();
        for (path, node) in &self.tree {
            if let Node::Link(Link { target, hard: true, layer }, claim) = node
                && *claim != Claim::No
            {
                out.entry(*layer).or_default().push((path.clone(), target.clone(), *claim));
            }
        }
        out
    }

    /// Gives hard links the content their targets had in `reread`, a
    /// second read of the links' layer that kept only the targets.
    pub(crate) fn fill_hard_links(
        &mut self,
        links: Vec<(String, String, Claim)>,
        reread: &Squashed,
        label: &str,
        visit: &mut dyn FnMut(&ImageFile),
    ) -> Result<(), ImageError> {
        for (path, target, claim) in links {
            let Some(found) = reread.files.get(&target) else { continue };
            let Some(Node::Link(link, _)) = self.tree.get(&path) else { continue };
            let file =
                ImageFile { path, layer: link.layer, mode: found.mode, content: found.content.clone() };
            visit(&file);
            if claim == Claim::Keep {
                self.insert_file(file, label)?;
            }
        }
        Ok(())
    }

    /// Streams one layer through the tar walk and checks its DiffID.
    pub(crate) fn layer(
        &mut self,
        input: LayerInput<'_>,
        visit: &mut dyn FnMut(&ImageFile),
    ) -> Result<(), ImageError> {
        let LayerInput { index, label, diff_id, blob } = input;
        let decoded = decoder(blob, &label)?;
        let remaining_total = self.limits.max_image_bytes.saturating_sub(self.total_bytes);
        let counted = Counted {
            inner: decoded,
            hasher: BackgroundHasher::new(),
            count: 0,
            layer_limit: self.limits.max_layer_bytes,
            total_limit: remaining_total,
            image_limit: self.limits.max_image_bytes,
        };
        let mut tar = TarReader::new(BufReader::with_capacity(STREAM_BUFFER, counted));
        self.walk(&mut tar, index, &label, visit)?;
        let mut rest = tar.into_input().map_err(|e| tar_error(e, &label))?;
        // The DiffID covers everything after the end-of-archive marker too.
        loop {
            let n = rest.fill_buf().map_err(|e| io_error(e, &label))?.len();
            if n == 0 {
                break;
            }
            rest.consume(n);
        }
        let counted = rest.into_inner();
        self.total_bytes += counted.count;
        let hasher = counted.hasher.finish().ok_or_else(|| ImageError::Malformed {
            what: format!("{label}: DiffID"),
            reason: "the hashing thread stopped".into(),
        })?;
        let actual = hex_digest(hasher);
        if actual != diff_id.as_str() {
            return Err(ImageError::DigestMismatch {
                what: format!("{label}: uncompressed content (DiffID)"),
                expected: diff_id.to_string(),
                actual,
            });
        }
        Ok(())
    }

    fn walk<R: Read>(
        &mut self,
        tar: &mut TarReader<BufReader<Counted<R>>>,
        layer: usize,
        label: &str,
        visit: &mut dyn FnMut(&ImageFile),
    ) -> Result<(), ImageError> {
        let mut content = Vec::new();
        while let Some(entry) = tar.next_entry().map_err(|e| tar_error(e, label))? {
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(ImageError::LimitExceeded {
                    layer: label.to_string(),
                    what: "the number of entries in the image".to_string(),
                    limit: self.limits.max_entries.to_string(),
                });
            }
            let path = match normalize(&entry.path) {
                Normalized::Root => continue,
                Normalized::Escapes => {
                    self.warn(label, &entry.path, "path leaves the image root; entry skipped");
                    continue;
                }
                Normalized::Path(p) => p,
            };
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            if let Some(hidden) = name.strip_prefix(".wh.") {
                if hidden == ".wh..opq" {
                    self.remove_below(dir, layer);
                } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                    let target = if dir.is_empty() { hidden.to_string() } else { format!("{dir}/{hidden}") };
                    self.remove_below(&target, layer);
                    self.remove_lower(&target, layer);
                }
                // Other `.wh..wh.` names are AUFS bookkeeping, not files.
                continue;
            }
            if entry.kind != Kind::Dir {
                // Anything but a directory hides what a lower layer had below it.
                self.remove_below(&path, usize::MAX);
            }
            match entry.kind {
                Kind::Dir => {
                    self.remove(&path);
                }
                Kind::File => {
                    let claim = (self.claim)(&Candidate { path: &path, mode: entry.mode, size: entry.size });
                    if claim == Claim::No {
                        self.remove(&path);
                        continue;
                    }
                    if entry.size > self.limits.max_file_bytes {
                        self.remove(&path);
                        let message = format!(
                            "{} bytes, over the {}-byte limit for a file read into memory; not scanned",
                            entry.size, self.limits.max_file_bytes
                        );
                        self.warn(label, &entry.path, &message);
                        continue;
                    }
                    tar.read_data_to(&mut content, entry.size).map_err(|e| tar_error(e, label))?;
                    let file =
                        ImageFile { path, layer, mode: entry.mode, content: std::mem::take(&mut content) };
                    visit(&file);
                    if claim == Claim::Keep {
                        self.insert_file(file, label)?;
                    } else {
                        // The file replaces whatever a lower layer had at its path.
                        if let Some(old) = self.tree.insert(file.path, Node::Visited(layer)) {
                            self.forget(&old);
                        }
                        content = file.content;
                    }
                }
                Kind::HardLink => self.hard_link(path, &entry, layer, label, visit)?,
                Kind::Symlink => {
                    let target = String::from_utf8_lossy(&entry.link).into_owned();
                    self.insert_link(path, Link { target, hard: false, layer }, Claim::No);
                }
                Kind::Other => {
                    self.remove(&path);
                }
            }
        }
        Ok(())
    }

    /// A hard link is a second name for an earlier file: when that file was
    /// kept, the link gets its own copy (a later whiteout of either name
    /// leaves the other intact); otherwise its claim waits for a reread.
    fn hard_link(
        &mut self,
        path: String,
        entry: &Entry,
        layer: usize,
        label: &str,
        visit: &mut dyn FnMut(&ImageFile),
    ) -> Result<(), ImageError> {
        let target = match normalize(&entry.link) {
            Normalized::Path(t) => t,
            Normalized::Root | Normalized::Escapes => {
                self.remove(&path);
                self.warn(label, &entry.path, "hard link target leaves the image root; entry skipped");
                return Ok(());
            }
        };
        let kept = match self.tree.get(&target) {
            Some(Node::File(f)) => Some(&f.content),
            _ => None,
        };
        let size = kept.map_or(0, |c| c.len() as u64);
        let claim = (self.claim)(&Candidate { path: &path, mode: entry.mode, size });
        let pending = match (claim, kept) {
            (Claim::No, _) => Claim::No,
            (_, None) => claim,
            (_, Some(content)) => {
                let file =
                    ImageFile { path: path.clone(), layer, mode: entry.mode, content: content.clone() };
                visit(&file);
                if claim == Claim::Keep {
                    return self.insert_file(file, label);
                }
                Claim::No
            }
        };
        self.insert_link(path, Link { target, hard: true, layer }, pending);
        Ok(())
    }

    fn insert_file(&mut self, file: ImageFile, label: &str) -> Result<(), ImageError> {
        self.buffered += file.content.len() as u64;
        let path = file.path.clone();
        if let Some(old) = self.tree.insert(path.clone(), Node::File(file)) {
            self.forget(&old);
        }
        if self.buffered > self.limits.max_buffered_bytes {
            return Err(ImageError::LimitExceeded {
                layer: label.to_string(),
                what: format!("the files kept in memory (at {path})"),
                limit: format!("{} bytes", self.limits.max_buffered_bytes),
            });
        }
        Ok(())
    }

    fn insert_link(&mut self, path: String, link: Link, pending: Claim) {
        if let Some(old) = self.tree.insert(path, Node::Link(link, pending)) {
            self.forget(&old);
        }
    }

    fn remove(&mut self, path: &str) {
        if let Some(old) = self.tree.remove(path) {
            self.forget(&old);
        }
    }

    /// Removes the node at `path` if a lower layer wrote it (a whiteout
    /// hides only what is beneath its own layer).
    fn remove_lower(&mut self, path: &str, layer: usize) {
        if self.tree.get(path).is_some_and(|n| node_layer(n) < layer) {
            self.remove(path);
        }
    }

    /// Removes everything under directory `dir` that layers below `layer`
    /// wrote (`usize::MAX`: from any layer).
    fn remove_below(&mut self, dir: &str, layer: usize) {
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let doomed: Vec<String> = self
            .tree
            .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, n)| node_layer(n) < layer)
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.remove(&k);
        }
    }

    fn forget(&mut self, node: &Node) {
        if let Node::File(f) = node {
            self.buffered -= f.content.len() as u64;
        }
    }

    fn warn(&mut self, label: &str, raw_path: &[u8], message: &str) {
        let path = format!("{label}: {}", String::from_utf8_lossy(raw_path));
        self.warnings.push(Diagnostic::new(path, message));
    }
}

fn node_layer(n: &Node) -> usize {
    match n {
        Node::File(f) => f.layer,
        Node::Link(l, _) => l.layer,
        Node::Visited(layer) => *layer,
    }
}

fn hex_digest(hasher: Sha256) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hasher.finalize() {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Normalized {
    /// `/`, `.`, `./`: the root directory itself.
    Root,
    /// A `..` component: refused rather than clamped, so that a crafted
    /// `../../etc/x` cannot shadow the image's own `etc/x`.
    Escapes,
    Path(String),
}

/// A member name as a path relative to the image root: leading `/` and
/// `./` dropped, `.` and empty components removed.
pub(crate) fn normalize(raw: &[u8]) -> Normalized {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for component in text.split('/') {
        match component {
            "" | "." => {}
            ".." => return Normalized::Escapes,
            c => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    if out.is_empty() { Normalized::Root } else { Normalized::Path(out) }
}

/// SHA-256 of a stream on a second thread, so hashing the decompressed
/// layer overlaps inflating it instead of following it.
struct BackgroundHasher {
    chunks: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<Sha256>>,
}

impl BackgroundHasher {
    fn new() -> Self {
        let (chunks, received) = sync_channel::<Vec<u8>>(16);
        let worker = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in received {
                hasher.update(&chunk);
            }
            hasher
        });
        BackgroundHasher { chunks: Some(chunks), worker: Some(worker) }
    }

    fn update(&mut self, bytes: &[u8]) {
        if let Some(chunks) = &self.chunks {
            // A send only fails when the worker is gone; `finish` reports that.
            let _ = chunks.send(bytes.to_vec());
        }
    }

    /// The hash of everything given, or `None` if the worker died.
    fn finish(mut self) -> Option<Sha256> {
        drop(self.chunks.take());
        self.worker.take()?.join().ok()
    }
}

/// Hashes and counts the decompressed stream, enforcing the size limits.
struct Counted<R> {
    inner: R,
    hasher: BackgroundHasher,
    count: u64,
    layer_limit: u64,
    /// What is left of the image-wide budget when this layer started.
    total_limit: u64,
    /// The image-wide budget, for the message.
    image_limit: u64,
}

/// Which limit a layer ran into (carried through `io::Error`).
#[derive(Debug)]
enum SizeLimit {
    Layer(u64),
    Image(u64),
}

impl std::fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "size limit exceeded")
    }
}

impl std::error::Error for SizeLimit {}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if self.count > self.layer_limit {
            return Err(io::Error::other(SizeLimit::Layer(self.layer_limit)));
        }
        if self.count > self.total_limit {
            return Err(io::Error::other(SizeLimit::Image(self.image_limit)));
        }
        Ok(n)
    }
}

/// Chooses the decompressor by the stream's magic bytes rather than the
/// media type, which `docker save` archives do not record.
fn decoder<'a>(mut blob: Box<dyn Read + 'a>, label: &str) -> Result<Box<dyn Read + 'a>, ImageError> {
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        match blob.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::Layer { layer: label.to_string(), reason: e.to_string() }),
        }
    }
    let head = &magic[..n];
    let source = BufReader::with_capacity(128 * 1024, Cursor::new(head.to_vec()).chain(blob));
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(MultiGzDecoder::new(source)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(Zstd::new(source)))
    } else if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err(ImageError::Layer {
            layer: label.to_string(),
            reason: "bzip2 and xz layers are not supported (only gzip, zstd and plain tar)".to_string(),
        })
    } else {
        Ok(Box::new(source))
    }
}

/// zstd, frame after frame (ruzstd's decoder reads a single frame).
pub(crate) struct Zstd<R: BufRead> {
    /// The compressed stream between frames; inside the frame decoder during one.
    source: Option<R>,
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> Zstd<R> {
    pub(crate) fn new(source: R) -> Self {
        Zstd { source: Some(source), frame: None }
    }
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(mut frame) = self.frame.take() {
                let n = frame.read(buf)?;
                if n > 0 || buf.is_empty() {
                    self.frame = Some(frame);
                    return Ok(n);
                }
                self.source = Some(frame.into_inner());
            }
            let Some(mut source) = self.source.take() else { return Ok(0) };
            if source.fill_buf()?.is_empty() {
                self.source = Some(source);
                return Ok(0);
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(source)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            self.frame = Some(frame);
        }
    }
}

fn tar_error(e: TarError, label: &str) -> ImageError {
    match e {
        TarError::Io(e) => io_error(e, label),
        TarError::Malformed { .. } => ImageError::Layer { layer: label.to_string(), reason: e.to_string() },
    }
}

/// Turns the errors carried through the reader stack back into their own variants.
pub(crate) fn io_error(e: io::Error, label: &str) -> ImageError {
    let layer = label.to_string();
    if let Some(limit) = e.get_ref().and_then(|inner| inner.downcast_ref::<SizeLimit>()) {
        let (what, limit) = match limit {
            SizeLimit::Layer(n) => ("the decompressed layer size", *n),
            SizeLimit::Image(n) => ("the decompressed size of all layers", *n),
        };
        return ImageError::LimitExceeded { layer, what: what.to_string(), limit: format!("{limit} bytes") };
    }
    if let Some(m) = e.get_ref().and_then(|inner| inner.downcast_ref::<Mismatch>()) {
        return ImageError::DigestMismatch {
            what: format!("{label}: blob"),
            expected: m.expected.to_string(),
            actual: m.actual.to_string(),
        };
    }
    let reason = match e.kind() {
        io::ErrorKind::UnexpectedEof => "unexpected end of data (truncated layer)".to_string(),
        _ => e.to_string(),
    };
    ImageError::Layer { layer, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize(b"/etc/passwd"), Normalized::Path("etc/passwd".into()));
        assert_eq!(normalize(b"./usr//lib/./x/"), Normalized::Path("usr/lib/x".into()));
        assert_eq!(normalize(b"./"), Normalized::Root);
        assert_eq!(normalize(b"/"), Normalized::Root);
        assert_eq!(normalize(b"../../etc/x"), Normalized::Escapes);
        assert_eq!(normalize(b"a/../../b"), Normalized::Escapes);
    }

    fn squashed(files: &[(&str, &str)], links: &[(&str, &str, bool)]) -> Squashed {
        let mut s = Squashed::default();
        for (p, c) in files {
            s.files.insert(
                p.to_string(),
                ImageFile { path: p.to_string(), layer: 0, mode: 0o644, content: c.as_bytes().to_vec() },
            );
        }
        for (p, t, hard) in links {
            s.links.insert(p.to_string(), Link { target: t.to_string(), hard: *hard, layer: 0 });
        }
        s
    }

    #[test]
    fn resolve_stays_inside_the_image() {
        let s = squashed(
            &[("usr/lib/os-release", "ID=debian"), ("etc/passwd", "root:x:0:0")],
            &[
                ("etc/os-release", "../usr/lib/os-release", false),
                ("lib", "usr/lib", false),
                ("escape", "../../../../etc/passwd", false),
                ("abs", "/etc/passwd", false),
                ("loop", "loop", false),
                ("hard", "etc/passwd", true),
            ],
        );
        let content = |p: &str| s.resolve(p).map(|f| String::from_utf8_lossy(&f.content).into_owned());
        assert_eq!(content("etc/os-release").as_deref(), Some("ID=debian"));
        assert_eq!(content("lib/os-release").as_deref(), Some("ID=debian"));
        assert_eq!(content("escape").as_deref(), Some("root:x:0:0"));
        assert_eq!(content("abs").as_deref(), Some("root:x:0:0"));
        assert_eq!(content("hard").as_deref(), Some("root:x:0:0"));
        assert_eq!(content("loop"), None);
        assert_eq!(content("missing"), None);
    }
}
