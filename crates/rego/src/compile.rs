//! Parsed modules to [`Program`]: names resolved to rules, slots and
//! builtins, and each body's literals put in an order where every variable
//! is bound before it is read, as Rego allows them to be written in any.

use std::collections::HashMap;

use regorus::Value;
use regorus::unstable::{
    ArithOp, AssignOp, BUILTINS, BinOp, Expr, ExprRef, Literal, LiteralStmt, Module as Ast, Parser,
    Query as AstQuery, Rule as AstRule, RuleBody, RuleHead, Source, numbers,
};

use crate::{Call, Callee, Def, Error, Ex, Lit, Module, Program, Query, Rule, RuleId, RuleKind, Slot};

type Result<T> = std::result::Result<T, Error>;

fn unsupported<T>(what: impl Into<String>) -> Result<T> {
    Err(Error::Unsupported(what.into()))
}

/// Builtins left to regorus besides the volatile ones: `walk` binds
/// several outputs, `print` writes.
const REFUSED_BUILTINS: [&str; 2] = ["walk", "print"];

pub(crate) fn compile(modules: &[Module<'_>], entry: &str) -> Result<(Program, RuleId)> {
    let mut asts = Vec::with_capacity(modules.len());
    for m in modules {
        let source = Source::from_contents(m.label.to_string(), m.text.to_string())
            .map_err(|e| Error::Invalid(format!("{e:#}")))?;
        let mut parser = Parser::new(&source).map_err(|e| Error::Invalid(format!("{e:#}")))?;
        if m.v1 {
            parser.enable_rego_v1().map_err(|e| Error::Invalid(format!("{e:#}")))?;
        }
        asts.push(parser.parse().map_err(|e| Error::Invalid(format!("{e:#}")))?);
    }

    // First every rule's path, kind and parameters, so bodies can refer to
    // rules defined after them or in another module.
    let module_packages = asts.iter().map(package_path).collect::<Result<Vec<_>>>()?;
    let mut index: HashMap<Vec<String>, RuleId> = HashMap::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut arities: Vec<usize> = Vec::new();
    // For each module, the rule and kind each of its rules defines.
    let mut defined: Vec<Vec<(RuleId, RuleKind)>> = Vec::with_capacity(asts.len());
    for (ast, package) in asts.iter().zip(&module_packages) {
        let mut module = Vec::with_capacity(ast.policy.len());
        for rule in &ast.policy {
            let (name, kind, arity) = match rule.as_ref() {
                AstRule::Spec { head, .. } => {
                    let (name, kind) = head_name_kind(head)?;
                    let arity = match head {
                        RuleHead::Func { args, .. } => args.len(),
                        _ => 0,
                    };
                    (name, kind, arity)
                }
                AstRule::Default { refr, args, .. } => {
                    let kind = if args.is_empty() { RuleKind::Complete } else { RuleKind::Function };
                    match var_name(refr) {
                        Some(name) => (name, kind, args.len()),
                        None => return unsupported("a default rule with a nested head"),
                    }
                }
            };
            let mut path = package.clone();
            path.push(name);
            let id = match index.get(&path) {
                Some(&id) => {
                    let existing = &mut rules[id];
                    // A default says nothing about sets and objects; the
                    // other definitions decide.
                    if existing.kind != kind && matches!(rule.as_ref(), AstRule::Spec { .. }) {
                        if existing.defs.is_empty() && existing.kind == RuleKind::Complete {
                            existing.kind = kind;
                        } else {
                            return unsupported(format!(
                                "{} is defined as rules of different kinds",
                                path.join(".")
                            ));
                        }
                    }
                    id
                }
                None => {
                    index.insert(path.clone(), rules.len());
                    rules.push(Rule { path: path.join("."), kind, defs: Vec::new(), default: None });
                    arities.push(0);
                    rules.len() - 1
                }
            };
            if kind == RuleKind::Function {
                arities[id] = arity;
            }
            module.push((id, kind));
        }
        defined.push(module);
    }
    let packages: Vec<Vec<String>> = {
        let mut p: Vec<Vec<String>> = index.keys().map(|k| k[..k.len() - 1].to_vec()).collect();
        p.sort();
        p.dedup();
        p
    };

    for ((ast, package), module) in asts.iter().zip(&module_packages).zip(&defined) {
        let mut imports = HashMap::new();
        for import in &ast.imports {
            let Some(path) = static_path(&import.refr) else {
                return unsupported("an import that is not a path");
            };
            if matches!(path.first().map(String::as_str), Some("future" | "rego")) {
                continue;
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => path.last().cloned().unwrap_or_default(),
            };
            imports.insert(alias, path);
        }
        let names =
            Names { index: &index, arities: &arities, packages: &packages, package, imports: &imports };
        for (rule, &(id, kind)) in ast.policy.iter().zip(module) {
            match rule.as_ref() {
                AstRule::Default { value, .. } => {
                    let mut body = BodyCompiler::new(&names);
                    let Some(value) = constant_value(&body.expr(value)?) else {
                        return unsupported("a default value that is not a constant");
                    };
                    rules[id].default = Some(value);
                }
                AstRule::Spec { head, bodies, .. } => {
                    let defs = compile_spec(&names, head, kind, bodies)?;
                    rules[id].defs.extend(defs);
                }
            }
        }
    }

    let entry_path: Vec<String> = entry.split('.').map(str::to_string).collect();
    let entry = *index.get(&entry_path).ok_or_else(|| Error::Invalid(format!("no rule {entry}")))?;
    let pure = pure_functions(&rules).into_iter().map(|p| p.then(Default::default)).collect();
    Ok((Program { rules, pure }, entry))
}

/// Functions whose results depend on their arguments alone: they read no
/// `input`, no `data`, no rule (whose value may come from either), and call
/// only such functions and builtins (the volatile ones are refused).
fn pure_functions(rules: &[Rule]) -> Vec<bool> {
    let mut pure: Vec<bool> = rules.iter().map(|r| r.kind == RuleKind::Function).collect();
    loop {
        let mut changed = false;
        for (id, rule) in rules.iter().enumerate() {
            if pure[id] && !rule.defs.iter().all(|d| def_is_pure(d, &pure)) {
                pure[id] = false;
                changed = true;
            }
        }
        if !changed {
            return pure;
        }
    }
}

fn def_is_pure(def: &Def, pure: &[bool]) -> bool {
    def.args.iter().chain(def.key.iter()).all(|e| ex_is_pure(e, pure))
        && def.chain.iter().all(|(q, v)| query_is_pure(q, pure) && v.iter().all(|e| ex_is_pure(e, pure)))
}

fn query_is_pure(q: &Query, pure: &[bool]) -> bool {
    q.lits.iter().all(|l| match l {
        Lit::Expr(e) => ex_is_pure(e, pure),
        Lit::Not(q) => query_is_pure(q, pure),
        Lit::Unify(a, b) => ex_is_pure(a, pure) && ex_is_pure(b, pure),
        Lit::SomeIn { key, value, collection } => {
            key.iter().chain([value, collection]).all(|e| ex_is_pure(e, pure))
        }
        Lit::Every { domain, body, .. } => ex_is_pure(domain, pure) && query_is_pure(body, pure),
    })
}

fn ex_is_pure(e: &Ex, pure: &[bool]) -> bool {
    let all = |items: &[Ex]| items.iter().all(|i| ex_is_pure(i, pure));
    match e {
        Ex::Const(_) | Ex::Var(_) => true,
        Ex::Input | Ex::Data | Ex::Rule(_) => false,
        Ex::Ref(base, path) => ex_is_pure(base, pure) && all(path),
        Ex::Array(items) | Ex::Set(items) => all(items),
        Ex::Object(fields) => fields.iter().all(|(k, v)| ex_is_pure(k, pure) && ex_is_pure(v, pure)),
        Ex::ArrayCompr(t, q) | Ex::SetCompr(t, q) => ex_is_pure(t, pure) && query_is_pure(q, pure),
        Ex::ObjectCompr(kv, q) => {
            ex_is_pure(&kv.0, pure) && ex_is_pure(&kv.1, pure) && query_is_pure(q, pure)
        }
        Ex::Call(c) => {
            let callee = match c.callee {
                Callee::Function(id) => pure[id],
                Callee::Builtin(_) | Callee::Native(_) => true,
            };
            callee && all(&c.args) && c.output.iter().all(|o| ex_is_pure(o, pure))
        }
        Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
            ex_is_pure(&ops.0, pure) && ex_is_pure(&ops.1, pure)
        }
        Ex::Member(k, ops) => {
            k.iter().all(|k| ex_is_pure(k, pure)) && ex_is_pure(&ops.0, pure) && ex_is_pure(&ops.1, pure)
        }
    }
}

