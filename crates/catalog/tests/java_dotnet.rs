//! Maven, Gradle, NuGet and .NET `deps.json` parsers against the osv-scalibr
//! fixtures in `../shared/data`, and against small hand-written projects.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{
    fixture, lines_by_name, malformed_line, ok, ordered_ids, parse_path, parses_or_fails_cleanly, text,
    truncations_do_not_panic, warning_lines,
};
use rampart_catalog::{CatalogError, LockfileKind, parse};
use rampart_types::Ecosystem;

fn write(dir: &Path, rel: &str, content: &str) -> PathBuf {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
    path
}

const POM: LockfileKind = LockfileKind::Pom;
const POMS: &str = "java/pomxml";

#[test]
fn pom_declared_dependencies_with_lines() {
    let p = ok(POM, POMS, "one-package.xml");
    assert_eq!(ordered_ids(&p), [("org.apache.maven:maven-artifact", "1.0.0")]);
    assert_eq!(lines_by_name(&p, "org.apache.maven:maven-artifact"), [(7, 11)]);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Maven && !p.dev));

    let p = ok(POM, POMS, "two-packages.xml");
    assert_eq!(
        ordered_ids(&p),
        [("io.netty:netty-all", "4.1.42.Final"), ("org.slf4j:slf4j-log4j12", "1.7.25")]
    );

    assert_eq!(ordered_ids(&ok(POM, POMS, "with-type-classifier.xml")), [("abc:xyz", "1.0.0")]);
    assert_eq!(ordered_ids(&ok(POM, POMS, "encoding.xml")), [("junit:junit", "4.12")]);
    assert!(ok(POM, POMS, "empty.xml").packages.is_empty());
    assert_eq!(
        ordered_ids(&ok(POM, POMS, "transitive.xml")),
        [("org.direct:alice", "1.0.0"), ("org.direct:bob", "2.0.0"), ("org.direct:chris", "3.0.0")],
        "a dependencyManagement entry alone is not a dependency"
    );
}

#[test]
fn pom_scope_test_is_dev() {
    let p = ok(POM, POMS, "with-scope.xml");
    let got: Vec<(&str, bool)> = p.packages.iter().map(|p| (p.name.as_str(), p.dev)).collect();
    assert_eq!(got, [("abc:xyz", false), ("junit:junit", true)]);
}

#[test]
fn pom_property_interpolation() {
    let p = ok(POM, POMS, "interpolation.xml");
    assert_eq!(ordered_ids(&p), [("org.mine:mypackage", "1.0.0"), ("org.mine:my.package", "2.3.4")]);
    assert_eq!(warning_lines(&p), [Some(30)], "the version range is not one version: {:?}", p.warnings);
    assert!(p.warnings[0].message.contains("org.mine:ranged-package"), "{}", p.warnings[0]);

    let p = ok(POM, POMS, "interpolate-drop.xml");
    assert_eq!(ordered_ids(&p), [("com.example:actual-artifact", "1.0.0")]);
    assert_eq!(warning_lines(&p), [Some(8)]);
    assert!(p.warnings[0].message.contains("drop-me"), "{}", p.warnings[0]);
}

#[test]
fn pom_same_artifact_declared_twice() {
    let p = ok(POM, POMS, "ambiguous-interpolation.xml");
    assert_eq!(ordered_ids(&p), [("com.example:common-lib", "1.0.0")]);
    assert_eq!(lines_by_name(&p, "com.example:common-lib"), [(8, 12), (13, 17)]);

    let p = ok(POM, POMS, "explicit-jar.xml");
    assert_eq!(ordered_ids(&p), [("org.different:my-lib", "1.0.0"), ("com.example:my-lib", "1.0.0")]);
    assert_eq!(lines_by_name(&p, "com.example:my-lib"), [(17, 22), (23, 28)]);

    let p = ok(POM, POMS, "with-multiple-classifiers.xml");
    assert_eq!(ordered_ids(&p), [("com.example:my-lib", "1.0.0")]);
    assert_eq!(lines_by_name(&p, "com.example:my-lib"), [(8, 13), (14, 18)]);

    let p = ok(POM, POMS, "multi-version.xml");
    assert_eq!(ordered_ids(&p), [("abc:example.com", "1.0.0"), ("abc:example.com", "1.1.1")]);
}

