//! Word splitting, quote removal and `$VAR` substitution as the Dockerfile
//! frontend applies them to instruction arguments. RUN, CMD and ENTRYPOINT
//! are left alone: the shell expands those when the step runs.

use std::collections::HashMap;

/// Longest value one expansion may produce: `ENV A=$A$A` repeated would
/// otherwise double the value with every instruction.
const MAX_VALUE: usize = 64 * 1024;
/// Deepest `${a:-${b:-…}}` nesting that is expanded; deeper words are
/// skipped so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// Build variables by name. `None` is a variable declared without a value
/// (`ARG VERSION`), which the user must supply at build time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Vars(HashMap<String, Option<String>>);

impl Vars {
    pub(crate) fn set(&mut self, name: &str, value: Option<String>) {
        self.0.insert(name.to_string(), value);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `Some(None)` when declared without a value, `None` when not declared.
    pub(crate) fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0.get(name).map(|v| v.as_deref())
    }
}

/// The variables one instruction sees: ENV wins over an ARG of the same name.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub env: &'a Vars,
    pub args: &'a Vars,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Option<Option<&str>> {
        self.env.get(name).or_else(|| self.args.get(name))
    }
}

/// A word after quote removal and substitution.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Expanded {
    pub text: String,
    /// Some variable had no value, so `text` is not what a build would see.
    pub unresolved: bool,
}

pub(crate) fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The byte range of the next raw word at or after `from`. Words end at
/// unquoted blanks; quotes and escapes stay in the word.
pub(crate) fn next_word(src: &str, from: usize, escape: u8) -> Option<(usize, usize)> {
    let b = src.as_bytes();
    let mut i = from;
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i >= b.len() {
        return None;
    }
    let start = i;
    let mut quote = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(b'"') if c == escape => i += 1,
            Some(_) => {}
            None if is_blank(c) => break,
            None if c == escape => i += 1,
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None => {}
        }
        i += 1;
    }
    // An escape is ASCII and the byte it skips is never a blank, so the end
    // falls on a blank or the end of the string: a char boundary.
    Some((start, i.min(b.len())))
}

/// Every raw word of `src`.
pub(crate) fn raw_words(src: &str, escape: u8) -> Vec<&str> {
    let mut words = Vec::new();
    let mut pos = 0;
    while let Some((s, e)) = next_word(src, pos, escape) {
        words.push(&src[s..e]);
        pos = e;
    }
    words
}

/// Splits `key=value` at the first `=` outside quotes.
pub(crate) fn split_assignment(word: &str, escape: u8) -> Option<(&str, &str)> {
    let b = word.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(b'"') if c == escape => i += 1,
            Some(_) => {}
            None if c == b'=' => return Some((&word[..i], &word[i + 1..])),
            None if c == escape => i += 1,
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None => {}
        }
        i += 1;
    }
    None
}

/// Removes quotes and escapes from one word and substitutes variables.
pub(crate) fn expand(word: &str, escape: u8, scope: Scope<'_>) -> Expanded {
    let mut ex = Expander { b: word.as_bytes(), i: 0, escape, scope, unresolved: false };
    let mut out = Vec::new();
    ex.run(&mut out, false, 0);
    Expanded { text: String::from_utf8_lossy(&out).into_owned(), unresolved: ex.unresolved }
}

/// Whether a value holds anything besides variable references, judged by
/// expanding it with no variables at all: `${TOKEN:-changeme}` does,
/// `"$TOKEN"` does not.
pub(crate) fn has_literal(word: &str, escape: u8) -> bool {
    let none = Vars::default();
    !expand(word, escape, Scope { env: &none, args: &none }).text.trim().is_empty()
}

fn push(out: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_VALUE.saturating_sub(out.len());
    out.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

struct Expander<'a> {
    b: &'a [u8],
    i: usize,
    escape: u8,
    scope: Scope<'a>,
    unresolved: bool,
}

