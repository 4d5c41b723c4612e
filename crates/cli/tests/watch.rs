//! `rampart watch` end to end with the real eBPF sensor: workloads run in a
//! cgroup named like a Docker container, in new pid/mount namespaces,
//! chrooted into the Alpine minirootfs from ../shared/data. Network tests
//! use a network namespace the test creates, with a dummy interface holding
//! the "remote" address and a local listener: no packet leaves it.
//!
//! These tests need root (CI runs as root) and the tools `scripts/test`
//! installs. Without them they fail, saying what is missing; set
//! RAMPART_SKIP_ROOT_TESTS=1 to skip them knowingly on a machine without root.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|x| x == "0"))
        })
        .unwrap_or(false)
}

macro_rules! require_root {
    () => {
        if !preflight() {
            return;
        }
    };
}

/// Whether the live tests can run: false only when skipping was asked for;
/// a missing privilege or tool fails the test with what to install.
fn preflight() -> bool {
    if !is_root() {
        if std::env::var_os("RAMPART_SKIP_ROOT_TESTS").is_some_and(|v| v == "1") {
            eprintln!("skipped (RAMPART_SKIP_ROOT_TESTS=1): rampart watch's eBPF sensor needs root");
            return false;
        }
        panic!(
            "rampart watch's end-to-end tests load the eBPF sensor and need root: run them as root \
             (CI does), or set RAMPART_SKIP_ROOT_TESTS=1 to skip them"
        );
    }
    // (tool, Debian package): namespaces, the cgroup workload, the listeners
    // and the setuid test program.
    let tools = [
        ("ip", "iproute2"),
        ("nsenter", "util-linux"),
        ("unshare", "util-linux"),
        ("setpriv", "util-linux"),
        ("chroot", "coreutils"),
        ("tar", "tar"),
        ("python3", "python3"),
        ("gcc", "gcc"),
    ];
    let missing: Vec<String> = tools
        .iter()
        .filter(|(t, _)| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {t}"))
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(t, pkg)| format!("{t} (Debian package {pkg})"))
        .collect();
    assert!(
        missing.is_empty(),
        "rampart watch's end-to-end tests need: {}; scripts/test installs them",
        missing.join(", ")
    );
    true
}

