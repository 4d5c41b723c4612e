//! Repository checkouts through the `git` command line.
//!
//! Trees are written out by rampart from `git ls-tree` and `git cat-file`
//! rather than by `git checkout`: no filter driver, hook or fsmonitor named in
//! a repository's configuration ever runs, attributes cannot hide files
//! (`export-ignore`), and the user's index and working tree are never touched.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{ArtifactError, CheckedOutRepo, RepoRef};

pub(crate) fn checkout(
    location: &str,
    reference: &RepoRef,
    offline: bool,
) -> Result<CheckedOutRepo, ArtifactError> {
    let git = Git { program: OsString::from("git"), offline, batch_ssh: false };
    checkout_with(&git, location, reference)
}

fn checkout_with(git: &Git, location: &str, reference: &RepoRef) -> Result<CheckedOutRepo, ArtifactError> {
    let wanted = Wanted::from_ref(reference)?;
    match classify(location)? {
        Location::Remote { url, network, ssh } => {
            let shown = redact(url);
            if network && git.offline {
                return Err(ArtifactError::Offline { url: shown });
            }
            let git = Git { batch_ssh: ssh && git.ssh_may_prompt()?, ..git.clone() };
            remote(&git, url, &shown, &wanted, reference.full_history)
        }
        Location::Local(path) => local(git, &path, &wanted),
    }
}

/// The one ref a user asked for.
enum Wanted<'a> {
    Default,
    Branch(&'a str),
    Tag(&'a str),
    Commit(&'a str),
}

impl<'a> Wanted<'a> {
    fn from_ref(r: &'a RepoRef) -> Result<Wanted<'a>, ArtifactError> {
        let wanted = match (&r.branch, &r.tag, &r.commit) {
            (None, None, None) => return Ok(Wanted::Default),
            (Some(b), None, None) => Wanted::Branch(b),
            (None, Some(t), None) => Wanted::Tag(t),
            (None, None, Some(c)) => Wanted::Commit(c),
            _ => {
                return Err(ArtifactError::InvalidRef {
                    reason: "give only one of --branch, --tag and --commit".to_string(),
                });
            }
        };
        let (kind, name) = wanted.kind_and_name();
        let valid = match wanted {
            Wanted::Commit(c) => (4..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()),
            _ => is_plausible_ref_name(name),
        };
        if !valid {
            let expected = if kind == "commit" { "a hexadecimal commit id" } else { "a valid git ref name" };
            return Err(ArtifactError::InvalidRef { reason: format!("{kind} {name:?} is not {expected}") });
        }
        Ok(wanted)
    }

    fn kind_and_name(&self) -> (&'static str, &'a str) {
        match *self {
            Wanted::Default => ("ref", "HEAD"),
            Wanted::Branch(b) => ("branch", b),
            Wanted::Tag(t) => ("tag", t),
            Wanted::Commit(c) => ("commit", c),
        }
    }

    fn unknown(&self, location: &str, stderr: String) -> ArtifactError {
        let (kind, name) = self.kind_and_name();
        ArtifactError::UnknownRef { location: location.to_string(), kind, name: name.to_string(), stderr }
    }
}

/// Rejects what git never accepts as a ref name, so nothing a user types can
/// be taken for an option or a refspec (`a:b`, `+x`, `*`).
fn is_plausible_ref_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '/', '+', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("@{")
        && !name.contains("//")
        && !name.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c))
}

enum Location<'a> {
    /// Something `git clone` fetches; `network` is false only for `file://`.
    Remote {
        url: &'a str,
        network: bool,
        ssh: bool,
    },
    Local(PathBuf),
}

