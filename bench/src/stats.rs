//! Samples and their summaries: medians with their spread, percentiles, and the
//! alternating rounds every comparison runs in.

use std::time::Duration;

/// How big a run is: `Tiny` proves each benchmark still runs (the test command), `Full`
/// measures (`cargo xtask bench`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// Seconds in all: one warm-up round and one measured round of a few operations.
    Tiny,
    /// The figures of the report.
    Full,
}

impl Size {
    /// `tiny` when it is tiny, `full` otherwise.
    pub fn pick<T>(self, tiny: T, full: T) -> T {
        match self {
            Size::Tiny => tiny,
            Size::Full => full,
        }
    }

    /// Measured rounds after the warm-up round.
    pub fn rounds(self) -> usize {
        self.pick(1, 5)
    }
}

/// A median with the smallest and largest value it was taken from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The median and range of `values` (at least one).
    ///
    /// ```
    /// let s = streamdoc_bench::stats::Spread::of(&[3.0, 1.0, 2.0]);
    /// assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
    /// ```
    pub fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let median = if v.is_empty() {
            f64::NAN
        } else if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        Spread { median, min: v.first().copied().unwrap_or(f64::NAN), max: v.last().copied().unwrap_or(f64::NAN) }
    }

    /// `median (min–max)` with `digits` decimals.
    pub fn show(&self, digits: usize) -> String {
        format!("{:.d$} ({:.d$}–{:.d$})", self.median, self.min, self.max, d = digits)
    }
}

/// The `p`-th percentile (0–100) of `latencies`, nearest rank.
pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut v = latencies.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// One round of a contender: how many operations, how long in all, each one's latency.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Operations completed.
    pub ops: usize,
    /// Wall time of the round.
    pub elapsed: Duration,
    /// Each operation's latency.
    pub latencies: Vec<Duration>,
}

impl Round {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Microseconds of the `p`-th percentile latency.
    pub fn p_us(&self, p: f64) -> f64 {
        percentile(&self.latencies, p).as_secs_f64() * 1e6
    }
}

/// The rounds of one contender, summarised.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Operations per second.
    pub per_second: Spread,
    /// Median latency, µs.
    pub p50_us: Spread,
    /// 99th percentile latency, µs.
    pub p99_us: Spread,
}

impl Summary {
    /// The summary of measured rounds.
    pub fn of(rounds: &[Round]) -> Summary {
        let f = |g: &dyn Fn(&Round) -> f64| Spread::of(&rounds.iter().map(g).collect::<Vec<_>>());
        Summary { per_second: f(&Round::per_second), p50_us: f(&|r| r.p_us(50.0)), p99_us: f(&|r| r.p_us(99.0)) }
    }
}
