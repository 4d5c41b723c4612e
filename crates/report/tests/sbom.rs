//! The CycloneDX and SPDX writers: golden files for a hand-built image scan,
//! validation against the published JSON schemas, and the identifiers and
//! package URLs consumers rely on.
//!
//! `UPDATE_GOLDEN=1 cargo test -p rampart-report --test sbom` rewrites the
//! golden files. Schema validation runs Python's `jsonschema` (scripts/test
//! installs it); the tests fail when it is missing.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use rampart_report::{Format, WriteOptions, write};
use rampart_types::{
    ArtifactType, Cvss, Ecosystem, Layer, Metadata, Os, Package, Report, ReportPackage, ResultClass,
    SCHEMA_VERSION, ScanResult, SecretFinding, Severity,
};
use serde_json::Value;

/// 2024-06-01T12:00:00Z, the time of the golden files.
const EPOCH: &str = "1717243200";
const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/schemas");

const LAYER_BASE: &str = "sha256:1f3e46996e2966e4faa5846e56e76e3748b7315e2ded61476c24403d592134f0";
const LAYER_APP: &str = "sha256:8c9d2a3b4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn layer(diff_id: &str) -> Layer {
    Layer { diff_id: diff_id.to_string(), ..Layer::default() }
}

fn pkg(
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
    licenses: &[&str],
    edit: impl FnOnce(&mut Package),
) -> ReportPackage {
    let mut p = Package::new(ecosystem, name, version);
    p.licenses = licenses.iter().map(|l| l.to_string()).collect();
    edit(&mut p);
    ReportPackage::from(&p)
}

fn lang(target: &str, kind: &str, packages: Vec<ReportPackage>, vulns: Vec<common::Vuln>) -> ScanResult {
    ScanResult {
        packages,
        vulnerabilities: vulns.into_iter().map(common::vuln).collect(),
        ..ScanResult::new(target, ResultClass::LangPkgs, kind)
    }
}

fn npm_vuln(
    id: &'static str,
    pkg: &'static str,
    installed: &'static str,
    fixed: &'static str,
) -> common::Vuln {
    common::Vuln {
        id,
        aliases: &["GHSA-35jh-r3h4-6jhm"],
        ecosystem: Ecosystem::Npm,
        pkg,
        installed,
        fixed,
        severity: Severity::High,
        title: "command injection via template",
        description: "Versions before the fix allow command injection via the template function.",
        url: "https://avd.aquasec.com/nvd/cve-2021-23337",
        cvss: &[("ghsa", 7.2), ("nvd", 7.2)],
        lines: &[],
    }
}

