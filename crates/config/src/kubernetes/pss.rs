//! The controls of the Pod Security Standards (baseline and restricted), one
//! check each, judged as the admission controller judges them: exact field
//! values, pod-level settings inherited by containers that leave them unset,
//! and Windows pods exempt from the Linux-only restricted controls
//! (privilege escalation, seccomp, capabilities).

use rampart_podsecurity::{LATEST_MINOR, RESTRICTED_VOLUME_TYPES, allowed_selinux_types, allowed_sysctls};
use rampart_types::Severity;

use super::object::{Container, Group, Loc, Pod};
use super::{Check, Run, Sink};
use rampart_yaml::{Entry, Node, Value};

/// The entry unless its value is null (`type:` with nothing after it counts as unset).
fn set(entry: Option<&Entry>) -> Option<&Entry> {
    entry.filter(|e| !matches!(e.value.value, Value::Null))
}

fn is_true(entry: Option<&Entry>) -> Option<&Entry> {
    entry.filter(|e| e.value.as_bool() == Some(true))
}

/// The items of a list field with their text (non-scalar items left out).
fn strings(entry: Option<&Entry>) -> impl Iterator<Item = (&str, &Node)> {
    entry.into_iter().flat_map(|e| e.value.items()).filter_map(|n| Some((n.as_str()?, &**n)))
}

pub(crate) static HOST_PROCESS: Check = Check {
    id: "KSV103",
    severity: Severity::High,
    pss: Some("hostProcess"),
    title: "Windows HostProcess container (PSS baseline)",
    description: "A HostProcess container runs directly on the Windows node with the node's privileges; \
                  the baseline Pod Security Standard forbids it.",
    resolution: "Remove securityContext.windowsOptions.hostProcess or set it to false.",
    run: Run::Pod(host_process),
};

fn host_process(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if let Some(e) = is_true(pod.field(&["securityContext", "windowsOptions", "hostProcess"])) {
        let msg = format!("{} sets securityContext.windowsOptions.hostProcess to true", pod.object.resource);
        out.fail(Loc::entry(e), msg);
    }
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = is_true(c.field(&["securityContext", "windowsOptions", "hostProcess"])) {
            out.fail(
                Loc::entry(e),
                format!("{} sets securityContext.windowsOptions.hostProcess to true", c.describe(pod)),
            );
        }
    }
}

macro_rules! host_namespace {
    ($name:ident, $fn:ident, $id:literal, $field:literal, $title:literal, $description:literal) => {
        pub(crate) static $name: Check = Check {
            id: $id,
            severity: Severity::High,
            pss: Some("hostNamespaces"),
            title: $title,
            description: $description,
            resolution: concat!("Remove ", $field, " from the pod spec or set it to false."),
            run: Run::Pod($fn),
        };

        fn $fn(pod: &Pod<'_>, out: &mut Sink<'_>) {
            if let Some(e) = is_true(pod.field(&[$field])) {
                out.fail(Loc::entry(e), format!("{} sets {} to true", pod.object.resource, $field));
            }
        }
    };
}

host_namespace!(
    HOST_IPC,
    host_ipc,
    "KSV008",
    "hostIPC",
    "Host IPC namespace shared (PSS baseline)",
    "A pod in the node's IPC namespace can read and write the shared memory of every process \
     on the node; the baseline Pod Security Standard forbids sharing host namespaces."
);
host_namespace!(
    HOST_NETWORK,
    host_network,
    "KSV009",
    "hostNetwork",
    "Host network namespace shared (PSS baseline)",
    "A pod on the node's network sees all of its traffic, reaches services bound to localhost \
     and bypasses network policies; the baseline Pod Security Standard forbids sharing host namespaces."
);
host_namespace!(
    HOST_PID,
    host_pid,
    "KSV010",
    "hostPID",
    "Host PID namespace shared (PSS baseline)",
    "A pod in the node's PID namespace sees every process on the node, their environment and \
     open files, and can signal them; the baseline Pod Security Standard forbids sharing host namespaces."
);

pub(crate) static PRIVILEGED: Check = Check {
    id: "KSV017",
    severity: Severity::High,
    pss: Some("privileged"),
    title: "Privileged container (PSS baseline)",
    description: "A privileged container has every capability and the host's devices, so it can take \
                  over the node; the baseline Pod Security Standard forbids it.",
    resolution: "Remove securityContext.privileged or set it to false.",
    run: Run::Pod(privileged),
};

fn privileged(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = is_true(c.security("privileged")) {
            out.fail(Loc::entry(e), format!("{} sets securityContext.privileged to true", c.describe(pod)));
        }
    }
}

