//! Review cost with every Gatekeeper library template and sample constraint
//! loaded: per object kind on one thread, then reviews/s and latency
//! percentiles with many threads sharing one `Gatekeeper`.
//!
//! `cargo bench -p rampart-policy --bench review` (THREADS, SECONDS override;
//! VERDICTS=FILE writes each sample's violations as JSON lines, to compare
//! with another engine).
//! Latencies under many threads on few cores include time spent waiting for
//! a core, as a webhook's would.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_policy::Gatekeeper;
use serde_json::Value as Json;

#[path = "../tests/samples/mod.rs"]
mod samples;
use samples::samples;

fn library() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/gatekeeper-library/library"
    ));
    assert!(dir.is_dir(), "{} is missing: the benchmark needs ../shared/data", dir.display());
    dir
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let lib = library();
    let start = Instant::now();
    let mut g = Gatekeeper::new();
    // The engine's own cost first; the decision cache is measured at the end.
    g.set_decision_cache(0);
    let warnings = g.load_path(&lib).unwrap();
    let load = start.elapsed();
    let mut requests = Vec::new();
    samples(&lib, &lib, &mut requests);
    let kinds = g.template_kinds().count();
    let constraints = g.constraints().count();
    println!(
        "loaded {kinds} templates and {constraints} constraints in {:.1} ms ({} warnings); {} sample requests",
        load.as_secs_f64() * 1e3,
        warnings.len(),
        requests.len()
    );

    if let Ok(path) = std::env::var("VERDICTS") {
        let mut lines = String::new();
        for (name, req) in &requests {
            let mut names: Vec<String> =
                g.review(req, None).unwrap().into_iter().map(|v| v.constraint).collect();
            names.sort();
            lines.push_str(&serde_json::json!({"sample": name, "violations": names}).to_string());
            lines.push('\n');
        }
        std::fs::write(&path, lines).unwrap();
    }

    // One thread: mean cost per review, overall and for Pods.
    let rounds = 200;
    let mut per_kind: std::collections::BTreeMap<String, (Duration, u32, usize)> = Default::default();
    for _ in 0..rounds {
        for (_, req) in &requests {
            let kind = req["kind"]["kind"].as_str().unwrap_or("?").to_string();
            let t = Instant::now();
            let v = g.review(req, None).unwrap();
            let e = t.elapsed();
            let entry = per_kind.entry(kind).or_default();
            entry.0 += e;
            entry.1 += 1;
            entry.2 = entry.2.max(v.len());
        }
    }
    let (total, n) = per_kind.values().fold((Duration::ZERO, 0), |(d, n), (kd, kn, _)| (d + *kd, n + kn));
    println!(
        "one thread: {:.1} µs per review on average over {n} reviews",
        total.as_secs_f64() * 1e6 / n as f64
    );
    for (kind, (d, n, _)) in &per_kind {
        println!("  {kind:<24} {:>8.1} µs", d.as_secs_f64() * 1e6 / *n as f64);
    }

    per_template(&lib, &requests);

    let threads: usize = std::env::var("THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(32);
    let seconds: u64 = std::env::var("SECONDS").ok().and_then(|t| t.parse().ok()).unwrap_or(5);
    let requests = Arc::new(requests);
    concurrent("no decision cache", Arc::new(g), &requests, threads, seconds);
    let mut g = Gatekeeper::new();
    g.load_path(&lib).unwrap();
    concurrent("decision cache (the samples repeat)", Arc::new(g), &requests, threads, seconds);
}

/// Where a Pod's time goes: each template directory (template and its sample
/// constraints) loaded alone, mean cost per Pod sample.
fn per_template(lib: &Path, requests: &[(String, Json)]) {
    let pods: Vec<&Json> = requests.iter().map(|(_, r)| r).filter(|r| r["kind"]["kind"] == "Pod").collect();
    let general = lib.join("general");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&general).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.retain(|d| d.is_dir());
    let mut rows = Vec::new();
    for dir in dirs {
        let mut g = Gatekeeper::new();
        g.set_decision_cache(0);
        g.load_path(&dir).unwrap();
        let rounds = 20;
        let start = Instant::now();
        for _ in 0..rounds {
            for req in &pods {
                g.review(req, None).unwrap();
            }
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / (rounds * pods.len()) as f64;
        rows.push((us, dir.file_name().unwrap().to_string_lossy().into_owned(), g.constraints().count()));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = rows.iter().map(|r| r.0).sum();
    println!("per template, mean over the {} Pod samples (sum {total:.0} µs):", pods.len());
    for (us, name, constraints) in rows.iter().take(8) {
        println!("  {name:<32} {us:>8.1} µs ({constraints} constraints)");
    }
}

/// Many threads sharing one Gatekeeper, each cycling through the samples.
fn concurrent(
    label: &str,
    g: Arc<Gatekeeper>,
    requests: &Arc<Vec<(String, Json)>>,
    threads: usize,
    seconds: u64,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let g = Arc::clone(&g);
            let requests = Arc::clone(requests);
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut i = t;
                while Instant::now() < deadline {
                    let (_, req) = &requests[i % requests.len()];
                    let s = Instant::now();
                    g.review(req, None).unwrap();
                    lat.push(s.elapsed());
                    i += 1;
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let wall = started.elapsed();
    lat.sort();
    println!(
        "{label}, {threads} threads: {:.0} reviews/s, latency p50 {:.0} µs, p99 {:.0} µs ({} reviews)",
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        lat.len()
    );
}
