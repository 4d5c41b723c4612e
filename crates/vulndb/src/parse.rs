//! Reading advisory documents (OSV records in JSON or YAML, Alpine secdb
//! files in YAML or JSON) into the normalized model.

use std::collections::BTreeMap;
use std::fmt;

use rampart_types::{Diagnostic, Ecosystem};
use rampart_version::osv::{Event, Range, RangeType};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::model::{Advisory, AffectedPackage, Reference, SeverityScore};

/// One advisory and the packages it affects, ready to be stored.
pub(crate) struct Record {
    pub advisory: Advisory,
    pub affected: Vec<AffectedPackage>,
    /// Alpine secdb advisories are assembled from many files (one per
    /// branch and repository), so records with the same id from the same feed
    /// add up instead of replacing each other.
    pub mergeable: bool,
}

/// What one input file yielded.
#[derive(Default)]
pub(crate) struct Parsed {
    pub records: Vec<Record>,
    pub warnings: Vec<Diagnostic>,
    pub withdrawn: u64,
}

/// Parses one JSON document (OSV, or Alpine secdb in JSON). `path` is only
/// used to name it in warnings; `explicit` is true when the user named the
/// file itself, so a file that is no advisory at all deserves a warning
/// rather than silence.
pub(crate) fn parse_json(bytes: &[u8], path: &str, explicit: bool) -> Parsed {
    let mut out = Parsed::default();
    match serde_json::from_slice::<Document>(bytes) {
        Ok(doc) => doc.into_records(path, explicit, &mut out),
        Err(e) => {
            let mut d = Diagnostic::new(path, format!("invalid JSON advisory: {e}"));
            if e.line() > 0 {
                d = d.at_line(u32::try_from(e.line()).unwrap_or(u32::MAX));
            }
            out.warnings.push(d);
        }
    }
    out
}

/// Parses one YAML document (OSV, or Alpine secdb), as [`parse_json`].
pub(crate) fn parse_yaml(bytes: &[u8], path: &str, explicit: bool) -> Parsed {
    let mut out = Parsed::default();
    match serde_saphyr::from_slice::<Document>(bytes) {
        Ok(doc) => doc.into_records(path, explicit, &mut out),
        Err(e) => {
            let mut d =
                Diagnostic::new(path, format!("invalid YAML advisory: {}", first_line(&e.to_string())));
            if let Some(loc) = e.location() {
                d = d.at_line(u32::try_from(loc.line()).unwrap_or(u32::MAX));
            }
            out.warnings.push(d);
        }
    }
    out
}

/// serde-saphyr renders `error: <message>` and a source snippet below it;
/// the message is enough next to the path and line.
fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or(s);
    line.strip_prefix("error: ").unwrap_or(line)
}

/// The canonical ecosystem key (`Alpine:v3.18`, `Kubernetes`) and, when the
/// ecosystem is known, its name rule. Unknown ecosystems keep their own
/// spelling so feeds for ecosystems added later still land in the database.
pub(crate) fn ecosystem_key(raw: &str) -> (String, Option<Ecosystem>) {
    let raw = raw.trim();
    match Ecosystem::parse_osv(raw) {
        Ok((eco, release)) => (eco.osv_key(release.as_deref()), Some(eco)),
        Err(_) => (raw.to_string(), None),
    }
}

/// The index key of a package: `<ecosystem key>\0<normalized name>`.
pub(crate) fn index_key(ecosystem: &str, name: &str) -> String {
    let (key, eco) = ecosystem_key(ecosystem);
    let name = match eco {
        Some(eco) => eco.normalize_name(name),
        None => name.trim().to_string(),
    };
    format!("{key}\0{name}")
}

