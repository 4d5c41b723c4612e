//! HCL bodies turned into a small model the checks read: blocks and
//! attributes with their lines, each attribute's value evaluated as far as
//! it is statically known (literals, `var.x` from `.tfvars` or defaults,
//! `local.x`, `count.index` and `each.key`/`each.value` of an expanded
//! resource, a few pure functions) and the resources it refers to.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{self, BlockLabel, Body, Structure};
use hcl_edit::template::Element;

/// Evaluation steps allowed per file, so that locals built from other locals
/// (each referenced many times) cannot blow up exponentially.
const EVAL_BUDGET: u32 = 1_000_000;
/// How deep expressions and `local` → `local` chains may go; the parser
/// already caps syntactic nesting at 64.
const MAX_DEPTH: u32 = 96;
/// Resources with a known `count` or `for_each` are checked once per
/// instance up to this many; beyond it, once, with the index unknown.
const MAX_INSTANCES: usize = 32;

/// A statically evaluated value; `Unknown` for anything that needs a plan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    Unknown,
}

impl Value {
    /// A bool, converting `"true"`/`"false"` as Terraform does.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s == "true" => Some(true),
            Value::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// A number, converting numeric strings as Terraform does.
    pub(crate) fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The strings of a list (or a lone string); `None` when any element is
    /// not a known string.
    pub(crate) fn strings(&self) -> Option<Vec<&str>> {
        match self {
            Value::Str(s) => Some(vec![s]),
            Value::List(items) => items.iter().map(Value::as_str).collect(),
            _ => None,
        }
    }

    /// JSON for `jsonencode`; unknown parts become `null`, which no check
    /// reads as a finding.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => (*n as i64).into(),
            Value::Num(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into),
            Value::Str(s) => s.clone().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(entries) => {
                serde_json::Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

/// An attribute: its value, the resources its expression refers to
/// (`aws_s3_bucket.logs`), and its lines.
#[derive(Debug)]
pub(crate) struct Attr {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) refs: Vec<String>,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Attr {
    pub(crate) fn span(&self) -> (u32, u32) {
        (self.start, self.end)
    }
}

#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) ident: String,
    pub(crate) labels: Vec<String>,
    /// For one instance of a resource with `count` or `for_each`, its key
    /// as Terraform writes it in addresses: `[0]`, `["eu"]`.
    pub(crate) instance: Option<String>,
    pub(crate) attrs: Vec<Attr>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Block {
    pub(crate) fn span(&self) -> (u32, u32) {
        (self.start, self.end)
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        self.attr(name).map(|a| &a.value)
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.value(name).and_then(Value::as_str)
    }

    pub(crate) fn children<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }

    pub(crate) fn child(&self, ident: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.ident == ident)
    }

    /// Whether a `dynamic "<ident>"` block may generate blocks of this kind;
    /// their content is not known statically.
    pub(crate) fn has_dynamic(&self, ident: &str) -> bool {
        self.children("dynamic").any(|d| d.labels.first().is_some_and(|l| l == ident))
    }
}

/// Byte offsets of line starts, to turn spans into 1-based lines.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    fn line(&self, offset: usize) -> u32 {
        u32::try_from(self.0.partition_point(|&start| start <= offset)).unwrap_or(u32::MAX)
    }

    pub(crate) fn span(&self, span: Option<std::ops::Range<usize>>) -> (u32, u32) {
        match span {
            Some(r) => (self.line(r.start), self.line(r.end.saturating_sub(1).max(r.start))),
            None => (1, 1),
        }
    }
}

/// The instance of a repeated resource being evaluated.
#[derive(Clone, Debug)]
enum Instance {
    Single,
    Count(f64),
    Each(String, Value),
}

/// What `var.x` and `local.x` stand for across the module's files.
pub(crate) struct Scope<'a> {
    /// Values a module call passes in; they win over everything else.
    inputs: HashMap<String, Value>,
    vars: HashMap<&'a str, &'a Expression>,
    locals: HashMap<&'a str, &'a Expression>,
    budget: Cell<u32>,
    instance: RefCell<Instance>,
}

