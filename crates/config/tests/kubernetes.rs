//! Kubernetes manifest checks through the public API: every check fires at
//! the offending line and stays quiet on a hardened manifest.

use std::path::{Path, PathBuf};

use rampart_config::{ConfigError, ConfigKind, Outcome, scan};
use rampart_types::Severity;

fn try_scan(text: &str) -> Result<Outcome, ConfigError> {
    scan(ConfigKind::Kubernetes, Path::new("deploy/manifest.yaml"), "deploy/manifest.yaml", text.as_bytes())
}

fn run(text: &str) -> Outcome {
    try_scan(text).unwrap_or_else(|e| panic!("scan failed: {e}\n{text}"))
}

/// `(id, start line)` of every finding, sorted.
fn found(outcome: &Outcome) -> Vec<(String, u32)> {
    let mut hits: Vec<_> =
        outcome.failures.iter().map(|f| (f.id.clone(), f.cause_metadata.start_line)).collect();
    hits.sort();
    hits
}

fn expect(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    let mut pairs: Vec<_> = pairs.iter().map(|(id, line)| (id.to_string(), *line)).collect();
    pairs.sort();
    pairs
}

/// A Deployment that passes every check; the cases below each break one thing.
const HARDENED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: registry.example.com/shop/web:1.4.2
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: db, key: password}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
      volumes:
        - name: tmp
          emptyDir: {}
";

/// Checks that apply to a Deployment's pod template.
const POD_CHECKS: u32 = 48;

/// The hardened Deployment with some lines (1-based) replaced; a replacement may span lines.
fn edit(edits: &[(usize, &str)]) -> String {
    let mut lines: Vec<String> = HARDENED.lines().map(str::to_string).collect();
    for (n, text) in edits {
        lines[n - 1] = text.to_string();
    }
    lines.join("\n") + "\n"
}

#[test]
fn hardened_deployment_passes_every_check() {
    let outcome = run(HARDENED);
    assert!(outcome.applicable);
    assert_eq!(found(&outcome), vec![]);
    assert_eq!(outcome.successes, POD_CHECKS);
    assert!(outcome.warnings.is_empty());
}

/// Each case: the edits, then every finding expected as (id, line).
type Case = (&'static [(usize, &'static str)], &'static [(&'static str, u32)]);

