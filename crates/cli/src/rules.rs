//! `rampart rules`: Falco-compatible runtime rule files. `validate` loads
//! files as the sensor would and reports every problem with file and line.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use rampart_rules::{LoadError, Location, RuleSet};

use crate::errors::io_error;

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check rules files (Falco's format): syntax, fields, macros, lists; exit 1 when any is invalid
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Rules files or directories of them, loaded in order (later files append to and override earlier ones)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Load rampart's built-in rules first, so the files may use or change their macros and lists
    #[arg(long)]
    pub with_builtins: bool,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = ValidateFormat::Table)]
    pub format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Table,
    Json,
}

pub fn run(args: RulesArgs) -> Result<u8> {
    match args.command {
        RulesCommand::Validate(args) => validate(args),
    }
}

/// The files named, with directories expanded to their `.yaml`/`.yml`
/// files in name order (as Falco reads a rules directory).
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            entries.sort();
            for p in entries {
                files.push(read(&p)?);
            }
        } else {
            files.push(read(path)?);
        }
    }
    Ok(files)
}

fn read(path: &Path) -> Result<(PathBuf, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
    Ok((path.to_path_buf(), text))
}

fn validate(args: ValidateArgs) -> Result<u8> {
    let files = read_inputs(&args.files)?;
    let result = if args.with_builtins { RuleSet::load_with_builtins(&files) } else { RuleSet::load(&files) };
    let (rules, errors, warnings) = match result {
        Ok((set, warnings)) => (Some(set), Vec::new(), warnings),
        Err(errors) => (None, errors.0, Vec::new()),
    };
    let valid = errors.is_empty();
    match args.format {
        ValidateFormat::Json => {
            let doc = serde_json::json!({
                "valid": valid,
                "files": files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
                "rules": rules.as_ref().map(|s| s.rules().len()),
                "errors": errors.iter().map(|e| problem_json(&e.location, &e.kind.to_string())).collect::<Vec<_>>(),
                "warnings": warnings.iter().map(|w| problem_json(&w.location, &w.message)).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ValidateFormat::Table => {
            for w in &warnings {
                println!("{}", line("warning", &w.location, &w.message));
            }
            for e in &errors {
                println!("{}", error_line(e));
            }
            let summary = match &rules {
                Some(set) if warnings.is_empty() => format!("valid ({})", count(set.rules().len(), "rule")),
                Some(set) => format!(
                    "valid ({}, {})",
                    count(set.rules().len(), "rule"),
                    count(warnings.len(), "warning")
                ),
                None => format!("invalid ({})", count(errors.len(), "error")),
            };
            println!("{}: {summary}", names(&files));
        }
    }
    Ok(if valid { 0 } else { 1 })
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn names(files: &[(PathBuf, String)]) -> String {
    files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn error_line(e: &LoadError) -> String {
    line("error", &e.location, &e.kind.to_string())
}

/// `file:line:col: error: rule 'x': message`, the shape editors jump to.
fn line(level: &str, at: &Location, message: &str) -> String {
    let mut out = format!("{}:{}", at.file.display(), at.line);
    if at.col > 0 {
        out.push_str(&format!(":{}", at.col));
    }
    out.push_str(&format!(": {level}: "));
    if let Some((kind, name)) = &at.item {
        out.push_str(&format!("{kind} '{name}': "));
    }
    out.push_str(message);
    out
}

fn problem_json(at: &Location, message: &str) -> serde_json::Value {
    serde_json::json!({
        "file": at.file.display().to_string(),
        "line": at.line,
        "column": at.col,
        "item_type": at.item.as_ref().map(|(k, _)| k.to_string()),
        "item_name": at.item.as_ref().map(|(_, n)| n.clone()),
        "message": message,
    })
}