/// An Alpine image with OS packages, three lockfiles (one repeating a
/// package of another), a finding whose package is not listed, and a secret.
fn image_report() -> Report {
    let os = |name: &str, version: &str, src: &str, licenses: &[&str], diff_id: &str| {
        pkg(Ecosystem::Alpine, name, version, licenses, |p| {
            p.src_name = Some(src.to_string());
            p.src_version = Some(version.to_string());
            p.layer = layer(diff_id);
        })
    };
    let mut openssl = common::vuln(common::Vuln {
        id: "CVE-2024-9143",
        aliases: &[],
        ecosystem: Ecosystem::Alpine,
        pkg: "libcrypto3",
        installed: "3.3.2-r0",
        fixed: "3.3.2-r1",
        severity: Severity::Low,
        title: "openssl: Low-level invalid GF(2^m) parameters lead to OOB memory access",
        description: "Use of the low-level GF(2^m) elliptic curve APIs with untrusted explicit values may lead to out-of-bounds memory access.",
        url: "https://avd.aquasec.com/nvd/cve-2024-9143",
        cvss: &[],
        lines: &[],
    });
    openssl.severity_source = Some("alpine".to_string());
    openssl.cwe_ids = vec!["CWE-787".to_string(), "CWE-125".to_string(), "NVD-CWE-Other".to_string()];
    openssl.references = vec![
        "https://openssl-library.org/news/secadv/20241016.txt".to_string(),
        "https://avd.aquasec.com/nvd/cve-2024-9143".to_string(),
    ];
    openssl.last_modified_date = Some("2024-11-08T16:35:21.58+01:00".to_string());
    openssl.layer = layer(LAYER_BASE);
    openssl.cvss = BTreeMap::from([(
        "nvd".to_string(),
        Cvss {
            v3_vector: Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:L".to_string()),
            v3_score: Some(4.3),
            v40_vector: Some("CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:L/VI:N/VA:L/SC:N/SI:N/SA:N".to_string()),
            v40_score: Some(6.3),
        },
    )]);
    let alpine = ScanResult {
        packages: vec![
            os("busybox", "1.36.1-r29", "busybox", &["GPL-2.0-only"], LAYER_BASE),
            os("libcrypto3", "3.3.2-r0", "openssl", &["Apache-2.0"], LAYER_BASE),
            os("musl", "1.2.5-r0", "musl", &["mit"], LAYER_BASE),
            os("ca-certificates-bundle", "20240705-r0", "ca-certificates", &["MPL-2.0 AND MIT"], LAYER_APP),
            os("zlib", "1.3.1-r1", "zlib", &["Zlib", "Custom: see /usr/share/licenses/zlib"], LAYER_APP),
        ],
        vulnerabilities: vec![openssl],
        ..ScanResult::new("registry.example.com/shop/web:1.4 (alpine 3.20.3)", ResultClass::OsPkgs, "alpine")
    };
    let app = lang(
        "app/package-lock.json",
        "npm",
        vec![
            pkg(Ecosystem::Npm, "lodash", "4.17.20", &["MIT"], |_| {}),
            pkg(Ecosystem::Npm, "@babel/core", "7.24.0", &["MIT"], |p| p.indirect = true),
            pkg(Ecosystem::Npm, "minimist", "1.2.5", &["MIT"], |p| {
                p.dev = true;
                p.indirect = true;
            }),
            pkg(Ecosystem::Npm, "tslib", "2.6.2", &["0BSD OR Apache-2.0"], |_| {}),
        ],
        vec![
            npm_vuln("CVE-2021-23337", "lodash", "4.17.20", "4.17.21"),
            common::Vuln {
                id: "CVE-2021-44906",
                aliases: &["GHSA-xvch-5gv4-984h"],
                ecosystem: Ecosystem::Npm,
                pkg: "minimist",
                installed: "1.2.5",
                fixed: "1.2.6, 0.2.4",
                severity: Severity::Critical,
                title: "minimist: prototype pollution",
                description: "Minimist <=1.2.5 is vulnerable to Prototype Pollution via file index.js.",
                url: "https://avd.aquasec.com/nvd/cve-2021-44906",
                cvss: &[("nvd", 9.8)],
                lines: &[],
            },
        ],
    );
    let admin = lang(
        "admin/package-lock.json",
        "npm",
        vec![pkg(Ecosystem::Npm, "lodash", "4.17.20", &["MIT"], |_| {})],
        vec![npm_vuln("CVE-2021-23337", "lodash", "4.17.20", "4.17.21")],
    );
    let jvm = lang(
        "app/pom.xml",
        "pom",
        vec![pkg(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", &["Apache-2.0"], |_| {})],
        Vec::new(),
    );
    // Poetry lists no packages here: the finding's package must still appear.
    let python = lang(
        "app/poetry.lock",
        "poetry",
        Vec::new(),
        vec![common::Vuln {
            id: "CVE-2022-42969",
            aliases: &["PYSEC-2022-42969"],
            ecosystem: Ecosystem::PyPI,
            pkg: "py",
            installed: "1.11.0",
            fixed: "",
            severity: Severity::Medium,
            title: "",
            description: "The py library allows a denial of service via crafted Subversion info data.",
            url: "",
            cvss: &[],
            lines: &[],
        }],
    );
    let secret = ScanResult {
        secrets: vec![SecretFinding {
            rule_id: "aws-access-key-id".to_string(),
            category: "AWS".to_string(),
            severity: Severity::Critical,
            title: "AWS Access Key ID".to_string(),
            start_line: 1,
            end_line: 1,
            matched: "AWS_ACCESS_KEY_ID=********************".to_string(),
            layer: layer(LAYER_APP),
            commit: None,
        }],
        ..ScanResult::new("app/.env", ResultClass::Secret, "")
    };
    Report {
        schema_version: SCHEMA_VERSION,
        created_at: "2024-06-01T14:00:00+02:00".to_string(),
        artifact_name: "registry.example.com/shop/web:1.4".to_string(),
        artifact_type: ArtifactType::ContainerImage,
        metadata: Metadata {
            os: Some(Os { family: "alpine".to_string(), name: "3.20.3".to_string(), eosl: false }),
            image_id: Some(
                "sha256:0a3e6a7a1d7e2ca6f5a1e5c1d6b86b3a6f4c1f2b2a3c4d5e6f708192a3b4c5d6".to_string(),
            ),
            diff_ids: vec![LAYER_BASE.to_string(), LAYER_APP.to_string()],
            repo_tags: vec!["registry.example.com/shop/web:1.4".to_string()],
            repo_digests: vec![
                "registry.example.com/shop/web@sha256:4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899"
                    .to_string(),
            ],
            ..Metadata::default()
        },
        results: vec![alpine, app, admin, jvm, python, secret],
    }
}

/// A scanned directory with nothing in it.
fn empty_report() -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        created_at: "2024-06-01T12:00:00Z".to_string(),
        artifact_name: "empty dir".to_string(),
        artifact_type: ArtifactType::Repository,
        metadata: Metadata {
            repo_url: Some("https://example.com/shop/web.git".to_string()),
            ..Metadata::default()
        },
        results: Vec::new(),
    }
}

