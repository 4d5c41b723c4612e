//! Helpers the format parsers share.
//!
//! Each of these first grew inside the parser that needed it (`npm`,
//! `python`); they live here so that no format module depends on another
//! format's module for generic plumbing. Format-specific helpers stay with
//! their format.
//!
//! - [`Collector`]: merges repeated packages.
//! - [`Text`], [`Lenient`], [`Ordered`]: borrowing, order-keeping
//!   deserialization.
//! - Line numbers: [`LineIndex`] maps byte offsets; for JSON, [`json_offset`]
//!   locates a borrowed [`RawValue`] and [`json_spans`] finds values by path.
//! - Errors: [`json_error`], [`toml_error`].
//! - Other files: [`read_neighbour`] (bounded, regular files only) and
//!   [`read_sibling`] (a manifest beside the lockfile).
//! - [`split_name_at`]: the `name@rest` syntax of the npm family.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io::{self, Read};
use std::marker::PhantomData;
use std::path::Path;

use rampart_types::{Diagnostic, Location, Package};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::{CatalogError, Input};

/// A `serde_json` error as a `Malformed` error at its line.
pub(crate) fn json_error(input: &Input<'_>, e: &serde_json::Error) -> CatalogError {
    CatalogError::malformed(input, json_error_line(e), format!("invalid JSON: {e}"))
}

/// The line a `serde_json` error points at; it says 0 when it has none.
fn json_error_line(e: &serde_json::Error) -> Option<u32> {
    u32::try_from(e.line()).ok().filter(|l| *l > 0)
}

/// A `toml` error as a `Malformed` error at the line its span starts on.
pub(crate) fn toml_error(input: &Input<'_>, text: &str, e: &toml::de::Error) -> CatalogError {
    let line = e.span().map(|s| LineIndex::new(text).line(s.start));
    CatalogError::malformed(input, line, format!("invalid TOML: {}", e.message().trim_end()))
}

/// Splits `name@rest`, where a scoped name (`@scope/name`) begins with `@`:
/// the spelling of npm, yarn and pnpm specs, aliases and keys.
pub(crate) fn split_name_at(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some((&spec[..at], &spec[at + 1..]))
}

/// Gathers packages, merging repeats of one `name@version`: the merged copy is
/// dev or indirect only if every copy is, and keeps every location.
#[derive(Default)]
pub(crate) struct Collector {
    /// Compare names as the package's ecosystem does (PEP 503 for PyPI,
    /// case-insensitively for NuGet) instead of byte for byte.
    normalize: bool,
    seen: HashMap<(String, String), usize>,
    packages: Vec<Package>,
}

impl Collector {
    /// A collector for formats whose names are not canonical: repeats that
    /// differ only in spelling (`Six` and `six`) merge, the first spelling kept.
    pub(crate) fn by_normalized_name() -> Self {
        Collector { normalize: true, ..Collector::default() }
    }

    pub(crate) fn add(&mut self, pkg: Package) {
        let name = if self.normalize { pkg.ecosystem.normalize_name(&pkg.name) } else { pkg.name.clone() };
        match self.seen.entry((name, pkg.version.clone())) {
            Entry::Occupied(e) => {
                let kept = &mut self.packages[*e.get()];
                kept.dev &= pkg.dev;
                kept.indirect &= pkg.indirect;
                kept.locations.extend(pkg.locations);
                if kept.licenses.is_empty() {
                    kept.licenses = pkg.licenses;
                }
            }
            Entry::Vacant(e) => {
                e.insert(self.packages.len());
                self.packages.push(pkg);
            }
        }
    }

    /// The packages in first-seen order, locations sorted (once, here: a
    /// package copied thousands of times must not be re-sorted per copy).
    pub(crate) fn finish(mut self) -> Vec<Package> {
        for p in &mut self.packages {
            p.locations.sort_unstable();
            p.locations.dedup();
        }
        self.packages
    }
}

