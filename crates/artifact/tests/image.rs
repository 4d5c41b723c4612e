//! Images from the data bundle in every local form, the Docker Engine socket
//! (a fake engine serving a docker-archive), and crafted layers: whiteouts,
//! zstd, decompression bombs, path traversal and symlink escapes.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use flate2::Compression;
use flate2::write::GzEncoder;
use rampart_artifact::image::{
    Candidate, Claim, ImageError, ImageFile, ImageSource, Limits, Link, OpenOptions, Platform, Squashed, open,
};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

fn data() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/images"));
    assert!(
        dir.join("README.md").is_file(),
        "the image tests need the data bundle at ../shared/data beside the project root ({} is missing)",
        dir.display()
    );
    dir
}

fn path_source(path: &Path, tag: Option<&str>) -> ImageSource {
    ImageSource::Path { path: path.to_path_buf(), tag: tag.map(str::to_string) }
}

fn open_path(path: &Path, tag: Option<&str>) -> rampart_artifact::image::Image {
    open(&path_source(path, tag), &OpenOptions::default())
        .unwrap_or_else(|e| panic!("{} should open: {e}", path.display()))
}

/// The error of a scan that must fail (a `Squashed` is too big to print).
fn scan_error(result: Result<Squashed, ImageError>) -> ImageError {
    match result {
        Ok(s) => panic!("the scan must fail; it kept {} files", s.files.len()),
        Err(e) => e,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn text(f: &ImageFile) -> String {
    String::from_utf8_lossy(&f.content).into_owned()
}

fn os_release_version(s: &Squashed) -> String {
    let f = s.resolve("etc/os-release").expect("etc/os-release resolves");
    text(f).lines().find_map(|l| l.strip_prefix("VERSION_ID=")).unwrap_or("").trim_matches('"').to_string()
}

/// A claim that keeps the files whose path matches and reads no other.
fn keep_paths(matches: impl Fn(&str) -> bool) -> impl Fn(&Candidate<'_>) -> Claim {
    move |file| if matches(file.path) { Claim::Keep } else { Claim::No }
}

fn claim_os(file: &Candidate<'_>) -> Claim {
    keep_paths(|p| {
        matches!(p, "etc/os-release" | "usr/lib/os-release" | "lib/apk/db/installed" | "var/lib/dpkg/status")
    })(file)
}

/// Scanners run images on worker threads.
fn shared_across_threads<T: Send + Sync>(_: &T) {}

const ALPINE_320_CONFIG: &str = "sha256:3254c35bae04df93c71868dcd14ee91a3b64aa58d1a55bf7b4b5d662f51d4381";
const ALPINE_320_DIFF_ID: &str = "sha256:a06bf1995ebbced80f289012aa75a085ad073f08883658344ea96ca56a7b2e99";
const APP_MANIFEST: &str = "sha256:873146515b821d4fa43c7e6772ae32fbc08d5cb2a462003eed74375ec4d404f5";

#[test]
fn every_local_form_of_alpine_320_is_the_same_image() {
    let d = data();
    for (path, kind) in [
        (d.join("alpine-3.20/oci"), "layout"),
        (d.join("alpine-3.20/alpine-3.20.oci.tar"), "oci-archive"),
        (d.join("alpine-3.20/alpine-3.20.docker.tar"), "docker-archive"),
    ] {
        let image = open_path(&path, None);
        shared_across_threads(&image);
        let meta = image.metadata();
        assert_eq!(meta.image_id, ALPINE_320_CONFIG, "{kind}");
        let report = meta.report_metadata();
        assert_eq!(
            (report.image_id.as_deref(), report.diff_ids.as_slice()),
            (Some(ALPINE_320_CONFIG), &[ALPINE_320_DIFF_ID.to_string()][..])
        );
        assert_eq!(meta.config.diff_ids, [ALPINE_320_DIFF_ID], "{kind}");
        assert_eq!((meta.config.os.as_str(), meta.config.architecture.as_str()), ("linux", "amd64"));
        assert_eq!(meta.layers.len(), 1);
        let squashed = image.squashed(&claim_os).unwrap();
        let installed = &squashed.files["lib/apk/db/installed"];
        assert_eq!(installed.layer, 0, "{kind}");
        assert_eq!(text(installed).lines().filter(|l| l.starts_with("P:")).count(), 14, "{kind}");
        assert_eq!(os_release_version(&squashed), "3.20.3", "{kind}");
        assert!(squashed.warnings.is_empty(), "{kind}: {:?}", squashed.warnings);
        match kind {
            "docker-archive" => {
                assert_eq!(meta.repo_tags, ["docker.io/library/alpine:3.20"]);
                assert_eq!(meta.layers[0].digest, None);
                assert_eq!(image.manifest(), None);
            }
            _ => {
                let digest = "sha256:f0784c2f9fe1daa45bf32e1d6f255626cbb2885db74b155a9c55c98dc1c59d5b";
                assert_eq!(meta.layers[0].digest.as_deref(), Some(digest), "{kind}");
                assert_eq!(
                    meta.manifest_digest.as_deref(),
                    Some("sha256:a36becaac5d4d1ec1ab25f8fea17a619084c48466dcabb9aa896ae43c2a26c43")
                );
            }
        }
    }
}

#[test]
fn alpine_310_layout_and_debian_archive_yield_their_package_databases() {
    let d = data();
    let alpine = open_path(&d.join("alpine-3.10/oci"), None).squashed(&claim_os).unwrap();
    assert_eq!(os_release_version(&alpine), "3.10.9");
    assert_eq!(alpine.files["lib/apk/db/installed"].layer, 0);

    let debian = open_path(&d.join("debian-bookworm/debian-bookworm.oci.tar"), Some("bookworm"));
    let meta = debian.metadata();
    assert_eq!(
        meta.config.diff_ids,
        ["sha256:5d5dd243cf23c81820e9f846fdd2fa49c026afb59d5b156b762958d401908138"]
    );
    assert_eq!(meta.layers[0].created_by, "umoci insert");
    let squashed = debian.squashed(&claim_os).unwrap();
    let status = text(&squashed.files["var/lib/dpkg/status"]);
    assert_eq!(status.lines().filter(|l| l.starts_with("Package: ")).count(), 88);
    let expected = fs::read_to_string(d.join("ground-truth/debian-bookworm.dpkg-packages.tsv")).unwrap();
    for row in expected.lines().skip(1) {
        let pkg = row.split('\t').next().unwrap();
        assert!(status.contains(&format!("Package: {pkg}\n")), "{pkg} missing from dpkg status");
    }
    // The Debian layer has absolute member names, ends without end-of-archive
    // blocks, and /etc/os-release is a symlink into /usr/lib.
    assert_eq!(squashed.links["etc/os-release"].target, "../usr/lib/os-release");
    assert_eq!(os_release_version(&squashed), "12");
    assert_eq!(squashed.links["bin"].target, "usr/bin");
}

#[test]
fn busybox_layout_with_symlinked_blobs() {
    let d = data().join("busybox-musl/oci");
    // Upstream the blobs are symlinks; a checkout without symlink support
    // (as in the bundle) has small files holding the link target instead.
    let layer = d.join("blobs/sha256/5c3b447848a98e48dce106cb3e6acbd4fb6f9b26ee778798137349ce01f4d3c1");
    let is_link = fs::symlink_metadata(&layer).unwrap().file_type().is_symlink();
    assert!(is_link || fs::read_to_string(&layer).unwrap().trim() == "../../rootfs.tar.gz");
    for tag in [None, Some("1.38.0-musl"), Some("busybox:1.38.0-musl")] {
        let image = open_path(&d, tag);
        assert_eq!(image.metadata().layers[0].created_by, "BusyBox 1.38.0 (musl), Alpine 3.23.5");
        // bin/busybox is a hard link to the unclaimed bin/[: read in a second pass.
        let mut seen = Vec::new();
        let squashed =
            image.scan(&keep_paths(|p| p == "bin/busybox"), &mut |f| seen.push(f.path.clone())).unwrap();
        assert_eq!(seen, ["bin/busybox"]);
        let busybox = &squashed.files["bin/busybox"];
        assert!(busybox.content.windows(15).any(|w| w == b"BusyBox v1.38.0"), "no version string");
        assert_eq!((busybox.layer, busybox.mode & 0o111), (0, 0o111));
        assert!(!squashed.links.contains_key("bin/busybox"));
        assert_eq!(squashed.links["bin/ls"], Link { target: "bin/[".into(), hard: true, layer: 0 });
        assert!(squashed.resolve("etc/os-release").is_none());
    }
}

#[test]
fn layout_blob_symlinks_are_followed_only_inside_the_layout() {
    let src = data().join("busybox-musl/oci");
    let tmp = TempDir::new().unwrap();
    let dst = tmp.path().join("oci");
    fs::create_dir_all(dst.join("blobs/sha256")).unwrap();
    for f in ["index.json", "oci-layout", "rootfs.tar.gz", "image-config.json", "image-manifest.json"] {
        fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    for entry in fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let target = fs::read_link(entry.path())
            .unwrap_or_else(|_| PathBuf::from(fs::read_to_string(entry.path()).unwrap().trim()));
        std::os::unix::fs::symlink(target, dst.join("blobs/sha256").join(entry.file_name())).unwrap();
    }
    let squashed = open_path(&dst, None).squashed(&keep_paths(|p| p == "bin/busybox")).unwrap();
    assert!(squashed.files.contains_key("bin/busybox"));

    fs::rename(dst.join("rootfs.tar.gz"), tmp.path().join("rootfs.tar.gz")).unwrap();
    let layer = dst.join("blobs/sha256/5c3b447848a98e48dce106cb3e6acbd4fb6f9b26ee778798137349ce01f4d3c1");
    fs::remove_file(&layer).unwrap();
    std::os::unix::fs::symlink("../../../rootfs.tar.gz", &layer).unwrap();
    let err = scan_error(open_path(&dst, None).squashed(&|_| Claim::No));
    assert!(matches!(&err, ImageError::Malformed { reason, .. } if reason.contains("outside")), "{err}");
}

/// `/app` per `ground-truth/app.files.tsv`: path, size, sha256, layer added, in final rootfs.
fn app_ground_truth() -> Vec<(String, usize, String, usize, bool)> {
    let tsv = fs::read_to_string(data().join("ground-truth/app.files.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let path = f[0].trim_start_matches('/').to_string();
            (path, f[1].parse().unwrap(), f[2].to_string(), f[3].parse().unwrap(), f[4].starts_with("yes"))
        })
        .collect()
}

fn check_app(image: &rampart_artifact::image::Image, kind: &str) {
    let meta = image.metadata();
    assert_eq!(meta.layers.len(), 3, "{kind}");
    assert_eq!(meta.config.user, "1000");
    assert!(meta.config.env.iter().any(|e| e == "APP_ENV=production"));
    assert_eq!(meta.config.working_dir, "/app");
    assert_eq!(meta.config.labels["org.opencontainers.image.title"], "rampart-fixture-app");
    assert_eq!(meta.config.history.len(), 5);
    let steps: Vec<&str> = meta.layers.iter().map(|l| l.created_by.as_str()).collect();
    assert_eq!(
        steps,
        [
            "umoci repack: extract alpine-minirootfs-3.20.3-x86_64.tar.gz into /",
            "umoci repack: add /app (lockfiles, Go binary, config/.env)",
            "umoci repack: rm /app/python/requirements.txt; write /etc/motd",
        ],
        "{kind}"
    );
    let diff_ids: Vec<&str> = meta.layers.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(diff_ids, meta.config.diff_ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(meta.layers[1].report_layer().diff_id, meta.config.diff_ids[1]);

    let claim = keep_paths(|p| p.starts_with("app/") || p == "etc/motd" || p == "lib/apk/db/installed");
    let mut seen: Vec<ImageFile> = Vec::new();
    let squashed = image.scan(&claim, &mut |f| seen.push(f.clone())).unwrap();
    for (path, size, sha, layer_added, in_final) in app_ground_truth() {
        let in_layer = seen.iter().find(|f| f.path == path && f.layer == layer_added - 1);
        let in_layer = in_layer.unwrap_or_else(|| panic!("{kind}: {path} not seen in layer {layer_added}"));
        assert_eq!((in_layer.content.len(), sha256_hex(&in_layer.content)), (size, sha), "{kind}: {path}");
        assert_eq!(squashed.files.contains_key(&path), in_final, "{kind}: {path} in the squashed view");
        if in_final {
            assert_eq!(squashed.files[&path].layer, layer_added - 1, "{kind}: {path}");
        }
    }
    // Alpine's own motd is seen in layer 1, then replaced by layer 3's.
    let motds: Vec<usize> = seen.iter().filter(|f| f.path == "etc/motd").map(|f| f.layer).collect();
    assert_eq!(motds, [0, 2], "{kind}");
    assert_eq!(squashed.files["etc/motd"].content.len(), 62);
    assert_eq!(squashed.files["lib/apk/db/installed"].layer, 0);
    assert_eq!(squashed.files["app/config/.env"].mode, 0o640);
    assert!(!squashed.files.keys().any(|p| p.contains(".wh.")), "whiteout markers are not files");
}

#[test]
fn app_image_layers_whiteouts_and_attribution() {
    let d = data();
    let layout = open_path(&d.join("app/oci"), Some("1.0"));
    assert_eq!(layout.metadata().manifest_digest.as_deref(), Some(APP_MANIFEST));
    assert_eq!(layout.metadata().name, format!("{}:1.0", d.join("app/oci").display()));
    check_app(&layout, "layout");
    let archive = open_path(&d.join("app/app.docker.tar"), None);
    assert_eq!(archive.metadata().repo_tags, ["docker.io/library/rampart-fixture-app:1.0"]);
    assert_eq!(archive.metadata().image_id, layout.metadata().image_id);
    check_app(&archive, "docker-archive");
}

#[test]
fn gzipped_docker_archive_with_a_tag() {
    let tmp = TempDir::new().unwrap();
    let gz = tmp.path().join("app.docker.tar.gz");
    let mut enc = GzEncoder::new(fs::File::create(&gz).unwrap(), Compression::fast());
    enc.write_all(&fs::read(data().join("app/app.docker.tar")).unwrap()).unwrap();
    enc.finish().unwrap();
    let input = format!("{}:rampart-fixture-app:1.0", gz.display());
    let source = ImageSource::parse_input(&input).unwrap();
    assert_eq!(source, path_source(&gz, Some("rampart-fixture-app:1.0")));
    let image = open(&source, &OpenOptions::default()).unwrap();
    check_app(&image, "gzipped docker-archive");
    let err = open(&path_source(&gz, Some("other:2")), &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::NoMatch { available, .. } if available.contains("rampart-fixture-app:1.0")),
        "{err}"
    );
}

#[test]
fn input_syntax_and_layout_tags() {
    let d = data();
    let layout = d.join("alpine-3.20/oci");
    let with_tag = format!("{}:3.20", layout.display());
    assert_eq!(ImageSource::parse_input(&with_tag).unwrap(), path_source(&layout, Some("3.20")));
    assert_eq!(ImageSource::parse_input(&layout.display().to_string()).unwrap(), path_source(&layout, None));
    assert!(matches!(ImageSource::parse_input("/no/such/layout:1"), Err(ImageError::NotFound { .. })));

    let err = open(&path_source(&layout, Some("3.19")), &OpenOptions::default()).unwrap_err();
    assert!(matches!(&err, ImageError::NoMatch { available, .. } if available == "3.20"), "{err}");
    let arm = OpenOptions { platform: Some("linux/arm64".parse().unwrap()), ..OpenOptions::default() };
    let err = open(&path_source(&layout, None), &arm).unwrap_err();
    assert!(matches!(&err, ImageError::NoMatch { available, .. } if available == "linux/amd64"), "{err}");
    let amd = OpenOptions { platform: Some(Platform::linux_amd64()), ..OpenOptions::default() };
    assert!(open(&path_source(&layout, None), &amd).is_ok());
}

#[test]
fn not_an_image() {
    let d = data();
    let rootfs = d.join("rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let err = open(&path_source(&rootfs, None), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, ImageError::NotAnImage { .. }), "{err}");
    let err = open(&path_source(&d.join("ground-truth"), None), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, ImageError::NotAnImage { .. }), "{err}");
}

// ---- Crafted images -------------------------------------------------------

enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

fn header(name: &str, size: u64, typeflag: u8, link: &str, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(name.len() <= 100 && link.len() <= 100);
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn tar(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        match e {
            E::File(name, data) => {
                out.extend_from_slice(&header(name, data.len() as u64, b'0', "", 0o644));
                out.extend_from_slice(data);
                out.resize(out.len().div_ceil(512) * 512, 0);
            }
            E::Dir(name) => out.extend_from_slice(&header(name, 0, b'5', "", 0o755)),
            E::Sym(name, target) => out.extend_from_slice(&header(name, 0, b'2', target, 0o777)),
            E::Hard(name, target) => out.extend_from_slice(&header(name, 0, b'1', target, 0o644)),
        }
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes OCI layouts: blobs by digest, images of given layers, an index.
struct Layout {
    dir: TempDir,
    index: Vec<serde_json::Value>,
}

impl Layout {
    fn new() -> Layout {
        let dir = TempDir::new().unwrap();
        fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        fs::write(dir.path().join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir, index: Vec::new() }
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let hex = sha256_hex(bytes);
        fs::write(self.dir.path().join("blobs/sha256").join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    }

    /// Adds an image of `(blob, uncompressed tar)` layers; the DiffIDs are
    /// taken from `diff_ids` when given, else computed.
    fn image(
        &mut self,
        tag: &str,
        layers: &[(Vec<u8>, Vec<u8>)],
        diff_ids: Option<Vec<String>>,
    ) -> &mut Self {
        let diff_ids = diff_ids
            .unwrap_or_else(|| layers.iter().map(|(_, tar)| format!("sha256:{}", sha256_hex(tar))).collect());
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": layers.iter().enumerate().map(|(i, _)| serde_json::json!({"created_by": format!("step {i}")})).collect::<Vec<_>>(),
        });
        let config = serde_json::to_vec(&config).unwrap();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": self.blob(&config), "size": config.len()},
            "layers": layers.iter().map(|(blob, _)| serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": self.blob(blob), "size": blob.len(),
            })).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest).unwrap();
        self.index.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": self.blob(&manifest), "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
        let index = serde_json::json!({"schemaVersion": 2, "manifests": self.index});
        fs::write(self.dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        self
    }

    fn open(&self, limits: Limits) -> Result<rampart_artifact::image::Image, ImageError> {
        open(&path_source(self.dir.path(), None), &OpenOptions { limits, ..OpenOptions::default() })
    }
}

fn gz_layer(entries: &[E]) -> (Vec<u8>, Vec<u8>) {
    let t = tar(entries);
    (gzip(&t), t)
}

fn all(_: &Candidate<'_>) -> Claim {
    Claim::Keep
}

#[test]
fn whiteouts_opaque_dirs_and_links_across_layers() {
    let mut layout = Layout::new();
    layout.image(
        "x",
        &[
            gz_layer(&[
                E::Dir("a/"),
                E::File("a/x", b"x1"),
                E::File("a/y", b"y1"),
                E::File("b/z", b"z1"),
                E::File("c", b"c1"),
                E::File("keep", b"k1"),
                E::Hard("keep-link", "keep"),
                E::Sym("d", "a"),
            ]),
            gz_layer(&[
                E::File("a/.wh..wh..opq", b""),
                E::File("a/new", b"n2"),
                E::File(".wh.b", b""),
                E::Dir("c/"),
                E::File("c/inside", b"i2"),
                E::File(".wh.keep", b""),
                E::File(".wh..wh.plnk", b""),
            ]),
        ],
        None,
    );
    let image = layout.open(Limits::default()).unwrap();
    let mut seen = Vec::new();
    let s = image.scan(&all, &mut |f| seen.push((f.path.clone(), f.layer))).unwrap();
    let files: Vec<(&str, usize)> = s.files.values().map(|f| (f.path.as_str(), f.layer)).collect();
    assert_eq!(files, [("a/new", 1), ("c/inside", 1), ("keep-link", 0)]);
    assert_eq!(text(s.resolve("d/new").unwrap()), "n2");
    assert_eq!(text(&s.files["keep-link"]), "k1", "a hard link keeps its content when its twin is deleted");
    let seen_paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(seen_paths, ["a/x", "a/y", "b/z", "c", "keep", "keep-link", "a/new", "c/inside"]);
}

#[test]
fn zstd_and_uncompressed_layers() {
    let first = tar(&[E::File("etc/os-release", b"ID=test\nVERSION_ID=1\n")]);
    let second = tar(&[E::File("etc/motd", b"hi")]);
    let zstd = ruzstd::encoding::compress_to_vec(&first[..], ruzstd::encoding::CompressionLevel::Fastest);
    let mut layout = Layout::new();
    layout.image("x", &[(zstd, first), (second.clone(), second)], None);
    let s = layout.open(Limits::default()).unwrap().squashed(&all).unwrap();
    assert_eq!(os_release_version(&s), "1");
    assert_eq!(s.files["etc/motd"].layer, 1);
}

#[test]
fn diff_id_mismatch_names_the_layer() {
    let mut layout = Layout::new();
    let wrong = format!("sha256:{}", "0".repeat(64));
    layout.image("x", &[gz_layer(&[E::File("f", b"1")]), gz_layer(&[E::File("g", b"2")])], {
        let good = format!("sha256:{}", sha256_hex(&tar(&[E::File("f", b"1")])));
        Some(vec![good, wrong.clone()])
    });
    let err = scan_error(layout.open(Limits::default()).unwrap().squashed(&all));
    match &err {
        ImageError::DigestMismatch { what, expected, .. } => {
            assert!(what.contains("layer 2 (sha256:"), "{what}");
            assert_eq!(expected, &wrong);
        }
        other => panic!("expected a DiffID mismatch, got {other}"),
    }
}

#[test]
fn decompression_bomb_stops_at_the_layer_limit() {
    // 16 MiB of zeros in one file gzip to ~16 KiB.
    let mut big = header("zeros", 16 << 20, b'0', "", 0o644).to_vec();
    big.resize(big.len() + (16 << 20) + 1024, 0);
    let blob = gzip(&big);
    assert!(blob.len() < 200_000, "{}", blob.len());
    let mut layout = Layout::new();
    layout.image("bomb", &[(blob, big)], None);
    let limits = Limits { max_layer_bytes: 1 << 20, ..Limits::default() };
    let err = scan_error(layout.open(limits).unwrap().squashed(&|_| Claim::No));
    match &err {
        ImageError::LimitExceeded { layer, what, limit } => {
            assert!(layer.contains("layer 1 (sha256:"), "{layer}");
            assert_eq!((what.as_str(), limit.as_str()), ("the decompressed layer size", "1048576 bytes"));
        }
        other => panic!("expected a limit error, got {other}"),
    }
    // The same image passes with the defaults; the entry count has its own limit.
    assert!(layout.open(Limits::default()).unwrap().squashed(&|_| Claim::No).is_ok());
    let few = Limits { max_entries: 1, ..Limits::default() };
    let mut many = Layout::new();
    many.image("many", &[gz_layer(&[E::File("a", b""), E::File("b", b"")])], None);
    assert!(matches!(many.open(few).unwrap().squashed(&all), Err(ImageError::LimitExceeded { .. })));
    // A claimed file over the per-file limit is skipped with a warning, not buffered.
    let small = Limits { max_file_bytes: 4, ..Limits::default() };
    let mut files = Layout::new();
    files.image("f", &[gz_layer(&[E::File("big", b"12345"), E::File("ok", b"1234")])], None);
    let s = files.open(small).unwrap().squashed(&all).unwrap();
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["ok"]);
    assert!(
        s.warnings.iter().any(|w| w.path.ends_with(": big") && w.message.contains("limit")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn traversal_entries_are_refused_and_absolute_names_stay_inside() {
    let mut layout = Layout::new();
    layout.image(
        "t",
        &[gz_layer(&[
            E::File("etc/x", b"image's own"),
            E::File("../../etc/x", b"escaped"),
            E::File("a/../../b", b"escaped"),
            E::File("/abs/file", b"absolute"),
            E::Hard("hard", "../../etc/passwd"),
        ])],
        None,
    );
    let mut seen = Vec::new();
    let s = layout.open(Limits::default()).unwrap().scan(&all, &mut |f| seen.push(f.path.clone())).unwrap();
    assert_eq!(seen, ["etc/x", "abs/file"]);
    assert_eq!(text(&s.files["etc/x"]), "image's own");
    assert!(!s.links.contains_key("hard"));
    let warned: Vec<&str> = s.warnings.iter().map(|w| w.path.rsplit(": ").next().unwrap()).collect();
    assert_eq!(warned, ["../../etc/x", "a/../../b", "hard"]);
}

#[test]
fn symlinks_never_resolve_outside_the_image() {
    let host_file = fs::canonicalize(data().join("README.md")).unwrap();
    let host_target = host_file.to_str().unwrap();
    let mut layout = Layout::new();
    layout.image(
        "s",
        &[
            gz_layer(&[
                E::File("etc/passwd", b"image passwd"),
                E::Sym("up", "../../../../../../etc/passwd"),
                E::Sym("host", host_target),
                E::Sym("root", "/"),
                E::Sym("loop-a", "loop-b"),
                E::Sym("loop-b", "loop-a"),
            ]),
            // Written "through" the link in a later layer: recorded under its own name.
            gz_layer(&[E::File("root/etc/shadow", b"via link")]),
        ],
        None,
    );
    let s = layout.open(Limits::default()).unwrap().squashed(&all).unwrap();
    assert_eq!(text(s.resolve("up").unwrap()), "image passwd");
    assert_eq!(text(s.resolve("root/etc/passwd").unwrap()), "image passwd");
    assert!(s.resolve("host").is_none(), "{host_target} is a host file, not in the image");
    assert!(s.resolve("loop-a").is_none());
    assert_eq!(s.files["root/etc/shadow"].content, b"via link");
    assert!(!s.files.contains_key("etc/shadow"));
}

#[test]
fn several_tags_in_one_layout() {
    let d = data();
    let mut layout = Layout::new();
    for (tag, src) in [("old", "alpine-3.10/oci"), ("new", "alpine-3.20/oci")] {
        let src = d.join(src);
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(src.join("index.json")).unwrap()).unwrap();
        for entry in fs::read_dir(src.join("blobs/sha256")).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), layout.dir.path().join("blobs/sha256").join(entry.file_name())).unwrap();
        }
        let mut desc = index["manifests"][0].clone();
        desc["annotations"]["org.opencontainers.image.ref.name"] = tag.into();
        layout.index.push(desc);
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": layout.index});
    fs::write(layout.dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let err = layout.open(Limits::default()).unwrap_err();
    assert!(matches!(&err, ImageError::NoMatch { available, .. } if available == "old, new"), "{err}");
    for (tag, version) in [("old", "3.10.9"), ("new", "3.20.3")] {
        let image = open(&path_source(layout.dir.path(), Some(tag)), &OpenOptions::default()).unwrap();
        assert_eq!(os_release_version(&image.squashed(&claim_os).unwrap()), version);
    }
}

#[test]
fn tampered_layout_blob_is_detected() {
    let tmp = TempDir::new().unwrap();
    let src = data().join("alpine-3.20/oci");
    fs::create_dir_all(tmp.path().join("blobs/sha256")).unwrap();
    for name in ["index.json", "oci-layout"] {
        fs::copy(src.join(name), tmp.path().join(name)).unwrap();
    }
    for entry in fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let mut bytes = fs::read(entry.path()).unwrap();
        if bytes.len() < 1000 && bytes.starts_with(b"{") && bytes.windows(6).any(|w| w == b"rootfs") {
            bytes.extend_from_slice(b" "); // the config, one byte longer
        }
        fs::write(tmp.path().join("blobs/sha256").join(entry.file_name()), bytes).unwrap();
    }
    let err = open(&path_source(tmp.path(), None), &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::DigestMismatch { expected, .. } if expected == ALPINE_320_CONFIG),
        "{err}"
    );
}