fn options() -> WriteOptions {
    WriteOptions { tool_version: "0.1.0".to_string(), ..WriteOptions::default() }
}

fn render(report: &Report, format: Format) -> String {
    let mut out = Vec::new();
    write(report, format, &options(), &mut out).expect("writing to memory");
    String::from_utf8(out).expect("writers emit UTF-8")
}

fn json(report: &Report, format: Format) -> Value {
    serde_json::from_str(&render(report, format)).expect("SBOMs are JSON")
}

/// Runs `body` where `SOURCE_DATE_EPOCH` is `epoch` (or unset). Changing the
/// environment inside a threaded test binary is unsound, so when it differs
/// the test re-runs alone in a child process given the right environment.
fn with_epoch(test: &str, epoch: Option<&str>, body: impl FnOnce()) {
    if std::env::var("SOURCE_DATE_EPOCH").ok().as_deref() == epoch {
        return body();
    }
    let mut child = Command::new(std::env::current_exe().expect("path of the test binary"));
    child.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    match epoch {
        Some(e) => child.env("SOURCE_DATE_EPOCH", e),
        None => child.env_remove("SOURCE_DATE_EPOCH"),
    };
    let out = child.output().expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} in a child process:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("reading {}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display())
    });
    assert!(
        actual == expected,
        "{} differs from the writer's output (review, then UPDATE_GOLDEN=1 to accept):\n{actual}",
        path.display()
    );
}

#[test]
fn cyclonedx_matches_golden() {
    with_epoch("cyclonedx_matches_golden", Some(EPOCH), || {
        check_golden("image.cdx.json", &render(&image_report(), Format::CycloneDx));
    });
}

#[test]
fn spdx_matches_golden() {
    with_epoch("spdx_matches_golden", Some(EPOCH), || {
        check_golden("image.spdx.json", &render(&image_report(), Format::SpdxJson));
    });
}

