//! The build information the Go linker writes into every module-mode
//! binary (what `go version -m` prints): the toolchain, the main module
//! and every module linked in.
//!
//! Format facts used (Go's `debug/buildinfo`):
//! - A 32-byte header, 16-byte aligned in the file: the magic
//!   `\xff Go buildinf:`, the pointer size at 14 and flags at 15.
//! - Flags bit 2 (Go 1.18+): two strings follow the header, each a uvarint
//!   length and the bytes: the Go version, then the module info.
//! - Otherwise two pointers at 16 and 16 + pointer size (byte order from
//!   flags bit 1) give the virtual addresses of two Go string headers
//!   (data pointer, length); they are mapped to file offsets through the
//!   ELF program headers. Older Mach-O and PE binaries are not read.
//! - The module info is wrapped in two 16-byte sentinels, then holds
//!   tab-separated lines: `mod path version sum` (main module), `dep path
//!   version sum`, `=> path version sum` (replaces the dep above it).
//!
//! Packages: each dependency (as replaced), the main module unless it is
//! `(devel)`, and the toolchain as `stdlib` versioned the way the Go
//! vulnerability database spells Go releases (`1.19.8`, `1.22.0-rc.1`).

use rampart_types::{Diagnostic, Ecosystem, Package};

use crate::{Input, Parsed};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER: usize = 32;
const ALIGN: usize = 16;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;

pub(super) fn parse(input: &Input<'_>) -> Result<Parsed, crate::CatalogError> {
    let mut out = Parsed::default();
    let Some((go_version, modinfo)) = build_info(input.content) else {
        return Ok(out);
    };
    let mut deps: Vec<(String, String)> = Vec::new();
    for line in modinfo.lines() {
        let words: Vec<&str> = line.split('\t').collect();
        match words.as_slice() {
            ["mod", path, version, ..] if *version != "(devel)" && !version.is_empty() => {
                out.packages.push(Package::new(Ecosystem::Go, *path, *version));
            }
            ["dep", path, version, ..] => deps.push((path.to_string(), version.to_string())),
            ["=>", path, version, ..] => match deps.last_mut() {
                Some(last) => *last = (path.to_string(), version.to_string()),
                None => out.warnings.push(Diagnostic::new(input.display, "build info replaces no module")),
            },
            _ => {}
        }
    }
    out.packages.extend(deps.into_iter().map(|(path, version)| Package::new(Ecosystem::Go, path, version)));
    match stdlib_version(&go_version) {
        Some(v) => out.packages.push(Package::new(Ecosystem::Go, "stdlib", v)),
        None => {
            out.warnings.push(Diagnostic::new(input.display, format!("unreadable Go version {go_version:?}")))
        }
    }
    Ok(out)
}

/// A binary has one header; the magic may also occur in its data (the Go
/// tool links `debug/buildinfo`). Trying a few bounds the work a file full
/// of magics can cause.
const MAX_CANDIDATES: usize = 8;

/// The Go version and module info of the first readable header.
fn build_info(data: &[u8]) -> Option<(String, String)> {
    (0..data.len().saturating_sub(HEADER))
        .step_by(ALIGN)
        .filter(|at| data[*at] == MAGIC[0] && data[*at..].starts_with(MAGIC))
        .take(MAX_CANDIDATES)
        .find_map(|at| read_header(data, at))
}

fn read_header(data: &[u8], at: usize) -> Option<(String, String)> {
    let header = data.get(at..at + HEADER)?;
    let (ptr_size, flags) = (usize::from(header[14]), header[15]);
    let (version, modinfo) = if flags & FLAG_INLINE != 0 {
        let mut pos = at + HEADER;
        (varstring(data, &mut pos)?, varstring(data, &mut pos)?)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return None;
        }
        let elf = Elf::parse(data)?;
        let big = flags & FLAG_BIG_ENDIAN != 0;
        let version = elf.go_string(uint(header.get(16..16 + ptr_size)?, big), ptr_size, big)?;
        let modinfo =
            elf.go_string(uint(header.get(16 + ptr_size..16 + 2 * ptr_size)?, big), ptr_size, big)?;
        (version, modinfo)
    };
    let modinfo = strip_sentinels(modinfo);
    Some((String::from_utf8_lossy(version).into_owned(), String::from_utf8_lossy(modinfo).into_owned()))
}

fn strip_sentinels(m: &[u8]) -> &[u8] {
    if m.len() >= 33 && m[m.len() - 17] == b'\n' { &m[16..m.len() - 16] } else { m }
}

/// A uvarint-prefixed string at `pos`, advancing past it.
fn varstring<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let mut len = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *data.get(*pos)?;
        *pos += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let len = usize::try_from(len).ok()?;
            let s = data.get(*pos..pos.checked_add(len)?)?;
            *pos += len;
            return Some(s);
        }
    }
    None
}

