//! rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16+): the header blobs of
//! table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, read straight from
//! the file's table b-trees, without SQLite.
//!
//! Format facts used (sqlite.org/fileformat2.html), all big-endian:
//! - The 100-byte file header: `SQLite format 3\0`, page size at 16 (1 means
//!   65536), bytes reserved at each page end at 20.
//! - A b-tree page header (at 100 on page 1, else at 0): type (5 interior
//!   table, 13 leaf table), cell count at +3, right-most child at +8 on
//!   interior pages; then u16 cell offsets (from +12 interior, +8 leaf).
//! - Interior cell: left child u32, rowid varint. Leaf cell: payload size
//!   varint, rowid varint, payload; a payload larger than `usable - 35`
//!   keeps `M + (P - M) % (usable - 4)` bytes (or `M` if that is still too
//!   many, `M = (usable - 12) * 32 / 255 - 23`) and continues on overflow
//!   pages, each a next-page u32 and `usable - 4` bytes.
//! - A record: header size varint, one serial type per column, then the
//!   values; type ≥ 12 even is a blob of `(t - 12) / 2` bytes, odd ≥ 13 text.
//! - Table `sqlite_schema` (root page 1) rows: type, name, tbl_name,
//!   rootpage, sql.
//!
//! Changes still in a `-wal` file beside the database are not seen.

use super::Blobs;

const MAGIC: &[u8] = b"SQLite format 3\0";
const INTERIOR_TABLE: u8 = 5;
const LEAF_TABLE: u8 = 13;
/// Far deeper than any b-tree of a real file gets; stops cycles early.
const MAX_DEPTH: usize = 40;

struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: usize,
}

#[derive(Debug)]
enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
    Other,
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, x| (acc << 8) | u64::from(*x))
}

/// A SQLite varint: 1–9 bytes, 7 bits each, the ninth contributing 8.
fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

impl<'a> Db<'a> {
    fn page(&self, no: u64) -> Result<&'a [u8], String> {
        let no = usize::try_from(no).map_err(|_| format!("page {no} out of range"))?;
        if no == 0 || no > self.pages {
            return Err(format!("page {no} is past the end of the file"));
        }
        Ok(&self.data[(no - 1) * self.page_size..no * self.page_size])
    }

    /// Every row payload of the table b-tree rooted at `root`, in rowid order.
    fn rows(&self, root: u64) -> Result<Vec<Vec<u8>>, String> {
        let mut rows = Vec::new();
        let mut visited = vec![false; self.pages + 1];
        self.walk(root, 0, &mut visited, &mut rows)?;
        Ok(rows)
    }

    fn walk(
        &self,
        no: u64,
        depth: usize,
        visited: &mut [bool],
        rows: &mut Vec<Vec<u8>>,
    ) -> Result<(), String> {
        let page = self.page(no)?;
        let seen = visited.get_mut(no as usize).ok_or("page out of range")?;
        if *seen {
            return Err(format!("b-tree page {no} is reached twice"));
        }
        if depth > MAX_DEPTH {
            return Err(format!("b-tree deeper than {MAX_DEPTH} pages"));
        }
        *seen = true;
        let h = if no == 1 { 100 } else { 0 };
        let kind = *page.get(h).ok_or("page too small")?;
        let cells = be(page.get(h + 3..h + 5).ok_or("page too small")?) as usize;
        let header_len = if kind == INTERIOR_TABLE { 12 } else { 8 };
        let pointers =
            page.get(h + header_len..h + header_len + 2 * cells).ok_or("cell count overflows the page")?;
        let offsets = pointers.chunks_exact(2).map(|c| be(c) as usize);
        match kind {
            INTERIOR_TABLE => {
                for at in offsets {
                    let child = be(page.get(at..at + 4).ok_or("cell outside its page")?);
                    self.walk(child, depth + 1, visited, rows)?;
                }
                self.walk(be(&page[h + 8..h + 12]), depth + 1, visited, rows)
            }
            LEAF_TABLE => {
                for at in offsets {
                    rows.push(self.leaf_payload(page, at)?);
                }
                Ok(())
            }
            other => Err(format!("page {no} has type {other}, not a table b-tree page")),
        }
    }

    fn leaf_payload(&self, page: &[u8], at: usize) -> Result<Vec<u8>, String> {
        let (size, n) = varint(page, at).ok_or("cell outside its page")?;
        let (_rowid, m) = varint(page, at + n).ok_or("cell outside its page")?;
        let start = at + n + m;
        let size = usize::try_from(size).map_err(|_| "payload size overflows")?;
        let u = self.usable;
        let max_local = u - 35;
        let local = if size <= max_local {
            size
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (size - min_local) % (u - 4);
            if k <= max_local { k } else { min_local }
        };
        let mut payload = Vec::with_capacity(size.min(self.data.len()));
        payload.extend_from_slice(page.get(start..start + local).ok_or("payload outside its page")?);
        if local < size {
            let mut next =
                be(page.get(start + local..start + local + 4).ok_or("payload outside its page")?);
            for _ in 0..self.pages {
                if payload.len() >= size || next == 0 {
                    break;
                }
                let over = self.page(next)?;
                let take = (size - payload.len()).min(u - 4);
                payload.extend_from_slice(&over[4..4 + take]);
                next = be(&over[..4]);
            }
            if payload.len() < size {
                return Err(format!("overflow chain holds {} of {size} payload bytes", payload.len()));
            }
        }
        Ok(payload)
    }
}

