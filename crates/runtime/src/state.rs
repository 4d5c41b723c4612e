//! The process table, users and containers, seeded from /proc and kept up to
//! date by the sensor's events; turns raw sensor records into [`SysEvent`]s.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::container::{self, MetadataSource};
use crate::model::{Container, FdInfo, FdKind, FsPaths, NetInfo, Param, Process, SysEvent, User};
use crate::names;
use crate::raw::{Kind, RawEvent, SockAddr, SockInfo};
use crate::syscalls;

const OVERLAYFS_SUPER_MAGIC: u32 = 0x794c_7630;
/// How far up the parent chain ancestor fields look.
pub const MAX_ANCESTORS: usize = 16;

/// Maps cgroup v2 ids (the inode numbers of cgroupfs directories) to paths.
#[derive(Debug, Default)]
struct Cgroups {
    root: PathBuf,
    by_id: HashMap<u64, String>,
    unresolved: HashSet<u64>,
}

impl Cgroups {
    fn rescan(&mut self) {
        fn walk(dir: &Path, rel: &str, depth: usize, out: &mut HashMap<u64, String>) {
            if depth > 32 {
                return;
            }
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                if !ft.is_dir() {
                    continue;
                }
                let name = e.file_name().to_string_lossy().into_owned();
                let path = format!("{rel}/{name}");
                if let Ok(m) = e.metadata() {
                    out.insert(m.ino(), path.clone());
                }
                walk(&e.path(), &path, depth + 1, out);
            }
        }
        let mut map = HashMap::new();
        if let Ok(m) = std::fs::metadata(&self.root) {
            map.insert(m.ino(), "/".to_string());
        }
        walk(&self.root.clone(), "", 0, &mut map);
        self.by_id = map;
    }

    fn path(&mut self, id: u64) -> Option<&str> {
        if !self.by_id.contains_key(&id) && !self.unresolved.contains(&id) {
            self.rescan();
            if !self.by_id.contains_key(&id) {
                self.unresolved.insert(id);
            }
        }
        self.by_id.get(&id).map(String::as_str)
    }
}

/// Everything rules may ask about beyond the event itself.
#[derive(Debug, Default)]
pub struct State {
    pub procs: HashMap<u32, Process>,
    pub containers: HashMap<String, Container>,
    pub users: HashMap<u32, User>,
    pub groups: HashMap<u32, String>,
    pub hostname: String,
    /// Generation of each process entry, bumped on every change (the
    /// recorder writes a process again when its generation moved).
    pub generation: HashMap<u32, u64>,
    /// Executables known to be part of the image (from an image scan): an
    /// executable in a container that is not listed counts as drift.
    pub image_files: Option<HashSet<String>>,
    next_num: u64,
    next_gen: u64,
    boot_epoch_ns: u64,
    cgroups: Cgroups,
    cgroup_container: HashMap<u64, Option<String>>,
    metadata: MetadataSource,
    proc_root: PathBuf,
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(1 << 20).read_to_string(&mut s).ok()?;
    Some(s)
}

/// Users from an /etc/passwd-format file.
pub fn parse_passwd(text: &str) -> HashMap<u32, User> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 || line.starts_with('#') {
            continue;
        }
        if let Ok(uid) = f[2].parse::<u32>() {
            out.entry(uid).or_insert_with(|| User {
                uid,
                name: f[0].to_string(),
                home: f[5].to_string(),
                shell: f[6].to_string(),
            });
        }
    }
    out
}

/// Groups from an /etc/group-format file.
pub fn parse_group(text: &str) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 3
            && let Ok(gid) = f[2].parse::<u32>()
        {
            out.entry(gid).or_insert_with(|| f[0].to_string());
        }
    }
    out
}

/// Lexically normalises an absolute path (`.`/`..`, repeated slashes).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() { "/".to_string() } else { out }
}

fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') { normalize(rel) } else { normalize(&format!("{dir}/{rel}")) }
}

fn with_slash(dir: &str) -> String {
    if dir.ends_with('/') { dir.to_string() } else { format!("{dir}/") }
}

fn param(name: &'static str, text: impl Into<String>) -> Param {
    Param { name: Cow::Borrowed(name), text: text.into(), raw: None }
}

fn num(name: &'static str, v: i64) -> Param {
    Param { name: Cow::Borrowed(name), text: v.to_string(), raw: Some(v) }
}

