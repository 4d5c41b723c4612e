//! `Cargo.lock`, format versions 1–4.
//!
//! Every `[[package]]` with a `source` (a registry or git) is a dependency;
//! those without one are the workspace's own crates. What the workspace
//! crates list under `dependencies` is direct.

use std::collections::HashSet;

use rampart_types::{Ecosystem, Location, Package};
use serde::Deserialize;
use toml::Spanned;

use crate::support::{Collector, LineIndex, toml_error};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
struct Lockfile {
    #[serde(default)]
    package: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: Lockfile = toml::from_str(text).map_err(|e| toml_error(input, text, &e))?;
    let lines = LineIndex::new(text);

    // `dependencies` entries read `name`, `name version` or `name version (source)`.
    let mut direct: HashSet<(&str, Option<&str>)> = HashSet::new();
    for member in lock.package.iter().map(Spanned::get_ref).filter(|p| p.source.is_none()) {
        for dep in &member.dependencies {
            let mut words = dep.split_whitespace();
            if let Some(name) = words.next() {
                direct.insert((name, words.next()));
            }
        }
    }
    let members = lock.package.iter().any(|p| p.get_ref().source.is_none());

    let mut out = Collector::default();
    for spanned in &lock.package {
        let entry = spanned.get_ref();
        if entry.source.is_none() {
            continue;
        }
        let mut p = Package::new(Ecosystem::CratesIo, entry.name.as_str(), entry.version.as_str());
        p.indirect = members
            && !direct.contains(&(entry.name.as_str(), None))
            && !direct.contains(&(entry.name.as_str(), Some(entry.version.as_str())));
        p.locations.push(block_lines(text, &lines, spanned.span().start));
        out.add(p);
    }
    Ok(Parsed { packages: out.finish(), warnings: Vec::new() })
}

/// A `[[package]]` block: from its header to the last line with content
/// before the next table header (toml spans only the header itself).
fn block_lines(text: &str, lines: &LineIndex, header: usize) -> Location {
    let start = lines.line(header);
    let mut end = start;
    for (no, line) in (start + 1..).zip(text.get(header..).unwrap_or_default().lines().skip(1)) {
        let line = line.trim();
        if line.starts_with('[') {
            break;
        }
        if !line.is_empty() && !line.starts_with('#') {
            end = no;
        }
    }
    Location { start_line: start, end_line: end }
}
