//! Build stages and expanded arguments: ARG and ENV substitution with the
//! Dockerfile's scoping (global ARGs only in FROM unless redeclared, ENV
//! inherited by stages built on an earlier stage).

use std::collections::HashMap;
use std::ops::Range;

use super::parse::{Instruction, Keyword, Parsed, Warning, short};
use super::words::{Expanded, Scope, Vars, expand, has_literal, raw_words, split_assignment};

/// `NAME=value` from ENV, ARG or LABEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pair {
    pub key: String,
    /// Expanded; `None` for an ARG without a default.
    pub value: Option<String>,
    /// The value as written holds more than variable references.
    pub literal: bool,
}

/// Arguments after substitution, by instruction kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Args {
    /// RUN, CMD, ENTRYPOINT, SHELL in JSON form.
    Exec(Vec<String>),
    /// RUN, CMD, ENTRYPOINT in shell form: the raw text is `Instruction::args`.
    Shell,
    /// ENV, ARG, LABEL.
    Pairs(Vec<Pair>),
    /// COPY, ADD (sources then destination), EXPOSE, VOLUME.
    Words(Vec<String>),
    /// FROM's image, WORKDIR, USER, STOPSIGNAL (expanded); MAINTAINER,
    /// HEALTHCHECK, ONBUILD (as written).
    Text(String),
}

/// What a RUN step inherits from earlier instructions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunEnv {
    /// The SHELL in effect; `None` is the default `/bin/sh -c`.
    pub shell: Option<Vec<String>>,
    /// `PIP_NO_CACHE_DIR` is set, so pip keeps no cache.
    pub pip_no_cache: bool,
}

#[derive(Debug)]
pub(crate) struct Instr {
    pub ins: Instruction,
    /// The stage it belongs to; `None` before the first FROM.
    pub stage: Option<usize>,
    /// Flag values after substitution (`None` for a bare `--link`).
    pub flags: Vec<(String, Option<String>)>,
    pub args: Args,
    /// Some variable had no value, so the arguments are not what a build sees.
    pub unresolved: bool,
    /// For RUN only.
    pub run: Option<RunEnv>,
}

impl Instr {
    pub(crate) fn keyword(&self) -> Keyword {
        self.ins.keyword
    }

    /// The value of `--name`: `Some("")` for a bare flag.
    pub(crate) fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub(crate) fn words(&self) -> &[String] {
        match &self.args {
            Args::Words(w) | Args::Exec(w) => w,
            _ => &[],
        }
    }

    pub(crate) fn text(&self) -> &str {
        match &self.args {
            Args::Text(t) => t,
            _ => &self.ins.args,
        }
    }

    pub(crate) fn pairs(&self) -> &[Pair] {
        match &self.args {
            Args::Pairs(p) => p,
            _ => &[],
        }
    }

    /// The instruction as a short one-line quote for messages.
    pub(crate) fn quote(&self) -> String {
        let args = match &self.ins.json {
            Some(v) => format!("[{}]", v.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")),
            None => self.ins.args.clone(),
        };
        let flags: String = self
            .ins
            .flags
            .iter()
            .map(|f| match &f.value {
                Some(v) => format!("--{}={} ", f.name, short(v, 30)),
                None => format!("--{} ", f.name),
            })
            .collect();
        format!("{} {flags}{}", self.ins.keyword, short(&args, 70))
    }
}

#[derive(Debug)]
pub(crate) struct Stage {
    /// Lowercase, as stage names compare.
    pub name: Option<String>,
    /// The base image after substitution.
    pub image: String,
    pub unresolved: bool,
    /// The earlier stage this one is built on.
    pub parent: Option<usize>,
    /// Index of the FROM instruction.
    pub from: usize,
    /// One past the stage's last instruction.
    pub end: usize,
}

impl Stage {
    /// Indexes of the instructions after FROM.
    pub(crate) fn body(&self) -> Range<usize> {
        self.from + 1..self.end
    }

