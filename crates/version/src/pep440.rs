//! PEP 440 versions: `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the
//! alternate spellings PEP 440 normalizes (`alpha`, `c`, `pre`, `-1`, `rev`,
//! `_`/`-` separators, any case, a `v` prefix).

use std::cmp::Ordering;

use crate::util::{cmp_digits, split_run};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Pep440<'a> {
    epoch: &'a str,
    /// Dot-separated digits; trailing zeros are insignificant.
    release: &'a str,
    /// Phase (0 = a, 1 = b, 2 = rc) and number.
    pre: Option<(u8, &'a str)>,
    post: Option<&'a str>,
    dev: Option<&'a str>,
    /// Segments separated by `.`, `-` or `_`, compared case-insensitively.
    local: Option<&'a str>,
}

/// Pre-release spellings, longest first where one is a prefix of another.
const PRE: [(&str, u8); 8] =
    [("alpha", 0), ("a", 0), ("beta", 1), ("b", 1), ("preview", 2), ("pre", 2), ("c", 2), ("rc", 2)];
const POST: [&str; 3] = ["post", "rev", "r"];

fn is_sep(b: u8) -> bool {
    matches!(b, b'.' | b'-' | b'_')
}

/// Strips an ASCII-case-insensitive keyword from the front of `s`.
fn strip_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let head = s.get(..word.len())?;
    head.eq_ignore_ascii_case(word).then(|| &s[word.len()..])
}

/// `[sep]WORD` where WORD is one of `words`; returns the matched word's index.
fn phase(s: &str, words: impl Iterator<Item = &'static str>) -> Option<(usize, &str)> {
    let unsep = s.strip_prefix(|c: char| c.is_ascii() && is_sep(c as u8)).unwrap_or(s);
    words.enumerate().find_map(|(i, w)| strip_word(unsep, w).map(|rest| (i, rest)))
}

/// The number after a phase word: `[sep]DIGITS`, or implicitly 0. A separator
/// not followed by digits is left for the next part.
fn phase_number(s: &str) -> (&str, &str) {
    let unsep = s.strip_prefix(|c: char| c.is_ascii() && is_sep(c as u8)).unwrap_or(s);
    match split_run(unsep, |b| b.is_ascii_digit()) {
        ("", _) => ("0", s),
        (digits, rest) => (digits, rest),
    }
}

pub(crate) fn parse(input: &str) -> Result<Pep440<'_>, String> {
    let s = input.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let (first, rest) = split_run(s, |b| b.is_ascii_digit());
    if first.is_empty() {
        return Err("must start with a number".into());
    }
    let (epoch, release_start) = match rest.strip_prefix('!') {
        Some(after) => (first, after),
        None => ("0", s),
    };
    let mut release_end = 0;
    let bytes = release_start.as_bytes();
    loop {
        let digits = bytes[release_end..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err("release segment must be numbers separated by dots".into());
        }
        release_end += digits;
        if bytes.get(release_end) == Some(&b'.') && bytes.get(release_end + 1).is_some_and(u8::is_ascii_digit)
        {
            release_end += 1;
        } else {
            break;
        }
    }
    let (release, mut rest) = release_start.split_at(release_end);
    let mut v = Pep440 { epoch, release, pre: None, post: None, dev: None, local: None };

    if let Some((i, after)) = phase(rest, PRE.iter().map(|p| p.0)) {
        let (n, after) = phase_number(after);
        v.pre = Some((PRE[i].1, n));
        rest = after;
    }
    // `1.0-1` is an implicit post-release.
    let implicit = rest.strip_prefix('-').map(|r| split_run(r, |b| b.is_ascii_digit()));
    if let Some((digits, after)) = implicit.filter(|(digits, _)| !digits.is_empty()) {
        v.post = Some(digits);
        rest = after;
    } else if let Some((_, after)) = phase(rest, POST.into_iter()) {
        let (n, after) = phase_number(after);
        v.post = Some(n);
        rest = after;
    }
    if let Some((_, after)) = phase(rest, ["dev"].into_iter()) {
        let (n, after) = phase_number(after);
        v.dev = Some(n);
        rest = after;
    }
    if let Some(local) = rest.strip_prefix('+') {
        let valid = local
            .split(|c: char| c.is_ascii() && is_sep(c as u8))
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !valid {
            return Err(format!("invalid local version label {local:?}"));
        }
        v.local = Some(local);
        rest = "";
    }
    if !rest.is_empty() {
        return Err(format!("unexpected {rest:?}"));
    }
    Ok(v)
}

