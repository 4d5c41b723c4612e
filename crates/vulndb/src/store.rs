//! The on-disk database: one file, written once and replaced by rename.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! header   72 bytes: magic "RMPVULN\0", schema u32, reserved u32, file length u64,
//!          then (offset u64, length u64) of the package table, the advisory
//!          table and the metadata
//! blobs    per package key a JSON array of AffectedPackage; per advisory id
//!          a JSON Advisory
//! keys     the key bytes the tables point at
//! tables   count u64, then count entries of (key offset u64, value offset
//!          u64, key length u32, value length u32), sorted by key bytes
//! metadata DbMetadata as JSON
//! ```
//!
//! Package keys are `<ecosystem key>\0<normalized name>`. Opening reads the
//! header and metadata only; a lookup is a binary search in a table plus one
//! JSON decode, all within the memory map.
//!
//! The builder spills every serialized advisory and affected entry to an
//! anonymous temporary file as records arrive, keeping only their offsets in
//! memory, so a large export does not have to fit in memory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::DbError;
use crate::model::{DbMetadata, SourceInfo};
use crate::parse::{Record, index_key};

pub(crate) const MAGIC: &[u8; 8] = b"RMPVULN\0";
/// Bumped whenever the file layout or the blob encoding changes.
pub const SCHEMA_VERSION: u32 = 1;
/// The database file inside the database directory.
pub const DB_FILE_NAME: &str = "vuln.db";
pub(crate) const HEADER_LEN: usize = 72;
const ENTRY_LEN: usize = 24;

/// Maps a file read-only.
#[allow(unsafe_code)]
pub(crate) fn map_file(file: &File) -> io::Result<Mmap> {
    // SAFETY: the files mapped are never modified in place: the database is
    // written once to a temporary file and renamed into place, and the spill
    // file is private to the builder. Replacing the database unlinks the old
    // file, which stays valid for mappings that already exist.
    unsafe { Mmap::map(file) }
}

/// One record, serialized: produced in parallel, stored in order.
pub(crate) struct Encoded {
    id: String,
    modified: Option<String>,
    kind: String,
    mergeable: bool,
    advisory: Vec<u8>,
    /// (index key, ecosystem key, serialized AffectedPackage).
    affected: Vec<(String, String, Vec<u8>)>,
}

