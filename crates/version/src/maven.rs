//! Maven's `ComparableVersion` ordering (Maven 4 rules).
//!
//! A version is a list of items: numbers, qualifiers, qualifier+number
//! combinations (`alpha1`), and nested lists that start at a `-` or at a
//! digit/letter transition. Trailing "null" items (`0`, `""`, `ga`, empty
//! lists) are trimmed, so `1.0.0` equals `1`.

use std::cmp::Ordering;

use crate::util::cmp_digits;

#[derive(Clone, Debug)]
pub(crate) struct MavenVersion {
    items: Vec<Item>,
}

#[derive(Clone, Debug)]
enum Item {
    /// Digits without leading zeros (`"0"` for zero).
    Int(String),
    Str(String),
    /// A qualifier immediately followed by digits, like `alpha1` or `rc-2`.
    Combo(String, String),
    List(Vec<Item>),
}

/// Known qualifiers in ascending order; `""` is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Sort key of a qualifier: known ones by position, unknown ones after all of
/// them in lexical order; `ga`, `final` and `release` are plain releases.
fn qualifier_rank(q: &str) -> (usize, &str) {
    if matches!(q, "ga" | "final" | "release") {
        return (5, "");
    }
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn cmp_qualifiers(a: &str, b: &str) -> Ordering {
    qualifier_rank(a).cmp(&qualifier_rank(b))
}

/// A qualifier as written; single letters before a digit are abbreviations.
fn qualifier(s: &str, followed_by_digit: bool) -> String {
    let s = match s {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        other => other,
    };
    s.to_owned()
}

fn strip_zeros(digits: &str) -> String {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() { "0".to_owned() } else { digits.to_owned() }
}

fn int(digits: &str) -> Item {
    Item::Int(strip_zeros(digits))
}

fn parse_item(combination: bool, digit: bool, buf: &str) -> Item {
    if combination {
        let buf: String = buf.chars().filter(|c| *c != '-').collect();
        let split = buf.find(|c: char| c.is_ascii_digit()).unwrap_or(buf.len());
        let (name, digits) = buf.split_at(split);
        Item::Combo(qualifier(name, true), strip_zeros(digits))
    } else if digit {
        int(buf)
    } else {
        Item::Str(qualifier(buf, false))
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n == "0",
            Item::Str(s) => s.is_empty(),
            Item::Combo(..) => false,
            Item::List(items) => items.is_empty(),
        }
    }

    /// Compares with the item at the same position of the other version, if any.
    fn cmp_with(&self, other: Option<&Item>) -> Ordering {
        use Item::{Combo, Int, List, Str};
        let Some(other) = other else {
            return match self {
                Int(_) => {
                    if self.is_null() {
                        Ordering::Equal
                    } else {
                        Ordering::Greater
                    }
                }
                Str(s) | Combo(s, _) => cmp_qualifiers(s, ""),
                List(items) => {
                    items.iter().map(|i| i.cmp_with(None)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
                }
            };
        };
        match (self, other) {
            (Int(a), Int(b)) => cmp_digits(a, b),
            (Int(_), _) => Ordering::Greater,
            (Str(a), Str(b)) => cmp_qualifiers(a, b),
            // `X` < `X1`.
            (Str(a), Combo(b, _)) => cmp_qualifiers(a, b).then(Ordering::Less),
            (Combo(a, _), Str(b)) => cmp_qualifiers(a, b).then(Ordering::Greater),
            (Combo(a, x), Combo(b, y)) => cmp_qualifiers(a, b).then_with(|| cmp_digits(x, y)),
            (Str(_) | Combo(..), _) => Ordering::Less,
            (List(_), Int(_)) => Ordering::Less,
            (List(_), Str(_) | Combo(..)) => Ordering::Greater,
            (List(a), List(b)) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), y) => x.cmp_with(y),
            (None, Some(y)) => y.cmp_with(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord.is_ne() {
            return ord;
        }
    }
    Ordering::Equal
}

/// Removes null items that carry no meaning: trailing ones, and ones right
/// before a qualifier (`1.0.a` is `1.a`), keeping those before a number list.
fn normalize(items: &mut Vec<Item>) {
    for i in (0..items.len()).rev() {
        if !items[i].is_null() {
            continue;
        }
        let remove = match items.get(i + 1) {
            None | Some(Item::Str(_)) => true,
            Some(Item::List(next)) => matches!(next.first(), Some(Item::Combo(..) | Item::Str(_))),
            Some(_) => false,
        };
        if remove {
            items.remove(i);
        }
    }
}

/// Builds the nested lists: every list but the root is the last item of its parent.
struct Builder {
    stack: Vec<Vec<Item>>,
}

impl Builder {
    fn push(&mut self, item: Item) {
        if let Some(list) = self.stack.last_mut() {
            list.push(item);
        }
    }

    fn open_list(&mut self) {
        self.stack.push(Vec::new());
    }

    fn open_list_if_not_empty(&mut self) {
        if self.stack.last().is_some_and(|list| !list.is_empty()) {
            self.open_list();
        }
    }

    fn finish(mut self) -> Vec<Item> {
        let mut child = self.stack.pop().unwrap_or_default();
        while let Some(mut parent) = self.stack.pop() {
            normalize(&mut child);
            parent.push(Item::List(child));
            child = parent;
        }
        normalize(&mut child);
        child
    }
}

/// Any string is a Maven version except an empty one.
pub(crate) fn parse(input: &str) -> Result<MavenVersion, String> {
    if input.trim().is_empty() {
        return Err("empty version".into());
    }
    let s = input.to_lowercase();
    let mut b = Builder { stack: vec![Vec::new()] };
    let mut digit = false;
    let mut combination = false;
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '.' => {
                b.push(if i == start { int("0") } else { parse_item(combination, digit, &s[start..i]) });
                combination = false;
                start = i + 1;
            }
            '-' => {
                if i == start {
                    b.push(int("0"));
                } else {
                    // `X-1` reads as `X1`.
                    if !digit && chars.peek().is_some_and(|(_, n)| n.is_ascii_digit()) {
                        combination = true;
                        continue;
                    }
                    b.push(parse_item(combination, digit, &s[start..i]));
                }
                start = i + 1;
                b.open_list_if_not_empty();
                combination = false;
            }
            c if c.is_ascii_digit() => {
                if !digit && i > start {
                    combination = true;
                    b.open_list_if_not_empty();
                }
                digit = true;
            }
            _ => {
                if digit && i > start {
                    b.push(parse_item(combination, true, &s[start..i]));
                    start = i;
                    b.open_list();
                    combination = false;
                }
                digit = false;
            }
        }
    }
    if s.len() > start {
        // `1.0.0.X1` < `1.0.0-X2`: a trailing qualifier opens a list like `-` would.
        if !digit {
            b.open_list_if_not_empty();
        }
        b.push(parse_item(combination, digit, &s[start..]));
    }
    Ok(MavenVersion { items: b.finish() })
}

impl MavenVersion {
    pub(crate) fn compare(&self, other: &MavenVersion) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).unwrap().compare(&parse(b).unwrap())
    }

    #[test]
    fn orders_qualifiers() {
        let chain = ["1-alpha1", "1-beta1", "1-m1", "1-rc1", "1-snapshot", "1", "1-sp1", "1-zzz", "1.0.1"];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(cmp("1.0-GA", "1"), Ordering::Equal);
        assert_eq!(cmp("1-final", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("2.0.0.RELEASE", "2.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.RC2", "1.0-RC3"), Ordering::Less);
        assert_eq!(cmp("1.0-RC3", "1.0.1"), Ordering::Less);
        assert_eq!(cmp("1.0.0-20240101.123456-1", "1.0.0"), Ordering::Greater);
        assert_eq!(cmp("1.99999999999999999999", "1.100000000000000000000"), Ordering::Less);
    }

    #[test]
    fn rejects_only_empty() {
        assert!(parse("").is_err());
        assert!(parse("  ").is_err());
        assert!(parse("not-a-version ~!@").is_ok());
    }
}
