//! Python lockfiles: `requirements*.txt`, `Pipfile.lock`, `poetry.lock` and `uv.lock`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rampart_types::{Diagnostic, Ecosystem, Location, Package};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use toml::Spanned;

use crate::support::{Collector, LineIndex, json_error, json_offset, read_neighbour_text, toml_error};
use crate::{CatalogError, Input, Parsed};

/// `-r`/`-c` chains deeper than this are almost certainly generated or hostile.
const MAX_INCLUDE_DEPTH: usize = 10;
/// Caps the work one requirements file can cause through includes.
const MAX_INCLUDED_FILES: usize = 100;

pub(crate) fn parse_requirements(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let dir = input.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut walk = RequirementsWalk {
        root_dir: dir.canonicalize().ok(),
        root_display: input.display.to_string(),
        ..RequirementsWalk::default()
    };
    if let Ok(root) = input.path.canonicalize() {
        walk.visited.insert(root);
    }
    walk.file(text, input.path, input.display, 0, Role::Root);
    Ok(walk.finish())
}

/// How the packages of one requirements file are used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The file being scanned: its packages carry line locations.
    Root,
    /// Pulled in with `-r`: packages, but the lines are in another file.
    Included,
    /// Pulled in with `-c`: pins versions of requirements, installs nothing.
    Constraints,
}

struct Requirement {
    name: String,
    version: Option<String>,
    location: Option<Location>,
}

#[derive(Default)]
struct RequirementsWalk {
    /// The canonical folder of the file the walk started from. Includes are
    /// read only from below it, so a scanned repository cannot steer the scan
    /// into other files of the machine (`-r ../../etc/passwd`, or a symlink
    /// that leads out). `None` if it cannot be resolved: no include is read.
    root_dir: Option<PathBuf>,
    /// The file the walk started from, as shown to the user.
    root_display: String,
    visited: HashSet<PathBuf>,
    files_read: usize,
    requirements: Vec<Requirement>,
    /// PEP 503 name → pinned version from `-c` files.
    constraints: HashMap<String, String>,
    warnings: Vec<Diagnostic>,
}

