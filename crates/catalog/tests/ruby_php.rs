//! Gemfile.lock and composer.lock parsers against the osv-scalibr fixtures in
//! `../shared/data`, plus hand-written files for what the fixtures lack, and
//! `vendor/composer/installed.json`, which has no fixture there.

mod common;

use std::fs;

use common::*;
use rampart_catalog::{LockfileKind, Parsed, parse};
use rampart_types::Ecosystem;

const GEMFILE: &str = "ruby/gemfilelock";
const COMPOSER: &str = "php/composerlock";

fn gems(name: &str) -> Parsed {
    ok(LockfileKind::Gemfile, GEMFILE, name)
}

fn composer(name: &str) -> Parsed {
    ok(LockfileKind::Composer, COMPOSER, name)
}

// ---------------------------------------------------------------- Gemfile.lock

#[test]
fn gemfile_every_fixture() {
    for path in fixture_files(GEMFILE) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let parsed = parse_path(LockfileKind::Gemfile, &path).unwrap_or_else(|e| panic!("{e}"));
        // invalid.lock is a valid file with one unreadable spec line.
        assert_eq!(!parsed.warnings.is_empty(), name == "invalid.lock", "{name}: {:?}", parsed.warnings);
        assert!(parsed.packages.iter().all(|p| p.ecosystem == Ecosystem::RubyGems));
    }
    let invalid = gems("invalid.lock");
    assert!(invalid.packages.is_empty());
    assert_eq!(warning_lines(&invalid), [Some(4)]);
    for name in ["no-gem-section.lock", "no-gems.lock", "no-spec-section.lock"] {
        assert!(gems(name).packages.is_empty(), "{name}");
    }
}

#[test]
fn gemfile_garbage_is_rejected() {
    assert_eq!(malformed_line(text(LockfileKind::Gemfile, "just some text\nmore text\n")), Some(1));
    assert!(text(LockfileKind::Gemfile, "").unwrap().packages.is_empty());
}

#[test]
fn gemfile_specs_and_direct_dependencies() {
    let one = gems("one-gem.lock");
    assert_eq!(ids(&one), ["ast@2.4.2"]);
    assert_eq!(lines(&one, "ast", "2.4.2"), [(4, 4)]);
    assert!(!one.packages[0].indirect);

    let some = gems("some-gems.lock");
    assert_eq!(ids(&some), ["coderay@1.1.3", "method_source@1.0.0", "pry@0.14.1"]);
    assert_eq!(ids_where(&some, |p| !p.indirect), ["pry@0.14.1"]);

    let multiple = gems("multiple-gems.lock");
    assert_eq!(
        ids(&multiple),
        [
            "bundler-audit@0.9.0.1",
            "coderay@1.1.3",
            "dotenv@2.7.6",
            "method_source@1.0.0",
            "pry@0.14.1",
            "thor@1.2.1"
        ]
    );
    assert_eq!(
        ids_where(&multiple, |p| !p.indirect),
        ["bundler-audit@0.9.0.1", "dotenv@2.7.6", "pry@0.14.1"]
    );
    assert_eq!(lines(&multiple, "thor", "1.2.1"), [(13, 13)]);

    let rubocop = gems("rubocop.lock");
    assert_eq!(rubocop.packages.len(), 10);
    assert_eq!(ids_where(&rubocop, |p| !p.indirect), ["rubocop@1.25.1"]);
    assert_eq!(lines(&rubocop, "rubocop-ast", "1.16.0"), [(20, 20)]);

    let end = gems("source-section-at-end.lock");
    assert_eq!(ids(&end), ["ast@2.4.2"]);
    assert_eq!(lines(&end, "ast", "2.4.2"), [(16, 16)]);
}

#[test]
fn gemfile_rails_and_platform_suffixes() {
    let rails = gems("rails.lock");
    assert_eq!(rails.packages.len(), 46);
    assert_eq!(ids_where(&rails, |p| !p.indirect), ["rails@7.0.2.2"]);
    // `nokogiri (1.13.3-x86_64-linux)`: the platform is not part of the version.
    assert_eq!(lines(&rails, "nokogiri", "1.13.3"), [(104, 104)]);
    get(&rails, "websocket-extensions", "0.1.5");
}

