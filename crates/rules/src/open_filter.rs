//! Which file opens the enabled rules can possibly match, derived from their
//! conditions, so a sensor can drop the others before they reach user space.
//!
//! The result is a necessary condition: an open outside it makes every
//! enabled rule false. It is built from the checks a sensor can test on the
//! raw syscall (the path and the flags); any other check counts as "could be
//! true", so a rule that constrains neither keeps every open.
//!
//! It holds for opens whose path argument is absolute and plain: no `//`,
//! no `/.`, no `..`, no trailing `/`. Such a path is already `fd.name` (and
//! `fd.nameraw`); a sensor must pass every other open on unfiltered.

use crate::compile::{Cond, Const, Test};
use crate::event::{Field, FieldArg};
use crate::ruleset::RuleSet;

/// The event types whose events this filter is about.
pub const OPEN_EVENT_TYPES: [&str; 4] = ["open", "openat", "openat2", "creat"];

/// A path constraint on an open's absolute, normalised path (`fd.name`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathNeed {
    Any,
    Exact(String),
    /// Starts with these bytes (no implied `/`).
    Prefix(String),
}

/// One alternative: the path test and, when `flags` is not 0, at least one
/// of these open(2) flag bits set (the access mode is the low two bits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenNeed {
    pub path: PathNeed,
    pub flags: u32,
}

/// Past this many alternatives the filter is not worth building.
const MAX_NEEDS: usize = 4096;

/// `None`: nothing can be excluded. `Some(v)`: an open some rule may match
/// meets one of `v` (empty: no rule is about opens).
type Needs = Option<Vec<OpenNeed>>;

const O_ACCMODE: u32 = 3;
const O_TRUNC: u32 = 0o1000;

fn any() -> Needs {
    None
}

fn one(path: PathNeed, flags: u32) -> Needs {
    Some(vec![OpenNeed { path, flags }])
}

fn many(paths: impl IntoIterator<Item = PathNeed>) -> Needs {
    let v: Vec<OpenNeed> = paths.into_iter().map(|path| OpenNeed { path, flags: 0 }).collect();
    if v.len() > MAX_NEEDS { None } else { Some(v) }
}

fn meet_path(a: &PathNeed, b: &PathNeed) -> Option<PathNeed> {
    use PathNeed::*;
    match (a, b) {
        (Any, x) | (x, Any) => Some(x.clone()),
        (Exact(x), Exact(y)) => (x == y).then(|| Exact(x.clone())),
        (Exact(x), Prefix(p)) | (Prefix(p), Exact(x)) => x.starts_with(p.as_str()).then(|| Exact(x.clone())),
        (Prefix(p), Prefix(q)) => {
            if p.starts_with(q.as_str()) {
                Some(Prefix(p.clone()))
            } else if q.starts_with(p.as_str()) {
                Some(Prefix(q.clone()))
            } else {
                None
            }
        }
    }
}

/// Both hold. Flag masks are not intersected: keeping one of them is a
/// weaker, still necessary, condition.
fn and(a: Needs, b: Needs) -> Needs {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            if a.len().saturating_mul(b.len()) > MAX_NEEDS {
                return Some(if a.len() <= b.len() { a } else { b });
            }
            let mut out = Vec::new();
            for x in &a {
                for y in &b {
                    if let Some(path) = meet_path(&x.path, &y.path) {
                        let flags = if x.flags != 0 { x.flags } else { y.flags };
                        out.push(OpenNeed { path, flags });
                    }
                }
            }
            out.sort();
            out.dedup();
            Some(out)
        }
    }
}

fn or(a: Needs, b: Needs) -> Needs {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    a.sort();
    a.dedup();
    if a.len() > MAX_NEEDS { None } else { Some(a) }
}

/// The literal start of a glob pattern.
fn glob_prefix(pattern: &str) -> &str {
    let end = pattern.find(['*', '?', '[', '{', '\\']).unwrap_or(pattern.len());
    &pattern[..end]
}

fn dir_prefix(dir: &str) -> PathNeed {
    if dir.ends_with('/') { PathNeed::Prefix(dir.to_string()) } else { PathNeed::Prefix(format!("{dir}/")) }
}

