//! SBOM decoding: the shared CycloneDX and SPDX fixtures, documents shaped
//! like Trivy's and Syft's, malformed input, and round trips through
//! rampart's own writers.

use std::fs;
use std::path::{Path, PathBuf};

use rampart_catalog::CatalogError;
use rampart_catalog::sbom::{Sbom, SbomFormat, SbomGroup, decode};
use rampart_report::{Format, WriteOptions, write};
use rampart_types::{
    ArtifactType, Ecosystem, Layer, Metadata, Os, Package, Report, ReportPackage, ResultClass,
    SCHEMA_VERSION, ScanResult,
};

const FIXTURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/lockfiles/extractor/filesystem/sbom");

fn fixture_dir() -> PathBuf {
    let dir = Path::new(FIXTURES);
    assert!(
        dir.is_dir(),
        "{} is missing: these tests require ../shared/data (the shared test data next to the workspace)",
        dir.display()
    );
    dir.to_path_buf()
}

fn fixture(name: &str) -> Result<Sbom, CatalogError> {
    let bytes = fs::read(fixture_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    decode(name, &bytes)
}

fn ok(name: &str) -> Sbom {
    fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(content: &str) -> Result<Sbom, CatalogError> {
    decode("sbom.json", content.as_bytes())
}

fn pkg(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
    Package::new(ecosystem, name, version)
}

fn lang(target: &str, kind: &str, packages: Vec<Package>) -> SbomGroup {
    SbomGroup { target: target.to_string(), class: ResultClass::LangPkgs, kind: kind.to_string(), packages }
}

fn warnings(sbom: &Sbom) -> Vec<String> {
    sbom.warnings.iter().map(|w| w.to_string()).collect()
}

fn os(family: &str, name: &str) -> Option<Os> {
    Some(Os { family: family.to_string(), name: name.to_string(), eosl: false })
}

/// What each shared fixture decodes to: (file, package groups, warnings),
/// `X` standing for the file's name; every fixture is here or in [`UNREADABLE`].
fn expected() -> Vec<(&'static str, Vec<SbomGroup>, Vec<&'static str>)> {
    let log4j = || vec![lang("X", "jar", vec![pkg(Ecosystem::Maven, "log4j:log4j", "1.2.15")])];
    let one_without_purl = "1 package skipped: no package URL (1)";
    vec![
        (
            "cdx/testdata/minimal.cdx.json",
            vec![lang("X", "jar", vec![pkg(Ecosystem::Maven, "com.example.group:fooBar", "1.2.3")])],
            vec![],
        ),
        (
            "cdx/testdata/sbom-with-locations.cdx.json",
            vec![lang("X", "node-pkg", vec![pkg(Ecosystem::Npm, "@gar/promisify", "1.1.3")])],
            vec![],
        ),
        (
            // rustls is nested in the nginx application.
            "cdx/testdata/sbom-with-nested-comps.cdx.json",
            vec![lang("Nginx", "rust-binary", vec![pkg(Ecosystem::CratesIo, "rustls", "0.23.13")])],
            vec!["1 component skipped: unsupported package type generic (1)"],
        ),
        (
            "cdx/testdata/sbom.cdx.json",
            vec![],
            vec!["2 components skipped: no package URL (1), unsupported package type generic (1)"],
        ),
        (
            "cdx/testdata/sbom.bom.json",
            vec![],
            vec!["2 components skipped: no package URL (1), unsupported package type generic (1)"],
        ),
        ("spdx/testdata/ancestor_of.spdx.json", log4j(), vec![one_without_purl]),
        ("spdx/testdata/descendant_of.spdx.json", log4j(), vec![one_without_purl]),
        ("spdx/testdata/overlapping_refs.spdx.json", log4j(), vec![one_without_purl]),
        (
            "spdx/testdata/external_refs.spdx.json",
            vec![],
            vec!["3 packages skipped: no package URL (2), unsupported package type generic (1)"],
        ),
        (
            "spdx/testdata/independent_packages_descendant.spdx.json",
            vec![],
            vec!["2 packages skipped: unsupported package type generic (2)"],
        ),
        (
            "spdx/testdata/multi_descendant.spdx.json",
            vec![],
            vec!["3 packages skipped: no package URL (2), unsupported package type generic (1)"],
        ),
        (
            // Purls filed under SECURITY are read too.
            "spdx/testdata/purl_and_cpe.spdx.json",
            vec![],
            vec!["2 packages skipped: unsupported package type generic (2)"],
        ),
        (
            // The described nginx has no purl: it is the subject, not a package.
            "spdx/testdata/sbom.spdx.json",
            vec![],
            vec!["1 package skipped: unsupported package type generic (1)"],
        ),
        ("spdx/testdata/minimal.spdx.json", vec![], vec![]),
        // Image SBOMs that name only the image itself.
        ("spdx/testdata/dhi/.spdx.dhi-python.json", vec![], vec![]),
        ("spdx/testdata/dhi/.spdx.dhi-pkg-python.json", vec![], vec![]),
        (
            "spdx/testdata/dhi/.spdx.python.json",
            vec![],
            vec!["1 package skipped: unsupported package type dhi (1)"],
        ),
    ]
}

/// Fixtures that must fail, and a word the error must contain.
const UNREADABLE: &[(&str, &str)] = &[
    ("cdx/testdata/invalid_sbom.cdxjson", "invalid JSON"),
    ("cdx/testdata/random_file.ext", "invalid JSON"),
    ("cdx/testdata/sbom.cdx.json.foo.ext", "invalid JSON"),
    ("cdx/testdata/sbom.bom.xml", "XML"),
    ("cdx/testdata/sbom.cdx.xml", "XML"),
    ("spdx/testdata/invalid_sbom.spdx", "invalid JSON"),
    ("spdx/testdata/random_file.ext", "invalid JSON"),
    ("spdx/testdata/sbom.spdx.foo.ext", "invalid JSON"),
    ("spdx/testdata/sbom.spdx", "tag-value"),
    ("spdx/testdata/sbom.spdx.rdf", "XML"),
    ("spdx/testdata/sbom.spdx.yml", "invalid JSON"),
];

#[test]
fn fixtures_decode_to_the_packages_they_list() {
    for (name, mut groups, expected_warnings) in expected() {
        let sbom = ok(name);
        for g in groups.iter_mut().filter(|g| g.target == "X") {
            g.target = name.to_string();
        }
        let format = if name.starts_with("cdx/") { SbomFormat::CycloneDx } else { SbomFormat::Spdx };
        assert_eq!(sbom.format, format, "{name}");
        assert_eq!(sbom.groups, groups, "{name}");
        let expected_warnings: Vec<String> =
            expected_warnings.iter().map(|w| format!("{name}: {w}")).collect();
        assert_eq!(warnings(&sbom), expected_warnings, "{name}");
        assert_eq!(sbom.os, None, "{name}");
    }
}

#[test]
fn non_sboms_and_other_serializations_fail_cleanly() {
    for (name, word) in UNREADABLE {
        match fixture(name) {
            Err(CatalogError::Malformed { path, message, .. }) => {
                assert_eq!(path, *name);
                assert!(message.contains(word), "{name}: {message}");
            }
            Ok(sbom) => panic!("{name} decoded: {sbom:?}"),
        }
    }
}

#[test]
fn every_fixture_is_covered() {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let root = fixture_dir();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let mut covered: Vec<String> = expected().into_iter().map(|(n, _, _)| n.to_string()).collect();
    covered.extend(UNREADABLE.iter().map(|(n, _)| n.to_string()));
    files.sort();
    covered.sort();
    assert_eq!(files, covered);
}

#[test]
fn json_that_is_no_sbom_is_an_error() {
    for doc in
        [r#"{"name": "x"}"#, r#"{"bomFormat": "SPDX"}"#, r#"{"spdxVersion": "SPDX-3.0"}"#, "[]", "null"]
    {
        let err = text(doc).expect_err(doc);
        assert!(err.to_string().contains("not a CycloneDX or SPDX"), "{doc}: {err}");
    }
}

/// A Trivy image SBOM: the OS and lockfile are components holding packages
/// through `dependencies`, with Trivy's properties.
const TRIVY_IMAGE: &str = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {"component": {"bom-ref": "pkg:oci/web@sha256%3Aabc", "type": "container", "name": "web:1",
    "purl": "pkg:oci/web@sha256%3Aabc"}},
  "components": [
    {"bom-ref": "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3", "type": "library",
     "name": "libcrypto3", "version": "3.3.2-r0", "licenses": [{"license": {"id": "Apache-2.0"}}],
     "purl": "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3",
     "properties": [
       {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:111"},
       {"name": "aquasecurity:trivy:PkgType", "value": "alpine"},
       {"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
       {"name": "aquasecurity:trivy:SrcVersion", "value": "3.3.2-r0"}]},
    {"bom-ref": "3ad0ab3c-0000-4000-8000-000000000001", "type": "operating-system", "name": "alpine",
     "version": "3.20.3", "properties": [{"name": "aquasecurity:trivy:Class", "value": "os-pkgs"},
       {"name": "aquasecurity:trivy:Type", "value": "alpine"}]},
    {"bom-ref": "3ad0ab3c-0000-4000-8000-000000000002", "type": "application", "name": "app/package-lock.json",
     "properties": [{"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"},
       {"name": "aquasecurity:trivy:Type", "value": "npm"}]},
    {"bom-ref": "pkg:npm/express@4.17.1", "type": "library", "name": "express", "version": "4.17.1",
     "purl": "pkg:npm/express@4.17.1"},
    {"bom-ref": "pkg:npm/qs@6.7.0", "type": "library", "name": "qs", "version": "6.7.0",
     "purl": "pkg:npm/qs@6.7.0"},
    {"bom-ref": "3ad0ab3c-0000-4000-8000-000000000003", "type": "application", "name": "Node.js",
     "properties": [{"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"},
       {"name": "aquasecurity:trivy:Type", "value": "node-pkg"}]},
    {"bom-ref": "3ad0ab3c-0000-4000-8000-000000000004", "type": "library", "name": "qs", "version": "6.7.0",
     "purl": "pkg:npm/qs@6.7.0"}
  ],
  "dependencies": [
    {"ref": "pkg:oci/web@sha256%3Aabc", "dependsOn": ["3ad0ab3c-0000-4000-8000-000000000001",
      "3ad0ab3c-0000-4000-8000-000000000002", "3ad0ab3c-0000-4000-8000-000000000003"]},
    {"ref": "3ad0ab3c-0000-4000-8000-000000000001",
     "dependsOn": ["pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3"]},
    {"ref": "3ad0ab3c-0000-4000-8000-000000000002", "dependsOn": ["pkg:npm/express@4.17.1"]},
    {"ref": "pkg:npm/express@4.17.1", "dependsOn": ["pkg:npm/qs@6.7.0"]},
    {"ref": "pkg:npm/qs@6.7.0", "dependsOn": ["pkg:npm/express@4.17.1"]},
    {"ref": "3ad0ab3c-0000-4000-8000-000000000003", "dependsOn": ["3ad0ab3c-0000-4000-8000-000000000004"]}
  ]
}"#;

#[test]
fn trivy_image_sboms_keep_their_results() {
    let sbom = text(TRIVY_IMAGE).unwrap();
    assert_eq!(sbom.os, os("alpine", "3.20.3"));
    let mut libcrypto = pkg(Ecosystem::Alpine, "libcrypto3", "3.3.2-r0");
    libcrypto.src_name = Some("openssl".to_string());
    libcrypto.src_version = Some("3.3.2-r0".to_string());
    libcrypto.licenses = vec!["Apache-2.0".to_string()];
    libcrypto.layer = Layer { diff_id: "sha256:111".to_string(), ..Layer::default() };
    let expected = vec![
        SbomGroup {
            target: "sbom.json (alpine 3.20.3)".to_string(),
            class: ResultClass::OsPkgs,
            kind: "alpine".to_string(),
            packages: vec![libcrypto],
        },
        // The lockfile reaches qs through express (the cycle back is harmless).
        lang(
            "app/package-lock.json",
            "npm",
            vec![pkg(Ecosystem::Npm, "express", "4.17.1"), pkg(Ecosystem::Npm, "qs", "6.7.0")],
        ),
        lang("Node.js", "node-pkg", vec![pkg(Ecosystem::Npm, "qs", "6.7.0")]),
    ];
    assert_eq!(sbom.groups, expected);
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
}

/// A Syft image SBOM: flat components, distribution and source package in
/// the purl, Syft's own properties.
const SYFT_IMAGE: &str = r#"{
  "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
  "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "metadata": {"component": {"bom-ref": "abc", "type": "container", "name": "debian", "version": "sha256:abc"}},
  "components": [
    {"bom-ref": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
     "type": "library", "name": "libssl3", "version": "3.0.11-1~deb12u2",
     "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
     "properties": [{"name": "syft:location:0:layerID", "value": "sha256:222"}]},
    {"bom-ref": "b", "type": "library", "name": "libc6", "version": "2.36-9+deb12u7",
     "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
     "properties": [{"name": "syft:metadata:source", "value": "glibc"},
       {"name": "syft:metadata:sourceVersion", "value": "2.36-9+deb12u7"}]},
    {"bom-ref": "c", "type": "library", "name": "PyYAML", "version": "6.0.1",
     "licenses": [{"expression": "MIT"}], "purl": "pkg:pypi/pyyaml@6.0.1"},
    {"bom-ref": "d", "type": "library", "name": "golang.org/x/net", "version": "v0.17.0",
     "purl": "pkg:golang/golang.org/x/net@v0.17.0"},
    {"bom-ref": "e", "type": "library", "name": "centos-release", "version": "8",
     "purl": "pkg:rpm/centos/centos-release@8"},
    {"bom-ref": "f", "type": "operating-system", "name": "debian", "version": "12"}
  ]
}"#;

#[test]
fn syft_image_sboms_group_by_ecosystem() {
    let sbom = text(SYFT_IMAGE).unwrap();
    assert_eq!(sbom.os, os("debian", "12"));
    let mut libssl = pkg(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u2");
    libssl.src_name = Some("openssl".to_string());
    libssl.layer.diff_id = "sha256:222".to_string();
    let mut libc = pkg(Ecosystem::Debian, "libc6", "2.36-9+deb12u7");
    libc.src_name = Some("glibc".to_string());
    libc.src_version = Some("2.36-9+deb12u7".to_string());
    let mut pyyaml = pkg(Ecosystem::PyPI, "PyYAML", "6.0.1");
    pyyaml.licenses = vec!["MIT".to_string()];
    let expected = vec![
        SbomGroup {
            target: "sbom.json (debian 12)".to_string(),
            class: ResultClass::OsPkgs,
            kind: "debian".to_string(),
            packages: vec![libssl, libc],
        },
        lang("sbom.json", "python-pkg", vec![pyyaml]),
        lang("sbom.json", "gobinary", vec![pkg(Ecosystem::Go, "golang.org/x/net", "v0.17.0")]),
    ];
    assert_eq!(sbom.groups, expected);
    assert_eq!(warnings(&sbom), ["sbom.json: 1 component skipped: unsupported distribution rpm/centos (1)"]);
}

#[test]
fn rpm_epochs_and_source_rpms_are_kept() {
    let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
      {"type": "library", "name": "openssl-libs", "version": "1:3.0.7-24.el9",
       "purl": "pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&epoch=1&distro=redhat-9.4",
       "properties": [{"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
         {"name": "aquasecurity:trivy:SrcVersion", "value": "3.0.7"},
         {"name": "aquasecurity:trivy:SrcRelease", "value": "24.el9"},
         {"name": "aquasecurity:trivy:SrcEpoch", "value": "1"}]},
      {"type": "library", "name": "libcurl", "version": "7.76.1-29.el9",
       "purl": "pkg:rpm/rhel/libcurl@7.76.1-29.el9?upstream=curl-7.76.1-29.el9.src.rpm&distro=rhel-9.4"}
    ]}"#;
    let sbom = text(doc).unwrap();
    // No OS component: the release comes from the purls.
    assert_eq!(sbom.os, os("redhat", "9.4"));
    let [group] = &sbom.groups[..] else { panic!("{:?}", sbom.groups) };
    let found: Vec<(&str, &str, Option<&str>, Option<&str>)> = group
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.src_name.as_deref(), p.src_version.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("openssl-libs", "1:3.0.7-24.el9", Some("openssl"), Some("1:3.0.7-24.el9")),
            ("libcurl", "7.76.1-29.el9", Some("curl"), Some("7.76.1-29.el9")),
        ]
    );
    assert_eq!((group.class, group.kind.as_str()), (ResultClass::OsPkgs, "redhat"));
    assert!(group.packages.iter().all(|p| p.ecosystem == Ecosystem::RedHat));
}

/// An SPDX document as Syft writes one: an OS package, purls under
/// PACKAGE-MANAGER, licenses as expressions with a `LicenseRef-`.
const SYFT_SPDX: &str = r#"{
  "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "alpine",
  "documentNamespace": "https://anchore.com/syft/image/alpine-1",
  "creationInfo": {"created": "2024-06-01T12:00:00Z", "creators": ["Tool: syft-1.0.0"]},
  "packages": [
    {"name": "alpine", "SPDXID": "SPDXRef-DocumentRoot-Image-alpine", "versionInfo": "sha256:abc",
     "downloadLocation": "NOASSERTION", "primaryPackagePurpose": "CONTAINER",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
       "referenceLocator": "pkg:oci/alpine@sha256%3Aabc"}]},
    {"name": "busybox", "SPDXID": "SPDXRef-Package-apk-busybox", "versionInfo": "1.36.1-r29",
     "downloadLocation": "NOASSERTION", "licenseConcluded": "NOASSERTION",
     "licenseDeclared": "(GPL-2.0-only OR MIT) AND LicenseRef-bsd-like",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
       "referenceLocator": "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&upstream=busybox&distro=alpine-3.20.3"}]},
    {"name": "alpine", "SPDXID": "SPDXRef-OperatingSystem-alpine", "versionInfo": "3.20.3",
     "downloadLocation": "NOASSERTION", "primaryPackagePurpose": "OPERATING-SYSTEM"},
    {"name": "click", "SPDXID": "SPDXRef-Package-python-click", "versionInfo": "8.1.7",
     "downloadLocation": "NOASSERTION", "licenseConcluded": "BSD-3-Clause", "licenseDeclared": "NOASSERTION",
     "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
       "referenceLocator": "pkg:pypi/click@8.1.7"}]}
  ],
  "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-bsd-like", "extractedText": "BSD-like"}],
  "relationships": [
    {"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": "SPDXRef-DocumentRoot-Image-alpine",
     "relationshipType": "DESCRIBES"},
    {"spdxElementId": "SPDXRef-DocumentRoot-Image-alpine", "relatedSpdxElement": "SPDXRef-OperatingSystem-alpine",
     "relationshipType": "CONTAINS"},
    {"spdxElementId": "SPDXRef-Package-apk-busybox", "relatedSpdxElement": "SPDXRef-OperatingSystem-alpine",
     "relationshipType": "CONTAINED_BY"},
    {"spdxElementId": "SPDXRef-DocumentRoot-Image-alpine", "relatedSpdxElement": "SPDXRef-Package-python-click",
     "relationshipType": "CONTAINS"}
  ]
}"#;

