//! Rego policies: OPA Gatekeeper ConstraintTemplates and Constraints evaluated
//! against admission requests, and the Gatekeeper `Suite` test runner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use serde_json::Value as Json;

mod cache;
pub mod checks;
mod compat;
mod constraint;
mod reads;
mod schema;
pub mod suite;
mod template;
mod yaml;

use constraint::{Constraint, MatchError, Target};
use template::{Parsed, Template, TemplateSource};
use yaml::str_at;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{source_name}: invalid YAML: {message}")]
    Yaml { source_name: String, message: String },
    /// A document is not a valid ConstraintTemplate / Constraint / Suite.
    #[error("{source_name}: {message}")]
    Invalid { source_name: String, message: String },
    /// Constraint parameters that do not fit the template's schema.
    #[error(
        "{source_name}: constraint {constraint}: parameters do not match the template's schema: {message}"
    )]
    Schema { source_name: String, constraint: String, message: String },
    /// Rego that does not compile, with the template it came from.
    #[error("{source_name}: template {template}: {message}")]
    Rego { source_name: String, template: String, message: String },
    /// A custom configuration check that does not compile.
    #[error("{source_name}: {message}")]
    Check { source_name: String, message: String },
    /// Evaluation failed at review time.
    #[error("constraint {template}/{constraint}: {message}")]
    Eval { template: String, constraint: String, message: String },
    /// The request is not an AdmissionRequest we can review.
    #[error("invalid admission request: {0}")]
    Request(String),
}

/// Something that loaded with a caveat (a CEL-only template, a constraint
/// whose template is missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnforcementAction {
    Deny,
    Warn,
    Dryrun,
}

impl EnforcementAction {
    /// Gatekeeper's spelling (`deny`, `warn`, `dryrun`).
    pub fn as_str(self) -> &'static str {
        match self {
            EnforcementAction::Deny => "deny",
            EnforcementAction::Warn => "warn",
            EnforcementAction::Dryrun => "dryrun",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The template's constraint kind (`K8sRequiredLabels`).
    pub template: String,
    /// The constraint's `metadata.name`.
    pub constraint: String,
    pub message: String,
    pub action: EnforcementAction,
    pub details: Option<Json>,
}

/// Loaded ConstraintTemplates and Constraints. `Send + Sync`: `review` may be
/// called from many threads at once; templates are compiled once, when they
/// or the inventory change.
pub struct Gatekeeper {
    templates: BTreeMap<String, Template>,
    /// Kinds of templates that loaded but cannot run, with the reason.
    unsupported: BTreeMap<String, String>,
    /// Keyed by (kind, name), so results come in a stable order.
    constraints: BTreeMap<(String, String), Constraint>,
    /// `{"inventory": {...}}`: the base data every template is compiled with.
    data: regorus::Value,
    decisions: cache::DecisionCache,
    /// Results keyed by the parts of the review a template reads, so objects
    /// that differ elsewhere (replicas: name, uid) share them.
    by_reads: cache::DecisionCache,
    /// Rego evaluations run: reviews the caches could not answer.
    evaluations: std::sync::atomic::AtomicU64,
    /// Identifies constraint versions in the decision cache.
    next_seq: u64,
}

/// Distinct inputs whose decisions are kept by default.
const DEFAULT_CACHE_ENTRIES: usize = 1024;

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gatekeeper>();
};

/// JSON to a Rego value, built directly: going through serde's visitor
/// copies every key and string twice, and this runs once per review.
pub(crate) fn to_rego(v: &Json) -> regorus::Value {
    match v {
        Json::Null => regorus::Value::Null,
        Json::Bool(b) => regorus::Value::from(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => regorus::Value::from(u),
            (None, Some(i)) => regorus::Value::from(i),
            // serde_json parses no NaN or infinity, so every float is finite.
            _ => n.as_f64().map_or(regorus::Value::Undefined, regorus::Value::from),
        },
        Json::String(s) => regorus::Value::from(s.as_str()),
        Json::Array(items) => regorus::Value::from(items.iter().map(to_rego).collect::<Vec<_>>()),
        Json::Object(map) => {
            regorus::Value::from(map.iter().map(|(k, v)| (key(k), to_rego(v))).collect::<BTreeMap<_, _>>())
        }
    }
}

