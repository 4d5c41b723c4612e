//! Kubernetes objects in a file, the pod spec a workload carries, and its containers.

use rampart_yaml::{Entry, Node};

/// One object: a document with `apiVersion` and `kind`, or an item of a `List`.
pub(crate) struct Object<'a> {
    pub(crate) kind: &'a str,
    /// `Kind/name`, as findings name the resource.
    pub(crate) resource: String,
    pub(crate) root: &'a Node,
}

impl<'a> Object<'a> {
    pub(crate) fn name(&self) -> Option<&'a str> {
        self.root.path(&["metadata", "name"]).and_then(|e| e.value.as_str())
    }

    pub(crate) fn namespace(&self) -> Option<&'a str> {
        self.root.path(&["metadata", "namespace"]).and_then(|e| e.value.as_str())
    }
}

/// Collects the objects of one document; `kind: List` (and `PodList`, …) yields its items.
pub(crate) fn collect<'a>(node: &'a Node, out: &mut Vec<Object<'a>>) {
    let field = |key| node.get(key).and_then(|e| e.value.as_str());
    let (Some(_), Some(kind)) = (field("apiVersion"), field("kind")) else { return };
    if kind.ends_with("List")
        && let Some(items) = node.get("items")
    {
        for item in items.value.items() {
            collect(item, out);
        }
        return;
    }
    let mut object = Object { kind, resource: String::new(), root: node };
    object.resource = match object.name() {
        Some(name) => format!("{kind}/{name}"),
        None => kind.to_string(),
    };
    out.push(object);
}

/// The pod spec of a Pod, or the pod template of a workload.
pub(crate) struct Pod<'a> {
    pub(crate) object: &'a Object<'a>,
    /// The `spec:` entry that holds the pod spec: where pod-level fields go.
    pub(crate) spec: &'a Entry,
    /// The pod's metadata (the template's, for workloads), for annotations.
    pub(crate) metadata: Option<&'a Node>,
    pub(crate) containers: Vec<Container<'a>>,
    /// Job and CronJob pods run to completion: serving probes do not apply.
    pub(crate) runs_to_completion: bool,
    /// `spec.os.name: windows`: the Linux-only restricted controls do not apply.
    pub(crate) windows: bool,
    /// Every object in the file, to find the ServiceAccount the pod uses.
    pub(crate) file: &'a [Object<'a>],
}

impl<'a> Pod<'a> {
    pub(crate) fn of(object: &'a Object<'a>, file: &'a [Object<'a>]) -> Option<Pod<'a>> {
        let template: &[&str] = match object.kind {
            "Pod" => &[],
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
                &["spec", "template"]
            }
            "CronJob" => &["spec", "jobTemplate", "spec", "template"],
            "PodTemplate" => &["template"],
            _ => return None,
        };
        let holder: &Node = match template {
            [] => object.root,
            path => &object.root.path(path)?.value,
        };
        let spec = holder.get("spec").filter(|e| e.value.is_map())?;
        let mut containers = Vec::new();
        for group in [Group::Regular, Group::Init, Group::Ephemeral] {
            if let Some(list) = spec.value.get(group.field()) {
                containers.extend(list.value.items().iter().filter(|n| n.is_map()).map(|node| Container {
                    node,
                    name: node.get("name").and_then(|e| e.value.as_str()).unwrap_or("<unnamed>"),
                    group,
                }));
            }
        }
        Some(Pod {
            object,
            spec,
            metadata: holder.get("metadata").map(|e| &*e.value),
            containers,
            runs_to_completion: matches!(object.kind, "Job" | "CronJob"),
            windows: spec.value.path(&["os", "name"]).and_then(|e| e.value.as_str()) == Some("windows"),
            file,
        })
    }

    /// A field of the pod spec.
    pub(crate) fn field(&self, path: &[&str]) -> Option<&'a Entry> {
        self.spec.value.path(path)
    }

    /// A field of the pod-level `securityContext`.
    pub(crate) fn security(&self, key: &str) -> Option<&'a Entry> {
        self.spec.value.path(&["securityContext", key])
    }

    /// The containers of the given groups.
    pub(crate) fn in_groups(&self, groups: &'static [Group]) -> impl Iterator<Item = &Container<'a>> {
        self.containers.iter().filter(move |c| groups.contains(&c.group))
    }

    /// The pod's volumes.
    pub(crate) fn volumes(&self) -> &'a [std::rc::Rc<Node>] {
        self.field(&["volumes"]).map_or(&[], |e| e.value.items())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Regular,
    Init,
    Ephemeral,
}

