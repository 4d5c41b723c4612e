//! Constraints: which objects they select (`spec.match`), their parameters
//! and their enforcement actions.

use serde_json::Value as Json;

use crate::yaml::str_at;
use crate::{EnforcementAction, Error};

/// Enforcement points, as Gatekeeper names them in `scopedEnforcementActions`.
pub(crate) const POINT_WEBHOOK: &str = "validation.gatekeeper.sh";
pub(crate) const POINT_AUDIT: &str = "audit.gatekeeper.sh";
pub(crate) const POINT_GATOR: &str = "gator.gatekeeper.sh";

pub(crate) struct Constraint {
    pub kind: String,
    pub name: String,
    pub matcher: Match,
    /// `spec.parameters` (an empty object when absent) as Rego input.
    pub parameters: regorus::Value,
    pub actions: Actions,
}

#[derive(Debug)]
pub(crate) enum Actions {
    All(EnforcementAction),
    /// `enforcementAction: scoped`: the actions that apply at each enforcement point.
    Scoped(Vec<(EnforcementAction, Vec<String>)>),
}

impl Actions {
    /// The action at an enforcement point; `None` when the constraint does
    /// not act there. Several scoped actions at one point resolve to the strictest.
    pub fn at(&self, point: &str) -> Option<EnforcementAction> {
        match self {
            Actions::All(a) => Some(*a),
            Actions::Scoped(list) => list
                .iter()
                .filter(|(_, points)| points.iter().any(|p| p == "*" || p == point))
                .map(|(a, _)| *a)
                .min_by_key(|a| match a {
                    EnforcementAction::Deny => 0,
                    EnforcementAction::Warn => 1,
                    EnforcementAction::Dryrun => 2,
                }),
        }
    }
}

/// A Gatekeeper name pattern: exact, `prefix*`, `*suffix` or `*infix*`.
#[derive(Clone, Debug)]
pub(crate) struct Wildcard(String);