fn key(s: &str) -> regorus::Value {
    regorus::Value::from(s)
}

impl Default for Gatekeeper {
    fn default() -> Self {
        Self::new()
    }
}

impl Gatekeeper {
    pub fn new() -> Self {
        let mut g = Gatekeeper {
            templates: BTreeMap::new(),
            unsupported: BTreeMap::new(),
            constraints: BTreeMap::new(),
            data: regorus::Value::new_object(),
            decisions: cache::DecisionCache::new(DEFAULT_CACHE_ENTRIES),
            by_reads: cache::DecisionCache::new(DEFAULT_CACHE_ENTRIES),
            evaluations: Default::default(),
            next_seq: 0,
        };
        g.set_inventory(Vec::new());
        g
    }

    /// Keep the results for up to `entries` distinct inputs for reuse; 0
    /// turns the cache off. Inputs are compared byte for byte
    /// (the request uid excluded unless the template mentions it), and,
    /// for a template that reads only parts of `input.review`, those parts
    /// (so a Deployment's replicas share one evaluation); templates
    /// calling volatile builtins (`time.now_ns`, `rand.intn`…) are never cached.
    pub fn set_decision_cache(&mut self, entries: usize) {
        self.decisions = cache::DecisionCache::new(entries);
        self.by_reads = cache::DecisionCache::new(entries);
    }

    /// How many times a constraint's Rego has been evaluated: the reviews
    /// neither cache could answer, counted per constraint.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Cached results are stale once templates, constraints or the inventory change.
    fn forget_results(&mut self) {
        self.decisions.clear();
        self.by_reads.clear();
    }