#[test]
fn pom_dependency_management_and_plugins() {
    let p = ok(POM, POMS, "with-dependency-management.xml");
    assert_eq!(
        ordered_ids(&p),
        [("io.netty:netty-all", "4.1.9"), ("org.slf4j:slf4j-log4j12", "1.7.25")],
        "an explicit version beats the managed one"
    );

    let p = ok(POM, POMS, "plugin-dependency.xml");
    assert_eq!(ordered_ids(&p), [("com.example:hijack-lib", "1.0.0")]);
    assert_eq!(
        lines_by_name(&p, "com.example:hijack-lib"),
        [(27, 31)],
        "plugin dependencies are build tools"
    );

    let p = ok(POM, POMS, "profiles.xml");
    assert_eq!(ordered_ids(&p), [("org.profile:profile-dep", "1.2.3")], "profiles active by default apply");
}

#[test]
fn pom_parent_on_disk() {
    let p = ok(POM, POMS, "with-parent.xml");
    assert_eq!(
        ordered_ids(&p),
        [
            ("org.alice:alice", "1.0.0"),
            ("org.bob:bob", "2.0.0"),
            ("org.chuck:chuck", "3.0.0"),
            ("org.dave:dave", "4.0.0"),
        ],
        "chuck's version is managed; dave is inherited from ./parent/pom.xml"
    );
    assert!(lines_by_name(&p, "org.dave:dave").is_empty(), "declared in another file");
    assert_eq!(warning_lines(&p), [Some(32)], "frank has no version anywhere on disk");
    let msg = &p.warnings[0].message;
    assert!(msg.contains("org.frank:frank") && msg.contains("org.upstream:parent-pom:1.0"), "{msg}");
    assert!(msg.contains("org.import:import"), "names the BOM that was not read: {msg}");

    assert_eq!(ordered_ids(&ok(POM, POMS, "parent/pom.xml")), [("org.dave:dave", "4.0.0")]);
}

#[test]
fn pom_malformed() {
    assert_eq!(malformed_line(fixture(POM, POMS, "invalid-syntax.xml")), Some(3));
    assert_eq!(malformed_line(fixture(POM, POMS, "not-pom.txt")), Some(1));
    assert_eq!(malformed_line(text(POM, "<project>\n<dependencies>\n</dependency>\n")), Some(3));
    assert!(text(POM, "<project>\n  <dependencies>\n").is_err(), "a truncated POM is not a partial one");
    assert_eq!(malformed_line(text(POM, "<?xml version=\"1.0\"?>\n<settings/>\n")), Some(2));
    assert!(text(POM, "<project><version>&ent;</version></project>").is_err());
}

#[test]
fn pom_inherits_through_a_parent_chain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "pom.xml",
        "<project><groupId>org.acme</groupId><artifactId>root</artifactId><version>7</version>
           <properties><jackson.version>2.15.0</jackson.version><junit.version>${junit.major}.9.0</junit.version><junit.major>5</junit.major></properties>
           <dependencyManagement><dependencies>
             <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId>
               <version>${jackson.version}</version></dependency>
             <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
               <version>${junit.version}</version><scope>test</scope></dependency>
           </dependencies></dependencyManagement>
           <dependencies><dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
             <version>2.0.0</version></dependency></dependencies>
         </project>",
    );
    write(
        d,
        "services/pom.xml",
        "<project><parent><groupId>org.acme</groupId><artifactId>root</artifactId><version>7</version>
             <relativePath>../pom.xml</relativePath></parent>
           <artifactId>services</artifactId><version>7.1</version>
           <properties><jackson.version>2.16.1</jackson.version></properties>
           <dependencies><dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
             <version>2.0.9</version></dependency></dependencies>
         </project>",
    );
    let child = write(
        d,
        "services/api/pom.xml",
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">
  <parent>
    <groupId>org.acme</groupId>
    <artifactId>services</artifactId>
    <version>7.1</version>
  </parent>
  <artifactId>api</artifactId>
  <dependencies>
    <dependency><groupId>${project.groupId}</groupId><artifactId>core</artifactId><version>${project.version}</version></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>model</artifactId><version>${project.parent.version}</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId></dependency>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId></dependency>
  </dependencies>
</project>",
    );
    let p = parse_path(POM, &child).unwrap();
    let got: Vec<(&str, &str, bool)> =
        p.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("org.acme:core", "7.1", false),
            ("org.acme:model", "7.1", false),
            ("com.fasterxml.jackson.core:jackson-databind", "2.16.1", false),
            ("org.junit.jupiter:junit-jupiter", "5.9.0", true),
            ("org.slf4j:slf4j-api", "2.0.9", false),
        ],
        "groupId and version come from the parent, the nearer property wins, the managed scope applies, \
         and the nearer parent's slf4j overrides the root's"
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(lines_by_name(&p, "org.acme:core"), [(9, 9)]);
}

