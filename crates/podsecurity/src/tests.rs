use serde_json::{Value, json};

use super::*;

/// A pod that passes restricted:latest.
fn good_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{
                "name": "app",
                "image": "registry.example/app@sha256:abc",
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"},
                    "capabilities": {"drop": ["ALL"]}
                }
            }],
            "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}, {"name": "tmp", "emptyDir": {}}]
        }
    })
}

/// Merges `patch` into `base`: objects key by key, arrays element by index,
/// `null` removes a key.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (Value::Array(b), Value::Array(p)) => {
            for (i, v) in p.iter().enumerate() {
                if i < b.len() {
                    merge(&mut b[i], v);
                } else {
                    b.push(v.clone());
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn pod(patch: Value) -> Value {
    let mut p = good_pod();
    merge(&mut p, &patch);
    p
}

fn container(sc_patch: Value) -> Value {
    pod(json!({"spec": {"containers": [{"securityContext": sc_patch}]}}))
}

fn run(object: &Value, lv: &str) -> Vec<String> {
    let lv: LevelVersion = lv.parse().unwrap();
    evaluate_object(object, lv).expect("pod kind").iter().map(Violation::to_string).collect()
}

struct Case {
    name: &'static str,
    object: Value,
    /// Violations at baseline:latest.
    baseline: &'static [&'static str],
    /// Violations at restricted:latest beyond `baseline`'s (restricted
    /// replaces some baseline controls, so listed in full when it does).
    restricted: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "clean restricted pod", object: good_pod(), baseline: &[], restricted: &[] },
        // HostProcess
        Case {
            name: "hostProcess on pod and container",
            object: pod(json!({"spec": {
                "securityContext": {"windowsOptions": {"hostProcess": true}},
                "containers": [{"securityContext": {"windowsOptions": {"hostProcess": true}}}]
            }})),
            baseline: &[
                "hostProcess (pod and container \"app\" must not set securityContext.windowsOptions.hostProcess=true)",
            ],
            restricted: &[
                "hostProcess (pod and container \"app\" must not set securityContext.windowsOptions.hostProcess=true)",
            ],
        },
        Case {
            name: "hostProcess false is fine",
            object: container(json!({"windowsOptions": {"hostProcess": false}})),
            baseline: &[],
            restricted: &[],
        },
        // Host namespaces
        Case {
            name: "host namespaces",
            object: pod(json!({"spec": {"hostNetwork": true, "hostPID": true, "hostIPC": true}})),
            baseline: &["host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)"],
            restricted: &["host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)"],
        },
        Case {
            name: "host namespaces false",
            object: pod(json!({"spec": {"hostNetwork": false, "hostPID": false}})),
            baseline: &[],
            restricted: &[],
        },
        // Privileged
        Case {
            name: "privileged",
            object: container(json!({"privileged": true})),
            baseline: &["privileged (container \"app\" must not set securityContext.privileged=true)"],
            restricted: &["privileged (container \"app\" must not set securityContext.privileged=true)"],
        },
        Case {
            name: "privileged in init and ephemeral containers",
            object: pod(json!({"spec": {
                "initContainers": [{"name": "init", "securityContext": {"privileged": true}}],
                "ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}]
            }})),
            baseline: &[
                "privileged (containers \"init\", \"debug\" must not set securityContext.privileged=true)",
            ],
            restricted: &[
                "privileged (containers \"init\", \"debug\" must not set securityContext.privileged=true)",
                "allowPrivilegeEscalation != false (containers \"init\", \"debug\" must set securityContext.allowPrivilegeEscalation=false)",
                "runAsNonRoot != true (pod or containers \"init\", \"debug\" must set securityContext.runAsNonRoot=true)",
                "seccompProfile (pod or containers \"init\", \"debug\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
                "unrestricted capabilities (containers \"init\", \"debug\" must set securityContext.capabilities.drop=[\"ALL\"])",
            ],
        },
        Case {
            name: "privileged false",
            object: container(json!({"privileged": false})),
            baseline: &[],
            restricted: &[],
        },
        // Capabilities
        Case {
            name: "baseline capabilities allowed, restricted only NET_BIND_SERVICE",
            object: container(json!({"capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"]}})),
            baseline: &[],
            restricted: &[
                "unrestricted capabilities (container \"app\" must not include \"CHOWN\" in securityContext.capabilities.add)",
            ],
        },
        Case {
            name: "non-default capabilities",
            object: container(
                json!({"capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN", "CHOWN"], "drop": null}}),
            ),
            baseline: &[
                "non-default capabilities (container \"app\" must not include \"NET_ADMIN\", \"SYS_ADMIN\" in securityContext.capabilities.add)",
            ],
            restricted: &[
                "unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"app\" must not include \"CHOWN\", \"NET_ADMIN\", \"SYS_ADMIN\" in securityContext.capabilities.add)",
            ],
        },
        Case {
            name: "capability names are case-sensitive",
            object: container(json!({"capabilities": {"add": ["chown"], "drop": ["all"]}})),
            baseline: &[
                "non-default capabilities (container \"app\" must not include \"chown\" in securityContext.capabilities.add)",
            ],
            restricted: &[
                "unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"app\" must not include \"chown\" in securityContext.capabilities.add)",
            ],
        },
        // HostPath volumes
        Case {
            name: "hostPath volume",
            object: pod(
                json!({"spec": {"volumes": [{}, {}, {"name": "host", "hostPath": {"path": "/var/run"}}]}}),
            ),
            baseline: &["hostPath volumes (volume \"host\")"],
            restricted: &[
                "restricted volume types (volume \"host\" uses restricted volume type \"hostPath\")",
            ],
        },
        // Restricted volume types
        Case {
            name: "restricted volume types",
            object: pod(json!({"spec": {"volumes": [
                {"name": "cfg", "configMap": null, "nfs": {"server": "x", "path": "/"}},
                {"name": "tmp", "emptyDir": null, "gcePersistentDisk": {"pdName": "d"}},
                {"name": "p", "projected": {"sources": []}},
                {"name": "c", "csi": {"driver": "d"}},
                {"name": "e", "ephemeral": {}},
                {"name": "pvc", "persistentVolumeClaim": {"claimName": "x"}},
                {"name": "s", "secret": {"secretName": "x"}},
                {"name": "d", "downwardAPI": {}}
            ]}})),
            baseline: &[],
            restricted: &[
                "restricted volume types (volumes \"cfg\", \"tmp\" use restricted volume types \"nfs\", \"gcePersistentDisk\")",
            ],
        },
        // Host ports
        Case {
            name: "host ports",
            object: pod(json!({"spec": {
                "containers": [{"ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 9090}]}],
                "initContainers": [{"name": "init", "ports": [{"containerPort": 443, "hostPort": 443}], "securityContext": {
                    "allowPrivilegeEscalation": false, "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}]
            }})),
            baseline: &["hostPort (containers \"init\", \"app\" use hostPorts 443, 80)"],
            restricted: &["hostPort (containers \"init\", \"app\" use hostPorts 443, 80)"],
        },
        Case {
            name: "hostPort 0 is unset",
            object: pod(json!({"spec": {"containers": [{"ports": [{"containerPort": 80, "hostPort": 0}]}]}})),
            baseline: &[],
            restricted: &[],
        },
        // AppArmor
        Case {
            name: "apparmor unconfined annotation",
            object: pod(json!({"metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
                "container.apparmor.security.beta.kubernetes.io/side": "localhost/profile"
            }}})),
            baseline: &[
                "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app=\"unconfined\")",
            ],
            restricted: &[
                "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app=\"unconfined\")",
            ],
        },
        Case {
            name: "apparmor profile fields",
            object: pod(json!({"spec": {
                "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                "containers": [{"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}}]
            }})),
            baseline: &[
                "forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to \"Unconfined\")",
            ],
            restricted: &[
                "forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to \"Unconfined\")",
            ],
        },
        Case {
            name: "apparmor runtime default",
            object: pod(json!({
                "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
                "spec": {"containers": [{"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}]}
            })),
            baseline: &[],
            restricted: &[],
        },
        // SELinux
        Case {
            name: "selinux options",
            object: pod(json!({"spec": {
                "securityContext": {"seLinuxOptions": {"type": "spc_t"}},
                "containers": [{"securityContext": {"seLinuxOptions": {"user": "root", "role": "sysadm_r", "level": "s0:c1"}}}]
            }})),
            baseline: &[
                "seLinuxOptions (pod and container \"app\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user \"root\"; role \"sysadm_r\")",
            ],
            restricted: &[
                "seLinuxOptions (pod and container \"app\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user \"root\"; role \"sysadm_r\")",
            ],
        },
        Case {
            name: "selinux allowed types and level",
            object: container(
                json!({"seLinuxOptions": {"type": "container_engine_t", "level": "s0:c123,c456"}}),
            ),
            baseline: &[],
            restricted: &[],
        },
        // /proc mount
        Case {
            name: "unmasked proc mount",
            object: container(json!({"procMount": "Unmasked"})),
            baseline: &[
                "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\")",
            ],
            restricted: &[
                "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\")",
            ],
        },
        Case {
            name: "default proc mount",
            object: container(json!({"procMount": "Default"})),
            baseline: &[],
            restricted: &[],
        },
        // Seccomp
        Case {
            name: "seccomp unconfined",
            object: pod(json!({"spec": {
                "securityContext": {"seccompProfile": {"type": "Unconfined"}},
                "containers": [{"securityContext": {"seccompProfile": {"type": "Unconfined"}}}]
            }})),
            baseline: &[
                "seccompProfile (pod and container \"app\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
            ],
            restricted: &[
                "seccompProfile (pod and container \"app\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
            ],
        },
        Case {
            name: "seccomp unset",
            object: container(json!({"seccompProfile": null})),
            baseline: &[],
            restricted: &[
                "seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            ],
        },
        Case {
            name: "seccomp set on the pod covers containers",
            object: pod(json!({"spec": {
                "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}},
                "containers": [{"securityContext": {"seccompProfile": null}}]
            }})),
            baseline: &[],
            restricted: &[],
        },
        // Sysctls
        Case {
            name: "unsafe sysctls",
            object: pod(json!({"spec": {"securityContext": {"sysctls": [
                {"name": "net.ipv4.tcp_syncookies", "value": "1"},
                {"name": "kernel.msgmax", "value": "1"},
                {"name": "net.core.somaxconn", "value": "1024"}
            ]}}})),
            baseline: &["forbidden sysctls (kernel.msgmax, net.core.somaxconn)"],
            restricted: &["forbidden sysctls (kernel.msgmax, net.core.somaxconn)"],
        },
        Case {
            name: "safe sysctls",
            object: pod(json!({"spec": {"securityContext": {"sysctls": [
                {"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"},
                {"name": "net.ipv4.tcp_keepalive_time", "value": "60"},
                {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}
            ]}}})),
            baseline: &[],
            restricted: &[],
        },
        // Privilege escalation
        Case {
            name: "allowPrivilegeEscalation unset or true",
            object: pod(json!({"spec": {"containers": [
                {"securityContext": {"allowPrivilegeEscalation": null}},
                {"name": "side", "securityContext": {"allowPrivilegeEscalation": true, "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}
            ]}})),
            baseline: &[],
            restricted: &[
                "allowPrivilegeEscalation != false (containers \"app\", \"side\" must set securityContext.allowPrivilegeEscalation=false)",
            ],
        },
        // Running as non-root
        Case {
            name: "runAsNonRoot false and unset",
            object: pod(json!({"spec": {
                "securityContext": {"runAsNonRoot": false},
                "containers": [
                    {"securityContext": {"runAsNonRoot": null}},
                    {"name": "side", "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": false,
                        "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}
                ]
            }})),
            baseline: &[],
            restricted: &[
                "runAsNonRoot != true (pod and container \"side\" must not set securityContext.runAsNonRoot=false; pod or container \"app\" must set securityContext.runAsNonRoot=true)",
            ],
        },
        Case {
            name: "runAsNonRoot on the pod covers containers",
            object: pod(json!({"spec": {
                "securityContext": {"runAsNonRoot": true},
                "containers": [{"securityContext": {"runAsNonRoot": null}}]
            }})),
            baseline: &[],
            restricted: &[],
        },
        // Running as non-root user
        Case {
            name: "runAsUser 0",
            object: pod(json!({"spec": {
                "securityContext": {"runAsUser": 0},
                "containers": [{"securityContext": {"runAsUser": 0}}]
            }})),
            baseline: &[],
            restricted: &["runAsUser=0 (pod and container \"app\" must not set runAsUser=0)"],
        },
        Case {
            name: "runAsUser 1000",
            object: pod(json!({"spec": {"securityContext": {"runAsUser": 1000}}})),
            baseline: &[],
            restricted: &[],
        },
    ]
}

#[test]
fn every_control_at_both_levels() {
    for case in cases() {
        assert_eq!(run(&case.object, "baseline"), case.baseline, "{} at baseline", case.name);
        assert_eq!(run(&case.object, "restricted:latest"), case.restricted, "{} at restricted", case.name);
        assert!(run(&case.object, "privileged").is_empty(), "{} at privileged", case.name);
    }
}

#[test]
fn every_control_is_exercised_failing() {
    let mut seen: Vec<&str> = Vec::new();
    for case in cases() {
        for level in [Level::Baseline, Level::Restricted] {
            for v in evaluate_object(&case.object, LevelVersion::latest(level)).unwrap() {
                seen.push(v.control);
            }
        }
    }
    for c in CONTROLS {
        assert!(seen.contains(&c.id), "no failing case for {}", c.id);
    }
}

#[test]
fn workloads_are_evaluated_through_their_template() {
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "app", "securityContext": {"privileged": true}}]}});
    let objects = [
        json!({"kind": "Deployment", "spec": {"template": template}}),
        json!({"kind": "StatefulSet", "spec": {"template": template}}),
        json!({"kind": "DaemonSet", "spec": {"template": template}}),
        json!({"kind": "ReplicaSet", "spec": {"template": template}}),
        json!({"kind": "ReplicationController", "spec": {"template": template}}),
        json!({"kind": "Job", "spec": {"template": template}}),
        json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}}),
        json!({"kind": "PodTemplate", "template": template}),
    ];
    for object in &objects {
        let got = run(object, "baseline");
        assert_eq!(
            got,
            ["privileged (container \"app\" must not set securityContext.privileged=true)"],
            "{}",
            object["kind"]
        );
    }
    assert!(
        evaluate_object(&json!({"kind": "Service", "spec": {}}), LevelVersion::latest(Level::Restricted))
            .is_none()
    );
    assert!(
        evaluate_object(&json!({"kind": "Deployment", "spec": {}}), LevelVersion::latest(Level::Restricted))
            .is_none()
    );
    assert!(is_pod_kind("CronJob") && !is_pod_kind("ConfigMap"));
}