/// The columns of a record.
fn record(payload: &[u8]) -> Option<Vec<Value<'_>>> {
    let (header_len, n) = varint(payload, 0)?;
    let header_len = usize::try_from(header_len).ok()?;
    let mut at = n;
    let mut body = header_len;
    let mut values = Vec::new();
    while at < header_len {
        let (ty, n) = varint(payload, at)?;
        at += n;
        let len = match ty {
            0 | 8 | 9 | 10 | 11 => 0,
            1..=4 => ty as usize,
            5 => 6,
            6 | 7 => 8,
            t => usize::try_from((t - 12) / 2).ok()?,
        };
        let bytes = payload.get(body..body.checked_add(len)?)?;
        body += len;
        values.push(match ty {
            0 => Value::Null,
            1..=6 => {
                let shift = 64 - 8 * len as u32;
                Value::Int(((be(bytes) << shift) as i64) >> shift)
            }
            8 => Value::Int(0),
            9 => Value::Int(1),
            t if t >= 12 && t % 2 == 0 => Value::Blob(bytes),
            t if t >= 13 => Value::Text(bytes),
            _ => Value::Other,
        });
    }
    Some(values)
}

pub(crate) fn blobs(data: &[u8]) -> Result<Blobs, String> {
    if !data.starts_with(MAGIC) || data.len() < 100 {
        return Err("not a SQLite database".to_string());
    }
    let page_size = match be(&data[16..18]) {
        1 => 65536,
        n => n as usize,
    };
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    let usable = page_size - usize::from(data[20]);
    if usable < 480 {
        return Err(format!("implausible usable page size {usable}"));
    }
    let db = Db { data, page_size, usable, pages: data.len() / page_size };
    let root = db
        .rows(1)?
        .iter()
        .filter_map(|row| {
            let cols = record(row)?;
            match cols.as_slice() {
                [Value::Text(b"table"), Value::Text(b"Packages"), _, Value::Int(root), ..] => Some(*root),
                _ => None,
            }
        })
        .next()
        .ok_or("no Packages table")?;
    let mut out = Blobs::default();
    for row in db.rows(u64::try_from(root).map_err(|_| "negative root page")?)? {
        let blob = record(&row).and_then(|cols| {
            cols.into_iter().find_map(|c| match c {
                Value::Blob(b) => Some(b.to_vec()),
                Value::Null | Value::Int(_) | Value::Text(_) | Value::Other => None,
            })
        });
        match blob {
            Some(b) => out.blobs.push(b),
            None => out.lost.push("a Packages row holds no blob".to_string()),
        }
    }
    Ok(out)
}
