//! Counters and the latency histogram, rendered in Prometheus' text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0,
];

#[derive(Default)]
pub struct Metrics {
    allowed: AtomicU64,
    denied: AtomicU64,
    exempt: AtomicU64,
    warnings: AtomicU64,
    /// Evaluations that failed with an error.
    errors: AtomicU64,
    /// Evaluations that missed the deadline.
    timeouts: AtomicU64,
    /// Answers decided by the failure policy rather than by evaluation.
    failure_allowed: AtomicU64,
    failure_denied: AtomicU64,
    bad_requests: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// How a request ended, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Exempt,
}

impl Metrics {
    pub fn record(&self, outcome: Outcome, warnings: usize, elapsed: Duration) {
        match outcome {
            Outcome::Allowed => &self.allowed,
            Outcome::Denied => &self.denied,
            Outcome::Exempt => &self.exempt,
        }
        .fetch_add(1, Relaxed);
        self.warnings.fetch_add(warnings as u64, Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(elapsed.as_nanos().min(u64::MAX as u128) as u64, Relaxed);
    }

    pub fn evaluation_error(&self, timeout: bool) {
        if timeout { &self.timeouts } else { &self.errors }.fetch_add(1, Relaxed);
    }

    pub fn failure_policy(&self, allowed: bool) {
        if allowed { &self.failure_allowed } else { &self.failure_denied }.fetch_add(1, Relaxed);
    }

    pub fn bad_request(&self) {
        self.bad_requests.fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let g = |a: &AtomicU64| a.load(Relaxed);
        s.push_str("# HELP rampart_admission_requests_total Admission reviews answered, by decision.\n");
        s.push_str("# TYPE rampart_admission_requests_total counter\n");
        for (d, v) in [("allowed", &self.allowed), ("denied", &self.denied), ("exempt", &self.exempt)] {
            let _ = writeln!(s, "rampart_admission_requests_total{{decision=\"{d}\"}} {}", g(v));
        }
        s.push_str("# HELP rampart_admission_warnings_total Warnings returned to clients.\n");
        s.push_str("# TYPE rampart_admission_warnings_total counter\n");
        let _ = writeln!(s, "rampart_admission_warnings_total {}", g(&self.warnings));
        s.push_str(
            "# HELP rampart_admission_evaluation_errors_total Policy evaluations that failed, by cause.\n",
        );
        s.push_str("# TYPE rampart_admission_evaluation_errors_total counter\n");
        let _ =
            writeln!(s, "rampart_admission_evaluation_errors_total{{cause=\"error\"}} {}", g(&self.errors));
        let _ = writeln!(
            s,
            "rampart_admission_evaluation_errors_total{{cause=\"timeout\"}} {}",
            g(&self.timeouts)
        );
        s.push_str("# HELP rampart_admission_failure_policy_total Answers decided by the failure policy.\n");
        s.push_str("# TYPE rampart_admission_failure_policy_total counter\n");
        let _ = writeln!(
            s,
            "rampart_admission_failure_policy_total{{allowed=\"true\"}} {}",
            g(&self.failure_allowed)
        );
        let _ = writeln!(
            s,
            "rampart_admission_failure_policy_total{{allowed=\"false\"}} {}",
            g(&self.failure_denied)
        );
        s.push_str(
            "# HELP rampart_admission_bad_requests_total Requests that were not valid AdmissionReviews.\n",
        );
        s.push_str("# TYPE rampart_admission_bad_requests_total counter\n");
        let _ = writeln!(s, "rampart_admission_bad_requests_total {}", g(&self.bad_requests));
        s.push_str("# HELP rampart_admission_request_duration_seconds Time from request body to answer.\n");
        s.push_str("# TYPE rampart_admission_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += g(n);
            let _ =
                writeln!(s, "rampart_admission_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = g(&self.count);
        let _ = writeln!(s, "rampart_admission_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ =
            writeln!(s, "rampart_admission_request_duration_seconds_sum {}", g(&self.sum_nanos) as f64 / 1e9);
        let _ = writeln!(s, "rampart_admission_request_duration_seconds_count {count}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record(Outcome::Allowed, 1, Duration::from_micros(300));
        m.record(Outcome::Denied, 0, Duration::from_millis(3));
        m.record(Outcome::Denied, 0, Duration::from_secs(31));
        m.evaluation_error(true);
        m.failure_policy(false);
        let text = m.render();
        for line in [
            "rampart_admission_requests_total{decision=\"allowed\"} 1",
            "rampart_admission_requests_total{decision=\"denied\"} 2",
            "rampart_admission_warnings_total 1",
            "rampart_admission_evaluation_errors_total{cause=\"timeout\"} 1",
            "rampart_admission_failure_policy_total{allowed=\"false\"} 1",
            "rampart_admission_request_duration_seconds_bucket{le=\"0.00025\"} 0",
            "rampart_admission_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "rampart_admission_request_duration_seconds_bucket{le=\"0.005\"} 2",
            "rampart_admission_request_duration_seconds_bucket{le=\"10\"} 2",
            "rampart_admission_request_duration_seconds_bucket{le=\"30\"} 2",
            "rampart_admission_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "rampart_admission_request_duration_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
