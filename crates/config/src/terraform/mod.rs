//! Terraform checks on `*.tf` files: HCL parsed with positions, values
//! evaluated as far as they are statically known, findings at the line of
//! the offending attribute (the block when the attribute is missing).
//!
//! A file is read with its module: the other `*.tf` files of its directory
//! supply variable defaults, locals and companion resources (an S3 bucket's
//! `aws_s3_bucket_public_access_block` often lives in another file).
//! Findings are only reported for the resources of the scanned file.
//! Successes count (check, resource) pairs that passed; a check that cannot
//! tell (an unknown value) counts neither way.

mod aws;
mod cloud;
pub(crate) mod hcl;
mod json;

use std::path::Path;

use hcl_edit::Span as _;
use hcl_edit::structure::Body;
use rampart_types::{CauseMetadata, Misconfiguration, Severity};

use crate::{CheckInfo, ConfigError, ConfigKind, Outcome};
use hcl::{Attr, Block, Lines, Scope, Value};

/// Sibling files read per scan, and their total size: enough for any real
/// module, bounded for a directory of generated files.
const MAX_SIBLINGS: usize = 64;
const MAX_SIBLING_BYTES: u64 = 4 << 20;

pub(crate) struct Check {
    pub(crate) id: &'static str,
    pub(crate) severity: Severity,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) resolution: &'static str,
    /// `AWS`, `Google`, `Azure`, as in Trivy's cause metadata.
    pub(crate) provider: &'static str,
    pub(crate) service: &'static str,
    /// Resource types checked; data sources as `data.<type>`.
    pub(crate) types: &'static [&'static str],
    pub(crate) run: fn(&Resource, &Module, &mut Sink<'_>),
}

/// Every check, AWS first.
fn all() -> impl Iterator<Item = &'static Check> {
    aws::CHECKS.iter().copied().chain(cloud::CHECKS.iter().copied())
}

/// A `resource` or `data` block (one instance of it, for `count` and
/// `for_each`).
pub(crate) struct Resource {
    /// `aws_db_instance.main`, `data.aws_iam_policy_document.admin`,
    /// `aws_s3_bucket.logs["eu"]`.
    pub(crate) address: String,
    /// The address without the instance key, as other resources refer to it.
    name: String,
    /// The type, prefixed `data.` for data sources.
    pub(crate) kind: String,
    pub(crate) block: Block,
    /// Whether it is in the scanned file (not a sibling).
    own: bool,
}

/// The resources of the scanned file and its siblings.
pub(crate) struct Module {
    resources: Vec<Resource>,
}

/// What companion resources of one kind say about a target resource.
pub(crate) enum Companion<'a> {
    Found(&'a Resource),
    /// Some companion's target is unknown: it may be this one.
    Unknown,
    None,
}

impl Module {
    /// The first resource of `kind` whose `attr` refers to `target` (by
    /// reference, or by a literal equal to the target's `name_attr`).
    pub(crate) fn companion(
        &self,
        kind: &str,
        attr: &str,
        target: &Resource,
        name_attr: &str,
    ) -> Companion<'_> {
        let name = target.block.str(name_attr);
        let mut unknown = false;
        for r in self.resources.iter().filter(|r| r.kind == kind) {
            let Some(a) = r.block.attr(attr) else { continue };
            if a.refs.contains(&target.name) || (name.is_some() && a.value.as_str() == name) {
                return Companion::Found(r);
            }
            unknown |= a.refs.is_empty() && a.value == Value::Unknown;
        }
        if unknown { Companion::Unknown } else { Companion::None }
    }
}

/// Collects the failures of one check on one resource.
pub(crate) struct Sink<'a> {
    check: &'static Check,
    address: &'a str,
    failures: &'a mut Vec<Misconfiguration>,
    /// Set when the check could not decide or does not apply.
    undecided: bool,
    /// For a resource of a called module: the call it is reported at.
    via: Option<&'a Via>,
}

/// Where the resources of a called module are reported: at the `module`
/// block of the scanned file, naming the module's own file and line.
pub(crate) struct Via {
    /// `module.db.`, `module.app.module.db.` for nested calls.
    prefix: String,
    /// The lines of the outermost `module` block in the scanned file.
    span: (u32, u32),
    /// The module's directory as the user would write it.
    dir: String,
}

