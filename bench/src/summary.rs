//! The head of a results file (machine, server, date, command) and the closing table of the
//! issue's targets against this run's figures.

use crate::report::Table;
use crate::{pg, stats, Plan};
use std::fmt::Write as _;

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub async fn header(admin: &pg::Admin, plan: &Plan, args: &[String]) -> Result<String, String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    let mut text = String::new();
    let _ = writeln!(text, "### bluefox-bench, {} mode\n", plan.mode);
    let _ = writeln!(
        text,
        "- date: {}",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    // The harness's own profile: `--smoke` runs unoptimised (as CI runs it), the timed modes not.
    let release = match cfg!(debug_assertions) {
        true => "",
        false => " --release",
    };
    let _ = writeln!(
        text,
        "- command: `cargo run{release} --manifest-path bench/Cargo.toml -- {}`",
        args.join(" ")
    );
    let _ = writeln!(
        text,
        "- commit: {}",
        command_output("git", &["rev-parse", "--short", "HEAD"])
    );
    let _ = writeln!(
        text,
        "- machine: {cpu}, {} cores, {:.0} GiB; {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        mem as f64 / 1024.0 / 1024.0,
        command_output("uname", &["-sr"])
    );
    let _ = writeln!(
        text,
        "- server: {} on {}:{} (loopback, TLS off), fsync {}, synchronous_commit {}",
        admin
            .version()
            .await?
            .split(" on ")
            .next()
            .unwrap_or_default(),
        admin.server().host,
        admin.server().port,
        admin.setting("fsync").await?,
        admin.setting("synchronous_commit").await?
    );
    let _ = writeln!(
        text,
        "- {} rounds per case ({} for boots), contenders alternated per round; apps built with the {} profile; medians, min–max, and the median of per-round ratios",
        plan.rounds,
        plan.boot_rounds(),
        plan.profile.dir()
    );
    Ok(text)
}

/// The targets against this run's figures.
pub fn targets(tables: &[Table], plan: &Plan) -> String {
    let max = plan.sizes.iter().copied().max().unwrap_or(0);
    let find = |prefix: &str| tables.iter().find(|t| t.title.starts_with(prefix));
    let mut out =
        String::from("#### Targets (issue 7)\n\n| target | this run | met |\n|---|---:|---|\n");
    let mut line = |what: String, value: Option<f64>, unit: &str, ok: fn(f64) -> bool| {
        let (shown, met) = match value {
            Some(v) => (format!("{v:.2}{unit}"), if ok(v) { "yes" } else { "no" }),
            None => ("–".to_string(), "–"),
        };
        let _ = writeln!(out, "| {what} | {shown} | {met} |");
    };
    let apply_fn = find(&format!("(1) apply {max} function"));
    let apply_tbl = find(&format!("(1) apply {max} table"));
    line(
        format!("(1) {max} function migrations: bluefox ≤ 1.25 × psql -1"),
        apply_fn.and_then(|t| t.ratio("bluefox", "psql -1")),
        "×",
        |v| v <= 1.25,
    );
    line(
        format!("(1) {max} table+index migrations: bluefox ≤ 1.05 × psql -1"),
        apply_tbl.and_then(|t| t.ratio("bluefox", "psql -1")),
        "×",
        |v| v <= 1.05,
    );
    for (shape, label) in [("function", "function"), ("table", "table+index")] {
        let boot = find(&format!("(2) boot with {max} {shape}"));
        line(
            format!("(2) boot, {max} {label} applied: bluefox ≤ 1.10 × bare"),
            boot.and_then(|t| t.ratio("bluefox", "bare")),
            "×",
            |v| v <= 1.10,
        );
    }
    for (i, which) in ["empty OUT_DIR", "rerun, inputs unchanged"]
        .iter()
        .enumerate()
    {
        let script = find("(3) bluefox-build's build script")
            .and_then(|t| t.rows.get(i))
            .and_then(|r| stats::summary(&r.wall_ms))
            .map(|s| s.median);
        line(
            format!("(3) build script < 50 ms ({which})"),
            script,
            " ms",
            |v| v < 50.0,
        );
    }
    let n = plan.rebuild_n;
    for (profile, limit) in [("dev", 1.15), ("release", 1.5)] {
        let t = find(&format!("(3) {profile} rebuild"));
        let ratio = t.and_then(|t| {
            t.ratio(
                &format!("bluefox, {n} migrations, touch main.rs"),
                "bluefox, 0 migrations, touch main.rs",
            )
        });
        let ok: fn(f64) -> bool = if profile == "dev" {
            |v| v <= 1.15
        } else {
            |v| v <= 1.5
        };
        line(
            format!(
                "(3) {profile} rebuild after touching main.rs, {n} migrations ≤ {limit} × none"
            ),
            ratio,
            "×",
            ok,
        );
    }
    let cli = find("(4)");
    let median = |prefix: &str| {
        cli.and_then(|t| t.rows.iter().find(|r| r.name.starts_with(prefix)))
            .and_then(|r| stats::summary(&r.wall_ms))
            .map(|s| s.median)
    };
    line(
        "(4) bluefox make < 1 s".into(),
        median("bluefox make"),
        " ms",
        |v| v < 1000.0,
    );
    line(
        "(4) bluefox check < 0.5 s".into(),
        median("bluefox check"),
        " ms",
        |v| v < 500.0,
    );
    line(
        "(4) upgrade head --sql < 0.5 s".into(),
        median("bluefox upgrade"),
        " ms",
        |v| v < 500.0,
    );
    for (prefix, case) in [
        (format!("(1) apply {max} table"), "(1)"),
        (format!("(2) boot with {max} table"), "(2)"),
    ] {
        let rss = |t: &Table, name: &str| {
            t.row(name)
                .and_then(|r| {
                    stats::summary(&r.rss_kib.iter().map(|k| *k as f64).collect::<Vec<_>>())
                })
                .map(|s| s.median)
        };
        let value = find(&prefix).and_then(|t| Some(rss(t, "bluefox")? / rss(t, "sqlx")?));
        line(
            format!("(5) {case} max RSS: bluefox ≤ sqlx"),
            value,
            "×",
            |v| v <= 1.0,
        );
    }
    out
}
