//! Boot settings, read from the environment or else from `.env` in the current directory.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | where the database is (any form [`DatabaseUrl`] accepts) | required |
//! | `PGPASSWORD` | the password, when `DATABASE_URL` carries none | none |
//! | `BLUEFOX_MIGRATE` | `apply` migrations at boot, only `verify` none is pending, or `off` | `apply` |
//! | `BLUEFOX_STRICT` | refuse to boot when the database has versions the binary does not know | `false` |
//! | `BLUEFOX_LOCK_TIMEOUT` | seconds to wait for the migration advisory lock | `60` |
//! | `BLUEFOX_STATEMENT_LOCK_TIMEOUT` | PostgreSQL `lock_timeout` for each DDL statement, seconds | `10` |
//! | `BLUEFOX_SCHEMA_WATCH` | a migration session whose role may create event triggers installs the [schema watch](crate::schema_watch) | `on` |
//!
//! A variable set in the real environment always wins over `.env`; `.env` is read into a map and
//! never written into the process environment. Parsing goes through a lookup closure
//! ([`Settings::from_lookup`]), so tests never touch the process environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bluefox_core::db_url::{DatabaseUrl, DbUrlError, Password};

/// What boot does with pending migrations (`BLUEFOX_MIGRATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MigrateMode {
    /// Apply pending migrations (the default).
    #[default]
    Apply,
    /// Apply nothing and refuse to start while migrations are pending (apps without DDL rights).
    Verify,
    /// Skip the migration run entirely.
    Off,
}

/// Everything boot reads from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The parsed `DATABASE_URL`, with `PGPASSWORD` filled in when the URL has no password.
    pub database_url: DatabaseUrl,
    /// `BLUEFOX_MIGRATE`.
    pub migrate: MigrateMode,
    /// `BLUEFOX_STRICT`: refuse a database that has versions this binary does not know.
    pub strict: bool,
    /// `BLUEFOX_LOCK_TIMEOUT`: how long to poll for the migration advisory lock.
    pub lock_timeout: Duration,
    /// `BLUEFOX_STATEMENT_LOCK_TIMEOUT`: PostgreSQL `lock_timeout` while running DDL.
    pub statement_lock_timeout: Duration,
    /// `BLUEFOX_SCHEMA_WATCH`: whether a migration session may install the
    /// [schema watch](crate::schema_watch) (it can only where its role may create event
    /// triggers).
    pub schema_watch: bool,
}

/// Default of [`Settings::lock_timeout`].
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Default of [`Settings::statement_lock_timeout`].
pub const DEFAULT_STATEMENT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the settings could not be read. Never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `DATABASE_URL` is in neither the environment nor `.env`.
    #[error("DATABASE_URL is not set; set it in the environment or in .env in the current directory, e.g. DATABASE_URL=postgresql://postgres:secret@localhost:5432/app")]
    MissingDatabaseUrl,
    /// `DATABASE_URL` does not parse.
    #[error(transparent)]
    DatabaseUrl(#[from] DbUrlError),
    /// A `BLUEFOX_*` variable with a value outside what it accepts.
    #[error("{name}=`{value}` is not valid; expected {expected}")]
    InvalidValue {
        /// The variable.
        name: &'static str,
        /// Its value (these variables hold no secrets).
        value: String,
        /// What it accepts.
        expected: &'static str,
    },
    /// `.env` exists but cannot be read or parsed. The offending line is not quoted: it may hold
    /// a password.
    #[error("cannot read {}: {detail}; fix the file (KEY=value per line) or remove it", path.display())]
    DotEnv {
        /// The `.env` file.
        path: PathBuf,
        /// What went wrong (a line number, or the I/O error).
        detail: String,
    },
}

impl Settings {
    /// Reads the process environment, then `.env` in the current directory for what is unset.
    ///
    /// # Errors
    /// [`SettingsError`] when `DATABASE_URL` is missing or malformed, a `BLUEFOX_*` value is
    /// invalid, or `.env` exists and cannot be parsed.
    pub fn from_env() -> Result<Settings, SettingsError> {
        let dotenv = match std::env::current_dir() {
            Ok(dir) => read_dotenv(&dir.join(".env"))?,
            Err(_) => HashMap::new(),
        };
        Settings::from_lookup(|name| {
            std::env::var(name)
                .ok()
                .or_else(|| dotenv.get(name).cloned())
        })
    }

