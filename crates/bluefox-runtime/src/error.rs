//! The runtime's error type: every failure of connecting, locking or migrating.
//!
//! Each message says what happened, where (migration version and file, history row) and what to
//! do. None of them carries a password: database errors are rebuilt from their SQLSTATE and
//! server message, never from a connection string.

use crate::target::TargetError;
use std::time::Duration;

/// Everything that can go wrong at boot or in a migrator command. Messages say what to do and
/// never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings (`DATABASE_URL`, `BLUEFOX_*`) could not be read.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),

    /// No connection could be made.
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),

    /// A query of bluefox's own (reading the history, taking the lock, ...) failed.
    #[error("could not {action}: {reason}. Check that the database is reachable and that the user may read and write the migration history tables")]
    Database {
        /// What bluefox was doing (`read the migration history`).
        action: &'static str,
        /// The server's SQLSTATE and message.
        reason: String,
    },

    /// Another session held the migration lock past the deadline.
    #[error("timed out after {:.1}s waiting for the migration lock (advisory lock key {key}): {}. Wait for that migration to finish, or end the session with SELECT pg_terminate_backend(pid) if it is stuck, or raise the lock timeout", waited.as_secs_f64(), holder_text(holder))]
    LockTimeout {
        /// How long bluefox polled.
        waited: Duration,
        /// The advisory lock key.
        key: i64,
        /// The session holding the lock, when PostgreSQL still showed one.
        holder: Option<LockHolder>,
    },

    /// A row of `refinery_schema_history` that refinery could not read (it would panic on it).
    #[error("corrupt row in refinery_schema_history (version {version}): column {column} is {value}: {reason}. Fix or delete that row by hand (it is not a migration bluefox can read), then run again")]
    HistoryCorrupt {
        /// The row's version, as stored.
        version: String,
        /// The column that cannot be read.
        column: &'static str,
        /// The stored value, quoted, or `NULL`.
        value: String,
        /// Why it cannot be read.
        reason: String,
    },

    /// An applied migration whose file changed since it was applied.
    #[error("migration {version} ({file}) was edited after it was applied: the database stored checksum {stored} (name {stored_name:?}), the binary embeds checksum {embedded} (name {embedded_name:?}). Restore the file as it was applied and put the change in a new migration (bluefox make)")]
    ChecksumMismatch {
        /// The migration's version.
        version: i64,
        /// Its file in `migrations/`.
        file: &'static str,
        /// The checksum stored in the history table.
        stored: u64,
        /// The checksum of the embedded file.
        embedded: u64,
        /// The name stored in the history table.
        stored_name: String,
        /// The embedded name.
        embedded_name: &'static str,
    },

    /// The database has applied migrations this binary does not contain, in strict mode.
    #[error("the database has applied migrations this binary does not contain: {}. It was migrated by a newer build: deploy that build, roll those migrations back with it (bluefox downgrade), or turn strict mode off to start anyway", versions_text(versions))]
    UnknownApplied {
        /// The unknown versions, ascending.
        versions: Vec<i64>,
    },

    /// A pending migration is older than the newest applied one; refinery applies in order only.
    #[error("migration {version} ({file}) is not applied but is older than the newest applied migration {newest_applied}; migrations apply in version order only. Rename the file to a version newer than {newest_applied} (V<timestamp>__name.sql) and set its parent, or downgrade to below {version} first and upgrade again")]
    OutOfOrder {
        /// The pending migration's version.
        version: i64,
        /// Its file.
        file: &'static str,
        /// The newest version in the history table.
        newest_applied: i64,
    },

    /// A migration's SQL failed; its transaction was rolled back, earlier ones stay applied.
    #[error("{} migration {version} ({file}) failed with SQLSTATE {sqlstate}: {message}{}{}. Its transaction was rolled back and nothing of it remains; migrations before it stay applied. Fix the SQL in a new migration file (or this one if it never applied anywhere) and run again", direction.verb(), statement.as_ref().map(|s| format!(" (at {s})")).unwrap_or_default(), detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    MigrationFailed {
        /// Up (applying) or down (reverting).
        direction: Direction,
        /// The migration's version.
        version: i64,
        /// Its file, or `(not in this binary)` for a down SQL read from the database.
        file: String,
        /// The SQLSTATE code (`42P01`), or `?????` when the server sent none.
        sqlstate: String,
        /// The server's message.
        message: String,
        /// The server's detail or hint, when it sent one.
        detail: Option<Box<str>>,
        /// Where in the migration's SQL: `line 3: ALTER TABLE ...`, when the server said.
        statement: Option<Box<str>>,
    },

    /// A downgrade reaches a migration with no down section; nothing was reverted.
    #[error("cannot downgrade: migration {version} ({file}) has no down section, so it cannot be reverted. Nothing was reverted. Write its down SQL under `-- bluefox:down`, or choose a target above {version}")]
    Irreversible {
        /// The migration's version.
        version: i64,
        /// Its file, or `(not in this binary)`.
        file: String,
    },

    /// The upgrade or downgrade target is not valid here.
    #[error(transparent)]
    Target(#[from] TargetError),

    /// `BLUEFOX_MIGRATE=verify` and migrations are pending.
    #[error("BLUEFOX_MIGRATE=verify: refusing to start while {} migration(s) are pending: {}. Apply them first (bluefox upgrade head, or boot once with BLUEFOX_MIGRATE=apply)", versions.len(), versions_text(versions))]
    Pending {
        /// The pending versions, ascending.
        versions: Vec<i64>,
    },

    /// refinery does not read an embedded migration back as bluefox handed it (a refinery-core
    /// whose form of a migration differs from the one bluefox was built against).
    #[error("embedded migration {version} ({file}) is inconsistent: {reason}. Rebuild the application so build.rs regenerates the embedded migrations")]
    Embedded {
        /// The migration's version.
        version: i64,
        /// Its file.
        file: &'static str,
        /// What disagrees.
        reason: String,
    },

    /// The migration session may not change the schema: read-only, a standby, or no right to
    /// create the history tables. Checked before any DDL; nothing was changed.
    #[error("cannot apply or revert migrations as user `{user}`: {reason}. Nothing was changed")]
    NotWritable {
        /// The user the session runs as.
        user: String,
        /// Why, and what to do.
        reason: String,
    },

    /// The embedded migrations are written for another dialect than `DATABASE_URL` names.
    #[error("the embedded migrations are written for {embedded}, but DATABASE_URL names a {url} database; point DATABASE_URL at a {embedded} database, or embed the migration set made for {url} (bluefox_build::Builder::dialect) and boot with its function (boot for postgresql, boot_sqlite for sqlite)")]
    DialectMismatch {
        /// The dialect the migrations were written for.
        embedded: &'static str,
        /// The dialect `DATABASE_URL` names.
        url: &'static str,
    },

    /// refinery reported an error bluefox did not anticipate.
    #[error("refinery failed: {0}")]
    Refinery(String),

    /// A query of the application's own failed (so `?` works on the client `boot` returns, in
    /// a `main` that returns this error).
    #[error("database query failed: {reason}")]
    Query {
        /// The server's SQLSTATE and message (or the client's error).
        reason: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A SQLite statement of the application's own failed (as [`Error::Query`], for the
    /// connection `boot_sqlite` returns).
    #[cfg(feature = "sqlite")]
    #[error("SQLite statement failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Which way a migration was running when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applying its up SQL.
    Up,
    /// Running its down SQL.
    Down,
}

impl Direction {
    fn verb(self) -> &'static str {
        match self {
            Direction::Up => "applying",
            Direction::Down => "reverting",
        }
    }
}

