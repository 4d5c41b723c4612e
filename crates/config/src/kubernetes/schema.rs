//! The schema check kubeconform-style tools make: every field of a built-in
//! kind must exist in the API, and every value must have the field's type,
//! as the API server's decoder judges them. A misspelt
//! `readOnlyRootFilesystem` is not an error to `kubectl apply` without strict
//! validation: the setting is dropped and the container is left as it was.
//!
//! Field names and types come from `schema.txt`, generated from the
//! Kubernetes API by `scripts/gen-k8s-schema`.

use std::collections::HashMap;
use std::sync::OnceLock;

use rampart_types::Severity;

use super::object::{Loc, Object};
use super::{Check, Run, Sink};
use rampart_yaml::{Node, Value};

const SCHEMA: &str = include_str!("schema.txt");

/// The kinds `schema.txt` describes (for one apiVersion each).
const KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Service",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Namespace",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "LimitRange",
    "ResourceQuota",
    "Endpoints",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Ingress",
    "IngressClass",
    "NetworkPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// A field's type.
#[derive(Debug, PartialEq)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
    /// Int-or-string and raw JSON fields: anything goes.
    Any,
    /// A resource quantity: a number or a string.
    Quantity,
    Named(&'static str),
    List(Box<Ty>),
    Map(Box<Ty>),
}

impl Ty {
    fn parse(text: &'static str) -> Ty {
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return Ty::List(Box::new(Ty::parse(inner)));
        }
        if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            return Ty::Map(Box::new(Ty::parse(inner)));
        }
        match text {
            "str" => Ty::Str,
            "int" => Ty::Int,
            "float" => Ty::Float,
            "bool" => Ty::Bool,
            "any" => Ty::Any,
            "quantity" => Ty::Quantity,
            name => Ty::Named(name),
        }
    }

    /// How a message names the expected value.
    fn expected(&self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Int => "an integer",
            Ty::Float => "a number",
            Ty::Bool => "true or false",
            Ty::Any | Ty::Quantity => "a value",
            Ty::Named(_) | Ty::Map(_) => "a mapping",
            Ty::List(_) => "a list",
        }
    }
}

struct Schema {
    /// `(apiVersion, kind)` → the type of the object.
    kinds: HashMap<(&'static str, &'static str), &'static str>,
    types: HashMap<&'static str, HashMap<&'static str, Ty>>,
}

fn schema() -> &'static Schema {
    static PARSED: OnceLock<Schema> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut schema = Schema { kinds: HashMap::new(), types: HashMap::new() };
        for line in SCHEMA.lines() {
            let mut words = line.split(' ');
            match words.next() {
                Some("kind") => {
                    if let (Some(version), Some(kind), Some(ty)) = (words.next(), words.next(), words.next())
                    {
                        schema.kinds.insert((version, kind), ty);
                    }
                }
                Some("type") => {
                    let Some(name) = words.next() else { continue };
                    let fields = words
                        .filter_map(|w| w.split_once(':'))
                        .map(|(field, ty)| (field, Ty::parse(ty)))
                        .collect();
                    schema.types.insert(name, fields);
                }
                _ => {}
            }
        }
        schema
    })
}

pub(crate) static UNKNOWN_FIELD: Check = Check {
    id: "RPT-K8S-010",
    severity: Severity::Medium,
    pss: None,
    title: "Unknown field",
    description: "The API server drops a field its kind does not have (or refuses the object under \
                  strict validation): a misspelt or misplaced setting such as readOnlyRootFilesystem \
                  silently leaves the workload without it.",
    resolution: "Fix the field's name or indentation; `kubectl explain <kind>.<path>` lists the valid \
                 fields.",
    run: Run::Kinds(KINDS, unknown_fields),
};

pub(crate) static WRONG_TYPE: Check = Check {
    id: "RPT-K8S-011",
    severity: Severity::Medium,
    pss: None,
    title: "Value of the wrong type",
    description: "The API server refuses an object whose value does not fit its field: a quoted port \
                  number, an unquoted number or boolean where a string belongs (an env value, a \
                  label), a single value where a list belongs.",
    resolution: "Write the value as the field's type: quote strings, leave numbers and booleans \
                 unquoted, use a list or mapping where one is expected.",
    run: Run::Kinds(KINDS, wrong_types),
};

