//! Decoding of the sensor's ring-buffer records (layout: `bpf/sensor.bpf.c`,
//! described in the crate README).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Error;

/// The record layout version the sensor writes and this decoder reads.
pub const SENSOR_ABI: u32 = 2;

const HDR_SIZE: usize = 152;

/// What a sensor record reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// A syscall returned.
    #[default]
    Syscall,
    /// A successful execve/execveat.
    Exec,
    /// A new process (not a thread) was created.
    Fork,
    /// A process (its thread-group leader) exited.
    Exit,
}

/// An executable's inode facts, captured at exec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExeInfo {
    pub ino: u64,
    pub ctime_sec: i64,
    pub mtime_sec: i64,
    pub s_magic: u32,
    pub nlink: u32,
    /// The file is on overlayfs and has an upper-layer copy.
    pub upper: bool,
    pub mode: u32,
}

/// Process group, session and namespaced pid of an exec'd process, as the
/// kernel held them at the exec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PidInfo {
    pub pgid: u32,
    pub sid: u32,
    /// The pid in the process's own pid namespace.
    pub vpid: u32,
}

/// A socket's addresses as the kernel holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockInfo {
    pub family: u16,
    pub sock_type: u16,
    pub proto: u16,
    pub local: (IpAddr, u16),
    pub remote: (IpAddr, u16),
}

/// One decoded sensor record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// Nanoseconds since boot (CLOCK_BOOTTIME).
    pub ts_boot_ns: u64,
    pub cgroup_id: u64,
    pub ret: i64,
    pub args: [u64; 6],
    pub cap_effective: u64,
    /// Start of the process, nanoseconds since boot.
    pub start_boot_ns: u64,
    pub kind: Kind,
    pub nr: u32,
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: u32,
    pub tty: u32,
    /// `i_mode` of the descriptor the event is about (0 when unknown).
    pub fd_mode: u32,
    pub comm: String,
    pub path1: Option<String>,
    pub path2: Option<String>,
    pub path3: Option<String>,
    pub dir1: Option<String>,
    pub dir2: Option<String>,
    pub filename: Option<String>,
    pub exe: Option<String>,
    pub cwd: Option<String>,
    pub argv: Vec<String>,
    pub exe_info: Option<ExeInfo>,
    pub pids: Option<PidInfo>,
    pub sock: Option<SockInfo>,
    /// The address the program passed (connect, sendto).
    pub sockaddr: Option<SockAddr>,
    pub fd_path: Option<String>,
}

/// A decoded `struct sockaddr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockAddr {
    Ip(IpAddr, u16),
    Unix(String),
    Other(u16),
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Components written leaf first, NUL separated, into an absolute path.
fn components_to_path(b: &[u8]) -> String {
    let parts: Vec<&[u8]> = b.split(|&c| c == 0).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for p in parts.iter().rev() {
        // A dentry name of "/" is a filesystem root reached without a mount
        // above it (an internal mount such as memfd's).
        if *p == b"/" {
            continue;
        }
        out.push('/');
        out.push_str(&String::from_utf8_lossy(p));
    }
    if out.is_empty() { "/".to_string() } else { out }
}

fn ip_from(family: u16, b: &[u8]) -> IpAddr {
    if family == 10 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

fn sockaddr(b: &[u8]) -> Option<SockAddr> {
    if b.len() < 2 {
        return None;
    }
    let family = u16_at(b, 0);
    match family {
        2 if b.len() >= 8 => Some(SockAddr::Ip(
            IpAddr::V4(Ipv4Addr::new(b[4], b[5], b[6], b[7])),
            u16::from_be_bytes([b[2], b[3]]),
        )),
        10 if b.len() >= 24 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            Some(SockAddr::Ip(IpAddr::V6(Ipv6Addr::from(a)), u16::from_be_bytes([b[2], b[3]])))
        }
        1 => Some(SockAddr::Unix(cstr(&b[2..]))),
        f => Some(SockAddr::Other(f)),
    }
}

