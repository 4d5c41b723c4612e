//! The check catalogue and what every check sees: the model, each RUN step's
//! commands, and the Dockerfile's place on disk.

mod commands;
mod files;
mod image;
mod packages;

use std::path::Path;

use rampart_types::Severity;

use super::model::{Args, Instr, Model};
use super::parse::Keyword;
use super::shell::{SHELLS, Script};

/// One built-in check.
pub(crate) struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub description: &'static str,
    pub resolution: &'static str,
    /// Adds a hit per offending instruction; returns false when the check
    /// could not run on this file (it then counts neither way).
    pub run: fn(&Ctx<'_>, &mut Vec<Hit>) -> bool,
}

/// Every check, Trivy's ids first.
pub(crate) fn all() -> impl Iterator<Item = &'static Check> {
    image::CHECKS.iter().chain(packages::CHECKS).chain(commands::CHECKS).chain(files::CHECKS)
}

/// Where a check failed and why, in this file's terms.
#[derive(Debug)]
pub(crate) struct Hit {
    pub start: u32,
    pub end: u32,
    pub stage: Option<usize>,
    pub message: String,
}

impl Hit {
    /// A finding about the file as a whole, reported on line 1.
    fn file(message: String) -> Hit {
        Hit { start: 1, end: 1, stage: None, message }
    }
}

/// A `--mount=…` of a RUN step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mount {
    pub kind: String,
    pub target: String,
}

impl Mount {
    fn parse(spec: &str) -> Mount {
        let mut mount = Mount { kind: "bind".into(), target: String::new() };
        for field in spec.split(',') {
            match field.split_once('=') {
                Some(("type", v)) => mount.kind = v.to_ascii_lowercase(),
                Some(("target" | "dst" | "destination", v)) => mount.target = v.to_string(),
                _ => {}
            }
        }
        mount
    }
}

/// A RUN step with the commands it executes.
pub(crate) struct Run<'m> {
    pub idx: usize,
    pub instr: &'m Instr,
    /// The shell text analysed: the command, plus heredoc bodies fed to a shell.
    pub text: String,
    pub script: Script,
    pub mounts: Vec<Mount>,
}

impl<'m> Run<'m> {
    fn new(idx: usize, instr: &'m Instr) -> Run<'m> {
        let mounts = instr
            .flags
            .iter()
            .filter(|(name, _)| name == "mount")
            .filter_map(|(_, v)| v.as_deref().map(Mount::parse))
            .collect();
        let posix = instr.run.as_ref().and_then(|r| r.shell.as_ref()).is_none_or(|s| is_posix_shell(&s[0]));
        let (text, script) = match &instr.args {
            Args::Exec(argv) => (argv.join(" "), Script::exec(argv)),
            _ if !posix => (instr.ins.args.clone(), Script::default()),
            _ => {
                let mut text = instr.ins.args.clone();
                // `RUN <<EOF` and `RUN <<EOF bash` run the body; `RUN python3 <<EOF` does not.
                if Script::parse(&text).commands.iter().all(|c| SHELLS.contains(&c.name())) {
                    for doc in &instr.ins.heredocs {
                        text.push('\n');
                        text.push_str(&doc.body);
                    }
                }
                let script = Script::parse(&text);
                (text, script)
            }
        };
        Run { idx, instr, text, script, mounts }
    }

    pub(crate) fn cache_mount_covers(&self, dir: &str) -> bool {
        self.mounts.iter().any(|m| m.kind == "cache" && covers(&m.target, dir))
    }

    /// Some `rm` after command `after` deletes `dir` or something in it.
    pub(crate) fn removes_after(&self, after: usize, dir: &str) -> bool {
        self.script
            .commands
            .iter()
            .skip(after + 1)
            .filter(|c| c.name() == "rm")
            .any(|c| c.args().iter().filter(|a| !a.starts_with('-')).any(|a| covers(a, dir)))
    }
}

/// `path` is `dir` or a directory above it; `dir/*` counts as `dir`.
fn covers(path: &str, dir: &str) -> bool {
    let p = path.trim_end_matches(['/', '*']);
    let d = dir.trim_end_matches('/');
    p.len() > 1 && d.starts_with(p) && (d.len() == p.len() || d.as_bytes()[p.len()] == b'/')
}

fn is_posix_shell(program: &str) -> bool {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program).to_ascii_lowercase();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    !matches!(name, "pwsh" | "powershell" | "cmd")
}

