//! Alerts: Falco's JSON alert shape, text lines, and a webhook sink that
//! queues alerts on disk so none is lost while the receiver is down.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Error;

/// One alert, serialised in Falco's JSON output shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// RFC 3339 with nanoseconds, UTC.
    pub time: String,
    pub rule: String,
    pub priority: String,
    /// `HH:MM:SS.nnnnnnnnn: Priority message`, as Falco prints it.
    pub output: String,
    pub output_fields: BTreeMap<String, serde_json::Value>,
    pub tags: Vec<String>,
    pub source: String,
    pub hostname: String,
}

/// Falco's time forms of an epoch-nanosecond instant: (RFC 3339, clock).
pub fn times(ns: u64) -> (String, String) {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ns as i128)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let rfc = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    );
    let clock = format!("{:02}:{:02}:{:02}.{:09}", t.hour(), t.minute(), t.second(), t.nanosecond());
    (rfc, clock)
}

impl Alert {
    /// Builds an alert from a rule's formatted message.
    pub fn new(
        ts_ns: u64,
        rule: &str,
        priority: &str,
        message: &str,
        output_fields: BTreeMap<String, serde_json::Value>,
        tags: Vec<String>,
        hostname: &str,
    ) -> Alert {
        let (time, clock) = times(ts_ns);
        Alert {
            time,
            rule: rule.to_string(),
            priority: priority.to_string(),
            output: format!("{clock}: {priority} {message}"),
            output_fields,
            tags,
            source: "syscall".to_string(),
            hostname: hostname.to_string(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Posts alerts to a URL from a background thread. Each alert is written to
/// the queue directory before it is sent and removed once the receiver
/// acknowledged it (2xx); failures are retried with backoff, and alerts
/// still queued when rampart stops are sent by the next run.
pub struct Webhook {
    tx: Option<Sender<Alert>>,
    handle: Option<JoinHandle<WebhookStats>>,
}

/// What the webhook sender did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookStats {
    pub sent: u64,
    pub failed_attempts: u64,
    /// Alerts left in the queue directory at shutdown.
    pub pending: u64,
}

struct Sender_ {
    url: String,
    dir: PathBuf,
    seq: u64,
    agent: ureq::Agent,
    stats: WebhookStats,
    backoff: Duration,
    next_try: Instant,
}

impl Sender_ {
    fn enqueue(&mut self, alert: &Alert) {
        self.seq += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // Names sort in arrival order, across runs too.
        let name = format!("{now:024}-{:08}.json", self.seq);
        let tmp = self.dir.join(format!(".{name}"));
        if std::fs::write(&tmp, alert.to_json()).is_ok() {
            let _ = std::fs::rename(&tmp, self.dir.join(name));
        }
    }

    fn queued(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().is_some_and(|x| x == "json")
                            && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Sends queued alerts in order until one fails.
    fn flush(&mut self) -> bool {
        if Instant::now() < self.next_try {
            return false;
        }
        for path in self.queued() {
            let Ok(body) = std::fs::read(&path) else { continue };
            let ok = self
                .agent
                .post(&self.url)
                .header("Content-Type", "application/json")
                .send(&body[..])
                .is_ok_and(|r| r.status().is_success());
            if ok {
                self.stats.sent += 1;
                let _ = std::fs::remove_file(&path);
                self.backoff = Duration::from_millis(250);
            } else {
                self.stats.failed_attempts += 1;
                self.next_try = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(Duration::from_secs(30));
                return false;
            }
        }
        true
    }
}

impl Webhook {
    /// Starts the sender; `queue_dir` is created if missing. At shutdown it
    /// keeps trying to deliver queued alerts for up to `drain`.
    pub fn start(url: &str, queue_dir: &Path, drain: Duration) -> Result<Webhook, Error> {
        std::fs::create_dir_all(queue_dir)
            .map_err(|e| Error::Io { path: queue_dir.to_path_buf(), source: e })?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build();
        let mut s = Sender_ {
            url: url.to_string(),
            dir: queue_dir.to_path_buf(),
            seq: 0,
            agent: ureq::Agent::new_with_config(config),
            stats: WebhookStats::default(),
            backoff: Duration::from_millis(250),
            next_try: Instant::now(),
        };
        let (tx, rx): (Sender<Alert>, Receiver<Alert>) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            s.flush();
            loop {
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(a) => {
                        s.enqueue(&a);
                        while let Ok(a) = rx.try_recv() {
                            s.enqueue(&a);
                        }
                        s.flush();
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        s.flush();
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            let end = Instant::now() + drain;
            while Instant::now() < end {
                if s.flush() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            s.stats.pending = s.queued().len() as u64;
            s.stats
        });
        Ok(Webhook { tx: Some(tx), handle: Some(handle) })
    }

    pub fn send(&self, alert: &Alert) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(alert.clone());
        }
    }

    /// Stops the sender after trying, for a few seconds, to deliver what is queued.
    pub fn finish(mut self) -> WebhookStats {
        self.tx.take();
        self.handle.take().and_then(|h| h.join().ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn alert(rule: &str) -> Alert {
        Alert::new(1_700_000_000_123_456_789, rule, "Warning", "msg", BTreeMap::new(), vec![], "h")
    }

    #[test]
    fn falco_shape() {
        let a = alert("R");
        assert_eq!(a.time, "2023-11-14T22:13:20.123456789Z");
        assert_eq!(a.output, "22:13:20.123456789: Warning msg");
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        for key in ["time", "rule", "priority", "output", "output_fields", "tags", "source", "hostname"] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }

    /// A one-shot HTTP receiver on loopback that answers 200 and returns bodies.
    fn receiver(listener: TcpListener, n: usize) -> std::thread::JoinHandle<Vec<String>> {
        std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for stream in listener.incoming().take(n) {
                let mut s = stream.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let k = s.read(&mut chunk).unwrap();
                    buf.extend_from_slice(&chunk[..k]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(i) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= i + 4 + len {
                            bodies.push(text[i + 4..i + 4 + len].to_string());
                            break;
                        }
                    }
                    if k == 0 {
                        break;
                    }
                }
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
            }
            bodies
        })
    }

    #[test]
    fn alerts_survive_a_receiver_that_is_down() {
        let dir = tempfile::tempdir().unwrap();
        // Reserve a loopback port, then close it: the receiver is down.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/alerts");
        let hook = Webhook::start(&url, dir.path(), Duration::from_millis(300)).unwrap();
        hook.send(&alert("first"));
        hook.send(&alert("second"));
        std::thread::sleep(Duration::from_millis(300));
        let stats = hook.finish();
        assert_eq!(stats.sent, 0);
        assert_eq!(stats.pending, 2);
        // The next run delivers them, in order.
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let rx = receiver(listener, 2);
        let hook = Webhook::start(&url, dir.path(), Duration::from_millis(300)).unwrap();
        let bodies = rx.join().unwrap();
        let stats = hook.finish();
        assert_eq!(stats.sent, 2);
        assert_eq!(stats.pending, 0);
        let rules: Vec<String> =
            bodies.iter().map(|b| serde_json::from_str::<Alert>(b).unwrap().rule).collect();
        assert_eq!(rules, vec!["first", "second"]);
    }
}
