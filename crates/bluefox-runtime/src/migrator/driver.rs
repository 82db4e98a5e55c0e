//! refinery's async driver traits on bluefox's own session type: each migration, refinery's
//! history insert and bluefox's down row go to the server as one `BEGIN; ...; COMMIT;` batch.
//!
//! The batches are pipelined: up to [`PIPELINE_DEPTH`] are sent before the oldest one's answer is
//! read, so the server never waits for the client between migrations. Each batch stays one
//! transaction, and one that fails stops the run exactly as if they were sent one by one: the
//! failed transaction block makes the server refuse everything sent after it until `ROLLBACK`,
//! and each batch also checks that the one before it committed
//! ([`offline::live_upgrade_block`]), so nothing after a failing migration runs.
//!
//! Every migration of a run but the last commits with `synchronous_commit = off` (set once for
//! the session, see [`RunSettings`]): its commit returns without waiting for the WAL to reach
//! the disk, and the last migration's synchronous commit then flushes the WAL of all before it
//! (WAL is written in order), so a run of N migrations costs one WAL flush instead of N. Each
//! migration stays one transaction. Nothing is reported (logged or returned) as applied before
//! that flush: when a run stops early (a failing migration), the migrations it applied are
//! flushed by one small synchronous write before the error is returned, so "migrations before
//! it stay applied" holds across a crash.

use super::run_settings::RunSettings;
use super::statements;
use crate::error::{describe, Direction, Error};
use crate::history::{AppliedRow, HISTORY_TABLE};
use crate::offline;
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::Migration;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, SimpleQueryMessage};

const LOCK_NOT_AVAILABLE: &str = "55P03";
const DIVISION_BY_ZERO: &str = "22012";

/// How many migrations may be on their way before the oldest one's answer is read: enough to
/// keep the server busy, few enough that little is sent in vain after a failure.
pub(super) const PIPELINE_DEPTH: usize = 32;

/// The answers to one batch, as they arrive.
type Responses = std::pin::Pin<Box<tokio_postgres::SimpleQueryStream>>;

/// A migration sent and not answered yet.
struct InFlight {
    migration: EmbeddedMigration,
    prefix: Prefix,
    asynchronous: bool,
    started: Instant,
    responses: Responses,
}

/// How many planned migrations refinery is handed at a time. refinery takes its migrations as
/// owned values (the SQL copied) and copies them again to sort them, so a run of a thousand
/// handed over at once held four copies of every migration's SQL and entries at its peak; in
/// pieces of this size it holds a piece's worth (pieces of 64 held about 40 KB of it at the
/// heap peak of a run of one-statement migrations, pieces of 16 about 10 KB; massif). Each
/// piece's copies also land between the pipeline's allocations and spread the heap: with
/// 1000 table+index migrations (about 1.5 KB of SQL each) the heap's high-water mark was 188 KiB
/// with pieces of 16 and 156 KiB with pieces of 4 (medians of eight runs). refinery's calls per
/// piece cost no round trip. The pieces do not stop the pipeline: batches sent for one piece are
/// still in flight while refinery is handed the next.
const REFINERY_PIECE: usize = 4;

/// Has refinery apply `plan` (the planned versions, ascending, each embedded) over `client`,
/// given the history rows read and validated under the lock; with `mark`, the session is
/// marked as migrating for the schema watch's triggers while the run lasts. Returns how long
/// each applied migration took, in plan order (the versions and names are the plan's).
pub(super) async fn run(
    client: &Client,
    embedded: &Embedded,
    applied: &[AppliedRow],
    plan: &[i64],
    mark: bool,
) -> Result<Vec<Duration>, Error> {
    let settings = RunSettings::enter(client, plan.len() > 1, mark).await?;
    let mut session = Session {
        client,
        embedded,
        plan,
        next: 0,
        history_table_asserted: false,
        applied: Vec::new(),
        in_flight: VecDeque::new(),
        last_sent: None,
        settings,
        elapsed: Vec::with_capacity(plan.len()),
        batch: String::new(),
        failure: None,
        unflushed: None,
    };
    let outcome = session.migrate_in_pieces(applied).await;
    // Read the answers still owed (all of them succeed or the run failed already).
    let settled = session.settle_all().await;
    let outcome = outcome
        .map_err(|e| e.to_string())
        .and_then(|_| settled.map_err(|e| e.to_string()));
    let restored = session.settings.restore(client).await;
    let flushed = match session.unflushed {
        Some(version) => flush(client, version, &session.settings.final_commit()).await,
        None => Ok(()),
    };
    // Durable now: only from here on are the migrations reported as applied.
    for m in super::applied(embedded, plan, &session.elapsed) {
        tracing::info!(
            version = m.version,
            name = m.name,
            elapsed_ms = m.elapsed.as_millis() as u64,
            "applied migration"
        );
    }
    match outcome {
        Ok(_) => flushed.and(restored).map(|()| session.elapsed),
        Err(e) => {
            for problem in [flushed, restored].into_iter().filter_map(Result::err) {
                tracing::warn!("{problem}");
            }
            Err(session.failure.take().unwrap_or_else(|| Error::Refinery(e)))
        }
    }
}

