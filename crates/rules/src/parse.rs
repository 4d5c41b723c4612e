//! Condition syntax: text to a tree, with byte offsets for error messages.
//!
//! Fields are resolved here, so an unknown field is reported on the macro or
//! rule that names it; macro and list names stay names until expansion.

use crate::event::{ArgKind, Field, FieldArg};

/// Longest condition accepted, and deepest nesting of parentheses, `not` and
/// transformers: far above any real rule, low enough to keep recursion safe.
pub(crate) const MAX_CONDITION_LEN: usize = 256 * 1024;
pub(crate) const MAX_DEPTH: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A macro reference.
    Macro {
        name: String,
        pos: usize,
    },
    Check(Box<Check>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Check {
    pub(crate) lhs: Operand,
    pub(crate) op: Op,
    pub(crate) rhs: Rhs,
    /// Offset of the operator.
    pub(crate) op_pos: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Operand {
    pub(crate) field: Field,
    pub(crate) arg: FieldArg,
    /// Innermost first: `tolower(basename(fd.name))` is `[Basename, Tolower]`.
    pub(crate) transforms: Vec<Transform>,
    pub(crate) pos: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Transform {
    Tolower,
    Toupper,
    B64,
    Basename,
    Len,
}

impl Transform {
    fn from_name(name: &str) -> Option<Transform> {
        Some(match name {
            "tolower" => Transform::Tolower,
            "toupper" => Transform::Toupper,
            "b64" => Transform::B64,
            "basename" => Transform::Basename,
            "len" => Transform::Len,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    Pmatch,
    Exists,
}

impl Op {
    pub(crate) fn from_word(word: &str) -> Option<Op> {
        Some(match word {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "regex" => Op::Regex,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::Pmatch,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::Regex => "regex",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::Pmatch => "pmatch",
            Op::Exists => "exists",
        }
    }

    pub(crate) fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::Pmatch)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Rhs {
    None,
    /// A string or number, quoted or bare.
    Value(Item),
    /// `val(field)`: compare against another field of the same event.
    Field(Operand),
    /// `(a, b, "c d")`; a bare item may name a list.
    List(Vec<Item>),
    /// `in some_list` without parentheses.
    ListRef {
        name: String,
        pos: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) text: String,
    pub(crate) quoted: bool,
    pub(crate) pos: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: usize,
    /// The text the error is about, for locating it in the file.
    pub(crate) token: String,
    pub(crate) kind: SyntaxErrorKind,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SyntaxErrorKind {
    Syntax(String),
    UnknownField(String),
    BadOperator(String),
}

pub(crate) fn parse_condition(text: &str) -> Result<Expr, SyntaxError> {
    if text.len() > MAX_CONDITION_LEN {
        return Err(SyntaxError {
            pos: 0,
            token: String::new(),
            kind: SyntaxErrorKind::Syntax(format!("condition longer than {MAX_CONDITION_LEN} bytes")),
        });
    }
    let mut p = Parser { s: text, b: text.as_bytes(), i: 0, depth: 0 };
    p.ws();
    if p.i == p.b.len() {
        return Err(p.err("empty condition"));
    }
    let expr = p.or()?;
    p.ws();
    if p.i < p.b.len() {
        let tok = p.peek_token();
        return Err(p.err_at(p.i, &tok, format!("unexpected '{tok}'")));
    }
    Ok(expr)
}

/// A field reference as written in an output placeholder or an exception's
/// `fields`: `proc.aname[2]`, `evt.arg.flags`.
pub(crate) fn parse_field_ref(text: &str) -> Result<(Field, FieldArg), SyntaxErrorKind> {
    let mut p = Parser { s: text, b: text.as_bytes(), i: 0, depth: 0 };
    let (name, arg) = p.field_token().map_err(|e| e.kind)?;
    if p.i != text.len() {
        return Err(SyntaxErrorKind::UnknownField(text.to_string()));
    }
    resolve_field(&name, arg).map_err(|e| e.kind)
}

/// Characters of field, macro and list names.
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b':')
}

fn is_bare(c: u8) -> bool {
    !c.is_ascii_whitespace() && !matches!(c, b'(' | b')' | b',' | b'"' | b'\'')
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> SyntaxError {
        let tok = self.peek_token();
        self.err_at(self.i, &tok, msg.to_string())
    }

    fn err_at(&self, pos: usize, token: &str, msg: String) -> SyntaxError {
        SyntaxError { pos, token: token.to_string(), kind: SyntaxErrorKind::Syntax(msg) }
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek_token(&self) -> String {
        let rest = &self.s[self.i..];
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len()).min(40);
        let end = (0..=end).rev().find(|&e| rest.is_char_boundary(e)).unwrap_or(0);
        rest[..end].to_string()
    }

    /// The next whole word (letters only) equals `word`.
    fn at_word(&self, word: &str) -> bool {
        let rest = &self.b[self.i..];
        rest.starts_with(word.as_bytes()) && rest.get(word.len()).is_none_or(|&c| !is_ident(c))
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_at(
                self.i,
                "",
                format!("condition nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = vec![self.and()?];
        loop {
            self.ws();
            if self.at_word("or") {
                self.i += 2;
                terms.push(self.and()?);
            } else {
                break;
            }
        }
        Ok(if terms.len() == 1 { terms.pop().unwrap_or(Expr::Or(Vec::new())) } else { Expr::Or(terms) })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = vec![self.not()?];
        loop {
            self.ws();
            if self.at_word("and") {
                self.i += 3;
                terms.push(self.not()?);
            } else {
                break;
            }
        }
        Ok(if terms.len() == 1 { terms.pop().unwrap_or(Expr::And(Vec::new())) } else { Expr::And(terms) })
    }

    fn not(&mut self) -> Result<Expr, SyntaxError> {
        self.ws();
        if self.at_word("not") {
            self.i += 3;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        self.ws();
        match self.b.get(self.i) {
            None => Err(self.err_at(self.i, "", "condition ends where an expression was expected".into())),
            Some(b'(') => {
                let open = self.i;
                self.i += 1;
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                self.ws();
                if self.b.get(self.i) != Some(&b')') {
                    return Err(self.err_at(open, "(", "unbalanced parenthesis: missing ')'".into()));
                }
                self.i += 1;
                Ok(inner)
            }
            Some(&c) if is_ident(c) => self.check_or_macro(),
            Some(_) => Err(self.err("expected a field, a macro or '('")),
        }
    }

    fn ident(&mut self) -> &str {
        let start = self.i;
        while self.i < self.b.len() && is_ident(self.b[self.i]) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// A field name with its optional `[arg]`.
    fn field_token(&mut self) -> Result<(String, Option<String>), SyntaxError> {
        let name = self.ident().to_string();
        if self.b.get(self.i) == Some(&b'[') {
            let open = self.i;
            let Some(len) = self.s[open..].find(']') else {
                return Err(self.err_at(open, "[", "field argument without closing ']'".into()));
            };
            let arg = self.s[open + 1..open + len].to_string();
            self.i = open + len + 1;
            return Ok((name, Some(arg)));
        }
        Ok((name, None))
    }

    fn check_or_macro(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.i;
        let save = self.i;
        let word = self.ident().to_string();
        // A transformer: `tolower(proc.name) = bash`.
        if let (Some(_), Some(b'(')) = (Transform::from_name(&word), self.b.get(self.i)) {
            self.i = save;
            let lhs = self.operand()?;
            return self.check(lhs);
        }
        self.i = save;
        let (name, arg) = self.field_token()?;
        let after = self.i;
        self.ws();
        if arg.is_none() && self.operator_ahead().is_none() && resolve_field(&name, None).is_err() {
            self.i = after;
            return Ok(Expr::Macro { name, pos: start });
        }
        let (field, arg) = resolve_field(&name, arg).map_err(|mut e| {
            e.pos = start;
            e
        })?;
        let lhs = Operand { field, arg, transforms: Vec::new(), pos: start };
        self.check(lhs)
    }

    /// A field, possibly wrapped in transformers.
    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        self.ws();
        let start = self.i;
        let save = self.i;
        let word = self.ident().to_string();
        if let (Some(t), Some(b'(')) = (Transform::from_name(&word), self.b.get(self.i)) {
            self.i += 1;
            self.enter()?;
            let mut inner = self.operand()?;
            self.depth -= 1;
            self.ws();
            if self.b.get(self.i) != Some(&b')') {
                return Err(self.err(&format!("missing ')' after {word}(...)")));
            }
            self.i += 1;
            inner.transforms.push(t);
            inner.pos = start;
            return Ok(inner);
        }
        self.i = save;
        let (name, arg) = self.field_token()?;
        if name.is_empty() {
            return Err(self.err("expected a field"));
        }
        let (field, arg) = resolve_field(&name, arg).map_err(|mut e| {
            e.pos = start;
            e
        })?;
        Ok(Operand { field, arg, transforms: Vec::new(), pos: start })
    }

    /// The operator at the cursor and its length, without consuming it.
    fn operator_ahead(&self) -> Option<(Op, usize)> {
        let rest = &self.b[self.i..];
        for sym in ["==", "!=", "<=", ">=", "=", "<", ">"] {
            if rest.starts_with(sym.as_bytes()) {
                return Op::from_word(sym).map(|op| (op, sym.len()));
            }
        }
        let len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        if rest.get(len).is_some_and(|&c| is_ident(c)) {
            return None;
        }
        let word = std::str::from_utf8(&rest[..len]).ok()?;
        Op::from_word(word).map(|op| (op, len))
    }

    fn check(&mut self, lhs: Operand) -> Result<Expr, SyntaxError> {
        self.ws();
        let op_pos = self.i;
        let Some((op, len)) = self.operator_ahead() else {
            let tok = self.peek_token();
            let field = lhs.field.name();
            return Err(SyntaxError {
                pos: self.i,
                token: tok.clone(),
                kind: if tok.is_empty() {
                    SyntaxErrorKind::BadOperator(format!("'{field}' needs an operator"))
                } else {
                    SyntaxErrorKind::BadOperator(format!("'{tok}' is not an operator (after '{field}')"))
                },
            });
        };
        self.i += len;
        let rhs = if op == Op::Exists {
            Rhs::None
        } else if op.takes_list() {
            self.list_rhs()?
        } else {
            self.value_rhs()?
        };
        Ok(Expr::Check(Box::new(Check { lhs, op, rhs, op_pos })))
    }

    fn list_rhs(&mut self) -> Result<Rhs, SyntaxError> {
        self.ws();
        if self.b.get(self.i) != Some(&b'(') {
            let pos = self.i;
            let name = self.ident().to_string();
            if name.is_empty() {
                return Err(self.err("expected a list: '(' or a list name"));
            }
            return Ok(Rhs::ListRef { name, pos });
        }
        let open = self.i;
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            match self.b.get(self.i) {
                None => return Err(self.err_at(open, "(", "list without closing ')'".into())),
                Some(b')') if items.is_empty() => {
                    self.i += 1;
                    return Ok(Rhs::List(items));
                }
                _ => {}
            }
            items.push(self.item()?);
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(Rhs::List(items));
                }
                None => return Err(self.err_at(open, "(", "list without closing ')'".into())),
                _ => return Err(self.err("expected ',' or ')' in a list")),
            }
        }
    }

    fn value_rhs(&mut self) -> Result<Rhs, SyntaxError> {
        self.ws();
        if self.at_word("val") && self.b.get(self.i + 3) == Some(&b'(') {
            self.i += 4;
            let operand = self.operand()?;
            self.ws();
            if self.b.get(self.i) != Some(&b')') {
                return Err(self.err("missing ')' after val(...)"));
            }
            self.i += 1;
            return Ok(Rhs::Field(operand));
        }
        Ok(Rhs::Value(self.item()?))
    }

    /// A quoted string or a bare word.
    fn item(&mut self) -> Result<Item, SyntaxError> {
        self.ws();
        let pos = self.i;
        match self.b.get(self.i) {
            Some(&q @ (b'"' | b'\'')) => {
                let mut text = String::new();
                self.i += 1;
                loop {
                    let Some(c) = self.s[self.i..].chars().next() else {
                        return Err(self.err_at(
                            pos,
                            &self.s[pos..self.s.len().min(pos + 20)],
                            "unterminated string".into(),
                        ));
                    };
                    self.i += c.len_utf8();
                    if c as u32 == u32::from(q) {
                        break;
                    }
                    if c == '\\' {
                        let Some(next) = self.s[self.i..].chars().next() else { continue };
                        self.i += next.len_utf8();
                        match next {
                            'n' => text.push('\n'),
                            't' => text.push('\t'),
                            '\\' | '"' | '\'' => text.push(next),
                            other => {
                                text.push('\\');
                                text.push(other);
                            }
                        }
                        continue;
                    }
                    text.push(c);
                }
                Ok(Item { text, quoted: true, pos })
            }
            Some(&c) if is_bare(c) => {
                while self.i < self.b.len() && is_bare(self.b[self.i]) {
                    self.i += 1;
                }
                Ok(Item { text: self.s[pos..self.i].to_string(), quoted: false, pos })
            }
            _ => Err(self.err("expected a value")),
        }
    }
}

/// Resolves `name` (and the text inside `[...]`) to a field; `evt.arg.flags`
/// is `evt.arg` with the key `flags`.
fn resolve_field(name: &str, arg: Option<String>) -> Result<(Field, FieldArg), SyntaxError> {
    let unknown = || SyntaxError {
        pos: 0,
        token: name.to_string(),
        kind: SyntaxErrorKind::UnknownField(format!("'{name}' is not a supported field")),
    };
    let bad_arg = |field: Field, msg: &str| SyntaxError {
        pos: 0,
        token: name.to_string(),
        kind: SyntaxErrorKind::UnknownField(format!("'{}': {msg}", field.name())),
    };
    let (field, arg) = match Field::from_name(name) {
        Some(field) => (field, arg),
        None => {
            // `evt.arg.flags`: the longest known prefix that takes a key.
            let split = name.rmatch_indices('.').map(|(i, _)| i).find_map(|i| {
                let field = Field::from_name(&name[..i])?;
                matches!(field.arg_kind(), ArgKind::Key | ArgKind::IndexOrKey).then_some((field, i))
            });
            match (split, arg) {
                (Some((field, i)), None) => (field, Some(name[i + 1..].to_string())),
                _ => return Err(unknown()),
            }
        }
    };
    let arg = match (field.arg_kind(), arg) {
        (ArgKind::None, None) | (ArgKind::OptionalIndex, None) => FieldArg::None,
        (ArgKind::None, Some(_)) => return Err(bad_arg(field, "takes no argument")),
        (ArgKind::OptionalIndex, Some(a)) => match a.trim().parse() {
            Ok(n) => FieldArg::Index(n),
            Err(_) => return Err(bad_arg(field, "the argument must be a number")),
        },
        (ArgKind::Key, Some(a)) if !a.is_empty() => FieldArg::Key(a),
        (ArgKind::IndexOrKey, Some(a)) if !a.is_empty() => match a.trim().parse() {
            Ok(n) => FieldArg::Index(n),
            Err(_) => FieldArg::Key(a),
        },
        (ArgKind::Key | ArgKind::IndexOrKey, _) => return Err(bad_arg(field, "needs an argument")),
    };
    Ok((field, arg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(e: &Expr) -> &Check {
        match e {
            Expr::Check(c) => c,
            other => panic!("not a check: {other:?}"),
        }
    }

    #[test]
    fn precedence_and_macros() {
        let e = parse_condition("a or b and not c").unwrap();
        let Expr::Or(terms) = e else { panic!() };
        assert!(matches!(&terms[0], Expr::Macro { name, .. } if name == "a"));
        let Expr::And(inner) = &terms[1] else { panic!() };
        assert!(matches!(&inner[1], Expr::Not(_)));
    }

    #[test]
    fn fields_args_and_values() {
        let e = parse_condition("proc.aname[2]=bash").unwrap();
        assert_eq!(check(&e).lhs.arg, FieldArg::Index(2));
        let e = parse_condition("evt.arg.flags contains O_WRONLY").unwrap();
        assert_eq!(
            (check(&e).lhs.field, &check(&e).lhs.arg),
            (Field::EvtArg, &FieldArg::Key("flags".into()))
        );
        let e = parse_condition("evt.arg[0] = 3").unwrap();
        assert_eq!(check(&e).lhs.arg, FieldArg::Index(0));
        let e = parse_condition("evt.dir = <").unwrap();
        assert!(matches!(&check(&e).rhs, Rhs::Value(i) if i.text == "<"));
        let e = parse_condition("proc.name in (a, \"b c\", 'd')").unwrap();
        let Rhs::List(items) = &check(&e).rhs else { panic!() };
        assert_eq!(items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>(), ["a", "b c", "d"]);
        let e = parse_condition("proc.name in shell_binaries").unwrap();
        assert!(matches!(&check(&e).rhs, Rhs::ListRef { name, .. } if name == "shell_binaries"));
        let e = parse_condition("tolower(basename(proc.exepath)) = val(proc.name)").unwrap();
        assert_eq!(check(&e).lhs.transforms, [Transform::Basename, Transform::Tolower]);
        assert!(matches!(&check(&e).rhs, Rhs::Field(o) if o.field == Field::ProcName));
        let e = parse_condition("proc.pname exists and x").unwrap();
        assert!(matches!(e, Expr::And(_)));
        let e = parse_condition("proc.pname in (runc:[0:PARENT], runc)").unwrap();
        let Rhs::List(items) = &check(&e).rhs else { panic!() };
        assert_eq!(items[0].text, "runc:[0:PARENT]");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            ("proc.nam = x", 0, "not a supported field"),
            ("proc.name = x and (a or b", 18, "unbalanced"),
            ("proc.name foo bar", 10, "not an operator"),
            ("proc.name = \"abc", 12, "unterminated"),
            ("a and", 5, "expression was expected"),
            ("proc.name in (a, b", 13, "closing"),
            ("a b", 2, "unexpected 'b'"),
            ("proc.pid[3] = 1", 0, "takes no argument"),
            ("", 0, "empty"),
        ];
        for (text, pos, msg) in cases {
            let err = parse_condition(text).unwrap_err();
            let shown = format!("{:?}", err.kind);
            assert!(shown.contains(msg), "{text}: {shown}");
            assert_eq!(err.pos, *pos, "{text}: {shown}");
        }
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 2), ")".repeat(MAX_DEPTH + 2));
        assert!(format!("{:?}", parse_condition(&deep).unwrap_err().kind).contains("nested"));
    }
}
