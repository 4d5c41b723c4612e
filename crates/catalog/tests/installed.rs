//! Installed language packages against the osv-scalibr fixtures in
//! `../shared/data/lockfiles`, the Go binary of the app image in
//! `../shared/data/images/app` (unpacked with the system `tar`), and
//! hand-built binaries for the older Go build-info layout.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rampart_catalog::installed::{
    InstalledKind, claims, claims_binary, is_binary_head, kind, parse, parse_binary,
};
use rampart_catalog::{CatalogError, Parsed};
use rampart_types::Ecosystem;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn data(rel: &str) -> PathBuf {
    let path = Path::new(DATA).join(rel);
    assert!(
        path.exists(),
        "{} is missing: these tests require ../shared/data (the shared test data next to the workspace)",
        path.display()
    );
    path
}

fn fixture(kind: InstalledKind, rel: &str) -> Result<Parsed, CatalogError> {
    let path = data(&format!("lockfiles/extractor/filesystem/language/{rel}"));
    parse(kind, &path.display().to_string(), &fs::read(&path).unwrap())
}

/// `(name, version, licenses)` of each package.
fn summary(p: &Parsed) -> Vec<(&str, &str, Vec<&str>)> {
    p.packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.licenses.iter().map(String::as_str).collect()))
        .collect()
}

#[test]
fn claims_metadata_by_path() {
    let python = Some(InstalledKind::Python);
    let node = Some(InstalledKind::Node);
    for (path, want) in [
        ("usr/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA", python),
        ("/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", python),
        ("usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", python),
        ("opt/venv/lib/python3.11/site-packages/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", python),
        ("./app/node_modules/express/package.json", node),
        ("app/node_modules/@babel/core/package.json", node),
        ("app/node_modules/a/node_modules/b/package.json", node),
        ("app/package.json", None),
        ("app/node_modules/express/lib/package.json", None),
        ("app/node_modules/@babel/package.json", None),
        ("app/node_modules/.bin/package.json", None),
        ("usr/lib/python3/dist-packages/pip-24.0.dist-info/RECORD", None),
        ("usr/lib/python3/METADATA", None),
    ] {
        assert_eq!(kind(path), want, "{path}");
        assert_eq!(claims(path), want.is_some(), "{path}");
    }
}

