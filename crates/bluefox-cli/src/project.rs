//! The app crate a command works on: its models and migrations (read by bluefox-build, the same
//! reader build.rs uses), the `Embedded` value the runtime needs (built from those files at run
//! time, so nothing has to be compiled), and its settings (`DATABASE_URL` and friends from the
//! environment, else its `.env` files).

use crate::error::CliError;
use bluefox_build::env::{dotenv_files, DotEnvFile, MODELS_MODULE};
use bluefox_build::migrations::{self, MigrationsDir};
use bluefox_build::{Builder, Project, Warning, WarningKind, DEFAULT_MIGRATIONS_DIR};
use bluefox_core::db_url::{DatabaseUrl, Dialect};
use bluefox_core::embedded::EmbeddedTable;
use bluefox_core::embedded::{Embedded, EmbeddedColumn, EmbeddedMigration, EmbeddedSnapshot};
use bluefox_runtime::settings::{read_dotenv, Settings, SettingsError};
use bluefox_runtime::MigratorOptions;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The migrations directory commands read, relative to the crate (`--migrations`).
static MIGRATIONS_DIR: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// Sets the migrations directory every later command reads (`--migrations`; `migrations` unless
/// set). A command line names one directory, so this is process-wide.
pub fn set_migrations_dir(dir: &str) {
    if let Ok(mut slot) = MIGRATIONS_DIR.write() {
        *slot = Some(dir.to_string());
    }
}

/// The migrations directory, relative to the crate: what `--migrations` set, else `migrations`.
pub fn migrations_dir() -> String {
    MIGRATIONS_DIR
        .read()
        .ok()
        .and_then(|slot| slot.clone())
        .unwrap_or_else(|| DEFAULT_MIGRATIONS_DIR.to_string())
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

/// Reads the crate's models and migrations with bluefox-build, as build.rs does. A
/// `MODELS_MODULE` in the environment wins over `.env`, as in a build script.
///
/// # Errors
/// [`CliError::Build`] naming the file and line of a model or migration that cannot be read.
pub fn load(dir: &Path) -> Result<Project, CliError> {
    let mut builder = Builder::new()
        .crate_dir(dir)
        .migrations_dir(migrations_dir());
    if let Some(value) = std::env::var(MODELS_MODULE)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        builder = builder.models_module(value.trim());
    }
    Ok(builder.load()?)
}

/// Reads only `migrations/` (with bluefox-build's reader): what upgrade, downgrade, current,
/// history and heads need, so they work while a model is half edited.
///
/// # Errors
/// [`CliError::Build`] for a malformed migration or snapshot, or two migrations with one version.
pub fn read_migrations(dir: &Path) -> Result<MigrationsDir, CliError> {
    Ok(migrations::read(dir, &migrations_dir())?)
}

/// Warnings worth showing next to a command's output; the pending-change ones are left out
/// where the command reports those changes itself.
pub fn warnings(project: &Project, include_pending: bool) -> Vec<&Warning> {
    project
        .warnings
        .iter()
        .filter(|w| {
            include_pending
                || !matches!(
                    w.kind,
                    WarningKind::PendingChange | WarningKind::PendingCommand
                )
        })
        .collect()
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The migrations as the runtime sees them, built from the files that were just read: SQL
/// normalised and checksums computed exactly as build.rs embeds them. Leaked: a command builds
/// one and exits.
pub fn embedded(dir: &MigrationsDir) -> &'static Embedded {
    let migrations: Vec<EmbeddedMigration> = dir
        .embedded()
        .into_iter()
        .map(|m| EmbeddedMigration {
            version: m.version,
            name: leak(m.name),
            message: leak(m.message),
            parent: m.parent,
            file: leak(m.file),
            up: leak(m.up),
            down: m.down.map(leak),
            checksum: m.checksum,
        })
        .collect();
    let snapshot = dir.embedded_snapshot();
    let tables: Vec<EmbeddedTable> = snapshot
        .tables
        .into_iter()
        .map(|t| EmbeddedTable {
            name: leak(t.name),
            columns: Box::leak(
                t.columns
                    .into_iter()
                    .map(|c| EmbeddedColumn {
                        name: leak(c.name),
                        sql_type: leak(c.sql_type),
                        nullable: c.nullable,
                    })
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
        })
        .collect();
    let history_digest = leak(bluefox_core::embedded::history_digest(
        migrations.iter().map(|m| (m.version, m.name, m.checksum)),
    ));
    Box::leak(Box::new(Embedded {
        dialect: dir.snapshot.dialect().name(),
        migrations: Box::leak(migrations.into_boxed_slice()),
        snapshot: EmbeddedSnapshot {
            text: leak(snapshot.text),
            fingerprint: snapshot.fingerprint,
            tables: Box::leak(tables.into_boxed_slice()),
        },
        history_digest,
    }))
}

/// The variables of the crate's `.env` files (crate root first, then the workspace root); a
/// variable of the real environment always wins over them.
pub struct Env {
    dotenv: HashMap<String, String>,
    crate_dotenv: PathBuf,
}

impl Env {
    /// Reads the `.env` files that apply to the crate at `dir`.
    ///
    /// # Errors
    /// [`CliError::Build`] when a `Cargo.toml` on the way up cannot be read,
    /// [`CliError::Runtime`] when a `.env` file cannot be parsed (its text is not shown).
    pub fn read(dir: &Path) -> Result<Env, CliError> {
        let mut dotenv = HashMap::new();
        let files: Vec<DotEnvFile> = dotenv_files(dir)?;
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

/// The migrator options the settings ask for.
pub fn migrator_options(settings: &Settings) -> MigratorOptions {
    MigratorOptions {
        lock_timeout: settings.lock_timeout,
        statement_lock_timeout: Some(settings.statement_lock_timeout),
        strict: settings.strict,
    }
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
        let read = read_migrations(tmp.path()).unwrap();
        let embedded = embedded(&read);
        assert_eq!(embedded.dialect, "postgresql");
        assert_eq!(embedded.migrations.len(), 2);
        let first = &embedded.migrations[0];
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
        assert_eq!(embedded.migrations[1].down, None);
        assert!(embedded.snapshot.tables.is_empty());
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
