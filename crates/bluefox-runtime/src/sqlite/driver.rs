//! refinery's sync driver traits on bluefox's SQLite session: refinery plans and hands over each
//! migration with its history insert; bluefox runs them, with its down row, as one savepoint of
//! the write transaction the migrator holds (`BEGIN IMMEDIATE`), then checks foreign keys.

use super::store::{db_error, migration_failed};
use crate::error::{Direction, Error};
use crate::history::{AppliedRow, HISTORY_TABLE};
use crate::migrator::AppliedMigration;
use crate::offline::{down_insert, down_table_ddl};
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use refinery_core::traits::sync::{Migrate, Query, Transaction};
use refinery_core::Migration;
use rusqlite::Connection;
use std::collections::VecDeque;
use std::time::Instant;

/// Has refinery apply `queue` (ascending, the last being `bound`) over `conn`, inside the write
/// transaction the caller holds, given the history rows read under it.
pub(super) fn run(
    conn: &Connection,
    embedded: &Embedded,
    applied: &[AppliedRow],
    queue: impl Iterator<Item = EmbeddedMigration>,
    bound: i64,
) -> Result<Vec<AppliedMigration>, Error> {
    let queue: VecDeque<EmbeddedMigration> = queue.collect();
    let newest = applied.iter().max_by_key(|row| row.version);
    let input = crate::refinery_glue::for_run(embedded, newest, &queue)?;
    let mut session = Session {
        conn,
        applied: input.applied,
        queue,
        done: Vec::new(),
        failure: None,
    };
    let outcome = session.migrate(
        &input.migrations,
        true,
        false,
        true,
        refinery_core::Target::Version(bound),
        HISTORY_TABLE,
    );
    match outcome {
        Ok(_) => Ok(session.done),
        Err(e) => Err(session
            .failure
            .take()
            .unwrap_or_else(|| Error::Refinery(e.to_string()))),
    }
}

/// Runs `sql` as one savepoint of the open transaction, then `PRAGMA foreign_key_check`; on any
/// failure the savepoint is rolled back (nothing of it remains) and the error names the
/// migration.
pub(super) fn run_step(
    conn: &Connection,
    sql: &str,
    direction: Direction,
    version: i64,
    file: &str,
) -> Result<(), Error> {
    let savepoint = || {
        conn.execute_batch("SAVEPOINT bluefox_migration")
            .map_err(|e| db_error("open a savepoint for the migration", &e))
    };
    savepoint()?;
    let outcome = conn
        .execute_batch(sql)
        .map_err(|e| migration_failed(direction, version, file, &e))
        .and_then(|()| foreign_key_check(conn, direction, version, file));
    match outcome {
        Ok(()) => conn
            .execute_batch("RELEASE bluefox_migration")
            .map_err(|e| migration_failed(direction, version, file, &e)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO bluefox_migration; RELEASE bluefox_migration");
            Err(e)
        }
    }
}

/// The rows that break a foreign key after a migration ran with foreign keys off.
fn foreign_key_check(
    conn: &Connection,
    direction: Direction,
    version: i64,
    file: &str,
) -> Result<(), Error> {
    let found = conn
        .prepare("SELECT \"table\", rowid, \"parent\" FROM pragma_foreign_key_check")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| {
                Ok(format!(
                    "{} (rowid {}) references a missing row of {}",
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<i64>>(1)?
                        .map_or_else(|| "none".to_string(), |r| r.to_string()),
                    row.get::<_, String>(2)?
                ))
            })?
            .take(5)
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| migration_failed(direction, version, file, &e))?;
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::MigrationFailed {
        direction,
        version,
        file: file.to_string(),
        sqlstate: "SQLITE_CONSTRAINT".to_string(),
        message: format!("foreign key check failed: {}", found.join("; ")),
        detail: Some(
            "SQLite runs migrations with foreign keys off and checks them before committing".into(),
        ),
        statement: None,
    })
}

/// refinery's driver: the connection, the history rows read under the write lock, the plan.
struct Session<'c> {
    conn: &'c Connection,
    applied: Vec<Migration>,
    queue: VecDeque<EmbeddedMigration>,
    done: Vec<AppliedMigration>,
    failure: Option<Error>,
}

/// What the driver returns to refinery; the real error waits in `Session::failure`.
#[derive(Debug)]
struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bluefox stopped the migration run")
    }
}

impl std::error::Error for Aborted {}

impl Session<'_> {
    fn fail(&mut self, error: Error) -> Aborted {
        self.failure = Some(error);
        Aborted
    }

    fn apply(&mut self, up: &str, insert: &str) -> Result<(), Aborted> {
        let planned = self.queue.pop_front();
        let Some(m) = planned.filter(|m| {
            m.up == up
                && insert.starts_with(&format!(
                    "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) VALUES ({}, ",
                    m.version
                ))
        }) else {
            let expected = planned.map_or_else(|| "none".to_string(), |m| m.version.to_string());
            return Err(self.fail(Error::Refinery(format!(
                "refinery sent a migration bluefox did not plan (expected {expected})"
            ))));
        };
        let sql = format!("{}\n;\n{insert};\n{}", m.up, down_insert(&m));
        let started = Instant::now();
        if let Err(e) = run_step(self.conn, &sql, Direction::Up, m.version, m.file) {
            return Err(self.fail(e));
        }
        let elapsed = started.elapsed();
        tracing::info!(
            version = m.version,
            name = m.name,
            elapsed_ms = elapsed.as_millis() as u64,
            "applied migration"
        );
        self.done.push(AppliedMigration {
            version: m.version,
            name: m.name,
            elapsed,
        });
        Ok(())
    }
}

impl Transaction for Session<'_> {
    type Error = Aborted;

    fn execute<'a, T: Iterator<Item = &'a str>>(&mut self, queries: T) -> Result<usize, Aborted> {
        let queries: Vec<&str> = queries.collect();
        match queries.as_slice() {
            // refinery's CREATE TABLE IF NOT EXISTS; bluefox's down table rides along.
            [ddl] => {
                let batch = format!("{ddl}\n{}", down_table_ddl());
                match self.conn.execute_batch(&batch) {
                    Ok(()) => Ok(1),
                    Err(e) => Err(self.fail(db_error("create the migration history tables", &e))),
                }
            }
            // Grouped: every planned migration followed by its history insert.
            pairs if pairs.len() % 2 == 0 => {
                for pair in pairs.chunks(2) {
                    self.apply(pair[0], pair[1])?;
                }
                Ok(pairs.len())
            }
            other => Err(self.fail(Error::Refinery(format!(
                "unexpected batch of {} statements",
                other.len()
            )))),
        }
    }
}

impl Query<Vec<Migration>> for Session<'_> {
    /// The history read and validated under this same write lock a moment ago (refinery's own
    /// reader panics on corrupt rows, so it never reads the table itself).
    fn query(&mut self, _query: &str) -> Result<Vec<Migration>, Aborted> {
        Ok(self.applied.clone())
    }
}

impl Migrate for Session<'_> {}