// ---- Docker Engine API ----------------------------------------------------

/// A fake engine on a unix socket: inspect and export of one image.
struct FakeEngine {
    _dir: TempDir,
    socket: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
}

fn fake_engine(archive: Vec<u8>) -> FakeEngine {
    let dir = TempDir::new().unwrap();
    let socket = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let mut out = stream;
            match path.as_str() {
                "/images/rampart-fixture-app:1.0/json" => {
                    let body = serde_json::json!({
                        "Id": "sha256:784ba8b845162dfdb2f48c1ccf7494531701d325017d35f1cbfce3ffdfcbf95b",
                        "RepoTags": ["rampart-fixture-app:1.0"],
                        "RepoDigests": [format!("rampart-fixture-app@{APP_MANIFEST}")],
                    })
                    .to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    out.write_all(head.as_bytes()).unwrap();
                    out.write_all(body.as_bytes()).unwrap();
                }
                "/images/rampart-fixture-app:1.0/get" => {
                    out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n")
                        .unwrap();
                    for chunk in archive.chunks(100_000) {
                        out.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).unwrap();
                        out.write_all(chunk).unwrap();
                        out.write_all(b"\r\n").unwrap();
                    }
                    out.write_all(b"0\r\n\r\n").unwrap();
                }
                _ => {
                    let body = r#"{"message":"No such image: nope:1"}"#;
                    let head = format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n", body.len());
                    out.write_all(head.as_bytes()).unwrap();
                    out.write_all(body.as_bytes()).unwrap();
                }
            }
        }
    });
    FakeEngine { _dir: dir, socket, requests }
}

