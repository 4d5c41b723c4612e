//! OS detection and OS package databases against the real images in
//! `../shared/data/images` (their ground-truth package lists), the
//! osv-scalibr fixtures in `../shared/data/lockfiles`, and databases built
//! here for what the bundle lacks (rpm SQLite and ndb files).
//!
//! Image files are unpacked with the system `tar`, independently of
//! rampart's own image reader.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rampart_catalog::os::{
    self, DbKind, OsCatalog, advisory_release, attribute_layers, catalog, claims, codename, db_kind, detect,
    end_of_life, parse_db,
};
use rampart_types::{Ecosystem, Layer, Os, Package};

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

fn os_fixture(rel: &str) -> PathBuf {
    data(&format!("lockfiles/extractor/filesystem/os/{rel}"))
}

fn run(cmd: &mut Command) {
    let out = cmd.stderr(Stdio::piped()).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every regular file below `root` that [`claims`] wants, read through
/// symlinks (`etc/os-release` → `../usr/lib/os-release`), as `(path, bytes)`.
fn claimed_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                walk(root, &path, out);
            } else if claims(&rel)
                && let Ok(bytes) = fs::read(&path)
            {
                out.push((rel, bytes));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn catalog_of(files: &[(String, Vec<u8>)]) -> OsCatalog {
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    catalog(&borrowed)
}

/// A minirootfs tarball unpacked, as its claimed files.
fn minirootfs(name: &str) -> Vec<(String, Vec<u8>)> {
    let tarball = data(&format!("images/rootfs/alpine-minirootfs-{name}-x86_64.tar.gz"));
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(dir.path()));
    claimed_files(dir.path())
}

