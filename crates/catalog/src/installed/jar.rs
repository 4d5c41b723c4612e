//! Java archives (JAR, WAR, EAR, PAR, SAR: zip files) and the archives
//! nested in them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, modules of
//! an EAR).
//!
//! What names a Maven artifact, in Trivy's order:
//! - every `pom.properties` (`groupId`, `artifactId`, `version`; a shaded
//!   jar carries one per artifact it swallowed);
//! - when none of those is the archive itself (judged by its file name),
//!   the main section of `META-INF/MANIFEST.MF`: group from
//!   `Implementation-Vendor-Id`, else `Bundle-SymbolicName` up to its last
//!   dot, else `Implementation-Vendor`, else `Specification-Vendor`;
//!   artifact from `Implementation-Title`, `Specification-Title` or
//!   `Bundle-Name`; version from `Implementation-Version`,
//!   `Specification-Version` or `Bundle-Version`;
//! - else the file name, `name-1.2.3.jar`, which gives no group. Trivy asks
//!   Maven Central for the group; offline there is no one to ask, so the
//!   package is named by its artifact alone and matches no advisory.
//!
//! Each package's `file_path` is the archive it was found in, nested ones
//! spelled `app.war/WEB-INF/lib/x.jar`. Archives are read in memory within
//! bounds (nesting depth, entries, decompressed bytes); an archive past
//! them is refused with a warning naming it.

use std::io::{Cursor, Read};

use rampart_types::{Diagnostic, Ecosystem, Package};
use zip::ZipArchive;

use crate::{CatalogError, Input, Parsed};

/// Archives inside archives inside … this many levels down are not opened.
const MAX_DEPTH: usize = 4;
/// Entries over the archive and everything nested in it.
const MAX_ENTRIES: usize = 500_000;
/// Bytes decompressed over the archive and everything nested in it.
const MAX_INFLATED: u64 = 1 << 30;
/// One nested archive read into memory.
const MAX_NESTED: u64 = 256 << 20;
/// A `pom.properties` or `MANIFEST.MF` larger than this is no metadata.
const MAX_METADATA: u64 = 1 << 20;

const EXTENSIONS: [&str; 5] = ["jar", "war", "ear", "par", "sar"];

/// True for a file name with a Java archive extension (any case).
pub(super) fn is_archive(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && !stem.ends_with('/') && EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
    })
}

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let mut walk = Walk { entries_left: MAX_ENTRIES, bytes_left: MAX_INFLATED, out: Parsed::default() };
    match walk.archive(input.display, input.content, 0) {
        Ok(()) => {}
        Err(Stop::Bad(message)) => return Err(CatalogError::malformed(input, None, message)),
        Err(Stop::Refused(path, message)) => walk.out.warnings.push(Diagnostic::new(path, message)),
    }
    Ok(walk.out)
}

enum Stop {
    /// This archive cannot be read; an outer one goes on without it.
    Bad(String),
    /// A bound was passed: reading stops everywhere (a zip bomb, or
    /// something too big to scan).
    Refused(String, String),
}

struct Walk {
    entries_left: usize,
    bytes_left: u64,
    out: Parsed,
}