fn classify(location: &str) -> Result<Location<'_>, ArtifactError> {
    let unsupported = |reason| ArtifactError::UnsupportedLocation { location: location.to_string(), reason };
    if location.is_empty() {
        return Err(unsupported("it is empty"));
    }
    if location.starts_with('-') {
        return Err(unsupported("it would be taken for a git option"));
    }
    // An existing path wins, so a directory named `host:repo` is still local.
    if Path::new(location).exists() {
        return Ok(Location::Local(PathBuf::from(location)));
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "https" | "http" | "git" => Ok(Location::Remote { url: location, network: true, ssh: false }),
            "ssh" | "git+ssh" | "ssh+git" => Ok(Location::Remote { url: location, network: true, ssh: true }),
            "file" => Ok(Location::Remote { url: location, network: false, ssh: false }),
            _ => Err(unsupported("only https, http, ssh, git and file URLs are supported")),
        };
    }
    // `<helper>::<address>` makes git run a remote helper program.
    if location.contains("::") {
        return Err(unsupported("git remote-helper syntax (`helper::address`) is not supported"));
    }
    // scp-like `[user@]host:path`; a one-letter "host" is a Windows drive.
    if let Some((host, _)) = location.split_once(':')
        && !host.contains('/')
        && host.len() > 1
    {
        return Ok(Location::Remote { url: location, network: true, ssh: true });
    }
    Err(ArtifactError::NotFound { path: PathBuf::from(location) })
}

/// Drops the user-info of an http(s) URL, where access tokens travel, so
/// they never reach a report or an error message. SSH user names stay.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return url.to_string();
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn remote(
    git: &Git,
    url: &str,
    shown: &str,
    wanted: &Wanted<'_>,
    full_history: bool,
) -> Result<CheckedOutRepo, ArtifactError> {
    let tmp = temp_dir()?;
    let template = tmp.path().join("template");
    fs::create_dir(&template).map_err(|source| ArtifactError::Io { path: template.clone(), source })?;
    // An empty template keeps the user's init.templateDir (and any hooks in it) out.
    let mut template_arg = OsString::from("--template=");
    template_arg.push(&template);
    let git_dir = tmp.path().join("git");
    let remote_err = |action, stderr: String| remote_error(shown, action, stderr.replace(url, shown));

    let (commit, branch) = match *wanted {
        Wanted::Default => {
            let args =
                [os("clone"), os("--quiet"), os("--bare"), os("--depth=1"), &template_arg, os("--"), os(url)];
            git.run(At::Anywhere, args.into_iter().chain([git_dir.as_os_str()]))?
                .map_err(|e| remote_err("clone", e))?;
            let at = At::GitDir(&git_dir);
            let commit = resolve(git, at, "HEAD")?
                .ok_or_else(|| ArtifactError::NoCommits { location: shown.into() })?;
            (commit, git.text(at, ["symbolic-ref", "--quiet", "--short", "HEAD"])?.ok())
        }
        Wanted::Branch(name) | Wanted::Tag(name) | Wanted::Commit(name) => {
            git.run(
                At::Anywhere,
                [os("init"), os("--quiet"), os("--bare"), &template_arg, git_dir.as_os_str()],
            )?
            .map_err(|stderr| ArtifactError::Git {
                location: shown.into(),
                action: "init",
                stderr,
            })?;
            let at = At::GitDir(&git_dir);
            let commit = fetch(git, at, url, wanted, name)?.map_err(|stderr| match stderr {
                Fetch::MissingRef(stderr) => wanted.unknown(shown, stderr.replace(url, shown)),
                Fetch::Failed(stderr) => remote_err("fetch", stderr),
            })?;
            let branch = matches!(wanted, Wanted::Branch(_)).then(|| name.to_string());
            (commit, branch)
        }
    };
    if full_history {
        // Every branch and tag with its whole history, on top of the shallow fetch.
        let args = [
            "fetch",
            "--quiet",
            "--unshallow",
            "--tags",
            "--end-of-options",
            url,
            "+refs/heads/*:refs/heads/*",
        ];
        git.run(At::GitDir(&git_dir), args)?.map_err(|e| remote_err("fetch", e))?;
    }
    let root = tmp.path().join("tree");
    materialize(git, At::GitDir(&git_dir), &commit, &root, shown)?;
    Ok(CheckedOutRepo { root, commit, branch, url: Some(shown.to_string()), git_dir, _tmp: Some(tmp) })
}

