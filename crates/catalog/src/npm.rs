//! `package-lock.json` / `npm-shrinkwrap.json`, lockfile versions 1–3.
//!
//! v2 and v3 list every installed copy under `packages`, keyed by its
//! `node_modules/…` path; v1 nests copies in a `dependencies` tree. A v2 file
//! carries both; the `packages` map is the complete one and wins.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rampart_types::{Ecosystem, Location, Package};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::support::{Collector, Lenient, Ordered, Step, Text, json_error, json_spans, split_name_at};
use crate::{CatalogError, Input, Parsed};

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: Lockfile<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    let mut out = Collector::default();
    if let Some(packages) = lock.packages {
        collect_v2(text, packages.0, &mut out);
    } else if let Some(dependencies) = lock.dependencies {
        collect_v1(text, &dependencies.0, &mut out);
    }
    Ok(Parsed { packages: out.finish(), warnings: Vec::new() })
}

#[derive(Deserialize)]
struct Lockfile<'a> {
    #[serde(borrow, default)]
    packages: Option<Ordered<'a, V2Package<'a>>>,
    #[serde(borrow, default)]
    dependencies: Option<Ordered<'a, V1Dependency<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct V2Package<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    dev: bool,
    dev_optional: bool,
    link: bool,
    #[serde(borrow)]
    license: Option<Lenient<'a>>,
    #[serde(borrow)]
    dependencies: Option<Ordered<'a, IgnoredAny>>,
    #[serde(borrow)]
    dev_dependencies: Option<Ordered<'a, IgnoredAny>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'a, IgnoredAny>>,
    #[serde(borrow)]
    peer_dependencies: Option<Ordered<'a, IgnoredAny>>,
}

impl<'a> V2Package<'a> {
    /// Names this package declares, in every dependency group.
    fn declared(&self) -> impl Iterator<Item = &str> {
        [&self.dependencies, &self.dev_dependencies, &self.optional_dependencies, &self.peer_dependencies]
            .into_iter()
            .flatten()
            .flat_map(|m| m.0.iter().map(|(k, _)| k.as_ref()))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Dependency<'a> {
    #[serde(borrow)]
    version: Option<Text<'a>>,
    dev: bool,
    #[serde(borrow)]
    dependencies: Option<Ordered<'a, V1Dependency<'a>>>,
}

const NODE_MODULES: &str = "node_modules/";

fn collect_v2(text: &str, entries: Vec<(Cow<'_, str>, V2Package<'_>)>, out: &mut Collector) {
    let spans = json_spans(text, |p| p.len() == 2 && p[0].is_key("packages"));
    let spans = (spans.len() == entries.len()).then_some(spans);

    // Entries outside any node_modules folder are the project's own code (the
    // root "", workspaces, `file:` folders); what they declare is direct,
    // found either hoisted (prefix "") or nested below them.
    let mut direct: HashMap<String, HashSet<&str>> = HashMap::new();
    for (key, pkg) in &entries {
        if key.contains(NODE_MODULES) {
            continue;
        }
        let nested = if key.is_empty() { String::new() } else { format!("{key}/") };
        direct.entry(String::new()).or_default().extend(pkg.declared());
        direct.entry(nested).or_default().extend(pkg.declared());
    }
    let knows_direct = direct.values().any(|names| !names.is_empty());

    for (i, (key, pkg)) in entries.iter().enumerate() {
        let Some(cut) = key.rfind(NODE_MODULES) else { continue };
        // A link points at a folder listed under its own key.
        if pkg.link {
            continue;
        }
        let Some(version) = pkg.version.as_ref().map(|v| v.0.as_ref()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let folder = &key[cut + NODE_MODULES.len()..];
        let name = pkg.name.as_ref().map_or(folder, |n| n.0.as_ref());
        let mut p = Package::new(Ecosystem::Npm, name, version);
        p.dev = pkg.dev || pkg.dev_optional;
        let owner = &key[..cut];
        // A copy nested in another package's folder is that package's dependency.
        p.indirect = owner.contains(NODE_MODULES)
            || (knows_direct && !direct.get(owner).is_some_and(|names| names.contains(folder)));
        if let Some(license) = pkg.license.as_ref().and_then(|l| l.0.as_ref()) {
            p.licenses.push(license.to_string());
        }
        if let Some(spans) = &spans {
            p.locations.push(spans[i].1);
        }
        out.add(p);
    }
}

fn collect_v1(text: &str, deps: &[(Cow<'_, str>, V1Dependency<'_>)], out: &mut Collector) {
    let spans =
        json_spans(text, |p| p.len() % 2 == 0 && p.iter().step_by(2).all(|s| s.is_key("dependencies")));
    let spans = (spans.len() == count_v1(deps)).then_some(spans);
    let mut next = 0;
    walk_v1(deps, false, spans.as_deref(), &mut next, out);
}

fn count_v1(deps: &[(Cow<'_, str>, V1Dependency<'_>)]) -> usize {
    deps.iter().map(|(_, d)| 1 + d.dependencies.as_ref().map_or(0, |n| count_v1(&n.0))).sum()
}

/// Visits the tree in document order, the order `json_spans` reports, so the
/// n-th entry visited owns the n-th span.
fn walk_v1(
    deps: &[(Cow<'_, str>, V1Dependency<'_>)],
    nested: bool,
    spans: Option<&[(Vec<Step<'_>>, Location)]>,
    next: &mut usize,
    out: &mut Collector,
) {
    for (key, dep) in deps {
        let location = spans.and_then(|s| s.get(*next)).map(|s| s.1);
        *next += 1;
        if let Some((name, version)) = dep.version.as_ref().and_then(|v| v1_identity(key, &v.0)) {
            let mut p = Package::new(Ecosystem::Npm, name, version);
            p.dev = dep.dev;
            // Top-level v1 entries mix direct and hoisted packages; only a
            // nested copy is known to be someone else's dependency.
            p.indirect = nested;
            p.locations.extend(location);
            out.add(p);
        }
        if let Some(children) = &dep.dependencies {
            walk_v1(&children.0, true, spans, next, out);
        }
    }
}

/// The real name and version of a v1 entry: `npm:` aliases point at another
/// package; `file:` and `link:` entries are the project's own folders.
fn v1_identity<'a>(key: &'a str, version: &'a str) -> Option<(&'a str, &'a str)> {
    if version.is_empty() || version.starts_with("file:") || version.starts_with("link:") {
        return None;
    }
    match version.strip_prefix("npm:") {
        Some(spec) => split_name_at(spec).filter(|(n, v)| !n.is_empty() && !v.is_empty()),
        None => Some((key, version)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_the_real_package() {
        assert_eq!(v1_identity("x", "npm:@babel/code-frame@7.0.0"), Some(("@babel/code-frame", "7.0.0")));
        assert_eq!(v1_identity("x", "1.0.0"), Some(("x", "1.0.0")));
        assert_eq!(v1_identity("x", "file:../x"), None);
        assert_eq!(v1_identity("x", "npm:broken"), None);
    }
}