fn flagged(name: &'static str, text: String, raw: u64) -> Param {
    Param { name: Cow::Borrowed(name), text, raw: Some(raw as i64) }
}

fn fd_kind_from_mode(mode: u32) -> FdKind {
    match mode & 0o170000 {
        0o040000 => FdKind::Directory,
        0o100000 => FdKind::File,
        0o020000 | 0o060000 => FdKind::Device,
        0o010000 => FdKind::Pipe,
        0o140000 => FdKind::Socket,
        0 => FdKind::Unknown,
        _ => FdKind::File,
    }
}

fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("{v6}:{port}"),
        v4 => format!("{v4}:{port}"),
    }
}

fn l4proto(sock_type: u16, proto: u16) -> &'static str {
    match (sock_type, proto) {
        (_, 6) | (1, 0) => "tcp",
        (_, 17) | (2, 0) => "udp",
        (_, 1) | (_, 58) => "icmp",
        (3, _) => "raw",
        _ => "<NA>",
    }
}

impl State {
    /// An empty state (replay builds it from the recording).
    pub fn empty() -> State {
        State {
            hostname: String::new(),
            cgroups: Cgroups {
                root: container::cgroup2_root().unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup")),
                ..Cgroups::default()
            },
            proc_root: PathBuf::from("/proc"),
            ..State::default()
        }
    }

    /// The live state: users and groups from /etc, processes from /proc.
    pub fn from_host() -> State {
        let mut s = State::empty();
        s.hostname = read_small(Path::new("/proc/sys/kernel/hostname"))
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        s.users = read_small(Path::new("/etc/passwd")).map(|t| parse_passwd(&t)).unwrap_or_default();
        s.groups = read_small(Path::new("/etc/group")).map(|t| parse_group(&t)).unwrap_or_default();
        s.boot_epoch_ns = boot_epoch_ns();
        if let Ok(entries) = std::fs::read_dir(&s.proc_root) {
            let pids: Vec<u32> =
                entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect();
            for pid in pids {
                if let Some(p) = s.read_proc(pid) {
                    s.insert(p);
                }
            }
        }
        s
    }

    /// Where runtime metadata is looked up (tests point it at a fixture).
    pub fn set_metadata_root(&mut self, root: PathBuf) {
        self.metadata = MetadataSource { root };
    }

    /// Adds or replaces a process, bumping its generation.
    pub fn insert(&mut self, p: Process) {
        self.next_gen += 1;
        self.generation.insert(p.pid, self.next_gen);
        self.procs.insert(p.pid, p);
    }

    fn touch(&mut self, pid: u32) {
        self.next_gen += 1;
        self.generation.insert(pid, self.next_gen);
    }

    /// Nanoseconds since the epoch of a CLOCK_BOOTTIME instant.
    pub fn epoch_ns(&self, boot_ns: u64) -> u64 {
        self.boot_epoch_ns + boot_ns
    }

    fn read_proc(&mut self, pid: u32) -> Option<Process> {
        let dir = self.proc_root.join(pid.to_string());
        let stat = read_small(&dir.join("stat"))?;
        // comm may hold spaces and parentheses: it ends at the last ')'.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 2..].split(' ').collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let (ppid, pgid, sid, tty) = (field(1), field(2), field(3), field(4));
        let start_ticks = field(19);
        let argv: Vec<String> = read_small(&dir.join("cmdline"))
            .map(|c| c.split('\0').filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        let status = read_small(&dir.join("status")).unwrap_or_default();
        let status_field =
            |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string());
        let second = |v: Option<String>| {
            v.and_then(|v| v.split_whitespace().nth(1).and_then(|x| x.parse::<u32>().ok())).unwrap_or(0)
        };
        let uid = second(status_field("Uid:"));
        let gid = second(status_field("Gid:"));
        let hex = |v: Option<String>| v.and_then(|v| u64::from_str_radix(&v, 16).ok()).unwrap_or(0);
        let vpid = status_field("NSpid:")
            .and_then(|v| v.split_whitespace().last().and_then(|x| x.parse().ok()))
            .unwrap_or(pid);
        let loginuid = read_small(&dir.join("loginuid"))
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(|v| if v == u32::MAX { -1 } else { v as i64 })
            .unwrap_or(-1);
        let exepath = std::fs::read_link(dir.join("exe"))
            .map(|p| p.to_string_lossy().trim_end_matches(" (deleted)").to_string())
            .unwrap_or_default();
        let cwd =
            std::fs::read_link(dir.join("cwd")).map(|p| with_slash(&p.to_string_lossy())).unwrap_or_default();
        // The v2 path first; on hybrid hosts a runtime may only have placed
        // the process in v1 hierarchies ("4:memory:/docker/<id>").
        let cgroups = read_small(&dir.join("cgroup")).unwrap_or_default();
        let mut paths: Vec<&str> = cgroups.lines().filter_map(|l| l.strip_prefix("0::")).collect();
        paths.extend(
            cgroups.lines().filter(|l| !l.starts_with("0::")).filter_map(|l| l.splitn(3, ':').nth(2)),
        );
        let mut container_id = String::new();
        for path in paths {
            container_id = self.container_for_path(path);
            if !container_id.is_empty() {
                break;
            }
        }
        let mut p = Process {
            pid,
            ppid: ppid as u32,
            vpid,
            comm,
            exe: argv.first().cloned().unwrap_or_default(),
            exepath,
            args: argv.iter().skip(1).cloned().collect(),
            cwd,
            uid,
            gid,
            loginuid,
            tty: tty as u32,
            sid: sid as u32,
            pgid: pgid as u32,
            start_ns: self.boot_epoch_ns + start_ticks * 10_000_000,
            cap_effective: hex(status_field("CapEff:")),
            cap_permitted: hex(status_field("CapPrm:")),
            container_id,
            ..Process::default()
        };
        p.exe_from_memfd = p.exepath.starts_with("/memfd:");
        p.set_cmdline();
        Some(p)
    }