fn added_caps<'a>(c: &Container<'a>) -> impl Iterator<Item = (&'a str, &'a Node)> {
    strings(c.field(&["securityContext", "capabilities", "add"]))
}

pub(crate) static BASELINE_CAPABILITIES: Check = Check {
    id: "KSV022",
    severity: Severity::Medium,
    pss: Some("capabilities_baseline"),
    title: "Capability beyond the default set added (PSS baseline)",
    description: "Capabilities outside the container runtime's default set (SYS_ADMIN, NET_ADMIN, \
                  SYS_PTRACE, …) give a container powers over the kernel or other processes; the baseline \
                  Pod Security Standard allows adding only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, \
                  KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT.",
    resolution: "Remove the capability from securityContext.capabilities.add.",
    run: Run::Pod(baseline_capabilities),
};

fn baseline_capabilities(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        for (cap, node) in
            added_caps(c).filter(|(cap, _)| !rampart_podsecurity::BASELINE_CAPABILITIES.contains(cap))
        {
            out.fail(Loc::node(node), format!("{} adds capability {cap}", c.describe(pod)));
        }
    }
}

pub(crate) static HOST_PATH: Check = Check {
    id: "KSV023",
    severity: Severity::Medium,
    pss: Some("hostPathVolumes"),
    title: "hostPath volume (PSS baseline)",
    description: "A hostPath volume exposes part of the node's filesystem to the pod, such as the \
                  container runtime socket or credentials; the baseline Pod Security Standard forbids it.",
    resolution: "Use a persistentVolumeClaim, configMap, secret or emptyDir volume instead of hostPath.",
    run: Run::Pod(host_path),
};

fn host_path(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for volume in pod.volumes() {
        if let Some(e) = volume.get("hostPath") {
            let name = volume.get("name").and_then(|n| n.value.as_str()).unwrap_or("<unnamed>");
            let path = e.value.get("path").and_then(|p| p.value.as_str()).unwrap_or("?");
            out.fail(
                Loc::entry(e),
                format!("{} mounts host path {path} as volume \"{name}\"", pod.object.resource),
            );
        }
    }
}

pub(crate) static HOST_PORTS: Check = Check {
    id: "KSV024",
    severity: Severity::High,
    pss: Some("hostPorts"),
    title: "Host port bound (PSS baseline)",
    description: "A hostPort binds the container to a port of the node's own address, bypassing \
                  network policies and limiting scheduling; the baseline Pod Security Standard forbids it.",
    resolution: "Remove hostPort from the container's ports and expose the pod through a Service.",
    run: Run::Pod(host_ports),
};

fn host_ports(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        let ports = c.field(&["ports"]).map_or(&[][..], |e| e.value.items());
        for e in ports.iter().filter_map(|p| p.get("hostPort")) {
            if e.value.as_int() != Some(0) {
                let port = e.value.as_str().unwrap_or("?");
                out.fail(Loc::entry(e), format!("{} binds host port {port}", c.describe(pod)));
            }
        }
    }
}

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

pub(crate) static APPARMOR: Check = Check {
    id: "KSV002",
    severity: Severity::Medium,
    pss: Some("appArmorProfile"),
    title: "AppArmor profile overridden (PSS baseline)",
    description: "Running without the runtime's default AppArmor profile (or a profile loaded on the \
                  node) lifts restrictions on file access and mounts; the baseline Pod Security Standard \
                  allows only RuntimeDefault and Localhost profiles.",
    resolution: "Set securityContext.appArmorProfile.type to RuntimeDefault or Localhost (annotations: \
                 runtime/default or localhost/<profile>), or leave it unset.",
    run: Run::Pod(apparmor),
};

fn apparmor(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let annotations = pod.metadata.and_then(|m| m.get("annotations"));
    for e in annotations.map_or(&[][..], |a| a.value.entries()) {
        if let Some(container) = e.key.strip_prefix(APPARMOR_ANNOTATION) {
            let value = e.value.as_str().unwrap_or("");
            if value != "runtime/default" && !value.starts_with("localhost/") {
                let msg = format!(
                    "{} sets AppArmor profile {value:?} for container \"{container}\" by annotation",
                    pod.object.resource
                );
                out.fail(Loc::entry(e), msg);
            }
        }
    }
    let bad_type =
        |e: &&Entry| e.value.as_str().is_some_and(|v| !matches!(v, "RuntimeDefault" | "Localhost"));
    if let Some(e) = pod.field(&["securityContext", "appArmorProfile", "type"]).filter(bad_type) {
        let value = e.value.as_str().unwrap_or("?");
        out.fail(
            Loc::entry(e),
            format!("{} sets securityContext.appArmorProfile.type to {value}", pod.object.resource),
        );
    }
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = c.field(&["securityContext", "appArmorProfile", "type"]).filter(bad_type) {
            let value = e.value.as_str().unwrap_or("?");
            out.fail(
                Loc::entry(e),
                format!("{} sets securityContext.appArmorProfile.type to {value}", c.describe(pod)),
            );
        }
    }
}