#[test]
fn python_metadata_fixtures() {
    let py = |name: &str| fixture(InstalledKind::Python, &format!("python/wheelegg/testdata/{name}"));
    let ok = |name: &str| py(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(summary(&ok("distinfo_meta")), [("pip", "22.2.2", vec!["MIT"])]);
    assert_eq!(summary(&ok("egginfo")), [("pycups", "2.0.1", vec!["GPLv2+"])]);
    assert_eq!(
        summary(&ok("egginfo_pkginfo")),
        [("setuptools", "57.4.0", vec!["MIT License"])],
        "License: UNKNOWN, so the classifier"
    );
    assert_eq!(summary(&ok("malformed_pkginfo")), [("passlib", "1.7.4", vec!["BSD"])]);
    assert_eq!(summary(&ok("mixed_case")), [("httplib2", "1.0", vec![])], "field names in any case");
    assert_eq!(summary(&ok("pkginfo")), [("httplib2", "0.20.4", vec!["MIT"])]);
    assert_eq!(
        summary(&ok("pyopenssl-26.0.0.dist-info")),
        [("pyOpenSSL", "26.0.0", vec!["Apache License, Version 2.0"])]
    );
    assert_eq!(summary(&ok("repeated_pkginfo")), [("root", "1.0.0", vec![])], "the first Version counts");
    assert_eq!(summary(&ok("special_chars")), [("backports.ssl_match_hostname", "3.5.0.1", vec![])]);
    assert!(py("empty").is_err());

    let p = ok("pkginfo");
    assert_eq!(p.packages[0].ecosystem, Ecosystem::PyPI);
    assert_eq!(p.packages[0].locations[0].start_line, 2, "the Name line");
}

#[test]
fn python_license_choices() {
    let meta = |text: &str| parse(InstalledKind::Python, "METADATA", text.as_bytes()).unwrap();
    let p = meta("Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\n");
    assert_eq!(p.packages[0].licenses, ["MIT OR Apache-2.0"], "PEP 639 expression first");
    let p = meta(
        "Name: a\nVersion: 1\nLicense: Copyright (c) someone\n        Permission is hereby granted\n\
         Classifier: License :: OSI Approved :: BSD License\n\nbody: text\n",
    );
    assert_eq!(p.packages[0].licenses, ["BSD License"], "a license text is not a name");
    let p = meta("Name: a\nVersion: 1\n\nLicense: MIT\n");
    assert!(p.packages[0].licenses.is_empty(), "the body is not headers");
    let err = parse(InstalledKind::Python, "METADATA", b"Name: a\nSummary: x\n").unwrap_err();
    assert!(err.to_string().contains("no Name and Version"), "{err}");
}

#[test]
fn node_package_fixtures() {
    let js = |name: &str| fixture(InstalledKind::Node, &format!("javascript/packagejson/testdata/{name}"));
    let ok = |name: &str| js(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(summary(&ok("package.json")), [("testdata", "10.46.8", vec![])]);
    assert_eq!(summary(&ok("undici-package.json")), [("undici", "5.28.3", vec!["MIT"])]);
    assert_eq!(summary(&ok("deps/accepts/package.json")), [("accepts", "1.3.8", vec!["MIT"])]);
    assert_eq!(summary(&ok("deps/with/deps/acorn/package.json")), [("acorn", "1.2.2", vec!["MIT"])]);
    assert_eq!(summary(&ok("unity-package.json")), [("org.khronos.unitygltf", "2.13.0", vec![])]);
    for stub in
        ["deps/acorn/package.json", "deps/acorn-globals/package.json", "deps/window-size/package.json"]
    {
        let p = ok(stub);
        assert!(p.packages.is_empty() && p.warnings.is_empty(), "{stub}: no name or no version");
    }
    assert!(js("invalid").is_err());
    assert_eq!(ok("package.json").packages[0].ecosystem, Ecosystem::Npm);

    let manifest = |text: &str| parse(InstalledKind::Node, "package.json", text.as_bytes()).unwrap();
    let p = manifest(r#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#);
    assert_eq!(p.packages[0].licenses, ["MIT", "Apache-2.0"], "the old list form");
    let p = manifest(r#"{"name":"a","version":"1.0.0","license":{"type":"ISC","url":"x"}}"#);
    assert_eq!(p.packages[0].licenses, ["ISC"], "the old object form");
}

/// The app image's layer 2, `/app/bin/fixture-app`.
fn fixture_app() -> Vec<u8> {
    let oci = data("images/app/oci");
    let json = |rel: &str| -> serde_json::Value {
        serde_json::from_slice(&fs::read(oci.join(rel)).unwrap()).unwrap()
    };
    let blob =
        |d: &serde_json::Value| format!("blobs/sha256/{}", d.as_str().unwrap().trim_start_matches("sha256:"));
    let manifest = json(&blob(&json("index.json")["manifests"][0]["digest"]));
    let layer = oci.join(blob(&manifest["layers"][1]["digest"]));
    let out = Command::new("tar").arg("-xzOf").arg(&layer).arg("app/bin/fixture-app").output().unwrap();
    assert!(out.status.success(), "no app/bin/fixture-app in {}", layer.display());
    out.stdout
}

#[test]
fn go_build_info_of_the_app_image() {
    let bin = fixture_app();
    assert_eq!(bin.len(), 2_164_343);
    assert!(claims_binary(0o100_755, bin.len() as u64));
    assert!(is_binary_head(&bin[..4]));
    let p = parse(InstalledKind::GoBinary, "app/bin/fixture-app", &bin).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        summary(&p),
        [("golang.org/x/net", "v0.7.0", vec![]), ("stdlib", "1.19.8", vec![])],
        "the main module is (devel): not a package"
    );
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Go));

    // Cut anywhere, the binary gives its packages or nothing, never a panic.
    for cut in (0..=16).map(|i| bin.len() * i / 16) {
        let result = std::panic::catch_unwind(|| parse(InstalledKind::GoBinary, "cut", &bin[..cut]).is_ok());
        assert_eq!(result.ok(), Some(true), "cut at {cut}");
    }
}

#[test]
fn binaries_without_go_build_info() {
    let dummy = fixture(InstalledKind::GoBinary, "golang/gobinary/testdata/dummy").unwrap();
    assert!(dummy.packages.is_empty() && dummy.warnings.is_empty());

    // Every executable of a real Alpine root filesystem: claimed, read, no Go packages.
    let tarball = data("images/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success());
    let busybox = dir.path().join("bin/busybox");
    let meta = fs::metadata(&busybox).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert!(claims_binary(meta.permissions().mode(), meta.len()));
    let bytes = fs::read(&busybox).unwrap();
    assert!(is_binary_head(&bytes));
    let p = parse(InstalledKind::GoBinary, "bin/busybox", &bytes).unwrap();
    assert!(p.packages.is_empty() && p.warnings.is_empty());

    assert!(!claims_binary(0o100_644, 100_000), "not executable");
    assert!(!claims_binary(0o120_777, 100_000), "a symlink");
    assert!(!claims_binary(0o100_755, 100), "too small for a Go program");
    assert!(claims_binary(0o755, 100_000), "permission bits alone");
    assert!(!is_binary_head(b"#!/bin/sh\n"));
}

/// An ELF file whose one loadable segment maps the whole file at
/// `0x400000`, holding a pre-1.18 build-info header: pointers to two Go
/// string headers instead of inline strings.
fn old_layout_elf(wide: bool, big: bool, version: &str, modinfo: &[u8]) -> Vec<u8> {
    let base: u64 = 0x40_0000;
    let ptr = if wide { 8 } else { 4 };
    let put = |out: &mut Vec<u8>, at: usize, value: u64, len: usize| {
        let bytes =
            if big { value.to_be_bytes()[8 - len..].to_vec() } else { value.to_le_bytes()[..len].to_vec() };
        out[at..at + len].copy_from_slice(&bytes);
    };
    let header_at = 256;
    let strings_at = header_at + 32;
    let version_at = strings_at + 2 * 2 * ptr;
    let modinfo_at = version_at + version.len();
    let total = modinfo_at + modinfo.len();
    let mut f = vec![0u8; total];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = if wide { 2 } else { 1 };
    f[5] = if big { 2 } else { 1 };
    let ph = 64;
    if wide {
        put(&mut f, 0x20, ph as u64, 8);
        put(&mut f, 0x36, 56, 2);
        put(&mut f, 0x38, 1, 2);
        put(&mut f, ph, 1, 4);
        put(&mut f, ph + 8, 0, 8);
        put(&mut f, ph + 16, base, 8);
        put(&mut f, ph + 32, total as u64, 8);
    } else {
        put(&mut f, 0x1c, ph as u64, 4);
        put(&mut f, 0x2a, 32, 2);
        put(&mut f, 0x2c, 1, 2);
        put(&mut f, ph, 1, 4);
        put(&mut f, ph + 4, 0, 4);
        put(&mut f, ph + 8, base, 4);
        put(&mut f, ph + 16, total as u64, 4);
    }
    f[header_at..header_at + 14].copy_from_slice(b"\xff Go buildinf:");
    f[header_at + 14] = ptr as u8;
    f[header_at + 15] = u8::from(big);
    put(&mut f, header_at + 16, base + strings_at as u64, ptr);
    put(&mut f, header_at + 16 + ptr, base + (strings_at + 2 * ptr) as u64, ptr);
    put(&mut f, strings_at, base + version_at as u64, ptr);
    put(&mut f, strings_at + ptr, version.len() as u64, ptr);
    put(&mut f, strings_at + 2 * ptr, base + modinfo_at as u64, ptr);
    put(&mut f, strings_at + 3 * ptr, modinfo.len() as u64, ptr);
    f[version_at..modinfo_at].copy_from_slice(version.as_bytes());
    f[modinfo_at..].copy_from_slice(modinfo);
    f
}

#[test]
fn go_build_info_before_go_1_18() {
    let mut modinfo = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    modinfo.extend_from_slice(
        b"path\texample.com/tool\nmod\texample.com/tool\tv1.4.0\th1:abc=\n\
          dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n\
          dep\tgolang.org/x/text\tv0.3.0\t\n=>\tgolang.org/x/text\tv0.3.8\th1:ghi=\n",
    );
    modinfo.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    for (wide, big) in [(true, false), (false, true), (true, true), (false, false)] {
        let bin = old_layout_elf(wide, big, "go1.16.15", &modinfo);
        let p = parse(InstalledKind::GoBinary, "tool", &bin).unwrap();
        assert_eq!(
            summary(&p),
            [
                ("example.com/tool", "v1.4.0", vec![]),
                ("github.com/pkg/errors", "v0.9.1", vec![]),
                ("golang.org/x/text", "v0.3.8", vec![]),
                ("stdlib", "1.16.15", vec![]),
            ],
            "wide {wide}, big-endian {big}: the replacement wins"
        );
        let mut broken = bin.clone();
        let pointer_at = 256 + 16;
        broken[pointer_at..pointer_at + 4].fill(0xee);
        let p = parse(InstalledKind::GoBinary, "tool", &broken).unwrap();
        assert!(p.packages.is_empty(), "a pointer outside every segment: no build info");

        let mut far = bin.clone();
        far[if wide { 0x20..0x28 } else { 0x1c..0x20 }].fill(0xff);
        assert!(
            parse(InstalledKind::GoBinary, "tool", &far).unwrap().packages.is_empty(),
            "headers past the end"
        );

        // Any header or pointer byte at its extreme: no panic, no overflow.
        for at in 0..bin.len().min(360) {
            for value in [0x00, 0x7f, 0xff] {
                let mut bytes = bin.clone();
                bytes[at] = value;
                let result =
                    std::panic::catch_unwind(|| parse(InstalledKind::GoBinary, "tool", &bytes).is_ok());
                assert_eq!(result.ok(), Some(true), "byte {at} set to {value:#x}");
            }
        }
    }
}

/// A real ELF executable built by gcc (padded past the smallest size worth
/// reading), with `json` zlib-compressed into a `.dep-v0` section by
/// objcopy, as `cargo auditable` lays it out.
fn auditable_elf(dir: &Path, json: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let src = dir.join("main.c");
    fs::write(&src, "static const char pad[96 * 1024] = {1};\nint main(void) { return pad[0] - 1; }\n")
        .unwrap();
    let plain = dir.join("plain");
    let status = Command::new("gcc").arg("-o").arg(&plain).arg(&src).status().expect("gcc is installed");
    assert!(status.success(), "gcc failed");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    let section = dir.join("dep-v0.z");
    fs::write(&section, z.finish().unwrap()).unwrap();
    let out = dir.join("auditable");
    let status = Command::new("objcopy")
        .arg(format!("--add-section=.dep-v0={}", section.display()))
        .args(["--set-section-flags", ".dep-v0=noload,readonly"])
        .arg(&plain)
        .arg(&out)
        .status()
        .expect("objcopy (binutils) is installed");
    assert!(status.success(), "objcopy failed");
    fs::read(out).unwrap()
}

/// The same for a Windows executable: a PE32+ image linked by GNU ld
/// (`i386pep`) from a gcc object, the section added by objcopy.
fn auditable_pe(dir: &Path, json: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let src = dir.join("start.c");
    fs::write(&src, "static const char pad[96 * 1024] = {1};\nint start(void) { return pad[0] - 1; }\n")
        .unwrap();
    let object = dir.join("start.o");
    let status = Command::new("gcc")
        .args(["-c", "-fno-asynchronous-unwind-tables", "-o"])
        .arg(&object)
        .arg(&src)
        .status()
        .expect("gcc is installed");
    assert!(status.success(), "gcc failed");
    let plain = dir.join("plain.exe");
    let status = Command::new("ld")
        .args(["-m", "i386pep", "--entry=start", "-o"])
        .arg(&plain)
        .arg(&object)
        .status()
        .expect("ld (binutils) is installed");
    assert!(status.success(), "ld -m i386pep failed");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    let section = dir.join("dep-v0.z");
    fs::write(&section, z.finish().unwrap()).unwrap();
    let out = dir.join("auditable.exe");
    let status = Command::new("objcopy")
        .arg(format!("--add-section=.dep-v0={}", section.display()))
        .args(["--set-section-flags", ".dep-v0=noload,readonly"])
        .arg(&plain)
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("objcopy (binutils) is installed");
    assert!(status.success(), "objcopy failed");
    let bytes = fs::read(out).unwrap();
    assert!(bytes.starts_with(b"MZ"));
    bytes
}

/// The dependency list of a small `cargo auditable` build: a local root
/// crate, crates.io runtime dependencies, a git dependency, and build-only
/// ones (a build script's `cc`, a proc macro's `proc-macro2`).
const AUDIT_JSON: &str = r#"{"format":1,"packages":[
 {"name":"myapp","version":"0.3.0","source":"local","dependencies":[1,2,3,5],"root":true},
 {"name":"smallvec","version":"0.6.9","source":"crates.io"},
 {"name":"libc","version":"0.2.140","source":"crates.io","kind":"runtime"},
 {"name":"serde_derive","version":"1.0.160","source":"crates.io","kind":"build","dependencies":[4]},
 {"name":"proc-macro2","version":"1.0.56","source":"crates.io","kind":"build"},
 {"name":"mygit","version":"0.1.0","source":"git","dependencies":[6]},
 {"name":"memchr","version":"2.4.1","source":"crates.io"},
 {"name":"cc","version":"1.0.79","source":"crates.io","kind":"build"}
]}"#;

