//! `go.mod`, with `go.sum` beside it for old modules.
//!
//! Since Go 1.17 `go.mod` lists every module the build needs (`// indirect`
//! marks the ones the main module does not import itself), so it is the
//! source of truth. Before 1.17 it lists only direct requirements; then the
//! modules `go.sum` holds full checksums for are added as indirect.
//!
//! The Go toolchain is reported as the package `stdlib`, named and versioned
//! the way the Go vulnerability database's OSV records spell it (`1.21.3`,
//! `1.22.0-rc.1`). It comes from the `toolchain` directive, else from the
//! `go` directive, but only from Go 1.21 on: only there is `go` the minimum
//! toolchain a build must use rather than a language-version hint.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rampart_types::{Diagnostic, Ecosystem, Location, Package};

use crate::support::{Collector, Sibling, read_sibling};
use crate::{CatalogError, Input, Parsed};

struct Require<'a> {
    path: Cow<'a, str>,
    version: Cow<'a, str>,
    indirect: bool,
    line: u32,
}

struct Replace<'a> {
    version: Option<Cow<'a, str>>,
    new_path: Cow<'a, str>,
    /// `None` for a local directory.
    new_version: Option<Cow<'a, str>>,
}

#[derive(Default)]
struct GoMod<'a> {
    go: Option<(&'a str, u32)>,
    toolchain: Option<(&'a str, u32)>,
    requires: Vec<Require<'a>>,
    /// By the module path they replace.
    replaces: HashMap<Cow<'a, str>, Vec<Replace<'a>>>,
}

pub(crate) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let text = input.text()?;
    let mut warnings = Vec::new();
    let module = read(text, input, &mut warnings)?;

    let mut out = Collector::default();
    let mut names = HashSet::new();
    for req in &module.requires {
        let Some((path, version)) = module.resolve(req) else { continue };
        names.insert(path.to_string());
        let mut p = Package::new(Ecosystem::Go, path, version);
        p.indirect = req.indirect;
        p.locations.push(Location { start_line: req.line, end_line: req.line });
        out.add(p);
    }

    if module.go.is_none_or(|(v, _)| go_minor(v).is_some_and(|m| m < 17)) {
        for (path, version) in go_sum(input, &mut warnings) {
            if !names.contains(&path) && !module.replaces.contains_key(path.as_str()) {
                let mut p = Package::new(Ecosystem::Go, path, version);
                p.indirect = true;
                out.add(p);
            }
        }
    }

    if let Some(p) = module.stdlib(input, &mut warnings) {
        out.add(p);
    }
    Ok(Parsed { packages: out.finish(), warnings })
}

impl<'a> GoMod<'a> {
    /// The module a requirement builds with, after `replace`; `None` when a
    /// local directory replaces it (that code is the project's own).
    fn resolve<'r>(&'r self, req: &'r Require<'a>) -> Option<(&'r str, &'r str)> {
        let candidates = self.replaces.get(&req.path).map(Vec::as_slice).unwrap_or_default();
        // A replacement of this exact version wins over a versionless one.
        let replace = candidates
            .iter()
            .rev()
            .find(|r| r.version.as_deref() == Some(&*req.version))
            .or_else(|| candidates.iter().rev().find(|r| r.version.is_none()));
        match replace {
            None => Some((&req.path, &req.version)),
            Some(r) => r.new_version.as_deref().map(|v| (&*r.new_path, v)),
        }
    }

    fn stdlib(&self, input: &Input<'_>, warnings: &mut Vec<Diagnostic>) -> Option<Package> {
        let (raw, line) = match (self.toolchain, self.go) {
            (Some((t, line)), _) if t != "default" => (t.strip_prefix("go").unwrap_or(t), line),
            (_, Some((g, line))) if go_minor(g).is_some_and(|m| m >= 21) => (g, line),
            _ => return None,
        };
        let Some(version) = stdlib_version(raw) else {
            warnings
                .push(Diagnostic::new(input.display, format!("unreadable Go version {raw:?}")).at_line(line));
            return None;
        };
        let mut p = Package::new(Ecosystem::Go, "stdlib", version);
        p.locations.push(Location { start_line: line, end_line: line });
        Some(p)
    }
}

