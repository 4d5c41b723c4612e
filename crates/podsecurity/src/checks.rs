//! The controls. Each looks at one pod (metadata + spec) at one version and
//! returns the plugin's forbidden reason and detail, or nothing. Values are
//! compared exactly as the API server's typed fields would be: only a JSON
//! `true` is true, only the number 0 is user 0.

use serde_json::Value;

use crate::{Level, at};

/// A Pod Security Standards control.
pub struct Control {
    /// Stable identifier (the plugin's check id).
    pub id: &'static str,
    pub level: Level,
    /// The standard's name for the control.
    pub title: &'static str,
    /// First v1.N minor version the control applies to.
    pub since: u32,
    /// Controls this one replaces at its level (restricted seccomp replaces
    /// baseline seccomp, and so on), as the plugin's override ids do.
    pub overrides: &'static [&'static str],
    pub(crate) check: fn(&Pod<'_>, u32) -> Option<(String, String)>,
}

/// The part of an object the controls read.
pub struct Pod<'a> {
    pub metadata: &'a Value,
    pub spec: &'a Value,
}

impl<'a> Pod<'a> {
    /// Init, regular and ephemeral containers, in that order, with their names.
    pub fn containers(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .filter_map(move |k| spec.get(k).and_then(Value::as_array))
            .flatten()
            .map(|c| (c.get("name").and_then(Value::as_str).unwrap_or(""), c))
    }

    fn pod_sc(&self, path: &str) -> Option<&'a Value> {
        self.spec.get("securityContext").and_then(|sc| at(sc, path))
    }

    fn is_windows(&self, minor: u32) -> bool {
        minor >= 25 && at(self.spec, "/os/name").and_then(Value::as_str) == Some("windows")
    }

    fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.metadata
            .get("annotations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
    }
}

fn sc<'a>(container: &'a Value, path: &str) -> Option<&'a Value> {
    container.get("securityContext").and_then(|sc| at(sc, path))
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

/// `"a", "b"` as the plugin quotes lists.
fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| format!("{:?}", s.as_ref())).collect::<Vec<_>>().join(", ")
}

fn plural(singular: &'static str, plural: &'static str, n: usize) -> &'static str {
    if n == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[&str]) -> String {
    format!("{} {}", plural("container", "containers", names.len()), join_quote(names))
}

/// `pod and containers "a", "b"`: who set a forbidden value.
fn setters(pod: bool, containers: &[&str]) -> String {
    let mut parts = Vec::new();
    if pod {
        parts.push("pod".to_string());
    }
    if !containers.is_empty() {
        parts.push(containers_phrase(containers));
    }
    parts.join(" and ")
}

fn push_unique(list: &mut Vec<String>, v: &str) {
    if !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

fn forbid(reason: &str, detail: String) -> Option<(String, String)> {
    Some((reason.to_string(), detail))
}

pub static CONTROLS: &[Control] = &[
    Control {
        id: "hostProcess",
        level: Level::Baseline,
        title: "HostProcess",
        since: 0,
        overrides: &[],
        check: host_process,
    },
    Control {
        id: "hostNamespaces",
        level: Level::Baseline,
        title: "Host Namespaces",
        since: 0,
        overrides: &[],
        check: host_namespaces,
    },
    Control {
        id: "privileged",
        level: Level::Baseline,
        title: "Privileged Containers",
        since: 0,
        overrides: &[],
        check: privileged,
    },
    Control {
        id: "capabilities_baseline",
        level: Level::Baseline,
        title: "Capabilities",
        since: 0,
        overrides: &[],
        check: capabilities_baseline,
    },
    Control {
        id: "hostPathVolumes",
        level: Level::Baseline,
        title: "HostPath Volumes",
        since: 0,
        overrides: &[],
        check: host_path_volumes,
    },
    Control {
        id: "hostPorts",
        level: Level::Baseline,
        title: "Host Ports",
        since: 0,
        overrides: &[],
        check: host_ports,
    },
    Control {
        id: "appArmorProfile",
        level: Level::Baseline,
        title: "AppArmor",
        since: 0,
        overrides: &[],
        check: apparmor,
    },
    Control {
        id: "seLinuxOptions",
        level: Level::Baseline,
        title: "SELinux",
        since: 0,
        overrides: &[],
        check: selinux,
    },
    Control {
        id: "procMount",
        level: Level::Baseline,
        title: "/proc Mount Type",
        since: 0,
        overrides: &[],
        check: proc_mount,
    },
    Control {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        title: "Seccomp",
        since: 0,
        overrides: &[],
        check: seccomp_baseline,
    },
    Control {
        id: "sysctls",
        level: Level::Baseline,
        title: "Sysctls",
        since: 0,
        overrides: &[],
        check: sysctls,
    },
    Control {
        id: "restrictedVolumes",
        level: Level::Restricted,
        title: "Volume Types",
        since: 0,
        overrides: &["hostPathVolumes"],
        check: restricted_volumes,
    },
    Control {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        title: "Privilege Escalation",
        since: 8,
        overrides: &[],
        check: allow_privilege_escalation,
    },
    Control {
        id: "runAsNonRoot",
        level: Level::Restricted,
        title: "Running as Non-root",
        since: 0,
        overrides: &[],
        check: run_as_non_root,
    },
    Control {
        id: "runAsUser",
        level: Level::Restricted,
        title: "Running as Non-root user",
        since: 23,
        overrides: &[],
        check: run_as_user,
    },
    Control {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        title: "Seccomp",
        since: 19,
        overrides: &["seccompProfile_baseline"],
        check: seccomp_restricted,
    },
    Control {
        id: "capabilities_restricted",
        level: Level::Restricted,
        title: "Capabilities",
        since: 22,
        overrides: &["capabilities_baseline"],
        check: capabilities_restricted,
    },
];

fn host_process(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let pod_set = is_true(pod.pod_sc("/windowsOptions/hostProcess"));
    let bad: Vec<&str> = pod
        .containers()
        .filter(|(_, c)| is_true(sc(c, "/windowsOptions/hostProcess")))
        .map(|(n, _)| n)
        .collect();
    if !pod_set && bad.is_empty() {
        return None;
    }
    forbid(
        "hostProcess",
        format!("{} must not set securityContext.windowsOptions.hostProcess=true", setters(pod_set, &bad)),
    )
}

fn host_namespaces(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| is_true(pod.spec.get(*k)))
        .map(|k| format!("{k}=true"))
        .collect();
    if set.is_empty() {
        return None;
    }
    forbid("host namespaces", set.join(", "))
}

