//! refinery's async driver traits on bluefox's own session type: each migration, refinery's
//! history insert and bluefox's down row go to the server as one `BEGIN; ...; COMMIT;` batch.

use super::AppliedMigration;
use crate::error::{describe, Direction, Error};
use crate::history::{AppliedRow, HISTORY_TABLE};
use crate::offline;
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::Migration;
use std::collections::VecDeque;
use std::time::Instant;
use tokio_postgres::Client;

/// Has refinery apply `queue` (the planned migrations, ascending, the last being `bound`) over
/// `client`, given the history rows read and validated under the lock.
pub(super) async fn run(
    client: &Client,
    embedded: &Embedded,
    applied: &[AppliedRow],
    queue: impl Iterator<Item = &'static EmbeddedMigration>,
    bound: i64,
) -> Result<Vec<AppliedMigration>, Error> {
    let migrations = embedded
        .migrations
        .iter()
        .map(to_refinery)
        .collect::<Result<Vec<_>, _>>()?;
    let mut session = Session {
        client,
        applied: applied.iter().map(to_applied).collect(),
        queue: queue.collect(),
        done: Vec::new(),
        failure: None,
    };
    let outcome = session
        .migrate(
            &migrations,
            true,
            false,
            false,
            refinery_core::Target::Version(bound),
            HISTORY_TABLE,
        )
        .await;
    match outcome {
        Ok(_) => Ok(session.done),
        Err(e) => Err(session
            .failure
            .take()
            .unwrap_or_else(|| Error::Refinery(e.to_string()))),
    }
}

fn to_refinery(m: &'static EmbeddedMigration) -> Result<Migration, Error> {
    let embedded_error = |reason: String| Error::Embedded {
        version: m.version,
        file: m.file,
        reason,
    };
    let migration = Migration::unapplied(&format!("V{}__{}", m.version, m.name), m.up)
        .map_err(|e| embedded_error(e.to_string()))?;
    if migration.checksum() != m.checksum || migration.name() != m.name {
        return Err(embedded_error(format!(
            "refinery computes checksum {} for name {:?}, the binary embeds {} for {:?}",
            migration.checksum(),
            migration.name(),
            m.checksum,
            m.name
        )));
    }
    Ok(migration)
}

fn to_applied(row: &AppliedRow) -> Migration {
    Migration::applied(row.version, row.name.clone(), row.applied_on, row.checksum)
}

/// Builds [`Error::MigrationFailed`], locating the failing line of `sql` from the server's
/// error position (counted in characters from the start of the `BEGIN;` batch).
pub(super) fn failure(
    direction: Direction,
    version: i64,
    file: String,
    sql: &str,
    e: &tokio_postgres::Error,
) -> Error {
    let Some(db) = e.as_db_error() else {
        return Error::MigrationFailed {
            direction,
            version,
            file,
            sqlstate: "?????".into(),
            message: describe(e),
            detail: None,
            statement: None,
        };
    };
    let statement = match db.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(position)) => {
            let index = (*position as usize).checked_sub(offline::BEGIN.chars().count() + 1);
            index.and_then(|i| line_at(sql, i))
        }
        _ => None,
    };
    let detail = match (db.detail(), db.hint()) {
        (Some(d), Some(h)) => Some(format!("{d}; hint: {h}").into()),
        (Some(d), None) => Some(d.into()),
        (None, Some(h)) => Some(format!("hint: {h}").into()),
        (None, None) => None,
    };
    Error::MigrationFailed {
        direction,
        version,
        file,
        sqlstate: db.code().code().to_string(),
        message: db.message().to_string(),
        detail,
        statement,
    }
}

/// `line N: <text>` for the character index `index` of `sql`, when it falls inside.
fn line_at(sql: &str, index: usize) -> Option<Box<str>> {
    let byte = sql.char_indices().nth(index).map(|(b, _)| b)?;
    let line_number = sql[..byte].matches('\n').count() + 1;
    let text = sql.lines().nth(line_number - 1)?.trim();
    Some(format!("line {line_number}: {text}").into())
}

/// refinery's driver: one connection, the history rows read under the lock, the plan.
struct Session<'c> {
    client: &'c Client,
    applied: Vec<Migration>,
    queue: VecDeque<&'static EmbeddedMigration>,
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

    async fn apply(&mut self, up: &str, insert: &str) -> Result<usize, Aborted> {
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
        let batch = offline::live_upgrade_block(m, insert);
        let started = Instant::now();
        if let Err(e) = self.client.batch_execute(&batch).await {
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Err(self.fail(failure(
                Direction::Up,
                m.version,
                m.file.to_string(),
                m.up,
                &e,
            )));
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
        Ok(2)
    }
}

impl AsyncTransaction for Session<'_> {
    type Error = Aborted;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
        queries: T,
    ) -> Result<usize, Aborted> {
        let queries: Vec<&str> = queries.collect();
        match queries.as_slice() {
            // refinery's CREATE TABLE IF NOT EXISTS; bluefox's down table rides along.
            [ddl] => {
                let batch = format!("{ddl}\n{}", offline::down_table_ddl());
                match self.client.batch_execute(&batch).await {
                    Ok(()) => Ok(1),
                    Err(e) => Err(self.fail(Error::db("create the migration history tables", &e))),
                }
            }
            [up, insert] => self.apply(up, insert).await,
            other => Err(self.fail(Error::Refinery(format!(
                "unexpected batch of {} statements",
                other.len()
            )))),
        }
    }
}

impl AsyncQuery<Vec<Migration>> for Session<'_> {
    /// The history read and validated under this same lock a moment ago (refinery's own reader
    /// panics on corrupt rows, so it never reads the table itself).
    async fn query<'a>(&'a mut self, _query: &'a str) -> Result<Vec<Migration>, Aborted> {
        Ok(self.applied.clone())
    }
}

impl AsyncMigrate for Session<'_> {}

#[cfg(test)]
mod tests {
    use super::line_at;

    #[test]
    fn locates_the_failing_line() {
        let sql = "CREATE TABLE a (id int);\nSELECT * FROM nope;\n";
        assert_eq!(line_at(sql, 39), Some("line 2: SELECT * FROM nope;".into()));
        assert_eq!(
            line_at(sql, 0),
            Some("line 1: CREATE TABLE a (id int);".into())
        );
        assert_eq!(line_at(sql, 500), None);
    }
}
