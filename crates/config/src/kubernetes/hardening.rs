//! Pod checks that tighten what the Pod Security Standards leave open:
//! capabilities attackers reach for, host paths that give the node away,
//! user and group ids that collide with the host's, privileged ports,
//! Tiller, and pods placed among the control plane's.

use rampart_types::Severity;

use super::object::{Container, Group, Loc, Pod};
use super::{Check, Run, Sink};
use rampart_yaml::Entry;

/// Host paths that hand over the node: its root, boot files, devices, config,
/// libraries, kernel interfaces and the container runtime's state.
const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/kubelet",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
];

/// The first unprivileged port: binding below it needs NET_BIND_SERVICE.
const FIRST_UNPRIVILEGED_PORT: i64 = 1024;

/// Ids at or below this are likely to exist on the host too, so a process
/// that escapes lands as a real host user.
const HOST_ID_RANGE_END: i64 = 10_000;

/// The items of a container's `securityContext.capabilities.<key>`.
fn capabilities<'a>(c: &Container<'a>, key: &str) -> impl Iterator<Item = (&'a str, Loc)> {
    c.field(&["securityContext", "capabilities", key])
        .into_iter()
        .flat_map(|e| e.value.items())
        .filter_map(|n| Some((n.as_str()?, Loc::node(n))))
}

pub(crate) static DROP_ANY: Check = Check {
    id: "KSV004",
    severity: Severity::Low,
    pss: None,
    title: "No capabilities dropped",
    description: "A container that drops no capability keeps the runtime's whole default set, \
                  including ones it never uses such as NET_RAW or MKNOD.",
    resolution: "Set securityContext.capabilities.drop, ideally to [ALL], and add back only what \
                 the process needs.",
    run: Run::Pod(drop_any),
};

fn drop_any(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if pod.windows {
        return;
    }
    for c in pod.in_groups(Group::ALL) {
        if capabilities(c, "drop").next().is_none() {
            out.fail(
                c.locate(&["securityContext", "capabilities", "drop"]),
                format!("{} drops no capabilities", c.describe(pod)),
            );
        }
    }
}

macro_rules! added_capability {
    ($name:ident, $fn:ident, $id:literal, $cap:literal, $title:literal, $description:literal) => {
        pub(crate) static $name: Check = Check {
            id: $id,
            severity: Severity::High,
            pss: None,
            title: $title,
            description: $description,
            resolution: concat!("Remove ", $cap, " from securityContext.capabilities.add."),
            run: Run::Pod($fn),
        };

        fn $fn(pod: &Pod<'_>, out: &mut Sink<'_>) {
            for c in pod.in_groups(Group::ALL) {
                for (cap, loc) in capabilities(c, "add") {
                    if cap.trim_start_matches("CAP_").eq_ignore_ascii_case($cap) {
                        out.fail(loc, format!("{} adds capability {cap}", c.describe(pod)));
                    }
                }
            }
        }
    };
}

added_capability!(
    SYS_ADMIN,
    sys_admin,
    "KSV005",
    "SYS_ADMIN",
    "SYS_ADMIN capability added",
    "SYS_ADMIN allows mounting filesystems, loading BPF programs and most other administration: \
     with it, escaping the container is a matter of a few commands."
);
added_capability!(
    NET_RAW,
    net_raw,
    "KSV119",
    "NET_RAW",
    "NET_RAW capability added",
    "NET_RAW lets a process forge packets and sniff traffic on its network namespace, the basis of \
     ARP and DNS spoofing against neighbouring pods."
);

/// `(volume name, host path, the hostPath entry)` of every hostPath volume.
fn host_paths<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (&'a str, &'a str, &'a Entry)> {
    pod.volumes().iter().filter_map(|volume| {
        let entry = volume.get("hostPath")?;
        let path = entry.value.get("path").and_then(|p| p.value.as_str())?;
        let name = volume.get("name").and_then(|n| n.value.as_str()).unwrap_or("<unnamed>");
        Some((name, path, entry))
    })
}

