//! Conditions in the form they are evaluated in: fields resolved, constants
//! typed and pre-lowered, `in` lists as hash sets, `pmatch` as a prefix set,
//! regexes and globs compiled once; plus the event types a condition can
//! match, derived from its `evt.type` tests.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::event::{Event, Field, Value, ValueType};
use crate::parse::{Op, Operand, Transform};

/// A small, fast hasher for short strings and numbers (FNV-1a over 8-byte
/// words); the sets are built from trusted rules, not attacker input.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FastSet<T> = HashSet<T, BuildHasherDefault<FastHasher>>;
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[derive(Clone, Debug)]
pub(crate) enum Cond {
    True,
    False,
    /// A macro's condition; its result is computed once per event and
    /// shared by every rule that uses the macro (`slot` in the cache).
    Macro {
        slot: u32,
        inner: Box<Cond>,
    },
    And(Box<[Cond]>),
    Or(Box<[Cond]>),
    Not(Box<Cond>),
    /// `evt.type = x` / `evt.type in (...)`.
    EvtType(Box<[Box<str>]>),
    Check(Box<CheckC>),
}

#[derive(Clone, Debug)]
pub(crate) struct CheckC {
    pub(crate) lhs: Operand,
    /// The field's value is a list of its own (`fd.types`): `in` means subset.
    pub(crate) list_field: bool,
    pub(crate) test: Test,
}

#[derive(Clone, Debug)]
pub(crate) enum Test {
    Exists,
    Eq(Const),
    Ne(Const),
    Lt(i128),
    Le(i128),
    Gt(i128),
    Ge(i128),
    Contains(Box<str>),
    /// The needle is lowercased at load.
    IContains(Box<str>),
    BContains(Box<[u8]>),
    StartsWith(Box<str>),
    BStartsWith(Box<[u8]>),
    EndsWith(Box<str>),
    Glob(globset::GlobMatcher),
    Regex(regex::Regex),
    In(Set),
    Intersects(Set),
    Pmatch(PrefixSet),
    /// `val(field)`: compared with another field of the event.
    Field(Op, Operand),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Const {
    Str(Box<str>),
    Num(i128),
    Bool(bool),
    Net(Net),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(text: &str) -> Option<Net> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The members of an `in` / `intersects` list, typed for the field.
#[derive(Clone, Debug, Default)]
pub(crate) struct Set {
    /// Few strings: compared one by one (cheaper than hashing).
    small: Vec<Box<str>>,
    strs: FastSet<Box<str>>,
    nums: FastSet<i128>,
    nets: Vec<Net>,
    bools: Vec<bool>,
}

const SMALL_SET: usize = 6;

impl Set {
    fn contains(&self, v: &Value<'_>) -> bool {
        match v {
            Value::Str(s) => {
                if !self.small.is_empty() {
                    return self.small.iter().any(|m| **m == **s);
                }
                if self.strs.contains(&**s) {
                    return true;
                }
                if !self.nums.is_empty() {
                    return s.parse::<i128>().is_ok_and(|n| self.nums.contains(&n));
                }
                !self.nets.is_empty()
                    && s.parse::<IpAddr>().is_ok_and(|ip| self.nets.iter().any(|n| n.contains(ip)))
            }
            Value::Int(n) => self.nums.contains(&i128::from(*n)) || self.has_str(&n.to_string()),
            Value::Uint(n) => self.nums.contains(&i128::from(*n)) || self.has_str(&n.to_string()),
            Value::Bool(b) => self.bools.contains(b),
            Value::Ip(ip) => self.nets.iter().any(|n| n.contains(*ip)),
            Value::List(items) => items.iter().any(|i| self.contains(i)),
        }
    }

    /// The members when they are all strings.
    pub(crate) fn strings(&self) -> Option<Vec<&str>> {
        if !self.nums.is_empty() || !self.nets.is_empty() || !self.bools.is_empty() {
            return None;
        }
        Some(self.small.iter().chain(self.strs.iter()).map(|s| &**s).collect())
    }

    fn has_str(&self, s: &str) -> bool {
        self.small.iter().any(|m| &**m == s) || self.strs.contains(s)
    }
}

/// Path prefixes for `pmatch`: a value matches when it is one of them or
/// lies under one (`/etc` matches `/etc` and `/etc/passwd`, not `/etcd`).
#[derive(Clone, Debug, Default)]
pub(crate) struct PrefixSet {
    prefixes: FastSet<Box<str>>,
}

impl PrefixSet {
    /// The prefixes, without a trailing `/`.
    pub(crate) fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.prefixes.iter().map(|p| &**p)
    }

    fn matches(&self, s: &str) -> bool {
        if self.prefixes.contains(s) {
            return true;
        }
        s.match_indices('/')
            .any(|(i, _)| (i > 0 && self.prefixes.contains(&s[..i])) || self.prefixes.contains(&s[..=i]))
    }
}

/// What went wrong compiling one check: the message and the offset of the
/// text it is about.
pub(crate) struct CompileError {
    pub(crate) pos: usize,
    pub(crate) token: String,
    pub(crate) kind: crate::error::ErrorKind,
}

/// The type an operand yields once its transformers have run.
pub(crate) fn operand_type(o: &Operand) -> ValueType {
    match o.transforms.last() {
        Some(Transform::Len) => ValueType::Uint,
        Some(_) => ValueType::Str,
        None => o.field.value_type(),
    }
}

fn is_numeric(t: ValueType) -> bool {
    matches!(t, ValueType::Int | ValueType::Uint | ValueType::AbsTime | ValueType::RelTime)
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Str => "string",
        ValueType::Int | ValueType::Uint => "number",
        ValueType::AbsTime | ValueType::RelTime => "time",
        ValueType::Bool => "bool",
        ValueType::Ip => "IP address",
        ValueType::Net => "network",
        ValueType::StrList => "list",
    }
}

