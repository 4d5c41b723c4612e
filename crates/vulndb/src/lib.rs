//! The vulnerability database: importing advisory feeds (OSV, Alpine secdb,
//! Debian security tracker), the embedded on-disk index keyed by
//! (ecosystem, package name), and updates from an OSV mirror.
//!
//! The database is one file, `<db dir>/vuln.db` (format in `store.rs` and
//! the crate README). Imports and updates build a complete new file next to
//! it and rename it into place, so a failure never leaves a half-written
//! database and readers holding the old one keep working.

mod debian;
mod input;
mod model;
mod parse;
mod store;
mod update;

pub use model::{Advisory, AffectedPackage, DbMetadata, Reference, SeverityScore, SourceInfo};
pub use store::{DB_FILE_NAME, SCHEMA_VERSION};

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use memmap2::Mmap;
use rampart_types::{Diagnostic, Progress};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::{Builder, Invalid, Layout, Table};

/// The public OSV export bucket.
pub const DEFAULT_MIRROR: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems `update` fetches unless told otherwise.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "npm",
    "PyPI",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Pub",
    "Hex",
    "Alpine",
    "Debian",
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no vulnerability database at {0} (run `rampart db import PATH` or `rampart db update`)")]
    Missing(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// An import input that does not exist.
    #[error("{}: no such file or directory", .0.display())]
    InputNotFound(PathBuf),
    #[error(
        "{}: corrupt vulnerability database: {reason} (rebuild it with `rampart db update` or `rampart db import`)",
        path.display()
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{}: vulnerability database has schema version {found}, this rampart reads version {expected} (rebuild it with `rampart db update` or `rampart db import`)",
        path.display()
    )]
    Incompatible { path: PathBuf, found: u32, expected: u32 },
    #[error("downloading {url} failed: {message}")]
    Download { url: String, message: String },
    /// A downloaded export that is not a readable zip archive.
    #[error("{url}: not a readable OSV export: {message}")]
    Archive { url: String, message: String },
    /// Nothing usable was found; the previous database was kept rather than
    /// replaced by an empty one. `warnings` says what could not be read.
    #[error("no advisories found in the inputs; the existing database was left unchanged")]
    NoAdvisories { warnings: Vec<Diagnostic> },
}

/// An open, read-only database.
pub struct Db {
    path: PathBuf,
    map: Mmap,
    metadata: DbMetadata,
    packages: Table,
    advisories: Table,
}

impl Db {
    /// Opens the database in `dir` (`<cache-dir>/db`). Reads the header and
    /// the metadata only; lookups read from the memory map.
    pub fn open(dir: &Path) -> Result<Db, DbError> {
        let path = dir.join(DB_FILE_NAME);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::Missing(dir.to_path_buf()));
            }
            Err(source) => return Err(DbError::Io { path, source }),
        };
        let map = store::map_file(&file).map_err(|source| DbError::Io { path: path.clone(), source })?;
        let Layout { packages, advisories, metadata } = match store::layout(&map) {
            Ok(layout) => layout,
            Err(Invalid::Corrupt(reason)) => return Err(DbError::Corrupt { path, reason }),
            Err(Invalid::Schema(found)) => {
                return Err(DbError::Incompatible { path, found, expected: SCHEMA_VERSION });
            }
        };
        let metadata = serde_json::from_slice(&map[metadata]).map_err(|e| DbError::Corrupt {
            path: path.clone(),
            reason: format!("unreadable metadata: {e}"),
        })?;
        Ok(Db { path, map, metadata, packages, advisories })
    }

    pub fn metadata(&self) -> &DbMetadata {
        &self.metadata
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every affected entry for a package. `ecosystem` is the OSV key
    /// (`"PyPI"`, `"Alpine:v3.18"`); `name` is normalized here with
    /// [`rampart_types::Ecosystem::normalize_name`].
    pub fn affected(&self, ecosystem: &str, name: &str) -> Result<Vec<AffectedPackage>, DbError> {
        let key = parse::index_key(ecosystem, name);
        match self.get(self.packages, key.as_bytes())? {
            None => Ok(Vec::new()),
            Some(blob) => {
                serde_json::from_slice(blob).map_err(|e| self.corrupt(format!("entry for {name}: {e}")))
            }
        }
    }

    /// The advisory with this id, if present.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        match self.get(self.advisories, id.as_bytes())? {
            None => Ok(None),
            Some(blob) => serde_json::from_slice(blob)
                .map(Some)
                .map_err(|e| self.corrupt(format!("advisory {id}: {e}"))),
        }
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>, DbError> {
        store::lookup(&self.map, table, key).map_err(|reason| self.corrupt(reason))
    }

    fn corrupt(&self, reason: String) -> DbError {
        DbError::Corrupt { path: self.path.clone(), reason }
    }
}

/// What an import or update did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub advisories: u64,
    pub packages: u64,
    /// Withdrawn OSV records, which are not imported.
    pub withdrawn: u64,
    /// Inputs that could not be read; the rest was imported.
    pub warnings: Vec<Diagnostic>,
}

