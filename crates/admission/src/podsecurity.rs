//! Pod Security Standards as a validator: the global levels, overridden per
//! namespace by its `pod-security.kubernetes.io/*` labels.
//!
//! Unlike the built-in plugin, which only warns on workloads, `enforce`
//! also refuses Deployments, Jobs and the other workloads whose pod template
//! violates it: the user learns at `kubectl apply`, not from a ReplicaSet
//! that silently fails to create pods.

use crate::Error;
use crate::engine::{Action, Finding, Review, Validator};
use rampart_podsecurity::{Level, LevelVersion, Pod, Policy, evaluate, is_pod_kind, pod_of, summary};

pub struct PodSecurity {
    defaults: Policy,
}

impl PodSecurity {
    pub fn new(defaults: Policy) -> Self {
        PodSecurity { defaults }
    }
}

const SOURCE: &str = "podsecurity";

impl Validator for PodSecurity {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn may_block(&self) -> bool {
        false
    }

    fn validate(&self, r: &Review<'_>) -> Result<Vec<Finding>, Error> {
        if r.operation == "DELETE" || r.operation == "CONNECT" || !is_pod_kind(r.kind) {
            return Ok(Vec::new());
        }
        // Status and other subresources do not change what runs; ephemeral
        // containers do.
        let relevant_sub =
            r.sub_resource.is_empty() || (r.kind == "Pod" && r.sub_resource == "ephemeralcontainers");
        if !relevant_sub {
            return Ok(Vec::new());
        }
        let Some(pod) = pod_of(r.object) else { return Ok(Vec::new()) };
        if r.operation == "UPDATE" && r.old_object.and_then(pod_of).is_some_and(|old| same_pod(&old, &pod)) {
            // Label or status updates leave running pods as they are.
            return Ok(Vec::new());
        }
        let policy = match r.namespace {
            Some(ns) => match Policy::from_namespace(ns, self.defaults) {
                Ok(p) => p,
                Err(e) => {
                    return Ok(vec![Finding {
                        source: SOURCE,
                        rule: "namespace-labels".into(),
                        message: format!("invalid PodSecurity namespace labels: {e}"),
                        action: Action::Deny,
                    }]);
                }
            },
            None => self.defaults,
        };
        if r.audit {
            // Objects at rest: one finding per failed control, for reports.
            if policy.enforce.level == Level::Privileged {
                return Ok(Vec::new());
            }
            return Ok(evaluate(&pod, policy.enforce)
                .into_iter()
                .map(|v| Finding {
                    source: SOURCE,
                    rule: v.control.to_string(),
                    message: v.to_string(),
                    action: Action::Deny,
                })
                .collect());
        }
        // The three modes usually share one level: each distinct one is
        // evaluated once.
        let mut judged: Vec<(LevelVersion, Option<String>)> = Vec::with_capacity(3);
        let mut judge_at = |lv: LevelVersion| -> Option<String> {
            if let Some((_, text)) = judged.iter().find(|(l, _)| *l == lv) {
                return text.clone();
            }
            let text = judge(&pod, lv);
            judged.push((lv, text.clone()));
            text
        };
        let mut findings = Vec::new();
        let enforce_failed = match judge_at(policy.enforce) {
            Some(text) => {
                findings.push(finding(policy.enforce, text, Action::Deny));
                true
            }
            None => false,
        };
        // The plugin does not repeat an enforce failure as a warning.
        if !(enforce_failed && policy.warn == policy.enforce)
            && let Some(text) = judge_at(policy.warn)
        {
            findings.push(finding(policy.warn, text, Action::Warn));
        }
        if !(enforce_failed && policy.audit == policy.enforce)
            && let Some(text) = judge_at(policy.audit)
        {
            findings.push(finding(policy.audit, text, Action::Audit));
        }
        Ok(findings)
    }
}

/// The plugin's summary of the controls `pod` fails at `lv`, if any.
fn judge(pod: &Pod<'_>, lv: LevelVersion) -> Option<String> {
    if lv.level == Level::Privileged {
        return None;
    }
    let violations = evaluate(pod, lv);
    (!violations.is_empty()).then(|| summary(lv, &violations))
}

fn finding(lv: LevelVersion, text: String, action: Action) -> Finding {
    // Warnings and audit records speak of what would have been refused.
    let message = match action {
        Action::Deny => text,
        Action::Warn | Action::Audit => format!("would {}", text.replacen("violates", "violate", 1)),
    };
    Finding { source: SOURCE, rule: lv.to_string(), message, action }
}

