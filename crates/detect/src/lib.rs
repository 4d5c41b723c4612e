//! Matching packages to advisories: the vulnerability findings of a scan.
//!
//! Detection runs in three passes so that shared work is done once: every
//! distinct (ecosystem, name, version) lookup is evaluated once, every
//! matched advisory is read once, then findings are built per package.

mod finding;
mod group;
mod query;
mod severity;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use rampart_types::{DetectedVulnerability, Diagnostic, Ecosystem, Package};
use rampart_version::{Scheme, osv};
use rampart_vulndb::{Advisory, AffectedPackage, Db, DbError};
use rayon::prelude::*;

use crate::finding::Hit;
use crate::query::Query;

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("looking up advisories for {name} in {ecosystem}")]
    Lookup {
        ecosystem: String,
        name: String,
        #[source]
        source: DbError,
    },
    #[error("reading advisory {id}")]
    Advisory {
        id: String,
        #[source]
        source: DbError,
    },
}

/// The findings of a scan, and what could not be checked.
#[derive(Debug, Default)]
pub struct Detection {
    /// Sorted by package name, then vulnerability id.
    pub vulnerabilities: Vec<DetectedVulnerability>,
    /// Packages whose version the ecosystem's scheme cannot read, ecosystems
    /// without a version scheme, and advisory entries that could not be
    /// evaluated: `path` is the `name@version` that was looked up (for OS
    /// packages, the source package); callers may prefix the target file.
    /// Also one per OS ecosystem when no release was given (`path` is the
    /// ecosystem).
    pub warnings: Vec<Diagnostic>,
}

/// Finds the vulnerabilities of `packages`. `release` is the distribution
/// release for OS packages (`v3.18`, `12`), `None` for language packages.
///
/// One finding per (package, flaw): advisories that alias each other
/// (GHSA, PYSEC, GO, CVE…) are merged. Packages that cannot be evaluated are
/// skipped silently; [`detect_with_warnings`] reports them.
pub fn detect(
    db: &Db,
    packages: &[Package],
    release: Option<&str>,
) -> Result<Vec<DetectedVulnerability>, DetectError> {
    detect_with_warnings(db, packages, release).map(|d| d.vulnerabilities)
}

/// [`detect`], also returning what could not be checked.
pub fn detect_with_warnings(
    db: &Db,
    packages: &[Package],
    release: Option<&str>,
) -> Result<Detection, DetectError> {
    run(db, packages, release)
}

/// Matches packages against one database and remembers what it decoded, so
/// a scan of many lockfiles reads each package's entries and each advisory
/// once, however many files list them.
pub struct Detector<'a> {
    db: &'a Db,
    affected: Mutex<HashMap<(String, String), Vec<AffectedPackage>>>,
    advisories: Mutex<HashMap<String, Option<Advisory>>>,
}

impl<'a> Detector<'a> {
    pub fn new(db: &'a Db) -> Self {
        Detector { db, affected: Mutex::default(), advisories: Mutex::default() }
    }

    /// [`detect_with_warnings`], sharing decoded entries with earlier calls.
    pub fn detect(&self, packages: &[Package], release: Option<&str>) -> Result<Detection, DetectError> {
        run(self, packages, release)
    }
}

impl Store for Detector<'_> {
    fn affected(&self, ecosystem: &str, name: &str) -> Result<Vec<AffectedPackage>, DbError> {
        let key = (ecosystem.to_string(), name.to_string());
        if let Some(hit) = self.affected.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let found = self.db.affected(ecosystem, name)?;
        self.affected.lock().unwrap_or_else(|e| e.into_inner()).insert(key, found.clone());
        Ok(found)
    }

    fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        if let Some(hit) = self.advisories.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(hit.clone());
        }
        let found = self.db.advisory(id)?;
        self.advisories.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), found.clone());
        Ok(found)
    }
}