impl RawEvent {
    /// Decodes one ring-buffer record.
    pub fn parse(b: &[u8]) -> Result<RawEvent, Error> {
        if b.len() < HDR_SIZE {
            return Err(Error::Record(format!("sensor record of {} bytes is too short", b.len())));
        }
        let abi = u32_at(b, 88);
        if abi != SENSOR_ABI {
            return Err(Error::Record(format!("sensor record layout {abi}, this build reads {SENSOR_ABI}")));
        }
        let kind = match u32_at(b, 92) {
            1 => Kind::Syscall,
            2 => Kind::Exec,
            3 => Kind::Fork,
            4 => Kind::Exit,
            k => return Err(Error::Record(format!("unknown sensor record kind {k}"))),
        };
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = u64_at(b, 24 + 8 * i);
        }
        let mut ev = RawEvent {
            ts_boot_ns: u64_at(b, 0),
            cgroup_id: u64_at(b, 8),
            ret: u64_at(b, 16) as i64,
            args,
            cap_effective: u64_at(b, 72),
            start_boot_ns: u64_at(b, 80),
            kind,
            nr: u32_at(b, 96),
            pid: u32_at(b, 100),
            tid: u32_at(b, 104),
            ppid: u32_at(b, 108),
            uid: u32_at(b, 112),
            gid: u32_at(b, 116),
            loginuid: u32_at(b, 120),
            tty: u32_at(b, 124),
            fd_mode: u32_at(b, 128),
            comm: cstr(&b[136..152]),
            ..RawEvent::default()
        };
        let data_len = u32_at(b, 132) as usize;
        let data = &b[HDR_SIZE..b.len().min(HDR_SIZE + data_len)];
        let mut off = 0;
        while off + 3 <= data.len() {
            let tag = data[off];
            let len = u16_at(data, off + 1) as usize;
            let start = off + 3;
            let end = (start + len).min(data.len());
            let v = &data[start..end];
            off = end;
            match tag {
                1 => ev.path1 = Some(cstr(v)),
                2 => ev.path2 = Some(cstr(v)),
                3 => ev.path3 = Some(cstr(v)),
                4 => ev.dir1 = Some(components_to_path(v)),
                5 => ev.dir2 = Some(components_to_path(v)),
                6 => ev.filename = Some(cstr(v)),
                7 => ev.exe = Some(components_to_path(v)),
                8 => ev.cwd = Some(components_to_path(v)),
                9 => {
                    ev.argv = v.split(|&c| c == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
                    // argv ends with a NUL, which leaves one empty piece.
                    if ev.argv.last().is_some_and(|s| s.is_empty()) {
                        ev.argv.pop();
                    }
                }
                10 if v.len() >= 40 => {
                    ev.exe_info = Some(ExeInfo {
                        ino: u64_at(v, 0),
                        ctime_sec: u64_at(v, 8) as i64,
                        mtime_sec: u64_at(v, 16) as i64,
                        s_magic: u32_at(v, 24),
                        nlink: u32_at(v, 28),
                        upper: u32_at(v, 32) != 0,
                        mode: u32_at(v, 36),
                    })
                }
                11 if v.len() >= 44 => {
                    let family = u16_at(v, 0);
                    ev.sock = Some(SockInfo {
                        family,
                        sock_type: u16_at(v, 2),
                        proto: u16_at(v, 4),
                        local: (ip_from(family, &v[12..28]), u16_at(v, 6)),
                        remote: (ip_from(family, &v[28..44]), u16_at(v, 8)),
                    })
                }
                12 => ev.sockaddr = sockaddr(v),
                13 => ev.fd_path = Some(components_to_path(v)),
                14 if v.len() >= 12 => {
                    ev.pids = Some(PidInfo { pgid: u32_at(v, 0), sid: u32_at(v, 4), vpid: u32_at(v, 8) })
                }
                _ => {}
            }
        }
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u32, nr: u32) -> Vec<u8> {
        let mut b = vec![0u8; HDR_SIZE];
        b[0..8].copy_from_slice(&5_000u64.to_le_bytes());
        b[16..24].copy_from_slice(&(-2i64).to_le_bytes());
        b[88..92].copy_from_slice(&SENSOR_ABI.to_le_bytes());
        b[92..96].copy_from_slice(&kind.to_le_bytes());
        b[96..100].copy_from_slice(&nr.to_le_bytes());
        b[100..104].copy_from_slice(&42u32.to_le_bytes());
        b[136..139].copy_from_slice(b"cat");
        b
    }

    fn push(b: &mut Vec<u8>, tag: u8, v: &[u8]) {
        b.push(tag);
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
    }

    #[test]
    fn decodes_header_strings_and_paths() {
        let mut b = header(1, 257);
        let mut data = Vec::new();
        push(&mut data, 1, b"shadow\0");
        push(&mut data, 4, b"etc\0");
        push(&mut data, 7, b"cat\0bin\0usr\0");
        push(&mut data, 14, &[7, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        let mut sa = vec![2u8, 0, 0x1f, 0x90, 10, 0, 0, 1];
        sa.resize(16, 0);
        push(&mut data, 12, &sa);
        b[132..136].copy_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&data);
        let ev = RawEvent::parse(&b).unwrap();
        assert_eq!(ev.kind, Kind::Syscall);
        assert_eq!(ev.nr, 257);
        assert_eq!(ev.ret, -2);
        assert_eq!(ev.pid, 42);
        assert_eq!(ev.comm, "cat");
        assert_eq!(ev.path1.as_deref(), Some("shadow"));
        assert_eq!(ev.dir1.as_deref(), Some("/etc"));
        assert_eq!(ev.exe.as_deref(), Some("/usr/bin/cat"));
        assert_eq!(ev.pids, Some(PidInfo { pgid: 7, sid: 5, vpid: 1 }));
        assert_eq!(ev.sockaddr, Some(SockAddr::Ip("10.0.0.1".parse().unwrap(), 8080)));
    }

    #[test]
    fn refuses_short_and_foreign_records() {
        assert!(RawEvent::parse(&[0u8; 10]).is_err());
        let mut b = header(1, 2);
        b[88..92].copy_from_slice(&99u32.to_le_bytes());
        assert!(RawEvent::parse(&b).is_err());
        let mut b = header(9, 2);
        b[88..92].copy_from_slice(&SENSOR_ABI.to_le_bytes());
        assert!(RawEvent::parse(&b).is_err());
    }

    #[test]
    fn truncated_data_is_cut_not_a_panic() {
        let mut b = header(2, 59);
        b[132..136].copy_from_slice(&1000u32.to_le_bytes());
        b.extend_from_slice(&[9, 0xff, 0xff, b'a']);
        let ev = RawEvent::parse(&b).unwrap();
        assert_eq!(ev.argv, vec!["a".to_string()]);
        assert_eq!(components_to_path(b""), "/");
    }
}
