//! Python lockfile parsers against the osv-scalibr fixtures in `../shared/data`
//! and against small hand-written files for what the fixtures do not cover.

mod common;

use std::fs;

use common::{
    fixture, lines_by_name, malformed_line, ok, ordered_ids, parse_path, parses_or_fails_cleanly, text,
    truncations_do_not_panic, warning_lines,
};
use rampart_catalog::{LockfileKind, Parsed, parse};
use rampart_types::{Ecosystem, Location};

/// `(name, version, dev)` in output order.
fn with_dev(parsed: &Parsed) -> Vec<(&str, &str, bool)> {
    parsed.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dev)).collect()
}

const REQ: LockfileKind = LockfileKind::Requirements;

#[test]
fn requirements_pinned_lines_with_locations() {
    let p = ok(REQ, "python/requirements", "comments.txt");
    assert_eq!(
        ordered_ids(&p),
        [("PyCrypto", "1.2-alpha"), ("GMPY2", "1"), ("SymPy", "1.2"), ("requests", "1.0"), ("six", "1.2")]
    );
    assert_eq!(lines_by_name(&p, "requests"), [(7, 7)], "inline comment stripped, line kept");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::PyPI && !p.dev && !p.indirect));

    let p = ok(REQ, "python/requirements", "extras.txt");
    assert_eq!(ordered_ids(&p), [("pyjwt", "2.1.0"), ("celery", "4.4.7")]);

    let p = ok(REQ, "python/requirements", "with_versions.txt");
    assert_eq!(
        ordered_ids(&p),
        [
            ("nltk", "3.2.2"),
            ("tabulate", "0.7.7"),
            ("qwerty", "0.1"),
            ("hy-phen", "1.2"),
            ("under_score", "1.3"),
            ("pkg.dot.name", "5.0.0"),
            ("yolo", "1.0"),
        ],
        "`>=`, `<=` and `==0.7.*` are ranges; `===` is a pin"
    );
    assert_eq!(lines_by_name(&p, "qwerty"), [(5, 6)], "a continued line spans both lines");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = ok(REQ, "python/requirements", "no_version.txt");
    assert!(p.packages.is_empty() && p.warnings.is_empty(), "unpinned names are silently not packages");
}

#[test]
fn requirements_continuations_and_hashes() {
    let p = ok(REQ, "python/requirements", "multiline_and_comments.txt");
    assert_eq!(ordered_ids(&p), [("pkgA", "1.0"), ("pkgB", "2.0")]);
    assert_eq!(lines_by_name(&p, "pkgA"), [(3, 4)]);
    assert_eq!(lines_by_name(&p, "pkgB"), [(7, 7)]);

    let p = ok(REQ, "python/requirements", "trailing_backslash.txt");
    assert_eq!(ordered_ids(&p), [("pkg1", "1.0")]);
    assert_eq!(lines_by_name(&p, "pkg1"), [(1, 1)]);
}