    fn container_for_path(&mut self, cgroup: &str) -> String {
        match container::from_cgroup(cgroup) {
            Some((runtime, id)) => {
                if !self.containers.contains_key(&id) {
                    let c = self.metadata.lookup(runtime, &id, cgroup);
                    self.containers.insert(id.clone(), c);
                }
                id
            }
            None => String::new(),
        }
    }

    /// The container of a cgroup v2 id: `None` when the id says nothing
    /// (the root cgroup of a host whose runtime uses cgroup v1, or an id
    /// that no longer resolves), so the process keeps what it had.
    fn container_for_cgroup(&mut self, cgroup_id: u64) -> Option<String> {
        if let Some(id) = self.cgroup_container.get(&cgroup_id) {
            return id.clone();
        }
        let path = self.cgroups.path(cgroup_id).map(str::to_string);
        let id = match path {
            Some(p) if p != "/" => Some(self.container_for_path(&p)),
            _ => None,
        };
        self.cgroup_container.insert(cgroup_id, id.clone());
        id
    }

    /// The process of a raw event, created from /proc or the event header
    /// when the table does not know it yet.
    fn ensure_process(&mut self, raw: &RawEvent) {
        if self.procs.contains_key(&raw.pid) {
            return;
        }
        let p = self.read_proc(raw.pid).unwrap_or_else(|| {
            let mut p = Process {
                pid: raw.pid,
                ppid: raw.ppid,
                vpid: raw.pid,
                comm: raw.comm.clone(),
                loginuid: -1,
                start_ns: self.epoch_ns(raw.start_boot_ns),
                ..Process::default()
            };
            p.set_cmdline();
            p
        });
        self.insert(p);
    }

    /// Copies what the event header says about the process (credentials,
    /// tty, parent, container) into the table.
    fn refresh_from_header(&mut self, raw: &RawEvent) {
        let from_cgroup = self.container_for_cgroup(raw.cgroup_id);
        let Some(p) = self.procs.get_mut(&raw.pid) else { return };
        let container_id = from_cgroup.unwrap_or_else(|| p.container_id.clone());
        let loginuid = if raw.loginuid == u32::MAX { -1 } else { raw.loginuid as i64 };
        let changed = p.uid != raw.uid
            || p.gid != raw.gid
            || p.loginuid != loginuid
            || p.cap_effective != raw.cap_effective
            || p.tty != raw.tty
            || (raw.ppid != 0 && p.ppid != raw.ppid)
            || p.container_id != container_id
            || p.comm != raw.comm;
        if changed {
            p.uid = raw.uid;
            p.gid = raw.gid;
            p.loginuid = loginuid;
            p.cap_effective = raw.cap_effective;
            p.tty = raw.tty;
            if raw.ppid != 0 {
                p.ppid = raw.ppid;
            }
            p.container_id = container_id;
            if p.comm != raw.comm {
                p.comm = raw.comm.clone();
                p.set_cmdline();
            }
            self.touch(raw.pid);
        }
    }

