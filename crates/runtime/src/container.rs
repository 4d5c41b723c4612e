//! Container attribution: which container a cgroup path belongs to, and the
//! metadata its runtime leaves on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::model::Container;

/// Largest runtime config file read, so a corrupt or hostile file cannot
/// exhaust memory.
const MAX_CONFIG: u64 = 16 << 20;

fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Recognises a container from a cgroup v2 path (`/system.slice/docker-<id>.scope`,
/// `/kubepods/.../cri-containerd-<id>.scope`, `/docker/<id>`, `crio-<id>`,
/// `libpod-<id>`, `/kubepods/besteffort/pod<uid>/<id>`, ...). Returns (runtime, id).
pub fn from_cgroup(path: &str) -> Option<(&'static str, String)> {
    // The innermost component that names a container wins: a pod's
    // containers live under the pod's slice.
    for comp in path.rsplit('/') {
        let comp = comp.strip_suffix(".scope").unwrap_or(comp);
        let prefixed: &[(&str, &'static str)] = &[
            ("docker-", "docker"),
            ("cri-containerd-", "containerd"),
            ("containerd-", "containerd"),
            ("crio-", "cri-o"),
            ("libpod-", "podman"),
        ];
        for (prefix, runtime) in prefixed {
            if let Some(id) = comp.strip_prefix(prefix)
                && is_hex_id(id)
            {
                return Some((runtime, id.to_ascii_lowercase()));
            }
        }
        if is_hex_id(comp) {
            let runtime = if path.contains("/docker/") || path.starts_with("/docker") {
                "docker"
            } else if path.contains("kubepods") {
                "containerd"
            } else {
                "docker"
            };
            return Some((runtime, comp.to_ascii_lowercase()));
        }
    }
    if let Some(rest) = path.split('/').find_map(|c| c.strip_prefix("lxc.payload.")) {
        return Some(("lxc", rest.to_string()));
    }
    None
}

/// The cgroup v2 mount point (`/sys/fs/cgroup` on unified hosts,
/// `/sys/fs/cgroup/unified` on hybrid ones), from /proc/self/mountinfo.
pub fn cgroup2_root() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        // Field 5 is the mount point; octal escapes (\040) are rare here.
        left.split_whitespace().nth(4).map(PathBuf::from)
    })
}

/// Where runtimes keep their per-container configuration; `root` is `/`
/// normally and a fixture directory in tests.
#[derive(Clone, Debug)]
pub struct MetadataSource {
    pub root: PathBuf,
}

impl Default for MetadataSource {
    fn default() -> Self {
        MetadataSource { root: PathBuf::from("/") }
    }
}

fn read_json(path: &Path) -> Option<Json> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_CONFIG {
        return None;
    }
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn split_image(image: &str) -> (String, String, String) {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, d.to_string()),
        None => (image, String::new()),
    };
    // A ':' after the last '/' separates the tag (a ':' before it is a registry port).
    let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[slash..].rfind(':') {
        Some(i) => (name[..slash + i].to_string(), name[slash + i + 1..].to_string(), digest),
        None => (name.to_string(), String::new(), digest),
    }
}

fn parse_time(s: &str) -> u64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp_nanos().max(0) as u64)
        .unwrap_or(0)
}

impl MetadataSource {
    /// A container with whatever metadata its runtime exposes on disk.
    pub fn lookup(&self, runtime: &str, id: &str, cgroup: &str) -> Container {
        let mut c = Container {
            id: id.to_string(),
            runtime: runtime.to_string(),
            cgroup: cgroup.to_string(),
            ..Container::default()
        };
        match runtime {
            "docker" => self.docker(&mut c),
            "containerd" => self.oci_annotations(
                &mut c,
                &[
                    "run/containerd/io.containerd.runtime.v2.task/k8s.io",
                    "run/containerd/io.containerd.runtime.v2.task/moby",
                    "run/containerd/io.containerd.runtime.v2.task/default",
                ],
            ),
            "cri-o" | "podman" => {
                self.oci_annotations(&mut c, &["var/lib/containers/storage/overlay-containers"])
            }
            _ => {}
        }
        if c.image_repository.is_empty() && !c.image.is_empty() {
            let (repo, tag, digest) = split_image(&c.image);
            c.image_repository = repo;
            c.image_tag = tag;
            if c.image_digest.is_empty() {
                c.image_digest = digest;
            }
        }
        c
    }

