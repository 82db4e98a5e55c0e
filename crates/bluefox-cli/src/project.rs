//! The app crate a command works on: its models and migrations (read by bluefox-build, the same
//! reader build.rs uses), the `Embedded` value the runtime needs (built from those files at run
//! time, so nothing has to be compiled), and its settings (`DATABASE_URL` and friends from the
//! environment, else its `.env` files).

use crate::error::CliError;
use bluefox_build::env::{dotenv_files, DotEnvFile};
use bluefox_build::migrations::{self, MigrationsDir};
use bluefox_build::{Builder, Project, Warning, WarningKind, DEFAULT_MIGRATIONS_DIR};
use bluefox_core::db_url::{DatabaseUrl, Dialect};
use bluefox_core::embedded::Embedded;
use bluefox_runtime::settings::{read_dotenv, Settings, SettingsError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The crate a command works on and the migrations directory it reads, as the command line
/// names them (`--dir`, `--migrations`): built once per command and passed to every verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    crate_dir: PathBuf,
    migrations_dir: String,
}

impl Context {
    /// The crate at `crate_dir` with its migrations in `migrations_dir` (relative to the crate;
    /// an empty or blank name means [`DEFAULT_MIGRATIONS_DIR`]).
    pub fn new(crate_dir: impl Into<PathBuf>, migrations_dir: impl Into<String>) -> Context {
        let migrations_dir: String = migrations_dir.into();
        let migrations_dir = match migrations_dir.trim() {
            "" => DEFAULT_MIGRATIONS_DIR.to_string(),
            _ => migrations_dir,
        };
        Context {
            crate_dir: crate_dir.into(),
            migrations_dir,
        }
    }

    /// The crate directory as given (`.` unless `--dir`).
    pub fn dir(&self) -> &Path {
        &self.crate_dir
    }

    /// The migrations directory, relative to the crate (`migrations` unless `--migrations`).
    pub fn migrations_dir(&self) -> &str {
        &self.migrations_dir
    }

    /// Whether the migrations directory is the default one (messages then need no
    /// `--migrations`).
    pub fn is_default_migrations_dir(&self) -> bool {
        self.migrations_dir == DEFAULT_MIGRATIONS_DIR
    }

    /// A `bluefox` command line to suggest in a message: `bluefox ARGS`, with `--migrations DIR`
    /// when the command works on another directory than the default, so the suggestion acts on
    /// the same set.
    pub fn suggest(&self, args: &str) -> String {
        if self.is_default_migrations_dir() {
            format!("bluefox {args}")
        } else {
            format!("bluefox --migrations {} {args}", self.migrations_dir)
        }
    }

    /// A path inside the crate as the user should read it (see [`shown_path`]).
    pub fn shown_path(&self, rel: &str) -> String {
        shown_path(&self.crate_dir, rel)
    }

    /// Checks that the crate directory is a crate (has a `Cargo.toml`).
    ///
    /// # Errors
    /// [`CliError::NotACrate`].
    pub fn check_crate(&self) -> Result<(), CliError> {
        check_crate(&self.crate_dir)
    }

    /// Reads the crate's models and migrations with bluefox-build, as build.rs does. A
    /// `MODELS_MODULE` in the environment wins over `.env`, as in a build script, and messages
    /// about it say which of the two it came from.
    ///
    /// # Errors
    /// [`CliError::Build`] naming the file and line of a model or migration that cannot be read.
    pub fn load(&self) -> Result<Project, CliError> {
        Ok(Builder::new()
            .crate_dir(&self.crate_dir)
            .migrations_dir(self.migrations_dir.as_str())
            .models_module_from_env()
            .load()?)
    }

    /// Reads only the migrations directory (with bluefox-build's reader): what upgrade,
    /// downgrade, current, history and heads need, so they work while a model is half edited.
    ///
    /// # Errors
    /// [`CliError::Build`] for a malformed migration or snapshot, or two migrations with one
    /// version.
    pub fn read_migrations(&self) -> Result<MigrationsDir, CliError> {
        Ok(migrations::read(&self.crate_dir, &self.migrations_dir)?)
    }
}

