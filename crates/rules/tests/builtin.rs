//! The built-in rule pack: each rule fires on the behaviour it names, a
//! clean event of the same type does not, and the pack loads next to
//! Falco's default rules.

use rampart_rules::{MapEvent, Priority, RuleSet};

const CONTAINER: &[(&str, &str)] = &[
    ("container.id", "3f2a1b9c8d7e"),
    ("container.name", "web"),
    ("container.image.repository", "docker.io/library/nginx"),
    ("container.image.tag", "1.25"),
];

fn event(event_type: &str, groups: &[&[(&str, &str)]]) -> MapEvent {
    let mut e = MapEvent::new(event_type);
    for group in groups {
        for (k, v) in *group {
            e.set(k, v).unwrap();
        }
    }
    e
}

struct Case {
    rule: &'static str,
    event_type: &'static str,
    fires: &'static [(&'static str, &'static str)],
    clean: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        rule: "Rampart Shell Spawned in Container",
        event_type: "execve",
        fires: &[
            ("evt.dir", "<"),
            ("proc.name", "bash"),
            ("proc.cmdline", "bash -i"),
            ("proc.pname", "runc"),
        ],
        clean: &[("evt.dir", "<"), ("proc.name", "nginx"), ("proc.cmdline", "nginx -g daemon off;")],
    },
    Case {
        rule: "Rampart Outbound Connection to Public Address from Container",
        event_type: "connect",
        fires: &[
            ("evt.dir", "<"),
            ("evt.rawres", "0"),
            ("fd.typechar", "4"),
            ("fd.cip", "10.244.1.7"),
            ("fd.sip", "198.51.100.20"),
            ("fd.sport", "443"),
        ],
        clean: &[
            ("evt.dir", "<"),
            ("evt.rawres", "0"),
            ("fd.typechar", "4"),
            ("fd.cip", "10.244.1.7"),
            ("fd.sip", "10.96.0.10"),
            ("fd.sport", "53"),
        ],
    },
    Case {
        rule: "Rampart Write Below Temporary Directory in Container",
        event_type: "openat",
        fires: &[
            ("evt.dir", "<"),
            ("evt.is_open_write", "true"),
            ("fd.name", "/tmp/payload"),
            ("evt.arg.flags", "O_WRONLY|O_CREAT"),
        ],
        clean: &[
            ("evt.dir", "<"),
            ("evt.is_open_write", "false"),
            ("fd.name", "/tmp/payload"),
            ("evt.arg.flags", "O_RDONLY"),
        ],
    },
    Case {
        rule: "Rampart Privilege Change in Container",
        event_type: "setuid",
        fires: &[("evt.dir", ">"), ("user.uid", "1000"), ("user.name", "app"), ("evt.arg.uid", "0")],
        clean: &[("evt.dir", ">"), ("user.uid", "0"), ("user.name", "root"), ("evt.arg.uid", "1000")],
    },
    Case {
        rule: "Rampart Drift Binary Executed in Container",
        event_type: "execve",
        fires: &[
            ("evt.dir", "<"),
            ("proc.name", "xmrig"),
            ("proc.exepath", "/tmp/xmrig"),
            ("proc.is_exe_upper_layer", "true"),
        ],
        clean: &[
            ("evt.dir", "<"),
            ("proc.name", "nginx"),
            ("proc.exepath", "/usr/sbin/nginx"),
            ("proc.is_exe_upper_layer", "false"),
        ],
    },
    Case {
        rule: "Rampart Cloud Metadata Service Contacted from Container",
        event_type: "connect",
        fires: &[
            ("evt.dir", "<"),
            ("evt.rawres", "-115"),
            ("evt.res", "EINPROGRESS"),
            ("fd.typechar", "4"),
            ("fd.sip", "169.254.169.254"),
        ],
        clean: &[("evt.dir", "<"), ("evt.rawres", "0"), ("fd.typechar", "4"), ("fd.sip", "169.254.1.1")],
    },
];

#[test]
fn every_builtin_rule_fires_and_a_clean_event_does_not() {
    let (set, warnings) = RuleSet::load_with_builtins(&[]).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(set.rules().len(), CASES.len());
    for rule in set.rules() {
        assert!(CASES.iter().any(|c| c.rule == rule.name), "no case for {}", rule.name);
        assert!(rule.tags.iter().any(|t| t.starts_with("mitre_")), "{}: no MITRE tactic tag", rule.name);
        assert!(rule.tags.iter().any(|t| t.starts_with('T')), "{}: no MITRE technique tag", rule.name);
        assert!(rule.priority >= Priority::Notice, "{}", rule.name);
    }
    for case in CASES {
        let hit = event(case.event_type, &[CONTAINER, case.fires]);
        let matched: Vec<&str> = set.evaluate(&hit).iter().map(|r| r.name.as_str()).collect();
        assert!(matched.contains(&case.rule), "{} did not fire (matched {matched:?})", case.rule);
        let clean = event(case.event_type, &[CONTAINER, case.clean]);
        let matched: Vec<&str> = set.evaluate(&clean).iter().map(|r| r.name.as_str()).collect();
        assert!(!matched.contains(&case.rule), "{} fired on a clean event", case.rule);
        // The same behaviour on the host is not a container finding.
        let host = event(case.event_type, &[&[("container.id", "host")], case.fires]);
        assert!(!set.rule(case.rule).unwrap().matches(&host), "{} fired outside a container", case.rule);
    }
}

#[test]
fn builtin_output_names_the_container() {
    let (set, _) = RuleSet::load_with_builtins(&[]).unwrap();
    let case = &CASES[0];
    let e = event(case.event_type, &[CONTAINER, case.fires]);
    let (line, fields) = set.rule(case.rule).unwrap().format_output(&e);
    assert!(
        line.starts_with("Shell spawned in a container (shell=bash cmdline=bash -i parent=runc"),
        "{line}"
    );
    assert!(line.contains("image=docker.io/library/nginx:1.25"), "{line}");
    assert!(line.contains("user=<NA>"), "{line}");
    assert_eq!(
        fields.get("container.id").cloned().flatten().map(|v| v.to_string()).as_deref(),
        Some("3f2a1b9c8d7e")
    );
}