const CASES: &[Case] = &[
    // PSS baseline
    (
        &[(21, "          type: RuntimeDefault\n        windowsOptions:\n          hostProcess: true")],
        &[("KSV103", 23)],
    ),
    (
        &[(
            40,
            "            allowPrivilegeEscalation: false\n            windowsOptions: {hostProcess: true}",
        )],
        &[("KSV103", 41)],
    ),
    (&[(14, "      automountServiceAccountToken: false\n      hostIPC: true")], &[("KSV008", 15)]),
    (&[(14, "      automountServiceAccountToken: false\n      hostNetwork: true")], &[("KSV009", 15)]),
    (&[(14, "      automountServiceAccountToken: false\n      hostPID: true")], &[("KSV010", 15)]),
    (
        &[(
            14,
            "      hostPID: false\n      hostNetwork: false\n      hostIPC: false\n      automountServiceAccountToken: false",
        )],
        &[],
    ),
    (&[(40, "            allowPrivilegeEscalation: false\n            privileged: true")], &[("KSV017", 41)]),
    (&[(40, "            allowPrivilegeEscalation: false\n            privileged: false")], &[]),
    (
        &[(44, "              add: [NET_BIND_SERVICE, SYS_ADMIN]")],
        &[("KSV005", 44), ("KSV022", 44), ("KSV106", 44)],
    ),
    (
        &[(44, "              add:\n                - CHOWN\n                - NET_ADMIN")],
        &[("KSV022", 46), ("KSV106", 45), ("KSV106", 46)],
    ),
    (
        &[(49, "          hostPath: {path: /var/run/docker.sock}")],
        &[("KSV006", 49), ("KSV023", 49), ("KSV028", 49), ("KSV121", 49)],
    ),
    (&[(49, "          hostPath: {path: /var/log/app}")], &[("KSV023", 49), ("KSV028", 49)]),
    (&[(27, "            - containerPort: 8080\n              hostPort: 8080")], &[("KSV024", 28)]),
    (&[(27, "            - containerPort: 8080\n              hostPort: 0")], &[]),
    (
        &[(
            12,
            "      labels: {app: web}\n      annotations:\n        container.apparmor.security.beta.kubernetes.io/app: unconfined",
        )],
        &[("KSV002", 14)],
    ),
    (
        &[(
            12,
            concat!(
                "      annotations:\n",
                "        container.apparmor.security.beta.kubernetes.io/app: runtime/default\n",
                "        container.apparmor.security.beta.kubernetes.io/b: localhost/k8s-nginx",
            ),
        )],
        &[],
    ),
    (
        &[(21, "          type: RuntimeDefault\n        appArmorProfile:\n          type: Unconfined")],
        &[("KSV002", 23)],
    ),
    (
        &[(41, "            readOnlyRootFilesystem: true\n            appArmorProfile: {type: Unconfined}")],
        &[("KSV002", 42)],
    ),
    (
        &[(
            21,
            "          type: RuntimeDefault\n        appArmorProfile: {type: Localhost, localhostProfile: p}",
        )],
        &[],
    ),
    (
        &[(
            41,
            concat!(
                "            readOnlyRootFilesystem: true\n            seLinuxOptions:\n",
                "              type: spc_t\n              user: system_u\n              role: sysadm_r",
            ),
        )],
        &[("KSV025", 43), ("KSV025", 44), ("KSV025", 45)],
    ),
    (
        &[(
            21,
            "          type: RuntimeDefault\n        seLinuxOptions: {type: container_init_t, level: \"s0:c1,c2\"}",
        )],
        &[],
    ),
    (&[(41, "            readOnlyRootFilesystem: true\n            procMount: Unmasked")], &[("KSV027", 42)]),
    (&[(41, "            readOnlyRootFilesystem: true\n            procMount: Default")], &[]),
    (
        &[(
            41,
            "            readOnlyRootFilesystem: true\n            procMount:\n            appArmorProfile: {type: }",
        )],
        &[],
    ),
    (&[(21, "          type: Unconfined")], &[("KSV104", 21), ("KSV030", 21), ("KSV030", 39)]),
    (
        &[(41, "            readOnlyRootFilesystem: true\n            seccompProfile: {type: Unconfined}")],
        &[("KSV104", 42), ("KSV030", 42)],
    ),
    (
        &[(
            21,
            "          type: RuntimeDefault\n        sysctls:\n          - name: kernel.msgmax\n            value: \"65536\"",
        )],
        &[("KSV026", 23)],
    ),
    (
        &[(
            21,
            "          type: RuntimeDefault\n        sysctls: [{name: net.ipv4.tcp_syncookies, value: \"1\"}]",
        )],
        &[],
    ),
    // PSS restricted
    (&[(49, "          nfs: {server: nfs.example.com, path: /}")], &[("KSV028", 49)]),
    (&[(49, "          projected: {sources: []}")], &[]),
    (&[(40, "            allowPrivilegeEscalation: true")], &[("KSV001", 40)]),
    (&[(40, "            privileged: false")], &[("KSV001", 39)]),
    (&[(16, "        runAsNonRoot: false")], &[("KSV012", 16), ("KSV012", 39)]),
    (&[(16, "        supplementalGroups: [10001]")], &[("KSV012", 39)]),
    (
        &[
            (16, "        supplementalGroups: [10001]"),
            (40, "            allowPrivilegeEscalation: false\n            runAsNonRoot: true"),
        ],
        &[],
    ),
    (
        &[(40, "            allowPrivilegeEscalation: false\n            runAsNonRoot: false")],
        &[("KSV012", 41)],
    ),
    (&[(17, "        runAsUser: 0")], &[("KSV020", 17), ("KSV105", 17)]),
    (
        &[(40, "            allowPrivilegeEscalation: false\n            runAsUser: 0")],
        &[("KSV020", 41), ("KSV105", 41)],
    ),
    (&[(20, "        seLinuxOptions:"), (21, "          level: \"s0:c1,c2\"")], &[("KSV030", 39)]),
    (&[(21, "          type: Localhost\n          localhostProfile: profiles/audit.json")], &[]),
    (&[(21, "          type:")], &[("KSV030", 39)]),
    (&[(43, "              drop: [NET_RAW]")], &[("KSV003", 43)]),
    (&[(43, "              drop: [all]")], &[("KSV003", 43)]),
    (
        &[
            (42, "            privileged: false"),
            (43, "            procMount: Default"),
            (44, "            runAsNonRoot: true"),
        ],
        &[("KSV003", 39), ("KSV004", 39)],
    ),
    (&[(44, "              add: [CHOWN]")], &[("KSV106", 44)]),
    // Beyond the standards: capabilities, host paths, ids, ports, placement
    (&[(44, "              add: [NET_RAW]")], &[("KSV022", 44), ("KSV106", 44), ("KSV119", 44)]),
    (&[(49, "          hostPath: {path: /etc/}")], &[("KSV023", 49), ("KSV028", 49), ("KSV121", 49)]),
    (
        &[(
            14,
            "      automountServiceAccountToken: false\n      hostAliases:\n        - {ip: 10.0.0.5, hostnames: [db]}",
        )],
        &[("KSV007", 15)],
    ),
    (&[(17, "        runAsUser: 1000")], &[("KSV020", 17)]),
    (&[(17, "        runAsNonRoot: true")], &[("KSV020", 39)]),
    (
        &[
            (17, "        runAsNonRoot: true"),
            (40, "            allowPrivilegeEscalation: false\n            runAsUser: 20000"),
        ],
        &[],
    ),
    (&[(18, "        runAsGroup: 10000")], &[("KSV021", 18)]),
    (&[(27, "            - containerPort: 80")], &[("KSV117", 27)]),
    // Schema
    (
        &[(41, "            readOnlyRootFilesystem: true\n            runAsNonroot: true")],
        &[("RPT-K8S-010", 42)],
    ),
    (&[(27, "            - containerPort: \"8080\"")], &[("RPT-K8S-011", 27)]),
    (
        &[(
            31,
            "                secretKeyRef: {name: db, key: password}\n            - {name: PORT, value: 8080}",
        )],
        &[("RPT-K8S-011", 32)],
    ),
    (
        &[(27, "            - containerPort: 8080\n              hostPort: 443")],
        &[("KSV024", 28), ("KSV117", 28)],
    ),
    (&[(5, "  namespace: kube-system")], &[("KSV037", 5)]),
    (
        &[
            (15, "      hostNetwork: false"),
            (16, ""),
            (17, ""),
            (18, ""),
            (19, ""),
            (20, ""),
            (21, ""),
            (39, ""),
            (40, ""),
            (41, ""),
            (42, ""),
            (43, ""),
            (44, ""),
        ],
        &[
            ("KSV001", 23),
            ("KSV003", 23),
            ("KSV004", 23),
            ("KSV012", 23),
            ("KSV014", 23),
            ("KSV020", 23),
            ("KSV021", 23),
            ("KSV030", 23),
            ("KSV118", 23),
        ],
    ),
    (&[(24, "          image: ghcr.io/helm/tiller:v2.17.0")], &[("KSV102", 24)]),
    (&[(24, "          image: registry.example.com/tiller-dashboard:1.0")], &[]),
    // Resources and probes
    (&[(34, "            limits: {memory: 256Mi}")], &[("KSV011", 34)]),
    (&[(34, "            limits: {cpu: 500m}")], &[("KSV018", 34)]),
    (&[(33, "            requests: {memory: 128Mi}")], &[("KSV015", 33)]),
    (&[(33, "            requests: {cpu: 100m}")], &[("KSV016", 33)]),
    (
        &[
            (32, "          terminationMessagePath: /dev/termination-log"),
            (33, "          workingDir: /srv"),
            (34, "          stdin: false"),
        ],
        &[("KSV011", 23), ("KSV015", 23), ("KSV016", 23), ("KSV018", 23)],
    ),
    (&[(35, "          startupProbe:")], &[("RPT-K8S-001", 23)]),
    (&[(37, "          startupProbe:")], &[("RPT-K8S-002", 23)]),
    (&[(37, "          readinessProbe:"), (38, "")], &[("RPT-K8S-002", 37)]),
    // Images
    (&[(24, "          image: nginx")], &[("KSV013", 24), ("RPT-K8S-003", 25)]),
    (&[(24, "          image: nginx:latest")], &[("KSV013", 24), ("RPT-K8S-003", 25)]),
    (&[(24, "          image: nginx:latest"), (25, "          imagePullPolicy: Always")], &[("KSV013", 24)]),
    (&[(24, "          image: localhost:5000/nginx"), (25, "          stdin: false")], &[("KSV013", 24)]),
    (
        &[(
            24,
            "          image: nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
        )],
        &[],
    ),
    (&[(24, "          image: nginx:1.27"), (25, "          imagePullPolicy: Never")], &[]),
    // Filesystem, token, namespace, groups
    (&[(41, "            readOnlyRootFilesystem: false")], &[("KSV014", 41)]),
    (&[(41, "            privileged: false")], &[("KSV014", 39)]),
    (&[(14, "      automountServiceAccountToken: true")], &[("KSV036", 14)]),
    (&[(14, "      serviceAccountName: web")], &[("KSV036", 13)]),
    (&[(5, "  namespace: default")], &[("KSV110", 5)]),
    (&[(5, "  labels: {app: web}")], &[("KSV110", 3)]),
    (&[(18, "        runAsGroup: 0")], &[("KSV021", 18), ("KSV029", 18)]),
    (&[(19, "        fsGroup: 0")], &[("KSV029", 19)]),
    (
        &[(19, "        fsGroup: 10001\n        supplementalGroups:\n          - 10001\n          - 0")],
        &[("KSV029", 22)],
    ),
    (
        &[(40, "            allowPrivilegeEscalation: false\n            runAsGroup: 0")],
        &[("KSV021", 41), ("KSV029", 41)],
    ),
    // Literal secrets, shared process namespace
    (
        &[
            (30, "              value: hunter2"),
            (31, "            - {name: PASSWORD_FILE, value: /run/secrets/db}"),
        ],
        &[("RPT-K8S-008", 30)],
    ),
    (
        &[
            (29, "            - name: apiKey"),
            (30, "              value: \"$(API_KEY_FROM_SECRET)\""),
            (31, "            - {name: CACHE_KEY, value: sessions}"),
        ],
        &[],
    ),
    (
        &[(14, "      automountServiceAccountToken: false\n      shareProcessNamespace: true")],
        &[("RPT-K8S-009", 15)],
    ),
];

