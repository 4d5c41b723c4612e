//! The dependency list `cargo auditable` embeds in Rust executables.
//!
//! Format facts used (cargo-auditable's `.dep-v0` data, format 0/1):
//! - An ELF or PE section named `.dep-v0` holds zlib-compressed JSON.
//! - The JSON is `{"packages": [{"name", "version", "source", "kind",
//!   "dependencies": [index, …], "root": true}, …]}`; `kind` is `runtime`
//!   when absent and `build` for build-only dependencies (build scripts
//!   and proc macros, not linked into the program); `root` marks the crate
//!   the binary was built from.
//!
//! Packages: the runtime crates whose `source` is `crates.io`, root
//! included when it came from crates.io (`cargo auditable install`). Trivy
//! also lists local, git and other-registry crates, but they are not the
//! crates.io crates advisories name, and matching them by name would
//! report a local crate called `time` as the vulnerable crates.io one.
//! Mach-O executables (section `__DATA,.dep-v0`) are not read yet.

use std::io::Read as _;

use rampart_types::{Ecosystem, Package};
use serde::Deserialize;

use crate::{CatalogError, Input, Parsed};

const SECTION: &[u8] = b".dep-v0";
/// The largest dependency list accepted once decompressed: a few thousand
/// crates take well under a megabyte.
const MAX_JSON: u64 = 16 * 1024 * 1024;

#[derive(Deserialize)]
struct Info {
    packages: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, CatalogError> {
    let Some(compressed) = elf_section(input.content, SECTION).or_else(|| pe_section(input.content, SECTION))
    else {
        return Ok(Parsed::default());
    };
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| CatalogError::malformed(input, None, format!(".dep-v0: not zlib data: {e}")))?;
    if json.len() as u64 > MAX_JSON {
        return Err(CatalogError::malformed(
            input,
            None,
            format!(".dep-v0: decompresses to more than {MAX_JSON} bytes; refused"),
        ));
    }
    let info: Info = serde_json::from_slice(&json)
        .map_err(|e| CatalogError::malformed(input, None, format!(".dep-v0: {e}")))?;
    let runtime = |e: &Entry| e.kind.as_deref().is_none_or(|k| k == "runtime");
    let direct: Vec<usize> =
        info.packages.iter().filter(|e| e.root).flat_map(|e| e.dependencies.iter().copied()).collect();
    let packages = info
        .packages
        .iter()
        .enumerate()
        .filter(|(_, e)| runtime(e) && e.source == "crates.io" && !e.name.is_empty() && !e.version.is_empty())
        .map(|(i, e)| {
            let mut p = Package::new(Ecosystem::CratesIo, e.name.as_str(), e.version.as_str());
            p.indirect = !e.root && !direct.contains(&i);
            p
        })
        .collect();
    Ok(Parsed { packages, warnings: Vec::new() })
}

/// The content of the ELF section called `name`, from the section headers
/// and their name table; `None` for anything else or anything out of bounds.
fn elf_section<'a>(data: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    if !data.starts_with(b"\x7fELF") {
        return None;
    }
    let wide = *data.get(4)? == 2;
    let big = *data.get(5)? == 2;
    let field = |at: usize, len: usize| -> Option<u64> {
        let b = data.get(at..at.checked_add(len)?)?;
        let fold = |acc: u64, x: &u8| (acc << 8) | u64::from(*x);
        Some(if big { b.iter().fold(0, fold) } else { b.iter().rev().fold(0, fold) })
    };
    let to_usize = |v: u64| usize::try_from(v).ok();
    let (shoff, entsize, count, strndx) = if wide {
        (field(0x28, 8)?, field(0x3a, 2)?, field(0x3c, 2)?, field(0x3e, 2)?)
    } else {
        (field(0x20, 4)?, field(0x2e, 2)?, field(0x30, 2)?, field(0x32, 2)?)
    };
    let (shoff, entsize) = (to_usize(shoff)?, to_usize(entsize)?);
    // (name offset, file offset, size) of section `i`.
    let header = |i: u64| -> Option<(u64, u64, u64)> {
        let at = shoff.checked_add(to_usize(i)?.checked_mul(entsize)?)?;
        if wide {
            Some((field(at, 4)?, field(at + 24, 8)?, field(at + 32, 8)?))
        } else {
            Some((field(at, 4)?, field(at + 16, 4)?, field(at + 20, 4)?))
        }
    };
    let bytes = |offset: u64, size: u64| -> Option<&'a [u8]> {
        let start = to_usize(offset)?;
        data.get(start..start.checked_add(to_usize(size)?)?)
    };
    let (_, names_at, names_size) = header(strndx)?;
    let names = bytes(names_at, names_size)?;
    (0..count).find_map(|i| {
        let (name_at, offset, size) = header(i)?;
        let rest = names.get(to_usize(name_at)?..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        (&rest[..end] == name).then(|| bytes(offset, size)).flatten()
    })
}

/// The raw data of the PE section called `name` (at most 8 bytes, as the
/// section table stores names inline); `None` for anything else.
fn pe_section<'a>(data: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    if !data.starts_with(b"MZ") {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(data.get(at..at.checked_add(2)?)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?));
    let pe = usize::try_from(u32_at(0x3c)?).ok()?;
    if data.get(pe..pe.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let coff = pe + 4;
    let count = usize::from(u16_at(coff + 2)?);
    let table = coff + 20 + usize::from(u16_at(coff + 16)?);
    (0..count).find_map(|i| {
        let at = table.checked_add(i.checked_mul(40)?)?;
        let raw_name = data.get(at..at.checked_add(8)?)?;
        let end = raw_name.iter().position(|b| *b == 0).unwrap_or(8);
        if &raw_name[..end] != name {
            return None;
        }
        let (virtual_size, raw_size, offset) = (u32_at(at + 8)?, u32_at(at + 16)?, u32_at(at + 20)?);
        // The raw size is padded to the file alignment; the virtual size is exact.
        let size = if virtual_size > 0 { virtual_size.min(raw_size) } else { raw_size };
        let start = usize::try_from(offset).ok()?;
        data.get(start..start.checked_add(usize::try_from(size).ok()?)?)
    })
}