impl Wildcard {
    pub fn matches(&self, candidate: &str) -> bool {
        let w = self.0.as_str();
        match (w.strip_prefix('*'), w.strip_suffix('*')) {
            (Some(rest), Some(_)) if w.len() >= 2 => candidate.contains(&rest[..rest.len() - 1]),
            (Some(suffix), None) => candidate.ends_with(suffix),
            (None, Some(prefix)) => candidate.starts_with(prefix),
            (Some(_), Some(_)) => true, // "*" alone
            (None, None) => candidate == w,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct KindSelector {
    groups: Vec<String>,
    kinds: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Any,
    Cluster,
    Namespaced,
}

#[derive(Clone, Debug)]
pub(crate) enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LabelSelector {
    match_labels: Vec<(String, String)>,
    expressions: Vec<Requirement>,
}

impl LabelSelector {
    pub fn matches(&self, labels: Option<&serde_json::Map<String, Json>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Json::as_str);
        self.match_labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
            && self.expressions.iter().all(|r| match r {
                Requirement::In(k, vals) => get(k).is_some_and(|v| vals.iter().any(|x| x == v)),
                Requirement::NotIn(k, vals) => get(k).is_none_or(|v| !vals.iter().any(|x| x == v)),
                Requirement::Exists(k) => get(k).is_some(),
                Requirement::DoesNotExist(k) => get(k).is_none(),
            })
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Match {
    kinds: Vec<KindSelector>,
    scope: Option<Scope>,
    namespaces: Vec<Wildcard>,
    excluded_namespaces: Vec<Wildcard>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    name: Option<Wildcard>,
}

/// What matching needs to know about the object under review.
pub(crate) struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// The object's namespace (request or metadata), "" for cluster-scoped objects.
    pub namespace: &'a str,
    pub labels: Option<&'a serde_json::Map<String, Json>>,
    /// The Namespace object of `namespace`, when known.
    pub namespace_object: Option<&'a Json>,
}

impl Target<'_> {
    fn is_namespace(&self) -> bool {
        self.kind == "Namespace" && self.group.is_empty()
    }

    /// The namespace name the namespace matchers judge.
    fn namespace_name(&self) -> Option<&str> {
        if self.is_namespace() {
            Some(self.name)
        } else if let Some(n) = self.namespace_object.and_then(|n| str_at(n, &["metadata", "name"])) {
            Some(n)
        } else if !self.namespace.is_empty() {
            Some(self.namespace)
        } else {
            None
        }
    }
}

/// Why a constraint could not decide whether it selects an object; Gatekeeper
/// rejects such requests.
pub(crate) struct MatchError(pub String);

impl Match {
    /// The kind matcher alone: cheap, checked before anything else.
    pub fn kind_matches(&self, group: &str, kind: &str) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                (k.kinds.is_empty() || k.kinds.iter().any(|x| x == "*" || x == kind))
                    && (k.groups.is_empty() || k.groups.iter().any(|g| g == "*" || g == group))
            })
    }

    pub fn matches(&self, t: &Target<'_>) -> Result<bool, MatchError> {
        if !self.kind_matches(t.group, t.kind) {
            return Ok(false);
        }
        let has_namespace = !t.namespace.is_empty() || t.namespace_object.is_some();
        match self.scope {
            Some(Scope::Cluster) if !t.is_namespace() && has_namespace => return Ok(false),
            Some(Scope::Namespaced) if t.is_namespace() || !has_namespace => return Ok(false),
            _ => {}
        }
        if !self.namespaces.is_empty()
            && let Some(ns) = t.namespace_name()
            && !self.namespaces.iter().any(|w| w.matches(ns))
        {
            return Ok(false);
        }
        if let Some(ns) = t.namespace_name()
            && self.excluded_namespaces.iter().any(|w| w.matches(ns))
        {
            return Ok(false);
        }
        if let Some(sel) = &self.label_selector
            && !sel.matches(t.labels)
        {
            return Ok(false);
        }
        if let Some(sel) = &self.namespace_selector {
            if t.is_namespace() {
                if !sel.matches(t.labels) {
                    return Ok(false);
                }
            } else if let Some(ns) = t.namespace_object {
                let labels = ns.pointer("/metadata/labels").and_then(Json::as_object);
                if !sel.matches(labels) {
                    return Ok(false);
                }
            } else if !t.namespace.is_empty() {
                return Err(MatchError(format!(
                    "namespaceSelector needs the Namespace object of `{}`, which is unknown",
                    t.namespace
                )));
            }
        }
        if let Some(name) = &self.name
            && !name.matches(t.name)
        {
            return Ok(false);
        }
        Ok(true)
    }
}

fn invalid(source: &str, kind: &str, name: &str, message: impl std::fmt::Display) -> Error {
    Error::Invalid {
        source_name: source.to_string(),
        message: format!("constraint {kind}/{name}: {message}"),
    }
}

fn strings(v: Option<&Json>, field: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_str().map(str::to_string).ok_or_else(|| format!("{field}[{i}] must be a string"))
            })
            .collect(),
        Some(_) => Err(format!("{field} must be a list of strings")),
    }
}

