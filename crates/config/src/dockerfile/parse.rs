//! The lexical layer: parser directives, logical lines joined across
//! continuations, instructions with their flags, exec-form JSON and heredocs.
//! Every instruction keeps the first and last physical line it came from.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use super::words::{is_blank, next_word};

/// Warnings kept per file; hostile input could otherwise yield millions.
const MAX_WARNINGS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
}

impl Keyword {
    fn parse(word: &str) -> Option<Keyword> {
        if word.len() > 11 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        Some(match word.to_ascii_uppercase().as_str() {
            "ADD" => Keyword::Add,
            "ARG" => Keyword::Arg,
            "CMD" => Keyword::Cmd,
            "COPY" => Keyword::Copy,
            "ENTRYPOINT" => Keyword::Entrypoint,
            "ENV" => Keyword::Env,
            "EXPOSE" => Keyword::Expose,
            "FROM" => Keyword::From,
            "HEALTHCHECK" => Keyword::Healthcheck,
            "LABEL" => Keyword::Label,
            "MAINTAINER" => Keyword::Maintainer,
            "ONBUILD" => Keyword::Onbuild,
            "RUN" => Keyword::Run,
            "SHELL" => Keyword::Shell,
            "STOPSIGNAL" => Keyword::Stopsignal,
            "USER" => Keyword::User,
            "VOLUME" => Keyword::Volume,
            "WORKDIR" => Keyword::Workdir,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::Add => "ADD",
            Keyword::Arg => "ARG",
            Keyword::Cmd => "CMD",
            Keyword::Copy => "COPY",
            Keyword::Entrypoint => "ENTRYPOINT",
            Keyword::Env => "ENV",
            Keyword::Expose => "EXPOSE",
            Keyword::From => "FROM",
            Keyword::Healthcheck => "HEALTHCHECK",
            Keyword::Label => "LABEL",
            Keyword::Maintainer => "MAINTAINER",
            Keyword::Onbuild => "ONBUILD",
            Keyword::Run => "RUN",
            Keyword::Shell => "SHELL",
            Keyword::Stopsignal => "STOPSIGNAL",
            Keyword::User => "USER",
            Keyword::Volume => "VOLUME",
            Keyword::Workdir => "WORKDIR",
        }
    }

    /// The `--name` flags BuildKit accepts; other instructions take none.
    fn flags(self) -> &'static [&'static str] {
        match self {
            Keyword::From => &["platform"],
            Keyword::Run => &["mount", "network", "security", "device"],
            Keyword::Copy => &["from", "chown", "chmod", "link", "parents", "exclude"],
            Keyword::Add => &["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"],
            Keyword::Healthcheck => &["interval", "timeout", "start-period", "start-interval", "retries"],
            _ => &[],
        }
    }

    fn takes_json(self) -> bool {
        matches!(
            self,
            Keyword::Run
                | Keyword::Cmd
                | Keyword::Entrypoint
                | Keyword::Shell
                | Keyword::Volume
                | Keyword::Copy
                | Keyword::Add
        )
    }

    fn takes_heredocs(self) -> bool {
        matches!(self, Keyword::Run | Keyword::Copy | Keyword::Add)
    }
}

impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--name[=value]` flag, value as written (quotes and variables intact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// A here-document attached to RUN, COPY or ADD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Heredoc {
    pub name: String,
    /// Lines up to the terminator, each ending in `\n`; leading tabs removed for `<<-`.
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Instruction {
    pub keyword: Keyword,
    pub start_line: u32,
    /// The last line, heredoc terminators included.
    pub end_line: u32,
    pub flags: Vec<Flag>,
    /// The text after the keyword and flags, continuations joined.
    pub args: String,
    /// The arguments when written as a JSON array of strings (exec form).
    pub json: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Warning {
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug)]
pub(crate) struct Parsed {
    /// The escape character: `\` or, by directive, `` ` ``.
    pub escape: u8,
    pub instructions: Vec<Instruction>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    Binary,
    Empty,
    /// Text, but not one instruction; the line of the first unknown word if any.
    NoInstructions(Option<u32>),
}

