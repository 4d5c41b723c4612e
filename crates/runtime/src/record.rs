//! Recordings: the event stream plus the state each event depends on, as
//! JSON lines (format described in the crate README).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::model::{Container, Process, SysEvent, User};
use crate::state::{MAX_ANCESTORS, State};

/// The format name in a recording's first line.
pub const FORMAT: &str = "rampart-events";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Longest line accepted when reading, so a corrupt file cannot exhaust memory.
pub const MAX_LINE: usize = 4 << 20;

/// A recording's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: BTreeMap<u32, String>,
}

/// Every line after the header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Item {
    /// A process entry as it is from here on (replaces an earlier one).
    Proc(Process),
    /// A container's metadata.
    Container(Container),
    /// An event; its process and ancestors were written before it.
    Event(SysEvent),
}

/// Writes a recording while events are processed.
pub struct Recorder<W: Write> {
    out: BufWriter<W>,
    written: HashMap<u32, u64>,
    containers: HashSet<String>,
    line: Vec<u8>,
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source: e }
}

impl Recorder<File> {
    /// Creates (truncates) `path` and writes the header from `state`.
    pub fn create(path: &Path, state: &State) -> Result<Recorder<File>, Error> {
        let f = File::create(path).map_err(|e| io_err(path, e))?;
        Recorder::new(f, state).map_err(|e| io_err(path, e))
    }
}

impl<W: Write> Recorder<W> {
    pub fn new(w: W, state: &State) -> std::io::Result<Recorder<W>> {
        let mut users: Vec<User> = state.users.values().cloned().collect();
        users.sort_by_key(|u| u.uid);
        let header = Header {
            format: FORMAT.to_string(),
            version: VERSION,
            hostname: state.hostname.clone(),
            users,
            groups: state.groups.iter().map(|(k, v)| (*k, v.clone())).collect(),
        };
        let mut out = BufWriter::with_capacity(1 << 16, w);
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        Ok(Recorder { out, written: HashMap::new(), containers: HashSet::new(), line: Vec::new() })
    }

    fn item(&mut self, item: &Item) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, item)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// Writes `ev`, preceded by whatever state it depends on that the
    /// recording does not hold yet (its process, ancestors, session and
    /// group leaders, container).
    pub fn write(&mut self, ev: &SysEvent, state: &State) -> std::io::Result<()> {
        let mut pid = ev.pid;
        let mut extra = Vec::new();
        if let Some(p) = state.procs.get(&ev.pid) {
            extra.push(p.sid);
            extra.push(p.pgid);
        }
        let mut chain = Vec::new();
        for _ in 0..=MAX_ANCESTORS {
            let Some(p) = state.procs.get(&pid) else { break };
            chain.push(pid);
            if p.ppid == 0 || p.ppid == pid {
                break;
            }
            pid = p.ppid;
        }
        chain.extend(extra);
        for pid in chain {
            let Some(p) = state.procs.get(&pid) else { continue };
            let generation = state.generation.get(&pid).copied().unwrap_or(0);
            if self.written.get(&pid) == Some(&generation) {
                continue;
            }
            if !p.container_id.is_empty()
                && !self.containers.contains(&p.container_id)
                && let Some(c) = state.containers.get(&p.container_id)
            {
                self.containers.insert(c.id.clone());
                self.item(&Item::Container(c.clone()))?;
            }
            self.item(&Item::Proc(p.clone()))?;
            self.written.insert(pid, generation);
        }
        self.item(&Item::Event(ev.clone()))?;
        if ev.etype == crate::syscalls::PROCEXIT {
            self.written.remove(&ev.pid);
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads a recording: state lines update the replay state, events come out.
pub struct Replay<R: Read> {
    path: PathBuf,
    input: BufReader<R>,
    line_no: usize,
    buf: Vec<u8>,
    pub state: State,
}

fn read_line_limited<R: Read>(r: &mut BufReader<R>, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    buf.clear();
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(if buf.is_empty() { None } else { Some(true) });
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&avail[..take.min(room)]);
        r.consume(take);
        if buf.len() >= MAX_LINE {
            return Ok(Some(false));
        }
        if done {
            return Ok(Some(true));
        }
    }
}

impl Replay<File> {
    /// Opens a recording and checks its header.
    pub fn open(path: &Path) -> Result<Replay<File>, Error> {
        let f = File::open(path).map_err(|e| io_err(path, e))?;
        Replay::new(path, f)
    }
}

impl<R: Read> Replay<R> {
    pub fn new(path: &Path, r: R) -> Result<Replay<R>, Error> {
        let mut rp = Replay {
            path: path.to_path_buf(),
            input: BufReader::with_capacity(1 << 16, r),
            line_no: 0,
            buf: Vec::new(),
            state: State::empty(),
        };
        let header: Header = match rp.next_line()? {
            Some(line) => serde_json::from_slice(line).map_err(|e| rp.bad(format!("header: {e}")))?,
            None => return Err(rp.bad("empty file, expected a rampart-events header".into())),
        };
        if header.format != FORMAT {
            return Err(rp.bad(format!("format {:?}, expected {FORMAT:?}", header.format)));
        }
        if header.version != VERSION {
            return Err(
                rp.bad(format!("format version {}, this build reads version {VERSION}", header.version))
            );
        }
        rp.state.hostname = header.hostname;
        rp.state.users = header.users.into_iter().map(|u| (u.uid, u)).collect();
        rp.state.groups = header.groups.into_iter().collect();
        Ok(rp)
    }