#[test]
fn gemfile_git_and_path_sources() {
    let git = gems("has-git-gem.lock");
    assert_eq!(
        ids(&git),
        [
            "concurrent-ruby@1.1.7",
            "hanami-controller@2.0.0.alpha1",
            "hanami-utils@2.0.0.alpha1",
            "rack@2.2.3",
            "transproc@1.1.1"
        ]
    );
    // `hanami-utils!` in DEPENDENCIES: a direct gem from a git source.
    assert_eq!(ids_where(&git, |p| !p.indirect), ["hanami-utils@2.0.0.alpha1"]);
    assert_eq!(lines(&git, "hanami-utils", "2.0.0.alpha1"), [(15, 15)]);

    let local = gems("has-local-gem.lock");
    assert_eq!(local.packages.len(), 30);
    assert_eq!(ids_where(&local, |p| !p.indirect), ["backbone-on-rails@1.2.0.0"]);
    assert_eq!(lines(&local, "backbone-on-rails", "1.2.0.0"), [(4, 4)]);
    get(&local, "eco-source", "1.1.0.rc.1");
    get(&local, "nokogiri", "1.13.3");
}

#[test]
fn gemfile_platform_variants_merge_and_checksums_are_not_gems() {
    let lock = "GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.16.0-arm64-darwin)
      racc (~> 1.4)
    nokogiri (1.16.0-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.3)

PLATFORMS
  arm64-darwin
  x86_64-linux

DEPENDENCIES
  nokogiri (>= 1.15)

CHECKSUMS
  nokogiri (1.16.0-arm64-darwin) sha256=00
  racc (1.7.3) sha256=11

BUNDLED WITH
   2.5.3
";
    let parsed = text(LockfileKind::Gemfile, lock).unwrap();
    assert_eq!(ids(&parsed), ["nokogiri@1.16.0", "racc@1.7.3"]);
    assert_eq!(lines(&parsed, "nokogiri", "1.16.0"), [(4, 4), (6, 6)]);
    assert!(get(&parsed, "racc", "1.7.3").indirect);
    assert!(!get(&parsed, "nokogiri", "1.16.0").indirect);
}

#[test]
fn gemfile_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::Gemfile, GEMFILE);
}

// ---------------------------------------------------------------- composer.lock

#[test]
fn composer_every_fixture() {
    let malformed = ["not-json.txt", "null.jsontest"];
    for path in fixture_files(COMPOSER) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        match parse_path(LockfileKind::Composer, &path) {
            Ok(parsed) => {
                assert!(!malformed.contains(&name.as_str()), "{name} should be rejected");
                assert!(parsed.warnings.is_empty(), "{name}");
                assert!(parsed.packages.iter().all(|p| p.ecosystem == Ecosystem::Packagist));
            }
            Err(e) => assert!(malformed.contains(&name.as_str()), "{name}: {e}"),
        }
    }
    assert_eq!(malformed_line(fixture(LockfileKind::Composer, COMPOSER, "not-json.txt")), Some(1));
    assert_eq!(malformed_line(fixture(LockfileKind::Composer, COMPOSER, "null.jsontest")), Some(1));
    assert!(composer("empty.json").packages.is_empty());
}

#[test]
fn composer_runtime_and_dev_packages() {
    let one = composer("one-package.json");
    assert_eq!(ids(&one), ["sentry/sdk@2.0.4"]);
    assert!(!one.packages[0].dev);
    assert_eq!(one.packages[0].licenses, ["MIT"]);
    assert_eq!(lines(&one, "sentry/sdk", "2.0.4"), [(9, 39)]);

    let dev = composer("one-package-dev.json");
    assert!(get(&dev, "sentry/sdk", "2.0.4").dev);
    assert_eq!(lines(&dev, "sentry/sdk", "2.0.4"), [(10, 40)]);

    let two = composer("two-packages.json");
    assert_eq!(ids(&two), ["sentry/sdk@2.0.4", "theseer/tokenizer@1.1.3"]);
    assert_eq!(ids_where(&two, |p| p.dev), ["theseer/tokenizer@1.1.3"]);
    assert_eq!(get(&two, "theseer/tokenizer", "1.1.3").licenses, ["BSD-3-Clause"]);

    let alt = composer("two-packages-alt.json");
    assert_eq!(ids(&alt), ["sentry/sdk@2.0.4", "theseer/tokenizer@1.1.3"]);
    assert!(alt.packages.iter().all(|p| !p.dev));
    assert_eq!(lines(&alt, "theseer/tokenizer", "1.1.3"), [(40, 75)]);
}

