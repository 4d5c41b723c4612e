//! The JSON documents user Rego checks read (`rampart config --config-check`):
//! Trivy's Dockerfile shape, Kubernetes objects as they are, and Terraform
//! resources in the shape of Terraform's JSON configuration syntax.

use serde_json::{Map, Value as Json, json};

use crate::dockerfile::{model, parse};
use crate::kubernetes::object;
use crate::terraform::hcl;
use crate::{ConfigError, ConfigKind};
use rampart_yaml as yaml;

/// One input document and what it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct RegoInput {
    pub value: Json,
    /// `Kind/name` for a Kubernetes object; empty otherwise.
    pub resource: String,
    pub start_line: u32,
    pub end_line: u32,
}

/// The input documents of one file: one for a Dockerfile or a Terraform
/// file (its own resources, values evaluated within the file), one per
/// object for Kubernetes (none when it holds no objects).
pub fn rego_inputs(kind: ConfigKind, display: &str, content: &[u8]) -> Result<Vec<RegoInput>, ConfigError> {
    let malformed = |line: Option<u32>, message: String| ConfigError::Malformed {
        path: display.to_string(),
        line,
        message,
    };
    match kind {
        ConfigKind::Dockerfile => dockerfile(display, content).map(|d| vec![d]),
        ConfigKind::Kubernetes => {
            let text =
                std::str::from_utf8(content).map_err(|e| malformed(None, format!("not UTF-8 text: {e}")))?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let parsed = match yaml::parse(text) {
                Ok(p) => p,
                Err(_) if text.contains("{{") => return Ok(Vec::new()),
                Err(e) => return Err(malformed(Some(e.line), e.message)),
            };
            let mut objects = Vec::new();
            for doc in &parsed.documents {
                object::collect(doc, &mut objects);
            }
            Ok(objects
                .iter()
                .map(|o| RegoInput {
                    value: o.root.to_json(),
                    resource: o.resource.clone(),
                    start_line: o.root.line,
                    end_line: o.root.end_line,
                })
                .collect())
        }
        ConfigKind::Terraform => {
            let text =
                std::str::from_utf8(content).map_err(|e| malformed(None, format!("not UTF-8 text: {e}")))?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let body = hcl_edit::parser::parse_body(text).map_err(|e| {
                malformed(
                    Some(u32::try_from(e.location().line()).unwrap_or(u32::MAX)),
                    e.message().to_string(),
                )
            })?;
            let scope = hcl::Scope::new(std::iter::once(&body), &[]);
            let lines = hcl::Lines::new(text);
            let mut managed = Map::new();
            let mut data = Map::new();
            let mut spans = Map::new();
            for block in scope.resources(&body, &lines) {
                let (root, prefix) =
                    if block.ident == "data" { (&mut data, "data.") } else { (&mut managed, "") };
                let by_type = root.entry(block.labels[0].clone()).or_insert_with(|| Json::Object(Map::new()));
                spans.insert(
                    format!("{prefix}{}.{}", block.labels[0], block.labels[1]),
                    json!([block.start, block.end]),
                );
                if let Some(by_type) = by_type.as_object_mut() {
                    by_type.insert(block.labels[1].clone(), block_json(&block, 0));
                }
            }
            let end = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
            Ok(vec![RegoInput {
                value: json!({"resource": managed, "data": data, "__lines__": spans}),
                resource: String::new(),
                start_line: 1,
                end_line: end,
            }])
        }
    }
}

fn dockerfile(display: &str, content: &[u8]) -> Result<RegoInput, ConfigError> {
    let parsed = parse::parse(content).map_err(|e| {
        let (line, message) = match e {
            parse::ParseError::Binary => (None, "binary file, not a Dockerfile"),
            parse::ParseError::Empty => (None, "empty Dockerfile"),
            parse::ParseError::NoInstructions(line) => (line, "no Dockerfile instructions"),
        };
        ConfigError::Malformed { path: display.to_string(), line, message: message.into() }
    })?;
    let text = String::from_utf8_lossy(content);
    let source: Vec<&str> = text.lines().collect();
    let model = model::build(parsed);
    let mut stages: Vec<Json> = Vec::new();
    let mut end_line = 1;
    for instr in &model.instrs {
        let ins = &instr.ins;
        end_line = end_line.max(ins.end_line);
        let value: Vec<String> = match (&ins.json, &instr.args) {
            (Some(items), _) => items.clone(),
            (None, model::Args::Pairs(pairs))
                if matches!(ins.keyword, parse::Keyword::Env | parse::Keyword::Label) =>
            {
                pairs.iter().flat_map(|p| [p.key.clone(), p.value.clone().unwrap_or_default()]).collect()
            }
            (None, model::Args::Shell) => vec![ins.args.clone()],
            _ => ins.args.split_whitespace().map(str::to_string).collect(),
        };
        let flags: Vec<String> = ins
            .flags
            .iter()
            .map(|f| match &f.value {
                Some(v) => format!("--{}={v}", f.name),
                None => format!("--{}", f.name),
            })
            .collect();
        let first = usize::try_from(ins.start_line.saturating_sub(1)).unwrap_or(0);
        let last = usize::try_from(ins.end_line).unwrap_or(0).min(source.len());
        let original = source.get(first..last).map(|l| l.join("\n")).unwrap_or_default();
        let stage_index = instr.stage.unwrap_or(0);
        let command = json!({
            "Cmd": ins.keyword.as_str().to_ascii_lowercase(),
            "SubCmd": "",
            "Flags": flags,
            "Value": value,
            "Original": original,
            "JSON": ins.json.is_some(),
            "Stage": stage_index,
            "Path": display,
            "StartLine": ins.start_line,
            "EndLine": ins.end_line,
        });
        while stages.len() <= stage_index {
            let name = model
                .stages
                .get(stages.len())
                .map(|s| model.instrs[s.from].ins.args.clone())
                .unwrap_or_default();
            stages.push(json!({"Name": name, "Commands": []}));
        }
        if let Some(commands) = stages[stage_index]["Commands"].as_array_mut() {
            commands.push(command);
        }
    }
    Ok(RegoInput { value: json!({"Stages": stages}), resource: String::new(), start_line: 1, end_line })
}