fn privileged(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let bad: Vec<&str> =
        pod.containers().filter(|(_, c)| is_true(sc(c, "/privileged"))).map(|(n, _)| n).collect();
    if bad.is_empty() {
        return None;
    }
    forbid("privileged", format!("{} must not set securityContext.privileged=true", containers_phrase(&bad)))
}

/// Capabilities the baseline level lets a container add.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Containers adding capabilities outside `allowed`, and the sorted set of
/// those capabilities.
fn added_outside<'a>(pod: &Pod<'a>, allowed: &[&str]) -> (Vec<&'a str>, Vec<String>) {
    let mut containers = Vec::new();
    let mut caps = Vec::new();
    for (name, c) in pod.containers() {
        let mut bad = false;
        for cap in sc(c, "/capabilities/add").and_then(Value::as_array).into_iter().flatten() {
            let cap = cap.as_str().unwrap_or("");
            if !allowed.contains(&cap) {
                bad = true;
                push_unique(&mut caps, cap);
            }
        }
        if bad {
            containers.push(name);
        }
    }
    caps.sort();
    (containers, caps)
}

fn capabilities_baseline(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let (containers, caps) = added_outside(pod, BASELINE_CAPABILITIES);
    if containers.is_empty() {
        return None;
    }
    forbid(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&containers),
            join_quote(&caps)
        ),
    )
}

fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (&'a str, &'a serde_json::Map<String, Value>)> {
    pod.spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v.get("name").and_then(Value::as_str).unwrap_or(""), v.as_object()?)))
}

fn host_path_volumes(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let bad: Vec<&str> = volumes(pod).filter(|(_, v)| v.contains_key("hostPath")).map(|(n, _)| n).collect();
    if bad.is_empty() {
        return None;
    }
    forbid("hostPath volumes", format!("{} {}", plural("volume", "volumes", bad.len()), join_quote(&bad)))
}

fn host_ports(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let mut containers = Vec::new();
    let mut ports: Vec<i64> = Vec::new();
    for (name, c) in pod.containers() {
        let mut bad = false;
        for port in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            let hp = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if hp != 0 {
                bad = true;
                if !ports.contains(&hp) {
                    ports.push(hp);
                }
            }
        }
        if bad {
            containers.push(name);
        }
    }
    if containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.iter().map(i64::to_string).collect();
    forbid(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&containers),
            plural("uses", "use", containers.len()),
            plural("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    )
}

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

