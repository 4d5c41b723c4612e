//! Reading SBOMs (CycloneDX, SPDX) back into packages.
//!
//! [`decode`] reads CycloneDX JSON (1.2–1.6) and SPDX 2.x JSON, whoever
//! wrote them (rampart, Trivy, Syft, build plugins), and groups the packages
//! the way a scan reports them: OS packages in one group per distribution,
//! language packages under the application (lockfile) that holds them, and
//! the rest in one group per ecosystem.
//!
//! Packages are identified by their package URL only: a component without
//! one, or with a type or distribution rampart does not know, is skipped
//! and counted in a warning. Trivy's `aquasecurity:trivy:` and
//! rampart's `rampart:` properties (SPDX: annotations `Name: value`) add
//! what the purl lacks: source package, layer, dev and indirect flags, and
//! which result a group was; Syft's source-package properties and the purl's
//! `upstream` qualifier stand in for the source package otherwise.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;

use rampart_types::{Diagnostic, Ecosystem, Layer, Os, Package, Purl, ResultClass};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::support::{Collector, Lenient, json_error};
use crate::{CatalogError, Input};

/// The SBOM formats [`decode`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDx,
    Spdx,
}

/// The packages of one SBOM, grouped as scan results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sbom {
    pub format: SbomFormat,
    /// The operating system, from an OS component or package, else from the
    /// `distro` qualifier of OS package purls.
    pub os: Option<Os>,
    pub groups: Vec<SbomGroup>,
    /// What was left out, and why.
    pub warnings: Vec<Diagnostic>,
}

/// Packages to scan together, as one result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomGroup {
    /// The application's name (a lockfile path in rampart's and Trivy's
    /// SBOMs); for OS packages `<display> (<family> <release>)`; else the
    /// SBOM's display path.
    pub target: String,
    pub class: ResultClass,
    /// The result type: as the SBOM recorded it, else the OS family, else a
    /// Trivy type for the ecosystem (`node-pkg`, `python-pkg`, `jar`, …).
    pub kind: String,
    pub packages: Vec<Package>,
}

/// Decodes a CycloneDX or SPDX JSON document, telling them apart by content.
/// `display` names the file in errors and targets.
pub fn decode(display: &str, content: &[u8]) -> Result<Sbom, CatalogError> {
    let input = Input { path: Path::new(display), display, content };
    let text = input.text()?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        return Err(CatalogError::malformed(&input, None, "XML SBOMs are not supported; use the JSON form"));
    }
    if trimmed.starts_with("SPDXVersion:") || trimmed.contains("\nSPDXVersion:") {
        return Err(CatalogError::malformed(
            &input,
            None,
            "SPDX tag-value documents are not supported; use SPDX JSON",
        ));
    }
    let not_sbom = || {
        CatalogError::malformed(
            &input,
            None,
            "not a CycloneDX or SPDX 2 JSON document (no bomFormat \"CycloneDX\" or spdxVersion \"SPDX-2.x\")",
        )
    };
    if !trimmed.starts_with('{') {
        serde_json::from_str::<IgnoredAny>(text).map_err(|e| json_error(&input, &e))?;
        return Err(not_sbom());
    }
    let probe: Probe<'_> = serde_json::from_str(text).map_err(|e| json_error(&input, &e))?;
    let (format, graph) = if string(probe.bom_format) == "CycloneDX" {
        let bom: CdxBom<'_> = serde_json::from_str(text).map_err(|e| json_error(&input, &e))?;
        (SbomFormat::CycloneDx, cyclonedx(bom))
    } else if string(probe.spdx_version).starts_with("SPDX-2.") {
        let doc: SpdxDoc<'_> = serde_json::from_str(text).map_err(|e| json_error(&input, &e))?;
        (SbomFormat::Spdx, spdx(doc))
    } else {
        return Err(not_sbom());
    };
    Ok(analyze(display, format, graph))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe<'a> {
    #[serde(borrow, default)]
    bom_format: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    spdx_version: Option<Lenient<'a>>,
}

/// A string field, trimmed; empty when absent or not a string.
fn string(v: Option<Lenient<'_>>) -> String {
    v.and_then(|l| l.0).map(|s| s.trim().to_string()).unwrap_or_default()
}