/// What the walk found wrong.
enum Problem {
    Unknown { path: String, loc: Loc },
    Type { path: String, expected: &'static str, loc: Loc },
}

fn problems(object: &Object<'_>) -> Vec<Problem> {
    let schema = schema();
    let version = object.root.get("apiVersion").and_then(|e| e.value.as_str()).unwrap_or_default();
    let Some(&ty) = schema.kinds.get(&(version, object.kind)) else { return Vec::new() };
    let mut out = Vec::new();
    walk(schema, object.root, &Ty::Named(ty), &mut String::new(), &mut out);
    out
}

fn unknown_fields(object: &Object<'_>, out: &mut Sink<'_>) {
    for problem in problems(object) {
        if let Problem::Unknown { path, loc } = problem {
            out.fail(loc, format!("{} has a field {path} that its kind does not have", object.resource));
        }
    }
}

fn wrong_types(object: &Object<'_>, out: &mut Sink<'_>) {
    for problem in problems(object) {
        if let Problem::Type { path, expected, loc } = problem {
            out.fail(loc, format!("{} sets {path} to a value that is not {expected}", object.resource));
        }
    }
}

fn walk(schema: &Schema, node: &Node, ty: &Ty, path: &mut String, out: &mut Vec<Problem>) {
    let fits = match (ty, &node.value) {
        (_, Value::Null) | (Ty::Any | Ty::Quantity, Value::Scalar { .. }) => true,
        (Ty::Any, _) => true,
        (Ty::Str, Value::Scalar { .. }) => !(node.as_bool().is_some() || is_number(node)),
        (Ty::Int, Value::Scalar { .. }) => node.as_int().is_some(),
        (Ty::Float, Value::Scalar { .. }) => is_number(node),
        (Ty::Bool, Value::Scalar { .. }) => node.as_bool().is_some(),
        (Ty::List(item), Value::Seq(items)) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(schema, child, item, path, out);
                path.truncate(len);
            }
            true
        }
        (Ty::Map(value), Value::Map(entries)) => {
            for entry in entries {
                let len = path.len();
                path.push_str(&format!("[{}]", entry.key));
                walk(schema, &entry.value, value, path, out);
                path.truncate(len);
            }
            true
        }
        (Ty::Named(name), Value::Map(entries)) => {
            let Some(fields) = schema.types.get(name) else { return };
            for entry in entries {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&entry.key);
                match fields.get(entry.key.as_str()) {
                    Some(field) => walk(schema, &entry.value, field, path, out),
                    None => out.push(Problem::Unknown {
                        path: path.clone(),
                        loc: Loc { start: entry.line, end: entry.line },
                    }),
                }
                path.truncate(len);
            }
            true
        }
        _ => false,
    };
    if !fits {
        out.push(Problem::Type { path: path.clone(), expected: ty.expected(), loc: Loc::node(node) });
    }
}

/// Whether a plain scalar reads as a number, as Kubernetes' YAML decoder
/// (YAML 1.1) reads it: integers, decimals, exponents, `0x`/`0o` forms.
fn is_number(node: &Node) -> bool {
    let Value::Scalar { text, plain: true } = &node.value else { return false };
    let t = text.replace('_', "");
    let digits = t.strip_prefix(['-', '+']).unwrap_or(&t);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| c.is_digit(8));
    }
    matches!(digits, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
        || (digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && digits.chars().any(|c| c.is_ascii_digit())
            && digits.parse::<f64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_and_every_type_resolves() {
        let schema = schema();
        let mut kinds: Vec<_> = schema.kinds.keys().map(|(_, kind)| *kind).collect();
        kinds.sort_unstable();
        let mut listed = KINDS.to_vec();
        listed.sort_unstable();
        assert_eq!(kinds, listed);
        fn named(ty: &Ty) -> Option<&'static str> {
            match ty {
                Ty::Named(n) => Some(n),
                Ty::List(t) | Ty::Map(t) => named(t),
                _ => None,
            }
        }
        for (name, fields) in &schema.types {
            for (field, ty) in fields {
                if let Some(target) = named(ty) {
                    assert!(schema.types.contains_key(target), "{name}.{field}: {target}");
                }
            }
        }
        assert!(schema.types["V1Container"].contains_key("securityContext"));
    }
}