    fn docker(&self, c: &mut Container) {
        let dir = self.root.join("var/lib/docker/containers").join(&c.id);
        if let Some(cfg) = read_json(&dir.join("config.v2.json")) {
            c.name = cfg["Name"].as_str().unwrap_or("").trim_start_matches('/').to_string();
            c.image = cfg["Config"]["Image"].as_str().unwrap_or("").to_string();
            c.image_id = cfg["Image"].as_str().unwrap_or("").to_string();
            c.start_ns = parse_time(cfg["State"]["StartedAt"].as_str().unwrap_or(""));
            if let Some(labels) = cfg["Config"]["Labels"].as_object() {
                k8s_from_labels(c, labels);
            }
        }
        if let Some(host) = read_json(&dir.join("hostconfig.json")) {
            c.privileged = host["Privileged"].as_bool().unwrap_or(false);
        }
    }

    fn oci_annotations(&self, c: &mut Container, dirs: &[&str]) {
        for dir in dirs {
            let base = self.root.join(dir).join(&c.id);
            let spec = read_json(&base.join("config.json"))
                .or_else(|| read_json(&base.join("userdata/config.json")));
            let Some(spec) = spec else { continue };
            if let Some(ann) = spec["annotations"].as_object() {
                let get = |k: &str| ann.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                c.image = first(&[
                    get("io.kubernetes.cri.image-name"),
                    get("io.kubernetes.cri-o.ImageName"),
                    get("org.opencontainers.image.ref.name"),
                ]);
                c.name = first(&[
                    get("io.kubernetes.cri.container-name"),
                    get("io.kubernetes.container.name"),
                    get("io.kubernetes.cri-o.ContainerName"),
                ]);
                c.k8s_namespace =
                    first(&[get("io.kubernetes.cri.sandbox-namespace"), get("io.kubernetes.pod.namespace")]);
                c.k8s_pod_name =
                    first(&[get("io.kubernetes.cri.sandbox-name"), get("io.kubernetes.pod.name")]);
                c.k8s_pod_uid = first(&[get("io.kubernetes.cri.sandbox-uid"), get("io.kubernetes.pod.uid")]);
                if let Some(labels) = ann
                    .get("io.kubernetes.cri-o.Labels")
                    .and_then(|v| v.as_str())
                    .and_then(|s| serde_json::from_str::<serde_json::Map<String, Json>>(s).ok())
                {
                    k8s_from_labels(c, &labels);
                }
            }
            // Privileged containers get every capability.
            if let Some(caps) = spec["process"]["capabilities"]["effective"].as_array() {
                c.privileged = caps.len() >= 38 && caps.iter().any(|v| v.as_str() == Some("CAP_SYS_ADMIN"));
            }
            return;
        }
    }
}

fn first(options: &[String]) -> String {
    options.iter().find(|s| !s.is_empty()).cloned().unwrap_or_default()
}