fn label_selector(v: &Json, field: &str) -> Result<LabelSelector, String> {
    let obj = v.as_object().ok_or_else(|| format!("{field} must be an object"))?;
    let mut sel = LabelSelector::default();
    if let Some(ml) = obj.get("matchLabels").filter(|v| !v.is_null()) {
        let ml = ml.as_object().ok_or_else(|| format!("{field}.matchLabels must be a map of strings"))?;
        for (k, v) in ml {
            let v = v.as_str().ok_or_else(|| format!("{field}.matchLabels.{k} must be a string"))?;
            sel.match_labels.push((k.clone(), v.to_string()));
        }
    }
    if let Some(me) = obj.get("matchExpressions").filter(|v| !v.is_null()) {
        let me = me.as_array().ok_or_else(|| format!("{field}.matchExpressions must be a list"))?;
        for (i, e) in me.iter().enumerate() {
            let at = format!("{field}.matchExpressions[{i}]");
            let key = str_at(e, &["key"]).ok_or_else(|| format!("{at}.key is missing"))?.to_string();
            let values = strings(e.get("values"), &format!("{at}.values"))?;
            let op = str_at(e, &["operator"]).unwrap_or_default();
            sel.expressions.push(match op {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(format!("{at}: operator {op} needs at least one value"));
                }
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(format!("{at}: operator {op} takes no values"));
                }
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                other => {
                    return Err(format!("{at}.operator `{other}` is not In, NotIn, Exists or DoesNotExist"));
                }
            });
        }
    }
    Ok(sel)
}

fn parse_match(m: &Json) -> Result<Match, String> {
    let mut out = Match::default();
    if m.is_null() {
        return Ok(out);
    }
    if !m.is_object() {
        return Err("spec.match must be an object".into());
    }
    if let Some(kinds) = m.get("kinds").filter(|v| !v.is_null()) {
        let kinds = kinds.as_array().ok_or("spec.match.kinds must be a list")?;
        for (i, k) in kinds.iter().enumerate() {
            out.kinds.push(KindSelector {
                groups: strings(k.get("apiGroups"), &format!("spec.match.kinds[{i}].apiGroups"))?,
                kinds: strings(k.get("kinds"), &format!("spec.match.kinds[{i}].kinds"))?,
            });
        }
    }
    out.scope = match str_at(m, &["scope"]) {
        None | Some("*") => None,
        Some("Cluster") => Some(Scope::Cluster),
        Some("Namespaced") => Some(Scope::Namespaced),
        // Gatekeeper treats unknown scopes as `*`.
        Some(_) => Some(Scope::Any),
    };
    out.namespaces =
        strings(m.get("namespaces"), "spec.match.namespaces")?.into_iter().map(Wildcard).collect();
    out.excluded_namespaces = strings(m.get("excludedNamespaces"), "spec.match.excludedNamespaces")?
        .into_iter()
        .map(Wildcard)
        .collect();
    if let Some(ls) = m.get("labelSelector").filter(|v| !v.is_null()) {
        out.label_selector = Some(label_selector(ls, "spec.match.labelSelector")?);
    }
    if let Some(ns) = m.get("namespaceSelector").filter(|v| !v.is_null()) {
        out.namespace_selector = Some(label_selector(ns, "spec.match.namespaceSelector")?);
    }
    match m.get("name") {
        None | Some(Json::Null) => {}
        Some(Json::String(s)) if s.is_empty() => {}
        Some(Json::String(s)) => out.name = Some(Wildcard(s.clone())),
        Some(_) => return Err("spec.match.name must be a string".into()),
    }
    Ok(out)
}

fn parse_action(s: &str) -> Option<EnforcementAction> {
    match s.to_ascii_lowercase().as_str() {
        "deny" => Some(EnforcementAction::Deny),
        "warn" => Some(EnforcementAction::Warn),
        "dryrun" => Some(EnforcementAction::Dryrun),
        _ => None,
    }
}