#[test]
fn versions_change_the_rules() {
    let caps = container(json!({"capabilities": {"drop": null}, "seccompProfile": null, "runAsUser": 0}));
    // capabilities (v1.22), runAsUser (v1.23) and seccomp (v1.19) arrived in steps.
    assert_eq!(run(&caps, "restricted:v1.18").len(), 0);
    let v119 = run(&caps, "restricted:v1.19");
    assert_eq!(v119.len(), 1, "{v119:?}");
    assert!(v119[0].starts_with("seccompProfile"));
    assert_eq!(run(&caps, "restricted:v1.22").len(), 2);
    assert_eq!(run(&caps, "restricted:v1.23").len(), 3);
    // Safe sysctls grew.
    let sysctl = pod(
        json!({"spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "1"}]}}}),
    );
    assert_eq!(run(&sysctl, "baseline:v1.28"), ["forbidden sysctls (net.ipv4.tcp_keepalive_time)"]);
    assert!(run(&sysctl, "baseline:v1.29").is_empty());
    // container_engine_t is allowed from v1.31.
    let selinux = container(json!({"seLinuxOptions": {"type": "container_engine_t"}}));
    assert_eq!(run(&selinux, "baseline:v1.30").len(), 1);
    assert!(run(&selinux, "baseline:v1.31").is_empty());
    // Before v1.19 the seccomp profile was an annotation.
    let annotated =
        pod(json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}}));
    assert_eq!(
        run(&annotated, "baseline:v1.18"),
        ["seccompProfile (forbidden annotations seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"]
    );
    assert!(run(&annotated, "baseline:latest").is_empty());
    // AppArmor fields count from v1.30.
    let apparmor = container(json!({"appArmorProfile": {"type": "Unconfined"}}));
    assert!(run(&apparmor, "baseline:v1.29").is_empty());
    assert_eq!(run(&apparmor, "baseline:v1.30").len(), 1);
}

#[test]
fn windows_pods_skip_linux_only_controls() {
    let windows = pod(json!({"spec": {"os": {"name": "windows"}, "containers": [{"securityContext": {
        "allowPrivilegeEscalation": null, "seccompProfile": null, "capabilities": null
    }}]}}));
    assert!(run(&windows, "restricted:latest").is_empty());
    assert_eq!(run(&windows, "restricted:v1.24").len(), 3);
}

#[test]
fn summary_reads_like_the_plugin() {
    let p = container(json!({"privileged": true, "allowPrivilegeEscalation": null}));
    let lv = LevelVersion::latest(Level::Restricted);
    let v = evaluate_object(&p, lv).unwrap();
    assert_eq!(
        summary(lv, &v),
        "violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false)"
    );
}

#[test]
fn malformed_values_do_not_panic() {
    let odd = json!({"kind": "Pod", "spec": {
        "containers": [1, "x", {"securityContext": "no"}, {"securityContext": {"capabilities": {"add": [1, null]}}}],
        "volumes": ["v", {"name": 3}],
        "securityContext": {"sysctls": [{"value": 1}]}
    }});
    let v = run(&odd, "restricted");
    assert!(!v.is_empty());
}
