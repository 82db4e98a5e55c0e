//! bluefox-cli: the `bluefox` command, the Alembic workflow for crates whose models derive
//! `BluefoxBase`.
//!
//! ```text
//! bluefox [--dir CRATE] [--migrations DIR] [--format text|json] VERB
//!   make MESSAGE [--allow-drop-all] [--dialect postgresql|sqlite]
//!                                     models vs snapshot -> migrations/V<utc>__<slug>.sql + snapshot
//!   upgrade [head|+N|VERSION] [--sql] apply (or print the SQL, no connection)
//!   downgrade [-N|base|VERSION] [--sql]  revert (FROM:TO with --sql)
//!   current | history | heads         report (exit 0 whatever they find)
//!   check [--db]                      exit 1 when models changed without a migration
//! ```
//!
//! `--migrations DIR` picks the migrations directory (default `migrations`; a crate with one
//! set per dialect has e.g. `migrations-sqlite`): a [`Context`], built once from the command
//! line, carries it and the crate directory to every verb, and every message names it.
//!
//! Everything is read through the same code as build.rs: the models and migrations with
//! [`bluefox_build`], and the runtime verbs run [`bluefox_runtime::Migrator`] on an
//! [`Embedded`](bluefox_core::embedded::Embedded) built from the files at run time, so the app
//! does not have to be compiled first. `DATABASE_URL` comes from the environment, else from the
//! crate's `.env` (the `--dir` crate, not the current directory).
//!
//! Exit codes: 0 success, 1 `check` found something, 2 usage error, 3 any other failure (with an
//! `error: ...` message on stderr).

#![warn(missing_docs)]

pub mod cli;
pub mod db;
pub mod error;
pub mod inspect;
pub mod make;
pub mod migrate;
pub mod project;
pub mod sqlite;

pub use cli::{Cli, Command, Format};
pub use error::CliError;
pub use inspect::Found;
pub use project::Context;

use std::io::Write;

/// Runs a parsed command line, printing results to `out` and warnings to `err`.
///
/// # Errors
/// A [`CliError`]; [`CliError::exit_code`] gives the process exit code.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<Found, CliError> {
    if cli.format == Format::Json && !cli.command.has_json() {
        return Err(CliError::Usage(format!(
            "--format json is available for current, history, heads and check, not {}",
            cli.command.verb()
        )));
    }
    let context = project::Context::new(cli.dir.as_path(), cli.migrations.as_str());
    let ctx = &context;
    match &cli.command {
        Command::Make {
            message,
            allow_drop_all,
            dialect,
        } => {
            let options = make::MakeOptions {
                message: message.clone(),
                allow_drop_all: *allow_drop_all,
                dialect: dialect.clone(),
            };
            make::make(ctx, &options, out, err)?;
            Ok(Found::Nothing)
        }
        Command::Upgrade { target, sql } => {
            migrate::run(ctx, migrate::Direction::Upgrade, target, *sql, out)?;
            Ok(Found::Nothing)
        }
        Command::Downgrade { target, sql } => {
            migrate::run(ctx, migrate::Direction::Downgrade, target, *sql, out)?;
            Ok(Found::Nothing)
        }
        Command::Current => inspect::current(ctx, cli.format, out),
        Command::History => inspect::history(ctx, cli.format, out),
        Command::Heads => inspect::heads(ctx, cli.format, out),
        Command::Check { db } => inspect::check(ctx, *db, cli.format, out, err),
    }
}
