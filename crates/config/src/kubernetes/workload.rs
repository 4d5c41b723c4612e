//! Pod checks beyond the Pod Security Standards: resources, probes, images,
//! filesystem, service account token, namespace, groups and literal secrets.

use rampart_types::Severity;

use super::object::{Container, Group, Loc, Pod, deepest};
use super::{Check, Run, Sink};

macro_rules! resource_check {
    (
        $name:ident,
        $fn:ident,
        $id:literal,
        $kind:literal,
        $what:literal,
        $title:literal,
        $description:literal
    ) => {
        pub(crate) static $name: Check = Check {
            id: $id,
            severity: Severity::Low,
            pss: None,
            title: $title,
            description: $description,
            resolution: concat!("Set resources.", $kind, ".", $what, " on the container."),
            run: Run::Pod($fn),
        };

        fn $fn(pod: &Pod<'_>, out: &mut Sink<'_>) {
            resource(pod, out, $kind, $what);
        }
    };
}

resource_check!(
    CPU_LIMIT,
    cpu_limit,
    "KSV011",
    "limits",
    "cpu",
    "CPU not limited",
    "A container without a CPU limit can starve the other pods of its node, by accident or under attack."
);
resource_check!(
    MEMORY_LIMIT,
    memory_limit,
    "KSV018",
    "limits",
    "memory",
    "Memory not limited",
    "A container without a memory limit can exhaust its node's memory and get other pods evicted."
);
resource_check!(
    CPU_REQUEST,
    cpu_request,
    "KSV015",
    "requests",
    "cpu",
    "CPU request not set",
    "Without a CPU request the scheduler cannot place the pod by its needs, and it is the first to be \
     throttled when the node is busy."
);
resource_check!(
    MEMORY_REQUEST,
    memory_request,
    "KSV016",
    "requests",
    "memory",
    "Memory request not set",
    "Without a memory request the scheduler may overcommit the node, and the pod is among the first \
     evicted under memory pressure."
);

fn resource(pod: &Pod<'_>, out: &mut Sink<'_>, kind: &str, what: &str) {
    for c in pod.in_groups(Group::RUNNING) {
        let path = ["resources", kind, what];
        if c.field(&path).is_none_or(|e| e.value.as_str().is_none()) {
            out.fail(c.locate(&path), format!("{} does not set resources.{kind}.{what}", c.describe(pod)));
        }
    }
}

pub(crate) static LIVENESS_PROBE: Check = Check {
    id: "RPT-K8S-001",
    severity: Severity::Low,
    pss: None,
    title: "Liveness probe missing",
    description: "Without a liveness probe a container that hangs without exiting keeps running, and \
                  keeps being counted as healthy.",
    resolution: "Add a livenessProbe (HTTP, TCP, gRPC or exec) that fails when the process is stuck.",
    run: Run::ServingPod(liveness_probe),
};

fn liveness_probe(pod: &Pod<'_>, out: &mut Sink<'_>) {
    probe(pod, out, "livenessProbe");
}

pub(crate) static READINESS_PROBE: Check = Check {
    id: "RPT-K8S-002",
    severity: Severity::Low,
    pss: None,
    title: "Readiness probe missing",
    description: "Without a readiness probe a Service sends traffic to the container as soon as it \
                  starts, before it can answer, and during rollouts.",
    resolution: "Add a readinessProbe that succeeds only once the container can serve.",
    run: Run::ServingPod(readiness_probe),
};

fn readiness_probe(pod: &Pod<'_>, out: &mut Sink<'_>) {
    probe(pod, out, "readinessProbe");
}

fn probe(pod: &Pod<'_>, out: &mut Sink<'_>, field: &str) {
    for c in pod.in_groups(Group::REGULAR) {
        if c.field(&[field]).is_none_or(|e| !e.value.is_map()) {
            out.fail(c.locate(&[field]), format!("{} has no {field}", c.describe(pod)));
        }
    }
}

