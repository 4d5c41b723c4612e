//! npm, yarn and pnpm lockfile parsers against the osv-scalibr fixtures in
//! `../shared/data`, plus hand-written files for what the fixtures lack.

mod common;

use common::*;
use rampart_catalog::LockfileKind;
use rampart_types::Ecosystem;

const NPM: &str = "javascript/packagelockjson";
const YARN: &str = "javascript/yarnlock";
const PNPM: &str = "javascript/pnpmlock";

fn npm(name: &str) -> rampart_catalog::Parsed {
    ok(LockfileKind::NpmLock, NPM, name)
}

fn yarn(name: &str) -> rampart_catalog::Parsed {
    ok(LockfileKind::Yarn, YARN, name)
}

fn pnpm(name: &str) -> rampart_catalog::Parsed {
    ok(LockfileKind::Pnpm, PNPM, name)
}

/// Parses every fixture of a folder: the named ones must be rejected as
/// malformed, all others must parse without warnings unless listed.
fn every_fixture(kind: LockfileKind, extractor: &str, malformed: &[&str], warned: &[&str]) {
    for path in fixture_files(extractor) {
        let name = path.file_name().unwrap().to_str().unwrap();
        match parse_path(kind, &path) {
            Ok(parsed) => {
                assert!(!malformed.contains(&name), "{name} should be rejected");
                assert_eq!(
                    !parsed.warnings.is_empty(),
                    warned.contains(&name),
                    "{name}: {:?}",
                    parsed.warnings
                );
                assert!(
                    parsed.packages.iter().all(|p| p.ecosystem == Ecosystem::Npm && !p.version.is_empty())
                );
            }
            Err(e) => assert!(malformed.contains(&name), "{name}: {e}"),
        }
    }
}

// ---------------------------------------------------------------- npm

#[test]
fn npm_every_fixture() {
    every_fixture(LockfileKind::NpmLock, NPM, &["not-json.txt", "null.v2.jsontest"], &[]);
}

#[test]
fn npm_malformed_files_report_a_line() {
    assert_eq!(malformed_line(fixture(LockfileKind::NpmLock, NPM, "not-json.txt")), Some(1));
    assert_eq!(malformed_line(fixture(LockfileKind::NpmLock, NPM, "null.v2.jsontest")), Some(1));
    assert_eq!(malformed_line(text(LockfileKind::NpmLock, "{\n \"packages\": {\n  \"\": {}\n")), Some(4));
    assert_eq!(
        malformed_line(text(
            LockfileKind::NpmLock,
            "{\"packages\": {\"node_modules/a\": {\"dev\": \"yes\"}}}"
        )),
        Some(1)
    );
}

#[test]
fn npm_simple_files_v1_and_v2() {
    for name in ["one-package.v1.json", "one-package.v2.json"] {
        let parsed = npm(name);
        assert_eq!(ids(&parsed), ["wrappy@1.0.2"], "{name}");
        assert!(!parsed.packages[0].dev);
    }
    assert_eq!(lines(&npm("one-package.v1.json"), "wrappy", "1.0.2"), [(5, 9)]);
    assert_eq!(lines(&npm("one-package.v2.json"), "wrappy", "1.0.2"), [(10, 14)]);

    for name in ["one-package-dev.v1.json", "one-package-dev.v2.json"] {
        assert!(get(&npm(name), "wrappy", "1.0.2").dev, "{name}");
    }
    for name in ["scoped-packages.v1.json", "scoped-packages.v2.json"] {
        assert_eq!(ids(&npm(name)), ["@babel/code-frame@7.0.0", "wrappy@1.0.2"], "{name}");
    }
    assert_eq!(ids(&npm("two-packages.v1.json")), ["supports-color@5.5.0", "wrappy@1.0.2"]);
    assert_eq!(lines(&npm("two-packages.v1.json"), "supports-color", "5.5.0"), [(10, 17)]);
    for name in ["empty.v1.json", "empty.v2.json"] {
        assert!(npm(name).packages.is_empty(), "{name}");
    }
}

#[test]
fn npm_shrinkwrap_and_package_lock_read_alike() {
    for name in [
        "two-packages.v2.json",
        "both/package-lock.json",
        "both/npm-shrinkwrap.json",
        "npm-shrinkwrap-only/npm-shrinkwrap.json",
        "package-lock-only/package-lock.json",
    ] {
        let parsed = npm(name);
        assert_eq!(ids(&parsed), ["supports-color@5.5.0", "wrappy@1.0.2"], "{name}");
        // Both are declared by the root package.
        assert!(parsed.packages.iter().all(|p| !p.indirect && !p.dev), "{name}");
        assert_eq!(lines(&parsed, "wrappy", "1.0.2"), [(13, 17)]);
        assert_eq!(lines(&parsed, "supports-color", "5.5.0"), [(18, 28)]);
    }
}