/// Builds a database in `db_dir` from files, directories and OSV `all.zip`
/// exports, replacing the previous one atomically.
///
/// Directories are walked for `*.json`, `*.yaml`/`*.yml` (OSV records or
/// Alpine secdb files, told apart by content), `*.zip` (OSV exports) and
/// files named `list` (Debian `DSA/list`, `DLA/list`). A file that cannot be
/// read becomes a warning; a path that does not exist is an error.
pub fn import(paths: &[PathBuf], db_dir: &Path, progress: &dyn Progress) -> Result<ImportSummary, DbError> {
    let inputs = input::collect(paths)?;
    let mut summary = ImportSummary { warnings: inputs.warnings, ..ImportSummary::default() };
    let mut archives = Vec::new();
    for (path, origin) in &inputs.zips {
        match input::open_zip(path) {
            Ok(archive) => archives.push((path, *origin, archive)),
            Err(e) => summary.warnings.push(Diagnostic::new(
                path.display().to_string(),
                format!("not a readable zip archive: {e}"),
            )),
        }
    }
    let total = inputs.documents.len() + archives.iter().map(|(_, _, a)| a.len()).sum::<usize>();
    progress.start("importing", Some(total as u64));
    let result = (|| {
        let mut builder = Builder::new(db_dir)?;
        input::ingest_files(&inputs.documents, &inputs.origins, &mut builder, progress, &mut summary)?;
        for (path, origin, archive) in &mut archives {
            let display = path.display().to_string();
            let origin = &inputs.origins[*origin];
            match input::ingest_zip(archive, &display, origin, &mut builder, progress, &mut summary) {
                Ok(()) => {}
                Err(input::ZipFailure::Db(e)) => return Err(e),
                Err(input::ZipFailure::Archive(message)) => {
                    summary
                        .warnings
                        .push(Diagnostic::new(display, format!("unreadable zip archive: {message}")));
                }
            }
        }
        finish(builder, &mut summary)
    })();
    progress.finish();
    result.map(|()| summary)
}

/// Writes the database unless it would be empty.
fn finish(builder: Builder, summary: &mut ImportSummary) -> Result<(), DbError> {
    if builder.advisory_count() == 0 {
        return Err(DbError::NoAdvisories { warnings: std::mem::take(&mut summary.warnings) });
    }
    let metadata = builder.finish()?;
    summary.advisories = metadata.advisories;
    summary.packages = metadata.packages;
    Ok(())
}

pub struct UpdateOptions {
    /// Base URL; `<mirror>/<ecosystem>/all.zip` is fetched for each ecosystem.
    pub mirror: String,
    pub ecosystems: Vec<String>,
}

/// Downloads OSV exports from the mirror and swaps the database in
/// atomically: on any failure the previous database stays in place.
///
/// The exports are streamed to temporary files in `db_dir` (the same file
/// system as the database, and not memory), then imported together.
pub fn update(
    opts: &UpdateOptions,
    db_dir: &Path,
    progress: &dyn Progress,
) -> Result<ImportSummary, DbError> {
    std::fs::create_dir_all(db_dir).map_err(|source| DbError::Io { path: db_dir.to_path_buf(), source })?;
    let agent = update::agent();
    let mut downloads = Vec::with_capacity(opts.ecosystems.len());
    for ecosystem in &opts.ecosystems {
        let url = update::export_url(&opts.mirror, ecosystem);
        let file = update::download(&agent, &url, &format!("downloading {ecosystem}"), db_dir, progress)?;
        downloads.push((url, file));
    }
    let mut archives = Vec::with_capacity(downloads.len());
    for (url, file) in &downloads {
        let archive =
            input::open_zip(file.path()).map_err(|message| DbError::Archive { url: url.clone(), message })?;
        archives.push((url, archive));
    }
    let total: usize = archives.iter().map(|(_, a)| a.len()).sum();
    let mut summary = ImportSummary::default();
    progress.start("importing", Some(total as u64));
    let result = (|| {
        let mut builder = Builder::new(db_dir)?;
        for (url, archive) in &mut archives {
            input::ingest_zip(archive, url, url, &mut builder, progress, &mut summary).map_err(
                |e| match e {
                    input::ZipFailure::Db(e) => e,
                    input::ZipFailure::Archive(message) => DbError::Archive { url: url.to_string(), message },
                },
            )?;
        }
        finish(builder, &mut summary)
    })();
    progress.finish();
    result.map(|()| summary)
}

/// True when the database is missing, unreadable or older than `max_age`.
pub fn is_stale(db_dir: &Path, max_age: Duration) -> bool {
    let Ok(db) = Db::open(db_dir) else { return true };
    let Ok(built) = OffsetDateTime::parse(&db.metadata().built_at, &Rfc3339) else { return true };
    let age = OffsetDateTime::now_utc() - built;
    age > max_age
}
