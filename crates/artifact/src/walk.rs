//! The parallel directory walk behind `rampart fs` and `rampart repo`.

use std::borrow::Cow;
use std::fs;
use std::io;
use std::path::{MAIN_SEPARATOR, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use rampart_types::Diagnostic;

use crate::{ArtifactError, WalkEntry, WalkOptions, WalkOutcome};

pub(crate) fn walk(
    root: &Path,
    opts: &WalkOptions,
    claim: &(dyn Fn(&str) -> bool + Sync),
) -> Result<WalkOutcome, ArtifactError> {
    let meta = fs::metadata(root).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => ArtifactError::NotFound { path: root.to_path_buf() },
        _ => ArtifactError::Io { path: root.to_path_buf(), source: err },
    })?;
    let canonical_root =
        fs::canonicalize(root).map_err(|source| ArtifactError::Io { path: root.to_path_buf(), source })?;
    let filters = Filters::new(opts, root, &canonical_root)?;

    if !meta.is_dir() {
        return Ok(walk_single_file(root, &meta, &filters, claim));
    }

    // The walker lists a symlinked root as a plain entry instead of descending
    // into it, so a root given through a link is walked at its target.
    let walk_root = match fs::symlink_metadata(root) {
        Ok(m) if m.file_type().is_symlink() => canonical_root.clone(),
        _ => root.to_path_buf(),
    };
    let filters = Arc::new(filters);
    let mut builder = WalkBuilder::new(&walk_root);
    builder.standard_filters(false).follow_links(false);
    let dir_filter = Arc::clone(&filters);
    let filter_root = walk_root.clone();
    // Filtering here rather than in the visitor keeps the walker from even
    // listing a skipped directory.
    builder.filter_entry(move |entry| {
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        !is_dir
            || !dir_filter
                .skips_dir(entry.file_name().as_encoded_bytes(), &rel_str(entry.path(), &filter_root))
    });

    let shared = Mutex::new(WalkOutcome::default());
    let mut visitors = Visitors {
        ctx: VisitContext { root: &walk_root, canonical_root: &canonical_root, filters: &filters, claim },
        shared: &shared,
    };
    builder.build_parallel().visit(&mut visitors);

    let mut outcome = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    outcome.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    outcome.warnings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Ok(outcome)
}

/// A root that is a file is scanned on its own, under its file name.
fn walk_single_file(
    root: &Path,
    meta: &fs::Metadata,
    filters: &Filters,
    claim: &(dyn Fn(&str) -> bool + Sync),
) -> WalkOutcome {
    let mut outcome = WalkOutcome::default();
    let Some(name) = root.file_name() else {
        return outcome;
    };
    let rel = name.to_string_lossy();
    if meta.is_file() && !filters.skips_file(&rel) && claim(&rel) {
        outcome.files.push(WalkEntry { path: root.to_path_buf(), rel: rel.into_owned() });
    }
    outcome
}

/// The compiled `--skip-dirs` / `--skip-files` globs.
struct Filters {
    skip_dirs: Option<GlobSet>,
    skip_files: Option<GlobSet>,
}

impl Filters {
    fn new(opts: &WalkOptions, root: &Path, canonical_root: &Path) -> Result<Filters, ArtifactError> {
        let roots = root_spellings(root, canonical_root);
        Ok(Filters {
            skip_dirs: compile("skip-dirs", &opts.skip_dirs, &roots)?,
            skip_files: compile("skip-files", &opts.skip_files, &roots)?,
        })
    }

    /// `.git` internals are never scanned: they hold no lockfiles, and a repository's
    /// objects can dwarf its working tree.
    fn skips_dir(&self, name: &[u8], rel: &str) -> bool {
        name == b".git" || self.skip_dirs.as_ref().is_some_and(|set| set.is_match(rel))
    }

    fn skips_file(&self, rel: &str) -> bool {
        self.skip_files.as_ref().is_some_and(|set| set.is_match(rel))
    }

    /// Whether some directory above `rel` is skipped, so a symlink cannot
    /// smuggle in a file the walk itself would never have reached.
    fn skips_ancestor(&self, rel: &str) -> bool {
        let mut end = 0;
        while let Some(slash) = rel[end..].find('/') {
            let dir = &rel[..end + slash];
            let name = &dir[dir.rfind('/').map_or(0, |i| i + 1)..];
            if self.skips_dir(name.as_bytes(), dir) {
                return true;
            }
            end += slash + 1;
        }
        false
    }
}

