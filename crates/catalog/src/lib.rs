//! Package catalogers: turn lockfiles and manifests into [`Package`] lists.
//!
//! A cataloger claims files by name alone ([`LockfileKind::detect`]) so a
//! directory walk never reads a file nobody wants.

mod cargo;
mod composer;
mod composer_vendor;
mod dotnet_deps;
mod gomod;
mod gradle;
pub mod installed;
mod maven;
mod npm;
mod nuget;
pub mod os;
mod pnpm;
mod python;
mod ruby;
pub mod sbom;
mod support;
mod yarn;

use std::path::Path;

use rampart_types::{Diagnostic, Ecosystem, Package};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid for its format; the scan goes on without it.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed { path: String, line: Option<u32>, message: String },
}

impl CatalogError {
    pub(crate) fn malformed(input: &Input<'_>, line: Option<u32>, message: impl Into<String>) -> Self {
        CatalogError::Malformed { path: input.display.to_string(), line, message: message.into() }
    }
}

/// A lockfile or manifest format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockfileKind {
    /// `package-lock.json` (v1–v3) and `npm-shrinkwrap.json`.
    NpmLock,
    /// `yarn.lock`, classic (v1) and berry (v2+).
    Yarn,
    Pnpm,
    CargoLock,
    /// `go.mod`, with `go.sum` beside it when present.
    GoMod,
    /// `requirements*.txt`, pinned (`==`) lines.
    Requirements,
    Pipfile,
    Poetry,
    Uv,
    Gemfile,
    Composer,
    /// `vendor/composer/installed.json` (any vendor directory name): what
    /// Composer installed.
    ComposerVendor,
    Pom,
    GradleLock,
    NugetLock,
    /// `*.deps.json`, the runtime dependencies of a built .NET app.
    DotnetDeps,
}

impl LockfileKind {
    /// The format of a file, judged by its name only.
    pub fn detect(path: &Path) -> Option<LockfileKind> {
        let name = path.file_name()?.to_str()?;
        Some(match name {
            "package-lock.json" | "npm-shrinkwrap.json" => LockfileKind::NpmLock,
            "yarn.lock" => LockfileKind::Yarn,
            "pnpm-lock.yaml" => LockfileKind::Pnpm,
            "Cargo.lock" => LockfileKind::CargoLock,
            "go.mod" => LockfileKind::GoMod,
            "Pipfile.lock" => LockfileKind::Pipfile,
            "poetry.lock" => LockfileKind::Poetry,
            "uv.lock" => LockfileKind::Uv,
            "Gemfile.lock" | "gems.locked" => LockfileKind::Gemfile,
            "composer.lock" => LockfileKind::Composer,
            "pom.xml" => LockfileKind::Pom,
            "packages.lock.json" => LockfileKind::NugetLock,
            "installed.json" if parent_is(path, "composer") => LockfileKind::ComposerVendor,
            n if n.ends_with(".deps.json") => LockfileKind::DotnetDeps,
            n if n.ends_with(".lockfile") && n.contains("gradle") => LockfileKind::GradleLock,
            n if n.starts_with("requirements") && n.ends_with(".txt") => LockfileKind::Requirements,
            _ => return None,
        })
    }

    /// The package-manager type Trivy reports use.
    pub fn trivy_type(self) -> &'static str {
        match self {
            LockfileKind::NpmLock => "npm",
            LockfileKind::Yarn => "yarn",
            LockfileKind::Pnpm => "pnpm",
            LockfileKind::CargoLock => "cargo",
            LockfileKind::GoMod => "gomod",
            LockfileKind::Requirements => "pip",
            LockfileKind::Pipfile => "pipenv",
            LockfileKind::Poetry => "poetry",
            LockfileKind::Uv => "uv",
            LockfileKind::Gemfile => "bundler",
            LockfileKind::Composer => "composer",
            LockfileKind::ComposerVendor => "composer-vendor",
            LockfileKind::Pom => "pom",
            LockfileKind::GradleLock => "gradle",
            LockfileKind::NugetLock => "nuget",
            LockfileKind::DotnetDeps => "dotnet-core",
        }
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            LockfileKind::NpmLock | LockfileKind::Yarn | LockfileKind::Pnpm => Ecosystem::Npm,
            LockfileKind::CargoLock => Ecosystem::CratesIo,
            LockfileKind::GoMod => Ecosystem::Go,
            LockfileKind::Requirements | LockfileKind::Pipfile | LockfileKind::Poetry | LockfileKind::Uv => {
                Ecosystem::PyPI
            }
            LockfileKind::Gemfile => Ecosystem::RubyGems,
            LockfileKind::Composer | LockfileKind::ComposerVendor => Ecosystem::Packagist,
            LockfileKind::Pom | LockfileKind::GradleLock => Ecosystem::Maven,
            LockfileKind::NugetLock | LockfileKind::DotnetDeps => Ecosystem::NuGet,
        }
    }

    /// Whether the file records what is installed on a system rather than
    /// what a project asks for: read in image and rootfs scans only, as
    /// Trivy does, so a project's `composer.lock` and its `vendor/` do not
    /// list the same packages twice.
    pub fn records_installation(self) -> bool {
        matches!(self, LockfileKind::ComposerVendor)
    }
}

