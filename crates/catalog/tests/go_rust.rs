//! go.mod and Cargo.lock parsers against the osv-scalibr fixtures in
//! `../shared/data`, plus hand-written files for what the fixtures lack.

mod common;

use std::fs;

use common::*;
use rampart_catalog::{LockfileKind, Parsed, parse};
use rampart_types::Ecosystem;

const GOMOD: &str = "golang/gomod";
const CARGO: &str = "rust/cargolock";

fn gomod(name: &str) -> Parsed {
    ok(LockfileKind::GoMod, GOMOD, name)
}

fn cargo(name: &str) -> Parsed {
    ok(LockfileKind::CargoLock, CARGO, name)
}

/// `(id, indirect)` sorted by id.
fn with_indirect(parsed: &Parsed) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = parsed.packages.iter().map(|p| (p.id(), p.indirect)).collect();
    out.sort();
    out
}

/// Writes `go.mod` (and optionally `go.sum`) into a fresh folder and parses it there.
fn gomod_in_dir(go_mod: &str, go_sum: Option<&str>) -> Parsed {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("go.mod");
    fs::write(&path, go_mod).unwrap();
    if let Some(sum) = go_sum {
        fs::write(dir.path().join("go.sum"), sum).unwrap();
    }
    parse(LockfileKind::GoMod, &path, "app/go.mod", go_mod.as_bytes()).unwrap()
}

// ---------------------------------------------------------------- go.mod

#[test]
fn gomod_every_fixture() {
    for path in fixture_files(GOMOD).into_iter().filter(|p| p.extension().is_some_and(|e| e == "mod")) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        match parse_path(LockfileKind::GoMod, &path) {
            Ok(parsed) => {
                assert_ne!(name, "not-go-mod.mod", "should be rejected");
                assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
                assert!(parsed.packages.iter().all(|p| p.ecosystem == Ecosystem::Go));
            }
            Err(e) => assert_eq!(name, "not-go-mod.mod", "{e}"),
        }
    }
    assert_eq!(malformed_line(fixture(LockfileKind::GoMod, GOMOD, "not-go-mod.mod")), Some(1));
    assert!(gomod("empty.mod").packages.is_empty());
}

#[test]
fn gomod_requires_with_locations() {
    let one = gomod("one-package.mod");
    assert_eq!(ids(&one), ["github.com/BurntSushi/toml@v1.0.0"]);
    assert_eq!(lines(&one, "github.com/BurntSushi/toml", "v1.0.0"), [(4, 4)]);

    // `go 1.17` predates the `go` line being a toolchain minimum: no stdlib.
    let two = gomod("two-packages.mod");
    assert_eq!(ids(&two), ["github.com/BurntSushi/toml@v1.0.0", "gopkg.in/yaml.v2@v2.4.0"]);
    assert_eq!(lines(&two, "gopkg.in/yaml.v2", "v2.4.0"), [(7, 7)]);
}

#[test]
fn gomod_indirect_comments() {
    assert_eq!(
        with_indirect(&gomod("indirect-packages.mod")),
        [
            ("github.com/BurntSushi/toml@v1.0.0".into(), false),
            ("github.com/mattn/go-colorable@v0.1.9".into(), true),
            ("github.com/mattn/go-isatty@v0.0.14".into(), true),
            ("golang.org/x/sys@v0.0.0-20210630005230-0f9fa26af87c".into(), true),
            ("gopkg.in/yaml.v2@v2.4.0".into(), false),
        ]
    );
    let go123 = gomod("indirect-1.23.mod");
    assert_eq!(
        with_indirect(&go123),
        [
            ("github.com/sirupsen/logrus@v1.9.3".into(), false),
            ("golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8".into(), true),
            ("stdlib@1.23.0".into(), false),
        ]
    );
    assert_eq!(lines(&go123, "stdlib", "1.23.0"), [(3, 3)]);
}

