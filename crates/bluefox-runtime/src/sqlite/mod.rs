//! SQLite: the same verbs as PostgreSQL over one `rusqlite::Connection` (bundled SQLite, no
//! system library), for `sqlite://path`, `sqlite:path` and `sqlite::memory:` URLs.
//!
//! - **Applying.** refinery (its sync driver traits, on bluefox's session type) plans each
//!   migration; bluefox runs it with refinery's history insert and its own down row as one
//!   savepoint, so a failing migration leaves nothing behind and the ones before it stay.
//! - **Concurrency.** SQLite's own lock: the migrator takes the write lock with
//!   `BEGIN IMMEDIATE` (waiting up to the lock timeout through `busy_timeout`), re-reads the
//!   history under it, applies, and commits once. A second process waits for the first, then
//!   finds nothing pending and applies nothing. The lock covers the whole run; a crash before
//!   the commit leaves the database as it was.
//! - **Foreign keys.** SQLite rebuilds a table to change it (see
//!   `bluefox_core::render::sqlite`), which needs `PRAGMA foreign_keys = OFF`, a pragma that is
//!   ignored inside a transaction. The migrator turns it off before `BEGIN IMMEDIATE`, runs
//!   `PRAGMA foreign_key_check` inside each migration's savepoint (a violation fails that
//!   migration), and restores the connection's previous setting on every path.
//! - **History.** The same tables as PostgreSQL (`refinery_schema_history`, `bluefox_down_sql`),
//!   so `current`, `history`, downgrades with stored down SQL and the edited-migration check
//!   behave the same. Statements that SQLite refuses inside a transaction (`VACUUM`,
//!   `PRAGMA journal_mode`) cannot be migrations.
//! - **Drift.** `pragma_table_info` of each table against the snapshot, types compared in their
//!   SQLite spelling (`bluefox_core::dialect::sqlite_type`).

mod boot;
mod drift;
mod driver;
mod offline;
mod store;

pub use boot::{boot_sqlite, boot_sqlite_with, open};
pub use drift::{check as drift_check, live_schema};
pub use offline::{downgrade_sql, upgrade_sql};
pub use store::{read_down, read_history};

use crate::error::{Direction, Error};
use crate::history::{self, HistoryEntry, Status};
use crate::migrator::{DowngradeReport, MigratorOptions, RevertedMigration, UpgradeReport};
use crate::offline::forget;
use crate::target::{resolve_downgrade, resolve_upgrade, Target};
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use rusqlite::Connection;
use std::time::Instant;

/// The dialect name build.rs embeds for a SQLite migration set.
pub const DIALECT: &str = "sqlite";

/// The embedded migrations over one SQLite connection: [`crate::Migrator`]'s verbs, blocking.
pub struct SqliteMigrator<'a> {
    conn: &'a Connection,
    embedded: &'a Embedded,
    options: MigratorOptions,
}

impl<'a> SqliteMigrator<'a> {
    /// A migrator with default options (60 s lock deadline, not strict).
    pub fn new(conn: &'a Connection, embedded: &'a Embedded) -> Self {
        SqliteMigrator {
            conn,
            embedded,
            options: MigratorOptions::default(),
        }
    }

    /// Replaces the options; `lock_timeout` is how long to wait for SQLite's write lock
    /// (`statement_lock_timeout` does not apply to SQLite).
    pub fn with_options(mut self, options: MigratorOptions) -> Self {
        self.options = options;
        self
    }

    /// Reads and validates the history (no lock): applied, pending and unknown migrations.
    ///
    /// # Errors
    /// A corrupt row, an edited applied migration, an out-of-order pending one, or a failed query.
    pub fn status(&self) -> Result<Status, Error> {
        history::validate(self.embedded, read_history(self.conn)?)
    }

    /// The newest applied migration, or `None` for an empty database.
    ///
    /// # Errors
    /// A corrupt history row or a failed query.
    pub fn current(&self) -> Result<Option<HistoryEntry>, Error> {
        let rows = read_history(self.conn)?;
        Ok(rows.last().and_then(|newest| {
            history::entries(self.embedded, std::slice::from_ref(newest))
                .into_iter()
                .find(|e| e.version == newest.version)
        }))
    }

