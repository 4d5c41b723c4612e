//! `rampart image` end to end on the images of `../shared/data/images`, in
//! every archive form, against the ground-truth package lists.

mod common;

use common::*;
use serde_json::Value;

fn image(input: &str, extra: &[&str]) -> Value {
    let path = shared_data().join("images").join(input);
    let out = scan("image", std::env::temp_dir().as_path())
        .args(["-f", "json", "--list-all-pkgs"])
        .args(extra)
        .arg("--input")
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{input}: {}", stderr(&out));
    json(&out)
}

fn os_packages(report: &Value) -> Vec<(String, String)> {
    let os =
        report["Results"].as_array().unwrap().iter().find(|r| r["Class"] == "os-pkgs").expect("an OS result");
    let mut pkgs: Vec<(String, String)> = os["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["Name"].as_str().unwrap().to_string(), p["Version"].as_str().unwrap().to_string()))
        .collect();
    pkgs.sort();
    pkgs
}

fn ground_truth(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(shared_data().join("images/ground-truth").join(name)).unwrap();
    let mut rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn every_archive_form_yields_the_os_packages() {
    let alpine = ground_truth("alpine-minirootfs-3.20.3.apk-packages.tsv");
    for input in ["alpine-3.20/oci", "alpine-3.20/alpine-3.20.docker.tar", "alpine-3.20/alpine-3.20.oci.tar"]
    {
        let report = image(input, &[]);
        assert_eq!(report["ArtifactType"], "container_image");
        assert_eq!(report["Metadata"]["OS"]["Family"], "alpine", "{input}");
        assert_eq!(report["Metadata"]["OS"]["Name"], "3.20.3", "{input}");
        assert_eq!(os_packages(&report), alpine, "{input}");
    }
    let debian = image("debian-bookworm/debian-bookworm.oci.tar", &[]);
    assert_eq!(debian["Metadata"]["OS"]["Family"], "debian");
    assert_eq!(os_packages(&debian), ground_truth("debian-bookworm.dpkg-packages.tsv"));
}

#[test]
fn app_image_layers_whiteouts_and_secrets() {
    for input in ["app/app.docker.tar", "app/oci:1.0"] {
        let report = image(input, &[]);
        assert_eq!(report["Metadata"]["DiffIDs"].as_array().unwrap().len(), 3, "{input}");
        let results = report["Results"].as_array().unwrap();
        let targets: Vec<&str> = results.iter().map(|r| r["Target"].as_str().unwrap()).collect();
        assert!(targets.contains(&"app/rust/Cargo.lock"), "{targets:?}");
        assert!(
            !targets.iter().any(|t| t.contains("requirements.txt")),
            "whited out in layer 3: {targets:?}"
        );
        let secret = results.iter().find(|r| r["Class"] == "secret").expect("the planted AWS key");
        assert_eq!(secret["Target"], "/app/config/.env");
        let found: Vec<(&str, u64)> = secret["Secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["RuleID"].as_str().unwrap(), s["StartLine"].as_u64().unwrap()))
            .collect();
        assert_eq!(found, [("aws-access-key-id", 4), ("aws-secret-access-key", 5)], "{input}");
        let layer2 = report["Metadata"]["DiffIDs"][1].as_str().unwrap();
        for s in secret["Secrets"].as_array().unwrap() {
            assert_eq!(s["Layer"]["DiffID"], layer2, "added by the second layer");
        }
        let os = results.iter().find(|r| r["Class"] == "os-pkgs").unwrap();
        assert_eq!(
            os["Packages"][0]["Layer"]["DiffID"], report["Metadata"]["DiffIDs"][0],
            "apk DB from the base layer"
        );
    }
}

#[test]
fn image_sboms_validate_in_shape() {
    let path = shared_data().join("images/alpine-3.20/alpine-3.20.docker.tar");
    let dir = tempfile::tempdir().unwrap();
    let out = scan("image", dir.path())
        .args(["-f", "cyclonedx", "-o", "sbom.cdx.json", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bom: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["metadata"]["component"]["type"], "container");
    let purls: Vec<&str> =
        bom["components"].as_array().unwrap().iter().filter_map(|c| c["purl"].as_str()).collect();
    assert!(purls.iter().any(|p| p.starts_with("pkg:apk/alpine/musl@")), "{purls:?}");

    let out =
        scan("sbom", dir.path()).args(["-f", "json", "--list-all-pkgs", "sbom.cdx.json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(os_packages(&json(&out)), ground_truth("alpine-minirootfs-3.20.3.apk-packages.tsv"));
}

#[test]
fn missing_inputs_and_offline_registries_are_errors() {
    let out = scan("image", std::env::temp_dir().as_path())
        .args(["--input", "/nonexistent/app.tar"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "rampart: error: --input /nonexistent/app.tar: no such file or directory"
    );
    // A directory that is no image: one message, naming it once.
    let dir = tempfile::tempdir().unwrap();
    let out = scan("image", std::env::temp_dir().as_path()).arg("--input").arg(dir.path()).output().unwrap();
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    let text = stderr(&out);
    assert_eq!(text.matches(dir.path().to_str().unwrap()).count(), 1, "{text}");
    assert!(text.contains("not a container image: it has neither manifest.json"), "{text}");
    let out = scan("image", std::env::temp_dir().as_path())
        .args(["--image-src", "remote", "registry.example.com/app:1.0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(stderr(&out).to_lowercase().contains("offline"), "{}", stderr(&out));
}

/// Writes a copy of the Alpine docker-archive changed by `spec`:
/// `{"env": ["K=V", …], "layers": [{"files": [[path, content], …], "created_by": "…"}, …]}`
/// adds config env entries and layers on top (a `.wh.` name deletes); a
/// content `{"path": file, "mode": 493}` copies a file from disk with that mode.
fn derived_archive(dir: &std::path::Path, spec: Value) -> std::path::PathBuf {
    let src = shared_data().join("images/alpine-3.20/alpine-3.20.docker.tar");
    let dest = dir.join("derived.tar");
    let script = r#"
import hashlib, io, json, sys, tarfile
src, dest, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if isinstance(content, dict):
                data = open(content["path"], "rb").read()
                info.mode = content.get("mode", 0o644)
            else:
                data = content.encode()
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
with tarfile.open(src) as t:
    members = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
manifest = json.loads(members["manifest.json"])
config = json.loads(members.pop(manifest[0]["Config"]))
config["config"].setdefault("Env", []).extend(spec.get("env", []))
for layer in spec.get("layers", []):
    data = tar(layer["files"])
    digest = hashlib.sha256(data).hexdigest()
    members[digest + "/layer.tar"] = data
    manifest[0]["Layers"].append(digest + "/layer.tar")
    config["rootfs"]["diff_ids"].append("sha256:" + digest)
    config.setdefault("history", []).append({"created_by": layer["created_by"]})
raw = json.dumps(config).encode()
name = hashlib.sha256(raw).hexdigest() + ".json"
members[name] = raw
manifest[0]["Config"] = name
members["manifest.json"] = json.dumps(manifest).encode()
with tarfile.open(dest, "w") as out:
    for n, data in members.items():
        info = tarfile.TarInfo(n)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
"#;
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&src)
        .arg(&dest)
        .arg(spec.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "building the test archive");
    dest
}

#[test]
fn secrets_in_the_image_config_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let archive =
        derived_archive(dir.path(), serde_json::json!({"env": ["AWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7"]}));
    let out = scan("image", dir.path())
        .args(["-f", "json", "--exit-code", "6", "--input"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&out), 6, "{}", stderr(&out));
    let report = json(&out);
    let config = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Target"] == "image config")
        .expect("config secrets");
    assert_eq!(config["Secrets"][0]["RuleID"], "aws-access-key-id");
    assert!(!stdout(&out).contains("RAMPART2FIXTURE7"));
}

#[test]
fn go_binaries_in_images_match_the_ground_truth_advisories() {
    let report = image("app/oci:1.0", &[]);
    let binary = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Type"] == "gobinary")
        .expect("the Go binary in layer 2");
    assert_eq!(binary["Target"], "/app/bin/fixture-app");
    assert_eq!(go_findings(binary), expected_go_findings());
}

#[test]
fn a_secret_deleted_by_a_later_layer_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let archive = derived_archive(
        dir.path(),
        serde_json::json!({"layers": [
            {"files": [["app/.env", "AWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7\n"]], "created_by": "COPY .env /app/"},
            {"files": [["app/.wh..env", ""]], "created_by": "RUN rm /app/.env"},
        ]}),
    );
    let out = scan("image", dir.path()).args(["-f", "json", "--input"]).arg(&archive).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let secret = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Class"] == "secret")
        .expect("the deleted key");
    assert_eq!(secret["Target"], "/app/.env");
    let found = &secret["Secrets"][0];
    assert_eq!(found["RuleID"], "aws-access-key-id");
    assert_eq!(found["Layer"]["CreatedBy"], "COPY .env /app/", "the layer that added it");
    assert_eq!(found["Layer"]["DiffID"], report["Metadata"]["DiffIDs"][1]);
}

#[test]
fn installed_packages_and_binaries_in_image_layers() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path();
    extract_from_app_layer(files, 1, "app/bin/fixture-app");
    let list = r#"{"packages":[{"name":"tool","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"smallvec","version":"0.6.9","source":"crates.io"}]}"#;
    auditable_binary(list, &files.join("tool"));
    let war = files.join("shop.war");
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    \
                  z.writestr('META-INF/maven/com.example/shop/pom.properties', \
                  'groupId=com.example\\nartifactId=shop\\nversion=1.4.0\\n')\n";
    assert!(std::process::Command::new("python3").args(["-c", script]).arg(&war).status().unwrap().success());
    let path = |p: &std::path::Path| p.display().to_string();
    let gemspec = "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.3\"\nend\n";
    let archive = derived_archive(
        files,
        serde_json::json!({"layers": [
            {"files": [
                ["usr/local/bin/tool", {"path": path(&files.join("tool")), "mode": 0o755}],
                ["usr/local/bin/gone", {"path": path(&files.join("app/bin/fixture-app")), "mode": 0o755}],
                ["usr/local/bin/replaced", {"path": path(&files.join("app/bin/fixture-app")), "mode": 0o755}],
                ["opt/shop.war", {"path": path(&war)}],
                ["usr/local/bundle/specifications/rack-2.2.3.gemspec", gemspec],
            ], "created_by": "COPY . /"},
            {"files": [
                ["usr/local/bin/.wh.gone", ""],
                ["usr/local/bin/replaced", {"path": path(&files.join("tool")), "mode": 0o755}],
            ], "created_by": "RUN rm gone && cp tool replaced"},
        ]}),
    );
    let report = image(archive.to_str().unwrap(), &[]);
    let results = report["Results"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = results
        .iter()
        .filter(|r| r["Class"] == "lang-pkgs")
        .map(|r| (r["Target"].as_str().unwrap(), r["Type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("/usr/local/bin/replaced", "rustbinary"),
            ("/usr/local/bin/tool", "rustbinary"),
            ("Java", "jar"),
            ("Ruby", "gemspec"),
        ],
        "the deleted Go binary is gone, the replaced one is what the last layer wrote"
    );
    let layer2 = &report["Metadata"]["DiffIDs"][1];
    let layer3 = &report["Metadata"]["DiffIDs"][2];
    let tool = results.iter().find(|r| r["Target"] == "/usr/local/bin/tool").unwrap();
    assert_eq!(tool["Packages"][0]["Identifier"]["PURL"], "pkg:cargo/smallvec@0.6.9");
    assert_eq!(&tool["Packages"][0]["Layer"]["DiffID"], layer2);
    let replaced = results.iter().find(|r| r["Target"] == "/usr/local/bin/replaced").unwrap();
    assert_eq!(&replaced["Packages"][0]["Layer"]["DiffID"], layer3);
    let java = results.iter().find(|r| r["Type"] == "jar").unwrap();
    assert_eq!(java["Packages"][0]["FilePath"], "opt/shop.war");
    assert_eq!(java["Packages"][0]["Identifier"]["PURL"], "pkg:maven/com.example/shop@1.4.0");
}
