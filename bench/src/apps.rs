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
        let log = self.work(&format!("build-{name}.log"));
        let started = Instant::now();
        crate::process::run(&mut command, &log)?;
        Ok(started.elapsed())
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

    /// The newest build-script binary of app `name` in `profile`.
    pub fn build_script(&self, name: &str, profile: Profile) -> Result<PathBuf, String> {
        let build = self.target_dir.join(profile.dir()).join("build");
        let prefix = format!("bench-{name}-");
        let entries =
            std::fs::read_dir(&build).map_err(|e| format!("read {}: {e}", build.display()))?;
        let mut newest: Option<(SystemTime, PathBuf)> = None;
        for entry in entries.flatten() {
            let file = entry.path().join("build-script-build");
            let named = entry.file_name().to_string_lossy().starts_with(&prefix);
            let modified = std::fs::metadata(&file).and_then(|m| m.modified());
            if let (true, Ok(modified)) = (named, modified) {
                if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                    newest = Some((modified, file));
                }
            }
        }
        newest
            .map(|(_, p)| p)
            .ok_or_else(|| format!("no build script of bench-{name} under {}", build.display()))
    }
}
