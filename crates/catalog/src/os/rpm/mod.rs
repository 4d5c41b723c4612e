//! rpm's package database: one header blob per installed package, kept in
//! one of three containers ([`bdb`], [`sqlite`], [`ndb`]) that this module
//! only unpacks; [`header`] reads the blobs.

mod bdb;
mod header;
mod ndb;
mod sqlite;

use rampart_types::{Diagnostic, Ecosystem, Package};

pub(super) use bdb::blobs as bdb_blobs;
use header::{Header, tag};
pub(super) use ndb::blobs as ndb_blobs;
pub(super) use sqlite::blobs as sqlite_blobs;

use super::{OsPackage, OsPackages};
use crate::CatalogError;

/// The header blobs of a database, and how many could not be unpacked.
#[derive(Debug, Default)]
pub(crate) struct Blobs {
    pub(crate) blobs: Vec<Vec<u8>>,
    pub(crate) lost: Vec<String>,
}

/// Turns header blobs into packages. The `gpg-pubkey` entries rpm keeps for
/// imported signing keys are not software and are left out.
pub(super) fn parse(display: &str, blobs: Blobs, ecosystem: Ecosystem) -> Result<OsPackages, CatalogError> {
    let mut out = OsPackages::default();
    for problem in blobs.lost {
        out.warnings.push(Diagnostic::new(display, problem));
    }
    for (i, blob) in blobs.blobs.iter().enumerate() {
        match Header::parse(blob).and_then(|h| package(&h, ecosystem)) {
            Ok(Some(pkg)) => out.packages.push(pkg),
            Ok(None) => {}
            Err(e) => out.warnings.push(Diagnostic::new(display, format!("package header {}: {e}", i + 1))),
        }
    }
    Ok(out)
}

fn package(h: &Header<'_>, ecosystem: Ecosystem) -> Result<Option<OsPackage>, String> {
    let name = h.string(tag::NAME).filter(|n| !n.is_empty()).ok_or("no name")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = h.string(tag::VERSION).filter(|v| !v.is_empty()).ok_or("no version")?;
    let release = h.string(tag::RELEASE).filter(|r| !r.is_empty());
    let epoch = h.int32(tag::EPOCH).filter(|e| *e != 0);
    let evr = |version: &str, release: Option<&str>| {
        let mut s = epoch.map(|e| format!("{e}:")).unwrap_or_default();
        s.push_str(version);
        if let Some(r) = release {
            s.push('-');
            s.push_str(r);
        }
        s
    };
    let mut package = Package::new(ecosystem, name, evr(version, release));
    // The source rpm's file name carries no epoch; rpm builds share the binary's.
    if let Some((src_name, src_version, src_release)) = h.string(tag::SOURCERPM).and_then(split_source_rpm) {
        package.src_name = Some(src_name.to_string());
        package.src_version = Some(evr(src_version, Some(src_release)));
    }
    if let Some(license) = h.string(tag::LICENSE).map(str::trim).filter(|l| !l.is_empty()) {
        package.licenses.push(license.to_string());
    }
    let mut pkg = OsPackage::new(package);
    pkg.arch = h.string(tag::ARCH).unwrap_or_default().to_string();
    pkg.files = files(h);
    Ok(Some(pkg))
}

/// `name-version-release.arch.rpm` → (name, version, release).
fn split_source_rpm(file: &str) -> Option<(&str, &str, &str)> {
    let stem = file.strip_suffix(".rpm")?;
    let (nvr, _arch) = stem.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty() && !release.is_empty()).then_some((name, version, release))
}

/// Installed paths relative to `/`: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`
/// since rpm 4.1, whole `OLDFILENAMES` before.
fn files(h: &Header<'_>) -> Vec<String> {
    let bases = h.strings(tag::BASENAMES);
    if bases.is_empty() {
        return h.strings(tag::OLDFILENAMES).iter().map(|p| p.trim_start_matches('/').to_string()).collect();
    }
    let dirs = h.strings(tag::DIRNAMES);
    let indexes = h.int32s(tag::DIRINDEXES);
    bases
        .iter()
        .zip(indexes)
        .filter_map(|(base, i)| {
            let dir = dirs.get(usize::try_from(i).ok()?)?;
            Some(format!("{dir}{base}").trim_start_matches('/').to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names() {
        assert_eq!(split_source_rpm("dive-0.9.2-1.src.rpm"), Some(("dive", "0.9.2", "1")));
        assert_eq!(
            split_source_rpm("python-urllib3-1.26.5-3.el9.src.rpm"),
            Some(("python-urllib3", "1.26.5", "3.el9"))
        );
        assert_eq!(split_source_rpm("(none)"), None);
        assert_eq!(split_source_rpm("noversion.src.rpm"), None);
    }
}
