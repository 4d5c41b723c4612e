//! Loading the eBPF sensor (compiled from `bpf/sensor.bpf.c`, embedded) and
//! reading its ring buffer.

use std::time::{Duration, Instant};

use aya::maps::lpm_trie::{Key, LpmTrie};
use aya::maps::{Array, MapData, PerCpuArray, RingBuf};
use aya::programs::BtfTracePoint;
use aya::{Btf, Ebpf};

use rampart_rules::{OpenNeed, PathNeed};

use crate::Error;
use crate::raw::RawEvent;
use crate::syscalls;

/// The sensor object, built by `bpf/build.sh`.
static OBJECT: &[u8] = aya::include_bytes_aligned!("../bpf/sensor.bpf.o");

/// Program name in the object → kernel tracepoint it attaches to, in
/// attach order: exits and forks first, so a process whose exec or syscall
/// is seen while the sensor starts is also seen when it exits, and does not
/// stay in the process table.
const PROGRAMS: &[(&str, &str)] = &[
    ("on_exit", "sched_process_exit"),
    ("on_fork", "sched_process_fork"),
    ("on_exec", "sched_process_exec"),
    ("sys_exit", "sys_exit"),
];

/// How often an empty ring buffer is checked again.
const POLL_INTERVAL: Duration = Duration::from_millis(4);

/// Key bytes of the kernel's `open_paths` trie (`MAX_KEY`).
const MAX_KEY: usize = 128;
/// `OPEN_ANY_FLAGS`: the path alone lets an open through.
const OPEN_ANY_FLAGS: u64 = 1 << 32;

/// A loaded, attached sensor. Detaches when dropped.
pub struct Sensor {
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    drops: PerCpuArray<MapData, u64>,
    decode_errors: u64,
}

fn sensor_err(what: &str, e: impl std::error::Error) -> Error {
    // aya's top-level messages ("error relocating section") need their causes.
    let mut msg = format!("{what}: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    if msg.contains("Operation not permitted") || msg.contains("EPERM") {
        Error::Permission(msg)
    } else {
        Error::Sensor(msg)
    }
}

impl Sensor {
    /// Loads and attaches the sensor, capturing exit events of the given
    /// syscall numbers (process exec, fork and exit are always captured).
    pub fn start(emit: &[u32]) -> Result<Sensor, Error> {
        let btf = Btf::from_sys_fs().map_err(|e| sensor_err("reading /sys/kernel/btf/vmlinux", e))?;
        let mut ebpf =
            aya::EbpfLoader::new().load(OBJECT).map_err(|e| sensor_err("loading the sensor object", e))?;
        {
            let mut enabled: Array<_, u8> = Array::try_from(
                ebpf.map_mut("enabled").ok_or_else(|| Error::Sensor("map `enabled` missing".into()))?,
            )
            .map_err(|e| sensor_err("map `enabled`", e))?;
            // The fork and exec families come from the scheduler's
            // tracepoints, not from their syscall exits.
            for nr in syscalls::STATE_SYSCALLS.iter().chain(emit) {
                if !syscalls::FROM_SCHED.contains(nr) {
                    enabled.set(*nr, 1, 0).map_err(|e| sensor_err("map `enabled`", e))?;
                }
            }
            let mut config: Array<_, u32> = Array::try_from(
                ebpf.map_mut("sensor_config")
                    .ok_or_else(|| Error::Sensor("map `sensor_config` missing".into()))?,
            )
            .map_err(|e| sensor_err("map `sensor_config`", e))?;
            config.set(0, std::process::id(), 0).map_err(|e| sensor_err("map `sensor_config`", e))?;
        }
        for (prog, tp) in PROGRAMS {
            let p: &mut BtfTracePoint = ebpf
                .program_mut(prog)
                .ok_or_else(|| Error::Sensor(format!("program `{prog}` missing")))?
                .try_into()
                .map_err(|e| sensor_err(prog, e))?;
            load(p, tp, &btf).map_err(|e| sensor_err(&format!("loading {prog}"), e))?;
            p.attach().map_err(|e| sensor_err(&format!("attaching {prog} to {tp}"), e))?;
        }
        let ring = RingBuf::try_from(
            ebpf.take_map("events").ok_or_else(|| Error::Sensor("map `events` missing".into()))?,
        )
        .map_err(|e| sensor_err("map `events`", e))?;
        let drops = PerCpuArray::try_from(
            ebpf.take_map("drops").ok_or_else(|| Error::Sensor("map `drops` missing".into()))?,
        )
        .map_err(|e| sensor_err("map `drops`", e))?;
        Ok(Sensor { ebpf, ring, drops, decode_errors: 0 })
    }

