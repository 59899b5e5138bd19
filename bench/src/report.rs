//! Printing results as ratios to the first client (raw hyper-util, or the
//! session without the layer being measured).

use std::fmt;
use std::time::Duration;

pub struct Row {
    pub name: &'static str,
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub cpu_per_req: Duration,
    /// The throughput ratio to the first client, when measured pairwise
    /// (the median of the rounds' ratios); otherwise the ratio of `rps`.
    pub ratio: Option<f64>,
}

pub struct Table {
    pub title: String,
    pub rows: Vec<Row>,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {}", self.title)?;
        writeln!(
            f,
            "{:<22} {:>10} {:>7} {:>10} {:>10} {:>10} {:>9}",
            "client", "req/s", "ratio", "p50", "p99", "cpu/req", "cpu ratio"
        )?;
        let base = self.rows.first();
        for r in &self.rows {
            let (ratio, cpu_ratio) = match base {
                Some(b) => (
                    r.ratio.unwrap_or(r.rps / b.rps),
                    r.cpu_per_req.as_secs_f64() / b.cpu_per_req.as_secs_f64(),
                ),
                None => (f64::NAN, f64::NAN),
            };
            writeln!(
                f,
                "{:<22} {:>10.0} {:>6.2}x {:>10.1?} {:>10.1?} {:>10.2?} {:>8.2}x",
                r.name, r.rps, ratio, r.p50, r.p99, r.cpu_per_req, cpu_ratio
            )?;
        }
        Ok(())
    }
}