fn package_path(ast: &Ast) -> Result<Vec<String>> {
    let Some(names) = static_path(&ast.package.refr) else {
        return unsupported("a package path");
    };
    Ok(std::iter::once("data".to_string()).chain(names).collect())
}

fn head_name_kind(head: &RuleHead) -> Result<(String, RuleKind)> {
    let (refr, kind) = match head {
        RuleHead::Func { refr, .. } => (refr, RuleKind::Function),
        RuleHead::Set { refr, key: Some(_), .. } => (refr, RuleKind::Set),
        RuleHead::Set { .. } => return unsupported("a rule head with a nested reference"),
        RuleHead::Compr { refr, .. } => match refr.as_ref() {
            Expr::RefBrack { refr, .. } => (refr, RuleKind::Object),
            _ => (refr, RuleKind::Complete),
        },
    };
    match var_name(refr) {
        Some(name) => Ok((name, kind)),
        None => unsupported("a rule head with a nested reference"),
    }
}

fn var_name(e: &ExprRef) -> Option<String> {
    match e.as_ref() {
        Expr::Var { span, .. } => Some(span.text().to_string()),
        _ => None,
    }
}

/// `a.b.c` (and `a["b"]`) as its names.
fn static_path(e: &ExprRef) -> Option<Vec<String>> {
    match e.as_ref() {
        Expr::Var { span, .. } => Some(vec![span.text().to_string()]),
        Expr::RefDot { refr, field, .. } => {
            let mut p = static_path(refr)?;
            p.push(field.0.text().to_string());
            Some(p)
        }
        Expr::RefBrack { refr, index, .. } => match index.as_ref() {
            Expr::String { value: Value::String(s), .. }
            | Expr::RawString { value: Value::String(s), .. } => {
                let mut p = static_path(refr)?;
                p.push(s.to_string());
                Some(p)
            }
            _ => None,
        },
        _ => None,
    }
}

