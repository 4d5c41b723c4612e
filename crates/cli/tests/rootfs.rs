//! `rampart rootfs` end to end on the Alpine minirootfs tarballs of
//! `../shared/data/images`, against the ground-truth package lists.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn unpack(tarball: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_data().join("images/rootfs").join(tarball);
    let status = Command::new("tar").arg("-xzf").arg(&src).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success(), "unpacking {}", src.display());
    dir
}

fn ground_truth(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(shared_data().join("images/ground-truth").join(name)).unwrap();
    let mut rows: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .filter(|(name, _)| name != "name" && name != "package")
        .collect();
    rows.sort();
    rows
}

fn set_version(root: &Path, package: &str, version: &str) {
    let db = root.join("lib/apk/db/installed");
    let text = std::fs::read_to_string(&db).unwrap();
    let mut out = String::new();
    let mut hit = false;
    for line in text.lines() {
        if hit && line.starts_with("V:") {
            out.push_str(&format!("V:{version}\n"));
            hit = false;
            continue;
        }
        hit = line == format!("P:{package}");
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(db, out).unwrap();
}

#[test]
fn alpine_packages_match_the_ground_truth_and_old_musl_is_flagged() {
    let root = unpack("alpine-minirootfs-3.10.9-x86_64.tar.gz");
    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["Metadata"]["OS"]["Family"], "alpine");
    assert_eq!(report["Metadata"]["OS"]["Name"], "3.10.9");
    let os = &report["Results"][0];
    assert_eq!(os["Class"], "os-pkgs");
    assert_eq!(os["Type"], "alpine");
    let mut found: Vec<(String, String)> = os["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["Name"].as_str().unwrap().to_string(), p["Version"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(found, ground_truth("alpine-minirootfs-3.10.9.apk-packages.tsv"));
    assert!(
        os["Vulnerabilities"].as_array().is_none_or(|v| v.is_empty()),
        "3.10.9 postdates the secdb snapshot"
    );

    // Alpine secdb v3.10: musl 1.1.22-r3 fixes CVE-2019-14697.
    set_version(root.path(), "musl", "1.1.22-r2");
    let out = scan("rootfs", cwd.path())
        .args(["-f", "json", "--exit-code", "9"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let report = json(&out);
    let vulns = report["Results"][0]["Vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{vulns:?}");
    assert_eq!(vulns[0]["VulnerabilityID"], "CVE-2019-14697");
    assert_eq!(vulns[0]["PkgName"], "musl");
    assert_eq!(vulns[0]["InstalledVersion"], "1.1.22-r2");
    assert_eq!(vulns[0]["FixedVersion"], "1.1.22-r3");

    // Secrets anywhere in the tree, scanned as the files are read.
    std::fs::write(root.path().join("root/.env"), "AWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7\n").unwrap();
    let out = scan("rootfs", cwd.path()).args(["-f", "json"]).arg(root.path()).output().unwrap();
    let report = json(&out);
    let secret =
        report["Results"].as_array().unwrap().iter().find(|r| r["Class"] == "secret").expect("a secret");
    assert_eq!(secret["Target"], "root/.env");
    assert_eq!(secret["Secrets"][0]["RuleID"], "aws-access-key-id");
}

#[test]
fn go_binaries_in_a_rootfs_are_found_by_mode_and_content() {
    let root = unpack("alpine-minirootfs-3.20.3-x86_64.tar.gz");
    extract_from_app_layer(root.path(), 1, "app/bin/fixture-app");
    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let binaries: Vec<&serde_json::Value> =
        report["Results"].as_array().unwrap().iter().filter(|r| r["Type"] == "gobinary").collect();
    assert_eq!(binaries.len(), 1, "busybox and the other executables are not Go programs");
    let binary = binaries[0];
    assert_eq!(binary["Target"], "app/bin/fixture-app");
    assert_eq!(binary["Class"], "lang-pkgs");
    assert_eq!(
        name_version_purl(binary),
        [
            ("golang.org/x/net", "v0.7.0", "pkg:golang/golang.org/x/net@v0.7.0"),
            ("stdlib", "1.19.8", "pkg:golang/stdlib@1.19.8"),
        ]
    );
    assert_eq!(go_findings(binary), expected_go_findings(), "the same advisories as the image scan");

    // The SBOM names the binary's modules with golang purls.
    let purls = cyclonedx_purls(cwd.path(), root.path());
    assert!(purls.iter().any(|p| p == "pkg:golang/golang.org/x/net@v0.7.0"), "{purls:?}");

    // Installed by an OS package: the apk package is what is reported.
    let db = root.path().join("lib/apk/db/installed");
    let original = std::fs::read_to_string(&db).unwrap();
    let owned = format!(
        "{}\nP:fixture-app\nV:1.0-r0\nA:x86_64\no:fixture-app\nF:app/bin\nR:fixture-app\n\n",
        original.trim_end()
    );
    std::fs::write(&db, owned).unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    let report = json(&out);
    let results = report["Results"].as_array().unwrap();
    assert!(!results.iter().any(|r| r["Type"] == "gobinary"), "the OS package owns the binary");
    assert!(results[0]["Packages"].as_array().unwrap().iter().any(|p| p["Name"] == "fixture-app"));
    std::fs::write(&db, original).unwrap();

    // Not executable: not a program, so not read as one.
    use std::os::unix::fs::PermissionsExt;
    let bin = root.path().join("app/bin/fixture-app");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = scan("rootfs", cwd.path()).args(["-f", "json"]).arg(root.path()).output().unwrap();
    let report = json(&out);
    assert!(
        !report["Results"].as_array().unwrap().iter().any(|r| r["Type"] == "gobinary"),
        "a 0644 file is data"
    );
}

#[test]
fn rust_binaries_built_with_cargo_auditable_are_matched() {
    let root = unpack("alpine-minirootfs-3.20.3-x86_64.tar.gz");
    // The list `cargo auditable` writes: a local root, smallvec, a build-only cc.
    let list = r#"{"packages":[{"name":"tool","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"smallvec","version":"0.6.9","source":"crates.io"},{"name":"cc","version":"1.0.79","source":"crates.io","kind":"build"}]}"#;
    auditable_binary(list, &root.path().join("usr/local/bin/tool"));

    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let binary = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Type"] == "rustbinary")
        .expect("the auditable binary");
    assert_eq!(binary["Target"], "usr/local/bin/tool");
    let names: Vec<&str> =
        binary["Packages"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["smallvec"], "the local root and the build-only cc are not reported");
    assert_eq!(binary["Packages"][0]["Identifier"]["PURL"], "pkg:cargo/smallvec@0.6.9");
    let mut advisories: Vec<&str> = binary["Vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| {
            std::iter::once(&v["VulnerabilityID"]).chain(v["VendorIDs"].as_array().into_iter().flatten())
        })
        .filter_map(|i| i.as_str())
        .filter(|i| i.starts_with("RUSTSEC-"))
        .collect();
    advisories.sort();
    // As for the same version in a Cargo.lock (see scan.rs).
    assert_eq!(
        advisories,
        ["RUSTSEC-2018-0018", "RUSTSEC-2019-0009", "RUSTSEC-2019-0012", "RUSTSEC-2021-0003"]
    );
}

#[test]
fn installed_packages_are_reported_with_their_file_paths() {
    let root = unpack("alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let specs = root.path().join("usr/local/bundle/specifications");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("rack-2.2.3.gemspec"),
        "# -*- encoding: utf-8 -*-\n# stub: rack 2.2.3 ruby lib\n\nGem::Specification.new do |s|\n  \
         s.name = \"rack\".freeze\n  s.version = \"2.2.3\"\n  s.licenses = [\"MIT\".freeze]\n  \
         s.installed_by_version = \"3.3.26\" if s.respond_to? :installed_by_version\nend\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.path().join("opt/shop")).unwrap();
    let dist_info = root.path().join("usr/lib/python3.12/site-packages/PyYAML-5.1.2.dist-info");
    std::fs::create_dir_all(&dist_info).unwrap();
    std::fs::write(
        dist_info.join("METADATA"),
        "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.1.2\nLicense: MIT\n\n",
    )
    .unwrap();
    let script = r#"
import io, sys, zipfile
def props(g, a, v):
    return (f"META-INF/maven/{g}/{a}/pom.properties", f"groupId={g}\nartifactId={a}\nversion={v}\n")
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(*props("org.apache.logging.log4j", "log4j-core", "2.14.1"))
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(*props("com.example", "shop", "1.4.0"))
    z.writestr(zipfile.ZipInfo("WEB-INF/lib/log4j-core-2.14.1.jar"), inner.getvalue())
"#;
    let war = root.path().join("opt/shop/shop.war");
    assert!(Command::new("python3").arg("-c").arg(script).arg(&war).status().unwrap().success());

    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let java =
        report["Results"].as_array().unwrap().iter().find(|r| r["Type"] == "jar").expect("a jar result");
    assert_eq!(java["Target"], "Java");
    let packages: Vec<(&str, &str, &str)> = java["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Name"].as_str().unwrap(),
                p["FilePath"].as_str().unwrap(),
                p["Identifier"]["PURL"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            ("com.example:shop", "opt/shop/shop.war", "pkg:maven/com.example/shop@1.4.0"),
            (
                "org.apache.logging.log4j:log4j-core",
                "opt/shop/shop.war/WEB-INF/lib/log4j-core-2.14.1.jar",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
            ),
        ]
    );
    let python = report["Results"].as_array().unwrap().iter().find(|r| r["Type"] == "python-pkg").unwrap();
    let finding = python["Vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2020-14343")
        .expect("PyYAML 5.1.2: PYSEC-2021-142");
    assert_eq!(finding["PkgPath"], "usr/lib/python3.12/site-packages/PyYAML-5.1.2.dist-info/METADATA");
    let ruby = report["Results"].as_array().unwrap().iter().find(|r| r["Type"] == "gemspec").expect("gems");
    assert_eq!(ruby["Target"], "Ruby");
    let rack = &ruby["Packages"][0];
    assert_eq!(rack["Identifier"]["PURL"], "pkg:gem/rack@2.2.3");
    assert_eq!(rack["FilePath"], "usr/local/bundle/specifications/rack-2.2.3.gemspec");
    assert_eq!(rack["Licenses"][0], "MIT");

    let out = scan("rootfs", cwd.path())
        .args(["-f", "cyclonedx", "-o", "sbom.cdx.json"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cwd.path().join("sbom.cdx.json")).unwrap()).unwrap();
    let log4j = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        .expect("log4j in the SBOM");
    assert_eq!(log4j["group"], "org.apache.logging.log4j");
    assert_eq!(log4j["name"], "log4j-core");
    let path = log4j["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "aquasecurity:trivy:FilePath")
        .expect("the FilePath property");
    assert_eq!(path["value"], "opt/shop/shop.war/WEB-INF/lib/log4j-core-2.14.1.jar");
}

/// The Debian bookworm image's `/etc` and dpkg database, unpacked from its
/// one layer (regular files only: the test needs no devices or links).
fn debian_rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import io, json, os, sys, tarfile
image = tarfile.open(sys.argv[1])
blob = lambda d: image.extractfile("blobs/sha256/" + d.split(":")[1]).read()
manifest = json.loads(blob(json.load(image.extractfile("index.json"))["manifests"][0]["digest"]))
layer = tarfile.open(fileobj=io.BytesIO(blob(manifest["layers"][0]["digest"])), mode="r:*")
for m in layer:
    if m.isfile() and m.name.startswith(("etc/", "usr/lib/os-release", "var/lib/dpkg/")):
        dest = os.path.join(sys.argv[2], m.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        open(dest, "wb").write(layer.extractfile(m).read())
"#;
    let image = shared_data().join("images/debian-bookworm/debian-bookworm.oci.tar");
    let status = Command::new("python3").arg("-c").arg(script).arg(&image).arg(dir.path()).status().unwrap();
    assert!(status.success(), "unpacking {}", image.display());
    dir
}

/// Sets `Version:` of `package` in the dpkg status file.
fn set_dpkg_version(root: &Path, package: &str, version: &str) {
    let db = root.join("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&db).unwrap();
    let mut out = String::new();
    let mut current = String::new();
    let mut hit = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Package: ") {
            current = name.to_string();
        }
        if current == package && line.starts_with("Version: ") {
            out.push_str(&format!("Version: {version}\n"));
            hit = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(hit, "{package} is not in the dpkg status file");
    std::fs::write(db, out).unwrap();
}

#[test]
fn debian_packages_below_a_dsa_fix_are_reported_by_source_package() {
    let root = debian_rootfs();
    // The tracker snapshot in ../shared/data ends in April 2023, before
    // bookworm's release: it has no [bookworm] lines at all. So the
    // image's package database is scanned as bullseye (11), whose
    // advisories it has, with two packages set to bullseye versions.
    let os_release = "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\n\
                      VERSION_ID=\"11\"\nVERSION=\"11 (bullseye)\"\nVERSION_CODENAME=bullseye\nID=debian\n";
    std::fs::write(root.path().join("etc/os-release"), os_release).unwrap();
    std::fs::write(root.path().join("usr/lib/os-release"), os_release).unwrap();
    std::fs::write(root.path().join("etc/debian_version"), "11.6\n").unwrap();
    // Checked by hand against ../shared/data/distro/debian-security-tracker:
    // - the image's var/lib/dpkg/status has `Package: zlib1g` with
    //   `Source: zlib` and `Version: 1:1.2.13.dfsg-1`, set here to
    //   1:1.2.11.dfsg-2+deb11u1;
    // - DSA/list: `[25 Aug 2022] DSA-5218-1 zlib`, `{CVE-2022-37434}`,
    //   `[bullseye] - zlib 1:1.2.11.dfsg-2+deb11u2`: deb11u1 < deb11u2, so
    //   zlib1g is affected, under its source package zlib;
    // - DSA/list: `[01 Apr 2022] DSA-5111-1 zlib`, `{CVE-2018-25032}`,
    //   `[bullseye] - zlib 1:1.2.11.dfsg-2+deb11u1`: the installed version
    //   is that fix, so it is not reported;
    // - `Package: gzip` (no Source: field, so source gzip), set to
    //   1.10-4+deb11u1, which is exactly the fix of
    //   `[18 Apr 2022] DSA-5122-1 gzip` (`[bullseye] - gzip 1.10-4+deb11u1`,
    //   CVE-2022-1271): not reported;
    // - no DLA/list line names bullseye (its LTS began after the snapshot).
    set_dpkg_version(root.path(), "zlib1g", "1:1.2.11.dfsg-2+deb11u1");
    set_dpkg_version(root.path(), "gzip", "1.10-4+deb11u1");

    let cwd = tempfile::tempdir().unwrap();
    let out = scan("rootfs", cwd.path())
        .args(["-f", "json", "--list-all-pkgs", "--exit-code", "7"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["Metadata"]["OS"]["Family"], "debian");
    assert_eq!(report["Metadata"]["OS"]["Name"], "11.6");
    let os = &report["Results"][0];
    assert_eq!(os["Type"], "debian");
    assert_eq!(os["Packages"].as_array().unwrap().len(), 88, "every dpkg entry of the image");
    let zlib = os["Packages"].as_array().unwrap().iter().find(|p| p["Name"] == "zlib1g").unwrap();
    assert_eq!(zlib["SrcName"], "zlib");

    let found: Vec<(&str, &str, &str, &str)> = os["Vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["PkgName"].as_str().unwrap(),
                v["VulnerabilityID"].as_str().unwrap(),
                v["InstalledVersion"].as_str().unwrap(),
                v["FixedVersion"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("zlib1g", "CVE-2022-37434", "1:1.2.11.dfsg-2+deb11u1", "1:1.2.11.dfsg-2+deb11u2")],
        "not CVE-2018-25032 (DSA-5111-1) nor CVE-2022-1271 (DSA-5122-1): their fixes are installed"
    );
    let vendor_ids = &os["Vulnerabilities"][0]["VendorIDs"];
    assert!(vendor_ids.as_array().unwrap().iter().any(|i| i == "DSA-5218-1"), "{vendor_ids}");
}

/// What `dotnet publish` writes beside a .NET 8 app: the app, a project it
/// references, and the NuGet packages it loads.
const MYAPP_DEPS_JSON: &str = r#"{
  "runtimeTarget": {
    "name": ".NETCoreApp,Version=v8.0",
    "signature": ""
  },
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {
      "MyApp/1.0.0": {
        "dependencies": {
          "MyApp.Data": "1.0.0",
          "Newtonsoft.Json": "13.0.1",
          "Serilog": "3.1.1"
        },
        "runtime": {
          "MyApp.dll": {}
        }
      },
      "Newtonsoft.Json/13.0.1": {
        "runtime": {
          "lib/net6.0/Newtonsoft.Json.dll": {
            "assemblyVersion": "13.0.0.0",
            "fileVersion": "13.0.1.25517"
          }
        }
      },
      "Serilog/3.1.1": {
        "runtime": {
          "lib/net7.0/Serilog.dll": {
            "assemblyVersion": "2.0.0.0",
            "fileVersion": "3.1.1.0"
          }
        }
      },
      "MyApp.Data/1.0.0": {
        "runtime": {
          "MyApp.Data.dll": {
            "assemblyVersion": "1.0.0.0",
            "fileVersion": "1.0.0.0"
          }
        }
      }
    }
  },
  "libraries": {
    "MyApp/1.0.0": {
      "type": "project",
      "serviceable": false,
      "sha512": ""
    },
    "Newtonsoft.Json/13.0.1": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
      "path": "newtonsoft.json/13.0.1",
      "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"
    },
    "Serilog/3.1.1": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-P6G4/4Kt9bT635bhuwdXlJ2SCqqn2nhh4gqFqQueCOr9bK/e7W9ll/IoX1Ter948cV2Z/5+5v8pAfJYUISY03A==",
      "path": "serilog/3.1.1",
      "hashPath": "serilog.3.1.1.nupkg.sha512"
    },
    "MyApp.Data/1.0.0": {
      "type": "project",
      "serviceable": false,
      "sha512": ""
    }
  }
}
"#;

/// What Composer 2 writes in `vendor/composer/installed.json`; phpunit was
/// installed for development.
const INSTALLED_JSON: &str = r#"{
    "packages": [
        {
            "name": "guzzlehttp/guzzle",
            "version": "7.8.1",
            "version_normalized": "7.8.1.0",
            "type": "library",
            "installation-source": "dist",
            "license": ["MIT"],
            "install-path": "../guzzlehttp/guzzle"
        },
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "version_normalized": "3.5.0.0",
            "type": "library",
            "installation-source": "dist",
            "license": ["MIT"],
            "install-path": "../monolog/monolog"
        },
        {
            "name": "phpunit/phpunit",
            "version": "10.5.10",
            "version_normalized": "10.5.10.0",
            "type": "library",
            "installation-source": "dist",
            "license": ["BSD-3-Clause"],
            "install-path": "../phpunit/phpunit"
        },
        {
            "name": "symfony/console",
            "version": "v6.4.3",
            "version_normalized": "6.4.3.0",
            "type": "library",
            "installation-source": "dist",
            "license": ["MIT"],
            "install-path": "../symfony/console"
        }
    ],
    "dev": true,
    "dev-package-names": ["phpunit/phpunit"]
}
"#;