fn parse_actions(spec: &Json) -> Result<Actions, String> {
    let action = str_at(spec, &["enforcementAction"]).unwrap_or("deny");
    if !action.eq_ignore_ascii_case("scoped") {
        return parse_action(action)
            .map(Actions::All)
            .ok_or_else(|| format!("spec.enforcementAction `{action}` is not deny, warn, dryrun or scoped"));
    }
    let list = spec
        .get("scopedEnforcementActions")
        .and_then(Json::as_array)
        .ok_or("spec.enforcementAction is scoped but spec.scopedEnforcementActions is missing")?;
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let at = format!("spec.scopedEnforcementActions[{i}]");
        let a = str_at(entry, &["action"]).ok_or_else(|| format!("{at}.action is missing"))?;
        let a = parse_action(a).ok_or_else(|| format!("{at}.action `{a}` is not deny, warn or dryrun"))?;
        let points = match entry.get("enforcementPoints").and_then(Json::as_array) {
            Some(points) => points
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    str_at(p, &["name"])
                        .map(str::to_string)
                        .ok_or_else(|| format!("{at}.enforcementPoints[{j}].name is missing"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => vec!["*".to_string()],
        };
        out.push((a, points));
    }
    Ok(Actions::Scoped(out))
}

pub(crate) fn parse(doc: &Json, source: &str, schema: Option<&Json>) -> Result<Constraint, Error> {
    let kind = str_at(doc, &["kind"]).unwrap_or_default().to_string();
    let name = str_at(doc, &["metadata", "name"]).unwrap_or_default().to_string();
    if kind.is_empty() || name.is_empty() {
        return Err(Error::Invalid {
            source_name: source.to_string(),
            message: "constraint needs kind and metadata.name".to_string(),
        });
    }
    let spec = doc.get("spec").unwrap_or(&Json::Null);
    let matcher = parse_match(spec.get("match").unwrap_or(&Json::Null))
        .map_err(|m| invalid(source, &kind, &name, m))?;
    let actions = parse_actions(spec).map_err(|m| invalid(source, &kind, &name, m))?;
    let params = match spec.get("parameters") {
        None | Some(Json::Null) => Json::Object(Default::default()),
        Some(p) => p.clone(),
    };
    if let Some(schema) = schema {
        let mut errors = Vec::new();
        crate::schema::check(schema, &params, "spec.parameters", &mut errors);
        if !errors.is_empty() {
            return Err(Error::Schema {
                source_name: source.to_string(),
                constraint: format!("{kind}/{name}"),
                message: errors.join("; "),
            });
        }
    }
    let parameters = crate::to_rego(&params);
    Ok(Constraint { kind, name, matcher, parameters, actions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        let cases = [
            ("kube-*", "kube-system", true),
            ("kube-*", "default", false),
            ("*-system", "gatekeeper-system", true),
            ("*-system", "system-x", false),
            ("*ab*", "xxabyy", true),
            ("*ab*", "xxayy", false),
            ("*", "anything", true),
            ("default", "default", true),
            ("default", "default2", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(Wildcard(pattern.into()).matches(name), want, "{pattern} vs {name}");
        }
    }

    fn target<'a>(
        kind: &'a str,
        ns: &'a str,
        labels: Option<&'a serde_json::Map<String, Json>>,
        nsobj: Option<&'a Json>,
    ) -> Target<'a> {
        let group = if kind == "Deployment" { "apps" } else { "" };
        Target { group, kind, name: "web-1", namespace: ns, labels, namespace_object: nsobj }
    }

    #[test]
    fn match_table() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object();
        let prod = json!({"metadata": {"name": "prod", "labels": {"env": "prod"}}});
        let cases: Vec<(Json, Target<'_>, Result<bool, ()>)> = vec![
            (json!({}), target("Pod", "a", labels, None), Ok(true)),
            (
                json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
                target("Pod", "a", labels, None),
                Ok(true),
            ),
            (
                json!({"kinds": [{"apiGroups": ["apps"], "kinds": ["Pod"]}]}),
                target("Pod", "a", labels, None),
                Ok(false),
            ),
            (
                json!({"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]}),
                target("Deployment", "a", labels, None),
                Ok(true),
            ),
            (
                json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
                target("Deployment", "a", labels, None),
                Ok(false),
            ),
            (json!({"namespaces": ["kube-*"]}), target("Pod", "kube-system", labels, None), Ok(true)),
            (json!({"namespaces": ["kube-*"]}), target("Pod", "default", labels, None), Ok(false)),
            // Cluster-scoped objects are not judged by namespace lists.
            (json!({"namespaces": ["kube-*"]}), target("ClusterRole", "", labels, None), Ok(true)),
            (
                json!({"excludedNamespaces": ["*-system"]}),
                target("Pod", "kube-system", labels, None),
                Ok(false),
            ),
            (json!({"excludedNamespaces": ["*-system"]}), target("Pod", "default", labels, None), Ok(true)),
            // A Namespace is judged by its own name.
            (json!({"excludedNamespaces": ["web-*"]}), target("Namespace", "", labels, None), Ok(false)),
            (json!({"scope": "Cluster"}), target("Pod", "a", labels, None), Ok(false)),
            (json!({"scope": "Cluster"}), target("Namespace", "", labels, None), Ok(true)),
            (json!({"scope": "Namespaced"}), target("Pod", "a", labels, None), Ok(true)),
            (json!({"scope": "Namespaced"}), target("ClusterRole", "", labels, None), Ok(false)),
            (
                json!({"labelSelector": {"matchLabels": {"app": "web"}}}),
                target("Pod", "a", labels, None),
                Ok(true),
            ),
            (
                json!({"labelSelector": {"matchLabels": {"app": "db"}}}),
                target("Pod", "a", labels, None),
                Ok(false),
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}}),
                target("Pod", "a", labels, None),
                Ok(true),
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}}),
                target("Pod", "a", labels, None),
                Ok(false),
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["front"]}]}}),
                target("Pod", "a", None, None),
                Ok(true),
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}),
                target("Pod", "a", labels, None),
                Ok(true),
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}}),
                target("Pod", "a", labels, None),
                Ok(false),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                target("Pod", "prod", labels, Some(&prod)),
                Ok(true),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                target("Pod", "prod", labels, Some(&prod)),
                Ok(false),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                target("Pod", "prod", labels, None),
                Err(()),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                target("ClusterRole", "", labels, None),
                Ok(true),
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"app": "web"}}}),
                target("Namespace", "", labels, None),
                Ok(true),
            ),
            (json!({"name": "web-*"}), target("Pod", "a", labels, None), Ok(true)),
            (json!({"name": "*-2"}), target("Pod", "a", labels, None), Ok(false)),
        ];
        for (m, t, want) in cases {
            let parsed = parse_match(&m).unwrap();
            let got = parsed.matches(&t).map_err(|_| ());
            assert_eq!(got, want, "match {m} against {} in {:?}", t.kind, t.namespace);
        }
    }

    #[test]
    fn bad_match_is_named() {
        let cases = [
            (json!({"kinds": "Pod"}), "spec.match.kinds must be a list"),
            (json!({"namespaces": [1]}), "spec.match.namespaces[0] must be a string"),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}}),
                "spec.match.labelSelector.matchExpressions[0].operator `Has`",
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
                "operator In needs at least one value",
            ),
        ];
        for (m, want) in cases {
            let err = parse_match(&m).unwrap_err();
            assert!(err.contains(want), "{m}: {err}");
        }
    }

    #[test]
    fn scoped_actions() {
        let spec = json!({"enforcementAction": "scoped", "scopedEnforcementActions": [
            {"action": "warn", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
            {"action": "deny", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
            {"action": "dryrun", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]},
        ]});
        let a = parse_actions(&spec).unwrap();
        assert_eq!(a.at(POINT_WEBHOOK), Some(EnforcementAction::Deny));
        assert_eq!(a.at(POINT_AUDIT), Some(EnforcementAction::Dryrun));
        assert_eq!(a.at(POINT_GATOR), None);
        let a = parse_actions(&json!({"enforcementAction": "Warn"})).unwrap();
        assert_eq!(a.at(POINT_AUDIT), Some(EnforcementAction::Warn));
        assert!(parse_actions(&json!({"enforcementAction": "block"})).unwrap_err().contains("`block`"));
    }
}
