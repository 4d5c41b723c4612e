//! Whole systems (an image's filesystem, an unpacked root): the OS, its
//! package databases, installed language packages, and the lockfiles and
//! configs the tree analyzers want, all from one set of claimed files.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rampart_catalog::installed::{self, InstalledKind};
use rampart_catalog::os;
use rampart_types::{Diagnostic, Layer, Os, Package, ReportPackage, ResultClass, ScanResult};

use crate::analyze::Analyzers;

/// A file of the system: path relative to `/`, content, and the image layer
/// that wrote it (empty for a directory on disk).
pub struct SystemFile {
    pub path: String,
    pub content: Vec<u8>,
    pub layer: Layer,
}

/// Whether the system analysis wants the file at `path`.
pub fn claims(analyzers: &Analyzers<'_>, path: &str) -> bool {
    os::claims(path) || installed::claims(path) || analyzers.claims(path)
}

/// What a system scan found.
pub struct SystemScan {
    pub os: Option<Os>,
    pub results: Vec<ScanResult>,
    pub warnings: Vec<Diagnostic>,
    /// The files OS packages installed (normalized paths).
    pub os_files: HashSet<String>,
}

/// Analyzes the claimed files of one system. `name` heads the OS result
/// (`alpine:3.20 (alpine 3.20.3)`); `root` is where the files are on disk,
/// when they are, so lockfile parsers can find neighbours.
pub fn analyze(
    name: &str,
    files: &[SystemFile],
    analyzers: &Analyzers<'_>,
    root: Option<&Path>,
) -> SystemScan {
    let mut warnings = Vec::new();
    let mut results = Vec::new();

    let os_files: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|f| os::claims(&f.path))
        .map(|f| (f.path.as_str(), f.content.as_slice()))
        .collect();
    let catalog = os::catalog(&os_files);
    warnings.extend(catalog.warnings.iter().cloned());
    let layer_of: BTreeMap<&str, &Layer> = files.iter().map(|f| (os::normalize(&f.path), &f.layer)).collect();

    if let Some(found) = &catalog.os {
        let mut packages: Vec<Package> = catalog
            .databases
            .iter()
            .flat_map(|db| {
                let layer = layer_of.get(db.path.as_str()).copied().cloned().unwrap_or_default();
                db.packages.iter().map(move |p| Package { layer: layer.clone(), ..p.package.clone() })
            })
            .collect();
        packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        let target = format!("{name} ({} {})", found.family, found.name);
        let mut result = ScanResult::new(target, ResultClass::OsPkgs, found.family.clone());
        if let Some(detector) = &analyzers.detector {
            match os::advisory_release(found) {
                Some((_, release)) => match detector.detect(&packages, Some(&release)) {
                    Ok(d) => {
                        warnings.extend(d.warnings);
                        result.vulnerabilities = d.vulnerabilities;
                    }
                    Err(e) => {
                        warnings.push(Diagnostic::new(name, format!("matching OS packages failed: {e}")))
                    }
                },
                None => warnings.push(Diagnostic::new(
                    name,
                    format!("{} {} is not covered by the vulnerability database", found.family, found.name),
                )),
            }
        }
        if analyzers.list_all_pkgs {
            result.packages = packages.iter().map(ReportPackage::from).collect();
        }
        results.push(result);
    }

    let owned = catalog.owned_files();
    let mut installed_groups: BTreeMap<(&'static str, &'static str), Vec<Package>> = BTreeMap::new();
    for file in files {
        let path = os::normalize(&file.path);
        if let Some(kind) = installed::kind(path) {
            if owned.contains(path) && kind.defers_to_os_package() {
                continue;
            }
            match installed::parse(kind, path, &file.content) {
                Ok(parsed) => {
                    warnings.extend(parsed.warnings);
                    installed_groups.entry((kind_target(kind), kind.trivy_type())).or_default().extend(
                        parsed.packages.into_iter().map(|p| Package {
                            layer: file.layer.clone(),
                            file_path: p.file_path.or_else(|| Some(path.to_string())),
                            ..p
                        }),
                    );
                }
                Err(e) => warnings.push(Diagnostic::new(path, format!("skipped: {e}"))),
            }
        }
    }
    for ((target, kind), packages) in installed_groups {
        results.push(language_result(target, kind, packages, analyzers, &mut warnings));
    }

    for file in files {
        let path = os::normalize(&file.path);
        if !analyzers.claims(path) {
            continue;
        }
        let on_disk = root.map(|r| r.join(path)).unwrap_or_else(|| Path::new("/").join(path));
        let (found, w) = analyzers.analyze(path, &on_disk, &file.content);
        warnings.extend(w);
        results.extend(found.into_iter().map(|mut r| {
            for p in &mut r.packages {
                p.layer = file.layer.clone();
            }
            for v in &mut r.vulnerabilities {
                v.layer = file.layer.clone();
            }
            r
        }));
    }
    let os_files = owned.iter().map(|f| f.to_string()).collect();
    SystemScan { os: catalog.os.clone(), results, warnings, os_files }
}