pub(crate) fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Shortens text for messages, on a char boundary.
pub(crate) fn short(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

pub(crate) fn parse(content: &[u8]) -> Result<Parsed, ParseError> {
    if content.contains(&0) {
        return Err(ParseError::Binary);
    }
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(content) {
        Ok(text) => Cow::Borrowed(text),
        Err(e) => {
            let line = content[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            warnings.push(Warning {
                line: Some(line_no(line)),
                message: "not valid UTF-8; invalid bytes were replaced".into(),
            });
            String::from_utf8_lossy(content)
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut p = Parser {
        lines: &lines,
        escape: b'\\',
        instructions: Vec::new(),
        warnings,
        first_unknown: None,
        terminators: None,
    };
    p.directives();
    p.body();
    if p.instructions.is_empty() {
        return Err(ParseError::NoInstructions(p.first_unknown));
    }
    Ok(Parsed { escape: p.escape, instructions: p.instructions, warnings: p.warnings })
}

/// `# key=value` at the top of the file.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let key_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
    if key_len == 0 || !rest.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let value = rest[key_len..].trim_start().strip_prefix('=')?;
    Some((&rest[..key_len], value.trim()))
}

fn is_skippable(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// The line without its trailing escape, and whether it continues.
fn split_continuation(line: &str, escape: u8) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    match t.as_bytes().last() {
        Some(&c) if c == escape => (&t[..t.len() - 1], true),
        _ => (t, false),
    }
}

/// A `<<EOF`, `<<-EOF`, `<<"EOF"` or `3<<EOF` word: the delimiter and whether tabs are stripped.
fn heredoc_marker(word: &str) -> Option<(String, bool)> {
    let w = word.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix("<<")?;
    if w.starts_with('<') {
        return None;
    }
    let (chomp, w) = match w.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let mut name = String::new();
    let mut quote = None;
    for c in w.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => name.push(c),
            None => match c {
                '\'' | '"' => quote = Some(c),
                '\\' => {}
                '>' | '<' | '|' | '&' | ';' | '(' | ')' => break,
                _ => name.push(c),
            },
        }
    }
    (!name.is_empty()).then_some((name, chomp))
}

/// Whether text that failed to parse as JSON was meant as an exec-form
/// array rather than a shell command such as `[ -f x ] && …`.
fn looks_like_json(args: &str) -> bool {
    let inner = args[1..].trim_start();
    (inner.starts_with('"') || inner.starts_with('\''))
        && (matches!(args.as_bytes().get(1), Some(b'"' | b'\''))
            || args.contains("\",")
            || args.contains("',"))
}

/// Line indexes of possible heredoc terminators, by content, so finding one
/// is a lookup rather than a scan of the rest of the file.
struct Terminators<'a> {
    exact: HashMap<&'a str, Vec<usize>>,
    tabs_stripped: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Terminators<'a> {
    fn new(lines: &[&'a str]) -> Self {
        let mut t = Terminators { exact: HashMap::new(), tabs_stripped: HashMap::new() };
        for (i, line) in lines.iter().enumerate() {
            // Delimiters never hold blanks, so neither can their terminators.
            let stripped = line.trim_start_matches('\t');
            if stripped.is_empty() || stripped.bytes().any(is_blank) {
                continue;
            }
            t.tabs_stripped.entry(stripped).or_default().push(i);
            if stripped.len() == line.len() {
                t.exact.entry(line).or_default().push(i);
            }
        }
        t
    }

    fn find(&self, name: &str, chomp: bool, from: usize) -> Option<usize> {
        let list = if chomp { self.tabs_stripped.get(name) } else { self.exact.get(name) }?;
        list.get(list.partition_point(|&l| l < from)).copied()
    }
}

struct Parser<'a> {
    lines: &'a [&'a str],
    escape: u8,
    instructions: Vec<Instruction>,
    warnings: Vec<Warning>,
    first_unknown: Option<u32>,
    terminators: Option<Terminators<'a>>,
}