    fn bad(&self, msg: String) -> Error {
        Error::Replay { path: self.path.clone(), line: self.line_no, msg }
    }

    fn next_line(&mut self) -> Result<Option<&[u8]>, Error> {
        loop {
            self.line_no += 1;
            let got = read_line_limited(&mut self.input, &mut self.buf).map_err(|e| io_err(&self.path, e))?;
            match got {
                None => return Ok(None),
                Some(false) => {
                    return Err(self.bad(format!("line longer than {MAX_LINE} bytes")));
                }
                Some(true) => {
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Ok(Some(&self.buf));
                }
            }
        }
    }

    /// The next line after the header, decoded.
    pub fn next_item(&mut self) -> Result<Option<Item>, Error> {
        let Some(line) = self.next_line()? else { return Ok(None) };
        let item = serde_json::from_slice(line).map_err(|e| self.bad(e.to_string()))?;
        Ok(Some(item))
    }

    /// The next event, with every state line before it applied to `state`.
    pub fn next_event(&mut self) -> Result<Option<SysEvent>, Error> {
        while let Some(item) = self.next_item()? {
            if let Some(ev) = apply(&mut self.state, item) {
                return Ok(Some(ev));
            }
        }
        Ok(None)
    }
}

/// Applies a state line to `state`; returns the event of an event line.
pub fn apply(state: &mut State, item: Item) -> Option<SysEvent> {
    match item {
        Item::Proc(p) => {
            state.insert(p);
            None
        }
        Item::Container(c) => {
            state.containers.insert(c.id.clone(), c);
            None
        }
        Item::Event(ev) => Some(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Param;

    fn proc(pid: u32, ppid: u32, comm: &str) -> Process {
        let mut p =
            Process { pid, ppid, comm: comm.into(), cwd: "/".into(), loginuid: -1, ..Process::default() };
        p.set_cmdline();
        p
    }

    fn event(num: u64, pid: u32, etype: &'static str) -> SysEvent {
        SysEvent {
            num,
            ts: 1,
            etype: etype.into(),
            pid,
            tid: pid,
            uid: 0,
            gid: 0,
            loginuid: -1,
            cap_effective: 0,
            res: 0,
            params: vec![Param { name: "res".into(), text: "0".into(), raw: Some(0) }],
            fd: None,
            fs: None,
        }
    }

    #[test]
    fn round_trip_writes_state_once_and_again_when_it_changes() {
        let mut state = State::empty();
        state.hostname = "h".into();
        state.insert(proc(1, 0, "init"));
        state.insert(proc(10, 1, "sh"));
        let mut buf = Vec::new();
        {
            let mut rec = Recorder::new(&mut buf, &state).unwrap();
            rec.write(&event(1, 10, "openat"), &state).unwrap();
            rec.write(&event(2, 10, "openat"), &state).unwrap();
            let mut p = proc(10, 1, "cat");
            p.args = vec!["/etc/shadow".into()];
            p.set_cmdline();
            state.insert(p);
            rec.write(&event(3, 10, "execve"), &state).unwrap();
            rec.flush().unwrap();
        }
        let text = String::from_utf8(buf.clone()).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("{\"proc\"")).count(), 3, "{text}");
        let mut rp = Replay::new(Path::new("mem"), &buf[..]).unwrap();
        assert_eq!(rp.state.hostname, "h");
        let mut seen = Vec::new();
        while let Some(ev) = rp.next_event().unwrap() {
            seen.push((ev.num, rp.state.procs[&ev.pid].cmdline.clone(), rp.state.procs[&1].comm.clone()));
        }
        assert_eq!(
            seen,
            vec![
                (1, "sh".to_string(), "init".to_string()),
                (2, "sh".to_string(), "init".to_string()),
                (3, "cat /etc/shadow".to_string(), "init".to_string())
            ]
        );
    }

    #[test]
    fn bad_recordings_name_the_line() {
        let err = Replay::new(Path::new("x.jsonl"), &b""[..]).err().unwrap();
        assert!(err.to_string().contains("x.jsonl"), "{err}");
        let err =
            Replay::new(Path::new("x.jsonl"), &b"{\"format\":\"other\",\"version\":1}\n"[..]).err().unwrap();
        assert!(err.to_string().contains("format"), "{err}");
        let err = Replay::new(Path::new("x.jsonl"), &b"{\"format\":\"rampart-events\",\"version\":9}\n"[..])
            .err()
            .unwrap();
        assert!(err.to_string().contains("version 9"), "{err}");
        let data = b"{\"format\":\"rampart-events\",\"version\":1}\n\n{\"nope\":1}\n";
        let mut rp = Replay::new(Path::new("x.jsonl"), &data[..]).unwrap();
        let err = rp.next_event().err().unwrap();
        assert!(err.to_string().starts_with("x.jsonl:3:"), "{err}");
    }

    #[test]
    fn huge_lines_are_refused() {
        let mut data = b"{\"format\":\"rampart-events\",\"version\":1}\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        let mut rp = Replay::new(Path::new("big"), &data[..]).unwrap();
        let err = rp.next_event().err().unwrap();
        assert!(err.to_string().contains("longer than"), "{err}");
    }
}