pub(crate) static SELINUX: Check = Check {
    id: "KSV025",
    severity: Severity::Medium,
    pss: Some("seLinuxOptions"),
    title: "Custom SELinux options (PSS baseline)",
    description: "Setting an SELinux user or role, or a type other than the container types, can \
                  take a container out of its confinement; the baseline Pod Security Standard allows \
                  only the types container_t, container_init_t, container_kvm_t and container_engine_t.",
    resolution: "Remove seLinuxOptions.user and seLinuxOptions.role, and use one of the allowed \
                 container types.",
    run: Run::Pod(selinux),
};

fn selinux(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let check = |options: Option<&Entry>, who: &str, out: &mut Sink<'_>| {
        let Some(options) = options else { return };
        if let Some(e) = options.value.get("type") {
            let value = e.value.as_str().unwrap_or("");
            if !allowed_selinux_types(LATEST_MINOR).contains(&value) {
                out.fail(Loc::entry(e), format!("{who} sets seLinuxOptions.type to {value}"));
            }
        }
        for key in ["user", "role"] {
            if let Some(e) =
                options.value.get(key).filter(|e| e.value.as_str().is_some_and(|v| !v.is_empty()))
            {
                out.fail(Loc::entry(e), format!("{who} sets seLinuxOptions.{key}"));
            }
        }
    };
    check(pod.security("seLinuxOptions"), &pod.object.resource, out);
    for c in pod.in_groups(Group::ALL) {
        check(c.security("seLinuxOptions"), &c.describe(pod), out);
    }
}

pub(crate) static PROC_MOUNT: Check = Check {
    id: "KSV027",
    severity: Severity::Medium,
    pss: Some("procMount"),
    title: "Unmasked /proc mount (PSS baseline)",
    description: "procMount Unmasked exposes the parts of /proc the runtime hides, such as kernel \
                  tunables and other processes' details; the baseline Pod Security Standard requires the \
                  Default mount type.",
    resolution: "Remove securityContext.procMount or set it to Default.",
    run: Run::Pod(proc_mount),
};

fn proc_mount(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = c.security("procMount").filter(|e| e.value.as_str().is_some_and(|v| v != "Default"))
        {
            let value = e.value.as_str().unwrap_or("?");
            out.fail(Loc::entry(e), format!("{} sets securityContext.procMount to {value}", c.describe(pod)));
        }
    }
}

pub(crate) static SECCOMP_UNCONFINED: Check = Check {
    id: "KSV104",
    severity: Severity::Medium,
    pss: Some("seccompProfile_baseline"),
    title: "Seccomp disabled (PSS baseline)",
    description: "An Unconfined seccomp profile lets the container make every system call, which \
                  widens the kernel attack surface; the baseline Pod Security Standard forbids it.",
    resolution: "Set seccompProfile.type to RuntimeDefault or Localhost.",
    run: Run::Pod(seccomp_unconfined),
};

fn seccomp_unconfined(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let unconfined = |e: &&Entry| e.value.as_str() == Some("Unconfined");
    if let Some(e) = pod.field(&["securityContext", "seccompProfile", "type"]).filter(unconfined) {
        out.fail(
            Loc::entry(e),
            format!("{} sets securityContext.seccompProfile.type to Unconfined", pod.object.resource),
        );
    }
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = c.field(&["securityContext", "seccompProfile", "type"]).filter(unconfined) {
            out.fail(
                Loc::entry(e),
                format!("{} sets securityContext.seccompProfile.type to Unconfined", c.describe(pod)),
            );
        }
    }
}

pub(crate) static SYSCTLS: Check = Check {
    id: "KSV026",
    severity: Severity::Medium,
    pss: Some("sysctls"),
    title: "Unsafe sysctl (PSS baseline)",
    description: "Sysctls outside the safe, namespaced set can change the kernel for every pod on the \
                  node; the baseline Pod Security Standard allows only the safe set.",
    resolution: "Remove the sysctl from securityContext.sysctls, or allow it on dedicated nodes only.",
    run: Run::Pod(sysctls),
};

