//! Checks on cluster objects other than pods and roles: how Services are
//! exposed, who is bound to cluster-admin, what ConfigMaps hold.

use rampart_types::Severity;

use super::object::{Loc, Object};
use super::workload::{literal_secret, secret_like};
use super::{Check, Run, Sink};

pub(crate) static NODE_PORT: Check = Check {
    id: "RPT-K8S-004",
    severity: Severity::Medium,
    pss: None,
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
    pss: None,
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

pub(crate) static CLUSTER_ADMIN_BINDING: Check = Check {
    id: "KSV111",
    severity: Severity::Medium,
    pss: None,
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

pub(crate) static CONFIGMAP_SECRET: Check = Check {
    id: "KSV109",
    severity: Severity::High,
    pss: None,
    title: "Credential in a ConfigMap",
    description: "ConfigMaps are not secret: anyone who can read the namespace's configuration, and \
                  every pod that mounts it, sees a password or key stored in one.",
    resolution: "Move the value to a Secret (or an external secret store) and reference it from there.",
    run: Run::Kinds(&["ConfigMap"], configmap_secret),
};

fn configmap_secret(object: &Object<'_>, out: &mut Sink<'_>) {
    let data = object.root.get("data").map_or(&[][..], |e| e.value.entries());
    for entry in data {
        if secret_like(&entry.key) && entry.value.as_str().is_some_and(literal_secret) {
            out.fail(Loc::entry(entry), format!("{} holds {} in plain text", object.resource, entry.key));
        }
    }
}