/// What detection reads from a database; tests supply advisories in memory.
trait Store: Sync {
    fn affected(&self, ecosystem: &str, name: &str) -> Result<Vec<AffectedPackage>, DbError>;
    fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError>;
}

impl Store for Db {
    fn affected(&self, ecosystem: &str, name: &str) -> Result<Vec<AffectedPackage>, DbError> {
        Db::affected(self, ecosystem, name)
    }

    fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        Db::advisory(self, id)
    }
}

/// One affected entry that matched a lookup.
struct Match {
    advisory_id: String,
    fixed: Vec<String>,
    severity: Option<String>,
}

/// The result of one lookup.
#[derive(Default)]
struct Outcome {
    /// `None` when there is nothing to build findings from: no advisory names
    /// the package, or its version could not be read.
    scheme: Option<Scheme>,
    matches: Vec<Match>,
    warnings: Vec<Diagnostic>,
}

fn run<S: Store>(store: &S, packages: &[Package], release: Option<&str>) -> Result<Detection, DetectError> {
    // Distribution advisories are filed per release: without one, OS
    // packages would silently match nothing.
    let mut warnings: Vec<Diagnostic> = Vec::new();
    if release.is_none_or(|r| r.trim().is_empty()) {
        let os: BTreeSet<Ecosystem> = packages.iter().map(|p| p.ecosystem).filter(|e| e.is_os()).collect();
        warnings.extend(os.into_iter().map(|eco| {
            Diagnostic::new(eco.osv_name(), "no distribution release given; its packages were not matched")
        }));
    }

    // Pass 1: evaluate each distinct lookup once.
    let mut queries: Vec<Query> = Vec::new();
    let mut query_index: HashMap<Query, usize> = HashMap::new();
    let package_query: Vec<usize> = packages
        .iter()
        .map(|p| {
            let q = Query::for_package(p, release);
            *query_index.entry(q.clone()).or_insert_with(|| {
                queries.push(q);
                queries.len() - 1
            })
        })
        .collect();
    let outcomes: Vec<Outcome> = queries.par_iter().map(|q| evaluate(store, q)).collect::<Result<_, _>>()?;

    // Pass 2: read each matched advisory once.
    let ids: BTreeSet<&str> =
        outcomes.iter().flat_map(|o| o.matches.iter().map(|m| m.advisory_id.as_str())).collect();
    let advisories: HashMap<&str, Advisory> = ids
        .into_par_iter()
        .map(|id| match store.advisory(id) {
            // An index entry without its record still names the flaw.
            Ok(a) => Ok((id, a.unwrap_or_else(|| placeholder(id)))),
            Err(source) => Err(DetectError::Advisory { id: id.to_string(), source }),
        })
        .collect::<Result<_, _>>()?;

    // Pass 3: findings per package.
    let per_package: Vec<Vec<DetectedVulnerability>> = packages
        .par_iter()
        .zip(package_query.par_iter())
        .map(|(pkg, &qi)| {
            let outcome = &outcomes[qi];
            match outcome.scheme {
                Some(scheme) => finding::build(pkg, scheme, &hits(&outcome.matches, &advisories)),
                None => Vec::new(),
            }
        })
        .collect();
    let mut vulnerabilities: Vec<DetectedVulnerability> = per_package.into_iter().flatten().collect();
    // Stable, so equal keys keep package order.
    vulnerabilities.sort_by(|a, b| {
        (&a.pkg_name, &a.vulnerability_id, &a.installed_version).cmp(&(
            &b.pkg_name,
            &b.vulnerability_id,
            &b.installed_version,
        ))
    });

    warnings.extend(outcomes.into_iter().flat_map(|o| o.warnings));
    Ok(Detection { vulnerabilities, warnings })
}

fn placeholder(id: &str) -> Advisory {
    Advisory {
        id: id.to_string(),
        aliases: Vec::new(),
        summary: String::new(),
        details: String::new(),
        severity: Vec::new(),
        database_severity: None,
        cwe_ids: Vec::new(),
        references: Vec::new(),
        published: None,
        modified: None,
        source: String::new(),
    }
}

