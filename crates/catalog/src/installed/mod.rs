//! Language packages installed on a filesystem (as opposed to locked in a
//! project): Python distributions' metadata, packages in `node_modules`,
//! installed gems' specifications, conda's package records, Java archives,
//! the build information Go writes into its binaries, and the dependency
//! list `cargo auditable` embeds in Rust ones.
//!
//! Paths are relative to the filesystem root, as in [`crate::os`]. Metadata
//! files are claimed by path ([`claims`]); binaries cannot be, so
//! [`claims_binary`] judges an executable by its mode and size and
//! [`is_binary_head`] by its first bytes, before its content is read.
//! Packages whose file an OS package owns (`OsPackage::files`) are the OS
//! package's for most kinds ([`InstalledKind::defers_to_os_package`]):
//! callers drop those to avoid reporting them twice.

mod conda;
mod gemspec;
mod gobinary;
mod jar;
mod node;
mod python;
mod rustbinary;

use std::path::Path;

use crate::os::normalize;
use crate::{CatalogError, Input, Parsed};

/// A kind of installed-package metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstalledKind {
    /// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, a `*.egg-info` file,
    /// or `EGG-INFO/PKG-INFO` inside an unzipped egg.
    Python,
    /// `node_modules/<name>/package.json`, `node_modules/@scope/<name>/package.json`.
    Node,
    /// An executable with Go build information.
    GoBinary,
    /// An executable with a `cargo auditable` dependency list.
    RustBinary,
    /// A Java archive: `*.jar`, `*.war`, `*.ear`, `*.par`, `*.sar`.
    Jar,
    /// An installed gem's `specifications/*.gemspec`.
    Gemspec,
    /// A conda environment's `conda-meta/<name>-<version>-<build>.json`.
    Conda,
}

impl InstalledKind {
    /// The package type Trivy reports use.
    pub fn trivy_type(self) -> &'static str {
        match self {
            InstalledKind::Python => "python-pkg",
            InstalledKind::Node => "node-pkg",
            InstalledKind::GoBinary => "gobinary",
            InstalledKind::RustBinary => "rustbinary",
            InstalledKind::Jar => "jar",
            InstalledKind::Gemspec => "gemspec",
            InstalledKind::Conda => "conda-pkg",
        }
    }

    /// Whether a package of this kind is left out when an OS package
    /// installed its file: the OS package is what was installed, and its
    /// version is the one the distribution's advisories name. Trivy does
    /// so for all kinds but Java archives and Rust binaries.
    pub fn defers_to_os_package(self) -> bool {
        !matches!(self, InstalledKind::Jar | InstalledKind::RustBinary)
    }
}

/// The kind of a metadata file, judged by its path. Binaries are never
/// claimed here: see [`claims_binary`].
pub fn kind(path: &str) -> Option<InstalledKind> {
    let path = normalize(path);
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let dir_name = dir.rsplit('/').next().unwrap_or(dir);
    let python = (name == "METADATA" && dir_name.ends_with(".dist-info"))
        || (name == "PKG-INFO" && (dir_name.ends_with(".egg-info") || dir_name == "EGG-INFO"))
        || name.ends_with(".egg-info");
    if python {
        return Some(InstalledKind::Python);
    }
    if jar::is_archive(name) {
        return Some(InstalledKind::Jar);
    }
    // `…/specifications/rake-13.0.6.gemspec`, or `…/specifications/default/…`.
    if name.ends_with(".gemspec") && dir.split('/').any(|d| d == "specifications") {
        return Some(InstalledKind::Gemspec);
    }
    // Any environment's records, the base one's (`/opt/conda`) too: Trivy
    // reads only those under `envs/`, missing what most conda images install.
    if dir_name == "conda-meta" && is_conda_record(name) {
        return Some(InstalledKind::Conda);
    }
    if name == "package.json" {
        let mut up = dir.rsplit('/');
        let package = up.next().unwrap_or_default();
        let parent = up.next().unwrap_or_default();
        let in_modules =
            parent == "node_modules" || (parent.starts_with('@') && up.next() == Some("node_modules"));
        if in_modules && !package.is_empty() && !package.starts_with(['.', '@']) {
            return Some(InstalledKind::Node);
        }
    }
    None
}

/// `<name>-<version>-<build>.json`, as conda names its records (`history`
/// and other files beside them are not records); the name may hold dashes.
fn is_conda_record(file: &str) -> bool {
    let Some(stem) = file.strip_suffix(".json") else { return false };
    let parts: Vec<&str> = stem.rsplitn(3, '-').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
}

pub fn claims(path: &str) -> bool {
    kind(path).is_some()
}

/// The smallest and largest executable worth reading for build
/// information: Go and Rust programs are hundreds of kilobytes at least,
/// and reading one larger than this would take too long for a scan.
const MIN_BINARY: u64 = 64 * 1024;
const MAX_BINARY: u64 = 512 * 1024 * 1024;

/// True for a regular file (`mode` as `st_mode`, or its permission bits)
/// that someone may execute and whose size could be a Go or Rust program. Read its
/// first bytes next and ask [`is_binary_head`]. The path says nothing
/// here: Go programs live anywhere.
pub fn claims_binary(mode: u32, size: u64) -> bool {
    let file_type = mode & 0o170_000;
    (file_type == 0 || file_type == 0o100_000)
        && mode & 0o111 != 0
        && (MIN_BINARY..=MAX_BINARY).contains(&size)
}

/// True when a file's first bytes are those of an executable format Go
/// and Rust build: ELF, Mach-O (32- and 64-bit, either byte order) or PE.
pub fn is_binary_head(head: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xce\xfa\xed\xfe",
        b"\xfe\xed\xfa\xcf",
        b"\xcf\xfa\xed\xfe",
        b"MZ",
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// Parses one file of `kind`. `display` names it in messages. A binary
/// without Go build information gives no packages and no error, since
/// binaries are claimed before anyone can tell.
pub fn parse(kind: InstalledKind, display: &str, content: &[u8]) -> Result<Parsed, CatalogError> {
    let input = Input { path: Path::new(display), display, content };
    match kind {
        InstalledKind::Python => python::parse(&input),
        InstalledKind::Node => node::parse(&input),
        InstalledKind::GoBinary => gobinary::parse(&input),
        InstalledKind::RustBinary => rustbinary::parse(&input),
        InstalledKind::Jar => jar::parse(&input),
        InstalledKind::Gemspec => gemspec::parse(&input),
        InstalledKind::Conda => conda::parse(&input),
    }
}

/// Parses an executable claimed by [`claims_binary`] and
/// [`is_binary_head`]: its Go build information, else its `cargo
/// auditable` dependency list. `None` when it has neither, which is no
/// error: most executables are neither.
pub fn parse_binary(display: &str, content: &[u8]) -> Result<Option<(InstalledKind, Parsed)>, CatalogError> {
    for kind in [InstalledKind::GoBinary, InstalledKind::RustBinary] {
        let parsed = parse(kind, display, content)?;
        if !parsed.packages.is_empty() || !parsed.warnings.is_empty() {
            return Ok(Some((kind, parsed)));
        }
    }
    Ok(None)
}
