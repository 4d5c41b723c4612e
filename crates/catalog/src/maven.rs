//! Maven `pom.xml`: the declared dependencies of the effective model, built
//! from the POM, its parents found on disk, their properties and
//! `dependencyManagement`, and profiles active by default.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use rampart_types::{Diagnostic, Ecosystem, Location, Package};

use crate::support::{Collector, LineIndex, read_neighbour};
use crate::{CatalogError, Input, Parsed};

/// Real parent chains are a handful deep; this stops cycles through symlinks
/// and generated hierarchies.
const MAX_PARENT_DEPTH: usize = 16;
/// Bounds on `${…}` expansion, so `a=${b}${b}`, `b=${c}${c}`, … stays cheap.
const MAX_EXPANDED_LEN: usize = 4096;
const MAX_EXPANSION_DEPTH: usize = 16;
const MAX_EXPANSION_STEPS: usize = 10_000;

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = decode(input.content).map_err(|msg| CatalogError::malformed(input, None, msg))?;
    let root = read_pom(&text).map_err(|e| CatalogError::malformed(input, e.line, e.message))?;
    let mut parsed = Parsed::default();
    let (ancestors, missing_parent) = load_parents(input, &root, &mut parsed.warnings);
    let model = Model::new(&root, &ancestors, missing_parent);

    let mut out = Collector::default();
    for dep in model.dependencies(&root, &ancestors) {
        let line = dep.location.map(|l| l.start_line);
        let (name, version, dev) = match model.resolve(dep) {
            Ok(resolved) => resolved,
            Err(msg) => {
                let warning = Diagnostic::new(input.display, msg);
                parsed.warnings.push(match line {
                    Some(line) => warning.at_line(line),
                    None => warning,
                });
                continue;
            }
        };
        let mut pkg = Package::new(Ecosystem::Maven, name, version);
        pkg.dev = dev;
        pkg.locations.extend(dep.location);
        out.add(pkg);
    }
    parsed.packages = out.finish();
    Ok(parsed)
}

/// What one `pom.xml` declares, before inheritance and interpolation.
#[derive(Default)]
struct Pom {
    group_id: Option<String>,
    artifact_id: Option<String>,
    version: Option<String>,
    parent: Option<ParentRef>,
    properties: Vec<(String, String)>,
    dependencies: Vec<Dependency>,
    managed: Vec<Dependency>,
}

#[derive(Clone, Default)]
struct ParentRef {
    group_id: Option<String>,
    artifact_id: Option<String>,
    version: Option<String>,
    /// `Some("")` turns the local lookup off.
    relative_path: Option<String>,
}

impl ParentRef {
    fn coordinates(&self) -> String {
        let part = |p: &Option<String>| p.clone().unwrap_or_else(|| "?".into());
        format!("{}:{}:{}", part(&self.group_id), part(&self.artifact_id), part(&self.version))
    }
}

#[derive(Clone, Default)]
struct Dependency {
    group_id: Option<String>,
    artifact_id: Option<String>,
    version: Option<String>,
    scope: Option<String>,
    kind: Option<String>,
    classifier: Option<String>,
    location: Option<Location>,
}

#[derive(Default)]
struct Profile {
    active_by_default: bool,
    properties: Vec<(String, String)>,
    dependencies: Vec<Dependency>,
    managed: Vec<Dependency>,
}

struct XmlError {
    line: Option<u32>,
    message: String,
}

/// POMs are UTF-8 almost always; some still declare ISO-8859-1, whose bytes
/// map one to one onto the first 256 code points.
fn decode(content: &[u8]) -> Result<Cow<'_, str>, String> {
    let bytes = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            let head = &bytes[..bytes.len().min(256)];
            let decl_end = head.windows(2).position(|w| w == b"?>").unwrap_or(0);
            let decl = String::from_utf8_lossy(&head[..decl_end]).to_ascii_lowercase();
            let single_byte = decl.starts_with("<?xml")
                && ["iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-8859-15", "windows-1252", "cp1252"]
                    .iter()
                    .any(|enc| decl.contains(&format!("\"{enc}\"")) || decl.contains(&format!("'{enc}'")));
            if single_byte {
                Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()))
            } else {
                Err(format!("not UTF-8: {e}"))
            }
        }
    }
}