#[test]
fn composer_duplicates_and_drupal() {
    let dup = composer("duplicate-packages.json");
    assert_eq!(ids(&dup), ["sentry/sdk@2.0.4", "sentry/sdk@2.0.5", "sentry/sdk@3.0.0-dev"]);
    assert_eq!(ids_where(&dup, |p| p.dev), ["sentry/sdk@3.0.0-dev"]);

    let drupal = composer("drupal-packages.json");
    assert_eq!(
        ids(&drupal),
        [
            "drupal/core@10.4.5",
            "drupal/field_time@1.0.0-beta5",
            "drupal/tfa@2.0.0-alpha4",
            "theseer/tokenizer@1.1.3"
        ]
    );
    assert_eq!(ids_where(&drupal, |p| p.dev), ["drupal/field_time@1.0.0-beta5"]);
    assert_eq!(get(&drupal, "drupal/core", "10.4.5").licenses, ["GPL-2.0-or-later"]);
    assert_eq!(lines(&drupal, "drupal/core", "10.4.5"), [(9, 172)]);
}

#[test]
fn composer_versions_are_kept_and_bad_entries_warn() {
    let lock = r#"{
  "packages": [
    {"name": "symfony/http-kernel", "version": "v5.4.20", "license": "MIT"},
    {"version": "1.0.0"},
    {"name": "monolog/monolog", "version": "2.9.1", "license": {"odd": true}}
  ],
  "packages-dev": [
    {"name": "symfony/http-kernel", "version": "v5.4.20"}
  ]
}"#;
    let parsed = text(LockfileKind::Composer, lock).unwrap();
    assert_eq!(ids(&parsed), ["monolog/monolog@2.9.1", "symfony/http-kernel@v5.4.20"]);
    // Required at runtime and for development: not dev.
    let kernel = get(&parsed, "symfony/http-kernel", "v5.4.20");
    assert!(!kernel.dev);
    assert_eq!(kernel.licenses, ["MIT"]);
    assert_eq!(lines(&parsed, "symfony/http-kernel", "v5.4.20"), [(3, 3), (8, 8)]);
    assert!(get(&parsed, "monolog/monolog", "2.9.1").licenses.is_empty());
    assert_eq!(warning_lines(&parsed), [Some(4)]);
}