#[test]
fn cargo_auditable_dependency_lists() {
    let dir = tempfile::tempdir().unwrap();
    let bin = auditable_elf(dir.path(), AUDIT_JSON.as_bytes());
    assert!(claims_binary(0o100_755, bin.len() as u64), "{} bytes", bin.len());
    assert!(is_binary_head(&bin));
    let (found, p) = parse_binary("usr/local/bin/myapp", &bin).unwrap().expect("a Rust binary");
    assert_eq!(found, InstalledKind::RustBinary);
    assert_eq!(found.trivy_type(), "rustbinary");
    assert_eq!(
        summary(&p),
        [("smallvec", "0.6.9", vec![]), ("libc", "0.2.140", vec![]), ("memchr", "2.4.1", vec![])],
        "crates.io runtime crates only: no local root, no git crate, no build-only crates"
    );
    let flags: Vec<(&str, bool)> = p.packages.iter().map(|p| (p.name.as_str(), p.indirect)).collect();
    assert_eq!(
        flags,
        [("smallvec", false), ("libc", false), ("memchr", true)],
        "direct: the root's dependencies"
    );
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::CratesIo));
    assert_eq!(p.packages[0].purl(), "pkg:cargo/smallvec@0.6.9");

    let exe = auditable_pe(dir.path(), AUDIT_JSON.as_bytes());
    assert!(is_binary_head(&exe) && claims_binary(0o755, exe.len() as u64));
    let (found, from_pe) = parse_binary("myapp.exe", &exe).unwrap().expect("a Rust PE binary");
    assert_eq!(found, InstalledKind::RustBinary);
    assert_eq!(summary(&from_pe), summary(&p), "the same list from a PE section");
    let plain = fs::read(dir.path().join("plain.exe")).unwrap();
    assert!(parse_binary("plain.exe", &plain).unwrap().is_none());
    // Any header byte at its extreme, or the file cut short: no panic.
    for at in 0..1024.min(exe.len()) {
        for value in [0x00, 0x7f, 0xff] {
            let mut bytes = exe.clone();
            bytes[at] = value;
            assert!(
                std::panic::catch_unwind(|| parse_binary("x.exe", &bytes).map(|_| ())).is_ok(),
                "byte {at}"
            );
        }
    }
    for cut in (0..=16).map(|i| exe.len() * i / 16) {
        assert!(
            std::panic::catch_unwind(|| parse_binary("x.exe", &exe[..cut]).map(|_| ())).is_ok(),
            "cut {cut}"
        );
    }

    // `cargo auditable install ripgrep`: the root came from crates.io.
    let installed = r#"{"packages":[{"name":"ripgrep","version":"13.0.0","source":"crates.io","root":true,"dependencies":[1]},{"name":"regex","version":"1.5.4","source":"crates.io"}]}"#;
    let bin = auditable_elf(dir.path(), installed.as_bytes());
    let (_, p) = parse_binary("rg", &bin).unwrap().unwrap();
    assert_eq!(summary(&p), [("ripgrep", "13.0.0", vec![]), ("regex", "1.5.4", vec![])]);

    // The plain executable: no section, no packages, no error.
    let plain = fs::read(dir.path().join("plain")).unwrap();
    assert!(parse_binary("plain", &plain).unwrap().is_none());
    assert!(parse(InstalledKind::RustBinary, "plain", &plain).unwrap().packages.is_empty());

    // Broken data names the file and what is wrong with it.
    let bin = auditable_elf(dir.path(), b"{\"packages\": [{\"name\": 1}]}");
    let err = parse_binary("usr/bin/broken", &bin).unwrap_err().to_string();
    assert!(err.starts_with("usr/bin/broken: .dep-v0:"), "{err}");

    // A list that inflates past the bound is refused, not decompressed whole.
    let mut bomb = b"{\"packages\":[".to_vec();
    bomb.resize(20 * 1024 * 1024, b' ');
    bomb.extend_from_slice(b"]}");
    let bin = auditable_elf(dir.path(), &bomb);
    assert!(bin.len() < 1024 * 1024, "spaces compress well");
    let err = parse_binary("bomb", &bin).unwrap_err().to_string();
    assert!(err.contains("more than") && err.contains("refused"), "{err}");

    // Cut anywhere, the binary gives its packages, an error or nothing: never a panic.
    let bin = auditable_elf(dir.path(), AUDIT_JSON.as_bytes());
    for cut in (0..=32).map(|i| bin.len() * i / 32) {
        let result = std::panic::catch_unwind(|| parse_binary("cut", &bin[..cut]).map(|_| ()));
        assert!(result.is_ok(), "cut at {cut}");
    }
}

