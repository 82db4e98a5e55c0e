//! Everything that stops a build, and the report `configure()` prints for it: the message with
//! its place, the offending line, and the fix.

use bluefox_core::migration_file::MigrationFileError;
use bluefox_core::snapshot::{SnapshotError, SNAPSHOT_FILE_NAME};
use std::path::Path;

/// Why bluefox-build could not generate. Every message names the file (and line, where there is
/// one) and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A variable cargo sets for build scripts is missing.
    #[error(
        "{name} is not set: bluefox_build::configure() must run in a build script (cargo sets \
         {name} there); elsewhere, use Builder::new() and set the paths"
    )]
    MissingEnv {
        /// The variable.
        name: &'static str,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path, relative to the crate root where possible.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `.env` file is malformed.
    #[error("{path}: cannot read .env: {message}; fix the line (KEY=value) or remove it")]
    DotEnv {
        /// The file, relative to the crate root.
        path: String,
        /// What dotenvy reported.
        message: String,
    },
    /// `MODELS_MODULE` names no file.
    #[error(
        "MODELS_MODULE={value} ({origin}) names no module: tried {}",
        tried.join(", ")
    )]
    ModelsModuleUnresolved {
        /// The value as written.
        value: String,
        /// Where it was set (`from .env`).
        origin: String,
        /// Every path tried, relative to the crate root.
        tried: Vec<String>,
    },
    /// A model could not be read (syn error, unsupported type, unknown key, bad identifier).
    #[error("{0}")]
    Model(Box<crate::model::ModelError>),
    /// A migration file is malformed (its message names the file and line).
    #[error("{source}")]
    MigrationFile {
        /// The file and line, when the error is about a line (not the file name).
        place: Option<Place>,
        /// What is wrong with it.
        source: MigrationFileError,
    },
    /// The migrations do not form a valid set (two with one version).
    #[error("{0}")]
    MigrationSet(#[from] bluefox_core::migration_set::MigrationSetError),
    /// The snapshot file is malformed (its message starts with the file name).
    #[error("{dir}/{source}")]
    Snapshot {
        /// The migrations directory, relative to the crate root.
        dir: String,
        /// The snapshot file and the line (and column) at fault, when the error has one.
        place: Option<Place>,
        /// What is wrong with it (boxed: the rarest error need not make every `Result` of the
        /// build larger).
        source: Box<SnapshotError>,
    },
    /// The migrations of a directory are written for one dialect and would be embedded for
    /// another (a `DATABASE_URL` or [`Builder::dialect`](crate::Builder::dialect) that disagrees
    /// with the snapshot).
    #[error(
        "{dir}/bluefox_snapshot.json: the migrations in {dir} are written for {snapshot}, but \
         {asked_by} names {expected}; bluefox embeds one dialect per migrations directory. \
         Point DATABASE_URL at a {snapshot} database, or make a {expected} set in another \
         directory (bluefox --migrations migrations-{expected} make --dialect {expected} \
         \"...\") and embed it with Builder::migrations_dir(\"migrations-{expected}\")\
         .dialect(...)"
    )]
    DialectMismatch {
        /// The migrations directory, relative to the crate root.
        dir: String,
        /// The dialect the snapshot records.
        snapshot: &'static str,
        /// The dialect asked for.
        expected: &'static str,
        /// Who asked: `DATABASE_URL (from the environment)`, `Builder::dialect`.
        asked_by: String,
    },
    /// The generated tokens did not parse: a bug in bluefox-build, never the user's input.
    #[error("bluefox-build generated invalid Rust ({0}); please report this as a bug")]
    Codegen(String),
    /// The migrations or the snapshot are too large to embed (their text passes 4 GiB).
    #[error(transparent)]
    Pack(#[from] bluefox_core::embedded::pack::PackError),
}

impl From<crate::model::ModelError> for Error {
    fn from(error: crate::model::ModelError) -> Error {
        Error::Model(Box::new(error))
    }
}

/// The place comes from the error's own fields: the file it was parsed as (the path relative to
/// the crate root, as [`crate::migrations::read`] names it) and the line.
impl From<MigrationFileError> for Error {
    fn from(source: MigrationFileError) -> Error {
        let place = source.line().map(|line| Place {
            file: source.file().to_string(),
            line,
            column: None,
        });
        Error::MigrationFile { place, source }
    }
}

