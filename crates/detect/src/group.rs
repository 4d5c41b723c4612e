//! Merging advisories that describe the same flaw, and naming the result.

use std::cmp::Ordering;
use std::collections::HashMap;

/// Partitions members into groups whose id sets overlap, transitively: a
/// GHSA that aliases a CVE joins a PYSEC that aliases the same CVE.
///
/// `ids[i]` is member `i`'s own id plus its aliases. Groups come out in the
/// order of their first member, members ascending, so the result depends only
/// on the input order.
pub(crate) fn by_shared_ids(ids: &[&[&str]]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (member, set) in ids.iter().enumerate() {
        for &id in *set {
            match owner.get(id) {
                Some(&other) => union(&mut parent, member, other),
                None => {
                    owner.insert(id, member);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for member in 0..ids.len() {
        let root = find(&mut parent, member);
        let g = *slot.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(member);
    }
    groups
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    // The smaller root wins so a group's root is its first member.
    match ra.cmp(&rb) {
        Ordering::Less => parent[rb] = ra,
        Ordering::Greater => parent[ra] = rb,
        Ordering::Equal => {}
    }
}

/// The (year, number) of a `CVE-YYYY-NNNN` id.
fn cve_key(id: &str) -> Option<(u32, u64)> {
    let rest = id.strip_prefix("CVE-")?;
    let (year, num) = rest.split_once('-')?;
    Some((year.parse().ok()?, num.parse().ok()?))
}

/// Orders ids by how well they name a flaw: CVEs first (oldest first, by
/// year then number, so `CVE-2021-9999` precedes `CVE-2021-10000`), then
/// GHSA ids, then everything else; ties alphabetically.
pub(crate) fn preference(a: &str, b: &str) -> Ordering {
    fn rank(id: &str) -> u8 {
        if id.starts_with("CVE-") {
            0
        } else if id.starts_with("GHSA-") {
            1
        } else {
            2
        }
    }
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match (cve_key(a), cve_key(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| a.cmp(b))
}

/// Splits a group's ids into the one to report and the others, sorted.
pub(crate) fn name_group<'a>(ids: impl IntoIterator<Item = &'a str>) -> (String, Vec<String>) {
    let mut all: Vec<&str> = ids.into_iter().filter(|s| !s.is_empty()).collect();
    all.sort_by(|a, b| preference(a, b));
    all.dedup();
    let Some((first, rest)) = all.split_first() else {
        return (String::new(), Vec::new());
    };
    let mut others: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    others.sort();
    (first.to_string(), others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_transitively() {
        let ids: [&[&str]; 5] = [
            &["GHSA-aaaa", "CVE-2020-1"],
            &["PYSEC-2020-5"],
            &["PYSEC-2020-9", "CVE-2020-1"],
            &["OSV-1", "PYSEC-2020-5"],
            &["GO-2022-1", "PYSEC-2020-9"],
        ];
        assert_eq!(by_shared_ids(&ids), vec![vec![0, 2, 4], vec![1, 3]]);
    }

    #[test]
    fn unrelated_advisories_stay_apart() {
        let ids: [&[&str]; 3] = [&["A"], &["B"], &["A"]];
        assert_eq!(by_shared_ids(&ids), vec![vec![0, 2], vec![1]]);
        assert!(by_shared_ids(&[]).is_empty());
    }

    #[test]
    fn prefers_lowest_cve_then_ghsa() {
        let (id, others) = name_group(["PYSEC-2021-1", "CVE-2021-10000", "GHSA-x", "CVE-2021-9999"]);
        assert_eq!(id, "CVE-2021-9999");
        assert_eq!(others, vec!["CVE-2021-10000", "GHSA-x", "PYSEC-2021-1"]);

        let (id, others) = name_group(["RUSTSEC-2020-1", "GHSA-b", "GHSA-a", "GHSA-a"]);
        assert_eq!(id, "GHSA-a");
        assert_eq!(others, vec!["GHSA-b", "RUSTSEC-2020-1"]);

        let (id, others) = name_group(["RUSTSEC-2020-2", "OSV-9", ""]);
        assert_eq!(id, "OSV-9");
        assert_eq!(others, vec!["RUSTSEC-2020-2"]);
    }

    #[test]
    fn malformed_cve_ids_rank_after_wellformed_ones() {
        assert_eq!(preference("CVE-2020-x", "CVE-2021-1"), Ordering::Greater);
        assert_eq!(preference("CVE-2021-1", "GHSA-a"), Ordering::Less);
    }
}
