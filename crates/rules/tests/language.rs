//! The rule language, table-driven: every operator, transformers, lists,
//! macros, exceptions, append/override, and errors with their positions.

use std::path::PathBuf;

use rampart_rules::{ErrorKind, EventTypes, ItemKind, MapEvent, RuleSet};

fn load(files: &[&str]) -> Result<RuleSet, rampart_rules::LoadErrors> {
    let files: Vec<(PathBuf, String)> =
        files.iter().enumerate().map(|(i, t)| (PathBuf::from(format!("f{i}.yaml")), t.to_string())).collect();
    RuleSet::load(&files).map(|(s, _)| s)
}

fn rule(condition: &str) -> String {
    format!(
        "- rule: r\n  desc: d\n  condition: '{}'\n  output: o\n  priority: INFO\n",
        condition.replace('\'', "''")
    )
}

/// A connect by curl from a container, with most field types set.
fn event() -> MapEvent {
    let mut e = MapEvent::from_pairs(
        "connect",
        &[
            ("proc.name", "curl"),
            ("proc.cmdline", "curl -s https://example.com/Install.SH"),
            ("proc.exepath", "/usr/bin/curl"),
            ("proc.pid", "4242"),
            ("proc.pname", "bash"),
            ("proc.aname[2]", "sshd"),
            ("user.loginuid", "-1"),
            ("fd.name", "/etc/ssl/certs/ca.pem"),
            ("fd.sip", "93.184.216.34"),
            ("fd.cip", "10.1.2.3"),
            ("fd.sport", "443"),
            ("fd.types", "ipv4,file"),
            ("container.id", "3f2a1b9c8d7e"),
            ("container.privileged", "false"),
            ("evt.arg.flags", "O_RDONLY|O_CLOEXEC"),
            ("evt.arg[0]", "3"),
            ("proc.env[B64]", "aGVsbG8="),
        ],
    )
    .unwrap();
    e.set("proc.args", "-s https://example.com/Install.SH").unwrap();
    e
}

