//! OSV `affected[].ranges` and `versions`, evaluated against an installed version.
//!
//! Follows the evaluation pseudocode of the OSV schema: a range contains a
//! version when it is below one of the range's limits (if any) and the last
//! event at or below it, in version order, is an `introduced`.

use serde::{Deserialize, Serialize};

use crate::{Scheme, Version, VersionError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeType {
    /// Compare with SemVer 2.0 whatever the ecosystem.
    Semver,
    /// Compare with the ecosystem's own scheme.
    Ecosystem,
    /// Commit hashes; not comparable by version, ignored for matching.
    Git,
}

/// One event of a range, serialized as OSV writes it (`{"introduced": "1.0"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeType,
    pub events: Vec<Event>,
}

/// The verdict for one installed version against one affected entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub affected: bool,
    /// Fixed versions above the installed one from the ranges that contain it,
    /// lowest first (empty when no fix exists).
    pub fixed: Vec<String>,
}

/// Evaluates `version` against OSV ranges and the explicit `versions` list.
///
/// `scheme` is the ecosystem's scheme, used for `ECOSYSTEM` ranges; `SEMVER`
/// ranges always use SemVer; `GIT` ranges are skipped.
pub fn evaluate(
    scheme: Scheme,
    version: &str,
    ranges: &[Range],
    versions: &[String],
) -> Result<Verdict, VersionError> {
    evaluate_version(&scheme.parse(version)?, ranges, versions)
}

/// [`evaluate`] for a version already parsed in the ecosystem's scheme, so a
/// package checked against many advisories is parsed once.
///
/// Fails only when a `SEMVER` range is present and the installed version is
/// not SemVer; event versions that do not parse are skipped.
pub fn evaluate_version(
    installed: &Version<'_>,
    ranges: &[Range],
    versions: &[String],
) -> Result<Verdict, VersionError> {
    let scheme = installed.scheme();
    let semver_scheme = semver_dialect(scheme);
    let mut semver_installed = None;
    let mut affected = false;
    let mut fixed: Vec<Version<'_>> = Vec::new();
    for range in ranges {
        let v = match range.kind {
            RangeType::Git => continue,
            RangeType::Ecosystem => installed,
            RangeType::Semver if semver_scheme == scheme => installed,
            RangeType::Semver => match &semver_installed {
                Some(v) => v,
                None => semver_installed.insert(semver_scheme.parse(installed.as_str())?),
            },
        };
        if contains(v, &range.events) {
            affected = true;
            for event in &range.events {
                if let Event::Fixed(s) = event
                    && let Ok(f) = v.scheme().parse(s)
                    && f > *v
                {
                    insert_sorted(&mut fixed, f);
                }
            }
        }
    }
    if !affected {
        affected = versions.iter().any(|listed| {
            listed == installed.as_str() || scheme.parse(listed).is_ok_and(|l| l == *installed)
        });
    }
    Ok(Verdict { affected, fixed: fixed.iter().map(|f| f.as_str().to_owned()).collect() })
}

/// The parser `SEMVER` ranges use: SemVer precedence, but with the spellings
/// the ecosystem itself writes (Go's `v` prefix and toolchain names, npm's loose forms).
fn semver_dialect(scheme: Scheme) -> Scheme {
    match scheme {
        Scheme::Go | Scheme::Npm => scheme,
        _ => Scheme::Semver,
    }
}

/// Where an event sits in version order: `introduced: "0"` precedes everything.
enum Bound<'a> {
    Zero,
    At(Version<'a>),
}

impl Bound<'_> {
    /// Whether this bound sorts at or after `prev`, so it comes later in the sorted walk.
    fn at_or_after(&self, prev: &Bound<'_>) -> bool {
        match (self, prev) {
            (_, Bound::Zero) => true,
            (Bound::Zero, Bound::At(_)) => false,
            (Bound::At(a), Bound::At(b)) => a >= b,
        }
    }
}