/// Builds zip archives with Python's `zipfile`: `spec` maps each archive
/// path under `dir` to its entries, `[name, text]` or `[name, {"zip": {…}}]`
/// for an archive nested inside (stored, as build tools store jars).
fn zips(dir: &Path, spec: serde_json::Value) {
    let script = r#"
import io, json, sys, zipfile
def build(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in entries:
            if isinstance(body, dict):
                z.writestr(zipfile.ZipInfo(name), build(body["zip"]), compress_type=zipfile.ZIP_STORED)
            elif isinstance(body, list):
                z.writestr(name, body[0] * body[1])
            else:
                z.writestr(name, body)
    return buf.getvalue()
root, spec = sys.argv[1], json.loads(sys.argv[2])
for path, entries in spec.items():
    open(root + "/" + path, "wb").write(build(entries))
"#;
    let status =
        Command::new("python3").arg("-c").arg(script).arg(dir).arg(spec.to_string()).status().unwrap();
    assert!(status.success(), "building the archives");
}

fn pom(group: &str, artifact: &str, version: &str) -> (String, String) {
    (
        format!("META-INF/maven/{group}/{artifact}/pom.properties"),
        format!(
            "#Generated by Maven\n#Mon Dec 06 12:00:00 UTC 2021\ngroupId={group}\nartifactId={artifact}\nversion={version}\n"
        ),
    )
}

/// `(name, version, file_path)` of each package, sorted.
fn located(p: &Parsed) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = p
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.file_path.clone().unwrap_or_default()))
        .collect();
    out.sort();
    out
}