#[test]
fn source_date_epoch_makes_output_reproducible() {
    with_epoch("source_date_epoch_makes_output_reproducible", Some(EPOCH), || {
        for format in [Format::CycloneDx, Format::SpdxJson] {
            assert_eq!(render(&image_report(), format), render(&image_report(), format), "{format:?}");
        }
        let cdx = json(&image_report(), Format::CycloneDx);
        assert_eq!(cdx["metadata"]["timestamp"], "2024-06-01T12:00:00Z");
        let serial = cdx["serialNumber"].as_str().unwrap();
        assert!(is_uuid(serial.trim_start_matches("urn:uuid:"), '8'), "{serial}");
        let spdx = json(&image_report(), Format::SpdxJson);
        assert_eq!(spdx["creationInfo"]["created"], "2024-06-01T12:00:00Z");
        // Another scan result is another document.
        let mut changed = image_report();
        changed.results[1].packages.pop();
        assert_ne!(json(&changed, Format::CycloneDx)["serialNumber"], cdx["serialNumber"]);
        assert_ne!(json(&changed, Format::SpdxJson)["documentNamespace"], spdx["documentNamespace"]);
    });
}

#[test]
fn every_document_gets_a_new_serial_number() {
    with_epoch("every_document_gets_a_new_serial_number", None, || {
        let (a, b) = (json(&image_report(), Format::CycloneDx), json(&image_report(), Format::CycloneDx));
        let serial = a["serialNumber"].as_str().unwrap();
        assert!(is_uuid(serial.strip_prefix("urn:uuid:").unwrap(), '4'), "{serial}");
        assert_ne!(a["serialNumber"], b["serialNumber"]);
        // The report's time, in UTC.
        assert_eq!(a["metadata"]["timestamp"], "2024-06-01T12:00:00Z");
        let (a, b) = (json(&image_report(), Format::SpdxJson), json(&image_report(), Format::SpdxJson));
        assert_ne!(a["documentNamespace"], b["documentNamespace"]);
        assert_eq!(a["creationInfo"]["created"], "2024-06-01T12:00:00Z");
    });
}

fn is_uuid(s: &str, version: char) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && s.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        && groups[2].starts_with(version)
        && groups[3].starts_with(['8', '9', 'a', 'b'])
}

/// Validates `(format, document)` pairs with Python's `jsonschema` against
/// the schemas in the shared data; `Err` holds the validator's report.
fn validate(docs: &[(&str, &str)]) -> Result<(), String> {
    let schemas = Path::new(SCHEMAS);
    assert!(
        schemas.join("cyclonedx/bom-1.6.schema.json").is_file(),
        "{} is missing: these tests need ../shared/data beside the workspace",
        schemas.display()
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut args = vec![VALIDATOR.to_string(), schemas.display().to_string()];
    for (i, (format, doc)) in docs.iter().enumerate() {
        let path = dir.path().join(format!("{i}.{format}.json"));
        std::fs::write(&path, doc).expect("writing a temporary file");
        args.push(format.to_string());
        args.push(path.display().to_string());
    }
    let out = Command::new("python3")
        .arg("-c")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("running python3 for schema validation: {e} (install python3)"));
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) => Ok(()),
        Some(3) => panic!(
            "schema validation needs the Python package jsonschema (4.18 or later): {report}\
             install it with `python3 -m pip install jsonschema` (scripts/test does)"
        ),
        _ => Err(report),
    }
}

/// Exit 3 when jsonschema is missing, 1 when a document is invalid. The
/// CycloneDX schema's relative `$ref`s resolve through a registry keyed by
/// the `$id`s of the three files, so nothing is fetched.
const VALIDATOR: &str = r#"
import json, sys
try:
    import jsonschema
    from referencing import Registry, Resource
except ImportError as e:
    print(f"cannot import {e.name}", file=sys.stderr)
    sys.exit(3)

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)