#[test]
fn pom_parent_lookup_checks_coordinates_and_stops_on_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // ../pom.xml belongs to another project: it must not lend its properties.
    write(
        d,
        "pom.xml",
        "<project><groupId>other</groupId><artifactId>x</artifactId><properties><v>9</v></properties></project>",
    );
    let child = write(
        d,
        "app/pom.xml",
        "<project><parent><groupId>org.spring</groupId><artifactId>starter</artifactId><version>3.2.0</version></parent>
         <dependencies><dependency><groupId>a</groupId><artifactId>b</artifactId><version>${v}</version></dependency>
         </dependencies></project>",
    );
    let p = parse_path(POM, &child).unwrap();
    assert!(p.packages.is_empty());
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("org.spring:starter:3.2.0"), "{}", p.warnings[0]);

    // a/pom.xml → b/pom.xml → a/pom.xml
    let a = write(
        d,
        "a/pom.xml",
        "<project><parent><groupId>g</groupId><artifactId>b</artifactId><relativePath>../b</relativePath></parent>
         <groupId>g</groupId><artifactId>a</artifactId>
         <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>1</version></dependency></dependencies>
         </project>",
    );
    write(
        d,
        "b/pom.xml",
        "<project><parent><groupId>g</groupId><artifactId>a</artifactId><relativePath>../a/pom.xml</relativePath></parent>
         <groupId>g</groupId><artifactId>b</artifactId></project>",
    );
    let p = parse_path(POM, &a).unwrap();
    assert_eq!(ordered_ids(&p), [("x:y", "1")]);
    assert!(p.warnings.iter().any(|w| w.message.contains("cycle")), "{:?}", p.warnings);
}

#[test]
fn pom_property_expansion_is_bounded() {
    let mut props = String::new();
    for i in 0..30 {
        props.push_str(&format!("<p{i}>${{p{n}}}${{p{n}}}${{p{n}}}${{p{n}}}</p{i}>", n = i + 1));
    }
    props.push_str("<self>${self}</self>");
    let pom = format!(
        "<project><properties>{props}</properties><dependencies>
           <dependency><groupId>a</groupId><artifactId>bomb</artifactId><version>${{p0}}</version></dependency>
           <dependency><groupId>a</groupId><artifactId>loop</artifactId><version>${{self}}</version></dependency>
           <dependency><groupId>a</groupId><artifactId>fine</artifactId><version>1</version></dependency>
         </dependencies></project>"
    );
    let p = text(POM, &pom).unwrap();
    assert_eq!(ordered_ids(&p), [("a:fine", "1")]);
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
}

#[test]
fn pom_declared_latin1_is_decoded() {
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<project><!-- caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" --><dependencies><dependency><groupId>g</groupId><artifactId>a</artifactId><version>1</version></dependency></dependencies></project>");
    let p = parse(POM, Path::new("/nonexistent/pom.xml"), "pom.xml", &bytes).unwrap();
    assert_eq!(ordered_ids(&p), [("g:a", "1")]);
    let body = bytes.windows(9).position(|w| w == b"<project>").unwrap();
    assert!(
        parse(POM, Path::new("/nonexistent/pom.xml"), "pom.xml", &bytes[body..]).is_err(),
        "undeclared non-UTF-8"
    );
}

const GRADLE: LockfileKind = LockfileKind::GradleLock;
const GRADLE_LOCKS: &str = "java/gradlelockfile";

#[test]
fn gradle_lockfile() {
    let p = ok(GRADLE, GRADLE_LOCKS, "5-pkg");
    assert_eq!(
        ordered_ids(&p),
        [
            ("org.springframework.boot:spring-boot-autoconfigure", "2.7.4"),
            ("org.springframework.boot:spring-boot-configuration-processor", "2.7.5"),
            ("org.springframework.boot:spring-boot-devtools", "2.7.6"),
            ("org.springframework.boot:spring-boot-starter-aop", "2.7.7"),
            ("org.springframework.boot:spring-boot-starter-data-jpa", "2.7.8"),
        ]
    );
    assert_eq!(lines_by_name(&p, "org.springframework.boot:spring-boot-starter-aop"), [(8, 8)]);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::Maven && !p.dev));
    assert!(p.warnings.is_empty());

    let p = ok(GRADLE, GRADLE_LOCKS, "one-pkg");
    assert_eq!(ordered_ids(&p), [("org.springframework.security:spring-security-crypto", "5.7.3")]);
    assert_eq!(lines_by_name(&p, "org.springframework.security:spring-security-crypto"), [(4, 4)]);

    for empty in ["only-comments", "only-empty"] {
        let p = ok(GRADLE, GRADLE_LOCKS, empty);
        assert!(p.packages.is_empty() && p.warnings.is_empty(), "{empty}");
    }
}

