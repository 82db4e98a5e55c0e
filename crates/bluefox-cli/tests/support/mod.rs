//! Shared helpers for the end-to-end tests of the `bluefox` binary: fixture crates in temp
//! directories (never compiled: the command reads their sources), the binary run with a clean
//! environment, and a fresh PostgreSQL database per test, dropped by a guard.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_postgres::{Client, Config, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const HOW_TO_START: &str = "start PostgreSQL with: pg_ctlcluster --skip-systemctl-redirect \
                            $(ls /etc/postgresql) main start (or set TEST_DATABASE_URL)";

/// A users model, the starting point of most tests.
pub const USERS: &str = r#"use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
}
"#;

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        &self.stdout
    }
}

/// A fixture crate: `Cargo.toml` (its own workspace) and `src/models.rs`.
pub struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    /// A crate named `demo` whose `src/models.rs` is `models`.
    pub fn new(models: &str) -> Fixture {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let fixture = Fixture { tmp };
        fixture.write(
            "Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
        );
        fixture.write("src/models.rs", models);
        fixture
    }

    /// The crate root.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes a file of the crate (directories created).
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(path, text).expect("write fixture file");
    }

    /// Reads a file of the crate.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel))
            .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// The names in `migrations/`, sorted (empty when it does not exist).
    pub fn migration_dir(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path().join("migrations")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// The migration files (`V*.sql`), sorted.
    pub fn migrations(&self) -> Vec<String> {
        self.migration_dir()
            .into_iter()
            .filter(|n| n.starts_with('V') && n.ends_with(".sql"))
            .collect()
    }

    /// Runs `bluefox args` in the crate directory with no `DATABASE_URL`.
    pub fn bluefox(&self, args: &[&str]) -> Run {
        bluefox(self.path(), args, None)
    }

    /// Runs `bluefox args` in the crate directory with `DATABASE_URL=url`.
    pub fn bluefox_db(&self, url: &str, args: &[&str]) -> Run {
        bluefox(self.path(), args, Some(url))
    }
}

/// Runs the binary in `cwd`, with the variables it reads removed and `DATABASE_URL` set when
/// given.
pub fn bluefox(cwd: &Path, args: &[&str], database_url: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bluefox"));
    command.current_dir(cwd).args(args);
    for name in [
        "DATABASE_URL",
        "MODELS_MODULE",
        "PGPASSWORD",
        "RUST_LOG",
        "BLUEFOX_STRICT",
        "BLUEFOX_LOCK_TIMEOUT",
    ] {
        command.env_remove(name);
    }
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().expect("run the bluefox binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The version of a migration file name (`V{version}__{name}.sql`).
pub fn version_of(file: &str) -> i64 {
    file.strip_prefix('V')
        .and_then(|rest| rest.split_once("__"))
        .and_then(|(digits, _)| digits.parse().ok())
        .unwrap_or_else(|| panic!("not a migration file name: {file}"))
}

/// The server the tests use (`TEST_DATABASE_URL`, default the local postgres).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

async fn connect(url: &str) -> Client {
    let config: Config = url.parse().expect("TEST_DATABASE_URL must parse");
    let (client, connection) = match config.connect(NoTls).await {
        Ok(pair) => pair,
        Err(e) => panic!("cannot connect to the test PostgreSQL ({e}); {HOW_TO_START}"),
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh database `bluefox_cli_<pid>_<nanos>_<n>`, dropped when the guard goes out of scope.
pub struct TestDb {
    /// The database's name.
    pub name: String,
    /// A URL for it.
    pub url: String,
}

impl TestDb {
    /// Creates the database; panics with how to start the server when it is unreachable.
    pub fn new() -> TestDb {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "bluefox_cli_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        block_on(async {
            let admin = connect(&admin_url()).await;
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("CREATE DATABASE for the test");
        });
        let url = with_dbname(&admin_url(), &name);
        TestDb { name, url }
    }

    /// The rows of a one-column text query, in order.
    pub fn column(&self, sql: &str) -> Vec<String> {
        block_on(async {
            let client = connect(&self.url).await;
            let messages = client.simple_query(sql).await.expect("test query");
            messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => {
                        Some(row.get(0).unwrap_or("NULL").to_string())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// Runs a script file with psql (`ON_ERROR_STOP`), as a user applying offline SQL would.
    pub fn psql_file(&self, file: &Path) {
        let output = Command::new("psql")
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-X", "-f"])
            .arg(file)
            .arg(&self.url)
            .output()
            .expect("run psql (install the postgresql client)");
        assert!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A thread of its own: Drop may run while a panic unwinds, and needs its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(config) = admin_url().parse::<Config>() else {
                    return;
                };
                if let Ok((client, connection)) = config.connect(NoTls).await {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A path for a scratch file inside the fixture.
pub fn scratch(fixture: &Fixture, name: &str) -> PathBuf {
    fixture.path().join(name)
}