// The formats, reduced to what grouping needs.

/// A component or SPDX package.
#[derive(Default)]
struct Node {
    name: String,
    /// CycloneDX's `group` (a Maven groupId, an npm scope).
    group: String,
    version: String,
    purl: String,
    role: Role,
    licenses: Vec<String>,
    /// Properties or annotations; Trivy's and rampart's without their prefix.
    facts: HashMap<String, String>,
    /// Nested components and what the node depends on or contains.
    children: Vec<usize>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Role {
    #[default]
    Other,
    /// What the document describes (`metadata.component`, SPDX `DESCRIBES`).
    Subject,
    OperatingSystem,
}

impl Node {
    fn fact(&self, name: &str) -> Option<&str> {
        self.facts.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn add_fact(&mut self, name: &str, value: &str) {
        let name = ["aquasecurity:trivy:", "rampart:"]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .unwrap_or(name);
        self.facts.entry(name.to_string()).or_insert_with(|| value.trim().to_string());
    }
}

#[derive(Deserialize)]
struct CdxBom<'a> {
    #[serde(borrow, default)]
    metadata: Option<CdxMetadata<'a>>,
    #[serde(borrow, default)]
    components: Option<Vec<CdxComponent<'a>>>,
    #[serde(borrow, default)]
    dependencies: Option<Vec<CdxDependency<'a>>>,
}

#[derive(Deserialize)]
struct CdxMetadata<'a> {
    #[serde(borrow, default)]
    component: Option<CdxComponent<'a>>,
}

#[derive(Deserialize)]
struct CdxComponent<'a> {
    #[serde(borrow, default, rename = "bom-ref")]
    bom_ref: Option<Lenient<'a>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    group: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    version: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    purl: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    licenses: Option<Vec<CdxLicenseChoice<'a>>>,
    #[serde(borrow, default)]
    properties: Option<Vec<CdxProperty<'a>>>,
    #[serde(borrow, default)]
    components: Option<Vec<CdxComponent<'a>>>,
}

#[derive(Deserialize)]
struct CdxLicenseChoice<'a> {
    #[serde(borrow, default)]
    license: Option<CdxLicense<'a>>,
    #[serde(borrow, default)]
    expression: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
struct CdxLicense<'a> {
    #[serde(borrow, default)]
    id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
struct CdxProperty<'a> {
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    value: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxDependency<'a> {
    #[serde(borrow, default, rename = "ref")]
    bom_ref: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    depends_on: Option<Vec<Lenient<'a>>>,
}

