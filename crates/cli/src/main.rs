//! `rampart`: the binary. It alone knows every crate; each subcommand wires
//! the library crates together.

mod admission;
mod admission_signatures;
mod analyze;
mod cli;
mod config;
mod db;
mod errors;
mod image;
mod input;
mod misconfig;
mod output;
mod rules;
mod sbom;
mod scan;
mod sign;
mod system;
mod ui;
mod user_checks;
mod vercmp;
mod watch;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::config::ConfigFile;
use crate::ui::Ui;

/// Scans allocate many small strings from several threads; mimalloc does
/// that markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for a mistake in how rampart was called: a bad flag, config or ignore file.
pub const EXIT_USAGE: u8 = 64;
/// Exit code for a failure while working: missing target, unreadable database, network error.
pub const EXIT_FAILURE: u8 = 65;

/// An error the user caused by how they called rampart (exit 64).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("rampart: error: {}", errors::describe(&err));
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

fn run(args: Vec<OsString>) -> anyhow::Result<u8> {
    let config = ConfigFile::locate(&args).map_err(|e| UsageError(errors::describe(&e)))?;
    let (cmd, unused) = config.apply(Cli::command());
    let matches = match cmd.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| UsageError(e.to_string()))?;
    let g = &cli.global;
    let ui = Ui::new(g.quiet, g.debug, g.no_progress);
    if let Some(path) = &config.path {
        ui.debug(format!("config file {}", path.display()));
        for key in unused {
            ui.warn(format!("{}: unknown option {key:?} ignored", path.display()));
        }
    }
    let cache_dir = g.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let ctx = Context { ui, cache_dir, offline: g.offline };
    match cli.command {
        Command::Fs(args) => scan::fs(&ctx, args),
        Command::Repo(args) => scan::repo(&ctx, args),
        Command::Config(args) => misconfig::run(&ctx, args),
        Command::Image(args) => image::run(&ctx, args),
        Command::Rootfs(args) => scan::rootfs(&ctx, args),
        Command::Sbom(args) => sbom::run(&ctx, args),
        Command::Db(args) => db::run(&ctx, args.command),
        Command::Vercmp(args) => vercmp::run(args),
        Command::Watch(args) => watch::run(&ctx, args),
        Command::Rules(args) => rules::run(args),
        Command::Key(args) => sign::key(&ctx, args),
        Command::Sign(args) => sign::sign(&ctx, args),
        Command::Verify(args) => sign::verify(&ctx, args),
        Command::Attest(args) => sign::attest(&ctx, args),
        Command::VerifyAttestation(args) => sign::verify_attestation(&ctx, args),
        Command::Admission(args) => admission::run(&ctx, args),
    }
}

/// What every subcommand needs from the global options.
pub struct Context {
    pub ui: Ui,
    pub cache_dir: PathBuf,
    pub offline: bool,
}

impl Context {
    pub fn db_dir(&self) -> PathBuf {
        self.cache_dir.join("db")
    }
}

/// `$XDG_CACHE_HOME/rampart`, else `~/.cache/rampart`, else a temp dir.
fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("rampart");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".cache").join("rampart");
    }
    std::env::temp_dir().join("rampart-cache")
}
