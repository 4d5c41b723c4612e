//! Finding advisory files under the given paths and feeding them, parsed
//! in parallel, to the builder.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rampart_types::{Diagnostic, Progress};
use rayon::prelude::*;
use zip::ZipArchive;

use crate::parse::{self, Parsed};
use crate::store::{Builder, Encoded};
use crate::{DbError, ImportSummary, debian};

/// How a file's bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
    /// The Debian security tracker's `DSA/list` / `DLA/list` text.
    DebianList,
}

/// Files parsed in parallel before their records are stored in order.
const CHUNK: usize = 256;
/// Larger advisory documents are refused (a zip bomb, not an advisory).
const MAX_DOCUMENT: u64 = 64 << 20;

/// A document to read.
pub(crate) struct InputFile {
    pub path: PathBuf,
    pub format: Format,
    /// Index into [`Inputs::origins`].
    pub origin: usize,
    /// Named by the user rather than found in a directory.
    pub explicit: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Document(Format),
    Zip,
}

/// What the given paths expand to. Zips are ingested after the plain
/// documents.
#[derive(Default)]
pub(crate) struct Inputs {
    pub documents: Vec<InputFile>,
    /// OSV exports and the index of their origin.
    pub zips: Vec<(PathBuf, usize)>,
    /// The paths as the user gave them, for the database's source list.
    pub origins: Vec<String>,
    pub warnings: Vec<Diagnostic>,
}

/// Expands the given paths into the files to read, in a stable order.
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Inputs, DbError> {
    let mut inputs = Inputs::default();
    for path in paths {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(DbError::InputNotFound(path.clone()));
            }
            Err(source) => return Err(DbError::Io { path: path.clone(), source }),
        };
        let origin = inputs.origins.len();
        inputs.origins.push(path.display().to_string());
        if meta.is_dir() {
            walk(path, origin, &mut inputs);
        } else {
            let kind = match kind_by_name(path) {
                Some(kind) => kind,
                None => sniff(path).map_err(|source| DbError::Io { path: path.clone(), source })?,
            };
            inputs.add(path.clone(), kind, origin, true);
        }
    }
    Ok(inputs)
}

impl Inputs {
    fn add(&mut self, path: PathBuf, kind: Kind, origin: usize, explicit: bool) {
        match kind {
            Kind::Document(format) => self.documents.push(InputFile { path, format, origin, explicit }),
            Kind::Zip => self.zips.push((path, origin)),
        }
    }
}

/// The kind of a file by its name: `.json`, `.yaml`/`.yml`, `.zip`, and
/// the tracker's `list` files (checked by content when read).
fn kind_by_name(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if name == "list" {
        return Some(Kind::Document(Format::DebianList));
    }
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(Kind::Document(Format::Json)),
        "yaml" | "yml" => Some(Kind::Document(Format::Yaml)),
        "zip" => Some(Kind::Zip),
        _ => None,
    }
}

/// The kind of a file the user named whose name says nothing.
fn sniff(path: &Path) -> io::Result<Kind> {
    let mut head = Vec::with_capacity(256);
    File::open(path)?.take(256).read_to_end(&mut head)?;
    Ok(if head.starts_with(b"PK\x03\x04") {
        Kind::Zip
    } else if debian::looks_like_list(&head) {
        Kind::Document(Format::DebianList)
    } else if head.trim_ascii_start().starts_with(b"{") {
        Kind::Document(Format::Json)
    } else {
        Kind::Document(Format::Yaml)
    })
}

/// Recursively lists advisory files, sorted by name. Hidden entries
/// (`.git`) are skipped, and symlinked directories are not followed, so a
/// link cycle cannot trap the walk.
fn walk(dir: &Path, origin: usize, inputs: &mut Inputs) {
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
        Err(e) => Err(e),
    };
    let mut entries = match entries {
        Ok(entries) => entries,
        Err(e) => {
            inputs
                .warnings
                .push(Diagnostic::new(dir.display().to_string(), format!("cannot list directory: {e}")));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            walk(&path, origin, inputs);
        } else if (file_type.is_file() || (file_type.is_symlink() && path.is_file()))
            && let Some(kind) = kind_by_name(&path)
        {
            inputs.add(path, kind, origin, false);
        }
    }
}

/// What reading one document produced: its records, serialized.
struct Loaded {
    records: Vec<Encoded>,
    parsed: Parsed,
}

