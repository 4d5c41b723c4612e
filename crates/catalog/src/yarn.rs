//! `yarn.lock`, classic (v1) and berry (v2+).
//!
//! Both are blocks headed by the patterns they resolve (`a@^1, a@~1:` or
//! `"a@npm:^1":`) with two-space-indented fields. Classic writes
//! `version "1.0.0"`, berry writes YAML (`version: 1.0.0`, `resolution: …`);
//! one line scanner reads both, so a damaged block costs only itself.
//!
//! The lockfile does not say what is dev or direct. Like Trivy, the
//! `package.json` beside it names the roots, and each entry's `dependencies`
//! lead from them: a package only `devDependencies` reach is dev, one no
//! project names is indirect. Berry's workspace entries serve as roots too.

use std::collections::{HashMap, VecDeque};

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;

use crate::support::{Collector, Ordered, Sibling, Text, read_sibling, split_name_at};
use crate::{CatalogError, Input, Parsed};

/// Protocols of packages that live in the project itself, or (`patch:`) of a
/// second entry for a package already listed under its registry version.
const LOCAL_PROTOCOLS: [&str; 6] = ["workspace", "patch", "file", "link", "portal", "exec"];

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let mut warnings = Vec::new();
    let mut blocks = Vec::new();
    let mut current: Option<Block<'_>> = None;

    for (no, line) in (1u32..).zip(text.lines()) {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            blocks.extend(current.take());
            match line.trim_end().strip_suffix(':') {
                Some(header) => current = Some(Block::new(header, no)),
                None => warnings.push(Diagnostic::new(input.display, "expected an entry header").at_line(no)),
            }
            continue;
        }
        let Some(block) = current.as_mut() else {
            warnings.push(Diagnostic::new(input.display, "indented line outside an entry").at_line(no));
            continue;
        };
        block.end = no;
        match indent {
            2 | 3 => block.field(trimmed),
            4 | 5 if block.in_dependencies => block.dependency(trimmed),
            _ => {}
        }
    }
    blocks.extend(current);
    if blocks.iter().all(|b| b.header == "__metadata")
        && let Some(first) = warnings.first()
    {
        return Err(CatalogError::malformed(
            input,
            first.line,
            format!("not a yarn.lock: {}", first.message),
        ));
    }

    let mut nodes: Vec<Node> = blocks.into_iter().filter_map(|b| b.finish(input, &mut warnings)).collect();
    let manifest = read_sibling(input, "package.json", &mut warnings);
    Graph::new(&nodes).mark(&mut nodes, manifest.and_then(|m| roots(&m, &mut warnings)));

    let mut out = Collector::default();
    for node in nodes {
        if let Kind::Package(p) = node.kind {
            out.add(*p);
        }
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// One entry: its header, the fields that matter, and its line range.
struct Block<'a> {
    header: &'a str,
    start: u32,
    end: u32,
    version: Option<String>,
    resolution: Option<String>,
    in_dependencies: bool,
    dependencies: Vec<(String, String)>,
}

impl<'a> Block<'a> {
    fn new(header: &'a str, line: u32) -> Self {
        Block {
            header,
            start: line,
            end: line,
            version: None,
            resolution: None,
            in_dependencies: false,
            dependencies: Vec::new(),
        }
    }

    /// `version "1.0.0"`, `"version" "1.0.0"`, `version: 1.0.0`, …
    fn field(&mut self, line: &str) {
        let Some((key, value)) = key_value(line) else { return };
        self.in_dependencies = matches!(key, "dependencies" | "optionalDependencies");
        match key {
            "version" => self.version = Some(value),
            "resolution" => self.resolution = Some(value),
            _ => {}
        }
    }

    /// `name "range"` (classic) or `name: range` (berry) below `dependencies:`.
    fn dependency(&mut self, line: &str) {
        if let Some((name, range)) = key_value(line).filter(|(_, r)| !r.is_empty()) {
            self.dependencies.push((name.to_string(), range));
        }
    }

    fn patterns(&self) -> Vec<String> {
        self.header.split(',').map(|p| p.trim().replace('"', "")).filter(|p| !p.is_empty()).collect()
    }