#[test]
fn requirements_per_requirement_options() {
    let p = ok(REQ, "python/requirements", "per_req_options.txt");
    let expected: Vec<(String, &str)> = [1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14]
        .iter()
        .map(|n| format!("foo{n}"))
        .chain(["foo16-Client".to_string(), "foo17--hash".to_string(), "foo18-Client".to_string()])
        .map(|n| (n, "1.0"))
        .collect();
    let got: Vec<(String, &str)> = p.packages.iter().map(|p| (p.name.clone(), p.version.as_str())).collect();
    assert_eq!(got, expected);
    assert_eq!(lines_by_name(&p, "foo9"), [(17, 18)]);
    assert_eq!(lines_by_name(&p, "foo18-Client"), [(36, 36)]);
    // foo7 has text between its version and its options; foo10 and foo15 have `==` and nothing else.
    assert_eq!(warning_lines(&p), [Some(13), Some(20), Some(30)], "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("foo7"), "{}", p.warnings[0]);
}

#[test]
fn requirements_bad_lines_warn_and_the_rest_survives() {
    let p = ok(REQ, "python/requirements", "invalid.txt");
    assert!(p.packages.is_empty(), "{:?}", ordered_ids(&p));
    // `asdf==`, `==1.0` and `asdf 1.0`; the URL line and the `-foo` option are not requirements.
    assert_eq!(warning_lines(&p), [Some(1), Some(2), Some(3)], "{:?}", p.warnings);

    let p = ok(REQ, "python/requirements", "env_var.txt");
    assert_eq!(ordered_ids(&p), [("asdf", "1.2"), ("another", "1.0")]);
    assert_eq!(warning_lines(&p), [Some(2)]);
    assert!(p.warnings[0].message.contains("${MY_VARIABLE_1}"), "{}", p.warnings[0]);
}

#[test]
fn requirements_follow_includes_relative_to_the_file() {
    let p = ok(REQ, "python/requirements", "example.txt");
    assert_eq!(
        ordered_ids(&p),
        [("docopt", "0.6.1"), ("pandas", "2.2.3")],
        "pandas comes from -r other-requirements.txt"
    );
    assert_eq!(lines_by_name(&p, "docopt"), [(8, 8)]);
    assert!(lines_by_name(&p, "pandas").is_empty(), "lines of an included file are not lines of this one");
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(p.warnings[0].line, Some(22));
    assert!(p.warnings[0].message.contains("constraints.txt"), "{}", p.warnings[0]);

    let p = ok(REQ, "python/requirements", "loop.txt");
    assert!(
        p.packages.is_empty() && p.warnings.is_empty(),
        "the include cycle ends quietly: {:?}",
        p.warnings
    );
}

#[test]
fn requirements_constraints_pin_unpinned_requirements() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("ci")).unwrap();
    fs::write(dir.path().join("ci/constraints.txt"), "requests==2.31.0\nflask==3.0.0\n").unwrap();
    fs::write(dir.path().join("base.txt"), "idna==3.6\n-r requirements.txt\n").unwrap();
    let root = dir.path().join("requirements.txt");
    let content = "requests>=2\nurllib3\n--constraint=ci/constraints.txt\n-rbase.txt\n";
    fs::write(&root, content).unwrap();
    let p = parse(REQ, &root, "requirements.txt", content.as_bytes()).unwrap();
    assert_eq!(
        ordered_ids(&p),
        [("requests", "2.31.0"), ("idna", "3.6")],
        "flask is only a constraint; urllib3 is unpinned"
    );
    assert_eq!(lines_by_name(&p, "requests"), [(1, 1)]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn requirements_include_depth_and_absolute_paths_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..15 {
        fs::write(dir.path().join(format!("r{i}.txt")), format!("pkg{i}==1.{i}\n-r r{}.txt\n", i + 1))
            .unwrap();
    }
    let root = dir.path().join("r0.txt");
    let p = parse_path(REQ, &root).unwrap();
    assert_eq!(p.packages.len(), 11, "the root and ten levels of includes: {:?}", ordered_ids(&p));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("r11.txt"), "{}", p.warnings[0]);
    assert!(
        p.warnings[0].path.ends_with("r10.txt"),
        "the warning names the including file: {}",
        p.warnings[0]
    );

    let p = text(REQ, "-r /etc/passwd\n-c https://example.com/c.txt\nsix==1.16.0\n").unwrap();
    assert_eq!(ordered_ids(&p), [("six", "1.16.0")]);
    assert_eq!(warning_lines(&p), [Some(1), Some(2)]);
}

#[test]
fn requirements_includes_stay_inside_the_scanned_directory() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    fs::create_dir_all(project.join("sub")).unwrap();
    fs::write(dir.path().join("outside.txt"), "leaked==6.6.6\n").unwrap();
    fs::write(project.join("base.txt"), "idna==3.6\n").unwrap();
    // `..` that stays inside the scanned directory is fine; the second one leaves it.
    fs::write(project.join("sub/inner.txt"), "-r ../base.txt\n-r ../../outside.txt\n").unwrap();
    let root = project.join("requirements.txt");
    fs::write(&root, "six==1.16.0\n-r ../outside.txt\n-r sub/inner.txt\n").unwrap();

    let p = parse_path(REQ, &root).unwrap();
    assert_eq!(ordered_ids(&p), [("six", "1.16.0"), ("idna", "3.6")], "nothing is read from outside.txt");
    assert_eq!(warning_lines(&p), [Some(2), Some(2)], "{:?}", p.warnings);
    for (w, include) in p.warnings.iter().zip(["`../outside.txt`", "`../../outside.txt`"]) {
        assert!(w.message.contains(include), "names the include: {w}");
        assert!(w.message.contains("outside the directory"), "{w}");
    }
    assert!(
        p.warnings[1].path.ends_with("inner.txt"),
        "the warning names the including file: {}",
        p.warnings[1]
    );
}

