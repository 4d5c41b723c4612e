//! Gemfile.lock and composer.lock parsers against the osv-scalibr fixtures in
//! `../shared/data`, plus hand-written files for what the fixtures lack.

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
