//! The `package.json` of a package installed in `node_modules`: its name,
//! version and license. The license may be a string, an old `{"type": …}`
//! object, or an old `licenses` list of those.

use rampart_types::{Ecosystem, Package};
use serde_json::Value;

use crate::support::json_error;
use crate::{CatalogError, Input, Parsed};

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let manifest: Value = serde_json::from_str(input.text()?).map_err(|e| json_error(input, &e))?;
    let text = |key: &str| manifest.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    // A manifest without both is a workspace or a stub, not an installed package.
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Ok(Parsed::default());
    };
    let mut package = Package::new(Ecosystem::Npm, name, version);
    let license_name = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    package.licenses = match (manifest.get("license"), manifest.get("licenses")) {
        (Some(license), _) => license_name(license).into_iter().collect(),
        (None, Some(Value::Array(list))) => list.iter().filter_map(license_name).collect(),
        (None, Some(other)) => license_name(other).into_iter().collect(),
        (None, None) => Vec::new(),
    };
    package.licenses.retain(|l| !l.trim().is_empty());
    Ok(Parsed { packages: vec![package], warnings: Vec::new() })
}