fn sh(script: &str) {
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cgroup2_root() -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for line in text.lines() {
        let (left, right) = line.split_once(" - ").unwrap();
        if right.starts_with("cgroup2 ") {
            return PathBuf::from(left.split_whitespace().nth(4).unwrap());
        }
    }
    panic!("no cgroup v2 mount on this machine (the tests put workloads in a v2 cgroup)");
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A cgroup named like a Docker container, with a root filesystem.
struct Container {
    id: String,
    cgroup: PathBuf,
    dir: tempfile::TempDir,
}

impl Container {
    fn new() -> Container {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let seed = format!("{}-{n}-{:?}", std::process::id(), Instant::now());
        let mut id = String::new();
        // 64 hex digits, different for every container of every run.
        let mut h: u64 = 0xcbf29ce484222325;
        while id.len() < 64 {
            for b in seed.bytes().chain(id.clone().into_bytes()) {
                h = (h ^ b as u64).wrapping_mul(0x100000001b3);
            }
            id.push_str(&format!("{h:016x}"));
        }
        id.truncate(64);
        let cgroup = cgroup2_root()
            .join(format!("rampart-test-{}-{n}", std::process::id()))
            .join(format!("docker-{id}"));
        std::fs::create_dir_all(&cgroup).unwrap();
        let dir = tempfile::Builder::new().prefix("rampart-watch").tempdir_in("/tmp").unwrap();
        let tarball = common::shared_data().join("images/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz");
        assert!(tarball.is_file(), "test data missing: {}", tarball.display());
        let rootfs = dir.path().join("lower");
        std::fs::create_dir_all(&rootfs).unwrap();
        sh(&format!("tar -xzf {} -C {}", tarball.display(), rootfs.display()));
        Container { id, cgroup, dir }
    }

    fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// Runs `script` with busybox sh inside the container: its cgroup, new
    /// pid and mount namespaces, an overlay root (image below, writable
    /// layer above, as a container runtime sets it up), optionally in a
    /// network namespace.
    fn run(&self, netns: Option<&str>, script: &str) -> std::process::Output {
        self.run_argv(netns, &["/bin/sh", "-c", script])
    }

    fn run_argv(&self, netns: Option<&str>, argv: &[&str]) -> std::process::Output {
        let d = self.dir.path();
        for sub in ["upper", "work", "merged"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let quoted: Vec<String> = argv.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect();
        // The setup shell joins the container's cgroup only for its last
        // step, exec'ing chroot, as a runtime's init does: the container's
        // first program is then the workload itself.
        let inner = format!(
            "mount -t overlay overlay -o lowerdir={d}/lower,upperdir={d}/upper,workdir={d}/work {d}/merged \
             && echo 0 > {cg}/cgroup.procs && exec /usr/sbin/chroot {d}/merged {}",
            quoted.join(" "),
            d = d.display(),
            cg = self.cgroup.display()
        );
        // nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroup.
        let netns_prefix = netns.map(|n| format!("nsenter --net=/run/netns/{n} ")).unwrap_or_default();
        let outer =
            format!("exec {netns_prefix}unshare --fork --pid --mount --propagation private sh -c \"$0\"");
        Command::new("sh").arg("-c").arg(outer).arg(inner).output().unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = std::fs::write(self.cgroup.join("cgroup.kill"), "1");
        for _ in 0..50 {
            if std::fs::remove_dir(&self.cgroup).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(parent) = self.cgroup.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// A network namespace with its own interface (a veth pair, both ends
/// inside) holding `addr` and a TCP
/// listener on it, so a connect there succeeds without leaving the namespace.
struct NetNs {
    name: String,
    listener: Option<Child>,
}

impl NetNs {
    fn new(addr: &str, port: u16) -> NetNs {
        let name = format!("rampart-t{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let mut ns = NetNs { name: name.clone(), listener: None };
        sh(&format!(
            "ip netns add {name} && ip -n {name} link set lo up && ip -n {name} link add rt0 type veth peer name rt1 \
             && ip -n {name} addr add {addr}/32 dev rt0 && ip -n {name} link set rt0 up \
             && ip -n {name} link set rt1 up"
        ));
        let code = format!(
            "import socket,sys\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('{addr}',{port}))\ns.listen(8)\nprint('ready',flush=True)\ns.settimeout(30)\n\
             while True:\n  c,_=s.accept()\n  c.close()\n"
        );
        let mut child = Command::new("ip")
            .args(["netns", "exec", &name, "python3", "-c", &code])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        ns.listener = Some(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "listener in {name} did not start");
        ns
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if let Some(l) = self.listener.as_mut() {
            let _ = l.kill();
            let _ = l.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// `rampart watch` running in the background until `stop`.
struct Watch {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Watch {
    fn start(extra: &[&str]) -> Watch {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alerts.json");
        let mut child = common::rampart(dir.path())
            .args(["watch", "--format", "json", "--duration", "60", "-o"])
            .arg(&out)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The sensor is attached once "watching" is printed.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = stderr.read_line(&mut line).unwrap();
            assert!(n > 0, "rampart watch exited before it started watching:\n{seen}");
            if line.contains("watching:") {
                break;
            }
            seen.push_str(&line);
        }
        std::thread::spawn(move || {
            let mut rest = String::new();
            while stderr.read_line(&mut rest).unwrap_or(0) > 0 {}
            eprint!("{rest}");
        });
        Watch { child, out, _dir: dir }
    }

    /// Stops the watcher (SIGINT: it drains the ring buffer first) and
    /// returns every alert.
    fn stop(mut self) -> Vec<Value> {
        // Events reach user space within milliseconds; leave some slack.
        std::thread::sleep(Duration::from_millis(700));
        sh(&format!("kill -INT {}", self.child.id()));
        let status = self.child.wait().unwrap();
        assert!(status.success(), "rampart watch failed: {status}");
        let text = std::fs::read_to_string(&self.out).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn for_container<'a>(alerts: &'a [Value], c: &Container) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["output_fields"]["container.id"].as_str() == Some(c.short_id())).collect()
}

fn rules_of(alerts: &[&Value]) -> Vec<String> {
    let mut v: Vec<String> = alerts.iter().map(|a| a["rule"].as_str().unwrap().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

fn one<'a>(alerts: &'a [&'a Value], rule: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule:?} alert among {:?}", rules_of(alerts)))
}

#[test]
fn shell_in_container_and_write_below_tmp() {
    require_root!();
    let c = Container::new();
    let w = Watch::start(&[]);
    let out = c.run(None, "echo payload > /tmp/dropped && cat /tmp/dropped");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);

    let shell = one(&mine, "Rampart Shell Spawned in Container");
    let f = &shell["output_fields"];
    assert_eq!(f["proc.name"], "sh");
    assert_eq!(f["user.name"], "root");
    assert_eq!(f["user.uid"], 0);
    assert_eq!(f["proc.cmdline"], "sh -c echo payload > /tmp/dropped && cat /tmp/dropped");
    assert_eq!(f["proc.pname"], "unshare");
    assert_eq!(shell["priority"], "Warning");
    assert_eq!(shell["source"], "syscall");
    assert!(shell["tags"].as_array().unwrap().iter().any(|t| t == "container"));
    assert!(shell["time"].as_str().unwrap().ends_with('Z'));

    let write = one(&mine, "Rampart Write Below Temporary Directory in Container");
    let f = &write["output_fields"];
    assert_eq!(f["fd.name"], "/tmp/dropped");
    // musl adds O_LARGEFILE.
    let flags = f["evt.arg.flags"].as_str().unwrap();
    assert!(flags.starts_with("O_WRONLY|O_CREAT|O_TRUNC"), "{flags}");
    assert_eq!(f["proc.name"], "sh");
}

#[test]
fn drift_binary_from_the_writable_layer() {
    require_root!();
    let c = Container::new();
    let w = Watch::start(&[]);
    // A copy of busybox in the writable layer, run under an applet's name.
    let out = c.run(None, "cp /bin/busybox /usr/local/bin/true && /usr/local/bin/true && /bin/true");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);
    let drift: Vec<&&Value> =
        mine.iter().filter(|a| a["rule"] == "Rampart Drift Binary Executed in Container").collect();
    assert_eq!(drift.len(), 1, "only the copied binary is drift: {drift:?}");
    let f = &drift[0]["output_fields"];
    assert_eq!(f["proc.exepath"], "/usr/local/bin/true");
    assert_eq!(drift[0]["priority"], "Critical");
}

#[test]
fn outbound_connection_to_a_public_address() {
    require_root!();
    let c = Container::new();
    let ns = NetNs::new("203.0.113.7", 8443);
    let w = Watch::start(&[]);
    let out = c.run(Some(&ns.name), "echo hi | nc 203.0.113.7 8443");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);
    let a = one(&mine, "Rampart Outbound Connection to Public Address from Container");
    let f = &a["output_fields"];
    assert_eq!(f["fd.sip"], "203.0.113.7");
    assert_eq!(f["fd.sport"], 8443);
    assert_eq!(f["fd.l4proto"], "tcp");
    assert_eq!(f["proc.name"], "nc");
    let name = f["fd.name"].as_str().unwrap();
    assert!(name.starts_with("203.0.113.7:") && name.ends_with("->203.0.113.7:8443"), "{name}");
}

#[test]
fn cloud_metadata_service() {
    require_root!();
    let c = Container::new();
    let ns = NetNs::new("169.254.169.254", 80);
    let w = Watch::start(&[]);
    let out = c.run(Some(&ns.name), "echo hi | nc 169.254.169.254 80");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);
    let a = one(&mine, "Rampart Cloud Metadata Service Contacted from Container");
    assert!(a["output_fields"]["fd.name"].as_str().unwrap().ends_with("->169.254.169.254:80"));
    // Link-local is private: not also an outbound-to-public alert.
    assert!(!rules_of(&mine).iter().any(|r| r.contains("Public Address")), "{:?}", rules_of(&mine));
}

/// A setuid-root program (no libc: raw x86_64 syscalls) that makes its
/// real ids root too, setgid(0) then setuid(0), and exits 0 when getuid() is
/// 0: what an escalation through a setuid binary does.
const GETROOT_C: &str = r#"
static long sys1(long n, long a) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}
void _start(void) {
    int ok = sys1(106, 0) == 0 && sys1(105, 0) == 0 && sys1(102, 0) == 0;
    sys1(60, ok ? 0 : 1);
    for (;;) {}
}
"#;

#[test]
fn privilege_change_in_container() {
    require_root!();
    let c = Container::new();
    // The program is part of the image (the lower layer), setuid root.
    let src = c.dir.path().join("getroot.c");
    std::fs::write(&src, GETROOT_C).unwrap();
    let bin = c.dir.path().join("lower/usr/sbin/getroot");
    sh(&format!(
        "gcc -O2 -static -nostdlib -fno-stack-protector -o {bin} {src} && chown 0:0 {bin} && chmod 4755 {bin}",
        bin = bin.display(),
        src = src.display()
    ));
    let w = Watch::start(&[]);
    // busybox su, run by root, drops to nobody (no password asked) and
    // execs the program as that user's shell.
    let out = c.run_argv(None, &["/bin/su", "-s", "/usr/sbin/getroot", "nobody"]);
    assert!(out.status.success(), "getroot did not become root: {}", String::from_utf8_lossy(&out.stderr));
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);
    let changes: Vec<&&Value> =
        mine.iter().filter(|a| a["rule"] == "Rampart Privilege Change in Container").collect();
    let mut types: Vec<&str> =
        changes.iter().map(|a| a["output_fields"]["evt.type"].as_str().unwrap()).collect();
    types.sort();
    // su's own setgid/setuid to nobody is a change away from root: no alert.
    assert_eq!(types, ["setgid", "setuid"], "{changes:#?}");
    for a in &changes {
        let f = &a["output_fields"];
        assert_eq!(f["proc.name"], "getroot");
        // su execs the program in its own process, as nobody.
        assert!(f["proc.cmdline"].as_str().unwrap().starts_with("getroot"), "{f}");
        assert_eq!(f["user.uid"], 0, "{f}");
        assert_eq!(a["priority"], "Warning");
        let args = f["evt.args"].as_str().unwrap();
        assert!(args.contains("id=0"), "{args}");
    }
    // The program came with the image: not drift.
    assert!(!rules_of(&mine).iter().any(|r| r.contains("Drift")), "{:?}", rules_of(&mine));
}

#[test]
fn a_clean_workload_raises_nothing() {
    require_root!();
    let c = Container::new();
    let w = Watch::start(&[]);
    // No shell, nothing written below /tmp, no network, nothing new executed.
    for argv in [&["/bin/ls", "/etc"][..], &["/bin/cat", "/etc/os-release"], &["/bin/true"]] {
        let out = c.run_argv(None, argv);
        assert!(out.status.success(), "{argv:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let alerts = w.stop();
    let mine = for_container(&alerts, &c);
    assert!(mine.is_empty(), "{mine:#?}");
}

#[test]
fn recording_replays_to_the_same_alerts_without_privileges() {
    require_root!();
    let c = Container::new();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("events.jsonl");
    let w = Watch::start(&["--record", rec.to_str().unwrap()]);
    let out = c.run(None, "echo x > /tmp/f");
    assert!(out.status.success());
    let live = w.stop();
    let live_mine: Vec<&Value> = for_container(&live, &c);
    assert!(!live_mine.is_empty());

    let header: Value =
        serde_json::from_str(std::fs::read_to_string(&rec).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "rampart-events");
    assert_eq!(header["version"], 1);

    // Replay as an unprivileged user (nobody) to show it needs no root.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&rec, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let replayed = |as_nobody: bool| -> Vec<Value> {
        let mut cmd = if as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_rampart")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_rampart"))
        };
        let out = cmd
            .env("RAMPART_CACHE_DIR", "/tmp")
            .args(["watch", "--format", "json", "--replay"])
            .arg(&rec)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let first = replayed(true);
    let second = replayed(false);
    assert_eq!(first, second, "replay is deterministic");
    let replay_mine: Vec<&Value> = for_container(&first, &c);
    let strip = |v: &[&Value]| -> Vec<(String, String)> {
        v.iter().map(|a| (a["rule"].to_string(), a["output"].to_string())).collect()
    };
    assert_eq!(strip(&live_mine), strip(&replay_mine));
}

/// Seconds since the epoch now.
fn now_epoch() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Seconds since the epoch of an alert's `time`: the event's own time, in
/// the RFC 3339 UTC form rampart writes (`2026-11-24T15:39:07.123456789Z`).
fn alert_epoch(a: &Value) -> f64 {
    let t = a["time"].as_str().unwrap();
    let (date, clock) = t.strip_suffix('Z').and_then(|t| t.split_once('T')).unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let c: Vec<f64> = clock.split(':').map(|x| x.parse().unwrap()).collect();
    // Days from the civil date (proleptic Gregorian).
    let (y, m) = if d[1] <= 2 { (d[0] - 1, d[1]) } else { (d[0], d[1]) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d[2] - 1;
    let days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    days as f64 * 86400.0 + c[0] * 3600.0 + c[1] * 60.0 + c[2]
}

/// The issue's budget from the event to the response being done.
const ACTION_BUDGET: f64 = 1.0;

fn assert_in_budget(what: &str, alert: &Value, done_at: f64) {
    let took = done_at - alert_epoch(alert);
    eprintln!("{what}: {:.1} ms after the event", took * 1e3);
    assert!(
        (0.0..ACTION_BUDGET).contains(&took),
        "{what} {took:.3} s after the event (budget {ACTION_BUDGET} s)"
    );
}

#[test]
fn response_kills_the_shell() {
    require_root!();
    let c = Container::new();
    let dir = tempfile::tempdir().unwrap();
    let rules = container_shell_rule(dir.path(), &c);
    let actions = dir.path().join("actions.yaml");
    std::fs::write(&actions, "actions:\n  - rules: [Shell in test container]\n    kill_process: true\n")
        .unwrap();
    let w = Watch::start(&["-r", rules.to_str().unwrap(), "--actions", actions.to_str().unwrap()]);
    // The shell is the pid namespace's init: killing it ends the sleep too,
    // so the run returns as soon as the kill lands.
    let out = c.run(None, "sleep 20; echo survived");
    let returned = now_epoch();
    let alerts = w.stop();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("survived"), "the shell was not killed");
    let mine = for_container(&alerts, &c);
    assert_in_budget("shell killed", one(&mine, "Shell in test container"), returned);
}

#[test]
fn the_sensor_captures_only_what_the_rules_need() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let out = common::rampart(dir.path())
        .args(["watch", "--debug", "--duration", "0.2", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    let line = err.lines().find_map(|l| l.split_once("capturing ")).map(|(_, r)| r).expect("no capture list");
    let (_, list) = line.split_once(": ").unwrap();
    let mut got: Vec<&str> = list.split(", ").collect();
    got.sort();
    // The built-in rules' event types: exec, open, connect and set*id.
    let mut want = vec![
        "connect",
        "creat",
        "execve",
        "execveat",
        "open",
        "openat",
        "openat2",
        "setgid",
        "setregid",
        "setresgid",
        "setresuid",
        "setreuid",
        "setuid",
    ];
    want.sort();
    assert_eq!(got, want);
    // Drops are reported when there are any; a quiet run has none.
    assert!(!err.contains("dropped"), "{err}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        common::rampart(dir.path()).args(["watch", "--replay", "/nonexistent/rec.jsonl"]).output().unwrap();
    assert_eq!(common::code(&out), 64, "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("/nonexistent/rec.jsonl"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "- rule: x\n  condition: evt.type = \n").unwrap();
    let out = common::rampart(dir.path())
        .args(["watch", "-r"])
        .arg(&bad)
        .args(["--replay", "/x"])
        .output()
        .unwrap();
    assert_eq!(common::code(&out), 64, "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("bad.yaml"), "{}", common::stderr(&out));
    let rec = dir.path().join("r.jsonl");
    std::fs::write(&rec, "{\"format\":\"rampart-events\",\"version\":1}\n{\"event\":{}}\n").unwrap();
    let out = common::rampart(dir.path()).args(["watch", "--replay"]).arg(&rec).output().unwrap();
    assert_ne!(common::code(&out), 0);
    assert!(common::stderr(&out).contains("r.jsonl:2:"), "{}", common::stderr(&out));
}

/// A rule matching only this container's shells (other tests run beside it).
fn container_shell_rule(dir: &std::path::Path, c: &Container) -> PathBuf {
    let rules = dir.join("mine.yaml");
    std::fs::write(
        &rules,
        format!(
            "- rule: Shell in test container\n  desc: d\n  condition: evt.type = execve and evt.dir = < and evt.rawres = 0 and proc.name = sh and container.id = {}\n  output: shell %proc.pid in %container.id\n  priority: CRITICAL\n  tags: [test]\n",
            c.short_id()
        ),
    )
    .unwrap();
    rules
}

#[test]
fn response_freezes_the_container() {
    require_root!();
    let c = Container::new();
    let dir = tempfile::tempdir().unwrap();
    let rules = container_shell_rule(dir.path(), &c);
    let actions = dir.path().join("actions.yaml");
    std::fs::write(&actions, "actions:\n  - rules: [Shell in test container]\n    freeze_container: true\n")
        .unwrap();
    let w = Watch::start(&["-r", rules.to_str().unwrap(), "--actions", actions.to_str().unwrap()]);
    let cgroup = c.cgroup.clone();
    let thaw = std::thread::spawn(move || {
        // Wait for the freeze, note when it was seen, then thaw so the
        // workload can finish.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let events = std::fs::read_to_string(cgroup.join("cgroup.events")).unwrap_or_default();
            if events.lines().any(|l| l == "frozen 1") {
                let seen = now_epoch();
                std::fs::write(cgroup.join("cgroup.freeze"), "0").unwrap();
                return Some(seen);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    });
    let out = c.run(None, "sleep 1; echo done");
    let alerts = w.stop();
    let frozen = thaw.join().unwrap().expect("the container's cgroup was never frozen");
    assert!(String::from_utf8_lossy(&out.stdout).contains("done"));
    let mine = for_container(&alerts, &c);
    assert_in_budget("container frozen", one(&mine, "Shell in test container"), frozen);
}

/// A loopback HTTP receiver: answers 200 to every request and returns the
/// first `n` bodies with the time each had fully arrived (or fewer after 10 s).
fn http_receiver(n: usize) -> (String, std::thread::JoinHandle<Vec<(String, f64)>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/falco", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        while got.len() < n && Instant::now() < deadline {
            let mut s = match listener.accept() {
                Ok((s, _)) => s,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let k = s.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..k]);
                let text = String::from_utf8_lossy(&buf).to_string();
                let Some(i) = text.find("\r\n\r\n") else {
                    assert!(k > 0, "connection closed mid-request");
                    continue;
                };
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= i + 4 + len || k == 0 {
                    let at = now_epoch();
                    s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .unwrap();
                    got.push((text[i + 4..].to_string(), at));
                    break;
                }
            }
        }
        got
    });
    (url, handle)
}

#[test]
fn alerts_reach_the_webhook() {
    require_root!();
    let c = Container::new();
    let dir = tempfile::tempdir().unwrap();
    let rules = container_shell_rule(dir.path(), &c);
    let (url, receiver) = http_receiver(1);
    let queue = dir.path().join("queue");
    let w = Watch::start(&[
        "--no-builtin-rules",
        "-r",
        rules.to_str().unwrap(),
        "--alert-webhook",
        &url,
        "--webhook-queue",
        queue.to_str().unwrap(),
    ]);
    let out = c.run(None, "true");
    assert!(out.status.success());
    let got = receiver.join().unwrap();
    let alerts = w.stop();
    let (body, at) = got.first().expect("the webhook received nothing");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["rule"], "Shell in test container");
    assert_eq!(body["priority"], "Critical");
    assert_eq!(body["output_fields"]["container.id"], c.short_id());
    assert_eq!(alerts.len(), 1);
    assert_eq!(body, alerts[0]);
    assert_in_budget("alert webhook delivered", &body, *at);
    assert_eq!(std::fs::read_dir(&queue).unwrap().count(), 0, "delivered alerts leave the queue");
}

#[test]
fn response_kills_the_container_and_calls_the_webhook() {
    require_root!();
    let c = Container::new();
    let dir = tempfile::tempdir().unwrap();
    // The rule fires on a process that is not the container's init, so only
    // killing the whole cgroup ends the run early.
    let rules = dir.path().join("sleep.yaml");
    std::fs::write(
        &rules,
        format!(
            "- rule: Long sleep in test container\n  desc: d\n  condition: evt.type = execve and evt.dir = < and proc.cmdline = \"sleep 21\" and container.id = {}\n  output: sleep %proc.pid in %container.id\n  priority: ERROR\n",
            c.short_id()
        ),
    )
    .unwrap();
    let (url, receiver) = http_receiver(1);
    let actions = dir.path().join("actions.yaml");
    std::fs::write(
        &actions,
        format!("actions:\n  - min_priority: Error\n    kill_container: true\n    webhook: {url}\n"),
    )
    .unwrap();
    let w = Watch::start(&["-r", rules.to_str().unwrap(), "--actions", actions.to_str().unwrap()]);
    let out = c.run(None, "sleep 20 & sleep 21; wait; echo survived");
    let returned = now_epoch();
    let got = receiver.join().unwrap();
    let alerts = w.stop();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("survived"), "the container was not killed");
    let procs = std::fs::read_to_string(c.cgroup.join("cgroup.procs")).unwrap();
    assert!(procs.trim().is_empty(), "processes left in the container: {procs}");
    let mine = for_container(&alerts, &c);
    let alert = one(&mine, "Long sleep in test container");
    assert_in_budget("container killed", alert, returned);
    let (body, at) = got.first().expect("the response webhook received nothing");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(&body, alert);
    assert_in_budget("response webhook called", &body, *at);
}