/// Components in document order (nested ones after their parent), linked by
/// nesting and by `dependencies`.
fn cyclonedx(bom: CdxBom<'_>) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut by_ref: HashMap<String, usize> = HashMap::new();
    // An explicit stack: nesting depth comes from the input.
    let mut stack: Vec<(CdxComponent<'_>, Option<usize>, Role)> = Vec::new();
    for c in bom.components.unwrap_or_default().into_iter().rev() {
        stack.push((c, None, Role::Other));
    }
    if let Some(c) = bom.metadata.and_then(|m| m.component) {
        stack.push((c, None, Role::Subject));
    }
    while let Some((c, parent, role)) = stack.pop() {
        let index = nodes.len();
        let kind = string(c.kind);
        let mut node = Node {
            name: string(c.name),
            group: string(c.group),
            version: string(c.version),
            purl: string(c.purl),
            role: if kind == "operating-system" { Role::OperatingSystem } else { role },
            ..Node::default()
        };
        for choice in c.licenses.unwrap_or_default() {
            let license = match (choice.license, choice.expression) {
                (Some(l), _) => {
                    Some(string(l.id)).filter(|id| !id.is_empty()).unwrap_or_else(|| string(l.name))
                }
                (None, expression) => string(expression),
            };
            if !license.is_empty() && !node.licenses.contains(&license) {
                node.licenses.push(license);
            }
        }
        for p in c.properties.unwrap_or_default() {
            node.add_fact(&string(p.name), &string(p.value));
        }
        let bom_ref = string(c.bom_ref);
        if !bom_ref.is_empty() {
            by_ref.entry(bom_ref).or_insert(index);
        }
        if let Some(parent) = parent {
            nodes[parent].children.push(index);
        }
        for child in c.components.unwrap_or_default().into_iter().rev() {
            stack.push((child, Some(index), Role::Other));
        }
        nodes.push(node);
    }
    for d in bom.dependencies.unwrap_or_default() {
        let Some(&from) = by_ref.get(&string(d.bom_ref)) else { continue };
        for to in d.depends_on.unwrap_or_default() {
            if let Some(&to) = by_ref.get(&string(Some(to))) {
                nodes[from].children.push(to);
            }
        }
    }
    nodes
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDoc<'a> {
    #[serde(borrow, default, rename = "SPDXID")]
    spdx_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    document_describes: Option<Vec<Lenient<'a>>>,
    #[serde(borrow, default)]
    packages: Option<Vec<SpdxPackage<'a>>>,
    #[serde(borrow, default)]
    relationships: Option<Vec<SpdxRelationship<'a>>>,
    #[serde(borrow, default)]
    has_extracted_licensing_infos: Option<Vec<SpdxExtractedLicense<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(borrow, default, rename = "SPDXID")]
    spdx_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    version_info: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    license_declared: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    license_concluded: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    external_refs: Option<Vec<SpdxExternalRef<'a>>>,
    #[serde(borrow, default)]
    primary_package_purpose: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    annotations: Option<Vec<SpdxAnnotation<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef<'a> {
    #[serde(borrow, default)]
    reference_type: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    reference_locator: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
struct SpdxAnnotation<'a> {
    #[serde(borrow, default)]
    comment: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship<'a> {
    #[serde(borrow, default)]
    spdx_element_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    related_spdx_element: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    relationship_type: Option<Lenient<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExtractedLicense<'a> {
    #[serde(borrow, default)]
    license_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    name: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    extracted_text: Option<Lenient<'a>>,
}

/// Packages in document order, linked by containment and dependency
/// relationships (either direction).
fn spdx(doc: SpdxDoc<'_>) -> Vec<Node> {
    // What a `LicenseRef-` stands for: its name, else short extracted text.
    let mut license_refs: HashMap<String, String> = HashMap::new();
    for l in doc.has_extracted_licensing_infos.unwrap_or_default() {
        let (id, name, extracted) = (string(l.license_id), string(l.name), string(l.extracted_text));
        let meaning = if !name.is_empty() {
            name
        } else if !extracted.is_empty() && extracted.len() <= 200 && !extracted.contains('\n') {
            extracted
        } else {
            id.clone()
        };
        license_refs.insert(id, meaning);
    }
    let mut nodes = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for p in doc.packages.unwrap_or_default() {
        let purpose = string(p.primary_package_purpose).replace('_', "-");
        let mut node = Node {
            name: string(p.name),
            version: string(p.version_info),
            role: if purpose == "OPERATING-SYSTEM" { Role::OperatingSystem } else { Role::Other },
            ..Node::default()
        };
        let refs = p.external_refs.unwrap_or_default();
        node.purl = refs
            .into_iter()
            .find(|r| r.reference_type.as_ref().and_then(|t| t.0.as_deref()) == Some("purl"))
            .map(|r| string(r.reference_locator))
            .unwrap_or_default();
        let declared = string(p.license_declared);
        let concluded = string(p.license_concluded);
        let expression =
            [declared, concluded].into_iter().find(|l| !matches!(l.as_str(), "" | "NOASSERTION" | "NONE"));
        for part in expression.as_deref().map(split_and).unwrap_or_default() {
            let license = license_refs.get(part).cloned().unwrap_or_else(|| part.to_string());
            if !node.licenses.contains(&license) {
                node.licenses.push(license);
            }
        }
        for a in p.annotations.unwrap_or_default() {
            if let Some((name, value)) = string(a.comment).split_once(": ") {
                node.add_fact(name, value);
            }
        }
        by_id.entry(string(p.spdx_id)).or_insert(nodes.len());
        nodes.push(node);
    }
    let document = Some(string(doc.spdx_id)).filter(|id| !id.is_empty());
    let document = document.unwrap_or_else(|| "SPDXRef-DOCUMENT".to_string());
    let mut subjects: Vec<String> =
        doc.document_describes.unwrap_or_default().into_iter().map(|d| string(Some(d))).collect();
    for r in doc.relationships.unwrap_or_default() {
        let (a, b) = (string(r.spdx_element_id), string(r.related_spdx_element));
        let (parent, child) = match string(r.relationship_type).as_str() {
            "DESCRIBES" if a == document => {
                subjects.push(b);
                continue;
            }
            "DESCRIBED_BY" if b == document => {
                subjects.push(a);
                continue;
            }
            "CONTAINS" | "DEPENDS_ON" => (a, b),
            "CONTAINED_BY" | "DEPENDENCY_OF" => (b, a),
            _ => continue,
        };
        if let (Some(&parent), Some(&child)) = (by_id.get(&parent), by_id.get(&child)) {
            nodes[parent].children.push(child);
        }
    }
    for s in subjects {
        if let Some(&i) = by_id.get(&s)
            && nodes[i].role == Role::Other
        {
            nodes[i].role = Role::Subject;
        }
    }
    nodes
}