fn load(bytes: &[u8], format: Format, display: &str, explicit: bool) -> Loaded {
    if format == Format::DebianList && !debian::looks_like_list(bytes) {
        let mut parsed = Parsed::default();
        if explicit {
            parsed.warnings.push(Diagnostic::new(display, "not a Debian security tracker list"));
        }
        return Loaded { records: Vec::new(), parsed };
    }
    let mut parsed = match format {
        Format::Json => parse::parse_json(bytes, display, explicit),
        Format::Yaml => parse::parse_yaml(bytes, display, explicit),
        Format::DebianList => {
            let mut parsed = Parsed::default();
            debian::parse_list(bytes, display, &mut parsed);
            parsed
        }
    };
    let mut records = Vec::with_capacity(parsed.records.len());
    for record in parsed.records.drain(..) {
        let id = record.advisory.id.clone();
        match Encoded::new(record) {
            Ok(e) => records.push(e),
            Err(e) => {
                parsed.warnings.push(Diagnostic::new(display, format!("cannot store advisory {id}: {e}")))
            }
        }
    }
    Loaded { records, parsed }
}

fn store(
    loaded: Loaded,
    origin: &str,
    builder: &mut Builder,
    summary: &mut ImportSummary,
) -> Result<(), DbError> {
    summary.withdrawn += loaded.parsed.withdrawn;
    summary.warnings.extend(loaded.parsed.warnings);
    for record in loaded.records {
        builder.add(record, origin)?;
    }
    Ok(())
}

/// Reads, parses and stores plain files (not zips).
pub(crate) fn ingest_files(
    files: &[InputFile],
    origins: &[String],
    builder: &mut Builder,
    progress: &dyn Progress,
    summary: &mut ImportSummary,
) -> Result<(), DbError> {
    for chunk in files.chunks(CHUNK) {
        let loaded: Vec<Loaded> = chunk
            .par_iter()
            .map(|f| {
                let display = f.path.display().to_string();
                match read_limited(&f.path) {
                    Ok(bytes) => load(&bytes, f.format, &display, f.explicit),
                    Err(e) => {
                        let mut parsed = Parsed::default();
                        parsed.warnings.push(Diagnostic::new(display, format!("cannot read: {e}")));
                        Loaded { records: Vec::new(), parsed }
                    }
                }
            })
            .collect();
        for (f, l) in chunk.iter().zip(loaded) {
            store(l, &origins[f.origin], builder, summary)?;
            progress.advance(1);
        }
    }
    Ok(())
}

fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    read_capped(File::open(path)?, 0)
}

/// Reads at most [`MAX_DOCUMENT`] bytes.
fn read_capped(r: impl Read, size_hint: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size_hint.min(MAX_DOCUMENT) as usize);
    r.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "larger than 64 MiB"));
    }
    Ok(bytes)
}

/// Why a zip could not be ingested.
pub(crate) enum ZipFailure {
    /// The archive is unreadable: the caller decides whether that is fatal.
    Archive(String),
    /// Storing failed: always fatal.
    Db(DbError),
}

pub(crate) fn open_zip(path: &Path) -> Result<ZipArchive<File>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    ZipArchive::new(file).map_err(|e| e.to_string())
}

/// Reads the `.json` / `.yaml` members of an OSV export, parsing them in
/// parallel batches. `display` names the archive in warnings (a path or URL).
pub(crate) fn ingest_zip(
    archive: &mut ZipArchive<File>,
    display: &str,
    origin: &str,
    builder: &mut Builder,
    progress: &dyn Progress,
    summary: &mut ImportSummary,
) -> Result<(), ZipFailure> {
    let total = archive.len();
    let mut next = 0;
    while next < total {
        let end = (next + CHUNK).min(total);
        let mut batch: Vec<(String, Format, Vec<u8>)> = Vec::with_capacity(end - next);
        for i in next..end {
            let mut member =
                archive.by_index(i).map_err(|e| ZipFailure::Archive(format!("member {i}: {e}")))?;
            let name =
                member.name().map_err(|e| ZipFailure::Archive(format!("member {i}: {e}")))?.into_owned();
            let format = match kind_by_name(Path::new(&name)) {
                Some(Kind::Document(f)) if member.is_file() && f != Format::DebianList => f,
                _ => continue,
            };
            let entry = format!("{display}!{name}");
            if member.size() > MAX_DOCUMENT {
                summary.warnings.push(Diagnostic::new(entry, "larger than 64 MiB; skipped"));
                continue;
            }
            let size = member.size();
            let bytes =
                read_capped(&mut member, size).map_err(|e| ZipFailure::Archive(format!("{name}: {e}")))?;
            batch.push((entry, format, bytes));
        }
        let loaded: Vec<Loaded> =
            batch.par_iter().map(|(entry, format, bytes)| load(bytes, *format, entry, false)).collect();
        for l in loaded {
            store(l, origin, builder, summary).map_err(ZipFailure::Db)?;
        }
        progress.advance((end - next) as u64);
        next = end;
    }
    Ok(())
}