impl Sink<'_> {
    pub(crate) fn fail(&mut self, (start, end): (u32, u32), message: String) {
        let (start, end, message) = match self.via {
            Some(via) => (via.span.0, via.span.1, format!("{message} (in module {}, line {start})", via.dir)),
            None => (start, end, message),
        };
        let check = self.check;
        let primary_url = match check.id.strip_prefix("AVD-") {
            Some(_) => format!("https://avd.aquasec.com/misconfig/{}", check.id.to_ascii_lowercase()),
            None => String::new(),
        };
        self.failures.push(Misconfiguration {
            kind: crate::ConfigKind::Terraform.check_kind().into(),
            id: check.id.into(),
            title: check.title.into(),
            description: check.description.into(),
            message,
            resolution: check.resolution.into(),
            severity: check.severity,
            references: if primary_url.is_empty() { Vec::new() } else { vec![primary_url.clone()] },
            primary_url,
            status: "FAIL".into(),
            cause_metadata: CauseMetadata {
                resource: match self.via {
                    Some(via) => format!("{}{}", via.prefix, self.address),
                    None => self.address.to_string(),
                },
                provider: check.provider.into(),
                service: check.service.into(),
                start_line: start,
                end_line: end,
                template: String::new(),
            },
        });
    }

    /// The check cannot tell for this resource (or does not apply to it).
    pub(crate) fn undecided(&mut self) {
        self.undecided = true;
    }

    /// `name` as written in messages: `metadata_options.http_tokens` for
    /// attributes of nested blocks.
    fn path(block: &Block, name: &str) -> String {
        match block.ident.as_str() {
            "resource" | "data" => name.to_string(),
            nested => format!("{nested}.{name}"),
        }
    }

    /// Fails unless bool `name` of `block` is `want`; `default` is what the
    /// provider uses when it is unset.
    pub(crate) fn expect_bool(&mut self, block: &Block, name: &str, want: bool, default: bool) {
        let path = Self::path(block, name);
        match block.attr(name) {
            None if default == want => {}
            None => self
                .fail(block.span(), format!("{} does not set {path} (defaults to {default})", self.address)),
            Some(a) => match a.value.as_bool() {
                Some(v) if v == want => {}
                Some(v) => self.fail(a.span(), format!("{} sets {path} = {v}", self.address)),
                None => self.undecided(),
            },
        }
    }

    /// Fails when string `name` of `block` is one of `bad` (ignoring case).
    pub(crate) fn reject_str(&mut self, block: &Block, name: &str, bad: &[&str]) {
        let Some(a) = block.attr(name) else { return };
        match a.value.as_str() {
            Some(v) if bad.iter().any(|b| b.eq_ignore_ascii_case(v)) => {
                let path = Self::path(block, name);
                self.fail(a.span(), format!("{} sets {path} = \"{v}\"", self.address));
            }
            Some(_) => {}
            None => self.undecided(),
        }
    }

    /// Fails at the block when it has no `ident` child (and no dynamic one).
    /// Returns the child when present.
    pub(crate) fn require_block<'b>(&mut self, block: &'b Block, ident: &str) -> Option<&'b Block> {
        if let Some(child) = block.child(ident) {
            return Some(child);
        }
        if block.has_dynamic(ident) {
            self.undecided();
        } else {
            self.fail(block.span(), format!("{} has no {} block", self.address, Self::path(block, ident)));
        }
        None
    }

    pub(crate) fn address(&self) -> &str {
        self.address
    }
}

/// Whether an attribute's value is known to hold `0.0.0.0/0` or `::/0`;
/// `None` when unknown.
pub(crate) fn is_open_cidr(attr: &Attr) -> Option<bool> {
    Some(attr.value.strings()?.iter().any(|c| matches!(c.trim(), "0.0.0.0/0" | "::/0")))
}