#[test]
fn gradle_bad_lines_warn_and_test_configurations_are_dev() {
    let p = ok(GRADLE, GRADLE_LOCKS, "with-bad-pkg");
    assert_eq!(
        ordered_ids(&p),
        [
            ("org.springframework.boot:spring-boot-autoconfigure", "2.7.4"),
            ("org.springframework.boot:spring-boot-configuration-processor", "2.7.5"),
        ]
    );
    assert_eq!(lines_by_name(&p, "org.springframework.boot:spring-boot-configuration-processor"), [(14, 14)]);
    assert_eq!(warning_lines(&p), [Some(3), Some(4), Some(9), Some(10)], "{:?}", p.warnings);

    let lock = "junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\n\
                com.google.guava:guava:32.1.2-jre=compileClasspath,testCompileClasspath\n\
                org.mockito:mockito-core:5.0.0=integrationTestRuntimeClasspath\n\
                g:a:1:extra=compileClasspath\n";
    let p = text(GRADLE, lock).unwrap();
    let got: Vec<(&str, bool)> = p.packages.iter().map(|p| (p.name.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [("junit:junit", true), ("com.google.guava:guava", false), ("org.mockito:mockito-core", true)]
    );
    assert_eq!(warning_lines(&p), [Some(4)]);
}

const NUGET: LockfileKind = LockfileKind::NugetLock;

#[test]
fn nuget_packages_lock() {
    let p = ok(NUGET, "dotnet/packageslockjson", "valid/packages.lock.json");
    assert_eq!(
        ordered_ids(&p),
        [
            ("Core.Dep", "1.24.0"),
            ("Some.Dep.One", "1.1.1"),
            ("Some.Dep.Two", "4.6.0"),
            ("Some.Dep.Three", "1.0.2"),
            ("Some.Dep.Four", "4.5.0"),
            ("Some.Longer.Name.Dep", "4.7.2"),
            ("Some.Dep.Five", "4.7.2"),
            ("Another.Longer.Name.Dep", "4.5.4"),
        ],
        "resolved versions, not the requested range or a dependency's minimum"
    );
    let direct: Vec<&str> = p.packages.iter().filter(|p| !p.indirect).map(|p| p.name.as_str()).collect();
    assert_eq!(direct, ["Core.Dep"]);
    assert_eq!(lines_by_name(&p, "Core.Dep"), [(5, 19)]);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::NuGet && !p.dev));

    assert_eq!(malformed_line(fixture(NUGET, "dotnet/packageslockjson", "invalid/invalid")), Some(1));
}

#[test]
fn nuget_dedupes_frameworks_and_skips_projects() {
    let lock = r#"{
  "version": 2,
  "dependencies": {
    "net6.0": {
      "Newtonsoft.Json": { "type": "Transitive", "resolved": "13.0.1" },
      "MyLib": { "type": "Project" },
      "Broken": { "type": "Direct" }
    },
    "net8.0": {
      "newtonsoft.json": { "type": "Direct", "requested": "[13.0.1, )", "resolved": "13.0.1" },
      "Serilog": { "type": "CentralTransitive", "requested": "[3.0.0, )", "resolved": "3.1.1" }
    }
  }
}"#;
    let p = text(NUGET, lock).unwrap();
    let got: Vec<(&str, &str, bool)> =
        p.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.indirect)).collect();
    assert_eq!(got, [("Newtonsoft.Json", "13.0.1", false), ("Serilog", "3.1.1", true)]);
    assert_eq!(lines_by_name(&p, "Newtonsoft.Json"), [(5, 5), (10, 10)]);
    assert_eq!(warning_lines(&p), [Some(7)], "Broken has no resolved version");
}

const DEPS: LockfileKind = LockfileKind::DotnetDeps;
const DEPS_JSON: &str = "dotnet/depsjson";

/// `(name, version, purl)` of each package, in output order.
fn purls(p: &rampart_catalog::Parsed) -> Vec<(&str, &str, String)> {
    p.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.purl())).collect()
}