/// The operands of an SPDX expression's top-level `AND`s, each without one
/// pair of enclosing parentheses: `(MIT OR X) AND Y` → `MIT OR X`, `Y`.
fn split_and(expression: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    let bytes = expression.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && expression[i..].starts_with(" AND ") => {
                parts.push(&expression[start..i]);
                start = i + 5;
            }
            _ => {}
        }
    }
    parts.push(&expression[start..]);
    parts.into_iter().map(|p| unwrap_parens(p.trim())).filter(|p| !p.is_empty()).collect()
}

/// `s` without parentheses that enclose all of it.
fn unwrap_parens(s: &str) -> &str {
    let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else { return s };
    let mut depth = 0i32;
    for b in inner.bytes() {
        depth += match b {
            b'(' => 1,
            b')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return s; // `(A) OR (B)`: the outer pair is two pairs.
        }
    }
    inner.trim()
}

// Grouping.

/// The ecosystem of the package a node stands for, or why it stands for none.
fn classify(node: &Node, purl: Option<&Purl>, os: Option<&Os>) -> Result<Ecosystem, String> {
    let Some(purl) = purl else {
        return Err(
            if node.purl.is_empty() { "no package URL" } else { "a malformed package URL" }.to_string()
        );
    };
    let ecosystem = ecosystem(purl, os)?;
    if purl.version.is_none() && node.version.is_empty() {
        return Err("no version".to_string());
    }
    Ok(ecosystem)
}

