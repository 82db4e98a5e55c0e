//! [`Migrator`]: upgrade, downgrade, current, history and heads over one dedicated connection.
//!
//! refinery applies the up SQL: bluefox drives refinery's `AsyncMigrate` on its own driver type,
//! which sends each migration, refinery's history insert and bluefox's down row as one
//! `BEGIN; ...; COMMIT;` batch, so a migration costs one round trip and stays one transaction.
//! Around refinery, bluefox takes the advisory lock (only when something is to be done), checks
//! the history first, and runs downgrades itself (refinery has none).

mod driver;
mod preflight;
mod run_settings;
mod statements;

use crate::error::{Direction, Error};
use crate::history::{self, HistoryEntry, Status};
use crate::lock;
use crate::offline;
use crate::target::{resolve_downgrade, resolve_upgrade, Target};
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How a [`Migrator`] waits and what it tolerates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigratorOptions {
    /// How long to poll for the advisory lock before failing with the holder's details.
    pub lock_timeout: Duration,
    /// When set, `SET lock_timeout` for the session before running migrations, so a DDL
    /// statement waiting on a busy table fails instead of queueing every query behind it.
    pub statement_lock_timeout: Option<Duration>,
    /// Refuse (instead of warn about) applied migrations this binary does not contain.
    pub strict: bool,
    /// Install the [schema watch](crate::schema_watch) when the migrating role may create event
    /// triggers (it tries; a refusal is rolled back).
    pub schema_watch: bool,
}

impl Default for MigratorOptions {
    fn default() -> Self {
        MigratorOptions {
            lock_timeout: Duration::from_secs(60),
            statement_lock_timeout: None,
            strict: false,
            schema_watch: true,
        }
    }
}

/// A migration applied by [`Migrator::upgrade`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: &'static str,
    /// How long its transaction took.
    pub elapsed: Duration,
}

/// A migration reverted by [`Migrator::downgrade`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertedMigration {
    /// Its version.
    pub version: i64,
    /// Its name (as stored in the history table).
    pub name: String,
    /// How long its transaction took.
    pub elapsed: Duration,
}

/// What an upgrade did: the migrations applied, in order (empty when nothing was pending).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpgradeReport {
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
}

/// What a downgrade did: the migrations reverted, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DowngradeReport {
    /// Reverted migrations, newest first.
    pub reverted: Vec<RevertedMigration>,
}

/// The embedded migrations over one connection. The lock, `lock_timeout` and the run's settings
/// belong to the session: give it a connection of its own, or reset the session before anything
/// else uses the connection, as [`crate::boot`] does (`RESET ALL` and
/// `pg_advisory_unlock_all()`).
pub struct Migrator<'a> {
    client: &'a Client,
    embedded: &'a Embedded,
    options: MigratorOptions,
}