#[test]
fn gomod_replace_directives() {
    assert_eq!(ids(&gomod("replace-one.mod")), ["example.com/fork/net@v1.4.5"]);
    assert_eq!(
        ids(&gomod("replace-different.mod")),
        ["example.com/fork/foe@v1.4.2", "example.com/fork/foe@v1.4.5"]
    );
    // A versioned replace touches only that version.
    assert_eq!(ids(&gomod("replace-mixed.mod")), ["example.com/fork/net@v1.4.5", "golang.org/x/net@v0.5.6"]);
    // A versionless one replaces every version; both requires land on one module.
    let all = gomod("replace-no-version.mod");
    assert_eq!(ids(&all), ["example.com/fork/net@v1.4.5"]);
    assert_eq!(lines(&all, "example.com/fork/net", "v1.4.5"), [(2, 2), (3, 3)]);
    assert_eq!(
        ids(&gomod("replace-not-required.mod")),
        ["github.com/BurntSushi/toml@v1.0.0", "golang.org/x/net@v0.5.6"]
    );
    // A local directory replacing a module is the project's own code.
    assert_eq!(ids(&gomod("replace-local.mod")), ["github.com/BurntSushi/toml@v1.0.0"]);
}

#[test]
fn gomod_toolchain_becomes_stdlib() {
    for name in ["toolchain.mod", "toolchain-with-suffix.mod"] {
        let parsed = gomod(name);
        assert_eq!(ids(&parsed), ["github.com/BurntSushi/toml@v1.0.0", "stdlib@1.23.6"], "{name}");
        assert_eq!(lines(&parsed, "stdlib", "1.23.6"), [(5, 5)], "{name}");
    }
    let bare = text(LockfileKind::GoMod, "module m\n\ngo 1.21\n").unwrap();
    assert_eq!(ids(&bare), ["stdlib@1.21.0"]);
    let rc = text(LockfileKind::GoMod, "module m\ngo 1.22rc1\n").unwrap();
    assert_eq!(ids(&rc), ["stdlib@1.22.0-rc.1"]);
    let default = text(LockfileKind::GoMod, "module m\ngo 1.22.4\ntoolchain default\n").unwrap();
    assert_eq!(ids(&default), ["stdlib@1.22.4"]);
    assert!(text(LockfileKind::GoMod, "module m\ngo 1.20\n").unwrap().packages.is_empty());
}

#[test]
fn gomod_before_117_adds_go_sum_modules_as_indirect() {
    let dir = fixture_dir(GOMOD);
    let go_mod = fs::read_to_string(dir.join("indirect-1.16.mod")).unwrap();
    let go_sum = fs::read_to_string(dir.join("indirect-1.16.sum")).unwrap();
    let parsed = gomod_in_dir(&go_mod, Some(&go_sum));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    // Modules with only a `/go.mod` checksum (objx, check.v1) were never built.
    assert_eq!(
        with_indirect(&parsed),
        [
            ("github.com/davecgh/go-spew@v1.1.1".into(), true),
            ("github.com/pmezard/go-difflib@v1.0.0".into(), true),
            ("github.com/sirupsen/logrus@v1.9.3".into(), false),
            ("github.com/stretchr/testify@v1.7.0".into(), true),
            ("golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8".into(), true),
            ("gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c".into(), true),
        ]
    );
    assert!(get(&parsed, "github.com/davecgh/go-spew", "v1.1.1").locations.is_empty());

    // From 1.17 go.mod is complete; a broken go.sum is not even read.
    let go_mod = fs::read_to_string(dir.join("indirect-1.23.mod")).unwrap();
    let go_sum = fs::read_to_string(dir.join("indirect-1.23.sum")).unwrap();
    let parsed = gomod_in_dir(&go_mod, Some(&go_sum));
    assert!(parsed.warnings.is_empty());
    assert_eq!(parsed.packages.len(), 3);
}

#[test]
fn gomod_bad_go_sum_lines_warn() {
    let parsed = gomod_in_dir("module m\ngo 1.16\n", Some("example.com/a v1.0.0 h1:x=\nbroken\n"));
    assert_eq!(ids(&parsed), ["example.com/a@v1.0.0"]);
    assert_eq!(warning_lines(&parsed), [Some(2)]);
    assert_eq!(parsed.warnings[0].path, "app/go.sum");
}

#[test]
fn gomod_syntax_details() {
    let go_mod = "module example.com/m // the main module

go 1.22
require (
\t\"example.com/quoted\" v1.0.0
\texample.com/a v1.2.3 // indirect; needed by b
\texample.com/b v0.1.0 // not indirect
\tgarbage
)
require example.com/c v2.0.0+incompatible
exclude example.com/a v1.2.2
retract v0.0.1
frobnicate example.com/x
replace example.com/b => ../b
replace (
\texample.com/c v2.0.0+incompatible => example.com/c2 v2.1.0
)
";
    let parsed = text(LockfileKind::GoMod, go_mod).unwrap();
    assert_eq!(
        with_indirect(&parsed),
        [
            ("example.com/a@v1.2.3".into(), true),
            ("example.com/c2@v2.1.0".into(), false),
            ("example.com/quoted@v1.0.0".into(), false),
            ("stdlib@1.22.0".into(), false),
        ]
    );
    assert_eq!(lines(&parsed, "example.com/c2", "v2.1.0"), [(10, 10)]);
    assert_eq!(warning_lines(&parsed), [Some(8), Some(13)]);

    let unclosed = text(LockfileKind::GoMod, "module m\nrequire (\n\texample.com/a v1.0.0\n").unwrap();
    assert_eq!(ids(&unclosed), ["example.com/a@v1.0.0"]);
    assert_eq!(warning_lines(&unclosed), [Some(2)]);
}

