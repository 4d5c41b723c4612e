//! Alpine apk versions: `N(.N)*[a-z](_suffix[N])*[~hash][-rN]`.
//!
//! Pre-release suffixes (`_alpha`, `_beta`, `_pre`, `_rc`) sort before the
//! bare version and post-release ones (`_cvs`, `_svn`, `_git`, `_hg`, `_p`)
//! after it. Like apk, comparison reads versions with a malformed tail up to
//! the malformed part; [`is_valid_apk`] tells whether apk would accept it.

use std::cmp::Ordering;

use crate::util::{cmp_digits, split_run};
use crate::{Scheme, VersionError};

#[derive(Clone, Copy, Debug)]
pub(crate) struct ApkVersion<'a>(&'a str);

/// Suffixes in order; the unsuffixed version sits between `rc` and `cvs`.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
const FIRST_POST_SUFFIX: usize = 4;

/// Token kinds in the order apk ranks them when two versions diverge: at
/// the first differing kind, the version with the later kind is older.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Hash,
    Revision,
    End,
    Invalid,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    first: bool,
}

impl Token<'_> {
    fn suffix_rank(&self) -> usize {
        SUFFIXES.iter().position(|s| *s == self.text).unwrap_or(FIRST_POST_SUFFIX)
    }

    fn is_pre_release_suffix(&self) -> bool {
        self.kind == Kind::Suffix && self.suffix_rank() < FIRST_POST_SUFFIX
    }

    /// Orders two tokens of the same kind.
    fn cmp_value(&self, other: &Token<'_>) -> Ordering {
        match self.kind {
            // Later components with a leading zero compare as text (`1.02` < `1.1`).
            Kind::Digit if !self.first && (self.text.starts_with('0') || other.text.starts_with('0')) => {
                self.text.cmp(other.text)
            }
            Kind::Digit | Kind::SuffixNumber | Kind::Revision => cmp_digits(self.text, other.text),
            Kind::Suffix => self.suffix_rank().cmp(&other.suffix_rank()),
            Kind::Letter | Kind::Hash => self.text.cmp(other.text),
            Kind::End | Kind::Invalid => Ordering::Equal,
        }
    }
}

/// Reads tokens left to right; after `End` or `Invalid` it keeps returning that.
struct Tokens<'a> {
    rest: &'a str,
    last: Option<Kind>,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Tokens<'a> {
        Tokens { rest: s, last: None }
    }

    fn token(&mut self, kind: Kind, text: &'a str, rest: &'a str) -> Token<'a> {
        self.rest = rest;
        let first = self.last.is_none();
        self.last = Some(kind);
        Token { kind, text, first }
    }

    fn next(&mut self) -> Token<'a> {
        let rest = self.rest;
        let invalid = Token { kind: Kind::Invalid, text: rest, first: false };
        let Some(last) = self.last else {
            let (digits, after) = split_run(rest, |b| b.is_ascii_digit());
            if digits.is_empty() {
                self.last = Some(Kind::Invalid);
                return invalid;
            }
            return self.token(Kind::Digit, digits, after);
        };
        if matches!(last, Kind::End | Kind::Invalid) {
            return Token { kind: last, text: rest, first: false };
        }
        let Some(c) = rest.bytes().next() else {
            return self.token(Kind::End, "", "");
        };
        // What may follow each kind, in grammar order.
        let allowed = |kind: Kind| match last {
            Kind::Digit => true,
            Kind::Letter | Kind::SuffixNumber => kind >= Kind::Suffix,
            Kind::Suffix => kind >= Kind::Suffix,
            Kind::Hash => kind == Kind::Revision,
            _ => false,
        };
        let next = match c {
            b'.' if last == Kind::Digit => {
                let (digits, after) = split_run(&rest[1..], |b| b.is_ascii_digit());
                (!digits.is_empty()).then_some((Kind::Digit, digits, after))
            }
            b'a'..=b'z' if last == Kind::Digit => Some((Kind::Letter, &rest[..1], &rest[1..])),
            b'0'..=b'9' if last == Kind::Suffix => {
                let (digits, after) = split_run(rest, |b| b.is_ascii_digit());
                Some((Kind::SuffixNumber, digits, after))
            }
            b'_' if allowed(Kind::Suffix) => {
                let (name, after) = split_run(&rest[1..], |b| b.is_ascii_lowercase());
                SUFFIXES.contains(&name).then_some((Kind::Suffix, name, after))
            }
            b'~' if allowed(Kind::Hash) => {
                let (hash, after) = split_run(&rest[1..], |b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                (!hash.is_empty()).then_some((Kind::Hash, hash, after))
            }
            b'-' if allowed(Kind::Revision) => rest[1..].strip_prefix('r').and_then(|r| {
                let (digits, after) = split_run(r, |b| b.is_ascii_digit());
                (!digits.is_empty()).then_some((Kind::Revision, digits, after))
            }),
            _ => None,
        };
        match next {
            Some((kind, text, after)) => self.token(kind, text, after),
            None => {
                self.last = Some(Kind::Invalid);
                invalid
            }
        }
    }
}

