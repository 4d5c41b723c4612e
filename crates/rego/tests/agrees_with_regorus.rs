//! The memoising evaluator against regorus's tree-walking interpreter, the
//! reference, on small policies covering the Rego that Gatekeeper
//! ConstraintTemplates and Kubernetes policies use.
//!
//! Each case is evaluated by both; they must give the same value, or both
//! fail where a case expects an error. A case our evaluator refuses with
//! [`Error::Unsupported`] (the caller then falls back to regorus) must say
//! so. Every case runs and all disagreements are reported together.
//!
//! The reference runs with strict builtin errors off: a builtin that fails
//! (`startswith(5, "a")`) is undefined, as in OPA by default and in
//! regorus's VM, which is what our evaluator follows.
//!
//! Where regorus itself departs from OPA, a comment at the case says so.

use std::fmt::Write as _;

use rampart_rego::{Error, Module, Policy};
use regorus::{Engine, Value};

/// What a case expects of the two evaluators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Both succeed with the same value.
    Value,
    /// Both fail (conflicting values, type errors).
    Error,
    /// Ours refuses the policy with `Error::Unsupported`; regorus evaluates it.
    Unsupported,
    /// Where regorus departs from OPA: ours gives OPA's value (JSON, or
    /// `undefined`), regorus something else.
    Opa(&'static str),
}

struct Case {
    name: &'static str,
    entry: &'static str,
    /// The main module, then any others (libraries, other packages).
    modules: Vec<&'static str>,
    v1: bool,
    input: &'static str,
    data: &'static str,
    expect: Expect,
}

/// A Rego v0 case whose entry is `data.t.p`, with an empty input and data.
fn case(name: &'static str, rego: &'static str) -> Case {
    Case {
        name,
        entry: "data.t.p",
        modules: vec![rego],
        v1: false,
        input: "{}",
        data: "{}",
        expect: Expect::Value,
    }
}

impl Case {
    fn input(mut self, json: &'static str) -> Case {
        self.input = json;
        self
    }

    fn data(mut self, json: &'static str) -> Case {
        self.data = json;
        self
    }

    fn entry(mut self, entry: &'static str) -> Case {
        self.entry = entry;
        self
    }

    fn module(mut self, rego: &'static str) -> Case {
        self.modules.push(rego);
        self
    }

    fn v1(mut self) -> Case {
        self.v1 = true;
        self
    }

    fn errors(mut self) -> Case {
        self.expect = Expect::Error;
        self
    }

    fn unsupported(mut self) -> Case {
        self.expect = Expect::Unsupported;
        self
    }

    fn opa(mut self, value: &'static str) -> Case {
        self.expect = Expect::Opa(value);
        self
    }

    fn label(&self, i: usize) -> String {
        if i == 0 { format!("{}.rego", self.name) } else { format!("{}.lib{i}.rego", self.name) }
    }

    fn ours(&self, data: &Value, input: &Value) -> Result<Value, Error> {
        let labels: Vec<String> = (0..self.modules.len()).map(|i| self.label(i)).collect();
        let modules: Vec<Module<'_>> = self
            .modules
            .iter()
            .zip(&labels)
            .map(|(text, label)| Module { label, text, v1: self.v1 })
            .collect();
        Policy::compile(&modules, self.entry)?.eval(data, input, None)
    }

    fn reference(&self, data: &Value, input: &Value) -> anyhow::Result<Value> {
        let mut engine = Engine::new();
        engine.set_rego_v0(!self.v1);
        engine.set_strict_builtin_errors(false);
        for (i, text) in self.modules.iter().enumerate() {
            engine.add_policy(self.label(i), text.to_string())?;
        }
        engine.add_data(data.clone())?;
        engine.set_input(input.clone());
        engine.eval_rule(self.entry.to_string())
    }

    /// `None` when the evaluators agree as the case expects; what went
    /// wrong otherwise.
    fn check(&self) -> Option<String> {
        let parse = |what: &str, json: &str| {
            Value::from_json_str(json).map_err(|e| format!("the case's {what} is not JSON: {e:#}"))
        };
        let (data, input) = match (parse("data", self.data), parse("input", self.input)) {
            (Ok(d), Ok(i)) => (d, i),
            (Err(e), _) | (_, Err(e)) => return Some(e),
        };
        let ours = self.ours(&data, &input);
        let reference = self.reference(&data, &input);
        // Compared as shown: a set shows as the array OPA's value is written as.
        let opa = match self.expect {
            Expect::Opa("undefined") => Some(show(&Value::Undefined)),
            Expect::Opa(json) => match parse("OPA value", json) {
                Ok(v) => Some(show(&v)),
                Err(e) => return Some(e),
            },
            _ => None,
        };
        let is_opa = |v: &Value| opa.as_deref() == Some(show(v).as_str());
        let problem = match (self.expect, &ours, &reference) {
            (Expect::Opa(_), Ok(a), Ok(b)) if is_opa(a) && !is_opa(b) => return None,
            (Expect::Opa(_), Ok(a), Err(_)) if is_opa(a) => return None,
            (Expect::Opa(_), Ok(a), _) if is_opa(a) => "regorus agrees with OPA now",
            (Expect::Opa(_), _, _) => "ours does not give OPA's value",
            (Expect::Error, Err(_), Err(_)) => return None,
            (Expect::Unsupported, Err(Error::Unsupported(_)), Ok(_)) => return None,
            (Expect::Unsupported, Err(Error::Unsupported(_)), Err(_)) => {
                "expected unsupported, and regorus fails too (a broken case?)"
            }
            (Expect::Unsupported, _, _) => "expected our evaluator to refuse this as unsupported",
            (_, Err(Error::Unsupported(_)), _) => "our evaluator refuses this as unsupported",
            (Expect::Value, Ok(a), Ok(b)) if a == b => return None,
            (Expect::Value, Ok(_), Ok(_)) => "the values differ",
            (Expect::Value, Err(_), Err(_)) => "both fail where a value is expected (a broken case?)",
            (Expect::Error, Ok(_), Ok(_)) => "both succeed where an error is expected",
            (_, Ok(_), Err(_)) => "only regorus fails",
            (_, Err(_), Ok(_)) => "only our evaluator fails",
        };
        let ours = match ours {
            Ok(v) => show(&v),
            Err(e) => format!("error: {e:?}"),
        };
        let reference = match reference {
            Ok(v) => show(&v),
            Err(e) => format!("error: {}", indented(&format!("{e:#}"), 11)),
        };
        let policy: Vec<&str> = self.modules.iter().flat_map(|text| text.trim_end().lines()).collect();
        let mut report = format!("{problem}\n");
        let v1 = if self.v1 { " (Rego v1)" } else { "" };
        let _ = writeln!(report, "  entry:   {}{v1}", self.entry);
        let _ = writeln!(report, "  input:   {}", show(&input));
        let _ = writeln!(report, "  data:    {}", show(&data));
        let _ = writeln!(report, "  ours:    {ours}");
        let _ = writeln!(report, "  regorus: {reference}");
        let _ = write!(report, "  policy:\n    | {}", policy.join("\n    | "));
        Some(report)
    }
}

/// `text` trimmed, its lines after the first indented by `by` spaces.
fn indented(text: &str, by: usize) -> String {
    text.trim().lines().map(str::trim_end).collect::<Vec<_>>().join(&format!("\n{:by$}", ""))
}

/// Compact JSON (sets as arrays), or `undefined`.
fn show(v: &Value) -> String {
    let mut json = String::new();
    match v {
        Value::Undefined => "undefined".to_string(),
        _ if write!(json, "{v}").is_ok() => json,
        _ => format!("{v:?}"),
    }
}

