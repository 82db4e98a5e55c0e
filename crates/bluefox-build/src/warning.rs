//! A warning is data first (kind, place, message) and a `cargo:warning=` line last, so tests can
//! compare both and the order never depends on the order files were read in.

use std::fmt;

/// What a warning is about; also the order of warnings that share a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningKind {
    /// A file in the migrations directory that is neither a migration nor the snapshot.
    IgnoredFile,
    /// A struct in a models file that looks like another ORM's table but does not derive
    /// `BluefoxBase`.
    WrongBase,
    /// A `BluefoxBase` struct in a file that discovery does not read.
    StrayModel,
    /// More than one head in the migrations directory.
    MultipleHeads,
    /// One model change that no migration captures yet.
    PendingChange,
    /// The command that captures the pending changes (follows them).
    PendingCommand,
}

/// One warning, shown as one `cargo:warning=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What it is about.
    pub kind: WarningKind,
    /// The file it points at, relative to the crate root (`src/models.rs`), if any.
    pub file: Option<String>,
    /// The 1-based line in that file, if any.
    pub line: Option<usize>,
    /// The message, without the `bluefox:` prefix or the place.
    pub message: String,
}

impl Warning {
    /// A warning that points at nothing in particular.
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning {
            kind,
            file: None,
            line: None,
            message: message.into(),
        }
    }

    /// A warning about a file, optionally at a line.
    pub fn at(
        kind: WarningKind,
        file: impl Into<String>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Warning {
        Warning {
            kind,
            file: Some(file.into()),
            line,
            message: message.into(),
        }
    }
}

/// `bluefox: src/models.rs:12: message`: the prefix a user greps for, then the place, if any.
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bluefox: ")?;
        if let Some(file) = &self.file {
            f.write_str(file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// Sorts warnings: those with a place first, by file, line and kind; then the others by kind.
/// The sort is stable, so warnings with the same key (the pending changes, in diff order) keep
/// the order they were made in.
pub fn sort(warnings: &mut [Warning]) {
    warnings.sort_by(|a, b| {
        (a.file.is_none(), &a.file, a.line, a.kind).cmp(&(
            b.file.is_none(),
            &b.file,
            b.line,
            b.kind,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_prefix_and_place() {
        let w = Warning::at(WarningKind::WrongBase, "src/models.rs", Some(12), "Model x");
        assert_eq!(w.to_string(), "bluefox: src/models.rs:12: Model x");
        let w = Warning::at(
            WarningKind::IgnoredFile,
            "migrations/v1.sql",
            None,
            "ignored",
        );
        assert_eq!(w.to_string(), "bluefox: migrations/v1.sql: ignored");
        let w = Warning::new(WarningKind::MultipleHeads, "two heads");
        assert_eq!(w.to_string(), "bluefox: two heads");
    }

    #[test]
    fn sort_orders_by_place_numerically_then_kind_and_keeps_change_order() {
        let mut warnings = vec![
            Warning::new(WarningKind::PendingCommand, "run"),
            Warning::new(WarningKind::PendingChange, "z first"),
            Warning::new(WarningKind::PendingChange, "a second"),
            Warning::at(WarningKind::WrongBase, "src/models.rs", Some(10), "ten"),
            Warning::new(WarningKind::MultipleHeads, "heads"),
            Warning::at(WarningKind::WrongBase, "src/models.rs", Some(9), "nine"),
            Warning::at(WarningKind::IgnoredFile, "migrations/x.txt", None, "x"),
        ];
        sort(&mut warnings);
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            ["x", "nine", "ten", "heads", "z first", "a second", "run"]
        );
    }
}
