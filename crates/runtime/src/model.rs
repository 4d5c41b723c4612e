//! The enriched event and the state it refers to: what rules read, what a
//! recording stores.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One process as the process table knows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    /// Pid inside the process's own pid namespace (0 when unknown).
    #[serde(default)]
    pub vpid: u32,
    /// Kernel task name (at most 15 bytes): Falco's `proc.name`.
    pub comm: String,
    /// argv[0].
    pub exe: String,
    /// Absolute path of the executable, as the process sees it.
    pub exepath: String,
    /// argv[1..].
    pub args: Vec<String>,
    /// `comm` followed by `args`, space separated.
    pub cmdline: String,
    /// Working directory, with a trailing `/`.
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    /// Audit login uid; -1 when unset.
    pub loginuid: i64,
    pub tty: u32,
    #[serde(default)]
    pub sid: u32,
    #[serde(default)]
    pub pgid: u32,
    /// Start time, nanoseconds since the epoch.
    pub start_ns: u64,
    #[serde(default)]
    pub exe_ino: u64,
    #[serde(default)]
    pub exe_ctime_ns: u64,
    #[serde(default)]
    pub exe_mtime_ns: u64,
    #[serde(default)]
    pub exe_upper_layer: bool,
    #[serde(default)]
    pub exe_from_memfd: bool,
    #[serde(default)]
    pub exe_writable: bool,
    #[serde(default)]
    pub cap_effective: u64,
    #[serde(default)]
    pub cap_permitted: u64,
    /// Full container id, or empty on the host.
    #[serde(default)]
    pub container_id: String,
    #[serde(default)]
    pub env: Vec<String>,
}

impl Process {
    /// Recomputes `cmdline` from `comm` and `args`.
    pub fn set_cmdline(&mut self) {
        let mut s = self.comm.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        self.cmdline = s;
    }
}

/// A container a process belongs to, from its cgroup and runtime metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Full id (64 hex digits for the common runtimes).
    pub id: String,
    /// `docker`, `containerd`, `cri-o`, `podman`, `libvirt-lxc`, ...
    pub runtime: String,
    #[serde(default)]
    pub name: String,
    /// Image reference as the container was created (`nginx:1.25`).
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub image_id: String,
    #[serde(default)]
    pub image_repository: String,
    #[serde(default)]
    pub image_tag: String,
    #[serde(default)]
    pub image_digest: String,
    #[serde(default)]
    pub privileged: bool,
    /// Nanoseconds since the epoch; 0 when unknown.
    #[serde(default)]
    pub start_ns: u64,
    #[serde(default)]
    pub k8s_namespace: String,
    #[serde(default)]
    pub k8s_pod_name: String,
    #[serde(default)]
    pub k8s_pod_uid: String,
    #[serde(default)]
    pub k8s_labels: BTreeMap<String, String>,
    /// The cgroup path the container was recognised from.
    #[serde(default)]
    pub cgroup: String,
}

/// A user from the host's passwd database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub name: String,
    #[serde(default)]
    pub home: String,
    #[serde(default)]
    pub shell: String,
}

/// One syscall argument: its Falco name, its text and (for numbers) its raw value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: Cow<'static, str>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<i64>,
}

/// The kind of file a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FdKind {
    File,
    Directory,
    Ipv4,
    Ipv6,
    Unix,
    Pipe,
    Memfd,
    Netlink,
    Socket,
    Device,
    Unknown,
}

impl FdKind {
    /// Falco's `fd.type`.
    pub fn name(self) -> &'static str {
        match self {
            FdKind::File => "file",
            FdKind::Directory => "directory",
            FdKind::Ipv4 => "ipv4",
            FdKind::Ipv6 => "ipv6",
            FdKind::Unix => "unix",
            FdKind::Pipe => "pipe",
            FdKind::Memfd => "memfd",
            FdKind::Netlink => "netlink",
            FdKind::Socket => "socket",
            FdKind::Device => "file",
            FdKind::Unknown => "<NA>",
        }
    }

    /// Falco's `fd.typechar`.
    pub fn typechar(self) -> &'static str {
        match self {
            FdKind::File | FdKind::Device => "f",
            FdKind::Directory => "d",
            FdKind::Ipv4 => "4",
            FdKind::Ipv6 => "6",
            FdKind::Unix => "u",
            FdKind::Pipe => "p",
            FdKind::Memfd => "m",
            FdKind::Netlink => "n",
            FdKind::Socket => "s",
            FdKind::Unknown => "o",
        }
    }
}

/// An IP connection's endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetInfo {
    /// `tcp`, `udp`, `icmp`, `raw`.
    pub l4proto: String,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    /// The local end is the client (connect, sendto) rather than the server (accept).
    pub local_is_client: bool,
    pub connected: bool,
}

/// The descriptor an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdInfo {
    pub num: i64,
    pub kind: FdKind,
    /// Absolute path, or `cip:cport->sip:sport` for a connection.
    pub name: String,
    /// The path as the program passed it.
    #[serde(default)]
    pub nameraw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<NetInfo>,
}

/// Paths of a filesystem change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsPaths {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// One exit event (`evt.dir` = `<`) with its return value and arguments.
/// Process-level fields come from the [`Process`] with this `pid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SysEvent {
    pub num: u64,
    /// Nanoseconds since the epoch.
    pub ts: u64,
    /// Falco's event type name.
    #[serde(rename = "type")]
    pub etype: Cow<'static, str>,
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: i64,
    #[serde(default)]
    pub cap_effective: u64,
    pub res: i64,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<FdInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs: Option<FsPaths>,
}

impl SysEvent {
    /// The argument named so.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}
