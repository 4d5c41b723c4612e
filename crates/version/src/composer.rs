//! Composer (Packagist) versions: normalized the way `composer/semver`'s
//! `VersionParser::normalize` does (`v1.2` → `1.2.0.0`, `1.0-b2` →
//! `1.0.0.0-beta2`, `1.x-dev` → `1.9999999.9999999.9999999-dev`), then ordered
//! like PHP's `version_compare`: dev < alpha < beta < RC < release < patch.

use std::cmp::Ordering;

use crate::util::{cmp_digits, split_run};

#[derive(Clone, Debug)]
pub(crate) struct ComposerVersion {
    normalized: String,
}

pub(crate) fn parse(input: &str) -> Result<ComposerVersion, String> {
    normalize(input).map(|normalized| ComposerVersion { normalized })
}

/// Stability words in the order Composer's pattern tries them.
const STABILITIES: [&str; 9] = ["stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p"];

fn strip_ci<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let head = s.get(..word.len())?;
    head.eq_ignore_ascii_case(word).then(|| &s[word.len()..])
}

fn normalize(input: &str) -> Result<String, String> {
    let mut v = input.trim();
    // `1.0.x-dev as 1.0.0` is an inline alias: the real version comes first.
    if let Some((real, alias)) = v.split_once(" as ") {
        let plain = |s: &str| !s.is_empty() && !s.contains(|c: char| c == ',' || c.is_whitespace());
        if plain(real.trim_end()) && plain(alias.trim_start()) {
            v = real.trim_end();
        }
    }
    if let Some(at) = v.rfind('@') {
        let flag = &v[at + 1..];
        if ["stable", "rc", "beta", "alpha", "dev"].iter().any(|s| flag.eq_ignore_ascii_case(s)) {
            v = &v[..at];
        }
    }
    if let Some((head, build)) = v.split_once('+')
        && !head.is_empty()
        && !head.contains(|c: char| c == ',' || c.is_whitespace())
        && !build.is_empty()
        && !build.contains(char::is_whitespace)
    {
        v = head;
    }
    let lower = v.to_ascii_lowercase();
    let branch = lower.strip_prefix("dev-").unwrap_or(&lower);
    if matches!(branch, "master" | "trunk" | "default") {
        return Ok("9999999-dev".into());
    }
    if lower.starts_with("dev-") {
        return Err("a dev branch has no version order".into());
    }
    if let Some(normalized) = classical(v).or_else(|| date(v)) {
        return Ok(normalized);
    }
    if lower.ends_with("dev") {
        let name = &v[..v.len() - 3];
        let name = name.strip_suffix(['.', '-']).unwrap_or(name);
        if let Some(normalized) = branch_version(name) {
            return Ok(normalized);
        }
        return Err("a dev branch has no version order".into());
    }
    Err("not a Composer version".into())
}

/// `v?N{1,5}(.N){0,3}` plus the stability modifier.
fn classical(v: &str) -> Option<String> {
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let (major, mut rest) = split_run(s, |b| b.is_ascii_digit());
    if major.is_empty() || major.len() > 5 {
        return None;
    }
    let mut version = major.to_owned();
    for _ in 0..3 {
        match rest.strip_prefix('.').map(|r| split_run(r, |b| b.is_ascii_digit())) {
            Some((digits, after)) if !digits.is_empty() => {
                version.push('.');
                version.push_str(digits);
                rest = after;
            }
            _ => version.push_str(".0"),
        }
    }
    with_modifier(version, rest)
}

/// Date versions: `YYYY` then up to six two-digit and two short groups.
fn date(v: &str) -> Option<String> {
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let year = s.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
    let mut version = year.to_owned();
    let mut rest = &s[4..];
    let mut group = |rest: &mut &str, min: usize, max: usize| -> bool {
        let unsep = rest.strip_prefix(['.', ':', '-']).unwrap_or(rest);
        let digits = unsep.bytes().take_while(u8::is_ascii_digit).count().min(max);
        if digits < min {
            return false;
        }
        version.push('.');
        version.push_str(&unsep[..digits]);
        *rest = &unsep[digits..];
        true
    };
    let pairs = (0..6).take_while(|_| group(&mut rest, 2, 2)).count();
    if pairs == 0 {
        return None;
    }
    for _ in 0..2 {
        if !group(&mut rest, 1, 3) {
            break;
        }
    }
    with_modifier(version, rest)
}

