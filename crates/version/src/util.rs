//! Small helpers shared by several schemes.

use std::cmp::Ordering;

/// Compares two ASCII digit strings by numeric value, whatever their length.
///
/// Versions carry dates and build numbers that overflow `u64`; comparing the
/// digits themselves never overflows and never allocates.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True for a non-empty string of ASCII digits.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `s` after its leading run of bytes matching `pred`.
pub(crate) fn split_run(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let end = s.bytes().position(|b| !pred(b)).unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_numerically() {
        assert_eq!(cmp_digits("010", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("000", "0"), Ordering::Equal);
        assert_eq!(cmp_digits("99999999999999999999999", "100000000000000000000000"), Ordering::Less);
        assert!(is_digits("0123"));
        assert!(!is_digits(""));
        assert!(!is_digits("1a"));
        assert_eq!(split_run("123abc", |b| b.is_ascii_digit()), ("123", "abc"));
    }
}
