//! ConstraintTemplates: their Rego compiled once per set of inventory data.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{CompiledPolicy, Engine, Rc};
use serde_json::Value as Json;

use crate::yaml::str_at;
use crate::{Error, LoadWarning};

/// The Gatekeeper target whose code we run.
const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// What a template's Rego may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegoVersion {
    V0,
    V1,
}

/// The parts of a ConstraintTemplate needed to evaluate it.
#[derive(Clone, Debug)]
pub(crate) struct TemplateSource {
    /// `spec.crd.spec.names.kind`: the kind of its constraints.
    pub kind: String,
    pub source: String,
    pub version: RegoVersion,
    /// The main module first, then the libs.
    pub modules: Vec<String>,
    /// `spec.crd.spec.validation.openAPIV3Schema`, describing `spec.parameters`.
    pub schema: Option<Json>,
}

/// Outcome of reading a template document.
pub(crate) enum Parsed {
    Rego(TemplateSource),
    /// A valid template we cannot run (CEL only, external data); the kind is
    /// remembered so its constraints are skipped with a warning, not an error.
    Unsupported {
        kind: String,
        warning: LoadWarning,
    },
}

fn invalid(source: &str, message: impl Into<String>) -> Error {
    Error::Invalid { source_name: source.to_string(), message: message.into() }
}

pub(crate) fn parse(doc: &Json, source: &str) -> Result<Parsed, Error> {
    if str_at(doc, &["kind"]) != Some("ConstraintTemplate") {
        return Err(invalid(source, "not a ConstraintTemplate (kind must be ConstraintTemplate)"));
    }
    let name = str_at(doc, &["metadata", "name"])
        .ok_or_else(|| invalid(source, "ConstraintTemplate has no metadata.name"))?;
    let kind = str_at(doc, &["spec", "crd", "spec", "names", "kind"])
        .filter(|k| !k.is_empty())
        .ok_or_else(|| invalid(source, format!("template {name}: spec.crd.spec.names.kind is missing")))?;
    // Gatekeeper requires the template name to be the lower-cased kind.
    if name != kind.to_ascii_lowercase() {
        return Err(invalid(
            source,
            format!(
                "template {name}: metadata.name must be the lower-case kind `{}`",
                kind.to_ascii_lowercase()
            ),
        ));
    }
    let targets = doc
        .pointer("/spec/targets")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid(source, format!("template {name}: spec.targets is missing")))?;
    if targets.len() != 1 {
        return Err(invalid(source, format!("template {name}: spec.targets must hold exactly one target")));
    }
    let target = &targets[0];
    let target_name = str_at(target, &["target"]).unwrap_or_default();
    if target_name != ADMISSION_TARGET {
        return Err(invalid(
            source,
            format!("template {name}: target `{target_name}` is not {ADMISSION_TARGET}"),
        ));
    }
    let schema = doc.pointer("/spec/crd/spec/validation/openAPIV3Schema").cloned();

    let mut version = RegoVersion::V0;
    let mut modules = Vec::new();
    let mut other_engines = Vec::new();
    if let Some(code) = target.get("code").and_then(Json::as_array) {
        for entry in code {
            let engine = str_at(entry, &["engine"]).unwrap_or_default();
            if engine != "Rego" {
                other_engines.push(engine.to_string());
                continue;
            }
            let src = entry.get("source").unwrap_or(&Json::Null);
            let rego = str_at(src, &["rego"]).ok_or_else(|| {
                invalid(source, format!("template {name}: code[Rego].source.rego is missing"))
            })?;
            if str_at(src, &["version"]) == Some("v1") {
                version = RegoVersion::V1;
            }
            modules.push(rego.to_string());
            modules.extend(string_list(src.get("libs"), source, name)?);
        }
    }
    if modules.is_empty()
        && let Some(rego) = str_at(target, &["rego"])
    {
        modules.push(rego.to_string());
        modules.extend(string_list(target.get("libs"), source, name)?);
    }
    if modules.is_empty() {
        let what = if other_engines.is_empty() {
            "has no Rego".to_string()
        } else {
            format!("has only {} code, which is unsupported", other_engines.join(", "))
        };
        return Ok(Parsed::Unsupported {
            kind: kind.to_string(),
            warning: LoadWarning {
                source: source.to_string(),
                message: format!("template {name} (kind {kind}) {what}; its constraints are not enforced"),
            },
        });
    }
    if modules.iter().any(|m| uses_external_data(m)) {
        return Ok(Parsed::Unsupported {
            kind: kind.to_string(),
            warning: LoadWarning {
                source: source.to_string(),
                message: format!(
                    "template {name} (kind {kind}) calls Gatekeeper's external_data builtin, which is unsupported; \
                     its constraints are not enforced"
                ),
            },
        });
    }
    Ok(Parsed::Rego(TemplateSource {
        kind: kind.to_string(),
        source: source.to_string(),
        version,
        modules,
        schema,
    }))
}