#[test]
fn docker_engine_socket_export() {
    let engine = fake_engine(fs::read(data().join("app/app.docker.tar")).unwrap());
    let source =
        ImageSource::Daemon { socket: engine.socket.clone(), name: "rampart-fixture-app:1.0".into() };
    let image = open(&source, &OpenOptions { offline: true, ..OpenOptions::default() }).unwrap();
    let meta = image.metadata();
    assert_eq!(meta.name, "rampart-fixture-app:1.0");
    assert_eq!(meta.repo_tags, ["rampart-fixture-app:1.0"]);
    assert_eq!(meta.repo_digests, [format!("rampart-fixture-app@{APP_MANIFEST}")]);
    check_app(&image, "engine export");
    assert_eq!(
        *engine.requests.lock().unwrap(),
        ["/images/rampart-fixture-app:1.0/json", "/images/rampart-fixture-app:1.0/get"]
    );

    let missing = ImageSource::Daemon { socket: engine.socket.clone(), name: "nope:1".into() };
    let err = open(&missing, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::Daemon { reason, .. } if reason.contains("No such image: nope:1")),
        "{err}"
    );
    let nowhere =
        ImageSource::Daemon { socket: engine.socket.with_file_name("absent.sock"), name: "x".into() };
    let err = open(&nowhere, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::Daemon { reason, .. } if reason.starts_with("cannot connect")),
        "{err}"
    );
}