fn apparmor(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    let mut details = Vec::new();
    let mut annotations: Vec<String> = pod
        .annotations()
        .filter(|(k, v)| {
            k.starts_with(APPARMOR_ANNOTATION) && !(*v == "runtime/default" || v.starts_with("localhost/"))
        })
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    annotations.sort();
    let n_annotations = annotations.len();
    details.extend(annotations);
    if minor >= 30 {
        // The field form (v1.30+): only RuntimeDefault and Localhost are allowed.
        let allowed = |v: Option<&Value>| match v.map(|t| t.as_str()) {
            None => true,
            Some(t) => matches!(t, Some("RuntimeDefault" | "Localhost")),
        };
        let pod_type = pod.pod_sc("/appArmorProfile/type");
        let mut bad_values = Vec::new();
        let pod_bad = !allowed(pod_type);
        if pod_bad {
            push_unique(&mut bad_values, pod_type.and_then(Value::as_str).unwrap_or(""));
        }
        let mut bad = Vec::new();
        for (name, c) in pod.containers() {
            let t = sc(c, "/appArmorProfile/type");
            if !allowed(t) {
                bad.push(name);
                push_unique(&mut bad_values, t.and_then(Value::as_str).unwrap_or(""));
            }
        }
        if pod_bad || !bad.is_empty() {
            details.push(format!(
                "{} must not set securityContext.appArmorProfile.type to {}",
                setters(pod_bad, &bad),
                join_quote(&bad_values)
            ));
        }
    }
    if details.is_empty() {
        return None;
    }
    let reason = if details.len() == 1 && n_annotations <= 1 {
        "forbidden AppArmor profile"
    } else {
        "forbidden AppArmor profiles"
    };
    forbid(reason, details.join(", "))
}

/// The SELinux types the baseline level allows at Kubernetes 1.`minor`
/// (`""`, unset, among them).
pub fn allowed_selinux_types(minor: u32) -> &'static [&'static str] {
    if minor >= 31 {
        &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]
    } else {
        &["", "container_t", "container_init_t", "container_kvm_t"]
    }
}

fn selinux(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    let allowed_types = allowed_selinux_types(minor);
    let mut types = Vec::new();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut judge = |opts: Option<&Value>| -> bool {
        let Some(opts) = opts else { return false };
        let mut bad = false;
        if let Some(t) = opts.get("type").and_then(Value::as_str)
            && !allowed_types.contains(&t)
        {
            push_unique(&mut types, t);
            bad = true;
        }
        if let Some(u) = opts.get("user").and_then(Value::as_str).filter(|u| !u.is_empty()) {
            push_unique(&mut users, u);
            bad = true;
        }
        if let Some(r) = opts.get("role").and_then(Value::as_str).filter(|r| !r.is_empty()) {
            push_unique(&mut roles, r);
            bad = true;
        }
        bad
    };
    let pod_bad = judge(pod.pod_sc("/seLinuxOptions"));
    let bad: Vec<&str> =
        pod.containers().filter(|(_, c)| judge(sc(c, "/seLinuxOptions"))).map(|(n, _)| n).collect();
    if !pod_bad && bad.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    for (one, many, list) in [("type", "types", &types), ("user", "users", &users), ("role", "roles", &roles)]
    {
        if !list.is_empty() {
            data.push(format!("{} {}", plural(one, many, list.len()), join_quote(list)));
        }
    }
    forbid(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters(pod_bad, &bad),
            data.join("; ")
        ),
    )
}

