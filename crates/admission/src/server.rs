//! The HTTPS server: `POST /validate` (AdmissionReview v1), `/healthz`,
//! `/readyz`, `/metrics`; the evaluation deadline and failure policy; the
//! decision log; certificate reload; graceful shutdown.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::engine::{Decision, Engine, str_at};
use crate::metrics::{Metrics, Outcome};
use crate::podsecurity::audit_annotation;
use crate::tls::{CertStore, server_config};
use crate::{Error, FailurePolicy};

/// AdmissionReviews larger than this are refused: the API server's own
/// request limit is 3 MiB, and a review carries the object twice.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

pub struct ServerConfig {
    pub addr: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub failure_policy: FailurePolicy,
    /// Deadline for evaluating one review.
    pub timeout: Duration,
    /// How long a connection may take to send a request's headers (an idle
    /// keep-alive connection included), then its body, before it is cut off.
    pub read_timeout: Duration,
    /// JSON lines, one per decision; `-` for stdout.
    pub decision_log: Option<PathBuf>,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

struct State {
    engine: Arc<Engine>,
    metrics: Metrics,
    failure_policy: FailurePolicy,
    timeout: Duration,
    read_timeout: Duration,
    log: Option<mpsc::Sender<String>>,
    shutting_down: AtomicBool,
}

/// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
pub fn serve(config: ServerConfig, engine: Arc<Engine>) -> Result<(), Error> {
    let store = Arc::new(CertStore::load(&config.cert, &config.key)?);
    let tls = Arc::new(server_config(store.clone())?);
    let (log, log_thread) = match &config.decision_log {
        Some(path) => {
            let (tx, handle) = decision_log(path)?;
            (Some(tx), Some(handle))
        }
        None => (None, None),
    };
    let state = Arc::new(State {
        engine,
        metrics: Metrics::default(),
        failure_policy: config.failure_policy,
        timeout: config.timeout,
        read_timeout: config.read_timeout,
        log,
        shutting_down: AtomicBool::new(false),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rampart-admission")
        .build()
        .map_err(|e| Error::Io { path: PathBuf::from("tokio runtime"), source: e })?;
    let result = runtime.block_on(run(config, state.clone(), tls, store));
    // Let abandoned evaluations (past their deadline) go; they hold no locks.
    runtime.shutdown_timeout(Duration::from_millis(100));
    // Closing the last sender ends the log thread once it has written everything.
    if let (Ok(state), Some(h)) = (Arc::try_unwrap(state), log_thread) {
        drop(state);
        let _ = h.join();
    }
    result
}

async fn run(
    config: ServerConfig,
    state: Arc<State>,
    tls: Arc<rustls::ServerConfig>,
    store: Arc<CertStore>,
) -> Result<(), Error> {
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| Error::Io { path: PathBuf::from(config.addr.to_string()), source: e })?;
    let local =
        listener.local_addr().map_err(|e| Error::Io { path: PathBuf::from("listener"), source: e })?;
    log_event(&format!("listening on https://{local}"));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let reload = tokio::spawn(watch_certificate(store, config.reload_interval));
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let state = state.clone();
                let read_timeout = state.read_timeout;
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else {
                        return;
                    };
                    let service = service_fn(move |req| handle(req, state.clone()));
                    // Slow or silent clients cannot hold a connection forever.
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(read_timeout)
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                });
            }
            signal = &mut shutdown => {
                log_event(&format!("{signal}: shutting down, finishing in-flight requests"));
                break;
            }
        }
    }
    state.shutting_down.store(true, Ordering::SeqCst);
    drop(listener);
    reload.abort();
    tokio::select! {
        _ = graceful.shutdown() => log_event("all connections closed"),
        _ = tokio::time::sleep(config.shutdown_grace) => log_event("shutdown grace period over; closing remaining connections"),
    }
    Ok(())
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}

async fn watch_certificate(store: Arc<CertStore>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        match store.reload_if_changed() {
            Ok(true) => log_event("serving certificate reloaded"),
            Ok(false) => {}
            Err(e) => log_event(&format!("serving certificate not reloaded, keeping the previous one: {e}")),
        }
    }
}

fn log_event(message: &str) {
    let line = json!({"time": now(), "level": "info", "msg": message});
    eprintln!("{line}");
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn text(status: StatusCode, body: impl Into<Bytes>, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    r
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Full<Bytes>>, Infallible> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    let response = match (req.method(), req.uri().path()) {
        (&Method::POST, "/validate") => validate(req, &state).await,
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n", PLAIN),
        (&Method::GET, "/readyz") if state.shutting_down.load(Ordering::SeqCst) => {
            text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n", PLAIN)
        }
        (&Method::GET, "/readyz") => text(StatusCode::OK, "ok\n", PLAIN),
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            state.metrics.render() + &state.engine.metrics(),
            "text/plain; version=0.0.4",
        ),
        (_, "/validate" | "/healthz" | "/readyz" | "/metrics") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n", PLAIN)
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n", PLAIN),
    };
    Ok(response)
}