pub(crate) static DOCKER_SOCKET: Check = Check {
    id: "KSV006",
    severity: Severity::High,
    pss: None,
    title: "Docker socket mounted",
    description: "Whoever can talk to the Docker socket can start a privileged container with the \
                  node's root filesystem mounted: the socket is root on the node.",
    resolution: "Do not mount /var/run/docker.sock; build images with a daemonless builder and use \
                 the Kubernetes API to inspect workloads.",
    run: Run::Pod(docker_socket),
};

fn docker_socket(pod: &Pod<'_>, out: &mut Sink<'_>) {
    mounted_host_paths(pod, out, "the Docker socket", |path| {
        matches!(path, "/var/run/docker.sock" | "/run/docker.sock")
    });
}

pub(crate) static SENSITIVE_HOST_PATH: Check = Check {
    id: "KSV121",
    severity: Severity::High,
    pss: None,
    title: "Sensitive host path mounted",
    description: "Mounting the node's root, /etc, /proc, /sys, devices, libraries or the container \
                  runtime's state gives the pod the means to read credentials or take over the node.",
    resolution: "Remove the hostPath volume; if a node agent needs host data, mount the narrowest \
                 path read-only.",
    run: Run::Pod(sensitive_host_path),
};

fn sensitive_host_path(pod: &Pod<'_>, out: &mut Sink<'_>) {
    mounted_host_paths(pod, out, "the host's", |path| SENSITIVE_HOST_PATHS.contains(&path));
}

/// Fails at every hostPath volume whose path, without trailing slashes,
/// `matches`; `what` names it in the message.
fn mounted_host_paths(pod: &Pod<'_>, out: &mut Sink<'_>, what: &str, matches: impl Fn(&str) -> bool) {
    for (name, path, entry) in host_paths(pod) {
        let normalized = match path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        if matches(normalized) {
            out.fail(
                Loc::entry(entry),
                format!("{} mounts {what} {path} as volume \"{name}\"", pod.object.resource),
            );
        }
    }
}

pub(crate) static HOST_ALIASES: Check = Check {
    id: "KSV007",
    severity: Severity::Low,
    pss: None,
    title: "hostAliases set",
    description: "hostAliases rewrites the pod's /etc/hosts, which can send traffic for a trusted \
                  name elsewhere and stops the runtime from managing the file.",
    resolution: "Remove hostAliases and resolve names through DNS.",
    run: Run::Pod(host_aliases),
};

fn host_aliases(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if let Some(e) = pod.field(&["hostAliases"]).filter(|e| !e.value.items().is_empty()) {
        out.fail(Loc::entry(e), format!("{} sets hostAliases", pod.object.resource));
    }
}

macro_rules! high_id {
    ($name:ident, $fn:ident, $id:literal, $key:literal, $what:literal, $title:literal) => {
        pub(crate) static $name: Check = Check {
            id: $id,
            severity: Severity::Low,
            pss: None,
            title: $title,
            description: concat!(
                "A ",
                $what,
                " id at or below 10000 is likely to exist on the node as well; a process that escapes \
                 the container then acts as that host ",
                $what,
                "."
            ),
            resolution: concat!("Set securityContext.", $key, " to an id above 10000 in the pod spec."),
            run: Run::Pod($fn),
        };

        fn $fn(pod: &Pod<'_>, out: &mut Sink<'_>) {
            high_ids(pod, out, $key);
        }
    };
}

high_id!(HIGH_UID, high_uid, "KSV020", "runAsUser", "user", "Runs with a low user id");
high_id!(HIGH_GID, high_gid, "KSV021", "runAsGroup", "group", "Runs with a low group id");

