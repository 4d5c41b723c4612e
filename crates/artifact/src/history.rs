//! Every blob in a repository's history, once, with the commit that
//! introduced it: what a secret scan of git history reads.
//!
//! Four git processes, each streamed: `rev-list` lists the commits oldest
//! first, `diff-tree --stdin` names the blobs each commit adds (against its
//! first parent, so a merge only claims what it changed itself),
//! `cat-file --batch-check` gives their sizes and one `cat-file --batch`
//! hands over the contents. Nothing is checked out, and the same hardening
//! as checkouts applies (no hooks, no fsmonitor, no network).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rampart_types::CommitInfo;

use crate::ArtifactError;
use crate::git::{At, Git, resolve};

/// One blob, the first time history shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryBlob {
    /// The blob's object id.
    pub id: String,
    /// Where the introducing commit put it, `/`-separated.
    pub path: String,
    /// The oldest commit that added the blob at `path`; `author` is
    /// `Name <email>` and `date` the author date in RFC 3339.
    pub commit: CommitInfo,
    pub content: Vec<u8>,
}

/// What a history walk saw and left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistorySummary {
    pub commits: usize,
    /// Blobs handed to the visitor.
    pub visited: usize,
    /// Blobs over the size limit, never read.
    pub too_large: usize,
    /// Blobs with a NUL byte in their first 8 KiB.
    pub binary: usize,
    /// Blobs the object store does not have (a partial or shallow clone).
    pub missing: usize,
}

/// Walks the history reachable from `refs` (branch, tag or commit names;
/// empty: every local branch, remote-tracking branch and tag, plus `HEAD`)
/// and hands each distinct blob to `visit`, oldest first. Blobs larger than
/// `max_blob_size`, binary ones, symlinks and submodules are left out, and
/// so are blobs at paths `skip_path` rejects (unless the same blob also
/// appears at a path it accepts). `visit` may stop the walk early.
pub fn blobs(
    repo_dir: &Path,
    refs: &[String],
    max_blob_size: u64,
    skip_path: &dyn Fn(&str) -> bool,
    visit: &mut dyn FnMut(HistoryBlob) -> ControlFlow<()>,
) -> Result<HistorySummary, ArtifactError> {
    let git = Git::local_only();
    let at = At::Dir(repo_dir);
    let location = repo_dir.display().to_string();
    git.text(at, ["rev-parse", "--git-dir"])?
        .map_err(|stderr| ArtifactError::NotARepository { location: location.clone(), stderr })?;
    let tips = tips(&git, at, &location, refs)?;
    if tips.is_empty() {
        return Err(ArtifactError::NoCommits { location });
    }
    let run = Run { git: &git, at, location: &location };
    let commits = run.commits(&tips)?;
    if commits.is_empty() {
        return Err(ArtifactError::NoCommits { location });
    }
    let added = run.added_blobs(&commits, skip_path)?;
    let sizes = run.sizes(&added)?;
    let mut summary = HistorySummary { commits: commits.len(), ..HistorySummary::default() };
    let mut wanted = Vec::new();
    for (blob, size) in added.into_iter().zip(sizes) {
        match size {
            None => summary.missing += 1,
            Some(size) if size > max_blob_size => summary.too_large += 1,
            Some(_) => wanted.push(blob),
        }
    }
    run.contents(&commits, wanted, &mut summary, visit)?;
    Ok(summary)
}

/// The commits to start from, resolved to full ids.
fn tips(git: &Git, at: At<'_>, location: &str, refs: &[String]) -> Result<Vec<String>, ArtifactError> {
    if refs.is_empty() {
        let format = "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)";
        let listing =
            git.text(at, ["for-each-ref", format, "refs/heads", "refs/remotes", "refs/tags"])?.map_err(
                |stderr| ArtifactError::Git { location: location.into(), action: "for-each-ref", stderr },
            )?;
        let mut tips = Vec::new();
        for line in listing.lines() {
            // Tags may point at trees or blobs; only commits have history.
            let commit = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["commit", id, ..] | ["tag", _, "commit", id] => Some(id.to_string()),
                // A tag of a tag: let git peel it all the way.
                ["tag", id, "tag", _] => resolve(git, at, id)?,
                _ => None,
            };
            tips.extend(commit);
        }
        // A detached HEAD may be on no branch.
        tips.extend(resolve(git, at, "HEAD")?);
        tips.sort();
        tips.dedup();
        return Ok(tips);
    }
    refs.iter()
        .map(|name| {
            if name.is_empty() || name.starts_with('-') {
                return Err(ArtifactError::InvalidRef {
                    reason: format!("{name:?} is not a ref or commit name"),
                });
            }
            resolve(git, at, name)?.ok_or_else(|| ArtifactError::UnknownRef {
                location: location.into(),
                kind: "ref",
                name: name.clone(),
                stderr: "no such branch, tag or commit in the repository".into(),
            })
        })
        .collect()
}

