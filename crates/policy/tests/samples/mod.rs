//! The Gatekeeper library's sample objects as admission requests, shared
//! by the tests and the review benchmark.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// The sample objects of the library (`example_*.yaml`), as admission
/// requests, each named `path/under/library.yaml#document`.
pub fn samples(lib: &Path, dir: &Path, out: &mut Vec<(String, Json)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            samples(lib, &p, out);
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("example_") || !name.ends_with(".yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let docs: Vec<Json> = serde_saphyr::from_multiple(&text).unwrap();
        let rel = p.strip_prefix(lib).unwrap_or(&p).display().to_string();
        for (i, doc) in docs.into_iter().filter(|d| !d.is_null()).enumerate() {
            let request = if doc["kind"] == "AdmissionReview" {
                doc["request"].clone()
            } else {
                let api = doc["apiVersion"].as_str().unwrap_or_default();
                let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
                serde_json::json!({
                    "uid": "bench", "operation": "CREATE",
                    "kind": {"group": group, "version": version, "kind": doc["kind"]},
                    "name": doc["metadata"]["name"], "namespace": doc["metadata"]["namespace"].as_str().unwrap_or("default"),
                    "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
                    "object": doc,
                })
            };
            out.push((format!("{rel}#{i}"), request));
        }
    }
}