/// Why a fetch did not produce the commit.
enum Fetch {
    MissingRef(String),
    Failed(String),
}

/// Fetches just the wanted ref, shallowly, and returns its commit.
fn fetch(
    git: &Git,
    at: At<'_>,
    url: &str,
    wanted: &Wanted<'_>,
    name: &str,
) -> Result<Result<String, Fetch>, ArtifactError> {
    let shallow = |refspec: &str| {
        let args = ["fetch", "--quiet", "--depth=1", "--no-tags", "--end-of-options", url, refspec];
        git.run(at, args).map(|r| r.map_err(classify_fetch))
    };
    let refspec = match *wanted {
        Wanted::Branch(b) => format!("refs/heads/{b}"),
        Wanted::Tag(t) => format!("refs/tags/{t}"),
        // Servers speaking protocol v2 (or allowing it) hand out any reachable
        // commit by its full id; that saves cloning the whole history.
        Wanted::Commit(c) if c.len() == 40 || c.len() == 64 => c.to_ascii_lowercase(),
        _ => String::new(),
    };
    if !refspec.is_empty() {
        match shallow(&refspec)? {
            Ok(_) => {
                let commit = resolve(git, at, "FETCH_HEAD")?;
                return Ok(
                    commit.ok_or_else(|| Fetch::Failed(format!("{refspec} does not point to a commit")))
                );
            }
            Err(Fetch::MissingRef(stderr)) if !matches!(wanted, Wanted::Commit(_)) => {
                return Ok(Err(Fetch::MissingRef(stderr)));
            }
            Err(Fetch::Failed(stderr)) if is_access_problem(&stderr) => {
                return Ok(Err(Fetch::Failed(stderr)));
            }
            Err(_) => {}
        }
    }
    // An abbreviated id, or a server refusing unadvertised objects: fetch
    // every branch and tag, then look the commit up locally.
    let args = ["fetch", "--quiet", "--tags", "--end-of-options", url, "+refs/heads/*:refs/remotes/origin/*"];
    if let Err(stderr) = git.run(at, args)? {
        return Ok(Err(Fetch::Failed(stderr)));
    }
    Ok(resolve(git, at, name)?
        .ok_or_else(|| Fetch::MissingRef("not in any branch or tag of the remote".into())))
}

fn classify_fetch(stderr: String) -> Fetch {
    let lower = stderr.to_ascii_lowercase();
    let missing = ["couldn't find remote ref", "not our ref", "unadvertised object", "no such remote ref"];
    if missing.iter().any(|m| lower.contains(m)) { Fetch::MissingRef(stderr) } else { Fetch::Failed(stderr) }
}

const NOT_FOUND_SIGNS: &[&str] = &[
    "repository not found",
    "does not appear to be a git repository",
    "not exported",
    "returned error: 404",
    "no such repository",
    "project not found",
];
const AUTH_SIGNS: &[&str] = &[
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "permission denied (publickey",
    "host key verification failed",
    "returned error: 401",
    "returned error: 403",
    "access denied",
];

fn is_access_problem(stderr: &str) -> bool {
    let lower = stderr.to_ascii_lowercase();
    NOT_FOUND_SIGNS.iter().chain(AUTH_SIGNS).any(|s| lower.contains(s))
}

/// Tells a missing repository and refused credentials apart from other
/// failures by git's own wording (checked first: git daemon says "access
/// denied or repository not exported" for a path it does not serve).
fn remote_error(url: &str, action: &'static str, stderr: String) -> ArtifactError {
    let lower = stderr.to_ascii_lowercase();
    let url = url.to_string();
    if NOT_FOUND_SIGNS.iter().any(|s| lower.contains(s)) {
        ArtifactError::RemoteNotFound { url, stderr }
    } else if AUTH_SIGNS.iter().any(|s| lower.contains(s)) {
        ArtifactError::AuthFailed { url, stderr }
    } else {
        ArtifactError::Git { location: url, action, stderr }
    }
}