/// Reads the parts of a POM that matter for dependencies. The document must
/// be well-formed XML with a `<project>` root.
fn read_pom(text: &str) -> Result<Pom, XmlError> {
    let mut reader = Reader::from_str(text);
    let lines = LineIndex::new(text);
    let mut builder = PomBuilder::default();
    let mut stack: Vec<String> = Vec::new();
    let mut seen_root = false;
    let mut value = String::new();
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| {
            let offset = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            XmlError { line: Some(lines.line(offset)), message: e.to_string() }
        })?;
        let malformed = |message: String| XmlError { line: Some(lines.line(at)), message };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = element_name(e).map_err(malformed)?;
                if stack.is_empty() {
                    if seen_root {
                        return Err(malformed("more than one root element".into()));
                    }
                    if name != "project" {
                        return Err(malformed(format!("not a Maven POM: the root element is <{name}>")));
                    }
                    seen_root = true;
                }
                stack.push(name);
                value.clear();
                let line = lines.line(at);
                builder.start(&stack, line);
                if matches!(event, Event::Empty(_)) {
                    builder.end(&stack, "", line);
                    stack.pop();
                }
            }
            Event::End(_) => {
                let line = lines.line(at);
                builder.end(&stack, value.trim(), line);
                value.clear();
                stack.pop();
            }
            Event::Text(t) => {
                if stack.is_empty() && !t.trim().is_empty() {
                    return Err(malformed("text outside the root element".into()));
                }
                value.push_str(&t.xml10_content());
            }
            Event::CData(t) => value.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(malformed(format!("unknown entity &{other};"))),
                    },
                    Err(e) => return Err(malformed(e.to_string())),
                };
                value.push(c);
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    let message = format!("unexpected end of file inside <{open}>");
                    return Err(XmlError { line: Some(lines.line(text.len())), message });
                }
                if !seen_root {
                    return Err(XmlError { line: Some(1), message: "no <project> element".into() });
                }
                return Ok(builder.pom);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// The local name of an element, after checking the name and attributes are
/// well-formed (quick-xml leaves both to the caller).
fn element_name(e: &BytesStart<'_>) -> Result<String, String> {
    let qname = e.name();
    let name = qname.as_ref();
    let valid_start = |c: char| c.is_alphabetic() || c == '_' || c == ':';
    let valid = |c: char| c.is_alphanumeric() || "_:.-\u{b7}".contains(c);
    let mut chars = name.chars();
    if !chars.next().is_some_and(valid_start) || !chars.all(valid) {
        return Err(format!("invalid element name `{name}`"));
    }
    for attr in e.attributes() {
        attr.map_err(|err| format!("bad attribute in <{name}>: {err}"))?;
    }
    Ok(e.local_name().as_ref().to_string())
}

/// Fills a [`Pom`] from element start and end events, keyed by the path of
/// local names from the root.
#[derive(Default)]
struct PomBuilder {
    pom: Pom,
    dependency: Option<Dependency>,
    profile: Option<Profile>,
}

/// Where an element sits: in the project itself or in a `<profile>`, and the
/// rest of its path below that.
fn scope_of(path: &[String]) -> Option<(bool, &[String])> {
    match path {
        [project, profiles, profile, rest @ ..]
            if project == "project" && profiles == "profiles" && profile == "profile" =>
        {
            Some((true, rest))
        }
        [project, rest @ ..] if project == "project" => Some((false, rest)),
        _ => None,
    }
}

/// `Some(true)` for a managed dependency element, `Some(false)` for a
/// declared one.
fn dependency_element(rest: &[String]) -> Option<bool> {
    match rest {
        [a, b] if a == "dependencies" && b == "dependency" => Some(false),
        [a, b, c] if a == "dependencyManagement" && b == "dependencies" && c == "dependency" => Some(true),
        _ => None,
    }
}

impl PomBuilder {
    fn start(&mut self, path: &[String], line: u32) {
        let Some((in_profile, rest)) = scope_of(path) else { return };
        if in_profile && rest.is_empty() {
            self.profile = Some(Profile::default());
        } else if dependency_element(rest).is_some() {
            let location = Location { start_line: line, end_line: line };
            self.dependency = Some(Dependency { location: Some(location), ..Dependency::default() });
        }
    }

