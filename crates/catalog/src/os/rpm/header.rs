//! An rpm header blob as the database stores it (no lead, no header magic):
//!
//! - `il` and `dl`, big-endian u32: the number of index entries and the
//!   size of the data store;
//! - `il` entries of four big-endian u32: tag, type, offset into the data
//!   store, count;
//! - the data store, `dl` bytes.
//!
//! Types used here: INT32 (4, `count` values), STRING (6) and I18NSTRING
//! (9, NUL-terminated), STRING_ARRAY (8, `count` NUL-terminated strings).
//! Like rpm itself, headers with more than 0xffff entries or a data store
//! over 256 MiB are refused.

pub(super) mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const OLDFILENAMES: u32 = 1027;
    pub const SOURCERPM: u32 = 1044;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
}

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

const MAX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 256 * 1024 * 1024;

struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

pub(super) struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Header<'a> {
    pub(super) fn parse(blob: &'a [u8]) -> Result<Header<'a>, String> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(format!("{} bytes is too short for a header", blob.len()));
        };
        let (il, dl) = (il as usize, dl as usize);
        if il == 0 || il > MAX_ENTRIES || dl > MAX_DATA {
            return Err(format!("implausible header sizes ({il} entries, {dl} data bytes)"));
        }
        let data_start = 8 + il * 16;
        let data = blob
            .get(data_start..data_start + dl)
            .ok_or_else(|| format!("header cut short: {} of {} bytes", blob.len(), data_start + dl))?;
        let entries = (0..il)
            .filter_map(|i| {
                let at = 8 + i * 16;
                Some(Entry {
                    tag: be32(blob, at)?,
                    ty: be32(blob, at + 4)?,
                    offset: be32(blob, at + 8)? as usize,
                    count: be32(blob, at + 12)? as usize,
                })
            })
            .collect();
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag && e.offset < self.data.len())
    }

    /// A string value; for an array, its first string.
    pub(super) fn string(&self, tag: u32) -> Option<&'a str> {
        let e =
            self.entry(tag).filter(|e| matches!(e.ty, TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY))?;
        self.cstrings(e.offset).next()
    }

    pub(super) fn strings(&self, tag: u32) -> Vec<&'a str> {
        match self.entry(tag).filter(|e| e.ty == TYPE_STRING_ARRAY) {
            Some(e) => self.cstrings(e.offset).take(e.count).collect(),
            None => Vec::new(),
        }
    }

    pub(super) fn int32(&self, tag: u32) -> Option<u32> {
        self.int32s(tag).first().copied()
    }

    pub(super) fn int32s(&self, tag: u32) -> Vec<u32> {
        let Some(e) = self.entry(tag).filter(|e| e.ty == TYPE_INT32) else { return Vec::new() };
        let available = (self.data.len() - e.offset) / 4;
        (0..e.count.min(available)).filter_map(|i| be32(self.data, e.offset + i * 4)).collect()
    }

    /// NUL-terminated UTF-8 strings from `offset` on; stops at the first
    /// unterminated or non-UTF-8 one.
    fn cstrings(&self, offset: usize) -> impl Iterator<Item = &'a str> + use<'a> {
        let mut rest = self.data.get(offset..).unwrap_or_default();
        std::iter::from_fn(move || {
            let end = rest.iter().position(|b| *b == 0)?;
            let s = std::str::from_utf8(&rest[..end]).ok()?;
            rest = &rest[end + 1..];
            Some(s)
        })
    }
}
