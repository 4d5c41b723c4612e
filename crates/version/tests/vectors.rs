//! Runs the upstream version-ordering vectors in `shared/data/versions`.
//!
//! The vectors are loaded at run time: several files come from GPL-2.0 test
//! suites (apk-tools, dpkg, rpm) and must not be pasted into this source.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use rampart_version::npm::{self, Options, Range};
use rampart_version::{Scheme, apk_fuzzy_match, is_valid_apk};
use serde_json::Value;

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/versions"));
    assert!(
        dir.is_dir(),
        "the test data at ../shared/data is required (looked for {}); fetch the shared data bundle next to the repository",
        dir.display()
    );
    dir
}

fn read(name: &str) -> String {
    let path = data_dir().join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Data lines of a TSV/TXT vector file (comments and blank lines dropped).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

fn json(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("parsing {name}: {e}"))
}

fn expected(field: &str) -> Ordering {
    match field.trim() {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("bad expectation {other:?}"),
    }
}

/// Compares every pair `a b expected` of a three-column TSV under `scheme`.
fn run_abc(scheme: Scheme, name: &str) -> usize {
    let text = read(name);
    let mut failures = Vec::new();
    let mut count = 0;
    for line in lines(&text) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [a, b, want] = cols[..] else { panic!("{name}: malformed line {line:?}") };
        count += 1;
        let got = scheme.compare(a, b);
        if got != Ok(expected(want)) {
            failures.push(format!("{a} vs {b}: want {want}, got {got:?}"));
        }
        // The reverse comparison must agree.
        let back = scheme.compare(b, a);
        if back != Ok(expected(want).reverse()) {
            failures.push(format!("{b} vs {a}: want reverse of {want}, got {back:?}"));
        }
    }
    assert!(failures.is_empty(), "{name}: {} failures:\n{}", failures.len(), failures.join("\n"));
    count
}

#[test]
fn every_vector_file_is_covered() {
    let dir = data_dir();
    let mut found = BTreeSet::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name == "npm-semver" {
            for entry in fs::read_dir(dir.join(&name)).unwrap() {
                found.insert(format!("npm-semver/{}", entry.unwrap().file_name().into_string().unwrap()));
            }
        } else {
            found.insert(name);
        }
    }
    let known: BTreeSet<String> = [
        "README.md",
        "apk-version-validity.txt",
        "apk-version.tsv",
        "dpkg-compare.tsv",
        "go-semver-tests.tsv",
        "maven-comparableversion.json",
        "pypi-pep440-ordered.txt",
        "rpm-vercmp.tsv",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(NPM_COVERED.iter().chain(NPM_SKIPPED).map(|f| format!("npm-semver/{f}")))
    .collect();
    assert_eq!(found, known, "a vector file appeared or vanished; cover it here");
}

#[test]
fn apk_versions() {
    let text = read("apk-version.tsv");
    let mut count = 0;
    for line in lines(&text) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [a, op, b] = cols[..] else { panic!("malformed line {line:?}") };
        let ord = Scheme::Apk.compare(a, b).unwrap_or_else(|e| panic!("{line}: {e}"));
        let fuzzy = || apk_fuzzy_match(a, b).unwrap_or_else(|e| panic!("{line}: {e}"));
        let ok = match op {
            "<" => ord == Ordering::Less,
            ">" => ord == Ordering::Greater,
            "=" => ord == Ordering::Equal,
            "~" => fuzzy(),
            "!~" => !fuzzy(),
            "<~" => ord == Ordering::Less || fuzzy(),
            ">~" => ord == Ordering::Greater || fuzzy(),
            other => panic!("unknown op {other:?}"),
        };
        assert!(ok, "{a} {op} {b}: compare gave {ord:?}");
        count += 1;
    }
    assert_eq!(count, 754);
}

#[test]
fn apk_validity() {
    let text = read("apk-version-validity.txt");
    let mut count = 0;
    for line in lines(&text) {
        let (version, valid) = match line.strip_prefix('!') {
            Some(v) => (v, false),
            None => (line, true),
        };
        assert_eq!(is_valid_apk(version), valid, "{version:?}");
        count += 1;
    }
    assert_eq!(count, 31);
}

#[test]
fn dpkg_compare() {
    assert_eq!(run_abc(Scheme::Dpkg, "dpkg-compare.tsv"), 43);
}

