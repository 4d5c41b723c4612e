//! Checks on cluster objects: how Services are exposed, and what RBAC roles
//! and bindings grant.

use rampart_types::Severity;

use super::object::{Loc, Object};
use super::yaml::Node;
use super::{Check, Run, Sink};

const ROLES: &[&str] = &["Role", "ClusterRole"];

pub(crate) static NODE_PORT: Check = Check {
    id: "RPT-K8S-004",
    severity: Severity::Medium,
    level: None,
    title: "NodePort Service",
    description: "A NodePort Service opens its port on every node of the cluster, outside any ingress \
                  or load balancer, where firewalls are easily forgotten.",
    resolution: "Use a ClusterIP Service behind an Ingress or Gateway, or a LoadBalancer if the Service \
                 must be reachable from outside.",
    run: Run::Kinds(&["Service"], node_port),
};

fn node_port(object: &Object<'_>, out: &mut Sink<'_>) {
    service_type(object, out, "NodePort", "opens a port on every node");
}

pub(crate) static LOAD_BALANCER: Check = Check {
    id: "RPT-K8S-005",
    severity: Severity::Low,
    level: None,
    title: "LoadBalancer Service",
    description: "A LoadBalancer Service usually gets an address reachable from outside the cluster \
                  (often the internet), with every NodePort that comes with it.",
    resolution: "Make sure the Service must be public; otherwise use ClusterIP, an internal load \
                 balancer annotation, or loadBalancerSourceRanges.",
    run: Run::Kinds(&["Service"], load_balancer),
};

fn load_balancer(object: &Object<'_>, out: &mut Sink<'_>) {
    service_type(object, out, "LoadBalancer", "is exposed through an external load balancer");
}

fn service_type(object: &Object<'_>, out: &mut Sink<'_>, kind: &str, effect: &str) {
    if let Some(e) = object.root.path(&["spec", "type"]).filter(|e| e.value.as_str() == Some(kind)) {
        out.fail(Loc::entry(e), format!("{} is of type {kind}: it {effect}", object.resource));
    }
}

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
    level: None,
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
    level: None,
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
    level: None,
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
    level: None,
    title: "ClusterRole grants access to secrets",
    description: "Access to secrets across the cluster yields service account tokens and credentials \
                  of every namespace, enough to act as any workload.",
    resolution: "Grant access to the named secrets only (resourceNames), in a namespaced Role.",
    run: Run::Kinds(&["ClusterRole"], secrets),
};

pub(crate) static NAMESPACE_SECRETS: Check = Check {
    id: "KSV113",
    severity: Severity::Medium,
    level: None,
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
    level: None,
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
    level: None,
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
    level: None,
    title: "Role allows escalate or bind",
    description: "escalate lets the subject write roles with rights it lacks, and bind lets it bind \
                  any role to anyone: both bypass RBAC's guard against privilege escalation.",
    resolution: "Remove the escalate and bind verbs, or limit bind to named roles with resourceNames.",
    run: Run::Kinds(ROLES, escalate_bind),
};

fn escalate_bind(object: &Object<'_>, out: &mut Sink<'_>) {
    each_item(object, out, "verbs", &["escalate", "bind"], "RBAC escalation");
}

pub(crate) static CLUSTER_ADMIN_BINDING: Check = Check {
    id: "KSV111",
    severity: Severity::Medium,
    level: None,
    title: "Binding to cluster-admin",
    description: "cluster-admin can do anything anywhere; binding it to users, groups or service \
                  accounts makes each of them a full cluster administrator.",
    resolution: "Bind a role with only the rights the subjects need.",
    run: Run::Kinds(&["RoleBinding", "ClusterRoleBinding"], cluster_admin_binding),
};

fn cluster_admin_binding(object: &Object<'_>, out: &mut Sink<'_>) {
    let Some(role) = object.root.get("roleRef") else { return };
    let kind = role.value.get("kind").and_then(|e| e.value.as_str());
    if let Some(e) = role.value.get("name").filter(|e| e.value.as_str() == Some("cluster-admin"))
        && matches!(kind, None | Some("ClusterRole"))
    {
        out.fail(Loc::entry(e), format!("{} binds the cluster-admin ClusterRole", object.resource));
    }
}
