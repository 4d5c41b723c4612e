//! Reading rules files into definitions: lists, macros and rules by name,
//! with `append`, `override` and `enabled` applied in file order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::error::{ErrorKind, ItemKind, LoadError, Location, Warning};
use rampart_yaml::{self as yaml, Node, Value};

/// Largest rules file accepted.
pub(crate) const MAX_FILE_LEN: usize = 64 * 1024 * 1024;

/// The Falco rule-engine version whose language this crate implements;
/// files may require it with `required_engine_version` (a number `N` is the
/// older scheme and reads as `0.N.0`).
pub(crate) const ENGINE_VERSION: (u64, u64, u64) = (0, 57, 0);

fn parse_engine_version(text: &str) -> Option<(u64, u64, u64)> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Some((0, n, 0));
    }
    let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

/// Where a piece of text came from in a file.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub(crate) file: usize,
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) end_line: u32,
    /// Offsets in the text map to columns on `line` (a one-line plain scalar).
    pub(crate) exact: bool,
}

/// Condition (or output) text built from one or more appended pieces.
#[derive(Clone, Debug, Default)]
pub(crate) struct Text {
    pub(crate) text: String,
    /// Start offset of each piece in `text` and where it came from.
    pub(crate) pieces: Vec<(usize, Origin)>,
}

impl Text {
    fn new(text: &str, origin: Origin) -> Text {
        Text { text: text.to_string(), pieces: vec![(0, origin)] }
    }

    fn append(&mut self, other: &Text) {
        let base = self.text.len() + 1;
        self.text.push(' ');
        self.text.push_str(&other.text);
        self.pieces.extend(other.pieces.iter().map(|(at, o)| (base + at, o.clone())));
    }

    /// The piece holding `pos` and the offset inside it.
    pub(crate) fn piece(&self, pos: usize) -> (&Origin, usize) {
        let i = self.pieces.iter().rposition(|(at, _)| *at <= pos).unwrap_or(0);
        let (at, origin) = &self.pieces[i];
        (origin, pos.saturating_sub(*at))
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ListItem {
    pub(crate) text: String,
    pub(crate) quoted: bool,
}

#[derive(Debug)]
pub(crate) struct ListDef {
    pub(crate) name: String,
    pub(crate) items: Vec<ListItem>,
    pub(crate) origin: Origin,
}

#[derive(Debug)]
pub(crate) struct MacroDef {
    pub(crate) name: String,
    pub(crate) condition: Text,
}

#[derive(Clone, Debug)]
pub(crate) enum ExValue {
    One(String),
    List(Vec<String>),
}

#[derive(Clone, Debug)]
pub(crate) enum ExRow {
    One(String),
    Tuple(Vec<ExValue>),
}

#[derive(Clone, Debug)]
pub(crate) struct ExceptionDef {
    pub(crate) name: String,
    /// `None` for the single-field form (`fields: proc.name`).
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) single_field: Option<String>,
    pub(crate) comps: Option<Vec<String>>,
    /// One row per entry, shaped by the form: a tuple per row for `fields:
    /// [a, b]`, a value (or a sequence meaning a list) for `fields: a`.
    pub(crate) values: Vec<ExRow>,
    pub(crate) origin: Origin,
}

#[derive(Debug)]
pub(crate) struct RuleDef {
    pub(crate) name: String,
    pub(crate) desc: String,
    pub(crate) condition: Text,
    pub(crate) output: Text,
    pub(crate) priority: crate::Priority,
    pub(crate) tags: Vec<String>,
    pub(crate) enabled: bool,
    pub(crate) source: String,
    pub(crate) exceptions: Vec<ExceptionDef>,
    pub(crate) warn_evttypes: bool,
    pub(crate) skip_if_unknown_filter: bool,
    pub(crate) origin: Origin,
}

/// Definitions by name, in order of first definition.
#[derive(Default)]
pub(crate) struct Defs {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) sources: Vec<Rc<str>>,
    pub(crate) lists: Vec<ListDef>,
    pub(crate) macros: Vec<MacroDef>,
    pub(crate) rules: Vec<RuleDef>,
    pub(crate) list_index: HashMap<String, usize>,
    pub(crate) macro_index: HashMap<String, usize>,
    pub(crate) rule_index: HashMap<String, usize>,
    pub(crate) errors: Vec<LoadError>,
    pub(crate) warnings: Vec<Warning>,
}

