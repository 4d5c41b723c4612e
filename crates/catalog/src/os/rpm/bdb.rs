//! The Berkeley DB hash file rpm used before 4.16 (`/var/lib/rpm/Packages`),
//! read-only and just far enough to get the values out.
//!
//! Format facts used (in the byte order of the machine that wrote the file,
//! told by the magic):
//! - Page 0 is the metadata page: magic `0x061561` at 12, page size at 20,
//!   page type 8 (hash meta) at 25, last page number at 32.
//! - Every page starts with a 26-byte header: next page at 16, entry count
//!   at 20, `hf_offset` at 22 (on overflow pages: the bytes used), type at 25.
//! - Hash pages (type 13, or 2 unsorted) have `entries` u16 item offsets
//!   from byte 26; items alternate key, value and each runs to the start of
//!   the item before it (the first to the page end). An item starts with its
//!   type: 1 data inline, 3 "off-page": page number at +4, total length at +8.
//! - Overflow pages (type 7) chain through their next-page field.
//!
//! rpm keys its headers by instance number; key 0 holds a counter, not a
//! header. Pages are scanned in order rather than by hashing keys, so
//! freed pages (type 0) with stale headers are never read.

use super::Blobs;

const MAGIC: u32 = 0x0006_1561;
const PAGE_HASH_UNSORTED: u8 = 2;
const PAGE_OVERFLOW: u8 = 7;
const PAGE_HASH_META: u8 = 8;
const PAGE_HASH: u8 = 13;
const ITEM_KEYDATA: u8 = 1;
const ITEM_OFFPAGE: u8 = 3;
const PAGE_HEADER: usize = 26;

struct Db<'a> {
    data: &'a [u8],
    big_endian: bool,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<usize> {
        let bytes: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(usize::from(if self.big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) }))
    }

    fn page(&self, no: usize) -> Option<&'a [u8]> {
        (no < self.pages).then(|| &self.data[no * self.page_size..(no + 1) * self.page_size])
    }

    /// The value an off-page item points at, following the overflow chain.
    fn overflow(&self, first: u32, total: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(total.min(self.data.len()));
        let mut no = first as usize;
        for _ in 0..self.pages {
            let page =
                self.page(no).ok_or_else(|| format!("overflow page {no} is past the end of the file"))?;
            if page[25] != PAGE_OVERFLOW {
                return Err(format!("page {no} is not an overflow page"));
            }
            let used = self.u16_at(page, 22).unwrap_or(0).min(self.page_size - PAGE_HEADER);
            out.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + used]);
            let next = self.u32_at(page, 16).unwrap_or(0) as usize;
            if out.len() >= total || next == 0 {
                break;
            }
            no = next;
        }
        if out.len() < total {
            return Err(format!("overflow chain from page {first} holds {} of {total} bytes", out.len()));
        }
        out.truncate(total);
        Ok(out)
    }
}

pub(crate) fn blobs(data: &[u8]) -> Result<Blobs, String> {
    let magic_le = data.get(12..16).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let big_endian = match magic_le {
        Some(MAGIC) => false,
        Some(m) if m.swap_bytes() == MAGIC => true,
        _ => return Err("not a Berkeley DB file (no hash magic)".to_string()),
    };
    let mut db = Db { data, big_endian, page_size: 0, pages: 0 };
    let page_size = db.u32_at(data, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() || data.len() < page_size {
        return Err(format!("implausible page size {page_size}"));
    }
    if data[25] != PAGE_HASH_META {
        return Err("a Berkeley DB file, but not a hash database".to_string());
    }
    let last = db.u32_at(data, 32).unwrap_or(0) as usize;
    db.page_size = page_size;
    db.pages = (data.len() / page_size).min(last.saturating_add(1));

    let mut out = Blobs::default();
    for no in 1..db.pages {
        let page = &data[no * page_size..(no + 1) * page_size];
        if page[25] != PAGE_HASH && page[25] != PAGE_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16_at(page, 20).unwrap_or(0);
        let offsets: Vec<usize> = (0..entries)
            .map_while(|i| db.u16_at(page, PAGE_HEADER + 2 * i))
            .filter(|o| *o < page_size)
            .collect();
        let item = |i: usize| {
            let end = if i == 0 { page_size } else { offsets[i - 1].max(offsets[i]) };
            &page[offsets[i]..end]
        };
        for pair in (0..offsets.len() / 2).map(|p| 2 * p) {
            let key = item(pair);
            if key.first() == Some(&ITEM_KEYDATA) && key.get(1..).is_some_and(|k| k.iter().all(|b| *b == 0)) {
                continue;
            }
            let value = item(pair + 1);
            match value.first() {
                Some(&ITEM_KEYDATA) => out.blobs.push(value[1..].to_vec()),
                Some(&ITEM_OFFPAGE) => {
                    let (Some(first), Some(total)) = (db.u32_at(value, 4), db.u32_at(value, 8)) else {
                        out.lost.push(format!("page {no}: off-page item cut short"));
                        continue;
                    };
                    match db.overflow(first, total as usize) {
                        Ok(blob) => out.blobs.push(blob),
                        Err(e) => out.lost.push(e),
                    }
                }
                _ => out.lost.push(format!("page {no}: value of unknown item type")),
            }
        }
    }
    Ok(out)
}
