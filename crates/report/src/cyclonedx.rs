//! CycloneDX 1.6 JSON, laid out as Trivy lays it out: the artifact is
//! `metadata.component`; every package is a top-level `library` component
//! (OS packages too) whose `bom-ref` is its purl; an `operating-system`
//! component and one `application` component per lockfile hold them through
//! `dependencies`; findings are `vulnerabilities` that point at the packages.
//!
//! Property names: facts Trivy also records keep Trivy's names
//! (`aquasecurity:trivy:PkgType`, `…:SrcName`, `…:LayerDiffID`, `…:Class`,
//! `…:Type`, …) with the same meaning, because `trivy sbom` and tools built
//! for Trivy's SBOMs read them back to rebuild OS and lockfile results; the
//! tool entry in `metadata.tools` still says who wrote the file. Facts only
//! rampart records (dev and indirect packages) use the `rampart:` prefix.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use rampart_types::{
    ArtifactType, DetectedVulnerability, Report, ReportPackage, ResultClass, ScanResult, Severity,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::spdx::{license_expression, license_id};
use crate::{
    ReportError, SbomStamp, WriteOptions, class_name, image_facts, image_purl, package_facts, sbom_os,
    sbom_packages, sbom_purl, unique, utc_seconds,
};

const TRIVY_PREFIX: &str = "aquasecurity:trivy:";
const RAMPART_PREFIX: &str = "rampart:";

pub(crate) fn write(report: &Report, options: &WriteOptions, out: &mut dyn Write) -> Result<(), ReportError> {
    let stamp = SbomStamp::new(report, "cyclonedx")?;
    let mut refs = HashSet::new();

    let image = image_purl(report);
    let artifact = Component {
        bom_ref: unique(&mut refs, image.clone().unwrap_or_else(|| "rampart:artifact".to_string()), "|"),
        kind: if report.artifact_type == ArtifactType::ContainerImage { "container" } else { "application" },
        group: None,
        name: report.artifact_name.clone(),
        version: String::new(),
        licenses: Vec::new(),
        purl: image,
        external_references: report
            .metadata
            .repo_url
            .iter()
            .map(|url| ExternalReference { kind: "vcs", url: url.clone() })
            .collect(),
        properties: properties(image_facts(report)),
    };
    let mut artifact_deps = Dependency { bom_ref: artifact.bom_ref.clone(), depends_on: Vec::new() };

    let mut components = Vec::new();
    // One OS component for the detected OS and every OS-package result.
    let mut os = sbom_os(report).map(|(name, version)| {
        let c = os_component(name, version, &mut refs);
        let deps = Dependency { bom_ref: c.bom_ref.clone(), depends_on: Vec::new() };
        components.push(c);
        deps
    });
    let mut apps = Vec::new();
    let mut findings = Findings::default();
    for result in &report.results {
        let mut app = None;
        let parent = match result.class {
            ResultClass::OsPkgs => match os.as_mut() {
                Some(os) => os,
                None => continue,
            },
            ResultClass::LangPkgs => {
                let c = Component {
                    bom_ref: unique(&mut refs, format!("rampart:target:{}", result.target), "|"),
                    kind: "application",
                    group: None,
                    name: result.target.clone(),
                    version: String::new(),
                    licenses: Vec::new(),
                    purl: None,
                    external_references: Vec::new(),
                    properties: properties(vec![
                        ("Class", class_name(result.class).to_string()),
                        ("Type", result.kind.clone()),
                    ]),
                };
                let deps = app.insert(Dependency { bom_ref: c.bom_ref.clone(), depends_on: Vec::new() });
                components.push(c);
                deps
            }
            ResultClass::Secret | ResultClass::Config => continue,
        };
        // A finding names its package by the report's purl and id.
        let mut by_purl: HashMap<String, String> = HashMap::new();
        let mut by_id: HashMap<String, String> = HashMap::new();
        for pkg in sbom_packages(result) {
            let purl = sbom_purl(report, result, &pkg.identifier.purl);
            let base = if purl.is_empty() { pkg.id.clone() } else { purl.clone() };
            let bom_ref = unique(&mut refs, base, "|");
            parent.depends_on.push(bom_ref.clone());
            by_purl.entry(pkg.identifier.purl.clone()).or_insert_with(|| bom_ref.clone());
            by_id.entry(pkg.id.clone()).or_insert_with(|| bom_ref.clone());
            components.push(package_component(result, &pkg, purl, bom_ref));
        }
        for v in &result.vulnerabilities {
            let bom_ref = by_purl.get(&v.pkg_identifier.purl).or_else(|| by_id.get(&v.pkg_id));
            if let Some(bom_ref) = bom_ref {
                findings.add(v, bom_ref);
            }
        }
        apps.extend(app);
    }
    artifact_deps.depends_on.extend(os.iter().chain(&apps).map(|d| d.bom_ref.clone()));
    let mut dependencies = vec![artifact_deps];
    dependencies.extend(os);
    dependencies.extend(apps);

    let bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", stamp.uuid),
        version: 1,
        metadata: Metadata {
            timestamp: stamp.time,
            tools: Tools {
                components: vec![Tool {
                    kind: "application",
                    name: "rampart",
                    version: &options.tool_version,
                }],
            },
            component: artifact,
        },
        components,
        dependencies,
        vulnerabilities: findings.into_vulnerabilities(),
    };
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The `operating-system` component.
fn os_component(name: String, version: String, refs: &mut HashSet<String>) -> Component {
    Component {
        bom_ref: unique(refs, format!("rampart:os:{name}"), "|"),
        kind: "operating-system",
        group: None,
        properties: properties(vec![
            ("Class", class_name(ResultClass::OsPkgs).to_string()),
            ("Type", name.clone()),
        ]),
        name,
        version,
        licenses: Vec::new(),
        purl: None,
        external_references: Vec::new(),
    }
}