impl RequirementsWalk {
    fn file(&mut self, text: &str, path: &Path, display: &str, depth: usize, role: Role) {
        for (start, end, line) in logical_lines(text) {
            let line = strip_comment(&line).trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                match include_option(line) {
                    Some(Ok((constraint, target))) => {
                        let role = if constraint || role == Role::Constraints {
                            Role::Constraints
                        } else {
                            Role::Included
                        };
                        self.include(target, path, display, start, depth + 1, role);
                    }
                    Some(Err(msg)) => self.warnings.push(Diagnostic::new(display, msg).at_line(start)),
                    None => {}
                }
                continue;
            }
            match parse_requirement(requirement_part(line)) {
                Ok(Some((name, version))) => {
                    if role == Role::Constraints {
                        if let Some(v) = version {
                            self.constraints.insert(Ecosystem::PyPI.normalize_name(name), v.to_string());
                        }
                    } else {
                        self.requirements.push(Requirement {
                            name: name.to_string(),
                            version: version.map(str::to_string),
                            location: (role == Role::Root)
                                .then_some(Location { start_line: start, end_line: end }),
                        });
                    }
                }
                Ok(None) => {}
                Err(msg) => self.warnings.push(Diagnostic::new(display, msg).at_line(start)),
            }
        }
    }

    fn include(
        &mut self,
        target: &str,
        from: &Path,
        from_display: &str,
        line: u32,
        depth: usize,
        role: Role,
    ) {
        if let Err(msg) = self.try_include(target, from, from_display, depth, role) {
            self.warnings.push(Diagnostic::new(from_display, msg).at_line(line));
        }
    }

    fn try_include(
        &mut self,
        target: &str,
        from: &Path,
        from_display: &str,
        depth: usize,
        role: Role,
    ) -> Result<(), String> {
        if target.contains("://") {
            return Err(format!("`{target}` is remote; not followed"));
        }
        let rel = Path::new(target);
        // Inside an image or a checkout an absolute path means another root
        // than the host's, so following it would read the wrong file.
        if rel.is_absolute() {
            return Err(format!("`{target}` is an absolute path; not followed"));
        }
        if depth > MAX_INCLUDE_DEPTH {
            return Err(format!(
                "`{target}` is nested more than {MAX_INCLUDE_DEPTH} includes deep; not followed"
            ));
        }
        if self.files_read >= MAX_INCLUDED_FILES {
            return Err(format!("`{target}` not followed: more than {MAX_INCLUDED_FILES} files included"));
        }
        let path = from.parent().unwrap_or(Path::new("")).join(rel);
        let display = Path::new(from_display).parent().unwrap_or(Path::new("")).join(rel);
        let display = display.to_string_lossy();
        let unreadable = |e: String| format!("cannot read included file {display}: {e}");
        let canonical = path.canonicalize().map_err(|e| unreadable(e.to_string()))?;
        // Canonical on both sides, so `..` and symlinks are resolved before comparing.
        let root = &self.root_display;
        match &self.root_dir {
            Some(dir) if canonical.starts_with(dir) => {}
            Some(_) => {
                return Err(format!("`{target}` points outside the directory of {root}; not followed"));
            }
            None => {
                return Err(format!("`{target}` not followed: the directory of {root} cannot be resolved"));
            }
        }
        // Already read: an include cycle, or two files sharing one include.
        if !self.visited.insert(canonical.clone()) {
            return Ok(());
        }
        self.files_read += 1;
        // Read the path that was checked, its symlinks already resolved.
        let text = read_neighbour_text(&canonical).map_err(|e| unreadable(e.to_string()))?;
        self.file(&text, &path, &display, depth, role);
        Ok(())
    }

    fn finish(self) -> Parsed {
        let mut out = Collector::by_normalized_name();
        for req in self.requirements {
            let version = req
                .version
                .or_else(|| self.constraints.get(&Ecosystem::PyPI.normalize_name(&req.name)).cloned());
            let Some(version) = version else { continue };
            let mut pkg = Package::new(Ecosystem::PyPI, req.name, version);
            pkg.locations.extend(req.location);
            out.add(pkg);
        }
        Parsed { packages: out.finish(), warnings: self.warnings }
    }
}

/// Joins `\`-continued lines the way pip does, giving each logical line its
/// first and last physical line numbers. A comment line never continues.
fn logical_lines(text: &str) -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        last = n;
        let is_comment = raw.trim_start().starts_with('#');
        if !is_comment && let Some(body) = raw.strip_suffix('\\') {
            pending.get_or_insert_with(|| (n, String::new())).1.push_str(body);
            continue;
        }
        match pending.take() {
            // The comment that ends a continuation is dropped with it.
            Some((start, buf)) if is_comment => out.push((start, n, buf)),
            Some((start, mut buf)) => {
                buf.push_str(raw);
                out.push((start, n, buf));
            }
            None => out.push((n, n, raw.to_string())),
        }
    }
    if let Some((start, buf)) = pending {
        out.push((start, last, buf));
    }
    out
}

/// Drops a `#` comment: pip only counts `#` at the start or after whitespace,
/// so `--hash=sha256:ab#c` keeps its `#`.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// `-r file` / `--requirement file` (false) or `-c file` / `--constraint file`
/// (true); `None` for every other option, which does not name packages.
fn include_option(line: &str) -> Option<Result<(bool, &str), String>> {
    let (constraint, value) = if let Some(rest) = line.strip_prefix("--requirement") {
        (false, long_option_value(rest)?)
    } else if let Some(rest) = line.strip_prefix("--constraint") {
        (true, long_option_value(rest)?)
    } else if let Some(rest) = line.strip_prefix("-r") {
        (false, rest)
    } else if let Some(rest) = line.strip_prefix("-c") {
        (true, rest)
    } else {
        return None;
    };
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    if value.is_empty() {
        return Some(Err(format!("`{line}` names no file")));
    }
    Some(Ok((constraint, value)))
}

