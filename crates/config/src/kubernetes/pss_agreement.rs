//! `rampart config`'s Pod Security checks and the admission webhook's Pod
//! Security evaluation (`rampart-podsecurity`) must reach the same verdict on
//! every pod: a manifest that passes the gate in CI must pass it at
//! admission. Each case below is a restricted-clean pod with one change,
//! wrapped as a Pod and as workloads; both engines must fail the same
//! controls at the latest version, at each level. (At restricted, config
//! also reports the baseline form of a control the restricted form
//! replaces, as a separate finding; the plugin evaluates only the latter.)

use std::collections::BTreeSet;

use serde_json::{Value, json};

use rampart_podsecurity::{CONTROLS, Control, Level, LevelVersion, Version};

use super::{CHECKS, scan};

fn clean_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": "registry.example.com/web:1.2.3",
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
            }]
        }
    })
}

/// Sets (or, with `Value::Null`, removes) the field at a JSON pointer,
/// creating the objects on the way.
fn put(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let mut at = doc;
    for part in parent.split('/').skip(1) {
        at = match at {
            Value::Array(items) => &mut items[part.parse::<usize>().expect("index")],
            other => {
                other.as_object_mut().expect("object on the way").entry(part).or_insert_with(|| json!({}))
            }
        };
    }
    match at {
        Value::Array(items) => items[key.parse::<usize>().expect("index")] = value,
        other => {
            let map = other.as_object_mut().expect("object");
            if value.is_null() {
                map.remove(key);
            } else {
                map.insert(key.to_string(), value);
            }
        }
    }
}

const C0: &str = "/spec/containers/0";

/// One change each, and what it is about.
fn cases() -> Vec<(&'static str, Vec<(String, Value)>)> {
    let c = |path: &str| format!("{C0}{path}");
    let p = |path: &str| path.to_string();
    vec![
        ("clean", vec![]),
        ("hostNetwork", vec![(p("/spec/hostNetwork"), json!(true))]),
        ("hostNetwork false", vec![(p("/spec/hostNetwork"), json!(false))]),
        ("hostPID and hostIPC", vec![(p("/spec/hostPID"), json!(true)), (p("/spec/hostIPC"), json!(true))]),
        ("privileged", vec![(c("/securityContext/privileged"), json!(true))]),
        ("privileged false", vec![(c("/securityContext/privileged"), json!(false))]),
        ("adds NET_ADMIN", vec![(c("/securityContext/capabilities/add"), json!(["NET_ADMIN"]))]),
        ("adds CHOWN", vec![(c("/securityContext/capabilities/add"), json!(["CHOWN"]))]),
        (
            "adds NET_BIND_SERVICE",
            vec![(c("/securityContext/capabilities/add"), json!(["NET_BIND_SERVICE"]))],
        ),
        ("drops nothing", vec![(c("/securityContext/capabilities/drop"), json!([]))]),
        ("hostPath volume", vec![(p("/spec/volumes"), json!([{"name": "h", "hostPath": {"path": "/"}}]))]),
        ("emptyDir volume", vec![(p("/spec/volumes"), json!([{"name": "e", "emptyDir": {}}]))]),
        (
            "nfs volume",
            vec![(p("/spec/volumes"), json!([{"name": "n", "nfs": {"server": "nfs", "path": "/"}}]))],
        ),
        ("hostPort", vec![(c("/ports"), json!([{"containerPort": 80, "hostPort": 8080}]))]),
        ("hostPort 0", vec![(c("/ports"), json!([{"containerPort": 80, "hostPort": 0}]))]),
        (
            "AppArmor annotation unconfined",
            vec![(
                p("/metadata/annotations"),
                json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
            )],
        ),
        (
            "AppArmor annotation runtime/default",
            vec![(
                p("/metadata/annotations"),
                json!({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}),
            )],
        ),
        (
            "AppArmor field unconfined",
            vec![(c("/securityContext/appArmorProfile"), json!({"type": "Unconfined"}))],
        ),
        ("SELinux type spc_t", vec![(c("/securityContext/seLinuxOptions"), json!({"type": "spc_t"}))]),
        (
            "SELinux type container_t",
            vec![(c("/securityContext/seLinuxOptions"), json!({"type": "container_t"}))],
        ),
        ("SELinux user", vec![(p("/spec/securityContext/seLinuxOptions"), json!({"user": "system_u"}))]),
        ("procMount Unmasked", vec![(c("/securityContext/procMount"), json!("Unmasked"))]),
        ("procMount Default", vec![(c("/securityContext/procMount"), json!("Default"))]),
        (
            "pod seccomp Unconfined",
            vec![(p("/spec/securityContext/seccompProfile"), json!({"type": "Unconfined"}))],
        ),
        (
            "container seccomp Unconfined",
            vec![(c("/securityContext/seccompProfile"), json!({"type": "Unconfined"}))],
        ),
        ("no seccomp profile", vec![(p("/spec/securityContext/seccompProfile"), Value::Null)]),
        (
            "seccomp on the container only",
            vec![
                (p("/spec/securityContext/seccompProfile"), Value::Null),
                (
                    c("/securityContext/seccompProfile"),
                    json!({"type": "Localhost", "localhostProfile": "p.json"}),
                ),
            ],
        ),
        (
            "unsafe sysctl",
            vec![(p("/spec/securityContext/sysctls"), json!([{"name": "kernel.msgmax", "value": "1"}]))],
        ),
        (
            "safe sysctl",
            vec![(
                p("/spec/securityContext/sysctls"),
                json!([{"name": "net.ipv4.tcp_syncookies", "value": "1"}]),
            )],
        ),
        (
            "sysctl allowed since 1.32",
            vec![(
                p("/spec/securityContext/sysctls"),
                json!([{"name": "net.ipv4.tcp_rmem", "value": "4096"}]),
            )],
        ),
        ("privilege escalation allowed", vec![(c("/securityContext/allowPrivilegeEscalation"), json!(true))]),
        ("privilege escalation unset", vec![(c("/securityContext/allowPrivilegeEscalation"), Value::Null)]),
        ("runAsNonRoot false", vec![(p("/spec/securityContext/runAsNonRoot"), json!(false))]),
        ("runAsNonRoot unset", vec![(p("/spec/securityContext/runAsNonRoot"), Value::Null)]),
        (
            "runAsNonRoot on the container only",
            vec![
                (p("/spec/securityContext/runAsNonRoot"), Value::Null),
                (c("/securityContext/runAsNonRoot"), json!(true)),
            ],
        ),
        ("pod runAsUser 0", vec![(p("/spec/securityContext/runAsUser"), json!(0))]),
        ("container runAsUser 0", vec![(c("/securityContext/runAsUser"), json!(0))]),
        ("runAsUser 1000", vec![(c("/securityContext/runAsUser"), json!(1000))]),
        ("HostProcess", vec![(c("/securityContext/windowsOptions"), json!({"hostProcess": true}))]),
        (
            "Windows pod without Linux-only settings",
            vec![
                (p("/spec/os"), json!({"name": "windows"})),
                (p("/spec/securityContext/seccompProfile"), Value::Null),
                (c("/securityContext"), json!({})),
            ],
        ),
        (
            "privileged init container",
            vec![(
                p("/spec/initContainers"),
                json!([{"name": "init", "image": "busybox:1.36", "securityContext": {
                    "privileged": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]),
            )],
        ),
        (
            "ephemeral container without restrictions",
            vec![(p("/spec/ephemeralContainers"), json!([{"name": "debug", "image": "busybox:1.36"}]))],
        ),
    ]
}

/// The pod as a Pod, a Deployment and a CronJob.
fn wrappings(pod: &Value) -> Vec<Value> {
    let template = json!({"metadata": pod["metadata"].clone(), "spec": pod["spec"].clone()});
    vec![
        pod.clone(),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template.clone()}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}}),
    ]
}