#[test]
fn rpm_vercmp() {
    assert_eq!(run_abc(Scheme::Rpm, "rpm-vercmp.tsv"), 91);
}

/// Asserts `list` is strictly ascending, pairwise and transitively.
fn assert_ascending(scheme: Scheme, list: &[&str]) {
    let parsed: Vec<_> =
        list.iter().map(|v| scheme.parse(v).unwrap_or_else(|e| panic!("{v}: {e}"))).collect();
    for (i, a) in parsed.iter().enumerate() {
        for (j, b) in parsed.iter().enumerate() {
            assert_eq!(a.partial_cmp(b), Some(i.cmp(&j)), "{} vs {}", list[i], list[j]);
        }
    }
}

#[test]
fn pep440_ordering() {
    let text = read("pypi-pep440-ordered.txt");
    let list: Vec<&str> = lines(&text).collect();
    assert_eq!(list.len(), 92);
    assert_ascending(Scheme::Pep440, &list);
}

#[test]
fn go_semver() {
    let text = read("go-semver-tests.tsv");
    let rows: Vec<(&str, &str)> = lines(&text)
        .map(|l| l.split_once('\t').unwrap_or((l, "")))
        .map(|(input, canonical)| (input, canonical.trim()))
        .collect();
    assert_eq!(rows.len(), 32);
    for (input, canonical) in &rows {
        assert_eq!(Scheme::Go.parse(input).is_ok(), !canonical.is_empty(), "{input:?}");
    }
    let valid: Vec<(usize, &str, &str)> =
        rows.iter().enumerate().filter(|(_, r)| !r.1.is_empty()).map(|(i, r)| (i, r.0, r.1)).collect();
    for &(i, a, ca) in &valid {
        for &(j, b, cb) in &valid {
            let want = if ca == cb { Ordering::Equal } else { i.cmp(&j) };
            assert_eq!(Scheme::Go.compare(a, b), Ok(want), "{a} vs {b}");
            // OSV stores Go versions without the `v`.
            assert_eq!(Scheme::Go.compare(&a[1..], b), Ok(want), "{a} (no v) vs {b}");
        }
    }
}

#[test]
fn maven_comparable_version() {
    let data = json("maven-comparableversion.json");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    let mut count = 0;
    for key in ["VERSIONS_QUALIFIER", "VERSIONS_NUMBER"] {
        let list = strings(&data[key]);
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        assert_ascending(Scheme::Maven, &list);
        count += list.len();
    }
    for pair in data["checkVersionsEqual"].as_array().unwrap() {
        let pair = strings(pair);
        assert_eq!(Scheme::Maven.compare(&pair[0], &pair[1]), Ok(Ordering::Equal), "{pair:?}");
        assert_eq!(Scheme::Maven.compare(&pair[1], &pair[0]), Ok(Ordering::Equal), "{pair:?}");
        count += 1;
    }
    for pair in data["checkVersionsOrder_lt"].as_array().unwrap() {
        let pair = strings(pair);
        assert_eq!(Scheme::Maven.compare(&pair[0], &pair[1]), Ok(Ordering::Less), "{pair:?}");
        assert_eq!(Scheme::Maven.compare(&pair[1], &pair[0]), Ok(Ordering::Greater), "{pair:?}");
        count += 1;
    }
    assert_eq!(count, 22 + 24 + 31 + 24);
}

/// npm-semver fixtures this suite runs.
const NPM_COVERED: &[&str] = &[
    "comparisons.json",
    "equality.json",
    "range-include.json",
    "range-exclude.json",
    "range-parse.json",
    "valid-versions.json",
    "invalid-versions.json",
];

/// npm-semver fixtures for node-semver features rampart does not implement:
/// version increments and truncation, range/comparator intersection, and the
/// `gtr`/`ltr` "outside the range" helpers.
const NPM_SKIPPED: &[&str] = &[
    "increments.json",
    "truncations.json",
    "comparator-intersection.json",
    "range-intersection.json",
    "version-gt-range.json",
    "version-lt-range.json",
    "version-not-gt-range.json",
    "version-not-lt-range.json",
];

