//! The schema watch: what lets a boot with nothing pending skip reading the catalog for the
//! drift check, without ever missing a change made by hand.
//!
//! Reading the catalog costs the server milliseconds per thousand tables, more than the rest of
//! a boot. So a migration session run by a superuser installs, in the history's schema:
//! - `bluefox_schema_generation`, a sequence, and an event trigger (`ddl_command_end` and
//!   `sql_drop`) that takes its next value after every DDL command on anything but temporary
//!   objects, whoever runs it. A sequence never blocks and never rolls back, so the trigger adds
//!   no lock to anyone's DDL, and a rolled-back command only costs one catalog read later;
//! - `bluefox_schema_state`, one row: the snapshot fingerprint the live schema was last verified
//!   against, and the generation read *before* that verifying catalog read.
//!
//! A boot whose stored fingerprint is the embedded snapshot's and whose stored generation is
//! still the current one knows the schema is the one it verified: no DDL ran since. Any other
//! boot reads the catalog, reports drift, and when there is none stores a new stamp. Without the
//! watch (a migrating role that is not a superuser may not create event triggers) every boot
//! reads the catalog, as before; nothing else changes.
//!
//! The trigger function swallows its own errors, so it can never make a user's DDL fail; the
//! objects are readable by every role (`PUBLIC`), since the app may boot as another role than
//! the one that migrated.

use crate::error::Error;
use bluefox_core::embedded::EmbeddedSnapshot;
use bluefox_core::schema::quote_ident;
use tokio_postgres::{Client, SimpleQueryMessage};

/// The sequence the event trigger advances after each DDL command.
pub const GENERATION_SEQUENCE: &str = "bluefox_schema_generation";
/// The one-row table of the last verified stamp.
pub const STATE_TABLE: &str = "bluefox_schema_state";
/// The event trigger's function.
pub const WATCH_FUNCTION: &str = "bluefox_schema_changed";

/// The current generation: grows by one with every `nextval`, starting at 1 on a new sequence.
const GENERATION_SQL: &str = "SELECT last_value + is_called::int FROM bluefox_schema_generation";

/// What a boot learns about the schema from the stamp, before deciding to read the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampCheck {
    /// No DDL since the live schema was verified against this snapshot: no catalog read needed.
    Current,
    /// The watch is installed but the stamp is stale, missing or for another snapshot.
    Stale,
    /// No watch in this database (or it cannot be read): the catalog must be read every time.
    Unwatched,
}

/// The query that checks the stamp against `snapshot` (its result is read by [`stamp_check`]).
pub fn stamp_query(snapshot: &EmbeddedSnapshot) -> String {
    format!(
        "SELECT ({GENERATION_SQL}) AS generation, \
         (SELECT fingerprint = '{}' AND generation = ({GENERATION_SQL}) FROM {STATE_TABLE}) AS current",
        snapshot.fingerprint
    )
}

/// Checks the stamp in one round trip (pipelined with whatever else the caller sends).
pub async fn stamp_check(client: &Client, snapshot: &EmbeddedSnapshot) -> StampCheck {
    match client.simple_query(&stamp_query(snapshot)).await {
        Ok(messages) => match first_row(&messages) {
            Some(row) if row.get(1) == Some("t") => StampCheck::Current,
            Some(_) => StampCheck::Stale,
            None => StampCheck::Unwatched,
        },
        Err(e) => {
            tracing::debug!(error = %e, "no schema watch in this database; the drift check reads the catalog");
            StampCheck::Unwatched
        }
    }
}

/// The current generation, or `None` when the database has no watch. Read it before the
/// catalog, so a DDL command that lands in between makes the stamp stale instead of lost.
pub async fn generation(client: &Client) -> Option<i64> {
    let messages = client.simple_query(GENERATION_SQL).await.ok()?;
    first_row(&messages)?.get(0)?.parse().ok()
}

/// Stores that the live schema matched `snapshot` at `generation` (read before the catalog).
/// Best effort: a role that may not write (a verify-mode app on a read-only role) leaves the
/// stamp as it was, and the next boot reads the catalog again.
pub async fn store_stamp(client: &Client, snapshot: &EmbeddedSnapshot, generation: i64) {
    let sql = format!(
        "BEGIN; SET LOCAL synchronous_commit = off; \
         INSERT INTO {STATE_TABLE} (fingerprint, generation) VALUES ('{fingerprint}', {generation}) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
         generation = EXCLUDED.generation, verified_at = now(); COMMIT;",
        fingerprint = snapshot.fingerprint
    );
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        tracing::debug!(error = %e, "could not store the verified schema stamp; the next boot reads the catalog again");
    }
}

