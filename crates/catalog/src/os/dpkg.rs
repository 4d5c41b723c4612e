//! dpkg's status file (`var/lib/dpkg/status`, and distroless's one file per
//! package in `status.d/`): deb822 paragraphs of `Field: value` lines,
//! continuation lines indented, paragraphs separated by blank lines.
//!
//! Only installed packages count: `Status: <want> <flag> installed` with
//! want `install` or `hold`. Distroless files carry no `Status` at all and
//! list only what is installed.

use rampart_types::{Diagnostic, Ecosystem, Package};

use super::{OsPackage, OsPackages};
use crate::CatalogError;

#[derive(Default)]
struct Paragraph<'a> {
    line: u32,
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Paragraph<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

pub(super) fn parse(display: &str, content: &[u8], ecosystem: Ecosystem) -> Result<OsPackages, CatalogError> {
    let text = String::from_utf8_lossy(content);
    let mut out = OsPackages::default();
    let mut para = Paragraph::default();
    let mut fields = 0usize;
    let mut first_bad: Option<u32> = None;
    for (no, line) in (1u32..).zip(text.lines()) {
        if line.trim().is_empty() {
            finish(std::mem::take(&mut para), display, ecosystem, &mut out);
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, value)) = line.split_once(':').filter(|(n, _)| !n.is_empty() && !n.contains(' '))
        else {
            first_bad.get_or_insert(no);
            continue;
        };
        if para.fields.is_empty() {
            para.line = no;
        }
        para.fields.push((name, value.trim()));
        fields += 1;
    }
    finish(para, display, ecosystem, &mut out);
    if let Some(line) = first_bad {
        if fields == 0 {
            let message = "not a dpkg status file: no `Field: value` lines".to_string();
            return Err(CatalogError::Malformed { path: display.to_string(), line: Some(line), message });
        }
        out.warnings
            .push(Diagnostic::new(display, "lines that are not `Field: value` were skipped").at_line(line));
    }
    Ok(out)
}

fn installed(status: Option<&str>) -> bool {
    let Some(status) = status else { return true };
    let words: Vec<&str> = status.split_whitespace().collect();
    matches!(words.as_slice(), ["install" | "hold", _, "installed"])
}

fn finish(para: Paragraph<'_>, display: &str, ecosystem: Ecosystem, out: &mut OsPackages) {
    if para.fields.is_empty() || !installed(para.get("Status")) {
        return;
    }
    let name = para.get("Package").filter(|n| !n.is_empty());
    let version = para.get("Version").filter(|v| !v.is_empty());
    let (Some(name), Some(version)) = (name, version) else {
        let what = if name.is_some() { "Version" } else { "Package" };
        out.warnings.push(
            Diagnostic::new(display, format!("paragraph without a {what} field skipped")).at_line(para.line),
        );
        return;
    };
    let mut package = Package::new(ecosystem, name, version);
    // `Source: name` or `Source: name (version)` when the source version differs.
    let (src_name, src_version) = match para.get("Source").filter(|s| !s.is_empty()) {
        None => (name, version),
        Some(source) => match source.split_once('(') {
            Some((n, v)) => (n.trim(), v.trim().trim_end_matches(')').trim()),
            None => (source, version),
        },
    };
    package.src_name = Some(src_name.to_string());
    package.src_version = Some(src_version.to_string());
    let mut pkg = OsPackage::new(package);
    pkg.arch = para.get("Architecture").unwrap_or_default().to_string();
    out.packages.push(pkg);
}

/// The paths in a `var/lib/dpkg/info/<pkg>.list` file, relative to `/`
/// (its first line, `/.`, is the root itself and dropped).
pub(super) fn list_files(content: &[u8]) -> impl Iterator<Item = String> + '_ {
    content
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim_start_matches('/').trim_end_matches('\r').to_string())
        .filter(|p| !p.is_empty() && p != ".")
}