#[test]
fn npm_optional_and_dev_optional() {
    let v1 = npm("optional-package.v1.json");
    assert!(get(&v1, "wrappy", "1.0.2").dev);
    assert!(!get(&v1, "supports-color", "5.5.0").dev);
    // v2: `optional` alone is not dev, `devOptional` is; the root declares only wrappy.
    let v2 = npm("optional-package.v2.json");
    assert!(!get(&v2, "wrappy", "1.0.2").dev);
    assert!(!get(&v2, "wrappy", "1.0.2").indirect);
    assert!(get(&v2, "supports-color", "5.5.0").dev);
    assert!(get(&v2, "supports-color", "5.5.0").indirect);
}

#[test]
fn npm_aliases_report_the_real_package() {
    for name in ["alias.v1.json", "alias.v2.json"] {
        let parsed = npm(name);
        assert_eq!(
            ids(&parsed),
            ["@babel/code-frame@7.0.0", "string-width@4.2.0", "string-width@5.1.2"],
            "{name}"
        );
    }
    assert_eq!(lines(&npm("alias.v2.json"), "string-width", "4.2.0"), [(32, 42)]);
}

#[test]
fn npm_nested_copies_are_indirect() {
    let expected = [
        "postcss-calc@7.0.1",
        "postcss@6.0.23",
        "postcss@7.0.16",
        "supports-color@5.5.0",
        "supports-color@6.1.0",
    ];
    for name in ["nested-dependencies.v1.json", "nested-dependencies.v2.json"] {
        let parsed = npm(name);
        assert_eq!(ids(&parsed), expected, "{name}");
        // The root declares nothing, so only the nested copies are known to be indirect.
        assert_eq!(ids_where(&parsed, |p| p.indirect), ["postcss@7.0.16", "supports-color@6.1.0"], "{name}");
    }
    assert_eq!(lines(&npm("nested-dependencies.v1.json"), "postcss", "7.0.16"), [(26, 35)]);
    assert_eq!(lines(&npm("nested-dependencies.v2.json"), "postcss", "7.0.16"), [(34, 46)]);
}

#[test]
fn npm_duplicates_merge_with_every_location() {
    let v2 = npm("nested-dependencies-dup.v2.json");
    assert_eq!(ids(&v2), ["supports-color@2.0.0", "supports-color@6.1.0"]);
    assert_eq!(get(&v2, "supports-color", "6.1.0").locations.len(), 34);
    assert_eq!(lines(&v2, "supports-color", "2.0.0"), [(32, 39), (84, 91)]);

    let v1 = npm("nested-dependencies-dup.v1.json");
    assert_eq!(v1.packages.len(), 39);
    assert_eq!(get(&v1, "supports-color", "6.1.0").locations.len(), 34);
    assert!(get(&v1, "supports-color", "6.1.0").indirect);
    assert!(!get(&v1, "supports-color", "5.5.0").indirect);
    assert_eq!(lines(&v1, "cssnano", "4.1.10"), [(90, 110)]);
}

#[test]
fn npm_same_package_in_dev_and_prod_is_not_dev() {
    for name in ["same-package-different-groups.v1.json", "same-package-different-groups.v2.json"] {
        let parsed = npm(name);
        assert_eq!(ids(&parsed), ["ajv@5.5.2", "eslint@1.2.3", "table@1.0.0"], "{name}");
        let ajv = get(&parsed, "ajv", "5.5.2");
        assert!(!ajv.dev, "{name}: one copy of ajv is a production dependency");
        assert_eq!(ajv.locations.len(), 5, "{name}");
        assert!(get(&parsed, "eslint", "1.2.3").dev);
        assert!(!get(&parsed, "table", "1.0.0").dev);
    }
}

#[test]
fn npm_local_folders_are_not_packages() {
    // v1: `file:` entries are the project's own folders.
    assert_eq!(ids(&npm("files.v1.json")), ["lodash@1.3.1"]);
    // v2: `deps/etag` itself is skipped, but what is installed below it is real.
    let v2 = npm("files.v2.json");
    assert_eq!(ids(&v2), ["abbrev@1.0.9", "abbrev@2.3.4"]);
    assert!(v2.packages.iter().all(|p| p.dev && p.indirect));
}