fn analyze(display: &str, format: SbomFormat, nodes: Vec<Node>) -> Sbom {
    let purls: Vec<Option<Purl>> = nodes.iter().map(|n| Purl::parse(&n.purl)).collect();
    let os = nodes
        .iter()
        .find(|n| n.role == Role::OperatingSystem && !n.name.is_empty())
        .map(|n| Os { family: os_family(&n.name), name: n.version.clone(), eosl: false })
        .or_else(|| purls.iter().flatten().find_map(Purl::os));

    let mut packages: Vec<Option<Package>> = Vec::with_capacity(nodes.len());
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (node, purl) in nodes.iter().zip(&purls) {
        let structural = node.role == Role::OperatingSystem
            || node.fact("Class").is_some()
            || !node.children.is_empty()
            || purl.as_ref().is_some_and(|p| matches!(p.ty.as_str(), "oci" | "docker"))
            || (node.role == Role::Subject && node.purl.is_empty());
        let package = match (purl, classify(node, purl.as_ref(), os.as_ref())) {
            (Some(purl), Ok(ecosystem)) => Some(package(node, purl, ecosystem)),
            (_, Err(reason)) if !structural => {
                *skipped.entry(reason).or_default() += 1;
                None
            }
            _ => None,
        };
        packages.push(package);
    }

    let mut groups = Vec::new();
    // OS packages: one group per distribution.
    let mut by_os: Vec<(Ecosystem, Vec<usize>)> = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        if let Some(p) = p.as_ref().filter(|p| p.ecosystem.is_os()) {
            match by_os.iter_mut().find(|(e, _)| *e == p.ecosystem) {
                Some((_, members)) => members.push(i),
                None => by_os.push((p.ecosystem, vec![i])),
            }
        }
    }
    for (ecosystem, members) in by_os {
        let (target, kind) = match &os {
            Some(os) if distro_ecosystem(&os.family) == Some(ecosystem) => {
                let release = if os.name.is_empty() { String::new() } else { format!(" {}", os.name) };
                (format!("{display} ({}{release})", os.family), os.family.clone())
            }
            _ => (display.to_string(), default_kind(ecosystem).to_string()),
        };
        groups.push(group(target, ResultClass::OsPkgs, kind, &members, &packages));
    }

    // Language packages under each application that reaches them.
    let is_lang = |i: usize| packages[i].as_ref().is_some_and(|p| !p.ecosystem.is_os());
    let mut claimed = vec![false; nodes.len()];
    for (index, parent) in nodes.iter().enumerate() {
        if parent.role != Role::Other || packages[index].is_some() || parent.children.is_empty() {
            continue;
        }
        let mut seen = HashSet::from([index]);
        let mut queue: VecDeque<usize> = parent.children.iter().copied().collect();
        let mut members = Vec::new();
        while let Some(i) = queue.pop_front() {
            // Stop at the OS, the subject and other applications.
            let application = packages[i].is_none() && !nodes[i].children.is_empty();
            if !seen.insert(i) || nodes[i].role != Role::Other || application {
                continue;
            }
            if is_lang(i) {
                members.push(i);
            }
            queue.extend(nodes[i].children.iter().copied());
        }
        members.sort_unstable();
        for &i in &members {
            claimed[i] = true;
        }
        let ecosystems = split_by_ecosystem(&members, &packages);
        let single = ecosystems.len() == 1;
        for (ecosystem, members) in ecosystems {
            let kind = parent
                .fact("Type")
                .filter(|_| single)
                .or_else(|| nodes[members[0]].fact("PkgType"))
                .unwrap_or(default_kind(ecosystem))
                .to_string();
            let target = if parent.name.is_empty() { display.to_string() } else { parent.name.clone() };
            groups.push(group(target, ResultClass::LangPkgs, kind, &members, &packages));
        }
    }

    // The rest: one group per ecosystem and recorded type.
    let mut rest: Vec<((Ecosystem, String), Vec<usize>)> = Vec::new();
    for i in (0..nodes.len()).filter(|&i| is_lang(i) && !claimed[i]) {
        let Some(p) = &packages[i] else { continue };
        let key = (p.ecosystem, nodes[i].fact("PkgType").unwrap_or(default_kind(p.ecosystem)).to_string());
        match rest.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => rest.push((key, vec![i])),
        }
    }
    for ((_, kind), members) in rest {
        groups.push(group(display.to_string(), ResultClass::LangPkgs, kind, &members, &packages));
    }

    let mut warnings = Vec::new();
    if !skipped.is_empty() {
        let count: usize = skipped.values().sum();
        let noun = match (format, count) {
            (SbomFormat::CycloneDx, 1) => "component",
            (SbomFormat::CycloneDx, _) => "components",
            (SbomFormat::Spdx, 1) => "package",
            (SbomFormat::Spdx, _) => "packages",
        };
        let reasons: Vec<String> = skipped.iter().map(|(reason, n)| format!("{reason} ({n})")).collect();
        warnings.push(Diagnostic::new(display, format!("{count} {noun} skipped: {}", reasons.join(", "))));
    }
    Sbom { format, os, groups, warnings }
}

fn split_by_ecosystem(members: &[usize], packages: &[Option<Package>]) -> Vec<(Ecosystem, Vec<usize>)> {
    let mut out: Vec<(Ecosystem, Vec<usize>)> = Vec::new();
    for &i in members {
        let Some(p) = &packages[i] else { continue };
        match out.iter_mut().find(|(e, _)| *e == p.ecosystem) {
            Some((_, list)) => list.push(i),
            None => out.push((p.ecosystem, vec![i])),
        }
    }
    out
}

