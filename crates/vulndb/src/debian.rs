//! The Debian security tracker's `DSA/list` and `DLA/list` files (details
//! indented with a tab):
//!
//! ```text
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//!     {CVE-2023-1393}
//!     [bullseye] - xorg-server 2:1.20.11-1+deb11u6
//! ```
//!
//! Each advisory becomes one record; each `[release] - source version` line
//! one affected source package in `Debian:<version>`.

use rampart_types::Diagnostic;
use rampart_version::osv::{Event, Range, RangeType};

use crate::model::{Advisory, AffectedPackage, Reference};
use crate::parse::{Parsed, Record, fixed_range};

/// Debian release numbers by codename. The tracker's `config.json` lists
/// suites but not their numbers, so the table is built in.
fn release_number(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buzz" => "1.1",
        "rex" => "1.2",
        "bo" => "1.3",
        "hamm" => "2.0",
        "slink" => "2.1",
        "potato" => "2.2",
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4",
        "lenny" => "5",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// True when the text starts like a tracker list (`[dd Mon yyyy] XXX-…`),
/// to tell `DSA/list` from other files named `list` (such as `CPE/list`).
pub(crate) fn looks_like_list(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    parse_header(first).is_some()
}

/// `[29 Mar 2023] DSA-5380-1 xorg-server - security update` →
/// (published RFC 3339, id, title).
fn parse_header(line: &str) -> Option<(String, &str, &str)> {
    let rest = line.strip_prefix('[')?;
    let (date, rest) = rest.split_once(']')?;
    let published = parse_date(date)?;
    let rest = rest.trim();
    let (id, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (prefix, number) = id.split_once('-')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_uppercase()) || number.is_empty() {
        return None;
    }
    Some((published, id, title.trim()))
}

/// `29 Mar 2023` → `2023-03-29T00:00:00Z`.
fn parse_date(s: &str) -> Option<String> {
    let mut parts = s.split_whitespace();
    let day: u8 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=31).contains(&day) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}T00:00:00Z"))
}

/// What a `[release] - package <state>` line says about the release.
enum State<'a> {
    Fixed(&'a str),
    /// Vulnerable, with no fix to upgrade to (`<unfixed>`, `<end-of-life>`…).
    NoFix,
    NotAffected,
}

fn parse_state(s: &str) -> Option<State<'_>> {
    match s {
        "<not-affected>" | "<removed>" => Some(State::NotAffected),
        "<unfixed>" | "<end-of-life>" | "<ignored>" | "<postponed>" => Some(State::NoFix),
        _ if s.starts_with('<') => None,
        _ => Some(State::Fixed(s)),
    }
}

pub(crate) fn parse_list(bytes: &[u8], path: &str, out: &mut Parsed) {
    let text = String::from_utf8_lossy(bytes);
    let mut current: Option<Record> = None;
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let warn = |out: &mut Parsed, message: String| {
            out.warnings.push(Diagnostic::new(path, message).at_line(line_no));
        };
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            out.records.extend(current.take());
            match parse_header(line) {
                Some((published, id, title)) => current = Some(new_record(id, title, published)),
                None => warn(out, format!("unrecognized advisory header {:?}", line.trim())),
            }
            continue;
        }
        let body = line.trim();
        let Some(record) = current.as_mut() else {
            warn(out, "advisory details outside an advisory".to_string());
            continue;
        };
        if let Some(ids) = body.strip_prefix('{') {
            let ids = ids.trim_end_matches('}');
            for id in ids.split_whitespace() {
                if !record.advisory.aliases.iter().any(|a| a == id) {
                    record.advisory.aliases.push(id.to_string());
                }
            }
        } else if let Some(rest) = body.strip_prefix('[') {
            match parse_package_line(rest) {
                Ok(Some((release, name, state))) => {
                    let ranges = match state {
                        State::NotAffected => continue,
                        State::Fixed(version) => fixed_range(version),
                        State::NoFix => Range {
                            kind: RangeType::Ecosystem,
                            events: vec![Event::Introduced("0".to_string())],
                        },
                    };
                    record.affected.push(AffectedPackage {
                        advisory_id: record.advisory.id.clone(),
                        ecosystem: format!("Debian:{release}"),
                        name: name.to_string(),
                        ranges: vec![ranges],
                        versions: Vec::new(),
                        severity: None,
                    });
                }
                Ok(None) => {}
                Err(message) => warn(out, message),
            }
        } else if !body.starts_with("NOTE:") {
            warn(out, format!("unrecognized line {body:?}"));
        }
    }
    out.records.extend(current);
}