    /// An image pulled from a registry: not `scratch`, not an earlier stage,
    /// and fully known.
    pub(crate) fn external_image(&self) -> Option<&str> {
        let plain = self.parent.is_none() && !self.unresolved && !self.image.is_empty();
        (plain && !self.image.eq_ignore_ascii_case("scratch")).then_some(self.image.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct Model {
    pub instrs: Vec<Instr>,
    pub stages: Vec<Stage>,
    /// Stage index by lowercase name; the first stage wins a duplicate name.
    names: HashMap<String, usize>,
    pub warnings: Vec<Warning>,
}

impl Model {
    pub(crate) fn final_stage(&self) -> Option<usize> {
        self.stages.len().checked_sub(1)
    }

    /// A stage and the earlier stages it is built on, nearest first.
    pub(crate) fn lineage(&self, stage: usize) -> Vec<usize> {
        // A parent is always an earlier stage, so this ends.
        let mut out = vec![stage];
        let mut at = stage;
        while let Some(p) = self.stages[at].parent {
            out.push(p);
            at = p;
        }
        out
    }

    /// Instruction indexes of a stage's lineage in build order (base first).
    pub(crate) fn lineage_body(&self, stage: usize) -> Vec<usize> {
        self.lineage(stage).iter().rev().flat_map(|&s| self.stages[s].body()).collect()
    }

    /// The stage a `--from` or `FROM` value names, by name or index.
    pub(crate) fn stage_ref(&self, name: &str) -> Option<usize> {
        if let Ok(n) = name.parse::<usize>() {
            return Some(n);
        }
        self.names.get(&name.to_ascii_lowercase()).copied()
    }
}

/// Per-stage state that later stages built on it inherit.
#[derive(Clone, Default)]
struct Inherited {
    env: Vars,
    shell: Option<Vec<String>>,
    pip_no_cache: bool,
}

struct Builder {
    escape: u8,
    global: Vars,
    state: Inherited,
    args: Vars,
    /// What each finished stage leaves to stages built on it.
    finished: Vec<Inherited>,
    /// ENV entries that may still be copied into child stages: a long chain
    /// of stages each adding ENV would otherwise cost quadratic time.
    inherit_budget: usize,
    /// Bytes substitution may still produce for the whole file; past it,
    /// variables are left unresolved so output stays near the input's size.
    expansion_budget: usize,
    model: Model,
}

pub(crate) fn build(parsed: Parsed) -> Model {
    let mut b = Builder {
        escape: parsed.escape,
        global: Vars::default(),
        state: Inherited::default(),
        args: Vars::default(),
        finished: Vec::new(),
        inherit_budget: 1 << 20,
        expansion_budget: 16 << 20,
        model: Model {
            instrs: Vec::with_capacity(parsed.instructions.len()),
            stages: Vec::new(),
            names: HashMap::new(),
            warnings: Vec::new(),
        },
    };
    for ins in parsed.instructions {
        b.instruction(ins);
    }
    let count = b.model.instrs.len();
    if let Some(last) = b.model.stages.last_mut() {
        last.end = count;
    } else {
        b.model.warnings.push(Warning { line: None, message: "no FROM instruction".into() });
    }
    b.model
}

impl Builder {
    fn warn(&mut self, line: u32, message: String) {
        self.model.warnings.push(Warning { line: Some(line), message });
    }

    fn instruction(&mut self, ins: Instruction) {
        let idx = self.model.instrs.len();
        let line = ins.start_line;
        if ins.keyword == Keyword::From {
            self.from(ins, idx);
            return;
        }
        let stage = self.model.stages.len().checked_sub(1);
        if stage.is_none() && ins.keyword != Keyword::Arg {
            self.warn(line, format!("{} before the first FROM", ins.keyword));
        }
        let empty = Vars::default();
        let scope = match stage {
            _ if self.expansion_budget == 0 => Scope { env: &empty, args: &empty },
            Some(_) => Scope { env: &self.state.env, args: &self.args },
            None => Scope { env: &empty, args: &self.global },
        };
        let escape = self.escape;
        let mut unresolved = false;
        let mut produced = 0;
        let mut ex = |word: &str| {
            let Expanded { text, unresolved: u } = expand(word, escape, scope);
            unresolved |= u;
            produced += text.len();
            text
        };
        let flags: Vec<_> =
            ins.flags.iter().map(|f| (f.name.clone(), f.value.as_deref().map(&mut ex))).collect();
        let mut problem = None;
        let args = match ins.keyword {
            Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => match &ins.json {
                Some(v) => Args::Exec(v.clone()),
                None => Args::Shell,
            },
            Keyword::Copy | Keyword::Add | Keyword::Expose | Keyword::Volume => {
                let words: Vec<String> = match &ins.json {
                    Some(v) => v.iter().map(|w| ex(w)).collect(),
                    None => raw_words(&ins.args, escape).into_iter().map(&mut ex).collect(),
                };
                let min = if matches!(ins.keyword, Keyword::Copy | Keyword::Add) { 2 } else { 1 };
                if words.len() < min {
                    problem = Some(format!(
                        "{} needs {}",
                        ins.keyword,
                        if min == 2 { "a source and a destination" } else { "an argument" }
                    ));
                }
                Args::Words(words)
            }
            Keyword::Env | Keyword::Label | Keyword::Arg => {
                let (pairs, p) = pairs(ins.keyword, &ins.args, escape, &mut ex);
                problem = p;
                Args::Pairs(pairs)
            }
            Keyword::Workdir | Keyword::User | Keyword::Stopsignal => {
                if ins.args.is_empty() {
                    problem = Some(format!("{} needs an argument", ins.keyword));
                }
                Args::Text(ex(&ins.args))
            }
            Keyword::Maintainer | Keyword::Healthcheck | Keyword::Onbuild => Args::Text(ins.args.clone()),
            Keyword::From => unreachable!("handled above"),
        };
        self.expansion_budget = self.expansion_budget.saturating_sub(produced);
        if let Some(message) = problem {
            self.warn(line, message);
        }
        let run = (ins.keyword == Keyword::Run)
            .then(|| RunEnv { shell: self.state.shell.clone(), pip_no_cache: self.state.pip_no_cache });
        self.apply(&ins, &args, stage);
        self.model.instrs.push(Instr { ins, stage, flags, args, unresolved, run });
    }

    /// Records what ARG, ENV and SHELL change for later instructions.
    fn apply(&mut self, ins: &Instruction, args: &Args, stage: Option<usize>) {
        match (ins.keyword, args) {
            (Keyword::Arg, Args::Pairs(pairs)) => {
                for p in pairs {
                    match stage {
                        None => self.global.set(&p.key, p.value.clone()),
                        Some(_) => {
                            let inherited = || self.global.get(&p.key).flatten().map(str::to_string);
                            let value = p.value.clone().or_else(inherited);
                            self.args.set(&p.key, value);
                        }
                    }
                }
            }
            (Keyword::Env, Args::Pairs(pairs)) => {
                for p in pairs {
                    if p.key == "PIP_NO_CACHE_DIR" {
                        self.state.pip_no_cache = p.value.as_deref().is_some_and(|v| !v.is_empty());
                    }
                    self.state.env.set(&p.key, p.value.clone());
                }
            }
            (Keyword::Shell, Args::Exec(v)) if !v.is_empty() => self.state.shell = Some(v.clone()),
            _ => {}
        }
    }

    fn from(&mut self, ins: Instruction, idx: usize) {
        if let Some(last) = self.model.stages.last_mut() {
            last.end = idx;
            self.finished.push(std::mem::take(&mut self.state));
        }
        let empty = Vars::default();
        let args = if self.expansion_budget == 0 { &empty } else { &self.global };
        let scope = Scope { env: &empty, args };
        let words = raw_words(&ins.args, self.escape);
        let image = words.first().map(|w| expand(w, self.escape, scope));
        let mut unresolved = image.as_ref().is_some_and(|e| e.unresolved);
        let image = image.map(|e| e.text).unwrap_or_default();
        let flags = ins
            .flags
            .iter()
            .map(|f| {
                let value = f.value.as_deref().map(|v| {
                    let e = expand(v, self.escape, scope);
                    unresolved |= e.unresolved && f.name != "platform";
                    e.text
                });
                (f.name.clone(), value)
            })
            .collect::<Vec<_>>();
        let produced =
            image.len() + flags.iter().filter_map(|(_, v)| v.as_ref().map(String::len)).sum::<usize>();
        self.expansion_budget = self.expansion_budget.saturating_sub(produced);
        let name = match words.as_slice() {
            [] | [_] => None,
            [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
            _ => {
                self.warn(ins.start_line, "FROM takes an image and an optional `AS name`".into());
                None
            }
        };
        if image.is_empty() {
            self.warn(ins.start_line, "FROM without a base image".into());
        }
        let parent = self.model.names.get(&image.to_ascii_lowercase()).copied();
        self.state = match parent {
            Some(p) if self.finished[p].env.len() <= self.inherit_budget => {
                self.inherit_budget -= self.finished[p].env.len();
                self.finished[p].clone()
            }
            _ => Inherited::default(),
        };
        self.args = Vars::default();
        let stage = self.model.stages.len();
        if let Some(n) = &name {
            self.model.names.entry(n.clone()).or_insert(stage);
        }
        self.model.stages.push(Stage {
            name,
            image: image.clone(),
            unresolved,
            parent,
            from: idx,
            end: idx + 1,
        });
        let args = Args::Text(image);
        self.model.instrs.push(Instr { ins, stage: Some(stage), flags, args, unresolved, run: None });
    }
}

/// `k=v …` pairs; ENV and LABEL also take the old `key value` form and ARG
/// may omit the value.
fn pairs(
    keyword: Keyword,
    text: &str,
    escape: u8,
    ex: &mut impl FnMut(&str) -> String,
) -> (Vec<Pair>, Option<String>) {
    let words = raw_words(text, escape);
    let Some(first) = words.first() else {
        return (Vec::new(), Some(format!("{keyword} needs an argument")));
    };
    if keyword != Keyword::Arg && split_assignment(first, escape).is_none() {
        let raw = text[first.len()..].trim();
        let pair = Pair { key: ex(first), value: Some(ex(raw)), literal: has_literal(raw, escape) };
        let problem = raw.is_empty().then(|| format!("{keyword} `{}` has no value", short(&pair.key, 40)));
        return (vec![pair], problem);
    }
    let mut problem = None;
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        match split_assignment(w, escape) {
            Some((k, v)) => {
                out.push(Pair { key: ex(k), value: Some(ex(v)), literal: has_literal(v, escape) })
            }
            None if keyword == Keyword::Arg => out.push(Pair { key: ex(w), value: None, literal: false }),
            None => {
                problem.get_or_insert_with(|| format!("{keyword} `{}` has no `=value`", short(w, 40)));
            }
        }
    }
    (out, problem)
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn model(src: &str) -> Model {
        build(parse(src.as_bytes()).expect("parses"))
    }

    fn text_of(m: &Model, keyword: Keyword) -> Vec<&str> {
        m.instrs.iter().filter(|i| i.keyword() == keyword).map(Instr::text).collect()
    }

    #[test]
    fn arg_scoping_across_from() {
        let m = model(concat!(
            "ARG BASE=alpine\n",
            "ARG TAG=3.20\n",
            "ARG DIR=/srv\n",
            "FROM ${BASE}:${TAG} AS base\n",
            "WORKDIR $DIR/a\n",
            "ARG DIR\n",
            "WORKDIR $DIR/b\n",
            "ARG DIR=/override\n",
            "WORKDIR ${DIR}/c\n",
            "FROM base\n",
            "WORKDIR ${DIR:-/none}/d\n",
        ));
        assert_eq!(m.stages[0].image, "alpine:3.20");
        assert!(!m.stages[0].unresolved);
        assert_eq!(text_of(&m, Keyword::Workdir), ["/a", "/srv/b", "/override/c", "/none/d"]);
        let unresolved: Vec<bool> =
            m.instrs.iter().filter(|i| i.keyword() == Keyword::Workdir).map(|i| i.unresolved).collect();
        assert_eq!(
            unresolved,
            [true, false, false, false],
            "a global ARG is not seen in a stage until redeclared"
        );
        assert_eq!(m.stages[1].parent, Some(0));
    }

    #[test]
    fn env_inherits_into_child_stages_and_beats_arg() {
        let m = model(concat!(
            "FROM alpine AS base\n",
            "ENV HOME_DIR=/home/app USER=app\n",
            "ENV OLD value with spaces\n",
            "ARG USER=root\n",
            "USER $USER\n",
            "FROM base AS child\n",
            "USER ${USER}\n",
            "WORKDIR $HOME_DIR\n",
            "FROM alpine\n",
            "WORKDIR ${HOME_DIR:-/fresh}\n",
        ));
        assert_eq!(text_of(&m, Keyword::User), ["app", "app"]);
        assert_eq!(text_of(&m, Keyword::Workdir), ["/home/app", "/fresh"]);
        let old = &m.instrs[2].pairs()[0];
        assert_eq!((old.key.as_str(), old.value.as_deref()), ("OLD", Some("value with spaces")));
    }

    #[test]
    fn pairs_and_literals() {
        let m = model(concat!(
            "FROM a\n",
            "ARG A B=2 \"C\"='x y'\n",
            "ENV T=$A U=\"${B}\" V=${Q:-lit} W=\"\"\n",
            "LABEL org.opencontainers.image.title=\"My app\" version=1\n",
            "ENV BROKEN\n",
        ));
        let keys = |i: usize| -> Vec<(&str, Option<&str>, bool)> {
            m.instrs[i].pairs().iter().map(|p| (p.key.as_str(), p.value.as_deref(), p.literal)).collect()
        };
        assert_eq!(keys(1), [("A", None, false), ("B", Some("2"), true), ("C", Some("x y"), true)]);
        assert_eq!(
            keys(2),
            [
                ("T", Some(""), false),
                ("U", Some("2"), false),
                ("V", Some("lit"), true),
                ("W", Some(""), false)
            ]
        );
        assert_eq!(keys(3)[0], ("org.opencontainers.image.title", Some("My app"), true));
        assert_eq!(m.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [Some(5)]);
    }

    #[test]
    fn stages_and_copy_words() {
        let m = model(concat!(
            "FROM golang:1.22 AS Build\n",
            "ARG OUT=/out\n",
            "RUN go build -o $OUT/app\n",
            "FROM scratch\n",
            "ARG OUT=/out\n",
            "COPY --from=build --chown=${UID:-1000} [\"$OUT/app\", \"/app\"]\n",
            "COPY --from=0 a\\ b \"c d\" /dst/\n",
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
            "RUN true\n",
        ));
        assert_eq!(m.stages.len(), 2);
        assert_eq!(m.stages[0].name.as_deref(), Some("build"));
        assert_eq!((m.stages[0].from, m.stages[0].end, m.stages[1].from, m.stages[1].end), (0, 3, 3, 9));
        assert_eq!(m.stage_ref("BUILD"), Some(0));
        assert_eq!(m.stage_ref("1"), Some(1));
        assert_eq!(m.stages[1].external_image(), None, "scratch");
        assert_eq!(m.instrs[5].words(), ["/out/app", "/app"]);
        assert_eq!(m.instrs[5].flag("chown"), Some("1000"));
        assert_eq!(m.instrs[6].words(), ["a b", "c d", "/dst/"]);
        assert_eq!(m.instrs[2].run, Some(RunEnv::default()));
        let shell = m.instrs[8].run.as_ref().and_then(|r| r.shell.clone());
        assert_eq!(shell.map(|s| s.join(" ")).as_deref(), Some("/bin/bash -o pipefail -c"));
    }

    #[test]
    fn lineage_follows_parents() {
        let m = model("FROM a AS one\nRUN x\nFROM one AS two\nRUN y\nFROM b\nFROM two\nUSER app\n");
        assert_eq!(m.lineage(3), [3, 1, 0]);
        assert_eq!(m.lineage_body(3), [1, 3, 6]);
        assert_eq!(m.stages[2].external_image(), Some("b"));
        assert_eq!(m.lineage(2), [2]);
    }

    #[test]
    fn structural_warnings() {
        let m = model("RUN early\nFROM\nFROM a b\nCOPY onlyone\nENV\n");
        let lines: Vec<_> = m.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (Some(1), "RUN before the first FROM"),
                (Some(2), "FROM without a base image"),
                (Some(3), "FROM takes an image and an optional `AS name`"),
                (Some(4), "COPY needs a source and a destination"),
                (Some(5), "ENV needs an argument"),
            ]
        );
        let m = model("ARG X=1\n");
        assert_eq!(m.warnings[0].message, "no FROM instruction");
    }
}