/// Makes the asynchronous commits of this session durable: a synchronous commit (at the level
/// `final_commit` sets, see [`RunSettings::final_commit`]) flushes the WAL up to its own commit
/// record, which follows theirs. A transaction that writes nothing is not flushed by PostgreSQL,
/// so this one rewrites the history row of `version` (the newest migration applied) with its
/// own values.
///
/// # Errors
/// [`Error::Database`] when the statement fails (the connection was lost): the migrations
/// committed before may then be lost in a crash within the server's `wal_writer_delay`.
pub(super) async fn flush(client: &Client, version: i64, final_commit: &str) -> Result<(), Error> {
    let sql = format!(
        "BEGIN;\n{final_commit}UPDATE {HISTORY_TABLE} SET version = version WHERE version = {version};\nCOMMIT;"
    );
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| Error::db("flush the migrations committed asynchronously", &e))
}

/// Where the SQL of a migration starts inside the batch that carries it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prefix {
    /// Characters before the SQL.
    pub chars: usize,
    /// Statements before the SQL.
    pub statements: usize,
}

impl Prefix {
    /// A batch that starts with [`offline::BEGIN`] and then the SQL.
    pub(super) fn begin() -> Prefix {
        Prefix {
            chars: offline::BEGIN.chars().count(),
            statements: 1,
        }
    }
}

/// Sends one migration's transaction `batch` (its SQL `sql` after `prefix`) and waits for it; on
/// failure rolls back and returns [`Error::MigrationFailed`] (see [`failed`]).
pub(super) async fn execute(
    client: &Client,
    batch: &str,
    direction: Direction,
    version: i64,
    file: &str,
    sql: &str,
) -> Result<(), Error> {
    let outcome = match client.simple_query_raw(batch).await {
        Ok(responses) => settle(Box::pin(responses)).await,
        Err(e) => Err((e, 0)),
    };
    let Err((e, completed)) = outcome else {
        return Ok(());
    };
    let failed_step = FailedStep {
        direction,
        version,
        file,
        sql,
        prefix: Prefix::begin(),
    };
    Err(failed(client, failed_step, &e, completed).await)
}

/// A migration step whose batch failed.
pub(super) struct FailedStep<'a> {
    pub direction: Direction,
    pub version: i64,
    pub file: &'a str,
    pub sql: &'a str,
    pub prefix: Prefix,
}

/// Rolls back the failed transaction and builds [`Error::MigrationFailed`] naming the failing
/// statement (from the server's error position, else from how many statements `completed`)
/// and, after a lock timeout, the sessions holding locks that may block it.
async fn failed(
    client: &Client,
    step: FailedStep<'_>,
    e: &tokio_postgres::Error,
    completed: usize,
) -> Error {
    let _ = client.batch_execute("ROLLBACK").await;
    let chain_broken = step.prefix.statements == 2
        && completed == 1
        && e.as_db_error()
            .is_some_and(|db| db.code().code() == DIVISION_BY_ZERO);
    if chain_broken {
        return Error::MigrationFailed {
            direction: step.direction,
            version: step.version,
            file: step.file.to_string(),
            sqlstate: DIVISION_BY_ZERO.into(),
            message: "the migration before it did not commit (its COMMIT failed, or its SQL ended the transaction itself and then failed); nothing of this migration ran".into(),
            detail: Some("apply the migrations one at a time (bluefox upgrade +1) to see which statement does it".into()),
            statement: None,
        };
    }
    let mut error = failure(
        step.direction,
        step.version,
        step.file.to_string(),
        step.sql,
        e,
        step.prefix.chars,
    );
    if let Error::MigrationFailed {
        statement,
        sqlstate,
        detail,
        ..
    } = &mut error
    {
        if statement.is_none() {
            *statement = completed
                .checked_sub(step.prefix.statements)
                .and_then(|index| statements::describe(step.sql, index));
        }
        if sqlstate == LOCK_NOT_AVAILABLE {
            if let Some(holders) = lock_holders(client).await {
                let text = match detail.take() {
                    Some(d) => format!("{d}; {holders}"),
                    None => holders,
                };
                *detail = Some(text.into());
            }
        }
    }
    error
}

