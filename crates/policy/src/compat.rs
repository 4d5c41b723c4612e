//! Source rewrites for Rego v0 that OPA accepts and regorus's parser does not,
//! applied before parsing. Both keep every line where it was, so error
//! positions still point at the user's text.
//!
//! - Several bodies after one head (`p[x] { … } { … }`): each extra body gets
//!   a copy of the head, which OPA defines as the same thing.
//! - A statement starting with `(` on a new line: OPA calls a function only
//!   when `(` follows the name directly; regorus would read the previous
//!   line's reference as a function name. A `;` ends the previous statement.
//!
//! And for every Rego version, [`sprintf_arity`]: OPA formats a verb that
//! has no argument as `%!v(MISSING)` (Go's fmt), regorus fails the whole
//! evaluation; literal format strings with too few literal arguments are
//! rewritten to print what OPA prints.

/// Nesting deeper than this is left alone (the parser refuses it anyway).
const MAX_DEPTH: usize = 256;

pub(crate) fn rewrite_v0(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 64);
    // Byte offsets of `src` where text is inserted, with the text.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut stack: Vec<u8> = Vec::new();
    // Start of the current top-level statement, and the head of the last rule body.
    let mut stmt_start: Option<usize> = None;
    let mut head: Option<String> = None;
    let mut after_body = false;
    // End of the last significant character, and whether a newline came since.
    let mut last_sig: Option<(usize, u8)> = None;
    let mut newline_since = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' => {
                newline_since = true;
                if stack.is_empty() {
                    stmt_start = None;
                }
                i += 1;
                continue;
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if stack.is_empty() && stmt_start.is_none() && !(c == b'{' && after_body) {
            stmt_start = Some(i);
        }
        // A new line opening with `(` inside a body or comprehension.
        if c == b'('
            && newline_since
            && stack.last() == Some(&b'{')
            && let Some((end, prev)) = last_sig
            && (prev.is_ascii_alphanumeric() || prev == b'_' || prev == b']')
        {
            inserts.push((end + 1, ";".to_string()));
        }
        match c {
            b'"' | b'`' => {
                let quote = c;
                i += 1;
                while i < b.len() && b[i] != quote {
                    if quote == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' if stack.is_empty() => {
                if after_body {
                    if let Some(h) = &head {
                        inserts.push((i, format!("{h} ")));
                    }
                } else if let Some(start) = stmt_start {
                    let h = src[start..i].trim_end();
                    // Heads spanning lines are joined, so lines below keep their numbers.
                    head = (!h.starts_with("else") && !h.contains('#')).then(|| h.replace('\n', " "));
                }
                stack.push(c);
            }
            b'{' | b'[' | b'(' if stack.len() < MAX_DEPTH => stack.push(c),
            b'}' | b']' | b')' => {
                stack.pop();
                if c == b'}' && stack.is_empty() {
                    after_body = true;
                    stmt_start = None;
                    last_sig = Some((i, c));
                    newline_since = false;
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        if stack.is_empty() && c != b'}' {
            after_body = false;
        }
        last_sig = Some((i.min(b.len() - 1), b[i.min(b.len() - 1)]));
        newline_since = false;
        i += 1;
    }
    let mut from = 0;
    for (at, text) in inserts {
        out.push_str(&src[from..at]);
        out.push_str(&text);
        from = at;
    }
    out.push_str(&src[from..]);
    out
}

/// Fold a function defined only by clauses that map one string literal to
/// one scalar literal (`mem_multiple("Ki") = 1024000 { true }`, one clause
/// per key) into one clause that looks its argument up in an object literal.
/// regorus runs every clause of a function on every call; the lookup is one
/// step. Meaning is unchanged: the result is defined exactly for the listed
/// strings, with the same values; other clauses of the same function (not of
/// this form) still apply. Functions listing a key twice are left alone, as
/// are clauses followed by `else`. The folded clause takes the first
/// clause's line; the others become blank, so line numbers stay.
pub(crate) fn fold_constant_functions(src: &str, v1: bool) -> String {
    static CLAUSE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"^([A-Za-z_][A-Za-z0-9_]*)\(\s*("[^"\\]*")\s*\)\s*:?=\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|"[^"\\]*"|true|false|null)\s*(?:(?:if\s*)?\{\s*true\s*\}|if\s+true)?\s*(?:#.*)?$"#,
        )
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    });
    let lines: Vec<&str> = src.split('\n').collect();
    let top = top_level_lines(src, lines.len());
    let mut clauses: Vec<(&str, Vec<Clause<'_>>)> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if !top[n] || line.starts_with(char::is_whitespace) {
            continue;
        }
        let Some(c) = CLAUSE.captures(line.trim_end()) else { continue };
        let followed_by_else = lines[n + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("else"));
        let (name, key, value) = (
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str()),
            c.get(3).map_or("", |m| m.as_str()),
        );
        let entry = match clauses.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e,
            None => {
                clauses.push((name, Vec::new()));
                let last = clauses.len() - 1;
                &mut clauses[last]
            }
        };
        // An `else` chain makes the clause order matter: leave the function alone.
        entry.1.push((n, if followed_by_else { "" } else { key }, value));
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for (name, defs) in clauses {
        let keys: std::collections::BTreeSet<&str> = defs.iter().map(|d| d.1).collect();
        if defs.len() < 2 || keys.len() != defs.len() || keys.contains("") {
            continue;
        }
        let table: Vec<String> = defs.iter().map(|(_, k, v)| format!("{k}: {v}")).collect();
        let body = if v1 { "if " } else { "" };
        out[defs[0].0] = format!(
            "{name}(__rampart_key) = __rampart_value {body}{{ __rampart_value := {{{}}}[__rampart_key] }}",
            table.join(", ")
        );
        for (n, _, _) in &defs[1..] {
            out[*n] = String::new();
        }
    }
    out.join("\n")
}

