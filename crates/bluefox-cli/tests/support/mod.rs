//! Shared helpers for the end-to-end tests of the `bluefox` binary: fixture crates in temp
//! directories (never compiled: the command reads their sources), the binary run with a clean
//! environment, and a fresh PostgreSQL database per test, dropped by a guard.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let vars: Vec<(&str, &str)> = database_url
        .map(|url| ("DATABASE_URL", url))
        .into_iter()
        .collect();
    bluefox_env(cwd, args, &vars)
}

/// Runs the binary in `cwd`, with the variables it reads removed, then `vars` set.
pub fn bluefox_env(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
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
    command.envs(vars.iter().copied());
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

// Not every test binary uses it.
#[allow(unused_imports)]
pub use bluefox_testdb::TestDb;

/// A path for a scratch file inside the fixture.
pub fn scratch(fixture: &Fixture, name: &str) -> PathBuf {
    fixture.path().join(name)
}

/// Copies what the command reads of example-app (its manifest, sources, and both migrations
/// directories: `migrations/` for PostgreSQL, `migrations-sqlite/` for SQLite) into `to`.
pub fn copy_example_app(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../example-app");
    std::fs::copy(from.join("Cargo.toml"), to.join("Cargo.toml")).expect("copy Cargo.toml");
    for dir in [
        "src",
        "src/users",
        "src/posts",
        "migrations",
        "migrations-sqlite",
    ] {
        std::fs::create_dir_all(to.join(dir)).expect("create a directory");
        for entry in std::fs::read_dir(from.join(dir)).expect("read an example-app directory") {
            let entry = entry.expect("a directory entry");
            if entry.file_type().expect("a file type").is_file() {
                std::fs::copy(entry.path(), to.join(dir).join(entry.file_name()))
                    .expect("copy an example-app file");
            }
        }
    }
}

/// The migration files (`V*.sql`) of a directory, sorted.
pub fn migration_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with('V') && n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}
