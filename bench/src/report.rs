//! Results as markdown tables: one row per contender, medians, min–max and the ratio to the
//! reference, with the server's work and the process's peak memory beside them.

use crate::pg::Work;
use crate::stats::{self, ms, ms_range};
use std::fmt::Write as _;

/// One contender's samples in one case.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Its name.
    pub name: String,
    /// Wall times, ms, one per round (round order).
    pub wall_ms: Vec<f64>,
    /// Peak RSS per round, KiB.
    pub rss_kib: Vec<u64>,
    /// The server's work per round.
    pub work: Vec<Work>,
    /// Round trips counted in the relay pass, and connections opened.
    pub round_trips: Option<(u64, u64)>,
    /// The row its ratio is taken against, when not the table's reference.
    pub baseline: Option<String>,
}

/// One case: a title, its reference contender and the rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// What was measured.
    pub title: String,
    /// The name of the row the ratios are taken against.
    pub reference: String,
    /// How many migrations each row applied (for per-migration figures); 0 for none.
    pub migrations: usize,
    /// The rows.
    pub rows: Vec<Row>,
}

fn median_u64(values: impl Iterator<Item = u64>) -> Option<u64> {
    let samples: Vec<f64> = values.map(|v| v as f64).collect();
    stats::summary(&samples).map(|s| s.median.round() as u64)
}

impl Table {
    /// The table as markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("#### {}\n\n", self.title);
        let with_work = self.rows.iter().any(|r| !r.work.is_empty());
        let per = |v: u64| match self.migrations {
            0 => format!("{v}"),
            n => format!("{v} ({:.2}/m)", v as f64 / n as f64),
        };
        let label = if self.rows.iter().any(|r| r.baseline.is_some()) {
            "baseline"
        } else {
            &self.reference
        };
        out.push_str(format!("| contender | median ms | min–max ms | × {label}").trim_end());
        if with_work {
            out.push_str(" | commits | WAL syncs | WAL KiB | round trips");
        }
        out.push_str(" | max RSS MiB |\n|---|---:|---:|---:|");
        if with_work {
            out.push_str("---:|---:|---:|---:|");
        }
        out.push_str("---:|\n");
        let reference = self.rows.iter().find(|r| r.name == self.reference);
        for row in &self.rows {
            let Some(summary) = stats::summary(&row.wall_ms) else {
                continue;
            };
            let (median, range) = ms_range(&summary);
            let base = match &row.baseline {
                Some(name) => self.rows.iter().find(|r| &r.name == name),
                None => reference,
            };
            let ratio = base
                .and_then(|r| stats::ratio(&row.wall_ms, &r.wall_ms))
                .map_or_else(|| "–".to_string(), |x| format!("{x:.2}"));
            let _ = write!(out, "| {} | {median} | {range} | {ratio} |", row.name);
            if with_work {
                let commits = median_u64(row.work.iter().map(|w| w.commits));
                let syncs = median_u64(row.work.iter().map(|w| w.wal_syncs));
                let bytes = median_u64(row.work.iter().map(|w| w.wal_bytes));
                let show = |v: Option<u64>| v.map_or_else(|| "–".to_string(), per);
                let trips = row
                    .round_trips
                    .map_or_else(|| "–".to_string(), |(t, _)| per(t));
                let _ = write!(
                    out,
                    " {} | {} | {} | {trips} |",
                    show(commits),
                    show(syncs),
                    bytes.map_or_else(|| "–".to_string(), |b| format!("{}", b / 1024)),
                );
            }
            let rss = median_u64(row.rss_kib.iter().copied())
                .map_or_else(|| "–".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
            let _ = writeln!(out, " {rss} |");
        }
        out
    }

    /// The row named `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The median of the per-round ratios of row `a` to row `b`.
    pub fn ratio(&self, a: &str, b: &str) -> Option<f64> {
        stats::ratio(&self.row(a)?.wall_ms, &self.row(b)?.wall_ms)
    }
}

/// A one-line summary of a table for the progress log.
pub fn brief(table: &Table) -> String {
    let parts: Vec<String> = table
        .rows
        .iter()
        .filter_map(|r| {
            stats::summary(&r.wall_ms).map(|s| format!("{} {} ms", r.name, ms(s.median)))
        })
        .collect();
    format!("{}: {}", table.title, parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ratios_against_the_reference() {
        let table = Table {
            title: "t".into(),
            reference: "psql".into(),
            migrations: 10,
            rows: vec![
                Row {
                    name: "psql".into(),
                    wall_ms: vec![10.0, 20.0],
                    rss_kib: vec![2048],
                    work: vec![Work {
                        commits: 1,
                        wal_syncs: 1,
                        wal_bytes: 4096,
                    }],
                    round_trips: Some((12, 1)),
                    baseline: None,
                },
                Row {
                    name: "x".into(),
                    wall_ms: vec![15.0, 40.0],
                    rss_kib: vec![4096],
                    work: vec![],
                    round_trips: None,
                    baseline: None,
                },
            ],
        };
        let md = table.markdown();
        assert!(md.contains("| psql | 15.0 | 10.0–20.0 | 1.00 | 1 (0.10/m) | 1 (0.10/m) | 4 | 12 (1.20/m) | 2.0 |"), "{md}");
        assert!(
            md.contains("| x | 27.5 | 15.0–40.0 | 1.75 | – | – | – | – | 4.0 |"),
            "{md}"
        );
    }
}