fn bad_request(state: &State, message: String) -> Response<Full<Bytes>> {
    refused(state, StatusCode::BAD_REQUEST, message)
}

fn refused(state: &State, status: StatusCode, message: String) -> Response<Full<Bytes>> {
    state.metrics.bad_request();
    log_event(&format!("bad request: {message}"));
    text(status, format!("{message}\n"), "text/plain; charset=utf-8")
}

async fn validate(req: Request<Incoming>, state: &Arc<State>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let body = match tokio::time::timeout(
        state.read_timeout,
        Limited::new(req.into_body(), MAX_BODY_BYTES).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => return bad_request(state, format!("reading the AdmissionReview: {e}")),
        Err(_) => {
            let message = format!("the AdmissionReview did not arrive within {:?}", state.read_timeout);
            return refused(state, StatusCode::REQUEST_TIMEOUT, message);
        }
    };
    let review: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(state, format!("the body is not an AdmissionReview: {e}")),
    };
    let api_version =
        review.get("apiVersion").and_then(Value::as_str).unwrap_or("admission.k8s.io/v1").to_string();
    let Some(uid) = review.pointer("/request/uid").and_then(Value::as_str).map(str::to_string) else {
        return bad_request(state, "the AdmissionReview has no request.uid".into());
    };
    let review = Arc::new(review);
    let deadline = started + state.timeout;
    let result = if state.engine.may_block() {
        let engine = state.engine.clone();
        let review = review.clone();
        let evaluation =
            tokio::task::spawn_blocking(move || engine.review_until(&review["request"], Some(deadline)));
        match tokio::time::timeout(state.timeout, evaluation).await {
            Ok(Ok(decided)) => decided.map_err(|e| Failure::Error(e.to_string())),
            Ok(Err(e)) => Err(Failure::Error(format!("evaluation aborted: {e}"))),
            Err(_) => Err(Failure::Timeout),
        }
    } else {
        // Every validator only computes and stops at the deadline: evaluating
        // here saves two thread wake-ups per request.
        state
            .engine
            .review_until(&review["request"], Some(deadline))
            .map_err(|e| Failure::Error(e.to_string()))
    };
    // An answer that arrives after the deadline is as late as none.
    let result = if started.elapsed() > state.timeout { Err(Failure::Timeout) } else { result };
    let request = &review["request"];
    let (answer, entry) = respond(state, (&api_version, &uid), request, result, started);
    if let Some(log) = &state.log {
        let _ = log.send(entry);
    }
    text(StatusCode::OK, answer, "application/json")
}

enum Failure {
    Timeout,
    Error(String),
}

/// The `response` of an AdmissionReview answer.
#[derive(serde::Serialize)]
struct AdmissionResponse<'a> {
    uid: &'a str,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(rename = "auditAnnotations", skip_serializing_if = "Option::is_none")]
    audit_annotations: Option<AuditAnnotations>,
}

#[derive(serde::Serialize)]
struct Status {
    code: u16,
    reason: &'static str,
    message: String,
}

#[derive(serde::Serialize)]
struct AuditAnnotations {
    #[serde(rename = "pod-security.kubernetes.io/audit-violations")]
    violations: String,
}

/// One line of the decision log.
#[derive(serde::Serialize)]
struct LogEntry<'a> {
    time: String,
    uid: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: &'a str,
    operation: &'a str,
    user: &'a str,
    decision: &'static str,
    /// What each validator found; absent when the review failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<Vec<Reason<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(rename = "failurePolicy", skip_serializing_if = "Option::is_none")]
    failure_policy: Option<&'static str>,
    #[serde(rename = "durationMs")]
    duration_ms: f64,
}

#[derive(serde::Serialize)]
struct Reason<'a> {
    source: &'static str,
    rule: &'a str,
    action: &'static str,
    message: &'a str,
}

