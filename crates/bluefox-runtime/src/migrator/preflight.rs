//! The checks a migration session makes before any DDL, in one round trip: a read-only session
//! or a standby, or a user without CREATE on the schema, is refused with a clear error instead
//! of failing at refinery's first `CREATE TABLE IF NOT EXISTS` (which needs CREATE on the
//! schema even when the history table exists) or inside a migration.
//!
//! The same query asks the server (PostgreSQL 14 and later) to check every second, while a
//! statement runs, that the client is still there: a migrator killed in the middle of a long
//! migration then has its transaction rolled back and its lock released at once, instead of
//! its backend running the rest of the batch, and committing it, with nobody waiting.

use crate::error::Error;
use crate::history::{DOWN_TABLE, HISTORY_TABLE};
use tokio_postgres::{Client, SimpleQueryMessage};

/// What the server said about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub user: String,
    pub read_only: bool,
    pub in_recovery: bool,
    pub schema: Option<String>,
    pub may_create: bool,
}

/// Runs the checks on `client` (which is about to migrate).
///
/// # Errors
/// [`Error::NotWritable`] naming the user and the fix; [`Error::Database`] when the query fails.
pub(crate) async fn check(client: &Client) -> Result<(), Error> {
    let query = "SELECT current_user::text, current_setting('transaction_read_only'), \
         pg_is_in_recovery()::text, current_schema()::text, \
         coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)::text, \
         CASE WHEN current_setting('server_version_num')::int >= 140000 \
         THEN set_config('client_connection_check_interval', '1000', false) END";
    let messages = client
        .simple_query(query)
        .await
        .map_err(|e| Error::db("check that the session may migrate", &e))?;
    let Some(row) = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    }) else {
        return Ok(());
    };
    let yes = |i: usize| matches!(row.get(i), Some("true" | "on"));
    let session = Session {
        user: row.get(0).unwrap_or_default().to_string(),
        read_only: yes(1),
        in_recovery: yes(2),
        schema: row.get(3).map(str::to_string),
        may_create: yes(4),
    };
    verdict(&session)
}

/// Refuses a session that cannot migrate, with the reason and the fix.
pub(crate) fn verdict(s: &Session) -> Result<(), Error> {
    let reason = if s.in_recovery {
        "the server is a standby in recovery (read-only); connect to the primary".to_string()
    } else if s.read_only {
        "the session is read-only (default_transaction_read_only is on for this user, database or server); connect as a user whose sessions may write, or ALTER ROLE ... SET default_transaction_read_only = off".to_string()
    } else if let Some(schema) = s.schema.as_deref().filter(|_| !s.may_create) {
        format!(
            "it has no CREATE privilege on schema `{schema}`, which the migration history tables ({HISTORY_TABLE}, {DOWN_TABLE}) need (even when they exist: refinery runs CREATE TABLE IF NOT EXISTS) and so do most migrations; GRANT CREATE ON SCHEMA {} TO {}, or run migrations as the schema's owner",
            bluefox_core::schema::quote_ident(schema),
            bluefox_core::schema::quote_ident(&s.user)
        )
    } else if s.schema.is_none() {
        "no schema of its search_path exists, so there is nowhere to create the migration history tables; create the schema or fix search_path".to_string()
    } else {
        return Ok(());
    };
    Err(Error::NotWritable {
        user: s.user.clone(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            user: "app".into(),
            read_only: false,
            in_recovery: false,
            schema: Some("public".into()),
            may_create: true,
        }
    }

    #[test]
    fn refuses_read_only_and_standby_sessions() {
        let ro = Session {
            read_only: true,
            ..session()
        };
        let text = verdict(&ro).unwrap_err().to_string();
        assert!(text.starts_with("cannot apply or revert migrations as user `app`: the session is read-only (default_transaction_read_only"), "{text}");
        let standby = Session {
            in_recovery: true,
            ..session()
        };
        assert!(verdict(&standby)
            .unwrap_err()
            .to_string()
            .contains("standby"));
    }

    #[test]
    fn needs_create_on_the_schema() {
        assert!(verdict(&session()).is_ok());
        let no_create = Session {
            may_create: false,
            ..session()
        };
        let text = verdict(&no_create).unwrap_err().to_string();
        assert!(text.contains("no CREATE privilege on schema `public`, which the migration history tables (refinery_schema_history, bluefox_down_sql) need"), "{text}");
        assert!(
            text.contains("GRANT CREATE ON SCHEMA \"public\" TO \"app\""),
            "{text}"
        );
        let nowhere = Session {
            schema: None,
            may_create: false,
            ..session()
        };
        assert!(verdict(&nowhere)
            .unwrap_err()
            .to_string()
            .contains("search_path"));
    }
}
