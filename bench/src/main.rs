//! bluefox-bench: bluefox against refinery, sqlx and psql on the same PostgreSQL (issue 7).
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- --quick   # a few minutes
//! cargo run --release --manifest-path bench/Cargo.toml -- --full    # N up to 1000, release rebuilds
//! cargo run --release --manifest-path bench/Cargo.toml -- --smoke   # CI: everything runs once, tiny N
//! ```
//!
//! Options: `--sizes 1000` and `--shapes function` (only those cases), `--url postgres://user@host:port/db` (else `BENCH_DATABASE_URL`, else
//! `TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`), `--rounds N`, `--out FILE` (default
//! `bench/target/bench-results.md`). It creates and drops databases named `bluefox_bench_*`.

mod apps;
mod build_cases;
mod gen;
mod pg;
mod process;
mod proxy;
mod report;
mod run_cases;
mod stats;
mod summary;

use apps::{Apps, Profile};
use gen::Shape;
use report::{Row, Table};
use run_cases::Contender;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Boot rounds per round of the other cases: a boot takes milliseconds and its ratio to bare
/// moves by tenths between runs of five rounds (1.14 x and 1.58 x for the same commit), while
/// sixty rounds agree to a few hundredths and cost a few seconds.
const BOOT_ROUNDS_PER_ROUND: usize = 12;

/// How much to measure.
#[derive(Debug, Clone)]
struct Plan {
    mode: &'static str,
    sizes: Vec<usize>,
    rounds: usize,
    profile: Profile,
    rebuild_n: usize,
    rebuild_profiles: Vec<Profile>,
    rebuild_rounds: usize,
    models: (usize, usize),
    runtime_only: bool,
    /// Only the build-time cases (3 and 4 but the offline SQL, which reads case 1's migrations).
    build_only: bool,
}

impl Plan {
    /// Rounds of the boot cases.
    fn boot_rounds(&self) -> usize {
        self.rounds * BOOT_ROUNDS_PER_ROUND
    }

    fn new(mode: &str) -> Option<Plan> {
        Some(match mode {
            "--smoke" => Plan {
                mode: "smoke",
                sizes: vec![10],
                rounds: 1,
                profile: Profile::Dev,
                rebuild_n: 10,
                rebuild_profiles: vec![],
                rebuild_rounds: 1,
                models: (100, 10),
                runtime_only: false,
                build_only: false,
            },
            "--quick" => Plan {
                mode: "quick",
                sizes: vec![10, 100],
                rounds: 3,
                profile: Profile::Release,
                rebuild_n: 100,
                rebuild_profiles: vec![Profile::Dev],
                rebuild_rounds: 2,
                models: (1000, 100),
                runtime_only: false,
                build_only: false,
            },
            "--full" => Plan {
                mode: "full",
                sizes: vec![10, 100, 1000],
                rounds: 5,
                profile: Profile::Release,
                rebuild_n: 1000,
                rebuild_profiles: vec![Profile::Dev, Profile::Release],
                rebuild_rounds: 2,
                models: (1000, 100),
                runtime_only: false,
                build_only: false,
            },
            _ => return None,
        })
    }
}

const USAGE: &str = "usage: bluefox-bench --quick|--full|--smoke [--runtime-only | --build-only] [--rebuilds dev,release] [--sizes N,N,...] [--shapes function,table] [--url URL] [--rounds N] [--out FILE]";

/// A comma-separated option value (`--sizes 10,100`), each item read by `item`; the usage text
/// when the value is missing or an item is not understood.
fn list<T>(value: Option<&String>, item: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    let items: Option<Vec<T>> = value
        .ok_or(USAGE)?
        .split(',')
        .map(|s| item(s.trim()))
        .collect();
    items.ok_or_else(|| USAGE.to_string())
}

