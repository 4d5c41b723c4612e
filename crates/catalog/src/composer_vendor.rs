//! `vendor/composer/installed.json`: the PHP packages Composer installed
//! into an app's vendor directory, so what an image or a deployed app really
//! holds, whatever its `composer.lock` says. Trivy reports it per file, as a
//! lockfile (`composer-vendor`).
//!
//! Composer 1 writes a list of packages; Composer 2 writes
//! `{"packages": [...], "dev": bool, "dev-package-names": [...]}`, and the
//! packages that list names are development-only. Packages are written as
//! in `composer.lock` and read the same way: versions as written, `v` kept.

use std::collections::HashSet;

use rampart_types::Location;
use serde::Deserialize;

use crate::composer::Entry;
use crate::support::{Collector, Lenient, Step, json_error, json_spans};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct Installed<'a> {
    #[serde(borrow, default)]
    packages: Option<Vec<Entry<'a>>>,
    #[serde(borrow, default, rename = "dev-package-names")]
    dev_package_names: Option<Vec<Lenient<'a>>>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let composer1 = text.trim_start().starts_with('[');
    let (entries, dev_names) = if composer1 {
        let entries: Vec<Entry<'_>> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
        (entries, HashSet::new())
    } else {
        let installed: Installed<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
        let dev_names = installed
            .dev_package_names
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.0.as_deref().map(str::to_ascii_lowercase))
            .collect();
        (installed.packages.unwrap_or_default(), dev_names)
    };
    let locations = package_locations(text, composer1, entries.len());

    let mut warnings = Vec::new();
    let mut out = Collector::default();
    for (i, entry) in entries.iter().enumerate() {
        let location = locations.as_ref().map(|l| l[i]);
        let what = || if composer1 { format!("[{i}]") } else { format!("packages[{i}]") };
        let mut p = match entry.package(input.display, what, location) {
            Ok(p) => p,
            Err(warning) => {
                warnings.push(warning);
                continue;
            }
        };
        // Composer names are lowercase; compare as Composer does, ignoring case.
        p.dev = dev_names.contains(&p.name.to_ascii_lowercase());
        out.add(p);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// The lines of each package, when the scan finds exactly one per entry.
fn package_locations(text: &str, composer1: bool, count: usize) -> Option<Vec<Location>> {
    let spans = json_spans(text, |p| match p {
        [Step::Index(_)] => composer1,
        [key, Step::Index(_)] => !composer1 && key.is_key("packages"),
        _ => false,
    });
    (spans.len() == count).then(|| spans.into_iter().map(|(_, l)| l).collect())
}
