//! A YAML node tree that remembers the line and column of every key and
//! value.
//!
//! Misconfiguration findings and rule-loading errors must point at the
//! offending field, which a serde data model forgets, so the tree is built
//! from the parser's events. Aliases share the
//! anchored node instead of copying it, merge keys (`<<`) are resolved as
//! Kubernetes' YAML decoder does, and the work aliases and merges may cause
//! is bounded so an alias bomb is refused rather than expanded.

use std::collections::HashMap;
use std::rc::Rc;

use granit_parser::{ErrorKind, Event, Options, Parser, ScalarStyle, Span, Tag};

/// Most nodes aliases and merge keys may stand for in one file. Real
/// manifests reuse a few small anchors; a billion-laughs file asks for 10^9.
const MAX_EXPANDED_NODES: u64 = 1_000_000;

/// How deep collections may nest. Manifests (even CRD schemas) stay far
/// below it; the bound keeps the parser and the tree's drop off deep stacks.
const MAX_DEPTH: usize = 128;

#[derive(Debug)]
pub struct Node {
    /// 1-based line where the node starts (for aliases: where the anchored node is).
    pub line: u32,
    /// 1-based column where the node starts.
    pub col: u32,
    /// Last line the node covers.
    pub end_line: u32,
    pub value: Value,
    /// How many nodes this one stands for once every alias inside is expanded.
    weight: u64,
}

#[derive(Debug)]
pub enum Value {
    Null,
    /// `plain` is false for quoted, block and `!!str` scalars: only plain
    /// scalars can be booleans or numbers.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Rc<Node>>),
    /// Entries in source order, each key once (the last one written wins, as
    /// in Kubernetes), merged entries after the explicit ones.
    Map(Vec<Entry>),
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    /// Line of the key.
    pub line: u32,
    pub value: Rc<Node>,
}

impl Entry {
    /// Last line of the key and its value; the key's line when the value is an alias of a node above.
    pub fn end_line(&self) -> u32 {
        if self.value.line >= self.line { self.value.end_line.max(self.line) } else { self.line }
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    /// The entry at the end of a chain of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Entry> {
        let (first, rest) = keys.split_first()?;
        let mut entry = self.get(first)?;
        for key in rest {
            entry = entry.value.get(key)?;
        }
        Some(entry)
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Rc<Node>] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The value of a mapping key.
    pub fn field(&self, key: &str) -> Option<&Rc<Node>> {
        self.get(key).map(|e| &e.value)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// What the node is, for messages: "a mapping", "a sequence", …
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }

    /// The text of any scalar (`8080` included): for fields typed as strings.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A plain boolean, with the YAML 1.1 spellings (`yes`, `on`, `y`) that
    /// Kubernetes' decoder still reads as booleans.
    pub fn as_bool(&self) -> Option<bool> {
        match self.plain()? {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Some(true),
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
                Some(false)
            }
            _ => None,
        }
    }

    /// A plain decimal integer.
    pub fn as_int(&self) -> Option<i64> {
        self.plain()?.replace('_', "").parse().ok()
    }

    fn plain(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, plain: true } => Some(text),
            _ => None,
        }
    }
}

/// Nesting below this becomes `null` in JSON; the parser already caps depth.
const MAX_JSON_DEPTH: usize = 256;

impl Node {
    /// The node as JSON, plain scalars typed as Kubernetes' decoder types
    /// them (`yes` and `on` are booleans, `0x` is not a number), quoted and
    /// block scalars always strings.
    pub fn to_json(&self) -> serde_json::Value {
        self.json_at(0)
    }

    fn json_at(&self, depth: usize) -> serde_json::Value {
        use serde_json::Value as Json;
        if depth > MAX_JSON_DEPTH {
            return Json::Null;
        }
        match &self.value {
            Value::Null => Json::Null,
            Value::Scalar { text, plain: false } => Json::String(text.clone()),
            Value::Scalar { text, plain: true } => plain_scalar(text),
            Value::Seq(items) => items.iter().map(|n| n.json_at(depth + 1)).collect(),
            Value::Map(entries) => {
                Json::Object(entries.iter().map(|e| (e.key.clone(), e.value.json_at(depth + 1))).collect())
            }
        }
    }
}

fn plain_scalar(text: &str) -> serde_json::Value {
    use serde_json::Value as Json;
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Json::Bool(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Json::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Json::from(i);
    }
    if text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Json::Number(n);
    }
    Json::String(text.to_string())
}

/// The documents of a file, in order (empty documents left out), and the
/// keys that were written twice in one mapping.
#[derive(Debug)]
pub struct Yaml {
    pub documents: Vec<Rc<Node>>,
    pub duplicates: Vec<(u32, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line and column of the error.
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for YamlError {}

pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut builder = Builder::default();
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| {
            let message = match e.kind() {
                ErrorKind::RecursionLimitExceeded => {
                    format!("collections nested more than {MAX_DEPTH} levels deep")
                }
                kind => kind.to_string(),
            };
            YamlError { line: num(e.marker().line()), col: num(e.marker().col() + 1), message }
        })?;
        builder.event(event, span)?;
    }
    Ok(Yaml { documents: builder.documents, duplicates: builder.duplicates })
}