/// Appends the normalized `[._-]?(stability[numbers])?([.-]?dev)?` suffix; `rest` must be all of it.
fn with_modifier(mut version: String, rest: &str) -> Option<String> {
    let mut r = rest.strip_prefix(['.', '_', '-']).unwrap_or(rest);
    let mut stability = None;
    if let Some((word, after)) = STABILITIES.iter().find_map(|w| strip_ci(r, w).map(|after| (*w, after))) {
        let mut numbers = String::new();
        let mut after = after;
        loop {
            let unsep = after.strip_prefix(['.', '-']).unwrap_or(after);
            let (digits, next) = split_run(unsep, |b| b.is_ascii_digit());
            if digits.is_empty() {
                break;
            }
            numbers.push_str(&after[..after.len() - next.len()]);
            after = next;
        }
        let word_as_written = &r[..word.len()];
        stability = Some((word_as_written, numbers));
        r = after;
    }
    let dev = match strip_ci(r.strip_prefix(['.', '-']).unwrap_or(r), "dev") {
        Some("") => true,
        _ if r.is_empty() => false,
        _ => return None,
    };
    if let Some((word, numbers)) = stability {
        if word == "stable" {
            return Some(version);
        }
        let expanded = match word.to_ascii_lowercase().as_str() {
            "a" => "alpha".to_owned(),
            "b" => "beta".to_owned(),
            "p" | "pl" => "patch".to_owned(),
            "rc" => "RC".to_owned(),
            other => other.to_owned(),
        };
        version.push('-');
        version.push_str(&expanded);
        version.push_str(numbers.trim_start_matches(['.', '-']));
    }
    if dev {
        version.push_str("-dev");
    }
    Some(version)
}

/// A branch like `1.0.x` or `2.*`: wildcards become 9999999.
fn branch_version(name: &str) -> Option<String> {
    let s = name.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let mut parts = s.split('.');
    let major = parts.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
    let mut version = major.to_owned();
    for _ in 0..3 {
        match parts.next() {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                version.push('.');
                version.push_str(p);
            }
            Some("x" | "X" | "*") | None => version.push_str(".9999999"),
            Some(_) => return None,
        }
    }
    parts.next().is_none().then(|| version + "-dev")
}

/// PHP's special forms: any other word < dev < alpha < beta < RC < number < patch.
fn special_order(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS.iter().find(|(form, _)| word.starts_with(form)).map_or(-1, |(_, order)| *order)
}

/// The parts PHP compares: runs of digits and runs of letters.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
        let first = rest.bytes().next()?;
        let (token, after) = if first.is_ascii_digit() {
            split_run(rest, |b| b.is_ascii_digit())
        } else {
            split_run(rest, |b| b.is_ascii_alphabetic())
        };
        rest = after;
        Some(token)
    })
}

fn is_number(token: &str) -> bool {
    token.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

impl ComposerVersion {
    pub(crate) fn compare(&self, other: &ComposerVersion) -> Ordering {
        let order = |t: &str| if is_number(t) { special_order("#") } else { special_order(t) };
        let mut a = tokens(&self.normalized);
        let mut b = tokens(&other.normalized);
        loop {
            let ord = match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (Some(x), Some(y)) if is_number(x) && is_number(y) => cmp_digits(x, y),
                (Some(x), Some(y)) => order(x).cmp(&order(y)),
                // A longer version wins with a number and loses with a pre-release word.
                (Some(x), None) => order(x).cmp(&special_order("#")).then(Ordering::Greater),
                (None, Some(y)) => special_order("#").cmp(&order(y)).then(Ordering::Less),
            };
            if ord.is_ne() {
                return ord;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_composer() {
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("v1.2", "1.2.0.0"),
            ("1.0-beta2", "1.0.0.0-beta2"),
            ("1.0.0-b.2", "1.0.0.0-beta2"),
            ("1.0RC1", "1.0.0.0-RC1"),
            ("1.0.0-alpha3-dev", "1.0.0.0-alpha3-dev"),
            ("1.0-pl3", "1.0.0.0-patch3"),
            ("1.0.0-stable", "1.0.0.0"),
            ("1.0.0+build.1", "1.0.0.0"),
            ("1.0.0@beta", "1.0.0.0"),
            ("1.2.x-dev", "1.2.9999999.9999999-dev"),
            ("dev-master", "9999999-dev"),
            ("20240101", "2024.01.01"),
            ("2024-01-01-12", "2024.01.01.12"),
            ("1.0.x-dev as 1.0.0", "1.0.9999999.9999999-dev"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), Ok(want), "{input}");
        }
        for bad in ["", "dev-feature/foo", "1.0.0.0.0", "foo", "1.0-beta-x", "v"] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn orders_like_version_compare() {
        let chain = ["1.0-dev", "1.0-alpha1", "1.0-beta1", "1.0-beta2", "1.0-RC1", "1.0", "1.0-p1", "1.0.1"];
        let parsed: Vec<_> = chain.iter().map(|v| parse(v).unwrap()).collect();
        for (i, pair) in parsed.windows(2).enumerate() {
            assert_eq!(pair[0].compare(&pair[1]), Ordering::Less, "{} < {}", chain[i], chain[i + 1]);
        }
        assert_eq!(parse("v1.0").unwrap().compare(&parse("1.0.0.0").unwrap()), Ordering::Equal);
    }
}