#[test]
fn offline_mode_refuses_registries() {
    let reference = "127.0.0.1:1/app:1".parse().unwrap();
    let opts = OpenOptions { offline: true, ..OpenOptions::default() };
    let err = open(&ImageSource::Registry(reference), &opts).unwrap_err();
    assert!(matches!(err, ImageError::Offline { .. }), "{err}");
}

#[test]
fn unclaimed_files_are_never_buffered() {
    let image = open_path(&data().join("app/oci"), None);
    let claimed: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    let claim = |file: &Candidate<'_>| {
        *claimed.lock().unwrap().entry(file.path.to_string()).or_default() += 1;
        if file.path == "app/go/go.mod" { Claim::Keep } else { Claim::No }
    };
    let mut visited = Vec::new();
    let s = image.scan(&claim, &mut |f| visited.push(f.path.clone())).unwrap();
    assert_eq!(visited, ["app/go/go.mod"]);
    assert_eq!(s.files.len(), 1);
    let claimed = claimed.into_inner().unwrap();
    assert!(claimed.contains_key("app/bin/fixture-app") && claimed.contains_key("etc/motd"));
    assert!(
        !claimed.keys().any(|p| p.ends_with('/') || p.starts_with('/')),
        "claim sees only normalized file paths"
    );
}