struct Commit {
    id: String,
    first_parent: Option<String>,
    info: CommitInfo,
}

/// A blob as first seen: its id, path and introducing commit (an index).
struct Added {
    id: String,
    path: String,
    commit: usize,
}

struct Run<'a> {
    git: &'a Git,
    at: At<'a>,
    location: &'a str,
}

/// How a streaming reader ended.
enum Ending {
    /// Every answer was read; git's exit status decides.
    Complete,
    /// The reader stopped on purpose; git is killed.
    Stopped,
}

impl Run<'_> {
    fn git_error(&self, action: &'static str, stderr: String) -> ArtifactError {
        ArtifactError::Git { location: self.location.to_string(), action, stderr }
    }

    /// Runs git with `feed` written to its stdin from another thread (both
    /// pipes would fill otherwise) while `read` consumes its stdout.
    fn stream<R>(
        &self,
        action: &'static str,
        args: &[&str],
        feed: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send,
        read: impl FnOnce(&mut dyn BufRead) -> Result<(R, Ending), ArtifactError>,
    ) -> Result<R, ArtifactError> {
        let mut cmd = self.git.command(self.at);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.git.spawn(&mut cmd)?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(self.git_error(action, "no pipes to git".into()));
        };
        let (result, stderr_text) = std::thread::scope(|s| {
            s.spawn(move || {
                let mut input = io::BufWriter::new(stdin);
                // A write error means git exited; its status tells why.
                let _ = feed(&mut input).and_then(|()| input.flush());
            });
            let stderr_reader = s.spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            });
            let mut output = BufReader::new(stdout);
            let result = read(&mut output);
            if !matches!(result, Ok((_, Ending::Complete))) {
                // Unblocks the feeding thread before the scope joins it.
                let _ = child.kill();
            }
            drop(output);
            (result, stderr_reader.join().unwrap_or_default())
        });
        let status =
            child.wait().map_err(|source| ArtifactError::Io { path: PathBuf::from("git"), source })?;
        match result {
            Ok((value, Ending::Stopped)) => Ok(value),
            Ok((value, Ending::Complete)) if status.success() => Ok(value),
            Ok(_) => Err(self.git_error(action, non_empty(stderr_text, status.to_string()))),
            Err(ArtifactError::Git { location, action, stderr }) => {
                let stderr = [stderr, stderr_text.trim().to_string()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(": ");
                Err(ArtifactError::Git { location, action, stderr })
            }
            Err(e) => Err(e),
        }
    }

    /// Every commit reachable from `tips`, parents before children.
    fn commits(&self, tips: &[String]) -> Result<Vec<Commit>, ArtifactError> {
        let mut args =
            vec!["rev-list", "--date-order", "--reverse", "--parents", "--format=%an%x00%ae%x00%aI"];
        args.extend(tips.iter().map(String::as_str));
        args.push("--");
        self.stream(
            "rev-list",
            &args,
            |_| Ok(()),
            |out| {
                let mut commits = Vec::new();
                let mut header = String::new();
                let mut meta = String::new();
                loop {
                    header.clear();
                    if read_line(out, &mut header, self)? == 0 {
                        return Ok((commits, Ending::Complete));
                    }
                    meta.clear();
                    read_line(out, &mut meta, self)?;
                    let mut ids = header.trim_end().strip_prefix("commit ").unwrap_or_default().split(' ');
                    let mut fields = meta.trim_end_matches('\n').split('\0');
                    let (Some(id), Some(name), Some(email), Some(date)) =
                        (ids.next(), fields.next(), fields.next(), fields.next())
                    else {
                        return Err(self.git_error("rev-list", format!("unexpected output {header:?}")));
                    };
                    commits.push(Commit {
                        id: id.to_string(),
                        first_parent: ids.next().filter(|p| !p.is_empty()).map(str::to_string),
                        info: CommitInfo {
                            commit: id.to_string(),
                            author: format!("{name} <{email}>"),
                            date: date.to_string(),
                        },
                    });
                }
            },
        )
    }

    /// Blobs in the order history introduces them, each once.
    fn added_blobs(
        &self,
        commits: &[Commit],
        skip_path: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Added>, ArtifactError> {
        let index: HashMap<&str, usize> =
            commits.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let args = ["diff-tree", "--stdin", "-r", "--root", "--no-renames", "--no-abbrev", "-z"];
        self.stream(
            "diff-tree",
            &args,
            |input| {
                for commit in commits {
                    match &commit.first_parent {
                        Some(parent) => writeln!(input, "{} {parent}", commit.id)?,
                        None => writeln!(input, "{}", commit.id)?,
                    }
                }
                Ok(())
            },
            |out| {
                let mut seen = HashSet::new();
                let mut added = Vec::new();
                let mut current = None;
                let mut record = Vec::new();
                let mut path = Vec::new();
                loop {
                    record.clear();
                    if read_field(out, &mut record, self)? == 0 {
                        return Ok((added, Ending::Complete));
                    }
                    let Some(meta) = record.strip_prefix(b":") else {
                        // The id of the commit whose changes follow.
                        let id = String::from_utf8_lossy(&record);
                        current = Some(*index.get(id.as_ref()).ok_or_else(|| {
                            self.git_error("diff-tree", format!("unexpected commit {id:?} in the output"))
                        })?);
                        continue;
                    };
                    path.clear();
                    read_field(out, &mut path, self)?;
                    let meta = String::from_utf8_lossy(meta);
                    let fields: Vec<&str> = meta.split(' ').collect();
                    let (Some(commit), [_, new_mode, _, new_id, status]) = (current, fields.as_slice())
                    else {
                        return Err(self.git_error("diff-tree", format!("unexpected output {meta:?}")));
                    };
                    // Regular files only: no deletions, symlinks or submodules.
                    let regular = matches!(*new_mode, "100644" | "100755" | "100664");
                    if !regular || status.starts_with('D') || seen.contains(*new_id) {
                        continue;
                    }
                    let path = String::from_utf8_lossy(&path).into_owned();
                    if skip_path(&path) {
                        continue;
                    }
                    seen.insert(new_id.to_string());
                    added.push(Added { id: new_id.to_string(), path, commit });
                }
            },
        )
    }

    /// Each blob's size, or `None` for one the repository lacks.
    fn sizes(&self, blobs: &[Added]) -> Result<Vec<Option<u64>>, ArtifactError> {
        self.stream(
            "cat-file",
            &["cat-file", "--batch-check"],
            |input| blobs.iter().try_for_each(|b| writeln!(input, "{}", b.id)),
            |out| {
                let mut sizes = Vec::with_capacity(blobs.len());
                let mut line = String::new();
                for blob in blobs {
                    line.clear();
                    read_line(out, &mut line, self)?;
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let size = match fields.as_slice() {
                        [id, "blob", size] if *id == blob.id => size.parse().ok(),
                        [id, "missing"] if *id == blob.id => None,
                        _ => return Err(self.git_error("cat-file", format!("unexpected output {line:?}"))),
                    };
                    sizes.push(size);
                }
                Ok((sizes, Ending::Complete))
            },
        )
    }

    /// Streams the contents of `blobs` to `visit` through one `cat-file --batch`.
    fn contents(
        &self,
        commits: &[Commit],
        blobs: Vec<Added>,
        summary: &mut HistorySummary,
        visit: &mut dyn FnMut(HistoryBlob) -> ControlFlow<()>,
    ) -> Result<(), ArtifactError> {
        let ids: Vec<String> = blobs.iter().map(|b| b.id.clone()).collect();
        self.stream(
            "cat-file",
            &["cat-file", "--batch"],
            |input| ids.iter().try_for_each(|id| writeln!(input, "{id}")),
            |out| {
                let mut header = String::new();
                for blob in blobs {
                    header.clear();
                    read_line(out, &mut header, self)?;
                    let fields: Vec<&str> = header.split_whitespace().collect();
                    let size = match fields.as_slice() {
                        [id, "blob", size] if *id == blob.id => size.parse::<u64>().ok(),
                        _ => None,
                    };
                    let Some(size) = size else {
                        return Err(self.git_error("cat-file", format!("unexpected output {header:?}")));
                    };
                    let mut content = Vec::new();
                    (&mut *out).take(size).read_to_end(&mut content).map_err(|e| self.io_error(e))?;
                    let mut newline = [0u8; 1];
                    if content.len() as u64 != size
                        || out.read_exact(&mut newline).is_err()
                        || newline != *b"\n"
                    {
                        return Err(
                            self.git_error("cat-file", format!("truncated output for blob {}", blob.id))
                        );
                    }
                    if content[..content.len().min(8 * 1024)].contains(&0) {
                        summary.binary += 1;
                        continue;
                    }
                    summary.visited += 1;
                    let found = HistoryBlob {
                        id: blob.id,
                        path: blob.path,
                        commit: commits[blob.commit].info.clone(),
                        content,
                    };
                    if visit(found).is_break() {
                        return Ok(((), Ending::Stopped));
                    }
                }
                Ok(((), Ending::Complete))
            },
        )
    }

    fn io_error(&self, e: io::Error) -> ArtifactError {
        self.git_error("read", e.to_string())
    }
}

fn read_line(out: &mut dyn BufRead, line: &mut String, run: &Run<'_>) -> Result<usize, ArtifactError> {
    out.read_line(line).map_err(|e| run.io_error(e))
}

/// Reads one NUL-terminated field, without the NUL.
fn read_field(out: &mut dyn BufRead, field: &mut Vec<u8>, run: &Run<'_>) -> Result<usize, ArtifactError> {
    let n = out.read_until(0, field).map_err(|e| run.io_error(e))?;
    if field.last() == Some(&0) {
        field.pop();
    }
    Ok(n)
}

fn non_empty(text: String, fallback: String) -> String {
    let text = text.trim();
    if text.is_empty() { fallback } else { text.to_string() }
}