/// Checks that `dir` is a crate (has a `Cargo.toml`).
///
/// # Errors
/// [`CliError::NotACrate`].
pub fn check_crate(dir: &Path) -> Result<(), CliError> {
    if dir.join("Cargo.toml").is_file() {
        Ok(())
    } else {
        Err(CliError::NotACrate {
            dir: dir.to_path_buf(),
        })
    }
}

/// What a command reports in its own words, so the warnings that say the same are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reported {
    /// The model changes no migration captures (and the command that captures them).
    pub pending_changes: bool,
    /// More than one head in the migrations directory.
    pub heads: bool,
}

/// Warnings worth showing next to a command's output: all of them but those about what the
/// command reports itself.
pub fn warnings(project: &Project, reported: Reported) -> Vec<&Warning> {
    project
        .warnings
        .iter()
        .filter(|w| match w.kind {
            WarningKind::PendingChange | WarningKind::PendingCommand => !reported.pending_changes,
            WarningKind::MultipleHeads => !reported.heads,
            _ => true,
        })
        .collect()
}

/// The migrations as the runtime sees them, built from the files that were just read: SQL
/// normalised, checksums computed and strings packed exactly as build.rs embeds them. Leaked: a
/// command builds one and exits.
///
/// # Errors
///
/// [`CliError::Build`] when the migrations' text passes the 4 GiB that can be embedded.
pub fn embedded(dir: &MigrationsDir) -> Result<&'static Embedded, CliError> {
    let snapshot = dir.embedded_snapshot()?;
    Ok(bluefox_core::embedded::pack::embedded(
        dir.snapshot.dialect().name(),
        dir.embedded()?,
        snapshot.text,
        snapshot.fingerprint,
        snapshot.tables,
    ))
}

/// The variables of the crate's `.env` files (crate root first, then the workspace root); a
/// variable of the real environment always wins over them.
pub struct Env {
    dotenv: HashMap<String, String>,
    crate_dotenv: PathBuf,
}

impl Env {
    /// Reads the `.env` files that apply to the crate at `dir` (crate root, then workspace
    /// root).
    ///
    /// # Errors
    /// [`CliError::Build`] when a `Cargo.toml` on the way up cannot be read,
    /// [`CliError::Runtime`] when a `.env` file cannot be parsed (its text is not shown).
    pub fn read(dir: &Path) -> Result<Env, CliError> {
        Env::from_files(dir, &dotenv_files(dir)?)
    }

    /// Reads the variables of `files`, the `.env` files of the crate at `dir` as a loaded
    /// [`Project`] lists them (no second search for them).
    ///
    /// # Errors
    /// [`CliError::Runtime`] when a `.env` file cannot be parsed (its text is not shown).
    pub fn from_files(dir: &Path, files: &[DotEnvFile]) -> Result<Env, CliError> {
        let mut dotenv = HashMap::new();
        for file in files {
            let values = read_dotenv(&file.abs_path).map_err(bluefox_runtime::Error::from)?;
            for (key, value) in values {
                dotenv.entry(key).or_insert(value);
            }
        }
        Ok(Env {
            dotenv,
            crate_dotenv: dir.join(".env"),
        })
    }

    /// A variable: the environment's value, else the `.env` files'.
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.dotenv.get(name).cloned())
    }

    /// The runtime settings (`DATABASE_URL` required).
    ///
    /// # Errors
    /// [`CliError::MissingDatabaseUrl`] naming the crate's `.env`, or a malformed value.
    pub fn settings(&self) -> Result<Settings, CliError> {
        Settings::from_lookup(|name| self.get(name)).map_err(|e| match e {
            SettingsError::MissingDatabaseUrl => CliError::MissingDatabaseUrl {
                dotenv: self.crate_dotenv.clone(),
            },
            other => bluefox_runtime::Error::from(other).into(),
        })
    }

    /// The dialect offline SQL is written for: the migrations' own (their snapshot's). Nothing
    /// connects; a `DATABASE_URL` that names another dialect is refused.
    ///
    /// # Errors
    /// A malformed `DATABASE_URL` (the message never shows the password), or one of another
    /// dialect than the migrations.
    pub fn offline_dialect(&self, embedded: &Embedded) -> Result<Dialect, CliError> {
        let dialect = Dialect::from_name(embedded.dialect).unwrap_or(Dialect::Postgres);
        let Some(raw) = self.get("DATABASE_URL").filter(|v| !v.trim().is_empty()) else {
            return Ok(dialect);
        };
        let url = DatabaseUrl::parse(&raw)
            .map_err(|e| bluefox_runtime::Error::Settings(SettingsError::from(e)))?;
        check_dialect(embedded, &url)?;
        Ok(dialect)
    }
}