pub(crate) fn scan(path: &Path, display: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    let malformed = |line: Option<u32>, message: String| ConfigError::Malformed {
        path: display.to_string(),
        line,
        message,
    };
    let text = std::str::from_utf8(content).map_err(|e| malformed(None, format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let converted = match is_json(display) {
        true => Some(json::to_hcl(text).map_err(|(line, message)| malformed(Some(line), message))?),
        false => None,
    };
    let text = converted.as_ref().map_or(text, |c| c.text.as_str());
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        malformed(Some(u32::try_from(e.location().line()).unwrap_or(u32::MAX)), e.message().to_string())
    })?;
    // The rest of the module, when the file is on disk.
    let module_files = match (path.parent(), path.file_name()) {
        (Some(dir), Some(own)) if path.is_file() => read_module(dir, Some(own)),
        _ => ModuleFiles::default(),
    };
    let sibling_bodies: Vec<(Body, Lines)> = module_files
        .tf
        .iter()
        .filter_map(|text| Some((hcl_edit::parser::parse_body(text).ok()?, Lines::new(text))))
        .collect();
    let tfvars: Vec<Body> =
        module_files.tfvars.iter().filter_map(|text| hcl_edit::parser::parse_body(text).ok()).collect();
    let scope = Scope::new(std::iter::once(&body).chain(sibling_bodies.iter().map(|(b, _)| b)), &tfvars);
    let lines = Lines::new(text);
    let mut resources: Vec<Resource> =
        scope.resources(&body, &lines).into_iter().map(|b| resource(b, true)).collect();
    for (body, lines) in &sibling_bodies {
        resources.extend(scope.resources(body, lines).into_iter().map(|b| resource(b, false)));
    }
    let module = Module { resources };

    let mut outcome = Outcome { applicable: true, ..Outcome::default() };
    run_checks(&module, None, &mut outcome);
    let dir = path.parent().unwrap_or(Path::new(""));
    let shown_dir = display.rsplit_once('/').map_or("", |(d, _)| d);
    for (call, source) in local_calls(&body) {
        let via = Via {
            prefix: format!("module.{}.", label(call)),
            span: lines.span(call.span()),
            dir: join_shown(shown_dir, source),
        };
        check_call(call, &scope, &dir.join(source), &via, 1, &mut outcome);
    }
    if let Some(converted) = &converted {
        for f in &mut outcome.failures {
            f.cause_metadata.start_line = converted.source_line(f.cause_metadata.start_line);
            f.cause_metadata.end_line = converted.source_line(f.cause_metadata.end_line);
        }
    }
    outcome
        .failures
        .sort_by(|a, b| (a.cause_metadata.start_line, &a.id).cmp(&(b.cause_metadata.start_line, &b.id)));
    Ok(outcome)
}

/// A resource model from a `resource` or `data` block; `own` when it is in
/// the file whose findings are reported.
fn resource(block: Block, own: bool) -> Resource {
    let kind = match block.ident.as_str() {
        "data" => format!("data.{}", block.labels[0]),
        _ => block.labels[0].clone(),
    };
    let name = format!("{kind}.{}", block.labels[1]);
    let address = format!("{name}{}", block.instance.as_deref().unwrap_or_default());
    Resource { address, name, kind, block, own }
}

/// Runs every check on the module's own resources.
fn run_checks(module: &Module, via: Option<&Via>, outcome: &mut Outcome) {
    for res in module.resources.iter().filter(|r| r.own) {
        for check in all().filter(|c| c.types.contains(&res.kind.as_str())) {
            let mut sink =
                Sink { check, address: &res.address, failures: &mut outcome.failures, undecided: false, via };
            let before = sink.failures.len();
            (check.run)(res, module, &mut sink);
            if !sink.undecided && outcome.failures.len() == before {
                outcome.successes += 1;
            }
        }
    }
}

/// How deep module calls are followed.
const MAX_MODULE_DEPTH: u32 = 4;

/// The first label of a block (a module call's name).
fn label(block: &hcl_edit::structure::Block) -> &str {
    match &block.labels[0] {
        hcl_edit::structure::BlockLabel::Ident(i) => i.as_str(),
        hcl_edit::structure::BlockLabel::String(s) => s.value(),
    }
}

/// The `module` blocks of a body whose `source` is a local directory.
fn local_calls(body: &Body) -> Vec<(&hcl_edit::structure::Block, &str)> {
    body.blocks()
        .filter(|b| b.ident.as_str() == "module" && b.labels.len() == 1)
        .filter_map(|b| {
            let source = b.body.get_attribute("source")?.value.as_str()?;
            (source.starts_with("./") || source.starts_with("../")).then_some((b, source))
        })
        .collect()
}