    /// The graph node of this entry; `None` for metadata and unreadable entries.
    fn finish(self, input: &Input<'_>, warnings: &mut Vec<Diagnostic>) -> Option<Node> {
        if self.header == "__metadata" {
            return None;
        }
        let warn =
            |msg: &str| Diagnostic::new(input.display, format!("{msg}: {}", self.header)).at_line(self.start);
        let patterns = self.patterns();
        let mut node = Node { patterns, dependencies: self.dependencies, kind: Kind::Local(None) };
        // Berry's resolution names the package actually installed; classic
        // has only the requested patterns.
        let name = match &self.resolution {
            Some(resolution) => match split_name_at(resolution) {
                Some((name, reference)) => {
                    if let Some(protocol) = local_protocol(reference) {
                        node.kind = match protocol {
                            "workspace" => Kind::Workspace { root: reference == "workspace:." },
                            // The patched package's own entry is its unpatched resolution.
                            "patch" => Kind::Local(unpatched(reference)),
                            _ => Kind::Local(None),
                        };
                        return Some(node);
                    }
                    name.to_string()
                }
                None => {
                    warnings.push(warn("unreadable resolution"));
                    return None;
                }
            },
            None => {
                if node
                    .patterns
                    .iter()
                    .any(|p| split_name_at(p).is_some_and(|(_, r)| local_protocol(r).is_some()))
                {
                    return Some(node);
                }
                match node.patterns.first().map(|p| pattern_name(p)) {
                    Some(name) if !name.is_empty() => name.to_string(),
                    _ => {
                        warnings.push(warn("entry without a package name"));
                        return None;
                    }
                }
            }
        };
        let Some(version) = self.version.filter(|v| !v.is_empty()) else {
            warnings.push(warn("entry without a version"));
            return None;
        };
        if let Some(resolution) = self.resolution {
            node.patterns.push(resolution);
        }
        let mut p = Package::new(Ecosystem::Npm, name, version);
        p.locations.push(Location { start_line: self.start, end_line: self.end });
        node.kind = Kind::Package(Box::new(p));
        Some(node)
    }
}

/// `key value`, `key: value`, `"key" "value"`, `"key": value`, value unquoted.
fn key_value(line: &str) -> Option<(&str, String)> {
    let (key, rest) = match line.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"')?,
        None => line.split_at(line.find([' ', ':']).unwrap_or(line.len())),
    };
    Some((key, unquote(rest.strip_prefix(':').unwrap_or(rest).trim())))
}

struct Node {
    /// Header patterns (`a@^1`) and, for berry, the resolution (`a@npm:1.0.0`).
    patterns: Vec<String>,
    dependencies: Vec<(String, String)>,
    kind: Kind,
}

enum Kind {
    Package(Box<Package>),
    /// A workspace; `root` for the project's top folder.
    Workspace {
        root: bool,
    },
    /// Local code; for a `patch:` entry, the resolution it patches.
    Local(Option<String>),
}

/// What `package.json` beside the lockfile asks for: production and dev ranges.
struct Roots {
    prod: Vec<(String, String)>,
    dev: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    #[serde(borrow, default)]
    dependencies: Option<Ordered<'a, Text<'a>>>,
    #[serde(borrow, default)]
    optional_dependencies: Option<Ordered<'a, Text<'a>>>,
    #[serde(borrow, default)]
    dev_dependencies: Option<Ordered<'a, Text<'a>>>,
}

fn roots(manifest: &Sibling, warnings: &mut Vec<Diagnostic>) -> Option<Roots> {
    let m: Manifest<'_> = manifest.json("dev dependencies", warnings)?;
    let list = |groups: &[&Option<Ordered<'_, Text<'_>>>]| -> Vec<(String, String)> {
        groups
            .iter()
            .copied()
            .flatten()
            .flat_map(|g| g.0.iter().map(|(n, r)| (n.to_string(), r.0.to_string())))
            .collect()
    };
    Some(Roots {
        prod: list(&[&m.dependencies, &m.optional_dependencies]),
        dev: list(&[&m.dev_dependencies]),
    })
}

/// Entries by every pattern that leads to them.
struct Graph {
    by_pattern: HashMap<String, usize>,
}