fn string_list(v: Option<&Json>, source: &str, name: &str) -> Result<Vec<String>, Error> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let items =
        v.as_array().ok_or_else(|| invalid(source, format!("template {name}: libs must be a list")))?;
    items
        .iter()
        .map(|l| {
            l.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(source, format!("template {name}: libs must be strings")))
        })
        .collect()
}

pub(crate) fn declares_v1(rego: &str) -> bool {
    rego.lines().any(|l| l.trim() == "import rego.v1")
}

fn uses_external_data(rego: &str) -> bool {
    rego.match_indices("external_data").any(|(at, _)| {
        let before = rego[..at].chars().next_back();
        let after = rego[at + "external_data".len()..].trim_start();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') && after.starts_with('(')
    })
}

/// A template compiled against the current inventory.
pub(crate) struct Template {
    pub src: TemplateSource,
    pub policy: CompiledPolicy,
    /// The same policy for rampart's evaluator, which memoises functions;
    /// `None` when it does not handle the Rego (regorus runs it then).
    pub memoised: Option<rampart_rego::Policy>,
    /// Set once an evaluation met what the evaluator leaves to regorus, so
    /// later ones go to regorus directly instead of starting twice.
    memoised_refused: AtomicBool,
    /// The same policy as bytecode for regorus's VM; `None` when the VM
    /// compiler refuses it and the tree-walking interpreter runs it instead.
    pub program: Option<Arc<Program>>,
    pub data: regorus::Value,
    /// Whether results may be reused for an identical input: false when the
    /// Rego calls a builtin whose result varies.
    pub cacheable: bool,
    /// Whether the Rego may read the request's uid (then it is part of the
    /// decision-cache key).
    pub reads_uid: bool,
    /// The parts of `input.review` the Rego reads; `None` when it may read
    /// all of it.
    pub reads: Option<Vec<crate::reads::Path>>,
    /// Idle VMs with the program and data loaded. Each run resets a VM's
    /// state, and a reused one keeps its register and stack allocations.
    idle: Mutex<Vec<RegoVM>>,
}

/// Instructions one evaluation may run in the VM; far above what any
/// library template needs, low enough to stop a runaway policy.
const MAX_INSTRUCTIONS: usize = 50_000_000;

/// Idle VMs kept per template: one per thread that evaluates at once.
const MAX_IDLE_VMS: usize = 8;

/// VM instructions between clock reads when a deadline is set.
const TIMER_CHECK_INTERVAL: NonZeroU32 = NonZeroU32::new(1024).unwrap();

// Evaluation shares the compiled policy between threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledPolicy>();
};

