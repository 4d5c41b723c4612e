//! Rule evaluation throughput over a recording, on one core.
//!
//! `cargo bench -p rampart-runtime --bench eval -- RECORDING [RULES...]`
//! (scripts/bench-watch records a workload and runs this). Rules default to
//! ../shared/data/falco/rules/falco_rules.yaml; the built-in pack is always
//! loaded too. Prints decode and evaluation rates.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rampart_rules::RuleSet;
use rampart_runtime::EventView;
use rampart_runtime::record::{Item, Replay, apply};

/// Time this thread spent on a CPU (the machine may be shared).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.is_empty() {
        eprintln!("usage: eval RECORDING [RULES.yaml...]");
        std::process::exit(64);
    }
    let recording = PathBuf::from(args.remove(0));
    let mut rule_files: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    if rule_files.is_empty() {
        rule_files.push(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/falco/rules/falco_rules.yaml"),
        );
    }
    let files: Vec<(PathBuf, String)> = rule_files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.clone(), text)
        })
        .collect();
    let (rules, _) = RuleSet::load_with_builtins(&files).expect("rules load");
    let enabled = rules.rules().iter().filter(|r| r.enabled && r.is_evaluated()).count();

    // Decoding: the whole file, as `rampart watch --replay` reads it.
    let t = Instant::now();
    let mut rp = Replay::open(&recording).expect("recording opens");
    let mut items = Vec::new();
    while let Some(item) = rp.next_item().expect("recording decodes") {
        items.push(item);
    }
    let decode = t.elapsed();
    let events = items.iter().filter(|i| matches!(i, Item::Event(_))).count();
    let mut state = std::mem::replace(&mut rp.state, rampart_runtime::State::empty());

    // Evaluation: state updates plus every enabled rule, repeated for at
    // least two seconds after one warm-up pass.
    let mut out = Vec::new();
    let mut pass = |state: &mut rampart_runtime::State| -> usize {
        let mut matched = 0;
        for item in &items {
            match item {
                Item::Event(ev) => {
                    let view = EventView::new(ev, state);
                    out.clear();
                    rules.evaluate_into(&view, &mut out);
                    matched += out.len();
                    state.retire(ev);
                }
                other => {
                    apply(state, other.clone());
                }
            }
        }
        matched
    };
    let alerts = pass(&mut state);
    let t = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut passes = 0u64;
    while t.elapsed() < Duration::from_secs(2) {
        std::hint::black_box(pass(&mut state));
        passes += 1;
    }
    let eval = t.elapsed();
    let cpu = thread_cpu_ns().saturating_sub(cpu0);
    let rate = (events as f64 * passes as f64) / eval.as_secs_f64();
    let cpu_rate = (events as f64 * passes as f64) / (cpu as f64 / 1e9);
    println!("recording: {} ({} lines, {events} events)", recording.display(), items.len());
    println!("rules: {enabled} enabled ({} files + built-in pack)", files.len());
    println!("alerts per pass: {alerts}");
    println!(
        "decode: {:.0} events/s ({:.1} ms for the file)",
        events as f64 / decode.as_secs_f64(),
        decode.as_secs_f64() * 1e3
    );
    println!("evaluate: {rate:.0} events/s wall clock on one thread ({passes} passes)");
    if cpu > 0 {
        println!("evaluate: {cpu_rate:.0} events per CPU second ({:.0} ns/event)", 1e9 / cpu_rate);
    }
}
