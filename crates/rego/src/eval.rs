//! One evaluation: a depth-first search over each body's literals, variables
//! in slots undone on backtracking, every rule's value and every function
//! result kept until the evaluation ends.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use regorus::Value;
use regorus::unstable::{ArithOp, comparison, numbers, sets};

use crate::{Call, Callee, Def, Error, Ex, Lit, Program, Rule, RuleId, RuleKind, Slot};

type R<T> = Result<T, Error>;

/// Steps (literals tried, collection items visited) one evaluation may take: far above what an
/// admission policy needs, low enough to stop a runaway one.
const MAX_STEPS: u64 = 50_000_000;

/// Literals being evaluated at once, nested calls included: the search
/// recurses once per literal, and a webhook evaluates on threads with 2 MiB
/// of stack.
const MAX_DEPTH: usize = 500;

/// Results one pure function keeps across evaluations; it starts over when full.
const MAX_SHARED_RESULTS: usize = 4096;

/// String bytes in the arguments of a result kept across evaluations.
const MAX_SHARED_ARGUMENT_BYTES: usize = 256;

/// Steps between clock reads when a deadline is set.
const DEADLINE_CHECK_INTERVAL: u64 = 1024;

/// Where a rule stands in this evaluation. A function is `Busy` while a call
/// of it runs and `Todo` otherwise (its results are in the memo).
enum State {
    Todo,
    Busy,
    Done(Value),
}

/// The variables of one definition being evaluated.
struct Frame {
    slots: Vec<Value>,
    /// Slots bound so far, in order, so backtracking can unbind them.
    trail: Vec<Slot>,
}

impl Frame {
    fn bind(&mut self, slot: Slot, v: Value) {
        self.slots[slot] = v;
        self.trail.push(slot);
    }

    fn undo(&mut self, mark: usize) {
        while self.trail.len() > mark {
            if let Some(s) = self.trail.pop() {
                self.slots[s] = Value::Undefined;
            }
        }
    }
}

/// Continuations return whether to go on looking for solutions.
type Then<'k, 'p> = &'k mut dyn FnMut(&mut Evaluation<'p>, &mut Frame) -> R<bool>;
type ThenValue<'k, 'p> = &'k mut dyn FnMut(&mut Evaluation<'p>, &mut Frame, Value) -> R<bool>;
type ThenValues<'k, 'p> = &'k mut dyn FnMut(&mut Evaluation<'p>, &mut Frame, &[Value]) -> R<bool>;

pub(crate) struct Evaluation<'p> {
    program: &'p Program,
    data: &'p Value,
    input: &'p Value,
    scratch: Scratch,
    steps: u64,
    depth: usize,
    deadline: Option<Instant>,
}

/// An evaluation's tables and spare buffers. A finished evaluation leaves
/// them, emptied, to the next one on the same thread: a review runs a score
/// of evaluations, each making hundreds of frames and argument lists, which
/// are then allocated once per thread rather than once per use.
#[derive(Default)]
struct Scratch {
    /// Where each rule stands.
    rules: Vec<State>,
    /// Function results by arguments.
    memo: Vec<Memo>,
    /// Frames and argument lists done with.
    frames: Vec<Frame>,
    args: Vec<Vec<Value>>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl Scratch {
    /// The thread's scratch, with room for `rules` rules, all to do.
    fn take(rules: usize) -> Scratch {
        let mut s = SCRATCH
            .try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default())
            .unwrap_or_default();
        s.rules.resize_with(rules, || State::Todo);
        s.memo.resize_with(rules, Memo::default);
        s
    }

    /// Empties the tables and leaves them to the thread's next evaluation
    /// (not during thread teardown, when the pool may be gone already).
    fn give_back(mut self) {
        self.rules.clear();
        for m in &mut self.memo {
            m.few.clear();
            m.many.clear();
        }
        let _ = SCRATCH.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                *s = self;
            }
        });
    }
}

impl Drop for Evaluation<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.scratch).give_back();
    }
}

/// A function argument as the memo compares it: scalars by value,
/// collections by identity. Comparing a container object deeply on every
/// call costs more than the call; within one evaluation the same container
/// is the same allocation, which the key holds so it is not reused.
struct MemoKey(Value);

impl MemoKey {
    /// Whether `v` is this argument: the same collection, or an equal scalar.
    fn is(&self, v: &Value) -> bool {
        argument_order(&self.0, v).is_eq()
    }
}

/// Where a collection's contents live, which names it within one evaluation.
fn identity(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(regorus::Rc::as_ptr(a) as *const u8 as usize),
        Value::Set(s) => Some(regorus::Rc::as_ptr(s) as *const u8 as usize),
        Value::Object(o) => Some(regorus::Rc::as_ptr(o) as *const u8 as usize),
        _ => None,
    }
}