fn proc_mount(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut values = Vec::new();
    for (name, c) in pod.containers() {
        if let Some(v) = sc(c, "/procMount") {
            let v = v.as_str().unwrap_or("");
            if v != "Default" {
                bad.push(name);
                push_unique(&mut values, v);
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    forbid(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&values)
        ),
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp_baseline(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    if minor < 19 {
        // Before v1.19 the profile was only an annotation.
        let mut bad: Vec<String> = pod
            .annotations()
            .filter(|(k, v)| {
                (*k == SECCOMP_POD_ANNOTATION || k.starts_with(SECCOMP_CONTAINER_ANNOTATION))
                    && *v == "unconfined"
            })
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        if bad.is_empty() {
            return None;
        }
        bad.sort();
        return forbid("seccompProfile", format!("forbidden annotations {}", bad.join(", ")));
    }
    let unconfined = |v: Option<&Value>| v.and_then(Value::as_str) == Some("Unconfined");
    let pod_bad = unconfined(pod.pod_sc("/seccompProfile/type"));
    let bad: Vec<&str> =
        pod.containers().filter(|(_, c)| unconfined(sc(c, "/seccompProfile/type"))).map(|(n, _)| n).collect();
    if !pod_bad && bad.is_empty() {
        return None;
    }
    forbid(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to \"Unconfined\"",
            setters(pod_bad, &bad)
        ),
    )
}

/// The sysctls the baseline level allows at Kubernetes 1.`minor`: namespaced
/// ones that cannot affect other pods on the node.
pub fn allowed_sysctls(minor: u32) -> Vec<&'static str> {
    let mut list = vec![
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    if minor >= 27 {
        list.push("net.ipv4.ip_local_reserved_ports");
    }
    if minor >= 29 {
        list.extend([
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ]);
    }
    if minor >= 32 {
        list.extend(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);
    }
    list
}

fn sysctls(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    let allowed = allowed_sysctls(minor);
    let mut bad = Vec::new();
    for s in pod.pod_sc("/sysctls").and_then(Value::as_array).into_iter().flatten() {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("");
        if !allowed.contains(&name) {
            push_unique(&mut bad, name);
        }
    }
    if bad.is_empty() {
        return None;
    }
    forbid("forbidden sysctls", bad.join(", "))
}

/// Volume sources the restricted level allows.
pub const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn restricted_volumes(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let mut names = Vec::new();
    let mut types = Vec::new();
    for (name, v) in volumes(pod) {
        let kind = v.keys().find(|k| *k != "name").map(String::as_str).unwrap_or("unknown");
        if !RESTRICTED_VOLUME_TYPES.contains(&kind) {
            names.push(name);
            push_unique(&mut types, kind);
        }
    }
    if names.is_empty() {
        return None;
    }
    forbid(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            plural("volume", "volumes", names.len()),
            join_quote(&names),
            plural("uses", "use", names.len()),
            plural("restricted volume type", "restricted volume types", types.len()),
            join_quote(&types)
        ),
    )
}

fn allow_privilege_escalation(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    if pod.is_windows(minor) {
        return None;
    }
    let bad: Vec<&str> = pod
        .containers()
        .filter(|(_, c)| sc(c, "/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false))
        .map(|(n, _)| n)
        .collect();
    if bad.is_empty() {
        return None;
    }
    forbid(
        "allowPrivilegeEscalation != false",
        format!("{} must set securityContext.allowPrivilegeEscalation=false", containers_phrase(&bad)),
    )
}

fn run_as_non_root(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let pod_value = pod.pod_sc("/runAsNonRoot").and_then(Value::as_bool);
    let pod_bad = pod_value == Some(false);
    let pod_ok = pod_value == Some(true);
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for (name, c) in pod.containers() {
        match sc(c, "/runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => explicit.push(name),
            Some(true) => {}
            None if !pod_ok => implicit.push(name),
            None => {}
        }
    }
    let mut details = Vec::new();
    if pod_bad || !explicit.is_empty() {
        details
            .push(format!("{} must not set securityContext.runAsNonRoot=false", setters(pod_bad, &explicit)));
    }
    if !implicit.is_empty() {
        details.push(format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ));
    }
    if details.is_empty() {
        return None;
    }
    forbid("runAsNonRoot != true", details.join("; "))
}

fn run_as_user(pod: &Pod<'_>, _: u32) -> Option<(String, String)> {
    let zero = |v: Option<&Value>| v.and_then(Value::as_i64) == Some(0);
    let pod_bad = zero(pod.pod_sc("/runAsUser"));
    let bad: Vec<&str> =
        pod.containers().filter(|(_, c)| zero(sc(c, "/runAsUser"))).map(|(n, _)| n).collect();
    if !pod_bad && bad.is_empty() {
        return None;
    }
    forbid("runAsUser=0", format!("{} must not set runAsUser=0", setters(pod_bad, &bad)))
}

fn seccomp_restricted(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    if pod.is_windows(minor) {
        return None;
    }
    let valid = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut bad_values = Vec::new();
    let pod_type = pod.pod_sc("/seccompProfile/type").map(|v| v.as_str().unwrap_or(""));
    let pod_ok = pod_type.is_some_and(valid);
    let pod_bad = pod_type.is_some_and(|t| !valid(t));
    if let Some(t) = pod_type.filter(|t| !valid(t)) {
        push_unique(&mut bad_values, t);
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for (name, c) in pod.containers() {
        match sc(c, "/seccompProfile/type").map(|v| v.as_str().unwrap_or("")) {
            Some(t) if valid(t) => {}
            Some(t) => {
                explicit.push(name);
                push_unique(&mut bad_values, t);
            }
            None if !pod_ok => implicit.push(name),
            None => {}
        }
    }
    let mut details = Vec::new();
    if pod_bad || !explicit.is_empty() {
        details.push(format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters(pod_bad, &explicit),
            join_quote(&bad_values)
        ));
    }
    if !implicit.is_empty() {
        details.push(format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&implicit)
        ));
    }
    if details.is_empty() {
        return None;
    }
    forbid("seccompProfile", details.join("; "))
}

fn capabilities_restricted(pod: &Pod<'_>, minor: u32) -> Option<(String, String)> {
    if pod.is_windows(minor) {
        return None;
    }
    let missing_drop: Vec<&str> = pod
        .containers()
        .filter(|(_, c)| {
            !sc(c, "/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")))
        })
        .map(|(n, _)| n)
        .collect();
    let (adding, caps) = added_outside(pod, &["NET_BIND_SERVICE"]);
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&caps)
        ));
    }
    if details.is_empty() {
        return None;
    }
    forbid("unrestricted capabilities", details.join("; "))
}