#[test]
fn composer_json_beside_the_lock_decides_directness() {
    let dir = tempfile::tempdir().unwrap();
    let lock = fs::read(fixture_dir(COMPOSER).join("two-packages.json")).unwrap();
    let path = dir.path().join("composer.lock");
    fs::write(dir.path().join("composer.json"), r#"{"require": {"php": "^8.1", "Sentry/SDK": "^2.0"}}"#)
        .unwrap();
    let parsed = parse(LockfileKind::Composer, &path, "composer.lock", &lock).unwrap();
    assert_eq!(ids_where(&parsed, |p| p.indirect), ["theseer/tokenizer@1.1.3"]);

    fs::write(dir.path().join("composer.json"), "{ not json").unwrap();
    let parsed = parse(LockfileKind::Composer, &path, "composer.lock", &lock).unwrap();
    assert!(parsed.packages.iter().all(|p| !p.indirect));
    assert_eq!(parsed.warnings.len(), 1);
}

#[test]
fn composer_truncated_files_do_not_panic() {
    truncations_do_not_panic(LockfileKind::Composer, COMPOSER);
}

// ---------------------------------------------------------------- vendor/composer/installed.json

const VENDOR: LockfileKind = LockfileKind::ComposerVendor;

/// What Composer 2 writes after `composer install` of an app requiring
/// guzzle, monolog and symfony/console, with phpunit for development.
const INSTALLED_V2: &str = r#"{
    "packages": [
        {
            "name": "guzzlehttp/guzzle",
            "version": "7.8.1",
            "version_normalized": "7.8.1.0",
            "require": {"ext-json": "*", "guzzlehttp/psr7": "^1.9.1 || ^2.5.1", "php": "^7.2.5 || ^8.0"},
            "type": "library",
            "installation-source": "dist",
            "license": ["MIT"],
            "install-path": "../guzzlehttp/guzzle"
        },
        {
            "name": "guzzlehttp/psr7",
            "version": "2.6.2",
            "version_normalized": "2.6.2.0",
            "type": "library",
            "license": ["MIT"],
            "install-path": "../guzzlehttp/psr7"
        },
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "version_normalized": "3.5.0.0",
            "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
            "type": "library",
            "license": ["MIT"],
            "install-path": "../monolog/monolog"
        },
        {
            "name": "phpunit/phpunit",
            "version": "10.5.10",
            "version_normalized": "10.5.10.0",
            "type": "library",
            "license": ["BSD-3-Clause"],
            "install-path": "../phpunit/phpunit"
        },
        {
            "name": "psr/log",
            "version": "3.0.0",
            "version_normalized": "3.0.0.0",
            "type": "library",
            "license": ["MIT"],
            "install-path": "../psr/log"
        },
        {
            "name": "symfony/console",
            "version": "v6.4.3",
            "version_normalized": "6.4.3.0",
            "type": "library",
            "license": ["MIT"],
            "install-path": "../symfony/console"
        }
    ],
    "dev": true,
    "dev-package-names": [
        "phpunit/phpunit"
    ]
}
"#;

/// What Composer 1 wrote: the packages alone.
const INSTALLED_V1: &str = r#"[
    {
        "name": "guzzlehttp/guzzle",
        "version": "6.5.5",
        "version_normalized": "6.5.5.0",
        "type": "library",
        "installation-source": "dist",
        "license": ["MIT"]
    },
    {
        "name": "monolog/monolog",
        "version": "1.25.3",
        "version_normalized": "1.25.3.0",
        "require": {"php": ">=5.3.0", "psr/log": "~1.0"},
        "type": "library",
        "license": ["MIT"]
    },
    {
        "name": "symfony/console",
        "version": "v4.4.18",
        "version_normalized": "4.4.18.0",
        "type": "library",
        "license": "MIT"
    }
]
"#;

/// `(name, version, purl, dev, licenses)` of each package, in file order.
fn vendor_summary(p: &Parsed) -> Vec<(&str, &str, String, bool, Vec<&str>)> {
    p.packages
        .iter()
        .map(|p| {
            let licenses = p.licenses.iter().map(String::as_str).collect();
            (p.name.as_str(), p.version.as_str(), p.purl(), p.dev, licenses)
        })
        .collect()
}

#[test]
fn installed_json_composer2_marks_dev_packages() {
    let p = text(VENDOR, INSTALLED_V2).unwrap();
    let purl = |s: &str| s.to_string();
    assert_eq!(
        vendor_summary(&p),
        [
            ("guzzlehttp/guzzle", "7.8.1", purl("pkg:composer/guzzlehttp/guzzle@7.8.1"), false, vec!["MIT"]),
            ("guzzlehttp/psr7", "2.6.2", purl("pkg:composer/guzzlehttp/psr7@2.6.2"), false, vec!["MIT"]),
            ("monolog/monolog", "3.5.0", purl("pkg:composer/monolog/monolog@3.5.0"), false, vec!["MIT"]),
            (
                "phpunit/phpunit",
                "10.5.10",
                purl("pkg:composer/phpunit/phpunit@10.5.10"),
                true,
                vec!["BSD-3-Clause"]
            ),
            ("psr/log", "3.0.0", purl("pkg:composer/psr/log@3.0.0"), false, vec!["MIT"]),
            ("symfony/console", "v6.4.3", purl("pkg:composer/symfony/console@v6.4.3"), false, vec!["MIT"]),
        ],
        "versions as written, `v` included, as in composer.lock"
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Packagist && !p.indirect));
    assert_eq!(lines(&p, "guzzlehttp/guzzle", "7.8.1"), [(3, 12)]);
    assert_eq!(lines(&p, "symfony/console", "v6.4.3"), [(46, 53)]);
}