/// `bullseye] - xorg-server 2:1.20.11-1+deb11u6 (note)` → (`11`,
/// `xorg-server`, fixed). `Ok(None)` for releases Debian never numbered
/// (`sid`), which no scanned system reports.
fn parse_package_line(rest: &str) -> Result<Option<(&'static str, &str, State<'_>)>, String> {
    let malformed = || format!("malformed package line \"[{rest}\"");
    let (codename, rest) = rest.split_once(']').ok_or_else(malformed)?;
    let mut tokens = rest.split_whitespace();
    if tokens.next() != Some("-") {
        return Err(malformed());
    }
    let name = tokens.next().ok_or_else(malformed)?;
    let state = tokens.next().ok_or_else(malformed)?;
    let state = parse_state(state).ok_or_else(|| format!("unknown package state {state:?} for {name}"))?;
    let codename = codename.trim();
    match release_number(codename) {
        Some(release) => Ok(Some((release, name, state))),
        None if codename == "sid" => Ok(None),
        None => Err(format!("unknown Debian release {codename:?}")),
    }
}

fn new_record(id: &str, title: &str, published: String) -> Record {
    let prefix = id.split('-').next().unwrap_or(id);
    Record {
        advisory: Advisory {
            id: id.to_string(),
            aliases: Vec::new(),
            summary: title.to_string(),
            details: String::new(),
            severity: Vec::new(),
            database_severity: None,
            cwe_ids: Vec::new(),
            references: vec![Reference {
                kind: "ADVISORY".to_string(),
                url: format!("https://security-tracker.debian.org/tracker/{id}"),
            }],
            published: Some(published),
            modified: None,
            source: format!("debian-{}", prefix.to_ascii_lowercase()),
        },
        affected: Vec::new(),
        mergeable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_advisories_and_states() {
        let text = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\
                    \t{CVE-2023-1393 CVE-2023-0001 }\n\
                    \t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\
                    \t[buster] - xorg-server <not-affected> (vulnerable code not present)\n\
                    \t[stretch] - xorg-server <end-of-life>\n\
                    \tNOTE: fixed in testing\n\
                    [01 Jan 2000] DLA-1-1 foo - security update\n\
                    \t[narnia] - foo 1.0\n\
                    garbage\n";
        let mut out = Parsed::default();
        parse_list(text.as_bytes(), "DSA/list", &mut out);
        assert_eq!(out.records.len(), 2);
        let dsa = &out.records[0];
        assert_eq!(dsa.advisory.id, "DSA-5380-1");
        assert_eq!(dsa.advisory.source, "debian-dsa");
        assert_eq!(dsa.advisory.aliases, ["CVE-2023-1393", "CVE-2023-0001"]);
        assert_eq!(dsa.advisory.published.as_deref(), Some("2023-03-29T00:00:00Z"));
        assert_eq!(dsa.affected.len(), 2);
        assert_eq!(dsa.affected[0].ecosystem, "Debian:11");
        assert_eq!(dsa.affected[0].ranges, [fixed_range("2:1.20.11-1+deb11u6")]);
        assert_eq!(dsa.affected[1].ecosystem, "Debian:9");
        assert_eq!(dsa.affected[1].ranges[0].events, [Event::Introduced("0".to_string())]);
        assert_eq!(out.records[1].advisory.source, "debian-dla");
        assert!(out.records[1].affected.is_empty());
        let lines: Vec<_> = out.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(8), Some(9)], "{:?}", out.warnings);
    }

    #[test]
    fn sniffs_list_files() {
        assert!(looks_like_list(b"[18 Apr 2018] DSA-4205-1 jessie end-of-life\n"));
        assert!(!looks_like_list(b"apache2;cpe:/a:apache:http_server\n"));
    }
}
