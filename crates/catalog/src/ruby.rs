//! `Gemfile.lock` / `gems.locked` (Bundler).
//!
//! Source sections (`GEM`, `GIT`, `PATH`, `PLUGIN SOURCE`) list resolved gems
//! under `specs:` as four-space-indented `name (version[-platform])` lines;
//! six-space lines below them are requirements, not gems. `DEPENDENCIES`
//! names what the Gemfile asks for, i.e. the direct gems.

use std::collections::HashSet;

use rampart_types::{Diagnostic, Ecosystem, Location, Package};

use crate::support::Collector;
use crate::{CatalogError, Input, Parsed};

const SOURCES: [&str; 4] = ["GEM", "GIT", "PATH", "PLUGIN SOURCE"];
const OTHER_SECTIONS: [&str; 5] = ["PLATFORMS", "DEPENDENCIES", "RUBY VERSION", "BUNDLED WITH", "CHECKSUMS"];

#[derive(PartialEq, Eq, Clone, Copy)]
enum Section {
    Source { in_specs: bool },
    Dependencies,
    Other,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let mut warnings = Vec::new();
    let mut gems = Vec::new();
    let mut direct = HashSet::new();
    let mut section = None;
    let mut any_section = false;

    for (no, line) in (1u32..).zip(text.lines()) {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            section = if SOURCES.contains(&line) {
                Some(Section::Source { in_specs: false })
            } else if line == "DEPENDENCIES" {
                Some(Section::Dependencies)
            } else if OTHER_SECTIONS.contains(&line) || is_section_name(line) {
                Some(Section::Other)
            } else {
                warnings.push(Diagnostic::new(input.display, "expected a section name").at_line(no));
                None
            };
            any_section |= section.is_some();
            continue;
        }
        match section {
            Some(Section::Source { in_specs }) => match indent {
                2 => section = Some(Section::Source { in_specs: line.trim_start() == "specs:" }),
                4 if in_specs => match spec(line.trim_start()) {
                    Some((name, version)) => gems.push((name, version, no)),
                    None => {
                        warnings.push(Diagnostic::new(input.display, "expected: name (version)").at_line(no))
                    }
                },
                _ => {}
            },
            Some(Section::Dependencies) if indent == 2 => {
                // `name`, `name (>= 1.0)`, or `name!` for a git/path gem.
                if let Some(name) = line.split_whitespace().next() {
                    direct.insert(name.trim_end_matches('!'));
                }
            }
            _ => {}
        }
    }
    if !any_section && !warnings.is_empty() {
        return Err(CatalogError::malformed(input, warnings[0].line, "not a Gemfile.lock: no known section"));
    }

    let mut out = Collector::default();
    for (name, version, line) in gems {
        let mut p = Package::new(Ecosystem::RubyGems, name, version);
        p.indirect = !direct.is_empty() && !direct.contains(name);
        p.locations.push(Location { start_line: line, end_line: line });
        out.add(p);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

/// Upper-case words: a section this parser does not need (Bundler adds some over time).
fn is_section_name(line: &str) -> bool {
    line.bytes().all(|b| b.is_ascii_uppercase() || b == b' ' || b == b'_')
}

/// `nokogiri (1.13.3-x86_64-linux)` → `("nokogiri", "1.13.3")`. RubyGems
/// versions never contain `-`, so anything after one is the platform.
fn spec(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    let version = version.split_once('-').map_or(version, |(v, _)| v);
    (!name.is_empty() && !version.is_empty() && !name.contains(' ')).then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_lines() {
        assert_eq!(spec("ast (2.4.2)"), Some(("ast", "2.4.2")));
        assert_eq!(spec("nokogiri (1.13.3-x86_64-linux)"), Some(("nokogiri", "1.13.3")));
        assert_eq!(spec("ffi (1.15.5-x64-mingw-ucrt)"), Some(("ffi", "1.15.5")));
        assert_eq!(spec("invalid-name"), None);
        assert_eq!(spec("name ()"), None);
    }
}