/// Reads the directives; lines it cannot make sense of become warnings, and
/// a file with nothing but such lines is not a go.mod at all.
fn read<'a>(
    text: &'a str,
    input: &Input<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<GoMod<'a>, CatalogError> {
    let mut module = GoMod::default();
    let mut recognized = false;
    let mut block: Option<(&'static str, u32)> = None;
    let first_warning = warnings.len();

    for (no, raw) in (1u32..).zip(text.lines()) {
        let (code, comment) = split_comment(raw);
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        let mut warn = |msg: String| warnings.push(Diagnostic::new(input.display, msg).at_line(no));
        let Some(tokens) = tokenize(code) else {
            warn("unterminated quoted string".into());
            continue;
        };
        let indirect = comment.is_some_and(|c| {
            let c = c.trim();
            c == "indirect" || c.starts_with("indirect;")
        });
        if let Some((verb, _)) = block {
            if tokens.len() == 1 && tokens[0] == ")" {
                block = None;
            } else {
                directive(&mut module, verb, &tokens, indirect, no).unwrap_or_else(&mut warn);
            }
            continue;
        }
        let Some(verb) = KNOWN.iter().copied().find(|k| *k == tokens[0]) else {
            warn(format!("unknown directive {:?}", tokens[0]));
            continue;
        };
        recognized = true;
        match &tokens[1..] {
            [open] if open == "(" => block = Some((verb, no)),
            [open, close] if open == "(" && close == ")" => {}
            args => {
                if verb == "go" || verb == "toolchain" {
                    // Borrow the version straight from the text: it outlives `tokens`.
                    let Some(version) = code.split_whitespace().nth(1).filter(|_| args.len() == 1) else {
                        warn(format!("{verb} directive needs one version"));
                        continue;
                    };
                    let slot = if verb == "go" { &mut module.go } else { &mut module.toolchain };
                    *slot = Some((version, no));
                } else {
                    directive(&mut module, verb, args, indirect, no).unwrap_or_else(&mut warn);
                }
            }
        }
    }
    if let Some((verb, line)) = block {
        warnings.push(Diagnostic::new(input.display, format!("{verb} block is never closed")).at_line(line));
    }
    if !recognized && let Some(first) = warnings.get(first_warning) {
        return Err(CatalogError::malformed(
            input,
            first.line,
            format!("not a go.mod file: {}", first.message),
        ));
    }
    Ok(module)
}

const KNOWN: [&str; 10] =
    ["module", "go", "toolchain", "godebug", "require", "replace", "exclude", "retract", "tool", "ignore"];

/// One `require` or `replace` (the directives that shape the package list).
fn directive<'a>(
    module: &mut GoMod<'a>,
    verb: &str,
    args: &[Cow<'a, str>],
    indirect: bool,
    line: u32,
) -> Result<(), String> {
    match verb {
        "require" => match args {
            [path, version] => {
                module.requires.push(Require {
                    path: path.clone(),
                    version: version.clone(),
                    indirect,
                    line,
                });
                Ok(())
            }
            _ => Err("require needs a module path and a version".into()),
        },
        "replace" => {
            let arrow = args.iter().position(|a| a == "=>").ok_or("replace needs =>")?;
            let (old, new) = (&args[..arrow], &args[arrow + 1..]);
            let (old_path, version) = match old {
                [p] => (p, None),
                [p, v] => (p, Some(v.clone())),
                _ => return Err("replace needs a module path and an optional version before =>".into()),
            };
            let (new_path, new_version) = match new {
                [p] => (p.clone(), None),
                [p, v] => (p.clone(), Some(v.clone())),
                _ => return Err("replace needs a module path and version, or a directory, after =>".into()),
            };
            module.replaces.entry(old_path.clone()).or_default().push(Replace {
                version,
                new_path,
                new_version,
            });
            Ok(())
        }
        // Exclusions only matter to version selection, already done.
        "module" | "go" | "toolchain" | "godebug" | "exclude" | "retract" | "tool" | "ignore" => Ok(()),
        _ => Err(format!("unknown directive {verb:?}")),
    }
}

/// Splits off a `//` comment (not inside quotes).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (None, b'"' | b'`') => quote = Some(bytes[i]),
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), b) if b == q => quote = None,
            (None, b'/') if bytes.get(i + 1) == Some(&b'/') => return (&line[..i], Some(&line[i + 2..])),
            _ => {}
        }
        i += 1;
    }
    (line, None)
}