    /// Every migration known to the binary or the database, applied or not, ascending.
    ///
    /// # Errors
    /// A corrupt history row or a failed query.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, Error> {
        Ok(history::entries(self.embedded, &read_history(self.conn)?))
    }

    /// The embedded migrations no other migration builds on.
    pub fn heads(&self) -> Vec<EmbeddedMigration> {
        history::heads(self.embedded)
    }

    /// Applies pending migrations up to `target` under SQLite's write lock, each as one
    /// savepoint, committed together.
    ///
    /// # Errors
    /// The lock not granted within the timeout, history problems, a target that does not
    /// resolve, or a failing migration (the migrations before it stay applied).
    pub fn upgrade(&self, target: Target) -> Result<UpgradeReport, Error> {
        let status = self.status()?;
        if self.upgrade_plan(&status, target)?.is_empty() {
            history::check_unknown(&status, self.options.strict)?;
            return Ok(UpgradeReport::default());
        }
        self.locked(|| {
            store::ensure_tables(self.conn)?;
            let status = self.status()?;
            history::check_unknown(&status, self.options.strict)?;
            let plan = self.upgrade_plan(&status, target)?;
            let Some(&bound) = plan.last() else {
                return Ok(UpgradeReport::default());
            };
            let queue = plan.iter().filter_map(|v| self.embedded.migration(*v));
            let applied = driver::run(self.conn, self.embedded, &status.applied, queue, bound)?;
            Ok(UpgradeReport { applied })
        })
    }

    /// Reverts applied migrations down to `target`, newest first, each as one savepoint (down
    /// SQL, then its history and down rows deleted). Every migration on the way must have down
    /// SQL (embedded, or stored when it was applied), else nothing runs.
    ///
    /// # Errors
    /// The lock not granted in time, history problems, a target that does not resolve, an
    /// irreversible migration, or a failing down SQL.
    pub fn downgrade(&self, target: Target) -> Result<DowngradeReport, Error> {
        let status = self.status()?;
        if resolve_downgrade(target, &status.applied_versions())?.is_empty() {
            return Ok(DowngradeReport::default());
        }
        self.locked(|| {
            let status = self.status()?;
            let plan = resolve_downgrade(target, &status.applied_versions())?;
            let stored = read_down(self.conn)?;
            let steps = history::down_steps(self.embedded, &status, &plan, &stored)?;
            let mut report = DowngradeReport::default();
            for history::DownStep {
                version,
                name,
                file,
                down,
            } in steps
            {
                let started = Instant::now();
                let sql = format!("{down}\n;\n{}", forget(version));
                let outcome = driver::run_step(self.conn, &sql, Direction::Down, version, &file);
                // On failure, `locked` commits what was reverted before it.
                outcome?;
                let elapsed = started.elapsed();
                tracing::info!(version, name = %name, elapsed_ms = elapsed.as_millis() as u64, "reverted migration");
                report.reverted.push(RevertedMigration {
                    version,
                    name,
                    elapsed,
                });
            }
            Ok(report)
        })
    }

    fn upgrade_plan(&self, status: &Status, target: Target) -> Result<Vec<i64>, Error> {
        let known: Vec<i64> = self.embedded.migrations.iter().map(|m| m.version).collect();
        Ok(resolve_upgrade(target, &known, &status.applied_versions())?)
    }

    /// Runs `work` holding SQLite's write lock, with foreign keys off: `BEGIN IMMEDIATE` (waiting
    /// up to the lock timeout), `work`, `COMMIT` — also after a failed migration, whose
    /// savepoint is already rolled back, so the migrations before it stay. Errors before any
    /// migration ran roll back. The previous `foreign_keys` setting comes back on every path.
    fn locked<T>(&self, work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let conn = self.conn;
        let foreign_keys: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(|e| store::db_error("read PRAGMA foreign_keys", &e))?;
        conn.busy_timeout(self.options.lock_timeout)
            .map_err(|e| store::db_error("set the SQLite busy timeout", &e))?;
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(|e| store::db_error("turn foreign keys off for the migration", &e))?;
        let restore = || {
            let _ = conn.execute_batch(&format!("PRAGMA foreign_keys = {foreign_keys}"));
        };
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            restore();
            return Err(lock_error(&e, self.options.lock_timeout));
        }
        let result = work();
        let ended = match &result {
            Err(Error::MigrationFailed { .. }) | Ok(_) => conn.execute_batch("COMMIT"),
            Err(_) => conn.execute_batch("ROLLBACK"),
        };
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        restore();
        match (result, ended) {
            (Ok(_), Err(e)) => Err(store::db_error("commit the migrations", &e)),
            (result, _) => result,
        }
    }
}

/// `BEGIN IMMEDIATE` failed: usually another process held the write lock past the timeout.
fn lock_error(error: &rusqlite::Error, waited: std::time::Duration) -> Error {
    let busy = matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy
    );
    if busy {
        return Error::Database {
            action: "take SQLite's write lock for the migration (BEGIN IMMEDIATE)",
            reason: format!(
                "the database stayed locked for {:.1}s: another process is migrating or holds a \
                 write transaction. Wait for it to finish, or raise BLUEFOX_LOCK_TIMEOUT",
                waited.as_secs_f64()
            ),
        };
    }
    store::db_error(
        "take SQLite's write lock for the migration (BEGIN IMMEDIATE)",
        error,
    )
}