fn sysctls(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let allowed = allowed_sysctls(LATEST_MINOR);
    for sysctl in pod.security("sysctls").map_or(&[][..], |e| e.value.items()) {
        if let Some(e) = sysctl.get("name") {
            let name = e.value.as_str().unwrap_or("");
            if !allowed.contains(&name) {
                out.fail(Loc::entry(e), format!("{} sets unsafe sysctl {name}", pod.object.resource));
            }
        }
    }
}

pub(crate) static VOLUME_TYPES: Check = Check {
    id: "KSV028",
    severity: Severity::Low,
    pss: Some("restrictedVolumes"),
    title: "Volume type not allowed (PSS restricted)",
    description: "Volume types other than configMap, csi, downwardAPI, emptyDir, ephemeral, \
                  persistentVolumeClaim, projected and secret reach node or network storage directly; \
                  the restricted Pod Security Standard forbids them.",
    resolution: "Mount storage through a persistentVolumeClaim (or CSI) instead of an inline volume source.",
    run: Run::Pod(volume_types),
};

fn volume_types(pod: &Pod<'_>, out: &mut Sink<'_>) {
    for volume in pod.volumes() {
        let name = volume.get("name").and_then(|n| n.value.as_str()).unwrap_or("<unnamed>");
        for e in volume
            .entries()
            .iter()
            .filter(|e| e.key != "name" && !RESTRICTED_VOLUME_TYPES.contains(&e.key.as_str()))
        {
            out.fail(Loc::entry(e), format!("{} uses a {} volume \"{name}\"", pod.object.resource, e.key));
        }
    }
}

pub(crate) static PRIVILEGE_ESCALATION: Check = Check {
    id: "KSV001",
    severity: Severity::Medium,
    pss: Some("allowPrivilegeEscalation"),
    title: "Privilege escalation allowed (PSS restricted)",
    description: "Unless allowPrivilegeEscalation is false, a process can gain more privileges than its \
                  parent, through setuid binaries for instance; the restricted Pod Security Standard \
                  requires it to be false.",
    resolution: "Set securityContext.allowPrivilegeEscalation to false.",
    run: Run::Pod(privilege_escalation),
};

fn privilege_escalation(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if pod.windows {
        return;
    }
    for c in pod.in_groups(Group::ALL) {
        match c.security("allowPrivilegeEscalation") {
            Some(e) if e.value.as_bool() == Some(false) => {}
            Some(e) => out.fail(
                Loc::entry(e),
                format!("{} does not set securityContext.allowPrivilegeEscalation to false", c.describe(pod)),
            ),
            None => out.fail(
                c.locate(&["securityContext", "allowPrivilegeEscalation"]),
                format!("{} leaves securityContext.allowPrivilegeEscalation unset", c.describe(pod)),
            ),
        }
    }
}

pub(crate) static RUN_AS_NON_ROOT: Check = Check {
    id: "KSV012",
    severity: Severity::Medium,
    pss: Some("runAsNonRoot"),
    title: "Container may run as root (PSS restricted)",
    description: "Without runAsNonRoot: true the container may start as root, which turns any escape \
                  or mount mistake into root on the node; the restricted Pod Security Standard requires it \
                  at pod level or on every container.",
    resolution: "Set securityContext.runAsNonRoot to true in the pod spec (or in every container) \
                 and run as a non-zero user.",
    run: Run::Pod(run_as_non_root),
};

fn run_as_non_root(pod: &Pod<'_>, out: &mut Sink<'_>) {
    let pod_level = pod.security("runAsNonRoot");
    let pod_true = pod_level.is_some_and(|e| e.value.as_bool() == Some(true));
    if let Some(e) = pod_level.filter(|_| !pod_true) {
        out.fail(
            Loc::entry(e),
            format!("{} does not set securityContext.runAsNonRoot to true", pod.object.resource),
        );
    }
    for c in pod.in_groups(Group::ALL) {
        match c.security("runAsNonRoot") {
            Some(e) if e.value.as_bool() == Some(true) => {}
            Some(e) => out.fail(
                Loc::entry(e),
                format!("{} does not set securityContext.runAsNonRoot to true", c.describe(pod)),
            ),
            None if pod_true => {}
            None => out.fail(
                c.locate(&["securityContext", "runAsNonRoot"]),
                format!("{} sets runAsNonRoot neither itself nor at pod level", c.describe(pod)),
            ),
        }
    }
}

