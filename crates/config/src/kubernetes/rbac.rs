//! Checks on what Roles and ClusterRoles grant: wildcards, and the
//! resources and verbs that lead to secrets, workloads, RBAC itself or the
//! node. A rule counts when its API groups cover the resource's group and
//! it names the resource; `*` resources are KSV046's to report.

use rampart_types::Severity;

use super::object::{Loc, Object};
use super::{Check, Run, Sink};
use rampart_yaml::Node;

const ROLES: &[&str] = &["Role", "ClusterRole"];

/// One rule of a Role or ClusterRole.
struct Rule<'a>(&'a Node);

impl<'a> Rule<'a> {
    fn list(&self, key: &str) -> impl Iterator<Item = (&'a str, &'a Node)> {
        self.0.get(key).into_iter().flat_map(|e| e.value.items()).filter_map(|n| Some((n.as_str()?, &**n)))
    }

    fn has(&self, key: &str, word: &str) -> bool {
        self.list(key).any(|(w, _)| w == word)
    }

    /// Whether the rule covers the core API group, where secrets and pods are.
    fn core_group(&self) -> bool {
        self.0.get("apiGroups").is_none() || self.has("apiGroups", "") || self.has("apiGroups", "*")
    }

    fn verbs(&self) -> String {
        self.list("verbs").map(|(v, _)| v).collect::<Vec<_>>().join(", ")
    }
}

fn rules<'a>(object: &Object<'a>) -> impl Iterator<Item = Rule<'a>> {
    object.root.get("rules").into_iter().flat_map(|e| e.value.items()).map(|n| Rule(n))
}

/// Fails at every item of `key` in every rule that equals one of `words`.
fn each_item(object: &Object<'_>, out: &mut Sink<'_>, key: &str, words: &[&str], what: &str) {
    for rule in rules(object) {
        for (word, node) in rule.list(key).filter(|(w, _)| words.contains(w)) {
            out.fail(Loc::node(node), format!("{} grants {what} ({key}: {word})", object.resource));
        }
    }
}

pub(crate) static WILDCARD_VERBS: Check = Check {
    id: "KSV045",
    severity: Severity::Critical,
    pss: None,
    title: "Role grants every verb",
    description: "A `*` verb grants every action on the rule's resources, including ones added later \
                  such as escalate, bind and impersonate.",
    resolution: "List the verbs the subject needs (get, list, watch, …) instead of `*`.",
    run: Run::Kinds(ROLES, wildcard_verbs),
};

fn wildcard_verbs(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "verbs", &["*"], "every verb");
}

pub(crate) static WILDCARD_RESOURCES: Check = Check {
    id: "KSV046",
    severity: Severity::Critical,
    pss: None,
    title: "Role grants every resource",
    description: "A `*` resource covers every resource of the rule's API groups, secrets and RBAC \
                  objects included, and every resource added later.",
    resolution: "List the resources the subject needs instead of `*`.",
    run: Run::Kinds(ROLES, wildcard_resources),
};

fn wildcard_resources(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "resources", &["*"], "every resource");
}

pub(crate) static WILDCARD_API_GROUPS: Check = Check {
    id: "RPT-K8S-006",
    severity: Severity::Medium,
    pss: None,
    title: "Role grants every API group",
    description: "A `*` API group applies the rule to every group, including custom resources \
                  installed later that may hold credentials or control workloads.",
    resolution: "List the API groups the rule needs (\"\" for the core group, apps, batch, …).",
    run: Run::Kinds(ROLES, wildcard_api_groups),
};

fn wildcard_api_groups(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "apiGroups", &["*"], "every API group");
}

pub(crate) static CLUSTER_SECRETS: Check = Check {
    id: "KSV041",
    severity: Severity::Critical,
    pss: None,
    title: "ClusterRole grants access to secrets",
    description: "Access to secrets across the cluster yields service account tokens and credentials \
                  of every namespace, enough to act as any workload.",
    resolution: "Grant access to the named secrets only (resourceNames), in a namespaced Role.",
    run: Run::Kinds(&["ClusterRole"], secrets),
};

pub(crate) static NAMESPACE_SECRETS: Check = Check {
    id: "KSV113",
    severity: Severity::Medium,
    pss: None,
    title: "Role grants access to secrets",
    description: "Access to the secrets of a namespace yields the tokens of its service accounts and \
                  the credentials of its applications.",
    resolution: "Restrict the rule to the secrets needed with resourceNames, and to read verbs.",
    run: Run::Kinds(&["Role"], secrets),
};

