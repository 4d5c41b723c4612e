//! Report filters, writers and the CI gate.
//!
//! The scanner produces a [`Report`]; this crate trims it to what the user
//! asked for ([`apply_filter`]), decides whether the run fails
//! ([`should_fail`]) and writes it as a table, Trivy-compatible JSON or SARIF
//! ([`write()`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use rampart_types::Report;

mod cyclonedx;
mod spdx;
mod filter;
mod ignore;
mod purl;
mod sarif;
mod table;

pub use filter::{Filter, FilterStats, Suppressed, apply_filter};
pub use ignore::IgnoreRules;

/// Output formats, named as Trivy's `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Everything that can go wrong loading ignore files or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing report: {0}")]
    Io(#[from] std::io::Error),
    #[error("serializing report: {0}")]
    Json(serde_json::Error),
    #[error("reading ignore file {}: {source}", path.display())]
    ReadIgnoreFile { path: PathBuf, source: std::io::Error },
    /// A syntax error, unknown field or invalid value in an ignore file.
    /// `line` and `column` are 1-based; 0 when the position is unknown.
    #[error("{}: {message}", position(path, *line, *column))]
    IgnoreFile { path: PathBuf, line: u64, column: u64, message: String },
}

/// Keeps a failed write (a closed pipe, a full disk) an I/O error, so the
/// CLI can tell it from a serialization bug.
impl From<serde_json::Error> for ReportError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() { ReportError::Io(e.into()) } else { ReportError::Json(e) }
    }
}

/// `file:line:column`, the form editors and terminals turn into links.
fn position(path: &Path, line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => path.display().to_string(),
        (l, 0) => format!("{}:{l}", path.display()),
        (l, c) => format!("{}:{l}:{c}", path.display()),
    }
}

/// How to render a report; only some formats use each option.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Color severities in the table (the CLI sets it from TTY detection and `NO_COLOR`).
    pub color: bool,
    /// The tool version SARIF consumers show next to the findings.
    pub tool_version: String,
    /// Absolute path of the scanned directory, for SARIF's `ROOTPATH` base;
    /// `None` when the artifact is not a local filesystem.
    pub artifact_root: Option<PathBuf>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            color: false,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            artifact_root: None,
        }
    }
}

/// Writes the report in `format`.
pub fn write(
    report: &Report,
    format: Format,
    options: &WriteOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Table => table::write(report, options.color, out)?,
        Format::Sarif => sarif::write(report, options, out)?,
    }
    out.flush()?;
    Ok(())
}

/// `text` with whitespace collapsed, cut after `max_words` words and to at
/// most `max_chars` characters (at a word break when there is one), with
/// `...` marking the cut.
fn shorten(text: &str, max_words: usize, max_chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words[..words.len().min(max_words)].join(" ");
    let mut cut = words.len() > max_words;
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars.saturating_sub(3)).collect();
        if let Some(space) = out.rfind(' ') {
            out.truncate(space);
        }
        cut = true;
    }
    if cut {
        out.push_str("...");
    }
    out
}

/// The CI gate: true when any vulnerability is left after filtering.
pub fn should_fail(report: &Report) -> bool {
    report.results.iter().any(|r| !r.vulnerabilities.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away, like `rampart ... | head -1`.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_failures_are_io_errors_in_every_format() {
        let report = Report {
            schema_version: rampart_types::SCHEMA_VERSION,
            created_at: String::new(),
            artifact_name: "x".to_string(),
            artifact_type: rampart_types::ArtifactType::Filesystem,
            metadata: Default::default(),
            results: Vec::new(),
        };
        for format in [Format::Table, Format::Json, Format::Sarif] {
            let err = write(&report, format, &WriteOptions::default(), &mut ClosedPipe).unwrap_err();
            assert!(
                matches!(&err, ReportError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
                "{format:?}: {err:?}"
            );
        }
    }

    #[test]
    fn shorten_cuts_words_then_characters() {
        assert_eq!(shorten("  a  b\nc ", 5, 80), "a b c");
        assert_eq!(shorten("a b c d", 2, 80), "a b...");
        assert_eq!(shorten("alpha beta gamma", 5, 12), "alpha...");
        assert_eq!(shorten("ééééééééé", 5, 6), "ééé...");
    }
}