/// `dir/source` as the user would write it, `..` resolved where it can be.
fn join_shown(dir: &str, source: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// Checks the resources of a called local module with the values the call
/// passes for its variables, reporting them at the outermost call.
fn check_call(
    call: &hcl_edit::structure::Block,
    caller: &Scope<'_>,
    dir: &Path,
    via: &Via,
    depth: u32,
    outcome: &mut Outcome,
) {
    const META: &[&str] = &["source", "version", "count", "for_each", "providers", "depends_on"];
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    let inputs = call
        .body
        .attributes()
        .filter(|a| !META.contains(&a.key.as_str()))
        .map(|a| (a.key.as_str().to_string(), caller.value(&a.value)))
        .collect();
    // A called module gets only its variables' defaults and the call's values, no .tfvars.
    let texts = read_module(dir, None).tf;
    let bodies: Vec<(Body, Lines)> = texts
        .iter()
        .filter_map(|text| Some((hcl_edit::parser::parse_body(text).ok()?, Lines::new(text))))
        .collect();
    let scope = Scope::new(bodies.iter().map(|(b, _)| b), &[]).with_inputs(inputs);
    let resources = bodies
        .iter()
        .flat_map(|(body, lines)| scope.resources(body, lines))
        .map(|b| resource(b, true))
        .collect();
    run_checks(&Module { resources }, Some(via), outcome);
    for (body, _) in &bodies {
        for (inner, source) in local_calls(body) {
            let nested = Via {
                prefix: format!("{}module.{}.", via.prefix, label(inner)),
                span: via.span,
                dir: join_shown(&via.dir, source),
            };
            check_call(inner, &scope, &dir.join(source), &nested, depth + 1, outcome);
        }
    }
}

/// The rest of a file's module: the other `*.tf` files beside it, and the
/// variable files Terraform loads by itself (`terraform.tfvars`, then
/// `*.auto.tfvars` by name).
#[derive(Default)]
struct ModuleFiles {
    tf: Vec<String>,
    tfvars: Vec<String>,
}

/// Whether a file is in Terraform's JSON syntax.
fn is_json(name: &str) -> bool {
    name.ends_with(".tf.json")
}

/// Reads the `*.tf` (and `*.tf.json`) files of a module directory (but `own`, the file being
/// scanned) and its `.tfvars`; within the count and size bounds, in name
/// order so results are stable.
fn read_module(dir: &Path, own: Option<&std::ffi::OsStr>) -> ModuleFiles {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return ModuleFiles::default();
    };
    let mut tf = Vec::new();
    let mut tfvars = Vec::new();
    for p in entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()) {
        let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if (name.ends_with(".tf") || is_json(&name)) && p.file_name() != own {
            tf.push(p);
        } else if name == "terraform.tfvars" || name.ends_with(".auto.tfvars") {
            // terraform.tfvars loads first, then the others by name.
            tfvars.push((name != "terraform.tfvars", p));
        }
    }
    tf.sort();
    tfvars.sort();
    let mut budget = MAX_SIBLING_BYTES;
    let mut read = |p: &Path| -> Option<String> {
        let len = p.metadata().ok()?.len();
        if len > budget {
            return None;
        }
        let text = std::fs::read_to_string(p).ok()?;
        budget -= len;
        if is_json(&p.to_string_lossy()) { json::to_hcl(&text).ok().map(|c| c.text) } else { Some(text) }
    };
    ModuleFiles {
        tf: tf.iter().take(MAX_SIBLINGS).filter_map(|p| read(p)).collect(),
        tfvars: tfvars.iter().take(MAX_SIBLINGS).filter_map(|(_, p)| read(p)).collect(),
    }
}

pub(crate) fn checks() -> Vec<CheckInfo> {
    all()
        .map(|c| CheckInfo {
            id: c.id,
            kind: ConfigKind::Terraform,
            title: c.title,
            severity: c.severity,
            description: c.description,
            resolution: c.resolution,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn catalogue_is_complete_and_unique() {
        let all: Vec<_> = all().collect();
        assert!(all.len() >= 20, "{}", all.len());
        let ids: HashSet<_> = all.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        for c in &all {
            assert!(c.id.starts_with("AVD-") || c.id.starts_with("RPT-TF-"), "{}", c.id);
            assert!(c.description.len() > 40 && !c.resolution.is_empty() && !c.types.is_empty(), "{}", c.id);
            assert_ne!(c.severity, Severity::Unknown, "{}", c.id);
        }
    }
}