#[test]
fn each_check_fires_at_its_line_and_only_there() {
    for (i, (edits, expected)) in CASES.iter().enumerate() {
        let text = edit(edits);
        let outcome = run(&text);
        assert_eq!(found(&outcome), expect(expected), "case {i}:\n{text}");
        let distinct: std::collections::BTreeSet<_> = expected.iter().map(|(id, _)| *id).collect();
        assert_eq!(outcome.successes, POD_CHECKS - distinct.len() as u32, "case {i}");
    }
}

#[test]
fn every_pod_check_has_a_firing_case() {
    let fired: std::collections::BTreeSet<_> =
        CASES.iter().flat_map(|(_, e)| e.iter().map(|(id, _)| *id)).collect();
    let pod_ids = [
        "KSV103",
        "KSV008",
        "KSV009",
        "KSV010",
        "KSV017",
        "KSV022",
        "KSV023",
        "KSV024",
        "KSV002",
        "KSV025",
        "KSV027",
        "KSV104",
        "KSV026",
        "KSV028",
        "KSV001",
        "KSV012",
        "KSV105",
        "KSV030",
        "KSV003",
        "KSV106",
        "KSV011",
        "KSV018",
        "KSV015",
        "KSV016",
        "RPT-K8S-001",
        "RPT-K8S-002",
        "KSV013",
        "RPT-K8S-003",
        "KSV014",
        "KSV036",
        "KSV110",
        "KSV029",
        "RPT-K8S-008",
        "RPT-K8S-009",
        "KSV004",
        "KSV005",
        "KSV119",
        "KSV006",
        "KSV121",
        "KSV007",
        "KSV020",
        "KSV021",
        "KSV117",
        "KSV118",
        "KSV037",
        "KSV102",
        "RPT-K8S-010",
        "RPT-K8S-011",
    ];
    assert_eq!(pod_ids.len() as u32, POD_CHECKS);
    for id in pod_ids {
        assert!(fired.contains(id), "{id} has no firing case");
    }
}

