//! [`boot`]: what an application calls first. Settings, connection, migrations, drift check.
//!
//! The application's connection is opened first and reads the history without any lock: when
//! nothing is pending (the usual boot) that is the only migration work, one round trip. Only
//! when something is pending does boot open a second, dedicated connection for the migration
//! session: the advisory lock and `SET lock_timeout` belong to that session, so neither leaks
//! into the client handed to the application, and dropping it releases the lock on every path
//! (errors and panics included).
//!
//! Both connections are polled on boot's own task while boot uses them (the application's is
//! spawned when boot returns it): with a multi-threaded runtime a spawned connection runs on
//! another worker, and every answer (a thousand migrations are a thousand answers) would wait
//! for a hop between threads.

use crate::connect::{connect_unspawned, ConnectionDriver};
use crate::drift;
use crate::error::Error;
use crate::history;
use crate::migrator::{Migrator, MigratorOptions};
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
    let (result, driver) = drive(driver, migrate_and_check(&client, settings, embedded)).await;
    if let Some(driver) = driver {
        tokio::spawn(driver);
    }
    result.map(|()| client)
}

/// Runs `work` while polling the connection `driver` on the same task; hands the driver back
/// unless the connection ended first (then `work` is left to fail on the closed connection).
async fn drive<F: std::future::Future>(
    mut driver: ConnectionDriver,
    work: F,
) -> (F::Output, Option<ConnectionDriver>) {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        output = &mut work => (output, Some(driver)),
        () = &mut driver => (work.await, None),
    }
}

/// Everything boot does on the application's connection `client`: history, migrations (on a
/// session of their own), drift check.
async fn migrate_and_check(
    client: &Client,
    settings: &Settings,
    embedded: &'static Embedded,
) -> Result<(), Error> {
    if settings.migrate == MigrateMode::Off {
        tracing::info!("BLUEFOX_MIGRATE=off: not checking or applying migrations");
        return Ok(());
    }
    // Both queries go out before either answer is awaited (tokio-postgres pipelines them), so
    // a boot with nothing pending costs one round trip after connecting.
    let tables = embedded.snapshot.tables;
    let (rows, live) = tokio::join!(history::read(client), async {
        match tables.is_empty() {
            true => Ok(None),
            false => drift::live_schema(client).await.map(Some),
        }
    });
    let status = history::validate(embedded, rows?)?;
    let mut live = live?;
    if status.pending.is_empty() {
        history::check_unknown(&status, settings.strict)?;
    } else if settings.migrate == MigrateMode::Verify {
        return Err(Error::Pending {
            versions: status.pending.iter().map(|m| m.version).collect(),
        });
    } else {
        let (session, session_driver) = connect_unspawned(&settings.database_url).await?;
        let options = MigratorOptions {
            lock_timeout: settings.lock_timeout,
            statement_lock_timeout: Some(settings.statement_lock_timeout),
            strict: settings.strict,
        };
        let work = async move {
            let result = Migrator::new(&session, embedded)
                .with_options(options)
                .upgrade(Target::Head)
                .await;
            // Closing the session also drops the lock if anything above failed to release it;
            // it also ends the session's driver, so the join below completes.
            drop(session);
            result
        };
        let (result, ()) = tokio::join!(work, session_driver);
        let report = result?;
        tracing::info!(count = report.applied.len(), "migrations applied");
        if !tables.is_empty() {
            live = Some(drift::live_schema(client).await?);
        }
    }
    if let Some(live) = live {
        drift::compare(tables, &live).warn();
    }
    Ok(())
}
