//! Building the contender apps of `apps/` (bluefox, refinery, sqlx, the bare one-query binary,
//! the models crate) with cargo, into a target directory of their own, and keeping a copy of
//! each binary per migration set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// The cargo profile the apps are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `cargo build`.
    Dev,
    /// `cargo build --release`.
    Release,
}

impl Profile {
    /// The directory cargo builds the profile into.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Dev => "debug",
            Profile::Release => "release",
        }
    }
}

/// The apps of the bench workspace and where their builds go.
#[derive(Debug, Clone)]
pub struct Apps {
    /// The bench crate (`bench/`).
    pub bench_dir: PathBuf,
    /// The apps' own target directory.
    pub target_dir: PathBuf,
    /// Where binaries are kept per migration set.
    pub bin_dir: PathBuf,
    /// Scratch files (logs, SQL files).
    pub work_dir: PathBuf,
    cargo: String,
}

impl Apps {
    /// The apps under `bench_dir`, built into `bench_dir/target/apps`.
    pub fn new(bench_dir: &Path) -> Result<Apps, String> {
        let target = bench_dir.join("target");
        let apps = Apps {
            bench_dir: bench_dir.to_path_buf(),
            target_dir: target.join("apps"),
            bin_dir: target.join("bench-bin"),
            work_dir: target.join("bench-work"),
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()),
        };
        for dir in [&apps.bin_dir, &apps.work_dir] {
            std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        Ok(apps)
    }

    /// The crate directory of app `name` (`bluefox-app`, ...).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.bench_dir.join("apps").join(name)
    }

    /// A scratch path.
    pub fn work(&self, name: &str) -> PathBuf {
        self.work_dir.join(name)
    }

    /// Sets a file's modification time to now, as `touch` does.
    pub fn touch(path: &Path) -> Result<(), String> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("open {}: {e}", path.display()))?;
        file.set_modified(SystemTime::now())
            .map_err(|e| format!("touch {}: {e}", path.display()))
    }

    /// `cargo build -p bench-<name>` in `profile`; returns cargo's wall time.
    pub fn build(&self, name: &str, profile: Profile) -> Result<Duration, String> {
        self.build_with_env(name, profile, &[])
    }

    /// [`Apps::build`] with extra environment for cargo (e.g. a profile override).
    pub fn build_with_env(
        &self,
        name: &str,
        profile: Profile,
        env: &[(&str, &str)],
    ) -> Result<Duration, String> {
        let mut command = self.cargo_build(name, profile, env);
        let log = self.work(&format!("build-{name}.log"));
        let started = Instant::now();
        crate::process::run(&mut command, &log)?;
        Ok(started.elapsed())
    }

    /// `cargo build -p bench-<name>` in `profile` with `env`, into the apps' target directory.
    fn cargo_build(&self, name: &str, profile: Profile, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(&self.cargo);
        command.envs(env.iter().copied());
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(self.bench_dir.join("Cargo.toml"))
            .arg("-p")
            .arg(format!("bench-{name}"))
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env_remove("DATABASE_URL")
            .env_remove("MODELS_MODULE");
        if profile == Profile::Release {
            command.arg("--release");
        }
        command
    }

    /// Builds app `name` and keeps its binary as `bin_dir/<name>-<tag>`.
    pub fn build_copy(&self, name: &str, profile: Profile, tag: &str) -> Result<PathBuf, String> {
        // A migrations directory whose files were replaced is seen through the build scripts'
        // rerun lines; touching main.rs as well makes sure the macros run again.
        Apps::touch(&self.dir(name).join("src/main.rs"))?;
        self.build(name, profile)?;
        let built = self
            .target_dir
            .join(profile.dir())
            .join(format!("bench-{name}"));
        let kept = self.bin_dir.join(format!("{name}-{tag}"));
        std::fs::copy(&built, &kept)
            .map_err(|e| format!("copy {} to {}: {e}", built.display(), kept.display()))?;
        Ok(kept)
    }

    /// The build-script binary of app `name` as cargo builds it in `profile` with `env` (see
    /// [`Apps::build_with_env`]), from cargo's own report of that build: the newest such file
    /// on disk is the wrong one when cargo had nothing to rebuild for this profile and an
    /// override's script was built after it.
    pub fn build_script(
        &self,
        name: &str,
        profile: Profile,
        env: &[(&str, &str)],
    ) -> Result<PathBuf, String> {
        let mut command = self.cargo_build(name, profile, env);
        command.arg("--message-format=json");
        let log = self.work(&format!("build-{name}.json"));
        crate::process::run(&mut command, &log)?;
        let messages =
            std::fs::read_to_string(&log).map_err(|e| format!("read {}: {e}", log.display()))?;
        build_script_in(&messages, &self.dir(name).join("Cargo.toml")).ok_or_else(|| {
            format!(
                "cargo reported no build script for bench-{name} (its messages: {})",
                log.display()
            )
        })
    }
}

/// The build-script executable that cargo's JSON `messages` report for the package of
/// `manifest`: the `custom-build` artifact, reported whether it was built or fresh.
fn build_script_in(messages: &str, manifest: &Path) -> Option<PathBuf> {
    // The log holds cargo's stderr too: lines that are not JSON are skipped.
    let artifacts = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact");
    for message in artifacts {
        let is_build_script = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "custom-build"));
        let ours = message["manifest_path"].as_str().map(Path::new) == Some(manifest);
        if is_build_script && ours {
            let file = message["filenames"].as_array()?.first()?.as_str()?;
            return Some(PathBuf::from(file));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_script_is_the_one_cargo_reports_for_the_package() {
        let manifest = Path::new("/w/bench/apps/models-app/Cargo.toml");
        let messages = [
            "   Compiling bench-models-app v0.1.0",
            r#"{"reason":"compiler-artifact","manifest_path":"/w/crates/other/Cargo.toml","target":{"kind":["custom-build"]},"filenames":["/t/debug/build/other-1/build-script-build"],"fresh":true}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/w/bench/apps/models-app/Cargo.toml","target":{"kind":["bin"]},"filenames":["/t/debug/bench-models-app"],"fresh":true}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/w/bench/apps/models-app/Cargo.toml","target":{"kind":["custom-build"]},"filenames":["/t/debug/build/bench-models-app-0b5/build-script-build"],"fresh":true}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            build_script_in(&messages, manifest),
            Some(PathBuf::from(
                "/t/debug/build/bench-models-app-0b5/build-script-build"
            ))
        );
        assert_eq!(
            build_script_in(&messages, Path::new("/w/x/Cargo.toml")),
            None
        );
    }
}
