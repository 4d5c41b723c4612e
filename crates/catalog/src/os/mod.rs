//! Operating-system detection and OS package databases.
//!
//! Paths are relative to the filesystem root without a leading `/`
//! (`etc/os-release`, `lib/apk/db/installed`), whether the file came from a
//! directory walk or an image layer; [`claims`] accepts `./` and `/` prefixes
//! too. The usual flow is [`claims`] to pick files during the walk, then
//! [`catalog`] on the picked files. Its parts are public for callers that
//! need them alone: [`detect`], [`db_kind`] with [`parse_db`], and
//! [`attribute_layers`] to say which image layer installed each package.

mod apk;
mod dpkg;
mod release;
mod rpm;

use std::collections::{HashMap, HashSet};

use rampart_types::{Diagnostic, Ecosystem, Layer, Os, Package};

use crate::CatalogError;

pub use release::{Ymd, advisory_release, codename, detect, end_of_life};

/// An OS package database format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DbKind {
    /// `lib/apk/db/installed`.
    Apk,
    /// `var/lib/dpkg/status`, or one file of `var/lib/dpkg/status.d/` (distroless).
    Dpkg,
    /// `rpmdb.sqlite` (RHEL 9, Fedora 33+): SQLite table `Packages(hnum, blob)`.
    RpmSqlite,
    /// `Packages` (RHEL 8 and older): Berkeley DB hash file.
    RpmBdb,
    /// `Packages.db` (SUSE 15+): rpm's own "ndb" format.
    RpmNdb,
}

impl DbKind {
    /// The ecosystem of this format's packages when the OS is unknown or of
    /// another family.
    fn default_ecosystem(self) -> Ecosystem {
        match self {
            DbKind::Apk => Ecosystem::Alpine,
            DbKind::Dpkg => Ecosystem::Debian,
            DbKind::RpmSqlite | DbKind::RpmBdb | DbKind::RpmNdb => Ecosystem::RedHat,
        }
    }

    /// The package-manager type Trivy reports use.
    pub fn trivy_type(self) -> &'static str {
        match self {
            DbKind::Apk => "apk",
            DbKind::Dpkg => "dpkg",
            DbKind::RpmSqlite | DbKind::RpmBdb | DbKind::RpmNdb => "rpm",
        }
    }
}

/// The rpm databases, most current format first: a system converted from
/// one format to another can keep the old file beside the new one.
const RPM_DBS: &[(&str, DbKind)] = &[
    ("usr/lib/sysimage/rpm/rpmdb.sqlite", DbKind::RpmSqlite),
    ("var/lib/rpm/rpmdb.sqlite", DbKind::RpmSqlite),
    ("usr/lib/sysimage/rpm/Packages.db", DbKind::RpmNdb),
    ("var/lib/rpm/Packages.db", DbKind::RpmNdb),
    ("usr/lib/sysimage/rpm/Packages", DbKind::RpmBdb),
    ("var/lib/rpm/Packages", DbKind::RpmBdb),
];

/// A path relative to `/`, without the `./` or `/` an archive may put first.
pub fn normalize(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p;
        }
    }
}

/// True for every file [`catalog`] reads: release files, package
/// databases, and dpkg's per-package file lists (`var/lib/dpkg/info/*.list`).
pub fn claims(path: &str) -> bool {
    let path = normalize(path);
    release::RELEASE_FILES.contains(&path) || db_kind(path).is_some() || dpkg_list_owner(path).is_some()
}

/// The package database format of a file, judged by its path.
pub fn db_kind(path: &str) -> Option<DbKind> {
    let path = normalize(path);
    match path {
        "lib/apk/db/installed" => return Some(DbKind::Apk),
        "var/lib/dpkg/status" => return Some(DbKind::Dpkg),
        _ => {}
    }
    if let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") {
        // Distroless writes `<pkg>` and `<pkg>.md5sums`; only the first is a status file.
        let plain = !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums");
        return plain.then_some(DbKind::Dpkg);
    }
    RPM_DBS.iter().find(|(p, _)| *p == path).map(|(_, kind)| *kind)
}

/// The package whose files `var/lib/dpkg/info/<name>[:<arch>].list` lists,
/// as name and architecture (only multi-arch packages' lists name one).
fn dpkg_list_owner(path: &str) -> Option<(&str, Option<&str>)> {
    let stem = path.strip_prefix("var/lib/dpkg/info/")?.strip_suffix(".list")?;
    if stem.is_empty() || stem.contains('/') {
        return None;
    }
    Some(match stem.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (stem, None),
    })
}

/// An installed OS package and what the database says beyond [`Package`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsPackage {
    pub package: Package,
    /// `x86_64`, `amd64`, `noarch`, `all`; empty when the database has none.
    pub arch: String,
    /// Files the package installed, relative to `/`; empty where the
    /// database does not list them (dpkg without `info/*.list`).
    pub files: Vec<String>,
}

impl OsPackage {
    fn new(package: Package) -> Self {
        OsPackage { package, arch: String::new(), files: Vec::new() }
    }
}

/// The packages of one database file, and what went wrong along the way.
#[derive(Debug, Default)]
pub struct OsPackages {
    pub packages: Vec<OsPackage>,
    pub warnings: Vec<Diagnostic>,
}