/// A group of the packages at `members`, repeats merged.
fn group(
    target: String,
    class: ResultClass,
    kind: String,
    members: &[usize],
    packages: &[Option<Package>],
) -> SbomGroup {
    let mut collector = Collector::default();
    for p in members.iter().filter_map(|&i| packages[i].clone()) {
        collector.add(p);
    }
    SbomGroup { target, class, kind, packages: collector.finish() }
}

/// The package a node with a supported purl stands for.
fn package(node: &Node, purl: &Purl, ecosystem: Ecosystem) -> Package {
    let from_purl = purl.package_name(ecosystem);
    let declared = match (node.group.as_str(), ecosystem) {
        ("", _) => node.name.clone(),
        (group, Ecosystem::Maven) => format!("{group}:{}", node.name),
        (group, _) => format!("{group}/{}", node.name),
    };
    // The document's spelling when it names the same package (PyPI purls
    // are normalized), else the purl's.
    let name = if !declared.is_empty()
        && ecosystem.normalize_name(&declared) == ecosystem.normalize_name(&from_purl)
    {
        declared
    } else {
        from_purl
    };
    let mut version = purl.version.clone().unwrap_or_else(|| node.version.clone());
    if let Some(epoch) = purl.qualifier("epoch").filter(|e| *e != "0" && !version.contains(':')) {
        version = format!("{epoch}:{version}");
    }
    let mut p = Package::new(ecosystem, name, version);
    p.licenses = node.licenses.clone();
    p.dev = node.fact("Dev") == Some("true");
    p.indirect = node.fact("Indirect") == Some("true");
    p.layer = Layer {
        digest: node.fact("LayerDigest").unwrap_or_default().to_string(),
        diff_id: node
            .fact("LayerDiffID")
            .or_else(|| node.fact("syft:location:0:layerID"))
            .unwrap_or_default()
            .to_string(),
        created_by: String::new(),
    };
    (p.src_name, p.src_version) = source_package(node, purl, &p.version);
    p
}

/// The source package: Trivy's and rampart's facts, else Syft's, else the
/// purl's `upstream` qualifier (`name`, `name@version` or a `.src.rpm`).
fn source_package(node: &Node, purl: &Purl, version: &str) -> (Option<String>, Option<String>) {
    let own = |name: &str| node.fact(name).map(str::to_string);
    if let Some(name) = own("SrcName") {
        let version = own("SrcVersion").map(|v| {
            let v = match own("SrcRelease") {
                Some(release) => format!("{v}-{release}"),
                None => v,
            };
            match own("SrcEpoch").filter(|e| e != "0") {
                Some(epoch) => format!("{epoch}:{v}"),
                None => v,
            }
        });
        return (Some(name), version);
    }
    let rpm = own("syft:metadata:sourceRpm")
        .or_else(|| purl.qualifier("upstream").filter(|u| u.ends_with(".rpm")).map(str::to_string));
    if let Some(rpm) = rpm {
        // name-version-release.src.rpm; the epoch is the binary's.
        let stem = rpm.trim_end_matches(".rpm").trim_end_matches(".src").trim_end_matches(".nosrc");
        let mut parts = stem.rsplitn(3, '-');
        if let (Some(release), Some(v), Some(name)) = (parts.next(), parts.next(), parts.next()) {
            let epoch = version.split_once(':').map(|(e, _)| format!("{e}:")).unwrap_or_default();
            return (Some(name.to_string()), Some(format!("{epoch}{v}-{release}")));
        }
    }
    if let Some(name) = own("syft:metadata:source").or_else(|| own("syft:metadata:originPackage")) {
        return (Some(name), own("syft:metadata:sourceVersion"));
    }
    match purl.qualifier("upstream").map(|u| u.split_once('@').unwrap_or((u, ""))) {
        Some((name, v)) if !name.is_empty() => {
            (Some(name.to_string()), Some(v.to_string()).filter(|v| !v.is_empty()))
        }
        _ => (None, None),
    }
}