/// What names mean in one module.
struct Names<'a> {
    index: &'a HashMap<Vec<String>, RuleId>,
    /// Parameters of each function rule.
    arities: &'a [usize],
    packages: &'a [Vec<String>],
    package: &'a [String],
    imports: &'a HashMap<String, Vec<String>>,
}

impl Names<'_> {
    fn local_rule(&self, name: &str) -> Option<RuleId> {
        let mut path = self.package.to_vec();
        path.push(name.to_string());
        self.index.get(&path).copied()
    }

    /// Whether `path` names a package or a prefix of one.
    fn is_package_prefix(&self, path: &[String]) -> bool {
        self.packages.iter().any(|p| p.len() >= path.len() && p[..path.len()] == *path)
    }
}

fn compile_spec(names: &Names<'_>, head: &RuleHead, kind: RuleKind, bodies: &[RuleBody]) -> Result<Vec<Def>> {
    let (args, key, head_value): (&[ExprRef], Option<&ExprRef>, Option<&ExprRef>) = match head {
        RuleHead::Func { args, assign, .. } => (args, None, assign.as_ref().map(|a| &a.value)),
        RuleHead::Set { key, .. } => (&[], key.as_ref(), None),
        RuleHead::Compr { refr, assign, .. } => {
            let key = match refr.as_ref() {
                Expr::RefBrack { index, .. } => Some(index),
                _ => None,
            };
            (&[], key, assign.as_ref().map(|a| &a.value))
        }
    };
    if kind != RuleKind::Function && kind != RuleKind::Complete && bodies.iter().any(|b| b.is_else) {
        return unsupported("else on a partial rule");
    }
    // Bodies not introduced by `else` are separate definitions of the same head.
    let mut groups: Vec<Vec<&RuleBody>> = Vec::new();
    for b in bodies {
        match groups.last_mut() {
            Some(g) if b.is_else => g.push(b),
            _ => groups.push(vec![b]),
        }
    }
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let mut defs = Vec::new();
    for group in groups {
        let mut c = BodyCompiler::new(names);
        let arg_exs = args.iter().map(|a| c.pattern(a, true)).collect::<Result<Vec<_>>>()?;
        let mut bound = Vec::new();
        let mut arg_slots = Vec::new();
        for a in &arg_exs {
            visit(a, Pos::Pattern, &mut |s, _| arg_slots.push(s));
        }
        let mut chain = Vec::new();
        let mut key_ex = None;
        // A rule without a body (`p := 1`, `f(x) := x + 1`) is one with an empty body.
        let group: Vec<Option<&RuleBody>> =
            if group.is_empty() { vec![None] } else { group.into_iter().map(Some).collect() };
        for (i, body) in group.into_iter().enumerate() {
            c.scopes.push(HashMap::new());
            let mut query = match body {
                Some(b) => c.query(&b.query)?,
                None => Query { lits: Vec::new() },
            };
            let value = match body {
                Some(b) if i > 0 => b.assign.as_ref().map(|a| c.expr(&a.value)).transpose()?,
                _ => head_value.map(|v| c.expr(v)).transpose()?,
            };
            if i == 0 {
                key_ex = key.map(|k| c.expr(k)).transpose()?;
            }
            c.scopes.pop();
            bound.resize(c.slots, false);
            for &s in &arg_slots {
                bound[s] = true;
            }
            let mut context = vec![false; c.slots];
            for e in value.iter().chain(key_ex.iter()) {
                visit(e, Pos::Value, &mut |s, _| context[s] = true);
            }
            schedule(&mut query, &bound, &context)?;
            // The head reads what the body binds; a head that iterates
            // (`p = input.a[_]`) is left to regorus.
            let mut after = bound.clone();
            for lit in &query.lits {
                visit_lit(lit, false, &mut |s, p| {
                    if p != Pos::Nested {
                        after[s] = true;
                    }
                });
            }
            let mut head_bound = true;
            for e in value.iter().chain(key_ex.iter()) {
                visit(e, Pos::Value, &mut |s, p| head_bound &= p == Pos::Nested || after[s]);
            }
            if !head_bound {
                return unsupported("a rule head that binds variables");
            }
            chain.push((query, value));
        }
        defs.push(Def { slots: c.slots, args: arg_exs, key: key_ex, chain });
    }
    Ok(defs)
}

