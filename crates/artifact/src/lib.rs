//! Acquiring scan inputs: walking a directory tree in parallel and checking
//! out git repositories.

pub mod history;
pub mod image;
use std::io;
use std::path::{Path, PathBuf};

use rampart_types::Diagnostic;

mod git;
mod walk;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A `--skip-dirs` / `--skip-files` pattern that cannot be used: a usage error.
    #[error("invalid --{option} pattern {pattern:?}: {reason}")]
    BadPattern { option: &'static str, pattern: String, reason: String },
    #[error("git was not found on PATH; it is needed to scan repositories")]
    GitMissing,
    #[error("{location}: not a git repository: {stderr}")]
    NotARepository { location: String, stderr: String },
    #[error("{location}: the repository has no commits yet")]
    NoCommits { location: String },
    #[error("{location}: {kind} {name:?} not found: {stderr}")]
    UnknownRef { location: String, kind: &'static str, name: String, stderr: String },
    #[error(
        "{url}: authentication failed (rampart never prompts; configure a credential helper or SSH key): {stderr}"
    )]
    AuthFailed { url: String, stderr: String },
    #[error("{url}: repository not found or not readable: {stderr}")]
    RemoteNotFound { url: String, stderr: String },
    #[error("{url}: offline mode forbids contacting a remote repository")]
    Offline { url: String },
    #[error("{location}: directory {subdir:?} does not exist at commit {commit}")]
    NotInRevision { location: String, commit: String, subdir: String },
    #[error("invalid repository reference: {reason}")]
    InvalidRef { reason: String },
    #[error("{location:?}: unsupported repository location: {reason}")]
    UnsupportedLocation { location: String, reason: &'static str },
    /// Any other git failure, with what rampart was doing and git's own words.
    #[error("{location}: git {action} failed: {stderr}")]
    Git { location: String, action: &'static str, stderr: String },
}

#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Glob patterns of directories to skip (`ssl`, `**/node_modules`, `vendor/*`).
    pub skip_dirs: Vec<String>,
    /// Glob patterns of files to skip.
    pub skip_files: Vec<String>,
}

/// A file some analyzer claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkEntry {
    /// Where to read the file: the walked path (for a symlink, the link,
    /// which was checked to resolve to a regular file inside the root).
    pub path: PathBuf,
    /// Path relative to the walk root, `/`-separated.
    pub rel: String,
}

#[derive(Debug, Default)]
pub struct WalkOutcome {
    /// Claimed files, sorted by `rel`.
    pub files: Vec<WalkEntry>,
    /// Unreadable directories, symlink loops and the like.
    pub warnings: Vec<Diagnostic>,
}

/// Walks `root` in parallel and returns the files `claim` accepts. `claim`
/// sees only the relative path, so nothing is read that no one wants.
///
/// Like Trivy, `.gitignore` and hidden-file rules are not honored (a lockfile
/// matters even when ignored), but `.git` directories are never entered.
/// Skip patterns are globs matched against the path relative to `root`:
/// `ssl` skips only `./ssl`, `**/ssl` skips every `ssl` directory.
pub fn walk(
    root: &Path,
    opts: &WalkOptions,
    claim: &(dyn Fn(&str) -> bool + Sync),
) -> Result<WalkOutcome, ArtifactError> {
    walk::walk(root, opts, claim)
}

/// Which tree of a repository to scan.
#[derive(Clone, Debug, Default)]
pub struct RepoRef {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub commit: Option<String>,
    /// Fetch every commit of every branch and tag (for history scans)
    /// rather than just the tree of the one commit.
    pub full_history: bool,
}

/// A repository tree ready to walk; temporary checkouts are removed on drop.
#[derive(Debug)]
pub struct CheckedOutRepo {
    pub root: PathBuf,
    /// The full commit id of the tree.
    pub commit: String,
    pub branch: Option<String>,
    /// The remote's URL (for a local repository, its `origin`), without credentials.
    pub url: Option<String>,
    /// The repository itself (a temporary bare clone for remotes), for
    /// [`history::blobs`].
    pub git_dir: PathBuf,
    /// Owns the temporary checkout, if one was made.
    _tmp: Option<tempfile::TempDir>,
}

/// Clones a remote repository (or opens a local one) at the requested ref.
/// `offline` refuses anything that would touch the network.
///
/// A local path without a ref is scanned as it is, uncommitted changes
/// included; with a ref its tree is copied out without touching the user's
/// index or working tree. `git` itself must be on `PATH`.
pub fn checkout(location: &str, reference: &RepoRef, offline: bool) -> Result<CheckedOutRepo, ArtifactError> {
    git::checkout(location, reference, offline)
}