    /// Turns a sensor record into an event, updating the tables.
    pub fn ingest(&mut self, raw: &RawEvent) -> SysEvent {
        self.next_num += 1;
        self.ensure_process(raw);
        if raw.kind == Kind::Fork {
            self.fork(raw);
        }
        if raw.kind == Kind::Exec {
            self.exec(raw);
        }
        self.refresh_from_header(raw);
        let etype = match raw.kind {
            Kind::Exit => syscalls::PROCEXIT,
            _ => syscalls::name(raw.nr).unwrap_or("unknown"),
        };
        let mut ev = SysEvent {
            num: self.next_num,
            ts: self.epoch_ns(raw.ts_boot_ns),
            etype: Cow::Borrowed(etype),
            pid: raw.pid,
            tid: raw.tid,
            uid: raw.uid,
            gid: raw.gid,
            loginuid: if raw.loginuid == u32::MAX { -1 } else { raw.loginuid as i64 },
            cap_effective: raw.cap_effective,
            res: raw.ret,
            params: Vec::new(),
            fd: None,
            fs: None,
        };
        match raw.kind {
            Kind::Exec => self.exec_params(raw, &mut ev),
            Kind::Fork => {
                ev.params = vec![num("res", raw.ret), num("pid", raw.pid as i64)];
            }
            Kind::Exit => ev.params = vec![num("status", raw.ret)],
            Kind::Syscall => self.syscall(raw, &mut ev),
        }
        ev
    }

    /// Drops what an event ended (a process that exited); call after the
    /// event was evaluated.
    pub fn retire(&mut self, ev: &SysEvent) {
        if ev.etype == syscalls::PROCEXIT {
            self.procs.remove(&ev.pid);
            self.generation.remove(&ev.pid);
        }
    }

    fn fork(&mut self, raw: &RawEvent) {
        let child_pid = raw.ret as u32;
        let Some(parent) = self.procs.get(&raw.pid) else { return };
        let mut child = parent.clone();
        child.pid = child_pid;
        child.vpid = 0;
        child.ppid = raw.args[0] as u32;
        child.start_ns = self.epoch_ns(raw.args[1]);
        self.insert(child);
    }

    fn exec(&mut self, raw: &RawEvent) {
        let from_cgroup = self.container_for_cgroup(raw.cgroup_id);
        let image_files = self.image_files.as_ref();
        let Some(p) = self.procs.get_mut(&raw.pid) else { return };
        let container_id = from_cgroup.unwrap_or_else(|| p.container_id.clone());
        p.comm = raw.comm.clone();
        p.exe = raw.argv.first().cloned().or_else(|| raw.filename.clone()).unwrap_or_default();
        p.args = raw.argv.iter().skip(1).cloned().collect();
        p.exepath = match (&raw.exe, &raw.filename) {
            (Some(e), _) => e.clone(),
            (None, Some(f)) => f.clone(),
            _ => String::new(),
        };
        if let Some(cwd) = &raw.cwd {
            p.cwd = with_slash(cwd);
        }
        if let Some(x) = raw.exe_info {
            p.exe_ino = x.ino;
            p.exe_ctime_ns = (x.ctime_sec.max(0) as u64).saturating_mul(1_000_000_000);
            p.exe_mtime_ns = (x.mtime_sec.max(0) as u64).saturating_mul(1_000_000_000);
            p.exe_upper_layer = x.s_magic == OVERLAYFS_SUPER_MAGIC && x.upper;
            p.exe_from_memfd =
                x.nlink == 0 && p.exepath.rsplit('/').next().is_some_and(|n| n.starts_with("memfd:"));
            p.exe_writable = if raw.uid == 0 { x.mode & 0o222 != 0 } else { x.mode & 0o002 != 0 };
        }
        if let Some(files) = image_files
            && !container_id.is_empty()
            && !files.contains(&p.exepath)
        {
            p.exe_upper_layer = true;
        }
        p.container_id = container_id;
        p.set_cmdline();
        // The kernel's values at the exec: reading /proc here would cost
        // two file reads per exec and race with the process exiting.
        if let Some(pi) = raw.pids {
            p.pgid = pi.pgid;
            p.sid = pi.sid;
            p.vpid = pi.vpid;
        }
        self.touch(raw.pid);
    }