/// Installs the watch in the current schema when the session's role is a superuser (only one
/// may create event triggers) and it is not installed yet. Called by a migration session under
/// the advisory lock. Returns whether the watch is installed.
///
/// # Errors
/// [`Error::Database`] when a query fails.
pub async fn install(client: &Client) -> Result<bool, Error> {
    let probe = format!(
        "SELECT current_setting('is_superuser'), current_schema()::text, \
         EXISTS (SELECT 1 FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid \
         WHERE p.proname = '{WATCH_FUNCTION}' \
         AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))"
    );
    let messages = client
        .simple_query(&probe)
        .await
        .map_err(|e| Error::db("check for the schema watch", &e))?;
    let Some(row) = first_row(&messages) else {
        return Ok(false);
    };
    if row.get(2) == Some("t") {
        return Ok(true);
    }
    let (Some("on"), Some(schema)) = (row.get(0), row.get(1)) else {
        tracing::debug!(
            "not a superuser: no schema watch; every boot reads the catalog for the drift check"
        );
        return Ok(false);
    };
    client
        .batch_execute(&install_sql(schema))
        .await
        .map_err(|e| Error::db("install the schema watch", &e))?;
    Ok(true)
}

/// The statements that install the watch in `schema`, in one transaction.
pub fn install_sql(schema: &str) -> String {
    let s = quote_ident(schema);
    // Event trigger names are database-wide: the schema keeps two apps' watches apart.
    let name = |suffix: &str| {
        let mut name = format!("bluefox_watch_{suffix}_{schema}");
        while name.len() > 63 {
            name.pop();
        }
        quote_ident(&name)
    };
    let sequence = format!("{s}.{GENERATION_SEQUENCE}");
    let function = format!("{s}.{WATCH_FUNCTION}");
    format!(
        "BEGIN;\n\
         CREATE SEQUENCE IF NOT EXISTS {sequence};\n\
         CREATE TABLE IF NOT EXISTS {s}.{STATE_TABLE} (\n    \
             id boolean PRIMARY KEY DEFAULT true CHECK (id),\n    \
             fingerprint text NOT NULL,\n    \
             generation bigint NOT NULL,\n    \
             verified_at timestamptz NOT NULL DEFAULT now()\n);\n\
         GRANT USAGE, SELECT ON SEQUENCE {sequence} TO PUBLIC;\n\
         GRANT SELECT, INSERT, UPDATE ON {s}.{STATE_TABLE} TO PUBLIC;\n\
         CREATE OR REPLACE FUNCTION {function}() RETURNS event_trigger\n\
         LANGUAGE plpgsql SET search_path = pg_catalog AS $bluefox$\n\
         BEGIN\n    \
             IF tg_event = 'sql_drop' THEN\n        \
                 IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE NOT is_temporary) THEN\n            \
                     RETURN;\n        \
                 END IF;\n    \
             ELSIF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()\n            \
                 WHERE schema_name IS NULL OR schema_name NOT LIKE 'pg\\_temp%') THEN\n        \
                 RETURN;\n    \
             END IF;\n    \
             PERFORM nextval({sequence_literal}::regclass);\n\
         EXCEPTION WHEN OTHERS THEN\n    \
             RETURN;\n\
         END\n\
         $bluefox$;\n\
         CREATE EVENT TRIGGER {ddl} ON ddl_command_end EXECUTE FUNCTION {function}();\n\
         CREATE EVENT TRIGGER {drop} ON sql_drop EXECUTE FUNCTION {function}();\n\
         COMMIT;",
        sequence_literal = bluefox_core::schema::quote_literal(&sequence),
        ddl = name("ddl"),
        drop = name("drop"),
    )
}

fn first_row(messages: &[SimpleQueryMessage]) -> Option<&tokio_postgres::SimpleQueryRow> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_quotes_the_schema_and_fits_trigger_names() {
        let long = "s".repeat(60);
        let sql = install_sql(&long);
        assert!(
            sql.contains(&format!(
                "CREATE SEQUENCE IF NOT EXISTS \"{long}\".bluefox_schema_generation;"
            )),
            "{sql}"
        );
        let trigger = format!(
            "\"bluefox_watch_ddl_{}\"",
            &long[..63 - "bluefox_watch_ddl_".len()]
        );
        assert!(
            sql.contains(&format!(
                "CREATE EVENT TRIGGER {trigger} ON ddl_command_end"
            )),
            "{sql}"
        );
        let sql = install_sql("we\"ird");
        assert!(
            sql.contains("\"we\"\"ird\".bluefox_schema_changed()"),
            "{sql}"
        );
        assert!(
            sql.contains("nextval('\"we\"\"ird\".bluefox_schema_generation'::regclass)"),
            "{sql}"
        );
    }
}