/// Whether an update leaves everything the standards read unchanged.
fn same_pod(old: &Pod<'_>, new: &Pod<'_>) -> bool {
    old.spec == new.spec && old.metadata.get("annotations") == new.metadata.get("annotations")
}

/// The `pod-security.kubernetes.io/audit-violations` annotation value for a
/// decision's audit findings, as the plugin records them.
pub fn audit_annotation(findings: &[Finding]) -> Option<String> {
    let texts: Vec<&str> = findings
        .iter()
        .filter(|f| f.source == SOURCE && f.action == Action::Audit)
        .map(|f| f.message.as_str())
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use serde_json::{Value, json};

    fn engine(level: &str) -> Engine {
        let lv: LevelVersion = level.parse().unwrap();
        Engine::new(vec![Box::new(PodSecurity::new(Policy::uniform(lv)))], vec!["kube-system".into()])
    }

    fn request(op: &str, object: Value, extra: Value) -> Value {
        let mut r = json!({
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": object["kind"]}, "operation": op,
            "namespace": "apps", "name": "p", "object": object
        });
        if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
            r.extend(extra.clone());
        }
        r
    }

    fn privileged_pod() -> Value {
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "securityContext": {"privileged": true}}]}})
    }

    #[test]
    fn enforce_denies_and_warn_does_not_repeat() {
        let d = engine("baseline").review(&request("CREATE", privileged_pod(), json!({}))).unwrap();
        assert!(!d.allowed);
        assert_eq!(
            d.message(),
            "violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        );
        assert!(d.warnings().is_empty());
        assert_eq!(audit_annotation(&d.findings), None);
        let lenient = Policy {
            enforce: LevelVersion::PRIVILEGED,
            warn: LevelVersion::PRIVILEGED,
            audit: "baseline".parse().unwrap(),
        };
        let e = Engine::new(vec![Box::new(PodSecurity::new(lenient))], vec![]);
        let d = e.review(&request("CREATE", privileged_pod(), json!({}))).unwrap();
        assert!(d.allowed && d.warnings().is_empty());
        assert!(
            audit_annotation(&d.findings)
                .unwrap()
                .starts_with("would violate PodSecurity \"baseline:latest\": privileged")
        );
    }

    #[test]
    fn namespace_labels_choose_the_modes() {
        let ns = json!({"kind": "Namespace", "metadata": {"name": "apps", "labels": {
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "baseline",
        }}});
        let d = engine("restricted")
            .review(&request("CREATE", privileged_pod(), json!({"namespaceObject": ns})))
            .unwrap();
        assert!(d.allowed, "{d:?}");
        assert_eq!(
            d.warnings(),
            [
                "would violate PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
            ]
        );
        let bad = json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "strict"}}});
        let d = engine("privileged")
            .review(&request("CREATE", privileged_pod(), json!({"namespaceObject": bad})))
            .unwrap();
        assert!(!d.allowed && d.message().contains("\"strict\""), "{}", d.message());
    }

    #[test]
    fn skips_what_the_plugin_skips() {
        let e = engine("restricted");
        let old = json!({"oldObject": privileged_pod()});
        assert!(e.review(&request("UPDATE", privileged_pod(), old.clone())).unwrap().findings.is_empty());
        let status = json!({"subResource": "status"});
        assert!(e.review(&request("UPDATE", privileged_pod(), status)).unwrap().findings.is_empty());
        let del = json!({"oldObject": privileged_pod(), "object": null});
        assert!(e.review(&request("DELETE", privileged_pod(), del)).unwrap().allowed);
        let cm = json!({"kind": "ConfigMap", "data": {}});
        assert!(e.review(&request("CREATE", cm, json!({}))).unwrap().findings.is_empty());
        let mut changed = privileged_pod();
        changed["spec"]["containers"][0]["image"] = json!("new");
        assert!(!e.review(&request("UPDATE", changed, old)).unwrap().allowed);
    }

    #[test]
    fn workloads_are_denied_through_their_template() {
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "apps"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "securityContext": {"privileged": true}}]}}}});
        let d = engine("baseline").audit(&dep).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.findings.len(), 1);
        assert_eq!(d.findings[0].rule, "privileged");
        assert_eq!(
            d.message(),
            "privileged (container \"app\" must not set securityContext.privileged=true)"
        );
    }
}
