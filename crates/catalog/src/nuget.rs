//! NuGet `packages.lock.json`: the resolved packages of every target framework.

use std::collections::HashMap;

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::support::{Collector, LineIndex, json_error, json_offset};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct PackagesLock<'a> {
    /// Target framework → package name → entry, kept raw to find its lines.
    #[serde(borrow, default)]
    dependencies: HashMap<String, HashMap<String, &'a RawValue>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    resolved: Option<String>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: PackagesLock<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    // File order, so output and line numbers are stable across runs.
    let mut entries: Vec<(usize, String, &RawValue)> = lock
        .dependencies
        .into_values()
        .flatten()
        .map(|(name, raw)| (json_offset(text, raw), name, raw))
        .collect();
    entries.sort_by_key(|e| e.0);

    let lines = LineIndex::new(text);
    let mut warnings = Vec::new();
    // Names are case-insensitive: `Newtonsoft.Json` and `newtonsoft.json` are one package.
    let mut out = Collector::by_normalized_name();
    for (offset, name, raw) in entries {
        let start_line = lines.line(offset);
        let entry: Entry = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(Diagnostic::new(input.display, format!("{name}: {e}")).at_line(start_line));
                continue;
            }
        };
        // Projects of the same solution are source, not packages.
        if entry.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("project")) {
            continue;
        }
        let Some(version) = entry.resolved.filter(|v| !v.trim().is_empty()) else {
            let msg = format!("{name} has no resolved version");
            warnings.push(Diagnostic::new(input.display, msg).at_line(start_line));
            continue;
        };
        // `Transitive`, and `CentralTransitive` under central package management.
        let indirect = entry.kind.as_deref().is_some_and(|k| k.to_ascii_lowercase().ends_with("transitive"));
        let mut pkg = Package::new(Ecosystem::NuGet, name, version);
        pkg.indirect = indirect;
        pkg.locations.push(Location { start_line, end_line: lines.line(offset + raw.get().len()) });
        out.add(pkg);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}