root = sys.argv[1]
cdx = load(f"{root}/cyclonedx/bom-1.6.schema.json")
registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema))
    for schema in [cdx] + [load(f"{root}/cyclonedx/{n}") for n in ("spdx.schema.json", "jsf-0.82.schema.json")]
)
checker = jsonschema.Draft7Validator.FORMAT_CHECKER
validators = {
    "cyclonedx": jsonschema.Draft7Validator(cdx, registry=registry, format_checker=checker),
    "spdx": jsonschema.Draft7Validator(load(f"{root}/spdx-2.3/spdx-schema.json"), format_checker=checker),
}
failed = False
for kind, path in zip(sys.argv[2::2], sys.argv[3::2]):
    errors = sorted(validators[kind].iter_errors(load(path)), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors[:20]:
        where = "/".join(map(str, e.absolute_path))
        print(f"{kind} {path}: /{where}: {e.message[:300]}")
    failed = failed or bool(errors)
sys.exit(1 if failed else 0)
"#;

#[test]
fn documents_are_valid_against_the_schemas() {
    let mut docs = Vec::new();
    for report in [image_report(), empty_report(), common::report()] {
        docs.push(("cyclonedx", render(&report, Format::CycloneDx)));
        docs.push(("spdx", render(&report, Format::SpdxJson)));
    }
    let docs: Vec<(&str, &str)> = docs.iter().map(|(f, d)| (*f, d.as_str())).collect();
    if let Err(report) = validate(&docs) {
        panic!("schema violations:\n{report}");
    }
}

#[test]
fn the_validator_rejects_invalid_documents() {
    let mut cdx = json(&image_report(), Format::CycloneDx);
    cdx["components"][0]["type"] = "package".into();
    cdx["serialNumber"] = "urn:uuid:not-a-uuid".into();
    let mut spdx = json(&image_report(), Format::SpdxJson);
    spdx["packages"][0]["primaryPackagePurpose"] = "OPERATING-SYSTEM".into();
    let (cdx, spdx) = (cdx.to_string(), spdx.to_string());
    let report = validate(&[("cyclonedx", &cdx), ("spdx", &spdx)]).expect_err("broken documents must fail");
    for expected in ["/components/0/type", "/serialNumber", "/packages/0/primaryPackagePurpose"] {
        assert!(report.contains(expected), "no complaint about {expected}:\n{report}");
    }
}

/// Problems with a package URL as the purl spec defines it: `pkg:`, a
/// lower-case type, non-empty percent-encoded segments, an optional version,
/// and sorted, unique lower-case qualifier keys with non-empty values.
fn purl_problems(purl: &str) -> Option<String> {
    let encoded = |s: &str| {
        !s.is_empty()
            && s.split('%').skip(1).all(|h| h.len() >= 2 && h[..2].chars().all(|c| c.is_ascii_hexdigit()))
            && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_~%".contains(c))
    };
    let rest = purl.strip_prefix("pkg:")?;
    let (rest, subpath) = rest.split_once('#').map_or((rest, None), |(r, s)| (r, Some(s)));
    let (rest, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
    let Some((ty, path)) = rest.split_once('/') else { return Some("no type".into()) };
    if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".+-".contains(c))
    {
        return Some(format!("bad type {ty:?}"));
    }
    let (path, version) = path.split_once('@').map_or((path, None), |(p, v)| (p, Some(v)));
    if !path.split('/').all(encoded) || !version.is_none_or(encoded) {
        return Some("bad namespace, name or version".into());
    }
    if let Some(q) = query {
        let keys: Vec<&str> = q.split('&').map(|kv| kv.split_once('=').map_or("", |(k, _)| k)).collect();
        let values_ok = q.split('&').all(|kv| kv.split_once('=').is_some_and(|(_, v)| encoded(v)));
        let keys_ok = keys
            .iter()
            .all(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || ".-_".contains(c)));
        if !values_ok
            || !keys_ok
            || !keys.is_sorted()
            || keys.iter().collect::<HashSet<_>>().len() != keys.len()
        {
            return Some(format!("bad qualifiers {q:?}"));
        }
    }
    subpath.filter(|s| !s.split('/').all(encoded)).map(|s| format!("bad subpath {s:?}"))
}

