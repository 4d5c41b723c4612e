//! A YAML node tree that keeps the line and column of every node, so load
//! errors can point at the rule, macro or list that caused them.
//!
//! Aliases share the anchored node; the nodes they stand for are counted and
//! bounded, as is nesting depth, so hostile files are refused cheaply.

use std::collections::HashMap;
use std::rc::Rc;

use granit_parser::{ErrorKind, Event, Options, Parser, ScalarStyle, Span};

const MAX_EXPANDED_NODES: u64 = 1_000_000;
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub(crate) struct Node {
    /// 1-based line and column where the node starts.
    pub(crate) line: u32,
    pub(crate) col: u32,
    /// Last line the node covers.
    pub(crate) end_line: u32,
    pub(crate) value: Value,
    weight: u64,
}

#[derive(Debug)]
pub(crate) enum Value {
    Null,
    /// `plain` is false for quoted and block scalars. A block scalar's
    /// position is that of its first line of text.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Rc<Node>>),
    Map(Vec<(String, Rc<Node>)>),
}

impl Node {
    pub(crate) fn get(&self, key: &str) -> Option<&Rc<Node>> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true, .. } => match text.as_str() {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "on" | "On" => Some(true),
                "false" | "False" | "FALSE" | "no" | "No" | "off" | "Off" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) message: String,
}

/// The non-empty documents of a file, in order.
pub(crate) fn parse(text: &str) -> Result<Vec<Rc<Node>>, YamlError> {
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
    Ok(builder.documents)
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
}

struct Frame {
    line: u32,
    col: u32,
    end_line: u32,
    anchor: usize,
    weight: u64,
    items: Vec<Rc<Node>>,
    map: bool,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let line = num(span.start.line());
        let col = num(span.start.col() + 1);
        match event {
            Event::DocumentStart(..) => self.anchors.clear(),
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == ScalarStyle::Plain;
                let value = if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar { text: text.into_owned(), plain }
                };
                let end_line = if span.end.col() == 0 && span.end.line() > span.start.line() {
                    num(span.end.line() - 1)
                } else {
                    num(span.end.line())
                };
                let node = Rc::new(Node { line, col, end_line, value, weight: 1 });
                self.define(anchor, &node);
                self.complete(node, end_line);
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        line,
                        col,
                        message: "an alias refers to the collection it is in".into(),
                    });
                };
                self.expanded = self.expanded.saturating_add(target.weight);
                if self.expanded > MAX_EXPANDED_NODES {
                    return Err(YamlError {
                        line,
                        col,
                        message: format!("aliases expand to more than {MAX_EXPANDED_NODES} nodes"),
                    });
                }
                self.complete(target, line);
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                let map = matches!(event, Event::MappingStart(..));
                self.stack.push(Frame {
                    line,
                    col,
                    end_line: line,
                    anchor,
                    weight: 1,
                    items: Vec::new(),
                    map,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else { return Ok(()) };
                let value = if frame.map {
                    let mut entries = Vec::with_capacity(frame.items.len() / 2);
                    let mut items = frame.items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        let key = k.as_str().unwrap_or_default().to_string();
                        entries.push((key, v));
                    }
                    Value::Map(entries)
                } else {
                    Value::Seq(frame.items)
                };
                let node = Rc::new(Node {
                    line: frame.line,
                    col: frame.col,
                    end_line: frame.end_line,
                    value,
                    weight: frame.weight,
                });
                self.define(frame.anchor, &node);
                self.complete(node, frame.end_line);
            }
            _ => {}
        }
        Ok(())
    }

    fn define(&mut self, anchor: usize, node: &Rc<Node>) {
        if anchor != 0 {
            self.anchors.insert(anchor, Rc::clone(node));
        }
    }

    fn complete(&mut self, node: Rc<Node>, end_line: u32) {
        match self.stack.last_mut() {
            Some(frame) => {
                frame.weight = frame.weight.saturating_add(node.weight);
                frame.end_line = frame.end_line.max(end_line);
                frame.items.push(node);
            }
            None if !node.is_null() => self.documents.push(node),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_lines_and_columns() {
        let docs =
            parse("- rule: x\n  condition: >\n    a and\n    b\n- list: y\n  items: [a, \"b c\"]\n").unwrap();
        let Value::Seq(items) = &docs[0].value else { panic!("sequence") };
        let cond = items[0].get("condition").unwrap();
        assert_eq!((cond.line, cond.end_line), (3, 4));
        let list = items[1].get("items").unwrap();
        assert_eq!((list.line, list.col), (6, 10));
    }

    #[test]
    fn errors_and_bombs_are_refused() {
        assert_eq!(parse("- a: b\n c: d\n").unwrap_err().line, 2);
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        assert!(parse(&bomb).unwrap_err().message.contains("expand"));
    }
}
