//! Installed gems' specifications (`specifications/*.gemspec`), the Ruby
//! files RubyGems writes when it installs a gem. They are read as text,
//! never run: the assignments RubyGems generates are one per line,
//! `s.name = "rake".freeze`, `s.version = "13.0.6"`, `s.licenses =
//! ["MIT".freeze]`, `s.license = "MIT"`, with older forms `%q{rake}` and
//! `Gem::Version.new("1.0")`.

use rampart_types::{Ecosystem, Location, Package};

use crate::{CatalogError, Input, Parsed};

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = String::from_utf8_lossy(input.content);
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for (no, line) in (1u32..).zip(text.lines()) {
        let Some((target, value)) = line.trim().split_once('=') else { continue };
        // `s.name` (any receiver name): not `==`, not `s.metadata = {…}`.
        let Some((receiver, attribute)) = target.trim().split_once('.') else { continue };
        if receiver.is_empty() || !receiver.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim();
        match attribute {
            "name" if name.is_none() => name = string(value).map(|v| (v, no)),
            "version" if version.is_none() => {
                version = string(value).or_else(|| string(value.strip_prefix("Gem::Version.new")?.trim()))
            }
            "license" if licenses.is_empty() => licenses.extend(string(value)),
            "licenses" if licenses.is_empty() => licenses = list(value),
            _ => {}
        }
    }
    let (Some((name, line)), Some(version)) = (name, version) else {
        return Err(CatalogError::malformed(input, None, "no name or version assignment"));
    };
    let mut package = Package::new(Ecosystem::RubyGems, name, version);
    package.licenses = licenses;
    package.locations.push(Location { start_line: line, end_line: line });
    Ok(Parsed { packages: vec![package], warnings: Vec::new() })
}

/// A Ruby string literal at the start of `value` (`"x"`, `'x'`, `%q{x}`,
/// optionally `.freeze`, optionally inside parentheses), when non-empty.
fn string(value: &str) -> Option<String> {
    let value = value.trim_start_matches(['(', ' ']);
    let (close, rest) = match value.strip_prefix("%q{") {
        Some(rest) => ('}', rest),
        None => {
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            (quote, &value[1..])
        }
    };
    let end = rest.find(close)?;
    let s = rest[..end].trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The strings of an array literal: `["MIT".freeze, "Apache-2.0".freeze]`.
fn list(value: &str) -> Vec<String> {
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.split(']').next()) else { return Vec::new() };
    inner.split(',').filter_map(|item| string(item.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_strings() {
        for (value, want) in [
            (r#""rake".freeze"#, Some("rake")),
            ("'rake'", Some("rake")),
            ("%q{rake}", Some("rake")),
            (r#"("1.0")"#, Some("1.0")),
            (r#""""#, None),
            ("rake", None),
        ] {
            assert_eq!(string(value).as_deref(), want, "{value}");
        }
        assert_eq!(list(r#"["MIT".freeze, "Ruby".freeze]"#), ["MIT", "Ruby"]);
        assert!(list("nil").is_empty());
    }
}
