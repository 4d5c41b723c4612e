//! SemVer 2.0 precedence, with the strict SemVer and Go module spellings.
//!
//! npm, Go and plain SemVer differ only in what they accept, not in how they
//! order, so all three parse into [`Sv`] and share one comparison.

use std::cmp::Ordering;

use crate::util::{cmp_digits, is_digits, split_run};

/// A parsed SemVer-like version; numbers are digit slices so they never overflow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sv<'a> {
    pub major: &'a str,
    pub minor: &'a str,
    pub patch: &'a str,
    pub pre: Pre<'a>,
}

/// Prerelease identifiers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pre<'a> {
    None,
    /// Dot-separated identifiers as written (`alpha.1`).
    Dotted(&'a str),
    /// Two identifiers that were glued in the input (Go's `1.21rc2` is `rc.2`).
    Pair(&'a str, &'a str),
}

impl<'a> Pre<'a> {
    fn is_none(self) -> bool {
        matches!(self, Pre::None)
    }

    fn idents(self) -> impl Iterator<Item = &'a str> {
        let (dotted, pair) = match self {
            Pre::None => (None, [None, None]),
            Pre::Dotted(s) => (Some(s.split('.')), [None, None]),
            Pre::Pair(a, b) => (None, [Some(a), Some(b)]),
        };
        dotted.into_iter().flatten().chain(pair.into_iter().flatten())
    }
}

impl Sv<'_> {
    /// SemVer 2.0 §11 precedence; build metadata never takes part.
    pub(crate) fn cmp_precedence(&self, other: &Sv<'_>) -> Ordering {
        cmp_digits(self.major, other.major)
            .then_with(|| cmp_digits(self.minor, other.minor))
            .then_with(|| cmp_digits(self.patch, other.patch))
            .then_with(|| match (self.pre.is_none(), other.pre.is_none()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre_idents(self.pre.idents(), other.pre.idents(), cmp_ident),
            })
    }
}

/// Compares identifier lists pairwise; a list that is a prefix of the other is lower.
pub(crate) fn cmp_pre_idents<'x>(
    mut a: impl Iterator<Item = &'x str>,
    mut b: impl Iterator<Item = &'x str>,
    cmp: impl Fn(&str, &str) -> Ordering,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match cmp(x, y) {
                Ordering::Equal => {}
                ord => return ord,
            },
        }
    }
}

/// One prerelease identifier: numeric ones compare by value and sort before
/// alphanumeric ones, which compare by ASCII.
pub(crate) fn cmp_ident(a: &str, b: &str) -> Ordering {
    match (is_digits(a), is_digits(b)) {
        (true, true) => cmp_digits(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Checks dot-separated identifiers; `strict_numeric` rejects numeric ones with leading zeros.
pub(crate) fn check_idents(s: &str, what: &str, strict_numeric: bool) -> Result<(), String> {
    for ident in s.split('.') {
        if ident.is_empty() {
            return Err(format!("empty {what} identifier"));
        }
        if !ident.bytes().all(is_ident_byte) {
            return Err(format!("invalid character in {what} identifier {ident:?}"));
        }
        if strict_numeric && ident.len() > 1 && ident.starts_with('0') && is_digits(ident) {
            return Err(format!("numeric {what} identifier {ident:?} has a leading zero"));
        }
    }
    Ok(())
}

/// A numeric core component: digits without leading zeros.
fn check_number(s: &str) -> Result<(), String> {
    if !is_digits(s) {
        Err(format!("expected a number, found {s:?}"))
    } else if s.len() > 1 && s.starts_with('0') {
        Err(format!("number {s:?} has a leading zero"))
    } else {
        Ok(())
    }
}

/// Splits off `+build` and `-pre`, validating both.
fn split_pre_build<'a>(s: &'a str) -> Result<(&'a str, Pre<'a>), String> {
    let core = match s.split_once('+') {
        Some((core, build)) => {
            check_idents(build, "build", false)?;
            core
        }
        None => s,
    };
    match core.split_once('-') {
        Some((core, pre)) => {
            check_idents(pre, "prerelease", true)?;
            Ok((core, Pre::Dotted(pre)))
        }
        None => Ok((core, Pre::None)),
    }
}

/// Strict SemVer 2.0: `MAJOR.MINOR.PATCH[-pre][+build]`, a leading `v` tolerated.
pub(crate) fn parse_strict(input: &str) -> Result<Sv<'_>, String> {
    let s = input.strip_prefix('v').unwrap_or(input);
    let (core, pre) = split_pre_build(s)?;
    let mut parts = core.split('.');
    let (Some(major), Some(minor), Some(patch), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected MAJOR.MINOR.PATCH".into());
    };
    for n in [major, minor, patch] {
        check_number(n)?;
    }
    Ok(Sv { major, minor, patch, pre })
}

/// Go module versions (`v1.2.3`, `v1.2` = `v1.2.0`, pseudo-versions,
/// `+incompatible`) with the `v` optional because OSV drops it, plus Go
/// toolchain versions (`go1.21.3`, `1.21rc2` = `1.21.0-rc.2`).
pub(crate) fn parse_go(input: &str) -> Result<Sv<'_>, String> {
    if let Some(toolchain) = input.strip_prefix("go") {
        return parse_toolchain(toolchain)?.ok_or_else(|| "invalid Go toolchain version".into());
    }
    if let Some(sv) = parse_toolchain(input)? {
        return Ok(sv);
    }
    let s = input.strip_prefix('v').unwrap_or(input);
    let (major, rest) = split_run(s, |b| b.is_ascii_digit());
    check_number(major)?;
    // Go accepts the `vMAJOR` and `vMAJOR.MINOR` shorthands, but only bare.
    let Some(rest) = rest.strip_prefix('.') else {
        return if rest.is_empty() {
            Ok(Sv { major, minor: "0", patch: "0", pre: Pre::None })
        } else {
            Err("prerelease or build needs MAJOR.MINOR.PATCH".into())
        };
    };
    let (minor, rest) = split_run(rest, |b| b.is_ascii_digit());
    check_number(minor)?;
    let Some(rest) = rest.strip_prefix('.') else {
        return if rest.is_empty() {
            Ok(Sv { major, minor, patch: "0", pre: Pre::None })
        } else {
            Err("prerelease or build needs MAJOR.MINOR.PATCH".into())
        };
    };
    let (patch, rest) = split_run(rest, |b| b.is_ascii_digit());
    check_number(patch)?;
    if !rest.is_empty() && !rest.starts_with(['-', '+']) {
        return Err(format!("unexpected {rest:?} after the patch number"));
    }
    let (_, pre) = split_pre_build(rest)?;
    Ok(Sv { major, minor, patch, pre })
}

