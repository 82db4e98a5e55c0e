//! Everything that makes a `bluefox` command fail, each message saying what happened, where and
//! what to do, and the exit code it maps to. No message carries a password: URLs are shown
//! redacted, and runtime errors never include one.

use std::path::PathBuf;

/// Exit code of a usage error (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of every other failure.
pub const EXIT_FAILURE: u8 = 3;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The arguments do not make sense together (exit 2).
    #[error("{0}")]
    Usage(String),
    /// `--dir` is not a crate.
    #[error(
        "{} has no Cargo.toml: run bluefox from the app crate's directory or point --dir at it",
        dir.display()
    )]
    NotACrate {
        /// The directory given.
        dir: PathBuf,
    },
    /// Reading the models or migrations failed.
    #[error(transparent)]
    Build(#[from] bluefox_build::Error),
    /// Connecting, reading the history or migrating failed (boxed: the runtime's error is
    /// large, and every `Result` here carries this type).
    #[error(transparent)]
    Runtime(Box<bluefox_runtime::Error>),
    /// `DATABASE_URL` is in neither the environment nor a `.env` file.
    #[error(
        "DATABASE_URL is not set: set it in the environment or in {}, e.g. \
         DATABASE_URL=postgresql://postgres:PASSWORD@localhost:5432/app (or, for SQLite \
         migrations, DATABASE_URL=sqlite://app.db)",
        dotenv.display()
    )]
    MissingDatabaseUrl {
        /// The crate's `.env` path.
        dotenv: PathBuf,
    },
    /// `bluefox make --dialect` names another dialect than the migrations already have.
    #[error(
        "{dir} holds {snapshot} migrations (its bluefox_snapshot.json says \"{snapshot}\"), so \
         a migration for {requested} cannot join them. Leave out --dialect, or keep a separate \
         set for {requested} in another directory (bluefox --migrations migrations-{requested} \
         make ...). Nothing was written"
    )]
    DialectMismatch {
        /// The migrations directory.
        dir: String,
        /// The snapshot's dialect.
        snapshot: &'static str,
        /// The dialect asked for.
        requested: &'static str,
    },
    /// `--dialect` names no dialect bluefox writes.
    #[error("unknown dialect `{0}`: use postgresql or sqlite")]
    UnknownDialect(String),
    /// The new migration would drop every table of the snapshot.
    #[error(
        "refusing to drop every table ({tables}): that is what happens when the models are not \
         found. Check where the models are (src/models.rs, src/models/, src/*/models.rs or \
         MODELS_MODULE); if dropping everything is what you mean, run again with \
         --allow-drop-all. Nothing was written"
    )]
    DropAll {
        /// The tables, comma-separated.
        tables: String,
    },
    /// The migrations directory has branches that must be joined first.
    #[error(
        "{dir} has {count} heads ({heads}): merge them first by setting the `-- parent:` line \
         of the newer one to the version of the other, then run {make} again. Nothing was \
         written"
    )]
    MultipleHeads {
        /// The migrations directory, relative to the crate.
        dir: String,
        /// How many.
        count: usize,
        /// The heads as `version (file)`, comma-separated.
        heads: String,
        /// The command to run again (`bluefox make`, with `--migrations` when needed).
        make: String,
    },
    /// Nothing to downgrade from with `--sql`.
    #[error("there are no migrations in {dir}, so there is no SQL to downgrade; run {make} first")]
    NoMigrations {
        /// The migrations directory, relative to the crate.
        dir: String,
        /// The command that makes the first migration (`bluefox make`, with `--migrations`
        /// when needed).
        make: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing to stdout failed (a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    AsyncRuntime(std::io::Error),
}

impl From<bluefox_runtime::Error> for CliError {
    fn from(error: bluefox_runtime::Error) -> CliError {
        CliError::Runtime(Box::new(error))
    }
}

impl CliError {
    /// The process exit code: [`EXIT_USAGE`] for usage errors, [`EXIT_FAILURE`] otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::UnknownDialect(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// The lines printed to stderr: `error: <message>`, then for a model or migration error the
    /// offending line with a caret and the fix, as build.rs shows them.
    pub fn report(&self, crate_dir: &std::path::Path) -> Vec<String> {
        let mut lines = match self {
            CliError::Build(error) => error.report(crate_dir),
            other => vec![other.to_string()],
        };
        if let Some(first) = lines.first_mut() {
            let message = first.strip_prefix("bluefox: ").unwrap_or(first);
            *first = format!("error: {message}");
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_report() {
        let usage = CliError::Usage("bad".into());
        assert_eq!(usage.exit_code(), 2);
        assert_eq!(usage.report(std::path::Path::new(".")), ["error: bad"]);
        let heads = CliError::MultipleHeads {
            dir: "migrations-sqlite".into(),
            count: 2,
            heads: "2 (V2__b.sql), 3 (V3__c.sql)".into(),
            make: "bluefox --migrations migrations-sqlite make".into(),
        };
        assert_eq!(heads.exit_code(), 3);
        assert!(heads.report(std::path::Path::new("."))[0].starts_with(
            "error: migrations-sqlite has 2 heads (2 (V2__b.sql), 3 (V3__c.sql)): merge"
        ));
    }
}