fn flag_bit(name: &str) -> Option<u32> {
    Some(match name {
        "O_WRONLY" => 1,
        "O_RDWR" => 2,
        "O_CREAT" => 0o100,
        "O_EXCL" => 0o200,
        "O_TRUNC" => O_TRUNC,
        "O_APPEND" => 0o2000,
        _ => return None,
    })
}

fn check(c: &crate::compile::CheckC) -> Needs {
    if !c.lhs.transforms.is_empty() || c.list_field {
        return any();
    }
    match (c.lhs.field, &c.test) {
        (Field::FdName | Field::FdNameraw, Test::Eq(Const::Str(s))) => one(PathNeed::Exact(s.to_string()), 0),
        (Field::FdName | Field::FdNameraw, Test::In(set)) => {
            many(set.strings()?.into_iter().map(|s| PathNeed::Exact(s.to_string())))
        }
        // Plain paths (see above) never contain these.
        (Field::FdName | Field::FdNameraw, Test::Contains(x))
            if x.contains("..") || x.contains("/.") || x.contains("//") =>
        {
            Some(Vec::new())
        }
        (Field::FdName | Field::FdNameraw | Field::FdDirectory, Test::StartsWith(p)) => {
            one(PathNeed::Prefix(p.to_string()), 0)
        }
        // `pmatch` is the path itself or below it: the bare prefix covers both.
        (Field::FdName | Field::FdNameraw | Field::FdDirectory, Test::Pmatch(ps)) => {
            many(ps.prefixes().map(|p| PathNeed::Prefix(p.to_string())))
        }
        (Field::FdName | Field::FdNameraw, Test::Glob(g)) => {
            one(PathNeed::Prefix(glob_prefix(g.glob().glob()).to_string()), 0)
        }
        (Field::FdDirectory, Test::Eq(Const::Str(d))) => one(dir_prefix(d), 0),
        (Field::FdDirectory, Test::In(set)) => many(set.strings()?.into_iter().map(dir_prefix)),
        // names::open_access: written when the access mode is not O_RDONLY
        // or O_TRUNC is set.
        (Field::EvtIsOpenWrite, Test::Eq(Const::Bool(true))) => one(PathNeed::Any, O_ACCMODE | O_TRUNC),
        (Field::EvtArg, Test::Contains(name)) if c.lhs.arg == FieldArg::Key("flags".into()) => {
            one(PathNeed::Any, flag_bit(name)?)
        }
        _ => any(),
    }
}

fn needs(c: &Cond) -> Needs {
    match c {
        Cond::True => any(),
        Cond::False => Some(Vec::new()),
        Cond::Macro { inner, .. } => needs(inner),
        Cond::EvtType(types) => {
            if types.iter().any(|t| OPEN_EVENT_TYPES.contains(&&**t)) {
                any()
            } else {
                Some(Vec::new())
            }
        }
        Cond::Check(c) => check(c),
        Cond::Not(inner) => match &**inner {
            Cond::EvtType(types) if OPEN_EVENT_TYPES.iter().all(|o| types.iter().any(|t| &**t == *o)) => {
                Some(Vec::new())
            }
            _ => any(),
        },
        Cond::And(terms) => terms.iter().fold(any(), |acc, t| and(acc, needs(t))),
        Cond::Or(terms) => terms.iter().try_fold(Vec::new(), |acc, t| or(Some(acc), needs(t))),
    }
}