fn constant_value(e: &Ex) -> Option<Value> {
    Some(match e {
        Ex::Const(v) => v.clone(),
        Ex::Array(items) => Value::from(items.iter().map(constant_value).collect::<Option<Vec<_>>>()?),
        Ex::Set(items) => {
            Value::from(items.iter().map(constant_value).collect::<Option<std::collections::BTreeSet<_>>>()?)
        }
        Ex::Object(fields) => Value::from(
            fields
                .iter()
                .map(|(k, v)| Some((constant_value(k)?, constant_value(v)?)))
                .collect::<Option<std::collections::BTreeMap<_, _>>>()?,
        ),
        _ => return None,
    })
}

/// Compiles the expressions of one definition, giving its variables slots.
struct BodyCompiler<'n, 'a> {
    names: &'n Names<'a>,
    /// Innermost last. The first holds parameters, the second the body's
    /// own variables, the rest what `some` and `:=` declare in nested queries.
    scopes: Vec<HashMap<String, Slot>>,
    slots: usize,
}

impl<'n, 'a> BodyCompiler<'n, 'a> {
    fn new(names: &'n Names<'a>) -> Self {
        BodyCompiler { names, scopes: vec![HashMap::new()], slots: 0 }
    }

    fn fresh(&mut self) -> Slot {
        self.slots += 1;
        self.slots - 1
    }

    fn lookup(&self, name: &str) -> Option<Slot> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    /// A variable in the innermost scope, shadowing any outer one.
    fn declare(&mut self, name: &str) -> Slot {
        let slot = self.fresh();
        if name != "_" {
            self.scopes.last_mut().expect("a scope").insert(name.to_string(), slot);
        }
        slot
    }

    /// A variable's slot, made in the body's scope on first use so that a
    /// comprehension and the body around it share it.
    fn var(&mut self, name: &str) -> Slot {
        if name == "_" {
            return self.fresh();
        }
        if let Some(s) = self.lookup(name) {
            return s;
        }
        let slot = self.fresh();
        let level = self.scopes.len().min(2) - 1;
        self.scopes[level].insert(name.to_string(), slot);
        slot
    }

    fn query(&mut self, q: &AstQuery) -> Result<Query> {
        let mut lits = Vec::with_capacity(q.stmts.len());
        for stmt in &q.stmts {
            if let Some(lit) = self.literal(stmt)? {
                lits.push(lit);
            }
        }
        Ok(Query { lits })
    }

    fn literal(&mut self, stmt: &LiteralStmt) -> Result<Option<Lit>> {
        if !stmt.with_mods.is_empty() {
            return unsupported("`with`");
        }
        Ok(Some(match &stmt.literal {
            Literal::SomeVars { vars, .. } => {
                for v in vars {
                    self.declare(v.text());
                }
                return Ok(None);
            }
            Literal::SomeIn { key, value, collection, .. } => {
                let collection = self.expr(collection)?;
                let key = key.as_ref().map(|k| self.pattern(k, true)).transpose()?;
                let value = self.pattern(value, true)?;
                Lit::SomeIn { key, value, collection }
            }
            Literal::Expr { expr, .. } => self.expr_literal(expr)?,
            Literal::NotExpr { expr, .. } => {
                self.scopes.push(HashMap::new());
                let lit = self.expr_literal(expr);
                self.scopes.pop();
                Lit::Not(Query { lits: vec![lit?] })
            }
            Literal::Every { key, value, domain, query, .. } => {
                let domain = self.expr(domain)?;
                self.scopes.push(HashMap::new());
                let key = key.as_ref().map(|k| self.declare(k.text()));
                let value = self.declare(value.text());
                let body = self.query(query);
                self.scopes.pop();
                Lit::Every { key, value, domain, body: body? }
            }
        }))
    }