#[test]
fn operators_and_transformers() {
    let cases: &[(&str, bool)] = &[
        ("proc.name = curl", true),
        ("proc.name == curl", true),
        ("proc.name = Curl", false),
        ("proc.name != wget", true),
        ("proc.pid > 4000", true),
        ("proc.pid >= 4242", true),
        ("proc.pid < 4242", false),
        ("proc.pid <= 4242", true),
        ("user.loginuid = -1", true),
        ("proc.cmdline contains example.com", true),
        ("proc.cmdline contains EXAMPLE", false),
        ("proc.cmdline icontains EXAMPLE", true),
        ("proc.cmdline bcontains 6578616d706c65", true),
        ("proc.cmdline bstartswith 6375726c", true),
        ("proc.cmdline bstartswith 6375726d", false),
        ("proc.cmdline startswith \"curl -s\"", true),
        ("proc.cmdline endswith .SH", true),
        ("proc.exepath glob /usr/*/curl", true),
        ("proc.exepath glob /usr/?in/curl", true),
        ("proc.exepath glob /opt/*", false),
        ("proc.exepath iglob /USR/BIN/*", true),
        ("proc.cmdline regex \"curl .* https://[a-z]+\\.com/.*\"", true),
        ("proc.cmdline regex \"https://[a-z]+\\.com\"", false),
        ("proc.cmdline regex \"wget.*\"", false),
        ("proc.name in (wget, curl)", true),
        ("proc.name in (wget, \"cu rl\")", false),
        ("proc.name in (a, b, c, d, e, f, g, h, curl)", true),
        ("proc.pid in (1, 4242)", true),
        ("fd.name pmatch (/etc/ssl, /usr)", true),
        ("fd.name pmatch (/etc/ss)", false),
        ("fd.name pmatch (/)", true),
        ("fd.types intersects (ipv4, unix)", true),
        ("fd.types in (ipv4, file, unix)", true),
        ("fd.types in (ipv4, unix)", false),
        ("fd.types[0] = ipv4", false),
        ("proc.pname exists", true),
        ("proc.tty exists", false),
        ("not proc.tty exists", true),
        ("proc.tty = 0", false),
        ("not proc.tty = 0", true),
        ("fd.sip = 93.184.216.34", true),
        ("fd.snet in (\"10.0.0.0/8\", \"192.168.0.0/16\")", false),
        ("fd.snet = \"93.184.0.0/16\"", true),
        ("fd.net = \"10.0.0.0/8\"", true),
        ("fd.cnet != \"10.0.0.0/8\"", false),
        ("container.privileged = false", true),
        ("container.privileged = true", false),
        ("evt.arg.flags contains O_CLOEXEC", true),
        ("evt.arg[flags] contains O_RDONLY", true),
        ("evt.arg[0] = 3", true),
        ("proc.aname[2] = sshd", true),
        ("proc.aname = sshd", true),
        ("proc.aname = init", false),
        ("proc.aname in (init, bash)", true),
        ("tolower(proc.cmdline) contains install.sh", true),
        ("toupper(proc.name) = CURL", true),
        ("basename(proc.exepath) = curl", true),
        ("len(proc.name) = 4", true),
        ("len(proc.name) > 4", false),
        ("b64(proc.env[B64]) = hello", true),
        ("proc.name = val(proc.name)", true),
        ("proc.name = val(proc.pname)", false),
        ("proc.name != val(proc.pname)", true),
        ("evt.type = connect", true),
        ("evt.type in (open, connect)", true),
        ("evt.type != connect", false),
        ("(proc.name = wget or proc.name = curl) and not proc.pid = 1", true),
        ("proc.name = wget or proc.name = curl and proc.pid = 1", false),
    ];
    let e = event();
    let mut failures = Vec::new();
    for (cond, want) in cases {
        match load(&[&rule(cond)]) {
            Ok(set) => {
                let got = set.rule("r").unwrap().matches(&e);
                if got != *want {
                    failures.push(format!("{cond}: expected {want}, got {got}"));
                }
            }
            Err(err) => failures.push(format!("{cond}: does not load: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rule_sets_are_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<RuleSet>();
}

#[test]
fn unknown_event_types_are_warnings() {
    let files = [(PathBuf::from("t.yaml"), rule("evt.type in (openat, opnat) and proc.name = cat"))];
    let (set, warnings) = RuleSet::load(&files).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("unknown event type(s): opnat"), "{}", warnings[0]);
    assert!(
        set.rule("r").unwrap().matches(&MapEvent::from_pairs("openat", &[("proc.name", "cat")]).unwrap())
    );
}

#[test]
fn trait_objects_evaluate_too() {
    let set = load(&[&rule("evt.type = connect and proc.name = curl")]).unwrap();
    let e = event();
    let dynamic: &dyn rampart_rules::Event = &e;
    assert_eq!(set.evaluate(dynamic).len(), 1);
    assert!(set.rule("r").unwrap().matches(dynamic));
}

#[test]
fn missing_fields_make_checks_false() {
    let set = load(&[&rule("evt.type = open and fd.name != /etc/passwd")]).unwrap();
    let without = MapEvent::new("open");
    assert!(!set.rule("r").unwrap().matches(&without));
    let set = load(&[&rule("evt.type = open and not fd.name = /etc/passwd")]).unwrap();
    assert!(set.rule("r").unwrap().matches(&without));
}

#[test]
fn lists_macros_and_nesting() {
    let base = "\
- list: shells
  items: [bash, sh]
- list: all_shells
  items: [shells, zsh, '\"fish shell\"']
- macro: spawned
  condition: evt.type in (execve, execveat)
- macro: shell
  condition: spawned and proc.name in (all_shells)
- rule: r
  desc: d
  condition: shell and not proc.pname in (shells)
  output: o
  priority: INFO
";
    let set = load(&[base]).unwrap();
    let r = set.rule("r").unwrap();
    let run = |name: &str, parent: &str| {
        r.matches(&MapEvent::from_pairs("execve", &[("proc.name", name), ("proc.pname", parent)]).unwrap())
    };
    assert!(run("zsh", "sshd") && run("sh", "sshd") && run("fish shell", "sshd"));
    assert!(!run("zsh", "bash") && !run("python", "sshd"));
    assert_eq!(r.event_types().unwrap().iter().collect::<Vec<_>>(), ["execve", "execveat"]);

    // Later files append to and override lists, macros and rules.
    let later = "\
- list: shells
  items: [python]
  append: true
- macro: shell
  condition: or proc.name = perl
  override:
    condition: append
- rule: r
  condition: and proc.pid > 1
  append: true
- rule: r
  priority: CRITICAL
  output: changed %proc.name
  override:
    priority: replace
    output: replace
";
    let set = load(&[base, later]).unwrap();
    let r = set.rule("r").unwrap();
    assert_eq!(r.priority, rampart_rules::Priority::Critical);
    let ev = |name: &str, parent: &str, pid: &str| {
        MapEvent::from_pairs("execve", &[("proc.name", name), ("proc.pname", parent), ("proc.pid", pid)])
            .unwrap()
    };
    assert!(r.matches(&ev("python", "sshd", "7")), "appended list item");
    assert!(r.matches(&ev("perl", "sshd", "7")), "appended macro condition");
    assert!(!r.matches(&ev("zsh", "python", "7")), "appended list in the negated parent test");
    assert!(!r.matches(&ev("zsh", "sshd", "1")), "appended rule condition");
    assert_eq!(r.format_output(&ev("zsh", "sshd", "7")).0, "changed zsh");

    let replace = "- list: shells\n  items: [ksh]\n  override:\n    items: replace\n";
    let set = load(&[base, replace]).unwrap();
    assert!(!set.rule("r").unwrap().matches(&ev("bash", "sshd", "1")), "bash no longer in shells");
    assert!(set.rule("r").unwrap().matches(&ev("ksh", "sshd", "1")), "ksh replaced the items");
}

#[test]
fn exceptions_in_both_forms() {
    let text = "\
- list: allowed_cmdlines
  items: [\"cat /etc/hosts\"]
- rule: r
  desc: d
  condition: evt.type = open and proc.name = cat
  output: o
  priority: INFO
  exceptions:
    - name: by_cmdline
      fields: proc.cmdline
      values: [allowed_cmdlines, \"cat /etc/motd\"]
    - name: by_parent_and_file
      fields: [proc.pname, fd.name]
      comps: [=, startswith]
      values:
        - [cron, /var/log]
    - name: by_file_list
      fields: [proc.pname, fd.name]
      comps: [=, in]
      values:
        - [make, [/tmp/a, /tmp/b]]
- rule: r
  exceptions:
    - name: by_parent_and_file
      values:
        - [logrotate, /var/log]
    - name: new_one
      fields: [fd.name]
      comps: [pmatch]
      values:
        - [\"(/srv, /opt)\"]
  append: true
";
    let set = load(&[text]).unwrap();
    let r = set.rule("r").unwrap();
    let open = |cmd: &str, parent: &str, file: &str| {
        r.matches(
            &MapEvent::from_pairs(
                "open",
                &[("proc.name", "cat"), ("proc.cmdline", cmd), ("proc.pname", parent), ("fd.name", file)],
            )
            .unwrap(),
        )
    };
    assert!(open("cat /etc/shadow", "bash", "/etc/shadow"));
    assert!(!open("cat /etc/hosts", "bash", "/etc/hosts"), "list reference in single-field values");
    assert!(!open("cat /etc/motd", "bash", "/etc/motd"));
    assert!(!open("cat x", "cron", "/var/log/syslog"), "tuple with startswith");
    assert!(open("cat x", "cron", "/etc/x"), "both fields must hold");
    assert!(!open("cat x", "logrotate", "/var/log/x"), "appended values to an existing exception");
    assert!(!open("cat x", "make", "/tmp/b"), "a sequence as an in-list");
    assert!(open("cat x", "make", "/tmp/c"));
    assert!(!open("cat x", "bash", "/srv/data/f"), "appended new exception with pmatch");
}

#[test]
fn event_type_index_and_all_bucket() {
    let text = "\
- rule: opens
  desc: d
  condition: evt.type in (open, openat) and proc.name = cat
  output: o
  priority: INFO
- rule: not_execs
  desc: d
  condition: evt.type != execve and proc.name = cat
  output: o
  priority: INFO
- rule: either
  desc: d
  condition: (evt.type = open and proc.name = a) or (evt.type = connect and proc.name = b)
  output: o
  priority: INFO
";
    let files = [(PathBuf::from("t.yaml"), text.to_string())];
    let (set, warnings) = RuleSet::load(&files).unwrap();
    assert_eq!(
        set.rule("either").unwrap().event_types().unwrap().iter().collect::<Vec<_>>(),
        ["connect", "open"]
    );
    assert!(set.rule("not_execs").unwrap().event_types().is_none());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].message.contains("every event type")
            && warnings[0].location.item.as_ref().unwrap().1 == "not_execs"
    );
    assert_eq!(set.event_types(), EventTypes::All);
    let cat = |t: &str| MapEvent::from_pairs(t, &[("proc.name", "cat")]).unwrap();
    let names = |t: &str| set.evaluate(&cat(t)).iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(names("open"), ["opens", "not_execs"]);
    assert_eq!(names("read"), ["not_execs"]);
    assert!(names("execve").is_empty());

    let mut set = set;
    assert!(set.set_enabled("not_execs", false));
    let EventTypes::Only(types) = set.event_types() else { panic!("all") };
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["connect", "open", "openat"]);
}

/// Rules text, expected line and column (0: not checked), item, and message.
type ErrorCase = (&'static str, u32, u32, Option<(ItemKind, &'static str)>, &'static str);

#[test]
fn errors_name_file_line_column_and_item() {
    let cases: &[ErrorCase] = &[
        (
            "- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n  priority: INFO\n",
            3,
            14,
            Some((ItemKind::Rule, "r")),
            "unknown field",
        ),
        (
            "- rule: r\n  desc: d\n  condition: evt.type = open and not_a_macro\n  output: o\n  priority: INFO\n",
            3,
            34,
            Some((ItemKind::Rule, "r")),
            "undefined macro 'not_a_macro'",
        ),
        (
            "- rule: r\n  desc: d\n  condition: proc.name in nolist\n  output: o\n  priority: INFO\n",
            3,
            27,
            Some((ItemKind::Rule, "r")),
            "undefined list 'nolist'",
        ),
        (
            "- rule: r\n  desc: d\n  condition: proc.pid contains 3\n  output: o\n  priority: INFO\n",
            3,
            23,
            Some((ItemKind::Rule, "r")),
            "bad operator",
        ),
        (
            "- rule: r\n  desc: d\n  condition: proc.name regex \"a(b\"\n  output: o\n  priority: INFO\n",
            3,
            0,
            Some((ItemKind::Rule, "r")),
            "bad regular expression",
        ),
        (
            "- rule: r\n  desc: d\n  condition: proc.pid = abc\n  output: o\n  priority: INFO\n",
            3,
            25,
            Some((ItemKind::Rule, "r")),
            "wrong value type",
        ),
        (
            "- macro: m\n  condition: >\n    evt.type = open and\n    proc.name = x and (\n",
            3,
            0,
            Some((ItemKind::Macro, "m")),
            "condition syntax",
        ),
        (
            "- macro: m\n  condition: >\n    evt.type = open\n    and proc.nam = x\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n",
            4,
            9,
            Some((ItemKind::Macro, "m")),
            "unknown field",
        ),
        (
            "- macro: a\n  condition: b\n- macro: b\n  condition: a\n",
            0,
            0,
            Some((ItemKind::Macro, "a")),
            "macro loop",
        ),
        (
            "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: \"x %proc.nope\"\n  priority: INFO\n",
            4,
            0,
            Some((ItemKind::Rule, "r")),
            "invalid output",
        ),
        (
            "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: LOUD\n",
            5,
            13,
            Some((ItemKind::Rule, "r")),
            "invalid priority",
        ),
        (
            "- rule: r\n  condition: evt.type = open\n",
            1,
            3,
            Some((ItemKind::Rule, "r")),
            "rule has no output, desc, priority",
        ),
        (
            "- list: l\n  items: [a]\n  append: true\n",
            1,
            3,
            Some((ItemKind::List, "l")),
            "no earlier definition",
        ),
        ("- rule: r\n  desc: [d\n", 2, 0, None, "YAML syntax"),
        ("rule: r\n", 1, 1, None, "not a sequence"),
    ];
    for (text, line, col, item, msg) in cases {
        let err = load(&[text]).err().unwrap_or_else(|| panic!("loads: {text}"));
        let e = &err.0[0];
        let shown = e.to_string();
        assert!(shown.contains(msg), "{text}\n=> {shown}");
        assert!(shown.starts_with("f0.yaml:"), "{shown}");
        if *line > 0 {
            assert_eq!(e.location.line, *line, "{shown}");
        }
        if *col > 0 {
            assert_eq!(e.location.col, *col, "{shown}");
        }
        assert_eq!(e.location.item.as_ref().map(|(k, n)| (*k, n.as_str())), *item, "{shown}");
    }
    let err = load(&["- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n  priority: INFO\n"])
        .unwrap_err();
    assert!(matches!(err.0[0].kind, ErrorKind::UnknownField(_)));
}

#[test]
fn non_syscall_sources_are_loaded_and_skipped() {
    let text = "- rule: k\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
    let (set, warnings) = RuleSet::load(&[(PathBuf::from("k.yaml"), text.to_string())]).unwrap();
    assert!(!set.rule("k").unwrap().is_evaluated());
    assert!(warnings.iter().any(|w| w.message.contains("k8s_audit")));
    assert_eq!(set.event_types(), EventTypes::Only(Default::default()));
}

#[test]
fn hostile_input_is_refused() {
    let deep = format!("- macro: m\n  condition: {}a{}\n", "(".repeat(500), ")".repeat(500));
    assert!(load(&[&deep]).unwrap_err().to_string().contains("nested"));
    let chain = |n: usize| {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("- macro: m{i}\n  condition: m{}\n", i + 1));
        }
        text.push_str(&format!("- macro: m{n}\n  condition: evt.type = open\n"));
        text + &rule("m0")
    };
    assert!(load(&[&chain(20)]).is_ok(), "macro chains of real depth load");
    assert!(load(&[&chain(300)]).unwrap_err().to_string().contains("macros nested more than"));
}