impl Graph {
    fn new(nodes: &[Node]) -> Self {
        let mut by_pattern = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for pattern in &node.patterns {
                by_pattern.entry(pattern.clone()).or_insert(i);
            }
        }
        Graph { by_pattern }
    }

    /// The entry `name` at `range` resolves to; berry writes `npm:` in
    /// headers but not in most ranges.
    fn find(&self, name: &str, range: &str) -> Option<usize> {
        self.by_pattern
            .get(&format!("{name}@{range}"))
            .or_else(|| self.by_pattern.get(&format!("{name}@npm:{range}")))
            .copied()
    }

    /// Sets `dev` (only development roots reach it) and `indirect` (no
    /// project asks for it) on packages the roots reach. Roots are what
    /// `package.json` asks for, plus every non-root workspace's dependencies
    /// (berry lists workspaces, merging their dev and production needs, so
    /// without `package.json` all workspaces count as production roots).
    fn mark(&self, nodes: &mut [Node], manifest: Option<Roots>) {
        let have_manifest = manifest.is_some();
        let Roots { mut prod, dev } = manifest.unwrap_or(Roots { prod: Vec::new(), dev: Vec::new() });
        for node in nodes.iter() {
            if let Kind::Workspace { root } = node.kind
                && !(root && have_manifest)
            {
                prod.extend(node.dependencies.iter().cloned());
            }
        }
        let starts = |roots: &[(String, String)]| -> Vec<usize> {
            roots.iter().filter_map(|(n, r)| self.find(n, r)).collect()
        };
        let (prod, dev) = (starts(&prod), starts(&dev));
        let reach_prod = self.walk(nodes, &prod);
        let reach_dev = self.walk(nodes, &dev);
        let mut direct = vec![false; nodes.len()];
        for &i in prod.iter().chain(&dev) {
            direct[i] = true;
        }
        for (i, node) in nodes.iter_mut().enumerate() {
            if let Kind::Package(p) = &mut node.kind
                && (reach_prod[i] || reach_dev[i])
            {
                p.dev = !reach_prod[i];
                p.indirect = !direct[i];
            }
        }
    }

    fn walk(&self, nodes: &[Node], starts: &[usize]) -> Vec<bool> {
        let mut seen = vec![false; nodes.len()];
        let mut queue: VecDeque<usize> = starts.iter().copied().collect();
        while let Some(i) = queue.pop_front() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let node = &nodes[i];
            let unpatched = match &node.kind {
                Kind::Local(Some(resolution)) => self.by_pattern.get(resolution).copied(),
                _ => None,
            };
            let next = node.dependencies.iter().filter_map(|(n, r)| self.find(n, r)).chain(unpatched);
            queue.extend(next.filter(|&j| !seen[j]));
        }
        seen
    }
}

/// The package a pattern installs: `a@^1` → `a`; an alias
/// `b@npm:a@^1` → `a`; a bare `a` (no range) → `a`.
fn pattern_name(pattern: &str) -> &str {
    match split_name_at(pattern) {
        Some((name, range)) => match range.strip_prefix("npm:").and_then(split_name_at) {
            Some((real, _)) => real,
            None => name,
        },
        None => pattern,
    }
}

/// The protocol of a range or reference (`file:../x`, `workspace:.`) that
/// points inside the project.
fn local_protocol(reference: &str) -> Option<&str> {
    let (protocol, _) = reference.split_once(':')?;
    LOCAL_PROTOCOLS.contains(&protocol).then_some(protocol)
}

/// The resolution a berry `patch:` reference patches:
/// `patch:resolve@npm%3A1.22.1#~builtin<…>` → `resolve@npm:1.22.1`.
fn unpatched(reference: &str) -> Option<String> {
    let inner = reference.strip_prefix("patch:")?.split('#').next()?;
    Some(inner.replace("%3A", ":").replace("%40", "@").replace("%2F", "/"))
}

fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if inner.contains('\\') => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        Some(inner) => inner.to_string(),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_names() {
        assert_eq!(pattern_name("@babel/core@^7.0.0"), "@babel/core");
        assert_eq!(pattern_name("ansi-regex-cjs@npm:ansi-regex@^5.0.0"), "ansi-regex");
        assert_eq!(
            pattern_name("babel-hvi@npm:@babel/helper-validator-identifier@^7"),
            "@babel/helper-validator-identifier"
        );
        assert_eq!(pattern_name("debug@npm:^4"), "debug");
        assert_eq!(pattern_name("balanced-match"), "balanced-match");
    }

    #[test]
    fn local_references() {
        assert_eq!(local_protocol("workspace:."), Some("workspace"));
        assert_eq!(local_protocol("patch:resolve@npm%3A1.0.0#builtin"), Some("patch"));
        assert_eq!(local_protocol("npm:1.0.0"), None);
        assert_eq!(local_protocol("git+ssh://git@github.com:a/b#c"), None);
        assert_eq!(local_protocol("^1.0.0"), None);
        assert_eq!(
            unpatched("patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1").as_deref(),
            Some("resolve@npm:1.22.1")
        );
    }
}