/// The ecosystem of a purl; OS packages take the distribution from the
/// namespace, the `distro` qualifier or the document's OS, first that fits.
fn ecosystem(purl: &Purl, os: Option<&Os>) -> Result<Ecosystem, String> {
    Ok(match purl.ty.as_str() {
        "npm" => Ecosystem::Npm,
        "pypi" => Ecosystem::PyPI,
        "cargo" => Ecosystem::CratesIo,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Maven,
        "gem" => Ecosystem::RubyGems,
        "nuget" => Ecosystem::NuGet,
        "composer" => Ecosystem::Packagist,
        "pub" => Ecosystem::Pub,
        "hex" => Ecosystem::Hex,
        "conda" => Ecosystem::Conda,
        "k8s" => Ecosystem::Kubernetes,
        "apk" | "deb" | "rpm" => {
            let candidates = [
                purl.namespace.first().map(String::as_str),
                purl.qualifier("distro").and_then(|d| distro_parts(d).0),
                os.map(|o| o.family.as_str()),
            ];
            let mut candidates = candidates.into_iter().flatten();
            let first = candidates.clone().next();
            return candidates
                .find_map(|d| distro_ecosystem(d).filter(|e| e.purl_type() == purl.ty))
                .ok_or_else(|| {
                    format!("unsupported distribution {}/{}", purl.ty, first.unwrap_or("unknown"))
                });
        }
        other => return Err(format!("unsupported package type {other}")),
    })
}

/// The ecosystem of a distribution as Trivy, Syft or a purl namespace names it.
fn distro_ecosystem(name: &str) -> Option<Ecosystem> {
    Some(match os_family(name).as_str() {
        "alpine" => Ecosystem::Alpine,
        "wolfi" => Ecosystem::Wolfi,
        "chainguard" => Ecosystem::Chainguard,
        "debian" => Ecosystem::Debian,
        "ubuntu" => Ecosystem::Ubuntu,
        "redhat" => Ecosystem::RedHat,
        "rocky" => Ecosystem::Rocky,
        "alma" => Ecosystem::AlmaLinux,
        _ => return None,
    })
}

/// An OS family in Trivy's words (`rhel` → `redhat`, `almalinux` → `alma`).
fn os_family(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "rhel" | "red hat" | "red hat enterprise linux" => "redhat".to_string(),
        "almalinux" | "alma linux" => "alma".to_string(),
        "rocky linux" | "rockylinux" => "rocky".to_string(),
        _ => name,
    }
}

/// A `distro` qualifier split into family and release: `debian-12.7`,
/// `alpine-3.20.3`, or a bare release (`3.20.3`, as Trivy writes for apk).
fn distro_parts(distro: &str) -> (Option<&str>, Option<&str>) {
    if distro.starts_with(|c: char| c.is_ascii_digit()) {
        return (None, Some(distro));
    }
    match distro.split_once('-') {
        Some((family, release)) if release.starts_with(|c: char| c.is_ascii_digit()) => {
            (Some(family), Some(release))
        }
        _ => (Some(distro), None),
    }
}

/// The result type when the SBOM records none: the OS family, or Trivy's
/// type for packages of the ecosystem found installed.
fn default_kind(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Npm => "node-pkg",
        Ecosystem::PyPI => "python-pkg",
        Ecosystem::CratesIo => "rust-binary",
        Ecosystem::Go => "gobinary",
        Ecosystem::Maven => "jar",
        Ecosystem::RubyGems => "gemspec",
        Ecosystem::NuGet => "nuget",
        Ecosystem::Packagist => "composer",
        Ecosystem::Pub => "pub",
        Ecosystem::Hex => "hex",
        Ecosystem::Conda => "conda-pkg",
        Ecosystem::Kubernetes => "kubernetes",
        Ecosystem::Alpine => "alpine",
        Ecosystem::Debian => "debian",
        Ecosystem::Ubuntu => "ubuntu",
        Ecosystem::RedHat => "redhat",
        Ecosystem::Rocky => "rocky",
        Ecosystem::AlmaLinux => "alma",
        Ecosystem::Wolfi => "wolfi",
        Ecosystem::Chainguard => "chainguard",
    }
}

/// What a package URL says in SBOM terms (parsing is [`Purl`]'s).
trait PurlExt {
    fn package_name(&self, ecosystem: Ecosystem) -> String;
    fn os(&self) -> Option<Os>;
}