    fn end(&mut self, path: &[String], value: &str, line: u32) {
        let Some((in_profile, rest)) = scope_of(path) else { return };
        let text = || (!value.is_empty()).then(|| value.to_string());
        if in_profile && rest.is_empty() {
            if let Some(profile) = self.profile.take().filter(|p| p.active_by_default) {
                self.pom.properties.extend(profile.properties);
                self.pom.dependencies.extend(profile.dependencies);
                self.pom.managed.extend(profile.managed);
            }
            return;
        }
        if let Some(managed) = dependency_element(rest) {
            if let Some(mut dep) = self.dependency.take() {
                if let Some(loc) = &mut dep.location {
                    loc.end_line = line;
                }
                let (dependencies, managed_list) = match (in_profile, self.profile.as_mut()) {
                    (true, Some(p)) => (&mut p.dependencies, &mut p.managed),
                    _ => (&mut self.pom.dependencies, &mut self.pom.managed),
                };
                if managed { managed_list } else { dependencies }.push(dep);
            }
            return;
        }
        if let [.., field] = rest
            && dependency_element(&rest[..rest.len() - 1]).is_some()
            && let Some(dep) = self.dependency.as_mut()
        {
            let slot = match field.as_str() {
                "groupId" => &mut dep.group_id,
                "artifactId" => &mut dep.artifact_id,
                "version" => &mut dep.version,
                "scope" => &mut dep.scope,
                "type" => &mut dep.kind,
                "classifier" => &mut dep.classifier,
                _ => return,
            };
            *slot = text();
            return;
        }
        if let [properties, name] = rest
            && properties == "properties"
        {
            let property = (name.clone(), value.to_string());
            match (in_profile, self.profile.as_mut()) {
                (true, Some(p)) => p.properties.push(property),
                _ => self.pom.properties.push(property),
            }
            return;
        }
        if in_profile {
            if let ([a, b], Some(p)) = (rest, self.profile.as_mut())
                && a == "activation"
                && b == "activeByDefault"
            {
                p.active_by_default = value.eq_ignore_ascii_case("true");
            }
            return;
        }
        match rest {
            [f] if f == "groupId" => self.pom.group_id = text(),
            [f] if f == "artifactId" => self.pom.artifact_id = text(),
            [f] if f == "version" => self.pom.version = text(),
            [p, f] if p == "parent" => {
                let parent = self.pom.parent.get_or_insert_with(ParentRef::default);
                match f.as_str() {
                    "groupId" => parent.group_id = text(),
                    "artifactId" => parent.artifact_id = text(),
                    "version" => parent.version = text(),
                    "relativePath" => parent.relative_path = Some(value.to_string()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// Finds the parent chain on disk, nearest first. Returns the coordinates of
/// the first parent that could not be found, which Maven would download.
fn load_parents(input: &Input<'_>, root: &Pom, warnings: &mut Vec<Diagnostic>) -> (Vec<Pom>, Option<String>) {
    let mut chain = Vec::new();
    let mut visited: HashSet<PathBuf> = input.path.canonicalize().into_iter().collect();
    let mut dir = input.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut display_dir = Path::new(input.display).parent().unwrap_or(Path::new("")).to_path_buf();
    let mut next = root.parent.clone();
    while let Some(parent) = next.take() {
        let coordinates = parent.coordinates();
        if chain.len() >= MAX_PARENT_DEPTH {
            let msg = format!("more than {MAX_PARENT_DEPTH} parent POMs; {coordinates} not read");
            warnings.push(Diagnostic::new(input.display, msg));
            return (chain, Some(coordinates));
        }
        let relative = parent.relative_path.as_deref().unwrap_or("../pom.xml");
        if relative.is_empty() {
            return (chain, Some(coordinates));
        }
        let mut path = dir.join(relative);
        let mut display = display_dir.join(relative);
        if path.is_dir() {
            path.push("pom.xml");
            display.push("pom.xml");
        }
        let Ok(canonical) = path.canonicalize() else { return (chain, Some(coordinates)) };
        if !visited.insert(canonical) {
            let msg = format!("parent POM {} is already part of the chain (a cycle)", display.display());
            warnings.push(Diagnostic::new(input.display, msg));
            return (chain, Some(coordinates));
        }
        let pom = match read_parent(&path) {
            Ok(pom) => pom,
            Err(msg) => {
                warnings
                    .push(Diagnostic::new(input.display, format!("parent POM {}: {msg}", display.display())));
                return (chain, Some(coordinates));
            }
        };
        let group = pom.group_id.as_ref().or(pom.parent.as_ref().and_then(|p| p.group_id.as_ref()));
        // Another project's POM at that path: Maven would use the repository.
        if parent.group_id.is_none()
            || group != parent.group_id.as_ref()
            || pom.artifact_id != parent.artifact_id
        {
            return (chain, Some(coordinates));
        }
        dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        display_dir = display.parent().unwrap_or(Path::new("")).to_path_buf();
        next = pom.parent.clone();
        chain.push(pom);
    }
    (chain, None)
}

fn read_parent(path: &Path) -> Result<Pom, String> {
    let bytes = read_neighbour(path).map_err(|e| e.to_string())?;
    let text = decode(&bytes)?;
    let mut pom = read_pom(&text).map_err(|e| match e.line {
        Some(line) => format!("line {line}: {}", e.message),
        None => e.message,
    })?;
    // Lines in the parent are not lines of the POM being reported.
    for dep in &mut pom.dependencies {
        dep.location = None;
    }
    Ok(pom)
}

/// The effective model: inherited properties and managed versions, with the
/// project's own declarations overriding its parents'.
struct Model {
    properties: HashMap<String, String>,
    managed: HashMap<(String, String, String, String), Dependency>,
    managed_by_name: HashMap<(String, String), Dependency>,
    /// Why a version may be missing, appended to warnings.
    hint: String,
}

impl Model {
    fn new(root: &Pom, ancestors: &[Pom], missing_parent: Option<String>) -> Model {
        // Farthest ancestor first, so nearer declarations override.
        let lineage: Vec<&Pom> = ancestors.iter().rev().chain(std::iter::once(root)).collect();
        let mut properties: HashMap<String, String> = HashMap::new();
        for pom in &lineage {
            properties.extend(pom.properties.iter().cloned());
        }
        let parent = root.parent.as_ref();
        let inherited = |own: &Option<String>, from_parent: Option<&Option<String>>| {
            own.clone().or_else(|| from_parent.cloned().flatten())
        };
        let builtins = [
            ("groupId", inherited(&root.group_id, parent.map(|p| &p.group_id))),
            ("artifactId", root.artifact_id.clone()),
            ("version", inherited(&root.version, parent.map(|p| &p.version))),
            ("parent.groupId", parent.and_then(|p| p.group_id.clone())),
            ("parent.artifactId", parent.and_then(|p| p.artifact_id.clone())),
            ("parent.version", parent.and_then(|p| p.version.clone())),
        ];
        for (key, value) in builtins {
            if let Some(value) = value {
                properties.insert(format!("project.{key}"), value.clone());
                properties.insert(format!("pom.{key}"), value);
            }
        }
        let mut model = Model {
            properties,
            managed: HashMap::new(),
            managed_by_name: HashMap::new(),
            hint: String::new(),
        };

        let mut imports = Vec::new();
        for pom in &lineage {
            for dep in &pom.managed {
                let Some((group, artifact, kind, classifier)) = model.key(dep) else { continue };
                if model.expand(dep.scope.as_deref()).as_deref() == Some("import") {
                    imports.push(format!("{group}:{artifact}"));
                    continue;
                }
                model.managed_by_name.insert((group.clone(), artifact.clone()), dep.clone());
                model.managed.insert((group, artifact, kind, classifier), dep.clone());
            }
        }
        if let Some(parent) = missing_parent {
            model.hint.push_str(&format!("; parent POM {parent} was not found locally"));
        }
        if !imports.is_empty() {
            model.hint.push_str(&format!("; imported BOMs are not read ({})", imports.join(", ")));
        }
        model
    }

    /// Declared dependencies: the project's own, then those inherited from
    /// parents that a nearer POM does not redeclare.
    fn dependencies<'p>(&self, root: &'p Pom, ancestors: &'p [Pom]) -> Vec<&'p Dependency> {
        let mut out = Vec::new();
        let mut declared: HashSet<(String, String, String, String)> = HashSet::new();
        for (depth, pom) in std::iter::once(root).chain(ancestors).enumerate() {
            let mut keys = Vec::new();
            for dep in &pom.dependencies {
                let key = self.key(dep);
                if depth > 0 && key.as_ref().is_some_and(|k| declared.contains(k)) {
                    continue;
                }
                keys.extend(key);
                out.push(dep);
            }
            declared.extend(keys);
        }
        out
    }

    /// `groupId`, `artifactId`, `type` and `classifier`, interpolated: how
    /// Maven tells dependencies apart.
    fn key(&self, dep: &Dependency) -> Option<(String, String, String, String)> {
        Some((
            self.expand(dep.group_id.as_deref())?,
            self.expand(dep.artifact_id.as_deref())?,
            self.expand(Some(dep.kind.as_deref().unwrap_or("jar")))?,
            self.expand(Some(dep.classifier.as_deref().unwrap_or("")))?,
        ))
    }

    /// `group:artifact`, the version and whether only tests need it.
    fn resolve(&self, dep: &Dependency) -> Result<(String, String, bool), String> {
        let artifact_raw = dep.artifact_id.as_deref().unwrap_or("?");
        let Some(group_raw) = dep.group_id.as_deref() else {
            return Err(format!("dependency {artifact_raw} has no groupId; skipped"));
        };
        if dep.artifact_id.is_none() {
            return Err(format!("dependency in group {group_raw} has no artifactId; skipped"));
        }
        let Some(key) = self.key(dep).filter(|(g, a, _, _)| !g.contains("${") && !a.contains("${")) else {
            return Err(format!("cannot resolve dependency {group_raw}:{artifact_raw}; skipped"));
        };
        let name = format!("{}:{}", key.0, key.1);
        let managed =
            self.managed.get(&key).or_else(|| self.managed_by_name.get(&(key.0.clone(), key.1.clone())));
        let Some(raw) = dep.version.as_deref().or(managed.and_then(|m| m.version.as_deref())) else {
            let hint = &self.hint;
            return Err(format!(
                "{name}: no version in the POM, its parents or dependencyManagement{hint}; skipped"
            ));
        };
        let version = match self.expand(Some(raw)) {
            Some(v) if !v.contains("${") => v,
            _ => return Err(format!("{name}: cannot resolve version {raw}{}; skipped", self.hint)),
        };
        let version = match version.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            // `[1.2.3]` pins exactly; any other range is not one version.
            Some(exact) if !exact.contains(',') => exact.trim().to_string(),
            _ if version.starts_with(['[', '(']) => {
                return Err(format!("{name}: version range {version} is not a single version; skipped"));
            }
            _ => version,
        };
        let scope = self.expand(dep.scope.as_deref().or(managed.and_then(|m| m.scope.as_deref())));
        Ok((name, version, scope.as_deref() == Some("test")))
    }

    /// Replaces `${property}` references; unknown ones stay as written.
    /// `None` when the value is absent or expansion runs past its bounds.
    fn expand(&self, value: Option<&str>) -> Option<String> {
        let mut out = String::new();
        let mut steps = 0;
        self.expand_into(value?, 0, &mut steps, &mut out).then_some(out)
    }

    fn expand_into(&self, value: &str, depth: usize, steps: &mut usize, out: &mut String) -> bool {
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start + 2..].find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let reference = &rest[start..start + 2 + len + 1];
            let key = &reference[2..reference.len() - 1];
            *steps += 1;
            if *steps > MAX_EXPANSION_STEPS {
                return false;
            }
            match self.properties.get(key) {
                Some(v) if depth < MAX_EXPANSION_DEPTH => {
                    if !self.expand_into(v, depth + 1, steps, out) {
                        return false;
                    }
                }
                _ => out.push_str(reference),
            }
            if out.len() > MAX_EXPANDED_LEN {
                return false;
            }
            rest = &rest[start + reference.len()..];
        }
        out.push_str(rest);
        out.len() <= MAX_EXPANDED_LEN
    }
}