#[test]
fn npm_git_dependencies() {
    // v1 has only the git reference as version; it is kept, as npm shows it.
    let v1 = npm("commits.v1.json");
    assert_eq!(v1.packages.len(), 15);
    assert!(
        get(&v1, "ansi-styles", "1.0.0").locations
            == [rampart_types::Location { start_line: 19, end_line: 23 }]
    );
    let nested = get(
        &v1,
        "is-number-1",
        "git+ssh://git@github.com/jonschlinkert/is-number.git#be5935f8d2595bcd97b05718ef1eeae08d812e10",
    );
    assert!(nested.dev && nested.indirect);

    // v2 has the package's own version.
    let v2 = npm("commits.v2.json");
    assert_eq!(
        ids(&v2),
        [
            "@segment/analytics.js-integration-facebook-pixel@2.4.1",
            "ansi-styles@1.0.0",
            "babel-preset-php@1.1.1",
            "is-number-1@3.0.0",
            "is-number-2@2.0.0",
            "is-number-3@2.0.0",
            "is-number-3@3.0.0",
            "is-number-4@3.0.0",
            "is-number-5@3.0.0",
            "postcss-calc@7.0.1",
            "slick-carousel@1.7.1",
        ]
    );
    // raven-js is locked without a version: nothing to match advisories against.
    assert!(v2.packages.iter().all(|p| p.name != "raven-js"));
    assert_eq!(lines(&v2, "is-number-1", "3.0.0"), [(60, 72), (130, 142)]);
    assert_eq!(
        get(&v2, "@segment/analytics.js-integration-facebook-pixel", "2.4.1").licenses,
        ["SEE LICENSE IN LICENSE"]
    );
    // The root declares chalk, lodash and stopwords, none of which is locked.
    assert!(get(&v2, "ansi-styles", "1.0.0").indirect);
    assert!(!get(&v2, "babel-preset-php", "1.1.1").indirect);
}

#[test]
fn npm_v3_dev_indirect_and_licenses() {
    let parsed = npm("bundled-dependencies.v3.json");
    assert_eq!(ids(&parsed), ["ansi-regex@6.2.2", "semver@7.7.2", "strip-ansi@7.1.2"]);
    assert_eq!(ids_where(&parsed, |p| p.dev), ["semver@7.7.2"]);
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["ansi-regex@6.2.2"]);
    assert_eq!(get(&parsed, "semver", "7.7.2").licenses, ["ISC"]);
    assert_eq!(get(&parsed, "ansi-regex", "6.2.2").licenses, ["MIT"]);
}

#[test]
fn npm_workspaces() {
    let lock = r#"{
  "name": "mono",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "mono", "workspaces": ["packages/*"], "devDependencies": { "jest": "^29" } },
    "node_modules/@mono/app": { "resolved": "packages/app", "link": true },
    "node_modules/jest": { "version": "29.7.0", "dev": true },
    "node_modules/lodash": { "version": "4.17.21" },
    "node_modules/lodash/node_modules/inner": { "version": "1.0.0" },
    "node_modules/hoisted": { "version": "2.0.0" },
    "packages/app": { "name": "@mono/app", "version": "1.0.0", "dependencies": { "lodash": "^4", "own": "^3" } },
    "packages/app/node_modules/own": { "version": "3.1.0" }
  }
}"#;
    let parsed = text(LockfileKind::NpmLock, lock).unwrap();
    // The workspace and its link are the project itself.
    assert_eq!(ids(&parsed), ["hoisted@2.0.0", "inner@1.0.0", "jest@29.7.0", "lodash@4.17.21", "own@3.1.0"]);
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["hoisted@2.0.0", "inner@1.0.0"]);
    assert_eq!(ids_where(&parsed, |p| p.dev), ["jest@29.7.0"]);
    assert_eq!(lines(&parsed, "own", "3.1.0"), [(12, 12)]);
}

#[test]
fn npm_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::NpmLock, NPM);
}

// ---------------------------------------------------------------- yarn

#[test]
fn yarn_every_fixture() {
    every_fixture(LockfileKind::Yarn, YARN, &[], &[]);
}