impl Group {
    pub(crate) const ALL: &'static [Group] = &[Group::Regular, Group::Init, Group::Ephemeral];
    /// Containers that hold resources and a root filesystem of their own for the pod's life.
    pub(crate) const RUNNING: &'static [Group] = &[Group::Regular, Group::Init];
    pub(crate) const REGULAR: &'static [Group] = &[Group::Regular];

    fn field(self) -> &'static str {
        match self {
            Group::Regular => "containers",
            Group::Init => "initContainers",
            Group::Ephemeral => "ephemeralContainers",
        }
    }
}

pub(crate) struct Container<'a> {
    pub(crate) node: &'a Node,
    pub(crate) name: &'a str,
    pub(crate) group: Group,
}

impl<'a> Container<'a> {
    pub(crate) fn field(&self, path: &[&str]) -> Option<&'a Entry> {
        self.node.path(path)
    }

    /// A field of the container's `securityContext`.
    pub(crate) fn security(&self, key: &str) -> Option<&'a Entry> {
        self.node.path(&["securityContext", key])
    }

    /// The container, in messages: `Container "web" of Deployment/web`.
    pub(crate) fn describe(&self, pod: &Pod<'_>) -> String {
        let what = match self.group {
            Group::Regular => "Container",
            Group::Init => "Init container",
            Group::Ephemeral => "Ephemeral container",
        };
        format!("{what} \"{}\" of {}", self.name, pod.object.resource)
    }

    /// Where a missing field belongs: its deepest present parent, else the container.
    pub(crate) fn locate(&self, path: &[&str]) -> Loc {
        deepest(self.node, path)
    }
}

/// The lines a finding covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Loc {
    pub(crate) fn entry(entry: &Entry) -> Loc {
        Loc { start: entry.line, end: entry.end_line() }
    }

    pub(crate) fn node(node: &Node) -> Loc {
        Loc { start: node.line, end: node.end_line.max(node.line) }
    }
}

/// The deepest entry of `path` present under `node`, else `node` itself.
pub(crate) fn deepest(node: &Node, path: &[&str]) -> Loc {
    let mut loc = Loc::node(node);
    let mut at = node;
    for key in path {
        match at.get(key) {
            Some(entry) => {
                loc = Loc::entry(entry);
                at = &entry.value;
            }
            None => break,
        }
    }
    loc
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_yaml::parse;

    #[test]
    fn lists_yield_their_items_and_other_yaml_nothing() {
        let yaml = parse(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n\
             - apiVersion: v1\n  kind: ConfigMap\n---\nname: ci\non: push\n---\nkind: Pod\n",
        )
        .expect("parses");
        let mut objects = Vec::new();
        for doc in &yaml.documents {
            collect(doc, &mut objects);
        }
        let names: Vec<_> = objects.iter().map(|o| o.resource.as_str()).collect();
        assert_eq!(names, ["Pod/a", "ConfigMap"]);
    }

    #[test]
    fn cronjob_pod_spec_is_found_through_the_job_template() {
        let yaml = parse(concat!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n",
            "  jobTemplate:\n    spec:\n      template:\n        spec:\n",
            "          initContainers: [{name: i}]\n          containers:\n          - name: a\n",
        ))
        .expect("parses");
        let mut objects = Vec::new();
        collect(&yaml.documents[0], &mut objects);
        let pod = Pod::of(&objects[0], &objects).expect("pod template");
        assert_eq!(pod.spec.line, 8);
        assert!(pod.runs_to_completion);
        let names: Vec<_> = pod.containers.iter().map(|c| (c.name, c.group)).collect();
        assert_eq!(names, [("a", Group::Regular), ("i", Group::Init)]);
        assert_eq!(pod.containers[0].locate(&["securityContext", "privileged"]), Loc { start: 11, end: 11 });
    }
}