#[test]
fn gomod_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::GoMod, GOMOD);
}

// ---------------------------------------------------------------- Cargo.lock

#[test]
fn cargo_every_fixture() {
    for path in fixture_files(CARGO) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        match parse_path(LockfileKind::CargoLock, &path) {
            Ok(parsed) => {
                assert_ne!(name, "not-toml.txt", "should be rejected");
                assert!(parsed.warnings.is_empty(), "{name}");
                assert!(parsed.packages.iter().all(|p| p.ecosystem == Ecosystem::CratesIo));
            }
            Err(e) => assert_eq!(name, "not-toml.txt", "{e}"),
        }
    }
    assert_eq!(malformed_line(fixture(LockfileKind::CargoLock, CARGO, "not-toml.txt")), Some(1));
    assert!(cargo("empty.lock").packages.is_empty());
}

#[test]
fn cargo_packages_with_block_locations() {
    let one = cargo("one-package.lock");
    assert_eq!(ids(&one), ["addr2line@0.15.2"]);
    assert_eq!(lines(&one, "addr2line", "0.15.2"), [(5, 12)]);

    let two = cargo("two-packages.lock");
    assert_eq!(ids(&two), ["addr2line@0.15.2", "syn@1.0.73"]);
    assert_eq!(lines(&two, "syn", "1.0.73"), [(14, 23)]);

    let many = cargo("many-packages.lock");
    assert_eq!(
        ids(&many),
        ["aho-corasick@0.7.18", "libc@0.2.140", "memchr@2.4.1", "syn@1.0.109", "syn@2.0.15", "zstd@0.11.2"]
    );
    assert_eq!(lines(&many, "syn", "2.0.15"), [(38, 42)]);

    assert_eq!(ids(&cargo("duplicate.lock")), ["syn@1.0.73", "syn@2.0.0"]);
    assert_eq!(ids(&cargo("package-with-build-string.lock")), ["wasi@0.10.2+wasi-snapshot-preview1"]);

    // Comments inside a block are not the block's end; git sources count.
    let comments = cargo("package-with-comments.lock");
    assert_eq!(ids(&comments), ["addr2line@0.15.2", "syn@1.0.73"]);
    assert_eq!(lines(&comments, "syn", "1.0.73"), [(10, 15)]);
}

#[test]
fn cargo_workspace_members_are_skipped_and_decide_directness() {
    // The local crate declares no dependencies, so addr2line is someone else's.
    let local = cargo("two-packages-with-local.lock");
    assert_eq!(with_indirect(&local), [("addr2line@0.15.2".into(), true)]);

    let lock = r#"version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde",
 "syn 2.0.15",
]

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"
dependencies = ["serde_derive"]

[[package]]
name = "serde_derive"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[patch.unused]]
name = "unused"
version = "1.0.0"
"#;
    let parsed = text(LockfileKind::CargoLock, lock).unwrap();
    assert_eq!(
        with_indirect(&parsed),
        [
            ("serde@1.0.200".into(), false),
            ("serde_derive@1.0.200".into(), true),
            ("syn@1.0.109".into(), true),
            ("syn@2.0.15".into(), false),
        ]
    );
    assert_eq!(lines(&parsed, "syn", "2.0.15"), [(28, 31)]);
}

#[test]
fn cargo_malformed_toml_reports_the_line() {
    let lock = "version = 3\n\n[[package]]\nname = \"a\"\nversion = 1\n";
    assert_eq!(malformed_line(text(LockfileKind::CargoLock, lock)), Some(5));
    let lock = "version = 3\n\n[[package]]\nname = \"a\"\n";
    assert!(malformed_line(text(LockfileKind::CargoLock, lock)).is_some());
}

#[test]
fn cargo_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::CargoLock, CARGO);
}
