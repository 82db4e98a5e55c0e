//! The command line as clap reads it: global options, verbs and their arguments, and the help
//! text that documents exit codes and the JSON output.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit status and JSON fields, shown at the end of `bluefox --help`.
const AFTER_HELP: &str = "\
Exit status:
  0  success (current and history exit 0 whatever they find)
  1  check found something: model changes without a migration, more than one head, or
     (with --db) migrations not applied to the database
  2  usage error (unknown verb or option, malformed target)
  3  any other failure; the message after `error:` says what happened and what to do

Settings: DATABASE_URL (and PGPASSWORD, BLUEFOX_LOCK_TIMEOUT, BLUEFOX_STATEMENT_LOCK_TIMEOUT,
BLUEFOX_STRICT) come from the environment, else from .env in the crate directory (--dir), else
from .env at its workspace root. MODELS_MODULE is read the same way. DATABASE_URL may be
postgres://... or sqlite://path (sqlite:path, sqlite::memory:); it must name the dialect the
migrations directory is written in (its bluefox_snapshot.json says which; --migrations DIR picks
another directory, e.g. migrations-sqlite). With --sql no connection is made: the SQL is written
in the migrations' dialect (a DATABASE_URL of another dialect is refused).
RUST_LOG filters the log lines on stderr (default: warn; the command prints its own progress).

JSON output (--format json; field names are stable, new fields may be added):
  current  {\"current\": null | {\"version\": int, \"name\": str, \"applied_on\": str},
            \"at_head\": bool, \"pending\": int}
  history  {\"migrations\": [{\"version\": int, \"name\": str, \"file\": str|null,
            \"message\": str|null, \"parent\": int|null, \"applied_on\": str|null,
            \"status\": \"applied\"|\"pending\", \"is_head\": bool, \"in_files\": bool,
            \"edited\": bool}]}   (ascending by version; times are RFC 3339, UTC)
  heads    {\"heads\": [{\"version\": int, \"name\": str, \"file\": str, \"message\": str|null}]}
  check    {\"ok\": bool, \"pending_changes\": [{\"change\": str, \"table\": str,
            \"destructive\": str|null}], \"heads\": [int],
            \"unapplied\": null | [{\"version\": int, \"name\": str}]}
            (\"unapplied\" is null without --db)";

/// `bluefox`: schema migrations from Rust models, the Alembic workflow for bluefox crates.
#[derive(Debug, Parser)]
#[command(
    name = "bluefox",
    version,
    about = "Schema migrations from Rust models: make, upgrade, downgrade, current, history, \
             heads, check",
    after_long_help = AFTER_HELP
)]
pub struct Cli {
    /// The app crate: the directory of its Cargo.toml, src/ and migrations/.
    #[arg(long, global = true, value_name = "CRATE", default_value = ".")]
    pub dir: PathBuf,

    /// The migrations directory, relative to the crate (a crate that carries one set per
    /// dialect, such as migrations-sqlite, names the one to work on).
    #[arg(long, global = true, value_name = "DIR", default_value = "migrations")]
    pub migrations: String,

    /// Output format; json is available for current, history, heads and check.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines (CI): one JSON document on stdout, fields documented in --help.
    Json,
}

/// The verbs.
// These doc comments are the commands' `--help` text, printed as written: `<UTC timestamp>`
// is a placeholder there, not an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diff the models against migrations/ and write a new migration and snapshot.
    ///
    /// Prints the plan (destructive steps marked), then writes
    /// migrations/V<UTC timestamp>__<message slug>.sql and the new snapshot. Review the file
    /// before applying it.
    Make {
        /// What the migration does, e.g. "add users table".
        message: String,
        /// Allow a migration that drops every table (normally the sign that the models were not
        /// found).
        #[arg(long)]
        allow_drop_all: bool,
        /// The SQL dialect of a new migrations directory: postgresql or sqlite. Without it, the
        /// first migration is written for the dialect DATABASE_URL names (PostgreSQL without
        /// one); later ones always follow the snapshot, and a different --dialect is refused.
        #[arg(long, value_name = "DIALECT")]
        dialect: Option<String>,
    },
    /// Apply migrations: head (default), +N, or up to a VERSION.
    ///
    /// With --sql, print the SQL instead and connect to nothing; FROM:TO (such as base:head or
    /// 20261130052700:head) then says which migrations the database already has.
    Upgrade {
        /// head, +N, VERSION (with --sql also FROM:TO).
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL (history table included) instead of running it.
        #[arg(long)]
        sql: bool,
    },
    /// Revert migrations: -1 (default), -N, base, or down to a VERSION (which stays applied).
    ///
    /// With --sql, print the SQL instead and connect to nothing; FROM:TO (such as
    /// 20261130062700:base) gives the version the database is at, else the newest migration is
    /// assumed.
    Downgrade {
        /// -N, base, VERSION (with --sql also FROM:TO).
        #[arg(default_value = "-1", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it.
        #[arg(long)]
        sql: bool,
    },
    /// Show the newest applied migration (or `base (nothing applied)`).
    Current,
    /// List every migration of migrations/ and of the database: applied time or pending.
    History,
    /// List the head migrations of migrations/ (more than one: branches to merge).
    Heads,
    /// Exit 1 when the models changed but no migration captures it (needs no database).
    Check {
        /// Also exit 1 when migrations are not applied to the database (connects).
        #[arg(long)]
        db: bool,
    },
}

impl Command {
    /// The verb as typed, for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Make { .. } => "make",
            Command::Upgrade { .. } => "upgrade",
            Command::Downgrade { .. } => "downgrade",
            Command::Current => "current",
            Command::History => "history",
            Command::Heads => "heads",
            Command::Check { .. } => "check",
        }
    }

    /// Whether `--format json` means something for this verb.
    pub fn has_json(&self) -> bool {
        matches!(
            self,
            Command::Current | Command::History | Command::Heads | Command::Check { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn negative_and_signed_targets_and_flags_parse() {
        let cli = Cli::try_parse_from(["bluefox", "downgrade", "-2", "--sql"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Downgrade { ref target, sql: true } if target == "-2"
        ));
        let cli = Cli::try_parse_from(["bluefox", "downgrade"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Downgrade { ref target, sql: false } if target == "-1"
        ));
        let cli = Cli::try_parse_from(["bluefox", "--format", "json", "upgrade", "+1"]).unwrap();
        assert_eq!(cli.format, Format::Json);
        assert!(matches!(
            cli.command,
            Command::Upgrade { ref target, sql: false } if target == "+1"
        ));
        let cli = Cli::try_parse_from(["bluefox", "check", "--db", "--dir", "app"]).unwrap();
        assert_eq!(cli.dir, PathBuf::from("app"));
        assert!(matches!(cli.command, Command::Check { db: true }));
    }

    #[test]
    fn usage_errors() {
        for args in [
            vec!["bluefox"],
            vec!["bluefox", "make"],
            vec!["bluefox", "frobnicate"],
            vec!["bluefox", "--format", "yaml", "current"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