#[test]
fn yarn_simple_files_classic_and_berry() {
    for name in ["one-package.v1.lock", "one-package.v2.lock", "no-version.v1.lock"] {
        assert_eq!(ids(&yarn(name)), ["balanced-match@1.0.2"], "{name}");
    }
    assert_eq!(lines(&yarn("one-package.v1.lock"), "balanced-match", "1.0.2"), [(5, 8)]);
    assert_eq!(lines(&yarn("one-package.v2.lock"), "balanced-match", "1.0.2"), [(8, 13)]);
    for name in ["two-packages.v1.lock", "with-quotes.v1.lock"] {
        assert_eq!(ids(&yarn(name)), ["concat-map@0.0.1", "concat-stream@1.6.2"], "{name}");
        assert_eq!(lines(&yarn(name), "concat-stream", "1.6.2"), [(10, 18)], "{name}");
    }
    for name in ["two-packages.v2.lock", "with-quotes.v2.lock"] {
        assert_eq!(ids(&yarn(name)), ["compare-func@2.0.0", "concat-map@0.0.1"], "{name}");
    }
    assert_eq!(
        ids(&yarn("scoped-packages.v1.lock")),
        ["@babel/code-frame@7.12.11", "@babel/compat-data@7.14.0"]
    );
    assert_eq!(
        ids(&yarn("scoped-packages.v2.lock")),
        ["@babel/cli@7.16.8", "@babel/code-frame@7.16.7", "@babel/compat-data@7.16.8"]
    );
    assert_eq!(lines(&yarn("scoped-packages.v2.lock"), "@babel/cli", "7.16.8"), [(8, 33)]);
    for name in ["empty.v1.lock", "empty.v2.lock", "metadata-only.v2.lock"] {
        assert!(yarn(name).packages.is_empty(), "{name}");
    }
}

#[test]
fn yarn_versions_and_constraints() {
    assert_eq!(
        ids(&yarn("multiple-versions.v1.lock")),
        [
            "define-properties@1.1.3",
            "define-property@0.2.5",
            "define-property@1.0.0",
            "define-property@2.0.2"
        ]
    );
    assert_eq!(ids(&yarn("multiple-versions.v2.lock")), ["debug@2.6.9", "debug@3.2.7", "debug@4.3.3"]);
    assert_eq!(
        ids(&yarn("multiple-constraints.v1.lock")),
        ["@babel/code-frame@7.12.13", "domelementtype@1.3.1"]
    );
    assert_eq!(
        ids(&yarn("with-prerelease.v1.lock")),
        [
            "css-tree@1.0.0-alpha.37",
            "gensync@1.0.0-beta.2",
            "node-fetch@3.0.0-beta.9",
            "resolve@1.20.0",
            "resolve@2.0.0-next.3"
        ]
    );
    // The berry file's workspace entry is the project itself.
    assert_eq!(
        ids(&yarn("with-prerelease.v2.lock")),
        ["@nicolo-ribaudo/chokidar-2@2.1.8-no-fsevents.3", "gensync@1.0.0-beta.2"]
    );
    for name in ["with-build-string.v1.lock", "with-build-string.v2.lock"] {
        assert_eq!(ids(&yarn(name)), ["domino@2.1.6+git", "tslib@2.6.2"], "{name}");
    }
}

#[test]
fn yarn_aliases_report_the_real_package() {
    for name in ["with-aliases.v1.lock", "with-aliases.v2.lock"] {
        assert_eq!(
            ids(&yarn(name)),
            ["@babel/helper-validator-identifier@7.22.20", "ansi-regex@5.0.1", "ansi-regex@6.0.1"],
            "{name}"
        );
    }
}

#[test]
fn yarn_local_and_workspace_entries_are_skipped() {
    assert_eq!(ids(&yarn("files.v1.lock")), ["etag@1.8.1", "lodash@1.3.1"]);
    assert!(yarn("files.v2.lock").packages.is_empty());
    let root = yarn("exclude-root.v2.lock");
    assert_eq!(ids(&root), ["ansi-regex@6.1.0"]);
    assert_eq!(lines(&root, "ansi-regex", "6.1.0"), [(16, 21)]);
}

#[test]
fn yarn_git_dependencies() {
    let v1 = yarn("commits.v1.lock");
    assert_eq!(v1.packages.len(), 18);
    assert_eq!(ids_where(&v1, |p| p.name == "mine4"), ["mine4@0.0.2", "mine4@0.0.4"]);
    assert_eq!(ids_where(&v1, |p| p.name == "is-number"), ["is-number@2.0.0", "is-number@5.0.0"]);
    assert_eq!(lines(&v1, "@bower_components/angular-animate", "1.4.14"), [(33, 35)]);
    assert_eq!(lines(&v1, "minimist", "0.0.8"), [(41, 43)]);

    assert_eq!(
        ids(&yarn("commits.v2.lock")),
        [
            "@my-scope/my-first-package@0.0.6",
            "@typegoose/typegoose@7.2.0",
            "is-really-great@1.0.0",
            "my-node-sdk@1.1.0",
            "my-second-package@0.2.2",
            "my-third-package@0.16.1-dev",
            "vuejs@2.5.0",
        ]
    );
}