    fn exec_params(&self, raw: &RawEvent, ev: &mut SysEvent) {
        let Some(p) = self.procs.get(&raw.pid) else { return };
        let mut flags = Vec::new();
        if p.exe_writable {
            flags.push("EXE_WRITABLE");
        }
        if p.exe_upper_layer {
            flags.push("EXE_UPPER_LAYER");
        } else if raw.exe_info.is_some_and(|x| x.s_magic == OVERLAYFS_SUPER_MAGIC) {
            flags.push("EXE_LOWER_LAYER");
        }
        if p.exe_from_memfd {
            flags.push("EXE_FROM_MEMFD");
        }
        ev.params = vec![
            num("res", raw.ret),
            param("exe", p.exe.clone()),
            param("args", p.args.join(" ")),
            num("tid", raw.tid as i64),
            num("pid", raw.pid as i64),
            num("ptid", p.ppid as i64),
            param("cwd", p.cwd.clone()),
            param("comm", p.comm.clone()),
            param("filename", raw.filename.clone().unwrap_or_default()),
            num("tty", raw.tty as i64),
            num("uid", raw.uid as i64),
            num("loginuid", ev.loginuid),
            param("flags", flags.join("|")),
        ];
        ev.fd = None;
    }

    fn resolve(&self, raw: &RawEvent, path: &str, dir: Option<&String>) -> String {
        if path.starts_with('/') {
            return normalize(path);
        }
        match dir {
            Some(d) => join(d, path),
            None => {
                let cwd = self.procs.get(&raw.pid).map(|p| p.cwd.as_str()).unwrap_or("/");
                join(cwd, path)
            }
        }
    }

    fn net_fd(&self, raw: &RawEvent, fd: i64, local_is_client: bool) -> Option<FdInfo> {
        let sock: Option<SockInfo> = raw.sock;
        let user_addr = match &raw.sockaddr {
            Some(SockAddr::Ip(ip, port)) => Some((*ip, *port)),
            _ => None,
        };
        if let Some(SockAddr::Unix(path)) = &raw.sockaddr {
            return Some(FdInfo {
                num: fd,
                kind: FdKind::Unix,
                name: path.clone(),
                nameraw: path.clone(),
                net: None,
            });
        }
        let (family, sock_type, proto, local, mut remote) = match sock {
            Some(s) => (s.family, s.sock_type, s.proto, s.local, s.remote),
            None => {
                let (ip, port) = user_addr?;
                let family = if ip.is_ipv6() { 10 } else { 2 };
                let unspec: std::net::IpAddr = if ip.is_ipv6() {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                };
                (family, 0, 0, (unspec, 0), (ip, port))
            }
        };
        let kind = match family {
            2 => FdKind::Ipv4,
            10 => FdKind::Ipv6,
            1 => FdKind::Unix,
            16 => FdKind::Netlink,
            _ => FdKind::Socket,
        };
        if kind != FdKind::Ipv4 && kind != FdKind::Ipv6 {
            return Some(FdInfo { num: fd, kind, name: String::new(), nameraw: String::new(), net: None });
        }
        // A failed or not yet completed connect leaves the kernel's peer
        // empty; the address the program asked for is what matters then.
        if (remote.1 == 0 || remote.0.is_unspecified())
            && let Some(ua) = user_addr
        {
            remote = ua;
        }
        let connected = remote.1 != 0 && !remote.0.is_unspecified();
        let (client, server) = if local_is_client { (local, remote) } else { (remote, local) };
        Some(FdInfo {
            num: fd,
            kind,
            name: format!("{}->{}", endpoint(client.0, client.1), endpoint(server.0, server.1)),
            nameraw: String::new(),
            net: Some(NetInfo {
                l4proto: l4proto(sock_type, proto).to_string(),
                client_ip: client.0,
                client_port: client.1,
                server_ip: server.0,
                server_port: server.1,
                local_is_client,
                connected,
            }),
        })
    }