impl Walk {
    fn archive(&mut self, path: &str, data: &[u8], depth: usize) -> Result<(), Stop> {
        let mut zip =
            ZipArchive::new(Cursor::new(data)).map_err(|e| Stop::Bad(format!("not a zip archive: {e}")))?;
        if zip.len() > self.entries_left {
            return Err(Stop::Refused(
                path.to_string(),
                format!("refused: more than {MAX_ENTRIES} zip entries in the archive and those nested in it"),
            ));
        }
        self.entries_left -= zip.len();
        let mut poms = Vec::new();
        let mut manifest = None;
        let mut nested = Vec::new();
        for i in 0..zip.len() {
            let Some(Ok(name)) = zip.name_for_index(i) else { continue };
            let base = name.rsplit('/').next().unwrap_or_default();
            let wanted = if base == "pom.properties" {
                Wanted::Pom
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                Wanted::Manifest
            } else if is_archive(&name) && depth < MAX_DEPTH {
                Wanted::Nested
            } else if is_archive(&name) {
                let inner = format!("{path}/{name}");
                self.warn(&inner, format!("nested more than {MAX_DEPTH} archives deep; not read"));
                continue;
            } else {
                continue;
            };
            let name = name.into_owned();
            let mut entry = match zip.by_index(i) {
                Ok(entry) if entry.is_dir() => continue,
                Ok(entry) => entry,
                Err(e) => {
                    self.warn(path, format!("{name}: unreadable entry: {e}"));
                    continue;
                }
            };
            let cap = if matches!(wanted, Wanted::Nested) { MAX_NESTED } else { MAX_METADATA };
            let declared = entry.size();
            let bytes = self.read(path, &name, &mut entry, declared, cap)?;
            match wanted {
                Wanted::Pom => poms.extend(pom_properties(&String::from_utf8_lossy(&bytes))),
                Wanted::Manifest => manifest = Some(String::from_utf8_lossy(&bytes).into_owned()),
                Wanted::Nested => nested.push((name, bytes)),
            }
        }
        drop(zip);

        for (name, bytes) in nested {
            let inner = format!("{path}/{name}");
            match self.archive(&inner, &bytes, depth + 1) {
                Ok(()) => {}
                Err(Stop::Bad(message)) => self.warn(&inner, format!("skipped: {message}")),
                Err(refused) => return Err(refused),
            }
        }

        let file = file_name_artifact(path);
        let is_self = |a: &Artifact| match &file {
            Some((artifact, version)) => a.artifact == *artifact && a.version == *version,
            None => true,
        };
        let found_self = poms.iter().any(is_self);
        let mut artifacts = poms;
        if !found_self {
            match manifest.as_deref().and_then(manifest_artifact) {
                Some(m) if !artifacts.contains(&m) => artifacts.push(m),
                Some(_) => {}
                None if artifacts.is_empty() => {
                    artifacts.extend(file.map(|(artifact, version)| Artifact {
                        group: String::new(),
                        artifact,
                        version,
                    }));
                }
                None => {}
            }
        }
        for a in artifacts {
            let name = if a.group.is_empty() { a.artifact } else { format!("{}:{}", a.group, a.artifact) };
            let mut package = Package::new(Ecosystem::Maven, name, a.version);
            package.file_path = Some(path.to_string());
            self.out.packages.push(package);
        }
        Ok(())
    }

    /// An entry's bytes, at most `cap` (whatever size the archive
    /// declares): past it the whole scan is refused, since only a bomb or
    /// an archive too big to scan gets there.
    fn read(
        &mut self,
        path: &str,
        name: &str,
        entry: &mut impl Read,
        declared: u64,
        cap: u64,
    ) -> Result<Vec<u8>, Stop> {
        let cap = cap.min(self.bytes_left);
        let refused = || {
            Stop::Refused(
                path.to_string(),
                format!(
                    "refused: {name} decompresses to more than {cap} bytes (a zip bomb, or more than \
                     {MAX_INFLATED} bytes in all)"
                ),
            )
        };
        if declared > cap {
            return Err(refused());
        }
        let mut bytes = Vec::new();
        let read = entry.take(cap.saturating_add(1)).read_to_end(&mut bytes);
        if bytes.len() as u64 > cap {
            return Err(refused());
        }
        if let Err(e) = read {
            return Err(Stop::Bad(format!("{name}: {e}")));
        }
        self.bytes_left -= bytes.len() as u64;
        Ok(bytes)
    }

    fn warn(&mut self, path: &str, message: String) {
        self.out.warnings.push(Diagnostic::new(path, message));
    }
}

enum Wanted {
    Pom,
    Manifest,
    Nested,
}

#[derive(Debug, PartialEq)]
struct Artifact {
    group: String,
    artifact: String,
    version: String,
}