fn num(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    expanded: u64,
    documents: Vec<Rc<Node>>,
    duplicates: Vec<(u32, String)>,
}

struct Frame {
    line: u32,
    col: u32,
    end_line: u32,
    anchor: usize,
    weight: u64,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Rc<Node>>),
    Map { entries: Vec<Entry>, key: Option<Key>, merges: Vec<Rc<Node>> },
}

enum Key {
    Text(String, u32),
    /// A plain `<<`: the value's entries fill in the keys this mapping lacks.
    Merge(u32, u32),
    /// A key that is itself a collection: no Kubernetes field is named so.
    Complex,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let line = num(span.start.line());
        let col = num(span.start.col() + 1);
        match event {
            Event::DocumentStart(..) => self.anchors.clear(),
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain && !tag.as_deref().is_some_and(is_str_tag);
                let value = if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar { text: text.into_owned(), plain }
                };
                let end_line = match value {
                    Value::Null => line,
                    // A block scalar's span ends at the start of the line after it.
                    _ if span.end.col() == 0 && span.end.line() > span.start.line() => {
                        num(span.end.line() - 1)
                    }
                    _ => num(span.end.line()),
                };
                let node = Rc::new(Node { line, col, end_line, value, weight: 1 });
                self.define(anchor, &node);
                self.complete(node, end_line)?;
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        line,
                        col,
                        message: "an alias refers to the collection it is in".into(),
                    });
                };
                self.charge(target.weight, line, col)?;
                self.complete(target, line)?;
            }
            Event::SequenceStart(_, anchor, _) => self.open((line, col), anchor, FrameKind::Seq(Vec::new())),
            Event::MappingStart(_, anchor, _) => self.open(
                (line, col),
                anchor,
                FrameKind::Map { entries: Vec::new(), key: None, merges: Vec::new() },
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            _ => {}
        }
        Ok(())
    }

    fn open(&mut self, (line, col): (u32, u32), anchor: usize, kind: FrameKind) {
        self.stack.push(Frame { line, col, end_line: line, anchor, weight: 1, kind });
    }

    fn close(&mut self) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else { return Ok(()) };
        let mut weight = frame.weight;
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Seq(items),
            FrameKind::Map { entries, merges, .. } => {
                let mut entries = self.dedupe(entries);
                for source in &merges {
                    for entry in source.entries() {
                        if !entries.iter().any(|e| e.key == entry.key) {
                            self.charge(entry.value.weight, frame.line, frame.col)?;
                            weight = weight.saturating_add(entry.value.weight);
                            entries.push(entry.clone());
                        }
                    }
                }
                Value::Map(entries)
            }
        };
        let node =
            Rc::new(Node { line: frame.line, col: frame.col, end_line: frame.end_line, value, weight });
        self.define(frame.anchor, &node);
        self.complete(node, frame.end_line)
    }

    /// Keeps the last of repeated keys, in the place of the first, and notes the repeat.
    fn dedupe(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for entry in entries {
            let seen = if out.len() < 16 && index.is_empty() {
                out.iter().position(|e| e.key == entry.key)
            } else {
                if index.is_empty() {
                    index = out.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect();
                }
                index.get(&entry.key).copied()
            };
            match seen {
                Some(i) => {
                    self.duplicates.push((entry.line, entry.key.clone()));
                    out[i] = entry;
                }
                None => {
                    if !index.is_empty() {
                        index.insert(entry.key.clone(), out.len());
                    }
                    out.push(entry);
                }
            }
        }
        out
    }

    fn define(&mut self, anchor: usize, node: &Rc<Node>) {
        if anchor != 0 {
            self.anchors.insert(anchor, Rc::clone(node));
        }
    }

    fn charge(&mut self, weight: u64, line: u32, col: u32) -> Result<(), YamlError> {
        self.expanded = self.expanded.saturating_add(weight);
        if self.expanded > MAX_EXPANDED_NODES {
            return Err(YamlError {
                line,
                col,
                message: format!("aliases and merge keys expand to more than {MAX_EXPANDED_NODES} nodes"),
            });
        }
        Ok(())
    }

    /// Hands a finished node to the collection it is in; `end_line` is where
    /// it ends in the text here (for an alias, the alias itself).
    fn complete(&mut self, node: Rc<Node>, end_line: u32) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            if !matches!(node.value, Value::Null) {
                self.documents.push(node);
            }
            return Ok(());
        };
        frame.weight = frame.weight.saturating_add(node.weight);
        frame.end_line = frame.end_line.max(end_line);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { entries, key, merges } => match key.take() {
                None => {
                    *key = Some(match &node.value {
                        Value::Scalar { text, plain: true } if text == "<<" => {
                            Key::Merge(node.line, node.col)
                        }
                        Value::Scalar { text, .. } => Key::Text(text.clone(), node.line),
                        Value::Null => Key::Text(String::new(), node.line),
                        Value::Seq(_) | Value::Map(_) => Key::Complex,
                    });
                }
                Some(Key::Text(text, line)) => entries.push(Entry { key: text, line, value: node }),
                Some(Key::Merge(line, col)) => {
                    if node.is_map() {
                        merges.push(node);
                    } else if !node.items().is_empty() && node.items().iter().all(|n| n.is_map()) {
                        merges.extend(node.items().iter().cloned());
                    } else {
                        return Err(YamlError {
                            line,
                            col,
                            message: "a merge key (<<) needs a mapping or a list of mappings".into(),
                        });
                    }
                }
                Some(Key::Complex) => {}
            },
        }
        Ok(())
    }
}

