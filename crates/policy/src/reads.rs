//! Which parts of `input.review` a template's Rego can read. Pods made from
//! one workload template differ in name and uid but not in spec, so a
//! template that only reads the spec gives them all the same answer; keying
//! its cached results by what it reads lets replicas share one evaluation.
//!
//! Every read of `input` in Rego starts at the `input` root (a reference, an
//! import, or `input` passed as a value), so walking the parsed modules finds
//! them all. A reference keeps its constant steps (`input.review.object.spec`
//! of `input.review.object.spec[field][_]`); the subtree below that prefix
//! covers whatever the rest of the reference picks. A part of `input` passed
//! to a function the modules define (`is_update(input.review)`) is read as
//! far as that function reads its parameter, followed through further calls.
//! When `input` is used in a way that is not a prefix (passed whole, replaced
//! with `with`), the template is taken to read everything.

use std::cell::Cell;
use std::collections::HashMap;

use serde_json::Value as Json;

/// One constant step of a reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Key(String),
    Index(u64),
}

/// A path below `input.review`.
pub(crate) type Path = Vec<Step>;

/// How deep calls are followed; a value passed deeper counts as read whole.
const MAX_CALL_DEPTH: u32 = 8;

/// How many function bodies one template's walk may enter in all, so that
/// functions calling each other many times over cannot make loading slow;
/// past it, arguments count as read whole.
const MAX_FOLLOWED_CALLS: u32 = 4096;

/// The prefixes of `input.review` the modules (regorus's AST as JSON) read,
/// none a prefix of another; `None` when they may read all of it.
/// `input.parameters` is left out: it is fixed per constraint.
pub(crate) fn review_reads(ast: &Json) -> Option<Vec<Path>> {
    let modules = ast.as_array()?;
    let functions = Functions::new(modules);
    // A `with` may put another function or value in place of the one the
    // call names; then calls are not followed.
    let follow = (!has_with(ast)).then_some(&functions);
    let mut paths = Vec::new();
    for (index, module) in modules.iter().enumerate() {
        let mut walk = Walk::new("input", Vec::new(), follow, index, 0);
        walk.visit(&module["ast"]);
        if walk.whole {
            return None;
        }
        paths.append(&mut walk.paths);
    }
    let mut review = Vec::new();
    for path in paths {
        match path.split_first() {
            Some((Step::Key(root), rest)) if root == "review" => {
                if rest.is_empty() {
                    return None;
                }
                review.push(rest.to_vec());
            }
            Some((Step::Key(root), _)) if root == "parameters" => {}
            // `input` itself, or a root input never has: read it all.
            _ => return None,
        }
    }
    review.sort();
    review.dedup();
    let mut kept: Vec<Path> = Vec::with_capacity(review.len());
    for path in review {
        // Sorted, so a prefix comes right before the paths it covers.
        if kept.last().is_none_or(|k| !path.starts_with(k)) {
            kept.push(path);
        }
    }
    Some(kept)
}

/// Whether any rule uses a `with` modifier.
fn has_with(node: &Json) -> bool {
    match node {
        Json::Array(items) => items.iter().any(has_with),
        Json::Object(map) => {
            map.get("with_mods").and_then(Json::as_array).is_some_and(|m| !m.is_empty())
                || map.values().any(has_with)
        }
        _ => false,
    }
}

/// The names a reference made only of `.name` steps spells (`data.lib.f`).
fn dotted(mut node: &Json) -> Option<Vec<&str>> {
    let mut names = Vec::new();
    loop {
        match variant(node)? {
            ("RefDot", body) => {
                names.push(body["field"][1].as_str()?);
                node = &body["refr"];
            }
            ("Var", body) => {
                names.push(body["value"].as_str()?);
                names.reverse();
                return Some(names);
            }
            _ => return None,
        }
    }
}

/// A module's package (`data.lib.x`) and the names its imports of `data`
/// bring into scope.
struct Scope {
    package: String,
    imports: HashMap<String, String>,
}