/// JavaScript truthiness, for option values like `{"loose": 420}`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// node-semver's option handling: `true` (any non-object truthy value) means loose.
fn options(v: Option<&Value>) -> Options {
    match v {
        Some(Value::Object(o)) => Options {
            loose: o.get("loose").is_some_and(truthy),
            include_prerelease: o.get("includePrerelease").is_some_and(truthy),
        },
        Some(v) if truthy(v) => Options { loose: true, include_prerelease: false },
        _ => Options::default(),
    }
}

fn npm_cases(name: &str) -> Vec<Vec<Value>> {
    let data = json(&format!("npm-semver/{name}"));
    data.as_array().unwrap().iter().map(|case| case.as_array().unwrap().clone()).collect()
}

#[test]
fn npm_comparisons() {
    let cases = npm_cases("comparisons.json");
    for case in &cases {
        let (a, b) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let opts = options(case.get(2));
        assert_eq!(npm::compare(a, b, opts), Ok(Ordering::Greater), "{a} > {b}");
        assert_eq!(npm::compare(b, a, opts), Ok(Ordering::Less), "{b} < {a}");
        // The Npm scheme parses loosely and must agree.
        assert_eq!(Scheme::Npm.compare(a, b), Ok(Ordering::Greater), "{a} > {b}");
    }
    assert_eq!(cases.len(), 31);
}

#[test]
fn npm_equality() {
    let cases = npm_cases("equality.json");
    for case in &cases {
        let (a, b) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let opts = options(case.get(2));
        assert_eq!(npm::compare(a, b, opts), Ok(Ordering::Equal), "{a} == {b}");
        assert_eq!(Scheme::Npm.compare(a, b), Ok(Ordering::Equal), "{a} == {b}");
    }
    assert_eq!(cases.len(), 37);
}

#[test]
fn npm_range_include() {
    let cases = npm_cases("range-include.json");
    for case in &cases {
        let (range, version) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let opts = options(case.get(2));
        assert_eq!(npm::satisfies(version, range, opts), Ok(true), "{version} in {range:?} {opts:?}");
    }
    assert_eq!(cases.len(), 126);
}

#[test]
fn npm_range_exclude() {
    let cases = npm_cases("range-exclude.json");
    let mut non_string = 0;
    for case in &cases {
        let range = case[0].as_str().unwrap();
        let opts = options(case.get(2));
        // node-semver also rejects non-string versions (JavaScript type checks).
        let Some(version) = case[1].as_str() else {
            non_string += 1;
            continue;
        };
        let got = npm::satisfies(version, range, opts);
        assert!(got.is_err() || got == Ok(false), "{version} not in {range:?} {opts:?}: {got:?}");
    }
    assert_eq!((cases.len(), non_string), (98, 1));
}

#[test]
fn npm_range_parse() {
    let cases = npm_cases("range-parse.json");
    for case in &cases {
        let range = case[0].as_str().unwrap();
        let opts = options(case.get(2));
        let got = Range::parse(range, opts).map(|r| r.to_string());
        match case[1].as_str() {
            Some(want) => assert_eq!(got.as_deref(), Ok(want), "{range:?} {opts:?}"),
            None => assert!(got.is_err(), "{range:?} {opts:?} should be invalid, got {got:?}"),
        }
    }
    assert_eq!(cases.len(), 133);
}

#[test]
fn npm_valid_versions() {
    let cases = npm_cases("valid-versions.json");
    for case in &cases {
        let v = case[0].as_str().unwrap();
        let pre: Vec<String> = case[4]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
            .collect();
        let mut want = format!("{}.{}.{}", case[1], case[2], case[3]);
        if !pre.is_empty() {
            want = format!("{want}-{}", pre.join("."));
        }
        let parsed = npm::Version::parse(v, Options::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.to_string(), want, "{v}");
    }
    assert_eq!(cases.len(), 22);
}

#[test]
fn npm_invalid_versions() {
    let cases = npm_cases("invalid-versions.json");
    let mut non_string = 0;
    for case in &cases {
        // Objects stand for JavaScript values that are not strings.
        let Some(v) = case[0].as_str() else {
            non_string += 1;
            continue;
        };
        let opts = options(case.get(2));
        assert!(npm::Version::parse(v, opts).is_err(), "{v:?} ({})", case[1]);
    }
    assert_eq!((cases.len(), non_string), (10, 3));
}