/// Where an error points: a file relative to the crate root, a 1-based line and maybe a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file, relative to the crate root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl Error {
    /// A malformed snapshot of the migrations directory `dir` (relative to the crate root), with
    /// the place the snapshot error carries.
    pub fn snapshot(dir: &str, source: SnapshotError) -> Error {
        let at = |line: usize, column: Option<usize>| {
            Some(Place {
                file: format!("{dir}/{SNAPSHOT_FILE_NAME}"),
                line,
                column,
            })
        };
        let source = source.in_dir(dir);
        let place = match &source {
            SnapshotError::Malformed { line, column, .. } => at(*line, Some(*column)),
            SnapshotError::MergeConflict { line, .. } => at(*line, None),
            _ => None,
        };
        Error::Snapshot {
            dir: dir.to_string(),
            place,
            source: Box::new(source),
        }
    }

    /// Where the error points: the file (relative to the crate root), line and column its
    /// variant carries; `None` for an error about no line of a file.
    pub fn place(&self) -> Option<Place> {
        match self {
            Error::Model(err) => {
                let location = err.location();
                Some(Place {
                    file: location.file.clone(),
                    line: location.line,
                    column: Some(location.column),
                })
            }
            Error::MigrationFile { place, .. } | Error::Snapshot { place, .. } => place.clone(),
            Error::MissingEnv { .. }
            | Error::Io { .. }
            | Error::DotEnv { .. }
            | Error::ModelsModuleUnresolved { .. }
            | Error::MigrationSet(_)
            | Error::DialectMismatch { .. }
            | Error::Codegen(_)
            | Error::Pack(_) => None,
        }
    }

    /// The fix, when the message does not already end with one.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::ModelsModuleUnresolved { .. } => Some(
                "set MODELS_MODULE to a module path such as crate::db::models or a file path \
                 such as src/db/models.rs, or remove it to use the convention (src/models.rs, \
                 src/models/, src/*/models.rs)"
                    .to_string(),
            ),
            _ => None,
        }
    }

    /// The report `configure()` prints, one line each: the message (`bluefox: file:line:col:
    /// message`), the offending source line when the file can be read from `crate_dir`, and the
    /// fix.
    pub fn report(&self, crate_dir: &Path) -> Vec<String> {
        let mut lines = vec![format!("bluefox: {self}")];
        if let Some(place) = self.place() {
            let text = match self {
                Error::Model(err) => Some(err.source_line().trim_end().to_string()),
                _ => std::fs::read_to_string(crate_dir.join(&place.file))
                    .ok()
                    .and_then(|s| {
                        let line = s.lines().nth(place.line.saturating_sub(1))?;
                        Some(line.trim_end().to_string())
                    }),
            };
            if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
                let number = place.line.to_string();
                lines.push(format!("{number} | {text}"));
                if let Some(column) = place.column {
                    let pad: String = text
                        .chars()
                        .take(column.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    lines.push(format!("{} | {pad}^", " ".repeat(number.len())));
                }
            }
        }
        if let Some(help) = self.help() {
            lines.push(format!("help: {help}"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_much_to_embed_is_the_users_to_fix_not_a_bug_report() {
        let err =
            Error::from(bluefox_core::embedded::pack::PackError::TooLarge { what: "migrations" });
        let text = err.to_string();
        assert!(
            text.starts_with("the embedded migrations pass 4 GiB"),
            "{text}"
        );
        assert!(text.contains("split the migrations"), "{text}");
        assert!(!text.contains("report this as a bug"), "{text}");
        assert_eq!(err.place(), None);
    }

    #[test]
    fn place_is_the_variants_not_the_messages() {
        // A message that starts like a place is not one: an I/O error has no line.
        let io = Error::Io {
            path: "notes:12".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert!(io.to_string().starts_with("notes:12: "), "{io}");
        assert_eq!(io.place(), None);
        // A migration file error: its file and line, whatever the directory is called.
        let err = Error::from(
            bluefox_core::migration_file::MigrationFile::parse(
                "migrations-sqlite/V1__a.sql",
                "-- bluefox: a\nSELECT 1;\n-- bluefox:up\n",
            )
            .unwrap_err(),
        );
        assert_eq!(
            err.place(),
            Some(Place {
                file: "migrations-sqlite/V1__a.sql".into(),
                line: 2,
                column: None
            })
        );
        // A bad file name has no line.
        let err = Error::from(
            bluefox_core::migration_file::MigrationFile::parse("migrations/V1.sql", "SELECT 1;")
                .unwrap_err(),
        );
        assert_eq!(err.place(), None);
        // The snapshot: its file in the directory it was read from, line and column.
        let source = bluefox_core::snapshot::Snapshot::from_text("{\n  nope").unwrap_err();
        let err = Error::snapshot("migrations-sqlite", source);
        let place = err.place().unwrap();
        assert_eq!(place.file, "migrations-sqlite/bluefox_snapshot.json");
        assert_eq!(place.line, 2);
        assert!(place.column.is_some());
        assert!(
            err.to_string()
                .starts_with("migrations-sqlite/bluefox_snapshot.json:2:"),
            "{err}"
        );
        let err = Error::MissingEnv { name: "OUT_DIR" };
        assert_eq!(err.place(), None);
    }

    #[test]
    fn report_shows_the_line_a_caret_and_no_panic_words() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("migrations")).unwrap();
        std::fs::write(
            tmp.path().join("migrations/V1__a.sql"),
            "-- bluefox: a\nSELECT 1;\n-- bluefox:up\n",
        )
        .unwrap();
        let err = Error::from(
            bluefox_core::migration_file::MigrationFile::parse(
                "migrations/V1__a.sql",
                "-- bluefox: a\nSELECT 1;\n-- bluefox:up\n",
            )
            .unwrap_err(),
        );
        let report = err.report(tmp.path());
        assert_eq!(report.len(), 2, "{report:?}");
        assert!(report[0].starts_with("bluefox: migrations/V1__a.sql:2: SQL before"));
        assert_eq!(report[1], "2 | SELECT 1;");
    }
}
