//! `rampart admission` end to end: the real binary serving HTTPS on
//! loopback with a certificate from `rampart admission certs`, real
//! AdmissionReview JSON, and the audit, test, certs and manifests commands.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{code, json, rampart, shared_data, stderr, stdout};
use serde_json::{Value, json};

fn bin(cache: &Path) -> Command {
    rampart(cache)
}

/// Creates a CA and a serving certificate for 127.0.0.1 under `dir/tls`.
fn make_certs(dir: &Path) -> PathBuf {
    let tls = dir.join("tls");
    let out = bin(dir)
        .args(["admission", "certs", "--service", "rampart", "--namespace", "security"])
        .args(["--host", "127.0.0.1", "--host", "localhost", "-o"])
        .arg(&tls)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "certs failed: {}", stderr(&out));
    tls
}

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
    agent: ureq::Agent,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let tls = make_certs(dir.path());
        Server::start_in(dir, &tls, args)
    }

    fn start_in(dir: tempfile::TempDir, tls: &Path, args: &[&str]) -> Server {
        let mut child = bin(dir.path())
            .args(["admission", "serve", "--addr", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(tls.join("tls.crt"))
            .arg("--tls-key")
            .arg(tls.join("tls.key"))
            .arg("--decision-log")
            .arg(dir.path().join("decisions.jsonl"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut port = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            log.lock().unwrap().push(line.clone());
            if let Some(rest) = line.split("listening on https://127.0.0.1:").nth(1) {
                port = rest.split('"').next().and_then(|p| p.parse::<u16>().ok());
                break;
            }
        }
        let Some(port) = port else {
            let _ = child.kill();
            panic!("server did not start: {:?}", log.lock().unwrap());
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let agent = agent_trusting(&tls.join("ca.crt"));
        Server { child, port, dir, log, agent }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    fn review(&self, request: Value) -> Value {
        let body =
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let mut resp = self
            .agent
            .post(&self.url("/validate"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(v["kind"], "AdmissionReview");
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
        v["response"].clone()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let mut resp = self.agent.get(&self.url(path)).call().unwrap();
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap())
    }

    fn metric(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).map(|v| v.parse::<f64>().unwrap())
            })
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }

    /// The decision-log entry for `uid`. The log is written by its own thread, so wait for it
    /// (reading only complete lines) rather than taking whatever is there first.
    fn decision(&self, uid: &str) -> Value {
        let path = self.dir.path().join("decisions.jsonl");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
            let found =
                complete.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["uid"] == uid);
            if let Some(entry) = found {
                return entry;
            }
            assert!(Instant::now() < deadline, "no decision logged for {uid}; log so far:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until the server has logged a line containing `text`.
    fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.logs().contains(text) {
            assert!(Instant::now() < deadline, "the server never logged {text:?}:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM through Python, which every test machine has (std can only SIGKILL).
fn sigterm(pid: u32) {
    let status = Command::new("python3")
        .args(["-c", "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGTERM)", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn agent_trusting(ca: &Path) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let pem = std::fs::read(ca).unwrap();
    let cert = Certificate::from_pem(&pem).unwrap().to_owned();
    let tls = TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![cert]))).build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn pod(name: &str, security_context: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0", "securityContext": security_context}]}
    })
}

fn restricted_sc() -> Value {
    json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}})
}

fn create(uid: &str, namespace: &str, object: Value) -> Value {
    json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": object["kind"]},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": object["metadata"]["name"], "namespace": namespace, "operation": "CREATE",
        "userInfo": {"username": "alice@example.com", "groups": ["system:authenticated"]},
        "object": object, "oldObject": null, "dryRun": false
    })
}

