//! Shared helpers for bluefox's integration tests.
//!
//! A fixture is a standalone crate under `tests/fixtures/<name>/` whose `Cargo.toml` names the
//! bluefox crates through the placeholder `@BLUEFOX_CRATES@`. [`Fixture::copy`] copies it into a
//! temporary directory, puts the absolute path of `crates/` in place of the placeholder and copies
//! the workspace's `Cargo.lock` in, so the fixture builds with the versions the workspace pins.
//!
//! Every fixture builds with one shared target directory (`target/fixtures`), so dependencies
//! compile once; [`serial`] keeps fixture builds from running at the same time (they would only
//! wait on cargo's lock, and they share the `fixture` package's build directory).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The package name and version every fixture uses, as cargo prints it before build script
/// output (`warning: fixture@0.1.0: ...`).
pub const FIXTURE_ID: &str = "fixture@0.1.0";

/// The workspace root (the directory of the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The target directory every fixture build shares.
pub fn fixture_target_dir() -> PathBuf {
    workspace_root().join("target").join("fixtures")
}

/// Holds the lock that runs fixture builds one at a time. A test that failed while holding it
/// does not poison the others.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fixture crate copied into a temporary directory (removed on drop).
pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What one cargo invocation did.
#[derive(Debug)]
pub struct CargoRun {
    /// Whether cargo exited with success.
    pub success: bool,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr: where cargo prints warnings, errors and (with `-v`) what it runs.
    pub stderr: String,
}

impl Fixture {
    /// Copies `tests/fixtures/<name>` into a fresh temporary directory.
    ///
    /// # Panics
    ///
    /// When the fixture is missing or cannot be copied: the test cannot run.
    pub fn copy(name: &str) -> Fixture {
        let source = workspace_root().join("tests").join("fixtures").join(name);
        assert!(source.is_dir(), "no fixture at {}", source.display());
        let dir = tempfile::Builder::new()
            .prefix(&format!("bluefox-fixture-{name}-"))
            .tempdir()
            .expect("create a temporary directory");
        copy_dir(&source, dir.path());
        let crates = workspace_root().join("crates");
        let crates = crates.canonicalize().unwrap_or(crates);
        let manifest = dir.path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("read the fixture's Cargo.toml");
        let text = text.replace(
            "@BLUEFOX_CRATES@",
            &crates.to_string_lossy().replace('\\', "/"),
        );
        std::fs::write(&manifest, text).expect("write the fixture's Cargo.toml");
        std::fs::copy(
            workspace_root().join("Cargo.lock"),
            dir.path().join("Cargo.lock"),
        )
        .expect("copy the workspace's Cargo.lock");
        Fixture { dir }
    }

    /// The fixture's root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating its directories), relative to the fixture root.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the file's directory");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Reads a file relative to the fixture root.
    pub fn read(&self, rel: &str) -> String {
        let path = self.path().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Removes a file relative to the fixture root.
    pub fn remove(&self, rel: &str) {
        let path = self.path().join(rel);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// Runs `$CARGO <args>` in the fixture with the shared target directory, without colour and
    /// without `MODELS_MODULE` from the test's environment (`envs` are set on top). Never `-q`:
    /// that hides the warnings build scripts print.
    ///
    /// # Panics
    ///
    /// When cargo cannot be started: a fixture test must fail, not skip, without cargo.
    pub fn cargo(&self, args: &[&str], envs: &[(&str, &str)]) -> CargoRun {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut command = Command::new(&cargo);
        command
            .args(args)
            .current_dir(self.path())
            .env("CARGO_TARGET_DIR", fixture_target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("MODELS_MODULE")
            // Read by build.rs for its dialect check: a developer's own must not leak in.
            .env_remove("DATABASE_URL")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS");
        for (key, value) in envs {
            command.env(key, value);
        }
        let output = command.output().unwrap_or_else(|e| {
            panic!("cannot run `{cargo}` (set CARGO or put cargo on PATH): {e}")
        });
        CargoRun {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `cargo build` (plus `extra` arguments).
    pub fn build(&self, extra: &[&str]) -> CargoRun {
        let mut args = vec!["build"];
        args.extend_from_slice(extra);
        self.cargo(&args, &[])
    }

    /// The fixture's binary, after a build.
    pub fn binary(&self) -> PathBuf {
        fixture_target_dir()
            .join("debug")
            .join(format!("fixture{}", std::env::consts::EXE_SUFFIX))
    }
}

impl CargoRun {
    /// The `bluefox: ...` warnings cargo printed for the fixture's build script, without cargo's
    /// `warning: fixture@0.1.0: ` prefix, in order.
    pub fn bluefox_warnings(&self) -> Vec<String> {
        self.prefixed(&format!("warning: {FIXTURE_ID}: "))
    }

    /// The lines the build script reported as errors, without cargo's `error: fixture@0.1.0: `
    /// prefix, in order.
    pub fn build_errors(&self) -> Vec<String> {
        self.prefixed(&format!("error: {FIXTURE_ID}: "))
    }

    fn prefixed(&self, prefix: &str) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(str::to_string)
            .collect()
    }

    /// Whether cargo ran the fixture's build script (needs `-v`).
    pub fn build_script_ran(&self) -> bool {
        self.stderr.lines().any(|line| {
            line.trim_start().starts_with("Running")
                && line.contains("build-script-build")
                && line.contains("/build/fixture-")
        })
    }

    /// Whether cargo found the fixture up to date (needs `-v`).
    pub fn fixture_fresh(&self) -> bool {
        self.stderr
            .lines()
            .any(|line| line.trim_start().starts_with("Fresh fixture v0.1.0"))
    }

    /// Panics with the whole output unless cargo succeeded.
    pub fn assert_success(&self) -> &CargoRun {
        assert!(self.success, "cargo failed:\n{}", self.stderr);
        self
    }

    /// Panics with the whole output unless cargo failed, and checks that the failure is a report,
    /// not a panic.
    pub fn assert_failure(&self) -> &CargoRun {
        assert!(
            !self.success,
            "cargo succeeded but should have failed:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "a panic:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "a backtrace hint:\n{}",
            self.stderr
        );
        self
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a fixture directory");
    let entries = std::fs::read_dir(from).expect("list a fixture directory");
    for entry in entries {
        let entry = entry.expect("read a fixture directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

pub mod herd;
pub mod pg;