/// Every top-level field we read from either document kind. One struct for
/// both lets the content decide the kind: OSV records have `id`, secdb files
/// have `distroversion` and `packages`.
#[derive(Deserialize)]
struct Document {
    id: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    upstream: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<RawAffected>,
    #[serde(default, deserialize_with = "nullable")]
    references: Vec<RawReference>,
    #[serde(default)]
    database_specific: Specific,
    distroversion: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    packages: Vec<SecdbEntry>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: Text,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    ecosystem_specific: Specific,
    #[serde(default)]
    database_specific: Specific,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct SecdbEntry {
    pkg: SecdbPkg,
}

#[derive(Deserialize)]
struct SecdbPkg {
    name: String,
    /// Fixed version → the ids fixed by it. A key with an empty list is
    /// written as a bare `key:` in YAML, hence the inner `Option`s.
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
}

/// Treats an explicit `null` like a missing list.
fn nullable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A scalar read as text whatever its type; anything else (null, lists,
/// objects) reads as `None`. For free-form fields whose type differs
/// between databases, where a surprise must not cost the whole record.
#[derive(Default)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        Text::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// Visitor methods that read scalars, null and (optionally) lists or
/// objects as a default value: for free-form fields of the wrong shape.
macro_rules! default_for_other_shapes {
    ($($kind:ident),*) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        $(default_for_other_shapes!(@$kind);)*
    };
    (@seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
    (@map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

/// The members we use of a free-form `database_specific` /
/// `ecosystem_specific` object; other members, and objects of another
/// shape, are skipped without failing the record.
#[derive(Default)]
struct Specific {
    severity: Option<String>,
    cwe_ids: Vec<String>,
}

impl<'de> Deserialize<'de> for Specific {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SpecificVisitor)
    }
}

struct SpecificVisitor;

impl<'de> Visitor<'de> for SpecificVisitor {
    type Value = Specific;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Specific, A::Error> {
        let mut out = Specific::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "severity" => out.severity = map.next_value::<Text>()?.0,
                "cwe_ids" => out.cwe_ids = map.next_value::<TextList>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Specific, D::Error> {
        Specific::deserialize(d)
    }
    default_for_other_shapes!(seq);
}

/// A list of scalars read as text; a value of another shape reads as empty.
#[derive(Default)]
struct TextList(Vec<String>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextListVisitor)
    }
}

struct TextListVisitor;

impl<'de> Visitor<'de> for TextListVisitor {
    type Value = TextList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextList, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(t)) = seq.next_element::<Text>()? {
            out.extend(t);
        }
        Ok(TextList(out))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TextList, D::Error> {
        TextList::deserialize(d)
    }
    default_for_other_shapes!(map);
}

impl Document {
    fn into_records(self, path: &str, explicit: bool, out: &mut Parsed) {
        let is_secdb = self.id.is_none() && (self.distroversion.is_some() || !self.packages.is_empty());
        if is_secdb {
            self.into_secdb(path, out);
            return;
        }
        let Some(id) = self.id.as_deref().map(str::trim).filter(|id| !id.is_empty()).map(str::to_string)
        else {
            let looks_like_osv =
                !self.affected.is_empty() || !self.aliases.is_empty() || self.modified.is_some();
            if looks_like_osv || explicit {
                out.warnings.push(Diagnostic::new(
                    path,
                    "not an advisory: neither an OSV record (no `id`) nor an Alpine secdb file",
                ));
            }
            return;
        };
        if self.withdrawn.as_deref().is_some_and(|w| !w.trim().is_empty()) {
            out.withdrawn += 1;
            return;
        }
        self.into_osv(id, out);
    }

    fn into_osv(self, id: String, out: &mut Parsed) {
        let mut severity: Vec<SeverityScore> = Vec::new();
        let mut add_severity = |s: RawSeverity| {
            if let Some(score) = s.score.0 {
                let score = SeverityScore { kind: s.kind, score };
                if !severity.contains(&score) {
                    severity.push(score);
                }
            }
        };
        self.severity.into_iter().for_each(&mut add_severity);

        let mut affected = Vec::with_capacity(self.affected.len());
        for a in self.affected {
            // Per-package CVSS vectors (newer OSV) describe the same flaw:
            // they count for the advisory when it has none of its own.
            a.severity.into_iter().for_each(&mut add_severity);
            let Some(pkg) = a.package else { continue };
            if pkg.ecosystem.trim().is_empty() || pkg.name.trim().is_empty() {
                continue;
            }
            let ranges = a.ranges.into_iter().filter_map(convert_range).collect();
            affected.push(AffectedPackage {
                advisory_id: id.clone(),
                ecosystem: ecosystem_key(&pkg.ecosystem).0,
                name: pkg.name,
                ranges,
                versions: a.versions,
                severity: a.ecosystem_specific.severity.or(a.database_specific.severity),
            });
        }

        // OSV `upstream` names the flaw a distribution record is about (its
        // CVE); for picking an id to show, it serves like an alias.
        let mut aliases = self.aliases;
        for u in self.upstream {
            if u != id && !aliases.contains(&u) {
                aliases.push(u);
            }
        }
        let references = self
            .references
            .into_iter()
            .filter_map(|r| {
                let url = r.url?;
                Some(Reference { kind: r.kind.unwrap_or_else(|| "WEB".to_string()), url })
            })
            .collect();
        out.records.push(Record {
            advisory: Advisory {
                id,
                aliases,
                summary: self.summary.unwrap_or_default(),
                details: self.details.unwrap_or_default(),
                severity,
                database_severity: self.database_specific.severity,
                cwe_ids: self.database_specific.cwe_ids,
                references,
                published: self.published,
                modified: self.modified,
                source: "osv".to_string(),
            },
            affected,
            mergeable: false,
        });
    }