/// The result name Trivy gives packages of a kind gathered from many files.
fn kind_target(kind: InstalledKind) -> &'static str {
    match kind {
        InstalledKind::Python => "Python",
        InstalledKind::Node => "Node.js",
        InstalledKind::Jar => "Java",
        InstalledKind::Gemspec => "Ruby",
        InstalledKind::Conda => "Conda",
        InstalledKind::GoBinary | InstalledKind::RustBinary => "Binaries",
    }
}

/// The packages an executable embeds (Go build information, a `cargo
/// auditable` list), or `None` for an ordinary executable.
pub fn binary(path: &str, content: &[u8], warnings: &mut Vec<Diagnostic>) -> Option<Binary> {
    match installed::parse_binary(path, content) {
        Ok(Some((kind, parsed))) => {
            warnings.extend(parsed.warnings);
            (!parsed.packages.is_empty()).then_some(Binary { kind, packages: parsed.packages })
        }
        Ok(None) => None,
        Err(e) => {
            warnings.push(Diagnostic::new(path, format!("skipped: {e}")));
            None
        }
    }
}

/// What one executable embeds.
pub struct Binary {
    pub kind: InstalledKind,
    pub packages: Vec<Package>,
}

/// One result per executable (Trivy's `gobinary` and `rustbinary`
/// results), named by its path after `prefix`. Binaries an OS package
/// installed are left to it, as [`InstalledKind::defers_to_os_package`] says.
pub fn binary_results(
    binaries: impl IntoIterator<Item = (String, Binary, Layer)>,
    prefix: &str,
    os_files: &HashSet<String>,
    analyzers: &Analyzers<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<ScanResult> {
    binaries
        .into_iter()
        .filter(|(path, binary, _)| !(binary.kind.defers_to_os_package() && os_files.contains(path)))
        .map(|(path, binary, layer)| {
            let target = format!("{prefix}{path}");
            let packages =
                binary.packages.into_iter().map(|p| Package { layer: layer.clone(), ..p }).collect();
            language_result(&target, binary.kind.trivy_type(), packages, analyzers, warnings)
        })
        .collect()
}

/// One result for installed packages of one kind (`Python`, `Node.js`, a Go binary).
pub fn language_result(
    target: &str,
    kind: &str,
    mut packages: Vec<Package>,
    analyzers: &Analyzers<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> ScanResult {
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages.dedup_by(|a, b| {
        a.name == b.name && a.version == b.version && a.ecosystem == b.ecosystem && a.file_path == b.file_path
    });
    let mut result = ScanResult::new(target, ResultClass::LangPkgs, kind);
    if let Some(detector) = &analyzers.detector {
        match detector.detect(&packages, None) {
            Ok(d) => {
                warnings.extend(d.warnings);
                result.vulnerabilities = d.vulnerabilities;
            }
            Err(e) => warnings.push(Diagnostic::new(target, format!("matching failed: {e}"))),
        }
    }
    if analyzers.list_all_pkgs {
        result.packages = packages.iter().map(ReportPackage::from).collect();
    }
    result
}