impl Encoded {
    pub(crate) fn new(record: Record) -> Result<Encoded, serde_json::Error> {
        let affected = record
            .affected
            .iter()
            .map(|a| Ok((index_key(&a.ecosystem, &a.name), a.ecosystem.clone(), serde_json::to_vec(a)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(Encoded {
            advisory: serde_json::to_vec(&record.advisory)?,
            id: record.advisory.id,
            modified: record.advisory.modified,
            kind: record.advisory.source,
            mergeable: record.mergeable,
            affected,
        })
    }
}

/// An advisory id and the version of it that currently wins.
struct Slot {
    id: String,
    /// The record the stored advisory came from; affected entries of other
    /// (superseded) records of this id are dropped when the file is written.
    seq: u32,
    offset: u64,
    len: u32,
    modified: Option<String>,
    mergeable: bool,
    source: u32,
}

/// An affected entry waiting in the spill file.
struct Pending {
    key: u32,
    slot: u32,
    seq: u32,
    len: u32,
    offset: u64,
}

pub(crate) struct Builder {
    dir: PathBuf,
    spill: BufWriter<File>,
    spill_len: u64,
    index: Index,
}

/// What the builder keeps in memory: ids, keys and where things are in the
/// spill file.
#[derive(Default)]
struct Index {
    slots: Vec<Slot>,
    slot_by_id: HashMap<String, u32>,
    /// Interned index keys and the ecosystem (interned) of each.
    keys: Vec<(String, u32)>,
    key_by_str: HashMap<String, u32>,
    ecosystems: Vec<String>,
    ecosystem_by_str: HashMap<String, u32>,
    pending: Vec<Pending>,
    /// (origin, kind) of every source seen.
    sources: Vec<(String, String)>,
    next_seq: u32,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DbError + '_ {
    move |source| DbError::Io { path: path.to_path_buf(), source }
}

impl Builder {
    /// Starts a database to be placed in `dir` (created if needed).
    pub(crate) fn new(dir: &Path) -> Result<Builder, DbError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let spill = tempfile::tempfile_in(dir).map_err(io_err(dir))?;
        Ok(Builder {
            dir: dir.to_path_buf(),
            spill: BufWriter::with_capacity(1 << 20, spill),
            spill_len: 0,
            index: Index::default(),
        })
    }

    pub(crate) fn advisory_count(&self) -> usize {
        self.index.slots.len()
    }

    /// Adds a record read from `origin`. A record whose id is already
    /// stored replaces it when its `modified` time is not older (so the
    /// newer of two copies of an advisory wins, and on a tie the later
    /// input), except that Alpine secdb records of one id add up.
    pub(crate) fn add(&mut self, record: Encoded, origin: &str) -> Result<(), DbError> {
        let ix = &mut self.index;
        let source = ix.source(origin, &record.kind);
        let seq = ix.next_seq;
        ix.next_seq += 1;
        let (slot, seq) = match ix.slot_by_id.get(&record.id) {
            None => {
                let (offset, len) = spill(&mut self.spill, &mut self.spill_len, &self.dir, &record.advisory)?;
                ix.slots.push(Slot {
                    id: record.id.clone(),
                    seq,
                    offset,
                    len,
                    modified: record.modified,
                    mergeable: record.mergeable,
                    source,
                });
                let slot = (ix.slots.len() - 1) as u32;
                ix.slot_by_id.insert(record.id, slot);
                (slot, seq)
            }
            Some(&slot) => {
                let old = &ix.slots[slot as usize];
                if old.mergeable && record.mergeable && ix.sources[old.source as usize].1 == record.kind {
                    (slot, old.seq)
                } else if supersedes(record.modified.as_deref(), old.modified.as_deref()) {
                    let (offset, len) =
                        spill(&mut self.spill, &mut self.spill_len, &self.dir, &record.advisory)?;
                    ix.slots[slot as usize] = Slot {
                        id: record.id,
                        seq,
                        offset,
                        len,
                        modified: record.modified,
                        mergeable: record.mergeable,
                        source,
                    };
                    (slot, seq)
                } else {
                    return Ok(());
                }
            }
        };
        for (key, ecosystem, bytes) in record.affected {
            let (offset, len) = spill(&mut self.spill, &mut self.spill_len, &self.dir, &bytes)?;
            let key = ix.intern_key(key, ecosystem);
            ix.pending.push(Pending { key, slot, seq, len, offset });
        }
        Ok(())
    }

    /// Writes the database file to a temporary file in the directory,
    /// syncs it and renames it over the previous database.
    pub(crate) fn finish(self) -> Result<DbMetadata, DbError> {
        let dir = self.dir;
        let spill =
            self.spill.into_inner().map_err(|e| DbError::Io { path: dir.clone(), source: e.into_error() })?;
        let map = if self.spill_len > 0 { Some(map_file(&spill).map_err(io_err(&dir))?) } else { None };
        let data: &[u8] = map.as_deref().unwrap_or(&[]);

        let mut tmp = db_tempfile(&dir).map_err(io_err(&dir))?;
        let tmp_path = tmp.path().to_path_buf();
        let file = tmp.as_file_mut();
        let mut out = Out { w: BufWriter::with_capacity(1 << 20, &mut *file), pos: 0 };
        let (body, metadata) = write_body(&mut out, &self.index, data)
            .and_then(|r| out.w.flush().map(|()| r))
            .map_err(io_err(&tmp_path))?;
        drop(out);
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&body.header()))
            .and_then(|()| file.sync_all())
            .map_err(io_err(&tmp_path))?;
        let target = dir.join(DB_FILE_NAME);
        tmp.persist(&target).map_err(|e| DbError::Io { path: target.clone(), source: e.error })?;
        // Make the rename itself durable.
        File::open(&dir).and_then(|d| d.sync_all()).map_err(io_err(&dir))?;
        Ok(metadata)
    }
}