fn package_component(result: &ScanResult, pkg: &ReportPackage, purl: String, bom_ref: String) -> Component {
    // CycloneDX keeps a Maven groupId or an npm scope in `group`.
    let split = if purl.starts_with("pkg:maven/") {
        pkg.name.split_once(':')
    } else if purl.starts_with("pkg:npm/") && pkg.name.starts_with('@') {
        pkg.name.split_once('/')
    } else {
        None
    };
    let (group, name) = match split {
        Some((g, n)) if !g.is_empty() && !n.is_empty() => (Some(g.to_string()), n.to_string()),
        _ => (None, pkg.name.clone()),
    };
    Component {
        bom_ref,
        kind: "library",
        group,
        name,
        version: pkg.version.clone(),
        licenses: licenses(&pkg.licenses),
        purl: Some(purl).filter(|p| !p.is_empty()),
        external_references: Vec::new(),
        properties: properties(package_facts(result, pkg)),
    }
}

/// SPDX identifiers as `id`, any other text as `name`; a lone compound SPDX
/// expression as `expression` (the schema allows one only on its own).
fn licenses(licenses: &[String]) -> Vec<License> {
    let mut list: Vec<&str> = Vec::new();
    for l in licenses.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if !list.contains(&l) {
            list.push(l);
        }
    }
    if let [only] = list[..]
        && license_id(only).is_none()
        && let Some(expression) = license_expression(only)
    {
        return vec![License::Expression { expression }];
    }
    list.into_iter()
        .map(|l| License::License {
            license: match license_id(l) {
                Some(id) => LicenseName::Id(id),
                None => LicenseName::Name(l.to_string()),
            },
        })
        .collect()
}

/// Named facts as properties, sorted by name.
fn properties(facts: Vec<(&'static str, String)>) -> Vec<Property> {
    let mut props: Vec<Property> = facts
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| {
            let prefix = if matches!(name, "Dev" | "Indirect") { RAMPART_PREFIX } else { TRIVY_PREFIX };
            Property { name: format!("{prefix}{name}"), value }
        })
        .collect();
    props.sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
    props
}

/// Findings merged by id in first-seen order: one vulnerability per flaw,
/// affecting every package it was found in.
#[derive(Default)]
struct Findings<'a> {
    order: Vec<Finding<'a>>,
    index: HashMap<&'a str, usize>,
}

struct Finding<'a> {
    vuln: &'a DetectedVulnerability,
    affects: Vec<Affect>,
    upgrades: Vec<String>,
}

impl<'a> Findings<'a> {
    fn add(&mut self, vuln: &'a DetectedVulnerability, bom_ref: &str) {
        let i = *self.index.entry(&vuln.vulnerability_id).or_insert_with(|| {
            self.order.push(Finding { vuln, affects: Vec::new(), upgrades: Vec::new() });
            self.order.len() - 1
        });
        let finding = &mut self.order[i];
        if finding.affects.iter().any(|a| a.bom_ref == bom_ref) {
            return;
        }
        finding.affects.push(Affect {
            bom_ref: bom_ref.to_string(),
            versions: Some(&vuln.installed_version)
                .filter(|v| !v.is_empty())
                .map(|v| AffectedVersion { version: v.clone(), status: "affected" })
                .into_iter()
                .collect(),
        });
        let upgrade = format!("Upgrade {} to {}", vuln.pkg_name, vuln.fixed_version);
        if !vuln.fixed_version.is_empty() && !finding.upgrades.contains(&upgrade) {
            finding.upgrades.push(upgrade);
        }
    }