/// The session that holds the migration lock, as `pg_locks` and `pg_stat_activity` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockHolder {
    /// The backend's process id (`pg_terminate_backend` takes it).
    pub pid: i32,
    /// Its `application_name` (empty when unset or hidden).
    pub application_name: String,
    /// How long its session has existed: an upper bound on how long it has held the lock, since
    /// PostgreSQL does not record when an advisory lock was taken.
    pub connected_for: Option<Duration>,
    /// Its state (`active`, `idle`, `idle in transaction`).
    pub state: String,
}

fn holder_text(holder: &Option<LockHolder>) -> String {
    match holder {
        None => "the holder released it or is not visible to this user".to_string(),
        Some(h) => {
            let held = h
                .connected_for
                .map(|d| format!(", holding it for at most {:.1}s", d.as_secs_f64()))
                .unwrap_or_default();
            format!(
                "it is held by pid {} (application_name {:?}, state {:?}{held})",
                h.pid, h.application_name, h.state
            )
        }
    }
}

fn versions_text(versions: &[i64]) -> String {
    versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns a driver error into `SQLSTATE code: message` (or the driver's own text when the server
/// sent nothing, e.g. a closed connection).
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("SQLSTATE {}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(source: tokio_postgres::Error) -> Error {
        Error::Query {
            reason: describe(&source),
            source,
        }
    }
}

impl Error {
    /// Wraps a failed query of bluefox's own.
    pub(crate) fn db(action: &'static str, error: &tokio_postgres::Error) -> Error {
        Error::Database {
            action,
            reason: describe(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeout_names_the_holder() {
        let error = Error::LockTimeout {
            waited: Duration::from_millis(1500),
            key: 7,
            holder: Some(LockHolder {
                pid: 4242,
                application_name: "bluefox".into(),
                connected_for: Some(Duration::from_secs(3)),
                state: "idle".into(),
            }),
        };
        let text = error.to_string();
        assert!(text.starts_with("timed out after 1.5s waiting for the migration lock (advisory lock key 7): it is held by pid 4242 (application_name \"bluefox\", state \"idle\", holding it for at most 3.0s)"), "{text}");
    }

    #[test]
    fn migration_failed_names_version_sqlstate_and_line() {
        let error = Error::MigrationFailed {
            direction: Direction::Up,
            version: 3,
            file: "V3__bad.sql".into(),
            sqlstate: "42P01".into(),
            message: "relation \"nope\" does not exist".into(),
            detail: None,
            statement: Some("line 2: SELECT * FROM nope".into()),
        };
        let text = error.to_string();
        assert!(
            text.starts_with("applying migration 3 (V3__bad.sql) failed with SQLSTATE 42P01: relation \"nope\" does not exist (at line 2: SELECT * FROM nope). Its transaction was rolled back"),
            "{text}"
        );
    }
}