fn secrets(object: &Object<'_>, out: &mut Sink<'_>) {
    for rule in rules(object).filter(|r| r.core_group() && r.list("verbs").next().is_some()) {
        for (_, node) in rule.list("resources").filter(|(r, _)| *r == "secrets") {
            out.fail(Loc::node(node), format!("{} grants {} on secrets", object.resource, rule.verbs()));
        }
    }
}

pub(crate) static POD_EXEC: Check = Check {
    id: "KSV053",
    severity: Severity::High,
    pss: None,
    title: "Role allows exec into pods",
    description: "pods/exec runs commands inside any container the role reaches, with that container's \
                  credentials, files and network access.",
    resolution: "Remove pods/exec from the role; keep interactive access for break-glass roles.",
    run: Run::Kinds(ROLES, pod_exec),
};

fn pod_exec(object: &Object<'_>, out: &mut Sink<'_>) {
    let exec_verbs = |rule: &Rule<'_>| ["create", "get", "*"].iter().any(|v| rule.has("verbs", v));
    for rule in rules(object).filter(|r| r.core_group() && exec_verbs(r)) {
        for (_, node) in rule.list("resources").filter(|(r, _)| *r == "pods/exec") {
            out.fail(Loc::node(node), format!("{} grants {} on pods/exec", object.resource, rule.verbs()));
        }
    }
}

pub(crate) static IMPERSONATE: Check = Check {
    id: "KSV043",
    severity: Severity::Critical,
    pss: None,
    title: "Role allows impersonation",
    description: "The impersonate verb lets the subject act as other users, groups or service accounts, \
                  system:masters included, and so gain all of their rights.",
    resolution: "Remove the impersonate verb, or limit it to specific identities with resourceNames.",
    run: Run::Kinds(ROLES, impersonate),
};

fn impersonate(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "verbs", &["impersonate"], "impersonation");
}

pub(crate) static ESCALATE_BIND: Check = Check {
    id: "RPT-K8S-007",
    severity: Severity::High,
    pss: None,
    title: "Role allows escalate or bind",
    description: "escalate lets the subject write roles with rights it lacks, and bind lets it bind \
                  any role to anyone: both bypass RBAC's guard against privilege escalation.",
    resolution: "Remove the escalate and bind verbs, or limit bind to named roles with resourceNames.",
    run: Run::Kinds(ROLES, escalate_bind),
};

fn escalate_bind(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "verbs", &["escalate", "bind"], "RBAC escalation");
}

pub(crate) static WILDCARD_EVERYTHING: Check = Check {
    id: "KSV044",
    severity: Severity::Critical,
    pss: None,
    title: "Role grants everything",
    description: "A rule with `*` API groups, resources and verbs is cluster-admin in all but name, \
                  within the role's scope.",
    resolution: "Write rules for the API groups, resources and verbs the subject needs.",
    run: Run::Kinds(ROLES, wildcard_everything),
};

fn wildcard_everything(object: &Object<'_>, out: &mut Sink<'_>) {
    for rule in rules(object) {
        if ["apiGroups", "resources", "verbs"].iter().all(|key| rule.has(key, "*")) {
            out.fail(
                Loc::node(rule.0),
                format!("{} has a rule granting every verb on everything", object.resource),
            );
        }
    }
}

/// What a rule must grant for a check to fire: one of `resources` in one of
/// `groups` (`""` is the core group) with one of `verbs` or `*`.
struct Grant {
    groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
}

/// Verbs that change objects.
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Fails at every resource of a rule that makes `grant`.
fn grants(object: &Object<'_>, out: &mut Sink<'_>, grant: &Grant) {
    for rule in rules(object) {
        let groups = if rule.0.get("apiGroups").is_none() {
            grant.groups.contains(&"")
        } else {
            rule.list("apiGroups").any(|(g, _)| g == "*" || grant.groups.contains(&g))
        };
        let verbs: Vec<&str> =
            rule.list("verbs").map(|(v, _)| v).filter(|v| *v == "*" || grant.verbs.contains(v)).collect();
        if !groups || verbs.is_empty() {
            continue;
        }
        for (resource, node) in rule.list("resources").filter(|(r, _)| grant.resources.contains(r)) {
            out.fail(
                Loc::node(node),
                format!("{} grants {} on {resource}", object.resource, verbs.join(", ")),
            );
        }
    }
}