/// The value after a long option name: `=value` or ` value`, but not a longer
/// option that merely starts with the same letters.
fn long_option_value(rest: &str) -> Option<&str> {
    rest.strip_prefix('=').or_else(|| rest.starts_with(char::is_whitespace).then_some(rest))
}

/// The requirement before per-requirement options (`--hash`, `-C`, …), which
/// start at the first whitespace-preceded `-`.
fn requirement_part(line: &str) -> &str {
    let bytes = line.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b'-' && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line
}

/// A PEP 508 requirement: `Ok(Some((name, exact version)))`, `Ok(Some((name,
/// None)))` when not pinned, `Ok(None)` for URLs and paths, `Err` when broken.
fn parse_requirement(spec: &str) -> Result<Option<(&str, Option<&str>)>, String> {
    let name_end = spec.find(|c: char| "=<>!~;[@(".contains(c) || c.is_whitespace()).unwrap_or(spec.len());
    let name = &spec[..name_end];
    // A path (`.`, `./pkg`, `~/wheels/x.whl`) or a URL, not a name.
    if name.contains(['/', '\\', ':']) || name.starts_with(['.', '~']) {
        return Ok(None);
    }
    if name.is_empty() {
        return Err(format!("`{spec}` has no package name"));
    }
    if !valid_name(name) {
        return Err(format!("`{name}` is not a valid package name"));
    }
    let mut rest = spec[name_end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let Some(close) = extras.find(']') else {
            return Err(format!("`{spec}` has an unclosed `[`"));
        };
        rest = extras[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(None);
    }
    let specifiers = rest.split(';').next().unwrap_or_default().trim();
    let specifiers =
        specifiers.strip_prefix('(').and_then(|s| s.strip_suffix(')')).unwrap_or(specifiers).trim();
    if specifiers.is_empty() {
        return Ok(Some((name, None)));
    }
    let mut pinned = None;
    for clause in specifiers.split(',') {
        let clause = clause.trim();
        let Some((op, version)) = ["===", "==", "!=", "~=", ">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|v| (*op, v.trim())))
        else {
            return Err(format!("unexpected `{clause}` in the requirement for {name}"));
        };
        if op != "==" && op != "===" {
            continue;
        }
        if version.is_empty() {
            return Err(format!("{name} has `{op}` but no version"));
        }
        if version.contains("${") {
            return Err(format!("version `{version}` of {name} comes from an environment variable; skipped"));
        }
        let allowed = |c: char| {
            if op == "===" { !c.is_whitespace() } else { c.is_ascii_alphanumeric() || ".-_+!".contains(c) }
        };
        if op == "==" && version.strip_suffix(".*").is_some_and(|v| v.chars().all(allowed)) {
            // A prefix match such as `==2.8.*` is a range, not a pin.
            continue;
        }
        if !version.chars().all(allowed) {
            return Err(format!("`{version}` is not a valid version for {name}"));
        }
        pinned.get_or_insert(version);
    }
    Ok(Some((name, pinned)))
}

/// PEP 508 names: ASCII letters, digits, `.`, `_`, `-`, starting and ending
/// with a letter or digit.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.iter().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[derive(Deserialize)]
struct PipfileLock<'a> {
    #[serde(borrow, default)]
    default: Option<HashMap<String, &'a RawValue>>,
    #[serde(borrow, default)]
    develop: Option<HashMap<String, &'a RawValue>>,
}

#[derive(Deserialize)]
struct PipfileEntry {
    version: Option<String>,
    git: Option<IgnoredAny>,
    hg: Option<IgnoredAny>,
    svn: Option<IgnoredAny>,
    bzr: Option<IgnoredAny>,
    path: Option<IgnoredAny>,
    file: Option<IgnoredAny>,
}

pub(crate) fn parse_pipfile_lock(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: PipfileLock<'_> = serde_json::from_str(text).map_err(|e| json_error(input, &e))?;
    // Entries in file order, so packages and their lines come out stable.
    let mut entries: Vec<(usize, bool, String, &RawValue)> = Vec::new();
    for (section, dev) in [(lock.default, false), (lock.develop, true)] {
        for (name, raw) in section.unwrap_or_default() {
            entries.push((json_offset(text, raw), dev, name, raw));
        }
    }
    entries.sort_by_key(|e| e.0);

    let lines = LineIndex::new(text);
    let mut warnings = Vec::new();
    let mut out = Collector::by_normalized_name();
    for (offset, dev, name, raw) in entries {
        let start_line = lines.line(offset);
        let warn = |msg: String| Diagnostic::new(input.display, msg).at_line(start_line);
        let entry: PipfileEntry = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(warn(format!("{name}: {e}")));
                continue;
            }
        };
        let Some(spec) = entry.version else {
            let vcs_or_local = [&entry.git, &entry.hg, &entry.svn, &entry.bzr, &entry.path, &entry.file]
                .iter()
                .any(|f| f.is_some());
            if !vcs_or_local {
                warnings.push(warn(format!("{name} has no version")));
            }
            continue;
        };
        let version = spec.strip_prefix("===").or_else(|| spec.strip_prefix("==")).map(str::trim);
        let Some(version) = version.filter(|v| !v.is_empty() && !v.contains(['*', ',', ' '])) else {
            warnings.push(warn(format!("version `{spec}` of {name} is not pinned")));
            continue;
        };
        let end_line = lines.line(offset + raw.get().len());
        let mut pkg = Package::new(Ecosystem::PyPI, name, version);
        pkg.dev = dev;
        pkg.locations.push(Location { start_line, end_line });
        out.add(pkg);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Spanned<PoetryPackage>>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: Option<String>,
    version: Option<String>,
    /// Poetry < 1.5.
    category: Option<String>,
    /// Poetry ≥ 1.5: the dependency groups that need the package.
    groups: Option<Vec<String>>,
}

