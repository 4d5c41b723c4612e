//! Debian versions: `[epoch:]upstream[-revision]`, compared by dpkg's
//! `verrevcmp` (`~` sorts before everything, even the end of the string).

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug)]
pub(crate) struct DebVersion<'a> {
    epoch: u32,
    upstream: &'a str,
    revision: &'a str,
}

/// Accepts what dpkg accepts: it only warns about a non-digit start or odd
/// characters, and fails on emptiness, spaces and a bad epoch.
pub(crate) fn parse(input: &str) -> Result<DebVersion<'_>, String> {
    let s = input.trim_matches([' ', '\t']);
    if s.is_empty() {
        return Err("empty version".into());
    }
    if s.contains(char::is_whitespace) {
        return Err("embedded spaces".into());
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() {
                return Err("empty epoch".into());
            }
            let epoch = epoch
                .parse::<u32>()
                .ok()
                .filter(|e| i32::try_from(*e).is_ok() && epoch.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("epoch {epoch:?} is not a number dpkg accepts"))?;
            (epoch, rest)
        }
        None => (0, s),
    };
    if rest.is_empty() {
        return Err("nothing after the epoch".into());
    }
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err("empty revision".into()),
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err("empty upstream version".into());
    }
    Ok(DebVersion { epoch, upstream, revision })
}

/// Letters sort before other symbols; `~` before the end of the string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of an upstream version or revision: alternating
/// non-digit runs (by `order`) and digit runs (by value).
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    let other = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    while i < a.len() || j < b.len() {
        while other(a, i) || other(b, j) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff.is_eq() {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff.is_ne() {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl DebVersion<'_> {
    pub(crate) fn compare(&self, other: &DebVersion<'_>) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream, other.upstream))
            .then_with(|| verrevcmp(self.revision, other.revision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn orders() {
        assert_eq!(cmp("1.0~rc1-1", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("1:0.9", "2.0"), Ordering::Greater);
        assert_eq!(cmp("1.2.3-1ubuntu0.1", "1.2.3-1"), Ordering::Greater);
        assert_eq!(cmp("2.30-1+deb12u1", "2.30-1"), Ordering::Greater);
        assert_eq!(cmp(" 1.0 ", "1.0"), Ordering::Equal);
        assert_eq!(cmp("a1.0", "a1.0"), Ordering::Equal);
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for bad in ["", "   ", "1.0 1", ":1.0", "a:1.0", "-1:1.0", "1:", "1.0-", "-1", "99999999999:1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