    fn into_vulnerabilities(self) -> Vec<Vulnerability> {
        self.order.into_iter().map(vulnerability).collect()
    }
}

fn vulnerability(f: Finding<'_>) -> Vulnerability {
    let v = f.vuln;
    let mut advisories: Vec<Advisory> = Vec::new();
    for url in std::iter::once(&v.primary_url).chain(&v.references) {
        let url = url.trim();
        if !url.is_empty() && !url.contains(char::is_whitespace) && !advisories.iter().any(|a| a.url == url) {
            advisories.push(Advisory { url: url.to_string() });
        }
    }
    let mut cwes: Vec<u32> = Vec::new();
    for n in v.cwe_ids.iter().filter_map(|c| c.trim().strip_prefix("CWE-")?.parse().ok()) {
        if !cwes.contains(&n) {
            cwes.push(n);
        }
    }
    Vulnerability {
        id: v.vulnerability_id.clone(),
        source: v.data_source.as_ref().map(|d| Source { name: Some(d.id.clone()), url: Some(d.url.clone()) }),
        // The other ids of the flaw; they all come from OSV records.
        references: v
            .vendor_ids
            .iter()
            .filter(|id| **id != v.vulnerability_id)
            .map(|id| VulnReference {
                id: id.clone(),
                source: Source { name: None, url: Some(format!("https://osv.dev/vulnerability/{id}")) },
            })
            .collect(),
        ratings: ratings(v),
        cwes,
        description: if v.description.is_empty() { v.title.clone() } else { v.description.clone() },
        recommendation: f.upgrades.join("; "),
        advisories,
        published: v.published_date.as_deref().and_then(date_time),
        updated: v.last_modified_date.as_deref().and_then(date_time),
        affects: f.affects,
    }
}

/// One rating per CVSS score a source gave, then the overall severity when
/// no score carries it (its source gave no score, or it has no source).
fn ratings(v: &DetectedVulnerability) -> Vec<Rating> {
    let severity_source = v.severity_source.as_deref();
    let severity_of = |source: &str, score: f64| {
        if Some(source) == severity_source { v.severity } else { Severity::from_cvss_score(score) }
    };
    let mut out = Vec::new();
    for (source, cvss) in &v.cvss {
        if let Some(score) = cvss.v40_score {
            out.push(Rating {
                source: Some(Source { name: Some(source.clone()), url: None }),
                score: Some(score),
                severity: severity_name(severity_of(source, score)),
                method: Some("CVSSv4"),
                vector: cvss.v40_vector.clone(),
            });
        }
        if let Some(score) = cvss.v3_score {
            // A score without a vector is taken as v3.1, today's v3.
            let v30 = cvss.v3_vector.as_deref().is_some_and(|s| s.starts_with("CVSS:3.0/"));
            out.push(Rating {
                source: Some(Source { name: Some(source.clone()), url: None }),
                score: Some(score),
                severity: severity_name(severity_of(source, score)),
                method: Some(if v30 { "CVSSv3" } else { "CVSSv31" }),
                vector: cvss.v3_vector.clone(),
            });
        }
    }
    let carried = severity_source
        .is_some_and(|s| out.iter().any(|r| r.source.as_ref().and_then(|x| x.name.as_deref()) == Some(s)));
    if !carried {
        out.push(Rating {
            source: severity_source.map(|s| Source { name: Some(s.to_string()), url: None }),
            score: None,
            severity: severity_name(v.severity),
            method: None,
            vector: None,
        });
    }
    out
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Unknown => "unknown",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// An RFC 3339 time in UTC to the second, or `None` for other text.
fn date_time(s: &str) -> Option<String> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok().map(utc_seconds)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: String,
    tools: Tools<'a>,
    component: Component,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: Vec<Tool<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<License>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum License {
    License { license: LicenseName },
    Expression { expression: String },
}

#[derive(Serialize)]
enum LicenseName {
    #[serde(rename = "id")]
    Id(&'static str),
    #[serde(rename = "name")]
    Name(String),
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    bom_ref: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnReference>,
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cwes: Vec<u32>,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    recommendation: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<Advisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    affects: Vec<Affect>,
}

#[derive(Serialize)]
struct Source {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct VulnReference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Advisory {
    url: String,
}

#[derive(Serialize)]
struct Affect {
    #[serde(rename = "ref")]
    bom_ref: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}