/// The new database file. It gets the usual permissions of a user's file
/// (subject to the umask) rather than tempfile's owner-only default, so a
/// database baked into an image by one user is readable by another.
fn db_tempfile(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".vuln.db.");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

fn spill(
    w: &mut BufWriter<File>,
    spill_len: &mut u64,
    dir: &Path,
    bytes: &[u8],
) -> Result<(u64, u32), DbError> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| DbError::Io { path: dir.to_path_buf(), source: too_large() })?;
    w.write_all(bytes).map_err(io_err(dir))?;
    let offset = *spill_len;
    *spill_len += u64::from(len);
    Ok((offset, len))
}

impl Index {
    fn source(&mut self, origin: &str, kind: &str) -> u32 {
        match self.sources.iter().position(|(o, k)| o == origin && k == kind) {
            Some(i) => i as u32,
            None => {
                self.sources.push((origin.to_string(), kind.to_string()));
                (self.sources.len() - 1) as u32
            }
        }
    }

    fn intern_key(&mut self, key: String, ecosystem: String) -> u32 {
        if let Some(&k) = self.key_by_str.get(&key) {
            return k;
        }
        let eco = match self.ecosystem_by_str.get(&ecosystem) {
            Some(&e) => e,
            None => {
                self.ecosystems.push(ecosystem.clone());
                let e = (self.ecosystems.len() - 1) as u32;
                self.ecosystem_by_str.insert(ecosystem, e);
                e
            }
        };
        self.keys.push((key.clone(), eco));
        let k = (self.keys.len() - 1) as u32;
        self.key_by_str.insert(key, k);
        k
    }
}

/// True when a record modified at `new` should replace one modified at `old`.
fn supersedes(new: Option<&str>, old: Option<&str>) -> bool {
    match (new, old) {
        (Some(n), Some(o)) => {
            match (OffsetDateTime::parse(n, &Rfc3339), OffsetDateTime::parse(o, &Rfc3339)) {
                (Ok(n), Ok(o)) => n >= o,
                _ => n >= o,
            }
        }
        (Some(_), None) | (None, None) => true,
        (None, Some(_)) => false,
    }
}

/// A buffered writer that knows its position.
struct Out<'a> {
    w: BufWriter<&'a mut File>,
    pos: u64,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }
}

/// Where the sections ended up.
struct Body {
    len: u64,
    packages: (u64, u64),
    advisories: (u64, u64),
    metadata: (u64, u64),
}

impl Body {
    fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&SCHEMA_VERSION.to_le_bytes());
        h[16..24].copy_from_slice(&self.len.to_le_bytes());
        for (i, (off, len)) in [self.packages, self.advisories, self.metadata].into_iter().enumerate() {
            let at = 24 + i * 16;
            h[at..at + 8].copy_from_slice(&off.to_le_bytes());
            h[at + 8..at + 16].copy_from_slice(&len.to_le_bytes());
        }
        h
    }
}

fn too_large() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a database entry larger than 4 GiB")
}