#[test]
fn the_purl_check_catches_bad_purls() {
    assert_eq!(purl_problems("pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"), None);
    for bad in ["pkg:NPM/a@1", "pkg:npm/@babel/core@1", "pkg:npm/a@1?b=1&a=2", "pkg:npm/a b@1", "pkg:deb//x"]
    {
        assert!(purl_problems(bad).is_some(), "{bad}");
    }
}

#[test]
fn cyclonedx_references_are_unique_and_resolve() {
    let doc = json(&image_report(), Format::CycloneDx);
    let components: Vec<&Value> =
        std::iter::once(&doc["metadata"]["component"]).chain(doc["components"].as_array().unwrap()).collect();
    let mut refs = HashSet::new();
    for c in &components {
        assert!(refs.insert(c["bom-ref"].as_str().unwrap()), "duplicate bom-ref {}", c["bom-ref"]);
        if let Some(purl) = c["purl"].as_str() {
            assert_eq!(purl_problems(purl), None, "{purl}");
        }
    }
    let mut used = Vec::new();
    for d in doc["dependencies"].as_array().unwrap() {
        used.push(d["ref"].as_str().unwrap());
        used.extend(d["dependsOn"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()));
    }
    for v in doc["vulnerabilities"].as_array().unwrap() {
        used.extend(v["affects"].as_array().unwrap().iter().map(|a| a["ref"].as_str().unwrap()));
    }
    for r in used {
        assert!(refs.contains(r), "{r} names no component");
    }
}

#[test]
fn spdx_identifiers_are_unique_and_resolve() {
    let doc = json(&image_report(), Format::SpdxJson);
    let mut ids = HashSet::from(["SPDXRef-DOCUMENT"]);
    for p in doc["packages"].as_array().unwrap() {
        let id = p["SPDXID"].as_str().unwrap();
        let body = id.strip_prefix("SPDXRef-").unwrap_or("");
        assert!(
            !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)),
            "{id}"
        );
        assert!(ids.insert(id), "duplicate SPDXID {id}");
        for r in p["externalRefs"].as_array().into_iter().flatten() {
            let purl = r["referenceLocator"].as_str().unwrap();
            assert_eq!(purl_problems(purl), None, "{purl}");
        }
    }
    for r in doc["relationships"].as_array().unwrap() {
        for end in ["spdxElementId", "relatedSpdxElement"] {
            assert!(ids.contains(r[end].as_str().unwrap()), "relationship to unknown {}", r[end]);
        }
    }
    let defined: HashSet<&str> = doc["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["licenseId"].as_str().unwrap())
        .collect();
    for p in doc["packages"].as_array().unwrap() {
        for word in p["licenseDeclared"].as_str().unwrap().split([' ', '(', ')']) {
            assert!(!word.starts_with("LicenseRef-") || defined.contains(word), "{word} is not defined");
        }
    }
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .and_then(|l| l.iter().find(|x| x[key] == value))
        .unwrap_or_else(|| panic!("no entry with {key} = {value}"))
}

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"].as_array()?.iter().find(|p| p["name"] == name)?["value"].as_str()
}