    /// Templates that loaded and can run, by kind.
    pub fn template_kinds(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    /// Loaded constraints as (kind, name).
    pub fn constraints(&self) -> impl Iterator<Item = (&str, &str)> {
        self.constraints.keys().map(|(k, n)| (k.as_str(), n.as_str()))
    }

    /// Load every ConstraintTemplate and Constraint (YAML or JSON, multi-document)
    /// in a file, or in the `*.yaml`, `*.yml` and `*.json` files under a
    /// directory. Other documents (suites, sample objects) are skipped.
    /// Templates load before constraints, whatever the file order.
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<LoadWarning>, Error> {
        let mut files = Vec::new();
        collect_files(path, is_manifest, &mut files, 0)?;
        let mut templates = Vec::new();
        let mut constraints = Vec::new();
        for file in files {
            let source = file.display().to_string();
            for doc in yaml::read_documents(&file)? {
                let api = str_at(&doc, &["apiVersion"]).unwrap_or_default();
                let group = api.split('/').next().unwrap_or_default();
                if group == "templates.gatekeeper.sh" && str_at(&doc, &["kind"]) == Some("ConstraintTemplate")
                {
                    templates.push((doc, source.clone()));
                } else if group == "constraints.gatekeeper.sh" {
                    constraints.push((doc, source.clone()));
                }
            }
        }
        let mut warnings = Vec::new();
        for (doc, source) in &templates {
            warnings.extend(self.add_template(doc, source)?);
        }
        for (doc, source) in &constraints {
            let kind = str_at(doc, &["kind"]).unwrap_or_default();
            let name = str_at(doc, &["metadata", "name"]).unwrap_or_default();
            if self.unsupported.contains_key(kind) {
                warnings.push(LoadWarning {
                    source: source.clone(),
                    message: format!("constraint {kind}/{name} skipped: its template is unsupported"),
                });
            } else if !self.templates.contains_key(kind) {
                warnings.push(LoadWarning {
                    source: source.clone(),
                    message: format!(
                        "constraint {kind}/{name} skipped: no ConstraintTemplate defines kind {kind}"
                    ),
                });
            } else {
                self.add_constraint(doc, source)?;
            }
        }
        Ok(warnings)
    }

    /// Add (or replace) a ConstraintTemplate. A template without Rego (CEL
    /// only) or calling `external_data` loads with a warning and enforces nothing.
    pub fn add_template(&mut self, doc: &Json, source: &str) -> Result<Vec<LoadWarning>, Error> {
        match template::parse(doc, source)? {
            Parsed::Rego(src) => {
                let kind = src.kind.clone();
                let compiled = Template::compile(src, &self.data)?;
                self.unsupported.remove(&kind);
                self.templates.insert(kind, compiled);
                self.forget_results();
                Ok(Vec::new())
            }
            Parsed::Unsupported { kind, warning } => {
                self.templates.remove(&kind);
                self.unsupported.insert(kind, warning.message.clone());
                Ok(vec![warning])
            }
        }
    }

    /// Add (or replace) a Constraint; its template must be loaded first.
    pub fn add_constraint(&mut self, doc: &Json, source: &str) -> Result<(), Error> {
        let api = str_at(doc, &["apiVersion"]).unwrap_or_default();
        if api.split('/').next() != Some("constraints.gatekeeper.sh") {
            return Err(Error::Invalid {
                source_name: source.to_string(),
                message: format!("apiVersion `{api}` is not constraints.gatekeeper.sh/*"),
            });
        }
        let kind = str_at(doc, &["kind"]).unwrap_or_default();
        let template = match (self.templates.get(kind), self.unsupported.get(kind)) {
            (Some(t), _) => t,
            (None, Some(why)) => {
                return Err(Error::Invalid { source_name: source.to_string(), message: why.clone() });
            }
            (None, None) => {
                return Err(Error::Invalid {
                    source_name: source.to_string(),
                    message: format!("no ConstraintTemplate defines kind `{kind}`"),
                });
            }
        };
        let mut c = constraint::parse(doc, source, template.src.schema.as_ref())?;
        self.next_seq += 1;
        c.seq = self.next_seq;
        self.constraints.insert((c.kind.clone(), c.name.clone()), c);
        self.forget_results();
        Ok(())
    }

    /// Objects visible to referential templates as `data.inventory`
    /// (`namespace[ns][apiVersion][kind][name]`, `cluster[apiVersion][kind][name]`).
    /// Replaces the previous inventory and recompiles the templates.
    pub fn set_inventory(&mut self, objects: Vec<Json>) {
        let mut namespaced = serde_json::Map::new();
        let mut cluster = serde_json::Map::new();
        for obj in objects {
            let (Some(api), Some(kind), Some(name)) = (
                str_at(&obj, &["apiVersion"]).map(str::to_string),
                str_at(&obj, &["kind"]).map(str::to_string),
                str_at(&obj, &["metadata", "name"]).map(str::to_string),
            ) else {
                continue;
            };
            let root = match str_at(&obj, &["metadata", "namespace"]).filter(|n| !n.is_empty()) {
                Some(ns) => {
                    namespaced.entry(ns.to_string()).or_insert_with(|| Json::Object(Default::default()))
                }
                None => {
                    cluster.entry(api.clone()).or_insert_with(|| Json::Object(Default::default()));
                    let kinds = cluster.get_mut(&api).and_then(Json::as_object_mut);
                    if let Some(kinds) = kinds {
                        insert_named(kinds, &kind, &name, obj);
                    }
                    continue;
                }
            };
            if let Some(by_api) = root.as_object_mut() {
                let kinds = by_api.entry(api).or_insert_with(|| Json::Object(Default::default()));
                if let Some(kinds) = kinds.as_object_mut() {
                    insert_named(kinds, &kind, &name, obj);
                }
            }
        }
        let data = serde_json::json!({"inventory": {"namespace": namespaced, "cluster": cluster}});
        self.data = to_rego(&data);
        self.forget_results();
        let sources: Vec<TemplateSource> = self.templates.values().map(|t| t.src.clone()).collect();
        for src in sources {
            let kind = src.kind.clone();
            // The Rego compiled before; only the data changed, which cannot break it.
            if let Ok(t) = Template::compile(src, &self.data) {
                self.templates.insert(kind, t);
            }
        }
    }

    /// Review an AdmissionRequest (AdmissionReview v1 `.request`) at the
    /// validating webhook; `namespace` is the Namespace object of the
    /// request's namespace when known (needed by `namespaceSelector`).
    pub fn review(&self, request: &Json, namespace: Option<&Json>) -> Result<Vec<Violation>, Error> {
        self.review_at(request, namespace, constraint::POINT_WEBHOOK, None)
    }

    /// [`Gatekeeper::review`] that gives up with [`Error::Eval`] once
    /// `deadline` passes, so a webhook can evaluate on its own thread.
    pub fn review_until(
        &self,
        request: &Json,
        namespace: Option<&Json>,
        deadline: Option<Instant>,
    ) -> Result<Vec<Violation>, Error> {
        self.review_at(request, namespace, constraint::POINT_WEBHOOK, deadline)
    }

    /// Audit an object that is not part of a request: it is reviewed as a
    /// CREATE of the object, with audit enforcement actions.
    pub fn audit_object(&self, object: &Json, namespace: Option<&Json>) -> Result<Vec<Violation>, Error> {
        self.review_at(&request_for(object, "CREATE"), namespace, constraint::POINT_AUDIT, None)
    }

    pub(crate) fn review_at<'a>(
        &self,
        request: &'a Json,
        namespace: Option<&'a Json>,
        point: &str,
        deadline: Option<Instant>,
    ) -> Result<Vec<Violation>, Error> {
        if !request.is_object() {
            return Err(Error::Request("the request is not an object".into()));
        }
        let object = request.get("object").filter(|o| !o.is_null());
        let old_object = request.get("oldObject").filter(|o| !o.is_null());
        let subject = object.or(old_object).ok_or_else(|| Error::Request("no object or oldObject".into()))?;
        let (group, kind) = match request.get("kind") {
            Some(k) if k.is_object() => {
                (str_at(k, &["group"]).unwrap_or_default(), str_at(k, &["kind"]).unwrap_or_default())
            }
            _ => {
                let api = str_at(subject, &["apiVersion"]).unwrap_or_default();
                let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or_default();
                (group, str_at(subject, &["kind"]).unwrap_or_default())
            }
        };
        if kind.is_empty() {
            return Err(Error::Request("the request names no kind".into()));
        }
        let name = str_at(request, &["name"])
            .filter(|n| !n.is_empty())
            .or_else(|| str_at(subject, &["metadata", "name"]))
            .unwrap_or_default();
        let ns = str_at(request, &["namespace"])
            .filter(|n| !n.is_empty())
            .or_else(|| str_at(subject, &["metadata", "namespace"]))
            .unwrap_or_default();
        // The object and, on updates, its old version: each judged by the matchers.
        let targets: Vec<Target> = [object, old_object]
            .into_iter()
            .flatten()
            .map(|obj| Target {
                group,
                kind,
                name,
                namespace: ns,
                labels: obj.get("metadata").and_then(|m| m.get("labels")).and_then(Json::as_object),
                namespace_object: namespace,
            })
            .collect();

        let mut input = ReviewInput {
            request,
            subject,
            namespace,
            review: None,
            request_key: None,
            by_request: [None, None],
            by_parts: Vec::new(),
        };
        let mut out = Vec::new();
        for ((c_kind, c_name), c) in &self.constraints {
            if !c.matcher.kind_matches(group, kind) {
                continue;
            }
            let Some(action) = c.actions.at(point) else { continue };
            let Some(template) = self.templates.get(c_kind) else { continue };
            // An update is judged when either version of the object is selected,
            // so relabelling cannot slip an object out of a constraint.
            let mut selected = Ok(false);
            for t in &targets {
                match c.matcher.matches(t) {
                    Ok(true) => {
                        selected = Ok(true);
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        if selected.is_ok() {
                            selected = Err(e);
                        }
                    }
                }
            }
            match selected {
                Ok(false) => continue,
                Err(MatchError(message)) => {
                    out.push(Violation {
                        template: c_kind.clone(),
                        constraint: c_name.clone(),
                        message: format!("unable to match constraint: {message}"),
                        action,
                        details: None,
                    });
                    continue;
                }
                Ok(true) => {}
            }
            let outcome = self.outcome(&mut input, template, c, (c_kind, c_name), deadline)?;
            out.extend(outcome.iter().map(|(message, details)| Violation {
                template: c_kind.clone(),
                constraint: c_name.clone(),
                message: message.clone(),
                action,
                details: details.clone(),
            }));
        }
        Ok(out)
    }
}