/// Arguments ordered as the memo compares them: collections by identity,
/// after every scalar, scalars by value.
fn argument_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (identity(a), identity(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, None) => a.cmp(b),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

impl Ord for MemoKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        argument_order(&self.0, &other.0)
    }
}

impl PartialOrd for MemoKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MemoKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for MemoKey {}

fn memo_key(args: &[Value]) -> Vec<MemoKey> {
    args.iter().cloned().map(MemoKey).collect()
}

/// Results at most this many argument lists are scanned in order; more
/// go into a map.
const MEMO_SCAN: usize = 8;

/// One function's results in one evaluation. Most functions see a few
/// argument lists (the containers of one object), which are compared in
/// place without building a key.
#[derive(Default)]
struct Memo {
    few: Vec<(Vec<MemoKey>, Value)>,
    many: BTreeMap<Vec<MemoKey>, Value>,
}

impl Memo {
    fn get(&self, args: &[Value]) -> Option<&Value> {
        if self.many.is_empty() {
            let same = |k: &[MemoKey]| k.len() == args.len() && k.iter().zip(args).all(|(k, a)| k.is(a));
            self.few.iter().find(|(k, _)| same(k)).map(|(_, v)| v)
        } else {
            self.many.get(&memo_key(args))
        }
    }

    fn insert(&mut self, args: &[Value], result: Value) {
        if self.many.is_empty() && self.few.len() < MEMO_SCAN {
            self.few.push((memo_key(args), result));
            return;
        }
        self.many.extend(self.few.drain(..));
        self.many.insert(memo_key(args), result);
    }
}

fn unbound() -> Error {
    Error::Unsupported("a variable read before any literal binds it".to_string())
}

/// Arguments whose results are kept across evaluations: scalars, short
/// enough that a full table stays small whatever requests carry.
fn shareable(args: &[Value]) -> bool {
    let mut bytes = 0;
    args.iter().all(|v| match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::String(s) => {
            bytes += s.len();
            bytes <= MAX_SHARED_ARGUMENT_BYTES
        }
        _ => false,
    })
}

fn defined(v: &Value) -> bool {
    !matches!(v, Value::Undefined)
}

/// Calls `each` with the (key, value) pairs of a collection: index and
/// item for arrays, the element twice for sets; stops when it returns false.
/// Entries are lent, not cloned: most are only looked into.
fn each_entry(v: &Value, each: &mut dyn FnMut(&Value, &Value) -> R<bool>) -> R<bool> {
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if !each(&Value::from(i), x)? {
                    return Ok(false);
                }
            }
        }
        Value::Object(o) => {
            for (k, x) in o.iter() {
                if !each(k, x)? {
                    return Ok(false);
                }
            }
        }
        Value::Set(s) => {
            for x in s.iter() {
                if !each(x, x)? {
                    return Ok(false);
                }
            }
        }
        _ => {}
    }
    Ok(true)
}

static UNDEFINED: Value = Value::Undefined;

/// `v[i]`. Objects with few keys are scanned for a string key: comparing
/// lengths rules most keys out at once, where regorus's ordered search
/// compares whole values at every step.
fn child<'a>(v: &'a Value, i: &Value) -> &'a Value {
    const SCAN: usize = 16;
    if let (Value::Object(o), Value::String(k)) = (v, i)
        && o.len() <= SCAN
    {
        let found = o.iter().find(|(key, _)| matches!(key, Value::String(s) if s == k));
        return found.map_or(&UNDEFINED, |(_, x)| x);
    }
    &v[i]
}

/// The value an index that needs no evaluation stands for: a constant or a
/// variable. `None` for any other expression.
fn plain_index<'a>(f: &'a Frame, e: &'a Ex) -> Option<&'a Value> {
    match e {
        Ex::Const(v) => Some(v),
        Ex::Var(s) => Some(&f.slots[*s]),
        _ => None,
    }
}

impl<'p> Evaluation<'p> {
    pub fn new(program: &'p Program, data: &'p Value, input: &'p Value, deadline: Option<Instant>) -> Self {
        Evaluation {
            program,
            data,
            input,
            scratch: Scratch::take(program.rules.len()),
            steps: 0,
            depth: 0,
            deadline,
        }
    }

    /// A frame of `slots` unbound variables.
    fn frame(&mut self, slots: usize) -> Frame {
        let mut f = self.scratch.frames.pop().unwrap_or(Frame { slots: Vec::new(), trail: Vec::new() });
        f.slots.resize(slots, Value::Undefined);
        f
    }