#[cfg(unix)]
#[test]
fn requirements_includes_do_not_follow_symlinks_out() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    fs::write(dir.path().join("outside.txt"), "leaked==6.6.6\n").unwrap();
    fs::write(project.join("inside.txt"), "idna==3.6\n").unwrap();
    symlink(dir.path().join("outside.txt"), project.join("link.txt")).unwrap();
    symlink(dir.path(), project.join("up")).unwrap();
    symlink("inside.txt", project.join("alias.txt")).unwrap();
    let root = project.join("requirements.txt");
    fs::write(&root, "-r link.txt\n-r up/outside.txt\n-r alias.txt\n").unwrap();

    let p = parse_path(REQ, &root).unwrap();
    assert_eq!(ordered_ids(&p), [("idna", "3.6")], "a link that stays inside is followed, none that leaves");
    assert_eq!(warning_lines(&p), [Some(1), Some(2)], "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("`link.txt` points outside the directory"), "{}", p.warnings[0]);
    assert!(
        p.warnings[1].message.contains("`up/outside.txt` points outside the directory"),
        "{}",
        p.warnings[1]
    );
}

#[test]
fn requirements_options_markers_bom_and_crlf() {
    let content = "\u{feff}--index-url https://pypi.example/simple\r\n-e git+https://x/y.git#egg=y\r\n\
                   Django[argon2] == 4.2.1 ; python_version >= \"3.8\"\r\nnumpy @ file:///tmp/numpy.whl\r\n\
                   ./local/pkg\r\nSix==1.16.0\r\nsix==1.16.0\r\n.\r\n";
    let p = text(REQ, content).unwrap();
    assert_eq!(ordered_ids(&p), [("Django", "4.2.1"), ("Six", "1.16.0")]);
    assert_eq!(lines_by_name(&p, "Six"), [(6, 6), (7, 7)], "one package, both lines (PEP 503 names)");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

const PIPFILE: LockfileKind = LockfileKind::Pipfile;

#[test]
fn pipfile_lock_default_and_develop() {
    let p = ok(PIPFILE, "python/pipfilelock", "two-packages.json");
    assert_eq!(with_dev(&p), [("itsdangerous", "2.1.2", false), ("markupsafe", "2.1.1", true)]);

    let p = ok(PIPFILE, "python/pipfilelock", "one-package-dev.json");
    assert_eq!(with_dev(&p), [("markupsafe", "2.1.1", true)]);
    assert_eq!(lines_by_name(&p, "markupsafe"), [(20, 65)]);

    let p = ok(PIPFILE, "python/pipfilelock", "one-package.json");
    assert_eq!(with_dev(&p), [("markupsafe", "2.1.1", false)]);

    let p = ok(PIPFILE, "python/pipfilelock", "minified.json");
    assert_eq!(with_dev(&p), [("markupsafe", "2.1.1", false)]);
    assert_eq!(lines_by_name(&p, "markupsafe"), [(1, 1)]);

    let p = ok(PIPFILE, "python/pipfilelock", "two-packages-alt.json");
    assert_eq!(with_dev(&p), [("itsdangerous", "2.1.2", false), ("markupsafe", "2.1.1", false)]);

    assert!(ok(PIPFILE, "python/pipfilelock", "empty.json").packages.is_empty());
    let p = ok(PIPFILE, "python/pipfilelock", "no-version.json");
    assert!(
        p.packages.is_empty() && p.warnings.is_empty(),
        "editable git checkouts have no version to match"
    );
}

#[test]
fn pipfile_lock_package_in_both_sections_is_not_dev() {
    let p = ok(PIPFILE, "python/pipfilelock", "multiple-packages.json");
    assert_eq!(
        with_dev(&p),
        [
            ("itsdangerous", "2.1.2", false),
            ("pluggy", "1.0.1", false),
            ("markupsafe", "2.1.1", false),
            ("pluggy", "1.0.0", true),
        ]
    );
    assert_eq!(lines_by_name(&p, "itsdangerous"), [(19, 26), (80, 87)]);
}

#[test]
fn pipfile_lock_malformed() {
    assert_eq!(malformed_line(fixture(PIPFILE, "python/pipfilelock", "not-json.txt")), Some(1));
    assert_eq!(malformed_line(fixture(PIPFILE, "python/pipfilelock", "empty-file")), Some(1));
    assert_eq!(malformed_line(text(PIPFILE, "{\n\"default\": {\n\"a\": {\"version\": \"==1\"},\n")), Some(4));
    let p = text(PIPFILE, r#"{"default": {"a": {"version": "*"}, "b": [1], "c": {"version": "==2.0"}}}"#)
        .unwrap();
    assert_eq!(ordered_ids(&p), [("c", "2.0")]);
    assert_eq!(p.warnings.len(), 2, "unpinned `*` and a non-object entry: {:?}", p.warnings);
}

const POETRY: LockfileKind = LockfileKind::Poetry;

#[test]
fn poetry_lock_v1_category_and_locations() {
    let p = ok(POETRY, "python/poetrylock", "two-packages.lock");
    assert_eq!(with_dev(&p), [("proto-plus", "1.22.0", false), ("protobuf", "4.21.5", false)]);
    assert_eq!(lines_by_name(&p, "proto-plus"), [(1, 13)], "the block includes its [package.*] tables");
    assert_eq!(lines_by_name(&p, "protobuf"), [(15, 21)], "and stops at [metadata]");

    for (file, name, version) in [
        ("one-package.lock", "numpy", "1.23.3"),
        ("optional-package.lock", "numpy", "1.23.3"),
        ("one-package-with-metadata.lock", "emoji", "2.0.0"),
        ("source-git.lock", "ike", "0.2.0"),
        ("source-legacy.lock", "appdirs", "1.4.4"),
    ] {
        let p = ok(POETRY, "python/poetrylock", file);
        assert_eq!(with_dev(&p), [(name, version, false)], "{file}");
    }
    assert_eq!(
        lines_by_name(&ok(POETRY, "python/poetrylock", "one-package-with-metadata.lock"), "emoji"),
        [(1, 10)]
    );

    let p =
        text(POETRY, "[[package]]\nname = \"pytest\"\nversion = \"7.0.0\"\ncategory = \"dev\"\n").unwrap();
    assert_eq!(with_dev(&p), [("pytest", "7.0.0", true)]);
}

#[test]
fn poetry_lock_v2_groups() {
    let p = ok(POETRY, "python/poetrylock", "multiple-packages.v2.lock");
    assert_eq!(
        with_dev(&p),
        [
            ("async-timeout", "5.0.1", false),
            ("factory-boy", "3.3.1", true),
            ("faker", "33.3.0", true),
            ("proto-plus", "1.22.0", false),
            ("proto-plus", "1.23.0", false),
            ("protobuf", "4.25.5", false),
            ("python-dateutil", "2.9.0.post0", true),
            ("redis", "5.2.1", false),
            ("six", "1.17.0", false),
            ("typing-extensions", "4.12.2", true),
            ("urllib3", "2.3.0", true),
        ],
        "dev unless one of the groups is main"
    );
    assert_eq!(lines_by_name(&p, "async-timeout"), [(3, 14)]);
}

#[test]
fn poetry_lock_edge_files() {
    let p = ok(POETRY, "python/poetrylock", "names-outside-package-block.lock");
    assert_eq!(ordered_ids(&p), [("first-pkg", "1.0.0"), ("second-pkg", "2.0.0")]);
    assert_eq!(lines_by_name(&p, "second-pkg"), [(15, 19)]);
    assert!(ok(POETRY, "python/poetrylock", "empty.lock").packages.is_empty());
    assert!(ok(POETRY, "python/poetrylock", "empty-file.lock").packages.is_empty());
    assert_eq!(malformed_line(fixture(POETRY, "python/poetrylock", "not-toml.txt")), Some(1));
    assert_eq!(malformed_line(text(POETRY, "[[package]]\nname = \"a\"\nversion = 1.0.0\n")), Some(3));

    let p =
        text(POETRY, "[[package]]\nname = \"a\"\n\n[[package]]\nname = \"b\"\nversion = \"2\"\n").unwrap();
    assert_eq!(ordered_ids(&p), [("b", "2")]);
    assert_eq!(warning_lines(&p), [Some(1)], "a block without a version is named by its line");
}

const UV: LockfileKind = LockfileKind::Uv;

#[test]
fn uv_lock_skips_the_project_and_marks_indirect() {
    let p = ok(UV, "python/uvlock", "grouped-packages.lock");
    let names: Vec<&str> = p.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "black",
            "click",
            "colorama",
            "emoji",
            "flake8",
            "mccabe",
            "mypy-extensions",
            "packaging",
            "pathspec",
            "platformdirs",
            "pycodestyle",
            "pyflakes",
            "tomli",
            "typing-extensions",
        ],
        "the virtual project uv-lockfiles is not a dependency"
    );
    assert!(p.packages.iter().all(|p| !p.dev), "extras are not dev groups");
    let direct: Vec<&str> = p.packages.iter().filter(|p| !p.indirect).map(|p| p.name.as_str()).collect();
    assert_eq!(direct, ["black", "click", "emoji", "flake8"]);
    assert_eq!(p.packages[0].version, "24.10.0");

    let p = ok(UV, "python/uvlock", "two-packages.lock");
    assert_eq!(ordered_ids(&p), [("emoji", "2.14.0"), ("protobuf", "4.25.5")]);
    assert!(p.packages.iter().all(|p| !p.indirect && !p.dev));
    assert_eq!(lines_by_name(&p, "emoji"), [(4, 11)]);

    assert_eq!(ordered_ids(&ok(UV, "python/uvlock", "one-package.lock")), [("emoji", "2.14.0")]);
    assert_eq!(ordered_ids(&ok(UV, "python/uvlock", "source-git.lock")), [("ruff", "0.8.1")]);
}