/// Builds one check; `items` are the (already list-expanded) operands of
/// the operator with the offset each came from.
pub(crate) fn compile_check(
    lhs: &Operand,
    op: Op,
    op_pos: usize,
    items: &[(String, usize)],
    rhs_field: Option<&Operand>,
) -> Result<Cond, CompileError> {
    use crate::error::ErrorKind as K;
    let ty = operand_type(lhs);
    let field_name = lhs.field.name();
    let bad_op = || CompileError {
        pos: op_pos,
        token: op.name().to_string(),
        kind: K::BadOperator(format!("'{}' is not supported on {field_name} ({})", op.name(), type_name(ty))),
    };
    let str_ops = matches!(ty, ValueType::Str | ValueType::StrList);
    let allowed = match op {
        Op::Exists | Op::Eq | Op::Ne | Op::In | Op::Intersects => true,
        Op::Lt | Op::Le | Op::Gt | Op::Ge => is_numeric(ty),
        Op::Contains
        | Op::IContains
        | Op::BContains
        | Op::StartsWith
        | Op::BStartsWith
        | Op::EndsWith
        | Op::Glob
        | Op::IGlob
        | Op::Regex
        | Op::Pmatch => str_ops,
    };
    if !allowed {
        return Err(bad_op());
    }
    let list_field = ty == ValueType::StrList;

    if let Some(rhs) = rhs_field {
        if matches!(op, Op::In | Op::Intersects | Op::Pmatch | Op::Exists | Op::Regex | Op::Glob | Op::IGlob)
        {
            return Err(bad_op());
        }
        return Ok(Cond::Check(Box::new(CheckC {
            lhs: lhs.clone(),
            list_field,
            test: Test::Field(op, rhs.clone()),
        })));
    }

    // `evt.type` tests become their own node: cheap, and they tell which
    // event types the rule needs.
    if lhs.field == Field::EvtType && lhs.transforms.is_empty() && matches!(op, Op::Eq | Op::In | Op::Ne) {
        let types: Box<[Box<str>]> = items.iter().map(|(t, _)| t.as_str().into()).collect();
        let node = Cond::EvtType(types);
        return Ok(if op == Op::Ne { Cond::Not(Box::new(node)) } else { node });
    }

    let one = || -> Result<&(String, usize), CompileError> {
        items.first().ok_or_else(|| CompileError {
            pos: op_pos,
            token: op.name().into(),
            kind: K::Syntax(format!("'{}' needs a value", op.name())),
        })
    };
    let typed = |(text, pos): &(String, usize)| -> Result<Const, CompileError> {
        let wrong = |what: &str| CompileError {
            pos: *pos,
            token: text.clone(),
            kind: K::WrongValueType(format!("{field_name} expects {what}, got '{text}'")),
        };
        Ok(match ty {
            ValueType::Str | ValueType::StrList => Const::Str(text.as_str().into()),
            ValueType::Int | ValueType::Uint | ValueType::AbsTime | ValueType::RelTime => {
                Const::Num(text.trim().parse().map_err(|_| wrong("a number"))?)
            }
            ValueType::Bool => match text.to_ascii_lowercase().as_str() {
                "true" => Const::Bool(true),
                "false" => Const::Bool(false),
                _ => return Err(wrong("true or false")),
            },
            ValueType::Ip | ValueType::Net => {
                Const::Net(Net::parse(text.trim()).ok_or_else(|| wrong("an IP address or network"))?)
            }
        })
    };
    let num = |item: &(String, usize)| -> Result<i128, CompileError> {
        match typed(item)? {
            Const::Num(n) => Ok(n),
            _ => Err(bad_op()),
        }
    };
    let hex = |(text, pos): &(String, usize)| -> Result<Box<[u8]>, CompileError> {
        decode_hex(text).ok_or_else(|| CompileError {
            pos: *pos,
            token: text.clone(),
            kind: K::WrongValueType(format!("'{}' expects hexadecimal bytes, got '{text}'", op.name())),
        })
    };
    let test = match op {
        Op::Exists => Test::Exists,
        Op::Eq => Test::Eq(typed(one()?)?),
        Op::Ne => Test::Ne(typed(one()?)?),
        Op::Lt => Test::Lt(num(one()?)?),
        Op::Le => Test::Le(num(one()?)?),
        Op::Gt => Test::Gt(num(one()?)?),
        Op::Ge => Test::Ge(num(one()?)?),
        Op::Contains => Test::Contains(one()?.0.as_str().into()),
        Op::IContains => Test::IContains(one()?.0.to_lowercase().into()),
        Op::BContains => Test::BContains(hex(one()?)?),
        Op::StartsWith => Test::StartsWith(one()?.0.as_str().into()),
        Op::BStartsWith => Test::BStartsWith(hex(one()?)?),
        Op::EndsWith => Test::EndsWith(one()?.0.as_str().into()),
        Op::Glob | Op::IGlob => {
            let (text, pos) = one()?;
            let glob = globset::GlobBuilder::new(text)
                .literal_separator(false)
                .case_insensitive(op == Op::IGlob)
                .backslash_escape(true)
                .build()
                .map_err(|e| CompileError {
                    pos: *pos,
                    token: text.clone(),
                    kind: K::WrongValueType(format!("bad glob '{text}': {e}")),
                })?;
            Test::Glob(glob.compile_matcher())
        }
        Op::Regex => {
            let (text, pos) = one()?;
            // Falco's `regex` must match the whole value.
            let anchored = format!("^(?:{text})$");
            let re = regex::RegexBuilder::new(&anchored).size_limit(1 << 20).build().map_err(|e| {
                CompileError {
                    pos: *pos,
                    token: text.clone(),
                    kind: K::BadRegex { pattern: text.clone(), message: e.to_string() },
                }
            })?;
            Test::Regex(re)
        }
        Op::In | Op::Intersects => {
            let mut set = Set::default();
            let mut strs: Vec<Box<str>> = Vec::new();
            for item in items {
                match typed(item)? {
                    Const::Str(s) => strs.push(s),
                    Const::Num(n) => {
                        set.nums.insert(n);
                    }
                    Const::Bool(b) => set.bools.push(b),
                    Const::Net(n) => set.nets.push(n),
                }
            }
            if strs.len() <= SMALL_SET {
                set.small = strs;
            } else {
                set.strs = strs.into_iter().collect();
            }
            if op == Op::In { Test::In(set) } else { Test::Intersects(set) }
        }
        Op::Pmatch => Test::Pmatch(PrefixSet {
            prefixes: items
                .iter()
                .map(|(t, _)| t.trim_end_matches('/').to_string().into_boxed_str())
                .map(|p| if p.is_empty() { Box::from("/") } else { p })
                .collect(),
        }),
    };
    Ok(Cond::Check(Box::new(CheckC { lhs: lhs.clone(), list_field, test })))
}

