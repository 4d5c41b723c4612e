//! Just enough POSIX shell to see the simple commands a RUN step executes:
//! quotes, escapes, comments, `&&`/`||`/`;`/`|`, subshells and command
//! substitutions as separators, redirections dropped, `sh -c '…'` opened up,
//! and `sudo`/`env`/`VAR=value` prefixes peeled off.

/// Nested `sh -c` scripts that are opened up.
const MAX_NESTING: usize = 3;

/// Shells whose `-c` argument is itself a script.
pub(crate) const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Command {
    /// The program (base name) and its arguments, quotes removed.
    pub argv: Vec<String>,
    /// Leading `NAME=value` words, for this command only.
    pub assigns: Vec<String>,
    /// Run through `sudo`.
    pub sudo: bool,
    /// Reads the output of the command before it in a pipeline.
    pub piped_in: bool,
    /// Writes into the next command through a pipe.
    pub pipes_out: bool,
}

impl Command {
    pub(crate) fn name(&self) -> &str {
        self.argv.first().map_or("", String::as_str)
    }

    pub(crate) fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }

    /// The command as a short quote for messages.
    pub(crate) fn quote(&self) -> String {
        super::parse::short(&self.argv.join(" "), 70).into_owned()
    }
}

/// The simple commands of a script, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Script {
    pub commands: Vec<Command>,
}

impl Script {
    pub(crate) fn parse(text: &str) -> Script {
        let mut script = Script::default();
        script.add_text(text, 0);
        script
    }

    /// An exec-form command: one program, no shell unless it is one.
    pub(crate) fn exec(argv: &[String]) -> Script {
        let mut script = Script::default();
        script.add_words(argv.to_vec(), false, false, 0);
        script
    }

    fn add_text(&mut self, text: &str, depth: usize) {
        let mut words = Vec::new();
        let mut piped_in = false;
        for token in tokenize(text) {
            match token {
                Token::Word(w) => words.push(w),
                Token::Sep(pipe) => {
                    let had = !words.is_empty();
                    self.add_words(std::mem::take(&mut words), piped_in, pipe, depth);
                    piped_in = pipe && had;
                }
            }
        }
        self.add_words(words, piped_in, false, depth);
    }

    fn add_words(&mut self, words: Vec<String>, piped_in: bool, pipes_out: bool, depth: usize) {
        let Some(mut cmd) = normalize(words) else { return };
        cmd.piped_in = piped_in;
        cmd.pipes_out = pipes_out;
        if depth < MAX_NESTING
            && let Some(inner) = shell_c_script(&cmd)
        {
            let inner = inner.to_string();
            self.add_text(&inner, depth + 1);
            return;
        }
        self.commands.push(cmd);
    }
}

/// The script of `sh -c 'script'` (also `-ec`, `-xc`, `bash -lc`).
fn shell_c_script(cmd: &Command) -> Option<&str> {
    if !SHELLS.contains(&cmd.name()) {
        return None;
    }
    let mut c_seen = false;
    for arg in cmd.args() {
        if let Some(opts) = arg.strip_prefix('-').filter(|o| !o.starts_with('-')) {
            c_seen |= opts.contains('c');
        } else if arg.starts_with("--") {
            continue;
        } else {
            return c_seen.then_some(arg.as_str());
        }
    }
    None
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    /// A command boundary; `true` for a pipe.
    Sep(bool),
}

fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut drop_next_word = false;
    let mut i = 0;
    let finish = |word: &mut Option<Vec<u8>>, out: &mut Vec<Token>, drop: &mut bool| {
        if let Some(w) = word.take() {
            if std::mem::take(drop) {
                return;
            }
            out.push(Token::Word(String::from_utf8_lossy(&w).into_owned()));
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                finish(&mut word, &mut out, &mut drop_next_word);
                i += 1;
            }
            b'\n' => {
                finish(&mut word, &mut out, &mut drop_next_word);
                out.push(Token::Sep(false));
                i += 1;
            }
            b'#' if word.is_none() => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' => {
                match b.get(i + 1) {
                    Some(b'\n') => {}
                    Some(&next) => word.get_or_insert_with(Vec::new).push(next),
                    None => word.get_or_insert_with(Vec::new).push(c),
                }
                i += 2;
            }
            b'\'' => {
                let w = word.get_or_insert_with(Vec::new);
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    w.push(b[i]);
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                let w = word.get_or_insert_with(Vec::new);
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'"' | b'\\' | b'$' | b'`')) {
                        i += 1;
                    }
                    w.push(b[i]);
                    i += 1;
                }
                i += 1;
            }
            b'<' | b'>' => {
                // A redirection: a leading fd number goes, and so does the target word.
                if word.as_ref().is_some_and(|w| w.iter().all(u8::is_ascii_digit)) {
                    word = None;
                }
                finish(&mut word, &mut out, &mut drop_next_word);
                if b.get(i + 1) == Some(&b'(') {
                    out.push(Token::Sep(false));
                    i += 2;
                    continue;
                }
                while i < b.len() && matches!(b[i], b'<' | b'>' | b'|' | b'-') {
                    i += 1;
                }
                if b.get(i) == Some(&b'&') {
                    i += 1;
                    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'-') {
                        i += 1;
                    }
                } else {
                    drop_next_word = true;
                }
            }
            b'&' if b.get(i + 1) == Some(&b'>') => {
                finish(&mut word, &mut out, &mut drop_next_word);
                i += 2;
                while i < b.len() && b[i] == b'>' {
                    i += 1;
                }
                drop_next_word = true;
            }
            b'|' | b'&' | b';' | b'(' | b')' | b'`' => {
                finish(&mut word, &mut out, &mut drop_next_word);
                let pipe = c == b'|' && !matches!(b.get(i + 1), Some(b'|'));
                i += 1;
                while i < b.len() && matches!(b[i], b'|' | b'&' | b';') && b[i] == c {
                    i += 1;
                }
                if pipe && b.get(i) == Some(&b'&') {
                    i += 1;
                }
                out.push(Token::Sep(pipe));
            }
            b'$' if b.get(i + 1) == Some(&b'(') => {
                finish(&mut word, &mut out, &mut drop_next_word);
                out.push(Token::Sep(false));
                i += 2;
            }
            _ => {
                word.get_or_insert_with(Vec::new).push(c);
                i += 1;
            }
        }
    }
    finish(&mut word, &mut out, &mut drop_next_word);
    out
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            let mut chars = name.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

