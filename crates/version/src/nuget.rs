//! NuGet versions: SemVer 2.0 plus legacy 1–4 part numbers (`1.0`, `1.2.3.4`),
//! with case-insensitive release labels.

use std::cmp::Ordering;

use crate::semver::{check_idents, cmp_pre_idents};
use crate::util::{cmp_digits, is_digits};

#[derive(Clone, Copy, Debug)]
pub(crate) struct NuGetVersion<'a> {
    numbers: [&'a str; 4],
    release: Option<&'a str>,
}

pub(crate) fn parse(input: &str) -> Result<NuGetVersion<'_>, String> {
    let s = input.trim();
    let s = match s.split_once('+') {
        Some((s, metadata)) => {
            check_idents(metadata, "metadata", false)?;
            s
        }
        None => s,
    };
    let (core, release) = match s.split_once('-') {
        Some((core, release)) => {
            check_idents(release, "release label", false)?;
            (core, Some(release))
        }
        None => (s, None),
    };
    let mut numbers = ["0"; 4];
    let mut parts = core.split('.');
    for slot in &mut numbers {
        match parts.next() {
            Some(part) if is_digits(part) => *slot = part,
            Some(part) => return Err(format!("expected a number, found {part:?}")),
            None => break,
        }
    }
    if parts.next().is_some() {
        return Err("more than four numbers".into());
    }
    Ok(NuGetVersion { numbers, release })
}

impl NuGetVersion<'_> {
    pub(crate) fn compare(&self, other: &NuGetVersion<'_>) -> Ordering {
        let numbers = self.numbers.iter().zip(other.numbers).map(|(a, b)| cmp_digits(a, b));
        numbers.fold(Ordering::Equal, Ordering::then).then_with(|| match (self.release, other.release) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => {
                cmp_pre_idents(a.split('.'), b.split('.'), |x, y| match (is_digits(x), is_digits(y)) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x
                        .bytes()
                        .map(|c| c.to_ascii_uppercase())
                        .cmp(y.bytes().map(|c| c.to_ascii_uppercase())),
                })
            }
        })
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
        assert_eq!(cmp("1.0", "1.0.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0.1", "1.0.0"), Ordering::Greater);
        assert_eq!(cmp("1.0.0-BETA", "1.0.0-beta"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-beta.2", "1.0.0-beta.10"), Ordering::Less);
        assert_eq!(cmp("1.0.0-1", "1.0.0-alpha"), Ordering::Less);
        assert_eq!(cmp("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(cmp("1.0.0+abc", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("01.2", "1.2"), Ordering::Equal);
    }

    #[test]
    fn rejects() {
        for bad in ["", "1.2.3.4.5", "v1.0", "1.0-", "1.0+", "1..0", "1.0-beta..1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