impl Defs {
    pub(crate) fn location(&self, origin: &Origin, item: Option<(ItemKind, &str)>) -> Location {
        Location {
            file: self.files.get(origin.file).cloned().unwrap_or_default(),
            line: origin.line,
            col: origin.col,
            item: item.map(|(k, n)| (k, n.to_string())),
        }
    }

    fn error(&mut self, origin: &Origin, item: Option<(ItemKind, &str)>, kind: ErrorKind) {
        let location = self.location(origin, item);
        self.errors.push(LoadError { location, kind });
    }

    fn warn(&mut self, origin: &Origin, item: Option<(ItemKind, &str)>, message: String) {
        let location = self.location(origin, item);
        self.warnings.push(Warning { location, message });
    }

    pub(crate) fn load_file(&mut self, path: PathBuf, text: &str) {
        let file = self.files.len();
        self.files.push(path);
        self.sources.push(Rc::from(text));
        let top = Origin { file, line: 1, col: 1, end_line: 1, exact: false };
        if text.len() > MAX_FILE_LEN {
            self.error(&top, None, ErrorKind::Schema(format!("file larger than {} MiB", MAX_FILE_LEN >> 20)));
            return;
        }
        let docs = match yaml::parse(text) {
            Ok(docs) => docs,
            Err(e) => {
                let at = Origin { line: e.line, col: e.col, ..top };
                self.error(&at, None, ErrorKind::Yaml(e.message));
                return;
            }
        };
        for doc in docs.documents {
            let Value::Seq(items) = &doc.value else {
                let at = origin_of(file, &doc);
                self.error(&at, None, ErrorKind::Schema("rules content is not a sequence of items".into()));
                continue;
            };
            for item in items {
                self.load_item(file, item);
            }
        }
    }

    fn load_item(&mut self, file: usize, item: &Rc<Node>) {
        let origin = origin_of(file, item);
        let Value::Map(entries) = &item.value else {
            self.error(
                &origin,
                None,
                ErrorKind::Schema("unexpected element type: each item must be a mapping".into()),
            );
            return;
        };
        if item.field("rule").is_some() {
            self.load_rule(file, item, origin);
        } else if item.field("macro").is_some() {
            self.load_macro(file, item, origin);
        } else if item.field("list").is_some() {
            self.load_list(file, item, origin);
        } else if let Some(v) = item.field("required_engine_version") {
            let text = v.as_str().unwrap_or_default();
            match parse_engine_version(text) {
                Some(required) if required <= ENGINE_VERSION => {}
                Some(_) => {
                    let (a, b, c) = ENGINE_VERSION;
                    let msg = format!("rules require engine version {text}, this engine is {a}.{b}.{c}");
                    self.error(&origin_of(file, v), None, ErrorKind::Schema(msg));
                }
                None => {
                    let msg = format!("required_engine_version '{text}' is not a number or a version");
                    self.error(&origin_of(file, v), None, ErrorKind::Schema(msg));
                }
            }
        } else if item.field("required_plugin_versions").is_some() {
            // Plugins are not loaded; their version requirements do not apply.
        } else {
            let key = entries.first().map(|e| e.key.as_str()).unwrap_or_default();
            self.warn(&origin, None, format!("unknown top-level item '{key}' ignored"));
        }
    }

    /// The item's name, or an error when it has none.
    fn name(&mut self, item: &Node, key: &str, kind: ItemKind, origin: &Origin) -> Option<String> {
        match item.field(key).and_then(|n| n.as_str()) {
            Some(name) if !name.is_empty() => Some(name.to_string()),
            _ => {
                self.error(
                    origin,
                    Some((kind, "")),
                    ErrorKind::Schema(format!("item has no name (key '{key}')")),
                );
                None
            }
        }
    }

