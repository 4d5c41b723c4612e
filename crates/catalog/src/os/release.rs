//! Which distribution and release a filesystem holds, and the facts that
//! follow from it: the advisory key and whether the release is still fixed.

use std::time::{SystemTime, UNIX_EPOCH};

use rampart_types::{Ecosystem, Os};

/// Files read to identify the OS, in the order they are trusted. From the
/// sixth on, each is a one-line `<distribution> release <version>` file.
pub(super) const RELEASE_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/lsb-release",
    "etc/centos-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/redhat-release",
    "etc/fedora-release",
    "etc/system-release",
];

/// Release files are a few lines; anything larger is not one.
const MAX_RELEASE_FILE: usize = 64 * 1024;

/// Identifies the OS from its release files, `get` returning a file's
/// content by its path relative to `/` (`etc/os-release`).
///
/// `/etc/os-release` decides the family; the release comes from the
/// distribution's own file where that is more precise (`/etc/alpine-release`
/// 3.20.3, `/etc/debian_version` 12.15, `/etc/redhat-release` 8.6). Without
/// os-release the older files are tried alone. The EOSL flag compares
/// [`end_of_life`] with today's date.
pub fn detect<'a>(get: impl Fn(&str) -> Option<&'a [u8]>) -> Option<Os> {
    let text = |path: &str| {
        get(path).filter(|b| b.len() <= MAX_RELEASE_FILE).map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let mut os = from_os_release(&text).or_else(|| from_legacy_files(&text))?;
    os.eosl = end_of_life(&os).is_some_and(|eol| days_from_civil(eol) < today());
    Some(os)
}

fn from_os_release(text: &impl Fn(&str) -> Option<String>) -> Option<Os> {
    let content = text("etc/os-release").or_else(|| text("usr/lib/os-release"))?;
    let fields = os_release_fields(&content);
    let field = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
    let id = field("ID")?.to_ascii_lowercase();
    let version_id = field("VERSION_ID").unwrap_or_default();
    let family = family_of_id(&id);
    let own = match family {
        "alpine" => text("etc/alpine-release").and_then(|t| first_line(&t)),
        "debian" => text("etc/debian_version").and_then(|t| first_line(&t)),
        "ubuntu" => text("etc/lsb-release").and_then(|t| lsb_field(&t, "DISTRIB_RELEASE")),
        "centos" => text("etc/centos-release").and_then(|t| release_word(&t)),
        "rocky" => text("etc/rocky-release").and_then(|t| release_word(&t)),
        "alma" => text("etc/almalinux-release").and_then(|t| release_word(&t)),
        "redhat" => text("etc/redhat-release").and_then(|t| release_word(&t)),
        _ => None,
    };
    let name = own.unwrap_or_else(|| version_id.to_string());
    if name.is_empty() && family != "wolfi" && family != "chainguard" {
        return None;
    }
    Some(Os { family: family.to_string(), name, eosl: false })
}

/// Systems older than os-release (CentOS 6, Alpine before 3.2 …).
fn from_legacy_files(text: &impl Fn(&str) -> Option<String>) -> Option<Os> {
    let os = |family: &str, name: String| Some(Os { family: family.to_string(), name, eosl: false });
    if let Some(name) = text("etc/alpine-release").and_then(|t| first_line(&t)) {
        return os("alpine", name);
    }
    if let Some(lsb) = text("etc/lsb-release")
        && lsb_field(&lsb, "DISTRIB_ID").is_some_and(|id| id.eq_ignore_ascii_case("ubuntu"))
        && let Some(name) = lsb_field(&lsb, "DISTRIB_RELEASE")
    {
        return os("ubuntu", name);
    }
    if let Some(name) = text("etc/debian_version").and_then(|t| first_line(&t)) {
        return os("debian", name);
    }
    for path in &RELEASE_FILES[5..] {
        let Some(content) = text(path) else { continue };
        let lower = content.to_ascii_lowercase();
        let family = [
            ("centos", "centos"),
            ("rocky", "rocky"),
            ("almalinux", "alma"),
            ("red hat enterprise linux", "redhat"),
            ("fedora", "fedora"),
            ("amazon linux", "amazon"),
            ("oracle linux", "oracle"),
        ]
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|(_, family)| *family);
        if let (Some(family), Some(name)) = (family, release_word(&content)) {
            return os(family, name);
        }
    }
    None
}

/// Trivy's family names for os-release IDs; unknown IDs are kept as they are.
fn family_of_id(id: &str) -> &str {
    match id {
        "rhel" => "redhat",
        "almalinux" => "alma",
        "amzn" => "amazon",
        "ol" => "oracle",
        "opensuse-leap" => "opensuse.leap",
        "opensuse-tumbleweed" => "opensuse.tumbleweed",
        "sles" => "suse linux enterprise server",
        "mariner" => "cbl-mariner",
        other => other,
    }
}