fn local(git: &Git, path: &Path, wanted: &Wanted<'_>) -> Result<CheckedOutRepo, ArtifactError> {
    let location = path.display().to_string();
    let at = At::Dir(path);
    let git_dir = PathBuf::from(
        git.text(at, ["rev-parse", "--absolute-git-dir"])?
            .map_err(|stderr| ArtifactError::NotARepository { location: location.clone(), stderr })?,
    );
    let in_work_tree = git.text(at, ["rev-parse", "--is-inside-work-tree"])?.is_ok_and(|s| s == "true");
    let url = git
        .text(at, ["config", "--get", "remote.origin.url"])?
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| redact(&u));
    let current_branch = || git.text(at, ["symbolic-ref", "--quiet", "--short", "HEAD"]).map(Result::ok);
    let missing = |w: &Wanted<'_>| w.unknown(&location, "no such ref in the repository".to_string());

    let (commit, branch) = match *wanted {
        Wanted::Default => {
            let commit = resolve(git, at, "HEAD")?
                .ok_or_else(|| ArtifactError::NoCommits { location: location.clone() })?;
            let branch = current_branch()?;
            if in_work_tree {
                return Ok(CheckedOutRepo {
                    root: path.to_path_buf(),
                    commit,
                    branch,
                    url,
                    git_dir,
                    _tmp: None,
                });
            }
            // A bare repository has no working tree to scan: take HEAD's tree.
            (commit, branch)
        }
        Wanted::Branch(b) => {
            // A fresh clone has most branches only as `origin/<name>`.
            let commit = match resolve(git, at, &format!("refs/heads/{b}"))? {
                Some(c) => Some(c),
                None => resolve(git, at, &format!("refs/remotes/origin/{b}"))?,
            };
            (commit.ok_or_else(|| missing(wanted))?, Some(b.to_string()))
        }
        Wanted::Tag(t) => {
            (resolve(git, at, &format!("refs/tags/{t}"))?.ok_or_else(|| missing(wanted))?, None)
        }
        Wanted::Commit(c) => (resolve(git, at, c)?.ok_or_else(|| missing(wanted))?, None),
    };
    // Scanning a subdirectory of a repository at a ref scans that subdirectory.
    let prefix = if in_work_tree {
        git.text(at, ["rev-parse", "--show-prefix"])?.unwrap_or_default()
    } else {
        String::new()
    };
    let tmp = temp_dir()?;
    let tree = tmp.path().join("tree");
    materialize(git, at, &commit, &tree, &location)?;
    let root = tree.join(prefix.trim_end_matches('/'));
    if !root.is_dir() {
        return Err(ArtifactError::NotInRevision { location, commit, subdir: prefix });
    }
    Ok(CheckedOutRepo { root, commit, branch, url, git_dir, _tmp: Some(tmp) })
}

/// The full commit id `rev` names, if it names one.
pub(crate) fn resolve(git: &Git, at: At<'_>, rev: &str) -> Result<Option<String>, ArtifactError> {
    let rev = format!("{rev}^{{commit}}");
    Ok(git.text(at, ["rev-parse", "--verify", "--quiet", "--end-of-options", &rev])?.ok())
}

fn temp_dir() -> Result<tempfile::TempDir, ArtifactError> {
    tempfile::Builder::new()
        .prefix("rampart-repo-")
        .tempdir()
        .map_err(|source| ArtifactError::Io { path: std::env::temp_dir(), source })
}

/// One entry of `git ls-tree -r`.
struct TreeEntry {
    path: PathBuf,
    oid: String,
    link: bool,
}

