use serde::{Deserialize, Serialize};

use crate::{Ecosystem, Layer, purl};

/// A line range inside the file a package or finding came from (1-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    pub start_line: u32,
    pub end_line: u32,
}

/// One installed or locked package, as a cataloger found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// The name as the package manager spells it (advisory matching normalizes it).
    pub name: String,
    pub version: String,
    /// Needed only for development or tests, where the lockfile says so.
    #[serde(default)]
    pub dev: bool,
    /// Pulled in by another dependency rather than declared by the project.
    #[serde(default)]
    pub indirect: bool,
    /// For OS packages: the source package advisories are filed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Where in the lockfile the package is declared, when the format has lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// For packages in images: the layer that installed them.
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub layer: Layer,
    /// For installed packages: the file they were found in (a metadata
    /// file, or `app.war/WEB-INF/lib/x.jar` inside an archive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
}

impl Package {
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            ecosystem,
            name: name.into(),
            version: version.into(),
            dev: false,
            indirect: false,
            src_name: None,
            src_version: None,
            licenses: Vec::new(),
            locations: Vec::new(),
            layer: Layer::default(),
            file_path: None,
        }
    }

    /// `name@version`, the identifier Trivy reports use as `PkgID`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    pub fn purl(&self) -> String {
        purl(self.ecosystem, &self.name, &self.version)
    }
}
