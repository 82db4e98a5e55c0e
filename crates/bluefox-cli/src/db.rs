//! The database side of a command: a single-threaded tokio runtime for the one connection a
//! command opens, and that connection.

use crate::error::CliError;
use bluefox_runtime::settings::Settings;
use std::future::Future;
use tokio_postgres::Client;

/// Runs `future` to completion on a current-thread runtime (a command does one thing at a time).
///
/// # Errors
/// [`CliError::AsyncRuntime`] when the runtime cannot start, else the future's own error.
pub fn block_on<T>(future: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::AsyncRuntime)?
        .block_on(future)
}

/// Connects as the settings say (TLS per `sslmode`); the log line shows the URL redacted.
///
/// # Errors
/// [`CliError::Runtime`] with the runtime's connection error (host, port, user, what to do).
pub async fn connect(settings: &Settings) -> Result<Client, CliError> {
    tracing::debug!("connecting to {}", settings.database_url);
    let (client, _task) = bluefox_runtime::connect::connect(&settings.database_url)
        .await
        .map_err(bluefox_runtime::Error::from)?;
    Ok(client)
}