    fn expr_literal(&mut self, expr: &ExprRef) -> Result<Lit> {
        Ok(match expr.as_ref() {
            Expr::AssignExpr { op, lhs, rhs, .. } => {
                let rhs = self.expr(rhs)?;
                let lhs = self.pattern(lhs, *op == AssignOp::ColEq)?;
                Lit::Unify(lhs, rhs)
            }
            _ => Lit::Expr(self.expr(expr)?),
        })
    }

    /// The left of `:=` (`declare`: its variables are new in this scope)
    /// or either side of `=`.
    fn pattern(&mut self, e: &ExprRef, declare: bool) -> Result<Ex> {
        match e.as_ref() {
            Expr::Var { span, .. } if declare => Ok(Ex::Var(self.declare(span.text()))),
            Expr::Array { items, .. } => {
                Ok(Ex::Array(items.iter().map(|i| self.pattern(i, declare)).collect::<Result<_>>()?))
            }
            Expr::Object { fields, .. } => Ok(Ex::Object(
                fields
                    .iter()
                    .map(|(_, k, v)| Ok((self.expr(k)?, self.pattern(v, declare)?)))
                    .collect::<Result<_>>()?,
            )),
            _ => self.expr(e),
        }
    }

    fn expr(&mut self, e: &ExprRef) -> Result<Ex> {
        Ok(match e.as_ref() {
            Expr::String { value, .. }
            | Expr::RawString { value, .. }
            | Expr::Number { value, .. }
            | Expr::Bool { value, .. }
            | Expr::Null { value, .. } => Ex::Const(value.clone()),
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => self.reference(e)?,
            Expr::Array { items, .. } => Ex::Array(self.exprs(items)?),
            Expr::Set { items, .. } => Ex::Set(self.exprs(items)?),
            Expr::Object { fields, .. } => Ex::Object(
                fields.iter().map(|(_, k, v)| Ok((self.expr(k)?, self.expr(v)?))).collect::<Result<_>>()?,
            ),
            Expr::ArrayCompr { term, query, .. } => {
                let (t, q) = self.comprehension(term, query)?;
                Ex::ArrayCompr(Box::new(t), q)
            }
            Expr::SetCompr { term, query, .. } => {
                let (t, q) = self.comprehension(term, query)?;
                Ex::SetCompr(Box::new(t), q)
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                self.scopes.push(HashMap::new());
                let q = self.query(query);
                let k = self.expr(key);
                let v = self.expr(value);
                self.scopes.pop();
                Ex::ObjectCompr(Box::new((k?, v?)), q?)
            }
            Expr::Call { span, fcn, params, .. } => self.call(span, fcn, params)?,
            // Rego negates number literals only.
            Expr::UnaryExpr { span, expr, .. } => match expr.as_ref() {
                Expr::Number { value, .. } => Ex::Const(
                    numbers::arithmetic_operation(
                        span,
                        &ArithOp::Sub,
                        expr,
                        expr,
                        Value::from(0u64),
                        value.clone(),
                        false,
                    )
                    .map_err(|e| Error::Invalid(format!("{e:#}")))?,
                ),
                _ => return unsupported("unary minus on an expression"),
            },
            Expr::BinExpr { op, lhs, rhs, .. } => {
                let operands = Box::new((self.expr(lhs)?, self.expr(rhs)?));
                let asts = Box::new((lhs.clone(), rhs.clone()));
                match op {
                    BinOp::Union => Ex::Union(operands, asts),
                    BinOp::Intersection => Ex::Intersection(operands, asts),
                }
            }
            Expr::BoolExpr { op, lhs, rhs, .. } => {
                Ex::Compare(op.clone(), Box::new((self.expr(lhs)?, self.expr(rhs)?)))
            }
            Expr::ArithExpr { span, op, lhs, rhs, .. } => Ex::Arith(
                op.clone(),
                Box::new((self.expr(lhs)?, self.expr(rhs)?)),
                Box::new((lhs.clone(), rhs.clone(), span.clone())),
            ),
            Expr::AssignExpr { .. } => return unsupported("an assignment inside an expression"),
            Expr::Membership { key, value, collection, .. } => {
                let key = key.as_ref().map(|k| self.expr(k)).transpose()?.map(Box::new);
                Ex::Member(key, Box::new((self.expr(value)?, self.expr(collection)?)))
            }
        })
    }

    /// A comprehension's term and query, in a scope of their own.
    fn comprehension(&mut self, term: &ExprRef, query: &AstQuery) -> Result<(Ex, Query)> {
        self.scopes.push(HashMap::new());
        let q = self.query(query);
        let t = self.expr(term);
        self.scopes.pop();
        Ok((t?, q?))
    }

