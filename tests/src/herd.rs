//! The fault suite's app (fixture `herd`): a binary that boots through
//! `bluefox_runtime::boot(bluefox_runtime::embedded!())`, with [`MIGRATIONS`] migrations
//! generated here.
//!
//! Migration `i` creates table `herd_<i>`, sleeps for `herd.sleep_<i>` seconds (a setting the
//! test puts on its database with `ALTER DATABASE ... SET`; unset means no sleep), adds an
//! index, and adds a column to the table before it: so one build serves the herd, the crash
//! tests (a sleep between two statements) and the lock_timeout test (an `ALTER TABLE` on a table
//! another session holds).
//!
//! The sources go to a fixed directory (`target/fixtures/herd-src`), written only when they
//! change, so every test target after the first finds the build fresh.

use crate::{fixture_target_dir, serial, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How many migrations the app has.
pub const MIGRATIONS: usize = 30;

/// The version of migration `i` (1-based).
pub fn version(i: usize) -> i64 {
    20_260_101_000_000 + i as i64
}

/// The app's migration files `(name, contents)`, oldest first.
pub fn migrations() -> Vec<(String, String)> {
    (1..=MIGRATIONS)
        .map(|i| {
            let table = format!("herd_{i:02}");
            let mut up = format!(
                "CREATE TABLE \"{table}\" (\"id\" BIGINT PRIMARY KEY, \"note\" TEXT);\n\
                 SELECT pg_sleep(coalesce(nullif(current_setting('herd.sleep_{i}', true), ''), '0')::float8);\n\
                 CREATE INDEX \"{table}_note\" ON \"{table}\" (\"note\");\n"
            );
            let mut down = format!("DROP TABLE \"{table}\";\n");
            if i > 1 {
                let before = format!("herd_{:02}", i - 1);
                up.push_str(&format!(
                    "ALTER TABLE \"{before}\" ADD COLUMN \"next_id\" BIGINT;\n"
                ));
                down = format!("ALTER TABLE \"{before}\" DROP COLUMN \"next_id\";\n{down}");
            }
            crate::pg::migration_file(
                version(i),
                &format!("step_{i:02}"),
                (i > 1).then(|| version(i - 1)),
                &up,
                &down,
            )
        })
        .collect()
}

/// The built app.
#[derive(Debug)]
pub struct HerdApp {
    /// The binary.
    pub binary: PathBuf,
}

/// Builds the app once per test process (later calls return the same build).
///
/// # Panics
/// When the build fails: the fault tests cannot run without it.
pub fn app() -> &'static HerdApp {
    static APP: OnceLock<HerdApp> = OnceLock::new();
    APP.get_or_init(build)
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create a herd source directory");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn build() -> HerdApp {
    let _serial = serial();
    let source = workspace_root().join("tests/fixtures/herd");
    let dir = fixture_target_dir().join("herd-src");
    let crates = workspace_root().join("crates");
    let crates = crates.canonicalize().unwrap_or(crates);
    for rel in ["Cargo.toml", "build.rs", "README.md", "src/main.rs"] {
        let text = std::fs::read_to_string(source.join(rel))
            .unwrap_or_else(|e| panic!("read the herd fixture's {rel}: {e}"));
        let text = text.replace(
            "@BLUEFOX_CRATES@",
            &crates.to_string_lossy().replace('\\', "/"),
        );
        write_if_changed(&dir.join(rel), &text);
    }
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))
        .expect("read the workspace's Cargo.lock");
    // The workspace's versions (cargo adds the herd package itself on each build).
    write_if_changed(&dir.join("Cargo.lock"), &lock);
    let files = migrations();
    let wanted: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(dir.join("migrations")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !wanted.contains(&name.as_str()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for (name, text) in &files {
        write_if_changed(&dir.join("migrations").join(name), text);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(&cargo)
        .arg("build")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", fixture_target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("MODELS_MODULE")
        .env_remove("DATABASE_URL")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cargo}` (set CARGO or put cargo on PATH): {e}"));
    assert!(
        output.status.success(),
        "building the herd fixture failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    HerdApp {
        binary: fixture_target_dir()
            .join("debug")
            .join(format!("herd{}", std::env::consts::EXE_SUFFIX)),
    }
}

impl HerdApp {
    /// A command for the binary with `DATABASE_URL` and `envs`, nothing inherited that bluefox
    /// reads (`DATABASE_URL`, `PGPASSWORD`, `BLUEFOX_*`, `RUST_LOG`), run where no `.env` is.
    pub fn command(&self, database_url: &str, envs: &[(&str, &str)]) -> Command {
        let mut command = Command::new(&self.binary);
        for (key, _) in std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .filter(|(k, _)| k.starts_with("BLUEFOX_") || k.starts_with("PG") || k == "RUST_LOG")
        {
            command.env_remove(key);
        }
        command
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "bluefox_runtime=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        command
    }

    /// Starts the binary (see [`HerdApp::command`]).
    pub fn spawn(&self, database_url: &str, envs: &[(&str, &str)]) -> Child {
        self.command(database_url, envs)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.binary.display()))
    }

    /// Runs the binary to the end, failing the test (after killing it) if it runs longer than
    /// `limit`: a boot that should give up must not hang the suite.
    pub fn run_within(&self, database_url: &str, envs: &[(&str, &str)], limit: Duration) -> Run {
        let mut child = self.spawn(database_url, envs);
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > limit => {
                    let _ = child.kill();
                    let run = Run::from(child.wait_with_output().expect("wait for the app"));
                    panic!("the app ran longer than {limit:?}:\n{}", run.all());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("wait for the app: {e}"),
            }
        }
        Run::from(child.wait_with_output().expect("collect the app's output"))
    }

    /// Runs the binary to the end.
    pub fn run(&self, database_url: &str, envs: &[(&str, &str)]) -> Run {
        let output = self
            .command(database_url, envs)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.binary.display()));
        Run::from(output)
    }
}

/// What one run of the app did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr (logs and errors).
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The versions this run logged as applied (`applied migration version=...`), in order.
    pub fn applied_versions(&self) -> Vec<i64> {
        self.stderr
            .lines()
            .filter(|l| l.contains("applied migration"))
            .filter_map(|l| {
                let rest = &l[l.find("version=")? + "version=".len()..];
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// Stdout and stderr together, for searching.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with the output unless the run exited 0 and printed `booted`.
    pub fn assert_booted(&self) -> &Run {
        assert!(
            self.code == Some(0) && self.stdout.contains("booted pid="),
            "the app did not boot (exit {:?}):\n{}",
            self.code,
            self.all()
        );
        self
    }

    /// Panics unless the run failed with a report (exit 1), not a panic or a signal.
    pub fn assert_failed(&self) -> &Run {
        assert_eq!(self.code, Some(1), "expected exit 1:\n{}", self.all());
        assert!(
            !self.stderr.contains("panicked"),
            "a panic:\n{}",
            self.stderr
        );
        assert!(self.stderr.contains("boot failed: "), "{}", self.all());
        self
    }
}
