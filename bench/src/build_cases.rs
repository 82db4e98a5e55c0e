//! Cases 3 and 4: build-time costs. The build script's own time on 1000 models in 100 files;
//! dev and release rebuilds of each app embedding N migrations after touching main.rs and after
//! touching one migration, against the same app with no migrations; and the `bluefox` command
//! (`make`, `check`, `upgrade head --sql`) as whole processes.

use crate::apps::{Apps, Profile};
use crate::gen::{self, Shape};
use crate::process;
use crate::report::{Row, Table};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The models crate with `models` models in `files` files, its migrations made by `bluefox make`.
/// Returns case 4's `make` and `check` rows (each round makes the migration from scratch).
pub fn models_and_cli(
    apps: &Apps,
    bluefox: &Path,
    models: usize,
    files: usize,
    rounds: usize,
) -> Result<Vec<Row>, String> {
    let dir = apps.dir("models-app");
    gen::write_models(&dir.join("src/models"), models, files)?;
    let mut make = Row {
        name: format!("bluefox make ({models} tables)"),
        ..Row::default()
    };
    for _ in 0..rounds {
        gen::clear_dir(&dir.join("migrations"))?;
        let mut command = cli(bluefox, &dir);
        command.args(["make", "create all tables"]);
        let run = process::run(&mut command, &apps.work("cli-make.log"))?;
        make.wall_ms.push(ms(run.wall));
        make.rss_kib.push(run.max_rss_kib);
    }
    let mut check = Row {
        name: format!("bluefox check ({models} tables)"),
        ..Row::default()
    };
    for _ in 0..rounds {
        let mut command = cli(bluefox, &dir);
        command.arg("check");
        let run = process::run(&mut command, &apps.work("cli-check.log"))?;
        check.wall_ms.push(ms(run.wall));
        check.rss_kib.push(run.max_rss_kib);
    }
    Ok(vec![make, check])
}

/// `bluefox upgrade head --sql` over the migrations in bluefox-app (written by case 1).
pub fn offline_sql(apps: &Apps, bluefox: &Path, n: usize, rounds: usize) -> Result<Row, String> {
    let dir = apps.dir("bluefox-app");
    let mut row = Row {
        name: format!("bluefox upgrade head --sql ({n} migrations)"),
        ..Row::default()
    };
    for _ in 0..rounds {
        let mut command = cli(bluefox, &dir);
        command.args(["upgrade", "head", "--sql"]);
        let run = process::run(&mut command, &apps.work("cli-sql.log"))?;
        row.wall_ms.push(ms(run.wall));
        row.rss_kib.push(run.max_rss_kib);
    }
    Ok(row)
}

fn cli(bluefox: &Path, dir: &Path) -> Command {
    let mut command = Command::new(bluefox);
    command
        .arg("--dir")
        .arg(dir)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("MODELS_MODULE")
        .env_remove("RUST_LOG");
    command
}

/// Case 3a: the models crate's build script alone, run as cargo runs it in a dev build: from
/// an empty OUT_DIR (a first build, or models changed), and again with its inputs unchanged
/// (what touching main.rs causes, since `src` is in its rerun set). Beside the first, in
/// alternate rounds, the floor under any syn-based build script: syn-floor-app's, which only
/// parses the same files with `syn::parse_file` (the empty-OUT_DIR row's ratio is to it).
pub fn build_script(apps: &Apps, rounds: usize) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    // The second time, what a user can set in their Cargo.toml ([profile.dev.build-override]
    // opt-level = 3): build scripts and their dependencies (syn, prettyplease, bluefox-build)
    // optimised.
    for (env, label) in [
        (&[][..], ""),
        (
            &[("CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL", "3")][..],
            ", build-override opt-level 3",
        ),
    ] {
        let scripts = ["models-app", FLOOR_APP].map(|name| -> Result<PathBuf, String> {
            apps.build_with_env(name, Profile::Dev, env)?;
            apps.build_script(name, Profile::Dev, env)
        });
        let [script, floor] = scripts;
        rows.extend(time_build_script(apps, &script?, &floor?, rounds, label)?);
    }
    Ok(rows)
}

/// The bench app whose build script only parses the models crate's files with syn.
const FLOOR_APP: &str = "syn-floor-app";