#[test]
fn denies_and_allows_pods_with_the_plugins_messages() {
    let server = Server::start(&["--pod-security", "restricted"]);
    let denied = server.review(create("uid-deny-1", "default", pod("bad", json!({"privileged": true}))));
    assert_eq!(denied["uid"], "uid-deny-1");
    assert_eq!(denied["allowed"], false);
    assert_eq!(denied["status"]["code"], 403);
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(message.starts_with("violates PodSecurity \"restricted:latest\": "), "{message}");
    assert!(
        message.contains("privileged (container \"app\" must not set securityContext.privileged=true)"),
        "{message}"
    );
    assert!(
        message.contains(
            "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false)"
        ),
        "{message}"
    );

    let allowed = server.review(create("uid-allow-2", "default", pod("good", restricted_sc())));
    assert_eq!(allowed["uid"], "uid-allow-2");
    assert_eq!(allowed["allowed"], true);
    assert!(allowed.get("status").is_none());

    // A Deployment is refused through its pod template.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"metadata": {}, "spec": {"hostNetwork": true, "containers": [{"name": "web", "image": "x:1", "securityContext": restricted_sc()}]}}}});
    let r = server.review(create("uid-deploy-3", "default", deployment));
    assert_eq!(r["allowed"], false);
    assert!(r["status"]["message"].as_str().unwrap().contains("host namespaces (hostNetwork=true)"));

    assert_eq!(server.metric("rampart_admission_requests_total{decision=\"denied\"}"), 2.0);
    assert_eq!(server.metric("rampart_admission_requests_total{decision=\"allowed\"}"), 1.0);
    assert_eq!(server.metric("rampart_admission_request_duration_seconds_count"), 3.0);

    let first = server.decision("uid-deny-1");
    assert_eq!(first["decision"], "deny");
    assert_eq!(first["kind"], "Pod");
    assert_eq!(first["name"], "bad");
    assert_eq!(first["namespace"], "default");
    assert_eq!(first["user"], "alice@example.com");
    assert!(first["durationMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(first["reasons"][0]["source"], "podsecurity");
    assert_eq!(server.decision("uid-allow-2")["decision"], "allow");
}

#[test]
fn namespace_labels_warn_and_exempt_namespaces_pass() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let namespaces = dir.path().join("namespaces.yaml");
    std::fs::write(
        &namespaces,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n    pod-security.kubernetes.io/warn: baseline\n    pod-security.kubernetes.io/warn-version: v1.30\n",
    )
    .unwrap();
    let server = Server::start_in(
        dir,
        &tls,
        &[
            "--pod-security",
            "restricted",
            "--namespaces",
            namespaces.to_str().unwrap(),
            "--exempt-namespace",
            "kube-system",
        ],
    );
    let privileged = pod("p", json!({"privileged": true}));
    // The file's labels: enforce privileged, warn baseline.
    let r = server.review(create("u1", "legacy", privileged.clone()));
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(
        r["warnings"],
        json!([
            "would violate PodSecurity \"baseline:v1.30\": privileged (container \"app\" must not set securityContext.privileged=true)"
        ])
    );
    // A namespaceObject in the request wins over the global level.
    let mut req = create("u2", "team", privileged.clone());
    req["namespaceObject"] = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": {
        "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"}}});
    let r = server.review(req);
    assert_eq!(r["allowed"], false);
    assert!(r["status"]["message"].as_str().unwrap().starts_with("violates PodSecurity \"baseline:latest\""));
    assert!(
        r["warnings"][0].as_str().unwrap().starts_with("would violate PodSecurity \"restricted:latest\"")
    );
    // Exempt.
    let r = server.review(create("u3", "kube-system", privileged));
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none());
    assert_eq!(server.metric("rampart_admission_requests_total{decision=\"exempt\"}"), 1.0);
    assert_eq!(server.metric("rampart_admission_warnings_total"), 2.0);
    assert_eq!(server.decision("u3")["decision"], "exempt");
}

#[test]
fn image_rules() {
    let server = Server::start(&[
        "--pod-security",
        "privileged",
        "--allowed-registry",
        "registry.example.com",
        "--disallow-latest",
        "--require-digest",
    ]);
    let with_image = |image: &str| {
        let mut p = pod("p", json!({}));
        p["spec"]["containers"][0]["image"] = json!(image);
        p
    };
    let r = server.review(create("i1", "default", with_image("docker.io/library/nginx:latest")));
    assert_eq!(r["allowed"], false);
    let m = r["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("[allowed-registries] container \"app\" image \"docker.io/library/nginx:latest\""),
        "{m}"
    );
    assert!(m.contains("[disallow-latest]") && m.contains("[require-digest]"), "{m}");
    let pinned = format!("registry.example.com/team/app:1.2@sha256:{}", "a".repeat(64));
    assert_eq!(server.review(create("i2", "default", with_image(&pinned)))["allowed"], true);
}