impl<'a> Parser<'a> {
    fn warn(&mut self, line: usize, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning { line: Some(line_no(line)), message });
        } else if self.warnings.len() == MAX_WARNINGS {
            self.warnings.push(Warning { line: None, message: "further warnings left out".into() });
        }
    }

    /// Parser directives: only before the first comment, blank line or instruction.
    fn directives(&mut self) {
        let (mut escape, mut syntax) = (false, false);
        for (i, line) in self.lines.iter().enumerate() {
            let Some((key, value)) = directive(line) else { return };
            match key.to_ascii_lowercase().as_str() {
                "escape" if escape => {
                    self.warn(i, "`escape` directive given twice; the first one holds".into())
                }
                "escape" => {
                    escape = true;
                    match value {
                        "\\" => {}
                        "`" => self.escape = b'`',
                        _ => self
                            .warn(i, format!("invalid escape character `{}`; using `\\`", short(value, 10))),
                    }
                }
                "syntax" if syntax => {
                    self.warn(i, "`syntax` directive given twice; the first one holds".into())
                }
                "syntax" => syntax = true,
                "check" => {}
                _ => return,
            }
        }
    }

    fn body(&mut self) {
        let lines = self.lines;
        let n = lines.len();
        let mut i = 0;
        while i < n {
            if is_skippable(lines[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let mut logical = String::new();
            let mut last;
            loop {
                let (content, more) = split_continuation(lines[i], self.escape);
                logical.push_str(content);
                last = i;
                i += 1;
                if !more {
                    break;
                }
                // Comments and blank lines inside a continuation are dropped.
                while i < n && is_skippable(lines[i]) {
                    i += 1;
                }
                if i >= n {
                    break;
                }
            }
            i = self.instruction(&logical, start, last, i);
        }
    }

    /// Parses one logical line; returns the index of the next unread line
    /// (past any heredoc bodies).
    fn instruction(&mut self, logical: &str, start: usize, last: usize, next: usize) -> usize {
        let text = logical.trim();
        if text.is_empty() {
            return next;
        }
        let word_end = text.bytes().position(is_blank).unwrap_or(text.len());
        let (word, rest) = text.split_at(word_end);
        let Some(keyword) = Keyword::parse(word) else {
            self.warn(start, format!("unknown instruction `{}`", short(word, 40)));
            self.first_unknown.get_or_insert(line_no(start));
            return next;
        };
        let (flags, args) = self.flags(keyword, rest.trim_start(), start);
        let args = args.trim();
        let mut json = None;
        if keyword.takes_json() && args.starts_with('[') {
            match serde_json::from_str::<Vec<String>>(args) {
                Ok(v) => json = Some(v),
                Err(_) if looks_like_json(args) => self.warn(
                    start,
                    format!("{keyword} arguments are not a valid JSON array; read as a shell command"),
                ),
                Err(_) => {}
            }
        }
        if keyword == Keyword::Shell && json.is_none() {
            self.warn(start, "SHELL needs a JSON array such as [\"/bin/sh\", \"-c\"]".into());
        }
        let (mut end, mut next) = (last, next);
        let mut heredocs = Vec::new();
        if keyword.takes_heredocs() && json.is_none() {
            let mut pos = 0;
            while let Some((s, e)) = next_word(args, pos, self.escape) {
                pos = e;
                let Some((name, chomp)) = heredoc_marker(&args[s..e]) else { continue };
                let lines = self.lines;
                let found =
                    self.terminators.get_or_insert_with(|| Terminators::new(lines)).find(&name, chomp, next);
                let Some(t) = found else {
                    self.warn(start, format!("heredoc `{}` is never terminated", short(&name, 40)));
                    break;
                };
                let mut body = String::new();
                for line in &lines[next..t] {
                    body.push_str(if chomp { line.trim_start_matches('\t') } else { line });
                    body.push('\n');
                }
                heredocs.push(Heredoc { name, body });
                end = t;
                next = t + 1;
            }
        }
        self.instructions.push(Instruction {
            keyword,
            start_line: line_no(start),
            end_line: line_no(end),
            flags,
            args: args.to_string(),
            json,
            heredocs,
        });
        next
    }

    /// Leading `--name[=value]` words; `--` ends them.
    fn flags<'t>(&mut self, keyword: Keyword, rest: &'t str, line: usize) -> (Vec<Flag>, &'t str) {
        let known = keyword.flags();
        if known.is_empty() {
            return (Vec::new(), rest);
        }
        let mut flags = Vec::new();
        let mut pos = 0;
        while let Some((s, e)) = next_word(rest, pos, self.escape) {
            let word = &rest[s..e];
            if !word.starts_with("--") {
                break;
            }
            pos = e;
            if word == "--" {
                break;
            }
            let (name, value) = match word[2..].split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (&word[2..], None),
            };
            let name = name.to_ascii_lowercase();
            if !known.contains(&name.as_str()) {
                self.warn(line, format!("unknown flag `--{}` for {keyword}", short(&name, 40)));
            }
            flags.push(Flag { name, value });
        }
        (flags, &rest[pos..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Parsed {
        parse(src.as_bytes()).expect("parses")
    }

    /// `(keyword, start, end, args)` of one instruction.
    type Shape<'a> = (&'static str, u32, u32, &'a str);

    fn shape(p: &Parsed) -> Vec<Shape<'_>> {
        p.instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.start_line, i.end_line, i.args.as_str()))
            .collect()
    }

    #[test]
    fn continuations_comments_and_blank_lines() {
        let table: &[(&str, &[Shape<'_>])] = &[
            ("FROM a\nRUN x \\\n  y\n", &[("FROM", 1, 1, "a"), ("RUN", 2, 3, "x   y")]),
            (
                "FROM a\nRUN x \\\n# inside\n\n   # indented\n  && y\nCMD z\n",
                &[("FROM", 1, 1, "a"), ("RUN", 2, 6, "x   && y"), ("CMD", 7, 7, "z")],
            ),
            ("FROM a\r\nRUN b \\\r\n c\r\n", &[("FROM", 1, 1, "a"), ("RUN", 2, 3, "b  c")]),
            ("FROM a\nRUN b \\  \t\n c", &[("FROM", 1, 1, "a"), ("RUN", 2, 3, "b  c")]),
            ("FROM a\nRUN tail \\\n", &[("FROM", 1, 1, "a"), ("RUN", 2, 2, "tail")]),
            ("\u{feff}  # c\n\n  from a\n\trun  b", &[("FROM", 3, 3, "a"), ("RUN", 4, 4, "b")]),
            (
                "FROM a\nRUN echo '# not a comment'\n",
                &[("FROM", 1, 1, "a"), ("RUN", 2, 2, "echo '# not a comment'")],
            ),
        ];
        for (src, want) in table {
            let p = ok(src);
            assert_eq!(shape(&p), *want, "{src:?}");
            assert!(p.warnings.is_empty(), "{src:?}: {:?}", p.warnings);
        }
    }

    #[test]
    fn escape_directive() {
        let p = ok(
            "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir C:\\ `\n  && echo done\nWORKDIR C:\\app\\\n",
        );
        assert_eq!(p.escape, b'`');
        assert_eq!(
            shape(&p),
            [
                ("FROM", 2, 2, "mcr.microsoft.com/windows"),
                ("RUN", 3, 4, "dir C:\\   && echo done"),
                ("WORKDIR", 5, 5, "C:\\app\\")
            ]
        );

        // Directives only count at the very top, before any blank line or comment.
        for src in ["\n# escape=`\nFROM a\n", "# hello\n# escape=`\nFROM a\n", "FROM a\n# escape=`\n"] {
            assert_eq!(ok(src).escape, b'\\', "{src:?}");
        }
        let p = ok("# syntax=docker/dockerfile:1\n#  ESCAPE = `\nFROM a\n");
        assert_eq!(p.escape, b'`');

        let p = ok("# escape=x\nFROM a\n");
        assert_eq!(p.escape, b'\\');
        assert_eq!(p.warnings[0].line, Some(1));
        let p = ok("# escape=`\n# escape=\\\nFROM a\n");
        assert_eq!((p.escape, p.warnings.len()), (b'`', 1));
    }

    #[test]
    fn flags_and_json_form() {
        let p = ok(concat!(
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
            "RUN --mount=type=cache,target=/root/.cache --network=none [\"go\", \"build\"]\n",
            "COPY --from=build --chown=app:app /out /bin/\n",
            "CMD [\"a\", \"b c\"]\n",
            "ENTRYPOINT exec app\n",
            "RUN [ -f /x ] && echo yes\n",
            "CMD [\"a\", 'b']\n",
            "RUN --bogus x\n",
            "RUN -- --mount=not-a-flag\n",
        ));
        let i = &p.instructions;
        assert_eq!(i[0].flags, [Flag { name: "platform".into(), value: Some("$BUILDPLATFORM".into()) }]);
        assert_eq!(i[0].args, "golang:1.22 AS build");
        assert_eq!(i[1].flags.len(), 2);
        assert_eq!(i[1].json.as_deref(), Some(&["go".to_string(), "build".to_string()][..]));
        assert_eq!(i[2].flags[1], Flag { name: "chown".into(), value: Some("app:app".into()) });
        assert_eq!(i[2].args, "/out /bin/");
        assert_eq!(i[3].json.as_ref().map(Vec::len), Some(2));
        assert_eq!((i[4].json.as_ref(), i[4].args.as_str()), (None, "exec app"));
        assert_eq!(i[5].json, None, "a test command, not JSON");
        assert_eq!(i[6].json, None);
        assert_eq!(i[8].args, "--mount=not-a-flag");
        let lines: Vec<_> = p.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(7), Some(8)], "{:?}", p.warnings);
    }

    #[test]
    fn heredocs() {
        let p = ok(concat!(
            "FROM a\n",
            "RUN <<EOF\n",
            "apt-get update\n",
            "EOF\n",
            "RUN <<-'END' bash\n",
            "\t\techo $HOME\n",
            "\tEND\n",
            "COPY <<one <<\"two\" /dst/\n",
            "1\n",
            "one\n",
            "2\n",
            "two\n",
            "RUN cat <<EOF>/etc/conf && echo \"<<NOT\" <<<here\n",
            "  EOF\n",
            "EOF\n",
            "CMD done\n",
        ));
        assert_eq!(
            shape(&p),
            [
                ("FROM", 1, 1, "a"),
                ("RUN", 2, 4, "<<EOF"),
                ("RUN", 5, 7, "<<-'END' bash"),
                ("COPY", 8, 12, "<<one <<\"two\" /dst/"),
                ("RUN", 13, 15, "cat <<EOF>/etc/conf && echo \"<<NOT\" <<<here"),
                ("CMD", 16, 16, "done"),
            ]
        );
        let docs = |n: usize| -> Vec<(&str, &str)> {
            p.instructions[n].heredocs.iter().map(|h| (h.name.as_str(), h.body.as_str())).collect()
        };
        assert_eq!(docs(1), [("EOF", "apt-get update\n")]);
        assert_eq!(docs(2), [("END", "echo $HOME\n")]);
        assert_eq!(docs(3), [("one", "1\n"), ("two", "2\n")]);
        assert_eq!(docs(4), [("EOF", "  EOF\n")], "an indented line does not end a plain heredoc");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn exec_form_has_no_heredocs() {
        let p = ok("FROM a\nRUN [\"cat\", \"<<EOF\"]\nEOF\n");
        assert!(p.instructions[1].heredocs.is_empty());
        assert_eq!(p.warnings[0].line, Some(3), "EOF is an unknown instruction here");
    }

    #[test]
    fn malformed_input_warns_and_goes_on() {
        let p = ok("FROM a\nRUN <<EOF\necho hi\nFOO bar\nUSER app\n");
        assert_eq!(shape(&p), [("FROM", 1, 1, "a"), ("RUN", 2, 2, "<<EOF"), ("USER", 5, 5, "app")]);
        let w: Vec<_> = p.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(
            w,
            [
                (Some(2), "heredoc `EOF` is never terminated"),
                (Some(3), "unknown instruction `echo`"),
                (Some(4), "unknown instruction `FOO`"),
            ]
        );

        let p = parse(b"FROM a\nRUN echo \xff\n").expect("lossy");
        assert_eq!(p.warnings[0].line, Some(2));
    }

    #[test]
    fn not_a_dockerfile() {
        assert_eq!(parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b" \n\t\n").unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b"FROM a\0").unwrap_err(), ParseError::Binary);
        assert_eq!(parse(b"# only\n# comments\n").unwrap_err(), ParseError::NoInstructions(None));
        assert_eq!(parse(b"# Title\n\nSome prose.\n").unwrap_err(), ParseError::NoInstructions(Some(3)));
    }

    #[test]
    fn warnings_are_capped() {
        let src = "FROM a\n".to_string() + &"NOPE\n".repeat(1000);
        let p = ok(&src);
        assert_eq!(p.warnings.len(), MAX_WARNINGS + 1);
    }
}
