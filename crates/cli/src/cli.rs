//! Command-line definitions. Flag names follow Trivy's so a pipeline can swap
//! `trivy` for `rampart` without other edits.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "rampart",
    version,
    about = "Container-security scanner: vulnerable dependencies, with CI gates",
    long_about = None,
    propagate_version = true,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Cache directory; the vulnerability database lives in <cache-dir>/db
    #[arg(long, global = true, env = "RAMPART_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Config file (default: rampart.yaml in the current directory, if present)
    #[arg(short = 'c', long, global = true, env = "RAMPART_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never touch the network: no database download, no remote clone
    #[arg(long, global = true, env = "RAMPART_OFFLINE")]
    pub offline: bool,
    /// Print only the report and errors
    #[arg(short, long, global = true, env = "RAMPART_QUIET")]
    pub quiet: bool,
    /// Do not draw progress bars
    #[arg(long, global = true, env = "RAMPART_NO_PROGRESS")]
    pub no_progress: bool,
    /// Print what rampart is doing and how long each step takes
    #[arg(short, long, global = true, env = "RAMPART_DEBUG")]
    pub debug: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a directory (or one lockfile) for vulnerable dependencies
    #[command(visible_alias = "filesystem")]
    Fs(FsArgs),
    /// Scan a git repository, remote or local, at a branch, tag or commit
    Repo(RepoArgs),
    /// Manage the vulnerability database
    Db(DbArgs),
    /// Compare two versions the way an ecosystem does: prints <, = or >
    Vercmp(VercmpArgs),
}

#[derive(Debug, Args)]
pub struct FsArgs {
    /// Directory or file to scan
    pub target: PathBuf,
    #[command(flatten)]
    pub scan: ScanOptions,
}

#[derive(Debug, Args)]
pub struct RepoArgs {
    /// Repository URL (https://, ssh://, git@host:path) or local path
    pub repository: String,
    /// Branch to scan
    #[arg(long, env = "RAMPART_BRANCH", conflicts_with_all = ["tag", "commit"])]
    pub branch: Option<String>,
    /// Tag to scan
    #[arg(long, env = "RAMPART_TAG", conflicts_with = "commit")]
    pub tag: Option<String>,
    /// Commit to scan
    #[arg(long, env = "RAMPART_COMMIT")]
    pub commit: Option<String>,
    #[command(flatten)]
    pub scan: ScanOptions,
}

/// Options shared by every scan command.
#[derive(Debug, Args)]
pub struct ScanOptions {
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
    /// Exit with this code when any vulnerability is reported
    #[arg(long, default_value_t = 0, env = "RAMPART_EXIT_CODE", value_name = "CODE")]
    pub exit_code: i32,
    /// Report only vulnerabilities that have a fix
    #[arg(long, env = "RAMPART_IGNORE_UNFIXED")]
    pub ignore_unfixed: bool,
    /// List every package found, vulnerable or not (JSON report)
    #[arg(long, env = "RAMPART_LIST_ALL_PKGS")]
    pub list_all_pkgs: bool,
    /// Directories to skip (glob patterns relative to the target; repeat or comma-separate)
    #[arg(long, value_delimiter = ',', env = "RAMPART_SKIP_DIRS", value_name = "GLOB")]
    pub skip_dirs: Vec<String>,
    /// Files to skip (glob patterns relative to the target; repeat or comma-separate)
    #[arg(long, value_delimiter = ',', env = "RAMPART_SKIP_FILES", value_name = "GLOB")]
    pub skip_files: Vec<String>,
    /// Ignore file: ids to suppress (.rampartignore) or rules with paths, purls and expiry (.yaml)
    #[arg(long, env = "RAMPART_IGNOREFILE", value_name = "FILE")]
    pub ignorefile: Option<PathBuf>,
    /// What to look for (comma-separated)
    #[arg(long, value_delimiter = ',', value_enum, default_value = "vuln", env = "RAMPART_SCANNERS")]
    pub scanners: Vec<Scanner>,
    /// Use the database as it is, even when it is old
    #[arg(long, env = "RAMPART_SKIP_DB_UPDATE")]
    pub skip_db_update: bool,
    /// Base URL of the OSV export mirror used when the database needs an update
    #[arg(long, env = "RAMPART_DB_MIRROR", value_name = "URL")]
    pub db_mirror: Option<String>,
    /// Ecosystems to download when the database needs an update (comma-separated OSV names)
    #[arg(long, value_delimiter = ',', env = "RAMPART_DB_ECOSYSTEMS", value_name = "LIST")]
    pub db_ecosystems: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scanner {
    Vuln,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Build the database from OSV records, OSV all.zip exports, Alpine secdb and Debian DSA/DLA lists
    Import {
        /// Files or directories to import
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Download OSV exports and replace the database atomically
    Update {
        /// Base URL of the OSV export mirror (<mirror>/<ecosystem>/all.zip)
        #[arg(long, env = "RAMPART_DB_MIRROR", value_name = "URL")]
        db_mirror: Option<String>,
        /// Ecosystems to download (comma-separated OSV names)
        #[arg(
            long,
            visible_alias = "db-ecosystems",
            value_delimiter = ',',
            env = "RAMPART_DB_ECOSYSTEMS",
            value_name = "LIST"
        )]
        ecosystems: Vec<String>,
    },
    /// Show what the database holds and how old it is
    Info {
        /// Output format
        #[arg(short, long, value_enum, default_value = "table")]
        format: InfoFormat,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct VercmpArgs {
    /// Ecosystem or scheme: deb, apk, rpm, npm, pypi, go, maven, cargo, gem, nuget, composer…
    pub ecosystem: String,
    /// First version
    #[arg(required_unless_present = "batch")]
    pub a: Option<String>,
    /// Second version
    #[arg(required_unless_present = "batch")]
    pub b: Option<String>,
    /// Read `A B` pairs from stdin, one per line, and print one result per line
    #[arg(long, conflicts_with_all = ["a", "b"])]
    pub batch: bool,
}