#[test]
fn visit_only_files_reach_the_visitor_but_are_not_kept() {
    let image = open_path(&data().join("app/oci"), None);
    let claim = |file: &Candidate<'_>| match file.path {
        "app/go/go.mod" => Claim::Keep,
        "app/config/.env" | "etc/motd" => Claim::Visit,
        _ => Claim::No,
    };
    let mut seen: Vec<ImageFile> = Vec::new();
    let s = image.scan(&claim, &mut |f| seen.push(f.clone())).unwrap();
    let (_, size, sha, _, _) = app_ground_truth().into_iter().find(|t| t.0 == "app/config/.env").unwrap();
    let env: Vec<&ImageFile> = seen.iter().filter(|f| f.path == "app/config/.env").collect();
    assert_eq!(env.len(), 1);
    assert_eq!((env[0].layer, env[0].mode, env[0].content.len()), (1, 0o640, size));
    assert_eq!(sha256_hex(&env[0].content), sha);
    let motds: Vec<usize> = seen.iter().filter(|f| f.path == "etc/motd").map(|f| f.layer).collect();
    assert_eq!(motds, [0, 2]);
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["app/go/go.mod"]);
    assert_eq!(s.files["app/go/go.mod"].layer, 1);
}

#[test]
fn claims_by_mode_and_size_find_large_executables() {
    let image = open_path(&data().join("app/oci"), None);
    let large_executable = |file: &Candidate<'_>| {
        if file.mode & 0o111 != 0 && file.size > 1 << 20 { Claim::Keep } else { Claim::No }
    };
    let s = image.squashed(&large_executable).unwrap();
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["app/bin/fixture-app", "lib/libcrypto.so.3"]);
    let app = &s.files["app/bin/fixture-app"];
    assert_eq!((app.layer, app.mode, app.content.len()), (1, 0o755, 2_164_343));
    let (_, _, sha, _, _) = app_ground_truth().into_iter().find(|t| t.0 == "app/bin/fixture-app").unwrap();
    assert_eq!(sha256_hex(&app.content), sha);
    assert_eq!(s.files["lib/libcrypto.so.3"].layer, 0);

    // The header's mode and size are those of the content that follows.
    let candidates = Mutex::new(Vec::new());
    let every_file = |file: &Candidate<'_>| {
        candidates.lock().unwrap().push((file.path.to_string(), file.mode, file.size));
        Claim::Visit
    };
    let mut visited = Vec::new();
    let s = image
        .scan(&every_file, &mut |f| visited.push((f.path.clone(), f.mode, f.content.len() as u64)))
        .unwrap();
    assert!(s.files.is_empty());
    assert!(visited.contains(&("app/bin/fixture-app".to_string(), 0o755, 2_164_343)));
    assert_eq!(candidates.into_inner().unwrap(), visited);
}