    fn syscall(&mut self, raw: &RawEvent, ev: &mut SysEvent) {
        let a = raw.args;
        let res = raw.ret;
        let p1 = raw.path1.clone().unwrap_or_default();
        let p2 = raw.path2.clone().unwrap_or_default();
        let path_fd = |s: &State, nameraw: &str, dir: Option<&String>| -> FdInfo {
            let kind = if res >= 0 { fd_kind_from_mode(raw.fd_mode) } else { FdKind::File };
            FdInfo {
                num: if res >= 0 { res } else { -1 },
                kind: if kind == FdKind::Unknown { FdKind::File } else { kind },
                name: s.resolve(raw, nameraw, dir),
                nameraw: nameraw.to_string(),
                net: None,
            }
        };
        let mut params = vec![num("res", res)];
        match ev.etype.as_ref() {
            "open" | "openat" | "openat2" | "creat" => {
                let (flags, mode) = match raw.nr {
                    2 => (a[1], a[2]),
                    85 => (0o1101, a[1]),
                    _ => (a[2], a[3]),
                };
                params[0].name = Cow::Borrowed("fd");
                if raw.nr == 257 || raw.nr == 437 {
                    params.push(num("dirfd", a[0] as i32 as i64));
                }
                params.push(param("name", p1.clone()));
                params.push(flagged("flags", names::open_flags(flags), flags));
                params.push(flagged("mode", format!("{mode:#o}"), mode));
                ev.fd = Some(path_fd(self, &p1, raw.dir1.as_ref()));
            }
            "connect" | "sendto" | "sendmsg" | "bind" | "listen" => {
                let fd = a[0] as i32 as i64;
                let local_is_client = ev.etype != "bind" && ev.etype != "listen";
                ev.fd = self.net_fd(raw, fd, local_is_client);
                if let Some(f) = &ev.fd {
                    params.push(param("tuple", f.name.clone()));
                }
                params.push(num("fd", fd));
            }
            "accept" | "accept4" => {
                params[0].name = Cow::Borrowed("fd");
                if res >= 0 {
                    ev.fd = self.net_fd(raw, res, false);
                }
                if let Some(f) = &ev.fd {
                    params.push(param("tuple", f.name.clone()));
                }
            }
            "socket" => {
                params[0].name = Cow::Borrowed("fd");
                params.push(flagged("domain", names::socket_domain(a[0]), a[0]));
                params.push(num("type", a[1] as i64));
                params.push(num("proto", a[2] as i64));
                let kind = match a[0] {
                    1 => FdKind::Unix,
                    2 => FdKind::Ipv4,
                    10 => FdKind::Ipv6,
                    16 => FdKind::Netlink,
                    _ => FdKind::Socket,
                };
                ev.fd =
                    Some(FdInfo { num: res, kind, name: String::new(), nameraw: String::new(), net: None });
            }
            "dup" | "dup2" | "dup3" => {
                params.push(num("oldfd", a[0] as i32 as i64));
                if raw.nr != 32 {
                    params.push(num("newfd", a[1] as i32 as i64));
                }
                if res >= 0 {
                    ev.fd = self.net_fd(raw, res, true).or_else(|| {
                        Some(FdInfo {
                            num: res,
                            kind: fd_kind_from_mode(raw.fd_mode),
                            name: String::new(),
                            nameraw: String::new(),
                            net: None,
                        })
                    });
                }
            }
            "unlink" | "rmdir" | "mkdir" | "chmod" | "chdir" | "umount2" => {
                let name = if ev.etype == "umount2" { "name" } else { "path" };
                let full = self.resolve(raw, &p1, raw.dir1.as_ref());
                params.push(param(name, p1.clone()));
                if ev.etype == "mkdir" || ev.etype == "chmod" {
                    params.push(num("mode", a[1] as i64));
                }
                if ev.etype == "chdir" && res == 0 {
                    if let Some(p) = self.procs.get_mut(&raw.pid) {
                        p.cwd = with_slash(&full);
                    }
                    self.touch(raw.pid);
                }
                ev.fs = Some(FsPaths { name: Some(full), ..FsPaths::default() });
            }
            "unlinkat" | "mkdirat" | "fchmodat" => {
                let full = self.resolve(raw, &p1, raw.dir1.as_ref());
                params.push(num("dirfd", a[0] as i32 as i64));
                params.push(param("name", p1.clone()));
                params.push(num(if ev.etype == "unlinkat" { "flags" } else { "mode" }, a[2] as i64));
                ev.fs = Some(FsPaths { name: Some(full), ..FsPaths::default() });
            }
            "rename" | "renameat" | "renameat2" | "link" | "linkat" => {
                let src = self.resolve(raw, &p1, raw.dir1.as_ref());
                let dst = self.resolve(raw, &p2, raw.dir2.as_ref());
                params.push(param("oldpath", p1.clone()));
                params.push(param("newpath", p2.clone()));
                ev.fs = Some(FsPaths { name: Some(dst.clone()), source: Some(src), target: Some(dst) });
            }
            "symlink" | "symlinkat" => {
                let link = self.resolve(raw, &p2, raw.dir2.as_ref());
                params.push(param("target", p1.clone()));
                params.push(param("linkpath", p2.clone()));
                ev.fs =
                    Some(FsPaths { name: Some(link.clone()), source: Some(p1.clone()), target: Some(link) });
            }
            "fchdir" | "fchmod" => {
                params.push(num("fd", a[0] as i32 as i64));
                if let Some(path) = &raw.fd_path {
                    if ev.etype == "fchdir" && res == 0 {
                        if let Some(p) = self.procs.get_mut(&raw.pid) {
                            p.cwd = with_slash(path);
                        }
                        self.touch(raw.pid);
                    }
                    ev.fd = Some(FdInfo {
                        num: a[0] as i32 as i64,
                        kind: FdKind::Directory,
                        name: path.clone(),
                        nameraw: String::new(),
                        net: None,
                    });
                }
            }
            "setuid" => params.push(num("uid", a[0] as u32 as i64)),
            "setgid" => params.push(num("gid", a[0] as u32 as i64)),
            "setreuid" => {
                params.push(num("ruid", a[0] as u32 as i64));
                params.push(num("euid", a[1] as u32 as i64));
            }
            "setregid" => {
                params.push(num("rgid", a[0] as u32 as i64));
                params.push(num("egid", a[1] as u32 as i64));
            }
            "setresuid" => {
                params.push(num("ruid", a[0] as u32 as i64));
                params.push(num("euid", a[1] as u32 as i64));
                params.push(num("suid", a[2] as u32 as i64));
            }
            "setresgid" => {
                params.push(num("rgid", a[0] as u32 as i64));
                params.push(num("egid", a[1] as u32 as i64));
                params.push(num("sgid", a[2] as u32 as i64));
            }
            "capset" => {
                params.push(param("cap_effective", names::caps(raw.cap_effective)));
            }
            "mount" => {
                params.push(param("dev", p1.clone()));
                params.push(param("dir", self.resolve(raw, &p2, raw.dir2.as_ref())));
                params.push(param("type", raw.path3.clone().unwrap_or_default()));
                params.push(num("flags", a[3] as i64));
            }
            "ptrace" => {
                params.push(flagged("request", names::ptrace_request(a[0]), a[0]));
                params.push(num("pid", a[1] as i32 as i64));
            }
            "unshare" => params.push(flagged("flags", names::clone_flags(a[0]), a[0])),
            "setns" => {
                params.push(num("fd", a[0] as i32 as i64));
                params.push(flagged("nstype", names::clone_flags(a[1]), a[1]));
            }
            "init_module" => params.push(param("uargs", p1.clone())),
            "finit_module" => {
                params.push(num("fd", a[0] as i32 as i64));
                params.push(param("uargs", p1.clone()));
                params.push(num("flags", a[2] as i64));
                if let Some(path) = &raw.fd_path {
                    ev.fd = Some(FdInfo {
                        num: a[0] as i32 as i64,
                        kind: FdKind::File,
                        name: path.clone(),
                        nameraw: String::new(),
                        net: None,
                    });
                }
            }
            "delete_module" => {}
            "bpf" => {
                params.push(flagged("cmd", names::bpf_cmd(a[0]), a[0]));
            }
            "memfd_create" => {
                params[0].name = Cow::Borrowed("fd");
                params.push(param("name", p1.clone()));
                params.push(flagged("flags", names::memfd_flags(a[1]), a[1]));
                ev.fd = Some(FdInfo {
                    num: res,
                    kind: FdKind::Memfd,
                    name: format!("memfd:{p1}"),
                    nameraw: p1.clone(),
                    net: None,
                });
            }
            _ => {}
        }
        ev.params = params;
    }
}