#[test]
fn spdx_documents_give_os_and_packages() {
    let sbom = text(SYFT_SPDX).unwrap();
    assert_eq!(sbom.format, SbomFormat::Spdx);
    assert_eq!(sbom.os, os("alpine", "3.20.3"));
    let mut busybox = pkg(Ecosystem::Alpine, "busybox", "1.36.1-r29");
    busybox.src_name = Some("busybox".to_string());
    busybox.licenses = vec!["GPL-2.0-only OR MIT".to_string(), "BSD-like".to_string()];
    let mut click = pkg(Ecosystem::PyPI, "click", "8.1.7");
    click.licenses = vec!["BSD-3-Clause".to_string()];
    let expected = vec![
        SbomGroup {
            target: "sbom.json (alpine 3.20.3)".to_string(),
            class: ResultClass::OsPkgs,
            kind: "alpine".to_string(),
            packages: vec![busybox],
        },
        lang("sbom.json", "python-pkg", vec![click]),
    ];
    assert_eq!(sbom.groups, expected);
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
}

#[test]
fn odd_input_is_an_error_or_skipped_never_a_panic() {
    // Wrong shapes fail with a position.
    let err = text(r#"{"bomFormat": "CycloneDX", "components": "none"}"#).unwrap_err();
    assert!(matches!(&err, CatalogError::Malformed { line: Some(1), .. }), "{err}");
    // Nesting deeper than the JSON parser allows.
    let deep = format!(
        r#"{{"bomFormat": "CycloneDX", "components": [{}{}]}}"#,
        r#"{"name": "a", "components": ["#.repeat(200),
        "]}".repeat(200)
    );
    assert!(text(&deep).is_err());
    // Non-string scalars are ignored, a byte-order mark is fine, and a
    // dependency on a missing ref is dropped.
    let odd = "\u{feff}{\"bomFormat\": \"CycloneDX\", \"components\": [
        {\"bom-ref\": \"a\", \"name\": 7, \"version\": \"1.0.0\", \"purl\": \"pkg:cargo/anyhow@1.0.0\"},
        {\"bom-ref\": \"b\", \"name\": \"x\", \"purl\": \"pkg:cargo/x\"},
        {\"bom-ref\": \"c\", \"name\": \"y\", \"purl\": \"not a purl\"}],
      \"dependencies\": [{\"ref\": \"a\", \"dependsOn\": [\"missing\", 3]}, {\"ref\": \"missing\"}]}";
    let sbom = text(odd).unwrap();
    assert_eq!(
        sbom.groups,
        [lang("sbom.json", "rust-binary", vec![pkg(Ecosystem::CratesIo, "anyhow", "1.0.0")])]
    );
    assert_eq!(
        warnings(&sbom),
        ["sbom.json: 2 components skipped: a malformed package URL (1), no version (1)"]
    );
    assert!(decode("x", b"\xff\xfe").is_err());
}

// Round trips through rampart's writers.

fn report_package(p: &Package) -> ReportPackage {
    ReportPackage::from(p)
}

/// (target, kind, packages) of each language result in the round-trip report:
/// lockfiles, and conda packages gathered under one name as Trivy does.
fn lockfiles() -> Vec<(&'static str, &'static str, Vec<Package>)> {
    let with = |mut p: Package, edit: fn(&mut Package)| {
        edit(&mut p);
        p
    };
    vec![
        (
            "app/package-lock.json",
            "npm",
            vec![
                with(pkg(Ecosystem::Npm, "lodash", "4.17.20"), |p| p.licenses = vec!["MIT".into()]),
                with(pkg(Ecosystem::Npm, "@babel/core", "7.24.0"), |p| p.indirect = true),
                with(pkg(Ecosystem::Npm, "minimist", "1.2.5"), |p| {
                    p.dev = true;
                    p.indirect = true;
                }),
                with(pkg(Ecosystem::Npm, "tslib", "2.6.2"), |p| {
                    p.licenses = vec!["0BSD OR Apache-2.0".into()]
                }),
                with(pkg(Ecosystem::Npm, "left-pad", "1.3.0"), |p| {
                    p.licenses = vec!["MIT".into(), "0BSD OR Apache-2.0".into(), "see LICENSE file".into()]
                }),
            ],
        ),
        ("admin/package-lock.json", "npm", vec![pkg(Ecosystem::Npm, "lodash", "4.17.20")]),
        (
            "api/poetry.lock",
            "poetry",
            vec![pkg(Ecosystem::PyPI, "Django_Rest", "1.0+local"), pkg(Ecosystem::PyPI, "PyYAML", "5.3")],
        ),
        ("go.mod", "gomod", vec![pkg(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.0")]),
        ("pom.xml", "pom", vec![pkg(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1")]),
        ("Cargo.lock", "cargo", vec![pkg(Ecosystem::CratesIo, "serde", "1.0.203")]),
        ("Gemfile.lock", "bundler", vec![pkg(Ecosystem::RubyGems, "rails", "7.0.8")]),
        ("packages.lock.json", "nuget", vec![pkg(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1")]),
        ("composer.lock", "composer", vec![pkg(Ecosystem::Packagist, "symfony/console", "v5.4.0")]),
        ("pubspec.lock", "pub", vec![pkg(Ecosystem::Pub, "http", "1.1.0")]),
        ("mix.lock", "mix", vec![pkg(Ecosystem::Hex, "phoenix", "1.7.0")]),
        (
            "Conda",
            "conda-pkg",
            vec![with(pkg(Ecosystem::Conda, "numpy", "1.26.4"), |p| {
                p.licenses = vec!["BSD-3-Clause".into()]
            })],
        ),
    ]
}

fn os_packages(ecosystem: Ecosystem, list: &[(&str, &str, &str)]) -> Vec<Package> {
    list.iter()
        .map(|(name, version, src)| {
            let mut p = pkg(ecosystem, name, version);
            p.src_name = Some(src.to_string());
            p.src_version = Some(version.to_string());
            p.licenses = vec!["GPL-2.0-or-later".to_string()];
            p.layer = Layer {
                digest: "sha256:aaa".to_string(),
                diff_id: "sha256:bbb".to_string(),
                ..Layer::default()
            };
            p
        })
        .collect()
}

fn image(os_info: Os, os_pkgs: &[Package]) -> Report {
    let mut results = vec![ScanResult {
        packages: os_pkgs.iter().map(report_package).collect(),
        ..ScanResult::new(
            format!("img:1 ({} {})", os_info.family, os_info.name),
            ResultClass::OsPkgs,
            &os_info.family,
        )
    }];
    for (target, kind, packages) in lockfiles() {
        results.push(ScanResult {
            packages: packages.iter().map(report_package).collect(),
            ..ScanResult::new(target, ResultClass::LangPkgs, kind)
        });
    }
    Report {
        schema_version: SCHEMA_VERSION,
        created_at: "2024-06-01T12:00:00Z".to_string(),
        artifact_name: "registry.example.com/img:1".to_string(),
        artifact_type: ArtifactType::ContainerImage,
        metadata: Metadata {
            os: Some(os_info),
            repo_digests: vec!["registry.example.com/img@sha256:0123".to_string()],
            ..Metadata::default()
        },
        results,
    }
}

fn round_trip(report: &Report, format: Format) -> Sbom {
    let mut out = Vec::new();
    write(report, format, &WriteOptions::default(), &mut out).expect("writing to memory");
    decode("image.json", &out).unwrap_or_else(|e| panic!("{format:?}: {e}"))
}

#[test]
fn sboms_written_by_rampart_read_back_as_the_same_packages() {
    let cases = [
        (
            Os { family: "alpine".into(), name: "3.20.3".into(), eosl: false },
            os_packages(
                Ecosystem::Alpine,
                &[("busybox", "1.36.1-r29", "busybox"), ("libcrypto3", "3.3.2-r0", "openssl")],
            ),
        ),
        (
            Os { family: "debian".into(), name: "12.7".into(), eosl: false },
            os_packages(
                Ecosystem::Debian,
                &[("libc6", "2.36-9+deb12u7", "glibc"), ("passwd", "1:4.13+dfsg1-1", "shadow")],
            ),
        ),
    ];
    for (os_info, os_pkgs) in cases {
        let report = image(os_info.clone(), &os_pkgs);
        let mut expected = vec![SbomGroup {
            target: format!("image.json ({} {})", os_info.family, os_info.name),
            class: ResultClass::OsPkgs,
            kind: os_info.family.clone(),
            packages: os_pkgs.clone(),
        }];
        expected.extend(lockfiles().into_iter().map(|(target, kind, packages)| lang(target, kind, packages)));
        for format in [Format::CycloneDx, Format::SpdxJson] {
            let sbom = round_trip(&report, format);
            assert_eq!(sbom.os.as_ref(), Some(&os_info), "{format:?}");
            assert_eq!(sbom.groups, expected, "{format:?} {}", os_info.family);
            assert!(sbom.warnings.is_empty(), "{format:?}: {:?}", sbom.warnings);
        }
    }
}

#[test]
fn filesystem_sboms_read_back_without_an_os() {
    let mut report = image(Os::default(), &[]);
    report.artifact_type = ArtifactType::Filesystem;
    report.metadata = Metadata::default();
    report.results.remove(0);
    // An empty lockfile stays an application without packages: no group, no warning.
    report.results.push(ScanResult::new("empty/package-lock.json", ResultClass::LangPkgs, "npm"));
    let expected: Vec<SbomGroup> =
        lockfiles().into_iter().map(|(target, kind, packages)| lang(target, kind, packages)).collect();
    for format in [Format::CycloneDx, Format::SpdxJson] {
        let sbom = round_trip(&report, format);
        assert_eq!(sbom.os, None, "{format:?}");
        assert_eq!(sbom.groups, expected, "{format:?}");
        assert!(sbom.warnings.is_empty(), "{format:?}: {:?}", sbom.warnings);
    }
}