macro_rules! grant_check {
    (
        $name:ident, $fn:ident, $id:literal, $severity:ident, $title:literal,
        $description:literal, $resolution:literal, $grant:expr
    ) => {
        pub(crate) static $name: Check = Check {
            id: $id,
            severity: Severity::$severity,
            pss: None,
            title: $title,
            description: $description,
            resolution: $resolution,
            run: Run::Kinds(ROLES, $fn),
        };

        fn $fn(object: &Object<'_>, out: &mut Sink<'_>) {
            grants(object, out, &$grant);
        }
    };
}

grant_check!(
    DELETE_POD_LOGS,
    delete_pod_logs,
    "KSV042",
    Medium,
    "Role allows deleting pod logs",
    "Deleting pods/log erases the trace of what a workload did, the first thing an intruder wants.",
    "Remove delete and deletecollection on pods/log.",
    Grant { groups: &[""], resources: &["pods/log"], verbs: &["delete", "deletecollection"] }
);
grant_check!(
    NODE_PROXY,
    node_proxy,
    "KSV047",
    High,
    "Role allows the node proxy",
    "nodes/proxy reaches the kubelet API of every node, which runs commands in any pod on it and \
     bypasses admission and audit.",
    "Remove nodes/proxy from the role; monitoring agents can read metrics through nodes/metrics.",
    Grant { groups: &[""], resources: &["nodes/proxy"], verbs: &["get", "create"] }
);
grant_check!(
    MANAGE_WORKLOADS,
    manage_workloads,
    "KSV048",
    Medium,
    "Role allows managing workloads",
    "Whoever can create or change pods and their controllers can run any image with any service \
     account of the namespace, and so gain every right those accounts have.",
    "Limit write verbs on workloads to deployment pipelines; grant people read access.",
    Grant {
        groups: &["", "apps", "batch"],
        resources: &[
            "pods",
            "deployments",
            "daemonsets",
            "statefulsets",
            "replicasets",
            "replicationcontrollers",
            "jobs",
            "cronjobs",
        ],
        verbs: WRITE,
    }
);
grant_check!(
    MANAGE_CONFIGMAPS,
    manage_configmaps,
    "KSV049",
    Medium,
    "Role allows managing ConfigMaps",
    "ConfigMaps steer what workloads do (endpoints, feature flags, scripts); changing them changes \
     the applications without touching their images.",
    "Grant read verbs on ConfigMaps, or limit writes to named ones with resourceNames.",
    Grant { groups: &[""], resources: &["configmaps"], verbs: WRITE }
);
grant_check!(
    MANAGE_RBAC,
    manage_rbac,
    "KSV050",
    Critical,
    "Role allows managing RBAC",
    "Writing roles and bindings lets the subject grant itself, or anyone, any right within reach.",
    "Leave RBAC objects to cluster administrators and deployment pipelines.",
    Grant {
        groups: &["rbac.authorization.k8s.io"],
        resources: &["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
        verbs: WRITE,
    }
);
grant_check!(
    POD_ATTACH,
    pod_attach,
    "KSV054",
    High,
    "Role allows attaching to pods",
    "pods/attach connects to the main process of a running container, with its input and output.",
    "Remove pods/attach from the role; keep interactive access for break-glass roles.",
    Grant { groups: &[""], resources: &["pods/attach"], verbs: &["create", "get"] }
);
grant_check!(
    MANAGE_NETWORKING,
    manage_networking,
    "KSV056",
    High,
    "Role allows managing networking",
    "Changing Services, endpoints, ingresses or network policies redirects traffic meant for other \
     workloads, or opens paths the policies closed.",
    "Limit write verbs on networking resources to deployment pipelines.",
    Grant {
        groups: &["", "networking.k8s.io", "discovery.k8s.io", "extensions"],
        resources: &["services", "endpoints", "endpointslices", "ingresses", "networkpolicies"],
        verbs: WRITE,
    }
);
grant_check!(
    MANAGE_WEBHOOKS,
    manage_webhooks,
    "KSV114",
    Critical,
    "Role allows managing admission webhooks",
    "An admission webhook sees, and a mutating one rewrites, every object it registers for; \
     whoever manages them can switch policy off or inject into every pod.",
    "Leave webhook configurations to cluster administrators.",
    Grant {
        groups: &["admissionregistration.k8s.io"],
        resources: &["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
        verbs: WRITE,
    }
);