#[test]
fn uv_lock_edge_files() {
    let p = ok(UV, "python/uvlock", "names-outside-package-block.lock");
    assert_eq!(ordered_ids(&p), [("first-pkg", "1.0.0"), ("second-pkg", "2.0.0")]);
    assert!(p.packages.iter().all(|p| !p.indirect), "without a project nothing is known to be indirect");
    for empty in ["empty.lock", "no-dependencies.lock", "no-packages.lock"] {
        let p = ok(UV, "python/uvlock", empty);
        assert!(p.packages.is_empty() && p.warnings.is_empty(), "{empty}");
    }
    assert_eq!(malformed_line(fixture(UV, "python/uvlock", "not-toml.txt")), Some(1));
}

#[test]
fn uv_lock_dev_groups_from_the_project() {
    let lock = r#"version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "requests" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "lib"
version = "0.2.0"
source = { editable = "packages/lib" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pluggy" }, { name = "urllib3", version = "2.0.0" }]

[[package]]
name = "pluggy"
version = "1.4.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3", version = "2.0.0" }]

[[package]]
name = "urllib3"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "urllib3"
version = "1.26.0"
source = { registry = "https://pypi.org/simple" }
"#;
    let p = text(UV, lock).unwrap();
    let got: Vec<(&str, &str, bool, bool)> =
        p.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dev, p.indirect)).collect();
    assert_eq!(
        got,
        [
            ("pytest", "8.0.0", true, false),
            ("pluggy", "1.4.0", true, true),
            ("requests", "2.31.0", false, false),
            ("urllib3", "2.0.0", false, true),
            ("urllib3", "1.26.0", false, true),
        ],
        "editable members are skipped; urllib3 2.0.0 is needed at run time too"
    );
}

