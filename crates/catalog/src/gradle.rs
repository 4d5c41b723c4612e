//! `gradle.lockfile`: one `group:artifact:version=configuration,…` line per
//! resolved module.

use rampart_types::{Diagnostic, Ecosystem, Location, Package};

use crate::{CatalogError, Input, Parsed};

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let mut parsed = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (coordinates, configurations) = line.split_once('=').unwrap_or((line, ""));
        // `empty=` lists the configurations that resolved to nothing.
        if coordinates.trim() == "empty" {
            continue;
        }
        let parts: Vec<&str> = coordinates.trim().split(':').collect();
        let [group, artifact, version] = parts[..] else {
            let msg = format!("`{line}` is not a `group:artifact:version=configurations` line");
            parsed.warnings.push(Diagnostic::new(input.display, msg).at_line(n));
            continue;
        };
        if [group, artifact, version].iter().any(|p| p.is_empty() || p.contains(char::is_whitespace)) {
            let msg = format!("`{coordinates}` is not a `group:artifact:version` coordinate");
            parsed.warnings.push(Diagnostic::new(input.display, msg).at_line(n));
            continue;
        }
        let mut configurations =
            configurations.split(',').map(str::trim).filter(|c| !c.is_empty()).peekable();
        let mut pkg = Package::new(Ecosystem::Maven, format!("{group}:{artifact}"), version);
        // Only test classpaths (`testCompileClasspath`, `integrationTestRuntimeClasspath`, …) need it.
        pkg.dev = configurations.peek().is_some()
            && configurations.all(|c| c.to_ascii_lowercase().contains("test"));
        pkg.locations.push(Location { start_line: n, end_line: n });
        parsed.packages.push(pkg);
    }
    Ok(parsed)
}