pub(crate) fn parse_poetry_lock(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: PoetryLock = toml::from_str(text).map_err(|e| toml_error(input, text, &e))?;
    let locations = block_locations(text, lock.package.iter().map(|p| p.span().start));
    let mut parsed = Parsed::default();
    for (spanned, location) in lock.package.into_iter().zip(locations) {
        let pkg = spanned.into_inner();
        let (Some(name), Some(version)) = (pkg.name, pkg.version) else {
            let msg = "[[package]] without a name and version";
            parsed.warnings.push(Diagnostic::new(input.display, msg).at_line(location.start_line));
            continue;
        };
        let mut out = Package::new(Ecosystem::PyPI, name, version);
        out.dev = match pkg.groups {
            Some(groups) => !groups.is_empty() && !groups.iter().any(|g| g == "main"),
            None => pkg.category.as_deref() == Some("dev"),
        };
        out.locations.push(location);
        parsed.packages.push(out);
    }
    Ok(parsed)
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<Spanned<UvPackage>>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    source: UvSource,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: HashMap<String, Vec<UvDependency>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: HashMap<String, Vec<UvDependency>>,
}

#[derive(Default, Deserialize)]
struct UvSource {
    #[serde(rename = "virtual")]
    virtual_: Option<IgnoredAny>,
    editable: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct UvDependency {
    name: String,
    /// Present when the lock holds several versions of the package.
    version: Option<String>,
}

pub(crate) fn parse_uv_lock(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let lock: UvLock = toml::from_str(text).map_err(|e| toml_error(input, text, &e))?;
    let locations = block_locations(text, lock.package.iter().map(|p| p.span().start));
    let packages: Vec<UvPackage> = lock.package.into_iter().map(Spanned::into_inner).collect();
    let graph = UvGraph::new(&packages);

    let mut parsed = Parsed::default();
    for (i, (pkg, location)) in packages.iter().zip(locations).enumerate() {
        // The project itself and workspace members are source, not dependencies.
        if graph.roots[i] {
            continue;
        }
        let (Some(name), Some(version)) = (&pkg.name, &pkg.version) else {
            let msg = "[[package]] without a name and version";
            parsed.warnings.push(Diagnostic::new(input.display, msg).at_line(location.start_line));
            continue;
        };
        let mut out = Package::new(Ecosystem::PyPI, name, version);
        out.dev = graph.dev[i];
        out.indirect = graph.indirect[i];
        out.locations.push(location);
        parsed.packages.push(out);
    }
    Ok(parsed)
}

/// Which uv packages are the project, which only its dev groups need, and
/// which it does not declare itself.
struct UvGraph {
    roots: Vec<bool>,
    dev: Vec<bool>,
    indirect: Vec<bool>,
}

impl UvGraph {
    fn new(packages: &[UvPackage]) -> Self {
        let n = packages.len();
        let roots: Vec<bool> =
            packages.iter().map(|p| p.source.virtual_.is_some() || p.source.editable.is_some()).collect();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            if let Some(name) = &p.name {
                by_name.entry(Ecosystem::PyPI.normalize_name(name)).or_default().push(i);
            }
        }
        let targets = |dep: &UvDependency| -> Vec<usize> {
            let candidates = by_name.get(&Ecosystem::PyPI.normalize_name(&dep.name));
            candidates
                .into_iter()
                .flatten()
                .copied()
                .filter(|&j| dep.version.is_none() || packages[j].version == dep.version)
                .collect()
        };
        let runtime_deps = |p: &UvPackage| -> Vec<usize> {
            p.dependencies
                .iter()
                .chain(p.optional_dependencies.values().flatten())
                .flat_map(targets)
                .collect()
        };