#[test]
fn every_python_fixture_parses_or_fails_cleanly() {
    let cases = [(REQ, "python/requirements"), (POETRY, "python/poetrylock"), (UV, "python/uvlock")];
    for (kind, extractor) in cases {
        parses_or_fails_cleanly(kind, extractor, |name| name.starts_with("not-"));
    }
    parses_or_fails_cleanly(PIPFILE, "python/pipfilelock", |name| {
        name.starts_with("not-") || name == "empty-file"
    });
}

#[test]
fn truncated_python_fixtures_never_panic() {
    let cases = [
        (REQ, "python/requirements"),
        (PIPFILE, "python/pipfilelock"),
        (POETRY, "python/poetrylock"),
        (UV, "python/uvlock"),
    ];
    for (kind, extractor) in cases {
        truncations_do_not_panic(kind, extractor);
    }
    let deep = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(text(POETRY, &deep).is_err());
    let deep = format!("{{\"default\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(text(PIPFILE, &deep).is_err());
}

#[test]
fn locations_are_one_based_and_ordered() {
    let p = ok(POETRY, "python/poetrylock", "multiple-packages.v2.lock");
    let locs: Vec<Location> = p.packages.iter().flat_map(|p| p.locations.clone()).collect();
    assert!(locs.windows(2).all(|w| w[0].end_line < w[1].start_line), "{locs:?}");
    assert!(locs.iter().all(|l| l.start_line >= 1 && l.start_line <= l.end_line));
}
