//! User configuration checks in Rego, as Trivy runs custom checks: modules
//! with `# METADATA` annotations (or `__rego_metadata__` / `__rego_input__`
//! rules) whose `deny`, `warn` and `violation` rules (and `deny_*`, `warn_*`,
//! `violation_*`) return messages for one input document.

use std::collections::BTreeMap;
use std::path::PathBuf;

use regorus::{CompiledPolicy, Engine, Rc, Value};
use serde_json::Value as Json;

use crate::Error;

/// The kinds of input a check can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputType {
    Dockerfile,
    Kubernetes,
    Terraform,
}

impl InputType {
    fn parse(s: &str) -> Option<InputType> {
        match s.to_ascii_lowercase().as_str() {
            "dockerfile" => Some(InputType::Dockerfile),
            "kubernetes" | "k8s" | "yaml" | "json" => Some(InputType::Kubernetes),
            "terraform" | "cloud" | "terraform-raw" => Some(InputType::Terraform),
            _ => None,
        }
    }
}

/// What a check says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    /// As written (`HIGH`, `critical`…); `UNKNOWN` when absent.
    pub severity: String,
    pub recommended_actions: String,
    pub references: Vec<String>,
}

/// One result of a check on one input document.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckFinding {
    pub meta: CheckMeta,
    pub message: String,
    /// 0 when the check gave no lines.
    pub start_line: u32,
    pub end_line: u32,
}

struct Check {
    meta: CheckMeta,
    /// Input types selected; empty means every type.
    types: Vec<InputType>,
    /// One compiled policy per result rule (`deny`, `warn_x`…).
    rules: Vec<(String, CompiledPolicy)>,
}

/// Checks loaded from `.rego` files. `Send + Sync`.
pub struct CheckSet {
    checks: Vec<Check>,
}

/// Rules whose results are findings.
fn is_result_rule(name: &str) -> bool {
    ["deny", "warn", "violation"]
        .iter()
        .any(|p| name == *p || name.strip_prefix(p).is_some_and(|r| r.starts_with('_')))
}

/// Files and total size a check directory may hold.
const MAX_FILES: usize = 10_000;

impl CheckSet {
    /// Load every `*.rego` file (tests `*_test.rego` excluded) under each path.
    /// A module that does not parse is an error naming the file and line.
    pub fn load(paths: &[PathBuf]) -> Result<CheckSet, Error> {
        let mut files = Vec::new();
        for p in paths {
            crate::collect_files(p, is_module, &mut files, 0)?;
        }
        if files.len() > MAX_FILES {
            return Err(Error::Invalid {
                source_name: paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
                message: format!("more than {MAX_FILES} Rego files"),
            });
        }
        let mut modules = Vec::new();
        for f in &files {
            modules.push((f.display().to_string(), crate::yaml::read_text(f)?));
        }
        Self::from_modules(&modules)
    }

    /// Checks from (name, Rego source) pairs; every module is visible to every
    /// check, so helper packages can be shared.
    pub fn from_modules(modules: &[(String, String)]) -> Result<CheckSet, Error> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        engine
            .add_extension("result.new".into(), 2, Box::new(result_new))
            .map_err(|e| Error::Invalid { source_name: "result.new".into(), message: format!("{e:#}") })?;
        let mut packages = Vec::new();
        for (name, text) in modules {
            let mut text = crate::compat::sprintf_arity(text);
            if !crate::template::declares_v1(&text) {
                text = crate::compat::rewrite_v0(&text);
            }
            let package = engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| Error::Check { source_name: name.clone(), message: format!("{e:#}") })?;
            packages.push((name.clone(), text, package));
        }
        let mut checks = Vec::new();
        for (name, text, package) in &packages {
            let annotation = metadata_annotation(text, name)?;
            let rego_meta = eval_static(&mut engine, &format!("{package}.__rego_metadata__"));
            let rego_input = eval_static(&mut engine, &format!("{package}.__rego_input__"));
            let Some(meta) = check_meta(annotation.as_ref(), rego_meta.as_ref()) else { continue };
            let selectors = annotation
                .as_ref()
                .and_then(|a| a.pointer("/custom/input/selector"))
                .or_else(|| rego_input.as_ref().and_then(|i| i.get("selector")));
            let types = selectors
                .and_then(Json::as_array)
                .map(|s| {
                    s.iter().filter_map(|s| s.get("type")?.as_str()).filter_map(InputType::parse).collect()
                })
                .unwrap_or_default();
            let mut rules = Vec::new();
            for rule in rule_names(text) {
                let entry: Rc<str> = format!("{package}.{rule}").into();
                let policy = engine.compile_with_entrypoint(&entry).map_err(|e| Error::Check {
                    source_name: name.clone(),
                    message: format!("check {}: {e:#}", meta.id),
                })?;
                rules.push((rule, policy));
            }
            checks.push(Check { meta, types, rules });
        }
        checks.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(CheckSet { checks })
    }

    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether some check selects this input type.
    pub fn wants(&self, ty: InputType) -> bool {
        self.checks.iter().any(|c| c.types.is_empty() || c.types.contains(&ty))
    }

    /// Run every check that selects `ty` on one input document. Returns the
    /// findings and the number of checks that ran without one.
    pub fn evaluate(&self, ty: InputType, input: &Json) -> Result<(Vec<CheckFinding>, u32), Error> {
        let value = crate::to_rego(input);
        let mut findings = Vec::new();
        let mut passed = 0;
        for check in self.checks.iter().filter(|c| c.types.is_empty() || c.types.contains(&ty)) {
            let before = findings.len();
            for (rule, policy) in &check.rules {
                let result = policy.eval_with_input(value.clone()).map_err(|e| Error::Eval {
                    template: check.meta.id.clone(),
                    constraint: rule.clone(),
                    message: format!("{e:#}"),
                })?;
                for (message, start_line, end_line) in results_of(&result) {
                    findings.push(CheckFinding { meta: check.meta.clone(), message, start_line, end_line });
                }
            }
            if findings.len() == before {
                passed += 1;
            }
        }
        Ok((findings, passed))
    }
}

