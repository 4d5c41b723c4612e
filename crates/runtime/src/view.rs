//! [`EventView`]: one event plus the state it refers to, as the rules see it.

use std::borrow::Cow;
use std::net::IpAddr;

use rampart_rules::{Event, Field, FieldArg, Value};

use crate::model::{Container, Process, SysEvent};
use crate::names;
use crate::state::{MAX_ANCESTORS, State};

/// An event with its process, the process's ancestors and its container.
pub struct EventView<'a> {
    pub evt: &'a SysEvent,
    pub state: &'a State,
    proc: Option<&'a Process>,
    container: Option<&'a Container>,
}

fn s(v: &str) -> Option<Value<'_>> {
    Some(Value::Str(Cow::Borrowed(v)))
}
fn owned<'a>(v: String) -> Option<Value<'a>> {
    Some(Value::Str(Cow::Owned(v)))
}
fn u(v: u64) -> Option<Value<'static>> {
    Some(Value::Uint(v))
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => path,
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl<'a> EventView<'a> {
    pub fn new(evt: &'a SysEvent, state: &'a State) -> EventView<'a> {
        let proc = state.procs.get(&evt.pid);
        let container =
            proc.filter(|p| !p.container_id.is_empty()).and_then(|p| state.containers.get(&p.container_id));
        EventView { evt, state, proc, container }
    }

    /// The process the event happened in, when known.
    pub fn process(&self) -> Option<&'a Process> {
        self.proc
    }

    /// The container the process runs in, when it runs in one.
    pub fn container(&self) -> Option<&'a Container> {
        self.container
    }

    /// The n-th ancestor (1 = parent).
    fn ancestor(&self, n: usize) -> Option<&'a Process> {
        let mut p = self.proc?;
        for _ in 0..n {
            if p.ppid == 0 || p.ppid == p.pid {
                return None;
            }
            p = self.state.procs.get(&p.ppid)?;
        }
        Some(p)
    }

    fn ancestors<T>(&self, arg: &FieldArg, f: impl Fn(&'a Process) -> T) -> Option<Value<'a>>
    where
        T: Into<Value<'a>>,
    {
        match arg {
            FieldArg::Index(i) => self.ancestor(*i).map(|p| f(p).into()),
            _ => {
                let mut out = Vec::new();
                for i in 1..=MAX_ANCESTORS {
                    match self.ancestor(i) {
                        Some(p) => out.push(f(p).into()),
                        None => break,
                    }
                }
                Some(Value::List(out))
            }
        }
    }

    fn user(&self) -> Option<&'a crate::model::User> {
        self.state.users.get(&self.evt.uid)
    }

    fn arg(&self, arg: &FieldArg, raw: bool) -> Option<Value<'a>> {
        let p = match arg {
            FieldArg::Key(k) => self.evt.param(k)?,
            FieldArg::Index(i) => self.evt.params.get(*i)?,
            FieldArg::None => return None,
        };
        if raw && let Some(r) = p.raw {
            return Some(Value::Int(r));
        }
        s(&p.text)
    }

    fn net(&self) -> Option<&'a crate::model::NetInfo> {
        self.evt.fd.as_ref()?.net.as_ref()
    }

    fn local_remote(&self) -> Option<((IpAddr, u16), (IpAddr, u16))> {
        let n = self.net()?;
        let c = (n.client_ip, n.client_port);
        let sv = (n.server_ip, n.server_port);
        Some(if n.local_is_client { (c, sv) } else { (sv, c) })
    }
}

impl<'a> From<&'a str> for Wrap<'a> {
    fn from(v: &'a str) -> Self {
        Wrap(Value::Str(Cow::Borrowed(v)))
    }
}

/// Lets ancestor helpers return either text or numbers.
struct Wrap<'a>(Value<'a>);
impl<'a> From<Wrap<'a>> for Value<'a> {
    fn from(w: Wrap<'a>) -> Self {
        w.0
    }
}
impl From<u32> for Wrap<'_> {
    fn from(v: u32) -> Self {
        Wrap(Value::Uint(v as u64))
    }
}

