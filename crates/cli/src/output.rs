//! The end of every scan: filter the report, write it, decide the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use rampart_report::{Filter, Format, IgnoreRules};
use rampart_types::{ArtifactType, Metadata, Report, SCHEMA_VERSION, ScanResult, Severity};

use crate::{Context, EXIT_FAILURE, EXIT_USAGE, UsageError};

/// How findings are filtered, written and turned into an exit code.
#[derive(Debug, Args)]
pub struct ReportOptions {
    /// Report format
    #[arg(short, long, value_enum, default_value = "table", env = "RAMPART_FORMAT")]
    pub format: OutputFormat,
    /// Write the report to this file instead of stdout
    #[arg(short, long, env = "RAMPART_OUTPUT", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Severities to report (comma-separated)
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL",
        env = "RAMPART_SEVERITY",
        value_name = "LEVELS"
    )]
    pub severity: Vec<String>,
    /// Exit with this code when any finding is reported
    #[arg(long, default_value_t = 0, env = "RAMPART_EXIT_CODE", value_name = "CODE")]
    pub exit_code: i32,
    /// Ignore file: ids to suppress (.rampartignore) or rules with paths, purls and expiry (.yaml)
    #[arg(long, env = "RAMPART_IGNOREFILE", value_name = "FILE")]
    pub ignorefile: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Sarif,
    /// CycloneDX 1.6 JSON SBOM (every package, with vulnerabilities)
    Cyclonedx,
    /// SPDX 2.3 JSON SBOM
    SpdxJson,
}

/// The validated report options.
pub struct OutputPlan {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub filter: Filter,
    pub exit_code: u8,
}

impl OutputPlan {
    /// SBOM formats list every package, as if `--list-all-pkgs` were given.
    pub fn wants_packages(&self) -> bool {
        matches!(self.format, Format::CycloneDx | Format::SpdxJson)
    }

    pub fn from_options(o: &ReportOptions, ignore_unfixed: bool) -> Result<OutputPlan> {
        let exit_code = match u8::try_from(o.exit_code) {
            Ok(c) if c != EXIT_USAGE && c != EXIT_FAILURE => c,
            _ => bail!(UsageError(format!(
                "--exit-code must be between 0 and 255 and not {EXIT_USAGE} or {EXIT_FAILURE}, \
                 which rampart uses for its own errors (got {})",
                o.exit_code
            ))),
        };
        let severities = o
            .severity
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse::<Severity>().map_err(|e| UsageError(format!("--severity: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let ignore = match ignore_file(o.ignorefile.as_deref())? {
            Some(path) => IgnoreRules::load(&path).map_err(|e| UsageError(e.to_string()))?,
            None => IgnoreRules::default(),
        };
        Ok(OutputPlan {
            format: match o.format {
                OutputFormat::Table => Format::Table,
                OutputFormat::Json => Format::Json,
                OutputFormat::Sarif => Format::Sarif,
                OutputFormat::Cyclonedx => Format::CycloneDx,
                OutputFormat::SpdxJson => Format::SpdxJson,
            },
            output: o.output.clone(),
            filter: Filter { severities, ignore_unfixed, ignore },
            exit_code,
        })
    }
}

/// The ignore file: the one named by `--ignorefile`, else `.rampartignore` or
/// `.rampartignore.yaml` in the current directory.
fn ignore_file(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!(UsageError(format!("ignore file {} not found", p.display())));
        }
        return Ok(Some(p.to_path_buf()));
    }
    Ok([".rampartignore", ".rampartignore.yaml", ".rampartignore.yml"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file()))
}

pub fn new_report(
    name: String,
    kind: ArtifactType,
    metadata: Metadata,
    mut results: Vec<ScanResult>,
) -> Report {
    results.sort_by(|a, b| (&a.target, class_rank(a)).cmp(&(&b.target, class_rank(b))));
    // SOURCE_DATE_EPOCH makes reports (and SBOMs) reproducible.
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let created_at = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    Report {
        schema_version: SCHEMA_VERSION,
        created_at,
        artifact_name: name,
        artifact_type: kind,
        metadata,
        results,
    }
}

/// Packages before configs before secrets for the same target, as Trivy orders them.
fn class_rank(r: &ScanResult) -> u8 {
    use rampart_types::ResultClass::*;
    match r.class {
        OsPkgs => 0,
        LangPkgs => 1,
        Config => 2,
        Secret => 3,
    }
}

/// Filters, writes the report and decides the exit code. `root` is the
/// scanned directory, for SARIF's base URI.
pub fn finish(ctx: &Context, mut report: Report, plan: &OutputPlan, root: Option<&Path>) -> Result<u8> {
    let today = time::OffsetDateTime::now_utc().date();
    rampart_report::apply_filter(&mut report, &plan.filter, today);
    let options = rampart_report::WriteOptions {
        color: plan.output.is_none() && color_enabled(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        artifact_root: root.and_then(|r| std::fs::canonicalize(r).ok()),
    };
    match &plan.output {
        Some(path) => {
            write_atomically(path, |out| rampart_report::write(&report, plan.format, &options, out))?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rampart_report::write(&report, plan.format, &options, &mut out)?;
            out.flush()?;
        }
    }
    let fail = rampart_report::should_fail(&report);
    ctx.ui.debug(format!("report written; gate {}", if fail { "failed" } else { "passed" }));
    Ok(if fail { plan.exit_code } else { 0 })
}

fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Writes the report beside its destination and renames it into place, so
/// a failed write never leaves a truncated report behind.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), rampart_report::ReportError>,
) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rampart-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing report {}", path.display()))
}