/// The Debian image's single layer, unpacked far enough for the OS files.
fn debian_bookworm() -> Vec<(String, Vec<u8>)> {
    let archive = data("images/debian-bookworm/debian-bookworm.oci.tar");
    let read = |member: &str| {
        let out = Command::new("tar").arg("-xOf").arg(&archive).arg(member).output().unwrap();
        assert!(out.status.success(), "no {member} in {}", archive.display());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let blob = |digest: &serde_json::Value| {
        format!("blobs/sha256/{}", digest.as_str().unwrap().trim_start_matches("sha256:"))
    };
    let index = read("index.json");
    let manifest = read(&blob(&index["manifests"][0]["digest"]));
    let layer = blob(&manifest["layers"][0]["digest"]);
    let dir = tempfile::tempdir().unwrap();
    let script = "tar -xOf \"$1\" \"$2\" | tar -xzf - -C \"$3\" --wildcards etc usr/lib/os-release var/lib/dpkg/status 'var/lib/dpkg/info/*.list'";
    run(Command::new("sh").arg("-c").arg(script).arg("sh").arg(&archive).arg(&layer).arg(dir.path()));
    claimed_files(dir.path())
}

/// Ground-truth rows, header dropped.
fn tsv(name: &str) -> Vec<Vec<String>> {
    let text = fs::read_to_string(data(&format!("images/ground-truth/{name}"))).unwrap();
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

fn only_db(c: &OsCatalog) -> (&str, DbKind, &[os::OsPackage]) {
    assert_eq!(c.databases.len(), 1, "{:?}", c.databases.iter().map(|d| &d.path).collect::<Vec<_>>());
    let db = &c.databases[0];
    (&db.path, db.kind, &db.packages)
}

const ALPINE: &[(&str, &str, &str, usize, bool)] = &[
    ("3.10.9", "3.10.9", "v3.10", 14, true),
    ("3.14.10", "3.14.10", "v3.14", 14, true),
    ("3.18.9", "3.18.9", "v3.18", 15, true),
    ("3.20.3", "3.20.3", "v3.20", 14, false),
    ("20240923", "3.21.0_alpha20240923", "edge", 14, false),
];

#[test]
fn alpine_rootfs_packages_match_ground_truth() {
    for (tarball, os_name, release, count, _) in ALPINE {
        let files = minirootfs(tarball);
        let c = catalog_of(&files);
        assert!(c.warnings.is_empty(), "{tarball}: {:?}", c.warnings);
        let os = c.os.as_ref().unwrap_or_else(|| panic!("{tarball}: no OS"));
        assert_eq!((os.family.as_str(), os.name.as_str()), ("alpine", *os_name), "{tarball}");
        assert_eq!(advisory_release(os), Some((Ecosystem::Alpine, release.to_string())), "{tarball}");

        let (path, kind, pkgs) = only_db(&c);
        assert_eq!((path, kind), ("lib/apk/db/installed", DbKind::Apk));
        let truth = tsv(&format!("alpine-minirootfs-{tarball}.apk-packages.tsv"));
        assert_eq!(pkgs.len(), *count, "{tarball}");
        let got: Vec<Vec<String>> = pkgs
            .iter()
            .map(|p| {
                let pkg = &p.package;
                assert_eq!(pkg.ecosystem, Ecosystem::Alpine);
                assert_eq!(
                    pkg.src_version.as_deref(),
                    Some(pkg.version.as_str()),
                    "origin built at the same version"
                );
                vec![
                    pkg.name.clone(),
                    pkg.version.clone(),
                    p.arch.clone(),
                    pkg.src_name.clone().unwrap_or_default(),
                    pkg.licenses.join(" "),
                ]
            })
            .collect();
        assert_eq!(got, truth, "{tarball}: name, version, arch, origin, license in database order");
        let busybox = pkgs.iter().find(|p| p.package.name == "busybox").unwrap();
        assert!(busybox.files.iter().any(|f| f == "bin/busybox"), "{tarball}: {:?}", busybox.files);
    }
}

#[test]
fn alpine_end_of_life_by_release_branch() {
    for (tarball, os_name, _, _, flagged) in ALPINE {
        let os = Os { family: "alpine".into(), name: os_name.to_string(), eosl: false };
        let eol = end_of_life(&os);
        // Fixed dates: 3.20 reached its end on 2026-04-01, so compare with the table, not the clock.
        assert_eq!(eol.is_some_and(|d| d < (2026, 1, 1)), *flagged, "{tarball}: {eol:?}");
    }
    let alpine = |name: &str| Os { family: "alpine".into(), name: name.into(), eosl: false };
    assert_eq!(end_of_life(&alpine("3.20.3")), Some((2026, 4, 1)));
    assert_eq!(end_of_life(&alpine("3.21.0_alpha20240923")), None, "edge never ends");
    assert_eq!(end_of_life(&alpine("2.7.1")), Some((2016, 5, 1)));
    assert_eq!(end_of_life(&alpine("4.0.0")), None, "unknown future releases are not flagged");

    let files = minirootfs("3.10.9");
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    let os = detect(|p| borrowed.iter().find(|(q, _)| *q == p).map(|(_, c)| *c)).unwrap();
    assert!(os.eosl, "3.10 ended in 2021, whatever today is");
}

#[test]
fn debian_bookworm_packages_match_ground_truth() {
    let files = debian_bookworm();
    let c = catalog_of(&files);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let os = c.os.clone().unwrap();
    assert_eq!(
        (os.family.as_str(), os.name.as_str()),
        ("debian", "12.15"),
        "point release from debian_version"
    );
    assert_eq!(advisory_release(&os), Some((Ecosystem::Debian, "12".to_string())));
    assert_eq!(codename(&os), Some("bookworm"));
    assert_eq!(end_of_life(&os), Some((2028, 6, 30)));

    let (path, kind, pkgs) = only_db(&c);
    assert_eq!((path, kind), ("var/lib/dpkg/status", DbKind::Dpkg));
    let truth = tsv("debian-bookworm.dpkg-packages.tsv");
    assert_eq!(truth.len(), 88);
    let mut got: Vec<Vec<String>> = pkgs
        .iter()
        .map(|p| {
            let pkg = &p.package;
            assert_eq!(pkg.ecosystem, Ecosystem::Debian);
            let (src, src_version) = (pkg.src_name.clone().unwrap(), pkg.src_version.clone().unwrap());
            // The truth keeps the raw field: `name` or `name (version)` when they differ.
            let source = if src_version == pkg.version { src } else { format!("{src} ({src_version})") };
            vec![pkg.name.clone(), pkg.version.clone(), p.arch.clone(), source, "install ok installed".into()]
        })
        .collect();
    got.sort();
    let mut truth = truth;
    truth.sort();
    assert_eq!(got, truth);

    let get = |name: &str| &pkgs.iter().find(|p| p.package.name == name).unwrap().package;
    let libcap2 = get("libcap2");
    assert_eq!(libcap2.version, "1:2.66-4+deb12u3+b1");
    assert_eq!(libcap2.src_version.as_deref(), Some("1:2.66-4+deb12u3"), "source version with its epoch");
    assert_eq!(get("libattr1").src_version.as_deref(), Some("1:2.5.1-4"), "no source version: the binary's");
    let bash = pkgs.iter().find(|p| p.package.name == "bash").unwrap();
    assert!(bash.files.iter().any(|f| f == "bin/bash"), "files from info/bash.list");
    let libc = pkgs.iter().find(|p| p.package.name == "libc6").unwrap();
    assert!(!libc.files.is_empty(), "files from info/libc6:amd64.list");
}

#[test]
fn os_detection_of_other_distributions() {
    let detect_in =
        |files: &[(&str, &str)]| detect(|p| files.iter().find(|(q, _)| *q == p).map(|(_, c)| c.as_bytes()));
    let release = advisory_release;

    let ubuntu = detect_in(&[
        ("etc/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n"),
        ("etc/debian_version", "bookworm/sid\n"),
        ("etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"),
    ])
    .unwrap();
    assert_eq!((ubuntu.family.as_str(), ubuntu.name.as_str()), ("ubuntu", "22.04"));
    assert_eq!(release(&ubuntu), Some((Ecosystem::Ubuntu, "22.04:LTS".into())));
    assert_eq!(codename(&ubuntu), Some("jammy"));
    let mantic = Os { family: "ubuntu".into(), name: "23.10".into(), eosl: false };
    assert_eq!(release(&mantic), Some((Ecosystem::Ubuntu, "23.10".into())), "not LTS");
    assert_eq!(end_of_life(&mantic), Some((2024, 7, 11)));

    let legacy_ubuntu =
        detect_in(&[("etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\n")]).unwrap();
    assert_eq!(legacy_ubuntu.name, "14.04");
    assert!(legacy_ubuntu.eosl);

    let centos = detect_in(&[("etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n")]).unwrap();
    assert_eq!((centos.family.as_str(), centos.name.as_str()), ("centos", "7.9.2009"));
    assert_eq!(release(&centos), Some((Ecosystem::RedHat, "7".into())));
    assert!(centos.eosl, "CentOS 7 ended in 2024");

    let rhel = detect_in(&[
        ("usr/lib/os-release", "ID=\"rhel\"\nVERSION_ID=\"8.6\"\n"),
        ("etc/redhat-release", "Red Hat Enterprise Linux release 8.6 (Ootpa)\n"),
    ])
    .unwrap();
    assert_eq!((rhel.family.as_str(), rhel.name.as_str()), ("redhat", "8.6"));
    assert_eq!(release(&rhel), Some((Ecosystem::RedHat, "8".into())));

    let alma = detect_in(&[("etc/os-release", "ID=\"almalinux\"\nVERSION_ID=\"9.4\"\n")]).unwrap();
    assert_eq!((alma.family.as_str(), release(&alma)), ("alma", Some((Ecosystem::AlmaLinux, "9".into()))));

    let testing = detect_in(&[
        ("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\n"),
        ("etc/debian_version", "trixie/sid\n"),
    ])
    .unwrap();
    assert_eq!(testing.name, "trixie/sid");
    assert_eq!(release(&testing), Some((Ecosystem::Debian, "13".into())), "codename mapped to its number");

    let wolfi = detect_in(&[("etc/os-release", "ID=wolfi\nNAME=\"Wolfi\"\nVERSION_ID=20230201\n")]).unwrap();
    assert_eq!(release(&wolfi), Some((Ecosystem::Wolfi, String::new())), "rolling: no release");

    let amazon = detect_in(&[("etc/os-release", "ID=\"amzn\"\nVERSION_ID=\"2023\"\n")]).unwrap();
    assert_eq!(amazon.family, "amazon");
    assert_eq!(release(&amazon), None, "no advisory source for Amazon Linux here");

    assert_eq!(detect_in(&[]), None);
    assert_eq!(detect_in(&[("etc/os-release", "garbage without an id\n")]), None);
    let binary = [0xffu8, 0xfe, 0, 1];
    assert_eq!(detect(|p| (p == "etc/os-release").then_some(&binary[..])), None);
}

#[test]
fn claims_and_db_kinds() {
    for path in [
        "etc/os-release",
        "./usr/lib/os-release",
        "/etc/alpine-release",
        "etc/debian_version",
        "etc/redhat-release",
        "lib/apk/db/installed",
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/base",
        "var/lib/dpkg/info/libc6:amd64.list",
        "var/lib/rpm/Packages",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/Packages.db",
    ] {
        assert!(claims(path), "{path}");
    }
    for path in [
        "etc/os-release.bak",
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/status.d/base.md5sums",
        "var/lib/dpkg/info/libc6:amd64.md5sums",
        "var/lib/rpm/Packages.bak",
        "home/user/lib/apk/db/installed",
    ] {
        assert!(!claims(path), "{path}");
    }
    assert_eq!(db_kind("./var/lib/dpkg/status.d/tzdata"), Some(DbKind::Dpkg));
    assert_eq!(db_kind("var/lib/rpm/Packages"), Some(DbKind::RpmBdb));
    assert_eq!(db_kind("var/lib/rpm/Packages.db"), Some(DbKind::RpmNdb));
    assert_eq!(db_kind("usr/lib/sysimage/rpm/rpmdb.sqlite"), Some(DbKind::RpmSqlite));
    assert_eq!(db_kind("etc/os-release"), None);
}

fn parse_fixture(kind: DbKind, rel: &str) -> Result<os::OsPackages, rampart_catalog::CatalogError> {
    let path = os_fixture(rel);
    parse_db(kind, &path.display().to_string(), &fs::read(&path).unwrap(), kind_ecosystem(kind))
}

fn kind_ecosystem(kind: DbKind) -> Ecosystem {
    match kind {
        DbKind::Apk => Ecosystem::Alpine,
        DbKind::Dpkg => Ecosystem::Debian,
        _ => Ecosystem::RedHat,
    }
}

fn ids(p: &os::OsPackages) -> Vec<String> {
    p.packages.iter().map(|p| p.package.id()).collect()
}

#[test]
fn apk_fixtures() {
    let p = parse_fixture(DbKind::Apk, "apk/testdata/installed").unwrap();
    assert_eq!(p.packages.len(), 15);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let base = &p.packages[0];
    assert_eq!(base.package.id(), "alpine-baselayout@3.4.3-r1");
    assert!(base.files.iter().any(|f| f == "etc/motd"), "R: lines joined to their F: directory");
    assert!(base.files.iter().any(|f| f == "etc/modprobe.d/aliases.conf"));

    let p = parse_fixture(DbKind::Apk, "apk/testdata/single").unwrap();
    assert_eq!(ids(&p), ["alpine-baselayout-data@3.4.3-r1"]);
    assert_eq!(p.packages[0].package.licenses, ["GPL-2.0-only"]);
    assert_eq!(p.packages[0].package.src_name.as_deref(), Some("alpine-baselayout"));

    let p = parse_fixture(DbKind::Apk, "apk/testdata/no-origin").unwrap();
    assert_eq!(ids(&p), ["pkgname@1.2.3"]);
    assert_eq!(p.packages[0].package.src_name, None, "no o: line, no source");

    let p = parse_fixture(DbKind::Apk, "apk/testdata/different-arch").unwrap();
    assert_eq!(p.packages.len(), 1);
    assert_eq!(p.packages[0].arch, "noarch");

    assert!(parse_fixture(DbKind::Apk, "apk/testdata/empty").unwrap().packages.is_empty());
    assert!(parse_fixture(DbKind::Apk, "apk/testdata/invalid").is_err());

    let text = "P:a\nV:1-r0\n\nV:2-r0\nA:x86_64\n\nP:b\n\nP:c\nV:3-r0\n";
    let p = parse_db(DbKind::Apk, "installed", text.as_bytes(), Ecosystem::Wolfi).unwrap();
    assert_eq!(ids(&p), ["a@1-r0", "c@3-r0"]);
    assert_eq!(p.packages[0].package.ecosystem, Ecosystem::Wolfi);
    let lines: Vec<Option<u32>> = p.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(4), Some(7)], "entries without P: or V: are reported at their first line");
}

