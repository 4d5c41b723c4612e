//! npm's node-semver: strict and loose version parsing, and range satisfaction
//! (`^1.2.3`, `~1.2`, `>=1.0.0 <2.0.0`, `1.x`, `*`, `1 - 2`, `||`).
//!
//! Ranges desugar to sets of primitive comparators exactly as node-semver
//! does, so `Range`'s `Display` prints the same normalized form as its
//! `validRange()`; that form is what the prerelease rule inspects.

use std::cmp::Ordering;
use std::fmt;

use crate::semver::{Pre, Sv, check_idents, cmp_ident};
use crate::util::{is_digits, split_run};
use crate::{Scheme, VersionError};

/// node-semver's `MAX_LENGTH`: longer version strings are rejected.
const MAX_LENGTH: usize = 256;
/// node-semver stores numbers as JavaScript numbers and rejects unsafe ones.
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// node-semver's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept `=1.2.3`, `v 1.2.3`, `1.2.3beta`, leading zeros; drop invalid comparators.
    pub loose: bool,
    /// Let prereleases match ranges that do not name a prerelease of the same tuple.
    pub include_prerelease: bool,
}

/// Parses a version into borrowed parts; `loose` is node-semver's loose mode.
pub(crate) fn parse_parts(input: &str, loose: bool) -> Result<Sv<'_>, String> {
    if input.len() > MAX_LENGTH {
        return Err(format!("longer than {MAX_LENGTH} characters"));
    }
    let s = input.trim();
    let s = if loose {
        s.trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace())
    } else {
        s.strip_prefix('v').unwrap_or(s)
    };
    let (major, rest) = number(s, loose)?;
    let rest = rest.strip_prefix('.').ok_or("expected MAJOR.MINOR.PATCH")?;
    let (minor, rest) = number(rest, loose)?;
    let rest = rest.strip_prefix('.').ok_or("expected MAJOR.MINOR.PATCH")?;
    let (patch, rest) = number(rest, loose)?;
    let (pre, build) = match rest.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (rest, None),
    };
    if let Some(build) = build {
        check_idents(build, "build", false)?;
    }
    let pre = match pre.strip_prefix('-') {
        Some(pre) => Some(pre),
        None if pre.is_empty() => None,
        None if loose => Some(pre),
        None => return Err(format!("unexpected {pre:?} after the patch number")),
    };
    let pre = match pre {
        Some(pre) => {
            check_idents(pre, "prerelease", !loose)?;
            Pre::Dotted(pre)
        }
        None => Pre::None,
    };
    Ok(Sv { major, minor, patch, pre })
}

/// A leading number: strict mode forbids leading zeros; both forbid unsafe integers.
fn number(s: &str, loose: bool) -> Result<(&str, &str), String> {
    let (digits, rest) = split_run(s, |b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err(format!("expected a number at {s:?}"));
    }
    if !loose && digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("number {digits:?} has a leading zero"));
    }
    safe_number(digits)?;
    Ok((digits, rest))
}

fn safe_number(digits: &str) -> Result<u64, String> {
    match digits.parse::<u64>() {
        Ok(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err(format!("number {digits} is larger than {MAX_SAFE_INTEGER}")),
    }
}

/// One prerelease identifier, kept as node-semver keeps it: a number when it
/// is all digits and a safe integer, otherwise the text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PreId {
    Num(u64),
    Text(String),
}

impl PreId {
    fn new(ident: &str) -> PreId {
        match ident.parse::<u64>() {
            Ok(n) if is_digits(ident) && n < MAX_SAFE_INTEGER => PreId::Num(n),
            _ => PreId::Text(ident.to_owned()),
        }
    }

    fn cmp(&self, other: &PreId) -> Ordering {
        match (self, other) {
            (PreId::Num(a), PreId::Num(b)) => a.cmp(b),
            (PreId::Num(_), PreId::Text(b)) if !is_digits(b) => Ordering::Less,
            (PreId::Text(a), PreId::Num(_)) if !is_digits(a) => Ordering::Greater,
            _ => cmp_ident(&self.to_string(), &other.to_string()),
        }
    }
}

