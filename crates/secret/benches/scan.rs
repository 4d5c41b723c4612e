//! Single-thread throughput: `cargo bench -p rampart-secret --bench scan`.
//!
//! 1. A generated corpus of about 50 MB of source-like text in 64 KiB files,
//!    dense with the keywords generic rules wake up on (`password`, `token`,
//!    `key`, URLs) and with a real-format secret every few hundred lines.
//! 2. The Debian bookworm image of the data bundle, unpacked with `tar`,
//!    when `../shared/data` is present.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rampart_secret::Scanner;

const CORPUS_BYTES: usize = 50 * 1024 * 1024;
const FILE_BYTES: usize = 64 * 1024;

fn main() {
    let started = Instant::now();
    let scanner = Scanner::new().expect("built-in rules compile");
    println!("scanner build: {:.1} ms ({} rules)", ms(started.elapsed()), scanner.rules().count());

    let corpus = generated_corpus();
    report("generated corpus", &scanner, &corpus);

    let image = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/images/debian-bookworm/debian-bookworm.oci.tar");
    if image.is_file() {
        match unpack_oci(&image) {
            Ok((_tmp, rootfs)) => {
                let files = read_tree(&rootfs, &scanner);
                report("debian-bookworm rootfs", &scanner, &files);
            }
            Err(e) => println!("debian-bookworm rootfs: skipped ({e})"),
        }
    } else {
        println!("debian-bookworm rootfs: skipped ({} not found)", image.display());
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Scans every file three times and reports the best pass.
fn report(name: &str, scanner: &Scanner, files: &[(String, Vec<u8>)]) {
    let bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    // Binary files cost only the NUL check on their first 8 KiB.
    let text: usize =
        files.iter().filter(|(_, c)| !c[..c.len().min(8192)].contains(&0)).map(|(_, c)| c.len()).sum();
    let mut best = Duration::MAX;
    let mut findings = 0;
    for _ in 0..3 {
        let started = Instant::now();
        findings = 0;
        for (path, content) in files {
            findings += black_box(scanner.scan(path, content)).len();
        }
        best = best.min(started.elapsed());
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "{name}: {} files, {mb:.1} MB ({:.1} MB text), {findings} findings, best of 3: {:.0} ms = {:.0} MB/s \
         ({:.0} MB/s of text), single thread",
        files.len(),
        text as f64 / 1e6,
        ms(best),
        mb / best.as_secs_f64(),
        text as f64 / 1e6 / best.as_secs_f64()
    );
}

/// A small deterministic generator, so every run scans the same bytes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }

    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| ALPHABET[self.next() as usize % ALPHABET.len()] as char).collect()
    }
}

fn generated_corpus() -> Vec<(String, Vec<u8>)> {
    const LINES: &[&str] = &[
        "    let config = Config::from_env().context(\"reading the environment\")?;",
        "def handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps(event)}",
        "  password: ${DB_PASSWORD}",
        "const token = await getToken(request.headers.authorization);",
        "    api_key = os.environ[\"API_KEY\"]",
        "// See https://docs.internal.corp/guide#section for the key rotation policy.",
        "      - name: secret-volume\n        mountPath: /etc/secret",
        "func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {",
        "SELECT id, name, created_at FROM users WHERE id = $1 AND deleted_at IS NULL;",
        "    if (!session || !session.user) { return res.status(401).end(); }",
        "        self.cache = LRUCache(maxsize=1024)  # keyed by request path",
        "image: registry.internal.corp/team/service:1.4.2",
        "import { useState, useEffect } from 'react';",
        "\tfor i := range items {\n\t\ttotal += items[i].Price * items[i].Quantity\n\t}",
    ];
    let mut rng = Lcg(42);
    let mut files = Vec::new();
    let mut total = 0;
    while total < CORPUS_BYTES {
        let mut text = String::with_capacity(FILE_BYTES + 256);
        let mut line = 0usize;
        while text.len() < FILE_BYTES {
            line += 1;
            if line.is_multiple_of(400) {
                let secret = match rng.next() % 4 {
                    0 => format!("GITHUB_TOKEN=ghp_{}", rng.token(36)),
                    1 => format!("aws_access_key_id = AKIA{}", rng.token(16).to_uppercase()),
                    2 => format!("DATABASE_URL=postgres://app:{}@db:5432/app", rng.token(18)),
                    _ => format!("  \"client_secret\": \"{}\",", rng.token(40)),
                };
                text.push_str(&secret);
            } else {
                text.push_str(rng.pick(LINES));
            }
            text.push('\n');
        }
        total += text.len();
        files.push((format!("src/gen/file{}.txt", files.len()), text.into_bytes()));
    }
    files
}

/// Extracts the OCI archive and applies its layers in order (whiteouts
/// are irrelevant to a throughput figure).
fn unpack_oci(archive: &Path) -> Result<(tempfile::TempDir, PathBuf), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let layout = tmp.path().join("layout");
    let rootfs = tmp.path().join("rootfs");
    for dir in [&layout, &rootfs] {
        std::fs::create_dir(dir).map_err(|e| e.to_string())?;
    }
    untar(archive, &layout)?;
    let json = |path: PathBuf| -> Result<serde_json::Value, String> {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    let blob = |digest: &serde_json::Value| {
        let digest = digest.as_str().unwrap_or_default();
        layout.join("blobs").join(digest.replacen(':', "/", 1))
    };
    let index = json(layout.join("index.json"))?;
    let manifest = json(blob(&index["manifests"][0]["digest"]))?;
    for layer in manifest["layers"].as_array().ok_or("manifest without layers")? {
        untar(&blob(&layer["digest"]), &rootfs)?;
    }
    Ok((tmp, rootfs))
}

fn untar(archive: &Path, into: &Path) -> Result<(), String> {
    let status = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .arg("--no-same-owner")
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("tar failed on {}", archive.display())) }
}

/// Regular files the scanner would read, as a walk would hand them over.
fn read_tree(root: &Path, scanner: &Scanner) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file()
                && meta.len() <= scanner.max_file_size()
                && !scanner.skips_path(&rel)
                && let Ok(content) = std::fs::read(&path)
            {
                files.push((rel, content));
            }
        }
    }
    files
}