#[test]
fn windows_pods_are_exempt_from_linux_only_restricted_controls() {
    // No allowPrivilegeEscalation, no capabilities, no seccomp profile.
    let bare = [
        (20, "        seLinuxOptions:"),
        (21, "          level: \"s0:c1,c2\""),
        (40, "            privileged: false"),
        (42, "            procMount: Default"),
        (43, ""),
        (44, ""),
    ];
    let linux = found(&run(&edit(&bare)));
    assert_eq!(linux, expect(&[("KSV001", 39), ("KSV003", 39), ("KSV004", 39), ("KSV030", 39)]));
    let mut windows = bare.to_vec();
    windows.push((14, "      automountServiceAccountToken: false\n      os: {name: windows}"));
    assert_eq!(found(&run(&edit(&windows))), vec![]);
}

#[test]
fn findings_carry_trivy_shaped_metadata() {
    let outcome =
        run(&edit(&[(40, "            allowPrivilegeEscalation: false\n            privileged: true")]));
    let f = &outcome.failures[0];
    assert_eq!(f.id, "KSV017");
    assert_eq!(f.kind, "Kubernetes Security Check");
    assert_eq!(f.status, "FAIL");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.primary_url, "https://avd.aquasec.com/misconfig/ksv017");
    assert!(f.title.contains("(PSS baseline)"));
    assert_eq!(
        f.references,
        ["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"]
    );
    assert_eq!(f.cause_metadata.resource, "Deployment/web");
    assert_eq!(f.cause_metadata.provider, "Kubernetes");
    assert_eq!((f.cause_metadata.start_line, f.cause_metadata.end_line), (41, 41));
    assert_eq!(f.message, "Container \"app\" of Deployment/web sets securityContext.privileged to true");
}

#[test]
fn missing_fields_span_the_container() {
    let outcome = run(&edit(&[(41, "            privileged: false")]));
    let f = &outcome.failures[0];
    assert_eq!(f.id, "KSV014");
    assert_eq!((f.cause_metadata.start_line, f.cause_metadata.end_line), (39, 44));
    assert!(f.message.contains("readOnlyRootFilesystem"), "{}", f.message);
}

#[test]
fn service_account_in_the_same_file_can_turn_the_token_off() {
    let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n\
                   automountServiceAccountToken: false\n---\n";
    let deployment = edit(&[(14, "      serviceAccountName: web")]);
    assert_eq!(found(&run(&format!("{account}{deployment}"))), vec![]);
    let elsewhere = account.replace("namespace: shop", "namespace: other");
    assert_eq!(found(&run(&format!("{elsewhere}{deployment}"))), expect(&[("KSV036", 18)]));
}

/// A pod spec with one privileged container, indented for `depth` levels of nesting.
fn pod_spec(indent: usize) -> String {
    let pad = " ".repeat(indent);
    format!(
        "{pad}spec:\n{pad}  containers:\n{pad}    - name: c\n{pad}      image: app:1.0\n\
         {pad}      securityContext:\n{pad}        privileged: true\n"
    )
}