#[test]
fn visit_only_files_replace_kept_ones_and_hard_links_follow_their_claim() {
    let mut layout = Layout::new();
    layout.image(
        "v",
        &[
            gz_layer(&[
                E::File("f", b"old"),
                E::File("unread", b"target"),
                E::Hard("visit-link", "unread"),
                E::File("visited", b"visited"),
                E::Hard("kept-link", "visited"),
                E::File("kept", b"kept"),
                E::Hard("visit-link-to-kept", "kept"),
            ]),
            gz_layer(&[E::File("f", b"newer")]),
        ],
        None,
    );
    let candidates = Mutex::new(BTreeMap::new());
    let claim = |file: &Candidate<'_>| {
        candidates.lock().unwrap().insert(file.path.to_string(), file.size);
        match (file.path, file.size) {
            ("f", 3) | ("kept-link" | "kept", _) => Claim::Keep,
            ("f" | "visit-link" | "visited" | "visit-link-to-kept", _) => Claim::Visit,
            _ => Claim::No,
        }
    };
    let mut seen = Vec::new();
    let s = layout
        .open(Limits::default())
        .unwrap()
        .scan(&claim, &mut |f| seen.push((f.path.clone(), f.layer, text(f))))
        .unwrap();
    let seen: Vec<(&str, usize, &str)> = seen.iter().map(|(p, l, t)| (p.as_str(), *l, t.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("f", 0, "old"),
            ("visited", 0, "visited"),
            ("kept", 0, "kept"),
            ("visit-link-to-kept", 0, "kept"),
            ("f", 1, "newer"),
            // Links to content not kept come from a second read of layer 1.
            ("kept-link", 0, "visited"),
            ("visit-link", 0, "target"),
        ]
    );
    // The visit-only "f" of layer 2 hides the kept one of layer 1.
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["kept", "kept-link"]);
    assert_eq!(text(&s.files["kept-link"]), "visited");
    assert_eq!(text(s.resolve("visit-link-to-kept").unwrap()), "kept");
    assert!(s.resolve("visit-link").is_none());
    assert!(s.links["visit-link"].hard);
    // A hard link's size is its target's only when that was kept.
    let candidates = candidates.into_inner().unwrap();
    assert_eq!((candidates["visit-link-to-kept"], candidates["visit-link"]), (4, 0));
}

