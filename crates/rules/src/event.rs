//! What rules are evaluated against: an [`Event`] that yields the value of a
//! [`Field`], named as Falco names its syscall-source fields.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// A field's value for one event.
///
/// Networks: a field such as `fd.net` or `fd.snet` yields the address
/// ([`Value::Ip`]); the condition's operator does the CIDR test when the
/// literal it compares against is a network (`fd.snet in ("10.0.0.0/8")`).
/// The same holds for the address fields (`fd.sip = "10.0.0.0/8"` is a
/// containment test too).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Uint(u64),
    Bool(bool),
    Ip(IpAddr),
    /// Several values. For a field whose [`ValueType`] is a list
    /// ([`ValueType::StrList`], e.g. `fd.types`) it is the field's value:
    /// `in` holds when every element is in the set, `intersects` when one is.
    /// For any other field it means "any of these" (`proc.aname` without an
    /// index yields every ancestor's name, `fd.net`/`fd.ip` the client and the
    /// server address): a comparison holds when it holds for one element.
    List(Vec<Value<'a>>),
}

impl Value<'_> {
    /// The same value, owning its text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Int(n) => Value::Int(n),
            Value::Uint(n) => Value::Uint(n),
            Value::Bool(b) => Value::Bool(b),
            Value::Ip(ip) => Value::Ip(ip),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
        }
    }
}

impl fmt::Display for Value<'_> {
    /// How an output line shows the value (Falco's rendering; lists are
    /// comma-separated inside parentheses).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
            Value::Uint(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::List(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The argument written after a field name: `proc.aname[2]` is `Index(2)`,
/// `evt.arg.flags` and `evt.arg[flags]` are `Key("flags")`, `evt.arg[0]` is
/// `Index(0)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum FieldArg {
    #[default]
    None,
    Index(usize),
    Key(String),
}

impl fmt::Display for FieldArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldArg::None => Ok(()),
            FieldArg::Index(i) => write!(f, "[{i}]"),
            FieldArg::Key(k) => write!(f, "[{k}]"),
        }
    }
}

/// Which argument a field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument.
    None,
    /// An optional number: `proc.aname` (any ancestor) or `proc.aname[2]`.
    OptionalIndex,
    /// A required name: `evt.arg.flags`, `proc.env[HOME]`.
    Key,
    /// A required name or number: `evt.arg.fd`, `evt.arg[0]`.
    IndexOrKey,
}

/// The type a field yields; the loader checks literals against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// [`Value::Str`].
    Str,
    /// [`Value::Int`].
    Int,
    /// [`Value::Uint`] (ports, ids, counts).
    Uint,
    /// [`Value::Uint`] nanoseconds since the Unix epoch.
    AbsTime,
    /// [`Value::Uint`] nanoseconds.
    RelTime,
    /// [`Value::Bool`].
    Bool,
    /// [`Value::Ip`].
    Ip,
    /// [`Value::Ip`], compared against networks (`fd.net`, `fd.snet`, ...).
    Net,
    /// [`Value::List`] of [`Value::Str`] (`fd.types`).
    StrList,
}

macro_rules! fields {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, $arg:ident, $ty:ident; )*) => {
        /// Syscall-source fields, named as Falco names them.
        ///
        /// `Field::from_name("proc.name")`, `field.name()`, `field.arg_kind()`,
        /// `field.value_type()`. `evt.type` never reaches [`Event::field`]: the
        /// evaluator asks [`Event::event_type`].
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Field {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The field named so (without its argument), or `None`.
            pub fn from_name(name: &str) -> Option<Field> {
                match name {
                    $( $name => Some(Field::$variant), )*
                    _ => None,
                }
            }

            /// Falco's name of the field.
            pub fn name(self) -> &'static str {
                match self {
                    $( Field::$variant => $name, )*
                }
            }

            /// Which argument the field takes.
            pub fn arg_kind(self) -> ArgKind {
                match self {
                    $( Field::$variant => ArgKind::$arg, )*
                }
            }

            /// The type of the field's value.
            pub fn value_type(self) -> ValueType {
                match self {
                    $( Field::$variant => ValueType::$ty, )*
                }
            }
        }
    };
}