/// Writes everything after the header; returns the layout and the metadata.
fn write_body(out: &mut Out, b: &Index, data: &[u8]) -> io::Result<(Body, DbMetadata)> {
    out.put(&[0u8; HEADER_LEN])?;

    // Affected entries of the winning record of each id, grouped by key in
    // key order, in input order within a key.
    let mut rank = vec![0u32; b.keys.len()];
    let mut by_key: Vec<u32> = (0..b.keys.len() as u32).collect();
    by_key.sort_unstable_by(|&x, &y| b.keys[x as usize].0.cmp(&b.keys[y as usize].0));
    for (r, &k) in by_key.iter().enumerate() {
        rank[k as usize] = r as u32;
    }
    let mut kept: Vec<&Pending> =
        b.pending.iter().filter(|p| b.slots[p.slot as usize].seq == p.seq).collect();
    kept.sort_by_key(|p| rank[p.key as usize]);

    let mut packages = 0u64;
    // (slot, ecosystem) pairs, for the per-ecosystem counts.
    let mut slot_ecosystems: HashSet<(u32, u32)> = HashSet::new();
    let mut package_entries: Vec<(u32, u64, u32)> = Vec::new();
    for group in kept.chunk_by(|x, y| x.key == y.key) {
        let start = out.pos;
        let mut seen: HashSet<&[u8]> = HashSet::new();
        out.put(b"[")?;
        for p in group {
            let piece = &data[p.offset as usize..p.offset as usize + p.len as usize];
            if !seen.insert(piece) {
                continue;
            }
            if seen.len() > 1 {
                out.put(b",")?;
            }
            out.put(piece)?;
            packages += 1;
            slot_ecosystems.insert((p.slot, b.keys[p.key as usize].1));
        }
        out.put(b"]")?;
        let len = u32::try_from(out.pos - start).map_err(|_| too_large())?;
        package_entries.push((group[0].key, start, len));
    }

    let mut ids: Vec<u32> = (0..b.slots.len() as u32).collect();
    ids.sort_unstable_by(|&x, &y| b.slots[x as usize].id.cmp(&b.slots[y as usize].id));
    let mut advisory_entries: Vec<(u32, u64, u32)> = Vec::with_capacity(ids.len());
    for &i in &ids {
        let s = &b.slots[i as usize];
        let start = out.pos;
        out.put(&data[s.offset as usize..s.offset as usize + s.len as usize])?;
        advisory_entries.push((i, start, s.len));
    }

    let packages_table = write_table(out, &package_entries, |k| b.keys[k as usize].0.as_bytes())?;
    let advisories_table = write_table(out, &advisory_entries, |i| b.slots[i as usize].id.as_bytes())?;

    let metadata = metadata(b, packages, &slot_ecosystems);
    let start = out.pos;
    out.put(&serde_json::to_vec(&metadata).map_err(io::Error::other)?)?;
    let body = Body {
        len: out.pos,
        packages: packages_table,
        advisories: advisories_table,
        metadata: (start, out.pos - start),
    };
    Ok((body, metadata))
}

/// Writes the keys, then the table pointing at them and at the values.
fn write_table<'a>(
    out: &mut Out,
    entries: &[(u32, u64, u32)],
    key: impl Fn(u32) -> &'a [u8],
) -> io::Result<(u64, u64)> {
    let mut key_offsets = Vec::with_capacity(entries.len());
    for &(k, _, _) in entries {
        key_offsets.push(out.pos);
        out.put(key(k))?;
    }
    let start = out.pos;
    out.put(&(entries.len() as u64).to_le_bytes())?;
    for (&(k, value_offset, value_len), key_offset) in entries.iter().zip(key_offsets) {
        let key_len = u32::try_from(key(k).len()).map_err(|_| too_large())?;
        let mut e = [0u8; ENTRY_LEN];
        e[..8].copy_from_slice(&key_offset.to_le_bytes());
        e[8..16].copy_from_slice(&value_offset.to_le_bytes());
        e[16..20].copy_from_slice(&key_len.to_le_bytes());
        e[20..24].copy_from_slice(&value_len.to_le_bytes());
        out.put(&e)?;
    }
    Ok((start, out.pos - start))
}

fn metadata(b: &Index, packages: u64, slot_ecosystems: &HashSet<(u32, u32)>) -> DbMetadata {
    let mut per_source: Vec<(u64, HashMap<u32, u64>)> = vec![(0, HashMap::new()); b.sources.len()];
    for s in &b.slots {
        per_source[s.source as usize].0 += 1;
    }
    for &(slot, eco) in slot_ecosystems {
        let source = b.slots[slot as usize].source as usize;
        *per_source[source].1.entry(eco).or_default() += 1;
    }
    let sources = b
        .sources
        .iter()
        .zip(per_source)
        .map(|((origin, kind), (advisories, ecos))| {
            let mut ecosystems: Vec<(String, u64)> =
                ecos.into_iter().map(|(e, n)| (b.ecosystems[e as usize].clone(), n)).collect();
            ecosystems.sort();
            SourceInfo { origin: origin.clone(), kind: kind.clone(), advisories, ecosystems }
        })
        .collect();
    DbMetadata {
        schema_version: SCHEMA_VERSION,
        built_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        advisories: b.slots.len() as u64,
        packages,
        sources,
    }
}

