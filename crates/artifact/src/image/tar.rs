//! A minimal streaming tar reader: ustar, GNU long names and PAX headers.
//!
//! Layers are read once, front to back; entry data the caller does not want
//! is skipped without copying. An archive may end at a header boundary
//! without the two zero blocks (`umoci insert` writes such layers).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

const BLOCK: u64 = 512;
/// GNU long names and PAX headers are metadata: more than this is an attack.
const MAX_EXTENDED_HEADER: u64 = 1024 * 1024;

/// A byte source a tar can be read from, which knows how to skip cheaply.
pub(crate) trait TarInput: BufRead {
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// A stream (a decompressed layer): skipping consumes the buffer.
impl<R: Read> TarInput for BufReader<R> {
    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let available = self.fill_buf()?.len();
            if available == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let step = available.min(usize::try_from(n).unwrap_or(usize::MAX));
            self.consume(step);
            n -= step as u64;
        }
        Ok(())
    }
}

/// A file on disk: skipping seeks, so indexing an archive reads only headers.
pub(crate) struct SeekInput {
    pub(crate) inner: BufReader<File>,
}

impl Read for SeekInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl BufRead for SeekInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

impl TarInput for SeekInput {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        self.inner.seek_relative(n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    HardLink,
    Symlink,
    Dir,
    /// Devices, FIFOs, sparse files: present in the tree, content not readable.
    Other,
}

#[derive(Debug)]
pub(crate) struct Entry {
    /// The raw member name (PAX and GNU long names applied), not normalized.
    pub(crate) path: Vec<u8>,
    pub(crate) link: Vec<u8>,
    pub(crate) kind: Kind,
    pub(crate) mode: u32,
    /// Bytes of data that follow the header.
    pub(crate) size: u64,
    /// Offset of the data from the start of the archive.
    pub(crate) offset: u64,
}

/// Why a tar could not be read.
#[derive(Debug)]
pub(crate) enum TarError {
    Io(io::Error),
    Malformed { offset: u64, reason: &'static str },
}

impl From<io::Error> for TarError {
    fn from(e: io::Error) -> Self {
        TarError::Io(e)
    }
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TarError::Io(e) => e.fmt(f),
            TarError::Malformed { offset, reason } => write!(f, "malformed tar at byte {offset}: {reason}"),
        }
    }
}

pub(crate) struct TarReader<R> {
    input: R,
    /// Bytes consumed from `input` so far.
    pos: u64,
    /// Data (with padding) of the current entry not yet consumed.
    pending: u64,
    done: bool,
}

impl<R: TarInput> TarReader<R> {
    pub(crate) fn new(input: R) -> Self {
        TarReader { input, pos: 0, pending: 0, done: false }
    }

