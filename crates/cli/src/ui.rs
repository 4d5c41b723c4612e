//! What the user sees besides the report: warnings, debug timings and
//! progress bars (only on a terminal, never with `--quiet`/`--no-progress`).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rampart_types::{Diagnostic, Progress};

pub struct Ui {
    quiet: bool,
    debug: bool,
    bars: bool,
    started: Instant,
}

impl Ui {
    pub fn new(quiet: bool, debug: bool, no_progress: bool) -> Ui {
        let bars = !quiet && !no_progress && std::io::stderr().is_terminal();
        Ui { quiet, debug, bars, started: Instant::now() }
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("rampart: {}", msg.as_ref());
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("rampart: warning: {}", msg.as_ref());
        }
    }

    pub fn warn_diagnostics(&self, diags: &[Diagnostic]) {
        for d in diags {
            self.warn(d.to_string());
        }
    }

    /// Logs a step with the time since start, under `--debug`.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.debug {
            eprintln!("rampart: debug: [{:>8.3}s] {}", self.started.elapsed().as_secs_f64(), msg.as_ref());
        }
    }

    pub fn progress(&self) -> Bar {
        Bar { enabled: self.bars, bar: Mutex::new(None) }
    }
}

/// An indicatif bar behind the library crates' `Progress` trait.
pub struct Bar {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn start(&self, label: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{msg:>12} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {human_pos}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut slot) = self.bar.lock()
            && let Some(old) = slot.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