/// The answers to one batch, read to the end; on failure, how many of its statements completed
/// before the error.
async fn settle(mut responses: Responses) -> Result<(), (tokio_postgres::Error, usize)> {
    use futures_util::StreamExt;
    let mut completed = 0;
    while let Some(message) = responses.next().await {
        match message {
            Ok(SimpleQueryMessage::CommandComplete(_)) => completed += 1,
            Ok(_) => {}
            Err(e) => return Err((e, completed)),
        }
    }
    Ok(())
}

/// After a lock timeout: the other sessions holding locks on tables of this database (the
/// statement's transaction is rolled back, so `pg_blocking_pids` no longer applies), as
/// `waiting for locks held by pid N (...)`, or `None` when there are none or the query fails.
async fn lock_holders(client: &Client) -> Option<String> {
    let query = "SELECT l.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), \
         string_agg(DISTINCT l.mode || ' on ' || l.relation::regclass::text, ', ') \
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         JOIN pg_class c ON c.oid = l.relation \
         WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) \
         GROUP BY 1, 2, 3 ORDER BY 1 LIMIT 10";
    let messages = client.simple_query(query).await.ok()?;
    let holders: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(format!(
                "pid {} (application_name {:?}, state {:?}, holding {})",
                row.get(0)?,
                row.get(1).unwrap_or_default(),
                row.get(2).unwrap_or_default(),
                row.get(3).unwrap_or_default()
            )),
            _ => None,
        })
        .collect();
    if holders.is_empty() {
        return None;
    }
    Some(format!(
        "waiting for locks held by {}; end that transaction (or SELECT pg_terminate_backend(pid)) and run again",
        holders.join(", ")
    ))
}

