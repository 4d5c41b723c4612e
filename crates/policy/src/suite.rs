//! Gatekeeper `Suite` files (`test.gatekeeper.sh/v1alpha1`), run as `gator verify` runs them:
//! each test loads one template and one constraint; each case reviews one
//! object (or AdmissionReview) with its own inventory and checks the assertions.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::yaml::{self, str_at};
use crate::{Error, Gatekeeper, Violation};

/// The outcome of one suite file.
#[derive(Clone, Debug, Default)]
pub struct SuiteReport {
    pub path: PathBuf,
    pub tests: Vec<TestReport>,
}

#[derive(Clone, Debug, Default)]
pub struct TestReport {
    pub name: String,
    /// A failure of the test as a whole (template or constraint that does not load).
    pub error: Option<String>,
    pub skipped: bool,
    pub cases: Vec<CaseReport>,
}

#[derive(Clone, Debug, Default)]
pub struct CaseReport {
    pub name: String,
    pub passed: bool,
    pub skipped: bool,
    /// Why the case failed; `None` when it passed.
    pub failure: Option<String>,
}

impl SuiteReport {
    pub fn passed(&self) -> bool {
        self.tests.iter().all(|t| t.error.is_none() && t.cases.iter().all(|c| c.passed || c.skipped))
    }
}

