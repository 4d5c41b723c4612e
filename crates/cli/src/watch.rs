//! `rampart watch`: runtime detection. Loads Falco-language rules, captures
//! the syscalls they need with the eBPF sensor (or replays a recording),
//! and raises alerts, optionally with response actions.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use clap::{Args, ValueEnum};
use rampart_rules::{EventTypes, Rule, RuleSet, Value};
use rampart_runtime::alert::{Alert, Webhook};
use rampart_runtime::record::{Recorder, Replay};
use rampart_runtime::respond::{Actions, Responder};
use rampart_runtime::{EventView, State, SysEvent, syscalls};

use crate::{Context, UsageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertFormat {
    /// One line per alert, as Falco prints it
    Text,
    /// One JSON object per line, in Falco's JSON output shape
    Json,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Rules file in Falco's rule language (repeatable); loaded after the built-in pack
    #[arg(short = 'r', long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rule pack (only the --rules files)
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// Alert format
    #[arg(long, value_enum, default_value = "text")]
    pub format: AlertFormat,
    /// Write alerts to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Record the event stream, with the state each event needs, to FILE
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Evaluate the rules over a recording instead of the live system (no privileges needed)
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Stop after this many seconds (default: run until interrupted)
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// POST every alert (JSON) to this URL; alerts wait in an on-disk queue while it is down
    #[arg(long, value_name = "URL")]
    pub alert_webhook: Option<String>,
    /// Directory of the webhook queue (default: <cache-dir>/watch/webhook-queue)
    #[arg(long, value_name = "DIR")]
    pub webhook_queue: Option<PathBuf>,
    /// Response actions (YAML): kill the process, freeze or kill the container, call a webhook
    #[arg(long, value_name = "FILE")]
    pub actions: Option<PathBuf>,
    /// Executables of the image (one path per line, from an image scan): any other
    /// executable run in a container counts as drift
    #[arg(long, value_name = "FILE")]
    pub image_files: Option<PathBuf>,
}

fn load_rules(args: &WatchArgs) -> anyhow::Result<(RuleSet, Vec<String>)> {
    let mut files = Vec::new();
    for path in &args.rules {
        let text =
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        files.push((path.clone(), text));
    }
    if args.no_builtin_rules && files.is_empty() {
        return Err(UsageError("--no-builtin-rules needs at least one --rules file".into()).into());
    }
    let loaded =
        if args.no_builtin_rules { RuleSet::load(&files) } else { RuleSet::load_with_builtins(&files) };
    let (set, warnings) = loaded.map_err(|e| UsageError(format!("loading rules: {e}")))?;
    Ok((set, warnings.iter().map(|w| w.to_string()).collect()))
}

fn json_value(v: Option<Value<'_>>) -> serde_json::Value {
    match v {
        None => serde_json::Value::Null,
        Some(Value::Str(s)) => serde_json::Value::String(s.into_owned()),
        Some(Value::Int(n)) => n.into(),
        Some(Value::Uint(n)) => n.into(),
        Some(Value::Bool(b)) => b.into(),
        Some(Value::Ip(ip)) => ip.to_string().into(),
        Some(Value::List(items)) => {
            serde_json::Value::Array(items.into_iter().map(|i| json_value(Some(i))).collect())
        }
    }
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Where alerts go and what follows them.
struct Sink<'a> {
    ctx: &'a Context,
    format: AlertFormat,
    out: Box<dyn Write>,
    webhook: Option<Webhook>,
    actions: Option<Actions>,
    responder: Responder,
    live: bool,
    alerts: u64,
    matched: Vec<&'a Rule>,
}

impl<'a> Sink<'a> {
    fn evaluate(&mut self, rules: &'a RuleSet, ev: &SysEvent, state: &State) -> anyhow::Result<()> {
        let view = EventView::new(ev, state);
        self.matched.clear();
        rules.evaluate_into(&view, &mut self.matched);
        if self.matched.is_empty() {
            return Ok(());
        }
        let matched = std::mem::take(&mut self.matched);
        for rule in &matched {
            let raised = Instant::now();
            let (message, fields) = rule.format_output(&view);
            let output_fields: BTreeMap<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k, json_value(v))).collect();
            let alert = Alert::new(
                ev.ts,
                &rule.name,
                rule.priority.name(),
                message.trim(),
                output_fields,
                rule.tags.clone(),
                &state.hostname,
            );
            let line = match self.format {
                AlertFormat::Text => alert.output.clone(),
                AlertFormat::Json => alert.to_json(),
            };
            writeln!(self.out, "{line}").context("writing an alert")?;
            self.out.flush().context("writing an alert")?;
            self.alerts += 1;
            if self.live {
                self.ctx.ui.debug(format!(
                    "alert {:?} raised {:.1} ms after the event",
                    rule.name,
                    now_ns().saturating_sub(ev.ts) as f64 / 1e6
                ));
            }
            if let Some(hook) = &self.webhook {
                hook.send(&alert);
            }
            let Some(actions) = &self.actions else { continue };
            if !self.live {
                continue;
            }
            let json = alert.to_json();
            for action in actions.for_rule(&rule.name, rule.priority.name()) {
                for o in self.responder.run(action, &view, &json, raised) {
                    let took = o.after_alert.as_secs_f64() * 1e3;
                    match &o.result {
                        Ok(()) => self.ctx.ui.info(format!(
                            "response {} {} for {:?}: done {took:.2} ms after the alert",
                            o.action, o.target, rule.name
                        )),
                        Err(e) => self.ctx.ui.warn(format!(
                            "response {} {} for {:?} failed after {took:.2} ms: {e}",
                            o.action, o.target, rule.name
                        )),
                    }
                }
            }
        }
        self.matched = matched;
        Ok(())
    }
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    })
}