#[test]
fn dpkg_fixtures() {
    let p = parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/valid").unwrap();
    assert_eq!(
        ids(&p),
        [
            "accountsservice@22.08.8-6",
            "acl@2.3.1-3",
            "adduser@3.131",
            "admin-session@2023.06.26.c543406313-00",
            "attr@1:2.5.1-4",
            "libacl1@2.3.1-3",
            "util-linux-extra@2.38.1-5+b1",
        ]
    );
    let get = |name: &str| &p.packages.iter().find(|x| x.package.name == name).unwrap().package;
    assert_eq!(get("libacl1").src_name.as_deref(), Some("acl"));
    assert_eq!(get("libacl1").src_version.as_deref(), Some("2.3.1-3"));
    assert_eq!(get("util-linux-extra").src_name.as_deref(), Some("util-linux"));
    assert_eq!(get("util-linux-extra").src_version.as_deref(), Some("2.38.1-5"));
    assert_eq!(get("attr").src_name.as_deref(), Some("attr"), "no Source: the package itself");
    assert_eq!(p.packages[2].arch, "all");

    let p = parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/statusfield").unwrap();
    assert_eq!(ids(&p), ["wantinstall_installed@1.0", "wantnostatus@1.0"], "no Status: as distroless writes");

    for (fixture, line) in [("nopackage", 5), ("noversion", 5)] {
        let p = parse_fixture(DbKind::Dpkg, &format!("dpkg/testdata/dpkg/{fixture}")).unwrap();
        assert_eq!(ids(&p), ["foo@1.0", "bar@2.0"], "{fixture}");
        assert_eq!(p.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [Some(line)], "{fixture}");
    }

    let p = parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/status.d/foo").unwrap();
    assert_eq!(ids(&p), ["foo@1.2.3"]);
    for fixture in ["single", "trailingnewlines", "transitional", "transitional_dummy", "transitional_empty"]
    {
        let p = parse_fixture(DbKind::Dpkg, &format!("dpkg/testdata/dpkg/{fixture}")).unwrap();
        assert_eq!(p.packages.len(), 1, "{fixture}");
    }
    assert_eq!(
        parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/transitional_dummy").unwrap().packages[0]
            .package
            .src_name,
        Some("git".into())
    );
    let p = parse_fixture(DbKind::Dpkg, "dpkg/testdata/opkg/valid").unwrap();
    assert_eq!(
        ids(&p),
        ["ubus@2024.10.20~252a9b0c-r1", "libuci20130104@2023.08.10~5781664d-r1", "busybox@1.36.1-r2"]
    );
    assert!(parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/empty").unwrap().packages.is_empty());
    assert!(parse_fixture(DbKind::Dpkg, "dpkg/testdata/dpkg/invalid").is_err());
    assert!(parse_fixture(DbKind::Dpkg, "dpkg/testdata/opkg/invalid").is_err());
}

#[test]
fn rpm_berkeley_db_fixture() {
    let p = parse_fixture(DbKind::RpmBdb, "rpm/testdata/Packages_epoch").unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // A second header (dive) sits on a freed page: it is not installed.
    assert_eq!(ids(&p), ["hello@1:0.0.1-rls"]);
    let hello = &p.packages[0];
    assert_eq!(hello.package.src_name.as_deref(), Some("hello"));
    assert_eq!(hello.package.src_version.as_deref(), Some("1:0.0.1-rls"));
    assert_eq!(hello.package.licenses, ["GPL"]);
    assert_eq!(hello.arch, "x86_64");
    assert_eq!(hello.files, ["usr/bin/hello.sh"]);

    assert!(parse_fixture(DbKind::RpmBdb, "rpm/testdata/invalid").is_err());
    assert!(parse_fixture(DbKind::RpmSqlite, "rpm/testdata/empty.sqlite").is_err());
    assert!(parse_fixture(DbKind::RpmSqlite, "rpm/testdata/Packages_epoch").is_err(), "not SQLite");
    assert!(parse_fixture(DbKind::RpmNdb, "rpm/testdata/Packages_epoch").is_err(), "not ndb");
}

/// Every fixture, and cuts of it, parsed as every format: no panic.
#[test]
fn fixtures_and_truncations_never_panic() {
    let mut files = Vec::new();
    for dir in [
        "apk/testdata",
        "dpkg/testdata/dpkg",
        "dpkg/testdata/dpkg/status.d",
        "dpkg/testdata/opkg",
        "rpm/testdata",
    ] {
        for entry in fs::read_dir(os_fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(fs::read(&path).unwrap());
            }
        }
    }
    files.push(sqlite_db(1024, &packages(40)));
    files.push(ndb(&packages(5)));
    for bytes in &files {
        let len = bytes.len();
        let mut cuts: Vec<usize> = (0..=32).map(|i| len * i / 32).collect();
        cuts.extend((0..len.min(48)).map(|i| len - i));
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            for kind in [DbKind::Apk, DbKind::Dpkg, DbKind::RpmBdb, DbKind::RpmSqlite, DbKind::RpmNdb] {
                let result = std::panic::catch_unwind(|| {
                    parse_db(kind, "db", &bytes[..cut], Ecosystem::RedHat).is_ok()
                });
                assert!(result.is_ok(), "{kind:?} panicked at {cut} of {len} bytes");
            }
        }
    }
}