/// Packages found in one file, and the problems that did not stop parsing.
#[derive(Debug, Default)]
pub struct Parsed {
    pub packages: Vec<Package>,
    pub warnings: Vec<Diagnostic>,
}

/// One file handed to a format parser.
pub(crate) struct Input<'a> {
    /// The real path, to find neighbours (`go.sum`, a parent `pom.xml`).
    pub path: &'a Path,
    /// The path shown to the user in messages.
    pub display: &'a str,
    pub content: &'a [u8],
}

impl Input<'_> {
    /// The content as UTF-8 (a leading BOM dropped), or a `Malformed` error.
    pub fn text(&self) -> Result<&str, CatalogError> {
        let bytes = self.content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(self.content);
        std::str::from_utf8(bytes).map_err(|e| CatalogError::malformed(self, None, format!("not UTF-8: {e}")))
    }
}

/// Parses one file. `path` is the real path (used to find neighbours such as
/// `go.sum` or a parent `pom.xml`); `display` is the path shown to the user.
pub fn parse(kind: LockfileKind, path: &Path, display: &str, content: &[u8]) -> Result<Parsed, CatalogError> {
    let input = Input { path, display, content };
    match kind {
        LockfileKind::NpmLock => npm::parse(&input),
        LockfileKind::Yarn => yarn::parse(&input),
        LockfileKind::Pnpm => pnpm::parse(&input),
        LockfileKind::CargoLock => cargo::parse(&input),
        LockfileKind::GoMod => gomod::parse(&input),
        LockfileKind::Requirements => python::parse_requirements(&input),
        LockfileKind::Pipfile => python::parse_pipfile_lock(&input),
        LockfileKind::Poetry => python::parse_poetry_lock(&input),
        LockfileKind::Uv => python::parse_uv_lock(&input),
        LockfileKind::Gemfile => ruby::parse(&input),
        LockfileKind::Composer => composer::parse(&input),
        LockfileKind::ComposerVendor => composer_vendor::parse(&input),
        LockfileKind::Pom => maven::parse(&input),
        LockfileKind::GradleLock => gradle::parse(&input),
        LockfileKind::NugetLock => nuget::parse(&input),
        LockfileKind::DotnetDeps => dotnet_deps::parse(&input),
    }
}

/// Whether the directory holding `path` is named `dir`.
fn parent_is(path: &Path, dir: &str) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|d| d == dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_by_file_name() {
        assert_eq!(LockfileKind::detect(Path::new("a/b/package-lock.json")), Some(LockfileKind::NpmLock));
        assert_eq!(LockfileKind::detect(Path::new("requirements-dev.txt")), Some(LockfileKind::Requirements));
        assert_eq!(
            LockfileKind::detect(Path::new("buildscript-gradle.lockfile")),
            Some(LockfileKind::GradleLock)
        );
        assert_eq!(LockfileKind::detect(Path::new("app/MyApp.deps.json")), Some(LockfileKind::DotnetDeps));
        assert_eq!(
            LockfileKind::detect(Path::new("var/www/vendor/composer/installed.json")),
            Some(LockfileKind::ComposerVendor)
        );
        assert_eq!(LockfileKind::detect(Path::new("installed.json")), None);
        assert_eq!(LockfileKind::detect(Path::new("node_modules/.package-lock/installed.json")), None);
        assert_eq!(LockfileKind::detect(Path::new("README.md")), None);
        assert_eq!(LockfileKind::detect(Path::new("requirements.in")), None);
    }
}
