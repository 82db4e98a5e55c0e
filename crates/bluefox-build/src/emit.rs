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
    /// Paths for `cargo:rerun-if-changed`, relative to the crate root (cargo resolves them
    /// against the package root), sorted.
    pub rerun_if_changed: Vec<String>,
    /// Variables for `cargo:rerun-if-env-changed`, in a fixed order.
    pub rerun_if_env_changed: Vec<String>,
}

impl Generated {
    /// Prints the `cargo:` lines: `rerun-if-env-changed`, then `rerun-if-changed`, then one
    /// `warning` per warning.
    ///
    /// # Errors
    ///
    /// Whatever `out` returns.
    pub fn emit_to(&self, out: &mut impl Write) -> io::Result<()> {
        for name in &self.rerun_if_env_changed {
            writeln!(out, "cargo:rerun-if-env-changed={name}")?;
        }
        for path in &self.rerun_if_changed {
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
            rerun_if_changed: vec!["migrations".into(), "src".into()],
            rerun_if_env_changed: vec!["MODELS_MODULE".into(), "DATABASE_URL".into()],
        };
        let mut out = Vec::new();
        generated.emit_to(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cargo:rerun-if-env-changed=MODELS_MODULE\n\
             cargo:rerun-if-env-changed=DATABASE_URL\n\
             cargo:rerun-if-changed=migrations\n\
             cargo:rerun-if-changed=src\n\
             cargo:warning=bluefox: src/models.rs:3: Model a\n\
             cargo:warning=bluefox: two lines\n"
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
