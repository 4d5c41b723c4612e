//! Checks on Kubernetes manifests: YAML (multi-document, `List`s, anchors,
//! Helm output) or JSON, each finding at the line of the offending field.
//!
//! A file is applicable when at least one document has `apiVersion` and
//! `kind`. Successes count (check, object) pairs: every object a check
//! applies to and passes adds one, so a file with two clean Deployments
//! counts every pod check twice.

mod cluster;
mod hardening;
pub(crate) mod object;
mod pss;
#[cfg(test)]
mod pss_agreement;
mod rbac;
mod schema;
mod workload;

use rampart_types::{CauseMetadata, Diagnostic, Misconfiguration, Severity};

use crate::{CheckInfo, ConfigError, ConfigKind, Outcome};
use object::{Loc, Object, Pod};
use rampart_podsecurity::Level;
use rampart_yaml as yaml;

/// A built-in check: its text, the Pod Security Standards control it
/// enforces (if any), and its test.
pub(crate) struct Check {
    pub(crate) id: &'static str,
    pub(crate) severity: Severity,
    /// The control's id in `rampart_podsecurity::CONTROLS`, which the
    /// admission webhook evaluates: the two must agree on every pod.
    pub(crate) pss: Option<&'static str>,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) resolution: &'static str,
    pub(crate) run: Run,
}

/// What a check looks at.
pub(crate) enum Run {
    /// Every pod spec: Pods and the pod templates of workloads.
    Pod(fn(&Pod<'_>, &mut Sink<'_>)),
    /// Pods of long-running workloads (not Job or CronJob).
    ServingPod(fn(&Pod<'_>, &mut Sink<'_>)),
    /// Objects of the listed kinds.
    Kinds(&'static [&'static str], fn(&Object<'_>, &mut Sink<'_>)),
}

/// Every check, PSS baseline first, then restricted, then the rest.
pub(crate) static CHECKS: &[&Check] = &[
    &pss::HOST_PROCESS,
    &pss::HOST_IPC,
    &pss::HOST_NETWORK,
    &pss::HOST_PID,
    &pss::PRIVILEGED,
    &pss::BASELINE_CAPABILITIES,
    &pss::HOST_PATH,
    &pss::HOST_PORTS,
    &pss::APPARMOR,
    &pss::SELINUX,
    &pss::PROC_MOUNT,
    &pss::SECCOMP_UNCONFINED,
    &pss::SYSCTLS,
    &pss::VOLUME_TYPES,
    &pss::PRIVILEGE_ESCALATION,
    &pss::RUN_AS_NON_ROOT,
    &pss::RUN_AS_ROOT_USER,
    &pss::SECCOMP_REQUIRED,
    &pss::DROP_ALL,
    &pss::RESTRICTED_CAPABILITIES,
    &workload::CPU_LIMIT,
    &workload::MEMORY_LIMIT,
    &workload::CPU_REQUEST,
    &workload::MEMORY_REQUEST,
    &workload::LIVENESS_PROBE,
    &workload::READINESS_PROBE,
    &workload::IMAGE_TAG,
    &workload::PULL_POLICY,
    &workload::READ_ONLY_ROOT,
    &workload::SERVICE_ACCOUNT_TOKEN,
    &workload::DEFAULT_NAMESPACE,
    &workload::ROOT_GROUP,
    &workload::SECRET_IN_ENV,
    &workload::SHARED_PROCESS_NAMESPACE,
    &hardening::DROP_ANY,
    &hardening::SYS_ADMIN,
    &hardening::NET_RAW,
    &hardening::DOCKER_SOCKET,
    &hardening::SENSITIVE_HOST_PATH,
    &hardening::HOST_ALIASES,
    &hardening::HIGH_UID,
    &hardening::HIGH_GID,
    &hardening::PRIVILEGED_PORT,
    &hardening::DEFAULT_SECURITY_CONTEXT,
    &hardening::KUBE_SYSTEM,
    &hardening::TILLER,
    &cluster::NODE_PORT,
    &cluster::LOAD_BALANCER,
    &cluster::CLUSTER_ADMIN_BINDING,
    &cluster::CONFIGMAP_SECRET,
    &rbac::WILDCARD_VERBS,
    &rbac::WILDCARD_RESOURCES,
    &rbac::WILDCARD_API_GROUPS,
    &rbac::WILDCARD_EVERYTHING,
    &rbac::CLUSTER_SECRETS,
    &rbac::NAMESPACE_SECRETS,
    &rbac::POD_EXEC,
    &rbac::POD_ATTACH,
    &rbac::IMPERSONATE,
    &rbac::ESCALATE_BIND,
    &rbac::DELETE_POD_LOGS,
    &rbac::NODE_PROXY,
    &rbac::MANAGE_WORKLOADS,
    &rbac::MANAGE_CONFIGMAPS,
    &rbac::MANAGE_RBAC,
    &rbac::MANAGE_NETWORKING,
    &rbac::MANAGE_WEBHOOKS,
    &schema::UNKNOWN_FIELD,
    &schema::WRONG_TYPE,
];

