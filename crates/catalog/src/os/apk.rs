//! apk's installed database (`lib/apk/db/installed`): one block of
//! `X:value` lines per package, blocks separated by blank lines.
//!
//! Read here: `P` name, `V` version, `A` arch, `o` origin (the source
//! package, built at the same version), `L` license, and `F` (a directory)
//! with the `R` files in it.

use rampart_types::{Diagnostic, Ecosystem, Package};

use super::{OsPackage, OsPackages};
use crate::CatalogError;

#[derive(Default)]
struct Entry<'a> {
    line: u32,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    license: Option<&'a str>,
    dir: &'a str,
    files: Vec<String>,
    fields: usize,
}

pub(super) fn parse(display: &str, content: &[u8], ecosystem: Ecosystem) -> Result<OsPackages, CatalogError> {
    let text = String::from_utf8_lossy(content);
    let mut out = OsPackages::default();
    let mut entry = Entry::default();
    let mut fields = 0usize;
    let mut first_bad: Option<u32> = None;
    for (no, line) in (1u32..).zip(text.lines()) {
        if line.trim().is_empty() {
            finish(std::mem::take(&mut entry), display, ecosystem, &mut out);
            continue;
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' {
            first_bad.get_or_insert(no);
            continue;
        }
        if entry.fields == 0 {
            entry.line = no;
        }
        entry.fields += 1;
        fields += 1;
        let value = &line[2..];
        match bytes[0] {
            b'P' => entry.name = Some(value),
            b'V' => entry.version = Some(value),
            b'A' => entry.arch = Some(value),
            b'o' => entry.origin = Some(value),
            b'L' => entry.license = Some(value),
            b'F' => entry.dir = value,
            b'R' if entry.dir.is_empty() => entry.files.push(value.to_string()),
            b'R' => entry.files.push(format!("{}/{value}", entry.dir)),
            _ => {}
        }
    }
    finish(entry, display, ecosystem, &mut out);
    if let Some(line) = first_bad {
        if fields == 0 {
            let message = "not an apk database: no `X:value` lines".to_string();
            return Err(CatalogError::Malformed { path: display.to_string(), line: Some(line), message });
        }
        out.warnings
            .push(Diagnostic::new(display, "lines that are not `X:value` were skipped").at_line(line));
    }
    Ok(out)
}

fn finish(entry: Entry<'_>, display: &str, ecosystem: Ecosystem, out: &mut OsPackages) {
    if entry.fields == 0 {
        return;
    }
    let (Some(name), Some(version)) = (entry.name.filter(|n| !n.is_empty()), entry.version) else {
        let what = if entry.name.is_some_and(|n| !n.is_empty()) { "version (V:)" } else { "name (P:)" };
        out.warnings
            .push(Diagnostic::new(display, format!("package without a {what} skipped")).at_line(entry.line));
        return;
    };
    let mut package = Package::new(ecosystem, name, version);
    if let Some(origin) = entry.origin.filter(|o| !o.is_empty()) {
        package.src_name = Some(origin.to_string());
        package.src_version = Some(version.to_string());
    }
    if let Some(license) = entry.license.map(str::trim).filter(|l| !l.is_empty()) {
        package.licenses.push(license.to_string());
    }
    let mut pkg = OsPackage::new(package);
    pkg.arch = entry.arch.unwrap_or_default().to_string();
    pkg.files = entry.files;
    out.packages.push(pkg);
}