/// Folds a lookup's matches into one hit per advisory: an advisory may list
/// the same package in several entries.
fn hits<'a>(matches: &[Match], advisories: &'a HashMap<&str, Advisory>) -> Vec<Hit<'a>> {
    let mut out: Vec<Hit<'a>> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for m in matches {
        let Some(advisory) = advisories.get(m.advisory_id.as_str()) else { continue };
        let i = *slot.entry(m.advisory_id.as_str()).or_insert_with(|| {
            out.push(Hit { advisory, fixed: Vec::new(), package_severity: None });
            out.len() - 1
        });
        let hit = &mut out[i];
        for f in &m.fixed {
            if !hit.fixed.contains(f) {
                hit.fixed.push(f.clone());
            }
        }
        if hit.package_severity.is_none() {
            hit.package_severity.clone_from(&m.severity);
        }
    }
    out
}

fn evaluate<S: Store>(store: &S, q: &Query) -> Result<Outcome, DetectError> {
    let entries = store.affected(&q.key, &q.name).map_err(|source| DetectError::Lookup {
        ecosystem: q.key.clone(),
        name: q.name.clone(),
        source,
    })?;
    if entries.is_empty() {
        return Ok(Outcome::default());
    }
    let subject = format!("{}@{}", q.name, q.version);
    let Some(scheme) = Scheme::for_ecosystem(&q.key) else {
        let msg = format!("no version scheme for ecosystem {}; package not checked", q.key);
        return Ok(Outcome { warnings: vec![Diagnostic::new(subject, msg)], ..Outcome::default() });
    };
    let installed = match scheme.parse(&q.version) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("{e}; package not checked");
            return Ok(Outcome { warnings: vec![Diagnostic::new(subject, msg)], ..Outcome::default() });
        }
    };
    let mut matches = Vec::new();
    let mut warnings = Vec::new();
    let mut warned = HashSet::new();
    for entry in entries {
        match osv::evaluate_version(&installed, &entry.ranges, &entry.versions) {
            Ok(v) if v.affected => matches.push(Match {
                advisory_id: entry.advisory_id,
                fixed: v.fixed,
                severity: entry.severity,
            }),
            Ok(_) => {}
            Err(e) => {
                let msg = format!("advisory {}: {e}; entry skipped", entry.advisory_id);
                if warned.insert(msg.clone()) {
                    warnings.push(Diagnostic::new(subject.clone(), msg));
                }
            }
        }
    }
    Ok(Outcome { scheme: Some(scheme), matches, warnings })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use rampart_types::{Severity, Status};
    use rampart_version::osv::{Event, Range, RangeType};

    use super::*;

    /// Advisories in memory; `broken` names a package whose lookup fails.
    #[derive(Default)]
    struct MemStore {
        affected: Vec<AffectedPackage>,
        advisories: HashMap<String, Advisory>,
        broken: Option<String>,
    }

    impl MemStore {
        fn add(&mut self, adv: Advisory, ecosystem: &str, name: &str, range: Range) {
            self.affected.push(AffectedPackage {
                advisory_id: adv.id.clone(),
                ecosystem: ecosystem.to_string(),
                name: name.to_string(),
                ranges: vec![range],
                versions: Vec::new(),
                severity: None,
            });
            self.advisories.insert(adv.id.clone(), adv);
        }
    }

    impl Store for MemStore {
        fn affected(&self, ecosystem: &str, name: &str) -> Result<Vec<AffectedPackage>, DbError> {
            if self.broken.as_deref() == Some(name) {
                return Err(DbError::Missing(PathBuf::from("/nowhere")));
            }
            let eco = Ecosystem::parse_osv(ecosystem).map(|(e, _)| e).unwrap_or(Ecosystem::Npm);
            let want = eco.normalize_name(name);
            Ok(self
                .affected
                .iter()
                .filter(|a| a.ecosystem == ecosystem && eco.normalize_name(&a.name) == want)
                .cloned()
                .collect())
        }

        fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
            Ok(self.advisories.get(id).cloned())
        }
    }

    fn adv(id: &str, aliases: &[&str]) -> Advisory {
        Advisory { aliases: aliases.iter().map(|s| s.to_string()).collect(), ..placeholder(id) }
    }

    fn range(introduced: &str, fixed: &str) -> Range {
        let events = vec![Event::Introduced(introduced.to_string()), Event::Fixed(fixed.to_string())];
        Range { kind: RangeType::Ecosystem, events }
    }

    fn ids(found: &[DetectedVulnerability]) -> Vec<(&str, &str)> {
        found.iter().map(|f| (f.pkg_name.as_str(), f.vulnerability_id.as_str())).collect()
    }

    #[test]
    fn matches_merges_and_orders_findings() {
        let mut store = MemStore::default();
        let mut ghsa = adv("GHSA-1111", &["CVE-2022-2"]);
        ghsa.database_severity = Some("HIGH".to_string());
        store.add(ghsa, "PyPI", "flask", range("1.0", "1.10.0"));
        store.add(adv("PYSEC-2022-7", &["CVE-2022-2"]), "PyPI", "Flask", range("0", "1.9.5"));
        store.add(adv("PYSEC-2021-1", &[]), "PyPI", "flask", range("0", "1.0"));
        store.add(adv("PYSEC-2020-1", &[]), "PyPI", "aiohttp", range("0", "3.0"));
        let packages = vec![
            Package::new(Ecosystem::PyPI, "Flask", "1.5"),
            Package::new(Ecosystem::PyPI, "aiohttp", "2.0"),
            Package::new(Ecosystem::PyPI, "aiohttp", "3.0"),
            Package::new(Ecosystem::PyPI, "requests", "2.0"),
        ];
        let d = run(&store, &packages, None).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert_eq!(ids(&d.vulnerabilities), vec![("Flask", "CVE-2022-2"), ("aiohttp", "PYSEC-2020-1")]);
        let flask = &d.vulnerabilities[0];
        assert_eq!(flask.vendor_ids, vec!["GHSA-1111", "PYSEC-2022-7"]);
        // Ascending by PEP 440, not by text ("1.10.0" < "1.9.5" as strings).
        assert_eq!(flask.fixed_version, "1.9.5, 1.10.0");
        assert_eq!(flask.status, Status::Fixed);
        assert_eq!(flask.severity, Severity::High);
        assert_eq!(d.vulnerabilities[1].installed_version, "2.0");
    }

    #[test]
    fn conda_packages_match_nothing_quietly() {
        // OSV has no conda ecosystem: a PyPI advisory for the same name
        // says nothing about the conda build of it.
        let mut store = MemStore::default();
        store.add(adv("PYSEC-2023-74", &[]), "PyPI", "requests", range("0", "2.31.0"));
        let packages = [
            Package::new(Ecosystem::Conda, "requests", "2.28.0"),
            Package::new(Ecosystem::Conda, "numpy", "1.26.4"),
        ];
        let d = run(&store, &packages, None).unwrap();
        assert!(d.vulnerabilities.is_empty(), "{:?}", ids(&d.vulnerabilities));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn os_packages_match_through_their_source_package() {
        let mut store = MemStore::default();
        store.add(adv("CVE-2023-0464", &[]), "Debian:11", "openssl", range("0", "1.1.1n-0+deb11u5"));
        let mut libssl = Package::new(Ecosystem::Debian, "libssl1.1", "1.1.1n-0+deb11u4");
        libssl.src_name = Some("openssl".to_string());
        let mut cli = Package::new(Ecosystem::Debian, "openssl", "1.1.1n-0+deb11u4");
        cli.src_name = Some("openssl".to_string());
        let d = run(&store, &[libssl, cli], Some("11")).unwrap();
        assert_eq!(
            ids(&d.vulnerabilities),
            vec![("libssl1.1", "CVE-2023-0464"), ("openssl", "CVE-2023-0464")]
        );
        assert!(d.vulnerabilities.iter().all(|f| f.fixed_version == "1.1.1n-0+deb11u5"));
        assert_eq!(d.vulnerabilities[0].pkg_id, "libssl1.1@1.1.1n-0+deb11u4");

        // Another release's advisories do not apply.
        let other = Package::new(Ecosystem::Debian, "openssl", "1.1.1n-0+deb11u4");
        assert!(run(&store, &[other], Some("12")).unwrap().vulnerabilities.is_empty());
    }

    #[test]
    fn unreadable_versions_are_warnings_not_failures() {
        let mut store = MemStore::default();
        store.add(adv("PYSEC-2020-1", &[]), "PyPI", "aiohttp", range("0", "3.0"));
        // A SEMVER range cannot place a PEP 440 version like `2.0`.
        store.add(
            adv("PYSEC-2020-2", &[]),
            "PyPI",
            "jinja2",
            Range { kind: RangeType::Semver, ..range("0", "3.0.0") },
        );
        store.add(adv("PYSEC-2020-3", &[]), "PyPI", "jinja2", range("0", "3.0"));
        let packages = vec![
            Package::new(Ecosystem::PyPI, "aiohttp", "not a version!"),
            Package::new(Ecosystem::PyPI, "jinja2", "2.0"),
        ];
        let d = run(&store, &packages, None).unwrap();
        assert_eq!(ids(&d.vulnerabilities), vec![("jinja2", "PYSEC-2020-3")]);
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert_eq!(d.warnings[0].path, "aiohttp@not a version!");
        assert!(d.warnings[0].message.ends_with("package not checked"));
        assert!(d.warnings[1].message.starts_with("advisory PYSEC-2020-2"));
    }

    #[test]
    fn os_packages_without_a_release_are_reported() {
        let mut store = MemStore::default();
        store.add(adv("ALPINE-CVE-2019-1", &["CVE-2019-1"]), "Alpine:v3.10", "musl", range("0", "1.1.22-r3"));
        let packages = [
            Package::new(Ecosystem::Alpine, "musl", "1.1.22-r2"),
            Package::new(Ecosystem::Alpine, "busybox", "1.30.1-r2"),
            Package::new(Ecosystem::Npm, "lodash", "4.17.20"),
        ];
        let d = run(&store, &packages, None).unwrap();
        assert!(d.vulnerabilities.is_empty());
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert_eq!(d.warnings[0].path, "Alpine");
        let d = run(&store, &packages, Some("v3.10")).unwrap();
        assert_eq!(ids(&d.vulnerabilities), vec![("musl", "CVE-2019-1")]);
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn an_index_entry_without_its_record_still_reports_the_id() {
        let mut store = MemStore::default();
        store.add(adv("GHSA-2222", &[]), "npm", "lodash", range("0", "4.17.21"));
        store.advisories.clear();
        let d = run(&store, &[Package::new(Ecosystem::Npm, "lodash", "4.17.20")], None).unwrap();
        assert_eq!(ids(&d.vulnerabilities), vec![("lodash", "GHSA-2222")]);
        assert_eq!(d.vulnerabilities[0].fixed_version, "4.17.21");
    }

    #[test]
    fn lookup_failures_name_the_package() {
        let store = MemStore { broken: Some("lodash".to_string()), ..MemStore::default() };
        let err = run(&store, &[Package::new(Ecosystem::Npm, "lodash", "1.0.0")], None).unwrap_err();
        assert_eq!(err.to_string(), "looking up advisories for lodash in npm");
        assert!(matches!(err, DetectError::Lookup { .. }));
    }
}