#[test]
fn java_archives_nested_and_named_three_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (log4j_pom, log4j_props) = pom("org.apache.logging.log4j", "log4j-core", "2.14.1");
    let (app_pom, app_props) = pom("com.example", "shop", "1.4.0");
    let log4j = serde_json::json!({"zip": [
        ["META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: 2.14.1\r\nImplementation-Vendor-Id: org.apache.logging.log4j\r\n\r\n"],
        [log4j_pom, log4j_props],
        ["org/apache/logging/log4j/core/Logger.class", "\u{ca}\u{fe}"],
    ]});
    let jackson = serde_json::json!({"zip": [
        ["META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-Name: Jackson-core\r\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-core\r\nBundle-Version: 2.13.4\r\nImplementation-Title: jackson-core\r\nImplementation-Version: 2.13.4\r\n\r\n"],
    ]});
    let mystery = serde_json::json!({"zip": [["com/acme/Thing.class", "x"]]});
    let war = serde_json::json!({"zip": [
        [app_pom, app_props],
        ["WEB-INF/web.xml", "<web-app/>"],
        ["WEB-INF/lib/log4j-core-2.14.1.jar", log4j],
        ["WEB-INF/lib/jackson-core-2.13.4.jar", jackson],
        ["WEB-INF/lib/acme-utils-0.3.1.jar", mystery],
        ["WEB-INF/lib/broken.jar", "not a zip"],
    ]});
    zips(
        dir.path(),
        serde_json::json!({
            "shop.war": war["zip"],
            "shop.ear": [["META-INF/application.xml", "<application/>"], ["shop.war", war]],
            "log4j-core-2.14.1.jar": log4j["zip"],
        }),
    );
    let read = |name: &str| {
        let path = dir.path().join(name);
        parse(InstalledKind::Jar, name, &fs::read(path).unwrap()).unwrap()
    };
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());

    let war = read("shop.war");
    assert_eq!(
        located(&war),
        [
            s("acme-utils", "0.3.1", "shop.war/WEB-INF/lib/acme-utils-0.3.1.jar"),
            s("com.example:shop", "1.4.0", "shop.war"),
            s(
                "com.fasterxml.jackson.core:jackson-core",
                "2.13.4",
                "shop.war/WEB-INF/lib/jackson-core-2.13.4.jar"
            ),
            s("org.apache.logging.log4j:log4j-core", "2.14.1", "shop.war/WEB-INF/lib/log4j-core-2.14.1.jar"),
        ],
        "pom.properties, else the manifest (bundle name up to its last dot as group), else the file name"
    );
    let warnings: Vec<String> = war.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("shop.war/WEB-INF/lib/broken.jar: skipped: not a zip archive"),
        "{warnings:?}"
    );
    let log4j = war.packages.iter().find(|p| p.name.ends_with("log4j-core")).unwrap();
    assert_eq!(log4j.ecosystem, Ecosystem::Maven);
    assert_eq!(log4j.purl(), "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");

    let ear = read("shop.ear");
    let paths: Vec<String> = located(&ear).into_iter().map(|(_, _, p)| p).collect();
    assert!(paths.contains(&"shop.ear/shop.war/WEB-INF/lib/log4j-core-2.14.1.jar".to_string()), "{paths:?}");
    assert_eq!(ear.packages.len(), 4, "the EAR itself names no artifact");

    let jar = read("log4j-core-2.14.1.jar");
    assert_eq!(
        located(&jar),
        [s("org.apache.logging.log4j:log4j-core", "2.14.1", "log4j-core-2.14.1.jar")],
        "the manifest repeats what pom.properties says: one package"
    );
    assert!(parse(InstalledKind::Jar, "x.jar", b"PK\x03\x04 truncated").is_err());
    // Damaged anywhere (the nested jar, the central directory), cut short:
    // packages, warnings or an error, never a panic.
    let bytes = fs::read(dir.path().join("shop.war")).unwrap();
    for at in (0..bytes.len()).step_by(7) {
        for value in [0x00, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] = value;
            let ok = std::panic::catch_unwind(|| parse(InstalledKind::Jar, "d.war", &damaged).map(|_| ()));
            assert!(ok.is_ok(), "byte {at} set to {value:#x}");
        }
    }
    for cut in (0..=16).map(|i| bytes.len() * i / 16) {
        let ok = std::panic::catch_unwind(|| parse(InstalledKind::Jar, "d.war", &bytes[..cut]).map(|_| ()));
        assert!(ok.is_ok(), "cut at {cut}");
    }
    assert_eq!(kind("opt/app/shop.war"), Some(InstalledKind::Jar));
    assert_eq!(kind("usr/share/java/LOG4J.JAR"), Some(InstalledKind::Jar));
    assert_eq!(kind("opt/app/shop.zip"), None);
}