/// Every container must run with `key` above the host's id range, set on
/// itself or inherited from the pod.
fn high_ids(pod: &Pod<'_>, out: &mut Sink<'_>, key: &str) {
    let low = |e: &Entry| e.value.as_int().is_none_or(|id| id <= HOST_ID_RANGE_END);
    let pod_level = pod.security(key);
    if let Some(e) = pod_level.filter(|e| low(e)) {
        out.fail(
            Loc::entry(e),
            format!("{} sets securityContext.{key} at or below 10000", pod.object.resource),
        );
    }
    for c in pod.in_groups(Group::ALL) {
        match c.security(key) {
            Some(e) if low(e) => out.fail(
                Loc::entry(e),
                format!("{} sets securityContext.{key} at or below 10000", c.describe(pod)),
            ),
            Some(_) => {}
            None if pod_level.is_some() => {}
            None => out.fail(
                c.locate(&["securityContext", key]),
                format!("{} sets {key} neither itself nor at pod level", c.describe(pod)),
            ),
        }
    }
}

pub(crate) static PRIVILEGED_PORT: Check = Check {
    id: "KSV117",
    severity: Severity::Medium,
    pss: None,
    title: "Binds a privileged port",
    description: "Ports below 1024 need NET_BIND_SERVICE or root inside the container; an application \
                  that can listen on a high port should not need either.",
    resolution: "Listen on a port of 1024 or above and map it with the Service's port.",
    run: Run::Pod(privileged_port),
};

fn privileged_port(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        for port in c.field(&["ports"]).map_or(&[][..], |e| e.value.items()) {
            for key in ["containerPort", "hostPort"] {
                if let Some(e) = port.get(key)
                    && let Some(n) = e.value.as_int().filter(|n| (1..FIRST_UNPRIVILEGED_PORT).contains(n))
                {
                    out.fail(Loc::entry(e), format!("{} binds {key} {n}", c.describe(pod)));
                }
            }
        }
    }
}

pub(crate) static DEFAULT_SECURITY_CONTEXT: Check = Check {
    id: "KSV118",
    severity: Severity::Medium,
    pss: None,
    title: "Default security context",
    description: "A pod and container with no securityContext at all run with whatever the runtime \
                  defaults to: any user, every default capability, privilege escalation allowed.",
    resolution: "Set a securityContext in the pod spec or in the container: runAsNonRoot, \
                 allowPrivilegeEscalation: false, capabilities.drop: [ALL], a seccomp profile.",
    run: Run::Pod(default_security_context),
};

fn default_security_context(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let configured = |e: Option<&Entry>| e.is_some_and(|e| !e.value.entries().is_empty());
    if configured(pod.field(&["securityContext"])) {
        return;
    }
    for c in pod.in_groups(Group::ALL) {
        if !configured(c.field(&["securityContext"])) {
            out.fail(
                c.locate(&["securityContext"]),
                format!("{} has no securityContext, neither its own nor the pod's", c.describe(pod)),
            );
        }
    }
}

pub(crate) static KUBE_SYSTEM: Check = Check {
    id: "KSV037",
    severity: Severity::Medium,
    pss: None,
    title: "Workload in kube-system",
    description: "kube-system holds the control plane's service accounts and secrets, and is often \
                  exempt from admission policies: an application placed there inherits both.",
    resolution: "Deploy applications to a namespace of their own.",
    run: Run::Pod(kube_system),
};

fn kube_system(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if let Some(e) =
        pod.object.root.path(&["metadata", "namespace"]).filter(|e| e.value.as_str() == Some("kube-system"))
    {
        out.fail(Loc::entry(e), format!("{} is in the kube-system namespace", pod.object.resource));
    }
}

pub(crate) static TILLER: Check = Check {
    id: "KSV102",
    severity: Severity::Critical,
    pss: None,
    title: "Tiller deployed",
    description: "Tiller, the server side of Helm 2, listens unauthenticated inside the cluster with \
                  cluster-admin rights: any pod that reaches it controls the cluster.",
    resolution: "Remove Tiller and move to Helm 3, which has no server component.",
    run: Run::Pod(tiller),
};

fn tiller(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        let Some(e) = c.field(&["image"]) else { continue };
        let Some(image) = e.value.as_str() else { continue };
        let repository = image.split('@').next().unwrap_or(image);
        let name = repository.rsplit('/').next().unwrap_or(repository);
        if name.split(':').next() == Some("tiller") {
            out.fail(Loc::entry(e), format!("{} runs Tiller ({image})", c.describe(pod)));
        }
    }
}