fn decode_hex(text: &str) -> Option<Box<[u8]>> {
    let t: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if t.is_empty() || !t.len().is_multiple_of(2) {
        return None;
    }
    t.chunks(2)
        .map(|c| {
            let hi = (c[0] as char).to_digit(16)?;
            let lo = (c[1] as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

// ---- evaluation ----

impl Cond {
    #[inline]
    pub(crate) fn eval<E: Event + ?Sized>(&self, e: &E, cache: &mut [u8]) -> bool {
        match self {
            Cond::Check(c) => c.eval(e),
            Cond::And(terms) => terms.iter().all(|t| t.eval(e, cache)),
            Cond::Or(terms) => terms.iter().any(|t| t.eval(e, cache)),
            Cond::Not(inner) => !inner.eval(e, cache),
            Cond::EvtType(types) => {
                let t = e.event_type();
                types.iter().any(|x| **x == *t)
            }
            Cond::Macro { slot, inner } => match cache.get(*slot as usize).copied() {
                Some(1) => false,
                Some(2) => true,
                Some(_) => {
                    let r = inner.eval(e, cache);
                    cache[*slot as usize] = 1 + u8::from(r);
                    r
                }
                None => inner.eval(e, cache),
            },
            Cond::True => true,
            Cond::False => false,
        }
    }

    /// The condition for events whose type is in `types` (the rule's own):
    /// `evt.type` tests that every such event passes or fails become
    /// constants, and constants fold away.
    pub(crate) fn fold(self, types: &BTreeSet<Box<str>>) -> Cond {
        match self {
            Cond::EvtType(set) => {
                if types.iter().all(|t| set.contains(t)) {
                    Cond::True
                } else if !types.iter().any(|t| set.contains(t)) {
                    Cond::False
                } else {
                    Cond::EvtType(set)
                }
            }
            Cond::Not(inner) => match inner.fold(types) {
                Cond::True => Cond::False,
                Cond::False => Cond::True,
                other => Cond::Not(Box::new(other)),
            },
            Cond::And(terms) => {
                let mut out = Vec::with_capacity(terms.len());
                for t in terms.into_vec() {
                    match t.fold(types) {
                        Cond::True => {}
                        Cond::False => return Cond::False,
                        other => out.push(other),
                    }
                }
                match out.len() {
                    0 => Cond::True,
                    1 => out.pop().unwrap_or(Cond::True),
                    _ => Cond::And(out.into_boxed_slice()),
                }
            }
            Cond::Or(terms) => {
                let mut out = Vec::with_capacity(terms.len());
                for t in terms.into_vec() {
                    match t.fold(types) {
                        Cond::False => {}
                        Cond::True => return Cond::True,
                        other => out.push(other),
                    }
                }
                match out.len() {
                    0 => Cond::False,
                    1 => out.pop().unwrap_or(Cond::False),
                    _ => Cond::Or(out.into_boxed_slice()),
                }
            }
            Cond::Macro { slot, inner } => match inner.fold(types) {
                c @ (Cond::True | Cond::False | Cond::Check(_) | Cond::EvtType(_)) => c,
                other => Cond::Macro { slot, inner: Box::new(other) },
            },
            other => other,
        }
    }
}

/// The operand's value for the event: `evt.type` from the event type,
/// transformers applied.
#[inline]
pub(crate) fn extract<'e, E: Event + ?Sized>(o: &Operand, e: &'e E) -> Option<Value<'e>> {
    let v = if o.field == Field::EvtType {
        Value::Str(Cow::Borrowed(e.event_type()))
    } else {
        e.field(o.field, &o.arg)?
    };
    if o.transforms.is_empty() {
        return Some(v);
    }
    o.transforms.iter().try_fold(v, |v, t| transform(*t, v))
}

fn transform(t: Transform, v: Value<'_>) -> Option<Value<'_>> {
    if let Value::List(items) = v {
        if t == Transform::Len {
            return Some(Value::Uint(items.len() as u64));
        }
        return Some(Value::List(items.into_iter().filter_map(|i| transform(t, i)).collect()));
    }
    let s: Cow<'_, str> = match v {
        Value::Str(s) => s,
        other => Cow::Owned(other.to_string()),
    };
    Some(match t {
        Transform::Tolower => Value::Str(Cow::Owned(s.to_lowercase())),
        Transform::Toupper => Value::Str(Cow::Owned(s.to_uppercase())),
        Transform::Len => Value::Uint(s.len() as u64),
        Transform::Basename => {
            let base = match &s {
                Cow::Borrowed(b) => Cow::Borrowed(b.rsplit('/').next().unwrap_or(b)),
                Cow::Owned(o) => Cow::Owned(o.rsplit('/').next().unwrap_or(o).to_string()),
            };
            Value::Str(base)
        }
        Transform::B64 => Value::Str(Cow::Owned(String::from_utf8_lossy(&decode_b64(&s)?).into_owned())),
    })
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

impl CheckC {
    #[inline]
    fn eval<E: Event + ?Sized>(&self, e: &E) -> bool {
        let Some(v) = extract(&self.lhs, e) else { return false };
        // The common case first: a string field against a string constant.
        if let (Test::Eq(Const::Str(c)), Value::Str(s)) = (&self.test, &v) {
            return **c == **s;
        }
        match (&self.test, &v) {
            (Test::Exists, _) => true,
            (Test::Field(op, rhs), _) => extract(rhs, e).is_some_and(|r| compare_values(*op, &v, &r)),
            (Test::In(set), Value::List(items)) if self.list_field => {
                !items.is_empty() && items.iter().all(|i| set.contains(i))
            }
            (Test::Ne(c), Value::List(items)) if self.list_field => {
                !items.iter().any(|i| scalar(&Test::Eq(c.clone()), i))
            }
            (_, Value::List(items)) => items.iter().any(|i| scalar(&self.test, i)),
            _ => scalar(&self.test, &v),
        }
    }
}

#[inline]
fn as_num(v: &Value<'_>) -> Option<i128> {
    match v {
        Value::Int(n) => Some(i128::from(*n)),
        Value::Uint(n) => Some(i128::from(*n)),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i128::from(*b)),
        _ => None,
    }
}

#[inline]
fn as_str<'v>(v: &'v Value<'_>) -> Cow<'v, str> {
    match v {
        Value::Str(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

#[inline]
fn eq_const(c: &Const, v: &Value<'_>) -> bool {
    match (c, v) {
        (Const::Str(c), Value::Str(s)) => **c == **s,
        (Const::Str(c), other) => **c == *other.to_string(),
        (Const::Num(n), v) => as_num(v) == Some(*n),
        (Const::Bool(b), Value::Bool(x)) => b == x,
        (Const::Bool(b), Value::Str(s)) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        (Const::Bool(_), _) => false,
        (Const::Net(n), Value::Ip(ip)) => n.contains(*ip),
        (Const::Net(n), Value::Str(s)) => s.parse::<IpAddr>().is_ok_and(|ip| n.contains(ip)),
        (Const::Net(_), _) => false,
    }
}

fn icontains(hay: &str, lowered_needle: &str) -> bool {
    if lowered_needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && lowered_needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), lowered_needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(lowered_needle)
}

#[inline]
fn scalar(test: &Test, v: &Value<'_>) -> bool {
    match test {
        Test::Exists => true,
        Test::Eq(c) => eq_const(c, v),
        Test::Ne(c) => !eq_const(c, v),
        Test::Lt(n) => as_num(v).is_some_and(|x| x < *n),
        Test::Le(n) => as_num(v).is_some_and(|x| x <= *n),
        Test::Gt(n) => as_num(v).is_some_and(|x| x > *n),
        Test::Ge(n) => as_num(v).is_some_and(|x| x >= *n),
        Test::Contains(n) => as_str(v).contains(&**n),
        Test::IContains(n) => icontains(&as_str(v), n),
        Test::BContains(n) => as_str(v).as_bytes().windows(n.len()).any(|w| w == &**n),
        Test::StartsWith(n) => as_str(v).starts_with(&**n),
        Test::BStartsWith(n) => as_str(v).as_bytes().starts_with(n),
        Test::EndsWith(n) => as_str(v).ends_with(&**n),
        Test::Glob(g) => g.is_match(&*as_str(v)),
        Test::Regex(r) => r.is_match(&as_str(v)),
        Test::In(set) | Test::Intersects(set) => set.contains(v),
        Test::Pmatch(p) => p.matches(&as_str(v)),
        Test::Field(..) => false,
    }
}

/// `val(field)` comparisons: both sides are event values.
fn compare_values(op: Op, l: &Value<'_>, r: &Value<'_>) -> bool {
    if let Value::List(items) = l {
        return items.iter().any(|i| compare_values(op, i, r));
    }
    let (ln, rn) = (as_num(l), as_num(r));
    let ordered = |f: fn(i128, i128) -> bool| matches!((ln, rn), (Some(a), Some(b)) if f(a, b));
    match op {
        Op::Eq => l == r || as_str(l) == as_str(r),
        Op::Ne => !(l == r || as_str(l) == as_str(r)),
        Op::Lt => ordered(|a, b| a < b),
        Op::Le => ordered(|a, b| a <= b),
        Op::Gt => ordered(|a, b| a > b),
        Op::Ge => ordered(|a, b| a >= b),
        Op::Contains => as_str(l).contains(&*as_str(r)),
        Op::IContains => icontains(&as_str(l), &as_str(r).to_lowercase()),
        Op::BContains => as_str(l).contains(&*as_str(r)),
        Op::StartsWith | Op::BStartsWith => as_str(l).starts_with(&*as_str(r)),
        Op::EndsWith => as_str(l).ends_with(&*as_str(r)),
        _ => false,
    }
}

// ---- event types ----

/// The event types where a condition can hold: a set, or every type but a
/// set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Types {
    Only(BTreeSet<Box<str>>),
    AllBut(BTreeSet<Box<str>>),
}

impl Types {
    fn all() -> Types {
        Types::AllBut(BTreeSet::new())
    }

    fn and(self, other: Types) -> Types {
        use Types::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a.intersection(&b).cloned().collect()),
            (Only(a), AllBut(b)) | (AllBut(b), Only(a)) => Only(a.difference(&b).cloned().collect()),
            (AllBut(a), AllBut(b)) => AllBut(a.union(&b).cloned().collect()),
        }
    }

    fn or(self, other: Types) -> Types {
        use Types::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a.union(&b).cloned().collect()),
            (Only(a), AllBut(b)) | (AllBut(b), Only(a)) => AllBut(b.difference(&a).cloned().collect()),
            (AllBut(a), AllBut(b)) => AllBut(a.intersection(&b).cloned().collect()),
        }
    }
}