#[test]
fn failure_policy_decides_when_evaluation_misses_the_deadline() {
    let closed = Server::start(&["--timeout-ms", "0"]);
    let r = closed.review(create("f1", "default", pod("p", restricted_sc())));
    assert_eq!(r["uid"], "f1");
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 500);
    assert!(r["status"]["message"].as_str().unwrap().contains("deadline"), "{r}");
    assert_eq!(closed.metric("rampart_admission_evaluation_errors_total{cause=\"timeout\"}"), 1.0);
    assert_eq!(closed.metric("rampart_admission_failure_policy_total{allowed=\"false\"}"), 1.0);
    assert!(closed.logs().contains("failure policy Fail denies it"), "{}", closed.logs());

    let open = Server::start(&["--timeout-ms", "0", "--failure-policy", "ignore"]);
    let r = open.review(create("f2", "default", pod("p", json!({"privileged": true}))));
    assert_eq!(r["allowed"], true);
    assert!(r["warnings"][0].as_str().unwrap().contains("allowed by failure policy Ignore"), "{r}");
    let entry = open.decision("f2");
    assert_eq!(entry["failurePolicy"], "Ignore");
    assert_eq!(entry["decision"], "allow");
}

#[test]
fn health_metrics_and_bad_requests() {
    let server = Server::start(&[]);
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_string()));
    assert_eq!(server.get("/readyz").0, 200);
    assert_eq!(server.get("/nope").0, 404);
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE rampart_admission_request_duration_seconds histogram"));
    let resp = server.agent.post(&server.url("/validate")).send("{not json").unwrap();
    assert_eq!(resp.status(), 400);
    let resp = server
        .agent
        .post(&server.url("/validate"))
        .send(r#"{"kind":"AdmissionReview","request":{}}"#)
        .unwrap();
    assert_eq!(resp.status(), 400);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let resp = server.agent.post(&server.url("/validate")).send(deep).unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(server.metric("rampart_admission_bad_requests_total"), 3.0);
    // Still serving after bad input.
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn reloads_a_replaced_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let old_ca = dir.path().join("old-ca.crt");
    std::fs::copy(tls.join("ca.crt"), &old_ca).unwrap();
    let server = Server::start_in(dir, &tls, &[]);
    assert_eq!(server.get("/healthz").0, 200);
    // A new CA and certificate replace the files in place.
    make_certs(server.dir.path());
    let fresh = agent_trusting(&tls.join("ca.crt"));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if fresh.get(&server.url("/healthz")).call().is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "new certificate not served: {}", server.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        agent_trusting(&old_ca).get(&server.url("/healthz")).call().is_err(),
        "old certificate still served"
    );
    server.wait_for_log("serving certificate reloaded");
    // A broken file keeps the current certificate in use.
    std::fs::write(tls.join("tls.crt"), "garbage").unwrap();
    server.wait_for_log("not reloaded");
    assert!(fresh.get(&server.url("/healthz")).call().is_ok());
}

/// A raw TLS client, to hold a request half-sent across SIGTERM.
fn tls_stream(ca: &Path, port: u16) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_file(ca).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let mut server = Server::start_in(dir, &tls, &["--pod-security", "baseline"]);
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": create("inflight-1", "default", pod("p", json!({"privileged": true})))})
    .to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let mut stream = tls_stream(&tls.join("ca.crt"), server.port);
    write!(
        stream,
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(server.child.id());
    // New connections are refused once the listener is closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    stream.write_all(tail.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("\"uid\":\"inflight-1\"") && response.contains("\"allowed\":false"),
        "{response}"
    );
    let status = server.terminate();
    assert!(status.success(), "{status:?}: {}", server.logs());
    assert!(server.logs().contains("SIGTERM: shutting down"));
}