impl fmt::Display for PreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreId::Num(n) => write!(f, "{n}"),
            PreId::Text(t) => f.write_str(t),
        }
    }
}

/// An npm version, owned so ranges can build the bounds they desugar to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<PreId>,
}

impl Version {
    pub fn parse(version: &str, opts: Options) -> Result<Version, VersionError> {
        let err = |reason| VersionError::new(Scheme::Npm, version, reason);
        let sv = parse_parts(version, opts.loose).map_err(err)?;
        let num = |digits| safe_number(digits).map_err(err);
        let pre = match sv.pre {
            Pre::Dotted(pre) => pre.split('.').map(PreId::new).collect(),
            _ => Vec::new(),
        };
        Ok(Version { major: num(sv.major)?, minor: num(sv.minor)?, patch: num(sv.patch)?, pre })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// SemVer precedence (build metadata is not kept).
    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(
            || match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let mut a = self.pre.iter();
                    let mut b = other.pre.iter();
                    loop {
                        match (a.next(), b.next()) {
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                            (Some(x), Some(y)) => match x.cmp(y) {
                                Ordering::Equal => {}
                                ord => return ord,
                            },
                        }
                    }
                }
            },
        )
    }

    fn same_tuple(&self, other: &Version) -> bool {
        (self.major, self.minor, self.patch) == (other.major, other.minor, other.patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

/// Compares two npm versions.
pub fn compare(a: &str, b: &str, opts: Options) -> Result<Ordering, VersionError> {
    Ok(Version::parse(a, opts)?.compare(&Version::parse(b, opts)?))
}

/// True when `version` satisfies `range`; an invalid version or range is an error.
pub fn satisfies(version: &str, range: &str, opts: Options) -> Result<bool, VersionError> {
    let range = Range::parse(range, opts)?;
    Ok(range.test(&Version::parse(version, opts)?))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Comparator {
    /// Matches every version (`*`, `x`, an empty range).
    Any,
    Op(Op, Version),
}

impl Comparator {
    fn test(&self, v: &Version) -> bool {
        match self {
            Comparator::Any => true,
            Comparator::Op(op, bound) => {
                let ord = v.compare(bound);
                match op {
                    Op::Eq => ord == Ordering::Equal,
                    Op::Lt => ord == Ordering::Less,
                    Op::Le => ord != Ordering::Greater,
                    Op::Gt => ord == Ordering::Greater,
                    Op::Ge => ord != Ordering::Less,
                }
            }
        }
    }

    /// `<0.0.0-0`, which nothing satisfies.
    fn is_null(&self) -> bool {
        matches!(self, Comparator::Op(Op::Lt, v)
            if (v.major, v.minor, v.patch) == (0, 0, 0) && v.pre == [PreId::Num(0)])
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparator::Any => f.write_str("*"),
            Comparator::Op(op, v) => write!(f, "{}{v}", op.as_str()),
        }
    }
}

/// A parsed npm range: a version satisfies it when it satisfies every
/// comparator of at least one set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    sets: Vec<Vec<Comparator>>,
    include_prerelease: bool,
}

impl Range {
    pub fn parse(range: &str, opts: Options) -> Result<Range, VersionError> {
        let err = |reason: String| VersionError::new(Scheme::Npm, range, reason);
        let raw = range.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut sets = Vec::new();
        for part in raw.split("||") {
            if let Some(set) = parse_set(part.trim(), opts).map_err(err)? {
                sets.push(set);
            }
        }
        if sets.is_empty() {
            return Err(err("no valid comparator".into()));
        }
        if sets.len() > 1 {
            let first = sets[0].clone();
            sets.retain(|set| !set[0].is_null());
            if sets.is_empty() {
                sets.push(first);
            } else if let Some(any) = sets.iter().find(|set| set[..] == [Comparator::Any]) {
                sets = vec![any.clone()];
            }
        }
        Ok(Range { sets, include_prerelease: opts.include_prerelease })
    }

    /// True when `v` satisfies the range.
    pub fn test(&self, v: &Version) -> bool {
        self.sets.iter().any(|set| self.test_set(set, v))
    }

    fn test_set(&self, set: &[Comparator], v: &Version) -> bool {
        if !set.iter().all(|c| c.test(v)) {
            return false;
        }
        // A prerelease only matches a set that names a prerelease of its own
        // MAJOR.MINOR.PATCH, so `^1.2.3-pr.1` admits `1.2.3-pr.2` but not `1.2.4-pr.0`.
        !v.is_prerelease()
            || self.include_prerelease
            || set.iter().any(|c| matches!(c, Comparator::Op(_, b) if b.is_prerelease() && b.same_tuple(v)))
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, set) in self.sets.iter().enumerate() {
            if i > 0 {
                f.write_str("||")?;
            }
            for (j, c) in set.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Parses one `||`-separated set; `Ok(None)` when loose mode dropped every comparator.
fn parse_set(s: &str, opts: Options) -> Result<Option<Vec<Comparator>>, String> {
    let s = strip_build(s);
    let mut out = Out { comps: Vec::new(), opts };
    if !hyphen(&s, &mut out)? {
        for word in join_operators(&s) {
            expand_word(&word, &mut out)?;
        }
    }
    let mut set: Vec<Comparator> = Vec::new();
    for c in out.comps {
        if c.is_null() {
            return Ok(Some(vec![c]));
        }
        if !set.contains(&c) {
            set.push(c);
        }
    }
    if set.len() > 1 {
        set.retain(|c| *c != Comparator::Any);
    }
    Ok((!set.is_empty()).then_some(set))
}

/// Collects comparators; knows what to do with an invalid one.
struct Out {
    comps: Vec<Comparator>,
    opts: Options,
}

impl Out {
    /// `>=0.0.0` (or `>=0.0.0-0` with prereleases) means any version.
    fn push(&mut self, op: Op, v: Version) {
        let zero = (v.major, v.minor, v.patch) == (0, 0, 0);
        let gte0 = op == Op::Ge
            && zero
            && if self.opts.include_prerelease { v.pre == [PreId::Num(0)] } else { v.pre.is_empty() };
        self.comps.push(if gte0 { Comparator::Any } else { Comparator::Op(op, v) });
    }

    /// Loose mode silently drops comparators it cannot read; strict mode fails.
    fn invalid(&self, word: &str) -> Result<(), String> {
        if self.opts.loose { Ok(()) } else { Err(format!("invalid comparator {word:?}")) }
    }
}

/// Removes `+build` metadata everywhere, as node-semver does before parsing a range.
fn strip_build(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('+') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut end = ident_run(after);
        if end == 0 {
            out.push('+');
        } else {
            while after[end..].starts_with('.') && ident_run(&after[end + 1..]) > 0 {
                end += 1 + ident_run(&after[end + 1..]);
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn ident_run(s: &str) -> usize {
    s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count()
}

/// Splits a set on spaces, gluing `>= 1.2` into `>=1.2` and `~ 1.2`/`^ 1.2` into `~1.2`/`^1.2`.
fn join_operators(s: &str) -> Vec<String> {
    let glue = |words: Vec<String>, op: fn(&str) -> bool, next_ok: fn(&str) -> bool| {
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut words = words.into_iter().peekable();
        while let Some(word) = words.next() {
            match words.peek() {
                Some(next) if op(&word) && next_ok(next) => {
                    let next = words.next().unwrap_or_default();
                    out.push(word + &next);
                }
                _ => out.push(word),
            }
        }
        out
    };
    let words = s.split(' ').map(str::to_owned).collect();
    let words = glue(words, |w| matches!(w, "<" | ">" | "<=" | ">=" | "="), starts_plain);
    let words = glue(words, |w| matches!(w, "~" | "~>"), |_| true);
    glue(words, |w| w == "^", |_| true)
}

/// Whether a word starts like a (partial) version, after any `v`/`=` prefix.
fn starts_plain(w: &str) -> bool {
    let rest = w.trim_start_matches(['v', '=']);
    rest.starts_with(|c: char| c.is_ascii_digit() || matches!(c, 'x' | 'X' | '*'))
}

/// One identifier of a partial version: a number or a wildcard.
#[derive(Clone, Copy, Debug)]
enum Xid<'a> {
    X,
    Num(&'a str),
}

/// A partial version as ranges write it: `1`, `1.2`, `1.x`, `1.2.3-pre`.
#[derive(Clone, Copy, Debug)]
struct Partial<'a> {
    prefix: &'a str,
    major: Xid<'a>,
    minor: Option<Xid<'a>>,
    patch: Option<Xid<'a>>,
    pre: Option<&'a str>,
}

fn is_x(id: Option<Xid<'_>>) -> bool {
    !matches!(id, Some(Xid::Num(_)))
}

impl Partial<'_> {
    fn num(id: Option<Xid<'_>>) -> Result<u64, String> {
        match id {
            Some(Xid::Num(digits)) => safe_number(digits),
            _ => Ok(0),
        }
    }

    fn major(&self) -> Result<u64, String> {
        Partial::num(Some(self.major))
    }

    fn minor(&self) -> Result<u64, String> {
        Partial::num(self.minor)
    }

    fn patch(&self) -> Result<u64, String> {
        Partial::num(self.patch)
    }

    fn major_is_zero_text(&self) -> bool {
        matches!(self.major, Xid::Num("0"))
    }

    fn minor_is_zero_text(&self) -> bool {
        matches!(self.minor, Some(Xid::Num("0")))
    }

    /// The full version this partial names, when written with the prefix strict mode allows.
    fn full(&self, opts: Options) -> Option<Result<Version, String>> {
        if !opts.loose && !matches!(self.prefix, "" | "v") {
            return None;
        }
        let pre = self.pre.map(PreSpec::Text).unwrap_or(PreSpec::None);
        Some(self.major().and_then(|m| ver(m, self.minor()?, self.patch()?, pre)))
    }
}

/// The prerelease of a bound built while desugaring.
#[derive(Clone, Copy)]
enum PreSpec<'a> {
    None,
    /// `-0`, the lowest prerelease of a tuple.
    Zero,
    Text(&'a str),
}

fn ver(major: u64, minor: u64, patch: u64, pre: PreSpec<'_>) -> Result<Version, String> {
    for n in [major, minor, patch] {
        if n > MAX_SAFE_INTEGER {
            return Err(format!("number {n} is larger than {MAX_SAFE_INTEGER}"));
        }
    }
    let pre = match pre {
        PreSpec::None => Vec::new(),
        PreSpec::Zero => vec![PreId::Num(0)],
        PreSpec::Text(t) => t.split('.').map(PreId::new).collect(),
    };
    Ok(Version { major, minor, patch, pre })
}

/// Parses a whole string as a partial version (`[v=\s]*` prefix included).
fn parse_partial(s: &str, loose: bool) -> Option<Partial<'_>> {
    let (prefix, rest) = split_run(s, |b| b == b'v' || b == b'=' || b.is_ascii_whitespace());
    let (major, mut rest) = xid(rest, loose)?;
    let mut partial = Partial { prefix, major, minor: None, patch: None, pre: None };
    if let Some(r) = rest.strip_prefix('.') {
        let (minor, r) = xid(r, loose)?;
        partial.minor = Some(minor);
        rest = r;
        if let Some(r) = rest.strip_prefix('.') {
            let (patch, r) = xid(r, loose)?;
            partial.patch = Some(patch);
            let (pre, build) = match r.split_once('+') {
                Some((pre, build)) => (pre, Some(build)),
                None => (r, None),
            };
            if let Some(build) = build {
                check_idents(build, "build", false).ok()?;
            }
            let pre = match pre.strip_prefix('-') {
                Some(pre) => Some(pre),
                None if pre.is_empty() => None,
                None if loose => Some(pre),
                None => return None,
            };
            if let Some(pre) = pre {
                check_idents(pre, "prerelease", !loose).ok()?;
            }
            partial.pre = pre;
            rest = "";
        }
    }
    rest.is_empty().then_some(partial)
}

fn xid(s: &str, loose: bool) -> Option<(Xid<'_>, &str)> {
    if let Some(rest) = s.strip_prefix(['x', 'X', '*']) {
        return Some((Xid::X, rest));
    }
    let (digits, rest) = split_run(s, |b| b.is_ascii_digit());
    let bad = digits.is_empty() || (!loose && digits.len() > 1 && digits.starts_with('0'));
    (!bad).then_some((Xid::Num(digits), rest))
}

/// Desugars `a - b`; false when the set is not a hyphen range.
fn hyphen(s: &str, out: &mut Out) -> Result<bool, String> {
    let opts = out.opts;
    let Some((from_text, to_text)) = s.split_once(" - ") else {
        return Ok(false);
    };
    let (Some(from), Some(to)) = (parse_partial(from_text, opts.loose), parse_partial(to_text, opts.loose))
    else {
        return Ok(false);
    };
    let z = if opts.include_prerelease { PreSpec::Zero } else { PreSpec::None };
    let start = out.comps.len();
    if !is_x(Some(from.major)) {
        if is_x(from.minor) {
            out.push(Op::Ge, ver(from.major()?, 0, 0, z)?);
        } else if is_x(from.patch) {
            out.push(Op::Ge, ver(from.major()?, from.minor()?, 0, z)?);
        } else {
            match from.full(opts) {
                Some(v) => {
                    let mut v = v?;
                    if from.pre.is_none() && opts.include_prerelease {
                        v.pre = vec![PreId::Num(0)];
                    }
                    out.push(Op::Ge, v);
                }
                None => out.invalid(from_text)?,
            }
        }
    }
    if !is_x(Some(to.major)) {
        if is_x(to.minor) {
            out.push(Op::Lt, ver(to.major()? + 1, 0, 0, PreSpec::Zero)?);
        } else if is_x(to.patch) {
            out.push(Op::Lt, ver(to.major()?, to.minor()? + 1, 0, PreSpec::Zero)?);
        } else if let Some(pre) = to.pre {
            out.push(Op::Le, ver(to.major()?, to.minor()?, to.patch()?, PreSpec::Text(pre))?);
        } else if opts.include_prerelease {
            out.push(Op::Lt, ver(to.major()?, to.minor()?, to.patch()? + 1, PreSpec::Zero)?);
        } else {
            match to.full(opts) {
                Some(v) => out.push(Op::Le, v?),
                None => out.invalid(to_text)?,
            }
        }
    }
    if out.comps.len() == start && is_x(Some(from.major)) && is_x(Some(to.major)) {
        out.comps.push(Comparator::Any);
    }
    Ok(true)
}

/// Desugars one comparator word (`^1.2`, `~1.2.3`, `>=1.x`, `1.2.3`, `*`).
fn expand_word(word: &str, out: &mut Out) -> Result<(), String> {
    let opts = out.opts;
    if word.is_empty() {
        out.comps.push(Comparator::Any);
        return Ok(());
    }
    if let Some(rest) = word.strip_prefix('^') {
        return match parse_partial(rest, opts.loose) {
            Some(p) => caret(&p, out),
            None => fallback(word, out),
        };
    }
    if let Some(rest) = word.strip_prefix('~') {
        let rest = rest.strip_prefix('>').unwrap_or(rest);
        return match parse_partial(rest, opts.loose) {
            Some(p) => tilde(&p, out),
            None => fallback(word, out),
        };
    }
    let (op, rest) = split_op(word);
    match parse_partial(rest, opts.loose) {
        Some(p) => xrange(word, op, &p, out),
        None => fallback(word, out),
    }
}

/// Splits a leading `<`, `>`, `<=`, `>=` or `=` off a word.
fn split_op(word: &str) -> (Op, &str) {
    let (op, rest) = if let Some(rest) = word.strip_prefix('<') {
        (Op::Lt, rest)
    } else if let Some(rest) = word.strip_prefix('>') {
        (Op::Gt, rest)
    } else {
        (Op::Eq, word)
    };
    match (op, rest.strip_prefix('=')) {
        (Op::Lt, Some(rest)) => (Op::Le, rest),
        (Op::Gt, Some(rest)) => (Op::Ge, rest),
        (op, Some(rest)) => (op, rest),
        (op, None) => (op, rest),
    }
}

fn caret(p: &Partial<'_>, out: &mut Out) -> Result<(), String> {
    if is_x(Some(p.major)) {
        out.comps.push(Comparator::Any);
        return Ok(());
    }
    let z = if out.opts.include_prerelease { PreSpec::Zero } else { PreSpec::None };
    let (major, minor, patch) = (p.major()?, p.minor()?, p.patch()?);
    let (low, high) = if is_x(p.minor) {
        (ver(major, 0, 0, z)?, ver(major + 1, 0, 0, PreSpec::Zero)?)
    } else if is_x(p.patch) {
        let high = if p.major_is_zero_text() {
            ver(major, minor + 1, 0, PreSpec::Zero)?
        } else {
            ver(major + 1, 0, 0, PreSpec::Zero)?
        };
        (ver(major, minor, 0, z)?, high)
    } else {
        let low = ver(major, minor, patch, p.pre.map(PreSpec::Text).unwrap_or(PreSpec::None))?;
        let high = if !p.major_is_zero_text() {
            ver(major + 1, 0, 0, PreSpec::Zero)?
        } else if p.minor_is_zero_text() {
            ver(major, minor, patch + 1, PreSpec::Zero)?
        } else {
            ver(major, minor + 1, 0, PreSpec::Zero)?
        };
        (low, high)
    };
    out.push(Op::Ge, low);
    out.push(Op::Lt, high);
    Ok(())
}

fn tilde(p: &Partial<'_>, out: &mut Out) -> Result<(), String> {
    if is_x(Some(p.major)) {
        out.comps.push(Comparator::Any);
        return Ok(());
    }
    let z = if out.opts.include_prerelease { PreSpec::Zero } else { PreSpec::None };
    let (major, minor, patch) = (p.major()?, p.minor()?, p.patch()?);
    let (low, high) = if is_x(p.minor) {
        (ver(major, 0, 0, z)?, ver(major + 1, 0, 0, PreSpec::Zero)?)
    } else if is_x(p.patch) {
        (ver(major, minor, 0, z)?, ver(major, minor + 1, 0, PreSpec::Zero)?)
    } else {
        let low = ver(major, minor, patch, p.pre.map(PreSpec::Text).unwrap_or(PreSpec::None))?;
        (low, ver(major, minor + 1, 0, PreSpec::Zero)?)
    };
    out.push(Op::Ge, low);
    out.push(Op::Lt, high);
    Ok(())
}

fn xrange(word: &str, mut op: Op, p: &Partial<'_>, out: &mut Out) -> Result<(), String> {
    let (x_major, x_minor, x_patch) = (is_x(Some(p.major)), is_x(p.minor), is_x(p.patch));
    // A wildcard followed by a number (`1.x.5`, `x.1`) is not a range.
    if (x_major && !x_minor) || (x_minor && p.patch.is_some() && !x_patch) {
        return fallback(word, out);
    }
    if !(x_major || x_minor || x_patch) {
        return match p.full(out.opts) {
            Some(v) => {
                out.push(op, v?);
                Ok(())
            }
            None => out.invalid(word),
        };
    }
    let z = if out.opts.include_prerelease { PreSpec::Zero } else { PreSpec::None };
    if x_major {
        let comp = if matches!(op, Op::Lt | Op::Gt) {
            Comparator::Op(Op::Lt, ver(0, 0, 0, PreSpec::Zero)?)
        } else {
            Comparator::Any
        };
        out.comps.push(comp);
        return Ok(());
    }
    let (mut major, mut minor) = (p.major()?, if x_minor { 0 } else { p.minor()? });
    if op != Op::Eq {
        let mut pre = z;
        match op {
            Op::Gt => {
                op = Op::Ge;
                if x_minor {
                    major += 1;
                } else {
                    minor += 1;
                }
            }
            Op::Le => {
                op = Op::Lt;
                if x_minor {
                    major += 1;
                } else {
                    minor += 1;
                }
            }
            _ => {}
        }
        if op == Op::Lt {
            pre = PreSpec::Zero;
        }
        out.push(op, ver(major, minor, 0, pre)?);
    } else if x_minor {
        out.push(Op::Ge, ver(major, 0, 0, z)?);
        out.push(Op::Lt, ver(major + 1, 0, 0, PreSpec::Zero)?);
    } else {
        out.push(Op::Ge, ver(major, minor, 0, z)?);
        out.push(Op::Lt, ver(major, minor + 1, 0, PreSpec::Zero)?);
    }
    Ok(())
}

/// A word no desugaring rule matched: node-semver drops one `*` from it and
/// reads the remainder as a plain comparator.
fn fallback(word: &str, out: &mut Out) -> Result<(), String> {
    let stripped = match word.find('*') {
        Some(star) => {
            let head = word[..star].trim_end();
            let head = head.strip_suffix('=').unwrap_or(head);
            let head = head.strip_suffix(['<', '>']).unwrap_or(head);
            format!("{head}{}", &word[star + 1..])
        }
        None => word.to_owned(),
    };
    if stripped.is_empty() {
        out.comps.push(Comparator::Any);
        return Ok(());
    }
    let (op, rest) = split_op(&stripped);
    let full = parse_partial(rest, out.opts.loose)
        .filter(|p| !is_x(Some(p.major)) && !is_x(p.minor) && !is_x(p.patch))
        .and_then(|p| p.full(out.opts));
    match full {
        Some(v) => {
            out.push(op, v?);
            Ok(())
        }
        None => out.invalid(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Options = Options { loose: false, include_prerelease: false };
    const LOOSE: Options = Options { loose: true, include_prerelease: false };

    #[test]
    fn parses_strict_and_loose() {
        assert!(Version::parse("1.2.3-alpha.1+build", STRICT).is_ok());
        assert!(Version::parse(" v1.2.3 ", STRICT).is_ok());
        assert!(Version::parse("=1.2.3", STRICT).is_err());
        assert!(Version::parse("=1.2.3", LOOSE).is_ok());
        assert!(Version::parse("01.2.3", STRICT).is_err());
        assert_eq!(Version::parse("01.2.3beta", LOOSE).unwrap().to_string(), "1.2.3-beta");
        assert!(Version::parse("1.2.3.4", LOOSE).is_err());
        assert!(Version::parse("9007199254740992.0.0", LOOSE).is_err());
    }

    #[test]
    fn desugars_ranges() {
        let cases = [
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("~1.2", ">=1.2.0 <1.3.0-0"),
            (">= 1.0.0 < 2", ">=1.0.0 <2.0.0-0"),
            ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", ">=1.0.0 <2.0.0-0||>=2.5.0||>=5.0.0 <=7.2.3"),
            ("*", "*"),
            ("<=1.2", "<1.3.0-0"),
        ];
        for (range, want) in cases {
            assert_eq!(Range::parse(range, STRICT).unwrap().to_string(), want, "{range}");
        }
        assert!(Range::parse("1.2.3beta", STRICT).is_err());
        assert!(Range::parse("nonsense", STRICT).is_err());
        assert!(Range::parse("nonsense", LOOSE).is_err());
    }

    #[test]
    fn prerelease_rule() {
        assert_eq!(satisfies("1.2.3-pr.2", "^1.2.3-pr.1", STRICT), Ok(true));
        assert_eq!(satisfies("1.2.4-pr.0", "^1.2.3-pr.1", STRICT), Ok(false));
        let incl = Options { include_prerelease: true, ..STRICT };
        assert_eq!(satisfies("1.2.4-pr.0", "^1.2.3-pr.1", incl), Ok(true));
        assert!(satisfies("not a version", "*", STRICT).is_err());
    }
}
