//! Fixture access and assertions shared by the test suites of this crate.
#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::path::{Path, PathBuf};

use rampart_catalog::{CatalogError, LockfileKind, Parsed, parse};

const LANGUAGE_FIXTURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/lockfiles/extractor/filesystem/language");

/// `<language>/<extractor>/testdata`, which must exist.
pub fn fixture_dir(extractor: &str) -> PathBuf {
    let dir = Path::new(LANGUAGE_FIXTURES).join(extractor).join("testdata");
    assert!(
        dir.is_dir(),
        "{} is missing: these tests require ../shared/data (the shared test data next to the workspace)",
        dir.display()
    );
    dir
}

/// Every file below the fixture folder, sorted.
pub fn fixture_files(extractor: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut files = Vec::new();
    walk(&fixture_dir(extractor), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no fixtures for {extractor}");
    files
}

pub fn parse_path(kind: LockfileKind, path: &Path) -> Result<Parsed, CatalogError> {
    let bytes = fs::read(path).unwrap();
    parse(kind, path, &path.display().to_string(), &bytes)
}

pub fn fixture(kind: LockfileKind, extractor: &str, name: &str) -> Result<Parsed, CatalogError> {
    parse_path(kind, &fixture_dir(extractor).join(name))
}

pub fn ok(kind: LockfileKind, extractor: &str, name: &str) -> Parsed {
    fixture(kind, extractor, name).unwrap_or_else(|e| panic!("{extractor}/{name}: {e}"))
}

/// Parses text as if it were a file without neighbours.
pub fn text(kind: LockfileKind, content: &str) -> Result<Parsed, CatalogError> {
    parse(kind, Path::new("/nonexistent/lockfile"), "lockfile", content.as_bytes())
}

/// The line a `Malformed` error points at; panics if parsing succeeded.
pub fn malformed_line(result: Result<Parsed, CatalogError>) -> Option<u32> {
    match result {
        Err(CatalogError::Malformed { line, .. }) => line,
        Ok(p) => panic!("expected a Malformed error, got {} packages", p.packages.len()),
    }
}

/// `name@version` of every package, sorted.
pub fn ids(parsed: &Parsed) -> Vec<String> {
    let mut ids: Vec<String> = parsed.packages.iter().map(|p| p.id()).collect();
    ids.sort();
    ids
}

/// `(name, version)` of every package, in output order.
pub fn ordered_ids(parsed: &Parsed) -> Vec<(&str, &str)> {
    parsed.packages.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect()
}

/// `name@version` of the packages matching `pred`, sorted.
pub fn ids_where(parsed: &Parsed, pred: impl Fn(&rampart_types::Package) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = parsed.packages.iter().filter(|p| pred(p)).map(|p| p.id()).collect();
    ids.sort();
    ids
}

pub fn get<'a>(parsed: &'a Parsed, name: &str, version: &str) -> &'a rampart_types::Package {
    parsed
        .packages
        .iter()
        .find(|p| p.name == name && p.version == version)
        .unwrap_or_else(|| panic!("no {name}@{version} in {:?}", ids(parsed)))
}

/// `(start, end)` line pairs of a package.
pub fn lines(parsed: &Parsed, name: &str, version: &str) -> Vec<(u32, u32)> {
    get(parsed, name, version).locations.iter().map(|l| (l.start_line, l.end_line)).collect()
}

/// `(start, end)` line pairs of the first package named `name`.
pub fn lines_by_name(parsed: &Parsed, name: &str) -> Vec<(u32, u32)> {
    let pkg = parsed.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no {name}"));
    pkg.locations.iter().map(|l| (l.start_line, l.end_line)).collect()
}

pub fn warning_lines(parsed: &Parsed) -> Vec<Option<u32>> {
    parsed.warnings.iter().map(|w| w.line).collect()
}

/// Parses every fixture of a folder: those `malformed` names (by file name)
/// must be rejected, all others must parse.
pub fn parses_or_fails_cleanly(kind: LockfileKind, extractor: &str, malformed: impl Fn(&str) -> bool) {
    for path in fixture_files(extractor) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match parse_path(kind, &path) {
            Ok(_) => assert!(!malformed(&name), "{} should be rejected", path.display()),
            Err(e) => assert!(malformed(&name), "{}: {e}", path.display()),
        }
    }
}

/// Feeds every fixture, cut at many points, to the parser: any outcome but a
/// panic is fine, since a truncated file may still be a valid (shorter) one.
pub fn truncations_do_not_panic(kind: LockfileKind, extractor: &str) {
    for path in fixture_files(extractor) {
        let bytes = fs::read(&path).unwrap();
        let len = bytes.len();
        let mut cuts: Vec<usize> = (0..=16).map(|i| len * i / 16).collect();
        cuts.extend((0..len.min(64)).map(|i| len - i));
        cuts.extend((0..len).step_by(97));
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            let display = format!("{}@{cut}", path.display());
            let outcome = std::panic::catch_unwind(|| {
                parse(kind, &path, &display, &bytes[..cut]).map(|p| p.packages.len())
            });
            assert!(outcome.is_ok(), "{display} panicked");
        }
    }
}