/// What one review converts and looks up once, for all its constraints.
struct ReviewInput<'r, 't> {
    request: &'r Json,
    subject: &'r Json,
    namespace: Option<&'r Json>,
    /// `input.review`, converted when the first template has to run.
    review: Option<regorus::Value>,
    /// The request's decision-cache key without its uid, made once.
    request_key: Option<Arc<[u8]>>,
    /// The decision-cache entries of the request, without and with its uid.
    by_request: [Option<Arc<cache::Outcomes>>; 2],
    /// The reads-keyed entries, one per set of parts templates read;
    /// templates reading the same parts share one.
    by_parts: Vec<(&'t [reads::Path], Arc<cache::Outcomes>)>,
}

impl<'t> ReviewInput<'_, 't> {
    fn by_request(&mut self, cache: &cache::DecisionCache, with_uid: bool) -> Arc<cache::Outcomes> {
        if let Some(found) = &self.by_request[usize::from(with_uid)] {
            return found.clone();
        }
        let (request, namespace) = (self.request, self.namespace);
        let key = self.request_key.get_or_insert_with(|| cache::request_key(request, namespace));
        let key = if with_uid { cache::with_uid(key, request) } else { Arc::clone(key) };
        let outcomes = cache.outcomes(key);
        self.by_request[usize::from(with_uid)] = Some(outcomes.clone());
        outcomes
    }