/// Go toolchain spelling `1.N[.P][(alpha|beta|rc)K]`; `Ok(None)` when the input
/// is not in that spelling (a `v`-prefixed module version, say).
fn parse_toolchain(s: &str) -> Result<Option<Sv<'_>>, String> {
    let Some(suffix_at) = s.find(|c: char| c.is_ascii_lowercase()) else {
        // Without a letter it is also a plain version; let the module parser decide,
        // except after a `go` prefix, where `1.21` must be accepted here.
        return Ok(toolchain_numbers(s).map(|(major, minor, patch)| Sv {
            major,
            minor,
            patch,
            pre: Pre::None,
        }));
    };
    let (numbers, suffix) = s.split_at(suffix_at);
    let Some((major, minor, patch)) = toolchain_numbers(numbers) else {
        return Ok(None);
    };
    let (kind, n) = split_run(suffix, |b| b.is_ascii_lowercase());
    if !matches!(kind, "alpha" | "beta" | "rc") || !is_digits(n) {
        return Err(format!("unknown Go toolchain suffix {suffix:?}"));
    }
    Ok(Some(Sv { major, minor, patch, pre: Pre::Pair(kind, n) }))
}

fn toolchain_numbers(s: &str) -> Option<(&str, &str, &str)> {
    let mut parts = s.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    let patch = parts.next().unwrap_or("0");
    let valid = parts.next().is_none() && [major, minor, patch].iter().all(|n| check_number(n).is_ok());
    valid.then_some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(a: &str, b: &str) -> Ordering {
        parse_strict(a).unwrap().cmp_precedence(&parse_strict(b).unwrap())
    }

    fn go(a: &str, b: &str) -> Ordering {
        parse_go(a).unwrap().cmp_precedence(&parse_go(b).unwrap())
    }

    #[test]
    fn semver_spec_precedence_chain() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(strict(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn semver_ignores_build_and_v() {
        assert_eq!(strict("1.2.3+build.5", "1.2.3"), Ordering::Equal);
        assert_eq!(strict("v1.2.3", "1.2.3"), Ordering::Equal);
        assert_eq!(strict("1.2.3-x.7.z.92", "1.2.3-x.7.z.100"), Ordering::Less);
        assert_eq!(strict("18446744073709551616.0.0", "18446744073709551615.0.0"), Ordering::Greater);
    }

    #[test]
    fn semver_rejects() {
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3 ",
            "a.b.c",
        ] {
            assert!(parse_strict(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn go_versions() {
        assert_eq!(go("v1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(go("v2.0.0+incompatible", "v2.0.0"), Ordering::Equal);
        assert_eq!(go("v0.0.0-20210101000000-abcdefabcdef", "v0.0.1"), Ordering::Less);
        assert_eq!(go("v1.2.4-0.20210101000000-abcdefabcdef", "v1.2.3"), Ordering::Greater);
        assert_eq!(go("v1.2.4-0.20210101000000-abcdefabcdef", "v1.2.4"), Ordering::Less);
        assert!(parse_go("v1-pre").is_err());
        assert!(parse_go("v1.2.3.4").is_err());
        assert!(parse_go("latest").is_err());
    }

    #[test]
    fn go_toolchain_versions() {
        assert_eq!(go("go1.21rc2", "1.21.0-rc.2"), Ordering::Equal);
        assert_eq!(go("go1.21rc2", "go1.21rc10"), Ordering::Less);
        assert_eq!(go("go1.21beta1", "1.21rc1"), Ordering::Less);
        assert_eq!(go("go1.21rc2", "go1.21.0"), Ordering::Less);
        assert_eq!(go("go1.21", "1.21.0"), Ordering::Equal);
        assert_eq!(go("go1.21.3", "v1.21.3"), Ordering::Equal);
        assert_eq!(go("1.9.2rc2", "1.9.2"), Ordering::Less);
        assert!(parse_go("go1.21xx1").is_err());
        assert!(parse_go("go").is_err());
    }
}
