//! rpm's "ndb" package file (`Packages.db`, SUSE since 15), as rpm's
//! `backend/ndb/rpmpkg.c` writes it; all fields little-endian u32:
//! - File header: magic `RpmP` at 0, version 0 at 4, slot page count at 12.
//! - Slot pages (4096 bytes each) from the start of the file hold 16-byte
//!   slots after the 32-byte header: magic `Slot`, package index (0: free),
//!   block offset, block count. Blocks are 16 bytes.
//! - At `block offset * 16` a blob: magic `BlbS`, package index, generation,
//!   length, then the header blob.

use super::Blobs;

const SLOT_PAGE: usize = 4096;
const BLOCK: usize = 16;

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn blobs(data: &[u8]) -> Result<Blobs, String> {
    if data.get(..4) != Some(b"RpmP") {
        return Err("not an rpm ndb package file".to_string());
    }
    if le32(data, 4) != Some(0) {
        return Err("unknown ndb version".to_string());
    }
    let slot_pages = le32(data, 12).unwrap_or(0) as usize;
    let slots_end = slot_pages.saturating_mul(SLOT_PAGE).min(data.len());
    let mut out = Blobs::default();
    for at in (32..slots_end).step_by(16) {
        if data.get(at..at + 4) != Some(b"Slot") {
            continue;
        }
        let (Some(idx), Some(offset), Some(count)) =
            (le32(data, at + 4), le32(data, at + 8), le32(data, at + 12))
        else {
            continue;
        };
        if idx == 0 {
            continue;
        }
        let start = (offset as usize).saturating_mul(BLOCK);
        let room = (count as usize).saturating_mul(BLOCK).saturating_sub(16);
        let blob = data
            .get(start..start.saturating_add(16))
            .filter(|h| &h[..4] == b"BlbS" && le32(h, 4) == Some(idx))
            .and_then(|h| le32(h, 12))
            .map(|len| len as usize)
            .filter(|len| *len <= room)
            .and_then(|len| data.get(start + 16..start + 16 + len));
        match blob {
            Some(b) => out.blobs.push(b.to_vec()),
            None => out.lost.push(format!("package {idx}: no valid blob at block {offset}")),
        }
    }
    Ok(out)
}
