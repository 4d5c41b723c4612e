//! The scanner on the shared data bundle: the fake credential fixtures and
//! the app image, whose only secrets are the planted AWS key pair.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rampart_secret::Scanner;

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        dir.is_dir(),
        "../shared/data is required: the test-data bundle must sit beside the project root (looked in {})",
        dir.display()
    );
    dir
}

fn secrets_fixtures() -> PathBuf {
    data_dir().join("lockfiles/extractor/filesystem/secrets")
}

fn found(scanner: &Scanner, path: &str, content: &[u8]) -> Vec<(String, u32)> {
    scanner.scan(path, content).into_iter().map(|f| (f.rule_id, f.start_line)).collect()
}

fn pairs(expected: &[(&str, u32)]) -> Vec<(String, u32)> {
    expected.iter().map(|(id, line)| (id.to_string(), *line)).collect()
}

#[test]
fn the_aws_credentials_fixture() {
    let path = secrets_fixtures().join("awsaccesskey/testdata/aws_credentials");
    let content = std::fs::read(&path).unwrap();
    let scanner = Scanner::new().unwrap();
    assert_eq!(
        found(&scanner, ".aws/credentials", &content),
        pairs(&[("aws-access-key-id", 2), ("aws-secret-access-key", 3)])
    );
}

#[test]
fn pgpass_fixtures_as_a_pgpass_file() {
    let scanner = Scanner::new().unwrap();
    let valid = std::fs::read(secrets_fixtures().join("pgpass/testdata/valid")).unwrap();
    let lines: Vec<u32> = scanner.scan("home/pg/.pgpass", &valid).iter().map(|f| f.start_line).collect();
    // Every entry line; comments are skipped.
    assert_eq!(lines, [1, 2, 3, 5, 6, 8, 10]);
    // The `invalid` fixture: a lone `*` is no password and a non-numeric port
    // is no entry, but a fifth field with extra colons is still a password.
    let invalid = std::fs::read(secrets_fixtures().join("pgpass/testdata/invalid")).unwrap();
    assert_eq!(
        found(&scanner, "home/pg/.pgpass", &invalid),
        pairs(&[("pgpass-password", 8), ("pgpass-password", 10)])
    );
    // Elsewhere the same lines are not read as a .pgpass.
    assert!(scanner.scan("awsaccesskey/testdata/random_content", &valid).is_empty());
}

/// Every fixture file under `secrets/`, with the exact findings expected.
#[test]
fn the_whole_secrets_fixture_tree() {
    let root = secrets_fixtures();
    let scanner = Scanner::new().unwrap();
    let mut results: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            let hits = found(&scanner, &rel, &std::fs::read(&path).unwrap());
            if !hits.is_empty() {
                results.insert(rel, hits);
            }
        }
    }
    let expected: BTreeMap<String, Vec<(String, u32)>> = [
        (
            "awsaccesskey/testdata/aws_credentials",
            pairs(&[("aws-access-key-id", 2), ("aws-secret-access-key", 3)]),
        ),
        ("onepasswordconnecttoken/testdata/valid", pairs(&[("onepassword-connect-credentials", 1)])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(results, expected);
}

/// Regular files of a tar archive: (path, contents). Just enough of ustar
/// for these images; long-name and pax records are passed over.
fn tar_files(archive: &[u8]) -> Vec<(String, &[u8])> {
    let mut files = Vec::new();
    let mut at = 0;
    while at + 512 <= archive.len() {
        let header = &archive[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let field = |range: std::ops::Range<usize>| {
            let raw = &header[range];
            String::from_utf8_lossy(&raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())])
                .into_owned()
        };
        let size = usize::from_str_radix(field(124..136).trim(), 8).unwrap();
        let (prefix, name) = (field(345..500), field(0..100));
        let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let body = at + 512;
        if matches!(header[156], b'0' | 0) {
            files.push((path.trim_start_matches("./").to_string(), &archive[body..body + size]));
        }
        at = body + size.div_ceil(512) * 512;
    }
    files
}

fn app_image_layers() -> Vec<Vec<u8>> {
    let archive = std::fs::read(data_dir().join("images/app/app.docker.tar")).unwrap();
    let outer = tar_files(&archive);
    let manifest = outer.iter().find(|(p, _)| p == "manifest.json").expect("docker-archive manifest");
    let manifest: serde_json::Value = serde_json::from_slice(manifest.1).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    layers
        .iter()
        .map(|name| {
            let name = name.as_str().unwrap();
            outer.iter().find(|(p, _)| p == name).expect("layer listed in the manifest").1.to_vec()
        })
        .collect()
}

#[test]
fn the_app_images_env_file() {
    let layers = app_image_layers();
    let env = layers
        .iter()
        .flat_map(|layer| tar_files(layer).into_iter().map(|(p, c)| (p, c.to_vec())))
        .find(|(p, _)| p == "app/config/.env")
        .expect("/app/config/.env in a layer");
    let scanner = Scanner::new().unwrap();
    let findings = scanner.scan("app/config/.env", &env.1);
    assert_eq!(
        findings.iter().map(|f| (f.rule_id.clone(), f.start_line)).collect::<Vec<_>>(),
        pairs(&[("aws-access-key-id", 4), ("aws-secret-access-key", 5)])
    );
    assert_eq!(findings[0].matched, format!("AWS_ACCESS_KEY_ID={}", "*".repeat(20)));
    assert_eq!(findings[1].matched, format!("AWS_SECRET_ACCESS_KEY={}", "*".repeat(40)));
    let text = String::from_utf8(env.1).unwrap();
    let planted: Vec<&str> =
        text.lines().skip(3).take(2).filter_map(|l| l.split_once('=')).map(|(_, v)| v).collect();
    for f in &findings {
        assert!(planted.iter().all(|secret| !f.matched.contains(secret) && !f.title.contains(secret)));
    }
}

/// Every file of every layer (the Alpine base included): the planted pair
/// is all there is.
#[test]
fn the_whole_app_image_has_only_the_planted_pair() {
    let scanner = Scanner::new().unwrap();
    let mut hits = Vec::new();
    let mut scanned = 0;
    for layer in app_image_layers() {
        for (path, content) in tar_files(&layer) {
            if scanner.skips_path(&path) {
                continue;
            }
            scanned += 1;
            for f in scanner.scan(&path, content) {
                hits.push((path.clone(), f.rule_id, f.start_line));
            }
        }
    }
    assert!(scanned > 80, "only {scanned} files read");
    assert_eq!(
        hits,
        [
            ("app/config/.env".to_string(), "aws-access-key-id".to_string(), 4),
            ("app/config/.env".to_string(), "aws-secret-access-key".to_string(), 5),
        ]
    );
}