#[test]
fn java_archive_bombs_and_deep_nesting_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = serde_json::json!({"zip": [["META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\nversion=1\n"]]});
    for level in 0..6 {
        deep = serde_json::json!({"zip": [[format!("lib/level{level}.jar"), deep]]});
    }
    // A 2 MiB manifest deflates to a few kilobytes.
    zips(
        dir.path(),
        serde_json::json!({
            "bomb.jar": [["META-INF/maven/g/ok/pom.properties", "groupId=g\nartifactId=ok\nversion=1\n"], ["META-INF/MANIFEST.MF", [" ", 2 * 1024 * 1024]]],
            "deep.jar": deep["zip"],
        }),
    );
    let bomb = fs::read(dir.path().join("bomb.jar")).unwrap();
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let p = parse(InstalledKind::Jar, "opt/bomb.jar", &bomb).unwrap();
    let w: Vec<String> = p.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("opt/bomb.jar: refused: META-INF/MANIFEST.MF decompresses to more than"),
        "{w:?}"
    );

    let p = parse(InstalledKind::Jar, "deep.jar", &fs::read(dir.path().join("deep.jar")).unwrap()).unwrap();
    assert!(p.packages.is_empty(), "the artifact is 7 archives down");
    let w: Vec<String> = p.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect();
    assert_eq!(
        w,
        [
            "deep.jar/lib/level5.jar/lib/level4.jar/lib/level3.jar/lib/level2.jar/lib/level1.jar: nested more than 4 archives deep; not read"
        ]
    );
}

