//! Rego evaluation for policies that run on every admission request.
//!
//! regorus's VM evaluates a function again at every call, and Gatekeeper
//! templates call the same helpers (`canonify_mem(…)`, `is_exempt(…)`) from
//! a dozen rule bodies. Here rules and variables are resolved once, to
//! indices and slots, and each evaluation memoises every rule's value and
//! every function result by its arguments; a function that reads only its
//! arguments keeps its results across evaluations.
//!
//! Parsing, values, comparison, arithmetic and builtins are regorus's own,
//! so both evaluators read the same text and compute the same values. What
//! this evaluator does not handle (`with`, references to whole packages,
//! rule heads with nested references or iteration, `walk`, `print`) is
//! refused by [`Policy::compile`] with [`Error::Unsupported`], and an
//! evaluation that reaches a variable no literal could bind stops with
//! [`Error::Unsupported`] too: the caller keeps regorus for those.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use regorus::Value;
use regorus::unstable::{ArithOp, BoolOp, BuiltinFcn, ExprRef, Span};

mod builtins;
mod compile;
mod eval;

/// Builtins whose result is not a function of their arguments: policies
/// calling them are left to regorus, and their results cannot be reused.
pub const VOLATILE_BUILTINS: [&str; 5] =
    ["rand.intn", "time.now_ns", "uuid.rfc4122", "http.send", "opa.runtime"];

/// One Rego source file.
pub struct Module<'a> {
    /// Named in parse errors.
    pub label: &'a str,
    pub text: &'a str,
    /// Parse as Rego v1 (`if`, `contains` required); Rego v0 otherwise,
    /// unless the module imports `rego.v1`.
    pub v1: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The policy does not parse or defines no such entry point.
    Invalid(String),
    /// Something this evaluator does not handle; regorus does.
    Unsupported(String),
    /// Evaluation failed as Rego defines (conflicting rule values, a
    /// deadline, too many steps).
    Eval(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(m) | Error::Eval(m) => f.write_str(m),
            Error::Unsupported(m) => write!(f, "unsupported Rego: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Compiled modules with one entry rule. `Send + Sync`: evaluations share it.
pub struct Policy {
    program: Program,
    entry: RuleId,
}

impl Policy {
    /// Compile `modules` for evaluating the rule at `entry`
    /// (`data.<package>.<rule>`).
    pub fn compile(modules: &[Module<'_>], entry: &str) -> Result<Policy, Error> {
        let (program, entry) = compile::compile(modules, entry)?;
        Ok(Policy { program, entry })
    }

    /// The entry rule's value for `input` with `data` as base document:
    /// a partial set rule's set (empty when no body holds), a complete
    /// rule's value or `Value::Undefined`.
    pub fn eval(&self, data: &Value, input: &Value, deadline: Option<Instant>) -> Result<Value, Error> {
        eval::Evaluation::new(&self.program, data, input, deadline).rule(self.entry)
    }
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
};

pub(crate) type Slot = usize;
pub(crate) type RuleId = usize;

/// All rules of all modules, by index.
pub(crate) struct Program {
    rules: Vec<Rule>,
    /// For each function that reads neither `input` nor `data` (nor a rule
    /// that might), its results by scalar arguments, kept across
    /// evaluations: `canonify_mem("256Mi")` is the same for every review.
    pure: Vec<Option<SharedResults>>,
}

/// A pure function's results by arguments, shared by concurrent evaluations.
pub(crate) type SharedResults = Mutex<BTreeMap<Vec<Value>, Value>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleKind {
    /// `p := v`, `p { … }`: one value.
    Complete,
    /// `p[x] { … }`, `p contains x`: the set of every `x`.
    Set,
    /// `p[k] := v`: an object.
    Object,
    /// `f(a, b) := v`.
    Function,
}

pub(crate) struct Rule {
    /// `data.<package>.<name>`, for messages.
    path: String,
    kind: RuleKind,
    defs: Vec<Def>,
    /// `default p := v`: a constant.
    default: Option<Value>,
}

/// One definition of a rule: a head, its body and any `else` bodies.
pub(crate) struct Def {
    slots: usize,
    /// Function parameters, as patterns.
    args: Vec<Ex>,
    /// Set element or object key.
    key: Option<Ex>,
    /// The body, then each `else`, tried in order until one holds;
    /// `None` as value means `true`.
    chain: Vec<(Query, Option<Ex>)>,
}

pub(crate) struct Query {
    lits: Vec<Lit>,
}

pub(crate) enum Lit {
    /// Holds for every value that is defined and not `false`.
    Expr(Ex),
    Not(Query),
    /// `:=` and `=`.
    Unify(Ex, Ex),
    SomeIn {
        key: Option<Ex>,
        value: Ex,
        collection: Ex,
    },
    Every {
        key: Option<Slot>,
        value: Slot,
        domain: Ex,
        body: Query,
    },
}

pub(crate) enum Ex {
    Const(Value),
    Var(Slot),
    Input,
    /// The base data document.
    Data,
    Rule(RuleId),
    /// A base and the indices applied to it in turn.
    Ref(Box<Ex>, Vec<Ex>),
    Array(Vec<Ex>),
    Set(Vec<Ex>),
    Object(Vec<(Ex, Ex)>),
    ArrayCompr(Box<Ex>, Query),
    SetCompr(Box<Ex>, Query),
    ObjectCompr(Box<(Ex, Ex)>, Query),
    Call(Box<Call>),
    Arith(ArithOp, Box<(Ex, Ex)>, Box<(ExprRef, ExprRef, Span)>),
    Compare(BoolOp, Box<(Ex, Ex)>),
    Union(Box<(Ex, Ex)>, Box<(ExprRef, ExprRef)>),
    Intersection(Box<(Ex, Ex)>, Box<(ExprRef, ExprRef)>),
    /// `v in c`, `k, v in c`.
    Member(Option<Box<Ex>>, Box<(Ex, Ex)>),
}

pub(crate) enum Callee {
    Function(RuleId),
    Builtin(BuiltinFcn),
    Native(builtins::Native),
}

pub(crate) struct Call {
    callee: Callee,
    args: Vec<Ex>,
    /// A builtin's result bound to an extra argument (`count(xs, n)`).
    output: Option<Ex>,
    /// The call as written, for builtins' error messages.
    span: Span,
    params: Vec<ExprRef>,
}
