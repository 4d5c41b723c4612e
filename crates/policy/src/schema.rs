//! A loose check of constraint parameters against the template's
//! openAPIV3Schema: types, enums, nested properties and items. Fields the
//! schema does not describe are accepted.

use serde_json::Value as Json;

/// Checking stops after this many problems or this depth; the first few say enough.
const MAX_ERRORS: usize = 20;
const MAX_DEPTH: usize = 64;

pub(crate) fn check(schema: &Json, value: &Json, at: &str, errors: &mut Vec<String>) {
    check_at(schema, value, at, errors, 0);
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn check_at(schema: &Json, value: &Json, at: &str, errors: &mut Vec<String>, depth: usize) {
    if errors.len() >= MAX_ERRORS || depth > MAX_DEPTH || !schema.is_object() {
        return;
    }
    // Kubernetes leaves these to the API server's own rules.
    if schema.get("x-kubernetes-int-or-string").and_then(Json::as_bool) == Some(true)
        || schema.get("x-kubernetes-preserve-unknown-fields").and_then(Json::as_bool) == Some(true)
            && schema.get("type").is_none()
    {
        return;
    }
    // The API server drops nulls of non-nullable fields rather than refusing them.
    if value.is_null() {
        return;
    }
    if let Some(want) = schema.get("type").and_then(Json::as_str) {
        let got = type_name(value);
        let ok = match want {
            "number" => matches!(got, "number" | "integer"),
            "integer" => got == "integer" || value.as_f64().is_some_and(|f| f.fract() == 0.0),
            other => got == other,
        };
        if !ok {
            errors.push(format!("{at}: expected {want}, got {got}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Json::as_array)
        && !options.contains(value)
    {
        let list: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        errors.push(format!("{at}: {value} is not one of {}", list.join(", ")));
    }
    match value {
        Json::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Json::as_object) {
                for (k, v) in map {
                    if let Some(s) = props.get(k) {
                        check_at(s, v, &format!("{at}.{k}"), errors, depth + 1);
                    }
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                let props = schema.get("properties").and_then(Json::as_object);
                for (k, v) in map {
                    if props.is_none_or(|p| !p.contains_key(k)) {
                        check_at(extra, v, &format!("{at}.{k}"), errors, depth + 1);
                    }
                }
            }
            if let Some(required) = schema.get("required").and_then(Json::as_array) {
                for r in required.iter().filter_map(Json::as_str) {
                    if !map.contains_key(r) {
                        errors.push(format!("{at}.{r}: required field is missing"));
                    }
                }
            }
        }
        Json::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check_at(item_schema, v, &format!("{at}[{i}]"), errors, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table() {
        let schema = json!({
            "type": "object",
            "properties": {
                "labels": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "allowedRegex": {"type": "string"}}}},
                "ratio": {"type": "number"},
                "count": {"type": "integer"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "limits": {"type": "object", "additionalProperties": {"type": "string"}},
                "cpu": {"x-kubernetes-int-or-string": true},
            }
        });
        let cases = [
            (json!({"labels": [{"key": "owner"}]}), vec![]),
            (
                json!({"labels": [{"key": 3}]}),
                vec!["spec.parameters.labels[0].key: expected string, got integer"],
            ),
            (json!({"labels": "owner"}), vec!["spec.parameters.labels: expected array, got string"]),
            (json!({"ratio": 2, "count": 3.0, "unknown": true}), vec![]),
            (json!({"count": 1.5}), vec!["spec.parameters.count: expected integer, got number"]),
            (json!({"mode": "c"}), vec!["spec.parameters.mode: \"c\" is not one of \"a\", \"b\""]),
            (json!({"limits": {"x": 1}}), vec!["spec.parameters.limits.x: expected string, got integer"]),
            (json!({"cpu": "200m"}), vec![]),
            (json!({"cpu": 2}), vec![]),
            (json!([]), vec!["spec.parameters: expected object, got array"]),
        ];
        for (value, want) in cases {
            let mut errors = Vec::new();
            check(&schema, &value, "spec.parameters", &mut errors);
            assert_eq!(errors, want, "{value}");
        }
    }
}