/// The functions the modules define, by full path (`data.lib.x.is_update`):
/// each clause's rule (head and bodies) with the module it is written in.
struct Functions<'a> {
    scopes: Vec<Scope>,
    clauses: HashMap<String, Vec<(&'a Json, usize)>>,
    /// Function bodies that may still be entered.
    budget: Cell<u32>,
}

impl<'a> Functions<'a> {
    fn new(modules: &'a [Json]) -> Functions<'a> {
        let mut scopes = Vec::new();
        let mut clauses: HashMap<String, Vec<(&'a Json, usize)>> = HashMap::new();
        for (index, module) in modules.iter().enumerate() {
            let ast = &module["ast"];
            let package = dotted(&ast["package"]["refr"]).map_or(String::new(), |n| n.join("."));
            let package = format!("data.{package}");
            let source = module["source"]["contents"].as_str().unwrap_or_default();
            let mut imports = HashMap::new();
            for import in ast["imports"].as_array().into_iter().flatten() {
                let Some(names) = dotted(&import["refr"]).filter(|n| n[0] == "data") else { continue };
                let alias = match (import["as"]["start"].as_u64(), import["as"]["end"].as_u64()) {
                    (Some(start), Some(end)) => source.get(start as usize..end as usize),
                    _ => names.last().copied(),
                };
                if let Some(alias) = alias {
                    imports.insert(alias.to_string(), names.join("."));
                }
            }
            for rule in ast["rules"].as_array().into_iter().flatten() {
                let Some(("Spec", spec)) = variant(rule) else { continue };
                let Some(("Func", head)) = variant(&spec["head"]) else { continue };
                if let Some(names) = dotted(&head["refr"]) {
                    clauses.entry(format!("{package}.{}", names.join("."))).or_default().push((spec, index));
                }
            }
            scopes.push(Scope { package, imports });
        }
        Functions { scopes, clauses, budget: Cell::new(MAX_FOLLOWED_CALLS) }
    }

    /// Takes one function body from the budget, if any is left.
    fn enter(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    /// The clauses a call in `module` runs, when it names a function of
    /// the modules (these come before builtins of the same name).
    fn called(&self, module: usize, fcn: &Json) -> Option<&[(&'a Json, usize)]> {
        let names = dotted(fcn)?;
        let scope = &self.scopes[module];
        let path = if names[0] == "data" {
            names.join(".")
        } else if let Some(target) = scope.imports.get(names[0]) {
            std::iter::once(target.as_str()).chain(names[1..].iter().copied()).collect::<Vec<_>>().join(".")
        } else {
            format!("{}.{}", scope.package, names.join("."))
        };
        self.clauses.get(&path).map(Vec::as_slice)
    }
}

/// Finds the reads of one root variable: `input` in the modules, or a
/// function's parameter that holds `base` of the input.
struct Walk<'f, 'a> {
    root: String,
    base: Path,
    functions: Option<&'f Functions<'a>>,
    module: usize,
    depth: u32,
    paths: Vec<Path>,
    whole: bool,
}

/// The variant name and body of an AST node like `{"RefDot": {...}}`.
fn variant(node: &Json) -> Option<(&str, &Json)> {
    match node.as_object() {
        Some(map) if map.len() == 1 => map.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

/// The step a constant index expression names.
fn constant_step(index: &Json) -> Option<Step> {
    match variant(index)? {
        ("String" | "RawString", body) => body["value"].as_str().map(|s| Step::Key(s.to_string())),
        ("Number", body) => body["value"].as_u64().map(Step::Index),
        _ => None,
    }
}

impl<'f, 'a> Walk<'f, 'a> {
    fn new(root: &str, base: Path, functions: Option<&'f Functions<'a>>, module: usize, depth: u32) -> Self {
        Walk { root: root.to_string(), base, functions, module, depth, paths: Vec::new(), whole: false }
    }

    fn read(&mut self, steps: impl IntoIterator<Item = Step>) {
        let mut path = self.base.clone();
        path.extend(steps);
        self.paths.push(path);
    }

    fn visit(&mut self, node: &Json) {
        match node {
            Json::Array(items) => items.iter().for_each(|i| self.visit(i)),
            Json::Object(map) => {
                match variant(node) {
                    Some(("RefDot" | "RefBrack" | "Var", _)) => return self.reference(node),
                    Some(("Call", body)) if self.object_get(body) || self.function_call(body) => return,
                    _ => {}
                }
                if let Some(mods) = map.get("with_mods").and_then(Json::as_array)
                    && mods.iter().any(|m| self.root_of(&m["refr"]) == Some("input"))
                {
                    // `with input… as x`: input is no longer what the request holds.
                    self.whole = true;
                }
                map.values().for_each(|v| self.visit(v));
            }
            _ => {}
        }
    }

    /// The root variable of a reference chain.
    fn root_of<'j>(&self, mut node: &'j Json) -> Option<&'j str> {
        loop {
            match variant(node)? {
                ("RefDot" | "RefBrack", body) => node = &body["refr"],
                ("Var", body) => return body["value"].as_str(),
                _ => return None,
            }
        }
    }

    /// Records the constant prefix of a reference rooted at the root
    /// variable, and visits the index expressions that are not constants.
    fn reference(&mut self, node: &Json) {
        let mut steps: Vec<Option<Step>> = Vec::new();
        let mut cur = node;
        let root = loop {
            match variant(cur) {
                Some(("RefDot", body)) => {
                    steps.push(body["field"][1].as_str().map(|f| Step::Key(f.to_string())));
                    cur = &body["refr"];
                }
                Some(("RefBrack", body)) => {
                    let step = constant_step(&body["index"]);
                    if step.is_none() {
                        self.visit(&body["index"]);
                    }
                    steps.push(step);
                    cur = &body["refr"];
                }
                Some(("Var", body)) => break body["value"].as_str(),
                // A reference into a call's result or a literal.
                _ => {
                    self.visit(cur);
                    break None;
                }
            }
        };
        if root == Some(self.root.as_str()) {
            self.read(steps.into_iter().rev().map_while(|s| s));
        }
    }

    /// `object.get(REF, KEY or [KEYS], DEFAULT)` on a reference to the root
    /// with constant keys reads only below REF.KEY….
    fn object_get(&mut self, call: &Json) -> bool {
        let is_object_get = variant(&call["fcn"]).is_some_and(|(kind, body)| {
            kind == "RefDot" && body["field"][1] == "get" && self.root_of(&body["refr"]) == Some("object")
        });
        let Some(params) = call["params"].as_array().filter(|p| is_object_get && p.len() == 3) else {
            return false;
        };
        let Some(mut path) = self.constant_path(&params[0]) else { return false };
        let keys = match variant(&params[1]) {
            Some(("Array", body)) => {
                body["items"].as_array().map(|items| items.iter().map(constant_step).collect())
            }
            _ => Some(vec![constant_step(&params[1])]),
        };
        let Some(keys) = keys.and_then(|k: Vec<Option<Step>>| k.into_iter().collect::<Option<Vec<_>>>())
        else {
            return false;
        };
        path.extend(keys);
        self.read(path);
        self.visit(&params[2]);
        true
    }

    /// A call of a function the modules define: what it reads of each
    /// argument that is a constant reference to the root.
    fn function_call(&mut self, call: &Json) -> bool {
        let Some(clauses) = self.functions.and_then(|f| f.called(self.module, &call["fcn"])) else {
            return false;
        };
        let Some(params) = call["params"].as_array() else { return false };
        for (at, param) in params.iter().enumerate() {
            let Some(steps) = self.constant_path(param) else {
                self.visit(param);
                continue;
            };
            let mut held = self.base.clone();
            held.extend(steps);
            for (rule, module) in clauses {
                let Some(("Func", head)) = variant(&rule["head"]) else { continue };
                let arg = head["args"].as_array().filter(|a| a.len() == params.len()).map(|a| &a[at]);
                match arg.and_then(variant) {
                    Some(("Var", var)) if var["value"] == "_" => {}
                    Some(("Var", var))
                        if self.depth < MAX_CALL_DEPTH && self.functions.is_some_and(Functions::enter) =>
                    {
                        let name = var["value"].as_str().unwrap_or_default();
                        let mut inner =
                            Walk::new(name, held.clone(), self.functions, *module, self.depth + 1);
                        inner.visit(&head["assign"]);
                        inner.visit(&rule["bodies"]);
                        self.paths.append(&mut inner.paths);
                        self.whole |= inner.whole;
                    }
                    // A pattern, a constant, or a call too deep or past the budget:
                    // the whole argument.
                    _ => self.paths.push(held.clone()),
                }
            }
        }
        true
    }

    /// The steps of a reference to the root whose steps are all constant.
    fn constant_path(&self, mut node: &Json) -> Option<Path> {
        let mut steps = Vec::new();
        loop {
            match variant(node)? {
                ("RefDot", body) => steps.push(Step::Key(body["field"][1].as_str()?.to_string())),
                ("RefBrack", body) => steps.push(constant_step(&body["index"])?),
                ("Var", body) if body["value"] == self.root.as_str() => break,
                _ => return None,
            }
            node = &variant(node)?.1["refr"];
        }
        steps.reverse();
        Some(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dotted_path(path: &Path) -> String {
        let steps: Vec<String> = path
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Index(i) => i.to_string(),
            })
            .collect();
        steps.join(".")
    }

    fn reads(rego: &str) -> Option<Vec<String>> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), format!("package t\nimport rego.v1\n{rego}")).unwrap();
        let ast: Json = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        review_reads(&ast).map(|paths| paths.iter().map(dotted_path).collect())
    }

    #[test]
    fn constant_prefixes_of_input_references() {
        let got = reads(
            r#"violation contains {"msg": m} if {
                c := input.review.object.spec[field][_]
                input.review["kind"].kind == "Pod"
                input.parameters.cpu != "-1"
                x := object.get(object.get(input, "parameters", {}), "exempt", [])
                n := object.get(input.review.object, ["metadata", "name"], "")
                m := sprintf("%v %v %v", [c.name, x, n])
            }
            f(o) := o.spec.containers[0].image if true
            violation contains {"msg": f(input.review.object)} if input.review.object.spec.containers[0].name == "a""#,
        );
        assert_eq!(got.unwrap(), ["kind.kind", "object.metadata.name", "object.spec"]);
        let got = reads(
            r#"violation contains {"msg": "x"} if {
                input.review.object.spec.containers[0].image == "a"
                input.review.object.spec.hostNetwork
                object.get(input.review.object, ["metadata", "name"], "") == "a"
                input.review.object.metadata.labels[k]
            }"#,
        );
        assert_eq!(
            got.unwrap(),
            [
                "object.metadata.labels",
                "object.metadata.name",
                "object.spec.containers.0.image",
                "object.spec.hostNetwork"
            ]
        );
    }

    #[test]
    fn input_used_whole_or_replaced_reads_everything() {
        assert_eq!(reads(r#"violation contains {"msg": "x"} if { x := input; x.review.name == "a" }"#), None);
        assert_eq!(reads(r#"violation contains {"msg": "x"} if { walk(input.review, [p, v]) }"#), None);
        assert_eq!(
            reads(
                r#"violation contains {"msg": "x"} if { input.review.name == "a" with input.review.name as "a" }"#
            ),
            None
        );
        assert_eq!(reads(r#"violation contains {"msg": "x"} if { input[k] }"#), None);
        assert_eq!(reads(r#"violation contains {"msg": "x"} if { object.get(input, k, 1) }"#), None);
    }

    /// Reads of modules given as (file, source) pairs, Rego v0.
    fn reads_v0(modules: &[&str]) -> Option<Vec<String>> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        for (i, m) in modules.iter().enumerate() {
            engine.add_policy(format!("m{i}.rego"), m.to_string()).unwrap();
        }
        let ast: Json = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        review_reads(&ast).map(|paths| paths.iter().map(dotted_path).collect())
    }

    const IS_UPDATE: &str =
        "package lib.exclude_update\nis_update(review) { review.operation == \"UPDATE\" }\n";

    #[test]
    fn arguments_are_read_as_far_as_the_called_function_reads_them() {
        // Gatekeeper's library shape: an imported lib function given the whole review.
        let got = reads_v0(&[
            "package t\nimport data.lib.exclude_update.is_update\nviolation[{\"msg\": m}] {\n not is_update(input.review)\n c := input.review.object.spec.containers[_]\n m := msg(c, input.review)\n}\nmsg(c, review) = m { m := sprintf(\"%v %v\", [c.name, kind(review)]) }\nkind(r) = k { k := r.kind.kind }\n",
            IS_UPDATE,
        ]);
        assert_eq!(got.unwrap(), ["kind.kind", "object.spec.containers", "operation"]);
        // Through an alias, a data path, and an unused parameter.
        let got = reads_v0(&[
            "package t\nimport data.lib.exclude_update as ex\nviolation[{\"msg\": \"x\"}] {\n not ex.is_update(input.review)\n data.lib.exclude_update.is_update(input.review.oldObject)\n ignore(input.review.object)\n}\nignore(_) = true\n",
            IS_UPDATE,
        ]);
        assert_eq!(got.unwrap(), ["oldObject.operation", "operation"]);
    }

    #[test]
    fn arguments_read_whole_when_the_function_cannot_be_followed() {
        // A builtin; a parameter used as a value; a pattern parameter.
        let got = reads_v0(&[
            "package t\nviolation[{\"msg\": m}] {\n m := json.marshal(input.review.object.spec)\n same(input.review.oldObject.spec)\n first(input.review.object.metadata.labels)\n}\nsame(x) { y := x; y.a }\nfirst({\"a\": v}) { v }\n",
        ]);
        assert_eq!(got.unwrap(), ["object.metadata.labels", "object.spec", "oldObject.spec"]);
        // A function defined in another package, not imported: a builtin of that name runs.
        let got =
            reads_v0(&["package t\nviolation[{\"msg\": \"x\"}] { is_update(input.review) }\n", IS_UPDATE]);
        assert_eq!(got, None);
        // A `with` may replace the function: not followed.
        let got = reads_v0(&[
            "package t\nimport data.lib.exclude_update.is_update\nviolation[{\"msg\": \"x\"}] { not is_update(input.review) with data.x as 1 }\n",
            IS_UPDATE,
        ]);
        assert_eq!(got, None);
    }

    #[test]
    fn functions_calling_each_other_many_times_stay_cheap_to_follow() {
        // Eight levels of ten calls each would be 10^8 bodies to walk.
        let mut rego = String::from("package t\nviolation[{\"msg\": \"x\"}] { f1(input.review) }\n");
        for level in 1..=8 {
            let calls = vec![format!("f{}(r)", level + 1); 10].join("; ");
            rego.push_str(&format!("f{level}(r) {{ {calls} }}\n"));
        }
        rego.push_str("f9(r) { r.operation == \"UPDATE\" }\n");
        let started = std::time::Instant::now();
        assert_eq!(reads_v0(&[&rego]), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn imports_of_input_count_as_reads() {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(
                "t.rego".into(),
                "package t\nimport rego.v1\nimport input.review.object as obj\nviolation contains {\"msg\": \"x\"} if obj.kind == \"Pod\"".into(),
            )
            .unwrap();
        let ast: Json = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        assert_eq!(review_reads(&ast).unwrap(), [vec![Step::Key("object".into())]]);
    }
}