/// `KEY=value` lines with shell quoting, as os-release(5) specifies.
fn os_release_fields(content: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    for line in content.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let value = match raw.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => {
                let inner = raw[1..].strip_suffix(*q as char).unwrap_or(&raw[1..]);
                if *q == b'"' { unescape(inner) } else { inner.to_string() }
            }
            _ => raw.to_string(),
        };
        out.push((key.trim(), value));
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn lsb_field(content: &str, key: &str) -> Option<String> {
    os_release_fields(content).into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).filter(|v| !v.is_empty())
}

fn first_line(content: &str) -> Option<String> {
    content.lines().next().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string)
}

/// The word after `release` in `CentOS Linux release 7.9.2009 (Core)`.
fn release_word(content: &str) -> Option<String> {
    let mut words = content.lines().next()?.split_whitespace();
    words.by_ref().find(|w| *w == "release")?;
    words.next().filter(|w| w.starts_with(|c: char| c.is_ascii_digit())).map(str::to_string)
}

/// The ecosystem packages of this OS belong to and the release advisories
/// are filed under, as the key OSV uses after the colon: Alpine 3.20.3 →
/// `v3.20`, Alpine edge → `edge`, Debian 12.15 → `12`, Ubuntu 22.04 →
/// `22.04:LTS` (OSV marks LTS releases), Ubuntu 23.10 → `23.10`, RHEL,
/// CentOS, Rocky and Alma → their major version. Wolfi and Chainguard are
/// rolling: the release is empty. `None` for families without advisories here.
pub fn advisory_release(os: &Os) -> Option<(Ecosystem, String)> {
    let name = os.name.as_str();
    Some(match os.family.as_str() {
        "alpine" => {
            if is_alpine_edge(name) {
                (Ecosystem::Alpine, "edge".to_string())
            } else {
                let (major, minor) = major_minor(name)?;
                (Ecosystem::Alpine, format!("v{major}.{minor}"))
            }
        }
        "debian" => (Ecosystem::Debian, debian_major(name)?.to_string()),
        "ubuntu" => {
            let (major, minor) = major_minor(name)?;
            let lts = minor == 4 && major % 2 == 0;
            let release = format!("{major}.{minor:02}");
            (Ecosystem::Ubuntu, if lts { format!("{release}:LTS") } else { release })
        }
        "redhat" | "centos" => (Ecosystem::RedHat, major(name)?.to_string()),
        "rocky" => (Ecosystem::Rocky, major(name)?.to_string()),
        "alma" => (Ecosystem::AlmaLinux, major(name)?.to_string()),
        "wolfi" => (Ecosystem::Wolfi, String::new()),
        "chainguard" => (Ecosystem::Chainguard, String::new()),
        _ => return None,
    })
}

/// Alpine's development branch reports the next release as an alpha
/// (`3.21.0_alpha20240923`).
fn is_alpine_edge(name: &str) -> bool {
    name == "edge" || name.contains("_alpha")
}

fn major(name: &str) -> Option<u32> {
    name.split('.').next()?.parse().ok()
}

fn major_minor(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    Some((major, minor))
}

/// Debian's major release; testing and sid write a codename
/// (`trixie/sid`) instead of a number.
fn debian_major(name: &str) -> Option<u32> {
    major(name).or_else(|| {
        let codename = name.split('/').next()?;
        DEBIAN.iter().find(|r| r.1 == codename).map(|r| r.0)
    })
}

/// Debian releases: major version, codename, end of LTS support.
const DEBIAN: &[(u32, &str, Ymd)] = &[
    (6, "squeeze", (2016, 2, 29)),
    (7, "wheezy", (2018, 5, 31)),
    (8, "jessie", (2020, 6, 30)),
    (9, "stretch", (2022, 6, 30)),
    (10, "buster", (2024, 6, 30)),
    (11, "bullseye", (2026, 8, 31)),
    (12, "bookworm", (2028, 6, 30)),
    (13, "trixie", (2030, 6, 30)),
];

/// Ubuntu releases: version, codename, end of standard support (what
/// Ubuntu's own security notices cover without a Pro subscription).
const UBUNTU: &[(&str, &str, Ymd)] = &[
    ("12.04", "precise", (2017, 4, 28)),
    ("14.04", "trusty", (2019, 4, 25)),
    ("16.04", "xenial", (2021, 4, 30)),
    ("18.04", "bionic", (2023, 5, 31)),
    ("18.10", "cosmic", (2019, 7, 18)),
    ("19.04", "disco", (2020, 1, 23)),
    ("19.10", "eoan", (2020, 7, 17)),
    ("20.04", "focal", (2025, 5, 31)),
    ("20.10", "groovy", (2021, 7, 22)),
    ("21.04", "hirsute", (2022, 1, 20)),
    ("21.10", "impish", (2022, 7, 14)),
    ("22.04", "jammy", (2027, 6, 1)),
    ("22.10", "kinetic", (2023, 7, 20)),
    ("23.04", "lunar", (2024, 1, 25)),
    ("23.10", "mantic", (2024, 7, 11)),
    ("24.04", "noble", (2029, 5, 31)),
    ("24.10", "oracular", (2025, 7, 10)),
    ("25.04", "plucky", (2026, 1, 15)),
    ("25.10", "questing", (2026, 7, 9)),
];