fn base_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Words that start a command without being it.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec", "nohup", "command",
    "builtin", "fi", "done", "esac",
];

/// sudo options that take a value.
const SUDO_VALUE_OPTS: &[&str] =
    &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"];

/// Peels keywords, assignments, `env` and `sudo` off the front of a command.
fn normalize(mut words: Vec<String>) -> Option<Command> {
    let mut cmd = Command::default();
    let mut i = 0;
    loop {
        let w = words.get(i)?;
        if PREFIXES.contains(&w.as_str()) {
            i += 1;
        } else if is_assignment(w) {
            cmd.assigns.push(w.clone());
            i += 1;
        } else if base_name(w) == "env" {
            i += 1;
            while let Some(w) = words.get(i) {
                match w.as_str() {
                    "-u" | "--unset" => i += 2,
                    w if w.starts_with('-') => i += 1,
                    _ => break,
                }
            }
        } else if base_name(w) == "sudo" {
            cmd.sudo = true;
            i += 1;
            while let Some(w) = words.get(i) {
                if SUDO_VALUE_OPTS.contains(&w.as_str()) {
                    i += 2;
                } else if w.starts_with('-') {
                    i += 1;
                } else {
                    break;
                }
            }
        } else {
            break;
        }
    }
    let mut argv = words.split_off(i);
    argv[0] = base_name(&argv[0]).to_string();
    cmd.argv = argv;
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(text: &str) -> Vec<String> {
        Script::parse(text).commands.iter().map(|c| c.argv.join(" ")).collect()
    }

    #[test]
    fn splits_simple_commands() {
        let table: &[(&str, &[&str])] = &[
            ("apt-get update && apt-get install -y curl", &["apt-get update", "apt-get install -y curl"]),
            ("a; b || c & d\ne", &["a", "b", "c", "d", "e"]),
            ("echo 'a && b' \"c; d\" e\\ f", &["echo a && b c; d e f"]),
            ("make > /dev/null 2>&1 && make install 2> err.log", &["make", "make install"]),
            ("cat <<EOF >> /etc/x\n", &["cat"]),
            ("x &>/dev/null", &["x"]),
            ("(cd /src && make)", &["cd /src", "make"]),
            ("echo $(curl -s url) `date`", &["echo", "curl -s url", "date"]),
            ("# comment && rm -rf /\nls # trailing", &["ls"]),
            ("/usr/bin/apt-get install x", &["apt-get install x"]),
            ("if [ -f a ]; then rm a; fi", &["[ -f a ]", "rm a"]),
            ("a \\\n  && b", &["a", "b"]),
            ("diff <(sort a) b", &["diff", "sort a", "b"]),
        ];
        for (text, want) in table {
            assert_eq!(argvs(text), *want, "{text:?}");
        }
    }

    #[test]
    fn prefixes_are_peeled() {
        let s = Script::parse("DEBIAN_FRONTEND=noninteractive sudo -E -u root env -i A=1 apt-get install x");
        let c = &s.commands[0];
        assert_eq!(c.argv, ["apt-get", "install", "x"]);
        assert_eq!(c.assigns, ["DEBIAN_FRONTEND=noninteractive", "A=1"]);
        assert!(c.sudo);
        assert!(Script::parse("FOO=bar").commands.is_empty(), "a bare assignment runs nothing");
    }

    #[test]
    fn pipes_are_marked() {
        let s = Script::parse("curl -fsSL https://x | sudo bash -s -- --flag || true; a |& b");
        let flags: Vec<_> = s.commands.iter().map(|c| (c.name(), c.piped_in, c.pipes_out)).collect();
        assert_eq!(
            flags,
            [
                ("curl", false, true),
                ("bash", true, false),
                ("true", false, false),
                ("a", false, true),
                ("b", true, false)
            ]
        );
    }

    #[test]
    fn shell_c_is_opened() {
        assert_eq!(
            argvs("sh -c 'apt-get update && apt-get install x'"),
            ["apt-get update", "apt-get install x"]
        );
        assert_eq!(argvs("bash -ec \"cd /a; make\""), ["cd /a", "make"]);
        assert_eq!(argvs("bash script.sh"), ["bash script.sh"]);
        let exec = Script::exec(&["/bin/sh".into(), "-c".into(), "sudo make".into()]);
        assert!(exec.commands[0].sudo);
        let deep = "sh -c \"sh -c 'sh -c \\\"sh -c x\\\"'\"";
        assert_eq!(argvs(deep).len(), 1, "nesting is bounded but never loses the command");
    }
}