#[test]
fn every_workload_kind_is_checked_through_its_pod_template() {
    let kinds = [
        ("v1", "Pod", "", 0),
        ("apps/v1", "Deployment", "spec:\n  template:\n", 4),
        ("apps/v1", "StatefulSet", "spec:\n  template:\n", 4),
        ("apps/v1", "DaemonSet", "spec:\n  template:\n", 4),
        ("apps/v1", "ReplicaSet", "spec:\n  template:\n", 4),
        ("v1", "ReplicationController", "spec:\n  template:\n", 4),
        ("batch/v1", "Job", "spec:\n  template:\n", 4),
        ("batch/v1", "CronJob", "spec:\n  jobTemplate:\n    spec:\n      template:\n", 8),
        ("v1", "PodTemplate", "template:\n", 2),
    ];
    for (api, kind, wrapper, indent) in kinds {
        let text =
            format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: w\n{wrapper}{}", pod_spec(indent));
        let outcome = run(&text);
        let privileged: Vec<_> = outcome.failures.iter().filter(|f| f.id == "KSV017").collect();
        assert_eq!(privileged.len(), 1, "{kind}");
        let line = text.lines().position(|l| l.contains("privileged")).expect("line") as u32 + 1;
        assert_eq!(privileged[0].cause_metadata.start_line, line, "{kind}");
        assert_eq!(privileged[0].cause_metadata.resource, format!("{kind}/w"));
        let probes = outcome.failures.iter().any(|f| f.id == "RPT-K8S-001");
        assert_eq!(probes, !matches!(kind, "Job" | "CronJob"), "{kind}: probes apply to serving pods only");
    }
}

#[test]
fn init_and_ephemeral_containers_are_checked() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  \
                initContainers:\n    - name: init\n      image: busybox:latest\n  \
                ephemeralContainers:\n    - name: debug\n      image: busybox\n      \
                securityContext: {privileged: true}\n  containers:\n    - name: app\n      image: app:1\n";
    let outcome = run(text);
    let hit = |id: &str, who: &str| {
        outcome
            .failures
            .iter()
            .find(|f| f.id == id && f.message.contains(who))
            .map(|f| f.cause_metadata.start_line)
    };
    assert_eq!(hit("KSV013", "Init container \"init\""), Some(7));
    assert_eq!(hit("KSV013", "Ephemeral container \"debug\""), Some(10));
    assert_eq!(hit("KSV017", "Ephemeral container \"debug\""), Some(11));
    assert_eq!(hit("KSV011", "Init container \"init\""), Some(6));
    assert_eq!(hit("KSV011", "Ephemeral container"), None, "ephemeral containers have no resources");
    assert_eq!(hit("RPT-K8S-001", "Init container"), None, "init containers have no probes");
    assert_eq!(hit("RPT-K8S-001", "Container \"app\""), Some(13));
}

const ROLE: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ops
rules:
  - apiGroups: [\"\"]
    resources: [pods, pods/log]
    verbs: [get, list, watch]
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, watch]
";

#[test]
fn narrow_roles_pass() {
    let outcome = run(ROLE);
    assert_eq!(found(&outcome), vec![]);
    // The sixteen RBAC checks that apply to a ClusterRole, and the two schema checks.
    assert_eq!(outcome.successes, 18);
    assert_eq!(found(&run(&ROLE.replace("ClusterRole", "Role"))), vec![]);
}