/// `groupId`, `artifactId` and `version` of a Java properties file; `None`
/// unless all three are there.
fn pom_properties(text: &str) -> Option<Artifact> {
    let (mut group, mut artifact, mut version) = (None, None, None);
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with(['#', '!']) {
            continue;
        }
        let Some(at) = line.find(['=', ':']) else { continue };
        let value = line[at + 1..].trim().to_string();
        match line[..at].trim() {
            "groupId" => group = Some(value),
            "artifactId" => artifact = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    let artifact = Artifact { group: group?, artifact: artifact?, version: version? };
    let valid = !artifact.group.is_empty() && !artifact.artifact.is_empty() && !artifact.version.is_empty();
    valid.then_some(artifact)
}

/// The artifact a manifest's main section names, when it names group,
/// artifact and version.
fn manifest_artifact(text: &str) -> Option<Artifact> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        // A line starting with a space continues the one above.
        if let Some(more) = line.strip_prefix(' ') {
            if let Some(last) = fields.last_mut() {
                last.1.push_str(more);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |key: &str| {
        fields.iter().find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty()).map(|(_, v)| v.clone())
    };
    // `com.example.lib;singleton:=true`: the name is before the parameters.
    let symbolic =
        get("Bundle-SymbolicName").map(|s| s.split(';').next().unwrap_or_default().trim().to_string());
    let group = get("Implementation-Vendor-Id")
        .or_else(|| symbolic.map(|s| s.rsplit_once('.').map_or(s.clone(), |(g, _)| g.to_string())))
        .or_else(|| get("Implementation-Vendor"))
        .or_else(|| get("Specification-Vendor"))?;
    let artifact =
        get("Implementation-Title").or_else(|| get("Specification-Title")).or_else(|| get("Bundle-Name"))?;
    let version = get("Implementation-Version")
        .or_else(|| get("Specification-Version"))
        .or_else(|| get("Bundle-Version"))?;
    Some(Artifact { group, artifact, version })
}

/// `(artifact, version)` from a file name like `log4j-core-2.14.1.jar`:
/// the version starts after the last `-` followed by a digit.
fn file_name_artifact(path: &str) -> Option<(String, String)> {
    let name = path.rsplit('/').next()?;
    let (stem, _) = name.rsplit_once('.')?;
    let at = stem
        .char_indices()
        .filter(|(i, c)| *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next_back()?;
    let (artifact, version) = (&stem[..at], &stem[at + 1..]);
    (!artifact.is_empty()).then(|| (artifact.to_string(), version.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let f = |p: &str| file_name_artifact(p).map(|(a, v)| format!("{a} {v}"));
        assert_eq!(f("lib/log4j-core-2.14.1.jar").as_deref(), Some("log4j-core 2.14.1"));
        assert_eq!(f("log4j-1.2-api-2.17.1.jar").as_deref(), Some("log4j-1.2-api 2.17.1"));
        assert_eq!(f("guava-31.1-jre.jar").as_deref(), Some("guava 31.1-jre"));
        assert_eq!(f("app-1.0-SNAPSHOT.war").as_deref(), Some("app 1.0-SNAPSHOT"));
        assert_eq!(f("app.jar"), None);
        assert_eq!(f("-1.0.jar"), None);
    }

    #[test]
    fn archive_names() {
        for (name, want) in [
            ("a.jar", true),
            ("WEB-INF/lib/x.JAR", true),
            ("app.war", true),
            ("x.ear", true),
            ("x.sar", true),
            ("x.par", true),
            ("x.zip", false),
            (".jar", false),
            ("dir/.jar", false),
            ("jar", false),
        ] {
            assert_eq!(is_archive(name), want, "{name}");
        }
    }

    #[test]
    fn properties_and_manifests() {
        let p = pom_properties(
            "#Generated by Maven\n#Tue\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n",
        );
        assert_eq!(
            p,
            Some(Artifact {
                group: "org.apache.logging.log4j".into(),
                artifact: "log4j-core".into(),
                version: "2.14.1".into()
            })
        );
        assert_eq!(pom_properties("groupId=a\nartifactId=b\n"), None, "no version");
        assert_eq!(pom_properties("groupId = a\nartifactId: b\nversion=\n"), None, "empty version");

        let m = manifest_artifact(
            "Manifest-Version: 1.0\r\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-datab\r\n ind;singleton:=true\r\n\
             Bundle-Name: Jackson-core\r\nBundle-Version: 2.13.4\r\n\r\nName: x\r\nImplementation-Title: other\r\n",
        );
        assert_eq!(
            m,
            Some(Artifact {
                group: "com.fasterxml.jackson.core".into(),
                artifact: "Jackson-core".into(),
                version: "2.13.4".into()
            }),
            "continuation lines joined; only the main section counts"
        );
        let m = manifest_artifact(
            "Implementation-Title: spring-core\nImplementation-Version: 5.3.3\nImplementation-Vendor-Id: org.springframework\nImplementation-Vendor: VMware\n",
        );
        assert_eq!(m.map(|a| a.group), Some("org.springframework".to_string()));
        assert_eq!(
            manifest_artifact("Implementation-Title: x\nImplementation-Version: 1\n"),
            None,
            "no group"
        );
    }
}