/// True when apk accepts `version` as a package version.
pub fn is_valid_apk(version: &str) -> bool {
    let mut tokens = Tokens::new(version);
    loop {
        match tokens.next().kind {
            Kind::End => return true,
            Kind::Invalid => return false,
            _ => {}
        }
    }
}

/// A version must at least start with a number to be compared.
pub(crate) fn parse(input: &str) -> Result<ApkVersion<'_>, String> {
    match Tokens::new(input).next().kind {
        Kind::Invalid => Err("must start with a number".into()),
        _ => Ok(ApkVersion(input)),
    }
}

impl ApkVersion<'_> {
    pub(crate) fn compare(&self, other: &ApkVersion<'_>) -> Ordering {
        let (mut a, mut b) = (Tokens::new(self.0), Tokens::new(other.0));
        loop {
            let (x, y) = (a.next(), b.next());
            if x.kind == y.kind {
                if matches!(x.kind, Kind::End | Kind::Invalid) {
                    return Ordering::Equal;
                }
                let ord = x.cmp_value(&y);
                if ord.is_ne() {
                    return ord;
                }
                continue;
            }
            // Same so far: a pre-release suffix makes a version older; otherwise
            // the version whose next part ranks later (e.g. the one that ends) is.
            if x.is_pre_release_suffix() {
                return Ordering::Less;
            }
            if y.is_pre_release_suffix() {
                return Ordering::Greater;
            }
            return y.kind.cmp(&x.kind);
        }
    }

    /// apk's `~` dependency match: `version` starts with every part of `pattern`.
    fn fuzzy_matches(&self, pattern: &ApkVersion<'_>) -> bool {
        let (mut a, mut b) = (Tokens::new(self.0), Tokens::new(pattern.0));
        loop {
            let (x, y) = (a.next(), b.next());
            if y.kind == Kind::End {
                return true;
            }
            if x.kind != y.kind || x.kind == Kind::Invalid || x.cmp_value(&y).is_ne() {
                return false;
            }
        }
    }
}

/// apk's fuzzy version match (`pkg~1.2` in a dependency): true when `version`
/// equals `pattern` or extends it with more parts (`1.2.9`, `1.2_rc1`).
pub fn apk_fuzzy_match(version: &str, pattern: &str) -> Result<bool, VersionError> {
    let v = parse(version).map_err(|r| VersionError::new(Scheme::Apk, version, r))?;
    let p = parse(pattern).map_err(|r| VersionError::new(Scheme::Apk, pattern, r))?;
    Ok(v.fuzzy_matches(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn orders() {
        let chain = ["1.2_alpha", "1.2_beta2", "1.2_rc1", "1.2", "1.2-r1", "1.2_p1", "1.2a", "1.2.1", "1.10"];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(cmp("1.02", "1.1"), Ordering::Less);
        assert_eq!(cmp("1.2-r0", "1.2-r00"), Ordering::Equal);
    }

    #[test]
    fn validity_and_fuzzy() {
        assert!(is_valid_apk("1.2.3_git20240101~abc123-r4"));
        assert!(!is_valid_apk("1.2.3-r4~abc"));
        assert!(parse("r1").is_err());
        assert_eq!(apk_fuzzy_match("1.2.9", "1.2"), Ok(true));
        assert_eq!(apk_fuzzy_match("1.20", "1.2"), Ok(false));
        assert!(apk_fuzzy_match("x", "1").is_err());
    }
}
