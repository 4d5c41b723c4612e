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

use std::path::Path;

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

/// A `resource` or `data` block.
pub(crate) struct Resource {
    /// `aws_db_instance.main`, `data.aws_iam_policy_document.admin`.
    pub(crate) address: String,
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
            if a.refs.contains(&target.address) || (name.is_some() && a.value.as_str() == name) {
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
}

impl Sink<'_> {
    pub(crate) fn fail(&mut self, (start, end): (u32, u32), message: String) {
        let check = self.check;
        let primary_url = match check.id.strip_prefix("AVD-") {
            Some(_) => format!("https://avd.aquasec.com/misconfig/{}", check.id.to_ascii_lowercase()),
            None => String::new(),
        };
        self.failures.push(Misconfiguration {
            kind: "Terraform Security Check".into(),
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
                resource: self.address.to_string(),
                provider: check.provider.into(),
                service: check.service.into(),
                start_line: start,
                end_line: end,
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
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        malformed(Some(u32::try_from(e.location().line()).unwrap_or(u32::MAX)), e.message().to_string())
    })?;
    let siblings = read_siblings(path);
    let sibling_bodies: Vec<(Body, Lines)> = siblings
        .iter()
        .filter_map(|text| Some((hcl_edit::parser::parse_body(text).ok()?, Lines::new(text))))
        .collect();
    let scope = Scope::new(std::iter::once(&body).chain(sibling_bodies.iter().map(|(b, _)| b)));

    let resource = |block: Block, own: bool| {
        let kind = match block.ident.as_str() {
            "data" => format!("data.{}", block.labels[0]),
            _ => block.labels[0].clone(),
        };
        Resource { address: format!("{kind}.{}", block.labels[1]), kind, block, own }
    };
    let mut resources: Vec<Resource> =
        scope.resources(&body, &Lines::new(text)).into_iter().map(|b| resource(b, true)).collect();
    for (body, lines) in &sibling_bodies {
        resources.extend(scope.resources(body, lines).into_iter().map(|b| resource(b, false)));
    }
    let module = Module { resources };

    let mut outcome = Outcome { applicable: true, ..Outcome::default() };
    for res in module.resources.iter().filter(|r| r.own) {
        for check in all().filter(|c| c.types.contains(&res.kind.as_str())) {
            let mut sink =
                Sink { check, address: &res.address, failures: &mut outcome.failures, undecided: false };
            let before = sink.failures.len();
            (check.run)(res, &module, &mut sink);
            if !sink.undecided && outcome.failures.len() == before {
                outcome.successes += 1;
            }
        }
    }
    outcome
        .failures
        .sort_by(|a, b| (a.cause_metadata.start_line, &a.id).cmp(&(b.cause_metadata.start_line, &b.id)));
    Ok(outcome)
}

/// The other `*.tf` files beside `path`, when it is a file on disk; within
/// the count and size bounds, in name order so results are stable.
fn read_siblings(path: &Path) -> Vec<String> {
    let (Some(dir), Some(own)) = (path.parent(), path.file_name()) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return Vec::new();
    };
    if !path.is_file() {
        return Vec::new();
    }
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name() != Some(own) && p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    names.sort();
    let mut budget = MAX_SIBLING_BYTES;
    let mut out = Vec::new();
    for p in names.into_iter().take(MAX_SIBLINGS) {
        let Ok(len) = p.metadata().map(|m| m.len()) else { continue };
        if len > budget {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&p) {
            budget -= len;
            out.push(text);
        }
    }
    out
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