    fn by_parts(&mut self, cache: &cache::DecisionCache, reads: &'t [reads::Path]) -> Arc<cache::Outcomes> {
        if let Some((_, outcomes)) = self.by_parts.iter().find(|(parts, _)| *parts == reads) {
            return outcomes.clone();
        }
        let outcomes = cache.outcomes(cache::reads_bytes(reads, self.request, self.subject, self.namespace));
        self.by_parts.push((reads, outcomes.clone()));
        outcomes
    }

    fn review(&mut self) -> &regorus::Value {
        let (request, subject, namespace) = (self.request, self.subject, self.namespace);
        self.review.get_or_insert_with(|| review_value(request, subject, namespace))
    }
}

impl Gatekeeper {
    /// A constraint's violations for one review: from the decision cache,
    /// else from the cache keyed by what its template reads, else evaluated
    /// (and then kept in both).
    fn outcome<'t>(
        &self,
        input: &mut ReviewInput<'_, 't>,
        template: &'t Template,
        c: &Constraint,
        (c_kind, c_name): (&str, &str),
        deadline: Option<Instant>,
    ) -> Result<cache::Outcome, Error> {
        let caching = self.decisions.enabled() && template.cacheable;
        let by_request = caching.then(|| input.by_request(&self.decisions, template.reads_uid));
        if let Some(hit) = by_request.as_ref().and_then(|o| o.get(c.seq)) {
            return Ok(hit);
        }
        let by_parts =
            template.reads.as_deref().filter(|_| caching).map(|reads| input.by_parts(&self.by_reads, reads));
        let outcome = match by_parts.as_ref().and_then(|o| o.get(c.seq)) {
            Some(hit) => hit,
            None => {
                let rego_input = rego_input(input.review(), &c.parameters);
                self.evaluations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let result = template.eval(rego_input, deadline).map_err(|message| Error::Eval {
                    template: c_kind.to_string(),
                    constraint: c_name.to_string(),
                    message,
                })?;
                let outcome = Arc::new(violations_of(&result));
                if let Some(o) = &by_parts {
                    o.put(c.seq, Arc::clone(&outcome));
                }
                outcome
            }
        };
        if let Some(o) = &by_request {
            o.put(c.seq, Arc::clone(&outcome));
        }
        Ok(outcome)
    }
}