pub(crate) static RUN_AS_ROOT_USER: Check = Check {
    id: "KSV105",
    severity: Severity::Low,
    pss: Some("runAsUser"),
    title: "Runs as user 0 (PSS restricted)",
    description: "runAsUser: 0 runs the container as root whatever its image says; the restricted Pod \
                  Security Standard forbids it.",
    resolution: "Set securityContext.runAsUser to a non-zero user id, or remove it and use a \
                 non-root image user.",
    run: Run::Pod(run_as_root_user),
};

fn run_as_root_user(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if let Some(e) = pod.security("runAsUser").filter(|e| e.value.as_int() == Some(0)) {
        out.fail(Loc::entry(e), format!("{} sets securityContext.runAsUser to 0", pod.object.resource));
    }
    for c in pod.in_groups(Group::ALL) {
        if let Some(e) = c.security("runAsUser").filter(|e| e.value.as_int() == Some(0)) {
            out.fail(Loc::entry(e), format!("{} sets securityContext.runAsUser to 0", c.describe(pod)));
        }
    }
}

pub(crate) static SECCOMP_REQUIRED: Check = Check {
    id: "KSV030",
    severity: Severity::Low,
    pss: Some("seccompProfile_restricted"),
    title: "Seccomp profile not set (PSS restricted)",
    description: "Containers without a seccomp profile may run unconfined; the restricted Pod Security \
                  Standard requires RuntimeDefault or Localhost at pod level or on every container.",
    resolution: "Set securityContext.seccompProfile.type to RuntimeDefault in the pod spec.",
    run: Run::Pod(seccomp_required),
};

fn seccomp_required(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if pod.windows {
        return;
    }
    let allowed = |e: &Entry| matches!(e.value.as_str(), Some("RuntimeDefault" | "Localhost"));
    let pod_level = set(pod.field(&["securityContext", "seccompProfile", "type"]));
    let pod_ok = pod_level.is_some_and(allowed);
    if let Some(e) = pod_level.filter(|e| !allowed(e)) {
        let value = e.value.as_str().unwrap_or("?");
        out.fail(
            Loc::entry(e),
            format!("{} sets securityContext.seccompProfile.type to {value}", pod.object.resource),
        );
    }
    for c in pod.in_groups(Group::ALL) {
        match set(c.field(&["securityContext", "seccompProfile", "type"])) {
            Some(e) if allowed(e) => {}
            Some(e) => {
                let value = e.value.as_str().unwrap_or("?");
                out.fail(
                    Loc::entry(e),
                    format!("{} sets securityContext.seccompProfile.type to {value}", c.describe(pod)),
                );
            }
            None if pod_ok => {}
            None => out.fail(
                c.locate(&["securityContext", "seccompProfile", "type"]),
                format!("{} has no seccomp profile, neither its own nor the pod's", c.describe(pod)),
            ),
        }
    }
}

pub(crate) static DROP_ALL: Check = Check {
    id: "KSV003",
    severity: Severity::Low,
    pss: Some("capabilities_restricted"),
    title: "Capabilities not dropped (PSS restricted)",
    description: "Containers keep the runtime's default capabilities unless they drop them; the \
                  restricted Pod Security Standard requires dropping ALL and adding back only what \
                  is needed.",
    resolution: "Add ALL to securityContext.capabilities.drop.",
    run: Run::Pod(drop_all),
};

fn drop_all(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if pod.windows {
        return;
    }
    for c in pod.in_groups(Group::ALL) {
        let path = ["securityContext", "capabilities", "drop"];
        if !strings(c.field(&path)).any(|(cap, _)| cap == "ALL") {
            out.fail(c.locate(&path), format!("{} does not drop ALL capabilities", c.describe(pod)));
        }
    }
}

pub(crate) static RESTRICTED_CAPABILITIES: Check = Check {
    id: "KSV106",
    severity: Severity::Low,
    pss: Some("capabilities_restricted"),
    title: "Capability other than NET_BIND_SERVICE added (PSS restricted)",
    description: "The restricted Pod Security Standard lets containers add back only NET_BIND_SERVICE \
                  after dropping ALL.",
    resolution: "Remove every capability but NET_BIND_SERVICE from securityContext.capabilities.add.",
    run: Run::Pod(restricted_capabilities),
};

fn restricted_capabilities(pod: &Pod<'_>, out: &mut Sink<'_>) {
    if pod.windows {
        return;
    }
    for c in pod.in_groups(Group::ALL) {
        for (cap, node) in added_caps(c).filter(|(cap, _)| *cap != "NET_BIND_SERVICE") {
            out.fail(Loc::node(node), format!("{} adds capability {cap}", c.describe(pod)));
        }
    }
}