/// The AdmissionReview answer and the decision-log line for one outcome,
/// serialized from borrowed fields rather than built up as JSON values.
fn respond(
    state: &State,
    (api_version, uid): (&str, &str),
    request: &Value,
    result: Result<Decision, Failure>,
    started: Instant,
) -> (String, String) {
    let s = |path: &[&str]| str_at(request, path);
    let name = match s(&["name"]) {
        "" => s(&["object", "metadata", "name"]),
        name => name,
    };
    let mut entry = LogEntry {
        time: now(),
        uid,
        kind: s(&["kind", "kind"]),
        name,
        namespace: s(&["namespace"]),
        operation: s(&["operation"]),
        user: s(&["userInfo", "username"]),
        decision: "",
        reasons: None,
        error: None,
        failure_policy: None,
        duration_ms: 0.0,
    };
    let mut response = AdmissionResponse {
        uid,
        allowed: false,
        status: None,
        warnings: Vec::new(),
        audit_annotations: None,
    };
    let outcome = match &result {
        Ok(decision) => {
            response.allowed = decision.allowed;
            response.warnings = decision.warnings();
            if !decision.allowed {
                response.status =
                    Some(Status { code: 403, reason: "Forbidden", message: decision.message() });
            }
            response.audit_annotations =
                audit_annotation(&decision.findings).map(|violations| AuditAnnotations { violations });
            entry.reasons = Some(
                decision
                    .findings
                    .iter()
                    .map(|f| Reason {
                        source: f.source,
                        rule: &f.rule,
                        action: f.action.as_str(),
                        message: &f.message,
                    })
                    .collect(),
            );
            if decision.exempt {
                Outcome::Exempt
            } else if decision.allowed {
                Outcome::Allowed
            } else {
                Outcome::Denied
            }
        }
        Err(failure) => {
            let (cause, message) = match failure {
                Failure::Timeout => {
                    ("timeout", format!("policy evaluation exceeded the {:?} deadline", state.timeout))
                }
                Failure::Error(e) => ("error", format!("policy evaluation failed: {e}")),
            };
            state.metrics.evaluation_error(cause == "timeout");
            let allowed = state.failure_policy == FailurePolicy::Ignore;
            state.metrics.failure_policy(allowed);
            log_event(&format!(
                "request {uid}: {message}; failure policy {} {}",
                state.failure_policy.as_str(),
                if allowed { "allows it" } else { "denies it" }
            ));
            response.allowed = allowed;
            if allowed {
                response.warnings =
                    vec![format!("rampart admission: {message}; allowed by failure policy Ignore")];
            } else {
                response.status = Some(Status {
                    code: 500,
                    reason: "InternalError",
                    message: format!("rampart admission: {message}"),
                });
            }
            entry.error = Some(message);
            entry.failure_policy = Some(state.failure_policy.as_str());
            if allowed { Outcome::Allowed } else { Outcome::Denied }
        }
    };
    let elapsed = started.elapsed();
    state.metrics.record(outcome, response.warnings.len(), elapsed);
    entry.decision = match outcome {
        Outcome::Exempt => "exempt",
        _ if response.allowed => "allow",
        _ => "deny",
    };
    entry.duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        kind: &'static str,
        response: AdmissionResponse<'a>,
    }
    let answer = Answer { api_version, kind: "AdmissionReview", response };
    // Serializing these types into a String cannot fail.
    (serde_json::to_string(&answer).unwrap_or_default(), serde_json::to_string(&entry).unwrap_or_default())
}

/// How long the decision-log writer collects lines while requests keep coming.
const LOG_TICK: Duration = Duration::from_millis(2);

/// The decision-log writer's buffer: a tick's lines at thousands of
/// reviews a second, written in a few calls.
const LOG_BUFFER: usize = 64 * 1024;

/// A writer thread for the decision log, so a slow disk never holds a request.
fn decision_log(
    path: &std::path::Path,
) -> Result<(mpsc::Sender<String>, std::thread::JoinHandle<()>), Error> {
    let out: Box<dyn std::io::Write + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        Box::new(file)
    };
    let (tx, rx) = mpsc::channel::<String>();
    let handle = std::thread::Builder::new()
        .name("decision-log".into())
        .spawn(move || {
            let mut out = std::io::BufWriter::with_capacity(LOG_BUFFER, out);
            let put = |out: &mut std::io::BufWriter<_>, line: String| {
                let _ = out.write_all(line.as_bytes());
                let _ = out.write_all(b"\n");
            };
            // Idle, the thread waits for a line; busy, it collects lines for a
            // tick and writes them in one go, so requests neither wake it one
            // by one nor wait for the disk.
            while let Ok(line) = rx.recv() {
                put(&mut out, line);
                let _ = out.flush();
                loop {
                    std::thread::sleep(LOG_TICK);
                    let mut more = false;
                    loop {
                        match rx.try_recv() {
                            Ok(line) => {
                                put(&mut out, line);
                                more = true;
                            }
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => {
                                let _ = out.flush();
                                return;
                            }
                        }
                    }
                    let _ = out.flush();
                    if !more {
                        break;
                    }
                }
            }
        })
        .map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
    Ok((tx, handle))
}