    /// Drops, in the kernel, opens of plain absolute paths that meet none
    /// of `needs` (from `RuleSet::open_filter`); others still come.
    pub fn filter_opens(&mut self, needs: &[OpenNeed]) -> Result<(), Error> {
        let entries = trie_entries(needs);
        {
            let mut trie: LpmTrie<_, [u8; MAX_KEY], u64> = LpmTrie::try_from(
                self.ebpf
                    .map_mut("open_paths")
                    .ok_or_else(|| Error::Sensor("map `open_paths` missing".into()))?,
            )
            .map_err(|e| sensor_err("map `open_paths`", e))?;
            for (bytes, value) in &entries {
                let mut data = [0u8; MAX_KEY];
                data[..bytes.len()].copy_from_slice(bytes);
                trie.insert(&Key::new(bytes.len() as u32 * 8, data), value, 0)
                    .map_err(|e| sensor_err("map `open_paths`", e))?;
            }
        }
        // Switched on only once the trie is complete.
        let mut config: Array<_, u32> = Array::try_from(
            self.ebpf
                .map_mut("sensor_config")
                .ok_or_else(|| Error::Sensor("map `sensor_config` missing".into()))?,
        )
        .map_err(|e| sensor_err("map `sensor_config`", e))?;
        config.set(1, 1, 0).map_err(|e| sensor_err("map `sensor_config`", e))
    }

    /// Decodes every record in the ring buffer into `out`, waiting up to
    /// `timeout` for the first one. Returns how many were added.
    pub fn poll(&mut self, out: &mut Vec<RawEvent>, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let before = out.len();
        loop {
            while let Some(item) = self.ring.next() {
                match RawEvent::parse(&item) {
                    Ok(ev) => out.push(ev),
                    Err(_) => self.decode_errors += 1,
                }
                if out.len() - before >= 4096 {
                    return out.len() - before;
                }
            }
            if out.len() > before || Instant::now() >= deadline {
                return out.len() - before;
            }
            // The ring buffer is checked every 4 ms: far inside the
            // one-second alert budget. Each check is a wakeup and two
            // context switches, which at 1 ms was half of the watcher's
            // CPU time on an exec-heavy workload.
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Events the kernel could not queue because the ring buffer was full.
    pub fn drops(&self) -> u64 {
        self.drops.get(&0, 0).map(|v| v.iter().sum()).unwrap_or(0)
    }

    /// Records that could not be decoded (a sensor/decoder mismatch).
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }
}

/// How many times a load the verifier gave up on with EAGAIN is tried.
const LOAD_ATTEMPTS: usize = 5;

/// Loads one program. The verifier stops with EAGAIN when a signal is
/// pending for the loading thread (a child of this process exiting is
/// enough); the load is then simply tried again, as libbpf does.
fn load(p: &mut BtfTracePoint, tp: &str, btf: &Btf) -> Result<(), aya::programs::ProgramError> {
    let mut attempt = 1;
    loop {
        match p.load(tp, btf) {
            Err(aya::programs::ProgramError::LoadError { io_error, .. })
                if io_error.kind() == std::io::ErrorKind::WouldBlock && attempt < LOAD_ATTEMPTS =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The trie's keys and values for `needs`. A lookup finds only the longest
/// matching key, so each value also allows what every shorter key that is a
/// prefix of it allows. A whole path is its bytes and NUL; paths and
/// prefixes longer than a key are cut to a prefix (letting more through).
fn trie_entries(needs: &[OpenNeed]) -> Vec<(Vec<u8>, u64)> {
    let mut own: std::collections::BTreeMap<Vec<u8>, u64> = std::collections::BTreeMap::new();
    for n in needs {
        let mut bytes = match &n.path {
            PathNeed::Any => Vec::new(),
            PathNeed::Exact(p) => {
                let mut b = p.as_bytes().to_vec();
                b.push(0);
                b
            }
            PathNeed::Prefix(p) => p.as_bytes().to_vec(),
        };
        bytes.truncate(MAX_KEY);
        let allow = if n.flags == 0 { OPEN_ANY_FLAGS } else { u64::from(n.flags) };
        *own.entry(bytes).or_insert(0) |= allow;
    }
    own.keys()
        .map(|k| {
            let value = own.iter().filter(|(p, _)| k.starts_with(p)).fold(0, |acc, (_, v)| acc | v);
            (k.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_keys_carry_what_shorter_ones_allow() {
        let needs = [
            OpenNeed { path: PathNeed::Any, flags: 3 },
            OpenNeed { path: PathNeed::Prefix("/etc/".into()), flags: 0o100 },
            OpenNeed { path: PathNeed::Exact("/etc/shadow".into()), flags: 0 },
            OpenNeed { path: PathNeed::Prefix("/x".repeat(100)), flags: 0 },
        ];
        let e = trie_entries(&needs);
        let get = |k: &[u8]| e.iter().find(|(b, _)| b == k).map(|(_, v)| *v);
        assert_eq!(get(b""), Some(3));
        assert_eq!(get(b"/etc/"), Some(3 | 0o100));
        assert_eq!(get(b"/etc/shadow\0"), Some(OPEN_ANY_FLAGS | 3 | 0o100));
        assert_eq!(get("/x".repeat(64).as_bytes()), Some(OPEN_ANY_FLAGS | 3));
        assert_eq!(e.len(), 4);
    }
}