impl RuleSet {
    /// The opens the enabled rules can match: `None` when every open may
    /// matter, otherwise the alternatives an open must meet one of (empty
    /// when no rule is about opens).
    pub fn open_filter(&self) -> Option<Vec<OpenNeed>> {
        let mut acc = Some(Vec::new());
        for rule in self.rules().iter().filter(|r| r.enabled) {
            let Some(cond) = rule.condition() else { continue };
            let about_opens =
                rule.event_types().is_none_or(|t| OPEN_EVENT_TYPES.iter().any(|o| t.contains(*o)));
            if about_opens {
                acc = or(acc, needs(cond));
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn filter(rules: &str) -> Option<Vec<OpenNeed>> {
        let (set, _) = RuleSet::load(&[(PathBuf::from("t.yaml"), rules.to_string())]).unwrap();
        set.open_filter()
    }

    fn rule(cond: &str) -> String {
        format!("- rule: r\n  desc: d\n  condition: {cond}\n  output: o\n  priority: INFO\n")
    }

    fn exact(s: &str, flags: u32) -> OpenNeed {
        OpenNeed { path: PathNeed::Exact(s.into()), flags }
    }

    fn prefix(s: &str, flags: u32) -> OpenNeed {
        OpenNeed { path: PathNeed::Prefix(s.into()), flags }
    }

    #[test]
    fn conditions_to_needs() {
        let write = O_ACCMODE | O_TRUNC;
        let cases: &[(&str, Option<Vec<OpenNeed>>)] = &[
            ("evt.type = execve and proc.name = sh", Some(vec![])),
            ("evt.type = openat and proc.name = sh", None),
            ("evt.type = openat and fd.name = /etc/shadow", Some(vec![exact("/etc/shadow", 0)])),
            (
                "evt.type in (open, openat) and fd.name in (/etc/shadow, /etc/sudoers)",
                Some(vec![exact("/etc/shadow", 0), exact("/etc/sudoers", 0)]),
            ),
            (
                "evt.type = openat and evt.is_open_write = true",
                Some(vec![OpenNeed { path: PathNeed::Any, flags: write }]),
            ),
            (
                "evt.type = openat and evt.is_open_write = true and fd.name pmatch (/tmp, /dev/shm)",
                Some(vec![prefix("/dev/shm", write), prefix("/tmp", write)]),
            ),
            (
                "evt.type = openat and fd.name startswith /etc and (fd.name in (/etc/shadow, /bin/x) or fd.directory in (/etc/pam.d))",
                Some(vec![exact("/etc/shadow", 0), prefix("/etc/pam.d/", 0)]),
            ),
            ("evt.type = openat and fd.name glob '/proc/*/environ'", Some(vec![prefix("/proc/", 0)])),
            (
                "evt.type = openat and evt.arg.flags contains O_CREAT and fd.directory = /dev",
                Some(vec![prefix("/dev/", 0o100)]),
            ),
            // Checks the sensor cannot see keep every open.
            ("evt.type = openat and fd.name contains id_rsa", None),
            ("evt.type = openat and fd.nameraw contains '../'", Some(vec![])),
            ("evt.type = openat and not fd.name = /etc/shadow", None),
            ("evt.type = openat and tolower(fd.name) = /etc/shadow", None),
            ("evt.type = openat and evt.is_open_read = true", None),
            (
                "(evt.type = execve and proc.name = sh) or (evt.type = openat and fd.name = /x)",
                Some(vec![exact("/x", 0)]),
            ),
            ("(evt.type = openat and fd.name = /x) or (evt.type = openat and proc.name = y)", None),
        ];
        for (cond, want) in cases {
            assert_eq!(&filter(&rule(cond)), want, "{cond}");
        }
    }

    #[test]
    fn disabled_rules_and_other_sources_do_not_count() {
        let text = format!("{}  enabled: false\n", rule("evt.type = openat"));
        assert_eq!(filter(&text), Some(vec![]));
    }

    #[test]
    fn builtin_and_falco_rules_leave_reads_of_ordinary_files_out() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/falco/rules/falco_rules.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("test data missing: {}: {e} (../shared/data)", path.display()));
        let (set, _) = RuleSet::load_with_builtins(&[(path, text)]).unwrap();
        let needs = set.open_filter().expect("the default rules constrain opens");
        let admits = |path: &str, flags: u32| {
            needs.iter().any(|n| {
                let p = match &n.path {
                    PathNeed::Any => true,
                    PathNeed::Exact(x) => x == path,
                    PathNeed::Prefix(x) => path.starts_with(x.as_str()),
                };
                p && (n.flags == 0 || n.flags & flags != 0)
            })
        };
        assert!(!admits("/etc/hostname", 0), "{needs:?}");
        assert!(!admits("/usr/lib/x86_64-linux-gnu/libc.so.6", 0));
        assert!(admits("/etc/shadow", 0));
        assert!(admits("/tmp/x", 1), "a write below /tmp (built-in rule)");
        assert!(admits("/etc/pam.d/sshd", 0));
        assert!(admits("/var/log/syslog", 0o1000), "truncating a file is a write");
        assert!(!admits("/tmp/x", 0), "reads below /tmp");
    }
}