    fn exprs(&mut self, items: &[ExprRef]) -> Result<Vec<Ex>> {
        items.iter().map(|i| self.expr(i)).collect()
    }

    /// A variable or a chain of `.field` and `[index]` on some base.
    fn reference(&mut self, e: &ExprRef) -> Result<Ex> {
        let mut indices: Vec<&ExprRef> = Vec::new();
        let mut fields: Vec<Option<String>> = Vec::new();
        let mut base = e;
        loop {
            match base.as_ref() {
                Expr::RefDot { refr, field, .. } => {
                    fields.push(Some(field.0.text().to_string()));
                    indices.push(base);
                    base = refr;
                }
                Expr::RefBrack { refr, index, .. } => {
                    fields.push(None);
                    indices.push(index);
                    base = refr;
                }
                _ => break,
            }
        }
        fields.reverse();
        indices.reverse();
        let mut path = Vec::with_capacity(fields.len());
        for (field, index) in fields.into_iter().zip(indices) {
            path.push(match field {
                Some(f) => Ex::Const(Value::from(f.as_str())),
                None => self.expr(index)?,
            });
        }
        let root = match base.as_ref() {
            Expr::Var { span, .. } => {
                let name = span.text();
                match self.lookup(name) {
                    Some(slot) => Ex::Var(slot),
                    None if name == "input" => Ex::Input,
                    None if name == "data" => return self.data_path(vec!["data".to_string()], path),
                    None => {
                        if let Some(id) = self.names.local_rule(name) {
                            Ex::Rule(id)
                        } else if let Some(target) = self.names.imports.get(name) {
                            let target = target.clone();
                            return match target.first().map(String::as_str) {
                                Some("input") => {
                                    let mut full: Vec<Ex> = target[1..]
                                        .iter()
                                        .map(|s| Ex::Const(Value::from(s.as_str())))
                                        .collect();
                                    full.extend(path);
                                    Ok(wrap(Ex::Input, full))
                                }
                                Some("data") => self.data_path(target, path),
                                _ => unsupported(format!("import of {}", target.join("."))),
                            };
                        } else {
                            Ex::Var(self.var(name))
                        }
                    }
                }
            }
            _ => self.expr(base)?,
        };
        Ok(wrap(root, path))
    }

    /// `data.<static names>` then `path`: a rule and what follows it, or the
    /// base document.
    fn data_path(&mut self, mut names: Vec<String>, path: Vec<Ex>) -> Result<Ex> {
        let mut rest = path.into_iter().peekable();
        loop {
            if let Some(&id) = self.names.index.get(&names) {
                return Ok(wrap(Ex::Rule(id), rest.collect()));
            }
            if !self.names.is_package_prefix(&names) {
                let base: Vec<Ex> = names[1..].iter().map(|s| Ex::Const(Value::from(s.as_str()))).collect();
                return Ok(wrap(Ex::Data, base.into_iter().chain(rest).collect()));
            }
            match rest.peek() {
                Some(Ex::Const(Value::String(s))) => {
                    names.push(s.to_string());
                    rest.next();
                }
                _ => return unsupported(format!("{} used as a value", names.join("."))),
            }
        }
    }

    fn call(&mut self, span: &regorus::unstable::Span, fcn: &ExprRef, params: &[ExprRef]) -> Result<Ex> {
        let Some(path) = static_path(fcn) else {
            return unsupported("a call of a computed function");
        };
        let mut full = None;
        if path.len() == 1
            && let Some(id) = self.names.local_rule(&path[0])
        {
            full = Some(id);
        }
        let mut resolved = path.clone();
        if full.is_none() {
            if let Some(target) = self.names.imports.get(&path[0]) {
                resolved = target.iter().cloned().chain(path[1..].iter().cloned()).collect();
            }
            if resolved.first().map(String::as_str) == Some("data") {
                full = self.names.index.get(&resolved).copied();
                if full.is_none() {
                    return unsupported(format!("a call of {}", resolved.join(".")));
                }
            }
        }
        let mut args = self.exprs(params)?;
        let callee = match full {
            Some(id) => Callee::Function(id),
            None => {
                let name = resolved.join(".");
                if REFUSED_BUILTINS.contains(&name.as_str())
                    || crate::VOLATILE_BUILTINS.contains(&name.as_str())
                {
                    return unsupported(format!("the builtin {name}"));
                }
                match (crate::builtins::native(&name), BUILTINS.get(name.as_str())) {
                    (Some((native, _)), Some(_)) => Callee::Native(native),
                    (None, Some(b)) => Callee::Builtin(*b),
                    _ => return unsupported(format!("the function {name}")),
                }
            }
        };
        let arity = match &callee {
            Callee::Builtin((_, n)) => usize::from(*n),
            Callee::Native(_) => crate::builtins::native(&resolved.join(".")).map_or(args.len(), |(_, n)| n),
            Callee::Function(id) => self.names.arities[*id],
        };
        let output = match args.len() {
            n if n == arity => None,
            n if n == arity + 1 => {
                let last = params.last().expect("an argument");
                args.pop();
                Some(self.pattern(last, false)?)
            }
            _ => return unsupported(format!("{} called with {} arguments", resolved.join("."), args.len())),
        };
        Ok(Ex::Call(Box::new(Call {
            callee,
            args,
            output,
            span: span.clone(),
            params: params[..arity.min(params.len())].to_vec(),
        })))
    }
}

