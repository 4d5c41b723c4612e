//! Severity of a finding: CVSS vectors first, then the database's own words.

use std::collections::BTreeMap;

use rampart_types::{Cvss, Severity};
use rampart_vulndb::SeverityScore;

/// The CVSS vectors one source gives, scored. Vectors are recognized by their
/// `CVSS:3.x/` or `CVSS:4.0/` prefix rather than the OSV `type`, so a record
/// that mislabels its vector is still scored; other vectors (v2, Ubuntu
/// priorities) are ignored here.
pub(crate) fn score_vectors(scores: &[SeverityScore]) -> Cvss {
    let mut out = Cvss::default();
    for s in scores {
        let vector = s.score.trim();
        if vector.starts_with("CVSS:3.") {
            if let Ok(v) = vector.parse::<cvss::v3::Vector>() {
                let score = v.score().value();
                if out.v3_score.is_none_or(|best| score > best) {
                    out.v3_score = Some(score);
                    out.v3_vector = Some(vector.to_string());
                }
            }
        } else if vector.starts_with("CVSS:4.0/")
            && let Ok(v) = vector.parse::<cvss::v4::Vector>()
        {
            let score = v.score().value();
            if out.v40_score.is_none_or(|best| score > best) {
                out.v40_score = Some(score);
                out.v40_vector = Some(vector.to_string());
            }
        }
    }
    out
}

/// The highest base score of a CVSS entry, v3 or v4.
pub(crate) fn max_score(c: &Cvss) -> Option<f64> {
    match (c.v3_score, c.v40_score) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A qualitative rating as feeds write it. Besides the five levels (and
/// GitHub's `MODERATE`, Red Hat's `Important`), Debian's `unimportant` and
/// Ubuntu's `negligible` mean LOW; anything else is not a rating.
pub(crate) fn parse_text(s: &str) -> Option<Severity> {
    match s.trim().to_ascii_lowercase().as_str() {
        "unimportant" | "negligible" => Some(Severity::Low),
        other => other.parse::<Severity>().ok().filter(|s| *s != Severity::Unknown),
    }
}

/// The severity chosen for a group of advisories, and which source gave it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rating {
    pub severity: Severity,
    pub source: Option<String>,
}

/// Rates a finding from the CVSS map of its group (source key → vectors) and
/// the textual ratings (source key, text) in preference order.
///
/// A score from a vector is the most reliable evidence, so the highest score
/// wins; only without any vector does the worst textual rating count.
pub(crate) fn rate(cvss: &BTreeMap<String, Cvss>, texts: &[(String, String)]) -> Rating {
    let best_score = cvss
        .iter()
        .filter_map(|(source, c)| max_score(c).map(|s| (source, s)))
        .filter(|(_, s)| *s > 0.0)
        .fold(None::<(&String, f64)>, |best, (source, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((source, s)),
        });
    if let Some((source, score)) = best_score {
        return Rating { severity: Severity::from_cvss_score(score), source: Some(source.clone()) };
    }
    let best_text = texts.iter().filter_map(|(source, t)| parse_text(t).map(|s| (source, s))).fold(
        None::<(&String, Severity)>,
        |best, (source, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((source, s)),
        },
    );
    match best_text {
        Some((source, severity)) => Rating { severity, source: Some(source.clone()) },
        None => Rating { severity: Severity::Unknown, source: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(kind: &str, v: &str) -> SeverityScore {
        SeverityScore { kind: kind.to_string(), score: v.to_string() }
    }

    #[test]
    fn scores_v3_and_v4_vectors() {
        let c = score_vectors(&[
            score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            score("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        ]);
        assert_eq!(c.v3_score, Some(9.8));
        assert_eq!(c.v3_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
        assert_eq!(c.v40_score, Some(9.3));
        assert_eq!(max_score(&c), Some(9.8));
    }

    #[test]
    fn ignores_malformed_vectors() {
        let c = score_vectors(&[score("CVSS_V3", "CVSS:3.1/AV:Q"), score("CVSS_V3", "garbage")]);
        assert_eq!(c, Cvss::default());
        assert_eq!(max_score(&c), None);
    }

    #[test]
    fn keeps_the_higher_of_two_v3_vectors() {
        let c = score_vectors(&[
            score("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"),
            score("CVSS_V3", "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ]);
        assert_eq!(c.v3_score, Some(8.1));
        assert!(c.v3_vector.unwrap().starts_with("CVSS:3.0/"));
    }

    #[test]
    fn text_ratings() {
        assert_eq!(parse_text("MODERATE"), Some(Severity::Medium));
        assert_eq!(parse_text("Important"), Some(Severity::High));
        assert_eq!(parse_text("unimportant"), Some(Severity::Low));
        assert_eq!(parse_text("not yet assigned"), None);
        assert_eq!(parse_text("UNKNOWN"), None);
    }

    #[test]
    fn cvss_beats_text_and_max_cvss_wins() {
        let mut cvss = BTreeMap::new();
        cvss.insert(
            "ghsa".to_string(),
            score_vectors(&[score("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N")]),
        );
        cvss.insert(
            "nvd".to_string(),
            score_vectors(&[score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")]),
        );
        let texts = vec![("ghsa".to_string(), "CRITICAL".to_string())];
        let r = rate(&cvss, &texts);
        assert_eq!(r, Rating { severity: Severity::High, source: Some("nvd".to_string()) });
    }

    #[test]
    fn text_beats_unknown_and_worst_text_wins() {
        let texts = vec![
            ("osv".to_string(), "weird".to_string()),
            ("ghsa".to_string(), "MODERATE".to_string()),
            ("debian".to_string(), "high".to_string()),
        ];
        let r = rate(&BTreeMap::new(), &texts);
        assert_eq!(r, Rating { severity: Severity::High, source: Some("debian".to_string()) });
        let none = rate(&BTreeMap::new(), &[("osv".to_string(), "weird".to_string())]);
        assert_eq!(none, Rating { severity: Severity::Unknown, source: None });
    }
}