/// Refuses a database of another dialect than the migrations (before connecting).
///
/// # Errors
/// [`bluefox_runtime::Error::DialectMismatch`].
pub fn check_dialect(embedded: &Embedded, url: &DatabaseUrl) -> Result<(), CliError> {
    if embedded.dialect == url.dialect().name() {
        return Ok(());
    }
    Err(bluefox_runtime::Error::DialectMismatch {
        embedded: embedded.dialect,
        url: url.dialect().name(),
    }
    .into())
}

/// A path inside the crate as the user should read it: relative when the crate is the current
/// directory (`migrations/V1__a.sql`), else joined to `--dir`.
pub fn shown_path(dir: &Path, rel: &str) -> String {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        rel.to_string()
    } else {
        dir.join(rel).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn embedded_matches_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("V1__add_users.sql"),
            "-- bluefox: add users\r\n-- parent: base\n-- bluefox:up\nCREATE TABLE \"users\" (\"id\" BIGINT);\n-- bluefox:down\nDROP TABLE \"users\";\n",
        )
        .unwrap();
        fs::write(
            dir.join("V2__seed.sql"),
            "INSERT INTO \"users\" VALUES (1);\n",
        )
        .unwrap();
        let read = Context::new(tmp.path(), "migrations")
            .read_migrations()
            .unwrap();
        let embedded = embedded(&read).unwrap();
        assert_eq!(embedded.dialect, "postgresql");
        assert_eq!(embedded.migrations.len(), 2);
        let first = embedded.migrations.get(0).unwrap();
        assert_eq!(
            (
                first.version,
                first.name,
                first.message,
                first.parent,
                first.file
            ),
            (1, "add_users", "add users", None, "V1__add_users.sql")
        );
        assert_eq!(first.up, "CREATE TABLE \"users\" (\"id\" BIGINT);");
        assert_eq!(first.down, Some("DROP TABLE \"users\";"));
        assert_eq!(
            first.checksum,
            bluefox_core::migration_file::checksum("add_users", 1, first.up)
        );
        assert_eq!(embedded.migrations.get(1).unwrap().down, None);
        assert!(embedded.snapshot.tables.is_empty());
    }

    #[test]
    fn context_names_the_chosen_directory() {
        let default = Context::new("app", "  ");
        assert_eq!(default.migrations_dir(), DEFAULT_MIGRATIONS_DIR);
        assert_eq!(default.suggest("make"), "bluefox make");
        assert_eq!(default.shown_path("migrations/x"), "app/migrations/x");
        let sqlite = Context::new(".", "migrations-sqlite");
        assert_eq!(sqlite.dir(), Path::new("."));
        assert!(!sqlite.is_default_migrations_dir());
        assert_eq!(
            sqlite.suggest("upgrade head"),
            "bluefox --migrations migrations-sqlite upgrade head"
        );
    }

    #[test]
    fn context_reads_its_own_migrations_directory() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let dir = tmp.path().join("migrations-sqlite");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("V7__seed.sql"), "SELECT 1;\n").unwrap();
        let chosen = Context::new(tmp.path(), "migrations-sqlite");
        chosen.check_crate().unwrap();
        let read = chosen.read_migrations().unwrap();
        assert_eq!(read.set.heads(), [7]);
        let default = Context::new(tmp.path(), DEFAULT_MIGRATIONS_DIR);
        assert!(default.read_migrations().unwrap().set.heads().is_empty());
    }

    #[test]
    fn shown_paths() {
        assert_eq!(shown_path(Path::new("."), "migrations/x"), "migrations/x");
        assert_eq!(
            shown_path(Path::new("app"), "migrations/x"),
            "app/migrations/x"
        );
    }
}
