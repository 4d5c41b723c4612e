//! The syscalls the sensor can report, by x86_64 number and Falco event type name.

/// (x86_64 syscall number, Falco event type name) for every syscall the
/// sensor knows how to decode.
pub const SYSCALLS: &[(u32, &str)] = &[
    (2, "open"),
    (32, "dup"),
    (33, "dup2"),
    (41, "socket"),
    (42, "connect"),
    (43, "accept"),
    (44, "sendto"),
    (46, "sendmsg"),
    (49, "bind"),
    (50, "listen"),
    (56, "clone"),
    (57, "fork"),
    (58, "vfork"),
    (59, "execve"),
    (80, "chdir"),
    (81, "fchdir"),
    (82, "rename"),
    (83, "mkdir"),
    (84, "rmdir"),
    (85, "creat"),
    (86, "link"),
    (87, "unlink"),
    (88, "symlink"),
    (90, "chmod"),
    (91, "fchmod"),
    (101, "ptrace"),
    (105, "setuid"),
    (106, "setgid"),
    (113, "setreuid"),
    (114, "setregid"),
    (117, "setresuid"),
    (119, "setresgid"),
    (126, "capset"),
    (165, "mount"),
    (166, "umount2"),
    (175, "init_module"),
    (176, "delete_module"),
    (257, "openat"),
    (258, "mkdirat"),
    (263, "unlinkat"),
    (264, "renameat"),
    (265, "linkat"),
    (266, "symlinkat"),
    (268, "fchmodat"),
    (272, "unshare"),
    (288, "accept4"),
    (292, "dup3"),
    (308, "setns"),
    (313, "finit_module"),
    (316, "renameat2"),
    (319, "memfd_create"),
    (321, "bpf"),
    (322, "execveat"),
    (435, "clone3"),
    (437, "openat2"),
];

/// Event types that come from scheduler tracepoints rather than a syscall.
pub const PROCEXIT: &str = "procexit";

/// The Falco event type name of a syscall number.
pub fn name(nr: u32) -> Option<&'static str> {
    SYSCALLS.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
}

/// The syscall number of a Falco event type name.
pub fn number(name: &str) -> Option<u32> {
    let name = if name == "umount" { "umount2" } else { name };
    SYSCALLS.iter().find(|(_, n)| *n == name).map(|(nr, _)| *nr)
}

/// Syscalls the scheduler's process tracepoints report (fork and exec
/// families), rather than their syscall exits.
pub const FROM_SCHED: &[u32] = &[56, 57, 58, 59, 322, 435];

/// Syscalls that keep the process table's working directory right.
pub const STATE_SYSCALLS: &[u32] = &[80, 81];

/// The syscalls to capture for a set of event types: (number, emit) pairs.
/// Unknown names (events of other sources, or syscalls the sensor does not
/// decode) are returned separately so the caller can report them.
pub fn selection<'a, I>(event_types: I) -> (Vec<u32>, Vec<&'a str>)
where
    I: IntoIterator<Item = &'a str>,
{
    let mut emit = Vec::new();
    let mut unknown = Vec::new();
    for t in event_types {
        match number(t) {
            Some(nr) => emit.push(nr),
            None if t == PROCEXIT => {}
            None => unknown.push(t),
        }
    }
    emit.sort_unstable();
    emit.dedup();
    (emit, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_round_trip() {
        for (nr, n) in SYSCALLS {
            assert_eq!(number(n), Some(*nr));
            assert_eq!(name(*nr), Some(*n));
        }
        assert_eq!(number("umount"), Some(166));
        assert_eq!(number("read"), None);
    }

    #[test]
    fn selection_splits_known_and_unknown() {
        let (emit, unknown) = selection(["openat", "execve", "procexit", "k8s_audit", "openat"]);
        assert_eq!(emit, vec![59, 257]);
        assert_eq!(unknown, vec!["k8s_audit"]);
    }
}