/// The tag of an image reference (None when it has none) and whether a digest pins it.
fn image_tag(image: &str) -> (Option<&str>, bool) {
    let (name, pinned) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, tag)| tag), pinned)
}

/// An image whose tag says nothing about the version: none, or `latest`, without a digest.
fn floating(c: &Container<'_>) -> Option<(&'static str, String)> {
    let image = c.field(&["image"])?.value.as_str()?;
    match image_tag(image) {
        (_, true) => None,
        (None, false) => Some(("has no tag", image.to_string())),
        (Some("latest"), false) => Some(("uses tag latest", image.to_string())),
        (Some(_), false) => None,
    }
}

pub(crate) static IMAGE_TAG: Check = Check {
    id: "KSV013",
    severity: Severity::Medium,
    pss: None,
    title: "Image tag latest or missing",
    description: "An image without a tag means latest, which moves: what runs depends on when each node \
                  pulled it, and a rollback cannot return to the previous version.",
    resolution: "Use a specific version tag, or better a digest (image@sha256:…).",
    run: Run::Pod(image_tag_check),
};

fn image_tag_check(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        if let (Some((why, image)), Some(e)) = (floating(c), c.field(&["image"])) {
            out.fail(Loc::entry(e), format!("{} image {image} {why}", c.describe(pod)));
        }
    }
}

pub(crate) static PULL_POLICY: Check = Check {
    id: "RPT-K8S-003",
    severity: Severity::Low,
    pss: None,
    title: "Floating image not pulled every time",
    description: "With a latest or missing tag and imagePullPolicy IfNotPresent or Never, each node runs \
                  whichever image it pulled first under that tag, so replicas silently differ. (Left unset, \
                  Kubernetes pulls such images Always.)",
    resolution: "Pin the image to a version tag or digest, or set imagePullPolicy to Always.",
    run: Run::Pod(pull_policy),
};

fn pull_policy(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        let policy = c.field(&["imagePullPolicy"]).filter(|e| e.value.as_str() != Some("Always"));
        if let (Some((why, image)), Some(e)) = (floating(c), policy) {
            let value = e.value.as_str().unwrap_or("?");
            out.fail(
                Loc::entry(e),
                format!("{} sets imagePullPolicy {value} but image {image} {why}", c.describe(pod)),
            );
        }
    }
}

pub(crate) static READ_ONLY_ROOT: Check = Check {
    id: "KSV014",
    severity: Severity::High,
    pss: None,
    title: "Root filesystem writable",
    description: "A writable root filesystem lets an intruder drop tools or change the application's \
                  files; a read-only one confines writes to the volumes mounted for them.",
    resolution: "Set securityContext.readOnlyRootFilesystem to true and mount emptyDir volumes where the \
                 application writes.",
    run: Run::Pod(read_only_root),
};

fn read_only_root(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::RUNNING) {
        match c.security("readOnlyRootFilesystem") {
            Some(e) if e.value.as_bool() == Some(true) => {}
            Some(e) => out.fail(
                Loc::entry(e),
                format!("{} does not set securityContext.readOnlyRootFilesystem to true", c.describe(pod)),
            ),
            None => out.fail(
                c.locate(&["securityContext", "readOnlyRootFilesystem"]),
                format!("{} leaves securityContext.readOnlyRootFilesystem unset", c.describe(pod)),
            ),
        }
    }
}

pub(crate) static SERVICE_ACCOUNT_TOKEN: Check = Check {
    id: "KSV036",
    severity: Severity::Low,
    pss: None,
    title: "Service account token mounted",
    description: "Every pod gets a token for the Kubernetes API unless told otherwise; a pod that never \
                  calls the API only hands an intruder those credentials.",
    resolution: "Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount) \
                 unless the pod calls the Kubernetes API.",
    run: Run::Pod(service_account_token),
};

