//! [`boot`]: what an application calls first. Settings, connection, migrations, drift check.
//!
//! Boot opens one connection, the one it hands to the application, and checks the history on it
//! without any lock: when nothing is pending (the usual boot) that is the only migration work,
//! one round trip (the [schema stamp](crate::schema_watch)). When something is pending, the
//! migration session runs on that same connection before the application has it: the advisory
//! lock, `SET lock_timeout` and the session's settings are taken there, and once it succeeded
//! [`reset_session`] gives every setting back (`RESET ALL`, which returns to what the server,
//! the role, the database and the URL's `options` set) and releases every advisory lock, so
//! none of it leaks into the application's connection. On a failure the connection is dropped
//! with the error, which ends the session and its locks on every path (errors and panics
//! included). A second connection for the session cost each migrating boot a backend start:
//! about 3 ms, as much as ten one-statement migrations.
//!
//! The connection is polled on boot's own task while boot uses it (it is spawned when boot
//! returns it): with a multi-threaded runtime a spawned connection runs on another worker, and
//! every answer (a thousand migrations are a thousand answers) would wait for a hop between
//! threads.

use crate::connect::{connect_unspawned, ConnectionDriver};
use crate::drift;
use crate::error::Error;
use crate::history;
use crate::migrator::Migrator;
use crate::schema_watch::{self, StampCheck};
use crate::settings::{MigrateMode, Settings};
use crate::target::Target;
use bluefox_core::dialect::Dialect;
use bluefox_core::embedded::Embedded;
use tokio_postgres::Client;

/// Boots with settings from the environment (or `.env`): connects, applies pending migrations
/// under the advisory lock (per `BLUEFOX_MIGRATE`), checks drift, returns the client.
///
/// # Errors
/// Settings, connection, lock, history and migration errors (see [`Error`]); in verify mode,
/// [`Error::Pending`] while migrations are pending.
pub async fn boot(embedded: &'static Embedded) -> Result<Client, Error> {
    let settings = Settings::from_env()?;
    boot_with(&settings, embedded).await
}

/// [`boot`] with the settings given instead of read from the environment.
///
/// # Errors
/// As [`boot`].
pub async fn boot_with(settings: &Settings, embedded: &'static Embedded) -> Result<Client, Error> {
    // On the heap: the application's own future holds this one, and the runtime moves that
    // future on the stack on its way in (`#[tokio::main]`, `block_on`). Held inline, boot's
    // 3.9 KB made the stack of a run applying 1000 migrations reach 40 KiB; boxed, 24 KiB.
    Box::pin(boot_inline(settings, embedded)).await
}

/// [`boot_with`]'s work, not boxed.
async fn boot_inline(settings: &Settings, embedded: &'static Embedded) -> Result<Client, Error> {
    let url_dialect = settings.database_url.dialect();
    if embedded.dialect == Dialect::Sqlite.name() && url_dialect == Dialect::Sqlite {
        return Err(Error::Database {
            action: "boot",
            reason: "DATABASE_URL and the embedded migrations are SQLite's: boot with \
                     bluefox_runtime::boot_sqlite, which returns a rusqlite::Connection"
                .to_string(),
        });
    }
    if embedded.dialect != Dialect::Postgres.name() || url_dialect != Dialect::Postgres {
        return Err(Error::DialectMismatch {
            embedded: embedded.dialect,
            url: url_dialect.name(),
        });
    }
    let (client, driver) = connect_unspawned(&settings.database_url).await?;
    let (result, driver) = {
        let work = std::pin::pin!(migrate_and_check(&client, settings, embedded));
        drive(driver, work).await
    };
    if let Some(driver) = driver {
        tokio::spawn(driver);
    }
    result.map(|()| client)
}

/// Runs `work` while polling the connection `driver` on the same task; hands the driver back
/// unless the connection ended first (then `work` is left to fail on the closed connection).
///
/// `work` comes pinned by the caller: taken by value and pinned here, it was held twice in this
/// future (the argument and the pinned copy), which made boot's future 7.4 KB instead of 3.9
/// (and the stack of a run applying 1000 migrations 60 KiB instead of 40).
async fn drive<F: std::future::Future>(
    mut driver: ConnectionDriver,
    mut work: std::pin::Pin<&mut F>,
) -> (F::Output, Option<ConnectionDriver>) {
    tokio::select! {
        biased;
        output = &mut work => (output, Some(driver)),
        () = &mut driver => (work.await, None),
    }
}