fn k8s_from_labels(c: &mut Container, labels: &serde_json::Map<String, Json>) {
    let get = |k: &str| labels.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    if c.k8s_namespace.is_empty() {
        c.k8s_namespace = get("io.kubernetes.pod.namespace");
    }
    if c.k8s_pod_name.is_empty() {
        c.k8s_pod_name = get("io.kubernetes.pod.name");
    }
    if c.k8s_pod_uid.is_empty() {
        c.k8s_pod_uid = get("io.kubernetes.pod.uid");
    }
    let mut out = BTreeMap::new();
    for (k, v) in labels {
        if let Some(v) = v.as_str()
            && !k.starts_with("io.kubernetes.")
            && !k.starts_with("annotation.")
        {
            out.insert(k.clone(), v.to_string());
        }
    }
    if !c.k8s_namespace.is_empty() {
        c.k8s_labels = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e1b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

    #[test]
    fn cgroup_paths() {
        let cases: &[(String, Option<(&str, &str)>)] = &[
            (format!("/system.slice/docker-{ID}.scope"), Some(("docker", ID))),
            (format!("/docker/{ID}"), Some(("docker", ID))),
            (
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-{ID}.scope"
                ),
                Some(("containerd", ID)),
            ),
            (format!("/kubepods/besteffort/pod0c6e/{ID}"), Some(("containerd", ID))),
            (format!("/kubepods.slice/crio-{ID}.scope"), Some(("cri-o", ID))),
            (format!("/machine.slice/libpod-{ID}.scope/container"), Some(("podman", ID))),
            (format!("/rampart-test/docker-{ID}"), Some(("docker", ID))),
            ("/user.slice/user-0.slice/session-1.scope".to_string(), None),
            ("/system.slice/sshd.service".to_string(), None),
            ("/".to_string(), None),
            ("/docker-short".to_string(), None),
        ];
        for (path, want) in cases {
            let got = from_cgroup(path);
            assert_eq!(got.as_ref().map(|(r, i)| (*r, i.as_str())), *want, "{path}");
        }
    }

    #[test]
    fn image_references() {
        let cases = [
            ("nginx:1.25", ("nginx", "1.25", "")),
            ("registry:5000/team/app", ("registry:5000/team/app", "", "")),
            ("docker.io/library/alpine:3.20@sha256:ab", ("docker.io/library/alpine", "3.20", "sha256:ab")),
        ];
        for (image, (repo, tag, digest)) in cases {
            assert_eq!(split_image(image), (repo.to_string(), tag.to_string(), digest.to_string()));
        }
    }

    #[test]
    fn docker_metadata_from_disk() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("var/lib/docker/containers").join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.v2.json"),
            r#"{"Name":"/web","Image":"sha256:abc","State":{"StartedAt":"2024-05-01T10:00:00Z"},
               "Config":{"Image":"nginx:1.25","Labels":{"io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.name":"web-1","app":"web"}}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("hostconfig.json"), r#"{"Privileged":true}"#).unwrap();
        let src = MetadataSource { root: root.path().to_path_buf() };
        let c = src.lookup("docker", ID, "/docker/x");
        assert_eq!(c.name, "web");
        assert_eq!(c.image_repository, "nginx");
        assert_eq!(c.image_tag, "1.25");
        assert_eq!(c.image_id, "sha256:abc");
        assert!(c.privileged);
        assert_eq!(c.k8s_namespace, "shop");
        assert_eq!(c.k8s_pod_name, "web-1");
        assert_eq!(c.k8s_labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(c.start_ns, 1_714_557_600_000_000_000);
    }

    #[test]
    fn cri_annotations_from_disk() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run/containerd/io.containerd.runtime.v2.task/k8s.io").join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"annotations":{"io.kubernetes.cri.image-name":"docker.io/library/redis:7",
                "io.kubernetes.cri.sandbox-namespace":"cache","io.kubernetes.cri.sandbox-name":"redis-0",
                "io.kubernetes.cri.container-name":"redis"}}"#,
        )
        .unwrap();
        let src = MetadataSource { root: root.path().to_path_buf() };
        let c = src.lookup("containerd", ID, "/kubepods/x");
        assert_eq!(c.image_repository, "docker.io/library/redis");
        assert_eq!(c.k8s_namespace, "cache");
        assert_eq!(c.k8s_pod_name, "redis-0");
        assert_eq!(c.name, "redis");
        assert!(!c.privileged);
        let missing = src.lookup("cri-o", ID, "/x");
        assert_eq!(missing.image, "");
    }
}