#[test]
fn rbac_checks_fire_at_the_offending_item() {
    type Expected = &'static [(&'static str, u32)];
    let cases: &[(&str, &str, Expected)] = &[
        ("verbs: [get, watch]", "verbs: [\"*\"]", &[("KSV045", 11), ("KSV048", 10)]),
        (
            "apiGroups: [apps]\n    resources: [deployments]",
            "apiGroups: [\"*\"]\n    resources: [\"*\"]",
            &[("KSV046", 10), ("RPT-K8S-006", 9)],
        ),
        (
            "  - apiGroups: [apps]\n    resources: [deployments]\n    verbs: [get, watch]",
            "  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [\"*\"]",
            &[("KSV044", 9), ("KSV045", 11), ("KSV046", 10), ("RPT-K8S-006", 9)],
        ),
        ("verbs: [get, watch]", "verbs: [get, patch]", &[("KSV048", 10)]),
        ("resources: [deployments]", "resources: [cronjobs]", &[]),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [pods/log]\n    verbs: [delete]",
            &[("KSV042", 7)],
        ),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [nodes/proxy]\n    verbs: [get]",
            &[("KSV047", 7)],
        ),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [configmaps]\n    verbs: [update]",
            &[("KSV049", 7)],
        ),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [configmaps]\n    verbs: [get, list]",
            &[],
        ),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [pods/attach]\n    verbs: [create]",
            &[("KSV054", 7)],
        ),
        (
            "resources: [pods, pods/log]\n    verbs: [get, list, watch]",
            "resources: [services, endpoints]\n    verbs: [\"*\"]",
            &[("KSV045", 8), ("KSV056", 7), ("KSV056", 7)],
        ),
        (
            "apiGroups: [apps]\n    resources: [deployments]\n    verbs: [get, watch]",
            "apiGroups: [rbac.authorization.k8s.io]\n    resources: [rolebindings]\n    verbs: [create]",
            &[("KSV050", 10)],
        ),
        (
            "apiGroups: [apps]\n    resources: [deployments]\n    verbs: [get, watch]",
            "apiGroups: [admissionregistration.k8s.io]\n    resources: [validatingwebhookconfigurations]\n    verbs: [delete]",
            &[("KSV114", 10)],
        ),
        // the right resource in the wrong API group is another resource
        (
            "apiGroups: [apps]\n    resources: [deployments]\n    verbs: [get, watch]",
            "apiGroups: [apps]\n    resources: [rolebindings]\n    verbs: [create]",
            &[],
        ),
        ("resources: [deployments]", "resources: [\"*\"]", &[("KSV046", 10)]),
        ("apiGroups: [apps]", "apiGroups: [\"*\"]", &[("RPT-K8S-006", 9)]),
        ("resources: [pods, pods/log]", "resources: [pods, secrets]", &[("KSV041", 7)]),
        ("resources: [pods, pods/log]", "resources: [pods, pods/exec]", &[("KSV053", 7)]),
        ("verbs: [get, watch]", "verbs: [impersonate]", &[("KSV043", 11)]),
        ("verbs: [get, watch]", "verbs: [bind, escalate]", &[("RPT-K8S-007", 11), ("RPT-K8S-007", 11)]),
        // secrets outside the core group are someone else's resource
        ("resources: [deployments]", "resources: [secrets]", &[]),
    ];
    for (from, to, expected) in cases {
        let text = ROLE.replace(from, to);
        assert_eq!(found(&run(&text)), expect(expected), "{to}");
    }
    let role = ROLE.replace("kind: ClusterRole", "kind: Role").replace("pods/log", "secrets");
    assert_eq!(found(&run(&role)), expect(&[("KSV113", 7)]));
    let block = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n\
                 - apiGroups:\n  - \"\"\n  resources:\n  - configmaps\n  - secrets\n  verbs:\n  - get\n";
    assert_eq!(found(&run(block)), expect(&[("KSV113", 9)]));
}

#[test]
fn cluster_admin_bindings_are_reported() {
    let binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ci\n\
                   roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n\
                   subjects:\n  - kind: ServiceAccount\n    name: ci\n    namespace: ci\n";
    assert_eq!(found(&run(binding)), expect(&[("KSV111", 8)]));
    let namespaced = binding.replace("ClusterRoleBinding", "RoleBinding");
    assert_eq!(found(&run(&namespaced)), expect(&[("KSV111", 8)]));
    assert_eq!(found(&run(&binding.replace("cluster-admin", "view"))), vec![]);
    assert_eq!(found(&run(&binding.replace("kind: ClusterRole\n", "kind: Role\n"))), vec![]);
}

#[test]
fn exposed_services_are_reported() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n";
    assert_eq!(found(&run(service)), expect(&[("RPT-K8S-004", 6)]));
    assert_eq!(found(&run(&service.replace("NodePort", "LoadBalancer"))), expect(&[("RPT-K8S-005", 6)]));
    let outcome = run(&service.replace("NodePort", "ClusterIP"));
    assert_eq!((found(&outcome), outcome.successes), (vec![], 4));
}

#[test]
fn multi_document_files_report_each_object_at_its_own_lines() {
    let text =
        format!("{}---\n{}", edit(&[(5, "  namespace: default")]), edit(&[(17, "        runAsUser: 0")]));
    let outcome = run(&text);
    assert_eq!(found(&outcome), expect(&[("KSV110", 5), ("KSV020", 67), ("KSV105", 67)]));
    assert_eq!(outcome.successes, 2 * POD_CHECKS - 3);
}

#[test]
fn list_items_are_objects() {
    let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: a}\n    \
                spec: {type: NodePort}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: b}\n    \
                spec: {type: LoadBalancer}\n";
    let outcome = run(text);
    assert_eq!(found(&outcome), expect(&[("RPT-K8S-004", 7), ("RPT-K8S-005", 11)]));
    assert_eq!(outcome.failures[1].cause_metadata.resource, "Service/b");
}

#[test]
fn json_manifests_report_lines() {
    let text = r#"{
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "j", "namespace": "x"},
	"spec": {
		"hostNetwork": true,
		"containers": [
			{
				"name": "app",
				"image": "app:1.0",
				"securityContext": {"privileged": true}
			}
		]
	}
}
"#;
    let outcome = run(text);
    let hits = found(&outcome);
    assert!(hits.contains(&("KSV009".to_string(), 6)), "{hits:?}");
    assert!(hits.contains(&("KSV017".to_string(), 11)), "{hits:?}");
    assert!(hits.contains(&("KSV014".to_string(), 11)), "{hits:?}");
}

#[test]
fn anchors_aliases_and_merge_keys_are_followed() {
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec:
  containers:
    - &base
      name: a
      image: app:1.0
      securityContext: &sc
        privileged: true
    - <<: *base
      name: b
      securityContext: *sc
";
    let outcome = run(text);
    let privileged: Vec<_> = outcome
        .failures
        .iter()
        .filter(|f| f.id == "KSV017")
        .map(|f| (f.message.contains("\"a\""), f.message.contains("\"b\""), f.cause_metadata.start_line))
        .collect();
    assert_eq!(privileged, [(true, false, 10), (false, true, 10)]);
}