/// Rego modules, without their tests.
fn is_module(name: &str) -> bool {
    name.ends_with(".rego") && !name.ends_with("_test.rego")
}

/// The value of a rule that depends on no input (`__rego_metadata__`), if defined.
fn eval_static(engine: &mut Engine, path: &str) -> Option<Json> {
    let v = engine.eval_rule(path.to_string()).ok()?;
    if v == Value::Undefined { None } else { serde_json::to_value(&v).ok() }
}

/// The YAML of the first `# METADATA` comment block, with its line for errors.
fn metadata_annotation(text: &str, source: &str) -> Result<Option<Json>, Error> {
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if line.trim() != "# METADATA" {
            continue;
        }
        let mut yaml = String::new();
        for (_, l) in lines.by_ref() {
            let Some(rest) = l.trim_start().strip_prefix('#') else { break };
            yaml.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            yaml.push('\n');
        }
        let doc: Json = serde_saphyr::from_str(&yaml).map_err(|e| Error::Yaml {
            source_name: format!("{source}:{} (METADATA)", i + 1),
            message: e.to_string(),
        })?;
        return Ok(Some(doc));
    }
    Ok(None)
}

fn text_of(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

/// A module is a check when its metadata names an id.
fn check_meta(annotation: Option<&Json>, rego_meta: Option<&Json>) -> Option<CheckMeta> {
    if let Some(a) = annotation
        && let Some(id) =
            a.pointer("/custom/id").or_else(|| a.pointer("/custom/avd_id")).and_then(Json::as_str)
    {
        let references = a
            .get("related_resources")
            .and_then(Json::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().or_else(|| x.get("ref")?.as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        return Some(CheckMeta {
            id: id.to_string(),
            title: text_of(a.get("title")),
            description: text_of(a.get("description")),
            severity: a.pointer("/custom/severity").and_then(Json::as_str).unwrap_or("UNKNOWN").to_string(),
            recommended_actions: text_of(
                a.pointer("/custom/recommended_action").or_else(|| a.pointer("/custom/recommended_actions")),
            ),
            references,
        });
    }
    let m = rego_meta?;
    let id = m.get("id").or_else(|| m.get("avd_id")).and_then(Json::as_str)?;
    Some(CheckMeta {
        id: id.to_string(),
        title: text_of(m.get("title")),
        description: text_of(m.get("description")),
        severity: m.get("severity").and_then(Json::as_str).unwrap_or("UNKNOWN").to_string(),
        recommended_actions: text_of(m.get("recommended_actions").or_else(|| m.get("recommended_action"))),
        references: m.get("url").and_then(Json::as_str).map(|u| vec![u.to_string()]).unwrap_or_default(),
    })
}

/// Names of result rules defined at the top level of a module.
fn rule_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .filter_map(|l| {
            let end = l.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(l.len());
            let name = &l[..end];
            is_result_rule(name).then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `result.new(msg, cause)`: Trivy's builtin, returning the message with the
/// cause's lines (`StartLine`/`EndLine`, `startline`/`endline`, or
/// `__defsec_metadata`).
fn result_new(args: Vec<Value>) -> anyhow::Result<Value> {
    let msg = args.first().cloned().unwrap_or(Value::Undefined);
    let cause = args.get(1).cloned().unwrap_or(Value::Undefined);
    let meta = match &cause["__defsec_metadata"] {
        Value::Undefined => cause.clone(),
        m => m.clone(),
    };
    let line = |a: &str, b: &str| match (&meta[a], &meta[b]) {
        (Value::Undefined, v) | (v, _) => v.clone(),
    };
    let mut out: BTreeMap<Value, Value> = BTreeMap::new();
    out.insert(Value::from("msg"), msg);
    for (key, (a, b)) in [("startline", ("startline", "StartLine")), ("endline", ("endline", "EndLine"))] {
        let v = line(a, b);
        if v != Value::Undefined {
            out.insert(Value::from(key), v);
        }
    }
    Ok(Value::from(out))
}

/// (message, start, end) for each result in a rule's value.
fn results_of(v: &Value) -> Vec<(String, u32, u32)> {
    let items: Vec<&Value> = match v {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        Value::String(_) | Value::Object(_) => vec![v],
        Value::Bool(true) => return vec![(String::new(), 0, 0)],
        _ => return Vec::new(),
    };
    let num = |v: &Value| v.as_u64().ok().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(s) => Some((s.to_string(), 0, 0)),
            Value::Object(_) => {
                let msg = match &item["msg"] {
                    Value::String(s) => s.to_string(),
                    Value::Undefined => return None,
                    other => other.to_json_str().unwrap_or_default(),
                };
                let start = num(&item["startline"]).max(num(&item["StartLine"]));
                let end = num(&item["endline"]).max(num(&item["EndLine"])).max(start);
                Some((msg, start, end))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checks(src: &str) -> CheckSet {
        CheckSet::from_modules(&[("c.rego".to_string(), src.to_string())]).unwrap()
    }

    #[test]
    fn result_shapes() {
        let set = checks(
            r#"# METADATA
# title: T
# custom:
#   id: X1
#   severity: low
package user.x

deny[m] { m := "plain" }
deny_obj[{"msg": "with lines", "startline": 3, "endline": 4}] { true }
warn[r] { r := result.new("from cause", {"StartLine": 7, "EndLine": 9}) }
violation[r] { r := result.new("from metadata", {"__defsec_metadata": {"startline": 2, "endline": 2}}) }
helper_deny { true }
"#,
        );
        assert_eq!(set.len(), 1);
        let (findings, passed) = set.evaluate(InputType::Terraform, &json!({})).unwrap();
        assert_eq!(passed, 0);
        let mut got: Vec<(String, u32, u32)> =
            findings.iter().map(|f| (f.message.clone(), f.start_line, f.end_line)).collect();
        got.sort();
        let want = [("from cause", 7, 9), ("from metadata", 2, 2), ("plain", 0, 0), ("with lines", 3, 4)];
        assert_eq!(got, want.map(|(m, s, e)| (m.to_string(), s, e)));
        assert_eq!((findings[0].meta.id.as_str(), findings[0].meta.severity.as_str()), ("X1", "low"));
    }

    #[test]
    fn selectors_and_modules_without_ids() {
        let set = CheckSet::from_modules(&[
            ("lib.rego".into(), "package lib.util\nis_root(u) { u == \"root\" }\n".into()),
            (
                "c.rego".into(),
                "package user.c\nimport data.lib.util\n__rego_metadata__ := {\"id\": \"C1\"}\n__rego_input__ := {\"selector\": [{\"type\": \"kubernetes\"}]}\ndeny[\"root\"] { util.is_root(input.user) }\n".into(),
            ),
        ])
        .unwrap();
        assert_eq!(set.len(), 1, "the helper module is not a check");
        assert!(set.wants(InputType::Kubernetes) && !set.wants(InputType::Dockerfile));
        let (f, _) = set.evaluate(InputType::Kubernetes, &json!({"user": "root"})).unwrap();
        assert_eq!(f.len(), 1);
        let (f, passed) = set.evaluate(InputType::Kubernetes, &json!({"user": "app"})).unwrap();
        assert_eq!((f.len(), passed), (0, 1));
        let (f, passed) = set.evaluate(InputType::Dockerfile, &json!({"user": "root"})).unwrap();
        assert_eq!((f.len(), passed), (0, 0));
    }
}
