//! .NET `*.deps.json`: the runtime dependency manifest `dotnet build` and
//! `dotnet publish` write beside an app. It is what the app loads, so it is
//! read wherever it is found, in projects and in images alike.
//!
//! The packages are the `libraries` keyed `Name/Version` whose `type` is
//! `package`; `project` (the app and its sibling projects) and `reference`
//! entries are source, not packages.

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::support::{Collector, LineIndex, Ordered, Text, json_error, json_offset};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct DepsFile<'a> {
    /// `Name/Version` → entry, in file order; entries kept raw so one bad
    /// entry costs only itself and its lines are exact.
    #[serde(borrow, default)]
    libraries: Option<Ordered<'a, &'a RawValue>>,
}

#[derive(Deserialize)]
struct Library<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let deps: DepsFile<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    let lines = LineIndex::new(text);
    let mut warnings = Vec::new();
    // NuGet names are case-insensitive.
    let mut out = Collector::by_normalized_name();
    for (key, raw) in deps.libraries.map(|l| l.0).unwrap_or_default() {
        let offset = json_offset(text, raw);
        let start_line = lines.line(offset);
        let library: Library<'_> = match serde_json::from_str(raw.get()) {
            Ok(l) => l,
            Err(e) => {
                warnings.push(
                    Diagnostic::new(input.display, format!("libraries.{key}: {e}")).at_line(start_line),
                );
                continue;
            }
        };
        if !library.kind.is_some_and(|k| k.0.eq_ignore_ascii_case("package")) {
            continue;
        }
        let Some((name, version)) = split_key(&key) else {
            let msg = format!("libraries.{key}: not a `Name/Version` key, skipped");
            warnings.push(Diagnostic::new(input.display, msg).at_line(start_line));
            continue;
        };
        let mut pkg = Package::new(Ecosystem::NuGet, name, version);
        pkg.locations.push(Location { start_line, end_line: lines.line(offset + raw.get().len()) });
        out.add(pkg);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// `Name/Version`, both parts present; NuGet names and versions never hold a `/`.
fn split_key(key: &str) -> Option<(&str, &str)> {
    let (name, version) = key.split_once('/')?;
    let valid = |s: &str| !s.trim().is_empty() && !s.contains('/');
    (valid(name) && valid(version)).then_some((name, version))
}
