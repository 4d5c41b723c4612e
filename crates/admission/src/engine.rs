//! The evaluation pipeline: a request passes the namespace exemptions, then
//! every validator in turn; their findings decide the answer.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use crate::Error;

/// What a finding does to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The request is refused.
    Deny,
    /// The request passes; the user sees a warning.
    Warn,
    /// The request passes silently; the finding is recorded (decision log,
    /// audit annotations).
    Audit,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
        }
    }
}

/// One rule a request broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The validator: `podsecurity`, `images`, `gatekeeper`.
    pub source: &'static str,
    /// The rule within it: a Pod Security level, an image rule, a constraint.
    pub rule: String,
    /// The text the user sees.
    pub message: String,
    pub action: Action,
}

/// A request (or, for audits, an object at rest) as the validators see it.
pub struct Review<'a> {
    /// The AdmissionRequest; for audits, one made up for the object.
    pub request: &'a Value,
    /// `object`, or `oldObject` for a DELETE.
    pub object: &'a Value,
    pub old_object: Option<&'a Value>,
    /// The Namespace object the request's namespace names, when known.
    pub namespace: Option<&'a Value>,
    pub operation: &'a str,
    pub kind: &'a str,
    pub sub_resource: &'a str,
    /// True when auditing objects at rest rather than answering a request.
    pub audit: bool,
    /// When the answer is due; validators that can stop early give up then.
    pub deadline: Option<Instant>,
}

impl Review<'_> {
    /// Whether the request can bring container images: not a DELETE, and
    /// the object itself or its ephemeral containers, not another subresource.
    pub fn changes_images(&self) -> bool {
        self.operation != "DELETE"
            && (self.sub_resource.is_empty() || self.sub_resource == "ephemeralcontainers")
    }
}

/// The string at `path` of a JSON value, `""` when absent: the fields every
/// review reads (operation, kind, names). serde_json's `pointer` would
/// allocate two strings per step to unescape `~`, which these keys never hold.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or("")
}

/// One stage of the pipeline (Pod Security, image rules, Gatekeeper).
pub trait Validator: Send + Sync {
    fn name(&self) -> &'static str;
    /// The findings for one review; an error makes the whole request fail
    /// by the failure policy.
    fn validate(&self, review: &Review<'_>) -> Result<Vec<Finding>, Error>;
    /// Whether `validate` may wait (on I/O, or past the deadline). The server
    /// runs such validators off its async workers; validators that only
    /// compute and honour the deadline say `false`, saving a thread hop.
    fn may_block(&self) -> bool {
        true
    }
    /// Prometheus text for counters of the validator's own, appended to
    /// the server's `/metrics`.
    fn metrics(&self) -> String {
        String::new()
    }
}

/// The outcome for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The namespace is exempt: nothing was evaluated.
    pub exempt: bool,
    pub findings: Vec<Finding>,
}

impl Decision {
    /// The denial text: every deny finding, one a line.
    pub fn message(&self) -> String {
        self.with(Action::Deny).collect::<Vec<_>>().join("\n")
    }

    pub fn warnings(&self) -> Vec<String> {
        self.with(Action::Warn).map(str::to_string).collect()
    }

    fn with(&self, action: Action) -> impl Iterator<Item = &str> {
        self.findings.iter().filter(move |f| f.action == action).map(|f| f.message.as_str())
    }
}

/// Validators plus what they share: exempt namespaces and known Namespace objects.
pub struct Engine {
    validators: Vec<Box<dyn Validator>>,
    exempt_namespaces: Vec<String>,
    namespaces: HashMap<String, Value>,
}

impl Engine {
    pub fn new(validators: Vec<Box<dyn Validator>>, exempt_namespaces: Vec<String>) -> Self {
        Engine { validators, exempt_namespaces, namespaces: HashMap::new() }
    }

    /// Namespace objects to consult when a request does not carry its own
    /// (`namespaceObject`); non-Namespace objects are ignored.
    pub fn set_namespaces(&mut self, objects: impl IntoIterator<Item = Value>) {
        for ns in objects {
            if ns.get("kind").and_then(Value::as_str) != Some("Namespace") {
                continue;
            }
            if let Some(name) = ns.pointer("/metadata/name").and_then(Value::as_str) {
                self.namespaces.insert(name.to_string(), ns.clone());
            }
        }
    }

    pub fn validators(&self) -> impl Iterator<Item = &str> {
        self.validators.iter().map(|v| v.name())
    }

    /// Whether any validator may block (see [`Validator::may_block`]).
    pub fn may_block(&self) -> bool {
        self.validators.iter().any(|v| v.may_block())
    }

    /// Every validator's own metrics, in Prometheus text.
    pub fn metrics(&self) -> String {
        self.validators.iter().map(|v| v.metrics()).collect()
    }

    /// Decides one AdmissionRequest.
    pub fn review(&self, request: &Value) -> Result<Decision, Error> {
        self.review_until(request, None)
    }