/// The absolute spellings of the root a user might start a pattern with.
fn root_spellings(root: &Path, canonical_root: &Path) -> Vec<PathBuf> {
    let mut roots = vec![canonical_root.to_path_buf()];
    if let Ok(abs) = std::path::absolute(root)
        && abs != canonical_root
    {
        roots.push(abs);
    }
    roots
}

fn compile(
    option: &'static str,
    patterns: &[String],
    roots: &[PathBuf],
) -> Result<Option<GlobSet>, ArtifactError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let bad = |pattern: &str, reason: String| ArtifactError::BadPattern {
        option,
        pattern: pattern.to_string(),
        reason,
    };
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let normalized =
            normalize_pattern(pattern, roots).map_err(|reason| bad(pattern, reason.to_string()))?;
        // `*` stops at `/` as in Trivy's doublestar globs; only `**` crosses directories.
        let glob = GlobBuilder::new(&normalized)
            .literal_separator(true)
            .build()
            .map_err(|e| bad(pattern, e.kind().to_string()))?;
        set.add(glob);
    }
    set.build().map(Some).map_err(|e| bad(&patterns.join(", "), e.to_string()))
}

/// Turns a user's pattern into one relative to the walk root, the form Trivy
/// matches against: `./vendor/` and `<root>/vendor` both become `vendor`. An
/// absolute path outside the root loses its leading `/` as in Trivy, which is
/// what makes `/usr/lib` mean the image's `usr/lib` when scanning a rootfs.
fn normalize_pattern(pattern: &str, roots: &[PathBuf]) -> Result<String, &'static str> {
    let mut pattern = Cow::Borrowed(pattern);
    if MAIN_SEPARATOR != '/' {
        pattern = Cow::Owned(pattern.replace(MAIN_SEPARATOR, "/"));
    }
    let as_path = Path::new(pattern.as_ref());
    if as_path.is_absolute()
        && let Some(rel) = roots.iter().find_map(|r| as_path.strip_prefix(r).ok())
    {
        pattern = Cow::Owned(rel.to_string_lossy().replace(MAIN_SEPARATOR, "/"));
    }
    let mut parts = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("`..` can never match a path inside the scanned tree"),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("the pattern names the scan root itself");
    }
    Ok(parts.join("/"))
}

/// `path` relative to `root`, `/`-separated; borrowed unless the name is not
/// UTF-8 or the platform separator differs.
fn rel_str<'a>(path: &'a Path, root: &Path) -> Cow<'a, str> {
    let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy();
    if MAIN_SEPARATOR != '/' && rel.contains(MAIN_SEPARATOR) {
        return Cow::Owned(rel.replace(MAIN_SEPARATOR, "/"));
    }
    rel
}

/// What every per-thread visitor shares.
#[derive(Clone, Copy)]
struct VisitContext<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    filters: &'a Filters,
    claim: &'a (dyn Fn(&str) -> bool + Sync),
}

struct Visitors<'a> {
    ctx: VisitContext<'a>,
    shared: &'a Mutex<WalkOutcome>,
}

impl<'s> ParallelVisitorBuilder<'s> for Visitors<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor { ctx: self.ctx, shared: self.shared, local: WalkOutcome::default() })
    }
}

/// Collects into a thread-local outcome, merged once when the walker drops
/// it, so threads do not contend on a lock per file.
struct Visitor<'a> {
    ctx: VisitContext<'a>,
    shared: &'a Mutex<WalkOutcome>,
    local: WalkOutcome,
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.files.append(&mut self.local.files);
        shared.warnings.append(&mut self.local.warnings);
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.visit_entry(entry),
            Err(err) => self.local.warnings.push(diagnostic(self.ctx.root, &err)),
        }
        WalkState::Continue
    }
}

