//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! Package keys changed with each major version:
//! 5.x `/name/1.0.0_peer@2.0.0`, 6.x `/name@1.0.0(peer@2.0.0)`,
//! 9.x `name@1.0.0` (peers only in `snapshots`). Git, tarball and
//! aliased packages carry `name`/`version` fields that win over the key.
//!
//! 5.x and 6.x flag development packages with `dev: true`; 9.x does not, so
//! there a package is dev when only `devDependencies` of the importers reach
//! it through the `snapshots` graph.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use crate::support::{Collector, Ordered, Text, split_name_at};
use crate::{CatalogError, Input, Parsed};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lockfile<'a> {
    #[serde(borrow, default)]
    lockfile_version: Option<Text<'a>>,
    #[serde(borrow, default)]
    importers: Option<HashMap<Cow<'a, str>, Option<Importer<'a>>>>,
    /// Before workspaces were written as `importers`, the root project's
    /// dependency groups sat at the top level.
    #[serde(borrow, default)]
    dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    dev_dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    optional_dependencies: Option<DepMap<'a>>,
    #[serde(borrow, default)]
    packages: Option<Ordered<'a, Option<PackageInfo<'a>>>>,
    #[serde(borrow, default)]
    snapshots: Option<HashMap<Cow<'a, str>, Option<Snapshot<'a>>>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Importer<'a> {
    #[serde(borrow)]
    dependencies: Option<DepMap<'a>>,
    /// In the env document: packages pnpm installs for its own configuration…
    #[serde(borrow)]
    config_dependencies: Option<DepMap<'a>>,
    /// …and pnpm itself.
    #[serde(borrow)]
    package_manager_dependencies: Option<DepMap<'a>>,
    #[serde(borrow)]
    dev_dependencies: Option<DepMap<'a>>,
    #[serde(borrow)]
    optional_dependencies: Option<DepMap<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PackageInfo<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    dev: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Snapshot<'a> {
    #[serde(borrow)]
    dependencies: Option<DepMap<'a>>,
    #[serde(borrow)]
    optional_dependencies: Option<DepMap<'a>>,
}

/// `name: version` (5.x, snapshots) or `name: {specifier, version}` (6.x+ importers).
type DepMap<'a> = HashMap<Cow<'a, str>, DepRef<'a>>;

struct DepRef<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for DepRef<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DepRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version or a {specifier, version} map")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(DepRef(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DepRef(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(DepRef(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(DepRef(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(DepRef(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(DepRef(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(DepRef(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut version = None;
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if key.0 == "version" {
                        version = Some(map.next_value::<Text<'de>>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(DepRef(version))
            }
        }
        d.deserialize_any(V)
    }
}

/// Key formats: 5.x uses `/name/version`, later ones `name@version`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Slash,
    At,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let mut out = Collector::default();
    let mut warnings = Vec::new();
    // pnpm 11+ may put an "env" document (config dependencies, pnpm itself)
    // before the project's; both list packages that get installed.
    for (offset, document) in documents(text) {
        read_document(input, document, offset, &mut out, &mut warnings)?;
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// The documents of a YAML stream, each from its `---` line on, with the
/// number of lines before it. A `---` at column 0 always starts a document.
fn documents(text: &str) -> Vec<(u32, &str)> {
    let mut documents = Vec::new();
    let (mut start, mut start_line, mut pos) = (0, 0, 0);
    for (no, line) in (0u32..).zip(text.split_inclusive('\n')) {
        let marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.trim().is_empty() || rest.starts_with([' ', '\t']));
        if marker && pos > 0 {
            documents.push((start_line, &text[start..pos]));
            (start, start_line) = (pos, no);
        }
        pos += line.len();
    }
    documents.push((start_line, &text[start..]));
    documents
}