/// Writes the tree of `commit` under `dest` from raw blobs.
fn materialize(
    git: &Git,
    at: At<'_>,
    commit: &str,
    dest: &Path,
    location: &str,
) -> Result<(), ArtifactError> {
    let git_failed = |action, stderr| ArtifactError::Git { location: location.to_string(), action, stderr };
    let listing = git
        .run(at, ["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit])?
        .map_err(|e| git_failed("ls-tree", e))?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Io { path, source }
    };
    fs::create_dir_all(dest).map_err(io_err(dest))?;
    let mut entries = Vec::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            return Err(git_failed(
                "ls-tree",
                format!("unexpected output {:?}", String::from_utf8_lossy(record)),
            ));
        };
        let (meta, raw_path) = (String::from_utf8_lossy(&record[..tab]), &record[tab + 1..]);
        let mut fields = meta.split(' ');
        let (Some(mode), Some(kind), Some(oid)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(git_failed("ls-tree", format!("unexpected output {meta:?}")));
        };
        let Some(rel) = safe_tree_path(raw_path) else {
            return Err(git_failed(
                "ls-tree",
                format!("refusing unsafe path {:?} in the tree", String::from_utf8_lossy(raw_path)),
            ));
        };
        match kind {
            "blob" => {
                entries.push(TreeEntry { path: dest.join(rel), oid: oid.to_string(), link: mode == "120000" })
            }
            // A submodule is not fetched; its directory is left empty.
            "commit" => fs::create_dir_all(dest.join(&rel)).map_err(io_err(&dest.join(&rel)))?,
            _ => {}
        }
    }
    write_blobs(git, at, dest, &entries, location)
}

/// Accepts only plain relative components: git itself refuses to check out
/// `..` or `.git`, and so must a tree written by hand.
fn safe_tree_path(raw: &[u8]) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    for part in raw.split(|&b| b == b'/') {
        if part.is_empty() || part == b"." || part == b".." || part.eq_ignore_ascii_case(b".git") {
            return None;
        }
        if cfg!(windows) && part.iter().any(|b| b"\\:".contains(b)) {
            return None;
        }
        path.push(os_from_bytes(part)?);
    }
    Some(path)
}

#[cfg(unix)]
fn os_from_bytes(bytes: &[u8]) -> Option<OsString> {
    use std::os::unix::ffi::OsStrExt;
    Some(OsStr::from_bytes(bytes).to_os_string())
}

/// Elsewhere git writes tree paths as UTF-8.
#[cfg(not(unix))]
fn os_from_bytes(bytes: &[u8]) -> Option<OsString> {
    std::str::from_utf8(bytes).ok().map(OsString::from)
}

