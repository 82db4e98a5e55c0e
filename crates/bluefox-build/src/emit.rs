//! What a build script prints: every `cargo:` line goes through [`Generated::emit_to`] or
//! [`emit_error_to`], in a fixed order, so tests compare exact lines.

use crate::error::Error;
use crate::warning::Warning;
use std::io::{self, Write};
use std::path::Path;

/// What [`Builder::generate`](crate::Builder::generate) produced: the file to write and the lines
/// to print. Nothing has touched the disk yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The file name inside OUT_DIR (`bluefox_embedded.rs`).
    pub file_name: String,
    /// The generated Rust source.
    pub code: String,
    /// The warnings, sorted.
    pub warnings: Vec<Warning>,
    /// Paths for `cargo:rerun-if-changed` that exist, relative to the crate root (cargo resolves
    /// them against the package root), sorted.
    pub rerun_if_changed: Vec<String>,
    /// Inputs that do not exist yet, whose creation must rerun the build script (the migrations
    /// directory before the first migration, a `.env` nobody has written), relative to the crate
    /// root, sorted.
    pub rerun_if_created: Vec<String>,
    /// The directory in OUT_DIR that stands for [`Generated::rerun_if_created`] (see
    /// [`crate::watch`]), as an absolute path: set by [`Builder::run`](crate::Builder::run)
    /// when it could make one. Without it the missing migrations directory is printed itself
    /// (cargo then reruns the build script on every build until it exists: its creation must
    /// be seen) and a missing `.env` is not watched (printing it would rerun the script of every
    /// crate that has none on every build).
    pub creation_watch: Option<String>,
    /// Variables for `cargo:rerun-if-env-changed`, in a fixed order.
    pub rerun_if_env_changed: Vec<String>,
}

impl Generated {
    /// Every path printed as `cargo:rerun-if-changed`, in order: [`Generated::rerun_if_changed`],
    /// then the watch directory or, without one, each path of [`Generated::rerun_if_created`]
    /// but a `.env`.
    pub fn rerun_paths(&self) -> Vec<String> {
        let mut paths = self.rerun_if_changed.clone();
        match &self.creation_watch {
            Some(dir) => paths.push(dir.clone()),
            None => paths.extend(
                self.rerun_if_created
                    .iter()
                    .filter(|path| Path::new(path).file_name() != Some(".env".as_ref()))
                    .cloned(),
            ),
        }
        paths
    }

    /// Prints the `cargo:` lines: `rerun-if-env-changed`, then `rerun-if-changed` (each of
    /// [`Generated::rerun_paths`]), then one `warning` per warning.
    ///
    /// # Errors
    ///
    /// Whatever `out` returns.
    pub fn emit_to(&self, out: &mut impl Write) -> io::Result<()> {
        for name in &self.rerun_if_env_changed {
            writeln!(out, "cargo:rerun-if-env-changed={name}")?;
        }
        for path in self.rerun_paths() {
            writeln!(out, "cargo:rerun-if-changed={path}")?;
        }
        for warning in &self.warnings {
            writeln!(out, "cargo:warning={}", one_line(&warning.to_string()))?;
        }
        Ok(())
    }
}

/// Prints an error report as `cargo::error=` lines: cargo shows each as
/// `error: <package>: <line>` and fails the build after the script exits, with no backtrace.
///
/// # Errors
///
/// Whatever `out` returns.
pub fn emit_error_to(error: &Error, crate_dir: &Path, out: &mut impl Write) -> io::Result<()> {
    for line in error.report(crate_dir) {
        writeln!(out, "cargo::error={}", one_line(&line))?;
    }
    Ok(())
}

/// A `cargo:` line ends at the newline: anything after it would be read as another directive.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warning::WarningKind;

    #[test]
    fn lines_in_fixed_order() {
        let generated = Generated {
            file_name: "bluefox_embedded.rs".into(),
            code: String::new(),
            warnings: vec![
                Warning::at(WarningKind::WrongBase, "src/models.rs", Some(3), "Model a"),
                Warning::new(WarningKind::PendingChange, "two\nlines"),
            ],
            rerun_if_changed: vec!["src".into()],
            rerun_if_created: vec!["../.env".into(), ".env".into(), "migrations".into()],
            creation_watch: None,
            rerun_if_env_changed: vec!["MODELS_MODULE".into(), "DATABASE_URL".into()],
        };
        let mut out = Vec::new();
        generated.emit_to(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cargo:rerun-if-env-changed=MODELS_MODULE\n\
             cargo:rerun-if-env-changed=DATABASE_URL\n\
             cargo:rerun-if-changed=src\n\
             cargo:rerun-if-changed=migrations\n\
             cargo:warning=bluefox: src/models.rs:3: Model a\n\
             cargo:warning=bluefox: two lines\n"
        );
        // With a watch directory, it stands for the missing paths.
        let watched = Generated {
            creation_watch: Some("/out/bluefox_embedded.watch".into()),
            ..generated
        };
        assert_eq!(
            watched.rerun_paths(),
            ["src", "/out/bluefox_embedded.watch"]
        );
    }

    #[test]
    fn errors_are_cargo_error_lines() {
        let err = Error::MissingEnv { name: "OUT_DIR" };
        let mut out = Vec::new();
        emit_error_to(&err, Path::new("/nonexistent"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("cargo::error=bluefox: OUT_DIR is not set"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
    }
}