/// A sort key part with PEP 440's "before everything" and "after everything" sentinels.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key<T> {
    Lowest,
    Value(T),
    Highest,
}

/// Digit strings ordered by numeric value.
#[derive(PartialEq, Eq)]
struct Num<'a>(&'a str);

impl PartialOrd for Num<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(self.0, other.0)
    }
}

impl<'a> Pep440<'a> {
    fn pre_key(&self) -> Key<(u8, Num<'a>)> {
        match (self.pre, self.post, self.dev) {
            // `1.0.dev1` sorts before `1.0a1`.
            (None, None, Some(_)) => Key::Lowest,
            (None, _, _) => Key::Highest,
            (Some((phase, n)), _, _) => Key::Value((phase, Num(n))),
        }
    }

    pub(crate) fn compare(&self, other: &Pep440<'a>) -> Ordering {
        cmp_digits(self.epoch, other.epoch)
            .then_with(|| cmp_release(self.release, other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| {
                let post = |v: &Pep440<'a>| v.post.map_or(Key::Lowest, |n| Key::Value(Num(n)));
                post(self).cmp(&post(other))
            })
            .then_with(|| {
                let dev = |v: &Pep440<'a>| v.dev.map_or(Key::Highest, |n| Key::Value(Num(n)));
                dev(self).cmp(&dev(other))
            })
            .then_with(|| match (self.local, other.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_local(a, b),
            })
    }
}

/// Release segments compare as if the shorter were padded with zeros.
fn cmp_release(a: &str, b: &str) -> Ordering {
    let mut a = a.split('.');
    let mut b = b.split('.');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => match cmp_digits(x.unwrap_or("0"), y.unwrap_or("0")) {
                Ordering::Equal => {}
                ord => return ord,
            },
        }
    }
}

/// Local labels: numeric segments beat alphanumeric ones; a longer label
/// with an equal prefix is greater.
fn cmp_local(a: &str, b: &str) -> Ordering {
    let mut a = a.split(|c: char| c.is_ascii() && is_sep(c as u8));
    let mut b = b.split(|c: char| c.is_ascii() && is_sep(c as u8));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let num = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
                let ord = match (num(x), num(y)) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => x
                        .bytes()
                        .map(|c| c.to_ascii_lowercase())
                        .cmp(y.bytes().map(|c| c.to_ascii_lowercase())),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn normalizes_alternate_spellings() {
        let same = [
            ("1.0", "1.0.0"),
            ("1.0alpha1", "1.0a1"),
            ("1.0-BETA.2", "1.0b2"),
            ("1.0c3", "1.0rc3"),
            ("1.0preview3", "1.0rc3"),
            ("1.0.pre", "1.0rc0"),
            ("1.0-1", "1.0.post1"),
            ("1.0rev2", "1.0.post2"),
            ("1.0.r", "1.0.post0"),
            ("1.0_dev", "1.0.dev0"),
            ("v1.0", "1.0"),
            ("0!1.0", "1.0"),
            ("1.0+Ubuntu-1", "1.0+ubuntu.1"),
            (" 1.0\n", "1.0"),
        ];
        for (a, b) in same {
            assert_eq!(cmp(a, b), Ordering::Equal, "{a} vs {b}");
        }
    }

    #[test]
    fn orders() {
        assert_eq!(cmp("1.0.dev1", "1.0a1"), Ordering::Less);
        assert_eq!(cmp("1.0a1.post1", "1.0a2.dev1"), Ordering::Less);
        assert_eq!(cmp("1.0", "1.0.post0.dev1"), Ordering::Less);
        assert_eq!(cmp("1!0.1", "2.0"), Ordering::Greater);
        assert_eq!(cmp("1.0+abc", "1.0+1"), Ordering::Less);
        assert_eq!(cmp("2024.10.1", "2024.9.30"), Ordering::Greater);
    }

    #[test]
    fn rejects() {
        for bad in ["", "a", "1.0.", "1.0foo", "1.0+", "1.0+a..b", "1.0-", "1!", "1.0 1", "1.0.post1.post2"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