    fn release(&mut self, mut f: Frame) {
        f.slots.clear();
        f.trail.clear();
        self.scratch.frames.push(f);
    }

    fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Error::Eval(format!("evaluation stopped after {MAX_STEPS} steps")));
        }
        if let Some(d) = self.deadline
            && self.steps.is_multiple_of(DEADLINE_CHECK_INTERVAL)
            && Instant::now() >= d
        {
            return Err(Error::Eval("the evaluation exceeded its time limit".to_string()));
        }
        Ok(())
    }

    /// A rule's value, computed on first use.
    pub fn rule(&mut self, id: RuleId) -> R<Value> {
        match &self.scratch.rules[id] {
            State::Done(v) => return Ok(v.clone()),
            State::Busy => {
                return Err(Error::Eval(format!("{} depends on itself", self.program.rules[id].path)));
            }
            State::Todo => {}
        }
        self.scratch.rules[id] = State::Busy;
        let program = self.program;
        let rule = &program.rules[id];
        let value = match rule.kind {
            RuleKind::Complete => self.single_value(rule, &[])?,
            RuleKind::Set => {
                let mut set = BTreeSet::new();
                for def in &rule.defs {
                    let (Some(key), Some((query, _))) = (&def.key, def.chain.first()) else { continue };
                    let mut f = self.frame(def.slots);
                    self.query(&mut f, &query.lits, &mut |ev, f| {
                        let k = ev.value(f, key)?;
                        if defined(&k) {
                            set.insert(k);
                        }
                        Ok(true)
                    })?;
                    self.release(f);
                }
                Value::from(set)
            }
            RuleKind::Object => {
                let mut object = BTreeMap::new();
                for def in &rule.defs {
                    let (Some(key), Some((query, value))) = (&def.key, def.chain.first()) else { continue };
                    let mut f = self.frame(def.slots);
                    self.insert_each(&mut f, &query.lits, key, value.as_ref(), &mut object, &rule.path)?;
                    self.release(f);
                }
                Value::from(object)
            }
            RuleKind::Function => {
                return Err(Error::Unsupported(format!("function {} used as a value", rule.path)));
            }
        };
        self.scratch.rules[id] = State::Done(value.clone());
        Ok(value)
    }

    fn function(&mut self, id: RuleId, args: &[Value]) -> R<Value> {
        if let Some(v) = self.scratch.memo[id].get(args) {
            return Ok(v.clone());
        }
        let shared = self.program.pure[id].as_ref().filter(|_| shareable(args));
        if let Some(shared) = shared
            && let Some(v) = shared.lock().unwrap_or_else(|e| e.into_inner()).get(args).cloned()
        {
            self.scratch.memo[id].insert(args, v.clone());
            return Ok(v);
        }
        if matches!(self.scratch.rules[id], State::Busy) {
            return Err(Error::Eval(format!("{} calls itself", self.program.rules[id].path)));
        }
        self.scratch.rules[id] = State::Busy;
        let program = self.program;
        let result = self.single_value(&program.rules[id], args)?;
        self.scratch.rules[id] = State::Todo;
        if let Some(shared) = shared {
            let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
            if shared.len() >= MAX_SHARED_RESULTS {
                shared.clear();
            }
            shared.insert(args.to_vec(), result.clone());
        }
        self.scratch.memo[id].insert(args, result.clone());
        Ok(result)
    }

    /// A complete rule's or a function's value for `args`: the definitions
    /// whose parameters match must agree; the default when none holds.
    fn single_value(&mut self, rule: &Rule, args: &[Value]) -> R<Value> {
        let mut result = Value::Undefined;
        for def in rule.defs.iter().filter(|d| d.args.len() == args.len()) {
            let mut f = self.frame(def.slots);
            let mut matched = true;
            for (pattern, arg) in def.args.iter().zip(args) {
                if !self.matches(&mut f, pattern, arg)? {
                    matched = false;
                    break;
                }
            }
            if matched {
                let v = self.chain(&mut f, def, &rule.path)?;
                result = merge(result, v, &rule.path)?;
            }
            self.release(f);
        }
        Ok(if defined(&result) { result } else { rule.default.clone().unwrap_or(Value::Undefined) })
    }

    /// The value of the first body in `def`'s `else` chain that holds.
    fn chain(&mut self, f: &mut Frame, def: &Def, path: &str) -> R<Value> {
        for (query, value) in &def.chain {
            let mut out = Value::Undefined;
            let mut conflict = false;
            self.query(f, &query.lits, &mut |ev, f| {
                let v = match value {
                    Some(e) => ev.value(f, e)?,
                    None => Value::Bool(true),
                };
                if defined(&v) {
                    if defined(&out) && out != v {
                        conflict = true;
                        return Ok(false);
                    }
                    out = v;
                }
                Ok(true)
            })?;
            if conflict {
                return Err(Error::Eval(format!(
                    "{path}: complete rules and functions must not produce multiple outputs"
                )));
            }
            if defined(&out) {
                return Ok(out);
            }
        }
        Ok(Value::Undefined)
    }

    fn query(&mut self, f: &mut Frame, lits: &[Lit], then: Then<'_, 'p>) -> R<bool> {
        let Some((lit, rest)) = lits.split_first() else { return then(self, f) };
        self.tick()?;
        if self.depth >= MAX_DEPTH {
            return Err(Error::Eval(format!("evaluation nested deeper than {MAX_DEPTH} literals")));
        }
        self.depth += 1;
        let result = self.literal(f, lit, rest, then);
        self.depth -= 1;
        result
    }

    fn literal(&mut self, f: &mut Frame, lit: &Lit, rest: &[Lit], then: Then<'_, 'p>) -> R<bool> {
        match lit {
            // The commonest literal, a test on bound values, without going
            // through the generators.
            Lit::Expr(e) if ground(f, e) => {
                let v = self.value(f, e)?;
                if !defined(&v) || matches!(v, Value::Bool(false)) {
                    Ok(true)
                } else {
                    self.query(f, rest, then)
                }
            }
            Lit::Expr(e) => self.values(f, e, &mut |ev, f, v| {
                if matches!(v, Value::Bool(false)) { Ok(true) } else { ev.query(f, rest, then) }
            }),
            Lit::Not(q) => {
                let mark = f.trail.len();
                let none = self.query(f, &q.lits, &mut |_, _| Ok(false))?;
                f.undo(mark);
                if none { self.query(f, rest, then) } else { Ok(true) }
            }
            Lit::Unify(a, b) => self.unify(f, a, b, &mut |ev, f| ev.query(f, rest, then)),
            Lit::SomeIn { key, value, collection } => self.values(f, collection, &mut |ev, f, c| {
                each_entry(&c, &mut |k, v| {
                    ev.tick()?;
                    let mark = f.trail.len();
                    let mut ok = match key {
                        Some(p) => ev.matches(f, p, k)?,
                        None => true,
                    };
                    ok = ok && ev.matches(f, value, v)?;
                    let go_on = if ok { ev.query(f, rest, then)? } else { true };
                    f.undo(mark);
                    Ok(go_on)
                })
            }),
            Lit::Every { key, value, domain, body } => {
                // An undefined domain fails the literal, as OPA binds it first.
                let mut all = false;
                self.values(f, domain, &mut |ev, f, d| {
                    all = true;
                    each_entry(&d, &mut |k, v| {
                        ev.tick()?;
                        let mark = f.trail.len();
                        if let Some(ks) = key {
                            f.bind(*ks, k.clone());
                        }
                        f.bind(*value, v.clone());
                        let none = ev.query(f, &body.lits, &mut |_, _| Ok(false))?;
                        f.undo(mark);
                        if none {
                            all = false;
                        }
                        Ok(!none)
                    })
                })?;
                if all { self.query(f, rest, then) } else { Ok(true) }
            }
        }
    }

    /// `a = b`: evaluates the side that can be, and matches the other to each value.
    fn unify(&mut self, f: &mut Frame, a: &Ex, b: &Ex, then: Then<'_, 'p>) -> R<bool> {
        match (a, b) {
            // `x := <bound expression>`, the commonest case, binds directly.
            (Ex::Var(s), e) | (e, Ex::Var(s)) if !defined(&f.slots[*s]) && ground(f, e) => {
                let v = self.value(f, e)?;
                if !defined(&v) {
                    return Ok(true);
                }
                let mark = f.trail.len();
                f.bind(*s, v);
                let go_on = then(self, f);
                f.undo(mark);
                return go_on;
            }
            _ => {}
        }
        let (pattern, source) = if evaluable(f, b) && is_pattern(f, a) {
            (a, b)
        } else if evaluable(f, a) && is_pattern(f, b) {
            (b, a)
        } else if evaluable(f, a) && evaluable(f, b) {
            // Two generators (`input.a[i] = input.b[j]`): each value of one
            // against each of the other.
            return self.values(f, a, &mut |ev, f, x| {
                ev.values(f, b, &mut |ev, f, y| if x == y { then(ev, f) } else { Ok(true) })
            });
        } else if let (Ex::Array(xs), Ex::Array(ys)) = (a, b) {
            if xs.len() != ys.len() {
                return Ok(true);
            }
            return self.unify_pairs(f, xs, ys, then);
        } else {
            return Err(unbound());
        };
        self.values(f, source, &mut |ev, f, v| {
            let mark = f.trail.len();
            let go_on = if ev.matches(f, pattern, &v)? { then(ev, f)? } else { true };
            f.undo(mark);
            Ok(go_on)
        })
    }

    fn unify_pairs(&mut self, f: &mut Frame, xs: &[Ex], ys: &[Ex], then: Then<'_, 'p>) -> R<bool> {
        match (xs.split_first(), ys.split_first()) {
            (Some((x, xs)), Some((y, ys))) => {
                self.unify(f, x, y, &mut |ev, f| ev.unify_pairs(f, xs, ys, then))
            }
            _ => then(self, f),
        }
    }

    /// Binds the unbound variables of `pattern` so that it equals `v`;
    /// false when it cannot. The caller undoes the bindings.
    fn matches(&mut self, f: &mut Frame, pattern: &Ex, v: &Value) -> R<bool> {
        match pattern {
            Ex::Var(s) => {
                if defined(&f.slots[*s]) {
                    Ok(f.slots[*s] == *v)
                } else {
                    f.bind(*s, v.clone());
                    Ok(true)
                }
            }
            Ex::Array(items) if !ground(f, pattern) => {
                let Value::Array(a) = v else { return Ok(false) };
                if a.len() != items.len() {
                    return Ok(false);
                }
                for (p, x) in items.iter().zip(a.iter()) {
                    if !self.matches(f, p, x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Ex::Object(fields) if !ground(f, pattern) => {
                let Value::Object(o) = v else { return Ok(false) };
                if o.len() != fields.len() {
                    return Ok(false);
                }
                for (k, p) in fields {
                    if !ground(f, k) {
                        return Err(unbound());
                    }
                    let key = self.value(f, k)?;
                    let Some(x) = o.get(&key) else { return Ok(false) };
                    if !self.matches(f, p, x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            _ if ground(f, pattern) => {
                let p = self.value(f, pattern)?;
                Ok(defined(&p) && p == *v)
            }
            _ => Err(unbound()),
        }
    }

    /// Every value of `e`: one for an expression whose variables are bound,
    /// one per binding of the unbound variables in its references' indices.
    fn values(&mut self, f: &mut Frame, e: &Ex, then: ThenValue<'_, 'p>) -> R<bool> {
        if ground(f, e) {
            let v = self.value(f, e)?;
            return if defined(&v) { then(self, f, v) } else { Ok(true) };
        }
        match e {
            Ex::Ref(base, path) => self.values(f, base, &mut |ev, f, b| ev.walk(f, &b, path, then)),
            Ex::Array(items) => {
                let parts: Vec<&Ex> = items.iter().collect();
                self.values_all(f, &parts, &mut Vec::new(), &mut |ev, f, vs| {
                    then(ev, f, Value::from(vs.to_vec()))
                })
            }
            Ex::Set(items) => {
                let parts: Vec<&Ex> = items.iter().collect();
                self.values_all(f, &parts, &mut Vec::new(), &mut |ev, f, vs| {
                    then(ev, f, Value::from(vs.iter().cloned().collect::<BTreeSet<_>>()))
                })
            }
            Ex::Object(fields) => {
                let parts: Vec<&Ex> = fields.iter().flat_map(|(k, v)| [k, v]).collect();
                self.values_all(f, &parts, &mut Vec::new(), &mut |ev, f, vs| {
                    let map: BTreeMap<Value, Value> =
                        vs.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect();
                    then(ev, f, Value::from(map))
                })
            }
            Ex::Call(c) => {
                let parts: Vec<&Ex> = c.args.iter().collect();
                self.values_all(f, &parts, &mut Vec::new(), &mut |ev, f, args| {
                    let result = ev.call(c, args)?;
                    if !defined(&result) {
                        return Ok(true);
                    }
                    match &c.output {
                        None => then(ev, f, result),
                        Some(out) => {
                            let mark = f.trail.len();
                            let go_on = if ev.matches(f, out, &result)? {
                                then(ev, f, Value::Bool(true))?
                            } else {
                                true
                            };
                            f.undo(mark);
                            Ok(go_on)
                        }
                    }
                })
            }
            Ex::Arith(_, ops, _)
            | Ex::Compare(_, ops)
            | Ex::Union(ops, _)
            | Ex::Intersection(ops, _)
            | Ex::Member(None, ops) => {
                self.values_all(f, &[&ops.0, &ops.1], &mut Vec::new(), &mut |ev, f, vs| {
                    let v = ev.operate(e, &vs[0], &vs[1])?;
                    if defined(&v) { then(ev, f, v) } else { Ok(true) }
                })
            }
            Ex::Member(Some(k), ops) => {
                self.values_all(f, &[k, &ops.0, &ops.1], &mut Vec::new(), &mut |ev, f, vs| {
                    then(ev, f, Value::Bool(member(Some(&vs[0]), &vs[1], &vs[2])))
                })
            }
            Ex::Var(_) => Err(unbound()),
            // Always ground.
            Ex::Const(_)
            | Ex::Input
            | Ex::Data
            | Ex::Rule(_)
            | Ex::ArrayCompr(..)
            | Ex::SetCompr(..)
            | Ex::ObjectCompr(..) => Err(unbound()),
        }
    }

    fn values_all(
        &mut self,
        f: &mut Frame,
        parts: &[&Ex],
        acc: &mut Vec<Value>,
        then: ThenValues<'_, 'p>,
    ) -> R<bool> {
        let Some((first, rest)) = parts.split_first() else { return then(self, f, acc) };
        self.values(f, first, &mut |ev, f, v| {
            acc.push(v);
            let go_on = ev.values_all(f, rest, acc, then);
            acc.pop();
            go_on
        })
    }

    /// Applies `path` to `v`, iterating where an index is unbound.
    fn walk(&mut self, f: &mut Frame, v: &Value, path: &[Ex], then: ThenValue<'_, 'p>) -> R<bool> {
        let Some((index, rest)) = path.split_first() else { return then(self, f, v.clone()) };
        if ground(f, index) {
            let owned;
            let i = match plain_index(f, index) {
                Some(i) => i,
                None => {
                    owned = self.value(f, index)?;
                    &owned
                }
            };
            let child = if defined(i) { child(v, i) } else { &UNDEFINED };
            return if defined(child) { self.walk(f, child, rest, then) } else { Ok(true) };
        }
        each_entry(v, &mut |k, child| {
            self.tick()?;
            let mark = f.trail.len();
            let go_on = if self.matches(f, index, k)? { self.walk(f, child, rest, then)? } else { true };
            f.undo(mark);
            Ok(go_on)
        })
    }

    /// The values of `items`, or `None` when one is undefined.
    fn value_each(&mut self, f: &mut Frame, items: &[Ex]) -> R<Option<Vec<Value>>> {
        let mut out = Vec::with_capacity(items.len());
        Ok(if self.push_values(f, items, &mut out)? { Some(out) } else { None })
    }

    /// Appends the values of `items` to `out`; false when one is undefined.
    fn push_values(&mut self, f: &mut Frame, items: &[Ex], out: &mut Vec<Value>) -> R<bool> {
        for i in items {
            let v = self.value(f, i)?;
            if !defined(&v) {
                return Ok(false);
            }
            out.push(v);
        }
        Ok(true)
    }

    /// The value of an expression whose variables are all bound.
    fn value(&mut self, f: &mut Frame, e: &Ex) -> R<Value> {
        Ok(match e {
            Ex::Const(v) => v.clone(),
            Ex::Var(s) => {
                let v = &f.slots[*s];
                if !defined(v) {
                    return Err(unbound());
                }
                v.clone()
            }
            Ex::Input => self.input.clone(),
            Ex::Data => self.data.clone(),
            Ex::Rule(id) => self.rule(*id)?,
            Ex::Ref(base, path) if path.iter().all(|p| plain_index(f, p).is_some()) => {
                // Looked up in place, cloning only what is found.
                let owned;
                let mut v = match &**base {
                    Ex::Input => self.input,
                    Ex::Data => self.data,
                    Ex::Var(s) if defined(&f.slots[*s]) => &f.slots[*s],
                    _ => {
                        owned = self.value(f, base)?;
                        &owned
                    }
                };
                for p in path {
                    if !defined(v) {
                        break;
                    }
                    let i = plain_index(f, p).unwrap_or(&UNDEFINED);
                    if !defined(i) {
                        return Err(unbound());
                    }
                    v = child(v, i);
                }
                v.clone()
            }
            Ex::Ref(base, path) => {
                let mut v = self.value(f, base)?;
                for p in path {
                    if !defined(&v) {
                        break;
                    }
                    let i = self.value(f, p)?;
                    v = if defined(&i) { child(&v, &i).clone() } else { Value::Undefined };
                }
                v
            }
            Ex::Array(items) => match self.value_each(f, items)? {
                Some(vs) => Value::from(vs),
                None => Value::Undefined,
            },
            Ex::Set(items) => match self.value_each(f, items)? {
                Some(vs) => Value::from(vs.into_iter().collect::<BTreeSet<_>>()),
                None => Value::Undefined,
            },
            Ex::Object(fields) => {
                let mut out = BTreeMap::new();
                for (k, v) in fields {
                    let k = self.value(f, k)?;
                    let v = self.value(f, v)?;
                    if !defined(&k) || !defined(&v) {
                        return Ok(Value::Undefined);
                    }
                    out.insert(k, v);
                }
                Value::from(out)
            }
            Ex::ArrayCompr(term, q) => Value::from(self.collect(f, term, q)?),
            Ex::SetCompr(term, q) => {
                Value::from(self.collect(f, term, q)?.into_iter().collect::<BTreeSet<_>>())
            }
            Ex::ObjectCompr(kv, q) => {
                let mut out = BTreeMap::new();
                self.insert_each(f, &q.lits, &kv.0, Some(&kv.1), &mut out, "object comprehension")?;
                Value::from(out)
            }
            Ex::Call(c) => {
                let mut args = self.scratch.args.pop().unwrap_or_default();
                let all = self.push_values(f, &c.args, &mut args)?;
                let result = if all { self.call(c, &args)? } else { Value::Undefined };
                args.clear();
                self.scratch.args.push(args);
                if !all {
                    return Ok(Value::Undefined);
                }
                match &c.output {
                    None => result,
                    Some(out) => {
                        let expected = self.value(f, out)?;
                        if defined(&result) && result == expected {
                            Value::Bool(true)
                        } else {
                            Value::Undefined
                        }
                    }
                }
            }
            Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
                let a = self.value(f, &ops.0)?;
                let b = self.value(f, &ops.1)?;
                self.operate(e, &a, &b)?
            }
            Ex::Member(key, ops) => {
                let k = match key {
                    Some(k) => Some(self.value(f, k)?),
                    None => None,
                };
                let v = self.value(f, &ops.0)?;
                let c = self.value(f, &ops.1)?;
                if k.as_ref().is_some_and(|k| !defined(k)) || !defined(&v) || !defined(&c) {
                    return Ok(Value::Undefined);
                }
                Value::Bool(member(k.as_ref(), &v, &c))
            }
        })
    }

    /// Adds `key: value` (`true` without a value) to `object` for every
    /// solution of `lits`; two values for one key are an error, as in OPA.
    fn insert_each(
        &mut self,
        f: &mut Frame,
        lits: &[Lit],
        key: &Ex,
        value: Option<&Ex>,
        object: &mut BTreeMap<Value, Value>,
        what: &str,
    ) -> R<()> {
        let mut conflict = None;
        self.query(f, lits, &mut |ev, f| {
            let k = ev.value(f, key)?;
            let v = match value {
                Some(e) => ev.value(f, e)?,
                None => Value::Bool(true),
            };
            if defined(&k) && defined(&v) {
                match object.get(&k) {
                    Some(old) if *old != v => {
                        conflict = Some(k);
                        return Ok(false);
                    }
                    _ => {
                        object.insert(k, v);
                    }
                }
            }
            Ok(true)
        })?;
        match conflict {
            Some(k) => Err(Error::Eval(format!("{what}: object keys must be unique; {k} has two values"))),
            None => Ok(()),
        }
    }

    /// The defined values of `term` for every solution of `q`.
    fn collect(&mut self, f: &mut Frame, term: &Ex, q: &crate::Query) -> R<Vec<Value>> {
        let mut out = Vec::new();
        self.query(f, &q.lits, &mut |ev, f| {
            let v = ev.value(f, term)?;
            if defined(&v) {
                out.push(v);
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// A binary operator on defined or undefined operands.
    fn operate(&self, e: &Ex, a: &Value, b: &Value) -> R<Value> {
        if !defined(a) || !defined(b) {
            return Ok(Value::Undefined);
        }
        let failed = |err: anyhow::Error| Error::Eval(format!("{err:#}"));
        match e {
            Ex::Compare(op, _) => comparison::compare(op, a, b).map_err(failed),
            Ex::Arith(ArithOp::Sub, _, _) if matches!((a, b), (Value::Set(_), Value::Set(_))) => {
                let (Value::Set(x), Value::Set(y)) = (a, b) else { unreachable!() };
                Ok(Value::from(x.difference(y)))
            }
            Ex::Arith(op, _, asts) => {
                numbers::arithmetic_operation(&asts.2, op, &asts.0, &asts.1, a.clone(), b.clone(), false)
                    .map_err(failed)
            }
            Ex::Union(_, asts) => sets::union(&asts.0, &asts.1, a.clone(), b.clone()).map_err(failed),
            Ex::Intersection(_, asts) => {
                sets::intersection(&asts.0, &asts.1, a.clone(), b.clone()).map_err(failed)
            }
            Ex::Member(None, _) => Ok(Value::Bool(member(None, a, b))),
            _ => Ok(Value::Undefined),
        }
    }

    fn call(&mut self, c: &Call, args: &[Value]) -> R<Value> {
        match &c.callee {
            Callee::Function(id) => self.function(*id, args),
            // As regorus's VM without strict errors: a builtin that fails is undefined.
            Callee::Builtin((builtin, _)) => {
                Ok((builtin)(&c.span, &c.params, args, false).unwrap_or(Value::Undefined))
            }
            Callee::Native(native) => native(args),
        }
    }
}

/// Values of one rule's definitions must agree.
fn merge(acc: Value, v: Value, path: &str) -> R<Value> {
    if !defined(&v) {
        return Ok(acc);
    }
    if defined(&acc) && acc != v {
        return Err(Error::Eval(format!(
            "{path}: complete rules and functions must not produce multiple outputs"
        )));
    }
    Ok(v)
}

/// `v in c`, `k, v in c`.
fn member(key: Option<&Value>, v: &Value, c: &Value) -> bool {
    match (key, c) {
        (None, Value::Array(a)) => a.iter().any(|x| x == v),
        (None, Value::Set(s)) => s.contains(v),
        (None, Value::Object(o)) => o.values().any(|x| x == v),
        (Some(k), Value::Array(_) | Value::Object(_)) => c[k] == *v,
        _ => false,
    }
}

/// All variables of `e` outside comprehensions are bound. Leaves, the
/// most common case, are answered without a call.
#[inline(always)]
fn ground(f: &Frame, e: &Ex) -> bool {
    match e {
        Ex::Const(_) | Ex::Input | Ex::Data | Ex::Rule(_) => true,
        Ex::Var(s) => defined(&f.slots[*s]),
        _ => ground_composite(f, e),
    }
}

fn ground_composite(f: &Frame, e: &Ex) -> bool {
    match e {
        Ex::Const(_) | Ex::Input | Ex::Data | Ex::Rule(_) => true,
        Ex::ArrayCompr(..) | Ex::SetCompr(..) | Ex::ObjectCompr(..) => true,
        Ex::Var(s) => defined(&f.slots[*s]),
        Ex::Ref(base, path) => ground(f, base) && path.iter().all(|p| ground(f, p)),
        Ex::Array(items) | Ex::Set(items) => items.iter().all(|i| ground(f, i)),
        Ex::Object(fields) => fields.iter().all(|(k, v)| ground(f, k) && ground(f, v)),
        Ex::Call(c) => c.args.iter().all(|a| ground(f, a)) && c.output.as_ref().is_none_or(|o| ground(f, o)),
        Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
            ground(f, &ops.0) && ground(f, &ops.1)
        }
        Ex::Member(k, ops) => {
            k.as_ref().is_none_or(|k| ground(f, k)) && ground(f, &ops.0) && ground(f, &ops.1)
        }
    }
}

/// `e` can be matched against a value by [`Evaluation::matches`]: a
/// variable, a composite of patterns, or ground.
fn is_pattern(f: &Frame, e: &Ex) -> bool {
    match e {
        Ex::Var(_) => true,
        Ex::Array(items) => items.iter().all(|i| is_pattern(f, i)),
        Ex::Object(fields) => fields.iter().all(|(k, v)| ground(f, k) && is_pattern(f, v)),
        _ => ground(f, e),
    }
}

/// `e` can be evaluated for its values: only its references' indices may
/// be unbound.
fn evaluable(f: &Frame, e: &Ex) -> bool {
    match e {
        Ex::Var(s) => defined(&f.slots[*s]),
        Ex::Ref(base, _) => evaluable(f, base),
        Ex::Array(items) | Ex::Set(items) => items.iter().all(|i| evaluable(f, i)),
        Ex::Object(fields) => fields.iter().all(|(k, v)| evaluable(f, k) && evaluable(f, v)),
        Ex::Call(c) => {
            c.args.iter().all(|a| evaluable(f, a)) && c.output.as_ref().is_none_or(|o| ground(f, o))
        }
        Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
            evaluable(f, &ops.0) && evaluable(f, &ops.1)
        }
        Ex::Member(k, ops) => {
            k.as_ref().is_none_or(|k| evaluable(f, k)) && evaluable(f, &ops.0) && evaluable(f, &ops.1)
        }
        _ => true,
    }
}