/// One range of the OSV evaluation pseudocode.
///
/// Walking the events in version order and flipping the state at each event
/// at or below `v` leaves the state set by the greatest such event (the last
/// one in input order among equals), so no sorting is needed.
fn contains(v: &Version<'_>, events: &[Event]) -> bool {
    let scheme = v.scheme();
    let mut limited = false;
    let mut below_a_limit = false;
    let mut last: Option<(Bound<'_>, bool)> = None;
    for event in events {
        let (s, opens) = match event {
            Event::Limit(s) => {
                if s.contains('*') {
                    limited = true;
                    below_a_limit = true;
                } else if let Ok(limit) = scheme.parse(s) {
                    limited = true;
                    below_a_limit |= *v < limit;
                }
                continue;
            }
            Event::Introduced(s) => (s, true),
            Event::Fixed(s) | Event::LastAffected(s) => (s, false),
        };
        let bound = if opens && s == "0" {
            Bound::Zero
        } else {
            match scheme.parse(s) {
                Ok(b) => Bound::At(b),
                Err(_) => continue,
            }
        };
        let reached = match (&bound, event) {
            (Bound::Zero, _) => true,
            (Bound::At(b), Event::LastAffected(_)) => v > b,
            (Bound::At(b), _) => v >= b,
        };
        if reached && last.as_ref().is_none_or(|(prev, _)| bound.at_or_after(prev)) {
            last = Some((bound, opens));
        }
    }
    (!limited || below_a_limit) && last.is_some_and(|(_, opens)| opens)
}

/// Inserts keeping ascending order and dropping duplicates; never panics on
/// versions that do not compare (fixes from ranges of different types).
fn insert_sorted<'a>(list: &mut Vec<Version<'a>>, new: Version<'a>) {
    if list.contains(&new) {
        return;
    }
    let at = list.iter().position(|f| *f > new).unwrap_or(list.len());
    list.insert(at, new);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(kind: RangeType, events: &[(&str, &str)]) -> Range {
        let events = events
            .iter()
            .map(|(k, v)| {
                let v = (*v).to_owned();
                match *k {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    _ => Event::Limit(v),
                }
            })
            .collect();
        Range { kind, events }
    }

    fn eval(scheme: Scheme, version: &str, ranges: &[Range]) -> Verdict {
        evaluate(scheme, version, ranges, &[]).unwrap()
    }

    #[test]
    fn unsorted_events_and_ties() {
        let r = range(RangeType::Ecosystem, &[("fixed", "2.0"), ("introduced", "1.0"), ("introduced", "0")]);
        assert!(!eval(Scheme::Pep440, "2.0", std::slice::from_ref(&r)).affected);
        assert_eq!(eval(Scheme::Pep440, "0.5", std::slice::from_ref(&r)).fixed, ["2.0"]);
        // PEP 440 says 1.0 == 1.0.0: the later event of equal versions wins.
        let r = range(RangeType::Ecosystem, &[("introduced", "1.0"), ("fixed", "1.0.0")]);
        assert!(!eval(Scheme::Pep440, "1.0", &[r]).affected);
    }

    #[test]
    fn limits() {
        let r = range(RangeType::Semver, &[("introduced", "0"), ("limit", "2.0.0")]);
        assert!(eval(Scheme::Semver, "1.9.9", std::slice::from_ref(&r)).affected);
        assert!(!eval(Scheme::Semver, "2.0.0", &[r]).affected);
        let r = range(RangeType::Semver, &[("introduced", "1.0.0"), ("limit", "*")]);
        assert!(eval(Scheme::Semver, "9.0.0", &[r]).affected);
    }

    #[test]
    fn bad_event_versions_are_skipped() {
        let r = range(
            RangeType::Ecosystem,
            &[("introduced", "0"), ("fixed", "not a version!"), ("fixed", "2.0")],
        );
        assert_eq!(eval(Scheme::Pep440, "1.5", &[r]).fixed, ["2.0"]);
        let err = evaluate(Scheme::Pep440, "garbage", &[], &[]).unwrap_err();
        assert_eq!(err.scheme, "pep440");
        // A SEMVER range cannot judge a version that is not SemVer.
        let r = range(RangeType::Semver, &[("introduced", "0")]);
        assert!(evaluate(Scheme::Pep440, "1.0", &[r], &[]).is_err());
    }

    #[test]
    fn git_ranges_are_ignored_and_versions_list_matches_by_value() {
        let git = range(RangeType::Git, &[("introduced", "0"), ("fixed", "abc123")]);
        let listed = ["1.0.0".to_owned(), "1.1".to_owned()];
        let v = evaluate(Scheme::Pep440, "1.1.0", std::slice::from_ref(&git), &listed).unwrap();
        assert_eq!(v, Verdict { affected: true, fixed: vec![] });
        assert!(!evaluate(Scheme::Pep440, "1.2", &[git], &listed).unwrap().affected);
    }
}