fn is_str_tag(tag: &Tag) -> bool {
    tag.is_yaml_core_schema_tag("str")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Rc<Node> {
        let mut yaml = parse(text).expect("parses");
        assert_eq!(yaml.documents.len(), 1);
        yaml.documents.pop().expect("one document")
    }

    #[test]
    fn nodes_keep_their_columns() {
        let root = doc("- rule: x\n  items: [a, \"b c\"]\n");
        let list = root.items()[0].field("items").expect("items");
        assert_eq!((list.line, list.col), (2, 10));
        assert_eq!(list.items()[1].col, 14);
    }

    #[test]
    fn json_types_plain_scalars_only() {
        let root = doc("a: yes\nb: 'yes'\nc: 8080\nd: \"8080\"\ne: 1.5\nf: 0x1F\ng: [~, x]\n");
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": true, "b": "yes", "c": 8080, "d": "8080", "e": 1.5, "f": "0x1F", "g": [null, "x"]})
        );
    }

    #[test]
    fn keys_and_values_keep_their_lines() {
        let root = doc("a:\n  b: 1\n  c:\n    - x\n    - y\nd: |\n  one\n  two\ne: end\n");
        let a = root.get("a").expect("a");
        assert_eq!((a.line, a.end_line()), (1, 5));
        assert_eq!(root.path(&["a", "c"]).map(|e| (e.line, e.end_line())), Some((3, 5)));
        assert_eq!(root.path(&["a", "c"]).expect("c").value.items()[1].line, 5);
        let d = root.get("d").expect("d");
        assert_eq!((d.line, d.end_line()), (6, 8));
        assert_eq!(root.get("e").map(|e| e.line), Some(9));
    }

    #[test]
    fn scalars_are_typed_only_when_plain() {
        let root = doc("a: true\nb: \"true\"\nc: yes\nd: !!str true\ne: 0\nf: '0'\ng: ~\nh:\n");
        let field = |k: &str| &root.get(k).expect(k).value;
        assert_eq!(field("a").as_bool(), Some(true));
        assert_eq!(field("b").as_bool(), None);
        assert_eq!(field("b").as_str(), Some("true"));
        assert_eq!(field("c").as_bool(), Some(true));
        assert_eq!(field("d").as_bool(), None);
        assert_eq!(field("e").as_int(), Some(0));
        assert_eq!(field("f").as_int(), None);
        assert!(matches!(field("g").value, Value::Null));
        assert!(matches!(field("h").value, Value::Null));
    }

    #[test]
    fn aliases_share_and_merges_fill_missing_keys() {
        let root = doc("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n");
        let used = &root.get("use").expect("use").value;
        assert_eq!(used.get("x").and_then(|e| e.value.as_int()), Some(1));
        assert_eq!(used.get("y").and_then(|e| e.value.as_int()), Some(3));
        assert_eq!(used.entries().len(), 2);
        assert_eq!(root.get("list").expect("list").value.items()[1].get("y").map(|e| e.line), Some(1));
    }

    #[test]
    fn later_duplicate_key_wins_and_is_reported() {
        let yaml = parse("a: 1\nb: 2\na: 3\n").expect("parses");
        let root = &yaml.documents[0];
        assert_eq!(root.get("a").and_then(|e| e.value.as_int()), Some(3));
        assert_eq!(root.entries().len(), 2);
        assert_eq!(yaml.duplicates, vec![(3, "a".to_string())]);
    }

    #[test]
    fn many_keys_dedupe_through_the_index() {
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: last\n");
        let yaml = parse(&text).expect("parses");
        let root = &yaml.documents[0];
        assert_eq!(root.entries().len(), 40);
        assert_eq!(root.get("k7").and_then(|e| e.value.as_str()), Some("last"));
        assert_eq!(yaml.duplicates, vec![(41, "k7".to_string())]);
    }

    #[test]
    fn empty_documents_are_skipped() {
        let yaml = parse("---\n# only a comment\n---\na: 1\n---\n").expect("parses");
        assert_eq!(yaml.documents.len(), 1);
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let err = parse("a: b\n  c: d\n").expect_err("malformed");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn self_referencing_alias_is_refused() {
        let err = parse("a: &a [*a]\n").expect_err("recursive");
        assert_eq!(err.line, 1);
    }

    #[test]
    fn bad_merge_value_is_refused() {
        assert_eq!(parse("a:\n  <<: 3\n").expect_err("bad merge").line, 2);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&text).expect_err("too deep").message.contains("nested"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&text).expect_err("bomb");
        assert!(err.message.contains("expand"), "{}", err.message);
    }
}
