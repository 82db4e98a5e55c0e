//! [`boot`]: what an application calls first. Settings, connection, migrations, drift check.
//!
//! The application's connection is opened first and reads the history without any lock: when
//! nothing is pending (the usual boot) that is the only migration work, one round trip. Only
//! when something is pending does boot open a second, dedicated connection for the migration
//! session: the advisory lock and `SET lock_timeout` belong to that session, so neither leaks
//! into the client handed to the application, and dropping it releases the lock on every path
//! (errors and panics included).

use crate::connect::connect;
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
    let (client, _connection) = connect(&settings.database_url).await?;
    if settings.migrate == MigrateMode::Off {
        tracing::info!("BLUEFOX_MIGRATE=off: not checking or applying migrations");
        return Ok(client);
    }
    // Both queries go out before either answer is awaited (tokio-postgres pipelines them), so
    // a boot with nothing pending costs one round trip after connecting.
    let tables = embedded.snapshot.tables;
    let (rows, live) = tokio::join!(history::read(&client), async {
        match tables.is_empty() {
            true => Ok(None),
            false => drift::live_schema(&client).await.map(Some),
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
        let (session, _session_connection) = connect(&settings.database_url).await?;
        let options = MigratorOptions {
            lock_timeout: settings.lock_timeout,
            statement_lock_timeout: Some(settings.statement_lock_timeout),
            strict: settings.strict,
        };
        let result = Migrator::new(&session, embedded)
            .with_options(options)
            .upgrade(Target::Head)
            .await;
        // Closing the session also drops the lock if anything above failed to release it.
        drop(session);
        let report = result?;
        tracing::info!(count = report.applied.len(), "migrations applied");
        if !tables.is_empty() {
            live = Some(drift::live_schema(&client).await?);
        }
    }
    if let Some(live) = live {
        drift::compare(tables, &live).warn();
    }
    Ok(client)
}