/// Parses one package database. `display` names the file in messages;
/// `ecosystem` is the OS's ([`advisory_release`]), given to every package.
///
/// A file that is not of the format at all is `Malformed`; a damaged entry
/// in an otherwise readable file becomes a warning.
pub fn parse_db(
    kind: DbKind,
    display: &str,
    content: &[u8],
    ecosystem: Ecosystem,
) -> Result<OsPackages, CatalogError> {
    let malformed =
        |message: String| CatalogError::Malformed { path: display.to_string(), line: None, message };
    match kind {
        DbKind::Apk => apk::parse(display, content, ecosystem),
        DbKind::Dpkg => dpkg::parse(display, content, ecosystem),
        DbKind::RpmSqlite => rpm::parse(display, rpm::sqlite_blobs(content).map_err(malformed)?, ecosystem),
        DbKind::RpmBdb => rpm::parse(display, rpm::bdb_blobs(content).map_err(malformed)?, ecosystem),
        DbKind::RpmNdb => rpm::parse(display, rpm::ndb_blobs(content).map_err(malformed)?, ecosystem),
    }
}

/// One package database [`catalog`] read.
#[derive(Debug)]
pub struct OsDatabase {
    /// Normalized path (`lib/apk/db/installed`): the target of its report result.
    pub path: String,
    pub kind: DbKind,
    pub packages: Vec<OsPackage>,
}

/// What [`catalog`] found on one filesystem.
#[derive(Debug, Default)]
pub struct OsCatalog {
    pub os: Option<Os>,
    /// In path order.
    pub databases: Vec<OsDatabase>,
    pub warnings: Vec<Diagnostic>,
}

impl OsCatalog {
    /// Every package of every database.
    pub fn packages(&self) -> impl Iterator<Item = &OsPackage> {
        self.databases.iter().flat_map(|d| &d.packages)
    }

    /// The files OS packages installed: language packages whose metadata
    /// is among them came with an OS package and are reported as that.
    pub fn owned_files(&self) -> HashSet<&str> {
        self.packages().flat_map(|p| p.files.iter().map(String::as_str)).collect()
    }
}

/// Detects the OS and reads every package database among `files` (the
/// claimed files, as `(path, content)`). Packages take the OS's ecosystem
/// when its package manager wrote the database, else the format's own
/// (Alpine, Debian, Red Hat). Of several rpm databases only the most
/// current format is read, as rpm itself would. dpkg's `info/*.list` files
/// fill in the files of the packages they name. Paths in the result are
/// normalized.
pub fn catalog(files: &[(&str, &[u8])]) -> OsCatalog {
    let by_path: HashMap<&str, &[u8]> = files.iter().map(|(p, c)| (normalize(p), *c)).collect();
    let os = detect(|p| by_path.get(p).copied());
    let os_ecosystem = os.as_ref().and_then(advisory_release).map(|(e, _)| e);
    let rpm_db = RPM_DBS.iter().find(|(p, _)| by_path.contains_key(p)).map(|(p, _)| *p);

    let mut dbs: Vec<(&str, DbKind)> = by_path
        .keys()
        .filter_map(|p| db_kind(p).map(|k| (*p, k)))
        .filter(|(p, k)| {
            !matches!(k, DbKind::RpmBdb | DbKind::RpmSqlite | DbKind::RpmNdb) || Some(*p) == rpm_db
        })
        .collect();
    dbs.sort_unstable_by_key(|(p, _)| *p);

    let mut out = OsCatalog { os, ..OsCatalog::default() };
    for (path, kind) in dbs {
        let ecosystem = os_ecosystem
            .filter(|e| DbKind::trivy_type(kind) == manager_of(*e))
            .unwrap_or_else(|| kind.default_ecosystem());
        match parse_db(kind, path, by_path[path], ecosystem) {
            Ok(mut parsed) => {
                if kind == DbKind::Dpkg {
                    add_dpkg_files(&mut parsed.packages, &by_path);
                }
                out.warnings.append(&mut parsed.warnings);
                out.databases.push(OsDatabase { path: path.to_string(), kind, packages: parsed.packages });
            }
            Err(CatalogError::Malformed { line, message, .. }) => {
                let warning = Diagnostic::new(path, message);
                out.warnings.push(match line {
                    Some(l) => warning.at_line(l),
                    None => warning,
                });
            }
        }
    }
    out
}

/// The package manager of a distribution ecosystem, as [`DbKind::trivy_type`] names it.
fn manager_of(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Debian | Ecosystem::Ubuntu => "dpkg",
        Ecosystem::RedHat | Ecosystem::Rocky | Ecosystem::AlmaLinux => "rpm",
        _ => "apk",
    }
}

fn add_dpkg_files(packages: &mut [OsPackage], by_path: &HashMap<&str, &[u8]>) {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, pkg) in packages.iter().enumerate() {
        by_name.entry(pkg.package.name.clone()).or_default().push(i);
    }
    for (path, content) in by_path {
        let Some((name, arch)) = dpkg_list_owner(path) else { continue };
        for &i in by_name.get(name).into_iter().flatten() {
            if arch.is_none_or(|a| a == packages[i].arch) {
                packages[i].files.extend(dpkg::list_files(content));
            }
        }
    }
    for pkg in packages {
        pkg.files.sort_unstable();
        pkg.files.dedup();
    }
}

/// Sets each package's layer to the one that installed its current version.
///
/// `history` holds, oldest layer first, each layer that changed the package
/// database, with the packages its copy of the database listed. A package
/// belongs to the layer from which on every later copy listed it at the
/// same version; an upgrade or a removal and reinstall moves it to the later
/// layer. Packages never listed at their version keep their layer.
pub fn attribute_layers(packages: &mut [Package], history: &[(Layer, Vec<Package>)]) {
    let versions: Vec<HashMap<&str, &str>> = history
        .iter()
        .map(|(_, pkgs)| pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect())
        .collect();
    for pkg in packages {
        let mut since = None;
        for (i, listed) in versions.iter().enumerate() {
            if listed.get(pkg.name.as_str()) == Some(&pkg.version.as_str()) {
                since.get_or_insert(i);
            } else {
                since = None;
            }
        }
        if let Some(i) = since {
            pkg.layer = history[i].0.clone();
        }
    }
}