#[test]
fn audit_reports_manifests_like_config() {
    let dir = common::project(&[
        (
            "pods/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\nspec:\n  containers:\n  - name: app\n    image: app:1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers:\n      - name: web\n        image: web:1\n        securityContext:\n          privileged: true\n",
        ),
        ("pods/notes.txt", "not a manifest"),
    ]);
    let out = bin(dir.path())
        .current_dir(dir.path())
        .args(["admission", "audit", "--pod-security", "baseline", "-f", "pods", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    let result = &report["Results"][0];
    assert_eq!(result["Target"], "pods/pod.yaml");
    assert_eq!(result["MisconfSummary"], json!({"Successes": 1, "Failures": 2}));
    let ids: Vec<&str> =
        result["Misconfigurations"].as_array().unwrap().iter().map(|m| m["ID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PSS-hostNamespaces", "PSS-privileged"]);
    let m = &result["Misconfigurations"][1];
    assert_eq!(m["Message"], "privileged (container \"web\" must not set securityContext.privileged=true)");
    assert_eq!(m["Severity"], "HIGH");
    assert_eq!(m["CauseMetadata"]["Resource"], "Deployment/web");
    assert_eq!(m["CauseMetadata"]["StartLine"], 10);

    // stdin, restricted, a gate.
    let mut child = bin(dir.path())
        .args([
            "admission",
            "audit",
            "--pod-security",
            "restricted",
            "-f",
            "-",
            "--exit-code",
            "3",
            "--severity",
            "MEDIUM",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\nspec:\n  containers:\n  - name: app\n    image: app:1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stdout(&out).contains("runAsNonRoot != true"), "{}", stdout(&out));

    let bad = bin(dir.path())
        .current_dir(dir.path())
        .args(["admission", "audit", "--pod-security", "strict", "-f", "pods"])
        .output()
        .unwrap();
    assert_eq!(code(&bad), 64);
    assert!(stderr(&bad).contains("strict"));
}

#[test]
fn manifests_deploy_a_webhook_that_rampart_config_finds_clean() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let out = bin(dir.path())
        .args(["admission", "manifests", "--namespace", "security", "--certs"])
        .arg(&tls)
        .args(["--exempt-namespace", "kube-system", "--exempt-namespace", "monitoring"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    let deploy = dir.path().join("deploy.yaml");
    std::fs::write(&deploy, &yaml).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Secret",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "ValidatingWebhookConfiguration"
        ]
    );
    let hook = &docs[5]["webhooks"][0];
    let ca_pem = std::fs::read_to_string(tls.join("ca.crt")).unwrap();
    let ca_b64 = hook["clientConfig"]["caBundle"].as_str().unwrap();
    let decoded =
        Command::new("base64").arg("-d").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().and_then(
            |mut c| {
                c.stdin.take().unwrap().write_all(ca_b64.as_bytes())?;
                c.wait_with_output()
            },
        );
    assert_eq!(String::from_utf8(decoded.unwrap().stdout).unwrap(), ca_pem);
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(
        hook["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["kube-system", "monitoring", "security"])
    );
    assert_eq!(
        hook["clientConfig"]["service"],
        json!({"name": "rampart", "namespace": "security", "path": "/validate", "port": 443})
    );

    let check = bin(dir.path())
        .args(["config", "--format", "json", "--exit-code", "3"])
        .arg(&deploy)
        .output()
        .unwrap();
    assert_eq!(code(&check), 0, "rampart config found problems: {}", stdout(&check));
    let report = json(&check);
    let summary = &report["Results"][0]["MisconfSummary"];
    assert_eq!(summary["Failures"], 0);
    assert!(summary["Successes"].as_u64().unwrap() > 20, "{summary}");
    // The webhook's own pod passes Pod Security restricted.
    let audit = bin(dir.path())
        .args(["admission", "audit", "--pod-security", "restricted", "--exit-code", "3", "-f"])
        .arg(&deploy)
        .output()
        .unwrap();
    assert_eq!(code(&audit), 0, "{}", stdout(&audit));
}

fn gatekeeper_library() -> PathBuf {
    let p = shared_data().join("gatekeeper-library/library/general");
    assert!(p.is_dir(), "the Gatekeeper library is required at {}", p.display());
    p
}

#[test]
fn gatekeeper_policies_deny_and_allow_through_the_server() {
    let lib = gatekeeper_library();
    let repos = lib.join("allowedrepos");
    let server = Server::start(&[
        "--pod-security",
        "privileged",
        "--policies",
        repos.join("template.yaml").to_str().unwrap(),
        "--policies",
        repos.join("samples/repo-must-be-openpolicyagent/constraint.yaml").to_str().unwrap(),
    ]);
    let read = |name: &str| -> Value {
        let text =
            std::fs::read_to_string(repos.join("samples/repo-must-be-openpolicyagent").join(name)).unwrap();
        serde_saphyr::from_str(&text).unwrap()
    };
    let r = server.review(create("gk-deny", "default", read("example_disallowed_container.yaml")));
    assert_eq!(r["allowed"], false, "{r}");
    let m = r["status"]["message"].as_str().unwrap();
    assert!(m.starts_with("[repo-is-openpolicyagent] "), "{m}");
    assert!(m.contains("nginx"), "{m}");
    let r = server.review(create("gk-allow", "default", read("example_allowed.yaml")));
    assert_eq!(r["allowed"], true, "{r}");
    // A replica (another name and uid, the same containers) is answered from
    // the first one's result: the template reads only the containers.
    let evaluations = || -> u64 {
        let (_, text) = server.get("/metrics");
        let line =
            text.lines().find(|l| l.starts_with("rampart_admission_policy_evaluations_total ")).unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let before = evaluations();
    assert!(before >= 2, "{before}");
    let mut replica = read("example_disallowed_container.yaml");
    replica["metadata"]["name"] = Value::from("replica-2");
    let r = server.review(create("gk-deny-2", "default", replica));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r["status"]["message"].as_str().unwrap().contains("nginx"), "{r}");
    assert_eq!(evaluations(), before);
    // The constraint only matches the default namespace.
    let r = server.review(create("gk-other", "other", read("example_disallowed_container.yaml")));
    assert_eq!(r["allowed"], true, "{r}");
}

#[test]
fn gatekeeper_library_suites_pass() {
    let lib = gatekeeper_library();
    let out = bin(&lib).arg("admission").arg("test").arg(&lib).output().unwrap();
    assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().filter(|l| l.starts_with("ok ")).count() >= 100, "{text}");
    assert!(text.contains("PASS  30 suites"), "{text}");
    // A glob over the suites runs the same set.
    let pattern = format!("{}/**/suite.yaml", lib.display());
    let out = bin(&lib).args(["admission", "test", &pattern]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("PASS  30 suites"));
}

#[test]
fn failing_suite_exits_1() {
    let lib = gatekeeper_library();
    let dir = common::project(&[(
        "suite.yaml",
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata:\n  name: wrong\ntests:\n- name: expects-violations-that-never-come\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - name: allowed-object\n    object: example_allowed.yaml\n    assertions:\n    - violations: yes\n",
    )]);
    let repos = lib.join("allowedrepos");
    std::fs::copy(repos.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    let samples = repos.join("samples/repo-must-be-openpolicyagent");
    std::fs::copy(samples.join("constraint.yaml"), dir.path().join("constraint.yaml")).unwrap();
    std::fs::copy(samples.join("example_allowed.yaml"), dir.path().join("example_allowed.yaml")).unwrap();
    let out =
        bin(dir.path()).args(["admission", "test"]).arg(dir.path().join("suite.yaml")).output().unwrap();
    assert_eq!(code(&out), 1, "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("FAIL"), "{}", stdout(&out));
}

#[test]
fn a_port_in_use_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = bin(dir.path())
        .args(["admission", "serve", "--addr", &addr, "--tls-cert"])
        .arg(tls.join("tls.crt"))
        .arg("--tls-key")
        .arg(tls.join("tls.key"))
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let text = stderr(&out);
    let line = text.lines().find(|l| l.starts_with("rampart: error:")).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line, format!("rampart: error: {addr}: Address already in use (os error 98)"), "{text}");
}

#[test]
fn slow_and_silent_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_certs(dir.path());
    let server = Server::start_in(dir, &tls, &["--read-timeout-ms", "1000"]);
    let ca = tls.join("ca.crt");
    // Headers that never end, and a body that stops short.
    let mut silent = tls_stream(&ca, server.port);
    write!(silent, "POST /validate HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    silent.flush().unwrap();
    let mut slow = tls_stream(&ca, server.port);
    write!(slow, "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{{\"kind\":")
        .unwrap();
    slow.flush().unwrap();
    let started = Instant::now();
    let mut response = String::new();
    let _ = slow.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("did not arrive within"), "{response}");
    // The silent client is disconnected, not left waiting for its 20 s read timeout.
    let mut rest = Vec::new();
    if let Err(e) = silent.read_to_end(&mut rest) {
        assert!(
            !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "still connected: {e}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.metric("rampart_admission_bad_requests_total"), 1.0);
}