/// A constant clause: its line, its key and its value, as written.
type Clause<'a> = (usize, &'a str, &'a str);

/// For each line, whether it starts outside any bracket, string or comment.
fn top_level_lines(src: &str, lines: usize) -> Vec<bool> {
    let b = src.as_bytes();
    let mut top = Vec::with_capacity(lines);
    top.push(true);
    let (mut depth, mut i) = (0usize, 0);
    let mut in_raw = false;
    while i < b.len() {
        match b[i] {
            b'\n' => top.push(depth == 0 && !in_raw),
            b'`' => in_raw = !in_raw,
            _ if in_raw => {}
            b'#' => {
                while i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    top.resize(lines, false);
    top
}

/// Rewrite `sprintf("…", [a, b])` whose literal format has more verbs than
/// the literal array has items: the verbs without argument become Go's
/// `%!v(MISSING)` text.
pub(crate) fn sprintf_arity(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(at) = rest.find("sprintf(") {
        let boundary =
            rest[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        let (before, call) = rest.split_at(at + "sprintf(".len());
        out.push_str(before);
        rest = call;
        if !boundary {
            continue;
        }
        let Some((fmt_len, args)) = literal_call(call) else { continue };
        let fmt = &call[..fmt_len];
        let verbs = verb_spans(fmt);
        if verbs.len() <= args {
            continue;
        }
        let mut from = 0;
        for &(start, end) in &verbs[args..] {
            out.push_str(&fmt[from..start]);
            let verb = &fmt[end - 1..end];
            out.push_str(&format!("%%!{verb}(MISSING)"));
            from = end;
        }
        out.push_str(&fmt[from..]);
        rest = &call[fmt_len..];
    }
    out.push_str(rest);
    out
}

/// For `"fmt" , [ … ]` at the start of `s`: the byte length of the quoted
/// format and the number of items in the array literal.
fn literal_call(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = s.len() - s.trim_start().len();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        if b[i.min(b.len() - 1)] == b'\n' {
            return None;
        }
        i += 1;
    }
    let fmt_end = (i + 1).min(b.len());
    let after = s[fmt_end..].trim_start();
    let after = after.strip_prefix(',')?.trim_start();
    let arr = after.strip_prefix('[')?;
    let (mut depth, mut items, mut pending) = (0usize, 0usize, false);
    let ab = arr.as_bytes();
    let mut j = 0;
    while j < ab.len() {
        match ab[j] {
            b'"' | b'`' => {
                let q = ab[j];
                j += 1;
                while j < ab.len() && ab[j] != q {
                    if q == b'"' && ab[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                pending = true;
            }
            b'[' | b'(' | b'{' => {
                depth += 1;
                pending = true;
            }
            b']' if depth == 0 => {
                items += usize::from(pending);
                return Some((fmt_end, items));
            }
            b']' | b')' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                items += usize::from(pending);
                pending = false;
            }
            c if !c.is_ascii_whitespace() => pending = true,
            _ => {}
        }
        j += 1;
    }
    None
}

/// Byte spans of the formatting verbs (`%v`, `%-5.2f`…) in a quoted format; `%%` is not one.
fn verb_spans(fmt: &str) -> Vec<(usize, usize)> {
    let b = fmt.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if b.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        while i < b.len() && (b"+-# 0.".contains(&b[i]) || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i < b.len() && b[i].is_ascii_alphabetic() {
            out.push((start, i + 1));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_function_table() {
        let mem = "m(\"k\") = 1000 { true }\n# note\nm(\"Ki\") = 1024 { true }\np { m(\"k\") }";
        let cases = [
            (
                mem,
                false,
                "m(__rampart_key) = __rampart_value { __rampart_value := {\"k\": 1000, \"Ki\": 1024}[__rampart_key] }\n# note\n\np { m(\"k\") }",
            ),
            (
                "f(\"a\") := \"x\" if { true }\nf(\"b\") := true",
                true,
                "f(__rampart_key) = __rampart_value if { __rampart_value := {\"a\": \"x\", \"b\": true}[__rampart_key] }\n",
            ),
            // A key listed twice (a conflict at run time), one clause, `else`,
            // a body that is not `true`, a non-literal value: untouched.
            (
                "f(\"a\") = 1 { true }\nf(\"a\") = 2 { true }",
                false,
                "f(\"a\") = 1 { true }\nf(\"a\") = 2 { true }",
            ),
            ("f(\"a\") = 1 { true }", false, "f(\"a\") = 1 { true }"),
            (
                "f(\"a\") = 1 { true }\nelse = 3 { true }\nf(\"b\") = 2 { true }",
                false,
                "f(\"a\") = 1 { true }\nelse = 3 { true }\nf(\"b\") = 2 { true }",
            ),
            (
                "f(\"a\") = 1 { input.x }\nf(\"b\") = 2 { true }",
                false,
                "f(\"a\") = 1 { input.x }\nf(\"b\") = 2 { true }",
            ),
            (
                "f(\"a\") = x { true }\nf(\"b\") = 2 { true }",
                false,
                "f(\"a\") = x { true }\nf(\"b\") = 2 { true }",
            ),
            // Inside a body or a raw string it is not a rule.
            (
                "p {\nf(\"a\") = 1 { true }\nf(\"b\") = 2 { true }\n}",
                false,
                "p {\nf(\"a\") = 1 { true }\nf(\"b\") = 2 { true }\n}",
            ),
        ];
        for (src, v1, want) in cases {
            assert_eq!(fold_constant_functions(src, v1), want, "{src:?}");
        }
    }

    #[test]
    fn sprintf_table() {
        let cases = [
            (r#"m := sprintf("%v and %v", [a])"#, r#"m := sprintf("%v and %%!v(MISSING)", [a])"#),
            (
                r#"m := sprintf("%v %d %s", [])"#,
                r#"m := sprintf("%%!v(MISSING) %%!d(MISSING) %%!s(MISSING)", [])"#,
            ),
            (r#"sprintf("%v%% %v", [f(a, b), [1, 2]])"#, r#"sprintf("%v%% %v", [f(a, b), [1, 2]])"#),
            (r#"sprintf("%v", ["x,y"])"#, r#"sprintf("%v", ["x,y"])"#),
            (r#"sprintf(fmt, [a])"#, r#"sprintf(fmt, [a])"#),
            (r#"my_sprintf("%v %v", [a])"#, r#"my_sprintf("%v %v", [a])"#),
            (r#"sprintf("%v %.2f", [a,])"#, r#"sprintf("%v %%!f(MISSING)", [a,])"#),
        ];
        for (src, want) in cases {
            assert_eq!(sprintf_arity(src), want, "{src}");
        }
    }

    #[test]
    fn table() {
        let cases = [
            // Several bodies share the head.
            (
                "violation[{\"msg\": m}] {\n  a\n} {\n  b\n}\n",
                "violation[{\"msg\": m}] {\n  a\n} violation[{\"msg\": m}] {\n  b\n}\n",
            ),
            ("p[x] { x := 1 } { x := 2 }", "p[x] { x := 1 } p[x] { x := 2 }"),
            // `else` chains and separate rules are untouched.
            ("p = 1 { a } else = 2 { b }", "p = 1 { a } else = 2 { b }"),
            ("p { a }\nq { b }", "p { a }\nq { b }"),
            // A parenthesised statement on its own line is not a call.
            ("p {\n  input.x\n  (input.a - 1) > 2\n}", "p {\n  input.x;\n  (input.a - 1) > 2\n}"),
            ("p {\n  f(1)\n  (input.a - 1) > 2\n}", "p {\n  f(1)\n  (input.a - 1) > 2\n}"),
            ("p {\n  f(input.a,\n    (input.b))\n}", "p {\n  f(input.a,\n    (input.b))\n}"),
            // Strings and comments do not count.
            ("p { x := \"} {\" } # } {\nq { y }", "p { x := \"} {\" } # } {\nq { y }"),
        ];
        for (src, want) in cases {
            assert_eq!(rewrite_v0(src), want, "{src:?}");
        }
    }
}