impl Event for EventView<'_> {
    fn event_type(&self) -> &str {
        &self.evt.etype
    }

    fn field(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>> {
        let e = self.evt;
        let p = self.proc;
        match field {
            Field::EvtType => s(&e.etype),
            Field::EvtDir => s("<"),
            Field::EvtTime | Field::EvtRawtime => u(e.ts),
            Field::EvtNum => u(e.num),
            Field::EvtHostname => s(&self.state.hostname),
            Field::EvtArg => self.arg(arg, false),
            Field::EvtRawarg => self.arg(arg, true),
            Field::EvtArgs => {
                let mut out = String::new();
                for p in &e.params {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&p.name);
                    out.push('=');
                    out.push_str(&p.text);
                }
                owned(out)
            }
            Field::EvtRawres => Some(Value::Int(e.res)),
            Field::EvtRes => owned(names::res_text(e.res)),
            Field::EvtFailed => Some(Value::Bool(e.res < 0)),
            Field::EvtIsOpenRead | Field::EvtIsOpenWrite | Field::EvtIsOpenExec => {
                let flags = e.param("flags")?;
                if !matches!(e.etype.as_ref(), "open" | "openat" | "openat2" | "creat") {
                    return Some(Value::Bool(false));
                }
                let mode = e.param("mode").and_then(|m| m.raw).unwrap_or(0) as u64;
                let (r, w, x) = names::open_access(flags.raw.unwrap_or(0) as u64, mode);
                Some(Value::Bool(match field {
                    Field::EvtIsOpenRead => r,
                    Field::EvtIsOpenWrite => w,
                    _ => x,
                }))
            }
            Field::EvtSource => s("syscall"),

            Field::ProcName => s(&p?.comm),
            Field::ProcExe => s(&p?.exe),
            Field::ProcExepath => s(&p?.exepath),
            Field::ProcCmdline => s(&p?.cmdline),
            Field::ProcArgs => owned(p?.args.join(" ")),
            Field::ProcPid => u(e.pid as u64),
            Field::ProcPpid => u(p?.ppid as u64),
            Field::ProcVpid => u(p?.vpid as u64),
            Field::ProcPname => s(&self.ancestor(1)?.comm),
            Field::ProcPcmdline => s(&self.ancestor(1)?.cmdline),
            Field::ProcPexe => s(&self.ancestor(1)?.exe),
            Field::ProcPexepath => s(&self.ancestor(1)?.exepath),
            Field::ProcAname => self.ancestors(arg, |a| Wrap::from(a.comm.as_str())),
            Field::ProcApid => self.ancestors(arg, |a| Wrap::from(a.pid)),
            Field::ProcAexe => self.ancestors(arg, |a| Wrap::from(a.exe.as_str())),
            Field::ProcAexepath => self.ancestors(arg, |a| Wrap::from(a.exepath.as_str())),
            Field::ProcTty => u(p?.tty as u64),
            Field::ProcCwd => s(&p?.cwd),
            Field::ProcSid => u(p?.sid as u64),
            Field::ProcSname => {
                let sid = p?.sid;
                s(&self.state.procs.get(&sid)?.comm)
            }
            Field::ProcVpgid => u(p?.pgid as u64),
            Field::ProcVpgidName => s(&self.state.procs.get(&p?.pgid)?.comm),
            Field::ProcVpgidExe => s(&self.state.procs.get(&p?.pgid)?.exe),
            Field::ProcIsVpgidLeader => Some(Value::Bool(p?.pgid == p?.pid)),
            Field::ProcIsExeUpperLayer => Some(Value::Bool(p?.exe_upper_layer)),
            Field::ProcIsExeFromMemfd => Some(Value::Bool(p?.exe_from_memfd)),
            Field::ProcIsExeWritable => Some(Value::Bool(p?.exe_writable)),
            Field::ProcLoginshellid => {
                // The outermost shell ancestor, as Falco defines it.
                let mut id = None;
                let shells = ["sh", "bash", "zsh", "ash", "dash", "ksh", "fish", "tcsh", "csh"];
                let mut cur = p;
                let mut n = 0;
                while let Some(c) = cur {
                    if shells.contains(&c.comm.as_str()) {
                        id = Some(c.pid);
                    }
                    n += 1;
                    cur = if n > MAX_ANCESTORS { None } else { self.state.procs.get(&c.ppid) };
                }
                u(id? as u64)
            }
            Field::ProcDuration => u(e.ts.saturating_sub(p?.start_ns)),
            Field::ProcPpidDuration => u(e.ts.saturating_sub(self.ancestor(1)?.start_ns)),
            Field::ProcExeInoMtime => u(p?.exe_mtime_ns),
            Field::ProcExeInoCtime => u(p?.exe_ctime_ns),
            Field::ProcExeInoCtimeDurationProcStart => {
                let p = p?;
                u(p.start_ns.saturating_sub(p.exe_ctime_ns))
            }
            Field::ProcEnv => {
                let FieldArg::Key(k) = arg else { return None };
                p?.env.iter().find_map(|kv| {
                    kv.strip_prefix(k.as_str())
                        .and_then(|v| v.strip_prefix('='))
                        .map(|v| Value::Str(Cow::Borrowed(v)))
                })
            }

            Field::ThreadTid => u(e.tid as u64),
            Field::ThreadVtid => u(e.tid as u64),
            Field::ThreadCapEffective => owned(names::caps(e.cap_effective)),
            Field::ThreadCapPermitted => owned(names::caps(p?.cap_permitted)),

            Field::UserName => s(&self.user()?.name),
            Field::UserUid => u(e.uid as u64),
            Field::UserLoginuid => Some(Value::Int(e.loginuid)),
            Field::UserLoginname => {
                if e.loginuid < 0 {
                    return None;
                }
                s(&self.state.users.get(&(e.loginuid as u32))?.name)
            }
            Field::UserHomedir => s(&self.user()?.home),
            Field::UserShell => s(&self.user()?.shell),
            Field::GroupName => s(self.state.groups.get(&e.gid)?),
            Field::GroupGid => u(e.gid as u64),

            Field::FdNum => Some(Value::Int(e.fd.as_ref()?.num)),
            Field::FdType => s(e.fd.as_ref()?.kind.name()),
            Field::FdTypechar => s(e.fd.as_ref()?.kind.typechar()),
            Field::FdName => s(&e.fd.as_ref()?.name),
            Field::FdNameraw => s(&e.fd.as_ref()?.nameraw),
            Field::FdNameChanged => Some(Value::Bool(
                matches!(e.etype.as_ref(), "connect" | "accept" | "accept4") && e.fd.is_some(),
            )),
            Field::FdDirectory => {
                let f = e.fd.as_ref()?;
                if f.net.is_some() {
                    return None;
                }
                s(dirname(&f.name))
            }
            Field::FdFilename => {
                let f = e.fd.as_ref()?;
                if f.net.is_some() {
                    return None;
                }
                s(basename(&f.name))
            }
            Field::FdIp | Field::FdNet => {
                let n = self.net()?;
                Some(Value::List(vec![Value::Ip(n.client_ip), Value::Ip(n.server_ip)]))
            }
            Field::FdCip | Field::FdCnet => Some(Value::Ip(self.net()?.client_ip)),
            Field::FdSip | Field::FdSnet => Some(Value::Ip(self.net()?.server_ip)),
            Field::FdLip | Field::FdLnet => Some(Value::Ip(self.local_remote()?.0.0)),
            Field::FdRip | Field::FdRnet => Some(Value::Ip(self.local_remote()?.1.0)),
            Field::FdSipName | Field::FdCipName | Field::FdLipName | Field::FdRipName => None,
            Field::FdPort => {
                let n = self.net()?;
                Some(Value::List(vec![Value::Uint(n.client_port as u64), Value::Uint(n.server_port as u64)]))
            }
            Field::FdCport => u(self.net()?.client_port as u64),
            Field::FdSport => u(self.net()?.server_port as u64),
            Field::FdLport => u(self.local_remote()?.0.1 as u64),
            Field::FdRport => u(self.local_remote()?.1.1 as u64),
            Field::FdL4proto => s(&self.net()?.l4proto),
            Field::FdSockfamily => {
                let f = e.fd.as_ref()?;
                match f.kind {
                    crate::model::FdKind::Ipv4 | crate::model::FdKind::Ipv6 => s("ip"),
                    crate::model::FdKind::Unix => s("unix"),
                    _ => None,
                }
            }
            Field::FdConnected => Some(Value::Bool(self.net()?.connected)),
            Field::FdIsServer => Some(Value::Bool(!self.net()?.local_is_client)),
            Field::FdTypes => {
                let f = e.fd.as_ref()?;
                let t = Value::Str(Cow::Borrowed(f.kind.name()));
                match arg {
                    FieldArg::Index(0) => Some(Value::List(vec![t])),
                    FieldArg::Index(_) => None,
                    _ => Some(Value::List(vec![t])),
                }
            }
            Field::FdDev | Field::FdIno => None,

            Field::FsPathName => s(e.fs.as_ref()?.name.as_deref()?),
            Field::FsPathSource => s(e.fs.as_ref()?.source.as_deref()?),
            Field::FsPathTarget => s(e.fs.as_ref()?.target.as_deref()?),

            Field::ContainerId => match self.container {
                Some(c) => s(&c.id[..c.id.len().min(12)]),
                None => s("host"),
            },
            Field::ContainerName => match self.container {
                Some(c) if !c.name.is_empty() => s(&c.name),
                Some(c) => s(&c.id[..c.id.len().min(12)]),
                None => s("host"),
            },
            Field::ContainerImage => non_empty(&self.container?.image),
            Field::ContainerImageId => non_empty(&self.container?.image_id),
            Field::ContainerImageRepository => non_empty(&self.container?.image_repository),
            Field::ContainerImageTag => non_empty(&self.container?.image_tag),
            Field::ContainerImageDigest => non_empty(&self.container?.image_digest),
            Field::ContainerType => match self.container {
                Some(c) => s(&c.runtime),
                None => s("host"),
            },
            Field::ContainerPrivileged => Some(Value::Bool(self.container?.privileged)),
            Field::ContainerStartTs => {
                let c = self.container?;
                (c.start_ns != 0).then_some(Value::Uint(c.start_ns))
            }
            Field::ContainerDuration => {
                let c = self.container?;
                (c.start_ns != 0).then(|| Value::Uint(e.ts.saturating_sub(c.start_ns)))
            }
            Field::ProcIsContainerHealthcheck => Some(Value::Bool(false)),

            Field::K8sNsName => non_empty(&self.container?.k8s_namespace),
            Field::K8sPodName => non_empty(&self.container?.k8s_pod_name),
            Field::K8sPodUid => non_empty(&self.container?.k8s_pod_uid),
            Field::K8sPodLabel => {
                let FieldArg::Key(k) = arg else { return None };
                s(self.container?.k8s_labels.get(k)?)
            }
            Field::K8sPodLabels => {
                let c = self.container?;
                if c.k8s_labels.is_empty() {
                    return None;
                }
                let parts: Vec<String> = c.k8s_labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                owned(parts.join(", "))
            }
            // Fields the rules crate may add later that no event source
            // here provides yet.
            _ => None,
        }
    }
}

