//! Loaded rules: macro and list expansion with cycle detection, exceptions,
//! outputs, the event-type index and evaluation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

use crate::compile::{self, CompileError, Cond, FastMap, Types};
use crate::error::{ErrorKind, ItemKind, LoadError, LoadErrors, Location, Warning};
use crate::event::{Event, Field, FieldArg, Value};
use crate::load::{Defs, ExRow, ExValue, ExceptionDef, Origin, RuleDef, Text};
use crate::parse::{self, Expr, Op, Operand, Rhs, SyntaxError, SyntaxErrorKind};

/// Falco's rule priorities, ordered by severity (`Debug` lowest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Debug,
    Informational,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Priority {
    /// Case-insensitive; `info` is accepted for `informational`.
    pub fn from_name(name: &str) -> Option<Priority> {
        Some(match name.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// As Falco prints it: `Warning`, `Critical`...
    pub fn name(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The event types the enabled rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventTypes {
    /// Some enabled rule can match any event type.
    All,
    Only(BTreeSet<String>),
}

#[derive(Clone, Debug)]
enum Segment {
    Text(String),
    Field { key: String, operand: Operand },
}

/// One loaded rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub desc: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    /// `syscall` for rules that are evaluated; rules of other sources are
    /// loaded, reported as skipped and never match.
    pub source: String,
    pub enabled: bool,
    /// Where the rule was (first) defined.
    pub file: PathBuf,
    pub line: u32,
    /// The output template as written.
    pub output: String,
    cond: Option<Cond>,
    segments: Vec<Segment>,
    /// `None`: any event type.
    types: Option<BTreeSet<String>>,
    /// Size of the macro-result cache the condition needs.
    macro_slots: usize,
}

/// Runs `f` with a zeroed macro-result cache of `n` slots, on the stack
/// when it is small (it always is for real rule files).
#[inline]
fn with_cache<R>(n: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    const STACK: usize = 256;
    if n <= STACK {
        let mut buf = [0u8; STACK];
        f(&mut buf[..n])
    } else {
        f(&mut vec![0u8; n])
    }
}

impl Rule {
    /// Whether the rule is evaluated (its source is `syscall`).
    pub fn is_evaluated(&self) -> bool {
        self.cond.is_some()
    }

    /// The event types the rule can match; `None` for any.
    pub fn event_types(&self) -> Option<&BTreeSet<String>> {
        self.types.as_ref()
    }

    /// The compiled condition (`None` for rules of other sources).
    pub(crate) fn condition(&self) -> Option<&Cond> {
        self.cond.as_ref()
    }

    /// Whether the rule's condition holds for the event (ignores `enabled`).
    pub fn matches<E: Event + ?Sized>(&self, event: &E) -> bool {
        let Some(cond) = &self.cond else { return false };
        // The condition was simplified for the rule's own event types.
        if self.types.as_ref().is_some_and(|t| !t.contains(event.event_type())) {
            return false;
        }
        with_cache(self.macro_slots, |cache| cond.eval(event, cache))
    }

    /// The output line with every `%field` replaced (`<NA>` when the event
    /// lacks it), and the fields by placeholder name (`None` when missing).
    pub fn format_output<E: Event + ?Sized>(
        &self,
        event: &E,
    ) -> (String, BTreeMap<String, Option<Value<'static>>>) {
        let mut line = String::with_capacity(self.output.len() + 64);
        let mut fields = BTreeMap::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => line.push_str(t),
                Segment::Field { key, operand } => {
                    let value = compile::extract(operand, event).map(|v| render_value(operand.field, v));
                    match &value {
                        Some(v) => {
                            use std::fmt::Write;
                            let _ = write!(line, "{v}");
                        }
                        None => line.push_str("<NA>"),
                    }
                    fields.insert(key.clone(), value);
                }
            }
        }
        (line, fields)
    }
}

/// `evt.time` reads as Falco prints it (`HH:MM:SS.nnnnnnnnn`, UTC); every
/// other value as the event gave it.
fn render_value(field: Field, v: Value<'_>) -> Value<'static> {
    match (field, &v) {
        (Field::EvtTime, Value::Uint(ns)) => {
            let secs = ns / 1_000_000_000;
            let day = secs % 86_400;
            Value::Str(
                format!("{:02}:{:02}:{:02}.{:09}", day / 3600, day % 3600 / 60, day % 60, ns % 1_000_000_000)
                    .into(),
            )
        }
        _ => v.into_owned(),
    }
}

/// Rules loaded from one or more files, indexed by event type.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_type: FastMap<Box<str>, Box<[u32]>>,
    /// Enabled rules that can match any event type (also in every `by_type` entry).
    any_type: Box<[u32]>,
    macro_slots: usize,
}

/// The built-in rule pack, in the rule language.
pub const BUILTIN_RULES: &str = include_str!("../rules/rampart_rules.yaml");
/// The name the built-in pack has in errors and warnings.
pub const BUILTIN_RULES_PATH: &str = "<builtin>/rampart_rules.yaml";

impl RuleSet {
    /// Loads rules files in order: later files append to and override
    /// earlier ones. Errors name the file, line, column and item.
    pub fn load(files: &[(PathBuf, String)]) -> Result<(RuleSet, Vec<Warning>), LoadErrors> {
        let mut defs = Defs::default();
        for (path, text) in files {
            defs.load_file(path.clone(), text);
        }
        let mut b = Builder::new(&defs);
        let rules = b.rules();
        let Builder { mut errors, mut warnings, .. } = b;
        let mut all_errors = defs.errors.clone();
        all_errors.append(&mut errors);
        if !all_errors.is_empty() {
            let order = |e: &LoadError| {
                let file = files.iter().position(|(p, _)| *p == e.location.file).unwrap_or(usize::MAX);
                (file, e.location.line, e.location.col)
            };
            all_errors.sort_by_key(order);
            return Err(LoadErrors(all_errors));
        }
        let mut all_warnings = defs.warnings.clone();
        all_warnings.append(&mut warnings);
        let macro_slots = defs.macros.len();
        let mut set = RuleSet { rules, by_type: FastMap::default(), any_type: Box::new([]), macro_slots };
        set.reindex();
        Ok((set, all_warnings))
    }

    /// The built-in pack followed by `files`.
    pub fn load_with_builtins(files: &[(PathBuf, String)]) -> Result<(RuleSet, Vec<Warning>), LoadErrors> {
        let mut all = Vec::with_capacity(files.len() + 1);
        all.push((PathBuf::from(BUILTIN_RULES_PATH), BUILTIN_RULES.to_string()));
        all.extend(files.iter().cloned());
        RuleSet::load(&all)
    }

    /// Every loaded rule, in order of definition.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Enables or disables a rule by name; false when there is none.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> bool {
        let Some(rule) = self.rules.iter_mut().find(|r| r.name == name) else { return false };
        rule.enabled = enabled;
        self.reindex();
        true
    }

    fn reindex(&mut self) {
        let mut by_type: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        let mut any = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.enabled || rule.cond.is_none() {
                continue;
            }
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match &rule.types {
                Some(types) => types.iter().for_each(|t| by_type.entry(t).or_default().push(i)),
                None => any.push(i),
            }
        }
        let by_type = by_type
            .into_iter()
            .map(|(t, mut v)| {
                v.extend(&any);
                v.sort_unstable();
                (Box::from(t), v.into_boxed_slice())
            })
            .collect();
        self.by_type = by_type;
        self.any_type = any.into_boxed_slice();
    }

    /// The event types the enabled rules need, so a sensor captures only those.
    pub fn event_types(&self) -> EventTypes {
        if !self.any_type.is_empty() {
            return EventTypes::All;
        }
        EventTypes::Only(self.by_type.keys().map(|k| k.to_string()).collect())
    }

    /// The enabled rules that match the event, in order of definition.
    pub fn evaluate<E: Event + ?Sized>(&self, event: &E) -> Vec<&Rule> {
        let mut out = Vec::new();
        self.evaluate_into(event, &mut out);
        out
    }

    /// Like [`RuleSet::evaluate`], appending to `out` (no allocation when
    /// `out` has room).
    pub fn evaluate_into<'s, E: Event + ?Sized>(&'s self, event: &E, out: &mut Vec<&'s Rule>) {
        let candidates = self.by_type.get(event.event_type()).unwrap_or(&self.any_type);
        if candidates.is_empty() {
            return;
        }
        with_cache(self.macro_slots, |cache| {
            for &i in candidates.iter() {
                let rule = &self.rules[i as usize];
                if rule.cond.as_ref().is_some_and(|c| c.eval(event, cache)) {
                    out.push(rule);
                }
            }
        });
    }
}