impl Expander<'_> {
    /// Expands until the end, or past the closing `}` when `in_brace`.
    fn run(&mut self, out: &mut Vec<u8>, in_brace: bool, depth: usize) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            if in_brace && c == b'}' {
                self.i += 1;
                return;
            }
            if c == self.escape {
                match self.b.get(self.i + 1) {
                    Some(&next) => push(out, &[next]),
                    None => push(out, &[c]),
                }
                self.i += 2;
                continue;
            }
            match c {
                b'\'' => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < self.b.len() && self.b[self.i] != b'\'' {
                        self.i += 1;
                    }
                    push(out, &self.b[start..self.i]);
                    self.i += 1;
                }
                b'"' => {
                    self.i += 1;
                    self.double_quoted(out, depth);
                }
                b'$' => self.variable(out, depth),
                _ => {
                    push(out, &[c]);
                    self.i += 1;
                }
            }
        }
    }

    fn double_quoted(&mut self, out: &mut Vec<u8>, depth: usize) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    return;
                }
                b'$' => self.variable(out, depth),
                _ if c == self.escape => match self.b.get(self.i + 1) {
                    Some(&next) if next == b'"' || next == b'$' || next == self.escape => {
                        push(out, &[next]);
                        self.i += 2;
                    }
                    _ => {
                        push(out, &[c]);
                        self.i += 1;
                    }
                },
                _ => {
                    push(out, &[c]);
                    self.i += 1;
                }
            }
        }
    }

    /// At a `$`: `$NAME`, `${NAME}` and the `-`, `+`, `?` forms with or
    /// without `:`. Other modifiers (`#`, `%`, `/`) keep the plain value.
    fn variable(&mut self, out: &mut Vec<u8>, depth: usize) {
        let b = self.b;
        let at = self.i;
        match b.get(at + 1) {
            Some(b'{') => {
                let start = at + 2;
                let mut j = start;
                while j < b.len() && is_name(b[j]) {
                    j += 1;
                }
                if j == start || j >= b.len() {
                    push(out, b"$");
                    self.i += 1;
                    return;
                }
                let name = String::from_utf8_lossy(&b[start..j]).into_owned();
                let value = self.scope.lookup(&name);
                let set = matches!(value, Some(Some(_)));
                let val = value.flatten().unwrap_or("").to_string();
                let colon = b[j] == b':';
                let op = if colon { b.get(j + 1).copied() } else { Some(b[j]) };
                match op {
                    _ if b[j] == b'}' => {
                        self.i = j + 1;
                        self.unresolved |= !set;
                        push(out, val.as_bytes());
                    }
                    Some(op @ (b'-' | b'+' | b'?')) => {
                        self.i = j + usize::from(colon) + 1;
                        let mut word = Vec::new();
                        if depth < MAX_DEPTH {
                            self.run(&mut word, true, depth + 1);
                        } else {
                            self.skip_braced();
                            self.unresolved = true;
                        }
                        let present = if colon { set && !val.is_empty() } else { set };
                        match (op, present) {
                            (b'-', true) | (b'?', true) => push(out, val.as_bytes()),
                            (b'-', false) | (b'+', true) => push(out, &word),
                            (b'?', false) => self.unresolved = true,
                            _ => {}
                        }
                    }
                    _ => {
                        self.i = j;
                        self.skip_braced();
                        self.unresolved |= !set;
                        push(out, val.as_bytes());
                    }
                }
            }
            Some(&c) if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = at + 1;
                while j < b.len() && is_name(b[j]) {
                    j += 1;
                }
                let name = String::from_utf8_lossy(&b[at + 1..j]).into_owned();
                match self.scope.lookup(&name) {
                    Some(Some(v)) => push(out, v.as_bytes()),
                    _ => self.unresolved = true,
                }
                self.i = j;
            }
            _ => {
                push(out, b"$");
                self.i += 1;
            }
        }
    }

    /// Moves past the `}` that closes the current `${`, without recursion.
    fn skip_braced(&mut self) {
        let mut open = 1usize;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'{' => open += 1,
                b'}' => {
                    open -= 1;
                    if open == 0 {
                        self.i += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        let mut v = Vars::default();
        for (k, val) in pairs {
            v.set(k, val.map(str::to_string));
        }
        v
    }

    fn ex(word: &str, env: &Vars) -> (String, bool) {
        let none = Vars::default();
        let e = expand(word, b'\\', Scope { env, args: &none });
        (e.text, e.unresolved)
    }

    #[test]
    fn substitution_forms() {
        let v = vars(&[("A", Some("x")), ("E", Some("")), ("N", None)]);
        let table: &[(&str, &str, bool)] = &[
            ("$A", "x", false),
            ("${A}", "x", false),
            ("pre${A}post", "prexpost", false),
            ("$A/$A", "x/x", false),
            ("$B", "", true),
            ("${B}", "", true),
            ("$N", "", true),
            ("${B:-def}", "def", false),
            ("${E:-def}", "def", false),
            ("${E-def}", "", false),
            ("${B-def}", "def", false),
            ("${N:-def}", "def", false),
            ("${A:-def}", "x", false),
            ("${A:+yes}", "yes", false),
            ("${E:+yes}", "", false),
            ("${E+yes}", "yes", false),
            ("${B:+yes}", "", false),
            ("${B:?need B}", "", true),
            ("${A:?need A}", "x", false),
            ("${B:-${A}}", "x", false),
            ("${B:-${C:-deep}}", "deep", false),
            ("${A#x}", "x", false),
            ("$", "$", false),
            ("$1", "$1", false),
            ("${", "${", false),
            ("a$", "a$", false),
        ];
        for (word, want, unresolved) in table {
            assert_eq!(ex(word, &v), (want.to_string(), *unresolved), "{word}");
        }
    }

    #[test]
    fn quotes_and_escapes() {
        let v = vars(&[("A", Some("x"))]);
        let table: &[(&str, &str)] = &[
            ("'$A'", "$A"),
            ("\"$A\"", "x"),
            ("\"a b\"", "a b"),
            ("\\$A", "$A"),
            ("\"\\$A\"", "$A"),
            ("\"\\n\"", "\\n"),
            ("a\\ b", "a b"),
            ("'unterminated", "unterminated"),
            ("\"${A:-'q'}\"", "x"),
            ("${B:-\"a}b\"}", "a}b"),
        ];
        for (word, want) in table {
            assert_eq!(ex(word, &v).0, *want, "{word}");
        }
        // With a backtick escape the backslash is an ordinary character.
        let none = Vars::default();
        let scope = Scope { env: &v, args: &none };
        assert_eq!(expand("C:\\app\\$A", b'`', scope).text, "C:\\app\\x");
        assert_eq!(expand("`$A", b'`', scope).text, "$A");
    }

    #[test]
    fn env_wins_over_arg() {
        let env = vars(&[("V", Some("env"))]);
        let args = vars(&[("V", Some("arg")), ("W", Some("arg"))]);
        let e = expand("$V-$W", b'\\', Scope { env: &env, args: &args });
        assert_eq!(e.text, "env-arg");
    }

    #[test]
    fn words_keep_quotes_and_escaped_blanks() {
        assert_eq!(raw_words("a \"b c\" 'd e' f\\ g  ", b'\\'), ["a", "\"b c\"", "'d e'", "f\\ g"]);
        assert_eq!(raw_words("x `y", b'`'), ["x", "`y"]);
        assert_eq!(raw_words("   ", b'\\'), Vec::<&str>::new());
        assert_eq!(raw_words("tail\\", b'\\'), ["tail\\"]);
        assert_eq!(split_assignment("\"a=b\"=c", b'\\'), Some(("\"a=b\"", "c")));
        assert_eq!(split_assignment("k=v=w", b'\\'), Some(("k", "v=w")));
        assert_eq!(split_assignment("plain", b'\\'), None);
    }

    #[test]
    fn literal_detection() {
        assert!(has_literal("hunter2", b'\\'));
        assert!(has_literal("${TOKEN:-changeme}", b'\\'));
        assert!(!has_literal("$TOKEN", b'\\'));
        assert!(!has_literal("\"${TOKEN}\"", b'\\'));
        assert!(!has_literal("\"\"", b'\\'));
    }

    #[test]
    fn growth_and_nesting_are_bounded() {
        let mut v = vars(&[("A", Some("ab"))]);
        for _ in 0..40 {
            let next = ex("$A$A", &v).0;
            v.set("A", Some(next));
        }
        assert_eq!(v.get("A").flatten().map(str::len), Some(MAX_VALUE));

        let deep = "${X:-".repeat(100_000) + &"}".repeat(100_000);
        let (text, unresolved) = ex(&deep, &v);
        assert!(text.is_empty() && unresolved);
    }
}
