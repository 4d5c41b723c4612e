//! Which parts of `input.review` a template's Rego can read. Pods made from
//! one workload template differ in name and uid but not in spec, so a
//! template that only reads the spec gives them all the same answer; keying
//! its cached results by what it reads lets replicas share one evaluation.
//!
//! Every read of `input` in Rego starts at the `input` root (a reference, an
//! import, or `input` passed as a value), so walking the parsed modules finds
//! them all. A reference keeps its constant steps (`input.review.object.spec`
//! of `input.review.object.spec[field][_]`); the subtree below that prefix
//! covers whatever the rest of the reference picks. When `input` is used in
//! a way that is not a prefix (passed whole, replaced with `with`), the
//! template is taken to read everything.

use serde_json::Value as Json;

/// One constant step of a reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Key(String),
    Index(u64),
}

/// A path below `input.review`.
pub(crate) type Path = Vec<Step>;

/// The prefixes of `input.review` the modules (regorus's AST as JSON) read,
/// none a prefix of another; `None` when they may read all of it.
/// `input.parameters` is left out: it is fixed per constraint.
pub(crate) fn review_reads(ast: &Json) -> Option<Vec<Path>> {
    let mut walk = Walk::default();
    walk.visit(ast);
    if walk.whole {
        return None;
    }
    let mut paths = Vec::new();
    for path in walk.paths {
        match path.split_first() {
            Some((Step::Key(root), rest)) if root == "review" => {
                if rest.is_empty() {
                    return None;
                }
                paths.push(rest.to_vec());
            }
            Some((Step::Key(root), _)) if root == "parameters" => {}
            // `input` itself, or a root input never has: read it all.
            _ => return None,
        }
    }
    paths.sort();
    paths.dedup();
    let mut kept: Vec<Path> = Vec::with_capacity(paths.len());
    for path in paths {
        // Sorted, so a prefix comes right before the paths it covers.
        if kept.last().is_none_or(|k| !path.starts_with(k)) {
            kept.push(path);
        }
    }
    Some(kept)
}

#[derive(Default)]
struct Walk {
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

impl Walk {
    fn visit(&mut self, node: &Json) {
        match node {
            Json::Array(items) => items.iter().for_each(|i| self.visit(i)),
            Json::Object(map) => {
                match variant(node) {
                    Some(("RefDot" | "RefBrack" | "Var", _)) => return self.reference(node),
                    Some(("Call", body)) if self.object_get(body) => return,
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
    fn root_of<'a>(&self, mut node: &'a Json) -> Option<&'a str> {
        loop {
            match variant(node)? {
                ("RefDot" | "RefBrack", body) => node = &body["refr"],
                ("Var", body) => return body["value"].as_str(),
                _ => return None,
            }
        }
    }

    /// Records the constant prefix of a reference rooted at `input`, and
    /// visits the index expressions that are not constants.
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
        if root == Some("input") {
            self.paths.push(steps.into_iter().rev().map_while(|s| s).collect());
        }
    }

    /// `object.get(REF, KEY or [KEYS], DEFAULT)` on an input reference with
    /// constant keys reads only below REF.KEY….
    fn object_get(&mut self, call: &Json) -> bool {
        let is_object_get = variant(&call["fcn"]).is_some_and(|(kind, body)| {
            kind == "RefDot" && body["field"][1] == "get" && self.root_of(&body["refr"]) == Some("object")
        });
        let Some(params) = call["params"].as_array().filter(|p| is_object_get && p.len() == 3) else {
            return false;
        };
        let Some(mut path) = self.constant_input_path(&params[0]) else { return false };
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
        self.paths.push(path);
        self.visit(&params[2]);
        true
    }

    /// The steps of a reference rooted at `input` whose steps are all constant.
    fn constant_input_path(&self, mut node: &Json) -> Option<Path> {
        let mut steps = Vec::new();
        loop {
            match variant(node)? {
                ("RefDot", body) => steps.push(Step::Key(body["field"][1].as_str()?.to_string())),
                ("RefBrack", body) => steps.push(constant_step(&body["index"])?),
                ("Var", body) if body["value"] == "input" => break,
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

    fn reads(rego: &str) -> Option<Vec<String>> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), format!("package t\nimport rego.v1\n{rego}")).unwrap();
        let ast: Json = serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        review_reads(&ast).map(|paths| {
            paths
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|s| match s {
                            Step::Key(k) => k.clone(),
                            Step::Index(i) => i.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect()
        })
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
        assert_eq!(got.unwrap(), ["kind.kind", "object"]);
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