fn uint(b: &[u8], big: bool) -> u64 {
    let fold = |acc: u64, x: &u8| (acc << 8) | u64::from(*x);
    if big { b.iter().fold(0, fold) } else { b.iter().rev().fold(0, fold) }
}

/// The loadable segments of an ELF file, to find what a virtual address
/// points at.
struct Elf<'a> {
    data: &'a [u8],
    /// (virtual address, file offset, size in the file)
    segments: Vec<(u64, u64, u64)>,
}

impl<'a> Elf<'a> {
    fn parse(data: &'a [u8]) -> Option<Elf<'a>> {
        if !data.starts_with(b"\x7fELF") {
            return None;
        }
        let wide = *data.get(4)? == 2;
        let big = *data.get(5)? == 2;
        let field = |at: usize, len: usize| data.get(at..at + len).map(|b| uint(b, big));
        let (phoff, entsize, count) = if wide {
            (field(0x20, 8)?, field(0x36, 2)?, field(0x38, 2)?)
        } else {
            (field(0x1c, 4)?, field(0x2a, 2)?, field(0x2c, 2)?)
        };
        let mut segments = Vec::new();
        for i in 0..count {
            let at = usize::try_from(phoff.checked_add(i.checked_mul(entsize)?)?).ok()?;
            if at >= data.len() {
                return None;
            }
            let segment = if wide {
                (field(at, 4)?, field(at + 16, 8)?, field(at + 8, 8)?, field(at + 32, 8)?)
            } else {
                (field(at, 4)?, field(at + 8, 4)?, field(at + 4, 4)?, field(at + 16, 4)?)
            };
            const PT_LOAD: u64 = 1;
            if segment.0 == PT_LOAD {
                segments.push((segment.1, segment.2, segment.3));
            }
        }
        Some(Elf { data, segments })
    }

    fn bytes(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let (vaddr, offset, size) = self.segments.iter().find(|(v, _, s)| addr >= *v && addr - *v < *s)?;
        let within = addr - vaddr;
        if len > size - within {
            return None;
        }
        let start = usize::try_from(offset.checked_add(within)?).ok()?;
        self.data.get(start..start.checked_add(usize::try_from(len).ok()?)?)
    }

    /// The bytes of the Go string whose header (pointer, length) is at `addr`.
    fn go_string(&self, addr: u64, ptr_size: usize, big: bool) -> Option<&'a [u8]> {
        let header = self.bytes(addr, 2 * ptr_size as u64)?;
        let data = uint(&header[..ptr_size], big);
        let len = uint(&header[ptr_size..], big);
        self.bytes(data, len)
    }
}

/// A Go release as semver: `go1.19.8` → `1.19.8`, `go1.21` → `1.21.0`,
/// `go1.22rc1` → `1.22.0-rc.1`; anything after a space (`X:boringcrypto`)
/// or a build suffix is dropped. `None` for `devel` toolchains.
fn stdlib_version(go: &str) -> Option<String> {
    crate::gomod::stdlib_version(go.split_whitespace().next()?.strip_prefix("go")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_releases_as_semver() {
        assert_eq!(stdlib_version("go1.19.8").as_deref(), Some("1.19.8"));
        assert_eq!(stdlib_version("go1.21").as_deref(), Some("1.21.0"));
        assert_eq!(stdlib_version("go1.22rc1").as_deref(), Some("1.22.0-rc.1"));
        assert_eq!(stdlib_version("go1.20.1 X:boringcrypto").as_deref(), Some("1.20.1"));
        assert_eq!(stdlib_version("devel go1.23-abc"), None);
    }

    #[test]
    fn inline_header_and_sentinels() {
        let mut modinfo = vec![0xAAu8; 16];
        modinfo.extend_from_slice(
            b"path\tex/a\nmod\tex/a\tv1.2.3\t\ndep\tex/b\tv0.1.0\th1:x\n=>\tex/c\tv0.2.0\t\n",
        );
        modinfo.extend_from_slice(&[0xBB; 16]);
        let mut bin = vec![0u8; 48];
        bin.extend_from_slice(MAGIC);
        bin.extend_from_slice(&[8, FLAG_INLINE]);
        bin.extend_from_slice(&[0; 16]);
        bin.push(8);
        bin.extend_from_slice(b"go1.22.1");
        bin.push(u8::try_from(modinfo.len()).unwrap());
        bin.extend_from_slice(&modinfo);
        let input = Input { path: std::path::Path::new("bin"), display: "bin", content: &bin };
        let parsed = parse(&input).unwrap();
        let ids: Vec<String> = parsed.packages.iter().map(Package::id).collect();
        assert_eq!(ids, ["ex/a@v1.2.3", "ex/c@v0.2.0", "stdlib@1.22.1"]);
        assert!(parsed.warnings.is_empty());
    }
}