/// (where the condition can be true, where it can be false).
pub(crate) fn types(c: &Cond) -> (Types, Types) {
    match c {
        Cond::True => (Types::all(), Types::Only(BTreeSet::new())),
        Cond::False => (Types::Only(BTreeSet::new()), Types::all()),
        Cond::Macro { inner, .. } => types(inner),
        Cond::EvtType(set) => {
            let s: BTreeSet<Box<str>> = set.iter().cloned().collect();
            (Types::Only(s.clone()), Types::AllBut(s))
        }
        Cond::Check(_) => (Types::all(), Types::all()),
        Cond::Not(inner) => {
            let (t, f) = types(inner);
            (f, t)
        }
        Cond::And(terms) => {
            let mut acc = (Types::all(), Types::Only(BTreeSet::new()));
            for term in terms.iter() {
                let (t, f) = types(term);
                acc = (acc.0.and(t), acc.1.or(f));
            }
            acc
        }
        Cond::Or(terms) => {
            let mut acc = (Types::Only(BTreeSet::new()), Types::all());
            for term in terms.iter() {
                let (t, f) = types(term);
                acc = (acc.0.or(t), acc.1.and(f));
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_and_prefixes() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Net::parse("fd00::/8").unwrap().contains("fd12::1".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        let p = PrefixSet {
            prefixes: ["/etc", "/usr/bin/"].iter().map(|s| Box::from(s.trim_end_matches('/'))).collect(),
        };
        assert!(p.matches("/etc") && p.matches("/etc/passwd") && p.matches("/usr/bin/x"));
        assert!(!p.matches("/etcd/x") && !p.matches("/usr/binx"));
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_b64("aGVsbG8=").unwrap(), b"hello");
        assert!(decode_b64("a*b").is_none());
    }
}