/// Databases with bytes overwritten at pseudo-random places: any outcome
/// but a panic or a hang.
#[test]
fn corrupted_databases_never_panic() {
    let bdb = fs::read(os_fixture("rpm/testdata/Packages_epoch")).unwrap();
    let cases = [
        (DbKind::RpmBdb, bdb),
        (DbKind::RpmSqlite, sqlite_db(1024, &packages(30))),
        (DbKind::RpmNdb, ndb(&packages(4))),
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (kind, original) in &cases {
        for round in 0..400 {
            let mut bytes = original.clone();
            for _ in 0..1 + round % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let result =
                std::panic::catch_unwind(|| parse_db(*kind, "db", &bytes, Ecosystem::RedHat).is_ok());
            assert!(result.is_ok(), "{kind:?} panicked in round {round}");
        }
    }
}

/// A value of an rpm header entry.
enum Val<'a> {
    Int(&'a [u32]),
    Str(&'a str),
    Array(&'a [&'a str]),
}

/// An rpm header blob: `il`, `dl`, the index entries, the data store.
fn rpm_header(entries: &[(u32, Val<'_>)]) -> Vec<u8> {
    let (mut index, mut store) = (Vec::new(), Vec::new());
    for (tag, value) in entries {
        let (ty, count) = match value {
            Val::Int(v) => {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
                (4u32, v.len())
            }
            Val::Str(_) => (6, 1),
            Val::Array(v) => (8, v.len()),
        };
        for n in [*tag, ty, store.len() as u32, count as u32] {
            index.extend_from_slice(&n.to_be_bytes());
        }
        match value {
            Val::Int(v) => v.iter().for_each(|n| store.extend_from_slice(&n.to_be_bytes())),
            Val::Str(s) => store.extend_from_slice(format!("{s}\0").as_bytes()),
            Val::Array(v) => v.iter().for_each(|s| store.extend_from_slice(format!("{s}\0").as_bytes())),
        }
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    blob.extend_from_slice(&(store.len() as u32).to_be_bytes());
    blob.extend(index);
    blob.extend(store);
    blob
}

/// `n` package headers; package 3 has an epoch, package 1 a license long
/// enough to spill into overflow pages, and the last one is a gpg-pubkey.
fn packages(n: usize) -> Vec<Vec<u8>> {
    let long_license = "MIT ".repeat(3000);
    (0..n)
        .map(|i| {
            let name = if i + 1 == n { "gpg-pubkey".to_string() } else { format!("pkg{i}") };
            let source = format!("src{}-1.{i}-2.el9.src.rpm", i / 10);
            let version = format!("1.{i}");
            let mut entries = vec![
                (1000, Val::Str(&name)),
                (1001, Val::Str(&version)),
                (1002, Val::Str("2.el9")),
                (1014, Val::Str(if i == 1 { &long_license } else { "GPLv2+" })),
                (1022, Val::Str("x86_64")),
                (1044, Val::Str(&source)),
                (1116, Val::Int(&[0, 1])),
                (1117, Val::Array(&["a", "b"])),
                (1118, Val::Array(&["/usr/bin/", "/etc/"])),
            ];
            if i == 3 {
                entries.push((1003, Val::Int(&[7])));
            }
            rpm_header(&entries)
        })
        .collect()
}

/// A SQLite database shaped like rpm's, written by the `sqlite3` program.
fn sqlite_db(page_size: u32, blobs: &[Vec<u8>]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    let mut sql = format!(
        "PRAGMA page_size={page_size};\n\
         CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);\n\
         CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL);\n"
    );
    for blob in blobs {
        let hex: String = blob.iter().map(|b| format!("{b:02X}")).collect();
        sql.push_str(&format!("INSERT INTO Packages (blob) VALUES (X'{hex}');\n"));
        sql.push_str("INSERT INTO Name VALUES ('x', last_insert_rowid(), 0);\n");
    }
    let script = dir.path().join("init.sql");
    fs::write(&script, sql).unwrap();
    let out = Command::new("sqlite3")
        .arg(&path)
        .arg(format!(".read {}", script.display()))
        .output()
        .expect("these tests need the sqlite3 program to build rpm databases");
    assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    fs::read(&path).unwrap()
}

/// An ndb `Packages.db`: one slot page, then the blobs, 16-byte blocks.
fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut file = vec![0u8; 4096];
    file[..4].copy_from_slice(b"RpmP");
    file[12..16].copy_from_slice(&1u32.to_le_bytes());
    for (i, blob) in blobs.iter().enumerate() {
        let idx = i as u32 + 1;
        let offset = file.len() / 16;
        let mut record = Vec::new();
        record.extend_from_slice(b"BlbS");
        record.extend_from_slice(&idx.to_le_bytes());
        record.extend_from_slice(&1u32.to_le_bytes());
        record.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        record.extend_from_slice(blob);
        record.extend_from_slice(&[0; 12]); // rpm's tail: checksum, length, magic
        while record.len() % 16 != 0 {
            record.push(0);
        }
        let slot = 32 + 16 * i;
        file[slot..slot + 4].copy_from_slice(b"Slot");
        file[slot + 4..slot + 8].copy_from_slice(&idx.to_le_bytes());
        file[slot + 8..slot + 12].copy_from_slice(&(offset as u32).to_le_bytes());
        file[slot + 12..slot + 16].copy_from_slice(&((record.len() / 16) as u32).to_le_bytes());
        file.extend(record);
    }
    file
}

fn check_rpm_packages(p: &os::OsPackages, n: usize) {
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.packages.len(), n - 1, "all but the gpg-pubkey");
    for (i, pkg) in p.packages.iter().enumerate() {
        let epoch = if i == 3 { "7:" } else { "" };
        assert_eq!(pkg.package.name, format!("pkg{i}"));
        assert_eq!(pkg.package.version, format!("{epoch}1.{i}-2.el9"));
        assert_eq!(pkg.package.src_name.as_deref(), Some(format!("src{}", i / 10).as_str()));
        assert_eq!(pkg.package.src_version.as_deref(), Some(format!("{epoch}1.{i}-2.el9").as_str()));
        assert_eq!(pkg.files, ["usr/bin/a", "etc/b"]);
        assert_eq!(pkg.arch, "x86_64");
    }
    assert_eq!(p.packages[1].package.licenses[0].len(), 11_999, "the overflowing value read whole");
    assert_eq!(p.packages[0].package.licenses, ["GPLv2+"]);
}

#[test]
fn rpm_sqlite_databases() {
    // 1024-byte pages: 300 rows need interior pages and the long license overflow pages.
    for (page_size, n) in [(1024, 300), (4096, 12), (65536, 3)] {
        let db = sqlite_db(page_size, &packages(n));
        let p = parse_db(DbKind::RpmSqlite, "rpmdb.sqlite", &db, Ecosystem::Rocky).unwrap();
        check_rpm_packages(&p, n);
        assert!(p.packages.iter().all(|p| p.package.ecosystem == Ecosystem::Rocky));
    }
    let mut db = sqlite_db(1024, &packages(12));
    db.truncate(3 * 1024);
    let outcome = parse_db(DbKind::RpmSqlite, "rpmdb.sqlite", &db, Ecosystem::Rocky);
    assert!(outcome.is_err(), "a b-tree page past the end of the file");

    let no_table = {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite");
        run(Command::new("sqlite3").arg(&path).arg("CREATE TABLE Other (a BLOB);"));
        fs::read(path).unwrap()
    };
    let err = parse_db(DbKind::RpmSqlite, "x.sqlite", &no_table, Ecosystem::RedHat).unwrap_err();
    assert!(err.to_string().contains("no Packages table"), "{err}");
}

#[test]
fn rpm_ndb_database() {
    let file = ndb(&packages(8));
    let p = parse_db(DbKind::RpmNdb, "Packages.db", &file, Ecosystem::RedHat).unwrap();
    check_rpm_packages(&p, 8);

    let mut damaged = file.clone();
    let first_blob = 4096;
    damaged[first_blob..first_blob + 4].copy_from_slice(b"XXXX");
    let p = parse_db(DbKind::RpmNdb, "Packages.db", &damaged, Ecosystem::RedHat).unwrap();
    assert_eq!(p.packages.len(), 6, "the damaged blob is lost, the others read");
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn damaged_rpm_headers_are_warnings() {
    let mut blobs = packages(4);
    blobs[0].truncate(20);
    blobs[1] = rpm_header(&[(1001, Val::Str("1.0"))]);
    let db = sqlite_db(4096, &blobs);
    let p = parse_db(DbKind::RpmSqlite, "rpmdb.sqlite", &db, Ecosystem::RedHat).unwrap();
    assert_eq!(ids(&p), ["pkg2@1.2-2.el9"]);
    let messages: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("cut short"), "{messages:?}");
    assert!(messages[1].contains("no name"), "{messages:?}");
}

#[test]
fn catalog_prefers_the_current_rpm_database_and_the_os_ecosystem() {
    let sqlite = sqlite_db(4096, &packages(3));
    let bdb = fs::read(os_fixture("rpm/testdata/Packages_epoch")).unwrap();
    let files: Vec<(&str, &[u8])> = vec![
        ("etc/os-release", b"NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"),
        ("etc/rocky-release", b"Rocky Linux release 9.3 (Blue Onyx)\n"),
        ("var/lib/rpm/Packages", &bdb),
        ("/usr/lib/sysimage/rpm/rpmdb.sqlite", &sqlite),
    ];
    let c = catalog(&files);
    let os = c.os.clone().unwrap();
    assert_eq!((os.family.as_str(), os.name.as_str()), ("rocky", "9.3"));
    assert_eq!(advisory_release(&os), Some((Ecosystem::Rocky, "9".into())));
    let (path, kind, pkgs) = only_db(&c);
    assert_eq!((path, kind), ("usr/lib/sysimage/rpm/rpmdb.sqlite", DbKind::RpmSqlite));
    assert_eq!(pkgs.len(), 2);
    assert!(c.packages().all(|p| p.package.ecosystem == Ecosystem::Rocky));

    // A database the OS's package manager did not write keeps its format's ecosystem.
    let status = "Package: a\nStatus: install ok installed\nVersion: 1\n\n\
                  Package: m\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n\n\
                  Package: m\nStatus: install ok installed\nArchitecture: i386\nVersion: 2\n";
    let files: Vec<(&str, &[u8])> = vec![
        ("etc/os-release", b"ID=ubuntu\nVERSION_ID=\"24.04\"\n"),
        ("var/lib/dpkg/status", status.as_bytes()),
        ("var/lib/dpkg/info/m:amd64.list", b"/usr/lib/x86_64-linux-gnu/m.so\n"),
        ("var/lib/dpkg/info/m:i386.list", b"/usr/lib/i386-linux-gnu/m.so\n"),
        ("lib/apk/db/installed", b"P:b\nV:2-r0\n"),
        ("var/lib/dpkg/info/a.list", b"/.\n/usr\n/usr/bin/a\n"),
        ("var/lib/dpkg/status.d/c", b"garbage\n"),
    ];
    let c = catalog(&files);
    let eco: Vec<(&str, Ecosystem)> =
        c.packages().map(|p| (p.package.name.as_str(), p.package.ecosystem)).collect();
    assert_eq!(
        eco,
        [
            ("b", Ecosystem::Alpine),
            ("a", Ecosystem::Ubuntu),
            ("m", Ecosystem::Ubuntu),
            ("m", Ecosystem::Ubuntu)
        ]
    );
    let files: Vec<&[String]> = c.packages().map(|p| p.files.as_slice()).collect();
    assert_eq!(files[1], ["usr", "usr/bin/a"]);
    assert_eq!(files[2], ["usr/lib/x86_64-linux-gnu/m.so"], "a multi-arch list goes to its architecture");
    assert_eq!(files[3], ["usr/lib/i386-linux-gnu/m.so"]);
    assert!(c.owned_files().contains("usr/bin/a"));
    assert_eq!(c.warnings.len(), 1, "the unreadable status.d file: {:?}", c.warnings);
    assert_eq!(
        c.warnings[0].to_string(),
        "var/lib/dpkg/status.d/c:1: not a dpkg status file: no `Field: value` lines"
    );
}

#[test]
fn layers_that_installed_each_package() {
    let layer = |n: &str| Layer { digest: format!("sha256:{n}"), ..Layer::default() };
    let pkg = |name: &str, version: &str| Package::new(Ecosystem::Alpine, name, version);
    let history = vec![
        (layer("base"), vec![pkg("musl", "1.0"), pkg("zlib", "1.2"), pkg("curl", "8.0")]),
        (layer("upgrade"), vec![pkg("musl", "1.1"), pkg("zlib", "1.2"), pkg("curl", "8.0")]),
        (layer("remove"), vec![pkg("musl", "1.1"), pkg("zlib", "1.2")]),
        (layer("reinstall"), vec![pkg("musl", "1.1"), pkg("zlib", "1.2"), pkg("curl", "8.0")]),
    ];
    let mut final_list = vec![pkg("musl", "1.1"), pkg("zlib", "1.2"), pkg("curl", "8.0"), pkg("ghost", "1")];
    attribute_layers(&mut final_list, &history);
    let got: Vec<(&str, &str)> =
        final_list.iter().map(|p| (p.name.as_str(), p.layer.digest.as_str())).collect();
    assert_eq!(
        got,
        [("musl", "sha256:upgrade"), ("zlib", "sha256:base"), ("curl", "sha256:reinstall"), ("ghost", "")]
    );
}
