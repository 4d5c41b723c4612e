//! RubyGems `Gem::Version`: dot-separated numbers and letter runs; any letter
//! makes a prerelease, which sorts before the release (`1.0.a` < `1.0`).

use std::cmp::Ordering;

use crate::util::{cmp_digits, split_run};

#[derive(Clone, Debug)]
pub(crate) struct GemVersion<'a> {
    /// Canonical segments: trailing zeros of the numeric part and of the
    /// prerelease part dropped, so `1.0` equals `1` and `1.0.a` equals `1.a`.
    segments: Vec<Seg<'a>>,
}

#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    Num(&'a str),
    Str(&'a str),
}

impl Seg<'_> {
    fn is_zero(self) -> bool {
        matches!(self, Seg::Num(d) if d.bytes().all(|b| b == b'0'))
    }
}

/// `N(.ALNUM)*` optionally followed by `-ident(.ident)*`, as Gem::Version accepts.
fn validate(s: &str) -> Result<(), String> {
    let (head, tail) = match s.split_once('-') {
        Some((head, tail)) => (head, Some(tail)),
        None => (s, None),
    };
    let (first, rest) = split_run(head, |b| b.is_ascii_digit());
    if first.is_empty() {
        return Err("must start with a number".into());
    }
    if !rest.is_empty() {
        let rest = rest.strip_prefix('.').ok_or_else(|| format!("unexpected {rest:?}"))?;
        if rest.split('.').any(|seg| seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(format!("malformed segment in {head:?}"));
        }
    }
    if let Some(tail) = tail
        && tail
            .split('.')
            .any(|seg| seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(format!("malformed prerelease {tail:?}"));
    }
    Ok(())
}

pub(crate) fn parse(input: &str) -> Result<GemVersion<'_>, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty version".into());
    }
    validate(s)?;
    // Gem::Version reads `-` as `.pre.`.
    let mut raw = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.bytes().next() {
        if c.is_ascii_digit() {
            let (digits, after) = split_run(rest, |b| b.is_ascii_digit());
            raw.push(Seg::Num(digits));
            rest = after;
        } else if c.is_ascii_alphabetic() {
            let (letters, after) = split_run(rest, |b| b.is_ascii_alphabetic());
            raw.push(Seg::Str(letters));
            rest = after;
        } else {
            if c == b'-' {
                raw.push(Seg::Str("pre"));
            }
            rest = &rest[1..];
        }
    }
    let split = raw.iter().position(|s| matches!(s, Seg::Str(_))).unwrap_or(raw.len());
    let mut prerelease = raw.split_off(split);
    for part in [&mut raw, &mut prerelease] {
        while part.last().is_some_and(|s| s.is_zero()) {
            part.pop();
        }
    }
    raw.append(&mut prerelease);
    Ok(GemVersion { segments: raw })
}

impl GemVersion<'_> {
    pub(crate) fn compare(&self, other: &GemVersion<'_>) -> Ordering {
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let a = self.segments.get(i).copied().unwrap_or(Seg::Num("0"));
            let b = other.segments.get(i).copied().unwrap_or(Seg::Num("0"));
            let ord = match (a, b) {
                (Seg::Num(x), Seg::Num(y)) => cmp_digits(x, y),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
                (Seg::Str(x), Seg::Str(y)) => x.cmp(y),
            };
            if ord.is_ne() {
                return ord;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn orders_like_gem_version() {
        let chain = ["1.0.a", "1.0.a2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.1"];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(cmp("1.0.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0.a", "1.a"), Ordering::Equal);
        assert_eq!(cmp("1.0-1", "1.0.pre.1"), Ordering::Equal);
        assert_eq!(cmp("1.0-1", "1.0"), Ordering::Less);
        assert_eq!(cmp(" 2.7.1 ", "2.7.1"), Ordering::Equal);
        assert_eq!(cmp("1.10", "1.9"), Ordering::Greater);
    }

    #[test]
    fn rejects() {
        for bad in ["", "a", "1..2", "1.0-", "1.0_1", "v1.0", "1.0-a..b"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