/// CLOCK_BOOTTIME's epoch: the wall clock minus the time since boot, both
/// read from the clocks back to back (`/proc/uptime` only has 10 ms steps,
/// which put event times up to 10 ms late).
#[cfg(target_os = "linux")]
fn boot_epoch_ns() -> u64 {
    use rustix::time::{ClockId, Timespec, clock_gettime};
    let ns = |t: Timespec| (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64);
    let real = ns(clock_gettime(ClockId::Realtime));
    let boot = ns(clock_gettime(ClockId::Boottime));
    real.saturating_sub(boot)
}

/// Only live capture, which is Linux-only, has boot-time stamps to convert.
#[cfg(not(target_os = "linux"))]
fn boot_epoch_ns() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        let cases =
            [("/etc/../etc/./shadow", "/etc/shadow"), ("//tmp//x/", "/tmp/x"), ("/..", "/"), ("/", "/")];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "{input}");
        }
        assert_eq!(join("/root/", "../etc/passwd"), "/etc/passwd");
        assert_eq!(join("/var/log", "syslog"), "/var/log/syslog");
    }

    #[test]
    fn passwd_and_group() {
        let users = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n# c\nbad\nwww:x:33:33::/var/www:/usr/sbin/nologin\n",
        );
        assert_eq!(users[&0].name, "root");
        assert_eq!(users[&33].home, "/var/www");
        assert_eq!(users.len(), 2);
        let groups = parse_group("root:x:0:\nshadow:x:42:\n");
        assert_eq!(groups[&42], "shadow");
    }

    fn raw(kind: Kind, nr: u32, pid: u32) -> RawEvent {
        RawEvent {
            ts_boot_ns: 10,
            cgroup_id: 0,
            ret: 0,
            args: [0; 6],
            cap_effective: 0,
            start_boot_ns: 0,
            kind,
            nr,
            pid,
            tid: pid,
            ppid: 0,
            uid: 0,
            gid: 0,
            loginuid: u32::MAX,
            tty: 0,
            fd_mode: 0,
            comm: "sh".into(),
            ..RawEvent::default()
        }
    }

    #[test]
    fn fork_exec_open_exit_keep_the_table() {
        let mut s = State::empty();
        // A pid that cannot exist, so nothing is read from /proc.
        let parent = 4_000_000_001;
        let child = 4_000_000_002;
        let mut p = Process {
            pid: parent,
            ppid: 1,
            comm: "sh".into(),
            cwd: "/srv/".into(),
            container_id: "c1".into(),
            ..Process::default()
        };
        p.set_cmdline();
        s.insert(p);
        s.image_files = Some(["/bin/busybox".to_string()].into_iter().collect());

        let mut fork = raw(Kind::Fork, 56, parent);
        fork.ret = child as i64;
        fork.args[0] = parent as u64;
        let ev = s.ingest(&fork);
        assert_eq!(ev.etype, "clone");
        assert_eq!(s.procs[&child].cwd, "/srv/");

        let mut exec = raw(Kind::Exec, 59, child);
        exec.comm = "wget".into();
        exec.argv = vec!["wget".into(), "-q".into(), "http://x".into()];
        exec.exe = Some("/usr/local/bin/wget".into());
        exec.cwd = Some("/srv".into());
        exec.pids = Some(crate::raw::PidInfo { pgid: 77, sid: 70, vpid: 3 });
        let ev = s.ingest(&exec);
        assert_eq!(ev.etype, "execve");
        let p = &s.procs[&child];
        assert_eq!(p.cmdline, "wget -q http://x");
        assert_eq!(p.ppid, parent);
        assert_eq!((p.pgid, p.sid, p.vpid), (77, 70, 3));
        assert!(p.exe_upper_layer, "not in the image's file list: drift");
        assert_eq!(ev.param("flags").unwrap().text, "EXE_UPPER_LAYER");

        let mut open = raw(Kind::Syscall, 257, child);
        open.comm = "wget".into();
        open.ret = -13;
        open.args = [(-100i64) as u64, 0, 0o1101, 0o644, 0, 0];
        open.path1 = Some("../etc/shadow".into());
        let ev = s.ingest(&open);
        let fd = ev.fd.as_ref().unwrap();
        assert_eq!(fd.name, "/etc/shadow");
        assert_eq!(fd.num, -1);
        assert_eq!(ev.param("flags").unwrap().text, "O_WRONLY|O_CREAT|O_TRUNC");

        let exit = raw(Kind::Exit, 0, child);
        let ev = s.ingest(&exit);
        assert_eq!(ev.etype, "procexit");
        s.retire(&ev);
        assert!(!s.procs.contains_key(&child));
    }

    #[test]
    fn seeds_itself_from_proc() {
        let s = State::from_host();
        let me = std::process::id();
        let p = s.procs.get(&me).expect("own process in the table");
        assert!(!p.exepath.is_empty());
        assert!(p.cwd.ends_with('/'));
        assert!(s.procs.contains_key(&p.ppid) || p.ppid == 0);
    }
}