/// Adds the packages of one document whose first line is `offset + 1`.
fn read_document(
    input: &Input<'_>,
    text: &str,
    offset: u32,
    out: &mut Collector,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(), CatalogError> {
    let lock: Option<Lockfile<'_>> = serde_saphyr::from_str_with_options(text, yaml_options(text.len()))
        .map_err(|e| yaml_error(input, &e, offset))?;
    let Some(lock) = lock else { return Ok(()) };
    let Some(packages) = lock.packages.as_ref().map(|p| &p.0[..]).filter(|p| !p.is_empty()) else {
        return Ok(());
    };

    let major =
        lock.lockfile_version.as_ref().and_then(|v| v.0.split('.').next()?.trim().parse::<u32>().ok());
    let format = match major {
        Some(m) if m < 6 => Format::Slash,
        Some(_) => Format::At,
        None if packages.iter().any(|(k, _)| k.starts_with('/') && !k.contains('@')) => Format::Slash,
        None => Format::At,
    };

    let roots = Roots::new(&lock, format);
    let reach =
        (major.is_some_and(|m| m >= 9) || lock.snapshots.is_some()).then(|| roots.reach(&lock, format));
    let lines = package_lines(text, offset);

    for (key, info) in packages {
        let info = info.as_ref();
        if is_local(key) {
            continue;
        }
        let parsed = parse_key(key, format);
        let field = |f: Option<&Text<'_>>| f.map(|t| t.0.to_string()).filter(|s| !s.is_empty());
        let name = field(info.and_then(|i| i.name.as_ref())).or_else(|| parsed.map(|(n, _)| n.to_string()));
        let version = field(info.and_then(|i| i.version.as_ref()))
            .or_else(|| parsed.map(|(_, v)| v.to_string()).filter(|v| looks_like_version(v)));
        let location = lines.get(key.as_ref()).copied();
        let (Some(name), Some(version)) = (name, version) else {
            let mut w =
                Diagnostic::new(input.display, format!("cannot tell package name and version from {key:?}"));
            if let Some(l) = location {
                w = w.at_line(l.start_line);
            }
            warnings.push(w);
            continue;
        };
        let mut p = Package::new(Ecosystem::Npm, name, version);
        p.dev = match &reach {
            Some(reach) => reach.is_dev(key),
            None => info.and_then(|i| i.dev).unwrap_or(false),
        };
        p.indirect = !roots.is_direct(key, &p.name, &p.version);
        p.locations.extend(location);
        out.add(p);
    }
    Ok(())
}

/// Limits for untrusted YAML: lockfiles use neither anchors nor deep
/// nesting, so aliases (billion laughs) and depth are held tight, while
/// node and event counts scale with the input so big monorepo locks pass.
fn yaml_options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 32;
    budget.max_aliases = 64;
    budget.max_anchors = 64;
    budget.max_documents = 1;
    budget.max_nodes = budget.max_nodes.max(len.saturating_add(1024));
    budget.max_events = budget.max_events.max(len.saturating_mul(4));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

fn yaml_error(input: &Input<'_>, e: &serde_saphyr::Error, offset: u32) -> CatalogError {
    let line = e.location().and_then(|l| u32::try_from(l.line()).ok()).filter(|l| *l > 0).map(|l| l + offset);
    // The rendered error carries a source snippet; the first line is the message.
    let full = e.to_string();
    let message = full.lines().next().unwrap_or_default().trim_start_matches("error: ");
    CatalogError::malformed(input, line, format!("invalid YAML: {message}"))
}

/// `file:` and `link:` packages are folders of the project itself.
fn is_local(key: &str) -> bool {
    let key = key.trim_start_matches('/');
    ["file:", "link:"].iter().any(|p| key.starts_with(p) || key.contains(&format!("@{p}")))
}

fn looks_like_version(v: &str) -> bool {
    v.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Name and version from a package key, peer suffixes dropped. The version
/// may be a URL (git, tarball); the caller decides whether to trust it.
fn parse_key(key: &str, format: Format) -> Option<(&str, &str)> {
    match format {
        Format::At => {
            let key = key.strip_prefix('/').unwrap_or(key);
            let key = key.split_once('(').map_or(key, |(k, _)| k);
            split_name_at(key).filter(|(n, v)| !n.is_empty() && !v.is_empty())
        }
        Format::Slash => {
            // A key without a leading slash starts with a registry host.
            let path = match key.strip_prefix('/') {
                Some(p) => p,
                None => key.split_once('/')?.1,
            };
            let (names, last) = path.rsplit_once('/')?;
            let version = last.split_once('_').map_or(last, |(v, _)| v);
            let name = match names.rsplit_once('/') {
                Some((scope_part, name)) => {
                    let scope = scope_part.rsplit_once('/').map_or(scope_part, |(_, s)| s);
                    if scope.starts_with('@') {
                        &names[names.len() - scope.len() - 1 - name.len()..]
                    } else {
                        name
                    }
                }
                None => names,
            };
            (!name.is_empty() && !version.is_empty()).then_some((name, version))
        }
    }
}

/// Drops a dependency reference's peer suffix: `1.0.0(react@18.0.0)` (6.x+)
/// or `1.0.0_react@18.0.0` (5.x).
fn strip_peers(version: &str, format: Format) -> &str {
    let cut = match format {
        Format::At => version.find('('),
        // Names may contain `_`; the suffix starts in the last path segment.
        Format::Slash => {
            let last = version.rfind('/').map_or(0, |i| i + 1);
            version[last..].find('_').map(|i| last + i)
        }
    };
    cut.map_or(version, |i| &version[..i])
}

/// The package a dependency reference points at, as `(name, version)`.
/// A reference is a version (`1.0.0`), or for aliases and git/tarball
/// packages, a whole key (`/real/1.0.0`, `real@1.0.0`).
fn resolve<'a>(name: &'a str, reference: &'a str, format: Format) -> Option<(&'a str, &'a str)> {
    if reference.starts_with("link:") || reference.starts_with("file:") {
        return None;
    }
    if looks_like_version(reference) {
        return Some((name, strip_peers(reference, format)));
    }
    parse_key(reference, format).filter(|(_, v)| looks_like_version(v)).or(Some((name, reference)))
}

/// The importers' (projects') dependencies.
struct Roots<'l> {
    /// Every `(name, version)` a project depends on directly…
    direct: HashSet<(String, String)>,
    /// …and the package keys its references spell out (git, tarball, alias).
    direct_keys: HashSet<String>,
    /// Snapshot keys where production (`prod`) and development-only traversal start.
    prod: Vec<(&'l str, &'l str)>,
    dev: Vec<(&'l str, &'l str)>,
}

