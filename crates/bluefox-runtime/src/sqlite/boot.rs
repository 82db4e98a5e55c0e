//! [`boot_sqlite`]: what a SQLite application calls first, the SQLite counterpart of
//! [`crate::boot`]. It returns the `rusqlite::Connection` it migrated on (so `sqlite::memory:`
//! works: the schema lives in that connection), with foreign keys on.

use super::{drift, SqliteMigrator, DIALECT};
use crate::error::Error;
use crate::history;
use crate::settings::{MigrateMode, Settings};
use crate::target::Target;
use bluefox_core::db_url::DatabaseUrl;
use bluefox_core::dialect::{sqlite_location, SqliteLocation};
use bluefox_core::embedded::Embedded;
use rusqlite::Connection;
use std::time::Duration;

/// Opens the SQLite database `url` names (creating the file when missing), waiting up to
/// `busy_timeout` whenever another connection holds the lock it needs.
///
/// # Errors
/// [`Error::Database`] for a URL that names no SQLite database or a file that cannot be opened
/// (a missing directory, no permission), saying which.
pub fn open(url: &DatabaseUrl, busy_timeout: Duration) -> Result<Connection, Error> {
    let opening = |reason: String| Error::Database {
        action: "open the SQLite database",
        reason,
    };
    let location = sqlite_location(url).map_err(|e| opening(e.to_string()))?;
    let conn = match &location {
        SqliteLocation::Memory => Connection::open_in_memory(),
        SqliteLocation::File(path) => Connection::open(path),
    }
    .map_err(|e| {
        let place = match &location {
            SqliteLocation::Memory => ":memory:".to_string(),
            SqliteLocation::File(path) => path.clone(),
        };
        opening(format!(
            "{place}: {}; check that its directory exists and is writable",
            super::store::describe(&e)
        ))
    })?;
    conn.busy_timeout(busy_timeout)
        .map_err(|e| super::store::db_error("set the SQLite busy timeout", &e))?;
    Ok(conn)
}

/// Boots a SQLite application with settings from the environment (or `.env`): opens the
/// database, applies pending migrations under SQLite's write lock (per `BLUEFOX_MIGRATE`),
/// checks drift, and returns the connection with `PRAGMA foreign_keys = ON`.
///
/// # Errors
/// Settings errors, a `DATABASE_URL` that is not `sqlite:`, migrations embedded for another
/// dialect, history and migration errors (see [`Error`]); in verify mode, [`Error::Pending`].
pub fn boot_sqlite(embedded: &'static Embedded) -> Result<Connection, Error> {
    let settings = Settings::from_env()?;
    boot_sqlite_with(&settings, embedded)
}

/// [`boot_sqlite`] with the settings given instead of read from the environment.
///
/// # Errors
/// As [`boot_sqlite`].
pub fn boot_sqlite_with(
    settings: &Settings,
    embedded: &'static Embedded,
) -> Result<Connection, Error> {
    if embedded.dialect != DIALECT {
        return Err(Error::DialectMismatch {
            embedded: embedded.dialect,
            url: settings.database_url.dialect().name(),
        });
    }
    let conn = open(&settings.database_url, settings.lock_timeout)?;
    let fk_on = || {
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| super::store::db_error("turn foreign keys on", &e))
    };
    if settings.migrate == MigrateMode::Off {
        tracing::info!("BLUEFOX_MIGRATE=off: not checking or applying migrations");
        fk_on()?;
        return Ok(conn);
    }
    let options = settings.migrator_options();
    let migrator = SqliteMigrator::new(&conn, embedded).with_options(options);
    let status = migrator.status()?;
    if status.pending.is_empty() {
        history::check_unknown(&status, settings.strict)?;
    } else if settings.migrate == MigrateMode::Verify {
        return Err(Error::Pending {
            versions: status.pending.iter().map(|m| m.version).collect(),
        });
    } else {
        let report = migrator.upgrade(Target::Head)?;
        tracing::info!(count = report.applied.len(), "migrations applied");
    }
    drift::check(&conn, embedded.snapshot.tables)?.warn();
    fk_on()?;
    Ok(conn)
}