/// Nesting below this becomes `null`; the YAML reader already caps depth.
const MAX_DEPTH: usize = 256;

/// A resource body: attributes by name (unknown values as `null`), nested
/// blocks as lists of objects, as in Terraform's JSON syntax.
fn block_json(block: &hcl::Block, depth: usize) -> Json {
    let mut out = Map::new();
    for a in &block.attrs {
        out.insert(a.name.clone(), a.value.to_json());
    }
    if depth < MAX_DEPTH {
        for b in &block.blocks {
            let list = out.entry(b.ident.clone()).or_insert_with(|| Json::Array(Vec::new()));
            if let Some(list) = list.as_array_mut() {
                list.push(block_json(b, depth + 1));
            }
        }
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(kind: ConfigKind, text: &str) -> Json {
        let mut docs = rego_inputs(kind, "f", text.as_bytes()).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0).value
    }

    #[test]
    fn dockerfile_commands() {
        let v = one(
            ConfigKind::Dockerfile,
            "ARG V=1\nFROM --platform=linux/amd64 golang:1.22 AS build\nENV A=1 B=\"two words\"\nRUN go build \\\n  ./...\n\nFROM scratch\nCOPY --from=build /out /bin/app\nCMD [\"/bin/app\", \"-v\"]\n",
        );
        let cmd = |stage: usize, i: usize| v["Stages"][stage]["Commands"][i].clone();
        let cases = [
            (cmd(0, 0), json!({"Cmd": "arg", "Value": ["V=1"], "StartLine": 1, "EndLine": 1, "JSON": false})),
            (
                cmd(0, 1),
                json!({"Cmd": "from", "Flags": ["--platform=linux/amd64"], "Value": ["golang:1.22", "AS", "build"],
                       "Original": "FROM --platform=linux/amd64 golang:1.22 AS build", "Stage": 0}),
            ),
            (cmd(0, 2), json!({"Cmd": "env", "Value": ["A", "1", "B", "two words"]})),
            (
                cmd(0, 3),
                json!({"Cmd": "run", "StartLine": 4, "EndLine": 5, "Original": "RUN go build \\\n  ./..."}),
            ),
            (
                cmd(1, 1),
                json!({"Cmd": "copy", "Flags": ["--from=build"], "Value": ["/out", "/bin/app"], "Stage": 1}),
            ),
            (cmd(1, 2), json!({"Cmd": "cmd", "Value": ["/bin/app", "-v"], "JSON": true, "Path": "f"})),
        ];
        for (got, want) in cases {
            for (k, w) in want.as_object().unwrap() {
                assert_eq!(&got[k], w, "{k} of {got}");
            }
        }
        assert_eq!(v["Stages"][1]["Name"], "scratch");
        assert!(cmd(0, 3)["Value"][0].as_str().unwrap().starts_with("go build"));
    }

    #[test]
    fn kubernetes_objects_with_typed_scalars() {
        let docs = rego_inputs(
            ConfigKind::Kubernetes,
            "f",
            b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    hostNetwork: yes\n    priority: 10\n    x: '10'\n    y: ~\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].resource, "Pod/a");
        assert_eq!(docs[0].value["spec"], json!({"hostNetwork": true, "priority": 10, "x": "10", "y": null}));
        assert!(rego_inputs(ConfigKind::Kubernetes, "f", b"name: ci\non: push\n").unwrap().is_empty());
        assert!(matches!(
            rego_inputs(ConfigKind::Kubernetes, "f", b"a: [\n"),
            Err(ConfigError::Malformed { line: Some(_), .. })
        ));
    }

    #[test]
    fn terraform_resources() {
        let v = one(
            ConfigKind::Terraform,
            "locals {\n  n = 3\n}\nresource \"aws_instance\" \"web\" {\n  count = local.n\n  ami   = data.aws_ami.x.id\n  ebs_block_device {\n    encrypted = false\n  }\n}\ndata \"aws_ami\" \"x\" {\n  most_recent = true\n}\n",
        );
        assert_eq!(v["resource"]["aws_instance"]["web"]["count"], 3);
        assert_eq!(v["resource"]["aws_instance"]["web"]["ami"], Json::Null);
        assert_eq!(v["resource"]["aws_instance"]["web"]["ebs_block_device"], json!([{"encrypted": false}]));
        assert_eq!(v["data"]["aws_ami"]["x"]["most_recent"], true);
        assert_eq!(v["__lines__"]["aws_instance.web"], json!([4, 10]));
        assert_eq!(v["__lines__"]["data.aws_ami.x"], json!([11, 13]));
    }
}