impl PurlExt for Purl {
    /// The package's name as its ecosystem writes it: Maven `group:artifact`,
    /// others `namespace/name` (npm scopes, Go modules, Composer vendors).
    /// A distribution namespace is not part of the name.
    fn package_name(&self, ecosystem: Ecosystem) -> String {
        if self.namespace.is_empty() || ecosystem.is_os() {
            return self.name.clone();
        }
        let namespace = self.namespace.join("/");
        match ecosystem {
            Ecosystem::Maven => format!("{namespace}:{}", self.name),
            _ => format!("{namespace}/{}", self.name),
        }
    }

    /// The OS an OS package's purl names through its `distro` qualifier.
    fn os(&self) -> Option<Os> {
        if !matches!(self.ty.as_str(), "apk" | "deb" | "rpm") {
            return None;
        }
        let (family, release) = distro_parts(self.qualifier("distro")?);
        let family = family.or(self.namespace.first().map(String::as_str))?;
        Some(Os { family: os_family(family), name: release?.to_string(), eosl: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_decode() {
        // Parsing itself is tested in rampart-types; here, the names it gives.
        let p = Purl::parse("pkg:npm/%40gar%2Fpromisify@1.1.3").unwrap();
        assert_eq!(
            (p.package_name(Ecosystem::Npm), p.version.as_deref()),
            ("@gar/promisify".to_string(), Some("1.1.3"))
        );
        let p = Purl::parse("pkg:npm/@babel/core").unwrap();
        assert_eq!((p.package_name(Ecosystem::Npm), p.version.as_deref()), ("@babel/core".to_string(), None));
        let p = Purl::parse("pkg:maven/org.apache/log4j@2.14.1?type=jar#sub").unwrap();
        assert_eq!(p.package_name(Ecosystem::Maven), "org.apache:log4j");
        let p = Purl::parse("pkg:deb/debian/libc6@2.36").unwrap();
        assert_eq!(p.package_name(Ecosystem::Debian), "libc6");
    }

    #[test]
    fn distributions_come_from_namespace_qualifier_or_os() {
        let eco = |purl: &str, os: Option<&Os>| ecosystem(&Purl::parse(purl).unwrap(), os);
        assert_eq!(eco("pkg:deb/ubuntu/libc6@2.35", None), Ok(Ecosystem::Ubuntu));
        assert_eq!(eco("pkg:rpm/libssl@3?distro=rhel-9.4", None), Ok(Ecosystem::RedHat));
        let alma = Os { family: "alma".into(), name: "9.4".into(), eosl: false };
        assert_eq!(eco("pkg:rpm/openssl@3", Some(&alma)), Ok(Ecosystem::AlmaLinux));
        // A namespace that names no known distribution gives way to the OS.
        assert_eq!(eco("pkg:rpm/almalinux-extras/openssl@3", Some(&alma)), Ok(Ecosystem::AlmaLinux));
        assert_eq!(eco("pkg:rpm/centos/openssl@3", None), Err("unsupported distribution rpm/centos".into()));
        assert_eq!(eco("pkg:apk/debian/x@1", None), Err("unsupported distribution apk/debian".into()));
        assert_eq!(eco("pkg:generic/x@1", None), Err("unsupported package type generic".into()));
        assert_eq!(eco("pkg:conda/numpy@1.26.4", None), Ok(Ecosystem::Conda));
        let os = Purl::parse("pkg:apk/alpine/musl@1.2.5-r0?distro=3.20.3").unwrap().os();
        assert_eq!(os, Some(Os { family: "alpine".into(), name: "3.20.3".into(), eosl: false }));
    }

    #[test]
    fn spdx_expressions_split_at_top_level_and() {
        assert_eq!(split_and("(MIT OR Apache-2.0) AND BSD-3-Clause"), ["MIT OR Apache-2.0", "BSD-3-Clause"]);
        assert_eq!(split_and("(MIT) OR (X)"), ["(MIT) OR (X)"]);
        assert_eq!(split_and("GPL-2.0-only"), ["GPL-2.0-only"]);
        assert_eq!(split_and("A AND (B AND C)"), ["A", "B AND C"]);
    }
}