fn complete_rules() -> Vec<Case> {
    vec![
        case("complete_assign_constant", "package t\np := 7"),
        case("complete_eq_input", "package t\np = input.x").input(r#"{"x": "a"}"#),
        case("complete_body_holds", "package t\np { input.x > 1 }").input(r#"{"x": 2}"#),
        case("complete_body_fails_undefined", "package t\np { input.x > 1 }").input(r#"{"x": 0}"#),
        case("default_applies", "package t\ndefault p = false\np { input.x == 1 }").input(r#"{"x": 2}"#),
        case(
            "default_overridden",
            r#"package t
default p := "none"
p := input.x { input.x }"#,
        )
        .input(r#"{"x": "set"}"#),
        case(
            "complete_value_from_body",
            r#"package t
p = v { v := concat("-", input.parts) }"#,
        )
        .input(r#"{"parts": ["a", "b", "c"]}"#),
        case("complete_conflicting_bodies", "package t\np = 1 { true }\np = 2 { input.x }")
            .input(r#"{"x": true}"#)
            .errors(),
        case("complete_conflicting_solutions", "package t\np = x { x := input.a[_] }")
            .input(r#"{"a": [1, 2]}"#)
            .errors(),
        case("complete_repeated_solution", "package t\np = x { x := input.a[_] }").input(r#"{"a": [1, 1]}"#),
        case("complete_bodies_agree", "package t\np = 1 { input.a }\np = 1 { input.b }")
            .input(r#"{"a": true, "b": true}"#),
        case("complete_value_false", "package t\np = false { true }"),
        case("complete_false_compared", "package t\nq = false { true }\np { q == false }"),
        case("complete_false_as_condition", "package t\nq = false { true }\np { q }"),
        case("input_eq_false", "package t\np { input.x == false }").input(r#"{"x": false}"#),
        case("input_false_fails_body", "package t\np { input.x }").input(r#"{"x": false}"#),
        case(
            "complete_else_chain",
            r#"package t
p = "big" { input.n > 10 } else = "mid" { input.n > 5 } else = "small""#,
        )
        .input(r#"{"n": 7}"#),
        case(
            "complete_else_falls_through",
            r#"package t
p = "big" { input.n > 10 } else = "mid" { input.n > 5 } else = "small""#,
        )
        .input(r#"{"n": 1}"#),
        case(
            "default_with_else",
            r#"package t
default p = "d"
p = "a" { input.n == 1 } else = "b" { input.n == 2 }"#,
        )
        .input(r#"{"n": 3}"#),
        case("other_rule_reference", "package t\nq := input.x + 1\np { q > 2 }").input(r#"{"x": 2}"#),
        case("rule_over_undefined_rule", "package t\nq := input.missing\np := [q]"),
        case("head_value_iterates", "package t\np = input.a[_]").input(r#"{"a": [7]}"#).unsupported(),
        case(
            "v1_complete_if",
            r#"package t
p := v if {
  v := input.x * 2
  v > 2
}
default q := 0
q := 1 if input.x > 5"#,
        )
        .input(r#"{"x": 3}"#)
        .v1(),
        case(
            "v1_import_in_v0_mode",
            r#"package t
import rego.v1
p := "yes" if input.x
q contains 1 if true"#,
        )
        .input(r#"{"x": true}"#),
    ]
}

fn partial_rules() -> Vec<Case> {
    vec![
        case("set_basic", "package t\np[x] { x := input.a[_] }").input(r#"{"a": [3, 1, 2, 1]}"#),
        case("set_empty", "package t\np[x] { x := input.a[_]; x > 100 }").input(r#"{"a": [3, 1]}"#),
        case("set_several_definitions", "package t\np[x] { x := input.a[_] }\np[x] { x := input.b[_] }")
            .input(r#"{"a": [1, 2], "b": [2, "z"]}"#),
        case("set_v1_contains", "package t\np contains x if {\n  some x in input.a\n  x > 1\n}")
            .input(r#"{"a": [1, 2, 3]}"#)
            .v1(),
        case(
            "set_lookup_by_element",
            r#"package t
q[x] { x := input.a[_] }
p { q["b"] }"#,
        )
        .input(r#"{"a": ["a", "b"]}"#),
        case(
            "set_lookup_missing",
            r#"package t
q[x] { x := input.a[_] }
p = q["z"]"#,
        )
        .input(r#"{"a": ["a", "b"]}"#),
        case(
            "set_iterated_by_other_rule",
            "package t\nq[x] { x := input.a[_] }\np[y] { q[x]; y := upper(x) }",
        )
        .input(r#"{"a": ["a", "b"]}"#),
        case(
            "set_of_objects_object_pattern_index",
            r#"package t
s[{"msg": m, "f": f}] {
  f := input.fields[_]
  m := sprintf("bad %v", [f])
}
p[m] { s[{"msg": m, "f": "x"}] }"#,
        )
        .input(r#"{"fields": ["x", "y"]}"#),
        // In OPA an object pattern matches objects with exactly its keys (so `p` is empty);
        // regorus matches objects that have more.
        case(
            "set_of_objects_pattern_with_fewer_keys",
            r#"package t
s[{"msg": m, "f": f}] { f := input.fields[_]; m := f }
p[m] { s[{"msg": m}] }"#,
        )
        .input(r#"{"fields": ["x", "y"]}"#)
        .opa("[]"),
        case(
            "set_of_arrays_array_pattern",
            r#"package t
s := {["a", 1], ["b", 2], ["c", 1]}
p[k] { s[[k, 1]] }"#,
        ),
        case(
            "v1_contains_without_body",
            r#"package t
p contains "a"
p contains x if some x in input.a"#,
        )
        .input(r#"{"a": ["b"]}"#)
        .v1(),
        case("v1_else_assign", "package t\np := 1 if { input.x } else := 2").v1(),
        case(
            "set_objects_as_elements",
            r#"package t
p[{"name": n}] { n := input.names[_] }"#,
        )
        .input(r#"{"names": ["a", "b"]}"#),
        case("object_basic", "package t\np[k] = v { v := input.o[k]; v > 1 }")
            .input(r#"{"o": {"a": 1, "b": 2, "c": 3}}"#),
        case(
            "object_conflict",
            r#"package t
p[k] = 1 { k := "a" }
p[k] = 2 { k := "a" }"#,
        )
        .errors(),
        case(
            "object_constant_keys",
            r#"package t
q["a"] = 1
q["b"] = 2 { input.b }
p = q"#,
        )
        .input(r#"{"b": true}"#),
        case(
            "object_conflict_one_body",
            r#"package t
p[k] = v { v := input.a[_]; k := "x" }"#,
        )
        .input(r#"{"a": [1, 2]}"#)
        .errors(),
        case("object_same_value_twice", "package t\np[k] = 1 { k := input.a[_] }")
            .input(r#"{"a": ["x", "x"]}"#),
        case("object_v1", "package t\np[k] := v if {\n  some k, v in input.o\n  v != 2\n}")
            .input(r#"{"o": {"a": 1, "b": 2}}"#)
            .v1(),
        case(
            "object_lookup",
            r#"package t
q[k] = v { v := input.o[k] }
p = q["b"]"#,
        )
        .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case("object_number_keys", "package t\np[i] = x { x := input.a[i] }").input(r#"{"a": ["x", "y"]}"#),
        case("object_iterated_by_other_rule", "package t\nq[k] = v { v := input.o[k] }\np[k] { q[k] > 1 }")
            .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case(
            "object_values_referenced_deeper",
            r#"package t
q[k] = {"a": v} { v := input.o[k] }
p[k] { q[k].a > 1 }"#,
        )
        .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case("object_head_value_from_key", "package t\np[k] = input.o[k] { k := input.keys[_] }")
            .input(r#"{"o": {"a": 1, "b": 2}, "keys": ["b"]}"#),
        case("set_head_iterates", "package t\np[input.a[_]] { true }")
            .input(r#"{"a": [1, 2]}"#)
            .unsupported(),
        case("set_iterated_by_full_path", "package t\ns[x] { x := input.a[_] }\np[x] { data.t.s[x]; x > 1 }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case("set_counted", "package t\ns[x] { x := input.a[_] }\np = count(s)").input(r#"{"a": [1, 2, 2]}"#),
    ]
}

fn functions() -> Vec<Case> {
    vec![
        case(
            "fn_several_clauses",
            r#"package t
f(x) = "neg" { x < 0 }
f(x) = "pos" { x > 0 }
p = [f(-1), f(2)]"#,
        ),
        case(
            "fn_no_clause_applies",
            r#"package t
f(x) = "neg" { x < 0 }
f(x) = "pos" { x > 0 }
p = f(0)"#,
        ),
        case(
            "fn_constant_argument_patterns",
            r#"package t
f("a") = 1
f("b") = 2
p = [f("a"), f("b")]"#,
        ),
        case(
            "fn_constant_pattern_miss",
            r#"package t
f("a") = 1
f("b") = 2
p { not f("c") }"#,
        ),
        case("fn_array_pattern", "package t\nf([a, b]) = a + b\np = [f([1, 2]), f([3, 4])]"),
        case("fn_array_pattern_wrong_length", "package t\nf([a, b]) = a + b\np = f([1])"),
        case(
            "fn_object_pattern",
            r#"package t
f({"a": x}) = x
p = f({"a": 5})"#,
        ),
        case(
            "fn_else_chain",
            r#"package t
f(x) = "big" { x > 10 } else = "mid" { x > 5 } else = "small"
p = [f(11), f(6), f(1)]"#,
        ),
        case(
            "fn_else_with_body_vars",
            r#"package t
f(x) = y { y := x.a } else = y { y := x.b } else = "none"
p = [f({"a": 1}), f({"b": 2}), f({})]"#,
        ),
        case(
            "fn_default",
            r#"package t
default f(_) = "none"
f(x) = "one" { x == 1 }
p = [f(1), f(2)]"#,
        ),
        case("fn_default_undefined_argument", "package t\ndefault f(_) = false\np = f(input.missing)"),
        case(
            "fn_returns_false",
            r#"package t
f(x) = false { x == 1 }
f(x) = true { x != 1 }
p = [f(1), f(2)]"#,
        ),
        case("fn_false_negated", "package t\nf(x) = false { x == 1 }\np { not f(1) }"),
        case("fn_false_fails_body", "package t\nf(x) = false { x == 1 }\np { f(1) }"),
        case("fn_boolean", "package t\nf(x) { x > 1 }\np { f(input.n) }").input(r#"{"n": 2}"#),
        case("fn_undefined_argument", "package t\nf(x) = true\np { f(input.missing) }"),
        case("fn_undefined_argument_negated", "package t\nf(x) = true\np { not f(input.missing) }"),
        case(
            "fn_same_arguments_from_several_bodies",
            r#"package t
n(x) = c { c := count(x) }
q { n(input.a) > 1 }
r { n(input.a) < 5 }
s[m] { m := n(input.a) + input.a[_] }
p = [q, r, s]"#,
        )
        .input(r#"{"a": [1, 2, 3]}"#),
        case("fn_conflicting_clauses", "package t\nf(x) = 1 { x > 0 }\nf(x) = 2 { x > 1 }\np = f(5)")
            .errors(),
        case("fn_conflicting_solutions", "package t\nf(x) = y { y := x[_] }\np = f([1, 2])").errors(),
        case("fn_repeated_parameter", "package t\nf(x, x) = true\np = f(1, 1)"),
        // OPA unifies both arguments with `x` (undefined here); regorus's interpreter and ours
        // bind each parameter on its own, and regorus's VM refuses the function.
        case("fn_repeated_parameter_mismatch", "package t\nf(x, x) = true\np = f(1, 2)"),
        case(
            "fn_calls_fn",
            "package t\ninc(x) = x + 1\ntwice(x) = inc(inc(x))\np = [twice(1), twice(input.n)]",
        )
        .input(r#"{"n": 10}"#),
        case(
            "fn_two_arguments",
            r#"package t
has(o, k) { o[k] }
p { has(input.o, "a"); not has(input.o, "b") }"#,
        )
        .input(r#"{"o": {"a": 1}}"#),
        case("fn_v1", "package t\nf(x) := y if {\n  y := x * 2\n}\nf(x) := 0 if x == 0\np := [f(0), f(2)]")
            .v1(),
        case("fn_parameter_shadows_rule", "package t\nq = 5\nf(q) = q + 1\np = f(1)"),
        case("fn_zero_arguments", "package t\nf() = 1\np = f() + 1"),
        case("fn_output_argument", "package t\nf(x) = x + 1\np = y { f(1, y) }"),
        case("fn_output_argument_bound", "package t\nf(x) = x + 1\np { f(1, 2) }"),
        case("fn_comprehension_over_argument", "package t\nf(xs) = [x | x := xs[_]; x > 1]\np = f(input.a)")
            .input(r#"{"a": [1, 2, 3]}"#),
        case(
            "fn_every_in_body",
            r#"package t
all_pos(xs) if {
  every x in xs { x > 0 }
}
p := [true | all_pos(input.a)] if not all_pos(input.b)"#,
        )
        .input(r#"{"a": [1, 2], "b": [1, -1]}"#)
        .v1(),
        case(
            "fn_int_and_float_arguments",
            r#"package t
f(x) = sprintf("%v", [x])
p = [f(1), f(1.0), f(1.5)]"#,
        ),
        case("fn_false_then_else", "package t\nf(x) = false { x == 1 } else = true\np = [f(1), f(2)]"),
    ]
}

fn iteration() -> Vec<Case> {
    vec![
        case("iter_wildcard", "package t\np { input.a[_] == 3 }").input(r#"{"a": [1, 3]}"#),
        case(
            "iter_index",
            r#"package t
p[i] { input.a[i] == "x" }"#,
        )
        .input(r#"{"a": ["x", "y", "x"]}"#),
        case(
            "iter_nested_field_and_element",
            r#"package t
p[[field, name]] {
  c := input.spec[field][_]
  field != "volumes"
  name := c.name
}"#,
        )
        .input(
            r#"{"spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "i"}],
                "volumes": [{"name": "v"}]}}"#,
        ),
        case("iter_object", "package t\np[k] { input.o[k] > 1 }").input(r#"{"o": {"a": 1, "b": 2, "c": 3}}"#),
        case("iter_set_rule", "package t\ns := {1, 2, 3}\np[x] { s[x]; x > 1 }"),
        case("iter_set_literal_var", "package t\np[x] { s := {1, 2, 3}; s[x]; x != 2 }"),
        case("iter_some_index", "package t\np[i] { some i; input.a[i] > 1 }").input(r#"{"a": [1, 2, 3]}"#),
        case("iter_some_in", "package t\nimport future.keywords.in\np[x] { some x in input.a; x > 1 }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case(
            "iter_some_key_value_object",
            "package t\nimport future.keywords.in\np[k] { some k, v in input.o; v > 1 }",
        )
        .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case(
            "iter_some_index_value_array",
            "package t\nimport future.keywords.in\np[[i, x]] { some i, x in input.a; i > 0 }",
        )
        .input(r#"{"a": ["x", "y", "z"]}"#),
        case(
            "iter_some_in_set",
            "package t\nimport future.keywords.in\np[x] { some x in {1, 2, 3}; x != 2 }",
        ),
        case(
            "iter_some_in_pattern",
            r#"package t
import future.keywords.in
p[a] { some [a, "on"] in input.pairs }"#,
        )
        .input(r#"{"pairs": [["x", "on"], ["y", "off"], ["z", "on"]]}"#),
        case(
            "iter_some_in_undefined",
            "package t\nimport future.keywords.in\np[x] { some x in input.missing }",
        ),
        case("iter_string_yields_nothing", "package t\np[x] { x := input.s[_] }").input(r#"{"s": "abc"}"#),
        case(
            "iter_two_levels",
            r#"package t
p[name] {
  c := input.containers[_]
  port := c.ports[_]
  port.hostPort > 0
  name := c.name
}"#,
        )
        .input(
            r#"{"containers": [{"name": "a", "ports": [{"hostPort": 0}, {"hostPort": 80}]},
                {"name": "b", "ports": [{"containerPort": 1}]}, {"name": "c"}]}"#,
        ),
        case("iter_same_var_twice", "package t\np[i] { input.a[i] == input.b[i] }")
            .input(r#"{"a": [1, 2, 3], "b": [1, 0, 3, 4]}"#),
        case("iter_join_on_value", "package t\np[[i, j]] { input.a[i] == input.b[j] }")
            .input(r#"{"a": [1, 2], "b": [2, 1, 2]}"#),
        case("iter_negative_index", "package t\np = input.a[-1]").input(r#"{"a": [1, 2]}"#),
        case("iter_pairs", "package t\np[[x, y]] { x := input.a[_]; y := input.a[_]; x < y }")
            .input(r#"{"a": [3, 1, 2]}"#),
        case("iter_deep", "package t\np[v] { v := input.a[_].b[_] }")
            .input(r#"{"a": [{"b": [1, 2]}, {"b": [3]}, {"c": [4]}, {"b": "s"}]}"#),
        case("iter_over_local", "package t\np { x := input.a; x[_] == 1 }").input(r#"{"a": [0, 1]}"#),
        case(
            "iter_in_call_then_bound",
            r#"package t
p[x] { startswith(input.a[i], "x"); x := input.b[i] }"#,
        )
        .input(r#"{"a": ["xa", "ya", "xb"], "b": [10, 20, 30]}"#),
        case("iter_complete_rule_set", "package t\ns := {1, 2, 3}\np[y] { y := s[_] * 10 }"),
        case(
            "iter_object_values_pattern",
            r#"package t
p[k] { input.o[k] = {"on": true, "n": _} }"#,
        )
        .input(r#"{"o": {"a": {"on": true, "n": 1}, "b": {"on": false, "n": 2}, "c": {"on": true}}}"#),
    ]
}

fn unification() -> Vec<Case> {
    vec![
        case("unify_var_to_ref", "package t\np { x = input.a; x == 1 }").input(r#"{"a": 1}"#),
        case("unify_ref_to_var", "package t\np = x { input.a = x }").input(r#"{"a": [1]}"#),
        case("unify_arrays_both_sides", "package t\np = [x, y] { [x, 1] = [2, y] }").unsupported(),
        case(
            "unify_ref_index_with_constant",
            r#"package t
p[i] { input.a[i] = "x" }"#,
        )
        .input(r#"{"a": ["x", "y", "x"]}"#),
        case(
            "unify_ref_wildcard_with_constant",
            r#"package t
p { input.kinds[_] = "Pod" }"#,
        )
        .input(r#"{"kinds": ["Service", "Pod"]}"#),
        case(
            "unify_constant_with_ref_wildcard",
            r#"package t
p { "Pod" = input.kinds[_] }"#,
        )
        .input(r#"{"kinds": ["Service", "Pod"]}"#),
        case("unify_two_refs_unbound_indices", "package t\np[[i, j]] { input.a[i] = input.b[j] }")
            .input(r#"{"a": [1, 2], "b": [2, 3]}"#),
        case(
            "destructure_split",
            r#"package t
p = [a, b] { [a, b] := split(input.s, ":") }"#,
        )
        .input(r#"{"s": "x:y"}"#),
        case(
            "destructure_split_wrong_length",
            r#"package t
p = [a, b] { [a, b] := split(input.s, ":") }"#,
        )
        .input(r#"{"s": "x:y:z"}"#),
        case(
            "unify_object_pattern",
            r#"package t
p = n { {"name": n, "ns": "a"} = input.o }"#,
        )
        .input(r#"{"o": {"name": "x", "ns": "a"}}"#),
        // OPA: undefined, objects unify only when they have the same keys; regorus unifies a subset.
        case(
            "unify_object_pattern_extra_key",
            r#"package t
p = n { {"name": n} = input.o }"#,
        )
        .input(r#"{"o": {"name": "x", "ns": "a"}}"#)
        .opa("undefined"),
        case(
            "assign_object_destructure",
            r#"package t
p = [n, v] { {"name": n, "value": v} := input.o }"#,
        )
        .input(r#"{"o": {"name": "x", "value": 2}}"#),
        case("unify_fails", "package t\np { [x, 1] = [2, 3] }"),
        case("unify_two_unbound_reordered", "package t\np = [x, y] { x = y; y = input.v }")
            .input(r#"{"v": 4}"#),
        case("unify_nested_array_pattern", "package t\np = b { [_, [b, _]] = input.a }")
            .input(r#"{"a": [1, [2, 3]]}"#),
        case("unify_bound_var_compares", "package t\np { x := 1; x = input.v }").input(r#"{"v": 2}"#),
        case("eq_both_ways", "package t\np { input.a == 1; 1 == input.a }").input(r#"{"a": 1}"#),
        case("unify_ref_generating_key_and_value", "package t\np[[k, v]] { input.o[k] = v }")
            .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case("unify_array_of_refs", "package t\np = [a, b] { [a, b] = [input.x, input.y] }")
            .input(r#"{"x": 1, "y": "2"}"#),
    ]
}

fn negation() -> Vec<Case> {
    vec![
        case("not_missing_ref", "package t\np { not input.missing }"),
        case("not_false_ref", "package t\np { not input.f }").input(r#"{"f": false}"#),
        case("not_true_ref", "package t\np { not input.f }").input(r#"{"f": 1}"#),
        case(
            "not_call",
            r#"package t
p { not startswith(input.s, "x") }"#,
        )
        .input(r#"{"s": "abc"}"#),
        case("not_unify", "package t\np { not input.a = 1 }").input(r#"{"a": 2}"#),
        case("not_iteration", "package t\np { not input.a[_] == 3 }").input(r#"{"a": [1, 2]}"#),
        // OPA: undefined, `_` is local to the negated expression (no element equals 3 is false);
        // regorus (interpreter and VM) iterates it outside the `not`.
        case("not_iteration_found", "package t\np { not input.a[_] == 3 }")
            .input(r#"{"a": [1, 3]}"#)
            .opa("undefined"),
        case("not_double_via_helpers", "package t\np { not q }\nq { not r }\nr { input.x == 1 }")
            .input(r#"{"x": 1}"#),
        case(
            "not_outer_var",
            "package t\ndeny[x] { x := input.deny[_] }\np[x] { x := input.a[_]; not deny[x] }",
        )
        .input(r#"{"a": [1, 2, 3], "deny": [2]}"#),
        // OPA runs the `not` once `x` is bound: {"a"}; regorus runs it with `x` unbound.
        case("not_var_bound_later", "package t\np[x] { not input.deny[x]; x = input.a[_] }")
            .input(r#"{"a": ["a", "b"], "deny": {"b": true}}"#)
            .opa(r#"["a"]"#),
        case("not_set_membership", "package t\np[x] { x := input.a[_]; not input.skip[x] }")
            .input(r#"{"a": ["a", "b"], "skip": {"a": true}}"#),
        case("not_in_comprehension", "package t\np = [x | x := input.a[_]; not input.skip[x]]")
            .input(r#"{"a": ["a", "b"], "skip": {"a": true}}"#),
        case("not_undefined_comparison", "package t\np { not input.x == 1 }"),
    ]
}

fn comprehensions() -> Vec<Case> {
    vec![
        case("compr_array_closure", "package t\np = ys { m := input.m; ys := [y | y := input.a[_]; y > m] }")
            .input(r#"{"a": [1, 2, 3, 2], "m": 1}"#),
        case("compr_set", "package t\np = {x | x := input.a[_]}").input(r#"{"a": [2, 1, 2]}"#),
        case("compr_object", "package t\np = {k: v | v := input.o[k]; v > 1}")
            .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case("compr_nested", "package t\np = [[y | y := x[_]; y > 1] | x := input.m[_]]")
            .input(r#"{"m": [[1, 2], [3], []]}"#),
        case("compr_count", "package t\np { count([x | x := input.a[_]; x > 1]) == 2 }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case(
            "compr_yields_nothing",
            r#"package t
p = [[x | x := input.a[_]; x > 9], {x | x := input.a[_]; x > 9}, {k: 1 | input.o[k] > 9}]"#,
        )
        .input(r#"{"a": [1], "o": {"a": 1}}"#),
        case(
            "compr_var_bound_by_later_literal",
            r#"package t
p = c { c := [x | x := input.a[_]; x > m]; m = 1 }"#,
        )
        .input(r#"{"a": [1, 2, 3]}"#),
        case(
            "compr_per_outer_iteration",
            r#"package t
p[[n, c]] { x := input.cs[_]; n := x.name; c := count([port | port := x.ports[_]]) }"#,
        )
        .input(r#"{"cs": [{"name": "a", "ports": [1, 2]}, {"name": "b", "ports": []}]}"#),
        case("compr_closes_over_eq_var", "package t\np = a { a := [x | x = input.a[_]]; x = 2 }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case(
            "compr_two_with_same_local",
            r#"package t
p = [a, b] { a := [x | x = input.a[_]]; b := {x | x = input.b[_]} }"#,
        )
        .input(r#"{"a": [1], "b": [2]}"#),
        case(
            "compr_object_conflicting_keys",
            r#"package t
p = {k: v | v := input.a[_]; k := "same"}"#,
        )
        .input(r#"{"a": [1, 2]}"#)
        .errors(),
        case(
            "compr_in_head_value",
            r#"package t
p[name] = [i | input.items[i].owner == name] { name := input.owners[_] }"#,
        )
        .input(r#"{"owners": ["a", "b"], "items": [{"owner": "a"}, {"owner": "b"}, {"owner": "a"}]}"#),
    ]
}

fn every_and_in() -> Vec<Case> {
    vec![
        case("every_v1_holds", "package t\np if {\n  every x in input.a { x > 0 }\n}")
            .input(r#"{"a": [1, 2]}"#)
            .v1(),
        case(
            "every_future_keyword_fails",
            r#"package t
import future.keywords.every
import future.keywords.in
p { every x in input.a { x > 1 } }"#,
        )
        .input(r#"{"a": [1, 2]}"#),
        case(
            "every_empty_domain",
            r#"package t
import future.keywords.every
p { every x in input.a { x > 1 } }"#,
        )
        .input(r#"{"a": []}"#),
        case(
            "every_key_value",
            r#"package t
import future.keywords.every
p { every k, v in input.o { startswith(k, "a"); v > 0 } }"#,
        )
        .input(r#"{"o": {"ab": 1, "ac": 2}}"#),
        // OPA: undefined, the domain is bound to a variable before `every` runs.
        case(
            "every_undefined_domain",
            r#"package t
import future.keywords.every
p { every x in input.missing { x > 0 } }"#,
        ),
        // OPA: true, nothing in a string to check; regorus fails `every` over a non-collection.
        case(
            "every_string_domain",
            r#"package t
import future.keywords.every
p { every x in input.s { x > 0 } }"#,
        )
        .input(r#"{"s": "abc"}"#)
        .opa("true"),
        case(
            "every_outer_var",
            r#"package t
import rego.v1
p if {
  m := input.m
  every x in input.a { x < m }
}"#,
        )
        .input(r#"{"a": [1, 2], "m": 3}"#),
        case(
            "every_body_iterates",
            r#"package t
import rego.v1
p if {
  every c in input.cs { c.ports[_] == 80 }
}"#,
        )
        .input(r#"{"cs": [{"ports": [80, 81]}, {"ports": [80]}]}"#),
        case(
            "every_nested",
            r#"package t
import rego.v1
p if {
  every row in input.m {
    every x in row { x > 0 }
  }
}"#,
        )
        .input(r#"{"m": [[1, 2], [3]]}"#),
        case(
            "in_member",
            r#"package t
import future.keywords.in
p { "b" in input.a }"#,
        )
        .input(r#"{"a": ["a", "b"]}"#),
        case(
            "in_member_set_and_object",
            r#"package t
import future.keywords.in
p = [1 in {1, 2}, 3 in {1, 2}, 1 in {"k": 1}]"#,
        ),
        case(
            "in_key_value",
            r#"package t
import future.keywords.in
default a = false
a { "k", 1 in input.o }
default b = false
b { 1, "b" in input.a }
default c = false
c { 0, "b" in input.a }
default d = false
d { "k", 2 in input.o }
p = [a, b, c, d]"#,
        )
        .input(r#"{"o": {"k": 1}, "a": ["a", "b"]}"#),
        case(
            "in_key_value_set",
            r#"package t
import future.keywords.in
default p = false
p { "a", "a" in {"a"} }"#,
        ),
        case(
            "in_key_value_bound_vars",
            r#"package t
import future.keywords.in
p[k] { k := "k"; v := input.o.k; k, v in input.o }"#,
        )
        .input(r#"{"o": {"k": 1}}"#),
        case(
            "not_in",
            r#"package t
import future.keywords.in
p { not "z" in input.a }"#,
        )
        .input(r#"{"a": ["a"]}"#),
        case(
            "in_string_collection",
            r#"package t
import future.keywords.in
p = "a" in "abc""#,
        ),
        case("in_undefined_collection", "package t\nimport future.keywords.in\np { not 1 in input.missing }"),
    ]
}

fn arithmetic() -> Vec<Case> {
    vec![
        case("arith_ints", "package t\np = [1 + 2, 5 - 7, 3 * 4, 10 / 4, 7 % 3, 8 / 2]"),
        case("arith_floats", "package t\np = [0.5 + 0.25, 1.5 * 2, 3.0 / 2, 0.1 + 0.2]"),
        case(
            "arith_big",
            r#"package t
p = [1000000000000000000000 + 1, 1000000000000000000000 * 1000, 1000000000000000000000 / 3]"#,
        ),
        case("arith_big_input", "package t\np = input.n + 1").input(r#"{"n": 1000000000000000000000}"#),
        case("arith_divide_by_zero", "package t\np = x { x := 1 / input.z }").input(r#"{"z": 0}"#),
        case("arith_modulo_by_zero", "package t\np = x { x := 1 % input.z }").input(r#"{"z": 0}"#),
        case("arith_unary_minus_literals", "package t\np = [-5, 3 - -1, -1.5 * 2, input.n - -2]")
            .input(r#"{"n": 5}"#),
        // regorus accepts unary minus on numeric literals only; ours negates any number.
        case("arith_unary_minus_expression", "package t\np = [-input.n]").input(r#"{"n": 5}"#).errors(),
        case("arith_type_error", "package t\np = input.s + 1").input(r#"{"s": "a"}"#).errors(),
        case("arith_modulo_float_error", "package t\np = input.x % 1").input(r#"{"x": 1.5}"#).errors(),
        case(
            "set_operators",
            "package t\np = [s1 - s2, s1 | s2, s1 & s2] { s1 := {1, 2, 3}; s2 := {2, 3, 4} }",
        ),
        case("set_minus_array_error", "package t\np = {1} - input.a").input(r#"{"a": [1]}"#).errors(),
        case(
            "compare_across_types",
            r#"package t
p = [1 < "a", null < false, false < 0, "z" < [], [] < {}, {} < set(), [1, 2] < [1, 3]]"#,
        ),
        case(
            "compare_equal",
            r#"package t
p = [1 == 1.0, [1] == [1], {"a": 1} == {"a": 1}, "a" != "b", {1, 2} == {2, 1}]"#,
        ),
        case("compare_undefined_operand", "package t\np = input.missing == 1"),
        case("compare_big_and_float", "package t\np = [1000000000000000000000 > 1.5, 2.5 >= 2, 3 <= 3.0]"),
    ]
}

fn builtins() -> Vec<Case> {
    vec![
        case(
            "sprintf_formats",
            r#"package t
p = [
  sprintf("%v and %s and %d", [{"a": [1, "x"]}, "s", 3]),
  sprintf("%v", [{"b", "a"}]),
  sprintf("%v|%v|%v", [1.5, true, null]),
  sprintf("%v", [1000000000000000000000]),
]"#,
        ),
        case(
            "string_builtins",
            r#"package t
p = [
  concat(",", ["a", "b"]), concat("/", {"y", "x"}), split("a.b", "."), startswith("abc", "a"),
  endswith("abc", "c"), contains("abc", "b"), trim("  x ", " "), trim_space(" x "),
  trim_prefix("abc", "a"), trim_suffix("abc", "c"), trim_left("xxa", "x"), trim_right("axx", "x"),
  replace("aaa", "a", "b"), lower("AB"), upper("ab"), substring("abcdef", 1, 3), substring("abc", 1, -1),
  indexof("abc", "c"), indexof("abc", "z"), strings.replace_n({"a": "1"}, "aXa"),
]"#,
        ),
        case(
            "regex_and_glob",
            r#"package t
p = [
  regex.match("^a.*z$", "abcz"), regex.match("^[0-9]+$", "12a"),
  glob.match("*.example.com", ["."], "a.example.com"), glob.match("a*", [], "bcd"),
  regex.split(",", "a,b"), regex.replace("a1b2", "[0-9]", "_"),
]"#,
        ),
        case(
            "regex_invalid_pattern",
            r#"package t
p = regex.match("(", "x")"#,
        ),
        case(
            "regex_match_native",
            r#"package t
p = [
  regex.match("^[a-z]+$", "abc"), regex.match("^[a-z]+$", "aBc"), regex.match("(?i-u)^[a-z]+$", "aBc"),
  regex.match("é+", "caféé"), regex.match("^\\d{2}$", "12"), regex.match("a", ""),
]
default q = false
q { regex.match(input.n, "1") }
r { not regex.match("1", input.n) }
s := [p, q, r]"#,
        )
        .input(r#"{"n": 1}"#)
        .entry("data.t.s"),
        // `(?i)` needs the regex crate's Unicode case folding (true, as in OPA).
        case(
            "regex_case_insensitive_flag",
            r#"package t
p = regex.match("(?i)^[a-z]+$", "aBc")"#,
        ),
        case(
            "aggregates",
            r#"package t
p = [
  count(input.a), sum(input.a), max(input.a), min(input.a), sort(input.b), count("abc"), count({"k": 1}),
]"#,
        )
        .input(r#"{"a": [3, 1, 2.5], "b": ["b", "a", 1]}"#),
        case("aggregates_empty", "package t\np = [count([]), sum([]), count(set()), count({})]"),
        case("aggregates_max_empty", "package t\np = max([])"),
        case(
            "object_get",
            r#"package t
p = [
  object.get(input.o, "a", 0), object.get(input.o, "zz", 0), object.get(input.o, ["n", "m"], "d"),
  object.get(input.o, ["n", "x"], "d"), object.get(input.o, [], "d"),
]"#,
        )
        .input(r#"{"o": {"a": 1, "n": {"m": false}}}"#),
        case(
            "object_and_set_builtins",
            r#"package t
p = [
  object.keys(input.o), union({{1}, {2}}), intersection({{1, 2}, {2, 3}}), array.concat([1], [2]),
  object.remove(input.o, ["a"]), object.union({"a": 1}, {"b": 2}), array.slice([1, 2, 3], 1, 2),
]"#,
        )
        .input(r#"{"o": {"a": 1, "b": 2}}"#),
        case(
            "type_checks",
            r#"package t
p = [
  is_string("a"), is_number(1), is_boolean(true), is_array([]), is_object({}), is_set(set()),
  is_null(null), is_string(1), type_name({}),
]"#,
        ),
        case("type_check_false_fails_body", "package t\np { is_string(input.n) }").input(r#"{"n": 1}"#),
        case(
            "conversions",
            r#"package t
p = [
  to_number("12"), to_number("1.5"), to_number(true), format_int(255, 16), format_int(-3.9, 10),
  json.marshal({"a": [1, 2]}), json.unmarshal("{\"x\": [1]}"), base64.encode("hi"), base64.decode("aGk="),
]"#,
        ),
        case(
            "to_number_not_a_number",
            r#"package t
p = to_number("abc")"#,
        ),
        case(
            "semver_and_units",
            r#"package t
p = [
  semver.compare("1.2.3", "1.10.0"), semver.compare("2.0.0", "2.0.0"), semver.is_valid("x"),
  units.parse_bytes("1Ki"), units.parse_bytes("2G"), units.parse_bytes("100"),
]"#,
        ),
        case(
            "startswith_on_non_string",
            r#"package t
default q = false
q { startswith(input.n, "a") }
r { not startswith(input.n, "a") }
p = [q, r]"#,
        )
        .input(r#"{"n": 5}"#),
        case(
            "count_with_output_argument",
            r#"package t
p = n { count(input.a, n) }
q { count(input.a, 3) }
r = [p, q]"#,
        )
        .input(r#"{"a": [1, 2, 3]}"#)
        .entry("data.t.r"),
        case("builtin_output_argument_mismatch", "package t\np { count(input.a, 2) }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case("builtin_undefined_argument", "package t\np = upper(input.missing)"),
        case(
            "sprintf_too_few_arguments",
            r#"package t
p = sprintf("%v %v", [1])"#,
        ),
        case("count_of_undefined", "package t\np { count(input.missing) == 0 }"),
        case(
            "numbers_builtins",
            r#"package t
p = [abs(-2), ceil(1.2), floor(1.8), round(2.5), numbers.range(1, 3)]"#,
        ),
        case(
            "builtin_output_argument_pattern",
            r#"package t
p = a { split(input.s, ":", [a, "y"]) }"#,
        )
        .input(r#"{"s": "x:y"}"#),
        case(
            "ref_on_call_result",
            r#"package t
p = split(input.s, ".")[1]"#,
        )
        .input(r#"{"s": "a.b.c"}"#),
        case("ref_on_comprehension", "package t\np = [x | x := input.a[_]; x > 1][0]")
            .input(r#"{"a": [1, 5, 7]}"#),
        case(
            "strings_raw_and_escaped",
            r#"package t
p = [`a\b`, "a\\b", "t\tx", "\u00e9"]"#,
        ),
    ]
}

const LIB_HELPERS: &str = r#"package lib.helpers
is_big(x) { x > 10 }
limit := 3
names[n] { n := input.names[_] }
"#;

fn imports_and_data() -> Vec<Case> {
    vec![
        case("import_package_call", "package t\nimport data.lib.helpers\np { helpers.is_big(input.n) }")
            .module(LIB_HELPERS)
            .input(r#"{"n": 11}"#),
        case("import_function", "package t\nimport data.lib.helpers.is_big\np { is_big(input.n) }")
            .module(LIB_HELPERS)
            .input(r#"{"n": 11}"#),
        case("import_package_rule", "package t\nimport data.lib.helpers\np = [helpers.limit, helpers.names]")
            .module(LIB_HELPERS)
            .input(r#"{"names": ["a", "b"]}"#),
        case(
            "import_package_iterate",
            "package t\nimport data.lib.helpers\np[upper(n)] { helpers.names[n] }",
        )
        .module(LIB_HELPERS)
        .input(r#"{"names": ["a", "b"]}"#),
        case("call_full_path", "package t\np { data.lib.helpers.is_big(input.n) }")
            .module(LIB_HELPERS)
            .input(r#"{"n": 12}"#),
        case("import_input_alias", "package t\nimport input.review.object as obj\np = obj.metadata.name")
            .input(r#"{"review": {"object": {"metadata": {"name": "x"}}}}"#),
        case("other_package_rule", "package t\np = data.other.q + 1").module("package other\nq = 3"),
        case("other_package_set", "package t\np[x] { data.other.s[x]; x > 1 }")
            .module("package other\ns[x] { x := input.a[_] }")
            .input(r#"{"a": [1, 2, 3]}"#),
        case("same_package_full_path", "package t\nq = 4\np = data.t.q"),
        case("two_modules_same_package", "package t\np[x] { x := input.a[_] }")
            .module("package t\np[x] { x := input.b[_] }")
            .input(r#"{"a": [1], "b": [2]}"#),
        case(
            "data_inventory_lookup",
            r#"package t
p[[ns, name]] {
  obj := data.inventory.namespace[ns][_]["Pod"][name]
  obj.metadata.labels.app == input.app
}"#,
        )
        .input(r#"{"app": "web"}"#)
        .data(
            r#"{"inventory": {"namespace": {
                "a": {"v1": {"Pod": {"p1": {"metadata": {"labels": {"app": "web"}}},
                                     "p2": {"metadata": {"labels": {"app": "db"}}}}}},
                "b": {"v1": {"Pod": {"p3": {"metadata": {"labels": {"app": "web"}}}}},
                      "apps/v1": {"Deployment": {"d": {}}}}}}}"#,
        ),
        case("data_missing", "package t\np { data.inventory.cluster }").data(r#"{"inventory": {}}"#),
        case("data_constant", "package t\np = data.config.limit * 2").data(r#"{"config": {"limit": 4}}"#),
        case("data_beside_own_package", "package t\nq = 1\np = data.t.cfg + q").data(r#"{"t": {"cfg": 2}}"#),
        case("data_under_package_prefix", "package t\np = data.lib.config.x")
            .module(LIB_HELPERS)
            .data(r#"{"lib": {"config": {"x": 1}}}"#),
        case(
            "import_package_alias",
            "package t\nimport data.lib.helpers as h\np { h.is_big(11); h.limit == 3 }",
        )
        .module(LIB_HELPERS),
        case(
            "import_future_keywords_all",
            r#"package t
import future.keywords
p contains x if { some x in input.a; every y in input.a { y >= 0 } }"#,
        )
        .input(r#"{"a": [0, 1]}"#),
        case(
            "import_set_rule",
            r#"package t
import data.lib.helpers.names
p[x] { names[x]; x != "b" }"#,
        )
        .module(LIB_HELPERS)
        .input(r#"{"names": ["a", "b"]}"#),
        case("nested_package", "package a.b\np = 1\nq = data.a.b.p + 1").entry("data.a.b.q"),
    ]
}

fn ordering_and_undefined() -> Vec<Case> {
    vec![
        case("order_compare_before_unify", "package t\np { x == y; y = 1; x = input.v }")
            .input(r#"{"v": 1}"#),
        case("order_call_before_binding", "package t\np { count(xs) == 2; xs = input.a }")
            .input(r#"{"a": [1, 2]}"#),
        case(
            "order_head_var_bound_late",
            r#"package t
p[msg] { msg := sprintf("%v", [x]); x = input.a[_] }"#,
        )
        .input(r#"{"a": [1, 2]}"#),
        // Not valid Rego: OPA and regorus reject `:=` after a use.
        case("order_assign_after_use", "package t\np { x == 1; x := input.v }").input(r#"{"v": 1}"#).errors(),
        case(
            "undefined_in_sprintf",
            r#"package t
p[msg] { msg := sprintf("%v", [input.missing]) }"#,
        ),
        case(
            "undefined_object_field",
            r#"package t
p = {"a": input.missing}"#,
        ),
        case("undefined_array_item", "package t\np { x := [1, input.missing]; true }"),
        case("undefined_arg_in_set_body", "package t\np[x] { x := input.a[_]; lower(input.missing) }")
            .input(r#"{"a": [1]}"#),
        case("local_shadows_rule", "package t\nq = 5\np = r { q := 1; r := q + 1 }"),
        // OPA: `some q` declares a local shadowing the rule q: {0, 1}; regorus reads the rule.
        case("some_shadows_rule", "package t\nq = 5\np[q] { some q; input.a[q] }")
            .input(r#"{"a": [7, 8]}"#)
            .opa("[0, 1]"),
        case("comprehension_local_shadows_rule", "package t\nq = 5\np = [q | q := input.a[_]]")
            .input(r#"{"a": [7]}"#),
    ]
}

fn gatekeeper() -> Vec<Case> {
    vec![
        case(
            "gk_required_labels",
            r#"package k8srequiredlabels
violation[{"msg": msg, "details": {"missing_labels": missing}}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_].key}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}
violation[{"msg": msg}] {
  value := input.review.object.metadata.labels[key]
  expected := input.parameters.labels[_]
  expected.key == key
  expected.allowedRegex != ""
  not regex.match(expected.allowedRegex, value)
  msg := sprintf("Label <%v: %v> does not satisfy allowed regex: %v", [key, value, expected.allowedRegex])
}"#,
        )
        .entry("data.k8srequiredlabels.violation")
        .input(
            r#"{"review": {"object": {"metadata": {"labels": {"owner": "Me"}}}},
                "parameters": {"labels": [{"key": "owner", "allowedRegex": "^[a-z]+$"}, {"key": "team"}]}}"#,
        ),
        case(
            "gk_container_limits",
            r#"package k8scontainerlimits
missing(obj, field) = true { not obj[field] }
missing(obj, field) = true { obj[field] == "" }
canonify_mem(orig) = new { is_number(orig); new := orig * 1000 }
canonify_mem(orig) = new {
  not is_number(orig)
  endswith(orig, "Mi")
  new := to_number(replace(orig, "Mi", "")) * 1000
}
canonify_mem(orig) = new {
  not is_number(orig)
  endswith(orig, "Gi")
  new := to_number(replace(orig, "Gi", "")) * 1024000
}
general_violation[{"msg": msg, "field": field}] {
  container := input.review.object.spec[field][_]
  not container.resources.limits
  msg := sprintf("container <%v> has no resource limits", [container.name])
}
general_violation[{"msg": msg, "field": field}] {
  container := input.review.object.spec[field][_]
  mem_orig := container.resources.limits.memory
  mem := canonify_mem(mem_orig)
  max_mem := canonify_mem(input.parameters.memory)
  mem > max_mem
  msg := sprintf("container <%v> memory limit <%v> is higher than the maximum allowed of <%v>",
    [container.name, mem_orig, input.parameters.memory])
}
general_violation[{"msg": msg, "field": field}] {
  container := input.review.object.spec[field][_]
  missing(container.resources.limits, "cpu")
  msg := sprintf("container <%v> has no cpu limit", [container.name])
}
violation[{"msg": msg}] {
  general_violation[{"msg": msg, "field": "containers"}]
}
violation[{"msg": msg}] {
  general_violation[{"msg": msg, "field": "initContainers"}]
}"#,
        )
        .entry("data.k8scontainerlimits.violation")
        .input(
            r#"{"parameters": {"memory": "1Gi"},
                "review": {"object": {"spec": {
                  "containers": [
                    {"name": "a", "resources": {"limits": {"memory": "2Gi", "cpu": "1"}}},
                    {"name": "b", "resources": {"limits": {"memory": "512Mi", "cpu": ""}}},
                    {"name": "c"}],
                  "initContainers": [{"name": "i", "resources": {"limits": {"memory": 2000000}}}]}}}}"#,
        ),
        case(
            "gk_allowed_repos",
            r#"package k8sallowedrepos
violation[{"msg": msg}] {
  container := input_containers[_]
  satisfied := [good | repo = input.parameters.repos[_]; good = startswith(container.image, repo)]
  not any_true(satisfied)
  msg := sprintf("container <%v> has an invalid image repo <%v>, allowed repos are %v",
    [container.name, container.image, input.parameters.repos])
}
any_true(xs) { xs[_] == true }
input_containers[c] { c := input.review.object.spec.containers[_] }
input_containers[c] { c := input.review.object.spec.initContainers[_] }"#,
        )
        .entry("data.k8sallowedrepos.violation")
        .input(
            r#"{"parameters": {"repos": ["gcr.io/ok/", "docker.io/lib/"]},
                "review": {"object": {"spec": {
                  "containers": [{"name": "a", "image": "gcr.io/ok/x"}, {"name": "b", "image": "quay.io/y"}],
                  "initContainers": [{"name": "i", "image": "evil/z"}]}}}}"#,
        ),
        case(
            "gk_host_ports_with_exemptions",
            r#"package k8spsphostnetworkingports
import future.keywords.every
violation[{"msg": msg, "details": {}}] {
  c := input_containers[_]
  not is_exempt(c)
  not input_container_allowed(c)
  msg := sprintf("The specified hostNetwork and hostPort are not allowed, pod: %v. Allowed values: %v",
    [input.review.object.metadata.name, input.parameters])
}
is_exempt(container) {
  exempt_images := object.get(object.get(input, "parameters", {}), "exemptImages", [])
  img := container.image
  exemption := exempt_images[_]
  _matches_exemption(img, exemption)
}
_matches_exemption(img, exemption) { not endswith(exemption, "*"); exemption == img }
_matches_exemption(img, exemption) {
  endswith(exemption, "*")
  prefix := trim_suffix(exemption, "*")
  startswith(img, prefix)
}
input_container_allowed(c) {
  every port in object.get(c, "ports", []) {
    hp := object.get(port, "hostPort", 0)
    hp == 0
  }
}
input_container_allowed(c) {
  hostPort := c.ports[_].hostPort
  hostPort >= input.parameters.min
  hostPort <= input.parameters.max
}
input_containers[c] { c := input.review.object.spec.containers[_] }
input_containers[c] { c := input.review.object.spec.initContainers[_] }"#,
        )
        .entry("data.k8spsphostnetworkingports.violation")
        .input(
            r#"{"parameters": {"min": 80, "max": 90, "exemptImages": ["safe/*"]},
                "review": {"object": {"metadata": {"name": "pod"}, "spec": {
                  "containers": [{"name": "a", "image": "x", "ports": [{"hostPort": 8080}]},
                                 {"name": "b", "image": "safe/y", "ports": [{"hostPort": 1}]},
                                 {"name": "c", "image": "x", "ports": [{"containerPort": 1}]},
                                 {"name": "d", "image": "x", "ports": [{"hostPort": 85}]}]}}}}"#,
        ),
        case(
            "gk_unique_ingress_host_inventory",
            r#"package k8suniqueingresshost
identical(obj, review) {
  obj.metadata.namespace == review.object.metadata.namespace
  obj.metadata.name == review.object.metadata.name
}
violation[{"msg": msg}] {
  input.review.kind.kind == "Ingress"
  host := input.review.object.spec.rules[_].host
  other := data.inventory.namespace[_][_]["Ingress"][_]
  other.spec.rules[_].host == host
  not identical(other, input.review)
  msg := sprintf("ingress host conflicts with an existing ingress <%v>", [host])
}"#,
        )
        .entry("data.k8suniqueingresshost.violation")
        .input(
            r#"{"review": {"kind": {"kind": "Ingress"}, "object": {
                "metadata": {"name": "i1", "namespace": "a"},
                "spec": {"rules": [{"host": "x.com"}, {"host": "y.com"}]}}}}"#,
        )
        .data(
            r#"{"inventory": {"namespace": {
                "a": {"networking.k8s.io/v1": {"Ingress": {"i1": {
                  "metadata": {"name": "i1", "namespace": "a"}, "spec": {"rules": [{"host": "x.com"}]}}}}},
                "b": {"networking.k8s.io/v1": {"Ingress": {"i2": {
                  "metadata": {"name": "i2", "namespace": "b"},
                  "spec": {"rules": [{"host": "y.com"}]}}}}}}}}"#,
        ),
        case(
            "gk_lib_import",
            r#"package k8sdisallowedtags
import data.lib.exempt_container.is_exempt
violation[{"msg": msg}] {
  container := input.review.object.spec.containers[_]
  not is_exempt(container)
  tags := [tag_with_prefix | tag := input.parameters.tags[_]; tag_with_prefix := concat(":", ["", tag])]
  strings.any_suffix_match(container.image, tags)
  msg := sprintf("container <%v> uses a disallowed tag <%v>; disallowed tags are %v",
    [container.name, container.image, input.parameters.tags])
}
violation[{"msg": msg}] {
  container := input.review.object.spec.containers[_]
  not is_exempt(container)
  not contains(container.image, ":")
  msg := sprintf("container <%v> didn't specify an image tag <%v>", [container.name, container.image])
}"#,
        )
        .module(
            r#"package lib.exempt_container
is_exempt(container) {
  exempt_images := object.get(object.get(input, "parameters", {}), "exemptImages", [])
  img := container.image
  exemption := exempt_images[_]
  _matches_exemption(img, exemption)
}
_matches_exemption(img, exemption) { not endswith(exemption, "*"); exemption == img }
_matches_exemption(img, exemption) {
  endswith(exemption, "*")
  prefix := trim_suffix(exemption, "*")
  startswith(img, prefix)
}"#,
        )
        .entry("data.k8sdisallowedtags.violation")
        .input(
            r#"{"parameters": {"tags": ["latest"], "exemptImages": ["ok/*"]},
                "review": {"object": {"spec": {"containers": [
                  {"name": "a", "image": "x:latest"}, {"name": "b", "image": "y"},
                  {"name": "c", "image": "ok/z:latest"}, {"name": "d", "image": "w:1.0"}]}}}}"#,
        ),
        case(
            "gk_v1_template",
            r#"package k8sblockwildcard
import rego.v1
violation contains {"msg": msg} if {
  input.review.kind.kind == "Ingress"
  some rule in input.review.object.spec.rules
  contains(rule.host, "*")
  msg := sprintf("Hostname '%v' is not allowed since it counts as a wildcard", [rule.host])
}"#,
        )
        .entry("data.k8sblockwildcard.violation")
        .input(
            r#"{"review": {"kind": {"kind": "Ingress"},
                "object": {"spec": {"rules": [{"host": "*.a.com"}, {"host": "b.com"}]}}}}"#,
        ),
    ]
}

fn unsupported() -> Vec<Case> {
    vec![
        case(
            "unsupported_with",
            r#"package t
q { input.x == 1 }
p { q with input as {"x": 1} }"#,
        )
        .unsupported(),
        // `walk` is refused too, but rampart builds regorus without it (feature `graph`).
        case(
            "unsupported_rand",
            r#"package t
p = rand.intn("seed", 1)"#,
        )
        .unsupported(),
        case(
            "unsupported_print",
            r#"package t
p { print("x") }"#,
        )
        .unsupported(),
        case("unsupported_nested_rule_head", "package t\np := 1\na.b.c := 2").unsupported(),
        case("unsupported_package_as_value", "package t\np = data.lib.helpers")
            .module(LIB_HELPERS)
            .input(r#"{"names": ["a"]}"#)
            .unsupported(),
        case("unsupported_data_as_value", "package t\np = count(data)").unsupported(),
    ]
}

#[test]
fn agrees_with_regorus() {
    let groups = [
        complete_rules(),
        partial_rules(),
        functions(),
        iteration(),
        unification(),
        negation(),
        comprehensions(),
        every_and_in(),
        arithmetic(),
        builtins(),
        imports_and_data(),
        ordering_and_undefined(),
        gatekeeper(),
        unsupported(),
    ];
    let cases: Vec<Case> = groups.into_iter().flatten().collect();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "two cases are named {}", c.name);
    }
    let failures: Vec<String> =
        cases.iter().filter_map(|c| c.check().map(|problem| format!("{}: {problem}", c.name))).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with regorus:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// A body far longer than any policy's stops with an error, not a stack
/// overflow, on a thread with a webhook worker's 2 MiB of stack.
#[test]
fn very_long_bodies_fail_cleanly() {
    let mut rego = String::from("package t\np = x0 {\n  x0 := 1\n");
    for i in 1..5000 {
        rego.push_str(&format!("  x{i} := x{}\n", i - 1));
    }
    rego.push_str("}\n");
    let result = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let policy =
                Policy::compile(&[Module { label: "long.rego", text: &rego, v1: false }], "data.t.p")?;
            policy.eval(&Value::new_object(), &Value::new_object(), None)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(matches!(&result, Err(Error::Eval(m)) if m.contains("deeper than")), "{result:?}");
}

/// Results of functions that read only their arguments are kept from one
/// evaluation to the next; a function that reads `input`, or calls one
/// that does, is evaluated again for each input.
#[test]
fn only_pure_function_results_outlive_an_evaluation() {
    let rego = r#"package t
double(x) = y { y := x * 2 }
scaled(x) = y { y := x * input.factor }
indirect(x) = y { y := scaled(x) + 0 }
p = [double(3), scaled(3), indirect(3)]
"#;
    let policy =
        Policy::compile(&[Module { label: "pure.rego", text: rego, v1: false }], "data.t.p").unwrap();
    let data = Value::new_object();
    for factor in [1, 10, 100] {
        let input = Value::from_json_str(&format!(r#"{{"factor": {factor}}}"#)).unwrap();
        let got = policy.eval(&data, &input, None).unwrap();
        let want = Value::from_json_str(&format!("[6, {0}, {0}]", 3 * factor)).unwrap();
        assert_eq!(got, want, "factor {factor}");
    }
}