#[test]
fn yarn_damaged_lines_warn_and_garbage_is_rejected() {
    let lock = "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\nstray line\n  orphan\nb@^2:\n  resolved \"x\"\n\nc@^3:\n  version \"3.0.0\"\n";
    let parsed = text(LockfileKind::Yarn, lock).unwrap();
    assert_eq!(ids(&parsed), ["a@1.0.0", "c@3.0.0"]);
    assert_eq!(warning_lines(&parsed), [Some(5), Some(6), Some(7)]);
    assert_eq!(malformed_line(text(LockfileKind::Yarn, "this is not a yarn lockfile\n")), Some(1));
}

#[test]
fn yarn_berry_patch_entries_do_not_double_count() {
    let lock = "__metadata:\n  version: 6\n\n\"resolve@npm:^1.20.0\":\n  version: 1.22.1\n  resolution: \"resolve@npm:1.22.1\"\n\n\"resolve@patch:resolve@npm%3A^1.20.0#~builtin<compat/resolve>\":\n  version: 1.22.1\n  resolution: \"resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=c3c19d\"\n";
    let parsed = text(LockfileKind::Yarn, lock).unwrap();
    assert_eq!(ids(&parsed), ["resolve@1.22.1"]);
    assert_eq!(lines(&parsed, "resolve", "1.22.1"), [(4, 6)]);
}

/// Writes `yarn.lock` and `package.json` into a fresh folder and parses the lock there.
fn yarn_with_manifest(lock: &str, manifest: &str) -> rampart_catalog::Parsed {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("yarn.lock");
    std::fs::write(dir.path().join("package.json"), manifest).unwrap();
    rampart_catalog::parse(LockfileKind::Yarn, &path, "yarn.lock", lock.as_bytes()).unwrap()
}

#[test]
fn yarn_classic_dev_and_indirect_come_from_package_json() {
    let lock = r#"# yarn lockfile v1

a@^1.0.0:
  version "1.2.0"
  dependencies:
    c "~3.0.0"

"@scope/b@^2.0.0":
  version "2.1.0"
  dependencies:
    c "~3.0.0"
    d "^4"

c@~3.0.0:
  version "3.0.5"

d@^4:
  version "4.0.0"

orphan@^9:
  version "9.0.0"
"#;
    let manifest = r#"{"dependencies": {"a": "^1.0.0"}, "devDependencies": {"@scope/b": "^2.0.0"}}"#;
    let parsed = yarn_with_manifest(lock, manifest);
    assert_eq!(ids_where(&parsed, |p| p.dev), ["@scope/b@2.1.0", "d@4.0.0"]);
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["c@3.0.5", "d@4.0.0"]);
    // Without package.json nothing is known; the orphan stays unknown either way.
    let alone = text(LockfileKind::Yarn, lock).unwrap();
    assert!(alone.packages.iter().all(|p| !p.dev && !p.indirect));
    assert!(!get(&parsed, "orphan", "9.0.0").dev);

    let broken = yarn_with_manifest(lock, "{ nope");
    assert!(broken.packages.iter().all(|p| !p.dev && !p.indirect));
    assert_eq!(broken.warnings.len(), 1);
}

#[test]
fn yarn_berry_workspaces_and_patches() {
    let lock = r#"__metadata:
  version: 8

"a@npm:^1.0.0":
  version: 1.0.0
  resolution: "a@npm:1.0.0"
  dependencies:
    p: "patch:p@npm%3A^1.0.0#~builtin<compat/p>"

"b@npm:^2.0.0":
  version: 2.0.0
  resolution: "b@npm:2.0.0"

"c@npm:^3.0.0":
  version: 3.0.0
  resolution: "c@npm:3.0.0"

"p@npm:^1.0.0":
  version: 1.0.0
  resolution: "p@npm:1.0.0"

"p@patch:p@npm%3A^1.0.0#~builtin<compat/p>":
  version: 1.0.0
  resolution: "p@patch:p@npm%3A1.0.0#~builtin<compat/p>::version=1.0.0&hash=abc"

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    a: ^1.0.0
    b: ^2.0.0
  languageName: unknown
  linkType: soft

"lib@workspace:packages/lib":
  version: 0.0.0-use.local
  resolution: "lib@workspace:packages/lib"
  dependencies:
    c: "npm:^3.0.0"
  languageName: unknown
  linkType: soft
"#;
    let parsed =
        yarn_with_manifest(lock, r#"{"dependencies": {"a": "^1.0.0"}, "devDependencies": {"b": "^2.0.0"}}"#);
    assert_eq!(ids(&parsed), ["a@1.0.0", "b@2.0.0", "c@3.0.0", "p@1.0.0"]);
    assert_eq!(ids_where(&parsed, |p| p.dev), ["b@2.0.0"]);
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["p@1.0.0"]);

    // Without package.json the workspaces' lists still tell direct from indirect.
    let alone = text(LockfileKind::Yarn, lock).unwrap();
    assert!(alone.packages.iter().all(|p| !p.dev));
    assert_eq!(ids_where(&alone, |p| p.indirect), ["p@1.0.0"]);
    let fixture = yarn("with-aliases.v2.lock");
    assert!(fixture.packages.iter().all(|p| !p.indirect));
}