/// As RubyGems 3.x writes it on install (`Gem::Specification#to_ruby`).
const RAKE_GEMSPEC: &str = r#"# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"

  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.2".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "bug_tracker_uri" => "https://github.com/ruby/rake/issues", "source_code_uri" => "https://github.com/ruby/rake/tree/v13.0.6" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Hiroshi SHIBATA".freeze, "Eric Hodel".freeze, "Jim Weirich".freeze]
  s.bindir = "exe".freeze
  s.date = "2021-07-09"
  s.description = "Rake is a Make-like program implemented in Ruby. Tasks and dependencies are\nspecified in standard Ruby syntax.\n".freeze
  s.email = ["hsbt@ruby-lang.org".freeze, "drbrain@segment7.net".freeze, "".freeze]
  s.executables = ["rake".freeze]
  s.files = ["exe/rake".freeze]
  s.homepage = "https://github.com/ruby/rake".freeze
  s.licenses = ["MIT".freeze]
  s.rdoc_options = ["--main".freeze, "README.rdoc".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.2".freeze)
  s.rubygems_version = "3.3.26".freeze
  s.summary = "Rake is a Make-like program implemented in Ruby".freeze

  s.installed_by_version = "3.3.26" if s.respond_to? :installed_by_version
end
"#;

/// As RubyGems 1.x wrote it (Ruby 1.8 era `%q{}` literals).
const OLD_GEMSPEC: &str = r#"# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{json_pure}
  s.version = "1.4.6"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = [%q{Florian Frank}]
  s.date = %q{2010-08-09}
  s.license = %q{Ruby}
  s.rubygems_version = %q{1.3.7}
  s.summary = %q{JSON Implementation for Ruby}

  if s.respond_to? :specification_version then
    s.specification_version = 3
  end
end
"#;

#[test]
fn installed_gem_specifications() {
    let gem = |text: &str| parse(InstalledKind::Gemspec, "specifications/x.gemspec", text.as_bytes());
    let rake = gem(RAKE_GEMSPEC).unwrap();
    assert_eq!(
        summary(&rake),
        [("rake", "13.0.6", vec!["MIT"])],
        "not installed_by_version, not rubygems_version"
    );
    assert_eq!(rake.packages[0].ecosystem, Ecosystem::RubyGems);
    assert_eq!(rake.packages[0].purl(), "pkg:gem/rake@13.0.6");
    assert_eq!(rake.packages[0].locations[0].start_line, 5, "the name line");
    assert_eq!(summary(&gem(OLD_GEMSPEC).unwrap()), [("json_pure", "1.4.6", vec!["Ruby"])]);
    let versioned = "Gem::Specification.new do |spec|\n  spec.name = 'nokogiri'\n  spec.version = Gem::Version.new(\"1.13.10\")\n  spec.license = 'MIT'\nend\n";
    assert_eq!(summary(&gem(versioned).unwrap()), [("nokogiri", "1.13.10", vec!["MIT"])]);
    let err = gem("Gem::Specification.new do |s|\n  s.name = \"x\"\nend\n").unwrap_err();
    assert_eq!(err.to_string(), "specifications/x.gemspec: no name or version assignment");

    let g = Some(InstalledKind::Gemspec);
    for (path, want) in [
        ("usr/local/bundle/specifications/rake-13.0.6.gemspec", g),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", g),
        ("var/lib/gems/3.1.0/specifications/rake-13.0.6.gemspec", g),
        ("app/rake.gemspec", None),
        ("usr/lib/ruby/gems/3.1.0/gems/rake-13.0.6/rake.gemspec", None),
    ] {
        assert_eq!(kind(path), want, "{path}");
    }
}

#[test]
fn conda_package_records() {
    let rel = |name: &str| format!("python/condameta/testdata/{name}");
    let conda = |name: &str| fixture(InstalledKind::Conda, &rel(name));
    let shown = |name: &str| {
        data(&format!("lockfiles/extractor/filesystem/language/{}", rel(name))).display().to_string()
    };

    let valid = conda("valid").unwrap();
    assert_eq!(summary(&valid), [("jupyterlab", "3.1.12", vec!["BSD-3-Clause"])]);
    assert!(valid.warnings.is_empty(), "{:?}", valid.warnings);
    assert_eq!(valid.packages[0].ecosystem, Ecosystem::Conda);
    assert_eq!(valid.packages[0].purl(), "pkg:conda/jupyterlab@3.1.12");

    for name in ["empty", "noname", "noversion"] {
        let p = conda(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.packages.is_empty(), "{name}");
        let warnings: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings, [format!("{}: no name or version: not a package record", shown(name))]);
    }

    let err = conda("invalid").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:1: invalid JSON: expected ident at line 1 column 2", shown("invalid"))
    );

    let record = |text: &str| parse(InstalledKind::Conda, "conda-meta/x-1-0.json", text.as_bytes());
    let p =
        record(r#"{"name": "openssl", "version": "3.0.13", "license": null, "files": ["lib/libssl.so.3"]}"#)
            .unwrap();
    assert_eq!(summary(&p), [("openssl", "3.0.13", vec![])], "no license");
    let p =
        record(r#"{"name": "tzdata", "version": "2024a", "license": ["LicenseRef-Public-Domain"]}"#).unwrap();
    assert_eq!(summary(&p), [("tzdata", "2024a", vec![])], "a license that is not a string is left out");
    let p = record(r#"{"name": 7, "version": "1"}"#).unwrap();
    assert!(p.packages.is_empty() && p.warnings.len() == 1, "a name that is not a string");
    let err = record(r#"["numpy", "1.26.4"]"#).unwrap_err();
    assert_eq!(err.to_string(), "conda-meta/x-1-0.json: not a JSON object");
    let err = record(r#""numpy""#).unwrap_err();
    assert!(err.to_string().starts_with("conda-meta/x-1-0.json:1: invalid JSON: invalid type"), "{err}");

    let c = Some(InstalledKind::Conda);
    for (path, want) in [
        ("opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json", c),
        ("/opt/conda/envs/ml/conda-meta/ca-certificates-2024.2.2-hbcca054_0.json", c),
        ("home/jovyan/.conda/envs/py/conda-meta/_libgcc_mutex-0.1-conda_forge.json", c),
        ("opt/conda/conda-meta/history", None),
        ("opt/conda/conda-meta/pinned", None),
        ("opt/conda/conda-meta/state.json", None),
        ("opt/conda/conda-meta/numpy-1.26.4.json", None),
        ("opt/conda/conda-meta/sub/numpy-1.26.4-py311h64a7726_0.json", None),
        ("opt/conda/pkgs/numpy-1.26.4-py311h64a7726_0/info/index.json", None),
    ] {
        assert_eq!(kind(path), want, "{path}");
    }
    assert!(InstalledKind::Conda.defers_to_os_package());
    assert_eq!(InstalledKind::Conda.trivy_type(), "conda-pkg");
}