impl<'a> Scope<'a> {
    /// Collects variable defaults and locals from every body; on duplicates
    /// (invalid in Terraform) the first wins. `tfvars` bodies, in Terraform's
    /// order (`terraform.tfvars`, then `*.auto.tfvars` by name), set
    /// variables over their defaults, the later file winning.
    pub(crate) fn new(bodies: impl IntoIterator<Item = &'a Body>, tfvars: &'a [Body]) -> Scope<'a> {
        let mut scope = Scope {
            inputs: HashMap::new(),
            vars: HashMap::new(),
            locals: HashMap::new(),
            budget: Cell::new(EVAL_BUDGET),
            instance: RefCell::new(Instance::Single),
        };
        for body in bodies {
            for block in body.blocks() {
                match (block.ident.as_str(), block.labels.first()) {
                    ("variable", Some(label)) => {
                        if let Some(default) = block.body.get_attribute("default") {
                            scope.vars.entry(label_str(label)).or_insert(&default.value);
                        }
                    }
                    ("locals", _) => {
                        for attr in block.body.attributes() {
                            scope.locals.entry(attr.key.as_str()).or_insert(&attr.value);
                        }
                    }
                    _ => {}
                }
            }
        }
        for body in tfvars {
            for attr in body.attributes() {
                scope.vars.insert(attr.key.as_str(), &attr.value);
            }
        }
        scope
    }

    /// The scope of a module called with `inputs` for its variables.
    pub(crate) fn with_inputs(mut self, inputs: HashMap<String, Value>) -> Scope<'a> {
        self.inputs = inputs;
        self
    }

    /// The value of an expression in this scope.
    pub(crate) fn value(&self, expr: &Expression) -> Value {
        self.eval(expr, 0)
    }

    /// The `resource` and `data` blocks of `body` as model blocks, one per
    /// instance when `count` or `for_each` is known (none when it is 0 or
    /// empty: the resource is not created).
    pub(crate) fn resources(&self, body: &Body, lines: &Lines) -> Vec<Block> {
        let mut out = Vec::new();
        for b in
            body.blocks().filter(|b| matches!(b.ident.as_str(), "resource" | "data") && b.labels.len() == 2)
        {
            for (instance, key) in self.instances(b) {
                *self.instance.borrow_mut() = instance;
                let mut block = self.block(b, lines);
                block.instance = key;
                out.push(block);
            }
            *self.instance.borrow_mut() = Instance::Single;
        }
        out
    }

    /// The instances `count` or `for_each` make, with their address keys.
    fn instances(&self, block: &structure::Block) -> Vec<(Instance, Option<String>)> {
        let single = vec![(Instance::Single, None)];
        if let Some(count) = block.body.get_attribute("count") {
            return match self.eval(&count.value, 0).as_num() {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && (n as usize) <= MAX_INSTANCES => {
                    (0..n as usize).map(|i| (Instance::Count(i as f64), Some(format!("[{i}]")))).collect()
                }
                _ => single,
            };
        }
        if let Some(for_each) = block.body.get_attribute("for_each") {
            let entries: Option<Vec<(String, Value)>> = match self.eval(&for_each.value, 0) {
                Value::Map(entries) => Some(entries),
                Value::List(items) => {
                    items.into_iter().map(|v| Some((v.as_str()?.to_string(), v))).collect::<Option<Vec<_>>>()
                }
                _ => None,
            };
            return match entries {
                Some(entries) if entries.len() <= MAX_INSTANCES => entries
                    .into_iter()
                    .map(|(key, value)| {
                        let address = format!("[{}]", serde_json::Value::from(key.clone()));
                        (Instance::Each(key, value), Some(address))
                    })
                    .collect(),
                _ => single,
            };
        }
        single
    }

    fn block(&self, block: &structure::Block, lines: &Lines) -> Block {
        let (start, end) = lines.span(block.span());
        let mut out = Block {
            ident: block.ident.as_str().to_string(),
            labels: block.labels.iter().map(|l| label_str(l).to_string()).collect(),
            instance: None,
            attrs: Vec::new(),
            blocks: Vec::new(),
            start,
            end,
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let (start, end) = lines.span(attr.span());
                    let mut refs = Vec::new();
                    collect_refs(&attr.value, &mut refs, 0);
                    out.attrs.push(Attr {
                        name: attr.key.as_str().to_string(),
                        value: self.eval(&attr.value, 0),
                        refs,
                        start,
                        end,
                    });
                }
                Structure::Block(child) => out.blocks.push(self.block(child, lines)),
            }
        }
        out
    }

    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    fn eval(&self, expr: &Expression, depth: u32) -> Value {
        if depth > MAX_DEPTH || !self.spend() {
            return Value::Unknown;
        }
        let depth = depth + 1;
        match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => n.value().as_f64().map_or(Value::Unknown, Value::Num),
            Expression::String(s) => Value::Str(s.value().clone()),
            Expression::Array(items) => Value::List(items.iter().map(|e| self.eval(e, depth)).collect()),
            Expression::Object(object) => Value::Map(
                object
                    .iter()
                    .filter_map(|(key, value)| {
                        let key = match key {
                            ObjectKey::Ident(ident) => ident.as_str().to_string(),
                            ObjectKey::Expression(e) => match self.eval(e, depth) {
                                Value::Str(s) => s,
                                _ => return None,
                            },
                        };
                        Some((key, self.eval(value.expr(), depth)))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => self.template(t.iter(), depth),
            Expression::HeredocTemplate(h) => self.template(h.template.iter(), depth),
            Expression::Parenthesis(p) => self.eval(p.inner(), depth),
            Expression::Conditional(c) => match self.eval(&c.cond_expr, depth).as_bool() {
                Some(true) => self.eval(&c.true_expr, depth),
                Some(false) => self.eval(&c.false_expr, depth),
                None => Value::Unknown,
            },
            Expression::UnaryOp(op) => match (op.operator.value(), self.eval(&op.expr, depth)) {
                (UnaryOperator::Not, v) => v.as_bool().map_or(Value::Unknown, |b| Value::Bool(!b)),
                (UnaryOperator::Neg, v) => v.as_num().map_or(Value::Unknown, |n| Value::Num(-n)),
            },
            Expression::FuncCall(call) => {
                let arg = || call.args.iter().next().map_or(Value::Unknown, |a| self.eval(a, depth));
                match (call.name.is_namespaced(), call.name.name.as_str(), call.args.len()) {
                    (false, "jsonencode", 1) => Value::Str(arg().to_json().to_string()),
                    (false, "tostring" | "tobool" | "tonumber" | "tolist" | "toset", 1) => arg(),
                    _ => Value::Unknown,
                }
            }
            Expression::Traversal(t) => self.traverse(t, depth),
            _ => Value::Unknown,
        }
    }

    /// A template is known when every interpolation is a known scalar.
    fn template<'e>(&self, elements: impl Iterator<Item = &'e Element>, depth: u32) -> Value {
        let mut out = String::new();
        for element in elements {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval(&i.expr, depth) {
                    Value::Str(s) => out.push_str(&s),
                    Value::Num(n) => out.push_str(&n.to_string()),
                    Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                    _ => return Value::Unknown,
                },
                Element::Directive(_) => return Value::Unknown,
            }
        }
        Value::Str(out)
    }

    fn traverse(&self, t: &hcl_edit::expr::Traversal, depth: u32) -> Value {
        let Expression::Variable(root) = &t.expr else { return Value::Unknown };
        let mut ops = t.operators.iter().map(|op| op.value());
        let Some(TraversalOperator::GetAttr(name)) = ops.next() else { return Value::Unknown };
        let mut value = match (root.as_str(), name.as_str()) {
            ("var", name) => match self.inputs.get(name) {
                Some(value) => value.clone(),
                None => self.vars.get(name).map_or(Value::Unknown, |e| self.eval(e, depth)),
            },
            ("local", name) => self.locals.get(name).map_or(Value::Unknown, |e| self.eval(e, depth)),
            ("count" | "each", name) => match (&*self.instance.borrow(), name) {
                (Instance::Count(i), "index") => Value::Num(*i),
                (Instance::Each(key, _), "key") => Value::Str(key.clone()),
                (Instance::Each(_, value), "value") => value.clone(),
                _ => Value::Unknown,
            },
            _ => return Value::Unknown,
        };
        for op in ops {
            value = match (op, value) {
                (TraversalOperator::GetAttr(key), Value::Map(entries)) => lookup(entries, key.as_str()),
                (TraversalOperator::LegacyIndex(i), Value::List(items)) => index(items, *i.value() as f64),
                (TraversalOperator::Index(e), Value::List(items)) => match self.eval(e, depth).as_num() {
                    Some(i) => index(items, i),
                    None => Value::Unknown,
                },
                (TraversalOperator::Index(e), Value::Map(entries)) => match self.eval(e, depth) {
                    Value::Str(key) => lookup(entries, &key),
                    _ => Value::Unknown,
                },
                _ => Value::Unknown,
            };
        }
        value
    }
}