const PSS_URL: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

/// Collects the failures of one check on one object.
pub(crate) struct Sink<'a> {
    check: &'static Check,
    resource: &'a str,
    /// The Helm template the object came from, if the file says.
    template: Option<&'a str>,
    failures: &'a mut Vec<Misconfiguration>,
}

/// The Pod Security Standards level whose control the check enforces.
fn pss_level(check: &Check) -> Option<Level> {
    let id = check.pss?;
    rampart_podsecurity::CONTROLS.iter().find(|c| c.id == id).map(|c| c.level)
}

impl Sink<'_> {
    pub(crate) fn fail(&mut self, loc: Loc, message: String) {
        let check = self.check;
        let primary_url = if check.id.starts_with("KSV") {
            format!("https://avd.aquasec.com/misconfig/{}", check.id.to_ascii_lowercase())
        } else {
            String::new()
        };
        let references = match pss_level(check) {
            Some(level) => vec![format!("{PSS_URL}#{level}")],
            None => Vec::new(),
        };
        self.failures.push(Misconfiguration {
            kind: crate::ConfigKind::Kubernetes.check_kind().into(),
            id: check.id.into(),
            title: check.title.into(),
            description: check.description.into(),
            message,
            resolution: check.resolution.into(),
            severity: check.severity,
            primary_url,
            references,
            status: "FAIL".into(),
            cause_metadata: CauseMetadata {
                resource: self.resource.to_string(),
                provider: "Kubernetes".into(),
                service: "general".into(),
                start_line: loc.start,
                end_line: loc.end,
                template: self.template.unwrap_or_default().to_string(),
            },
        });
    }
}