/// The controls config's findings fail, as they count at `level`.
fn config_controls(object: &Value, level: Level) -> BTreeSet<&'static str> {
    let text = serde_json::to_string_pretty(object).expect("json");
    let outcome = scan("pod.json", text.as_bytes()).expect("scans");
    let failed: BTreeSet<&'static str> =
        outcome.failures.iter().filter_map(|f| CHECKS.iter().find(|c| c.id == f.id)?.pss).collect();
    let applies = |c: &&Control| c.level <= level;
    let replaced: BTreeSet<&str> =
        CONTROLS.iter().filter(applies).flat_map(|c| c.overrides.iter().copied()).collect();
    let at_level: BTreeSet<&str> = CONTROLS.iter().filter(applies).map(|c| c.id).collect();
    failed.into_iter().filter(|id| at_level.contains(id) && !replaced.contains(id)).collect()
}

fn admission_controls(object: &Value, level: Level) -> BTreeSet<&'static str> {
    let lv = LevelVersion { level, version: Version::Latest };
    let violations = rampart_podsecurity::evaluate_object(object, lv).expect("a pod kind");
    violations.iter().map(|v| v.control).collect()
}

#[test]
fn config_and_admission_agree_on_every_control() {
    let mut disagreements = Vec::new();
    let mut failing_cases = 0;
    for (name, changes) in cases() {
        let mut pod = clean_pod();
        for (pointer, value) in changes {
            put(&mut pod, &pointer, value);
        }
        for object in wrappings(&pod) {
            for level in [Level::Baseline, Level::Restricted] {
                let (config, admission) =
                    (config_controls(&object, level), admission_controls(&object, level));
                if config != admission {
                    disagreements.push(format!(
                        "{name} ({} at {level}): config {config:?}, admission {admission:?}",
                        object["kind"]
                    ));
                }
                failing_cases += usize::from(!admission.is_empty());
            }
        }
    }
    assert!(disagreements.is_empty(), "the two Pod Security engines disagree:\n{}", disagreements.join("\n"));
    assert!(failing_cases > 100, "the cases must exercise failing controls, {failing_cases} did");
}