fn service_account_token(pod: &Pod<'_>, out: &mut Sink<'_>) {
    match pod.field(&["automountServiceAccountToken"]) {
        Some(e) if e.value.as_bool() == Some(false) => {}
        Some(e) => out.fail(
            Loc::entry(e),
            format!("{} does not set automountServiceAccountToken to false", pod.object.resource),
        ),
        None if account_disables_token(pod) => {}
        None => out.fail(
            Loc::entry(pod.spec),
            format!(
                "{} mounts a service account token: automountServiceAccountToken is unset",
                pod.object.resource
            ),
        ),
    }
}

/// Whether the pod's ServiceAccount, defined in the same file, turns the token off.
fn account_disables_token(pod: &Pod<'_>) -> bool {
    let account = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| pod.field(&[k]).and_then(|e| e.value.as_str()))
        .unwrap_or("default");
    pod.file.iter().any(|o| {
        o.kind == "ServiceAccount"
            && o.name() == Some(account)
            && o.namespace() == pod.object.namespace()
            && o.root.get("automountServiceAccountToken").and_then(|e| e.value.as_bool()) == Some(false)
    })
}

pub(crate) static DEFAULT_NAMESPACE: Check = Check {
    id: "KSV110",
    severity: Severity::Low,
    pss: None,
    title: "Workload in the default namespace",
    description: "The default namespace is shared by everything nobody placed elsewhere, so its policies \
                  and RBAC cannot be tailored to the workload; a manifest without a namespace lands in \
                  whatever namespace the applying context uses, often default.",
    resolution: "Set metadata.namespace to a namespace dedicated to the application.",
    run: Run::Pod(default_namespace),
};

fn default_namespace(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let resource = &pod.object.resource;
    match pod.object.root.path(&["metadata", "namespace"]) {
        Some(e) if e.value.as_str() == Some("default") => {
            out.fail(Loc::entry(e), format!("{resource} is in the default namespace"))
        }
        Some(_) => {}
        None => out.fail(
            deepest(pod.object.root, &["metadata"]),
            format!("{resource} sets no namespace, so it goes wherever it is applied, often default"),
        ),
    }
}

pub(crate) static ROOT_GROUP: Check = Check {
    id: "KSV029",
    severity: Severity::Low,
    pss: None,
    title: "Root group id",
    description: "Group 0 owns many files root can read or write on images and mounted volumes; a \
                  process in it needs no root user to reach them.",
    resolution: "Set runAsGroup, fsGroup and supplementalGroups to non-zero group ids.",
    run: Run::Pod(root_group),
};

fn root_group(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let resource = &pod.object.resource;
    for key in ["runAsGroup", "fsGroup"] {
        if let Some(e) = pod.security(key).filter(|e| e.value.as_int() == Some(0)) {
            out.fail(Loc::entry(e), format!("{resource} sets securityContext.{key} to 0"));
        }
    }
    let groups = pod.security("supplementalGroups").map_or(&[][..], |e| e.value.items());
    for group in groups.iter().filter(|g| g.as_int() == Some(0)) {
        out.fail(Loc::node(group), format!("{resource} lists group 0 in securityContext.supplementalGroups"));
    }
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = c.security("runAsGroup").filter(|e| e.value.as_int() == Some(0)) {
            out.fail(Loc::entry(e), format!("{} sets securityContext.runAsGroup to 0", c.describe(pod)));
        }
    }
}

pub(crate) static SECRET_IN_ENV: Check = Check {
    id: "RPT-K8S-008",
    severity: Severity::Medium,
    pss: None,
    title: "Secret as a literal environment value",
    description: "An environment variable named like a password, token or key has its value written \
                  in the manifest, so it is in version control and visible to anyone who can read the \
                  workload object.",
    resolution: "Keep the value in a Secret and reference it with env[].valueFrom.secretKeyRef.",
    run: Run::Pod(secret_in_env),
};