fn wrap(base: Ex, path: Vec<Ex>) -> Ex {
    if path.is_empty() { base } else { Ex::Ref(Box::new(base), path) }
}

/// How a variable occurs, for ordering literals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pos {
    /// Read: must be bound before.
    Value,
    /// An index of a reference: bound by iterating when unbound.
    Gen,
    /// A side of `=` or `:=`: bound by matching when unbound.
    Pattern,
    /// Inside a comprehension, `not` or `every`.
    Nested,
}

pub(crate) fn visit(e: &Ex, pos: Pos, f: &mut dyn FnMut(Slot, Pos)) {
    let inner = |p: Pos| if pos == Pos::Nested { Pos::Nested } else { p };
    match e {
        Ex::Var(s) => f(*s, pos),
        Ex::Const(_) | Ex::Input | Ex::Data | Ex::Rule(_) => {}
        Ex::Ref(base, path) => {
            visit(base, inner(Pos::Value), f);
            for p in path {
                visit(p, inner(Pos::Gen), f);
            }
        }
        Ex::Array(items) | Ex::Set(items) => {
            for i in items {
                visit(i, pos, f);
            }
        }
        Ex::Object(fields) => {
            for (k, v) in fields {
                visit(k, inner(Pos::Value), f);
                visit(v, pos, f);
            }
        }
        Ex::ArrayCompr(t, q) | Ex::SetCompr(t, q) => {
            visit(t, Pos::Nested, f);
            visit_query(q, f);
        }
        Ex::ObjectCompr(kv, q) => {
            visit(&kv.0, Pos::Nested, f);
            visit(&kv.1, Pos::Nested, f);
            visit_query(q, f);
        }
        Ex::Call(c) => {
            for a in &c.args {
                visit(a, inner(Pos::Value), f);
            }
            if let Some(o) = &c.output {
                visit(o, inner(Pos::Pattern), f);
            }
        }
        Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
            visit(&ops.0, inner(Pos::Value), f);
            visit(&ops.1, inner(Pos::Value), f);
        }
        Ex::Member(k, vc) => {
            if let Some(k) = k {
                visit(k, inner(Pos::Value), f);
            }
            visit(&vc.0, inner(Pos::Value), f);
            visit(&vc.1, inner(Pos::Value), f);
        }
    }
}

fn visit_query(q: &Query, f: &mut dyn FnMut(Slot, Pos)) {
    for l in &q.lits {
        visit_lit(l, true, f);
    }
}

fn visit_lit(l: &Lit, nested: bool, f: &mut dyn FnMut(Slot, Pos)) {
    let pos = |p: Pos| if nested { Pos::Nested } else { p };
    match l {
        Lit::Expr(e) => visit(e, pos(Pos::Value), f),
        Lit::Not(q) => visit_query(q, f),
        Lit::Unify(a, b) => {
            visit(a, pos(Pos::Pattern), f);
            visit(b, pos(Pos::Pattern), f);
        }
        Lit::SomeIn { key, value, collection } => {
            if let Some(k) = key {
                visit(k, pos(Pos::Pattern), f);
            }
            visit(value, pos(Pos::Pattern), f);
            visit(collection, pos(Pos::Value), f);
        }
        Lit::Every { key, value, domain, body } => {
            visit(domain, pos(Pos::Value), f);
            if let Some(k) = key {
                f(*k, Pos::Nested);
            }
            f(*value, Pos::Nested);
            visit_query(body, f);
        }
    }
}