    /// `append: true` or the keys of `override:` with their mode.
    fn merge_mode(
        &mut self,
        item: &Node,
        kind: ItemKind,
        name: &str,
        origin: &Origin,
        allowed: &[&str],
    ) -> Option<Merge> {
        let append = item.field("append").and_then(|n| n.as_bool()).unwrap_or(false);
        let Some(over) = item.field("override") else {
            return Some(if append { Merge::Append } else { Merge::Define });
        };
        let Value::Map(entries) = &over.value else {
            self.error(origin, Some((kind, name)), ErrorKind::Schema("'override' must be a mapping".into()));
            return None;
        };
        if append {
            self.error(
                origin,
                Some((kind, name)),
                ErrorKind::Schema("'append' and 'override' cannot be used together".into()),
            );
            return None;
        }
        let mut keys = Vec::new();
        for yaml::Entry { key, value: mode, .. } in entries {
            let mode = match mode.as_str() {
                Some("append") => Mode::Append,
                Some("replace") => Mode::Replace,
                _ => {
                    self.error(
                        &origin_of(origin.file, mode),
                        Some((kind, name)),
                        ErrorKind::Schema(format!("override of '{key}' must be 'append' or 'replace'")),
                    );
                    return None;
                }
            };
            if !allowed.contains(&key.as_str())
                || (mode == Mode::Append && !APPENDABLE.contains(&key.as_str()))
            {
                self.error(
                    &origin_of(origin.file, mode_node(over, key)),
                    Some((kind, name)),
                    ErrorKind::Schema(format!("key '{key}' cannot be overridden with {}", mode_name(mode))),
                );
                return None;
            }
            if item.field(key).is_none() {
                self.error(
                    origin,
                    Some((kind, name)),
                    ErrorKind::Schema(format!("key '{key}' is in 'override' but the item does not set it")),
                );
                return None;
            }
            keys.push((key.clone(), mode));
        }
        Some(Merge::Override(keys))
    }

    fn text(&mut self, file: usize, item: &Node, key: &str, kind: ItemKind, name: &str) -> Option<Text> {
        let node = item.field(key)?;
        match node.as_str() {
            Some(s) => Some(Text::new(s, scalar_origin(file, node))),
            None => {
                self.error(
                    &origin_of(file, node),
                    Some((kind, name)),
                    ErrorKind::Schema(format!("'{key}' must be a string, not {}", node.kind())),
                );
                None
            }
        }
    }

    fn unknown_keys(&mut self, file: usize, item: &Node, kind: ItemKind, name: &str, known: &[&str]) {
        for yaml::Entry { key, value: node, .. } in entries(item) {
            if !known.contains(&key.as_str()) {
                self.warn(&origin_of(file, node), Some((kind, name)), format!("unknown key '{key}' ignored"));
            }
        }
    }

    fn load_list(&mut self, file: usize, item: &Node, origin: Origin) {
        let Some(name) = self.name(item, "list", ItemKind::List, &origin) else { return };
        self.unknown_keys(file, item, ItemKind::List, &name, &["list", "items", "append", "override"]);
        let Some(merge) = self.merge_mode(item, ItemKind::List, &name, &origin, &["items"]) else { return };
        let Some(items_node) = item.field("items") else {
            self.error(
                &origin,
                Some((ItemKind::List, &name)),
                ErrorKind::Schema("list has no 'items'".into()),
            );
            return;
        };
        let items = match &items_node.value {
            Value::Seq(seq) => {
                let mut items = Vec::with_capacity(seq.len());
                for n in seq {
                    match &n.value {
                        Value::Scalar { text, plain, .. } => {
                            items.push(ListItem { text: text.clone(), quoted: !plain })
                        }
                        _ => {
                            self.error(
                                &origin_of(file, n),
                                Some((ItemKind::List, &name)),
                                ErrorKind::Schema(format!("list items must be strings, not {}", n.kind())),
                            );
                            return;
                        }
                    }
                }
                items
            }
            Value::Null => Vec::new(),
            _ => {
                self.error(
                    &origin_of(file, items_node),
                    Some((ItemKind::List, &name)),
                    ErrorKind::Schema("'items' must be a sequence".into()),
                );
                return;
            }
        };
        match (merge.mode("items"), self.list_index.get(&name).copied()) {
            (Mode::Define, Some(i)) => self.lists[i] = ListDef { name, items, origin },
            (Mode::Define, None) => {
                self.list_index.insert(name.clone(), self.lists.len());
                self.lists.push(ListDef { name, items, origin });
            }
            (Mode::Append, Some(i)) => self.lists[i].items.extend(items),
            (Mode::Replace, Some(i)) => self.lists[i].items = items,
            (_, None) => self.no_base(&origin, ItemKind::List, &name),
        }
    }

    fn no_base(&mut self, origin: &Origin, kind: ItemKind, name: &str) {
        self.error(
            origin,
            Some((kind, name)),
            ErrorKind::Append(format!(
                "{kind} has 'append' or 'override' but no earlier definition to change"
            )),
        );
    }