fn non_empty(v: &str) -> Option<Value<'_>> {
    if v.is_empty() { None } else { s(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, FdInfo, FdKind, NetInfo, Param, User};
    use rampart_rules::parse_field;

    fn state() -> State {
        let mut s = State::empty();
        s.hostname = "node-1".into();
        s.users
            .insert(0, User { uid: 0, name: "root".into(), home: "/root".into(), shell: "/bin/sh".into() });
        s.groups.insert(0, "root".into());
        let id = "ab".repeat(32);
        s.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                runtime: "docker".into(),
                name: "web".into(),
                image_repository: "nginx".into(),
                image_tag: "1.25".into(),
                k8s_namespace: "shop".into(),
                ..Container::default()
            },
        );
        let mut procs = vec![
            Process { pid: 1, ppid: 0, comm: "systemd".into(), ..Process::default() },
            Process {
                pid: 10,
                ppid: 1,
                comm: "containerd-shim".into(),
                exepath: "/usr/bin/containerd-shim".into(),
                ..Process::default()
            },
            Process {
                pid: 20,
                ppid: 10,
                comm: "bash".into(),
                exe: "bash".into(),
                args: vec!["-i".into()],
                sid: 20,
                pgid: 20,
                container_id: id.clone(),
                ..Process::default()
            },
            Process {
                pid: 30,
                ppid: 20,
                comm: "nc".into(),
                exe: "nc".into(),
                exepath: "/usr/bin/nc".into(),
                args: vec!["1.2.3.4".into(), "80".into()],
                cwd: "/root/".into(),
                tty: 34816,
                sid: 20,
                pgid: 30,
                exe_upper_layer: true,
                container_id: id,
                start_ns: 1_000,
                ..Process::default()
            },
        ];
        for p in procs.iter_mut() {
            p.set_cmdline();
        }
        for p in procs {
            s.insert(p);
        }
        s
    }

    fn connect() -> SysEvent {
        SysEvent {
            num: 7,
            ts: 5_000,
            etype: "connect".into(),
            pid: 30,
            tid: 31,
            uid: 0,
            gid: 0,
            loginuid: -1,
            cap_effective: 1 << 21,
            res: -115,
            params: vec![
                Param { name: "res".into(), text: "-115".into(), raw: Some(-115) },
                Param { name: "tuple".into(), text: "10.0.0.2:5555->1.2.3.4:80".into(), raw: None },
                Param { name: "fd".into(), text: "3".into(), raw: Some(3) },
            ],
            fd: Some(FdInfo {
                num: 3,
                kind: FdKind::Ipv4,
                name: "10.0.0.2:5555->1.2.3.4:80".into(),
                nameraw: String::new(),
                net: Some(NetInfo {
                    l4proto: "tcp".into(),
                    client_ip: "10.0.0.2".parse().unwrap(),
                    client_port: 5555,
                    server_ip: "1.2.3.4".parse().unwrap(),
                    server_port: 80,
                    local_is_client: true,
                    connected: true,
                }),
            }),
            fs: None,
        }
    }

    #[test]
    fn fields_of_a_connect_in_a_container() {
        let s = state();
        let ev = connect();
        let view = EventView::new(&ev, &s);
        let cases: &[(&str, &str)] = &[
            ("evt.type", "connect"),
            ("evt.dir", "<"),
            ("evt.res", "EINPROGRESS"),
            ("evt.rawres", "-115"),
            ("evt.failed", "true"),
            ("evt.arg.fd", "3"),
            ("evt.arg[1]", "10.0.0.2:5555->1.2.3.4:80"),
            ("evt.args", "res=-115 tuple=10.0.0.2:5555->1.2.3.4:80 fd=3"),
            ("evt.hostname", "node-1"),
            ("proc.name", "nc"),
            ("proc.cmdline", "nc 1.2.3.4 80"),
            ("proc.args", "1.2.3.4 80"),
            ("proc.exepath", "/usr/bin/nc"),
            ("proc.pname", "bash"),
            ("proc.pcmdline", "bash -i"),
            ("proc.aname[2]", "containerd-shim"),
            ("proc.aname[3]", "systemd"),
            ("proc.aname", "(bash,containerd-shim,systemd)"),
            ("proc.apid[1]", "20"),
            ("proc.aexepath[2]", "/usr/bin/containerd-shim"),
            ("proc.sname", "bash"),
            ("proc.vpgid.name", "nc"),
            ("proc.is_vpgid_leader", "true"),
            ("proc.loginshellid", "20"),
            ("proc.tty", "34816"),
            ("proc.cwd", "/root/"),
            ("proc.duration", "4000"),
            ("proc.is_exe_upper_layer", "true"),
            ("thread.tid", "31"),
            ("thread.cap_effective", "CAP_SYS_ADMIN"),
            ("user.name", "root"),
            ("user.uid", "0"),
            ("user.loginuid", "-1"),
            ("group.name", "root"),
            ("fd.num", "3"),
            ("fd.type", "ipv4"),
            ("fd.typechar", "4"),
            ("fd.name", "10.0.0.2:5555->1.2.3.4:80"),
            ("fd.sip", "1.2.3.4"),
            ("fd.cip", "10.0.0.2"),
            ("fd.lip", "10.0.0.2"),
            ("fd.rip", "1.2.3.4"),
            ("fd.sport", "80"),
            ("fd.lport", "5555"),
            ("fd.rport", "80"),
            ("fd.l4proto", "tcp"),
            ("fd.sockfamily", "ip"),
            ("fd.net", "(10.0.0.2,1.2.3.4)"),
            ("fd.is_server", "false"),
            ("container.id", "abababababab"),
            ("container.name", "web"),
            ("container.type", "docker"),
            ("container.image.repository", "nginx"),
            ("container.image.tag", "1.25"),
            ("k8s.ns.name", "shop"),
        ];
        for (name, want) in cases {
            let (field, arg) = parse_field(name).unwrap_or_else(|| panic!("{name} parses"));
            let got = view.field(field, &arg).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{name}");
        }
        for name in ["fd.directory", "container.image.digest", "proc.aname[9]", "k8s.pod.name"] {
            let (field, arg) = parse_field(name).unwrap();
            assert_eq!(view.field(field, &arg), None, "{name}");
        }
    }

    #[test]
    fn host_process_and_open_fields() {
        let mut s = state();
        s.insert(Process { pid: 40, ppid: 1, comm: "cat".into(), ..Process::default() });
        let ev = SysEvent {
            etype: "openat".into(),
            pid: 40,
            res: 3,
            params: vec![
                Param { name: "fd".into(), text: "3".into(), raw: Some(3) },
                Param { name: "flags".into(), text: "O_WRONLY|O_CREAT".into(), raw: Some(0o101) },
                Param { name: "mode".into(), text: "0o755".into(), raw: Some(0o755) },
            ],
            fd: Some(FdInfo {
                num: 3,
                kind: FdKind::File,
                name: "/etc/cron.d/x".into(),
                nameraw: "x".into(),
                net: None,
            }),
            ..connect()
        };
        let view = EventView::new(&ev, &s);
        let cases: &[(&str, &str)] = &[
            ("container.id", "host"),
            ("container.name", "host"),
            ("evt.is_open_write", "true"),
            ("evt.is_open_read", "false"),
            ("evt.is_open_exec", "true"),
            ("fd.directory", "/etc/cron.d"),
            ("fd.filename", "x"),
            ("fd.nameraw", "x"),
            ("fd.typechar", "f"),
            ("evt.res", "SUCCESS"),
        ];
        for (name, want) in cases {
            let (field, arg) = parse_field(name).unwrap();
            let got = view.field(field, &arg).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(*want), "{name}");
        }
    }
}
