//! RPM versions: `[epoch:]version[-release]`, each part compared by rpm's
//! `rpmvercmp` (`~` sorts before and `^` after the end of a version).

use std::cmp::Ordering;

use crate::util::{cmp_digits, split_run};

#[derive(Clone, Copy, Debug)]
pub(crate) struct RpmVersion<'a> {
    epoch: &'a str,
    version: &'a str,
    release: &'a str,
}

/// rpm accepts almost anything; only emptiness and whitespace are refused.
pub(crate) fn parse(input: &str) -> Result<RpmVersion<'_>, String> {
    if input.is_empty() {
        return Err("empty version".into());
    }
    if input.contains(char::is_whitespace) {
        return Err("whitespace in version".into());
    }
    // Like rpm's EVR split: an epoch is a digit run ending at `:`; the
    // release follows the last `-` after it.
    let (digits, after) = split_run(input, |b| b.is_ascii_digit());
    let (epoch, rest) = match after.strip_prefix(':') {
        Some(rest) => (if digits.is_empty() { "0" } else { digits }, rest),
        None => ("0", input),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((version, release)) => (version, release),
        None => (rest, ""),
    };
    if version.is_empty() {
        return Err("empty version part".into());
    }
    Ok(RpmVersion { epoch, version, release })
}

fn is_alnum(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_alphanumeric)
}

/// The digit or letter run starting at `k`.
fn segment(s: &[u8], k: usize, numeric: bool) -> &str {
    let len = s[k..]
        .iter()
        .take_while(|c| if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() })
        .count();
    // Only ASCII bytes were taken, so this slice is valid UTF-8.
    std::str::from_utf8(&s[k..k + len]).unwrap_or_default()
}

/// rpm's segment comparison: separators are ignored, digit runs compare by
/// value and beat letter runs, `~` and `^` are handled before anything else.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while i < a.len() && !is_alnum(a.get(i)) && !matches!(a[i], b'~' | b'^') {
            i += 1;
        }
        while j < b.len() && !is_alnum(b.get(j)) && !matches!(b[j], b'~' | b'^') {
            j += 1;
        }
        // A tilde sorts before everything, the end included.
        if a.get(i) == Some(&b'~') || b.get(j) == Some(&b'~') {
            if a.get(i) != Some(&b'~') {
                return Ordering::Greater;
            }
            if b.get(j) != Some(&b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // A caret sorts after the end but before anything else.
        if a.get(i) == Some(&b'^') || b.get(j) == Some(&b'^') {
            if i >= a.len() {
                return Ordering::Less;
            }
            if j >= b.len() {
                return Ordering::Greater;
            }
            if a[i] != b'^' {
                return Ordering::Greater;
            }
            if b[j] != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let (x, y) = (segment(a, i, numeric), segment(b, j, numeric));
        if y.is_empty() {
            // Different kinds of segment: a number is newer than letters.
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let ord = if numeric { cmp_digits(x, y) } else { x.cmp(y) };
        if ord.is_ne() {
            return ord;
        }
        i += x.len();
        j += y.len();
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

impl RpmVersion<'_> {
    /// A missing release compares as an empty one, which keeps the order total.
    pub(crate) fn compare(&self, other: &RpmVersion<'_>) -> Ordering {
        cmp_digits(self.epoch, other.epoch)
            .then_with(|| rpmvercmp(self.version, other.version))
            .then_with(|| rpmvercmp(self.release, other.release))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn orders_evr() {
        assert_eq!(cmp("0:1.2.3-4.el8", "1.2.3-4.el8"), Ordering::Equal);
        assert_eq!(cmp("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(cmp("4.18.0-348.el8", "4.18.0-372.9.1.el8"), Ordering::Less);
        assert_eq!(cmp("1.0-1.el8_5", "1.0-1.el8"), Ordering::Greater);
        assert_eq!(cmp("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("a:1", "a:1"), Ordering::Equal);
    }

    #[test]
    fn rejects() {
        for bad in ["", "1.0 -1", "1:", "1:-1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
