//! The Kubernetes Pod Security Standards, baseline and restricted, evaluated
//! over `serde_json::Value` objects the way the PodSecurity admission plugin
//! evaluates them: the same controls per version, the same override rules,
//! and messages in the plugin's words (`privileged (container "app" must not
//! set securityContext.privileged=true)`).
//!
//! Pods are evaluated directly; workloads through their pod template.

mod checks;
mod level;

use std::fmt;

use serde_json::Value;

pub use checks::{
    BASELINE_CAPABILITIES, CONTROLS, Control, Pod, RESTRICTED_VOLUME_TYPES, allowed_selinux_types,
    allowed_sysctls,
};
pub use level::{LATEST_MINOR, Level, LevelVersion, Policy, Version};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("invalid Pod Security level {0:?} (expected privileged, baseline or restricted)")]
    Level(String),
    #[error("invalid Pod Security version {0:?} (expected latest or v1.N)")]
    Version(String),
    #[error("namespace label {label}: {source}")]
    Label { label: String, source: Box<Error> },
}

impl Error {
    fn in_label(self, label: &str) -> Error {
        Error::Label { label: label.to_string(), source: Box::new(self) }
    }
}

/// One failed control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The control's id (`privileged`, `runAsNonRoot`, …).
    pub control: &'static str,
    /// The lowest level that forbids it.
    pub level: Level,
    /// The plugin's forbidden reason (`privileged`, `host namespaces`, …).
    pub reason: String,
    /// Who set what (`container "app" must not set securityContext.privileged=true`).
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.detail)
    }
}

/// Kinds whose objects carry a pod spec, and where it is.
const TEMPLATE_KINDS: &[(&str, &str)] = &[
    ("Deployment", "/spec/template"),
    ("StatefulSet", "/spec/template"),
    ("DaemonSet", "/spec/template"),
    ("ReplicaSet", "/spec/template"),
    ("ReplicationController", "/spec/template"),
    ("Job", "/spec/template"),
    ("CronJob", "/spec/jobTemplate/spec/template"),
    ("PodTemplate", "/template"),
];

static NULL: Value = Value::Null;

/// `v` at `path`, a pointer of plain keys ("/a/b"). serde_json's `pointer`
/// allocates two strings per step to unescape `~0`/`~1`, which these
/// constant paths never hold, and every admission review runs dozens.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').skip(1).try_fold(v, |v, key| v.get(key))
}

/// Whether objects of this kind hold a pod spec the standards apply to.
pub fn is_pod_kind(kind: &str) -> bool {
    kind == "Pod" || TEMPLATE_KINDS.iter().any(|(k, _)| *k == kind)
}

/// The pod spec of a Pod, or the pod template of a workload; `None` for
/// other kinds or objects without one.
pub fn pod_of(object: &Value) -> Option<Pod<'_>> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    let holder = if kind == "Pod" {
        object
    } else {
        let (_, path) = TEMPLATE_KINDS.iter().find(|(k, _)| *k == kind)?;
        at(object, path)?
    };
    let spec = holder.get("spec").filter(|s| s.is_object())?;
    Some(Pod { metadata: holder.get("metadata").unwrap_or(&NULL), spec })
}

/// Every control `lv` enforces that `pod` fails, baseline controls first.
pub fn evaluate(pod: &Pod<'_>, lv: LevelVersion) -> Vec<Violation> {
    let minor = lv.version.minor();
    let applies = |c: &Control| c.level <= lv.level && c.level > Level::Privileged && c.since <= minor;
    let overridden: Vec<&str> =
        CONTROLS.iter().filter(|c| applies(c)).flat_map(|c| c.overrides.iter().copied()).collect();
    CONTROLS
        .iter()
        .filter(|c| applies(c) && !overridden.contains(&c.id))
        .filter_map(|c| {
            let (reason, detail) = (c.check)(pod, minor)?;
            Some(Violation { control: c.id, level: c.level, reason, detail })
        })
        .collect()
}

/// Evaluates any object: `None` when its kind carries no pod spec.
pub fn evaluate_object(object: &Value, lv: LevelVersion) -> Option<Vec<Violation>> {
    Some(evaluate(&pod_of(object)?, lv))
}

/// The plugin's summary of violations: `violates PodSecurity
/// "restricted:latest": a (..), b (..)`; warnings say `would violate`.
pub fn summary(lv: LevelVersion, violations: &[Violation]) -> String {
    let list: Vec<String> = violations.iter().map(Violation::to_string).collect();
    format!("violates PodSecurity \"{lv}\": {}", list.join(", "))
}

#[cfg(test)]
mod tests;