/// A table of the file: where its entries start and how many there are.
#[derive(Clone, Copy)]
pub(crate) struct Table {
    entries: usize,
    count: usize,
}

/// The sections of an opened file, checked against its length.
pub(crate) struct Layout {
    pub packages: Table,
    pub advisories: Table,
    pub metadata: std::ops::Range<usize>,
}

/// Why a file could not be opened as a database.
pub(crate) enum Invalid {
    Corrupt(String),
    Schema(u32),
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// A section (offset, length) that lies within the file.
fn section(bytes: &[u8], at: usize, what: &str) -> Result<std::ops::Range<usize>, Invalid> {
    let bad = || Invalid::Corrupt(format!("the {what} section lies outside the file"));
    let off = usize::try_from(u64_at(bytes, at).ok_or_else(bad)?).map_err(|_| bad())?;
    let len = usize::try_from(u64_at(bytes, at + 8).ok_or_else(bad)?).map_err(|_| bad())?;
    let end = off.checked_add(len).filter(|&e| e <= bytes.len() && off >= HEADER_LEN).ok_or_else(bad)?;
    Ok(off..end)
}

fn table(bytes: &[u8], range: std::ops::Range<usize>, what: &str) -> Result<Table, Invalid> {
    let bad = || Invalid::Corrupt(format!("the {what} table is malformed"));
    let count = usize::try_from(u64_at(bytes, range.start).ok_or_else(bad)?).map_err(|_| bad())?;
    let expected = count.checked_mul(ENTRY_LEN).and_then(|n| n.checked_add(8)).ok_or_else(bad)?;
    if expected != range.len() {
        return Err(bad());
    }
    Ok(Table { entries: range.start + 8, count })
}

/// Checks the header and locates the sections; never trusts an offset.
pub(crate) fn layout(bytes: &[u8]) -> Result<Layout, Invalid> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(Invalid::Corrupt("not a rampart vulnerability database (bad magic)".to_string()));
    }
    let schema = u32_at(bytes, 8).unwrap_or_default();
    if schema != SCHEMA_VERSION {
        return Err(Invalid::Schema(schema));
    }
    let len = u64_at(bytes, 16).unwrap_or_default();
    if len != bytes.len() as u64 {
        return Err(Invalid::Corrupt(format!(
            "the header says {len} bytes but the file has {}",
            bytes.len()
        )));
    }
    Ok(Layout {
        packages: table(bytes, section(bytes, 24, "package table")?, "package")?,
        advisories: table(bytes, section(bytes, 40, "advisory table")?, "advisory")?,
        metadata: section(bytes, 56, "metadata")?,
    })
}

/// Entry `i` of a table as (key, value), bounds-checked.
fn entry(bytes: &[u8], t: Table, i: usize) -> Option<(&[u8], &[u8])> {
    let at = t.entries.checked_add(i.checked_mul(ENTRY_LEN)?)?;
    let slice = |off: u64, len: u32| {
        let off = usize::try_from(off).ok()?;
        bytes.get(off..off.checked_add(len as usize)?)
    };
    let key = slice(u64_at(bytes, at)?, u32_at(bytes, at + 16)?)?;
    let value = slice(u64_at(bytes, at + 8)?, u32_at(bytes, at + 20)?)?;
    Some((key, value))
}

/// The value stored under `key`, by binary search. `Err` names the broken
/// entry when the table points outside the file.
pub(crate) fn lookup<'a>(bytes: &'a [u8], t: Table, key: &[u8]) -> Result<Option<&'a [u8]>, String> {
    let (mut lo, mut hi) = (0usize, t.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (k, v) =
            entry(bytes, t, mid).ok_or_else(|| format!("table entry {mid} points outside the file"))?;
        match k.cmp(key) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(Some(v)),
        }
    }
    Ok(None)
}