#[test]
fn yarn_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::Yarn, YARN);
}

// ---------------------------------------------------------------- pnpm

#[test]
fn pnpm_every_fixture() {
    every_fixture(
        LockfileKind::Pnpm,
        PNPM,
        &["not-yaml.txt"],
        &["exotic.yaml", "invalid-path.yaml", "invalid-paths.yaml"],
    );
}

#[test]
fn pnpm_malformed_yaml_reports_a_line() {
    assert_eq!(malformed_line(fixture(LockfileKind::Pnpm, PNPM, "not-yaml.txt")), Some(1));
    assert_eq!(
        malformed_line(text(LockfileKind::Pnpm, "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [\n")),
        Some(3)
    );
}

#[test]
fn pnpm_v5_v6_v9_single_packages() {
    for (name, version, loc) in [
        ("one-package.yaml", "8.7.0", (11, 15)),
        ("one-package-v6-lockfile.yaml", "8.7.0", (10, 14)),
        ("one-package.v9.yaml", "8.11.3", (17, 20)),
    ] {
        let parsed = pnpm(name);
        assert_eq!(ids(&parsed), [format!("acorn@{version}")], "{name}");
        let acorn = get(&parsed, "acorn", version);
        assert!(!acorn.dev && !acorn.indirect, "{name}");
        assert_eq!(lines(&parsed, "acorn", version), [loc], "{name}");
    }
    for (name, id) in [
        ("scoped-packages.yaml", "@typescript-eslint/types@5.13.0"),
        ("scoped-packages-v6-lockfile.yaml", "@typescript-eslint/types@5.57.1"),
        ("scoped-packages.v9.yaml", "@typescript-eslint/types@5.62.0"),
    ] {
        assert_eq!(ids(&pnpm(name)), [id], "{name}");
    }
    for name in ["empty.yaml", "no-packages.yaml", "no-packages.v9.yaml", "missing-packages.yaml"] {
        assert!(pnpm(name).packages.is_empty(), "{name}");
    }
}

#[test]
fn pnpm_dev_flags_and_v9_dev_graph() {
    // The "dev" v5 fixture locks acorn with `dev: false`.
    assert!(!get(&pnpm("one-package-dev.yaml"), "acorn", "8.7.0").dev);
    // 9.x has no flag: acorn is reached only from devDependencies.
    assert!(get(&pnpm("one-package-dev.v9.yaml"), "acorn", "8.11.3").dev);
    for (name, ansi, uuid) in [
        ("mixed-groups.v53.yaml", "5.0.1", "8.3.2"),
        ("mixed-groups.v54.yaml", "5.0.1", "8.3.2"),
        ("mixed-groups.v6.yaml", "5.0.0", "8.0.0"),
        ("mixed-groups.v9.yaml", "5.0.1", "8.3.2"),
    ] {
        let parsed = pnpm(name);
        assert_eq!(
            ids(&parsed),
            [format!("ansi-regex@{ansi}"), "is-number@7.0.0".into(), format!("uuid@{uuid}")],
            "{name}"
        );
        assert_eq!(ids_where(&parsed, |p| p.dev), ["is-number@7.0.0"], "{name}");
        assert!(parsed.packages.iter().all(|p| !p.indirect), "{name}");
    }
}