fn main() {
    // Before anything else, so the trampoline holds as little memory as it can.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(process::TRAMPOLINE_ARG) {
        std::process::exit(process::trampoline(&args[2..]));
    }
    match std::env::current_exe() {
        Ok(bench) => process::use_trampoline(bench),
        Err(e) => eprintln!(
            "bench: cannot find its own binary ({e}); max RSS will read at least the harness's own"
        ),
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut plan = None;
    let mut url = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let bench_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = bench_dir.join("target/bench-results.md");
    let mut rounds = None;
    let mut runtime_only = false;
    let mut build_only = false;
    let mut rebuilds = None;
    let mut sizes = None;
    let mut shapes = vec![Shape::Function, Shape::Table];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => url = it.next().ok_or(USAGE)?.clone(),
            "--out" => out = PathBuf::from(it.next().ok_or(USAGE)?),
            "--rounds" => {
                rounds = Some(
                    it.next()
                        .and_then(|r| r.parse::<usize>().ok())
                        .filter(|r| *r > 0)
                        .ok_or(USAGE)?,
                )
            }
            "--runtime-only" => runtime_only = true,
            "--build-only" => build_only = true,
            "--rebuilds" => {
                let profile = |s: &str| match s {
                    "dev" => Some(Profile::Dev),
                    "release" => Some(Profile::Release),
                    _ => None,
                };
                rebuilds = Some(list(it.next(), profile)?);
            }
            "--sizes" => {
                let size = |n: &str| n.parse::<usize>().ok().filter(|n| *n > 0);
                sizes = Some(list(it.next(), size)?);
            }
            "--shapes" => {
                let shape = |s: &str| match s {
                    "function" => Some(Shape::Function),
                    "table" => Some(Shape::Table),
                    _ => None,
                };
                shapes = list(it.next(), shape)?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            mode => {
                plan = Some(
                    Plan::new(mode).ok_or_else(|| format!("unknown argument {mode:?}; {USAGE}"))?,
                )
            }
        }
    }
    let mut plan = plan.ok_or(USAGE)?;
    if runtime_only && build_only {
        return Err(format!(
            "--runtime-only and --build-only exclude each other; {USAGE}"
        ));
    }
    plan.runtime_only = runtime_only;
    plan.build_only = build_only;
    if let Some(rebuilds) = rebuilds {
        plan.rebuild_profiles = rebuilds;
    }
    if let Some(sizes) = sizes {
        // The rebuilds embed the largest set, as in every mode's own sizes.
        plan.rebuild_n = sizes.iter().copied().max().unwrap_or(plan.rebuild_n);
        plan.sizes = sizes;
    }
    if let Some(r) = rounds {
        plan.rounds = r;
        plan.rebuild_rounds = r;
    }
    let server = pg::Server::parse(&url)?;
    let admin = pg::Admin::connect(&server).await?;
    let apps = Apps::new(&bench_dir)?;
    let mut text = summary::header(&admin, &plan, &args).await?;
    println!("{text}");
    let mut tables: Vec<Table> = Vec::new();
    let mut emit = |table: Table, text: &mut String| {
        eprintln!("bench: {}", report::brief(&table));
        let md = table.markdown();
        println!("{md}");
        let _ = writeln!(text, "{md}");
        tables.push(table);
    };

    eprintln!("bench: building the apps ({:?})", plan.profile);
    let bare = Contender::Binary {
        name: "bare",
        path: apps.build_copy("bare-app", plan.profile, "bare")?,
        env: &[],
    };
    let mut cli_rows: Vec<Row> = Vec::new();
    let bluefox = match plan.runtime_only {
        true => None,
        false => Some(build_cases::bluefox_cli(&apps, plan.profile)?),
    };
    let shapes = match plan.build_only {
        true => Vec::new(),
        false => shapes,
    };
    for &shape in &shapes {
        let mut last = None;
        for &n in &plan.sizes {
            eprintln!("bench: {} x{n}: building", shape.label());
            let set = run_cases::prepare(&apps, shape, n, plan.profile)?;
            emit(
                run_cases::apply(&admin, &apps, &set, plan.rounds).await?,
                &mut text,
            );
            last = Some(set);
        }
        if let Some(set) = last {
            emit(
                run_cases::boot(&admin, &apps, &set, &bare, plan.boot_rounds()).await?,
                &mut text,
            );
            if let (Shape::Table, Some(bluefox)) = (shape, &bluefox) {
                cli_rows.push(build_cases::offline_sql(
                    &apps,
                    bluefox,
                    set.n,
                    plan.rounds.max(3),
                )?);
            }
        }
    }
    if let Some(bluefox) = &bluefox {
        let (models, files) = plan.models;
        eprintln!("bench: bluefox make/check on {models} models");
        let mut made =
            build_cases::models_and_cli(&apps, bluefox, models, files, plan.rounds.max(3))?;
        made.append(&mut cli_rows);
        emit(
            Table {
                title: "(4) the bluefox command, whole process".into(),
                reference: String::new(),
                migrations: 0,
                rows: made,
            },
            &mut text,
        );
        eprintln!("bench: build script on {models} models in {files} files");
        let script = build_cases::build_script(&apps, plan.rounds.max(5))?;
        emit(
            Table {
                title: format!("(3) bluefox-build's build script on {models} models in {files} files (the script alone, dev profile as cargo runs it)"),
                reference: String::new(),
                migrations: 0,
                rows: script,
            },
            &mut text,
        );
        for profile in plan.rebuild_profiles.clone() {
            eprintln!(
                "bench: {profile:?} rebuilds with {} migrations",
                plan.rebuild_n
            );
            emit(
                build_cases::rebuilds(&apps, plan.rebuild_n, profile, plan.rebuild_rounds)?,
                &mut text,
            );
        }
    }
    let verdicts = summary::targets(&tables, &plan);
    println!("{verdicts}");
    text.push_str(&verdicts);
    std::fs::write(&out, &text).map_err(|e| format!("write {}: {e}", out.display()))?;
    eprintln!("bench: results written to {}", out.display());
    Ok(())
}