/// Runs models-app's build script `script` `rounds` times from an empty OUT_DIR, each followed
/// by the floor's script `floor`, then `rounds` times with its inputs unchanged; rows named with
/// `label`.
fn time_build_script(
    apps: &Apps,
    script: &Path,
    floor: &Path,
    rounds: usize,
    label: &str,
) -> Result<Vec<Row>, String> {
    let name = "models-app";
    let out_dir = apps.work("build-script-out");
    let mut floor_row = Row {
        name: format!("syn::parse_file alone on the same files{label} (floor)"),
        ..Row::default()
    };
    let mut cold = Row {
        name: format!("bluefox-build (build.rs){label}, empty OUT_DIR"),
        baseline: Some(floor_row.name.clone()),
        ..Row::default()
    };
    let mut warm = Row {
        name: format!("bluefox-build (build.rs){label}, rerun with inputs unchanged"),
        ..Row::default()
    };
    let log = apps.work("build-script.log");
    let mut first_output = None;
    for round in 0..rounds * 2 {
        if round < rounds {
            gen::clear_dir(&out_dir)?;
        }
        let mut command = Command::new(script);
        command
            .env("CARGO_MANIFEST_DIR", apps.dir(name))
            .env("CARGO_PKG_NAME", format!("bench-{name}"))
            .env("OUT_DIR", &out_dir)
            .env_remove("MODELS_MODULE")
            .env_remove("DATABASE_URL")
            .current_dir(apps.dir(name));
        let run = process::run(&mut command, &log)?;
        let row = if round < rounds { &mut cold } else { &mut warm };
        row.wall_ms.push(ms(run.wall));
        row.rss_kib.push(run.max_rss_kib);
        // What cargo reads: the `cargo:` lines (a replay also says so on stderr, for -vv).
        let output: String = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.starts_with("cargo:"))
            .map(|line| format!("{line}\n"))
            .collect();
        if output.contains("cargo:warning") || output.contains("cargo::error") {
            return Err(format!(
                "the models crate's build script warned or failed:\n{output}"
            ));
        }
        match &first_output {
            None => first_output = Some(output),
            Some(first) if *first != output => {
                return Err(format!(
                    "the build script printed other lines on a rerun:\n{first}\n---\n{output}"
                ))
            }
            Some(_) => {}
        }
        if round < rounds {
            let mut command = Command::new(floor);
            command
                .env("CARGO_MANIFEST_DIR", apps.dir(FLOOR_APP))
                .env("OUT_DIR", apps.work("build-script-floor-out"))
                .current_dir(apps.dir(FLOOR_APP));
            let run = process::run(&mut command, &apps.work("build-script-floor.log"))?;
            floor_row.wall_ms.push(ms(run.wall));
            floor_row.rss_kib.push(run.max_rss_kib);
        }
    }
    Ok(vec![cold, warm, floor_row])
}

/// Case 3b: rebuild times of each app with `n` table migrations and with none, in `profile`,
/// after touching main.rs and after touching one migration.
pub fn rebuilds(apps: &Apps, n: usize, profile: Profile, rounds: usize) -> Result<Table, String> {
    let set = gen::migrations(Shape::Table, n);
    let mut rows = Vec::new();
    for (label, app) in [
        ("bluefox", "bluefox-app"),
        ("refinery", "refinery-app"),
        ("sqlx", "sqlx-app"),
    ] {
        for count in [0, n] {
            let migrations = apps.dir(app).join("migrations");
            let subset = &set[..count];
            match app {
                "bluefox-app" => gen::write_bluefox(&migrations, Shape::Table, subset)?,
                "refinery-app" => gen::write_refinery(&migrations, subset)?,
                _ => gen::write_sqlx(&migrations, subset)?,
            }
            let main = apps.dir(app).join("src/main.rs");
            Apps::touch(&main)?;
            apps.build(app, profile)?;
            let mut touch_main = Row {
                name: format!("{label}, {count} migrations, touch main.rs"),
                ..Row::default()
            };
            let mut touch_one = Row {
                name: format!("{label}, {count} migrations, touch one migration"),
                ..Row::default()
            };
            let one: Option<PathBuf> = std::fs::read_dir(&migrations)
                .map_err(|e| format!("read {}: {e}", migrations.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .max();
            for _ in 0..rounds {
                Apps::touch(&main)?;
                let started = Instant::now();
                apps.build(app, profile)?;
                touch_main.wall_ms.push(ms(started.elapsed()));
                if let Some(one) = &one {
                    Apps::touch(one)?;
                    let started = Instant::now();
                    apps.build(app, profile)?;
                    touch_one.wall_ms.push(ms(started.elapsed()));
                }
            }
            if count > 0 {
                let base = format!("{label}, 0 migrations, touch main.rs");
                touch_main.baseline = Some(base.clone());
                touch_one.baseline = Some(base);
            } else {
                touch_main.baseline = Some(touch_main.name.clone());
            }
            rows.push(touch_main);
            if one.is_some() {
                rows.push(touch_one);
            }
        }
    }
    let profile_name = match profile {
        Profile::Dev => "dev",
        Profile::Release => "release",
    };
    Ok(Table {
        title: format!("(3) {profile_name} rebuild of an app embedding {n} table+index migrations (whole `cargo build`; × the same app with no migrations)"),
        reference: "bluefox, 0 migrations, touch main.rs".into(),
        migrations: 0,
        rows,
    })
}

/// The `bluefox` binary of the main workspace (target/release/bluefox for a release
/// `profile`), built in that workspace's own target directory.
pub fn bluefox_cli(apps: &Apps, profile: Profile) -> Result<PathBuf, String> {
    let root = apps
        .bench_dir
        .parent()
        .ok_or("the bench crate has no parent directory")?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .args(["build", "-p", "bluefox-cli", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .env_remove("CARGO_TARGET_DIR");
    if profile == Profile::Release {
        command.arg("--release");
    }
    process::run(&mut command, &apps.work("build-cli.log"))?;
    let path = root.join("target").join(profile.dir()).join("bluefox");
    path.exists()
        .then_some(path.clone())
        .ok_or_else(|| format!("{} was not built", path.display()))
}
