//! The real sensor on this kernel. Needs root: fails without it, saying so,
//! unless RAMPART_SKIP_ROOT_TESTS=1 asks to skip.

use std::process::Command;
use std::time::{Duration, Instant};

use rampart_rules::{OpenNeed, PathNeed};
use rampart_runtime::raw::RawEvent;
use rampart_runtime::sensor::Sensor;
use rampart_runtime::{State, SysEvent, syscalls};

/// Whether to run: false only when skipping was asked for.
fn preflight() -> bool {
    if is_root() {
        return true;
    }
    if std::env::var_os("RAMPART_SKIP_ROOT_TESTS").is_some_and(|v| v == "1") {
        eprintln!("skipped (RAMPART_SKIP_ROOT_TESTS=1): the eBPF sensor needs root");
        return false;
    }
    panic!(
        "the sensor tests load eBPF programs and need root: run them as root, or set RAMPART_SKIP_ROOT_TESTS=1"
    );
}

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

/// Runs `f` under the sensor and returns every event of processes whose
/// name is in `comms`, with the state after them.
fn capture(types: &[&str], comms: &[&str], f: impl FnOnce()) -> (Vec<SysEvent>, State) {
    capture_filtered(types, None, comms, f)
}

fn capture_filtered(
    types: &[&str],
    open_filter: Option<&[OpenNeed]>,
    comms: &[&str],
    f: impl FnOnce(),
) -> (Vec<SysEvent>, State) {
    let (emit, _) = syscalls::selection(types.iter().copied());
    let mut sensor = Sensor::start(&emit).expect("sensor starts");
    if let Some(needs) = open_filter {
        sensor.filter_opens(needs).expect("open filter loads");
    }
    let mut state = State::from_host();
    f();
    let mut out = Vec::new();
    let mut raws: Vec<RawEvent> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        raws.clear();
        sensor.poll(&mut raws, Duration::from_millis(100));
        for raw in &raws {
            let ev = state.ingest(raw);
            let comm = state.procs.get(&ev.pid).map(|p| p.comm.clone()).unwrap_or_default();
            if comms.contains(&comm.as_str()) {
                out.push(ev.clone());
            }
            state.retire(&ev);
        }
    }
    assert_eq!(sensor.drops(), 0);
    (out, state)
}

#[test]
fn exec_open_and_exit_are_reported() {
    if !preflight() {
        return;
    }
    // Other tests run `cat` at the same time: only this child's events count.
    let mut pid = 0;
    let (events, state) = capture(&["openat", "execve", "procexit"], &["cat"], || {
        let child = Command::new("/bin/cat")
            .arg("/etc/hostname")
            .current_dir("/etc")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        pid = child.id();
        assert!(child.wait_with_output().unwrap().status.success());
    });
    let events: Vec<&SysEvent> = events.iter().filter(|e| e.pid == pid).collect();
    for e in &events {
        eprintln!("{}", serde_json::to_string(e).unwrap());
    }
    assert!(events.iter().any(|e| e.etype == "execve"), "no execve event for cat ({pid})");
    let open = events
        .iter()
        .find(|e| e.etype == "openat" && e.fd.as_ref().is_some_and(|f| f.name == "/etc/hostname"))
        .expect("openat of /etc/hostname");
    assert!(open.res >= 0);
    assert!(events.iter().any(|e| e.etype == "procexit"), "no procexit event for cat ({pid})");
    assert!(!state.procs.contains_key(&pid), "exited process still in the table");
}

#[test]
fn only_the_selected_syscalls_reach_user_space() {
    if !preflight() {
        return;
    }
    // connect only: cat's opens are filtered in the kernel. Process
    // lifecycle and chdir (the process table needs them) still come.
    let (events, _) = capture(&["connect"], &["cat"], || {
        let st = Command::new("/bin/cat").arg("/etc/hostname").output().unwrap();
        assert!(st.status.success());
    });
    let mut types: Vec<&str> = events.iter().map(|e| &*e.etype).collect();
    types.sort();
    types.dedup();
    assert!(types.contains(&"execve"), "{types:?}");
    for t in &types {
        assert!(["execve", "procexit", "chdir", "fchdir"].contains(t), "{t} was not asked for: {types:?}");
    }
}

#[test]
fn opens_no_rule_needs_stay_in_the_kernel() {
    if !preflight() {
        return;
    }
    // Not tempdir()'s `.tmp` name: a `/.` in the path is passed on unjudged.
    let dir = tempfile::Builder::new().prefix("rampart-open").tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    std::fs::write(dir.path().join("read-me"), "x").unwrap();
    std::fs::write(dir.path().join("wanted"), "x").unwrap();
    // Rules that want: `<dir>/wanted` whatever the flags, and any write.
    let needs = [
        OpenNeed { path: PathNeed::Exact(format!("{d}/wanted")), flags: 0 },
        OpenNeed { path: PathNeed::Any, flags: 3 | 0o1000 },
    ];
    let script = format!(
        "cat {d}/read-me {d}/wanted {d}//read-me {d}/./read-me; cd {d} && cat read-me; echo y > {d}/written"
    );
    let (events, _) = capture_filtered(&["openat", "open"], Some(&needs), &["sh", "cat"], || {
        let st = Command::new("/bin/sh").arg("-c").arg(&script).output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    });
    let mut raw_names: Vec<String> = events
        .iter()
        .filter(|e| e.etype.starts_with("open"))
        .filter_map(|e| e.fd.as_ref())
        .filter(|f| f.name.starts_with(&d))
        .map(|f| f.nameraw.replace(&d, "D"))
        .collect();
    raw_names.sort();
    // The plain read of read-me is dropped; paths only user space can
    // resolve (`//`, `/./`, relative) come, as do the wanted file and the write.
    assert_eq!(raw_names, ["D/./read-me", "D//read-me", "D/wanted", "D/written", "read-me"], "{raw_names:?}");
}

#[test]
fn processes_that_exit_while_the_sensor_starts_leave_the_table() {
    if !preflight() {
        return;
    }
    // Short-lived processes run throughout the sensor's start, from a shell
    // of their own: their exits are not signals to this process.
    let dir = tempfile::tempdir().unwrap();
    let stop = dir.path().join("stop");
    let mut churn = Command::new("/bin/sh")
        .arg("-c")
        .arg("i=0; while [ $i -lt 3000 ] && [ ! -e \"$1\" ]; do /bin/true; i=$((i+1)); done")
        .arg("sh")
        .arg(&stop)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let (events, state) = capture(&["execve", "procexit"], &["true"], || {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::write(&stop, "").unwrap();
    });
    churn.wait().unwrap();
    let seen: Vec<u32> = events.iter().filter(|e| e.etype == "execve").map(|e| e.pid).collect();
    assert!(!seen.is_empty(), "no exec of /bin/true seen");
    let left: Vec<u32> = seen.into_iter().filter(|p| state.procs.contains_key(p)).collect();
    assert!(left.is_empty(), "exited processes still in the table: {left:?}");
}
