//! Python core metadata (`METADATA`, `PKG-INFO`): email-style headers up to
//! the first blank line. Field names are case-insensitive and the first of
//! repeated fields counts, as Python's `email` parser and Go's textproto
//! both read them.
//!
//! The license is the PEP 639 `License-Expression`, else the `License`
//! field when it is a short name (some projects paste the whole license
//! text there), else the names in `License ::` classifiers.

use rampart_types::{Ecosystem, Location, Package};

use crate::{CatalogError, Input, Parsed};

/// Longer `License` values are license texts, not names.
const MAX_LICENSE_NAME: usize = 100;

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = String::from_utf8_lossy(input.content);
    let mut fields: Vec<(&str, String, u32)> = Vec::new();
    for (no, line) in (1u32..).zip(text.lines()) {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        // Lines without a colon (a broken continuation) are skipped.
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim(), value.trim().to_string(), no));
        }
    }
    let get = |key: &str| fields.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key));
    let (Some((_, name, line)), Some((_, version, _))) = (get("Name"), get("Version")) else {
        return Err(CatalogError::malformed(input, None, "no Name and Version fields"));
    };
    if name.is_empty() || version.is_empty() {
        return Err(CatalogError::malformed(input, Some(*line), "empty Name or Version"));
    }
    let mut package = Package::new(Ecosystem::PyPI, name.as_str(), version.as_str());
    package.locations.push(Location { start_line: *line, end_line: *line });
    let expression = get("License-Expression").map(|(_, v, _)| v.as_str()).filter(|v| !v.is_empty());
    let named = get("License")
        .map(|(_, v, _)| v.as_str())
        .filter(|v| !v.is_empty() && !v.contains('\n') && v.len() <= MAX_LICENSE_NAME)
        .filter(|v| !v.eq_ignore_ascii_case("UNKNOWN"));
    package.licenses = match expression.or(named) {
        Some(l) => vec![l.to_string()],
        None => fields
            .iter()
            .filter(|(k, _, _)| k.eq_ignore_ascii_case("Classifier"))
            .filter_map(|(_, v, _)| v.strip_prefix("License ::"))
            .filter_map(|v| v.rsplit("::").next().map(str::trim))
            .filter(|v| !v.is_empty() && *v != "OSI Approved")
            .map(str::to_string)
            .collect(),
    };
    Ok(Parsed { packages: vec![package], warnings: Vec::new() })
}
