//! Single-thread rule evaluation: `cargo bench -p rampart-rules --bench evaluate`.
//!
//! Falco's default rules (`../shared/data/falco/rules/falco_rules.yaml`) plus
//! the built-in pack, evaluated on 200,000 generated events whose mix follows
//! what a sensor filtered to `RuleSet::event_types()` sees on a busy node:
//! mostly file opens (libraries, config, /proc, temp files), then process
//! starts, connects, and a few rarer syscalls, with 1 in 4 in a container.
//! Events are plain structs, as a sensor's decoded events are, so the figure
//! is the cost of the rules, not of a map lookup per field.

use std::borrow::Cow;
use std::hint::black_box;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rampart_rules::{Event, Field, FieldArg, RuleSet, Value};

#[derive(Clone, Default)]
struct Ev {
    ty: &'static str,
    dir: &'static str,
    proc_name: &'static str,
    exepath: &'static str,
    cmdline: String,
    args: String,
    pname: &'static str,
    anames: [&'static str; 4],
    user: &'static str,
    uid: u64,
    tty: u64,
    duration: u64,
    container: &'static str,
    image: &'static str,
    fd_name: String,
    fd_typechar: &'static str,
    fd_num: i64,
    open_read: bool,
    open_write: bool,
    flags: &'static str,
    rawres: i64,
    sip: Option<IpAddr>,
    cip: Option<IpAddr>,
    sport: u64,
    upper_layer: bool,
}

fn s(v: &str) -> Option<Value<'_>> {
    Some(Value::Str(Cow::Borrowed(v)))
}

impl Event for Ev {
    fn event_type(&self) -> &str {
        self.ty
    }

    fn field(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>> {
        let is_file = !self.fd_name.is_empty() && self.sip.is_none();
        match field {
            Field::EvtDir => s(self.dir),
            Field::EvtRawres => Some(Value::Int(self.rawres)),
            Field::EvtRes => s(if self.rawres >= 0 { "SUCCESS" } else { "ENOENT" }),
            Field::EvtIsOpenRead => Some(Value::Bool(self.open_read)),
            Field::EvtIsOpenWrite => Some(Value::Bool(self.open_write)),
            Field::EvtArg => match arg {
                FieldArg::Key(k) if k == "flags" && !self.flags.is_empty() => s(self.flags),
                _ => None,
            },
            Field::EvtNum => Some(Value::Uint(1)),
            Field::ProcName => s(self.proc_name),
            Field::ProcExe | Field::ProcExepath => s(self.exepath),
            Field::ProcCmdline => s(&self.cmdline),
            Field::ProcArgs => s(&self.args),
            Field::ProcPname => s(self.pname),
            Field::ProcAname => match arg {
                FieldArg::Index(0) => s(self.proc_name),
                FieldArg::Index(i) => self.anames.get(i - 1).copied().filter(|a| !a.is_empty()).and_then(s),
                _ => Some(Value::List(
                    self.anames
                        .iter()
                        .filter(|a| !a.is_empty())
                        .map(|a| Value::Str(Cow::Borrowed(*a)))
                        .collect(),
                )),
            },
            Field::ProcTty => Some(Value::Uint(self.tty)),
            Field::ProcDuration => Some(Value::Uint(self.duration)),
            Field::ProcIsExeUpperLayer => Some(Value::Bool(self.upper_layer)),
            Field::ProcIsExeFromMemfd => Some(Value::Bool(false)),
            Field::UserName => s(self.user),
            Field::UserUid => Some(Value::Uint(self.uid)),
            Field::ContainerId => s(self.container),
            Field::ContainerImageRepository if self.container != "host" => s(self.image),
            Field::FdName | Field::FdNameraw if !self.fd_name.is_empty() => s(&self.fd_name),
            Field::FdDirectory if is_file => s(self.fd_name.rsplit_once('/').map_or("/", |(d, _)| d)),
            Field::FdFilename if is_file => s(self.fd_name.rsplit('/').next().unwrap_or("")),
            Field::FdTypechar if !self.fd_typechar.is_empty() => s(self.fd_typechar),
            Field::FdType if !self.fd_typechar.is_empty() => {
                s(if self.fd_typechar == "4" { "ipv4" } else { "file" })
            }
            Field::FdNum => Some(Value::Int(self.fd_num)),
            Field::FdSip | Field::FdSnet | Field::FdRip | Field::FdRnet => self.sip.map(Value::Ip),
            Field::FdCip | Field::FdCnet => self.cip.map(Value::Ip),
            Field::FdIp | Field::FdNet => match (self.cip, self.sip) {
                (Some(c), Some(s)) => Some(Value::List(vec![Value::Ip(c), Value::Ip(s)])),
                _ => None,
            },
            Field::FdSport | Field::FdRport => self.sip.map(|_| Value::Uint(self.sport)),
            Field::FdL4proto if self.sip.is_some() => s("tcp"),
            _ => None,
        }
    }
}

/// xorshift64*: a fixed, dependency-free stream of choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const PROCS: &[(&str, &str, &str)] = &[
    ("nginx", "/usr/sbin/nginx", "systemd"),
    ("python3", "/usr/bin/python3", "bash"),
    ("java", "/usr/bin/java", "containerd-shim"),
    ("node", "/usr/local/bin/node", "containerd-shim"),
    ("postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres"),
    ("bash", "/usr/bin/bash", "sshd"),
    ("sh", "/bin/sh", "python3"),
    ("curl", "/usr/bin/curl", "sh"),
    ("cat", "/usr/bin/cat", "bash"),
    ("kubelet", "/usr/bin/kubelet", "systemd"),
];

const FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libssl.so.3",
    "/proc/self/stat",
    "/proc/1/cgroup",
    "/etc/nginx/nginx.conf",
    "/var/lib/postgresql/15/main/base/16384/2619",
    "/etc/passwd",
    "/etc/hosts",
    "/tmp/upload-8812.part",
    "/var/log/nginx/access.log",
    "/etc/shadow",
    "/home/app/.ssh/known_hosts",
];

fn generate(n: usize) -> Vec<Ev> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (name, exe, parent) = *rng.pick(PROCS);
        let in_container = rng.next().is_multiple_of(4);
        let mut e = Ev {
            dir: "<",
            proc_name: name,
            exepath: exe,
            pname: parent,
            anames: [parent, "systemd", "", ""],
            cmdline: format!("{name} --serve --port {}", 8000 + rng.next() % 100),
            args: format!("--serve --port {}", 8000 + rng.next() % 100),
            user: if rng.next().is_multiple_of(5) { "root" } else { "app" },
            uid: 1000,
            duration: rng.next() % 100_000_000_000,
            container: if in_container { "3f2a1b9c8d7e" } else { "host" },
            image: "docker.io/library/nginx",
            ..Ev::default()
        };
        let roll = rng.next() % 100;
        match roll {
            0..=54 => {
                e.ty = *rng.pick(&["openat", "openat", "open", "openat2"]);
                e.fd_name = (*rng.pick(FILES)).to_string();
                e.fd_typechar = "f";
                e.fd_num = 3 + (rng.next() % 50) as i64;
                e.open_write = rng.next().is_multiple_of(6);
                e.open_read = !e.open_write;
                e.flags = if e.open_write { "O_WRONLY|O_CREAT|O_TRUNC" } else { "O_RDONLY|O_CLOEXEC" };
            }
            55..=74 => {
                e.ty = if rng.next().is_multiple_of(10) { "execveat" } else { "execve" };
                e.tty = if rng.next().is_multiple_of(8) { 34816 } else { 0 };
                e.upper_layer = in_container && rng.next().is_multiple_of(50);
            }
            75..=89 => {
                e.ty = "connect";
                e.fd_typechar = "4";
                e.rawres = 0;
                e.cip = Some(IpAddr::from([10, 244, 1, (rng.next() % 250) as u8]));
                e.sip = Some(*rng.pick(&[
                    IpAddr::from([10, 96, 0, 10]),
                    IpAddr::from([10, 244, 2, 17]),
                    IpAddr::from([93, 184, 216, 34]),
                    IpAddr::from([169, 254, 169, 254]),
                ]));
                e.sport = *rng.pick(&[53, 443, 5432, 8080, 22]);
                e.fd_name = format!(
                    "{}:{}->{}:{}",
                    e.cip.unwrap_or(IpAddr::from([0; 4])),
                    40000,
                    e.sip.unwrap_or(IpAddr::from([0; 4])),
                    e.sport
                );
            }
            _ => {
                e.ty = *rng.pick(&["dup2", "socket", "setuid", "ptrace", "symlinkat", "linkat", "sendto"]);
                e.rawres = (rng.next() % 4) as i64;
            }
        }
        out.push(e);
    }
    out
}

/// Nanoseconds this thread has run on a CPU (Linux schedstat).
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/falco/rules/falco_rules.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("{} not found: the benchmark needs ../shared/data (see its README.md)", path.display());
        std::process::exit(1);
    };
    let started = Instant::now();
    let files = [(path, text)];
    let (set, _) = RuleSet::load_with_builtins(&files).expect("falco_rules.yaml loads");
    println!(
        "load falco_rules.yaml + built-ins: {:.1} ms ({} rules)",
        started.elapsed().as_secs_f64() * 1e3,
        set.rules().len()
    );

    let events = generate(200_000);
    let mut out = Vec::with_capacity(8);
    let mut matched = 0usize;
    for e in &events {
        out.clear();
        set.evaluate_into(e, &mut out);
        matched += out.len();
    }
    println!("events: {}, rule matches: {matched}", events.len());

    // The machine is shared: time on the CPU (from the scheduler), not wall
    // time, is what one core's throughput is measured in.
    let mut best = f64::MAX;
    let mut best_wall = f64::MAX;
    for _ in 0..5 {
        let (wall, cpu) = (Instant::now(), cpu_ns());
        let mut evaluated = 0usize;
        while wall.elapsed() < Duration::from_millis(600) {
            for e in &events {
                out.clear();
                set.evaluate_into(black_box(e), &mut out);
                black_box(out.len());
            }
            evaluated += events.len();
        }
        let spent = cpu_ns().zip(cpu).map(|(b, a)| (b - a) as f64 / 1e9);
        best_wall = best_wall.min(wall.elapsed().as_secs_f64() / evaluated as f64);
        best = best.min(spent.unwrap_or(wall.elapsed().as_secs_f64()) / evaluated as f64);
    }
    if std::env::var_os("PER_RULE").is_some() {
        // Where the time goes: each rule alone on the events of its types.
        let mut costs: Vec<(f64, &str)> = Vec::new();
        for rule in set.rules().iter().filter(|r| r.enabled) {
            let t = Instant::now();
            for _ in 0..5 {
                for e in &events {
                    if rule.event_types().is_none_or(|ts| ts.contains(e.ty)) {
                        black_box(rule.matches(black_box(e)));
                    }
                }
            }
            costs.push((t.elapsed().as_secs_f64() / (5 * events.len()) as f64 * 1e9, &rule.name));
        }
        costs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ns, name) in costs {
            println!("{ns:8.1} ns/event  {name}");
        }
    }
    println!(
        "evaluate: {:.0} ns/event, {:.2} M events/s per CPU second (best of 5, one thread; wall clock {:.2} M/s)",
        best * 1e9,
        1e-6 / best,
        1e-6 / best_wall
    );
}