#[test]
fn helm_rendered_output_is_scanned() {
    let text = "---\n# Source: shop/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\n\
                metadata:\n  name: web\n---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\n\
                metadata:\n  name: web\n  labels:\n    helm.sh/chart: shop-0.1.0\nspec:\n  type: NodePort\n---\n\
                # Source: shop/templates/unused.yaml\n";
    let outcome = run(text);
    assert!(outcome.applicable);
    assert_eq!(found(&outcome), expect(&[("RPT-K8S-004", 16)]));
}

#[test]
fn unrendered_templates_and_other_yaml_are_not_applicable() {
    let others = [
        "name: CI\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n",
        "services:\n  web:\n    image: nginx:latest\n    privileged: true\n",
        "{\"name\": \"pkg\", \"version\": \"1.0.0\"}",
        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
        "",
        "---\n# nothing\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n",
    ];
    for text in others {
        let outcome = run(text);
        assert!(!outcome.applicable, "{text}");
        assert!(
            outcome.failures.is_empty() && outcome.warnings.is_empty() && outcome.successes == 0,
            "{text}"
        );
    }
}

#[test]
fn objects_without_checks_are_applicable_and_clean() {
    let outcome = run("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: c}\nspec: {a: b}\n");
    assert!(outcome.applicable);
    assert_eq!((outcome.failures.len(), outcome.successes), (0, 0));
}

#[test]
fn repeated_keys_warn_and_the_last_one_counts() {
    let outcome = run(&edit(&[(
        41,
        "            readOnlyRootFilesystem: false\n            readOnlyRootFilesystem: true",
    )]));
    assert_eq!(found(&outcome), vec![]);
    assert_eq!(outcome.warnings.len(), 1);
    assert_eq!(outcome.warnings[0].line, Some(42));
    assert!(outcome.warnings[0].message.contains("readOnlyRootFilesystem"));
}