pub(crate) struct Ctx<'m> {
    pub model: &'m Model,
    /// The Dockerfile on disk, for files beside it.
    pub path: &'m Path,
    pub runs: Vec<Run<'m>>,
    /// Index into `runs` by instruction index.
    run_of: Vec<Option<usize>>,
}

impl<'m> Ctx<'m> {
    pub(crate) fn new(model: &'m Model, path: &'m Path) -> Ctx<'m> {
        let mut runs = Vec::new();
        let mut run_of = vec![None; model.instrs.len()];
        for (idx, instr) in model.instrs.iter().enumerate() {
            if instr.keyword() == Keyword::Run && instr.stage.is_some() {
                run_of[idx] = Some(runs.len());
                runs.push(Run::new(idx, instr));
            }
        }
        Ctx { model, path, runs, run_of }
    }

    pub(crate) fn run_at(&self, idx: usize) -> Option<&Run<'m>> {
        self.run_of.get(idx).copied().flatten().map(|r| &self.runs[r])
    }

    fn instrs(&self, keyword: Keyword) -> impl Iterator<Item = (usize, &'m Instr)> + use<'m> {
        self.model.instrs.iter().enumerate().filter(move |(_, i)| i.keyword() == keyword)
    }

    fn hit(&self, idx: usize, message: String) -> Hit {
        let i = &self.model.instrs[idx];
        Hit { start: i.ins.start_line, end: i.ins.end_line, stage: i.stage, message }
    }

    /// The line an instruction starts on, for messages.
    fn line(&self, idx: usize) -> u32 {
        self.model.instrs[idx].ins.start_line
    }
}

/// Sources of COPY or ADD: every word but the last.
fn sources(instr: &Instr) -> &[String] {
    let words = instr.words();
    &words[..words.len().saturating_sub(1)]
}

/// A source that sends the whole build context: `.`, `./`, `*`, `/`.
fn is_context(src: &str) -> bool {
    matches!(src.trim_end_matches('/'), "" | "." | "./." | "*" | "./*")
}

/// COPY or ADD from the build context (no `--from`) of the whole context.
fn copies_context(instr: &Instr) -> bool {
    matches!(instr.keyword(), Keyword::Copy | Keyword::Add)
        && instr.flag("from").is_none()
        && sources(instr).iter().any(|s| is_context(s))
}

fn is_url(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn is_git(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    lower.starts_with("git@")
        || lower.starts_with("git://")
        || lower.contains(".git#")
        || lower.ends_with(".git")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_coverage() {
        assert!(covers("/var/lib/apt/lists/*", "/var/lib/apt/lists"));
        assert!(covers("/var/lib/apt/", "/var/lib/apt/lists"));
        assert!(!covers("/var/lib/ap", "/var/lib/apt/lists"));
        assert!(!covers("/", "/var/lib/apt/lists"), "rm -rf / is not a cleanup");
        assert!(!covers("/var/lib/apt/lists/partial", "/var/lib/apt/lists"));
    }

    #[test]
    fn mounts_and_shells() {
        assert_eq!(
            Mount::parse("type=cache,target=/root/.npm,sharing=locked"),
            Mount { kind: "cache".into(), target: "/root/.npm".into() }
        );
        assert_eq!(Mount::parse("dst=/src").kind, "bind");
        assert!(is_posix_shell("/bin/bash"));
        assert!(!is_posix_shell("C:\\Windows\\System32\\cmd.exe"));
        assert!(!is_posix_shell("pwsh"));
    }

    #[test]
    fn sources_and_urls() {
        for src in [".", "./", "*", "/", "./*"] {
            assert!(is_context(src), "{src}");
        }
        assert!(!is_context("src/") && !is_context("./app"));
        assert!(is_url("HTTPS://x/y.tgz") && !is_url("ftp://x"));
        assert!(is_git("https://github.com/a/b.git#v1") && is_git("git@github.com:a/b.git"));
    }
}