fields! {
    /// Event type name (`execve`, `openat`); answered by [`Event::event_type`].
    EvtType = "evt.type", None, Str;
    /// Direction: `>` for enter, `<` for exit.
    EvtDir = "evt.dir", None, Str;
    /// Event timestamp, nanoseconds since the epoch.
    EvtTime = "evt.time", None, AbsTime;
    /// Event timestamp as a number of nanoseconds since the epoch.
    EvtRawtime = "evt.rawtime", None, AbsTime;
    /// Event sequence number.
    EvtNum = "evt.num", None, Uint;
    /// Host name of the machine the event happened on.
    EvtHostname = "evt.hostname", None, Str;
    /// One argument, rendered as text: `evt.arg.flags` / `evt.arg[flags]` (Key) or `evt.arg[0]` (Index).
    EvtArg = "evt.arg", IndexOrKey, Str;
    /// One argument's raw value (numbers as numbers): `evt.rawarg.res`.
    EvtRawarg = "evt.rawarg", Key, Str;
    /// Every argument as `name=value` pairs separated by spaces.
    EvtArgs = "evt.args", None, Str;
    /// Return value as a number (`-2` for ENOENT).
    EvtRawres = "evt.rawres", None, Int;
    /// Return value as text: `SUCCESS` or the errno name (`ENOENT`).
    EvtRes = "evt.res", None, Str;
    /// Whether the call failed.
    EvtFailed = "evt.failed", None, Bool;
    /// An open-family call (open, openat, openat2, creat...) that opened for reading.
    EvtIsOpenRead = "evt.is_open_read", None, Bool;
    /// An open-family call that opened for writing.
    EvtIsOpenWrite = "evt.is_open_write", None, Bool;
    /// An open-family call that opened a file with an execute bit.
    EvtIsOpenExec = "evt.is_open_exec", None, Bool;
    /// Event source (`syscall`).
    EvtSource = "evt.source", None, Str;

    /// Executable name of the process (comm, or the basename of argv[0]).
    ProcName = "proc.name", None, Str;
    /// argv[0] as the process was started.
    ProcExe = "proc.exe", None, Str;
    /// Full path of the executable file.
    ProcExepath = "proc.exepath", None, Str;
    /// `proc.name` followed by the arguments, space-separated.
    ProcCmdline = "proc.cmdline", None, Str;
    /// The arguments without argv[0], space-separated.
    ProcArgs = "proc.args", None, Str;
    /// Process id (host pid namespace).
    ProcPid = "proc.pid", None, Uint;
    /// Parent process id.
    ProcPpid = "proc.ppid", None, Uint;
    /// Process id inside its pid namespace.
    ProcVpid = "proc.vpid", None, Uint;
    /// Parent's name.
    ProcPname = "proc.pname", None, Str;
    /// Parent's command line.
    ProcPcmdline = "proc.pcmdline", None, Str;
    /// Parent's argv[0].
    ProcPexe = "proc.pexe", None, Str;
    /// Parent's executable path.
    ProcPexepath = "proc.pexepath", None, Str;
    /// Ancestor's name: `[1]` parent, `[2]` grandparent...; without index, any ancestor ([`Value::List`]).
    ProcAname = "proc.aname", OptionalIndex, Str;
    /// Ancestor's pid, indexed like `proc.aname`.
    ProcApid = "proc.apid", OptionalIndex, Uint;
    /// Ancestor's argv[0], indexed like `proc.aname`.
    ProcAexe = "proc.aexe", OptionalIndex, Str;
    /// Ancestor's executable path, indexed like `proc.aname`.
    ProcAexepath = "proc.aexepath", OptionalIndex, Str;
    /// Controlling terminal device number; 0 when none.
    ProcTty = "proc.tty", None, Uint;
    /// Current working directory, with a trailing `/`.
    ProcCwd = "proc.cwd", None, Str;
    /// Session id.
    ProcSid = "proc.sid", None, Uint;
    /// Name of the session leader.
    ProcSname = "proc.sname", None, Str;
    /// Process group id as seen in the process's pid namespace.
    ProcVpgid = "proc.vpgid", None, Uint;
    /// Name of the process-group leader.
    ProcVpgidName = "proc.vpgid.name", None, Str;
    /// argv[0] of the process-group leader.
    ProcVpgidExe = "proc.vpgid.exe", None, Str;
    /// Whether the process leads its process group.
    ProcIsVpgidLeader = "proc.is_vpgid_leader", None, Bool;
    /// Whether the executable lives in an overlayfs upper layer (written after the container started: drift).
    ProcIsExeUpperLayer = "proc.is_exe_upper_layer", None, Bool;
    /// Whether the executable was loaded from a memfd (fileless execution).
    ProcIsExeFromMemfd = "proc.is_exe_from_memfd", None, Bool;
    /// Whether the executable file is writable by the process's user.
    ProcIsExeWritable = "proc.is_exe_writable", None, Bool;
    /// Pid of the login shell the process descends from.
    ProcLoginshellid = "proc.loginshellid", None, Uint;
    /// Time since the process started.
    ProcDuration = "proc.duration", None, RelTime;
    /// Time since the parent started.
    ProcPpidDuration = "proc.ppid.duration", None, RelTime;
    /// Modification time of the executable's inode.
    ProcExeInoMtime = "proc.exe_ino.mtime", None, AbsTime;
    /// Change time of the executable's inode.
    ProcExeInoCtime = "proc.exe_ino.ctime", None, AbsTime;
    /// Time between the executable inode's change and the process's start.
    ProcExeInoCtimeDurationProcStart = "proc.exe_ino.ctime_duration_proc_start", None, RelTime;
    /// One environment variable: `proc.env[HOME]`.
    ProcEnv = "proc.env", Key, Str;

    /// Thread id.
    ThreadTid = "thread.tid", None, Uint;
    /// Thread id inside its pid namespace.
    ThreadVtid = "thread.vtid", None, Uint;
    /// Effective capabilities, space-separated names (`CAP_SYS_ADMIN CAP_NET_RAW`).
    ThreadCapEffective = "thread.cap_effective", None, Str;
    /// Permitted capabilities, space-separated names.
    ThreadCapPermitted = "thread.cap_permitted", None, Str;

    /// User name.
    UserName = "user.name", None, Str;
    /// User id.
    UserUid = "user.uid", None, Uint;
    /// Audit login uid (`-1` when unset: yield `Int(-1)`).
    UserLoginuid = "user.loginuid", None, Int;
    /// Name of the audit login user.
    UserLoginname = "user.loginname", None, Str;
    /// Home directory of the user.
    UserHomedir = "user.homedir", None, Str;
    /// Login shell of the user.
    UserShell = "user.shell", None, Str;
    /// Group name.
    GroupName = "group.name", None, Str;
    /// Group id.
    GroupGid = "group.gid", None, Uint;

    /// File descriptor number.
    FdNum = "fd.num", None, Int;
    /// Descriptor type: `file`, `directory`, `ipv4`, `ipv6`, `unix`, `pipe`, `event`, `signalfd`, `eventpoll`, `inotify`, `timerfd`, `netlink`, `memfd`...
    FdType = "fd.type", None, Str;
    /// Descriptor type as one character: `f` file, `4` ipv4, `6` ipv6, `u` unix, `p` pipe, `e` event...
    FdTypechar = "fd.typechar", None, Str;
    /// Full name: a file's absolute path or a connection's `cip:cport->sip:sport`.
    FdName = "fd.name", None, Str;
    /// The name as the program passed it, before normalisation.
    FdNameraw = "fd.nameraw", None, Str;
    /// Whether the name changed during the event (e.g. an unconnected socket got its peer).
    FdNameChanged = "fd.name_changed", None, Bool;
    /// Directory of a file descriptor's path (no trailing `/`).
    FdDirectory = "fd.directory", None, Str;
    /// File name of a file descriptor's path, without the directory.
    FdFilename = "fd.filename", None, Str;
    /// Client and server addresses ([`Value::List`]); comparisons hold when one of them matches.
    FdIp = "fd.ip", None, Ip;
    /// Client address.
    FdCip = "fd.cip", None, Ip;
    /// Server address.
    FdSip = "fd.sip", None, Ip;
    /// Local address.
    FdLip = "fd.lip", None, Ip;
    /// Remote address.
    FdRip = "fd.rip", None, Ip;
    /// Reverse-resolved name of the server address.
    FdSipName = "fd.sip.name", None, Str;
    /// Reverse-resolved name of the client address.
    FdCipName = "fd.cip.name", None, Str;
    /// Reverse-resolved name of the local address.
    FdLipName = "fd.lip.name", None, Str;
    /// Reverse-resolved name of the remote address.
    FdRipName = "fd.rip.name", None, Str;
    /// Client and server ports ([`Value::List`]); comparisons hold when one of them matches.
    FdPort = "fd.port", None, Uint;
    /// Client port.
    FdCport = "fd.cport", None, Uint;
    /// Server port.
    FdSport = "fd.sport", None, Uint;
    /// Local port.
    FdLport = "fd.lport", None, Uint;
    /// Remote port.
    FdRport = "fd.rport", None, Uint;
    /// Layer-4 protocol: `tcp`, `udp`, `icmp`, `raw`.
    FdL4proto = "fd.l4proto", None, Str;
    /// Socket family: `ip` or `unix`.
    FdSockfamily = "fd.sockfamily", None, Str;
    /// Client and server addresses ([`Value::List`] or [`Value::Ip`]), compared against networks.
    FdNet = "fd.net", None, Net;
    /// Client address, compared against networks.
    FdCnet = "fd.cnet", None, Net;
    /// Server address, compared against networks.
    FdSnet = "fd.snet", None, Net;
    /// Local address, compared against networks.
    FdLnet = "fd.lnet", None, Net;
    /// Remote address, compared against networks.
    FdRnet = "fd.rnet", None, Net;
    /// Whether the socket is connected.
    FdConnected = "fd.connected", None, Bool;
    /// Whether the socket is the server side (a listening or accepted socket).
    FdIsServer = "fd.is_server", None, Bool;
    /// Types of the descriptors the event touches ([`Value::List`]); `fd.types[0]` one of them.
    FdTypes = "fd.types", OptionalIndex, StrList;
    /// Device number of the file's filesystem.
    FdDev = "fd.dev", None, Uint;
    /// Inode number of the file.
    FdIno = "fd.ino", None, Uint;

    /// Source path of a filesystem change (rename, link, mkdir...).
    FsPathName = "fs.path.name", None, Str;
    /// Source path of a rename or link.
    FsPathSource = "fs.path.source", None, Str;
    /// Target path of a rename or link.
    FsPathTarget = "fs.path.target", None, Str;

    /// Short container id (12 hex digits); `host` for processes outside containers.
    ContainerId = "container.id", None, Str;
    /// Container name; `host` outside containers.
    ContainerName = "container.name", None, Str;
    /// Image reference the container was started from (`nginx:1.25`).
    ContainerImage = "container.image", None, Str;
    /// Image id (digest of the image config).
    ContainerImageId = "container.image.id", None, Str;
    /// Image repository (`docker.io/library/nginx`).
    ContainerImageRepository = "container.image.repository", None, Str;
    /// Image tag (`1.25`).
    ContainerImageTag = "container.image.tag", None, Str;
    /// Image digest (`sha256:...`).
    ContainerImageDigest = "container.image.digest", None, Str;
    /// Container runtime: `docker`, `containerd`, `cri-o`, `podman`...
    ContainerType = "container.type", None, Str;
    /// Whether the container runs privileged.
    ContainerPrivileged = "container.privileged", None, Bool;
    /// Container start time, nanoseconds since the epoch.
    ContainerStartTs = "container.start_ts", None, AbsTime;
    /// Time since the container started.
    ContainerDuration = "container.duration", None, RelTime;
    /// Whether the process is the container's health check.
    ProcIsContainerHealthcheck = "proc.is_container_healthcheck", None, Bool;

    /// Kubernetes namespace of the pod.
    K8sNsName = "k8s.ns.name", None, Str;
    /// Kubernetes pod name.
    K8sPodName = "k8s.pod.name", None, Str;
    /// Kubernetes pod uid.
    K8sPodUid = "k8s.pod.uid", None, Str;
    /// One pod label: `k8s.pod.label[app]`.
    K8sPodLabel = "k8s.pod.label", Key, Str;
    /// Every pod label as `key:value` pairs separated by `, `.
    K8sPodLabels = "k8s.pod.labels", None, Str;
}

/// One event as the rules see it.
///
/// Networks: `fd.net`-style fields ([`ValueType::Net`]) yield [`Value::Ip`]
/// (or, for `fd.net`, a [`Value::List`] of the client and server address);
/// the operator does the CIDR test against network literals. `evt.type` is
/// read through [`Event::event_type`], never through [`Event::field`].
pub trait Event {
    /// Falco's event type name: "execve", "openat", "connect", "clone", "procexit", ...
    fn event_type(&self) -> &str;
    /// The field's value for this event, or None when the event does not carry it.
    fn field(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>>;
}

impl<E: Event + ?Sized> Event for &E {
    fn event_type(&self) -> &str {
        (**self).event_type()
    }
    fn field(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>> {
        (**self).field(field, arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_maps_back_to_its_field() {
        for &field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field), "{}", field.name());
        }
        assert_eq!(Field::from_name("proc.nope"), None);
    }
}