impl Template {
    /// Compile the modules with `data` (the inventory document) as base data.
    pub fn compile(src: TemplateSource, data: &regorus::Value) -> Result<Template, Error> {
        let rego_error = |message: String| Error::Rego {
            source_name: src.source.clone(),
            template: src.kind.clone(),
            message,
        };
        let mut engine = Engine::new();
        engine.set_rego_v0(src.version == RegoVersion::V0);
        // A failing builtin is undefined, as in OPA, the VM and rampart's evaluator.
        engine.set_strict_builtin_errors(false);
        let mut package = None;
        let mut texts = Vec::with_capacity(src.modules.len());
        for (i, module) in src.modules.iter().enumerate() {
            let label =
                if i == 0 { format!("{}.rego", src.kind) } else { format!("{}.lib{i}.rego", src.kind) };
            let mut text = crate::compat::sprintf_arity(module);
            let v1 = src.version == RegoVersion::V1 || declares_v1(module);
            if !v1 {
                text = crate::compat::rewrite_v0(&text);
            }
            text = crate::compat::fold_constant_functions(&text, v1);
            let pkg =
                engine.add_policy(label.clone(), text.clone()).map_err(|e| rego_error(format!("{e:#}")))?;
            texts.push((label, text));
            if i == 0 {
                package = Some(pkg);
            }
        }
        let package = package.ok_or_else(|| rego_error("no Rego module".to_string()))?;
        if package.starts_with("data.lib.") || package == "data.lib" {
            return Err(rego_error(format!("the main module's package `{package}` is reserved for libs")));
        }
        if !engine
            .has_declared_rule_rooted_at(&format!("{}.rego", src.kind), "violation")
            .map_err(|e| rego_error(format!("{e:#}")))?
        {
            return Err(rego_error("the main module does not define a `violation` rule".to_string()));
        }
        // Whatever the AST cannot tell is read as everything.
        let reads = engine
            .get_ast_as_json()
            .ok()
            .and_then(|ast| serde_json::from_str(&ast).ok())
            .and_then(|ast| crate::reads::review_reads(&ast));
        engine.add_data(data.clone()).map_err(|e| rego_error(format!("inventory: {e:#}")))?;
        let entry: Rc<str> = format!("{package}.violation").into();
        let policy = engine.compile_with_entrypoint(&entry).map_err(|e| rego_error(format!("{e:#}")))?;
        let program = if std::env::var_os("RAMPART_REGO_INTERPRETER").is_some() {
            None
        } else {
            Compiler::compile_from_policy(&policy, &[&entry]).ok()
        };
        let modules: Vec<rampart_rego::Module<'_>> = texts
            .iter()
            .map(|(label, text)| rampart_rego::Module { label, text, v1: src.version == RegoVersion::V1 })
            .collect();
        let memoised = rampart_rego::Policy::compile(&modules, &entry).ok();
        let cacheable =
            !src.modules.iter().any(|m| rampart_rego::VOLATILE_BUILTINS.iter().any(|b| m.contains(b)));
        // Rego whose reads are not known may reach the uid without naming it
        // (`input.review[k]`), so it is keyed with the uid too.
        let reads_uid = reads.as_ref().is_none_or(|paths| {
            paths.iter().any(|p| matches!(p.first(), Some(crate::reads::Step::Key(k)) if k == "uid"))
        });
        Ok(Template {
            src,
            policy,
            memoised,
            memoised_refused: AtomicBool::new(false),
            program,
            data: data.clone(),
            cacheable,
            reads_uid,
            reads,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Evaluate the `violation` rule for one input, with rampart's evaluator
    /// where it handles the Rego, else regorus's; both stop at `deadline`
    /// (regorus's interpreter, the last fallback, runs to completion).
    pub fn eval(&self, input: regorus::Value, deadline: Option<Instant>) -> Result<regorus::Value, String> {
        if let Some(policy) =
            self.memoised.as_ref().filter(|_| !self.memoised_refused.load(Ordering::Relaxed))
        {
            match policy.eval(&self.data, &input, deadline) {
                Ok(v) => return Ok(v),
                Err(rampart_rego::Error::Unsupported(_)) => {
                    self.memoised_refused.store(true, Ordering::Relaxed)
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        self.eval_with_regorus(input, deadline)
    }

    /// [`Template::eval`] on regorus alone.
    fn eval_with_regorus(
        &self,
        input: regorus::Value,
        deadline: Option<Instant>,
    ) -> Result<regorus::Value, String> {
        match &self.program {
            Some(program) => {
                let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let mut vm = match idle {
                    Some(vm) => vm,
                    None => {
                        let mut vm = RegoVM::new();
                        vm.set_max_instructions(MAX_INSTRUCTIONS);
                        vm.load_program(Arc::clone(program));
                        vm.set_data(self.data.clone()).map_err(|e| format!("{e:#}"))?;
                        vm
                    }
                };
                let mut timer = None;
                if let Some(deadline) = deadline {
                    let limit = deadline.saturating_duration_since(Instant::now());
                    if limit.is_zero() {
                        return Err("the evaluation deadline passed".to_string());
                    }
                    timer = Some(ExecutionTimerConfig { limit, check_interval: TIMER_CHECK_INTERVAL });
                }
                vm.set_execution_timer_config(timer);
                vm.set_input(input);
                let result = vm.execute().map_err(|e| e.to_string());
                // The input is not kept alive by an idle VM.
                vm.set_input(regorus::Value::Undefined);
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                if result.is_ok() && idle.len() < MAX_IDLE_VMS {
                    idle.push(vm);
                }
                result
            }
            None => self.policy.eval_with_input(input).map_err(|e| format!("{e:#}")),
        }
    }
}