fn secret_in_env(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        for var in c.field(&["env"]).map_or(&[][..], |e| e.value.items()) {
            let Some(name) = var.get("name").and_then(|e| e.value.as_str()) else { continue };
            let Some(value) = var.get("value") else { continue };
            if secret_like(name) && value.value.as_str().is_some_and(literal_secret) {
                out.fail(
                    Loc::entry(value),
                    format!("{} sets env {name} to a literal value", c.describe(pod)),
                );
            }
        }
    }
}

/// Whether a variable name ends in a word that names a credential (`DB_PASSWORD`,
/// `githubToken`, `AWS_SECRET_ACCESS_KEY`), but not `PASSWORD_FILE` or `CACHE_KEY`.
pub(crate) fn secret_like(name: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            prev_lower = false;
            words.push(String::new());
            continue;
        }
        if words.is_empty() || (prev_lower && ch.is_ascii_uppercase()) {
            words.push(String::new());
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        if let Some(word) = words.last_mut() {
            word.push(ch.to_ascii_uppercase());
        }
    }
    words.retain(|w| !w.is_empty());
    match words.as_slice() {
        [.., last]
            if matches!(
                last.as_str(),
                "PASSWORD" | "PASSWD" | "PASS" | "SECRET" | "TOKEN" | "APIKEY" | "CREDENTIAL" | "CREDENTIALS"
            ) =>
        {
            true
        }
        [.., prev, last] => {
            last == "KEY"
                && matches!(
                    prev.as_str(),
                    "API"
                        | "ACCESS"
                        | "SECRET"
                        | "PRIVATE"
                        | "SIGNING"
                        | "ENCRYPTION"
                        | "MASTER"
                        | "CLIENT"
                        | "AUTH"
                )
        }
        _ => false,
    }
}

/// Whether a value could be a credential rather than a reference, a path or a switch.
pub(crate) fn literal_secret(value: &str) -> bool {
    let value = value.trim();
    !(value.is_empty()
        || value.starts_with("$(")
        || value.starts_with("${")
        || value.starts_with('/')
        || matches!(value.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no"))
}

pub(crate) static SHARED_PROCESS_NAMESPACE: Check = Check {
    id: "RPT-K8S-009",
    severity: Severity::Low,
    pss: None,
    title: "Process namespace shared between containers",
    description: "With shareProcessNamespace every container of the pod sees the others' processes, \
                  their environment and files under /proc, so one compromised sidecar reaches them all.",
    resolution: "Remove shareProcessNamespace unless a debugging or sidecar design needs it.",
    run: Run::Pod(shared_process_namespace),
};

fn shared_process_namespace(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if let Some(e) = pod.field(&["shareProcessNamespace"]).filter(|e| e.value.as_bool() == Some(true)) {
        out.fail(Loc::entry(e), format!("{} sets shareProcessNamespace to true", pod.object.resource));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_are_split_at_the_last_path_segment() {
        assert_eq!(image_tag("nginx"), (None, false));
        assert_eq!(image_tag("registry:5000/team/app"), (None, false));
        assert_eq!(image_tag("registry:5000/team/app:1.2"), (Some("1.2"), false));
        assert_eq!(image_tag("app:latest@sha256:abc"), (Some("latest"), true));
    }

    #[test]
    fn credential_names_are_told_from_lookalikes() {
        for name in
            ["DB_PASSWORD", "githubToken", "AWS_SECRET_ACCESS_KEY", "API_KEY", "apiKey", "client-secret"]
        {
            assert!(secret_like(name), "{name}");
        }
        for name in ["PASSWORD_FILE", "CACHE_KEY", "KEYCLOAK_URL", "TOKEN_TTL", "PWD", "SECRET_NAME", "KEY"] {
            assert!(!secret_like(name), "{name}");
        }
    }

    #[test]
    fn references_and_paths_are_not_literal_secrets() {
        assert!(literal_secret("hunter2"));
        for value in ["", "$(DB_PASS)", "${TOKEN}", "/run/secrets/token", "true"] {
            assert!(!literal_secret(value), "{value}");
        }
    }
}