fn insert_named(kinds: &mut serde_json::Map<String, Json>, kind: &str, name: &str, obj: Json) {
    let names = kinds.entry(kind.to_string()).or_insert_with(|| Json::Object(Default::default()));
    if let Some(names) = names.as_object_mut() {
        names.insert(name.to_string(), obj);
    }
}

/// The AdmissionRequest Gatekeeper builds for an object outside a request.
pub(crate) fn request_for(object: &Json, operation: &str) -> Json {
    let api = str_at(object, &["apiVersion"]).unwrap_or_default();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let mut req = serde_json::json!({
        "uid": "",
        "kind": {"group": group, "version": version, "kind": str_at(object, &["kind"]).unwrap_or_default()},
        "name": str_at(object, &["metadata", "name"]).unwrap_or_default(),
        "operation": operation,
        "userInfo": {},
        "object": object,
    });
    if let Some(ns) = str_at(object, &["metadata", "namespace"]).filter(|n| !n.is_empty()) {
        req["namespace"] = Json::from(ns);
    }
    req
}

/// A template's `input`: the review and one constraint's parameters.
fn rego_input(review: &regorus::Value, parameters: &regorus::Value) -> regorus::Value {
    static KEYS: LazyLock<[regorus::Value; 2]> = LazyLock::new(|| [key("review"), key("parameters")]);
    let mut input = regorus::value::Object::default();
    input.insert(KEYS[0].clone(), review.clone());
    input.insert(KEYS[1].clone(), parameters.clone());
    regorus::Value::from(input)
}

/// `input.review`: the request, with the object filled in from `oldObject`
/// on DELETE and the Namespace object where Gatekeeper puts it.
fn review_value(request: &Json, subject: &Json, namespace: Option<&Json>) -> regorus::Value {
    let mut review = to_rego(request);
    if let Ok(obj) = review.as_object_mut() {
        if request.get("object").is_none_or(Json::is_null) {
            obj.insert(key("object"), to_rego(subject));
        }
        if let Some(ns) = namespace {
            let ns = to_rego(ns);
            let mut unstable = regorus::value::Object::default();
            unstable.insert(key("namespace"), ns.clone());
            obj.insert(key("namespaceObject"), ns);
            obj.insert(key("_unstable"), regorus::Value::from(unstable));
        }
    }
    review
}

/// The `violation` set as (msg, details) pairs.
fn violations_of(result: &regorus::Value) -> Vec<(String, Option<Json>)> {
    let items: Vec<&regorus::Value> = match result {
        regorus::Value::Set(s) => s.iter().collect(),
        regorus::Value::Array(a) => a.iter().collect(),
        _ => return Vec::new(),
    };
    items
        .into_iter()
        .map(|item| {
            let message = match &item["msg"] {
                regorus::Value::String(s) => s.to_string(),
                regorus::Value::Undefined => String::new(),
                other => other.to_json_str().unwrap_or_default(),
            };
            let details = match &item["details"] {
                regorus::Value::Undefined => None,
                d => serde_json::to_value(d).ok(),
            };
            (message, details)
        })
        .collect()
}

