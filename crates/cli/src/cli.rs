//! Command-line definitions. Flag names follow Trivy's so a pipeline can swap
//! `trivy` for `rampart` without other edits.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::ReportOptions;

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
    /// Scan a directory (or one file) for vulnerable dependencies and misconfigurations
    #[command(visible_alias = "filesystem")]
    Fs(FsArgs),
    /// Scan a git repository, remote or local, at a branch, tag or commit
    Repo(RepoArgs),
    /// Check Dockerfiles and Kubernetes manifests for misconfigurations
    Config(ConfigArgs),
    /// Scan a container image: from a registry, the Docker Engine, or an archive/layout with --input
    Image(ImageArgs),
    /// Scan an unpacked root filesystem: OS packages, installed language packages, lockfiles
    Rootfs(RootfsArgs),
    /// Scan the packages of an SBOM (CycloneDX or SPDX JSON; rampart's, Trivy's, Syft's)
    Sbom(SbomArgs),
    /// Manage the vulnerability database
    Db(DbArgs),
    /// Compare two versions the way an ecosystem does: prints <, = or >
    Vercmp(VercmpArgs),
    /// Watch containers at run time with Falco-language rules (eBPF sensor, needs root), or replay a recording
    Watch(crate::watch::WatchArgs),
    /// Runtime detection rules in Falco's format: validate rules files
    Rules(crate::rules::RulesArgs),
    /// Manage signing keys (cosign's formats)
    Key(crate::sign::KeyArgs),
    /// Sign a container image in its registry, as cosign does
    Sign(crate::sign::SignArgs),
    /// Verify a container image's signatures against a public key, or a Sigstore bundle (--bundle)
    Verify(crate::sign::VerifyArgs),
    /// Attach a signed in-toto attestation (SBOM, vulnerability report, provenance) to an image
    Attest(crate::sign::AttestArgs),
    /// Verify an image's attestations against a public key
    VerifyAttestation(crate::sign::VerifyAttestationArgs),
    /// Admission control: the validating webhook, Gatekeeper suite tests, manifest audits
    Admission(crate::admission::AdmissionArgs),
}

#[derive(Debug, Args)]
pub struct FsArgs {
    /// Directory or file to scan
    pub target: PathBuf,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vuln: VulnOptions,
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
    /// Scan every blob in the history for secrets (all branches and tags, or
    /// the history of the given ref), reporting the commit that added each
    #[arg(long, env = "RAMPART_HISTORY")]
    pub history: bool,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vuln: VulnOptions,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image reference (`alpine:3.20`, `registry.example.com/app@sha256:…`), unless --input is given
    #[arg(required_unless_present = "input")]
    pub image: Option<String>,
    /// A `docker save` archive (gzipped too), an OCI archive, or an OCI layout directory, with an optional `:TAG`
    #[arg(long, env = "RAMPART_INPUT", value_name = "PATH[:TAG]", conflicts_with = "image")]
    pub input: Option<String>,
    /// Where to look for a named image, in order (comma-separated)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "docker,remote",
        env = "RAMPART_IMAGE_SRC"
    )]
    pub image_src: Vec<ImageSrc>,
    /// Platform to pick from a multi-platform image (`linux/arm64/v8`); default linux/amd64
    #[arg(long, env = "RAMPART_PLATFORM", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Registry user name (else ~/.docker/config.json)
    #[arg(long, env = "RAMPART_USERNAME")]
    pub username: Option<String>,
    /// Registry password or token
    #[arg(long, env = "RAMPART_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Talk plain HTTP to registries
    #[arg(long, env = "RAMPART_INSECURE")]
    pub insecure: bool,
    /// Take the image's SBOM from here when it has one, instead of cataloging its layers
    #[arg(long, value_enum, value_delimiter = ',', env = "RAMPART_SBOM_SOURCES")]
    pub sbom_sources: Vec<SbomSource>,
    /// Public key that must have signed the SBOM attestation (--sbom-sources attestation)
    #[arg(long, value_name = "FILE", requires = "sbom_sources")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub vuln: VulnOptions,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SbomSource {
    /// A CycloneDX or SPDX attestation (cosign's .att tag) whose signature verifies with --key
    Attestation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImageSrc {
    /// The Docker Engine API socket ($DOCKER_HOST or /var/run/docker.sock)
    Docker,
    /// The image's registry
    Remote,
}

#[derive(Debug, Args)]
pub struct RootfsArgs {
    /// Root directory of the filesystem
    pub target: PathBuf,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vuln: VulnOptions,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The SBOM file
    pub target: PathBuf,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub vuln: VulnOptions,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Dockerfile, manifest or directory to check; `-` reads one file from stdin
    pub target: PathBuf,
    /// Directory (or .rego file) of custom Rego checks, run beside the built-in ones (repeatable)
    #[arg(long, value_delimiter = ',', env = "RAMPART_CONFIG_CHECK", value_name = "DIR")]
    pub config_check: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub walk: WalkArgs,
}

/// Which files of a tree are looked at.
#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Directories to skip (glob patterns relative to the target; repeat or comma-separate)
    #[arg(long, value_delimiter = ',', env = "RAMPART_SKIP_DIRS", value_name = "GLOB")]
    pub skip_dirs: Vec<String>,
    /// Files to skip (glob patterns relative to the target; repeat or comma-separate)
    #[arg(long, value_delimiter = ',', env = "RAMPART_SKIP_FILES", value_name = "GLOB")]
    pub skip_files: Vec<String>,
}

/// What to look for, and the vulnerability database behind `vuln`.
#[derive(Debug, Args)]
pub struct VulnOptions {
    /// What to look for (comma-separated)
    #[arg(long, value_delimiter = ',', value_enum, default_value = "vuln,secret", env = "RAMPART_SCANNERS")]
    pub scanners: Vec<Scanner>,
    /// Directory (or .rego file) of custom Rego checks for the misconfig scanner (repeatable)
    #[arg(long, value_delimiter = ',', env = "RAMPART_CONFIG_CHECK", value_name = "DIR")]
    pub config_check: Vec<PathBuf>,
    /// Secret rules file: extra rules, disabled built-ins, allowlists (Trivy's secret config shape)
    #[arg(long, env = "RAMPART_SECRET_CONFIG", value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
    /// Files larger than this are not scanned for secrets
    #[arg(long, env = "RAMPART_SECRET_MAX_FILE_SIZE", value_name = "BYTES", default_value_t = rampart_secret::DEFAULT_MAX_FILE_SIZE)]
    pub secret_max_file_size: u64,
    /// Report only vulnerabilities that have a fix
    #[arg(long, env = "RAMPART_IGNORE_UNFIXED")]
    pub ignore_unfixed: bool,
    /// List every package found, vulnerable or not (JSON report)
    #[arg(long, env = "RAMPART_LIST_ALL_PKGS")]
    pub list_all_pkgs: bool,
    /// Include dependencies the lockfile marks as development-only
    #[arg(long, env = "RAMPART_INCLUDE_DEV_DEPS")]
    pub include_dev_deps: bool,
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
pub enum Scanner {
    /// Known vulnerabilities in locked dependencies
    Vuln,
    /// Credentials and keys in files
    Secret,
    /// Dockerfile and Kubernetes misconfigurations
    Misconfig,
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
