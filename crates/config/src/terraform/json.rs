//! Terraform's JSON syntax (`*.tf.json`) rewritten as native HCL, so the
//! same evaluation and checks apply, with a map from each HCL line back to
//! the JSON line it came from, so findings keep their lines. Pretty-printed
//! JSON keeps every block and attribute on its own line number.
//!
//! JSON cannot tell a nested block from an object-valued attribute; as
//! Terraform would with the provider's schema, objects in resources become
//! blocks, except the attributes known to hold maps (`tags`, …). Strings are
//! templates, as in Terraform: `"${var.x}"` refers to the variable.

use rampart_yaml::{self as yaml, Node, Value};

/// Object-valued resource attributes that are maps, not nested blocks.
const MAP_ATTRIBUTES: &[&str] =
    &["tags", "tags_all", "labels", "environment", "variables", "parameters", "triggers", "annotations"];

/// How many labels each top-level block type has; others are left out.
fn labels_of(block_type: &str) -> Option<usize> {
    match block_type {
        "resource" | "data" => Some(2),
        "variable" | "output" | "module" | "provider" => Some(1),
        "locals" | "terraform" => Some(0),
        _ => None,
    }
}

/// HCL converted from JSON, and for each of its lines (0-based) the JSON
/// line it stands for.
pub(crate) struct Converted {
    pub(crate) text: String,
    pub(crate) lines: Vec<u32>,
}

impl Converted {
    /// The JSON line of an HCL line.
    pub(crate) fn source_line(&self, line: u32) -> u32 {
        self.lines.get(line.saturating_sub(1) as usize).copied().unwrap_or(line)
    }
}

/// The HCL text of a `.tf.json` file, or the line and message of what is
/// wrong with it.
pub(crate) fn to_hcl(text: &str) -> Result<Converted, (u32, String)> {
    let parsed = yaml::parse(text).map_err(|e| (e.line, e.message))?;
    let Some(root) = parsed.documents.first() else {
        return Ok(Converted { text: String::new(), lines: Vec::new() });
    };
    if !root.is_map() {
        return Err((root.line, "a Terraform JSON file holds one object".to_string()));
    }
    let mut out = Emitter { text: String::new(), line: 1, lines: vec![1] };
    for entry in root.entries() {
        if let Some(labels) = labels_of(&entry.key) {
            out.blocks(&entry.key, labels, &entry.value, &mut Vec::new(), &entry.key);
        }
    }
    Ok(Converted { text: out.text, lines: out.lines })
}

struct Emitter {
    text: String,
    /// The line the next character goes on.
    line: u32,
    /// The JSON line of each line written so far.
    lines: Vec<u32>,
}

impl Emitter {
    /// Starts a new line for what stands on JSON line `line`, padding down
    /// to it when the output is behind.
    fn start_line(&mut self, line: u32) {
        if !self.text.is_empty() {
            self.text.push('\n');
            self.line += 1;
            self.lines.push(self.line);
        }
        while self.line < line {
            self.text.push('\n');
            self.line += 1;
            self.lines.push(self.line);
        }
        if let Some(last) = self.lines.last_mut() {
            *last = line;
        }
    }

    /// Blocks of type `ident`, descending `labels_left` levels of object
    /// keys for their labels; a body may be an object or a list of them.
    fn blocks(&mut self, ident: &str, labels_left: usize, node: &Node, labels: &mut Vec<String>, top: &str) {
        if labels_left > 0 {
            for entry in node.entries() {
                labels.push(entry.key.clone());
                self.blocks(ident, labels_left - 1, &entry.value, labels, top);
                labels.pop();
            }
            return;
        }
        let bodies: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().map(|n| &**n).collect(),
            _ => vec![node],
        };
        for body in bodies.into_iter().filter(|b| b.is_map()) {
            self.start_line(body.line);
            self.text.push_str(ident);
            for label in labels.iter() {
                self.text.push(' ');
                string(&mut self.text, label);
            }
            self.text.push_str(" {");
            self.body(body, top);
            self.start_line(body.end_line);
            self.text.push('}');
        }
    }

    /// A block body: attributes, and nested blocks where `top` (the
    /// top-level block type) has them.
    fn body(&mut self, node: &Node, top: &str) {
        for entry in node.entries() {
            if entry.key == "//" {
                continue;
            }
            let nested = matches!(top, "resource" | "data")
                && !MAP_ATTRIBUTES.contains(&entry.key.as_str())
                && match &entry.value.value {
                    Value::Map(_) => true,
                    Value::Seq(items) => !items.is_empty() && items.iter().all(|i| i.is_map()),
                    _ => false,
                };
            if entry.key == "dynamic" && matches!(top, "resource" | "data") {
                self.blocks("dynamic", 1, &entry.value, &mut Vec::new(), top);
            } else if nested {
                self.blocks(&entry.key, 0, &entry.value, &mut Vec::new(), top);
            } else {
                self.start_line(entry.line);
                self.text.push_str(&entry.key);
                self.text.push_str(" = ");
                expression(&mut self.text, &entry.value);
            }
        }
    }
}

/// A value as an HCL expression on one line.
fn expression(out: &mut String, node: &Node) {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Scalar { text, plain: true } => out.push_str(text),
        Value::Scalar { text, plain: false } => string(out, text),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                expression(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(out, &entry.key);
                out.push_str(" = ");
                expression(out, &entry.value);
            }
            out.push('}');
        }
    }
}

/// A quoted HCL template: interpolations (`${…}`) kept, quotes, backslashes
/// and line breaks escaped.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_attributes_keep_their_lines() {
        let json = r#"{
  "variable": {
    "public": { "default": true }
  },
  "resource": {
    "aws_db_instance": {
      "main": {
        "//": "the reporting database",
        "publicly_accessible": "${var.public}",
        "tags": { "team": "data" },
        "restore_to_point_in_time": {
          "use_latest_restorable_time": true
        }
      }
    }
  }
}"#;
        let converted = to_hcl(json).expect("converts");
        let hcl = converted.text.as_str();
        let lines: Vec<&str> = hcl.lines().collect();
        assert_eq!(lines[2].trim(), "variable \"public\" {");
        assert_eq!(lines[8].trim(), "publicly_accessible = \"${var.public}\"");
        assert_eq!(lines[9].trim(), "tags = {\"team\" = \"data\"}");
        assert_eq!(lines[10].trim(), "restore_to_point_in_time {");
        assert!(hcl_edit::parser::parse_body(hcl).is_ok(), "{hcl}");
    }

    #[test]
    fn lines_map_back_when_one_json_line_holds_several_attributes() {
        let json = "{\"resource\": {\"t\": {\"r\": {\"a\": 1, \"b\": 2,\n \"c\": 3}}}}";
        let converted = to_hcl(json).expect("converts");
        let line_of = |attr: &str| {
            let at =
                converted.text.lines().position(|l| l.trim_start().starts_with(attr)).expect("attr") as u32;
            converted.source_line(at + 1)
        };
        assert_eq!((line_of("a ="), line_of("b ="), line_of("c =")), (1, 1, 2));
    }

    #[test]
    fn not_an_object_is_an_error_with_its_line() {
        assert_eq!(to_hcl("\n[1, 2]").err().map(|e| e.0), Some(2));
        assert!(to_hcl("{\"resource\": ").is_err());
    }
}