impl Visitor<'_> {
    fn visit_entry(&mut self, entry: DirEntry) {
        let Some(file_type) = entry.file_type() else {
            return;
        };
        // Directories are handled by the walker; fifos, sockets and devices
        // are never claimed, so nothing ever blocks opening one.
        let is_link = file_type.is_symlink();
        if !file_type.is_file() && !is_link {
            return;
        }
        let rel = rel_str(entry.path(), self.ctx.root);
        if self.ctx.filters.skips_file(&rel) || !(self.ctx.claim)(&rel) {
            return;
        }
        if is_link {
            match self.check_link(entry.path()) {
                Ok(true) => {}
                Ok(false) => return,
                Err(message) => {
                    self.local.warnings.push(Diagnostic::new(rel.into_owned(), message));
                    return;
                }
            }
        }
        let rel = rel.into_owned();
        self.local.files.push(WalkEntry { path: entry.into_path(), rel });
    }

    /// Whether a claimed symlink may be read: only when it resolves to a
    /// regular file inside the root that the walk would not have skipped.
    fn check_link(&self, link: &Path) -> Result<bool, String> {
        let target = fs::canonicalize(link).map_err(|e| format!("cannot resolve symlink: {e}"))?;
        // Directory links are never descended, wherever they point.
        let meta = fs::metadata(&target).map_err(|e| format!("cannot read symlink target: {e}"))?;
        if !meta.is_file() {
            return Ok(false);
        }
        let Ok(inside) = target.strip_prefix(self.ctx.canonical_root) else {
            return Err(format!(
                "symlink points outside the scanned tree (to {}); not followed",
                target.display()
            ));
        };
        let inside = rel_str(inside, Path::new(""));
        if self.ctx.filters.skips_ancestor(&inside) || self.ctx.filters.skips_file(&inside) {
            return Err(format!("symlink points into a skipped path ({inside}); not followed"));
        }
        Ok(true)
    }
}

/// A walk error as a warning naming the path it concerns, relative to the root when inside it.
fn diagnostic(root: &Path, err: &ignore::Error) -> Diagnostic {
    let (path, message) = error_parts(err);
    let shown = match path {
        Some(p) => match p.strip_prefix(root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel_str(rel, Path::new("")).into_owned(),
            _ => p.display().to_string(),
        },
        None => root.display().to_string(),
    };
    Diagnostic::new(shown, message)
}

/// The innermost path an error mentions, and its message without the path.
fn error_parts(err: &ignore::Error) -> (Option<&Path>, String) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (inner, message) = error_parts(err);
            (inner.or(Some(path.as_path())), message)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_parts(err),
        ignore::Error::Partial(errs) if errs.len() == 1 => error_parts(&errs[0]),
        ignore::Error::Loop { child, ancestor } => {
            (Some(child.as_path()), format!("filesystem loop back to {}; not descended", ancestor.display()))
        }
        ignore::Error::Io(io) => (None, format!("cannot read: {io}")),
        other => (None, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(p: &str) -> Result<String, &'static str> {
        normalize_pattern(p, &[PathBuf::from("/scan/root")])
    }

    #[test]
    fn patterns_are_made_relative_to_the_root() {
        assert_eq!(norm("ssl").unwrap(), "ssl");
        assert_eq!(norm("./ssl/").unwrap(), "ssl");
        assert_eq!(norm(".//a/./b").unwrap(), "a/b");
        assert_eq!(norm("/scan/root/vendor/**").unwrap(), "vendor/**");
        assert_eq!(norm("/usr/lib").unwrap(), "usr/lib");
        assert_eq!(norm("**/node_modules").unwrap(), "**/node_modules");
        assert!(norm("../x").is_err());
        assert!(norm("./").is_err());
        assert!(norm("/scan/root").is_err());
    }

    #[test]
    fn walk_errors_name_the_path_relative_to_the_root() {
        let io = io::Error::new(io::ErrorKind::PermissionDenied, "denied");
        let err = ignore::Error::WithDepth {
            depth: 2,
            err: Box::new(ignore::Error::WithPath {
                path: PathBuf::from("/r/a/b"),
                err: Box::new(ignore::Error::Io(io)),
            }),
        };
        let d = diagnostic(Path::new("/r"), &err);
        assert_eq!(d.path, "a/b");
        assert!(d.message.contains("denied"), "{}", d.message);

        let outside =
            ignore::Error::Loop { ancestor: PathBuf::from("/r"), child: PathBuf::from("/elsewhere/x") };
        let d = diagnostic(Path::new("/r"), &outside);
        assert_eq!(d.path, "/elsewhere/x");
        assert!(d.message.contains("loop"), "{}", d.message);
    }

    #[test]
    fn ancestors_of_a_link_target_are_checked() {
        let opts = WalkOptions { skip_dirs: vec!["**/ssl".into()], skip_files: vec![] };
        let f = Filters::new(&opts, Path::new("/r"), Path::new("/r")).unwrap();
        assert!(f.skips_ancestor("a/ssl/x.lock"));
        assert!(f.skips_ancestor(".git/config"));
        assert!(f.skips_ancestor("x/.git/y/z"));
        assert!(!f.skips_ancestor("a/b/x.lock"));
        assert!(!f.skips_ancestor("ssl"));
    }
}