impl<'a> Migrator<'a> {
    /// A migrator with default options (60 s lock deadline, not strict).
    pub fn new(client: &'a Client, embedded: &'a Embedded) -> Self {
        Migrator {
            client,
            embedded,
            options: MigratorOptions::default(),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: MigratorOptions) -> Self {
        self.options = options;
        self
    }

    /// Reads and validates the history (no lock): applied, pending and unknown migrations.
    ///
    /// # Errors
    /// A corrupt row, an edited applied migration, an out-of-order pending one, or a failed query.
    pub async fn status(&self) -> Result<Status, Error> {
        history::validate(self.embedded, history::read(self.client).await?)
    }

    /// The newest applied migration, or `None` for an empty database.
    ///
    /// # Errors
    /// A corrupt history row or a failed query.
    pub async fn current(&self) -> Result<Option<HistoryEntry>, Error> {
        let rows = history::read(self.client).await?;
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
    pub async fn history(&self) -> Result<Vec<HistoryEntry>, Error> {
        Ok(history::entries(
            self.embedded,
            &history::read(self.client).await?,
        ))
    }

    /// The embedded migrations no other migration builds on (more than one: branches to merge).
    pub fn heads(&self) -> Vec<EmbeddedMigration> {
        history::heads(self.embedded)
    }

    /// Applies pending migrations up to `target`. Nothing pending costs one round trip and no
    /// lock; otherwise the lock is taken, the history re-read, and each migration applied in
    /// its own transaction, logged with its time.
    ///
    /// # Errors
    /// Lock timeout, history problems, a target that does not resolve, or a failing migration
    /// (the migrations before it stay applied).
    pub async fn upgrade(&self, target: Target) -> Result<UpgradeReport, Error> {
        let checked = history::check(self.embedded, history::read(self.client).await?)?;
        if self.upgrade_plan(&checked, target)?.is_empty() {
            history::refuse_unknown(&checked.unknown, self.options.strict)?;
            return Ok(UpgradeReport::default());
        }
        let run = self.upgrade_under_lock(target).await?;
        let applied = run.applied(self.embedded).collect();
        Ok(UpgradeReport { applied })
    }

    /// The upgrade once the caller knows something is pending (boot read the history itself):
    /// takes the lock, re-reads the history under it, applies, releases.
    pub(crate) async fn upgrade_under_lock(&self, target: Target) -> Result<Run, Error> {
        lock::acquire(self.client, self.options.lock_timeout).await?;
        let result = self.upgrade_locked(target).await;
        finish(result, lock::release(self.client).await)
    }

    /// Reverts applied migrations down to `target`, newest first, each in one transaction (down
    /// SQL, then its history and down rows deleted). Every migration on the way must have down
    /// SQL (embedded, or stored when it was applied), else nothing runs.
    ///
    /// # Errors
    /// Lock timeout, history problems, a target that does not resolve, an irreversible
    /// migration, or a failing down SQL.
    pub async fn downgrade(&self, target: Target) -> Result<DowngradeReport, Error> {
        let status = self.status().await?;
        if resolve_downgrade(target, &status.applied_versions())?.is_empty() {
            return Ok(DowngradeReport::default());
        }
        lock::acquire(self.client, self.options.lock_timeout).await?;
        let result = self.downgrade_locked(target).await;
        finish(result, lock::release(self.client).await)
    }

    fn upgrade_plan(&self, checked: &history::Checked, target: Target) -> Result<Vec<i64>, Error> {
        let known: Vec<i64> = self.embedded.migrations.versions().collect();
        Ok(resolve_upgrade(
            target,
            &known,
            &checked.applied_versions(),
        )?)
    }

    /// Readies the session for DDL (see [`preflight`], and `SET lock_timeout`).
    async fn prepare_session(&self) -> Result<(), Error> {
        preflight::check(self.client).await?;
        if let Some(timeout) = self.options.statement_lock_timeout {
            let set = format!("SET lock_timeout = '{}ms'", timeout.as_millis());
            self.client
                .batch_execute(&set)
                .await
                .map_err(|e| Error::db("set lock_timeout", &e))?;
        }
        Ok(())
    }

    async fn upgrade_locked(&self, target: Target) -> Result<Run, Error> {
        self.prepare_session().await?;
        let checked = history::check(self.embedded, history::read(self.client).await?)?;
        history::refuse_unknown(&checked.unknown, self.options.strict)?;
        let plan = self.upgrade_plan(&checked, target)?;
        if plan.is_empty() {
            return Ok(Run::default());
        }
        let watch =
            crate::schema_watch::prepare_session(self.client, self.options.schema_watch).await;
        let elapsed = driver::run(
            self.client,
            self.embedded,
            &checked.applied,
            &plan,
            watch.marks(),
        )
        .await;
        crate::schema_watch::finish_session(self.client, &watch).await;
        Ok(Run {
            plan,
            elapsed: elapsed?,
        })
    }

    async fn downgrade_locked(&self, target: Target) -> Result<DowngradeReport, Error> {
        self.prepare_session().await?;
        let status = self.status().await?;
        let plan = resolve_downgrade(target, &status.applied_versions())?;
        let needs_stored = plan
            .iter()
            .any(|v| self.embedded.migration(*v).and_then(|m| m.down).is_none());
        let stored = if needs_stored {
            history::read_down(self.client).await?
        } else {
            Default::default()
        };
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
            let batch = offline::downgrade_block(&down, version);
            driver::execute(self.client, &batch, Direction::Down, version, &file, &down).await?;
            let elapsed = started.elapsed();
            tracing::info!(version, name = %name, elapsed_ms = elapsed.as_millis() as u64, "reverted migration");
            report.reverted.push(RevertedMigration {
                version,
                name,
                elapsed,
            });
        }
        Ok(report)
    }
}

/// What an upgrade applied, compactly: the plan's versions and each applied one's time, in plan
/// order (a run stopped by a failure returns its error instead). Boot needs only the count;
/// [`Migrator::upgrade`] turns it into the [`UpgradeReport`], 40 bytes per migration.
#[derive(Debug, Default)]
pub(crate) struct Run {
    plan: Vec<i64>,
    elapsed: Vec<Duration>,
}

impl Run {
    /// How many migrations were applied.
    pub(crate) fn count(&self) -> usize {
        self.elapsed.len()
    }

    /// The applied migrations (of `embedded`, the run's), oldest first.
    pub(crate) fn applied<'r>(
        &'r self,
        embedded: &'r Embedded,
    ) -> impl Iterator<Item = AppliedMigration> + 'r {
        applied(embedded, &self.plan, &self.elapsed)
    }
}

/// The [`AppliedMigration`]s of `plan` (each embedded) whose times are `elapsed`, in order.
fn applied<'e>(
    embedded: &'e Embedded,
    plan: &'e [i64],
    elapsed: &'e [Duration],
) -> impl Iterator<Item = AppliedMigration> + 'e {
    plan.iter().zip(elapsed).filter_map(|(version, elapsed)| {
        let m = embedded.migration(*version)?;
        Some(AppliedMigration {
            version: m.version,
            name: m.name,
            elapsed: *elapsed,
        })
    })
}

/// The result of the work under the lock; a failed release is only a warning once the work
/// committed (the server drops the lock with the connection anyway).
fn finish<T>(result: Result<T, Error>, released: Result<(), Error>) -> Result<T, Error> {
    if let (Ok(_), Err(e)) = (&result, &released) {
        tracing::warn!("{e}; the lock is released when the connection closes");
    }
    result
}
