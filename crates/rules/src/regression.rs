//! Falco's legacy regression specs (`../shared/data/falco/regression`) as
//! table-driven tests of the language: every spec that loads rule fixtures
//! against the `cat_write` capture or validates rule files.
//!
//! The captures themselves are not read: the `cat_write` capture is `cat`
//! (run from bash) opening and writing `/dev/null`, so its open events are
//! rebuilt here as [`MapEvent`]s.

use std::path::{Path, PathBuf};

use crate::{MapEvent, RuleSet};
use rampart_yaml::{self as yaml, Node, Value};

fn regression_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/falco/regression");
    assert!(dir.is_dir(), "test data {} is missing; see ../shared/data/README.md", dir.display());
    dir
}

fn read_files(dir: &Path, node: &Node) -> Vec<(PathBuf, String)> {
    let names: Vec<String> = match &node.value {
        Value::Seq(items) => items.iter().filter_map(|n| n.as_str().map(str::to_string)).collect(),
        Value::Scalar { text, .. } => vec![text.clone()],
        _ => Vec::new(),
    };
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let mut paths = vec![path.clone()];
        if path.is_dir() {
            paths = std::fs::read_dir(&path).expect("rules dir").map(|e| e.expect("entry").path()).collect();
            paths.sort();
        }
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            files.push((p, text));
        }
    }
    files
}

/// The open events of the `cat_write` capture.
fn cat_write_events() -> Vec<MapEvent> {
    ["/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6", "/dev/null"]
        .iter()
        .map(|file| {
            MapEvent::from_pairs(
                "open",
                &[
                    ("proc.name", "cat"),
                    ("proc.cmdline", "cat /dev/null"),
                    ("proc.pname", "bash"),
                    ("fd.name", file),
                    ("evt.dir", "<"),
                    ("evt.num", "7"),
                ],
            )
            .expect("valid fields")
        })
        .collect()
}

fn specs() -> Vec<(String, std::rc::Rc<Node>)> {
    let dir = regression_dir();
    let mut out = Vec::new();
    for spec in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        let text = std::fs::read_to_string(dir.join(spec)).expect("spec file");
        let docs = yaml::parse(&text).expect("spec parses");
        let Some(Value::Map(top)) = docs.documents.first().map(|d| &d.value) else {
            panic!("{spec}: not a mapping")
        };
        for group in top {
            if let Value::Map(tests) = &group.value.value {
                out.extend(tests.iter().map(|t| (format!("{spec}:{}", t.key), t.value.clone())));
            }
        }
    }
    out
}

/// Keys of specs whose outcome depends only on which rules match.
const DETECT_KEYS: &[&str] =
    &["rules_file", "detect", "detect_level", "trace_file", "detect_counts", "all_events"];

#[test]
fn detection_specs_on_the_cat_write_capture() {
    let dir = regression_dir();
    let events = cat_write_events();
    let mut ran = 0;
    let mut failures = Vec::new();
    for (name, spec) in specs() {
        let Value::Map(keys) = &spec.value else { continue };
        let cat = spec.field("trace_file").and_then(|n| n.as_str()) == Some("trace_files/cat_write.scap");
        if !cat
            || spec.field("rules_file").is_none()
            || !keys.iter().all(|e| DETECT_KEYS.contains(&e.key.as_str()))
        {
            continue;
        }
        let files = read_files(&dir, spec.field("rules_file").expect("rules_file"));
        let set = match RuleSet::load(&files) {
            Ok((set, _)) => set,
            Err(e) => {
                failures.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        ran += 1;
        let matched: Vec<String> =
            events.iter().flat_map(|e| set.evaluate(e)).map(|r| r.name.clone()).collect();
        if let Some(detect) = spec.field("detect").and_then(|n| n.as_bool())
            && detect == matched.is_empty()
        {
            failures.push(format!("{name}: expected detect={detect}, matched {matched:?}"));
        }
        if let Some(Value::Seq(counts)) = spec.field("detect_counts").map(|n| &n.value) {
            for count in counts {
                let Value::Map(entries) = &count.value else { continue };
                for yaml::Entry { key: rule, value: n, .. } in entries {
                    let expected = n.as_str().is_some_and(|n| n != "0");
                    if matched.iter().any(|m| m == rule) != expected {
                        failures.push(format!(
                            "{name}: rule '{rule}' expected to match: {expected}; matched {matched:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(ran >= 40, "only {ran} detection specs ran");
    assert!(failures.is_empty(), "{} of {ran} failed:\n{}", failures.len(), failures.join("\n"));
}

/// Specs where the error lands on another item than Falco's, with the item
/// it lands on: Falco expands a list loop into a leftover name and reports
/// "unknown event type list_a" on the rule; the loop itself is reported here,
/// on the list.
const OTHER_ITEM: &[(&str, &str, &str)] = &[("falco_tests.yaml:invalid_list_loop", "list", "list_a")];

#[test]
fn validation_specs() {
    let dir = regression_dir();
    let mut ran = 0;
    let mut failures = Vec::new();
    for (name, spec) in specs() {
        let Some(files) = spec.field("validate_rules_file") else { continue };
        let files = read_files(&dir, files);
        let exit = spec.field("exit_status").and_then(|n| n.as_str()).unwrap_or("0");
        ran += 1;
        match (RuleSet::load(&files), exit) {
            (Ok(_), "0") => {}
            (Ok(_), _) => failures.push(format!("{name}: loaded, but Falco refuses it")),
            (Err(e), "0") => failures.push(format!("{name}: refused, but Falco loads it: {e}")),
            (Err(e), _) => {
                let Some(Value::Seq(expected)) = spec.field("validate_errors").map(|n| &n.value) else {
                    continue;
                };
                for want in expected {
                    let mut item = want.field("item_name").and_then(|n| n.as_str()).unwrap_or_default();
                    let mut kind = want.field("item_type").and_then(|n| n.as_str()).unwrap_or_default();
                    if let Some((_, k, i)) = OTHER_ITEM.iter().find(|(spec, ..)| *spec == name) {
                        (kind, item) = (k, i);
                    }
                    let named = |err: &crate::LoadError| match &err.location.item {
                        Some((k, n)) => n == item && k.to_string() == kind,
                        None => item.is_empty(),
                    };
                    if !e.0.iter().any(named) {
                        failures.push(format!("{name}: expected an error on {kind} '{item}', got:\n{e}"));
                    }
                }
            }
        }
    }
    assert!(ran >= 30, "only {ran} validation specs ran");
    assert!(failures.is_empty(), "{} of {ran} failed:\n{}", failures.len(), failures.join("\n"));
}
