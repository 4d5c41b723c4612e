//! Shared fixtures for the end-to-end tests: the binary, a database built
//! once from `../shared/data`, project trees, and a loopback HTTP server.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn shared_data() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("osv").is_dir(),
        "the test data bundle is required at {} (../shared/data from the project root)",
        p.display()
    );
    p
}

/// A cache dir holding a database imported from all of `../shared/data`,
/// built once per test binary. It lives under the target directory, one per
/// test binary and rebuilt by each run, so runs do not pile up copies.
pub fn cache_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let binary = std::env::current_exe().unwrap();
        let name = binary.file_stem().unwrap();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-cache").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = shared_data();
        let out = rampart(&dir)
            .args(["db", "import"])
            .arg(data.join("osv"))
            .arg(data.join("distro"))
            .output()
            .unwrap();
        assert!(out.status.success(), "db import failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// The binary with a given cache dir, never touching the network, and no
/// config file or ignore file picked up from the caller's directory.
pub fn rampart(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.env("RAMPART_CACHE_DIR", cache).env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("RAMPART_") && k != "RAMPART_CACHE_DIR" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A scan command against the shared database, offline.
pub fn scan(sub: &str, cwd: &Path) -> Command {
    let mut cmd = rampart(cache_dir());
    cmd.current_dir(cwd).arg(sub).arg("--offline");
    cmd
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("terminated by a signal")
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", stdout(out), stderr(out)))
}

/// Writes `files` (path, content) under a new temp dir.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

pub const CARGO_LOCK_VULNERABLE: &str = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["smallvec"]

[[package]]
name = "smallvec"
version = "0.6.9"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "c4488ae950c49d403731982257768f48fada354a5203fe81f9bb6f43ca9002be"
"#;

pub const REQUIREMENTS_VULNERABLE: &str = "# app deps\nPyYAML==5.1.2\nrequests>=2.0\n";

pub const GO_MOD_VULNERABLE: &str = "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.6\n";

/// Serves files from `root` over HTTP/1.1 on 127.0.0.1 until the process
/// exits; answers 404 for anything missing. Returns the base URL.
pub fn serve_dir(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/").replace("%20", " ");
            let file = root.join(path.trim_start_matches('/'));
            let response = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}")
}

/// Zips every `*.json` file of `src` into `dest` (an OSV `all.zip` export).
pub fn zip_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let status = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile, pathlib\n\
             with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:\n\
             \tfor p in sorted(pathlib.Path(sys.argv[1]).glob('*.json')):\n\
             \t\tz.write(p, p.name)\n",
        )
        .arg(src)
        .arg(dest)
        .status()
        .unwrap();
    assert!(status.success(), "building {} failed", dest.display());
}

/// Extracts `member` from the app image's layer `index` (0-based) into `root`.
pub fn extract_from_app_layer(root: &Path, index: usize, member: &str) {
    let oci = shared_data().join("images/app/oci");
    let json = |rel: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(oci.join(rel)).unwrap()).unwrap()
    };
    let blob =
        |d: &serde_json::Value| format!("blobs/sha256/{}", d.as_str().unwrap().trim_start_matches("sha256:"));
    let manifest = json(&blob(&json("index.json")["manifests"][0]["digest"]));
    let layer = oci.join(blob(&manifest["layers"][index]["digest"]));
    let status =
        Command::new("tar").arg("-xzf").arg(&layer).arg("-C").arg(root).arg(member).status().unwrap();
    assert!(status.success(), "no {member} in {}", layer.display());
}

/// `PkgName\tGO-id` of each finding of a `gobinary` result, sorted.
pub fn go_findings(result: &serde_json::Value) -> Vec<String> {
    let mut found: Vec<String> = result["Vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let ids =
                std::iter::once(&v["VulnerabilityID"]).chain(v["VendorIDs"].as_array().into_iter().flatten());
            let go = ids.filter_map(|i| i.as_str()).find(|i| i.starts_with("GO-")).expect("a Go vulndb id");
            format!("{}\t{go}", v["PkgName"].as_str().unwrap())
        })
        .collect();
    found.sort();
    found
}

/// The ground truth for the app image's Go binary in the same form, the
/// toolchain's module (`go`) named `stdlib` as scanners report it.
pub fn expected_go_findings() -> Vec<String> {
    let text =
        std::fs::read_to_string(shared_data().join("images/ground-truth/app.fixture-app.go-advisories.tsv"))
            .unwrap();
    let mut expected: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{}\t{}", if f[0] == "go" || f[0] == "stdlib" { "stdlib" } else { f[0] }, f[2])
        })
        .collect();
    expected.sort();
    expected
}

/// Writes to `dest` a real ELF executable (gcc, padded past the smallest
/// size worth reading as a program) carrying `list`, zlib-compressed by
/// Python, in a `.dep-v0` section added by objcopy: what `cargo auditable`
/// embeds.
pub fn auditable_binary(list: &str, dest: &Path) {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("main.c");
    std::fs::write(&src, "static const char pad[96 * 1024] = {1};\nint main(void) { return pad[0] - 1; }\n")
        .unwrap();
    let plain = work.path().join("plain");
    assert!(Command::new("gcc").arg("-o").arg(&plain).arg(&src).status().expect("gcc").success());
    let section = work.path().join("dep-v0.z");
    let status = Command::new("python3")
        .args(["-c", "import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(sys.argv[2].encode()))"])
        .arg(&section)
        .arg(list)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let status = Command::new("objcopy")
        .arg(format!("--add-section=.dep-v0={}", section.display()))
        .args(["--set-section-flags", ".dep-v0=noload,readonly"])
        .arg(&plain)
        .arg(dest)
        .status()
        .expect("objcopy (binutils)");
    assert!(status.success());
}