#[test]
fn cyclonedx_describes_the_image_like_trivy() {
    let doc = json(&image_report(), Format::CycloneDx);
    let image = &doc["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(
        image["purl"],
        "pkg:oci/web@sha256%3A4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899\
         ?repository_url=registry.example.com%2Fshop%2Fweb"
    );
    assert_eq!(property(image, "aquasecurity:trivy:RepoTag"), Some("registry.example.com/shop/web:1.4"));

    let components = &doc["components"];
    let os = find(components, "type", "operating-system");
    assert_eq!((&os["name"], &os["version"]), (&"alpine".into(), &"3.20.3".into()));
    // OS packages carry the distribution for scanners that read the purl.
    let busybox = find(components, "name", "busybox");
    assert_eq!(busybox["type"], "library");
    assert_eq!(busybox["bom-ref"], "pkg:apk/alpine/busybox@1.36.1-r29?distro=alpine-3.20.3");
    assert_eq!(property(busybox, "aquasecurity:trivy:PkgType"), Some("alpine"));
    assert_eq!(property(busybox, "aquasecurity:trivy:LayerDiffID"), Some(LAYER_BASE));
    assert_eq!(
        property(find(components, "name", "libcrypto3"), "aquasecurity:trivy:SrcName"),
        Some("openssl")
    );

    let deps = &doc["dependencies"];
    let image_deps = find(deps, "ref", image["bom-ref"].as_str().unwrap())["dependsOn"].as_array().unwrap();
    assert_eq!(image_deps.len(), 5, "the OS and four lockfiles: {image_deps:?}");
    let os_deps = &find(deps, "ref", os["bom-ref"].as_str().unwrap())["dependsOn"];
    assert_eq!(os_deps.as_array().unwrap().len(), 5);
    let app = find(components, "name", "app/package-lock.json");
    assert_eq!(app["type"], "application");
    assert_eq!(property(app, "aquasecurity:trivy:Type"), Some("npm"));
    assert_eq!(find(deps, "ref", app["bom-ref"].as_str().unwrap())["dependsOn"].as_array().unwrap().len(), 4);

    // The same lodash in two lockfiles: two components, distinct refs.
    let lodash: Vec<&Value> =
        components.as_array().unwrap().iter().filter(|c| c["name"] == "lodash").collect();
    assert_eq!(lodash.len(), 2);
    assert_eq!(lodash[0]["bom-ref"], "pkg:npm/lodash@4.17.20");
    assert_eq!(lodash[1]["bom-ref"], "pkg:npm/lodash@4.17.20|2");

    let babel = find(components, "purl", "pkg:npm/%40babel/core@7.24.0");
    assert_eq!((&babel["group"], &babel["name"]), (&"@babel".into(), &"core".into()));
    assert_eq!(property(babel, "rampart:Indirect"), Some("true"));
    assert_eq!(property(babel, "rampart:Dev"), None);
    let log4j = find(components, "name", "log4j-core");
    assert_eq!(log4j["group"], "org.apache.logging.log4j");

    // Licenses: SPDX ids by id, compound expressions alone, other text by name.
    assert_eq!(find(components, "name", "musl")["licenses"], serde_json::json!([{"license": {"id": "MIT"}}]));
    assert_eq!(
        find(components, "name", "tslib")["licenses"],
        serde_json::json!([{"expression": "0BSD OR Apache-2.0"}])
    );
    assert_eq!(
        find(components, "name", "zlib")["licenses"],
        serde_json::json!([{"license": {"id": "Zlib"}}, {"license": {"name": "Custom: see /usr/share/licenses/zlib"}}])
    );

    // The unlisted package of a finding is there; the secret is not.
    assert_eq!(find(components, "name", "py")["purl"], "pkg:pypi/py@1.11.0");
    assert!(!doc.to_string().contains("AWS"));
}