impl<'l> Roots<'l> {
    fn new(lock: &'l Lockfile<'l>, format: Format) -> Self {
        let mut roots =
            Roots { direct: HashSet::new(), direct_keys: HashSet::new(), prod: Vec::new(), dev: Vec::new() };
        let top = [
            (&lock.dependencies, false),
            (&lock.optional_dependencies, false),
            (&lock.dev_dependencies, true),
        ];
        let importers = lock.importers.iter().flat_map(|m| m.values().flatten()).flat_map(|i| {
            [
                (&i.dependencies, false),
                (&i.optional_dependencies, false),
                (&i.config_dependencies, false),
                (&i.package_manager_dependencies, false),
                (&i.dev_dependencies, true),
            ]
        });
        for (group, dev) in top.into_iter().chain(importers) {
            for (name, reference) in group.iter().flatten() {
                let Some(reference) = reference.0.as_deref() else { continue };
                if let Some((n, v)) = resolve(name, reference, format) {
                    roots.direct.insert((n.to_string(), v.to_string()));
                }
                if let Some(key) = snapshot_key(name, reference, format) {
                    roots.direct_keys.insert(strip_peers(key.trim_start_matches('/'), format).to_string());
                }
                if dev { roots.dev.push((name, reference)) } else { roots.prod.push((name, reference)) }
            }
        }
        roots
    }

    /// Whether a package is a direct dependency; `true` when the lockfile
    /// names no direct dependencies at all (nothing to tell them apart by).
    fn is_direct(&self, key: &str, name: &str, version: &str) -> bool {
        (self.direct.is_empty() && self.direct_keys.is_empty())
            || self.direct_keys.contains(key.trim_start_matches('/'))
            || self.direct.contains(&(name.to_string(), version.to_string()))
    }

    /// Which packages production and development roots reach in `snapshots`.
    fn reach(&self, lock: &'l Lockfile<'l>, format: Format) -> Reach {
        let empty = HashMap::new();
        let snapshots = lock.snapshots.as_ref().unwrap_or(&empty);
        let walk = |starts: &[(&str, &str)]| {
            let mut seen: HashSet<String> = HashSet::new();
            let mut queue: VecDeque<String> =
                starts.iter().filter_map(|(n, r)| snapshot_key(n, r, format)).collect();
            while let Some(key) = queue.pop_front() {
                if !seen.insert(key.clone()) {
                    continue;
                }
                let Some(Some(snap)) = snapshots.get(key.as_str()) else { continue };
                for (n, r) in
                    [&snap.dependencies, &snap.optional_dependencies].into_iter().flatten().flatten()
                {
                    if let Some(next) = r.0.as_deref().and_then(|r| snapshot_key(n, r, format))
                        && !seen.contains(&next)
                    {
                        queue.push_back(next);
                    }
                }
            }
            // Package keys are snapshot keys without their peer suffix.
            seen.iter().map(|k| strip_peers(k, format).to_string()).collect::<HashSet<_>>()
        };
        Reach { prod: walk(&self.prod), dev: walk(&self.dev) }
    }
}

/// The key a reference points at (a snapshot key in 9.x, peers included):
/// `name@version(peers)` or `/name/version_peers`, or the reference itself
/// when it already is a key (aliases, git and tarball packages).
fn snapshot_key(name: &str, reference: &str, format: Format) -> Option<String> {
    if reference.starts_with("link:") || reference.starts_with("file:") {
        return None;
    }
    Some(match format {
        Format::At if looks_like_version(reference) || split_name_at(reference).is_none() => {
            format!("{name}@{reference}")
        }
        Format::Slash if looks_like_version(reference) => format!("/{name}/{reference}"),
        _ => reference.to_string(),
    })
}

struct Reach {
    prod: HashSet<String>,
    dev: HashSet<String>,
}

impl Reach {
    fn is_dev(&self, key: &str) -> bool {
        self.dev.contains(key) && !self.prod.contains(key)
    }
}