pub(crate) fn scan(display: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    let malformed = |line: Option<u32>, message: String| ConfigError::Malformed {
        path: display.to_string(),
        line,
        message,
    };
    let text = std::str::from_utf8(content).map_err(|e| malformed(None, format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = match yaml::parse(text) {
        Ok(parsed) => parsed,
        // An unrendered Helm or Go template is not YAML yet, and not a manifest.
        Err(_) if text.contains("{{") => return Ok(Outcome::default()),
        Err(e) => return Err(malformed(Some(e.line), e.message)),
    };
    let mut objects = Vec::new();
    for doc in &parsed.documents {
        object::collect(doc, &mut objects);
    }
    let is_manifest = parsed
        .documents
        .iter()
        .any(|d| ["apiVersion", "kind"].iter().all(|k| d.get(k).is_some_and(|e| e.value.as_str().is_some())));
    if !is_manifest {
        return Ok(Outcome { warnings: chart_warning(display, &parsed.documents), ..Outcome::default() });
    }
    let mut outcome = Outcome { applicable: true, ..Outcome::default() };
    outcome.warnings = parsed
        .duplicates
        .iter()
        .map(|(line, key)| {
            Diagnostic::new(display, format!("key `{key}` repeated in one mapping; the last one is used"))
                .at_line(*line)
        })
        .collect();
    let sources = helm_sources(text);
    for object in &objects {
        let pod = Pod::of(object, &objects);
        let template = sources.iter().rev().find(|s| s.0 < object.root.line).and_then(|s| s.1);
        let ignored = ignored_checks(object, pod.as_ref());
        for &check in CHECKS {
            if ignored.iter().any(|id| id.eq_ignore_ascii_case(check.id)) {
                continue;
            }
            let mut sink =
                Sink { check, resource: &object.resource, template, failures: &mut outcome.failures };
            let before = sink.failures.len();
            match (&check.run, &pod) {
                (Run::Pod(run), Some(pod)) => run(pod, &mut sink),
                (Run::ServingPod(run), Some(pod)) if !pod.runs_to_completion => run(pod, &mut sink),
                (Run::Kinds(kinds, run), _) if kinds.contains(&object.kind) => run(object, &mut sink),
                _ => continue,
            }
            if outcome.failures.len() == before {
                outcome.successes += 1;
            }
        }
    }
    Ok(outcome)
}

/// A chart's templates are not YAML until rendered, so a chart given as is
/// gets a warning with the command that renders it, rather than silence.
fn chart_warning(display: &str, documents: &[std::rc::Rc<yaml::Node>]) -> Vec<Diagnostic> {
    let (dir, name) = display.rsplit_once('/').unwrap_or((".", display));
    let is_chart = name == "Chart.yaml"
        && documents.first().is_some_and(|d| d.get("apiVersion").is_some() && d.get("name").is_some());
    if !is_chart {
        return Vec::new();
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    vec![Diagnostic::new(
        display,
        format!(
            "a Helm chart: its templates are checked once rendered, e.g. `helm template {dir} | rampart config -`"
        ),
    )]
}

/// Where each document of Helm output starts and the template it came
/// from: `(line, Some(path))` for a `# Source: path` comment, `(line, None)`
/// for a `---` separator (which ends the previous template's reach).
fn helm_sources(text: &str) -> Vec<(u32, Option<&str>)> {
    let mut marks = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(path) = line.strip_prefix("# Source:").map(str::trim).filter(|p| !p.is_empty()) {
            marks.push((number, Some(path)));
        } else if line.starts_with("---") {
            marks.push((number, None));
        }
    }
    marks
}

/// The annotation that switches checks off for one object (and its pods).
const IGNORE_ANNOTATION: &str = "rampart.dev/ignore";

/// The check ids listed in the object's `rampart.dev/ignore` annotation, or
/// in its pod template's.
fn ignored_checks<'a>(object: &Object<'a>, pod: Option<&Pod<'a>>) -> Vec<&'a str> {
    let annotation = |metadata: Option<&'a yaml::Node>| {
        metadata
            .and_then(|m| m.path(&["annotations", IGNORE_ANNOTATION]))
            .and_then(|e| e.value.as_str())
            .into_iter()
            .flat_map(|list| list.split(',').map(str::trim).filter(|id| !id.is_empty()))
    };
    let own = annotation(object.root.get("metadata").map(|e| &*e.value));
    own.chain(annotation(pod.and_then(|p| p.metadata))).collect()
}

pub(crate) fn checks() -> Vec<CheckInfo> {
    CHECKS
        .iter()
        .map(|c| CheckInfo {
            id: c.id,
            kind: ConfigKind::Kubernetes,
            title: c.title,
            severity: c.severity,
            description: c.description,
            resolution: c.resolution,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
    }

    #[test]
    fn titles_name_the_pss_level() {
        for check in CHECKS {
            let marks = |word: &str| check.title.contains(word);
            match pss_level(check) {
                Some(level) => assert!(marks(&format!("(PSS {level})")), "{}", check.id),
                None => assert!(!marks("(PSS"), "{}", check.id),
            }
        }
    }

    #[test]
    fn pss_controls_are_all_present() {
        for control in rampart_podsecurity::CONTROLS {
            assert!(CHECKS.iter().any(|c| c.pss == Some(control.id)), "no check for {}", control.id);
        }
        let count = |level| CHECKS.iter().filter(|c| pss_level(c) == Some(level)).count();
        assert_eq!(count(Level::Baseline), 13);
        assert_eq!(count(Level::Restricted), 7);
    }
}