/// A string value, borrowed from the input when it has no escapes. Numbers
/// and booleans are taken as their text (YAML writes `version: 1.0` unquoted).
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// A value that is kept only when it is a string; anything else (an old
/// `{"type": …}` license object, a list) is skipped instead of failing the file.
pub(crate) struct Lenient<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Cow<'de, str>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(V).map(Lenient)
    }
}

/// A map kept as a list in document order, so entries line up with the spans
/// [`json_spans`] reports and output order is stable.
pub(crate) struct Ordered<'a, T>(pub(crate) Vec<(Cow<'a, str>, T)>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Ordered<'a, T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Ordered<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    entries.push((key.0, map.next_value()?));
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

impl Step<'_> {
    pub(crate) fn is_key(&self, name: &str) -> bool {
        matches!(self, Step::Key(k) if k == name)
    }
}

/// The line ranges of the values whose path `want` accepts, in document
/// order (a member starts at its key's line). serde_json keeps no positions,
/// so this re-walks the text; call it on text serde_json has accepted. It
/// stops quietly at anything that is not JSON.
///
/// Use it when values are deserialized straight into typed structs (through
/// [`Ordered`], so the n-th entry owns the n-th span): it gives whole ranges
/// and reaches nested entries. Pair spans with entries only when the counts
/// match, since a duplicate key or a scan stopped early shifts them. For
/// values held as `&RawValue`, [`json_offset`] is exact and cheaper.
pub(crate) fn json_spans<'a>(
    text: &'a str,
    want: impl Fn(&[Step<'a>]) -> bool,
) -> Vec<(Vec<Step<'a>>, Location)> {
    let mut scan = JsonScan { text, pos: 0, line: 1, path: Vec::new(), want, out: Vec::new() };
    scan.value(0);
    scan.out
}

/// serde_json refuses nesting beyond 128; stop well before the stack matters.
const MAX_JSON_DEPTH: usize = 256;

struct JsonScan<'a, F> {
    text: &'a str,
    pos: usize,
    line: u32,
    path: Vec<Step<'a>>,
    want: F,
    out: Vec<(Vec<Step<'a>>, Location)>,
}

impl<'a, F: Fn(&[Step<'a>]) -> bool> JsonScan<'a, F> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// At an opening quote: the raw contents, escapes undecoded.
    fn string(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return self.text.get(start..i);
                }
                b'\\' => i += 2,
                b'\n' => {
                    self.line += 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// A value at the current path, recorded if wanted, starting at `start`.
    fn member(&mut self, depth: usize, start: u32) -> Option<()> {
        let slot = (self.want)(&self.path).then(|| {
            self.out.push((self.path.clone(), Location { start_line: start, end_line: start }));
            self.out.len() - 1
        });
        self.value(depth)?;
        if let Some(i) = slot {
            self.out[i].1.end_line = self.line;
        }
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let start = self.line;
                    let raw = self.string()?;
                    let key = if raw.contains('\\') {
                        Cow::Owned(
                            serde_json::from_str::<String>(
                                self.text.get(self.pos - raw.len() - 2..self.pos)?,
                            )
                            .ok()?,
                        )
                    } else {
                        Cow::Borrowed(raw)
                    };
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.path.push(Step::Key(key));
                    self.member(depth + 1, start)?;
                    self.path.pop();
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(());
                }
                let mut index = 0;
                loop {
                    self.skip_ws();
                    self.path.push(Step::Index(index));
                    let start = self.line;
                    self.member(depth + 1, start)?;
                    self.path.pop();
                    index += 1;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(drop),
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

/// Where a borrowed JSON value starts in the document it was parsed from, as
/// a byte offset for [`LineIndex`].
///
/// Use it when the parser holds entries as `&RawValue` anyway (to read each
/// one on its own, so one bad entry costs only itself): the position is
/// exact, needs no second pass over the text, and does not depend on the
/// order or uniqueness of keys. For values deserialized straight into typed
/// structs, which keep no position, use [`json_spans`] instead.
pub(crate) fn json_offset(text: &str, raw: &RawValue) -> usize {
    (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len())
}

/// Byte offset → 1-based line number, by binary search over line starts.
/// Offsets may come in any order; one past the end is on the last line.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> u32 {
        u32::try_from(self.starts.partition_point(|&s| s <= offset)).unwrap_or(u32::MAX)
    }
}