/// Words of a directive line; quoted strings (`"a b"`, `` `a b` ``) are one
/// word, unquoted. `None` if a quote is never closed.
fn tokenize(code: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut out = Vec::new();
    let mut rest = code.trim_start();
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix('`') {
            let end = body.find('`')?;
            out.push(Cow::Borrowed(&body[..end]));
            rest = &body[end + 1..];
        } else if rest.starts_with('"') {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while *bytes.get(i)? != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            let quoted = rest.get(..=i)?;
            out.push(Cow::Owned(serde_json::from_str(quoted).ok()?));
            rest = &rest[i + 1..];
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            // `require(` and `)` are tokens of their own.
            match word.strip_suffix('(') {
                Some(head) if !head.is_empty() => {
                    out.push(Cow::Borrowed(head));
                    out.push(Cow::Borrowed("("));
                }
                _ => out.push(Cow::Borrowed(word)),
            }
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    (!out.is_empty()).then_some(out)
}

/// The minor version of a `go` directive (`1.16` → 16); Go 1.x only.
fn go_minor(version: &str) -> Option<u32> {
    let rest = version.strip_prefix("1.")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).map_or(rest, |i| &rest[..i]);
    digits.parse().ok()
}

/// A Go release as semver: `1.21` → `1.21.0`, `1.21rc2` → `1.21.0-rc.2`,
/// `1.23.6-custom` → `1.23.6` (a toolchain's build suffix).
pub(crate) fn stdlib_version(raw: &str) -> Option<String> {
    let raw = raw.split(['-', '+']).next()?;
    let split = raw.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(raw.len());
    let (release, pre) = raw.split_at(split);
    let parts: Vec<&str> = release.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut version = parts.join(".");
    for _ in parts.len()..3 {
        version.push_str(".0");
    }
    if !pre.is_empty() {
        let digits = pre.find(|c: char| c.is_ascii_digit())?;
        let (kind, n) = pre.split_at(digits);
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        version.push_str(&format!("-{kind}.{n}"));
    }
    Some(version)
}

/// Modules `go.sum` beside the file holds full checksums for (those it only
/// has `/go.mod` checksums for were consulted, not built), the highest
/// version of each: `go mod tidy` writes versions in ascending order.
fn go_sum(input: &Input<'_>, warnings: &mut Vec<Diagnostic>) -> Vec<(String, String)> {
    let Some(Sibling { display, text }) = read_sibling(input, "go.sum", warnings) else {
        return Vec::new();
    };
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, String> = HashMap::new();
    for (no, line) in (1u32..).zip(text.lines()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [_, version, _] if version.ends_with("/go.mod") => {}
            [module, version, _] => {
                if latest.insert(module.to_string(), version.to_string()).is_none() {
                    order.push(module.to_string());
                }
            }
            _ => warnings.push(Diagnostic::new(display.clone(), "expected: module version hash").at_line(no)),
        }
    }
    order.into_iter().filter_map(|m| latest.remove(&m).map(|v| (m, v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_versions_follow_osv() {
        assert_eq!(stdlib_version("1.21").as_deref(), Some("1.21.0"));
        assert_eq!(stdlib_version("1.21.3").as_deref(), Some("1.21.3"));
        assert_eq!(stdlib_version("1.22rc1").as_deref(), Some("1.22.0-rc.1"));
        assert_eq!(stdlib_version("1.23.6-xyz").as_deref(), Some("1.23.6"));
        assert_eq!(stdlib_version("1.x"), None);
        assert_eq!(stdlib_version("1.21beta"), None);
    }

    #[test]
    fn comments_and_quotes() {
        assert_eq!(split_comment("a b // indirect"), ("a b ", Some(" indirect")));
        assert_eq!(split_comment("\"a//b\" v1 // x"), ("\"a//b\" v1 ", Some(" x")));
        let words = tokenize("require(").unwrap();
        assert_eq!(words, ["require", "("]);
        let words = tokenize("\"example.com/a b\" `v1.0.0`").unwrap();
        assert_eq!(words, ["example.com/a b", "v1.0.0"]);
        assert!(tokenize("\"open").is_none());
    }

    #[test]
    fn go_minors() {
        assert_eq!(go_minor("1.16"), Some(16));
        assert_eq!(go_minor("1.21rc1"), Some(21));
        assert_eq!(go_minor("2.0"), None);
    }
}
