//! The runtime verbs on SQLite: the same migrator verbs as PostgreSQL, blocking, over one
//! `rusqlite::Connection` opened from `DATABASE_URL` (`sqlite://app.db`, `sqlite:app.db`).

use crate::error::CliError;
use bluefox_core::dialect::Dialect;
use bluefox_core::embedded::Embedded;
use bluefox_runtime::history::HistoryEntry;
use bluefox_runtime::migrator::{DowngradeReport, UpgradeReport};
use bluefox_runtime::rusqlite::Connection;
use bluefox_runtime::settings::Settings;
use bluefox_runtime::sqlite::{self, SqliteMigrator};
use bluefox_runtime::Target;

/// Whether the settings name a SQLite database.
pub fn is_sqlite(settings: &Settings) -> bool {
    settings.database_url.dialect() == Dialect::Sqlite
}

/// Opens the database (the log line shows the URL).
///
/// # Errors
/// [`CliError::Runtime`] naming the file and what to check.
pub fn open(settings: &Settings) -> Result<Connection, CliError> {
    tracing::debug!("opening {}", settings.database_url);
    Ok(sqlite::open(&settings.database_url, settings.lock_timeout)?)
}

fn migrator<'a>(
    conn: &'a Connection,
    embedded: &'a Embedded,
    settings: &Settings,
) -> SqliteMigrator<'a> {
    SqliteMigrator::new(conn, embedded).with_options(settings.migrator_options())
}

/// `bluefox upgrade TARGET` on SQLite.
///
/// # Errors
/// Whatever the migrator reports.
pub fn upgrade(
    settings: &Settings,
    embedded: &Embedded,
    to: Target,
) -> Result<UpgradeReport, CliError> {
    let conn = open(settings)?;
    Ok(migrator(&conn, embedded, settings).upgrade(to)?)
}

/// `bluefox downgrade TARGET` on SQLite.
///
/// # Errors
/// Whatever the migrator reports.
pub fn downgrade(
    settings: &Settings,
    embedded: &Embedded,
    to: Target,
) -> Result<DowngradeReport, CliError> {
    let conn = open(settings)?;
    Ok(migrator(&conn, embedded, settings).downgrade(to)?)
}

/// The history, for `current` and `history`.
///
/// # Errors
/// A database that cannot be read.
pub fn history(
    settings: &Settings,
    embedded: &'static Embedded,
) -> Result<Vec<HistoryEntry>, CliError> {
    let conn = open(settings)?;
    Ok(migrator(&conn, embedded, settings).history()?)
}

/// The pending migrations, for `check --db`.
///
/// # Errors
/// A database that cannot be read, or a history that does not match the files.
pub fn pending(
    settings: &Settings,
    embedded: &'static Embedded,
) -> Result<Vec<bluefox_core::embedded::EmbeddedMigration>, CliError> {
    let conn = open(settings)?;
    Ok(migrator(&conn, embedded, settings).status()?.pending)
}