#[test]
fn cyclonedx_vulnerabilities_point_at_components() {
    let doc = json(&image_report(), Format::CycloneDx);
    let vulns = &doc["vulnerabilities"];
    assert_eq!(vulns.as_array().unwrap().len(), 4, "one per flaw");

    let lodash = find(vulns, "id", "CVE-2021-23337");
    let refs: Vec<&str> =
        lodash["affects"].as_array().unwrap().iter().map(|a| a["ref"].as_str().unwrap()).collect();
    assert_eq!(refs, ["pkg:npm/lodash@4.17.20", "pkg:npm/lodash@4.17.20|2"]);
    assert_eq!(
        lodash["affects"][0]["versions"],
        serde_json::json!([{"version": "4.17.20", "status": "affected"}])
    );
    assert_eq!(lodash["recommendation"], "Upgrade lodash to 4.17.21");
    assert_eq!(lodash["source"], serde_json::json!({"name": "osv", "url": "https://osv.dev"}));
    assert_eq!(lodash["references"][0]["id"], "GHSA-35jh-r3h4-6jhm");

    let openssl = find(vulns, "id", "CVE-2024-9143");
    assert_eq!(openssl["affects"][0]["ref"], "pkg:apk/alpine/libcrypto3@3.3.2-r0?distro=alpine-3.20.3");
    assert_eq!(openssl["cwes"], serde_json::json!([787, 125]));
    assert_eq!(openssl["updated"], "2024-11-08T15:35:21Z");
    let ratings = openssl["ratings"].as_array().unwrap();
    let method =
        |m: &str| ratings.iter().find(|r| r["method"] == m).unwrap_or_else(|| panic!("no {m} rating"));
    assert_eq!(method("CVSSv31")["vector"], "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:L");
    assert_eq!(method("CVSSv31")["score"], 4.3);
    assert_eq!(method("CVSSv4")["severity"], "medium");
    // The verdict came from Alpine, which gave no score.
    assert_eq!(
        ratings.last().unwrap(),
        &serde_json::json!({"source": {"name": "alpine"}, "severity": "low"})
    );

    let minimist = find(vulns, "id", "CVE-2021-44906");
    assert_eq!(
        minimist["ratings"],
        serde_json::json!([
            {"source": {"name": "nvd"}, "score": 9.8, "severity": "critical", "method": "CVSSv31"}
        ])
    );
    assert_eq!(minimist["recommendation"], "Upgrade minimist to 1.2.6, 0.2.4");
    assert!(find(vulns, "id", "CVE-2022-42969").get("recommendation").is_none(), "no fix, no advice");
}

#[test]
fn spdx_describes_the_image() {
    let doc = json(&image_report(), Format::SpdxJson);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["creationInfo"]["creators"], serde_json::json!(["Tool: rampart-0.1.0"]));
    let packages = &doc["packages"];
    let image = find(packages, "name", "registry.example.com/shop/web:1.4");
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    let describes = find(&doc["relationships"], "relationshipType", "DESCRIBES");
    assert_eq!(describes["relatedSpdxElement"], image["SPDXID"]);

    let os = find(packages, "primaryPackagePurpose", "OPERATING_SYSTEM");
    assert_eq!((&os["name"], &os["versionInfo"]), (&"alpine".into(), &"3.20.3".into()));
    let libcrypto = find(packages, "name", "libcrypto3");
    assert_eq!(
        libcrypto["externalRefs"],
        serde_json::json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:apk/alpine/libcrypto3@3.3.2-r0?distro=alpine-3.20.3"
        }])
    );
    let comments: Vec<&str> =
        libcrypto["annotations"].as_array().unwrap().iter().map(|a| a["comment"].as_str().unwrap()).collect();
    assert!(comments.contains(&"SrcName: openssl") && comments.contains(&"PkgType: alpine"), "{comments:?}");
    let contains = doc["relationships"].as_array().unwrap().iter().any(|r| {
        r["spdxElementId"] == os["SPDXID"]
            && r["relationshipType"] == "CONTAINS"
            && r["relatedSpdxElement"] == libcrypto["SPDXID"]
    });
    assert!(contains, "the OS contains its packages");

    assert_eq!(find(packages, "name", "musl")["licenseDeclared"], "MIT");
    assert_eq!(find(packages, "name", "ca-certificates-bundle")["licenseDeclared"], "MPL-2.0 AND MIT");
    assert_eq!(find(packages, "name", "tslib")["licenseConcluded"], "NOASSERTION");
    let zlib = find(packages, "name", "zlib")["licenseDeclared"].as_str().unwrap();
    let (id, license_ref) = zlib.split_once(" AND ").unwrap();
    assert_eq!(id, "Zlib");
    let extracted = find(&doc["hasExtractedLicensingInfos"], "licenseId", license_ref);
    assert_eq!(extracted["extractedText"], "Custom: see /usr/share/licenses/zlib");
    assert_eq!(find(packages, "name", "lodash")["primaryPackagePurpose"], "LIBRARY");
}
