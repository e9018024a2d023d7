//! `/metrics` in Prometheus' text format: the queue (from the store, so it counts every
//! process's checks) and what this process's workers did (checks finished, failed, retried and
//! handed back, a check-duration histogram, language-model tokens).
//!
//! Why counters in memory: they are per process by nature (Prometheus scrapes each process and
//! sums), cost an atomic add per check, and need no table.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use factually_report::Report;
use factually_store::Status;

/// Upper bounds of the check-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0];

/// What this process's workers did.
#[derive(Default)]
pub struct Metrics {
    finished: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    handed_back: AtomicU64,
    /// Counts per bucket of [`BUCKETS`] (not cumulative; summed when rendered), then `+Inf`.
    durations: [AtomicU64; BUCKETS.len() + 1],
    duration_ms_sum: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

/// How a check's attempt ended, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    Failed,
    /// It failed and went back to the queue for another attempt.
    Retried,
    /// The worker stopped and handed it back unfinished.
    HandedBack,
}

impl Metrics {
    /// Records one attempt that took `took`; `report` when it produced one.
    pub fn record(&self, outcome: Outcome, took: Duration, report: Option<&Report>) {
        let counter = match outcome {
            Outcome::Finished => &self.finished,
            Outcome::Failed => &self.failed,
            Outcome::Retried => &self.retried,
            Outcome::HandedBack => &self.handed_back,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if outcome == Outcome::Finished {
            let seconds = took.as_secs_f64();
            let bucket = BUCKETS
                .iter()
                .position(|&bound| seconds <= bound)
                .unwrap_or(BUCKETS.len());
            self.durations[bucket].fetch_add(1, Ordering::Relaxed);
            self.duration_ms_sum
                .fetch_add(took.as_millis() as u64, Ordering::Relaxed);
        }
        if let Some(llm) = report.and_then(|r| r.llm.as_ref()) {
            let prompt = llm.analysis_tokens.prompt + llm.synthesis_tokens.prompt;
            let completion = llm.analysis_tokens.completion + llm.synthesis_tokens.completion;
            self.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
            self.completion_tokens
                .fetch_add(completion, Ordering::Relaxed);
        }
    }

    /// The exposition text: `queue` is the number of checks per status in the store.
    pub fn render(&self, queue: &[(Status, u64)]) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP factually_checks Checks in the store by status (all processes).\n");
        out.push_str("# TYPE factually_checks gauge\n");
        for status in [
            Status::Queued,
            Status::Running,
            Status::Done,
            Status::Failed,
        ] {
            let n = queue
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(
                out,
                "factually_checks{{status=\"{}\"}} {n}",
                status.as_str()
            );
        }
        out.push_str(
            "# HELP factually_check_attempts_total Check attempts this process's workers ended, by outcome.\n",
        );
        out.push_str("# TYPE factually_check_attempts_total counter\n");
        for (outcome, counter) in [
            ("finished", &self.finished),
            ("failed", &self.failed),
            ("retried", &self.retried),
            ("handed_back", &self.handed_back),
        ] {
            let _ = writeln!(
                out,
                "factually_check_attempts_total{{outcome=\"{outcome}\"}} {}",
                get(counter)
            );
        }
        out.push_str(
            "# HELP factually_check_duration_seconds Time from claim to report of finished checks.\n",
        );
        out.push_str("# TYPE factually_check_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += get(&self.durations[i]);
            let _ = writeln!(
                out,
                "factually_check_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += get(&self.durations[BUCKETS.len()]);
        let _ = writeln!(
            out,
            "factually_check_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "factually_check_duration_seconds_sum {}",
            get(&self.duration_ms_sum) as f64 / 1000.0
        );
        let _ = writeln!(out, "factually_check_duration_seconds_count {cumulative}");
        out.push_str("# HELP factually_llm_tokens_total Language-model tokens spent by this process's checks.\n");
        out.push_str("# TYPE factually_llm_tokens_total counter\n");
        let _ = writeln!(
            out,
            "factually_llm_tokens_total{{kind=\"prompt\"}} {}",
            get(&self.prompt_tokens)
        );
        let _ = writeln!(
            out,
            "factually_llm_tokens_total{{kind=\"completion\"}} {}",
            get(&self.completion_tokens)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_only_finished_checks() {
        let m = Metrics::default();
        m.record(Outcome::Finished, Duration::from_millis(300), None);
        m.record(Outcome::Finished, Duration::from_secs(3), None);
        m.record(Outcome::Finished, Duration::from_secs(1000), None);
        m.record(Outcome::Failed, Duration::from_secs(1), None);
        m.record(Outcome::HandedBack, Duration::from_secs(1), None);
        let text = m.render(&[(Status::Queued, 4), (Status::Done, 3)]);
        for line in [
            "factually_checks{status=\"queued\"} 4",
            "factually_checks{status=\"running\"} 0",
            "factually_check_attempts_total{outcome=\"finished\"} 3",
            "factually_check_attempts_total{outcome=\"failed\"} 1",
            "factually_check_attempts_total{outcome=\"handed_back\"} 1",
            "factually_check_duration_seconds_bucket{le=\"0.5\"} 1",
            "factually_check_duration_seconds_bucket{le=\"2\"} 1",
            "factually_check_duration_seconds_bucket{le=\"5\"} 2",
            "factually_check_duration_seconds_bucket{le=\"300\"} 2",
            "factually_check_duration_seconds_bucket{le=\"+Inf\"} 3",
            "factually_check_duration_seconds_sum 1003.3",
            "factually_check_duration_seconds_count 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
