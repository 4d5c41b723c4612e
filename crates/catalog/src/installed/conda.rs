//! The records conda keeps of what it installed into an environment:
//! `<prefix>/conda-meta/<name>-<version>-<build>.json`, one per package.
//! Only `name`, `version` and `license` are read; the file lists (often
//! thousands of paths) are skipped without being kept. A record without a
//! name or version names no package: a warning, as Trivy's parser refuses
//! it, but not a broken file.

use rampart_types::{Diagnostic, Ecosystem, Package};
use serde::Deserialize;

use crate::support::{Lenient, json_error};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    version: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    license: Option<Lenient<'a>>,
}

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let record: Record<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    // serde also reads a struct from a list; a record is an object.
    if !text.trim_start().starts_with('{') {
        return Err(CatalogError::malformed(input, None, "not a JSON object"));
    }
    let (Some(name), Some(version)) = (string(record.name), string(record.version)) else {
        let warning = Diagnostic::new(input.display, "no name or version: not a package record");
        return Ok(Parsed { packages: Vec::new(), warnings: vec![warning] });
    };
    let mut package = Package::new(Ecosystem::Conda, name, version);
    package.licenses.extend(string(record.license));
    Ok(Parsed { packages: vec![package], warnings: Vec::new() })
}

/// A field's string value, trimmed, when it is a non-empty string.
fn string(field: Option<Lenient<'_>>) -> Option<String> {
    let value = field?.0?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}