/// Everything boot does on the application's connection `client`: history, migrations (under
/// the lock on this connection, which is then [reset](reset_session)), drift check.
///
/// The usual boot is one round trip: the [schema stamp](schema_watch), one row, says nothing is
/// pending and no DDL ran since the last check. Otherwise the history's digest (one row whatever
/// the number of migrations) decides: equal to the embedded one, nothing is pending (and the
/// catalog is read for the drift check); different, the history rows are read and validated.
async fn migrate_and_check(
    client: &Client,
    settings: &Settings,
    embedded: &'static Embedded,
) -> Result<(), Error> {
    if settings.migrate == MigrateMode::Off {
        tracing::info!("BLUEFOX_MIGRATE=off: not checking or applying migrations");
        return Ok(());
    }
    // The stamp alone first: planning the digest query costs a fresh backend as much as the
    // stamp check itself, and a current stamp makes it unnecessary.
    let stamp = schema_watch::stamp_check(client, embedded).await;
    let (generation, digest) = match stamp {
        StampCheck::Current => {
            tracing::debug!(
                "schema stamp current: nothing pending and no DDL since the last check; drift check done without reading the catalog"
            );
            return Ok(());
        }
        // The generation to stamp with, read before the history (pipelined, in this order).
        StampCheck::Stale => tokio::join!(
            schema_watch::verification_generation(client),
            history::read_digest(client)
        ),
        StampCheck::Unwatched => (None, history::read_digest(client).await),
    };
    if digest.as_deref() == Some(embedded.history_digest) {
        // Every embedded migration is applied, unedited, and nothing else is.
        tracing::debug!("history digest matches the embedded migrations: nothing pending");
        return verify_schema(client, embedded, generation).await;
    }
    let checked = history::check(embedded, history::read(client).await?)?;
    if checked.pending == 0 {
        history::refuse_unknown(&checked.unknown, settings.strict)?;
        // Applied versions this binary does not know: never stamped, so checked every boot.
        return verify_schema(client, embedded, None).await;
    }
    if settings.migrate == MigrateMode::Verify {
        return Err(Error::Pending {
            versions: history::pending_of(embedded, &checked.applied)
                .map(|m| m.version)
                .collect(),
        });
    }
    // The migrator reads the history again under the lock.
    drop(checked);
    let run = Migrator::new(client, embedded)
        .with_options(settings.migrator_options())
        .upgrade_under_lock(Target::Head)
        .await?;
    tracing::info!(count = run.count(), "migrations applied");
    drop(run);
    // The session may just have installed the watch: read its generation, then check that the
    // history is now exactly the embedded one before stamping; pipelined after the reset, so
    // they read as the application's connection will.
    let (reset, generation, digest) = tokio::join!(
        reset_session(client),
        schema_watch::verification_generation(client),
        history::read_digest(client)
    );
    reset?;
    let generation = generation.filter(|_| digest.as_deref() == Some(embedded.history_digest));
    verify_schema(client, embedded, generation).await
}

/// What [`reset_session`] sends: every setting back to its session default (the server's,
/// the role's and the database's, the startup `options`), every advisory lock released.
const RESET_SESSION: &str = "RESET ALL;\nSELECT pg_advisory_unlock_all();";

/// Gives the connection a migration session ran on back as a fresh session would have it:
/// `lock_timeout`, `synchronous_commit`, `client_connection_check_interval` and bluefox's own
/// settings reset, no advisory lock left (the migration lock and the schema watch's are
/// released on their own; this also covers a release that failed).
///
/// # Errors
/// [`Error::Database`] when the server refuses: the connection is then not handed out.
async fn reset_session(client: &Client) -> Result<(), Error> {
    client
        .batch_execute(RESET_SESSION)
        .await
        .map_err(|e| Error::db("reset the session after migrating", &e))
}

/// The drift check proper: reads the catalog (when the snapshot has tables), warns about every
/// difference from the snapshot, and when there is none and the database is watched, stores the
/// stamp that lets the next boots skip this and the history digest. `generation` was read before
/// the history and the catalog were checked, on the same connection, so a change that lands in
/// between leaves the stamp stale rather than wrong.
async fn verify_schema(
    client: &Client,
    embedded: &Embedded,
    generation: Option<i64>,
) -> Result<(), Error> {
    let tables = embedded.snapshot.tables;
    if !tables.is_empty() {
        tracing::debug!(
            tables = tables.len(),
            watched = generation.is_some(),
            "drift check: reading the catalog"
        );
        let report = drift::check(client, tables).await?;
        report.warn();
        if !report.is_clean() {
            return Ok(());
        }
    }
    if let Some(generation) = generation {
        schema_watch::store_stamp(client, embedded, generation).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluefox_core::embedded::{EmbeddedSnapshot, Migrations};

    static EMBEDDED: Embedded = Embedded {
        dialect: "postgresql",
        migrations: Migrations::EMPTY,
        snapshot: EmbeddedSnapshot::EMPTY,
        history_digest: "",
    };

    #[test]
    fn the_future_an_application_holds_is_small() {
        // Not polled: only its size matters. Inline it was 7.4 KB, then 3.9 KB.
        let settings = Settings::from_lookup(|name| {
            (name == "DATABASE_URL").then(|| "postgres://app@127.0.0.1/app".to_string())
        })
        .unwrap();
        let size = std::mem::size_of_val(&boot_with(&settings, &EMBEDDED));
        assert!(size <= 256, "boot_with's future is {size} bytes");
    }
}