/// The component PURLs of `rootfs -f cyclonedx` on `root`, written to
/// `sbom.cdx.json` in `cwd`.
fn cyclonedx_purls(cwd: &std::path::Path, root: &std::path::Path) -> Vec<String> {
    let out =
        scan("rootfs", cwd).args(["-f", "cyclonedx", "-o", "sbom.cdx.json"]).arg(root).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cwd.join("sbom.cdx.json")).unwrap()).unwrap();
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_string))
        .collect()
}

/// `(Name, Version, PURL)` of each package of a result.
fn name_version_purl(result: &serde_json::Value) -> Vec<(&str, &str, &str)> {
    result["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Name"].as_str().unwrap(),
                p["Version"].as_str().unwrap(),
                p["Identifier"]["PURL"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn dotnet_deps_json_and_composer_installed_json_are_reported_per_file() {
    let root = tempfile::tempdir().unwrap();
    for (path, content) in
        [("app/MyApp.deps.json", MYAPP_DEPS_JSON), ("var/www/vendor/composer/installed.json", INSTALLED_JSON)]
    {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let results = report["Results"].as_array().unwrap();
    let of_type = |ty: &str| results.iter().find(|r| r["Type"] == ty).unwrap_or_else(|| panic!("no {ty}"));

    let dotnet = of_type("dotnet-core");
    assert_eq!(dotnet["Target"], "app/MyApp.deps.json");
    assert_eq!(dotnet["Class"], "lang-pkgs");
    assert_eq!(
        name_version_purl(dotnet),
        [
            ("Newtonsoft.Json", "13.0.1", "pkg:nuget/Newtonsoft.Json@13.0.1"),
            ("Serilog", "3.1.1", "pkg:nuget/Serilog@3.1.1"),
        ],
        "MyApp and MyApp.Data are projects, not packages"
    );

    let php = of_type("composer-vendor");
    assert_eq!(php["Target"], "var/www/vendor/composer/installed.json");
    assert_eq!(php["Class"], "lang-pkgs");
    assert_eq!(
        name_version_purl(php),
        [
            ("guzzlehttp/guzzle", "7.8.1", "pkg:composer/guzzlehttp/guzzle@7.8.1"),
            ("monolog/monolog", "3.5.0", "pkg:composer/monolog/monolog@3.5.0"),
            ("symfony/console", "v6.4.3", "pkg:composer/symfony/console@v6.4.3"),
        ],
        "phpunit is a development package, left out by default"
    );
    assert_eq!(php["Packages"][0]["Licenses"][0], "MIT");

    let out = scan("rootfs", cwd.path())
        .args(["-f", "json", "--list-all-pkgs", "--include-dev-deps"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let php = report["Results"].as_array().unwrap().iter().find(|r| r["Type"] == "composer-vendor").unwrap();
    let dev: Vec<&str> = php["Packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["Dev"] == true)
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert_eq!(dev, ["phpunit/phpunit"]);

    // A project is judged by what it asks for: `fs` reads deps.json (what
    // the build resolved) but not what Composer installed under vendor/.
    let out =
        scan("fs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let types: Vec<&str> =
        report["Results"].as_array().unwrap().iter().map(|r| r["Type"].as_str().unwrap()).collect();
    assert_eq!(types, ["dotnet-core"]);
}

/// `conda-meta/numpy-1.26.4-py311h64a7726_0.json`, as conda writes it
/// (the file list cut short).
const NUMPY_RECORD: &str = r#"{
  "build": "py311h64a7726_0",
  "build_number": 0,
  "channel": "https://conda.anaconda.org/conda-forge/linux-64",
  "constrains": ["numpy-base <0a0"],
  "depends": [
    "libblas >=3.9.0,<4.0a0",
    "libcblas >=3.9.0,<4.0a0",
    "libgcc-ng >=12",
    "liblapack >=3.9.0,<4.0a0",
    "libstdcxx-ng >=12",
    "python >=3.11,<3.12.0a0",
    "python_abi 3.11.* *_cp311"
  ],
  "extracted_package_dir": "/opt/conda/pkgs/numpy-1.26.4-py311h64a7726_0",
  "files": [
    "bin/f2py",
    "lib/python3.11/site-packages/numpy/__init__.py",
    "lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA"
  ],
  "fn": "numpy-1.26.4-py311h64a7726_0.conda",
  "license": "BSD-3-Clause",
  "link": {"source": "/opt/conda/pkgs/numpy-1.26.4-py311h64a7726_0", "type": 1},
  "name": "numpy",
  "requested_spec": "conda-forge::numpy=1.26",
  "size": 8065890,
  "subdir": "linux-64",
  "timestamp": 1707225380409,
  "url": "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda",
  "version": "1.26.4"
}
"#;

const REQUESTS_RECORD: &str = r#"{
  "build": "pyhd8ed1ab_0",
  "build_number": 0,
  "channel": "https://conda.anaconda.org/conda-forge/noarch",
  "constrains": ["chardet >=3.0.2,<6"],
  "depends": [
    "certifi >=2017.4.17",
    "charset-normalizer >=2,<3",
    "idna >=2.5,<4",
    "python >=3.7,<4.0",
    "urllib3 >=1.21.1,<1.27"
  ],
  "files": ["site-packages/requests/__init__.py", "site-packages/requests/api.py"],
  "fn": "requests-2.28.1-pyhd8ed1ab_0.tar.bz2",
  "license": "Apache-2.0",
  "name": "requests",
  "noarch": "python",
  "subdir": "noarch",
  "timestamp": 1656534056640,
  "url": "https://conda.anaconda.org/conda-forge/noarch/requests-2.28.1-pyhd8ed1ab_0.tar.bz2",
  "version": "2.28.1"
}
"#;

const CONDA_HISTORY: &str = "==> 2024-03-01 10:15:02 <==\n\
    # cmd: /opt/conda/bin/conda install -y -c conda-forge numpy=1.26 requests=2.28\n\
    # conda version: 24.1.2\n\
    +conda-forge/linux-64::numpy-1.26.4-py311h64a7726_0\n\
    +conda-forge/noarch::requests-2.28.1-pyhd8ed1ab_0\n";

#[test]
fn conda_packages_are_one_conda_result_listed_in_sboms() {
    let root = tempfile::tempdir().unwrap();
    let meta = root.path().join("opt/conda/conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    for (name, content) in [
        ("numpy-1.26.4-py311h64a7726_0.json", NUMPY_RECORD),
        ("requests-2.28.1-pyhd8ed1ab_0.json", REQUESTS_RECORD),
        ("history", CONDA_HISTORY),
    ] {
        std::fs::write(meta.join(name), content).unwrap();
    }
    let cwd = tempfile::tempdir().unwrap();
    let out =
        scan("rootfs", cwd.path()).args(["-f", "json", "--list-all-pkgs"]).arg(root.path()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("conda-meta"), "no warning about the records: {}", stderr(&out));
    let report = json(&out);
    let results = report["Results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    let conda = &results[0];
    assert_eq!(
        (&conda["Target"], &conda["Class"], &conda["Type"]),
        (&"Conda".into(), &"lang-pkgs".into(), &"conda-pkg".into())
    );
    assert_eq!(
        name_version_purl(conda),
        [("numpy", "1.26.4", "pkg:conda/numpy@1.26.4"), ("requests", "2.28.1", "pkg:conda/requests@2.28.1")]
    );
    let packages = conda["Packages"].as_array().unwrap();
    let paths: Vec<&str> = packages.iter().map(|p| p["FilePath"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json",
            "opt/conda/conda-meta/requests-2.28.1-pyhd8ed1ab_0.json"
        ]
    );
    assert_eq!(
        (&packages[0]["Licenses"][0], &packages[1]["Licenses"][0]),
        (&"BSD-3-Clause".into(), &"Apache-2.0".into())
    );
    // requests 2.28.1 is below PyPI's fix for PYSEC-2023-74, but OSV has no
    // conda ecosystem: nothing is matched, and that is no error.
    assert!(conda["Vulnerabilities"].as_array().is_none_or(Vec::is_empty), "{}", conda["Vulnerabilities"]);

    let purls = cyclonedx_purls(cwd.path(), root.path());
    assert_eq!(purls, ["pkg:conda/numpy@1.26.4", "pkg:conda/requests@2.28.1"]);

    // Read back, the SBOM gives the same result.
    let out =
        scan("sbom", cwd.path()).args(["-f", "json", "--list-all-pkgs", "sbom.cdx.json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let conda = &report["Results"][0];
    assert_eq!((&conda["Target"], &conda["Type"]), (&"Conda".into(), &"conda-pkg".into()));
    assert_eq!(
        name_version_purl(conda),
        [("numpy", "1.26.4", "pkg:conda/numpy@1.26.4"), ("requests", "2.28.1", "pkg:conda/requests@2.28.1")]
    );
}
