//! Text forms of syscall arguments the way Falco prints them: flag sets,
//! errno names, capability names, ptrace requests.

fn flag_text(value: u64, table: &[(u64, &str)]) -> String {
    let mut out = String::new();
    for (bit, name) in table {
        if *bit != 0 && value & bit == *bit {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
        }
    }
    out
}

const O_FLAGS: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o200000, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o10000000, "O_PATH"),
    (0o20000000, "O_TMPFILE"),
];

/// open(2) flags: `O_WRONLY|O_CREAT|O_TRUNC`.
pub fn open_flags(flags: u64) -> String {
    let acc = match flags & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    };
    let rest = flag_text(flags, O_FLAGS);
    if rest.is_empty() { acc.to_string() } else { format!("{acc}|{rest}") }
}

/// Whether open flags read, write; whether they create an executable file.
pub fn open_access(flags: u64, mode: u64) -> (bool, bool, bool) {
    let acc = flags & 3;
    let read = acc == 0 || acc == 2;
    let write = acc == 1 || acc == 2 || flags & 0o1000 != 0;
    let exec = flags & 0o100 != 0 && mode & 0o111 != 0;
    (read, write, exec)
}

const CLONE_FLAGS: &[(u64, &str)] = &[
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"),
    (0x40000, "CLONE_SYSVSEM"),
    (0x2000000, "CLONE_NEWCGROUP"),
    (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"),
    (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"),
    (0x40000000, "CLONE_NEWNET"),
];

/// unshare/setns/clone namespace flags.
pub fn clone_flags(flags: u64) -> String {
    flag_text(flags, CLONE_FLAGS)
}

/// memfd_create flags.
pub fn memfd_flags(flags: u64) -> String {
    flag_text(
        flags,
        &[
            (1, "MFD_CLOEXEC"),
            (2, "MFD_ALLOW_SEALING"),
            (4, "MFD_HUGETLB"),
            (8, "MFD_NOEXEC_SEAL"),
            (0x10, "MFD_EXEC"),
        ],
    )
}

/// Address family of socket(2).
pub fn socket_domain(d: u64) -> String {
    let name = match d {
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => return d.to_string(),
    };
    name.to_string()
}

/// ptrace(2) request names.
pub fn ptrace_request(r: u64) -> String {
    let name = match r {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSR",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSR",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        14 => "PTRACE_GETFPREGS",
        15 => "PTRACE_SETFPREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        24 => "PTRACE_SYSCALL",
        0x4200 => "PTRACE_SETOPTIONS",
        0x4201 => "PTRACE_GETEVENTMSG",
        0x4202 => "PTRACE_GETSIGINFO",
        0x4203 => "PTRACE_SETSIGINFO",
        0x4204 => "PTRACE_GETREGSET",
        0x4205 => "PTRACE_SETREGSET",
        0x4206 => "PTRACE_SEIZE",
        0x4207 => "PTRACE_INTERRUPT",
        0x4208 => "PTRACE_LISTEN",
        _ => return r.to_string(),
    };
    name.to_string()
}

/// bpf(2) command names.
pub fn bpf_cmd(c: u64) -> String {
    let name = match c {
        0 => "BPF_MAP_CREATE",
        1 => "BPF_MAP_LOOKUP_ELEM",
        2 => "BPF_MAP_UPDATE_ELEM",
        3 => "BPF_MAP_DELETE_ELEM",
        4 => "BPF_MAP_GET_NEXT_KEY",
        5 => "BPF_PROG_LOAD",
        6 => "BPF_OBJ_PIN",
        7 => "BPF_OBJ_GET",
        8 => "BPF_PROG_ATTACH",
        9 => "BPF_PROG_DETACH",
        28 => "BPF_LINK_CREATE",
        _ => return c.to_string(),
    };
    name.to_string()
}

const ERRNO: &[&str] = &[
    "SUCCESS", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
    "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
    "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
    "EMLINK", "EPIPE", "EDOM", "ERANGE",
];

/// `SUCCESS` for a non-negative result, else the errno name.
pub fn res_text(res: i64) -> String {
    if res >= 0 {
        return "SUCCESS".to_string();
    }
    let e = res.unsigned_abs();
    match e {
        1..=34 => ERRNO[e as usize].to_string(),
        36 => "ENAMETOOLONG".to_string(),
        38 => "ENOSYS".to_string(),
        39 => "ENOTEMPTY".to_string(),
        40 => "ELOOP".to_string(),
        95 => "EOPNOTSUPP".to_string(),
        97 => "EAFNOSUPPORT".to_string(),
        98 => "EADDRINUSE".to_string(),
        99 => "EADDRNOTAVAIL".to_string(),
        101 => "ENETUNREACH".to_string(),
        104 => "ECONNRESET".to_string(),
        110 => "ETIMEDOUT".to_string(),
        111 => "ECONNREFUSED".to_string(),
        113 => "EHOSTUNREACH".to_string(),
        114 => "EALREADY".to_string(),
        115 => "EINPROGRESS".to_string(),
        _ => format!("E{e}"),
    }
}

const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A capability set as space-separated names.
pub fn caps(set: u64) -> String {
    let mut out = String::new();
    for (i, name) in CAPS.iter().enumerate() {
        if set & (1u64 << i) != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(String, &str)] = &[
            (open_flags(0), "O_RDONLY"),
            (open_flags(0o1101), "O_WRONLY|O_CREAT|O_TRUNC"),
            (open_flags(0o2000002), "O_RDWR|O_CLOEXEC"),
            (clone_flags(0x20000 | 0x40000000), "CLONE_NEWNS|CLONE_NEWNET"),
            (socket_domain(17), "AF_PACKET"),
            (socket_domain(99), "99"),
            (ptrace_request(16), "PTRACE_ATTACH"),
            (ptrace_request(0x4206), "PTRACE_SEIZE"),
            (res_text(0), "SUCCESS"),
            (res_text(-2), "ENOENT"),
            (res_text(-111), "ECONNREFUSED"),
            (res_text(-1000), "E1000"),
            (caps(1 << 21 | 1 << 1), "CAP_DAC_OVERRIDE CAP_SYS_ADMIN"),
            (memfd_flags(1), "MFD_CLOEXEC"),
            (bpf_cmd(5), "BPF_PROG_LOAD"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert_eq!(open_access(0, 0), (true, false, false));
        assert_eq!(open_access(0o101, 0o755), (false, true, true));
        assert_eq!(open_access(2, 0), (true, true, false));
    }
}