        let mut direct = vec![false; n];
        let mut prod_seeds = Vec::new();
        let mut dev_seeds = Vec::new();
        for (i, p) in packages.iter().enumerate().filter(|(i, _)| roots[*i]) {
            prod_seeds.push(i);
            dev_seeds.extend(p.dev_dependencies.values().flatten().flat_map(targets));
            for j in
                runtime_deps(p).into_iter().chain(p.dev_dependencies.values().flatten().flat_map(targets))
            {
                direct[j] = true;
            }
        }
        let reach = |seeds: Vec<usize>| {
            let mut seen = vec![false; n];
            let mut stack = seeds;
            while let Some(i) = stack.pop() {
                if !std::mem::replace(&mut seen[i], true) {
                    stack.extend(runtime_deps(&packages[i]));
                }
            }
            seen
        };
        let has_root = roots.iter().any(|&r| r);
        let prod = reach(prod_seeds);
        let dev_reach = reach(dev_seeds);
        UvGraph {
            dev: (0..n).map(|i| dev_reach[i] && !prod[i]).collect(),
            indirect: (0..n).map(|i| has_root && !direct[i]).collect(),
            roots,
        }
    }
}

/// The lines of each `[[package]]` block, given the byte offsets of their
/// headers in file order: from the header to the last non-blank line before
/// the next header that is not one of the block's own `[package.…]` tables.
fn block_locations(text: &str, headers: impl Iterator<Item = usize>) -> Vec<Location> {
    let index = LineIndex::new(text);
    let starts: Vec<u32> = headers.map(|offset| index.line(offset)).collect();
    let lines: Vec<&str> = text.lines().collect();
    let last_line = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let limit = starts.get(k + 1).map_or(last_line, |next| next.saturating_sub(1)).max(start);
        let mut end = start;
        for n in start + 1..=limit {
            let line = lines.get(n as usize - 1).map_or("", |l| l.trim());
            if is_foreign_header(line) {
                break;
            }
            if !line.is_empty() && !line.starts_with('#') {
                end = n;
            }
        }
        out.push(Location { start_line: start, end_line: end });
    }
    out
}

/// A TOML table header other than a `[package.…]` sub-table.
fn is_foreign_header(line: &str) -> bool {
    let line = line.split(" #").next().unwrap_or_default().trim_end();
    let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
        return false;
    };
    let inner = inner.strip_prefix('[').and_then(|l| l.strip_suffix(']')).unwrap_or(inner).trim();
    let key_like =
        !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c));
    key_like && !inner.starts_with("package.")
}