    /// Decides one AdmissionRequest; validators that can stop early fail it
    /// once `deadline` passes.
    pub fn review_until(&self, request: &Value, deadline: Option<Instant>) -> Result<Decision, Error> {
        let s = |path: &[&str]| str_at(request, path);
        let operation = s(&["operation"]);
        let kind = s(&["kind", "kind"]);
        // A Namespace object belongs to itself for exemptions and labels.
        let namespace = match s(&["namespace"]) {
            "" if kind == "Namespace" => s(&["name"]),
            namespace => namespace,
        };
        if self.exempt_namespaces.iter().any(|n| n == namespace) && !namespace.is_empty() {
            return Ok(Decision { allowed: true, exempt: true, findings: Vec::new() });
        }
        let object = match (operation, request.get("object")) {
            ("DELETE", _) | (_, None | Some(Value::Null)) => request.get("oldObject").unwrap_or(&Value::Null),
            (_, Some(o)) => o,
        };
        let old_object = request.get("oldObject").filter(|v| !v.is_null());
        let namespace_object = request
            .get("namespaceObject")
            .filter(|v| v.is_object())
            .or_else(|| if kind == "Namespace" { Some(object) } else { self.namespaces.get(namespace) });
        let review = Review {
            request,
            object,
            old_object,
            namespace: namespace_object,
            operation,
            kind,
            sub_resource: s(&["subResource"]),
            audit: false,
            deadline,
        };
        self.run(&review)
    }

    /// Decides one object at rest, as a CREATE of it would be decided.
    pub fn audit(&self, object: &Value) -> Result<Decision, Error> {
        let request = audit_request(object);
        let namespace = request.get("namespace").and_then(Value::as_str).unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        if !namespace.is_empty() && self.exempt_namespaces.iter().any(|n| n == namespace) {
            return Ok(Decision { allowed: true, exempt: true, findings: Vec::new() });
        }
        let review = Review {
            request: &request,
            object,
            old_object: None,
            namespace: if kind == "Namespace" { Some(object) } else { self.namespaces.get(namespace) },
            operation: "CREATE",
            kind,
            sub_resource: "",
            audit: true,
            deadline: None,
        };
        self.run(&review)
    }

    fn run(&self, review: &Review<'_>) -> Result<Decision, Error> {
        let mut findings = Vec::new();
        for v in &self.validators {
            findings.extend(v.validate(review)?);
        }
        let allowed = !findings.iter().any(|f| f.action == Action::Deny);
        Ok(Decision { allowed, exempt: false, findings })
    }
}

/// The AdmissionRequest a CREATE of `object` would send.
pub fn audit_request(object: &Value) -> Value {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let meta =
        |k: &str| object.pointer(&format!("/metadata/{k}")).cloned().unwrap_or(Value::String(String::new()));
    serde_json::json!({
        "uid": "",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource_name(kind)},
        "name": meta("name"),
        "namespace": meta("namespace"),
        "operation": "CREATE",
        "userInfo": {"username": ""},
        "object": object,
        "oldObject": null,
        "dryRun": true,
    })
}

/// The plural resource name the API server would report for a kind.
fn resource_name(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct DenyAll;
    impl Validator for DenyAll {
        fn name(&self) -> &'static str {
            "deny-all"
        }
        fn validate(&self, r: &Review<'_>) -> Result<Vec<Finding>, Error> {
            Ok(vec![Finding {
                source: "deny-all",
                rule: "all".into(),
                message: format!("no {} in {}", r.kind, r.namespace.map(|_| "known").unwrap_or("unknown")),
                action: Action::Deny,
            }])
        }
    }

    #[test]
    fn only_validators_that_may_wait_make_the_engine_block() {
        let gatekeeper = || crate::GatekeeperPolicies::new(rampart_policy::Gatekeeper::new());
        assert!(!Engine::new(vec![Box::new(gatekeeper())], vec![]).may_block());
        // A validator that does not say otherwise may wait.
        assert!(Engine::new(vec![Box::new(gatekeeper()), Box::new(DenyAll)], vec![]).may_block());
    }

    #[test]
    fn exempt_namespaces_skip_validators() {
        let engine = Engine::new(vec![Box::new(DenyAll)], vec!["kube-system".into()]);
        let req = |ns: &str, kind: &str, name: &str| json!({"uid": "1", "kind": {"kind": kind}, "namespace": ns, "name": name, "operation": "CREATE", "object": {}});
        assert!(engine.review(&req("kube-system", "Pod", "p")).unwrap().exempt);
        assert!(engine.review(&req("", "Namespace", "kube-system")).unwrap().exempt);
        let d = engine.review(&req("default", "Pod", "p")).unwrap();
        assert!(!d.allowed && !d.exempt);
        assert_eq!(d.message(), "no Pod in unknown");
    }

    #[test]
    fn namespace_objects_come_from_the_request_or_the_file() {
        let mut engine = Engine::new(vec![Box::new(DenyAll)], vec![]);
        engine.set_namespaces([json!({"kind": "Namespace", "metadata": {"name": "apps"}})]);
        let req = json!({"uid": "1", "kind": {"kind": "Pod"}, "namespace": "apps", "operation": "CREATE", "object": {}});
        assert_eq!(engine.review(&req).unwrap().message(), "no Pod in known");
        let other = json!({"uid": "1", "kind": {"kind": "Pod"}, "namespace": "web", "operation": "CREATE", "object": {},
            "namespaceObject": {"metadata": {"name": "web"}}});
        assert_eq!(engine.review(&other).unwrap().message(), "no Pod in known");
    }

    #[test]
    fn audit_requests_look_like_creates() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}});
        let r = audit_request(&obj);
        assert_eq!(r["kind"], json!({"group": "apps", "version": "v1", "kind": "Deployment"}));
        assert_eq!(r["resource"]["resource"], "deployments");
        assert_eq!(r["namespace"], "n");
        assert_eq!(resource_name("Ingress"), "ingresses");
        assert_eq!(resource_name("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_name("Gateway"), "gateways");
    }
}