/// Streams every blob through one `git cat-file --batch`. Symlinks are made
/// last, so no file is ever written through one.
fn write_blobs(
    git: &Git,
    at: At<'_>,
    dest: &Path,
    entries: &[TreeEntry],
    location: &str,
) -> Result<(), ArtifactError> {
    let mut cmd = git.command(at);
    cmd.args(["cat-file", "--batch"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = git.spawn(&mut cmd)?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ArtifactError::Git {
            location: location.into(),
            action: "cat-file",
            stderr: "no pipes".into(),
        });
    };
    let result = std::thread::scope(|s| {
        // Requests go in from another thread: both pipes would fill otherwise.
        s.spawn(move || {
            let mut requests = io::BufWriter::new(&mut stdin);
            for entry in entries {
                if writeln!(requests, "{}", entry.oid).is_err() {
                    return;
                }
            }
            let _ = requests.flush();
        });
        let stderr_reader = s.spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let written = read_blobs(BufReader::new(stdout), entries);
        (written, stderr_reader.join().unwrap_or_default())
    });
    let (written, stderr_text) = result;
    let status =
        child.wait().map_err(|source| ArtifactError::Io { path: PathBuf::from(&git.program), source })?;
    let failed = |detail: String| {
        let stderr = [detail, stderr_text.trim().to_string()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        ArtifactError::Git { location: location.into(), action: "cat-file", stderr: stderr.join(": ") }
    };
    match written {
        Err(BlobError::Io(path, source)) => Err(ArtifactError::Io { path, source }),
        Err(BlobError::Git(detail)) => Err(failed(detail)),
        Ok(_) if !status.success() => Err(failed(status.to_string())),
        Ok(links) => make_links(dest, &links),
    }
}

enum BlobError {
    Io(PathBuf, io::Error),
    Git(String),
}

/// Reads `cat-file --batch` answers (`<oid> blob <size>\n<bytes>\n`) in
/// request order, writing files and returning symlink targets.
fn read_blobs(mut out: impl BufRead, entries: &[TreeEntry]) -> Result<Vec<(PathBuf, Vec<u8>)>, BlobError> {
    let mut header = Vec::new();
    let mut links = Vec::new();
    for entry in entries {
        header.clear();
        out.read_until(b'\n', &mut header).map_err(|e| BlobError::Git(e.to_string()))?;
        let line = String::from_utf8_lossy(&header);
        let mut fields = line.trim_end().split(' ');
        let size = match (fields.next(), fields.next(), fields.next()) {
            (Some(oid), Some("blob"), Some(size)) if oid == entry.oid => size.parse::<u64>().ok(),
            _ => None,
        };
        let Some(size) = size else {
            return Err(BlobError::Git(format!("object {} unavailable ({:?})", entry.oid, line.trim_end())));
        };
        let mut body = (&mut out).take(size);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |e| BlobError::Io(path, e)
        };
        if entry.link {
            let mut target = Vec::new();
            body.read_to_end(&mut target).map_err(io_err(&entry.path))?;
            links.push((entry.path.clone(), target));
        } else {
            if let Some(parent) = entry.path.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let mut file = fs::File::create_new(&entry.path).map_err(io_err(&entry.path))?;
            io::copy(&mut body, &mut file).map_err(io_err(&entry.path))?;
        }
        let mut newline = [0u8; 1];
        if body.limit() != 0 || out.read_exact(&mut newline).is_err() || newline != *b"\n" {
            return Err(BlobError::Git(format!("truncated output for object {}", entry.oid)));
        }
    }
    Ok(links)
}

/// Creates the tree's symlinks, refusing one whose parent is itself a link
/// (which a crafted tree could use to place a link outside `dest`).
fn make_links(dest: &Path, links: &[(PathBuf, Vec<u8>)]) -> Result<(), ArtifactError> {
    for (path, target) in links {
        let io_err = |source| ArtifactError::Io { path: path.clone(), source };
        let through_link = path
            .ancestors()
            .skip(1)
            .take_while(|a| *a != dest)
            .any(|a| fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()));
        if through_link {
            return Err(io_err(io::Error::other("refusing a symlink below another symlink")));
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err)?;
        }
        write_link(path, target).map_err(io_err)?;
    }
    Ok(())
}

#[cfg(unix)]
fn write_link(path: &Path, target: &[u8]) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(OsStr::from_bytes(target), path)
}

/// Where symlinks need privileges, write the target as text, as git does
/// with `core.symlinks=false`.
#[cfg(not(unix))]
fn write_link(path: &Path, target: &[u8]) -> io::Result<()> {
    fs::File::create_new(path)?.write_all(target)
}

/// Where a git command runs.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Anywhere,
    /// `-C`: git finds the repository from there, as a user's git would.
    Dir(&'a Path),
    /// A repository rampart created itself.
    GitDir(&'a Path),
}

/// Settings forced on every git command: no hooks, no fsmonitor daemon, no
/// `ext::` transport, no background maintenance outliving a temporary clone,
/// and a stalled HTTP transfer aborts after a minute instead of hanging.
const FORCED_CONFIG: &[&str] = &[
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "protocol.ext.allow=never",
    "gc.auto=0",
    "maintenance.auto=false",
    "http.lowSpeedLimit=1",
    "http.lowSpeedTime=60",
];

/// Variables that would point git at another repository, index or object
/// store than the one named (set, say, when rampart runs from a git hook).
const REPO_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
];