    /// One advisory per listed id (`ALPINE-CVE-…`, the id osv.dev uses for
    /// the same data), one affected entry per (id, package) in this branch.
    fn into_secdb(self, path: &str, out: &mut Parsed) {
        let Some(release) = self.distroversion.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            out.warnings.push(Diagnostic::new(path, "Alpine secdb file without `distroversion`"));
            return;
        };
        let release = if release.starts_with(|c: char| c.is_ascii_digit()) {
            format!("v{release}")
        } else {
            release.to_string()
        };
        let ecosystem = Ecosystem::Alpine.osv_key(Some(&release));
        let mut by_id: BTreeMap<String, Record> = BTreeMap::new();
        for entry in self.packages {
            let name = entry.pkg.name.trim();
            if name.is_empty() {
                continue;
            }
            for (fixed, ids) in entry.pkg.secfixes.unwrap_or_default() {
                let fixed = fixed.trim();
                // `0` (or `0-r0`) lists flaws that never affected this branch.
                if fixed.is_empty() || fixed == "0" || fixed.starts_with("0-r") {
                    continue;
                }
                for line in ids.unwrap_or_default().into_iter().flatten() {
                    let mut tokens = line.split_whitespace();
                    let Some(vuln) = tokens.next() else { continue };
                    let id = format!("ALPINE-{vuln}");
                    let record = by_id.entry(id.clone()).or_insert_with(|| Record {
                        advisory: Advisory {
                            id: id.clone(),
                            aliases: vec![vuln.to_string()],
                            summary: String::new(),
                            details: String::new(),
                            severity: Vec::new(),
                            database_severity: None,
                            cwe_ids: Vec::new(),
                            references: vec![Reference {
                                kind: "ADVISORY".to_string(),
                                url: format!("https://security.alpinelinux.org/vuln/{vuln}"),
                            }],
                            published: None,
                            modified: None,
                            source: "alpine-secdb".to_string(),
                        },
                        affected: Vec::new(),
                        mergeable: true,
                    });
                    // Extra ids on the line (`CVE-2019-5060 TALOS-2019-0844`)
                    // name the same flaw; parenthesized notes do not.
                    for extra in tokens.filter(|t| !t.starts_with('(')) {
                        if !record.advisory.aliases.iter().any(|a| a == extra) {
                            record.advisory.aliases.push(extra.to_string());
                        }
                    }
                    record.affected.push(AffectedPackage {
                        advisory_id: id,
                        ecosystem: ecosystem.clone(),
                        name: name.to_string(),
                        ranges: vec![fixed_range(fixed)],
                        versions: Vec::new(),
                        severity: None,
                    });
                }
            }
        }
        out.records.extend(by_id.into_values());
    }
}

/// `introduced: 0, fixed: <fixed>` in the ecosystem's own version scheme.
pub(crate) fn fixed_range(fixed: &str) -> Range {
    Range {
        kind: RangeType::Ecosystem,
        events: vec![Event::Introduced("0".to_string()), Event::Fixed(fixed.to_string())],
    }
}

/// Keeps the range types and events we understand; an unknown range type
/// is dropped rather than guessed at.
fn convert_range(r: RawRange) -> Option<Range> {
    let kind = match r.kind.to_ascii_uppercase().as_str() {
        "SEMVER" => RangeType::Semver,
        "ECOSYSTEM" => RangeType::Ecosystem,
        "GIT" => RangeType::Git,
        _ => return None,
    };
    let events = r
        .events
        .into_iter()
        .flat_map(|e| e.into_iter())
        .filter_map(|(k, v)| match k.as_str() {
            "introduced" => Some(Event::Introduced(v)),
            "fixed" => Some(Event::Fixed(v)),
            "last_affected" => Some(Event::LastAffected(v)),
            "limit" => Some(Event::Limit(v)),
            _ => None,
        })
        .collect();
    Some(Range { kind, events })
}