/// Directory walks stop this deep; policy trees are shallow.
const MAX_WALK_DEPTH: usize = 32;

/// The files under `path` (itself, if a file) whose names `wanted` accepts,
/// sorted per directory; hidden entries are skipped.
pub(crate) fn collect_files(
    path: &Path,
    wanted: fn(&str) -> bool,
    out: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<(), Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if depth > MAX_WALK_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|source| Error::Io { path: path.to_path_buf(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_files(&p, wanted, out, depth + 1)?;
        } else if wanted(&name) {
            out.push(p);
        }
    }
    Ok(())
}

/// Manifests: YAML and JSON files.
pub(crate) fn is_manifest(name: &str) -> bool {
    [".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext))
}

/// The library's samples as requests, for comparing evaluators.
#[cfg(test)]
#[path = "../tests/samples/mod.rs"]
mod samples;

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::Value as Json;

    /// The Gatekeeper library loaded, and its samples as requests.
    fn library_and_samples() -> (super::Gatekeeper, Vec<(String, Json)>) {
        let lib = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/gatekeeper-library/library"
        ));
        assert!(
            lib.is_dir(),
            "{} is missing: this test needs the data bundle at ../shared/data",
            lib.display()
        );
        let mut requests = Vec::new();
        super::samples::samples(&lib, &lib, &mut requests);
        let mut g = super::Gatekeeper::new();
        g.load_path(&lib).unwrap();
        (g, requests)
    }

    /// No differences, over at least `at_least` comparisons.
    fn assert_agreed(differences: &[String], compared: usize, at_least: usize) {
        assert!(
            differences.is_empty(),
            "{} differences:\n{}",
            differences.len(),
            differences[..differences.len().min(8)].join("\n")
        );
        assert!(compared > at_least, "only {compared} evaluations compared");
    }

    /// Reviews `request` by every constraint with rampart's evaluator and
    /// with regorus's interpreter; a difference in violations (or in whether
    /// evaluation failed) is added to `differences`. Returns how many
    /// constraints were compared.
    fn compare_evaluators(
        g: &super::Gatekeeper,
        request: &Json,
        what: &str,
        differences: &mut Vec<String>,
    ) -> usize {
        let review = super::review_value(request, &request["object"], None);
        let mut compared = 0;
        for ((kind, constraint), c) in &g.constraints {
            let Some(template) = g.templates.get(kind) else { continue };
            let input = super::rego_input(&review, &c.parameters);
            let ours = template.eval(input.clone(), None).map(|v| super::violations_of(&v));
            let theirs = template.policy.eval_with_input(input).map(|v| super::violations_of(&v));
            let same = match (&ours, &theirs) {
                (Ok(a), Ok(b)) => a == b,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if !same {
                differences
                    .push(format!("{kind}/{constraint} on {what}: rampart {ours:?}, regorus {theirs:?}"));
            }
            compared += 1;
        }
        compared
    }

    /// Every library template on every library sample, as a CREATE and as an
    /// UPDATE, with the samples as inventory: rampart's evaluator and
    /// regorus's interpreter give the same violations, or both fail.
    #[test]
    fn the_memoising_evaluator_agrees_with_regorus_on_the_library() {
        let (mut g, requests) = library_and_samples();
        g.set_inventory(requests.iter().map(|(_, r)| r["object"].clone()).collect());
        let refused: Vec<&str> =
            g.templates.iter().filter(|(_, t)| t.memoised.is_none()).map(|(k, _)| k.as_str()).collect();
        assert!(refused.is_empty(), "templates left to regorus: {refused:?}");
        let mut compared = 0;
        let mut differences = Vec::new();
        for (name, request) in &requests {
            let mut update = request.clone();
            update["operation"] = "UPDATE".into();
            update["oldObject"] = request["object"].clone();
            for request in [request, &update] {
                let what = format!("{name} ({})", request["operation"]);
                compared += compare_evaluators(&g, request, &what, &mut differences);
            }
        }
        assert_agreed(&differences, compared, 5000);
    }

    /// Copies of `root` with the value at one path (of `v`, found at `path`)
    /// replaced by a value of another type, or removed.
    fn mutations(root: &Json, v: &Json, path: &mut Vec<Json>, out: &mut Vec<Json>) {
        const DEPTH: usize = 6;
        if !path.is_empty() {
            let replacements = [
                Json::Null,
                serde_json::json!(1),
                serde_json::json!(-1),
                serde_json::json!(true),
                serde_json::json!("x"),
                serde_json::json!("100Gi"),
                serde_json::json!("3.5"),
                serde_json::json!([]),
                serde_json::json!({}),
            ];
            for replacement in replacements.into_iter().map(Some).chain([None]) {
                let mut copy = root.clone();
                let (last, parents) = path.split_last().expect("a path");
                let mut parent = &mut copy;
                for step in parents {
                    parent = match step {
                        Json::Number(i) => &mut parent[i.as_u64().unwrap_or(0) as usize],
                        k => &mut parent[k.as_str().unwrap_or_default()],
                    };
                }
                match (parent, last, replacement) {
                    (Json::Array(items), Json::Number(i), r) => {
                        let i = i.as_u64().unwrap_or(0) as usize;
                        match r {
                            Some(r) => items[i] = r,
                            None => drop(items.remove(i)),
                        }
                    }
                    (Json::Object(map), Json::String(k), r) => match r {
                        Some(r) => drop(map.insert(k.clone(), r)),
                        None => drop(map.remove(k)),
                    },
                    _ => {}
                }
                out.push(copy);
            }
        }
        if path.len() >= DEPTH {
            return;
        }
        match v {
            Json::Object(map) => {
                for (k, child) in map {
                    path.push(Json::from(k.as_str()));
                    mutations(root, child, path, out);
                    path.pop();
                }
            }
            Json::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    path.push(Json::from(i));
                    mutations(root, child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The library's samples with one field at a time replaced by a value
    /// of another type or removed (every 20th such object): rampart's
    /// evaluator and regorus's interpreter still give the same violations,
    /// so an odd object cannot slip past one and not the other.
    #[test]
    fn the_memoising_evaluator_agrees_with_regorus_on_mutated_samples() {
        let (g, requests) = library_and_samples();
        let mut compared = 0;
        let mut differences = Vec::new();
        for (name, request) in &requests {
            let mut variants = Vec::new();
            mutations(&request["object"], &request["object"], &mut Vec::new(), &mut variants);
            for object in variants.into_iter().step_by(20) {
                let mut request = request.clone();
                request["object"] = object;
                let what = format!("{name} with {}", request["object"]);
                compared += compare_evaluators(&g, &request, &what, &mut differences);
            }
        }
        assert_agreed(&differences, compared, 40_000);
    }

    #[test]
    fn json_converts_to_the_value_regorus_itself_reads() {
        let doc = serde_json::json!({
            "kind": "Pod", "empty": {}, "none": null, "flags": [true, false], "nested": [[], [{}]],
            "numbers": [0, 1, -1, u64::MAX, i64::MIN, 0.5, -2.25, 1e300, 3.0],
            "text": "ünïcode \" \\ \n", "": "empty key",
        });
        let converted = super::to_rego(&doc);
        assert_eq!(converted, regorus::Value::deserialize(&doc).unwrap());
        assert_eq!(converted["numbers"][3].as_u64().unwrap(), u64::MAX);
        assert_eq!(converted["numbers"][4].as_i64().unwrap(), i64::MIN);
    }
}