fn lookup(entries: Vec<(String, Value)>, key: &str) -> Value {
    entries.into_iter().find(|(k, _)| k == key).map_or(Value::Unknown, |(_, v)| v)
}

fn index(items: Vec<Value>, i: f64) -> Value {
    if i < 0.0 || i.fract() != 0.0 {
        return Value::Unknown;
    }
    items.into_iter().nth(i as usize).unwrap_or(Value::Unknown)
}

fn label_str(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Ident(i) => i.as_str(),
        BlockLabel::String(s) => s.value(),
    }
}

/// Names that start a traversal but are not resources.
const NOT_RESOURCES: &[&str] =
    &["var", "local", "each", "count", "path", "module", "data", "self", "terraform"];

/// Adds `type.name` for every traversal of a managed resource in `expr`.
fn collect_refs(expr: &Expression, out: &mut Vec<String>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    let depth = depth + 1;
    match expr {
        Expression::Traversal(t) => {
            if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                (&t.expr, t.operators.first().map(|op| op.value()))
                && !NOT_RESOURCES.contains(&root.as_str())
            {
                out.push(format!("{}.{}", root.as_str(), name.as_str()));
            }
            collect_refs(&t.expr, out, depth);
        }
        Expression::Array(items) => items.iter().for_each(|e| collect_refs(e, out, depth)),
        Expression::Object(object) => object.iter().for_each(|(_, v)| collect_refs(v.expr(), out, depth)),
        Expression::Parenthesis(p) => collect_refs(p.inner(), out, depth),
        Expression::FuncCall(call) => call.args.iter().for_each(|e| collect_refs(e, out, depth)),
        Expression::Conditional(c) => {
            for e in [&c.cond_expr, &c.true_expr, &c.false_expr] {
                collect_refs(e, out, depth);
            }
        }
        Expression::StringTemplate(t) => {
            for element in t.iter() {
                if let Element::Interpolation(i) = element {
                    collect_refs(&i.expr, out, depth);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_attr(src: &str, name: &str) -> Value {
        let body = hcl_edit::parser::parse_body(src).expect("parses");
        let scope = Scope::new([&body], &[]);
        let lines = Lines::new(src);
        let res = scope.resources(&body, &lines);
        res[0].value(name).cloned().expect("attribute")
    }

    #[test]
    fn evaluates_what_is_known() {
        let src = r#"
variable "n" { default = { a = [1, "x"] } }
locals {
  name = "db-${var.n.a[1]}"
  deep = local.name
}
resource "t" "r" {
  a = local.deep
  b = var.n["a"][0]
  c = var.missing
  d = !false
  e = jsonencode({ k = var.n.a, u = aws_s3_bucket.b.arn })
  f = true ? "yes" : "no"
  g = upper("x")
}
"#;
        assert_eq!(eval_attr(src, "a"), Value::Str("db-x".into()));
        assert_eq!(eval_attr(src, "b"), Value::Num(1.0));
        assert_eq!(eval_attr(src, "c"), Value::Unknown);
        assert_eq!(eval_attr(src, "d"), Value::Bool(true));
        assert_eq!(eval_attr(src, "e"), Value::Str(r#"{"k":[1,"x"],"u":null}"#.into()));
        assert_eq!(eval_attr(src, "f"), Value::Str("yes".into()));
        assert_eq!(eval_attr(src, "g"), Value::Unknown);
    }

    #[test]
    fn self_referencing_and_exploding_locals_stay_bounded() {
        let mut src = String::from("locals {\n  l0 = local.l0\n");
        for i in 1..40 {
            src.push_str(&format!("  x{i} = [local.x{}, local.x{}, local.x{}]\n", i - 1, i - 1, i - 1));
        }
        src.push_str("  x0 = 1\n}\nresource \"t\" \"r\" {\n  a = local.l0\n  b = local.x39\n}\n");
        assert_eq!(eval_attr(&src, "a"), Value::Unknown);
        // Out of budget somewhere inside: the value is cut short, not computed in full.
        assert_ne!(eval_attr(&src, "b"), Value::Num(1.0));
    }

    #[test]
    fn refs_and_lines() {
        let src = "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.logs.id\n  x = {\n    y = 1\n  }\n}\n";
        let body = hcl_edit::parser::parse_body(src).expect("parses");
        let scope = Scope::new([&body], &[]);
        let res = scope.resources(&body, &Lines::new(src));
        assert_eq!(res[0].span(), (1, 6));
        assert_eq!(
            res[0].attr("bucket").map(|a| (a.refs.clone(), a.span())),
            Some((vec!["aws_s3_bucket.logs".into()], (2, 2)))
        );
        assert_eq!(res[0].attr("x").map(Attr::span), Some((3, 5)));
    }
}