/// Builds [`Error::MigrationFailed`], locating the failing line of `sql` from the server's
/// error position (counted in characters from the start of the batch, `prefix_chars` of which
/// come before `sql`).
pub(super) fn failure(
    direction: Direction,
    version: i64,
    file: String,
    sql: &str,
    e: &tokio_postgres::Error,
    prefix_chars: usize,
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
            let index = (*position as usize).checked_sub(prefix_chars + 1);
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
    embedded: &'c Embedded,
    /// The versions to apply, ascending; `next` indexes the next one refinery should send.
    plan: &'c [i64],
    next: usize,
    /// Whether refinery's history table was asserted this run (it asks once per piece).
    history_table_asserted: bool,
    /// The history as refinery is to see it for the piece it is handed now.
    applied: Vec<Migration>,
    /// Sent, oldest first, answers not read yet.
    in_flight: VecDeque<InFlight>,
    /// The version of the last migration sent in this run.
    last_sent: Option<i64>,
    /// What the run changed on the session: whether commits are asynchronous until the last,
    /// and what the last sets before its `COMMIT`.
    settings: RunSettings,
    /// How long each migration answered so far took, in plan order.
    elapsed: Vec<Duration>,
    /// The batch text of the migration being sent, one buffer for the whole run (see
    /// [`offline::write_live_upgrade_block`]).
    batch: String,
    failure: Option<Error>,
    /// The newest migration committed asynchronously and not yet flushed by a synchronous
    /// commit after it.
    unflushed: Option<i64>,
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
        let planned = self
            .plan
            .get(self.next)
            .and_then(|version| self.embedded.migration(*version));
        self.next += 1;
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
        // The run's last migration commits synchronously, flushing every one before it.
        let last = self.next == self.plan.len();
        let asynchronous = self.settings.asynchronous() && !last;
        let final_commit = match last {
            true => self.settings.final_commit(),
            false => String::new(),
        };
        let (chars, statements) = offline::write_live_upgrade_block(
            &mut self.batch,
            &m,
            insert,
            &final_commit,
            self.last_sent,
        );
        let prefix = Prefix { chars, statements };
        let started = Instant::now();
        let responses = match self.client.simple_query_raw(&self.batch).await {
            Ok(responses) => Box::pin(responses),
            Err(e) => {
                // The connection is gone; what was sent before still has its answers.
                self.settle_all().await?;
                let step = FailedStep {
                    direction: Direction::Up,
                    version: m.version,
                    file: m.file,
                    sql: m.up,
                    prefix,
                };
                let error = failed(self.client, step, &e, 0).await;
                return Err(self.fail(error));
            }
        };
        self.last_sent = Some(m.version);
        self.in_flight.push_back(InFlight {
            migration: m,
            prefix,
            asynchronous,
            started,
            responses,
        });
        if self.in_flight.len() >= PIPELINE_DEPTH {
            self.settle_oldest().await?;
        } else {
            // Sending only queues the batch for the connection, which runs when this task
            // waits: without a pause here the first PIPELINE_DEPTH batches were all encoded
            // and held at once (31 KB of a run applying 1000 one-statement migrations, most of
            // its heap peak). Once the connection has written it, the batch's buffer is reused.
            tokio::task::yield_now().await;
        }
        Ok(2)
    }

    /// Reads the answers to the oldest migration in flight. When it failed, reads (and drops)
    /// the answers to every one sent after it, which did nothing, then rolls back.
    async fn settle_oldest(&mut self) -> Result<(), Aborted> {
        let Some(sent) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let m = sent.migration;
        match settle(sent.responses).await {
            Ok(()) => {
                self.unflushed = sent.asynchronous.then_some(m.version);
                self.elapsed.push(sent.started.elapsed());
                Ok(())
            }
            Err((e, completed)) => {
                while let Some(later) = self.in_flight.pop_front() {
                    let _ = settle(later.responses).await;
                }
                let step = FailedStep {
                    direction: Direction::Up,
                    version: m.version,
                    file: m.file,
                    sql: m.up,
                    prefix: sent.prefix,
                };
                let error = failed(self.client, step, &e, completed).await;
                Err(self.fail(error))
            }
        }
    }

    /// Hands refinery the plan [`REFINERY_PIECE`] migrations at a time: each piece with the
    /// newest migration applied before it (from `applied`, the history read under the lock,
    /// for the first; the previous piece's last after that), which refinery compares with its
    /// history row and starts after.
    async fn migrate_in_pieces(&mut self, applied: &[AppliedRow]) -> Result<(), String> {
        let plan = self.plan;
        let mut before: Option<AppliedRow> = applied.iter().max_by_key(|r| r.version).cloned();
        for piece in plan.chunks(REFINERY_PIECE) {
            let queue: Option<Vec<EmbeddedMigration>> = piece
                .iter()
                .map(|version| self.embedded.migration(*version))
                .collect();
            let Some((last, queue)) = queue.and_then(|q| Some((*q.last()?, q))) else {
                let unplanned = Error::Refinery("a planned migration is not embedded".to_string());
                return Err(self.fail(unplanned).to_string());
            };
            let input = crate::refinery_glue::for_run(self.embedded, before.as_ref(), &queue)
                .map_err(|e| self.fail(e).to_string())?;
            self.applied = input.applied;
            self.migrate(
                &input.migrations,
                true,
                false,
                false,
                refinery_core::Target::Version(last.version),
                HISTORY_TABLE,
            )
            .await
            .map_err(|e| e.to_string())?;
            before = Some(AppliedRow {
                version: last.version,
                name: last.name.to_string(),
                applied_on: time::OffsetDateTime::now_utc(),
                checksum: last.checksum,
            });
        }
        Ok(())
    }

    /// Reads the answers to every migration in flight, oldest first.
    async fn settle_all(&mut self) -> Result<(), Aborted> {
        while !self.in_flight.is_empty() {
            self.settle_oldest().await?;
        }
        Ok(())
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
            [_] if self.history_table_asserted => Ok(1),
            [ddl] => {
                self.history_table_asserted = true;
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