#[test]
fn installed_json_composer1_is_a_list() {
    let p = text(VENDOR, INSTALLED_V1).unwrap();
    assert_eq!(
        vendor_summary(&p),
        [
            (
                "guzzlehttp/guzzle",
                "6.5.5",
                "pkg:composer/guzzlehttp/guzzle@6.5.5".to_string(),
                false,
                vec!["MIT"]
            ),
            (
                "monolog/monolog",
                "1.25.3",
                "pkg:composer/monolog/monolog@1.25.3".to_string(),
                false,
                vec!["MIT"]
            ),
            (
                "symfony/console",
                "v4.4.18",
                "pkg:composer/symfony/console@v4.4.18".to_string(),
                false,
                vec!["MIT"]
            ),
        ],
        "Composer 1 records no dev packages; an old single-string license is kept"
    );
    assert_eq!(lines(&p, "monolog/monolog", "1.25.3"), [(10, 17)]);
}

#[test]
fn installed_json_bad_input() {
    let no_name = r#"{
  "packages": [
    {"version": "1.0.0"},
    {"name": "psr/container", "version": "2.0.2"}
  ],
  "dev-package-names": [7, "PSR/Container"]
}"#;
    let p = text(VENDOR, no_name).unwrap();
    assert_eq!(ids_where(&p, |p| p.dev), ["psr/container@2.0.2"], "names compare without case");
    assert_eq!(warning_lines(&p), [Some(3)]);
    assert_eq!(p.warnings[0].message, "packages[0] has no name or version");
    let p = text(VENDOR, "[\n  {\"name\": \"psr/log\"}\n]").unwrap();
    assert!(p.packages.is_empty());
    assert_eq!(p.warnings[0].message, "[0] has no name or version");

    assert!(
        text(VENDOR, r#"{"packages": [], "dev": false, "dev-package-names": []}"#)
            .unwrap()
            .packages
            .is_empty()
    );
    for (bad, line) in
        [("null", 1), ("not json", 1), ("{\n  \"packages\": {\"a\": 1}\n}", 2), ("[\n  1\n]", 2)]
    {
        let err = text(VENDOR, bad).unwrap_err();
        assert!(err.to_string().starts_with("lockfile:"), "{err}");
        assert_eq!(malformed_line(Err(err)), Some(line), "{bad}");
    }
}

#[test]
fn installed_json_claimed_in_a_composer_directory() {
    for (path, want) in [
        ("var/www/vendor/composer/installed.json", Some(VENDOR)),
        ("/srv/app/lib/composer/installed.json", Some(VENDOR)),
        ("var/www/vendor/installed.json", None),
        ("installed.json", None),
        ("var/www/vendor/composer/installed.php", None),
    ] {
        assert_eq!(LockfileKind::detect(std::path::Path::new(path)), want, "{path}");
    }
    assert_eq!(VENDOR.trivy_type(), "composer-vendor");
    assert_eq!(VENDOR.ecosystem(), Ecosystem::Packagist);
}

#[test]
fn installed_json_truncated_files_do_not_panic() {
    for sample in [INSTALLED_V1, INSTALLED_V2] {
        for cut in 0..sample.len() {
            let outcome = std::panic::catch_unwind(|| {
                parse(
                    VENDOR,
                    std::path::Path::new("installed.json"),
                    "installed.json",
                    &sample.as_bytes()[..cut],
                )
                .map(|p| p.packages.len())
            });
            assert!(outcome.is_ok(), "cut at {cut} panicked");
        }
    }
}
