//! The session settings a migration run changes for its duration, and puts back after it.
//!
//! A run of several migrations commits all but the last asynchronously, and a session whose
//! watch generation was advanced marks its work as a migration's for the schema watch's
//! triggers. Both are set once for the session before the first migration instead of in every
//! migration's transaction: each statement a batch carries costs the server a parse and a plan,
//! about as much as a small migration's own work.
//!
//! The last migration's transaction commits at the session's own level (at least `on`), which
//! flushes the WAL of every commit before it; see [`RunSettings::final_commit`]. The settings
//! are put back on every path ([`RunSettings::restore`]), so a client handed to
//! [`Migrator`](super::Migrator) by the application keeps its own.

use crate::error::Error;
use crate::offline::APPLIED_SETTING;
use crate::schema_watch::MIGRATING_SETTING;
use bluefox_core::schema::quote_literal;
use tokio_postgres::{Client, SimpleQueryMessage};

/// What a run changed on its session, and what to put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunSettings {
    /// The session's `synchronous_commit` before the run, when the run turned it off.
    synchronous_commit: Option<String>,
    /// Whether the run marked the session as migrating.
    marked: bool,
}

impl RunSettings {
    /// Changes nothing (a run of one migration that does not mark itself).
    pub(super) fn untouched() -> RunSettings {
        RunSettings {
            synchronous_commit: None,
            marked: false,
        }
    }

    /// Turns `synchronous_commit` off for the session (`asynchronous`) and marks it as migrating
    /// (`mark`), in one round trip; reads the level to restore.
    ///
    /// # Errors
    /// [`Error::Database`] when the statement fails.
    pub(super) async fn enter(
        client: &Client,
        asynchronous: bool,
        mark: bool,
    ) -> Result<RunSettings, Error> {
        if !asynchronous && !mark {
            return Ok(RunSettings::untouched());
        }
        let messages = client
            .simple_query(&enter_sql(asynchronous, mark))
            .await
            .map_err(|e| Error::db("prepare the migration session's settings", &e))?;
        let before = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        });
        Ok(RunSettings {
            synchronous_commit: before.filter(|_| asynchronous),
            marked: mark,
        })
    }

    /// Whether the run's commits are asynchronous until the last.
    pub(super) fn asynchronous(&self) -> bool {
        self.synchronous_commit.is_some()
    }

    /// What the run's last migration adds before its `COMMIT` so that the commit waits for the
    /// WAL (and so makes every asynchronous commit before it durable): the session's own level,
    /// or `on` when the session had durability off. Empty when the run changed nothing.
    pub(super) fn final_commit(&self) -> String {
        match &self.synchronous_commit {
            Some(before) => format!(
                "SET LOCAL synchronous_commit = {};\n",
                quote_literal(durable_level(before))
            ),
            None => String::new(),
        }
    }

    /// Puts the session's settings back as they were before [`RunSettings::enter`].
    ///
    /// # Errors
    /// [`Error::Database`] when the statement fails (the connection was lost).
    pub(super) async fn restore(&self, client: &Client) -> Result<(), Error> {
        match restore_sql(self) {
            Some(sql) => client
                .batch_execute(&sql)
                .await
                .map_err(|e| Error::db("restore the migration session's settings", &e)),
            None => Ok(()),
        }
    }
}

/// The commit level that waits for the WAL to reach the disk: `before` unless it is `off`.
fn durable_level(before: &str) -> &str {
    match before {
        "off" => "on",
        level => level,
    }
}

fn enter_sql(asynchronous: bool, mark: bool) -> String {
    let mut columns = vec!["current_setting('synchronous_commit')".to_string()];
    if asynchronous {
        columns.push("set_config('synchronous_commit', 'off', false)".to_string());
        // A pipelined run: its checks must not see a version an earlier run left set.
        columns.push(format!("set_config('{APPLIED_SETTING}', '', false)"));
    }
    if mark {
        columns.push(format!("set_config('{MIGRATING_SETTING}', 'on', false)"));
    }
    format!("SELECT {}", columns.join(", "))
}

fn restore_sql(settings: &RunSettings) -> Option<String> {
    let mut columns = Vec::new();
    if let Some(before) = &settings.synchronous_commit {
        columns.push(format!(
            "set_config('synchronous_commit', {}, false)",
            quote_literal(before)
        ));
    }
    if settings.marked {
        columns.push(format!("set_config('{MIGRATING_SETTING}', 'off', false)"));
    }
    (!columns.is_empty()).then(|| format!("SELECT {}", columns.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_reads_the_level_then_sets_only_what_is_asked() {
        assert_eq!(
            enter_sql(true, true),
            "SELECT current_setting('synchronous_commit'), set_config('synchronous_commit', 'off', false), set_config('bluefox.applied', '', false), set_config('bluefox.migrating', 'on', false)"
        );
        assert_eq!(
            enter_sql(false, true),
            "SELECT current_setting('synchronous_commit'), set_config('bluefox.migrating', 'on', false)"
        );
    }

    #[test]
    fn restore_puts_back_what_enter_changed() {
        let both = RunSettings {
            synchronous_commit: Some("remote_apply".into()),
            marked: true,
        };
        assert_eq!(
            restore_sql(&both).as_deref(),
            Some("SELECT set_config('synchronous_commit', 'remote_apply', false), set_config('bluefox.migrating', 'off', false)")
        );
        assert_eq!(restore_sql(&RunSettings::untouched()), None);
    }

    #[test]
    fn the_last_commit_is_durable_even_when_the_session_was_not() {
        let settings = |level: &str| RunSettings {
            synchronous_commit: Some(level.into()),
            marked: false,
        };
        assert_eq!(
            settings("off").final_commit(),
            "SET LOCAL synchronous_commit = 'on';\n"
        );
        assert_eq!(
            settings("remote_write").final_commit(),
            "SET LOCAL synchronous_commit = 'remote_write';\n"
        );
        assert_eq!(RunSettings::untouched().final_commit(), "");
        assert!(!RunSettings::untouched().asynchronous());
    }
}