    fn load_macro(&mut self, file: usize, item: &Node, origin: Origin) {
        let Some(name) = self.name(item, "macro", ItemKind::Macro, &origin) else { return };
        let known = ["macro", "condition", "append", "override", "source"];
        self.unknown_keys(file, item, ItemKind::Macro, &name, &known);
        let Some(merge) = self.merge_mode(item, ItemKind::Macro, &name, &origin, &["condition"]) else {
            return;
        };
        let Some(condition) = self.text(file, item, "condition", ItemKind::Macro, &name) else {
            if item.field("condition").is_none() {
                self.error(
                    &origin,
                    Some((ItemKind::Macro, &name)),
                    ErrorKind::Schema("macro has no 'condition'".into()),
                );
            }
            return;
        };
        match (merge.mode("condition"), self.macro_index.get(&name).copied()) {
            (Mode::Define, Some(i)) => self.macros[i] = MacroDef { name, condition },
            (Mode::Define, None) => {
                self.macro_index.insert(name.clone(), self.macros.len());
                self.macros.push(MacroDef { name, condition });
            }
            (Mode::Append, Some(i)) => self.macros[i].condition.append(&condition),
            (Mode::Replace, Some(i)) => self.macros[i].condition = condition,
            (_, None) => self.no_base(&origin, ItemKind::Macro, &name),
        }
    }