pub fn run(ctx: &Context, args: WatchArgs) -> anyhow::Result<u8> {
    if let Some(d) = args.duration
        && (!d.is_finite() || d < 0.0)
    {
        return Err(UsageError(format!("--duration {d}: expected a number of seconds >= 0")).into());
    }
    let (rules, warnings) = load_rules(&args)?;
    for w in &warnings {
        ctx.ui.warn(w);
    }
    let actions = match &args.actions {
        Some(p) => Some(Actions::load(p).map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    let webhook = match &args.alert_webhook {
        Some(url) => {
            let dir = args
                .webhook_queue
                .clone()
                .unwrap_or_else(|| ctx.cache_dir.join("watch").join("webhook-queue"));
            Some(Webhook::start(url, &dir, Duration::from_secs(5))?)
        }
        None => None,
    };
    let mut sink = Sink {
        ctx,
        format: args.format,
        out: open_output(args.output.as_deref())?,
        webhook,
        actions,
        responder: Responder::default(),
        live: args.replay.is_none(),
        alerts: 0,
        matched: Vec::new(),
    };
    let events = match &args.replay {
        Some(path) => replay(&rules, &mut sink, path)?,
        None => live(ctx, &args, &rules, &mut sink)?,
    };
    sink.out.flush().context("writing alerts")?;
    if let Some(hook) = sink.webhook.take() {
        let stats = hook.finish();
        if stats.pending > 0 {
            ctx.ui.warn(format!(
                "webhook: {} alert(s) not delivered yet, kept in the queue for the next run",
                stats.pending
            ));
        }
    }
    ctx.ui.info(format!("{events} events, {} alerts", sink.alerts));
    Ok(0)
}

fn replay<'a>(rules: &'a RuleSet, sink: &mut Sink<'a>, path: &Path) -> anyhow::Result<u64> {
    let mut rp = Replay::open(path).map_err(|e| UsageError(e.to_string()))?;
    if sink.actions.is_some() {
        sink.ctx.ui.warn("replay: response actions are not run on recorded events");
    }
    let mut n = 0;
    while let Some(ev) = rp.next_event()? {
        sink.evaluate(rules, &ev, &rp.state)?;
        rp.state.retire(&ev);
        n += 1;
    }
    Ok(n)
}

/// Lost events are reported even under `--quiet`: rules may have missed them.
#[cfg(target_os = "linux")]
fn lost(msg: String) {
    eprintln!("rampart: warning: {msg}");
}

#[cfg(target_os = "linux")]
fn live<'a>(ctx: &Context, args: &WatchArgs, rules: &'a RuleSet, sink: &mut Sink<'a>) -> anyhow::Result<u64> {
    use rampart_runtime::sensor::Sensor;

    let emit: Vec<u32> = match rules.event_types() {
        EventTypes::All => syscalls::SYSCALLS.iter().map(|(nr, _)| *nr).collect(),
        EventTypes::Only(types) => {
            let (emit, unknown) = syscalls::selection(types.iter().map(String::as_str));
            if !unknown.is_empty() {
                ctx.ui.warn(format!(
                    "the sensor does not capture these event types; rules on them never fire: {}",
                    unknown.join(", ")
                ));
            }
            emit
        }
    };
    ctx.ui.debug(format!(
        "capturing {} syscalls: {}",
        emit.len(),
        emit.iter().filter_map(|nr| syscalls::name(*nr)).collect::<Vec<_>>().join(", ")
    ));
    let mut sensor = Sensor::start(&emit).map_err(|e| anyhow!("{e}"))?;
    // Opens no rule can match are dropped in the kernel.
    if let Some(needs) = rules.open_filter() {
        sensor.filter_opens(&needs).map_err(|e| anyhow!("{e}"))?;
        ctx.ui.debug(format!("opens filtered in the kernel: {} path/flag alternatives kept", needs.len()));
    }
    let mut state = State::from_host();
    if let Some(path) = &args.image_files {
        let text =
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        state.image_files = Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect(),
        );
    }
    let mut recorder = match &args.record {
        Some(p) => Some(Recorder::create(p, &state)?),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("installing a signal handler")?;
    }
    let deadline = args.duration.map(|d| Instant::now() + Duration::from_secs_f64(d));
    ctx.ui.info(format!("watching: {} rules loaded", rules.rules().iter().filter(|r| r.enabled).count()));
    let mut raws = Vec::with_capacity(4096);
    let mut events = 0u64;
    let mut reported_drops = 0;
    let mut last_drop_check = Instant::now();
    loop {
        raws.clear();
        sensor.poll(&mut raws, Duration::from_millis(50));
        for raw in &raws {
            let ev = state.ingest(raw);
            if let Some(rec) = recorder.as_mut() {
                rec.write(&ev, &state).context("writing the recording")?;
            }
            sink.evaluate(rules, &ev, &state)?;
            state.retire(&ev);
            events += 1;
        }
        if last_drop_check.elapsed() >= Duration::from_secs(1) {
            last_drop_check = Instant::now();
            let drops = sensor.drops();
            if drops > reported_drops {
                lost(format!(
                    "sensor: {} events dropped (ring buffer full), {drops} in total",
                    drops - reported_drops
                ));
                reported_drops = drops;
            }
        }
        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    // What is still in the ring buffer happened before the stop.
    loop {
        raws.clear();
        if sensor.poll(&mut raws, Duration::ZERO) == 0 {
            break;
        }
        for raw in &raws {
            let ev = state.ingest(raw);
            if let Some(rec) = recorder.as_mut() {
                rec.write(&ev, &state).context("writing the recording")?;
            }
            sink.evaluate(rules, &ev, &state)?;
            state.retire(&ev);
            events += 1;
        }
    }
    if let Some(mut rec) = recorder {
        rec.flush().context("writing the recording")?;
    }
    let drops = sensor.drops();
    if drops > 0 {
        lost(format!("sensor: {drops} events dropped in total (ring buffer full)"));
    }
    if sensor.decode_errors() > 0 {
        lost(format!("sensor: {} records could not be decoded", sensor.decode_errors()));
    }
    Ok(events)
}

#[cfg(not(target_os = "linux"))]
fn live<'a>(_: &Context, _: &WatchArgs, _: &'a RuleSet, _: &mut Sink<'a>) -> anyhow::Result<u64> {
    Err(UsageError("live watching needs Linux (eBPF); use --replay".into()).into())
}