#[derive(Clone)]
pub(crate) struct Git {
    program: OsString,
    offline: bool,
    /// Run ssh with `BatchMode=yes` so it fails instead of prompting.
    batch_ssh: bool,
}

impl Git {
    /// For reading a local repository: nothing it runs may reach the network.
    pub(crate) fn local_only() -> Git {
        Git { program: OsString::from("git"), offline: true, batch_ssh: false }
    }

    pub(crate) fn command(&self, at: At<'_>) -> Command {
        let mut cmd = Command::new(&self.program);
        for var in REPO_ENV {
            cmd.env_remove(var);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("GIT_LFS_SKIP_SMUDGE", "1")
            // Offline, even a partial clone's lazy fetch or a file:// remote's
            // redirect must not reach the network.
            .env("GIT_ALLOW_PROTOCOL", if self.offline { "file" } else { "file:git:http:https:ssh" });
        if self.offline {
            cmd.env("GIT_NO_LAZY_FETCH", "1");
        }
        if self.batch_ssh {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        for setting in FORCED_CONFIG {
            cmd.args(["-c", setting]);
        }
        match at {
            At::Anywhere => {}
            At::Dir(dir) => {
                cmd.arg("-C").arg(dir);
            }
            At::GitDir(dir) => {
                let mut arg = OsString::from("--git-dir=");
                arg.push(dir);
                cmd.arg(arg);
            }
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    pub(crate) fn spawn(&self, cmd: &mut Command) -> Result<std::process::Child, ArtifactError> {
        cmd.spawn().map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ArtifactError::GitMissing,
            _ => ArtifactError::Io { path: PathBuf::from(&self.program), source },
        })
    }

    /// Runs git: `Err` only when it cannot be started; the inner result is
    /// its stdout, or its trimmed stderr when it failed.
    fn run<I, S>(&self, at: At<'_>, args: I) -> Result<Result<Vec<u8>, String>, ArtifactError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(at);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let output = self
            .spawn(&mut cmd)?
            .wait_with_output()
            .map_err(|source| ArtifactError::Io { path: PathBuf::from(&self.program), source })?;
        if output.status.success() {
            return Ok(Ok(output.stdout));
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        Ok(Err(if stderr.is_empty() { format!("git exited with {}", output.status) } else { stderr }))
    }

    /// [`Git::run`] for one-line answers.
    pub(crate) fn text<I, S>(&self, at: At<'_>, args: I) -> Result<Result<String, String>, ArtifactError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Ok(self.run(at, args)?.map(|out| String::from_utf8_lossy(&out).trim().to_string()))
    }

    /// Whether ssh could stop to ask for a passphrase or host key: only when
    /// the user configured no ssh command of their own, which rampart leaves alone.
    fn ssh_may_prompt(&self) -> Result<bool, ArtifactError> {
        if std::env::var_os("GIT_SSH_COMMAND").is_some() || std::env::var_os("GIT_SSH").is_some() {
            return Ok(false);
        }
        Ok(self.text(At::Anywhere, ["config", "--get", "core.sshCommand"])?.is_err())
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_git_is_reported_as_such() {
        let git =
            Git { program: OsString::from("rampart-test-no-such-git"), offline: false, batch_ssh: false };
        let here = env!("CARGO_MANIFEST_DIR");
        let err = checkout_with(&git, here, &RepoRef::default()).unwrap_err();
        assert!(matches!(err, ArtifactError::GitMissing), "{err:?}");
        assert!(err.to_string().contains("PATH"), "{err}");
    }

    #[test]
    fn locations_are_told_apart() {
        let remote = |l| match classify(l) {
            Ok(Location::Remote { network, ssh, .. }) => Some((network, ssh)),
            _ => None,
        };
        assert_eq!(remote("https://example.com/a/b.git"), Some((true, false)));
        assert_eq!(remote("HTTP://example.com/a"), Some((true, false)));
        assert_eq!(remote("git://example.com/a"), Some((true, false)));
        assert_eq!(remote("ssh://git@example.com/a"), Some((true, true)));
        assert_eq!(remote("git@github.com:org/repo.git"), Some((true, true)));
        assert_eq!(remote("file:///srv/repo.git"), Some((false, false)));
        assert!(matches!(classify(env!("CARGO_MANIFEST_DIR")), Ok(Location::Local(_))));
        assert!(matches!(classify("./no/such/dir"), Err(ArtifactError::NotFound { .. })));
        for bad in ["ext::sh -c id", "ftp://example.com/x", "-uhelp", ""] {
            assert!(matches!(classify(bad), Err(ArtifactError::UnsupportedLocation { .. })), "{bad}");
        }
    }

    #[test]
    fn credentials_never_leave_the_url() {
        assert_eq!(redact("https://user:tok@example.com/a.git"), "https://example.com/a.git");
        assert_eq!(redact("https://tok@example.com/x@y"), "https://example.com/x@y");
        assert_eq!(redact("http://example.com/a"), "http://example.com/a");
        assert_eq!(redact("ssh://git@example.com/a"), "ssh://git@example.com/a");
        assert_eq!(redact("git@example.com:a"), "git@example.com:a");
    }

    #[test]
    fn refs_are_validated_before_git_sees_them() {
        let r = |branch: Option<&str>, tag: Option<&str>, commit: Option<&str>| RepoRef {
            branch: branch.map(String::from),
            tag: tag.map(String::from),
            commit: commit.map(String::from),
            full_history: false,
        };
        assert!(Wanted::from_ref(&r(Some("feature/x-1"), None, None)).is_ok());
        assert!(Wanted::from_ref(&r(None, Some("v1.2.3"), None)).is_ok());
        assert!(Wanted::from_ref(&r(None, None, Some("DEADbeef"))).is_ok());
        for bad in [
            r(Some("main"), Some("v1"), None),
            r(Some("-x"), None, None),
            r(Some("a:b"), None, None),
            r(Some("+refs/*"), None, None),
            r(Some("a..b"), None, None),
            r(None, Some(""), None),
            r(None, None, Some("abc")),
            r(None, None, Some("HEAD~1")),
        ] {
            let err = Wanted::from_ref(&bad).err();
            assert!(matches!(err, Some(ArtifactError::InvalidRef { .. })), "{bad:?}");
        }
    }

    #[test]
    fn tree_paths_stay_inside_the_checkout() {
        assert_eq!(safe_tree_path(b"a/b.lock"), Some(PathBuf::from("a/b.lock")));
        for bad in [&b"../x"[..], b"a/../../x", b"/etc/passwd", b".git/hooks/x", b"a/.GIT/x", b"a//b", b"./a"]
        {
            assert_eq!(safe_tree_path(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn remote_failures_are_classified_by_gits_wording() {
        let kind = |stderr: &str| match remote_error("u", "clone", stderr.to_string()) {
            ArtifactError::RemoteNotFound { .. } => "not-found",
            ArtifactError::AuthFailed { .. } => "auth",
            _ => "other",
        };
        assert_eq!(
            kind("fatal: remote error: access denied or repository not exported: /x.git"),
            "not-found"
        );
        assert_eq!(
            kind("remote: Repository not found.\nfatal: repository 'https://h/x/' not found"),
            "not-found"
        );
        assert_eq!(kind("fatal: could not read Username for 'https://h': terminal prompts disabled"), "auth");
        assert_eq!(kind("git@h: Permission denied (publickey)."), "auth");
        assert_eq!(kind("fatal: unable to access 'https://h/': Could not resolve host: h"), "other");
    }
}