/// The most a file read on behalf of the scanned one (an include, a parent
/// POM, a manifest beside a lockfile) may hold.
const MAX_NEIGHBOUR_BYTES: u64 = 32 * 1024 * 1024;

/// Reads a file the scanned one leads to: only a regular file (opening a FIFO
/// would block the scan), and at most [`MAX_NEIGHBOUR_BYTES`] of it.
pub(crate) fn read_neighbour(path: &Path) -> io::Result<Vec<u8>> {
    // Checked before opening, for the FIFO's sake.
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_NEIGHBOUR_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_NEIGHBOUR_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {MAX_NEIGHBOUR_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read_neighbour`] for a text file: UTF-8, a leading BOM dropped.
pub(crate) fn read_neighbour_text(path: &Path) -> io::Result<String> {
    let mut bytes = read_neighbour(path)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8: {e}")))
}

/// A file read from beside the scanned one.
pub(crate) struct Sibling {
    /// Its path as shown to the user, next to the scanned file's.
    pub(crate) display: String,
    pub(crate) text: String,
}

impl Sibling {
    /// The file read as JSON. When it is not valid JSON: `None`, and a warning
    /// that says what stays `unknown` without it.
    pub(crate) fn json<'a, T: Deserialize<'a>>(
        &'a self,
        unknown: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        match serde_json::from_str(&self.text) {
            Ok(value) => Some(value),
            Err(e) => {
                let mut w = Diagnostic::new(&self.display, format!("invalid JSON, {unknown} unknown: {e}"));
                if let Some(line) = json_error_line(&e) {
                    w = w.at_line(line);
                }
                warnings.push(w);
                None
            }
        }
    }
}

/// The file `name` beside the scanned one (`package.json`, `composer.json`,
/// `go.sum`): `None` when there is none, or with a warning when it cannot be
/// read.
pub(crate) fn read_sibling(input: &Input<'_>, name: &str, warnings: &mut Vec<Diagnostic>) -> Option<Sibling> {
    let display = Path::new(input.display).with_file_name(name).display().to_string();
    match read_neighbour_text(&input.path.with_file_name(name)) {
        Ok(text) => Some(Sibling { display, text }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            warnings.push(Diagnostic::new(display, format!("cannot read: {e}")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_keys_and_closing_braces() {
        let text = "{\n \"a\": {\n  \"x\": 1\n },\n \"b\\u0021\": [\n  1,\n  {\"y\": 2}\n ]\n}";
        let spans = json_spans(text, |p| p.len() <= 2);
        let got: Vec<_> = spans.iter().map(|(p, l)| (p.clone(), l.start_line, l.end_line)).collect();
        assert_eq!(
            got,
            vec![
                (vec![Step::Key("a".into())], 2, 4),
                (vec![Step::Key("a".into()), Step::Key("x".into())], 3, 3),
                (vec![Step::Key("b!".into())], 5, 8),
                (vec![Step::Key("b!".into()), Step::Index(0)], 6, 6),
                (vec![Step::Key("b!".into()), Step::Index(1)], 7, 7),
            ]
        );
    }

    #[test]
    fn scanner_stops_on_garbage() {
        for text in ["{\"a\": [1, 2", "{\"a\" 1}", "[1 2]", "{\"a\": \"unterminated"] {
            let _ = json_spans(text, |_| true);
        }
        let deep = "[".repeat(10_000);
        assert!(json_spans(&deep, |_| true).len() <= MAX_JSON_DEPTH + 1);
    }

    #[test]
    fn line_index_counts_newlines_before_the_offset() {
        let lines = LineIndex::new("a\nbc\n\nd");
        let got: Vec<u32> = [0, 1, 2, 4, 5, 6, 7, 100].iter().map(|&o| lines.line(o)).collect();
        assert_eq!(got, [1, 1, 2, 2, 3, 4, 4, 4]);
        assert_eq!(lines.line(2), 2, "in any order");
    }
}