/// Line ranges of the entries of the top-level `packages:` mapping, by key,
/// found by indentation (pnpm writes block style); `offset` lines precede `text`.
fn package_lines(text: &str, offset: u32) -> HashMap<String, Location> {
    let mut out = HashMap::new();
    let mut lines = (offset + 1..).zip(text.lines());
    if !lines.by_ref().any(|(_, l)| l.trim_end() == "packages:") {
        return out;
    }
    let mut entry_indent = None;
    let mut current: Option<(String, Location)> = None;
    for (no, line) in lines {
        let body = line.trim_start_matches(' ');
        if body.trim().is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if indent == 0 {
            break;
        }
        let entry_indent = *entry_indent.get_or_insert(indent);
        if indent == entry_indent {
            out.extend(current.take());
            if let Some(key) = yaml_key(body.trim_end()) {
                current = Some((key, Location { start_line: no, end_line: no }));
            }
        } else if let Some((_, loc)) = current.as_mut() {
            loc.end_line = no;
        }
    }
    out.extend(current);
    out
}

/// The key of a block-mapping line: `/a/1.0.0:`, `'@s/a@1.0.0':`, `a@1.0.0: {}`.
fn yaml_key(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix('\'') {
        let mut key = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return Some(key);
                }
            }
            key.push(c);
        }
        return None;
    }
    if let Some(rest) = line.strip_prefix('"') {
        return serde_json::from_str(&format!("\"{}\"", rest.split_once("\":")?.0)).ok();
    }
    let key = match line.find(": ") {
        Some(i) => &line[..i],
        None => line.strip_suffix(':')?,
    };
    Some(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_format() {
        assert_eq!(parse_key("/acorn/8.7.0", Format::Slash), Some(("acorn", "8.7.0")));
        assert_eq!(parse_key("/@foo/bar/1.0.0", Format::Slash), Some(("@foo/bar", "1.0.0")));
        assert_eq!(
            parse_key("registry.npmjs.org/@foo/bar/1.1.0", Format::Slash),
            Some(("@foo/bar", "1.1.0"))
        );
        assert_eq!(parse_key("/foo/1.4.0_@types+babel__core@7.1.14", Format::Slash), Some(("foo", "1.4.0")));
        assert_eq!(parse_key("invalidpath", Format::Slash), None);
        assert_eq!(parse_key("/react-dom@18.2.0(react@18.2.0)", Format::At), Some(("react-dom", "18.2.0")));
        assert_eq!(parse_key("@types/node@20.1.0", Format::At), Some(("@types/node", "20.1.0")));
        assert_eq!(parse_key("invalidpath", Format::At), None);
    }

    #[test]
    fn references() {
        assert_eq!(
            resolve("a", "5.13.0_eslint@8.10.0+typescript@4.6.2", Format::Slash),
            Some(("a", "5.13.0"))
        );
        assert_eq!(resolve("a", "/real/1.0.0", Format::Slash), Some(("real", "1.0.0")));
        assert_eq!(strip_peers("/a_b/1.0.0_c@2.0.0", Format::Slash), "/a_b/1.0.0");
        assert_eq!(resolve("a", "18.2.0(react@18.2.0)", Format::At), Some(("a", "18.2.0")));
        assert_eq!(resolve("a", "link:../b", Format::At), None);
        assert_eq!(snapshot_key("a", "1.0.0(b@2.0.0)", Format::At).as_deref(), Some("a@1.0.0(b@2.0.0)"));
        assert_eq!(snapshot_key("alias", "real@1.0.0", Format::At).as_deref(), Some("real@1.0.0"));
        assert_eq!(snapshot_key("a", "https://x/y.tgz", Format::At).as_deref(), Some("a@https://x/y.tgz"));
        assert_eq!(snapshot_key("a", "1.0.0_b@2.0.0", Format::Slash).as_deref(), Some("/a/1.0.0_b@2.0.0"));
        assert_eq!(
            snapshot_key("a", "github.com/o/a/abc", Format::Slash).as_deref(),
            Some("github.com/o/a/abc")
        );
    }

    #[test]
    fn yaml_keys() {
        assert_eq!(yaml_key("/a/1.0.0:").as_deref(), Some("/a/1.0.0"));
        assert_eq!(yaml_key("'@s/a@1.0.0':").as_deref(), Some("@s/a@1.0.0"));
        assert_eq!(yaml_key("'it''s@1.0.0': {}").as_deref(), Some("it's@1.0.0"));
        assert_eq!(yaml_key("a@https://x.org/a.tgz:").as_deref(), Some("a@https://x.org/a.tgz"));
        assert_eq!(yaml_key("a@1.0.0: {}").as_deref(), Some("a@1.0.0"));
        assert_eq!(yaml_key("no colon"), None);
    }
}