    /// Parses settings from `lookup` (variable name -> value), which the caller decides.
    ///
    /// # Errors
    /// As [`Settings::from_env`], except for reading `.env`.
    pub fn from_lookup(
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        let raw = lookup("DATABASE_URL")
            .filter(|v| !v.trim().is_empty())
            .ok_or(SettingsError::MissingDatabaseUrl)?;
        let mut database_url = DatabaseUrl::parse(&raw)?;
        if database_url.password().is_none() {
            if let Some(password) = lookup("PGPASSWORD").filter(|p| !p.is_empty()) {
                database_url.set_password(Password::new(password));
            }
        }
        let migrate = match lookup("BLUEFOX_MIGRATE") {
            None => MigrateMode::Apply,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "" | "apply" => MigrateMode::Apply,
                "verify" => MigrateMode::Verify,
                "off" => MigrateMode::Off,
                _ => {
                    return Err(invalid(
                        "BLUEFOX_MIGRATE",
                        value,
                        "apply (the default), verify or off",
                    ))
                }
            },
        };
        let strict = flag(&mut lookup, "BLUEFOX_STRICT", false)?;
        let schema_watch = flag(&mut lookup, "BLUEFOX_SCHEMA_WATCH", true)?;
        let lock_timeout = seconds(&mut lookup, "BLUEFOX_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)?;
        let statement_lock_timeout = seconds(
            &mut lookup,
            "BLUEFOX_STATEMENT_LOCK_TIMEOUT",
            DEFAULT_STATEMENT_LOCK_TIMEOUT,
        )?;
        Ok(Settings {
            database_url,
            migrate,
            strict,
            lock_timeout,
            statement_lock_timeout,
            schema_watch,
        })
    }

    /// The [`MigratorOptions`](crate::MigratorOptions) these settings ask for (the same for
    /// boot and the `bluefox` command).
    pub fn migrator_options(&self) -> crate::MigratorOptions {
        crate::MigratorOptions {
            lock_timeout: self.lock_timeout,
            statement_lock_timeout: Some(self.statement_lock_timeout),
            strict: self.strict,
            schema_watch: self.schema_watch,
        }
    }

    /// [`Settings::statement_lock_timeout`] as a PostgreSQL `lock_timeout` value (`10000ms`;
    /// `0` disables the limit), for `SET lock_timeout = '...'`.
    pub fn statement_lock_timeout_sql(&self) -> String {
        format!("{}ms", self.statement_lock_timeout.as_millis())
    }
}

/// An on/off variable: unset or empty is `default`.
fn flag(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, SettingsError> {
    let Some(value) = lookup(name) else {
        return Ok(default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(invalid(name, value, "on or off (true/false, yes/no, 1/0)")),
    }
}

fn invalid(name: &'static str, value: String, expected: &'static str) -> SettingsError {
    SettingsError::InvalidValue {
        name,
        value,
        expected,
    }
}

/// A duration in seconds: `30`, `2.5` or `30s`.
fn seconds(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, SettingsError> {
    let Some(value) = lookup(name) else {
        return Ok(default);
    };
    let text = value.trim();
    if text.is_empty() {
        return Ok(default);
    }
    let number = text.strip_suffix('s').unwrap_or(text).trim();
    number
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| invalid(name, value, "a number of seconds, such as 30 or 2.5"))
}

/// Reads `.env` into a map; a missing file is an empty map. Nothing is written to the process
/// environment, so real variables always win.
///
/// # Errors
/// [`SettingsError::DotEnv`] when the file exists but cannot be read or parsed.
pub fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, SettingsError> {
    let mut values = HashMap::new();
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(values)
        }
        Err(e) => return Err(dotenv_error(path, e)),
    };
    for item in iter {
        let (key, value) = item.map_err(|e| dotenv_error(path, e))?;
        values.entry(key).or_insert(value);
    }
    Ok(values)
}

fn dotenv_error(path: &Path, error: dotenvy::Error) -> SettingsError {
    let detail = match error {
        dotenvy::Error::LineParse(_, index) => {
            format!("cannot parse an entry, at character {index} of it (its text is not shown: it may hold a password)")
        }
        dotenvy::Error::Io(e) => e.to_string(),
        dotenvy::Error::EnvVar(e) => e.to_string(),
        _ => "cannot parse the file".to_owned(),
    };
    SettingsError::DotEnv {
        path: path.to_path_buf(),
        detail,
    }
}

#[cfg(test)]
mod tests;