/// Orders `q`'s literals so that each runs once what it reads is bound,
/// keeping the written order where it already is; then the queries nested
/// in each literal, with what is bound when it runs. `context`: variables
/// occurring outside `q` (the head, an enclosing query).
fn schedule(q: &mut Query, bound: &[bool], context: &[bool]) -> Result<()> {
    let mut bound = bound.to_vec();
    // The variables a query nested in one of these literals shares with
    // the rest (it must wait for them to be bound); its others are its own.
    let mut outer = context.to_vec();
    outer.resize(bound.len(), false);
    for lit in &q.lits {
        visit_lit(lit, false, &mut |s, p| {
            if p != Pos::Nested {
                outer[s] = true;
            }
        });
    }
    let mut pending: Vec<Lit> = std::mem::take(&mut q.lits);
    while !pending.is_empty() {
        let Some(i) = pending.iter().position(|lit| ready(lit, &bound, &outer)) else {
            return unsupported("a body whose variables cannot all be bound");
        };
        let mut lit = pending.remove(i);
        schedule_nested(&mut lit, &bound, &outer)?;
        visit_lit(&lit, false, &mut |s, p| {
            if p != Pos::Nested {
                bound[s] = true;
            }
        });
        q.lits.push(lit);
    }
    Ok(())
}

fn ready(lit: &Lit, bound: &[bool], outer: &[bool]) -> bool {
    let mut ok = true;
    visit_lit(lit, false, &mut |s, p| match p {
        Pos::Value => ok &= bound[s],
        Pos::Nested => ok &= bound[s] || !outer[s],
        Pos::Gen | Pos::Pattern => {}
    });
    if !ok {
        return false;
    }
    match lit {
        Lit::Unify(a, b) => {
            let side_bound = |e: &Ex| {
                let mut all = true;
                visit(e, Pos::Pattern, &mut |s, p| {
                    if p == Pos::Pattern {
                        all &= bound[s];
                    }
                });
                all
            };
            side_bound(a) || side_bound(b)
        }
        Lit::SomeIn { collection, .. } => {
            let mut all = true;
            visit(collection, Pos::Value, &mut |s, p| {
                if p == Pos::Pattern {
                    all &= bound[s];
                }
            });
            all
        }
        _ => true,
    }
}

fn schedule_nested(lit: &mut Lit, bound: &[bool], context: &[bool]) -> Result<()> {
    match lit {
        Lit::Expr(e) => schedule_in(e, bound, context),
        Lit::Not(q) => schedule(q, bound, context),
        Lit::Unify(a, b) => {
            schedule_in(a, bound, context)?;
            schedule_in(b, bound, context)
        }
        Lit::SomeIn { key, value, collection } => {
            if let Some(k) = key {
                schedule_in(k, bound, context)?;
            }
            schedule_in(value, bound, context)?;
            schedule_in(collection, bound, context)
        }
        Lit::Every { key, value, domain, body } => {
            schedule_in(domain, bound, context)?;
            let mut inner = bound.to_vec();
            if let Some(k) = key {
                inner[*k] = true;
            }
            inner[*value] = true;
            schedule(body, &inner, context)
        }
    }
}

/// Schedules the comprehensions inside `e`.
fn schedule_in(e: &mut Ex, bound: &[bool], context: &[bool]) -> Result<()> {
    match e {
        Ex::Const(_) | Ex::Var(_) | Ex::Input | Ex::Data | Ex::Rule(_) => Ok(()),
        Ex::Ref(base, path) => {
            schedule_in(base, bound, context)?;
            path.iter_mut().try_for_each(|p| schedule_in(p, bound, context))
        }
        Ex::Array(items) | Ex::Set(items) => {
            items.iter_mut().try_for_each(|i| schedule_in(i, bound, context))
        }
        Ex::Object(fields) => fields.iter_mut().try_for_each(|(k, v)| {
            schedule_in(k, bound, context)?;
            schedule_in(v, bound, context)
        }),
        Ex::ArrayCompr(t, q) | Ex::SetCompr(t, q) => {
            let mut inner = context.to_vec();
            visit(t, Pos::Value, &mut |s, _| inner[s] = true);
            schedule(q, bound, &inner)
        }
        Ex::ObjectCompr(kv, q) => {
            let mut inner = context.to_vec();
            visit(&kv.0, Pos::Value, &mut |s, _| inner[s] = true);
            visit(&kv.1, Pos::Value, &mut |s, _| inner[s] = true);
            schedule(q, bound, &inner)
        }
        Ex::Call(c) => {
            c.args.iter_mut().try_for_each(|a| schedule_in(a, bound, context))?;
            match &mut c.output {
                Some(o) => schedule_in(o, bound, context),
                None => Ok(()),
            }
        }
        Ex::Arith(_, ops, _) | Ex::Compare(_, ops) | Ex::Union(ops, _) | Ex::Intersection(ops, _) => {
            schedule_in(&mut ops.0, bound, context)?;
            schedule_in(&mut ops.1, bound, context)
        }
        Ex::Member(k, vc) => {
            if let Some(k) = k {
                schedule_in(k, bound, context)?;
            }
            schedule_in(&mut vc.0, bound, context)?;
            schedule_in(&mut vc.1, bound, context)
        }
    }
}