#[test]
fn pnpm_peer_suffixes_are_dropped() {
    for name in ["peer-dependencies.yaml", "peer-dependencies.v9.yaml"] {
        let parsed = pnpm(name);
        assert_eq!(parsed.packages.len(), 2, "{name}");
        assert!(!get(&parsed, "acorn-jsx", "5.3.2").indirect, "{name}");
    }
    for (name, react_dom, scheduler) in [
        ("peer-dependencies-v6.yaml", "18.2.0", "0.23.0"),
        ("peer-dependencies-advanced-rc-v6.yaml", "18.0.0-rc.3", "0.21.0"),
        (
            "peer-dependencies-advanced-v6.yaml",
            "18.3.0-canary-ab31a9ed2-20230824",
            "0.24.0-canary-ab31a9ed2-20230824",
        ),
    ] {
        let parsed = pnpm(name);
        assert_eq!(parsed.packages.len(), 5, "{name}");
        assert_eq!(ids_where(&parsed, |p| !p.indirect), [format!("react-dom@{react_dom}")], "{name}");
        get(&parsed, "scheduler", scheduler);
        assert_eq!(lines(&parsed, "react-dom", react_dom), [(25, 33)], "{name}");
    }
    let v5 = pnpm("peer-dependencies-advanced.yaml");
    assert_eq!(v5.packages.len(), 9);
    assert_eq!(
        ids_where(&v5, |p| !p.indirect),
        ["@typescript-eslint/eslint-plugin@5.13.0", "@typescript-eslint/parser@5.13.0", "eslint@8.10.0"]
    );
    let v9 = pnpm("peer-dependencies-advanced.v9.yaml");
    assert_eq!(v9.packages.len(), 13);
    assert_eq!(
        ids_where(&v9, |p| !p.indirect),
        [
            "@typescript-eslint/eslint-plugin@5.62.0",
            "@typescript-eslint/parser@5.62.0",
            "eslint@8.57.0",
            "typescript@4.9.5"
        ]
    );
    assert!(v9.packages.iter().all(|p| !p.dev));
}

#[test]
fn pnpm_multiple_packages_and_versions() {
    let parsed = pnpm("multiple-packages.yaml");
    assert_eq!(parsed.packages.len(), 14);
    assert_eq!(ids_where(&parsed, |p| !p.indirect), ["aws-sdk@2.1087.0"]);
    assert_eq!(lines(&parsed, "xml2js", "0.4.19"), [(83, 88)]);
    assert_eq!(ids(&pnpm("multiple-versions.yaml")), ["uuid@3.3.2", "uuid@8.3.2", "xmlbuilder@9.0.7"]);
    let v9 = pnpm("multiple-versions.v9.yaml");
    assert_eq!(ids(&v9), ["uuid@8.0.0", "uuid@8.3.2", "xmlbuilder@11.0.1"]);
    assert_eq!(ids_where(&v9, |p| !p.indirect), ["uuid@8.3.2"]);
}

#[test]
fn pnpm_git_tarball_and_local_packages() {
    let v5 = pnpm("commits.yaml");
    assert_eq!(
        ids(&v5),
        [
            "@my-scope/my-other-package@1.0.0",
            "@my-scope/my-package@1.0.0",
            "faker-parser@0.0.1",
            "mocks@20.0.1",
            "my-bitbucket-package@1.0.0",
        ]
    );
    assert!(!get(&v5, "mocks", "20.0.1").indirect);
    assert!(get(&v5, "faker-parser", "0.0.1").indirect);
    let v9 = pnpm("commits.v9.yaml");
    assert_eq!(ids(&v9), ["ansi-regex@6.0.1", "is-number@7.0.0"]);
    assert!(v9.packages.iter().all(|p| !p.indirect));

    let tarball = pnpm("tarball.yaml");
    assert_eq!(ids(&tarball), ["@my-org/my-package@3.2.3"]);
    assert!(tarball.packages[0].dev);
    // `file:` packages are the project's own folders and tarballs.
    assert!(pnpm("files.yaml").packages.is_empty());
}

#[test]
fn pnpm_unreadable_keys_warn_and_the_rest_survives() {
    let exotic = pnpm("exotic.yaml");
    assert_eq!(
        ids(&exotic),
        ["@foo/bar@1.0.0", "@foo/bar@1.1.0", "foo@1.0.0", "foo@1.1.0", "foo@1.2.0", "foo@1.3.0", "foo@1.4.0"]
    );
    assert_eq!(warning_lines(&exotic), [Some(14), Some(18)]);
    let one = pnpm("invalid-path.yaml");
    assert_eq!(ids(&one), ["acorn@8.7.0"]);
    assert_eq!(warning_lines(&one), [Some(17)]);
    let two = pnpm("invalid-paths.yaml");
    assert_eq!(ids(&two), ["acorn@8.7.0"]);
    assert_eq!(warning_lines(&two), [Some(11), Some(23)]);
}