/// Run one Suite file; its template, constraint and object paths are
/// relative to the suite's folder.
pub fn run(path: &Path) -> Result<SuiteReport, Error> {
    let source = path.display().to_string();
    let docs = yaml::read_documents(path)?;
    let suite = docs.iter().find(|d| str_at(d, &["kind"]) == Some("Suite")).ok_or_else(|| {
        Error::Invalid { source_name: source.clone(), message: "no `kind: Suite` document".into() }
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tests = match suite.get("tests") {
        None | Some(Json::Null) => &Vec::new(),
        Some(Json::Array(t)) => t,
        Some(_) => {
            return Err(Error::Invalid { source_name: source, message: "tests must be a list".into() });
        }
    };
    let mut report = SuiteReport { path: path.to_path_buf(), tests: Vec::new() };
    if suite.get("skip").and_then(Json::as_bool) == Some(true) {
        return Ok(report);
    }
    for (i, test) in tests.iter().enumerate() {
        let name = str_at(test, &["name"]).map(str::to_string).unwrap_or_else(|| format!("tests[{i}]"));
        report.tests.push(run_test(dir, &name, test));
    }
    Ok(report)
}

/// Run every file under `dir` (or `dir` itself) that holds a `kind: Suite`
/// document, in path order.
pub fn run_all(dir: &Path) -> Result<Vec<SuiteReport>, Error> {
    let mut files = Vec::new();
    crate::collect_files(dir, crate::is_manifest, &mut files, 0)?;
    let mut out = Vec::new();
    for f in files {
        let text = yaml::read_text(&f)?;
        if !text.lines().any(|l| l.trim_end() == "kind: Suite") {
            continue;
        }
        out.push(run(&f)?);
    }
    Ok(out)
}

fn load_one(dir: &Path, rel: Option<&str>, what: &str) -> Result<Vec<(Json, String)>, String> {
    let rel = rel.ok_or_else(|| format!("missing {what}"))?;
    let path = dir.join(rel);
    let docs = yaml::read_documents(&path).map_err(|e| e.to_string())?;
    if docs.is_empty() {
        return Err(format!("{}: defines no YAML objects", path.display()));
    }
    let source = path.display().to_string();
    Ok(docs.into_iter().map(|d| (d, source.clone())).collect())
}

fn build(dir: &Path, test: &Json) -> Result<Gatekeeper, String> {
    let mut g = Gatekeeper::new();
    for (doc, source) in load_one(dir, str_at(test, &["template"]), "template")? {
        let warnings = g.add_template(&doc, &source).map_err(|e| e.to_string())?;
        if let Some(w) = warnings.first() {
            return Err(w.to_string());
        }
    }
    for (doc, source) in load_one(dir, str_at(test, &["constraint"]), "constraint")? {
        g.add_constraint(&doc, &source).map_err(|e| e.to_string())?;
    }
    Ok(g)
}

fn run_test(dir: &Path, name: &str, test: &Json) -> TestReport {
    let mut report = TestReport { name: name.to_string(), ..Default::default() };
    if test.get("skip").and_then(Json::as_bool) == Some(true) {
        report.skipped = true;
        return report;
    }
    let built = build(dir, test);
    // `invalid: true` tests expect the constraint to be refused by the schema.
    if test.get("invalid").and_then(Json::as_bool) == Some(true) {
        match built {
            Err(e) if e.contains("parameters do not match the template's schema") => {}
            Err(e) => report.error = Some(format!("want a schema error for the constraint, got: {e}")),
            Ok(_) => report.error = Some("want a schema error for the constraint, but it loaded".into()),
        }
        return report;
    }
    let mut g = match built {
        Ok(g) => g,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    let cases = test.get("cases").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
    for (i, case) in cases.iter().enumerate() {
        let name = str_at(case, &["name"]).map(str::to_string).unwrap_or_else(|| format!("cases[{i}]"));
        if case.get("skip").and_then(Json::as_bool) == Some(true) {
            report.cases.push(CaseReport { name, skipped: true, ..Default::default() });
            continue;
        }
        let failure = run_case(dir, &mut g, case).err();
        report.cases.push(CaseReport { name, passed: failure.is_none(), skipped: false, failure });
    }
    report
}

fn run_case(dir: &Path, g: &mut Gatekeeper, case: &Json) -> Result<(), String> {
    let objects = load_one(dir, str_at(case, &["object"]), "object")?;
    if objects.len() != 1 {
        return Err(format!("{} defines {} objects, want exactly one", objects[0].1, objects.len()));
    }
    let object = &objects[0].0;
    let assertions = case.get("assertions").and_then(Json::as_array).filter(|a| !a.is_empty());
    let assertions = assertions.ok_or("assertions must be non-empty")?;

    let mut inventory = Vec::new();
    if let Some(paths) = case.get("inventory").and_then(Json::as_array) {
        for p in paths {
            inventory.extend(load_one(dir, p.as_str(), "inventory path")?.into_iter().map(|(d, _)| d));
        }
    }
    let ns_name = str_at(object, &["metadata", "namespace"])
        .or_else(|| str_at(object, &["request", "namespace"]))
        .unwrap_or_default();
    // gator passes no Namespace object; when the inventory holds it, use it.
    let namespace = inventory
        .iter()
        .find(|o| {
            str_at(o, &["kind"]) == Some("Namespace")
                && !ns_name.is_empty()
                && str_at(o, &["metadata", "name"]) == Some(ns_name)
        })
        .cloned();
    g.set_inventory(inventory);

    let is_review = str_at(object, &["kind"]) == Some("AdmissionReview")
        && str_at(object, &["apiVersion"]).is_some_and(|a| a.starts_with("admission.k8s.io/"));
    let request = if is_review {
        let req = object.get("request").filter(|r| r.is_object()).ok_or("AdmissionReview has no request")?;
        if req.get("object").is_none_or(Json::is_null) && req.get("oldObject").is_none_or(Json::is_null) {
            return Err("AdmissionRequest has no object or oldObject to review".into());
        }
        req.clone()
    } else {
        crate::request_for(object, "CREATE")
    };
    let violations = g
        .review_at(&request, namespace.as_ref(), crate::constraint::POINT_GATOR, None)
        .map_err(|e| e.to_string())?;
    for (i, a) in assertions.iter().enumerate() {
        check_assertion(a, &violations).map_err(|e| format!("assertions[{i}]: {e}"))?;
    }
    Ok(())
}

/// gator's assertion: count the violations whose message matches `message`
/// (a regular expression, any violation when absent) and compare with
/// `violations` (`yes`: at least one, `no`: none, N: exactly N; `yes` when absent).
fn check_assertion(a: &Json, violations: &[Violation]) -> Result<(), String> {
    let matching = match str_at(a, &["message"]) {
        Some(pattern) => {
            let re =
                regex::Regex::new(pattern).map_err(|e| format!("message `{pattern}` is not a regex: {e}"))?;
            violations.iter().filter(|v| re.is_match(&v.message)).count()
        }
        None => violations.len(),
    };
    let about = match str_at(a, &["message"]) {
        Some(m) => format!("violations with a message matching {m:?}"),
        None => "violations".to_string(),
    };
    let messages = || {
        let list: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        if list.is_empty() { "none".to_string() } else { format!("{list:?}") }
    };
    let want = a.get("violations").unwrap_or(&Json::Null);
    let ok = match want {
        Json::Null => matching > 0,
        Json::Bool(b) => (matching > 0) == *b,
        Json::String(s) if s == "yes" => matching > 0,
        Json::String(s) if s == "no" => matching == 0,
        Json::String(s) => match s.parse::<usize>() {
            Ok(n) => matching == n,
            Err(_) => return Err(format!("violations `{s}` is not yes, no or a number")),
        },
        Json::Number(n) => n.as_u64().is_some_and(|n| n as usize == matching),
        other => return Err(format!("violations `{other}` is not yes, no or a number")),
    };
    if ok {
        Ok(())
    } else {
        let want = match want {
            Json::Null | Json::Bool(true) => "at least one".to_string(),
            Json::Bool(false) => "none".to_string(),
            Json::String(s) if s == "yes" => "at least one".to_string(),
            Json::String(s) if s == "no" => "none".to_string(),
            other => other.to_string().trim_matches('"').to_string(),
        };
        Err(format!("got {matching} {about}, want {want}; all violations: {}", messages()))
    }
}