/// Alpine minor releases of the 3.x series: end of security fixes.
const ALPINE_3: &[(u32, Ymd)] = &[
    (0, (2016, 5, 1)),
    (1, (2016, 11, 1)),
    (2, (2017, 5, 1)),
    (3, (2017, 11, 1)),
    (4, (2018, 5, 1)),
    (5, (2018, 11, 1)),
    (6, (2019, 5, 1)),
    (7, (2019, 11, 1)),
    (8, (2020, 5, 1)),
    (9, (2020, 11, 1)),
    (10, (2021, 5, 1)),
    (11, (2021, 11, 1)),
    (12, (2022, 5, 1)),
    (13, (2022, 11, 1)),
    (14, (2023, 5, 1)),
    (15, (2023, 11, 1)),
    (16, (2024, 5, 23)),
    (17, (2024, 11, 22)),
    (18, (2025, 5, 9)),
    (19, (2025, 11, 1)),
    (20, (2026, 4, 1)),
    (21, (2026, 11, 1)),
    (22, (2027, 5, 1)),
    (23, (2027, 11, 1)),
];

/// RHEL and its rebuilds by major version: end of maintenance support.
const RHEL: &[(u32, Ymd)] =
    &[(5, (2017, 3, 31)), (6, (2020, 11, 30)), (7, (2024, 6, 30)), (8, (2029, 5, 31)), (9, (2032, 5, 31))];

/// A calendar date: year, month, day.
pub type Ymd = (i32, u32, u32);

/// The last day a release gets security fixes, from the distributions'
/// published schedules as of November 2026: Alpine's release-branch table,
/// Debian's LTS end, Ubuntu's end of standard support, Red Hat's end of
/// maintenance (also used for CentOS, Rocky and Alma; CentOS 8 ended
/// early, on 2021-12-31). `None` for rolling releases (Alpine edge, Wolfi)
/// and releases not in the tables, which are never flagged.
pub fn end_of_life(os: &Os) -> Option<Ymd> {
    let name = os.name.as_str();
    match os.family.as_str() {
        "alpine" if !is_alpine_edge(name) => match major_minor(name)? {
            (3, minor) => ALPINE_3.iter().find(|r| r.0 == minor).map(|r| r.1),
            (major, _) if major < 3 => Some((2016, 5, 1)),
            _ => None,
        },
        "debian" => {
            let major = debian_major(name)?;
            match DEBIAN.iter().find(|r| r.0 == major) {
                Some(r) => Some(r.2),
                None if major < DEBIAN[0].0 => Some(DEBIAN[0].2),
                None => None,
            }
        }
        "ubuntu" => {
            let (major, minor) = major_minor(name)?;
            let release = format!("{major}.{minor:02}");
            UBUNTU.iter().find(|r| r.0 == release).map(|r| r.2)
        }
        "centos" if major(name)? == 8 => Some((2021, 12, 31)),
        "redhat" | "centos" | "rocky" | "alma" => {
            let major = major(name)?;
            RHEL.iter().find(|r| r.0 == major).map(|r| r.1)
        }
        _ => None,
    }
}

/// The codename Debian and Ubuntu file advisories under in their own
/// trackers (`bookworm`, `jammy`).
pub fn codename(os: &Os) -> Option<&'static str> {
    match os.family.as_str() {
        "debian" => {
            let major = debian_major(&os.name)?;
            DEBIAN.iter().find(|r| r.0 == major).map(|r| r.1)
        }
        "ubuntu" => {
            let (major, minor) = major_minor(&os.name)?;
            let release = format!("{major}.{minor:02}");
            UBUNTU.iter().find(|r| r.0 == release).map(|r| r.1)
        }
        _ => None,
    }
}

fn today() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(i64::MAX)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil((y, m, d): Ymd) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil((1970, 1, 1)), 0);
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
        assert_eq!(days_from_civil((2026, 11, 24)), 20_781);
    }

    #[test]
    fn os_release_quoting() {
        let fields =
            os_release_fields("# c\nID=\"rhel\"\nNAME='Red Hat'\nX=\"a \\\"b\\\"\"\nVERSION_ID=8.6\n");
        assert_eq!(
            fields,
            [
                ("ID", "rhel".to_string()),
                ("NAME", "Red Hat".to_string()),
                ("X", "a \"b\"".to_string()),
                ("VERSION_ID", "8.6".to_string())
            ]
        );
    }
}