#[test]
fn kept_bytes_limit_counts_only_kept_files() {
    let hundred = [b'x'; 100];
    let mut layout = Layout::new();
    layout.image(
        "k",
        &[gz_layer(&[
            E::File("keep", b"12345678"),
            E::File("visit-a", &hundred),
            E::File("visit-b", &hundred),
        ])],
        None,
    );
    let claim = |file: &Candidate<'_>| if file.path == "keep" { Claim::Keep } else { Claim::Visit };
    let limits = Limits { max_buffered_bytes: 10, ..Limits::default() };
    let mut seen = Vec::new();
    let s = layout.open(limits.clone()).unwrap().scan(&claim, &mut |f| seen.push(f.path.clone())).unwrap();
    assert_eq!(seen, ["keep", "visit-a", "visit-b"]);
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["keep"]);
    let err = scan_error(layout.open(limits).unwrap().scan(&all, &mut |_| {}));
    assert!(matches!(&err, ImageError::LimitExceeded { what, .. } if what.contains("visit-a")), "{err}");

    // Visit-only files obey the per-file limit when read, and `squashed`,
    // having no visitor, does not read them.
    let small = Limits { max_file_bytes: 50, ..Limits::default() };
    let s = layout.open(small.clone()).unwrap().scan(&claim, &mut |_| {}).unwrap();
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    let s = layout.open(small).unwrap().squashed(&claim).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["keep"]);
}