#[test]
fn malformed_yaml_is_an_error_with_its_line() {
    for (text, line) in [
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   bad: [\n", 5),
        ("apiVersion: v1\nkind: Pod\nspec: \"unterminated\n", 3),
        ("apiVersion: v1\nkind: Pod\nspec: *nowhere\n", 3),
    ] {
        match try_scan(text) {
            Err(ConfigError::Malformed { path, line: got, .. }) => {
                assert_eq!(path, "deploy/manifest.yaml");
                assert_eq!(got, Some(line), "{text}");
            }
            other => panic!("expected Malformed for {text:?}, got {other:?}"),
        }
    }
    assert!(matches!(try_scan_bytes(b"kind: \xff\n"), Err(ConfigError::Malformed { line: None, .. })));
}

fn try_scan_bytes(bytes: &[u8]) -> Result<Outcome, ConfigError> {
    scan(ConfigKind::Kubernetes, Path::new("m.yaml"), "m.yaml", bytes)
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused_quickly() {
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        bomb.push_str(&format!("  a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
    }
    let deep_flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_block = format!("{}x\n", "- ".repeat(10_000));
    for text in [bomb, deep_flow, deep_block] {
        let result = try_scan(&text);
        assert!(matches!(result, Err(ConfigError::Malformed { line: Some(_), .. })), "{result:?}");
    }
}

#[test]
fn listed_checks_match_the_findings() {
    let listed: Vec<_> =
        rampart_config::checks().into_iter().filter(|c| c.kind == ConfigKind::Kubernetes).collect();
    assert_eq!(listed.len(), 69);
    let outcome = run(&edit(&[(14, "      hostPID: true"), (24, "          image: nginx")]));
    for f in &outcome.failures {
        let info = listed.iter().find(|c| c.id == f.id).unwrap_or_else(|| panic!("{} not listed", f.id));
        assert_eq!(
            (info.title, info.severity, info.resolution),
            (f.title.as_str(), f.severity, f.resolution.as_str())
        );
    }
}

fn gatekeeper_library() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/gatekeeper-library"));
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need the data bundle at ../shared/data beside the project root",
        dir.display()
    );
    dir
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn gatekeeper_library_samples_parse() {
    let general = gatekeeper_library().join("library/general");
    let mut files = Vec::new();
    for check in std::fs::read_dir(&general).expect("library/general") {
        let samples = check.expect("entry").path().join("samples");
        if samples.is_dir() {
            yaml_files(&samples, &mut files);
        }
    }
    assert!(files.len() > 100, "only {} sample files", files.len());
    let mut applicable = 0;
    for file in &files {
        let content = std::fs::read(file).expect("readable sample");
        let display = file.strip_prefix(&general).expect("under general").display().to_string();
        let outcome = scan(ConfigKind::Kubernetes, file, &display, &content)
            .unwrap_or_else(|e| panic!("{display}: {e}"));
        applicable += usize::from(outcome.applicable);
        for f in &outcome.failures {
            let lines = content.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            assert!(
                f.cause_metadata.start_line >= 1 && f.cause_metadata.end_line <= lines,
                "{display}: {f:?}"
            );
        }
    }
    assert_eq!(applicable, files.len(), "every sample is a Kubernetes object");

    let sample = |path: &str| {
        let file = general.join(path);
        let outcome =
            scan(ConfigKind::Kubernetes, &file, path, &std::fs::read(&file).expect("sample")).expect("scans");
        found(&outcome)
    };
    let has = |hits: &[(String, u32)], id: &str, line: u32| hits.contains(&(id.to_string(), line));
    let edit_role = sample(
        "block-endpoint-edit-default-role/samples/block-endpoint-edit-default-role/example_disallowed.yaml",
    );
    for (id, line) in [("KSV053", 16), ("KSV041", 19), ("KSV043", 30), ("KSV053", 36), ("KSV041", 52)] {
        assert!(has(&edit_role, id, line), "{id} at {line}: {edit_role:?}");
    }
    let ephemeral = sample(
        "disallowedtags/samples/container-image-must-not-have-latest-tag/disallowed_tag_ephemeral.yaml",
    );
    assert!(has(&ephemeral, "KSV013", 15), "{ephemeral:?}");
    let node_port = sample("block-nodeport-services/samples/block-node-port/example_disallowed.yaml");
    assert!(has(&node_port, "RPT-K8S-004", 6), "{node_port:?}");
    let token = sample(
        "automount-serviceaccount-token/samples/automount-serviceaccount-token/example_disallowed.yaml",
    );
    assert!(has(&token, "KSV036", 8), "{token:?}");
}

#[test]
fn credentials_in_configmaps_are_reported() {
    let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  LOG_LEVEL: info\n  \
                  DB_PASSWORD: hunter2-prod\n  PASSWORD_FILE: /run/secrets/db\n  apiKey: \"${API_KEY}\"\n";
    let outcome = run(config);
    assert_eq!(found(&outcome), expect(&[("KSV109", 6)]));
    assert!(outcome.failures[0].message.contains("DB_PASSWORD"));
    assert!(!outcome.failures[0].message.contains("hunter2"), "the value is not repeated");
    let clean = run(&config.replace("  DB_PASSWORD: hunter2-prod\n", ""));
    // KSV109 and the two schema checks
    assert_eq!((found(&clean), clean.successes), (vec![], 3));
}

#[test]
fn annotations_and_comments_suppress_findings() {
    let privileged =
        edit(&[(40, "            allowPrivilegeEscalation: false\n            privileged: true")]);
    assert_eq!(found(&run(&privileged)), expect(&[("KSV017", 41)]));
    let annotated = privileged.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    rampart.dev/ignore: KSV017, KSV011\n",
    );
    assert_eq!(found(&run(&annotated)), vec![]);
    let on_template = privileged.replace(
        "      labels: {app: web}\n",
        "      labels: {app: web}\n      annotations: {rampart.dev/ignore: KSV017}\n",
    );
    assert_eq!(found(&run(&on_template)), vec![]);
    let commented = privileged.replace(
        "          securityContext:\n",
        "          # rampart:ignore:KSV017\n          securityContext:\n",
    );
    assert_eq!(found(&run(&commented)), vec![]);
    let other = privileged
        .replace("  namespace: shop\n", "  namespace: shop\n  annotations: {rampart.dev/ignore: KSV011}\n");
    assert_eq!(found(&run(&other)).len(), 1);
}

#[test]
fn helm_output_keeps_the_template_of_each_object() {
    let privileged =
        edit(&[(40, "            allowPrivilegeEscalation: false\n            privileged: true")]);
    let rendered = format!(
        "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\n\
         spec: {{type: NodePort}}\n---\n# Source: shop/templates/deployment.yaml\n{privileged}---\n\
         apiVersion: v1\nkind: Service\nmetadata: {{name: plain}}\nspec: {{type: NodePort}}\n"
    );
    let outcome = run(&rendered);
    let templates: Vec<(&str, &str)> =
        outcome.failures.iter().map(|f| (f.id.as_str(), f.cause_metadata.template.as_str())).collect();
    assert_eq!(
        templates,
        [
            ("RPT-K8S-004", "shop/templates/service.yaml"),
            ("KSV017", "shop/templates/deployment.yaml"),
            ("RPT-K8S-004", ""),
        ]
    );
}

#[test]
fn a_chart_given_unrendered_says_how_to_render_it() {
    let chart = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";
    let outcome = scan(
        ConfigKind::Kubernetes,
        Path::new("charts/shop/Chart.yaml"),
        "charts/shop/Chart.yaml",
        chart.as_bytes(),
    )
    .expect("scans");
    assert!(!outcome.applicable);
    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].message.contains("helm template charts/shop | rampart config -"),
        "{:?}",
        outcome.warnings
    );
    assert!(run(chart).warnings.is_empty(), "only a file named Chart.yaml is a chart");
}