    fn load_rule(&mut self, file: usize, item: &Node, origin: Origin) {
        let Some(name) = self.name(item, "rule", ItemKind::Rule, &origin) else { return };
        let me = Some((ItemKind::Rule, name.as_str()));
        let Some(merge) = self.merge_mode(item, ItemKind::Rule, &name, &origin, RULE_OVERRIDABLE) else {
            return;
        };
        let existing = self.rule_index.get(&name).copied();
        self.unknown_keys(file, item, ItemKind::Rule, &name, RULE_KEYS);
        let enabled = match item.field("enabled") {
            Some(n) => match n.as_bool() {
                Some(b) => Some(b),
                None => {
                    self.error(
                        &origin_of(file, n),
                        me,
                        ErrorKind::Schema("'enabled' must be true or false".into()),
                    );
                    return;
                }
            },
            None => None,
        };
        let only_enabled = entries(item).iter().all(|e| e.key == "rule" || e.key == "enabled");
        if let (Merge::Define, Some(i), true, Some(on)) = (&merge, existing, only_enabled, enabled) {
            self.rules[i].enabled = on;
            return;
        }
        let condition = self.text(file, item, "condition", ItemKind::Rule, &name);
        let output = self.text(file, item, "output", ItemKind::Rule, &name);
        let desc = self.text(file, item, "desc", ItemKind::Rule, &name);
        let priority = match item.field("priority") {
            Some(n) => match n.as_str().and_then(crate::Priority::from_name) {
                Some(p) => Some(p),
                None => {
                    let shown = n.as_str().unwrap_or_default();
                    self.error(
                        &origin_of(file, n),
                        me,
                        ErrorKind::Schema(format!("invalid priority '{shown}'")),
                    );
                    return;
                }
            },
            None => None,
        };
        let tags = match item.field("tags") {
            Some(n) => match &n.value {
                Value::Seq(seq) => seq.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
                Value::Null => Vec::new(),
                _ => {
                    self.error(
                        &origin_of(file, n),
                        me,
                        ErrorKind::Schema("'tags' must be a sequence".into()),
                    );
                    return;
                }
            },
            None => Vec::new(),
        };
        let exceptions = match item.field("exceptions") {
            Some(n) => match self.exceptions(file, n, &name) {
                Some(e) => e,
                None => return,
            },
            None => Vec::new(),
        };
        let flag = |key: &str| item.field(key).and_then(|n| n.as_bool());

        match merge {
            Merge::Define => {
                let mut missing = Vec::new();
                for (key, present) in [
                    ("condition", condition.is_some()),
                    ("output", output.is_some()),
                    ("desc", desc.is_some()),
                    ("priority", priority.is_some()),
                ] {
                    if !present && item.field(key).is_none() {
                        missing.push(key);
                    }
                }
                if !missing.is_empty() {
                    let msg = format!("rule has no {}", missing.join(", "));
                    self.error(&origin, me, ErrorKind::Schema(msg));
                    return;
                }
                let (Some(condition), Some(output), Some(desc), Some(priority)) =
                    (condition, output, desc, priority)
                else {
                    return;
                };
                let source = item.field("source").and_then(|n| n.as_str()).unwrap_or("syscall").to_string();
                let def = RuleDef {
                    name: name.clone(),
                    desc: desc.text,
                    condition,
                    output,
                    priority,
                    tags,
                    enabled: enabled.unwrap_or(true),
                    source,
                    exceptions,
                    warn_evttypes: flag("warn_evttypes").unwrap_or(true),
                    skip_if_unknown_filter: flag("skip-if-unknown-filter").unwrap_or(false),
                    origin,
                };
                match existing {
                    Some(i) => self.rules[i] = def,
                    None => {
                        self.rule_index.insert(name, self.rules.len());
                        self.rules.push(def);
                    }
                }
            }
            Merge::Append => {
                let Some(i) = existing else { return self.no_base(&origin, ItemKind::Rule, &name) };
                if condition.is_none() && exceptions.is_empty() && item.field("exceptions").is_none() {
                    let msg = "appending to a rule needs 'condition' or 'exceptions'".to_string();
                    self.error(&origin, me, ErrorKind::Append(msg));
                    return;
                }
                for key in ["output", "desc", "priority", "tags", "source"] {
                    if item.field(key).is_some() {
                        let msg = format!("'{key}' cannot be appended to a rule (use 'override')");
                        self.error(&origin, me, ErrorKind::Append(msg));
                        return;
                    }
                }
                if let Some(c) = condition {
                    self.rules[i].condition.append(&c);
                }
                if let Some(on) = enabled {
                    self.rules[i].enabled = on;
                }
                self.append_exceptions(i, exceptions, &name);
            }
            Merge::Override(keys) => {
                let Some(i) = existing else { return self.no_base(&origin, ItemKind::Rule, &name) };
                let mut condition = condition;
                let mut output = output;
                let mut desc = desc;
                let mut exceptions = Some(exceptions);
                for (key, mode) in keys {
                    let append = mode == Mode::Append;
                    let rule = &mut self.rules[i];
                    match key.as_str() {
                        "condition" => match condition.take() {
                            Some(c) if append => rule.condition.append(&c),
                            Some(c) => rule.condition = c,
                            None => {}
                        },
                        "output" => match output.take() {
                            Some(o) if append => rule.output.append(&o),
                            Some(o) => rule.output = o,
                            None => {}
                        },
                        "desc" => match desc.take() {
                            Some(d) if append => {
                                rule.desc.push(' ');
                                rule.desc.push_str(&d.text);
                            }
                            Some(d) => rule.desc = d.text,
                            None => {}
                        },
                        "priority" => rule.priority = priority.unwrap_or(rule.priority),
                        "tags" => {
                            if append {
                                for t in &tags {
                                    if !rule.tags.contains(t) {
                                        rule.tags.push(t.clone());
                                    }
                                }
                            } else {
                                rule.tags = tags.clone();
                            }
                        }
                        "enabled" => rule.enabled = enabled.unwrap_or(rule.enabled),
                        "warn_evttypes" => rule.warn_evttypes = flag("warn_evttypes").unwrap_or(true),
                        "skip-if-unknown-filter" => {
                            rule.skip_if_unknown_filter = flag("skip-if-unknown-filter").unwrap_or(false)
                        }
                        "exceptions" => {
                            let new = exceptions.take().unwrap_or_default();
                            if append {
                                self.append_exceptions(i, new, &name);
                            } else {
                                self.rules[i].exceptions = new;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Exceptions named like existing ones add their values; others are new
    /// and must say which fields they test.
    fn append_exceptions(&mut self, rule: usize, new: Vec<ExceptionDef>, rule_name: &str) {
        for ex in new {
            let existing = self.rules[rule].exceptions.iter_mut().find(|e| e.name == ex.name);
            match existing {
                Some(e) => e.values.extend(ex.values),
                None if ex.fields.is_none() && ex.single_field.is_none() => {
                    let msg = format!(
                        "exception '{}' appended to rule '{rule_name}' is not in the rule and has no 'fields'",
                        ex.name
                    );
                    self.error(&ex.origin, Some((ItemKind::Exception, &ex.name)), ErrorKind::Append(msg));
                }
                None => self.rules[rule].exceptions.push(ex),
            }
        }
    }

    fn exceptions(&mut self, file: usize, node: &Node, rule: &str) -> Option<Vec<ExceptionDef>> {
        let items = match &node.value {
            Value::Seq(items) => items,
            Value::Null => return Some(Vec::new()),
            _ => {
                let msg = "'exceptions' must be a sequence".to_string();
                self.error(&origin_of(file, node), Some((ItemKind::Rule, rule)), ErrorKind::Schema(msg));
                return None;
            }
        };
        let mut out = Vec::new();
        for ex in items {
            let origin = origin_of(file, ex);
            let Some(name) = ex.field("name").and_then(|n| n.as_str()).filter(|n| !n.is_empty()) else {
                let msg = format!("exception of rule '{rule}' has no 'name'");
                self.error(&origin, Some((ItemKind::Exception, "")), ErrorKind::Schema(msg));
                return None;
            };
            let me = Some((ItemKind::Exception, name));
            let strings = |n: &Node| -> Option<Vec<String>> {
                match &n.value {
                    Value::Seq(s) => s.iter().map(|i| i.as_str().map(str::to_string)).collect(),
                    _ => None,
                }
            };
            let (fields, single_field) = match ex.field("fields") {
                None => (None, None),
                Some(n) => match (&n.value, n.as_str()) {
                    (_, Some(s)) => (None, Some(s.to_string())),
                    (Value::Seq(_), _) => match strings(n) {
                        Some(f) => (Some(f), None),
                        None => {
                            self.error(&origin, me, ErrorKind::Schema("'fields' must be field names".into()));
                            return None;
                        }
                    },
                    _ => {
                        self.error(
                            &origin,
                            me,
                            ErrorKind::Schema("'fields' must be a field or a sequence".into()),
                        );
                        return None;
                    }
                },
            };
            let comps = match ex.field("comps") {
                None => None,
                Some(n) => match (n.as_str(), strings(n)) {
                    (Some(s), _) => Some(vec![s.to_string()]),
                    (_, Some(list)) => Some(list),
                    _ => {
                        self.error(&origin, me, ErrorKind::Schema("'comps' must be operators".into()));
                        return None;
                    }
                },
            };
            let mut values = Vec::new();
            if let Some(v) = ex.field("values") {
                let Value::Seq(rows) = &v.value else {
                    if !v.is_null() {
                        self.error(&origin, me, ErrorKind::Schema("'values' must be a sequence".into()));
                        return None;
                    }
                    continue;
                };
                for row in rows {
                    values.push(match &row.value {
                        Value::Seq(cells) => ExRow::Tuple(
                            cells
                                .iter()
                                .map(|cell| match (&cell.value, cell.as_str()) {
                                    (_, Some(s)) => ExValue::One(s.to_string()),
                                    (Value::Seq(_), _) => ExValue::List(strings(cell).unwrap_or_default()),
                                    _ => ExValue::One(String::new()),
                                })
                                .collect(),
                        ),
                        Value::Scalar { text, .. } => ExRow::One(text.clone()),
                        _ => {
                            let msg =
                                "exception values must be values or sequences matching 'fields'".to_string();
                            self.error(&origin_of(file, row), me, ErrorKind::Schema(msg));
                            return None;
                        }
                    });
                }
            }
            out.push(ExceptionDef { name: name.to_string(), fields, single_field, comps, values, origin });
        }
        Some(out)
    }
}

const APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions", "items"];
const RULE_OVERRIDABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];
const RULE_KEYS: &[&str] = &[
    "rule",
    "desc",
    "condition",
    "output",
    "priority",
    "tags",
    "enabled",
    "source",
    "exceptions",
    "append",
    "override",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Define,
    Append,
    Replace,
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Append => "append",
        Mode::Replace => "replace",
        Mode::Define => "define",
    }
}

enum Merge {
    Define,
    Append,
    Override(Vec<(String, Mode)>),
}

impl Merge {
    fn mode(&self, key: &str) -> Mode {
        match self {
            Merge::Define => Mode::Define,
            Merge::Append => Mode::Append,
            Merge::Override(keys) => keys.iter().find(|(k, _)| k == key).map_or(Mode::Define, |(_, m)| *m),
        }
    }
}

fn mode_node<'a>(over: &'a Node, key: &str) -> &'a Node {
    over.field(key).map_or(over, |n| n)
}

fn entries(node: &Node) -> &[yaml::Entry] {
    match &node.value {
        Value::Map(e) => e,
        _ => &[],
    }
}

pub(crate) fn origin_of(file: usize, node: &Node) -> Origin {
    Origin { file, line: node.line, col: node.col, end_line: node.end_line, exact: false }
}

/// Offsets in a one-line plain scalar are columns; quoted scalars are close
/// (escapes shift them), so they are located by searching instead.
fn scalar_origin(file: usize, node: &Node) -> Origin {
    let exact = matches!(node.value, Value::Scalar { plain: true, .. }) && node.line == node.end_line;
    Origin { exact, ..origin_of(file, node) }
}