    /// The next entry, or `None` at the end of the archive.
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        self.skip_pending()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_link: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            if self.done {
                return Ok(None);
            }
            let header_at = self.pos;
            let Some(block) = self.read_header_block()? else {
                self.done = true;
                return Ok(None);
            };
            let malformed = |reason| TarError::Malformed { offset: header_at, reason };
            if block.iter().all(|&b| b == 0) {
                self.done = true;
                return Ok(None);
            }
            if !checksum_ok(&block) {
                return Err(malformed("header checksum mismatch"));
            }
            let typeflag = block[156];
            let mut size = parse_number(&block[124..136]).ok_or_else(|| malformed("invalid size field"))?;
            if let Some(s) = pax_size.filter(|_| !is_extension(typeflag)) {
                size = s;
            }
            let data_offset = self.pos;
            match typeflag {
                b'L' | b'K' | b'x' | b'g' => {
                    if size > MAX_EXTENDED_HEADER {
                        return Err(malformed("extended header too large"));
                    }
                    let data = self.read_data(size)?;
                    match typeflag {
                        b'L' => long_name = Some(cut_nul(&data).to_vec()),
                        b'K' => long_link = Some(cut_nul(&data).to_vec()),
                        b'x' => {
                            for (key, value) in
                                parse_pax(&data).ok_or_else(|| malformed("invalid PAX header"))?
                            {
                                match key {
                                    b"path" => pax_path = Some(value.to_vec()),
                                    b"linkpath" => pax_link = Some(value.to_vec()),
                                    b"size" => {
                                        let s = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                                        pax_size = Some(s.ok_or_else(|| malformed("invalid PAX size"))?);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        // Global PAX headers carry defaults no image tool relies on.
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            let kind = match typeflag {
                b'0' | 0 | b'7' => Kind::File,
                b'1' => Kind::HardLink,
                b'2' => Kind::Symlink,
                b'5' | b'D' => Kind::Dir,
                _ => Kind::Other,
            };
            // Links, directories and devices carry no data whatever their size field says.
            let data_size = match typeflag {
                b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => 0,
                _ => size,
            };
            let path = match (pax_path, long_name) {
                (Some(p), _) | (None, Some(p)) => p,
                (None, None) => ustar_name(&block),
            };
            let link = pax_link.or(long_link).unwrap_or_else(|| cut_nul(&block[157..257]).to_vec());
            let mode = parse_number(&block[100..108]).unwrap_or(0o644) as u32 & 0o7777;
            self.pending =
                data_size.checked_next_multiple_of(BLOCK).ok_or_else(|| malformed("size too large"))?;
            return Ok(Some(Entry { path, link, kind, mode, size: data_size, offset: data_offset }));
        }
    }

    /// Reads the current entry's data (after `next_entry`), up to its size.
    /// `size` must be bounded by the caller: it is reserved up front.
    pub(crate) fn read_data_to(&mut self, out: &mut Vec<u8>, size: u64) -> Result<(), TarError> {
        out.clear();
        out.reserve(usize::try_from(size).unwrap_or(0));
        let n = (&mut self.input).take(size).read_to_end(out)?;
        if (n as u64) < size {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        self.pos += size;
        self.pending -= size;
        Ok(())
    }

    /// Everything after the end-of-archive marker, so the caller can finish
    /// hashing the stream.
    pub(crate) fn into_input(mut self) -> Result<R, TarError> {
        self.skip_pending()?;
        Ok(self.input)
    }

    fn skip_pending(&mut self) -> Result<(), TarError> {
        if self.pending > 0 {
            self.input.skip(self.pending)?;
            self.pos += self.pending;
            self.pending = 0;
        }
        Ok(())
    }

    /// One header block; `None` on a clean end of stream at a block boundary.
    fn read_header_block(&mut self) -> Result<Option<[u8; 512]>, TarError> {
        let mut block = [0u8; 512];
        let mut filled = 0;
        while filled < block.len() {
            match self.input.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.pos += filled as u64;
        match filled {
            0 => Ok(None),
            512 => Ok(Some(block)),
            _ => Err(TarError::Malformed { offset: self.pos, reason: "truncated header" }),
        }
    }

    /// An extended header's data (`size` is at most `MAX_EXTENDED_HEADER`).
    fn read_data(&mut self, size: u64) -> Result<Vec<u8>, TarError> {
        let mut data = Vec::new();
        self.pending = size.div_ceil(BLOCK) * BLOCK;
        self.read_data_to(&mut data, size)?;
        self.skip_pending()?;
        Ok(data)
    }
}

fn is_extension(typeflag: u8) -> bool {
    matches!(typeflag, b'L' | b'K' | b'x' | b'g')
}

fn cut_nul(field: &[u8]) -> &[u8] {
    field.iter().position(|&b| b == 0).map_or(field, |i| &field[..i])
}

/// The name field, with the POSIX ustar prefix (GNU tar uses that area for
/// other things, so only the `ustar\0` magic enables it).
fn ustar_name(block: &[u8; 512]) -> Vec<u8> {
    let name = cut_nul(&block[0..100]);
    if &block[257..263] == b"ustar\0" {
        let prefix = cut_nul(&block[345..500]);
        if !prefix.is_empty() {
            let mut full = Vec::with_capacity(prefix.len() + 1 + name.len());
            full.extend_from_slice(prefix);
            full.push(b'/');
            full.extend_from_slice(name);
            return full;
        }
    }
    name.to_vec()
}

fn checksum_ok(block: &[u8; 512]) -> bool {
    let Some(stored) = parse_octal(&block[148..156]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// An octal field, or GNU base-256 when the high bit of the first byte is set.
fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut value: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    parse_octal(field)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let field = cut_nul(field);
    let digits = field.iter().skip_while(|&&b| b == b' ').take_while(|&&b| b != b' ');
    let mut value = 0u64;
    let mut any = false;
    for &b in digits {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    // An all-blank field is zero, as GNU tar writes for unused fields.
    Some(if any { value } else { 0 })
}

/// `"<len> <key>=<value>\n"` records.
fn parse_pax(mut data: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut records = Vec::new();
    while !data.is_empty() {
        if data.iter().all(|&b| b == 0) {
            break;
        }
        let space = data.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return None;
        }
        let record = &data[space + 1..len - 1];
        let eq = record.iter().position(|&b| b == b'=')?;
        records.push((&record[..eq], &record[eq + 1..]));
        data = &data[len..];
    }
    Some(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_octal_and_base256() {
        assert_eq!(parse_number(b"0000644\0"), Some(0o644));
        assert_eq!(parse_number(b"  17 \0\0\0"), Some(0o17));
        assert_eq!(parse_number(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse_number(&[0x80, 0, 0, 0, 0, 0, 0x01, 0x00]), Some(256));
        assert_eq!(parse_number(b"0009"), None);
    }

    fn header(name: &str, size_field: &[u8; 12], typeflag: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(size_field);
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn entries(bytes: &[u8]) -> Result<Vec<(String, u64)>, TarError> {
        let mut tar = TarReader::new(BufReader::new(bytes));
        let mut out = Vec::new();
        while let Some(e) = tar.next_entry()? {
            out.push((String::from_utf8_lossy(&e.path).into_owned(), e.size));
        }
        Ok(out)
    }

    #[test]
    fn archives_without_end_blocks_and_long_names() {
        let mut t = header("a", b"00000000003\0", b'0').to_vec();
        t.extend_from_slice(b"abc");
        t.resize(1024, 0);
        let long = "d/".repeat(80) + "file";
        let mut l =
            header("././@LongLink", format!("{:011o}\0", long.len()).as_bytes().try_into().unwrap(), b'L')
                .to_vec();
        l.extend_from_slice(long.as_bytes());
        l.resize(l.len().div_ceil(512) * 512, 0);
        t.extend_from_slice(&l);
        t.extend_from_slice(&header("named-by-the-long-link", b"00000000000\0", b'0'));
        assert_eq!(entries(&t).unwrap(), [("a".to_string(), 3), (long, 0)]);
    }

    #[test]
    fn malformed_archives_are_errors_not_panics() {
        let mut bad_sum = header("a", b"00000000000\0", b'0');
        bad_sum[0] = b'b';
        assert!(matches!(
            entries(&bad_sum),
            Err(TarError::Malformed { reason: "header checksum mismatch", .. })
        ));
        let huge = header("a", &[0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], b'0');
        assert!(matches!(entries(&huge), Err(TarError::Malformed { reason: "size too large", .. })));
        let mut short = header("a", b"00000001000\0", b'0').to_vec();
        short.extend_from_slice(&[1; 100]);
        let mut tar = TarReader::new(BufReader::new(&short[..]));
        let e = tar.next_entry().unwrap().unwrap();
        assert!(matches!(tar.read_data_to(&mut Vec::new(), e.size), Err(TarError::Io(_))));
        assert!(matches!(
            entries(&short[..300]),
            Err(TarError::Malformed { reason: "truncated header", .. })
        ));
    }

    #[test]
    fn pax_records() {
        let data = b"29 path=a/very/long/name.txt\n16 linkpath=x/y\n";
        let recs = parse_pax(data).unwrap();
        assert_eq!(recs, vec![(&b"path"[..], &b"a/very/long/name.txt"[..]), (&b"linkpath"[..], &b"x/y"[..])]);
        assert!(parse_pax(b"99 path=x\n").is_none());
    }
}