#[test]
fn pnpm_v9_workspaces_aliases_and_dev_reach() {
    let lock = "lockfileVersion: '9.0'

importers:
  .:
    devDependencies:
      tool:
        specifier: ^1.0.0
        version: 1.0.0
  packages/app:
    dependencies:
      lib:
        specifier: ^2.0.0
        version: 2.0.0(peer@3.0.0)
      alias:
        specifier: npm:real@^4
        version: real@4.0.0
      sibling:
        specifier: workspace:*
        version: link:../sibling

packages:
  tool@1.0.0:
    resolution: {integrity: sha512-a}
  shared@5.0.0:
    resolution: {integrity: sha512-b}
  lib@2.0.0:
    resolution: {integrity: sha512-c}
  real@4.0.0:
    resolution: {integrity: sha512-d}
  peer@3.0.0:
    resolution: {integrity: sha512-e}
  devonly@6.0.0:
    resolution: {integrity: sha512-f}

snapshots:
  tool@1.0.0:
    dependencies:
      shared: 5.0.0
      devonly: 6.0.0
  shared@5.0.0: {}
  lib@2.0.0(peer@3.0.0):
    dependencies:
      shared: 5.0.0
      peer: 3.0.0
  real@4.0.0: {}
  peer@3.0.0: {}
  devonly@6.0.0: {}
";
    let parsed = text(LockfileKind::Pnpm, lock).unwrap();
    assert_eq!(
        ids(&parsed),
        ["devonly@6.0.0", "lib@2.0.0", "peer@3.0.0", "real@4.0.0", "shared@5.0.0", "tool@1.0.0"]
    );
    assert_eq!(ids_where(&parsed, |p| p.dev), ["devonly@6.0.0", "tool@1.0.0"]);
    assert_eq!(ids_where(&parsed, |p| !p.indirect), ["lib@2.0.0", "real@4.0.0", "tool@1.0.0"]);
    assert_eq!(lines(&parsed, "lib", "2.0.0"), [(26, 27)]);
}

#[test]
fn pnpm_env_document_and_project_document_both_count() {
    let lock = "---
lockfileVersion: '9.0'

importers:

  .:
    packageManagerDependencies:
      pnpm:
        specifier: 12.0.0
        version: 12.0.0

packages:

  pnpm@12.0.0:
    resolution: {integrity: sha512-a}

  '@pnpm/exe.linux-x64@12.0.0':
    resolution: {integrity: sha512-b}

snapshots:

  pnpm@12.0.0:
    optionalDependencies:
      '@pnpm/exe.linux-x64': 12.0.0

  '@pnpm/exe.linux-x64@12.0.0':
    optional: true

---
lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      is-odd:
        specifier: 3.0.1
        version: 3.0.1

packages:

  is-number@6.0.0:
    resolution: {integrity: sha512-c}

  is-odd@3.0.1:
    resolution: {integrity: sha512-d}

snapshots:

  is-number@6.0.0: {}

  is-odd@3.0.1:
    dependencies:
      is-number: 6.0.0
";
    let parsed = text(LockfileKind::Pnpm, lock).unwrap();
    assert_eq!(
        ids(&parsed),
        ["@pnpm/exe.linux-x64@12.0.0", "is-number@6.0.0", "is-odd@3.0.1", "pnpm@12.0.0"]
    );
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["@pnpm/exe.linux-x64@12.0.0", "is-number@6.0.0"]);
    assert!(parsed.packages.iter().all(|p| !p.dev));
    assert_eq!(lines(&parsed, "pnpm", "12.0.0"), [(14, 15)]);
    assert_eq!(lines(&parsed, "is-odd", "3.0.1"), [(45, 46)]);

    let broken = lock.replace("  is-odd@3.0.1:\n", "  is-odd@3.0.1: [\n");
    assert_eq!(malformed_line(text(LockfileKind::Pnpm, &broken)), Some(45));
}

#[test]
fn pnpm_hostile_yaml_is_refused_quickly() {
    let mut laughs = String::from("lockfileVersion: '9.0'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        laughs.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    let started = std::time::Instant::now();
    let refused = |yaml: &str| match text(LockfileKind::Pnpm, yaml) {
        Err(rampart_catalog::CatalogError::Malformed { message, .. }) => message,
        Ok(p) => panic!("accepted: {:?}", ids(&p)),
    };
    assert!(refused(&laughs).contains("budget"));
    // Nesting inside a field nobody reads still counts.
    let flow =
        format!("packages:\n  a@1.0.0:\n    resolution: {}1{}\n", "{a: ".repeat(5000), "}".repeat(5000));
    assert!(refused(&flow).contains("budget"));
    let mut block = String::from("packages:\n  a@1.0.0:\n    resolution:\n");
    for depth in 0..100 {
        block.push_str(&format!("{}k:\n", " ".repeat(6 + 2 * depth)));
    }
    assert!(refused(&block).contains("budget"));
    // Ordinary nesting passes.
    let shallow =
        format!("packages:\n  a@1.0.0:\n    resolution: {}1{}\n", "{a: ".repeat(10), "}".repeat(10));
    assert_eq!(ids(&text(LockfileKind::Pnpm, &shallow).unwrap()), ["a@1.0.0"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn pnpm_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::Pnpm, PNPM);
}