#[test]
fn deps_json_packages_without_the_app_project() {
    let p = ok(DEPS, DEPS_JSON, "valid");
    assert_eq!(
        purls(&p),
        [
            ("AWSSDK.Core", "3.7.10.6", "pkg:nuget/AWSSDK.Core@3.7.10.6".to_string()),
            (
                "Microsoft.Extensions.DependencyInjection",
                "6.0.0",
                "pkg:nuget/Microsoft.Extensions.DependencyInjection@6.0.0".to_string()
            ),
        ],
        "TestLibrary/1.0.0 is the app's own project"
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.packages.iter().all(|p| p.ecosystem == Ecosystem::NuGet && !p.dev && !p.indirect));
    assert_eq!(lines_by_name(&p, "AWSSDK.Core"), [(50, 56)]);
    assert_eq!(lines_by_name(&p, "Microsoft.Extensions.DependencyInjection"), [(57, 63)]);

    let empty = ok(DEPS, DEPS_JSON, "empty");
    assert!(empty.packages.is_empty() && empty.warnings.is_empty());
}

#[test]
fn deps_json_key_without_a_version_is_skipped_with_a_warning() {
    let p = ok(DEPS, DEPS_JSON, "nopackagename");
    assert_eq!(ordered_ids(&p), [("AWSSDK.Core", "3.7.10.6")]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("Microsoft.Extensions.DependencyInjection"), "{:?}", p.warnings);
    assert_eq!(warning_lines(&p), [Some(57)]);
}

#[test]
fn deps_json_malformed_names_the_file_and_line() {
    let err = fixture(DEPS, DEPS_JSON, "invalid").unwrap_err();
    let CatalogError::Malformed { path, line, .. } = &err;
    assert!(path.ends_with("depsjson/testdata/invalid"), "{err}");
    assert_eq!(*line, Some(1));
    assert!(err.to_string().contains("invalid:1:"), "{err}");

    let err = text(DEPS, r#"{"libraries": ["AWSSDK.Core/3.7.10.6"]}"#).unwrap_err();
    assert!(err.to_string().starts_with("lockfile:1: invalid JSON"), "{err}");
}

#[test]
fn deps_json_only_package_libraries_count() {
    let deps = r#"{
  "libraries": {
    "MyApp/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
    "Newtonsoft.Json/13.0.1": { "type": "package", "serviceable": true },
    "Microsoft.NETCore.App.Ref/6.0.0": { "type": "reference" },
    "newtonsoft.json/13.0.1": { "type": "Package" },
    "Serilog/2.10.0/extra": { "type": "package" },
    "/1.0.0": { "type": "package" },
    "Broken/1.0.0": "package",
    "NoType/1.0.0": {}
  }
}"#;
    let p = text(DEPS, deps).unwrap();
    assert_eq!(ordered_ids(&p), [("Newtonsoft.Json", "13.0.1")], "names are case-insensitive");
    assert_eq!(lines_by_name(&p, "Newtonsoft.Json"), [(4, 4), (6, 6)]);
    let warned: Vec<(&str, Option<u32>)> =
        p.warnings.iter().map(|w| (w.message.split(':').next().unwrap(), w.line)).collect();
    assert_eq!(
        warned,
        [
            ("libraries.Serilog/2.10.0/extra", Some(7)),
            ("libraries./1.0.0", Some(8)),
            ("libraries.Broken/1.0.0", Some(9)),
        ]
    );
    assert!(
        text(DEPS, r#"{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}}"#).unwrap().packages.is_empty()
    );
}

#[test]
fn deps_json_claimed_by_name() {
    for (path, want) in [
        ("app/MyApp.deps.json", Some(DEPS)),
        ("/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.1/Microsoft.NETCore.App.deps.json", Some(DEPS)),
        ("app/MyApp.runtimeconfig.json", None),
        ("app/deps.json.bak", None),
    ] {
        assert_eq!(LockfileKind::detect(Path::new(path)), want, "{path}");
    }
    assert_eq!(DEPS.trivy_type(), "dotnet-core");
    assert_eq!(DEPS.ecosystem(), Ecosystem::NuGet);
}

const CASES: [(LockfileKind, &str); 4] =
    [(POM, POMS), (GRADLE, GRADLE_LOCKS), (NUGET, "dotnet/packageslockjson"), (DEPS, DEPS_JSON)];

#[test]
fn every_java_dotnet_fixture_parses_or_fails_cleanly() {
    for (kind, extractor) in CASES {
        parses_or_fails_cleanly(kind, extractor, |name| {
            name.starts_with("not-") || name.starts_with("invalid")
        });
    }
}

#[test]
fn truncated_java_dotnet_fixtures_never_panic() {
    for (kind, extractor) in CASES {
        truncations_do_not_panic(kind, extractor);
    }
    let deep = format!("<project>{}{}</project>", "<a>".repeat(50_000), "</a>".repeat(50_000));
    assert!(text(POM, &deep).unwrap().packages.is_empty());
}
