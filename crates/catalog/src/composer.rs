//! `composer.lock`: `packages` (runtime) and `packages-dev` (development).
//!
//! Versions are kept as written (`v1.2.3` included); the Composer version
//! scheme ignores the `v`, as Packagist advisories (`1.2.3`) require.
//! Which packages are direct lives in `composer.json`, read when it sits
//! beside the lockfile.

use std::collections::HashSet;

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::support::{
    Collector, Lenient, Ordered, Sibling, Step, Text, json_error, json_spans, read_sibling,
};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct Lockfile<'a> {
    #[serde(borrow, default)]
    packages: Option<Vec<Entry<'a>>>,
    #[serde(borrow, default, rename = "packages-dev")]
    packages_dev: Option<Vec<Entry<'a>>>,
}

/// One package as Composer writes it, in `composer.lock` and in
/// `vendor/composer/installed.json` alike.
#[derive(Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(borrow, default)]
    license: Option<Licenses<'a>>,
}

impl Entry<'_> {
    /// The package with its licenses, declared at `location`; without a name
    /// or version, the warning for the entry `what` names (`packages[3]`).
    pub(crate) fn package(
        &self,
        display: &str,
        what: impl FnOnce() -> String,
        location: Option<Location>,
    ) -> Result<Package, Diagnostic> {
        let (Some(name), Some(version)) = (&self.name, &self.version) else {
            let warning = Diagnostic::new(display, format!("{} has no name or version", what()));
            return Err(match location {
                Some(l) => warning.at_line(l.start_line),
                None => warning,
            });
        };
        let mut p = Package::new(Ecosystem::Packagist, name.0.as_ref(), version.0.as_ref());
        p.licenses = match &self.license {
            Some(Licenses::Many(list)) => {
                list.iter().filter_map(|l| l.0.as_deref()).map(str::to_string).collect()
            }
            Some(Licenses::One(one)) => one.0.iter().map(|l| l.to_string()).collect(),
            None => Vec::new(),
        };
        p.locations.extend(location);
        Ok(p)
    }
}

/// `license` is a list of SPDX ids, or (in old locks) one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Licenses<'a> {
    #[serde(borrow)]
    Many(Vec<Lenient<'a>>),
    #[serde(borrow)]
    One(Lenient<'a>),
}

#[derive(Deserialize)]
struct Manifest<'a> {
    #[serde(borrow, default)]
    require: Option<Ordered<'a, IgnoredAny>>,
    #[serde(borrow, default, rename = "require-dev")]
    require_dev: Option<Ordered<'a, IgnoredAny>>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: Lockfile<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    let mut warnings = Vec::new();
    let direct =
        read_sibling(input, "composer.json", &mut warnings).and_then(|m| direct_names(&m, &mut warnings));

    let mut out = Collector::default();
    for (section, entries, dev) in
        [("packages", &lock.packages, false), ("packages-dev", &lock.packages_dev, true)]
    {
        let Some(entries) = entries else { continue };
        let spans =
            json_spans(text, |p| p.len() == 2 && p[0].is_key(section) && matches!(p[1], Step::Index(_)));
        let spans = (spans.len() == entries.len()).then_some(spans);
        for (i, entry) in entries.iter().enumerate() {
            let location = spans.as_ref().map(|s| s[i].1);
            let mut p = match entry.package(input.display, || format!("{section}[{i}]"), location) {
                Ok(p) => p,
                Err(warning) => {
                    warnings.push(warning);
                    continue;
                }
            };
            p.dev = dev;
            if let Some(direct) = &direct {
                p.indirect = !direct.contains(&p.name.to_ascii_lowercase());
            }
            out.add(p);
        }
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// The packages `composer.json` requires (names are case-insensitive).
fn direct_names(manifest: &Sibling, warnings: &mut Vec<Diagnostic>) -> Option<HashSet<String>> {
    let m: Manifest<'_> = manifest.json("direct dependencies", warnings)?;
    Some(
        [m.require, m.require_dev]
            .into_iter()
            .flatten()
            .flat_map(|r| r.0.into_iter().map(|(k, _)| k.to_ascii_lowercase()))
            .collect(),
    )
}