/// How deep macros may reference macros: real rule files stay below ten;
/// the bound keeps compilation and evaluation off deep stacks.
const MAX_MACRO_DEPTH: usize = 32;

enum Fail {
    Error(LoadError),
    /// Already reported (a macro or list that failed for an earlier rule).
    Reported,
}

/// The item a condition belongs to, for error locations.
#[derive(Clone, Copy)]
struct Ctx<'d> {
    kind: ItemKind,
    name: &'d str,
    text: &'d Text,
}

struct Builder<'d> {
    defs: &'d Defs,
    macros: HashMap<usize, Result<Cond, ()>>,
    lists: HashMap<usize, Result<Vec<String>, ()>>,
    macro_stack: Vec<usize>,
    list_stack: Vec<usize>,
    used_macros: Vec<bool>,
    /// Drop errors that depend on the event source (unknown fields, types).
    lenient: bool,
    errors: Vec<LoadError>,
    warnings: Vec<Warning>,
}

impl<'d> Builder<'d> {
    fn new(defs: &'d Defs) -> Builder<'d> {
        Builder {
            defs,
            macros: HashMap::new(),
            lists: HashMap::new(),
            macro_stack: Vec::new(),
            list_stack: Vec::new(),
            used_macros: vec![false; defs.macros.len()],
            lenient: false,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn rules(&mut self) -> Vec<Rule> {
        let defs = self.defs;
        let mut rules = Vec::with_capacity(defs.rules.len());
        for def in &defs.rules {
            if let Some(rule) = self.rule(def) {
                rules.push(rule);
            }
        }
        // Macros no syscall rule uses are still checked for syntax, undefined
        // macros and loops; not for fields, which may belong to another source.
        self.lenient = true;
        for (i, m) in defs.macros.iter().enumerate() {
            if self.used_macros[i] {
                continue;
            }
            let ctx = Ctx { kind: ItemKind::Macro, name: &m.name, text: &m.condition };
            if let Err(Fail::Error(e)) = self.macro_ref(&m.name, 0, ctx) {
                self.report(e);
            }
        }
        rules
    }

    fn rule(&mut self, def: &'d RuleDef) -> Option<Rule> {
        let defs = self.defs;
        let ctx = Ctx { kind: ItemKind::Rule, name: &def.name, text: &def.condition };
        let location = defs.location(&def.origin, Some((ItemKind::Rule, &def.name)));
        let mut rule = Rule {
            name: def.name.clone(),
            desc: def.desc.clone(),
            priority: def.priority,
            tags: def.tags.clone(),
            source: def.source.clone(),
            enabled: def.enabled,
            file: location.file.clone(),
            line: location.line,
            output: def.output.text.clone(),
            cond: None,
            segments: Vec::new(),
            types: None,
            macro_slots: defs.macros.len(),
        };
        if def.source != "syscall" {
            self.warnings.push(Warning {
                location,
                message: format!("source '{}' is not evaluated; rule skipped", def.source),
            });
            return Some(rule);
        }
        let compiled = self.condition(ctx).and_then(|cond| {
            let exceptions = self.exceptions(def)?;
            Ok(if exceptions.is_empty() {
                cond
            } else {
                Cond::And(Box::new([cond, Cond::Not(Box::new(Cond::Or(exceptions.into_boxed_slice())))]))
            })
        });
        let cond = match compiled {
            Ok(c) => c,
            Err(Fail::Error(e))
                if def.skip_if_unknown_filter && matches!(e.kind, ErrorKind::UnknownField(_)) =>
            {
                self.warnings
                    .push(Warning { location: e.location, message: format!("rule skipped: {}", e.kind) });
                return None;
            }
            Err(Fail::Error(e)) => {
                self.errors.push(e);
                return None;
            }
            Err(Fail::Reported) => return None,
        };
        match output_segments(&def.output) {
            Ok(s) => rule.segments = s,
            Err((token, msg)) => {
                let (line, col) = locate(defs, &def.output, 0, &token);
                self.errors.push(LoadError {
                    location: Location { line, col, ..location.clone() },
                    kind: ErrorKind::Output(msg),
                });
                return None;
            }
        }
        let (types, cond) = match compile::types(&cond).0 {
            Types::Only(set) => {
                let unknown: Vec<&str> = set
                    .iter()
                    .map(|t| &**t)
                    .filter(|t| !crate::event_types::KNOWN_EVENT_TYPES.contains(t))
                    .collect();
                if !unknown.is_empty() {
                    self.warnings.push(Warning {
                        location: location.clone(),
                        message: format!("unknown event type(s): {}", unknown.join(", ")),
                    });
                }
                let cond = cond.fold(&set);
                (Some(set.into_iter().map(String::from).collect()), cond)
            }
            Types::AllBut(_) => {
                if def.warn_evttypes && def.enabled {
                    self.warnings.push(Warning {
                        location,
                        message: "rule matches every event type (no evt.type test narrows it): \
                                  it is evaluated on every event"
                            .into(),
                    });
                }
                (None, cond)
            }
        };
        rule.types = types;
        rule.cond = Some(cond);
        Some(rule)
    }

    fn report(&mut self, e: LoadError) {
        let source_specific = matches!(
            e.kind,
            ErrorKind::UnknownField(_) | ErrorKind::WrongValueType(_) | ErrorKind::BadOperator(_)
        );
        if !(self.lenient && source_specific) {
            self.errors.push(e);
        }
    }

    fn err(&self, ctx: Ctx<'_>, pos: usize, token: &str, kind: ErrorKind) -> LoadError {
        let origin = &ctx.text.piece(pos).0;
        let (line, col) = locate(self.defs, ctx.text, pos, token);
        let mut location = self.defs.location(origin, Some((ctx.kind, ctx.name)));
        location.line = line;
        location.col = col;
        LoadError { location, kind }
    }

    fn syntax_error(&self, ctx: Ctx<'_>, e: SyntaxError) -> LoadError {
        let kind = match e.kind {
            SyntaxErrorKind::Syntax(m) => ErrorKind::Syntax(m),
            SyntaxErrorKind::UnknownField(m) => ErrorKind::UnknownField(m),
            SyntaxErrorKind::BadOperator(m) => ErrorKind::BadOperator(m),
        };
        self.err(ctx, e.pos, &e.token, kind)
    }

    fn condition(&mut self, ctx: Ctx<'d>) -> Result<Cond, Fail> {
        let expr =
            parse::parse_condition(&ctx.text.text).map_err(|e| Fail::Error(self.syntax_error(ctx, e)))?;
        self.expr(&expr, ctx)
    }

    fn expr(&mut self, expr: &Expr, ctx: Ctx<'d>) -> Result<Cond, Fail> {
        Ok(match expr {
            Expr::And(terms) => Cond::And(
                terms.iter().map(|t| self.expr(t, ctx)).collect::<Result<Vec<_>, _>>()?.into_boxed_slice(),
            ),
            Expr::Or(terms) => Cond::Or(
                terms.iter().map(|t| self.expr(t, ctx)).collect::<Result<Vec<_>, _>>()?.into_boxed_slice(),
            ),
            Expr::Not(inner) => Cond::Not(Box::new(self.expr(inner, ctx)?)),
            Expr::Macro { name, pos } => self.macro_ref(name, *pos, ctx)?,
            Expr::Check(check) => {
                let mut items = Vec::new();
                let mut rhs_field = None;
                let mut op = check.op;
                let mut negate = false;
                match &check.rhs {
                    Rhs::None => {}
                    // A bare value naming a list stands for the list's items
                    // (`proc.name=cat_binaries`); `=` with several is `in`.
                    Rhs::Value(item) => match self.defs.list_index.get(&item.text) {
                        Some(&i) if !item.quoted => {
                            let values = self.list(i)?;
                            if values.len() != 1 {
                                match op {
                                    Op::Eq => op = Op::In,
                                    Op::Ne => (op, negate) = (Op::In, true),
                                    _ => {
                                        let msg = format!(
                                            "list '{}' used where '{}' needs one value",
                                            item.text,
                                            op.name()
                                        );
                                        return Err(Fail::Error(self.err(
                                            ctx,
                                            item.pos,
                                            &item.text,
                                            ErrorKind::WrongValueType(msg),
                                        )));
                                    }
                                }
                            }
                            items.extend(values.into_iter().map(|v| (v, item.pos)));
                        }
                        _ => items.push((item.text.clone(), item.pos)),
                    },
                    Rhs::Field(o) => rhs_field = Some(o),
                    Rhs::List(list) => {
                        for item in list {
                            match self.defs.list_index.get(&item.text) {
                                Some(&i) if !item.quoted => {
                                    let values = self.list(i)?;
                                    items.extend(values.into_iter().map(|v| (v, item.pos)));
                                }
                                _ => items.push((item.text.clone(), item.pos)),
                            }
                        }
                    }
                    Rhs::ListRef { name, pos } => match self.defs.list_index.get(name) {
                        Some(&i) => {
                            let values = self.list(i)?;
                            items.extend(values.into_iter().map(|v| (v, *pos)));
                        }
                        None => {
                            return Err(Fail::Error(self.err(
                                ctx,
                                *pos,
                                name,
                                ErrorKind::UnknownList(name.clone()),
                            )));
                        }
                    },
                }
                let cond = compile::compile_check(&check.lhs, op, check.op_pos, &items, rhs_field)
                    .map_err(|e: CompileError| Fail::Error(self.err(ctx, e.pos, &e.token, e.kind)))?;
                if negate { Cond::Not(Box::new(cond)) } else { cond }
            }
        })
    }

    fn macro_ref(&mut self, name: &str, pos: usize, ctx: Ctx<'d>) -> Result<Cond, Fail> {
        let defs = self.defs;
        let Some(&i) = defs.macro_index.get(name) else {
            return Err(Fail::Error(self.err(ctx, pos, name, ErrorKind::UnknownMacro(name.to_string()))));
        };
        self.used_macros[i] = true;
        if let Some(done) = self.macros.get(&i) {
            return done.clone().map_err(|()| Fail::Reported);
        }
        if self.macro_stack.contains(&i) {
            let start = self.macro_stack.iter().position(|&m| m == i).unwrap_or(0);
            let mut path: Vec<&str> =
                self.macro_stack[start..].iter().map(|&m| defs.macros[m].name.as_str()).collect();
            path.push(name);
            let kind = ErrorKind::Cycle { kind: ItemKind::Macro, path: path.join(" -> ") };
            let m = &defs.macros[i];
            let at = Ctx { kind: ItemKind::Macro, name: &m.name, text: &m.condition };
            return Err(Fail::Error(self.err(at, 0, "", kind)));
        }
        let m = &defs.macros[i];
        let inner = Ctx { kind: ItemKind::Macro, name: &m.name, text: &m.condition };
        if self.macro_stack.len() >= MAX_MACRO_DEPTH {
            let msg = format!("macros nested more than {MAX_MACRO_DEPTH} levels deep");
            return Err(Fail::Error(self.err(ctx, pos, name, ErrorKind::Syntax(msg))));
        }
        self.macro_stack.push(i);
        let result = self.condition(inner);
        self.macro_stack.pop();
        match result {
            Ok(cond) => {
                let slot = u32::try_from(i).unwrap_or(u32::MAX);
                let cond = Cond::Macro { slot, inner: Box::new(cond) };
                self.macros.insert(i, Ok(cond.clone()));
                Ok(cond)
            }
            Err(Fail::Error(e)) => {
                // A loop is reported once, where it closes; the macros on the
                // way report nothing more.
                if !self.macro_stack.is_empty() && matches!(e.kind, ErrorKind::Cycle { .. }) {
                    self.macros.insert(i, Err(()));
                    return Err(Fail::Error(e));
                }
                self.report(e);
                self.macros.insert(i, Err(()));
                Err(Fail::Reported)
            }
            Err(Fail::Reported) => {
                self.macros.insert(i, Err(()));
                Err(Fail::Reported)
            }
        }
    }

    /// A list's items with the lists it names expanded.
    fn list(&mut self, i: usize) -> Result<Vec<String>, Fail> {
        let defs = self.defs;
        if let Some(done) = self.lists.get(&i) {
            return done.clone().map_err(|()| Fail::Reported);
        }
        let def = &defs.lists[i];
        if self.list_stack.contains(&i) {
            let start = self.list_stack.iter().position(|&m| m == i).unwrap_or(0);
            let mut path: Vec<&str> =
                self.list_stack[start..].iter().map(|&m| defs.lists[m].name.as_str()).collect();
            path.push(&def.name);
            let location = defs.location(&def.origin, Some((ItemKind::List, &def.name)));
            let kind = ErrorKind::Cycle { kind: ItemKind::List, path: path.join(" -> ") };
            self.errors.push(LoadError { location, kind });
            self.lists.insert(i, Err(()));
            return Err(Fail::Reported);
        }
        self.list_stack.push(i);
        let mut out = Vec::with_capacity(def.items.len());
        let mut result = Ok(());
        for item in &def.items {
            match defs.list_index.get(&item.text) {
                Some(&j) if !item.quoted && j != i => match self.list(j) {
                    Ok(values) => out.extend(values),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                },
                Some(&j) if !item.quoted && j == i => {
                    let location = defs.location(&def.origin, Some((ItemKind::List, &def.name)));
                    let kind =
                        ErrorKind::Cycle { kind: ItemKind::List, path: format!("{0} -> {0}", def.name) };
                    self.errors.push(LoadError { location, kind });
                    result = Err(Fail::Reported);
                    break;
                }
                _ => out.push(unquote(&item.text).to_string()),
            }
        }
        self.list_stack.pop();
        match result {
            Ok(()) => {
                self.lists.insert(i, Ok(out.clone()));
                Ok(out)
            }
            Err(e) => {
                self.lists.insert(i, Err(()));
                Err(e)
            }
        }
    }

    fn exceptions(&mut self, def: &'d RuleDef) -> Result<Vec<Cond>, Fail> {
        let mut out = Vec::new();
        for ex in &def.exceptions {
            if let Some(c) = self.exception(ex)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn exception(&mut self, ex: &'d ExceptionDef) -> Result<Option<Cond>, Fail> {
        let defs = self.defs;
        let fail = |kind: ErrorKind| {
            Fail::Error(LoadError {
                location: defs.location(&ex.origin, Some((ItemKind::Exception, &ex.name))),
                kind,
            })
        };
        let schema = |msg: &str| fail(ErrorKind::Schema(msg.to_string()));
        let (fields, single) = match (&ex.fields, &ex.single_field) {
            (Some(f), _) => (f.clone(), false),
            (None, Some(f)) => (vec![f.clone()], true),
            (None, None) => return Err(schema("exception has no 'fields'")),
        };
        let comps = match &ex.comps {
            Some(c) => c.clone(),
            None if single => vec!["in".to_string()],
            None => vec!["=".to_string(); fields.len()],
        };
        if comps.len() != fields.len() {
            return Err(schema("'fields' and 'comps' lists must have equal length"));
        }
        let mut operands = Vec::with_capacity(fields.len());
        for (f, c) in fields.iter().zip(&comps) {
            let (field, arg) = parse::parse_field_ref(f)
                .map_err(|_| fail(ErrorKind::UnknownField(format!("'{f}' is not a supported field"))))?;
            let op = Op::from_word(c).filter(|op| *op != Op::Exists).ok_or_else(|| {
                fail(ErrorKind::BadOperator(format!("'{c}' is not a supported comparison operator")))
            })?;
            operands.push((Operand { field, arg, transforms: Vec::new(), pos: 0 }, op));
        }
        if ex.values.is_empty() {
            return Ok(None);
        }
        let mut rows = Vec::with_capacity(ex.values.len());
        for row in &ex.values {
            let row: Vec<ExValue> = match (row, single) {
                (ExRow::One(s), true) => vec![ExValue::One(s.clone())],
                (ExRow::Tuple(cells), true) => {
                    let words = cells.iter().map(|c| match c {
                        ExValue::One(s) => s.clone(),
                        ExValue::List(l) => l.join(","),
                    });
                    vec![ExValue::List(words.collect())]
                }
                (ExRow::Tuple(cells), false) if cells.len() == fields.len() => cells.clone(),
                _ => return Err(schema("'fields' and 'values' lists must have equal length")),
            };
            let mut checks = Vec::with_capacity(row.len());
            for ((operand, op), value) in operands.iter().zip(&row) {
                let items = self.exception_items(*op, value)?;
                let cond = compile::compile_check(operand, *op, 0, &items, None).map_err(|e| fail(e.kind))?;
                checks.push(cond);
            }
            rows.push(if checks.len() == 1 {
                checks.remove(0)
            } else {
                Cond::And(checks.into_boxed_slice())
            });
        }
        Ok(Some(Cond::Or(rows.into_boxed_slice())))
    }

    /// An exception value: for list operators a list name, a `(a, b)`
    /// literal or a YAML sequence; otherwise one value.
    fn exception_items(&mut self, op: Op, value: &ExValue) -> Result<Vec<(String, usize)>, Fail> {
        let words: Vec<String> = match value {
            ExValue::List(v) => v.clone(),
            ExValue::One(s) if op.takes_list() => {
                let t = s.trim();
                match t.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                    Some(inner) => split_list(inner),
                    None => vec![t.to_string()],
                }
            }
            ExValue::One(s) => return Ok(vec![(unquote(s).to_string(), 0)]),
        };
        let mut out = Vec::new();
        for w in words {
            match self.defs.list_index.get(&w) {
                Some(&i) if op.takes_list() => out.extend(self.list(i)?.into_iter().map(|v| (v, 0))),
                _ => out.push((unquote(&w).to_string(), 0)),
            }
        }
        Ok(out)
    }
}

/// `a, "b c", d` into its items.
fn split_list(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, ',') => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| unquote(s.trim()).to_string()).filter(|s| !s.is_empty()).collect()
}

/// A list item written with its own quotes (`'"sh -c x"'`) stands for the
/// text inside them.
fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Line and column of `pos` in a condition: exact for one-line plain
/// scalars, otherwise the first line of the item's text that has `token`.
fn locate(defs: &Defs, text: &Text, pos: usize, token: &str) -> (u32, u32) {
    if text.pieces.is_empty() {
        return (0, 0);
    }
    let (origin, off): (&Origin, usize) = text.piece(pos);
    if origin.exact {
        return (origin.line, origin.col + u32::try_from(off).unwrap_or(0));
    }
    let token = token.trim();
    if let (false, Some(source)) = (token.is_empty(), defs.sources.get(origin.file)) {
        let first = origin.line.saturating_sub(1) as usize;
        let count = (origin.end_line.max(origin.line) - origin.line + 1) as usize;
        for (n, line) in source.lines().enumerate().skip(first).take(count) {
            if let Some(c) = line.find(token) {
                return (u32::try_from(n + 1).unwrap_or(0), u32::try_from(c + 1).unwrap_or(0));
            }
        }
    }
    (origin.line, origin.col)
}

/// Splits an output template into text and `%field` placeholders.
fn output_segments(output: &Text) -> Result<Vec<Segment>, (String, String)> {
    let s = output.text.as_str();
    let mut segs = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut len =
            after.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.').count();
        while len > 0 && after.as_bytes()[len - 1] == b'.' {
            len -= 1;
        }
        if after.as_bytes().get(len) == Some(&b'[')
            && let Some(close) = after[len..].find(']')
        {
            len += close + 1;
        }
        let key = &after[..len];
        if key.is_empty() {
            // `%` not followed by a field name is plain text.
            text.push('%');
            rest = after;
            continue;
        }
        match parse::parse_field_ref(key) {
            Ok((field, arg)) => {
                if !text.is_empty() {
                    segs.push(Segment::Text(std::mem::take(&mut text)));
                }
                let operand = Operand { field, arg, transforms: Vec::new(), pos: 0 };
                segs.push(Segment::Field { key: key.to_string(), operand });
            }
            Err(_) => return Err((key.to_string(), format!("'{key}' is not a supported field"))),
        }
        rest = &after[len..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        segs.push(Segment::Text(text));
    }
    Ok(segs)
}

/// `proc.aname[2]` into its field and argument.
pub fn parse_field(name: &str) -> Option<(Field, FieldArg)> {
    parse::parse_field_ref(name).ok()
}
