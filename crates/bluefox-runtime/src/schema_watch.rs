//! The schema watch: what lets a boot with nothing pending skip both the history digest and the
//! catalog read of the drift check, without ever missing a change made by hand.
//!
//! Reading the catalog costs the server milliseconds per thousand tables, and digesting the
//! history a millisecond or two per thousand migrations, more than the rest of a boot. So a
//! migration session whose role may create event triggers (a superuser, or a managed service's
//! admin role where it allows them, such as Amazon RDS's master user) installs, in the history's
//! schema:
//! - `bluefox_schema_generation`, a sequence; an event trigger (`ddl_command_end` and
//!   `sql_drop`) that takes its next value after every DDL command on anything but temporary
//!   objects, whoever runs it; and a statement trigger on `refinery_schema_history` that does the
//!   same after any insert, update, delete or truncate. A sequence never blocks and never rolls
//!   back, so the triggers lock no table, and a rolled-back command only costs one full check
//!   later;
//! - `bluefox_schema_state`, one row (written at install, then only updated, so it needs no
//!   index for a fresh backend to plan around): the snapshot fingerprint and the history digest
//!   the database was last verified against, and the generation read *before* that
//!   verification.
//!
//! A boot whose stored fingerprint and digest are the embedded ones and whose stored generation
//! is still the current one knows the history and the schema are the ones it verified: nothing
//! is pending and no DDL ran since. Any other boot computes the history digest (and reads the
//! catalog when the snapshot has tables), reports drift, and when there is none stores a new
//! stamp. Without the watch (the migrating role may not create event triggers, which the
//! session finds out by trying: its installation is refused and rolled back) every boot does the
//! full check, as before; nothing else changes.
//!
//! The triggers advance the generation when DDL runs, before it commits; a boot verifying then
//! would see the advanced generation but not the DDL. So the triggers also take the watch lock
//! ([`WATCH_LOCK_CLASS`]) shared, held until their transaction ends (a migration session holds
//! it for its run), and a boot stamps only with a generation read while it could take that lock
//! exclusively ([`verification_generation`]).
//!
//! The trigger functions swallow their own errors, so they can never make anyone's statement
//! fail; the objects are readable by every role (`PUBLIC`), since the app may boot as another
//! role than the one that migrated.

use crate::error::Error;
use crate::history::HISTORY_TABLE;
use bluefox_core::embedded::Embedded;
use bluefox_core::schema::quote_ident;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

/// The sequence the event trigger advances after each DDL command.
pub const GENERATION_SEQUENCE: &str = "bluefox_schema_generation";
/// The one-row table of the last verified stamp.
pub const STATE_TABLE: &str = "bluefox_schema_state";
/// The event triggers' function.
pub const WATCH_FUNCTION: &str = "bluefox_schema_changed";
/// The setting a migration session turns on while its migrations run, so the triggers leave its
/// DDL and history rows to the one advance the session made before its first migration.
pub const MIGRATING_SETTING: &str = "bluefox.migrating";
/// The history table trigger's function.
pub const HISTORY_FUNCTION: &str = "bluefox_history_changed";
/// The statement trigger on the history table.
pub const HISTORY_TRIGGER: &str = "bluefox_history_watch";

/// The trigger functions' own `lock_timeout` (a function-level setting, restored when they
/// return): they wait for the watch lock however short the DDL session's `lock_timeout`. A boot
/// holds the lock exclusively for one statement at most (it only tries to take it), so the wait
/// is that short; giving up instead would swallow the error and leave the DDL uncounted, and a
/// boot would then trust a stamp that does not cover it.
const NO_LOCK_TIMEOUT: &str = "lock_timeout=0";

/// The first key of the watch's advisory lock (the second is `hashtext` of the schema), in the
/// two-key space, apart from the migration lock's one-key space. DDL transactions hold it shared
/// from their first counted command to their end (the triggers take it), and so does a migration
/// session for its run; a boot reads the generation it stamps with only while it can take it
/// exclusively (see [`verification_generation`]).
pub const WATCH_LOCK_CLASS: i32 = 0x6266_7763;

/// The watch lock's arguments for `schema` (an SQL expression yielding its name).
fn watch_lock_key(schema: &str) -> String {
    format!("{WATCH_LOCK_CLASS}, hashtext({schema})")
}

/// The current generation: grows by one with every `nextval`, starting at 1 on a new sequence.
fn generation_query() -> String {
    format!("SELECT last_value + is_called::int AS generation FROM {GENERATION_SEQUENCE}")
}

/// What a boot learns from the stamp, before deciding what else to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampCheck {
    /// Nothing changed since the history and the schema were verified against these embedded
    /// migrations and snapshot: nothing pending, no drift check needed.
    Current,
    /// The watch is installed but the stamp is stale, missing or for other migrations (the
    /// next stamp is taken with [`verification_generation`]).
    Stale,
    /// No watch in this database (or it cannot be read): every boot does the full check.
    Unwatched,
}

/// The query whose one row [`stamp_check`] compares with the embedded migrations: the
/// generation sequence's state and the stored stamp, column values as stored.
///
/// It compares nothing itself: in a fresh backend (every boot's) each operator, cast and
/// arithmetic the query names is a catalog lookup of its own, and the comparison and the sum
/// made it cost the server 0.80 ms against 0.54 ms for the same two relations read plainly
/// (`SELECT 1` 0.22 ms; medians of 20 fresh backends). The client compares.
pub fn stamp_query() -> String {
    format!(
        "SELECT g.last_value, g.is_called, s.fingerprint, s.history_digest, s.generation \
         FROM {GENERATION_SEQUENCE} g LEFT JOIN {STATE_TABLE} s ON true"
    )
}

/// Checks the stamp in one round trip.
pub async fn stamp_check(client: &Client, embedded: &Embedded) -> StampCheck {
    match client.simple_query(&stamp_query()).await {
        Ok(messages) => {
            let row = first_row(&messages);
            let column = |i: usize| row.and_then(|r| r.get(i));
            stamp_state(
                [column(0), column(1), column(2), column(3), column(4)],
                embedded,
            )
        }
        Err(e) => {
            tracing::debug!(error = %e, "no schema watch in this database; every boot digests the history and reads the catalog");
            StampCheck::Unwatched
        }
    }
}

/// What the [`stamp_query`] row `[last_value, is_called, fingerprint, history_digest,
/// generation]` says about `embedded`: current when the stamp is for its snapshot and history
/// and for the sequence's current generation (`last_value`, plus one once `nextval` has been
/// called, as [`generation_query`] computes it).
fn stamp_state(row: [Option<&str>; 5], embedded: &Embedded) -> StampCheck {
    let [last_value, is_called, fingerprint, digest, stamped] = row;
    let generation = last_value
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|v| v.checked_add(i64::from(is_called == Some("t"))));
    let Some(generation) = generation else {
        return StampCheck::Unwatched;
    };
    let current = fingerprint == Some(embedded.snapshot.fingerprint.to_string().as_str())
        && digest == Some(embedded.history_digest)
        && stamped.and_then(|g| g.parse::<i64>().ok()) == Some(generation);
    match current {
        true => StampCheck::Current,
        false => StampCheck::Stale,
    }
}

/// The generation a verification may stamp with, or `None` when the database has no watch or a
/// stamp must not be stored now. Read it before the history and the catalog, so a DDL command
/// that runs in between makes the stamp stale instead of lost.
///
/// It is read only while the watch lock can be taken exclusively (for this one statement, so
/// DDL elsewhere waits at most that long): the triggers take the lock shared before they
/// advance the generation and hold it until their transaction ends, so every DDL transaction
/// counted in the generation read has ended by then, and what it committed is in the catalog
/// read after. A DDL transaction still open (its changes not visible yet), or a migration run
/// in progress, makes this `None`: that boot checks fully and stores no stamp.
///
/// Call it outside a transaction block: inside one, the lock would be held until that
/// transaction ends, and DDL everywhere would wait for it.
pub async fn verification_generation(client: &Client) -> Option<i64> {
    let messages = client
        .simple_query(&verification_generation_query())
        .await
        .ok()?;
    first_row(&messages)?.get(0)?.parse().ok()
}

fn verification_generation_query() -> String {
    format!(
        "SELECT CASE WHEN pg_try_advisory_xact_lock({key}) THEN ({generation}) END",
        key = watch_lock_key("current_schema()"),
        generation = generation_query(),
    )
}

/// Stores that the history matched `embedded`'s digest and the live schema its snapshot at
/// `generation` (read before either was checked). Best effort: a role that may not write (a
/// verify-mode app on a read-only role) leaves the stamp as it was, and the next boot does the
/// full check again.
pub async fn store_stamp(client: &Client, embedded: &Embedded, generation: i64) {
    let sql = format!(
        "BEGIN; SET LOCAL synchronous_commit = off; \
         UPDATE {STATE_TABLE} SET fingerprint = '{fingerprint}', history_digest = '{digest}', \
         generation = {generation}, verified_at = now(); COMMIT;",
        fingerprint = embedded.snapshot.fingerprint,
        digest = embedded.history_digest,
    );
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        tracing::debug!(error = %e, "could not store the verified schema stamp; the next boot reads the catalog again");
    }
}

/// Whether the current schema has the watch. Whether this session's role may install or upgrade
/// it is not asked: a superuser may, and so may the admin role of a managed service that allows
/// event triggers without superuser rights (Amazon RDS's master user), which no setting tells
/// apart from a role that may not. So the session tries, and a refusal costs one rolled-back
/// transaction in a session that migrates anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    /// Installed; with `repair`, lacking something this bluefox gives it.
    Installed { repair: Option<Repair> },
    /// Not installed in this schema.
    Installable { schema: String },
    /// No schema to install it in (nothing on the `search_path` exists).
    Absent,
}

/// What an installed watch lacks, found by the probe before a migration session's first
/// migration and made good in one transaction ([`repair_sql`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Repair {
    /// The schema the watch is in.
    schema: String,
    /// Its trigger functions are an older bluefox's: no watch lock, no `lock_timeout` of their
    /// own.
    functions: bool,
    /// The history table has no trigger, or no history table is there: it was dropped by hand
    /// (and its trigger with it) and made again by refinery, or will be; or the trigger's
    /// function was dropped (`CASCADE` takes the trigger along). Without the trigger, edits of
    /// the history that run no DDL would not make the stamp stale.
    ///
    /// The probe reads `pg_class.relhastriggers` of the history table, not `pg_trigger`: the
    /// probe runs in a new backend before every migration session, and naming `pg_trigger`
    /// added 0.5 ms to it (2.3 ms against 1.7, medians of 15 new databases), this 0.2 ms
    /// (`pg_class` and `pg_proc` are read anyway). The flag stays set after a `DROP TRIGGER`
    /// of the trigger alone, which this does not catch; dropping the table, as one does to
    /// start a history over, clears it.
    history_trigger: bool,
}

/// Whether the watch is installed in the current schema, and what it lacks.
///
/// Asked in two steps: first whether the event triggers' function exists, by name and
/// signature (`to_regprocedure`, a lookup in caches every backend has), and only when it does,
/// the full probe. Without the function there can be no event trigger (it depends on it), and
/// that is every new database: its first migration session is the one that installs the watch,
/// and the full probe in that new backend (its catalogs not cached yet) cost the server 2.2 ms
/// against 0.7 ms for the first step (medians of 20 new databases). A watched database pays
/// one more round trip in the sessions that migrate it.
async fn presence(client: &Client) -> Result<Presence, Error> {
    let first = format!(
        "SELECT current_schema()::text, \
         to_regprocedure(quote_ident(current_schema()) || '.{WATCH_FUNCTION}()') IS NOT NULL"
    );
    let messages = client
        .simple_query(&first)
        .await
        .map_err(|e| Error::db("check for the schema watch", &e))?;
    match first_row(&messages).map(|row| (row.get(0), row.get(1))) {
        None | Some((None, _)) => return Ok(Presence::Absent),
        Some((Some(schema), Some("f"))) => {
            return Ok(Presence::Installable {
                schema: schema.to_string(),
            })
        }
        Some(_) => {}
    }
    // The current schema's oid, as each part of the probe looks in it.
    let namespace = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())";
    let probe = format!(
        "SELECT current_schema()::text, \
         (SELECT count(DISTINCT e.evtevent) = 2 FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid \
         WHERE p.proname = '{WATCH_FUNCTION}' AND e.evtevent IN ('ddl_command_end', 'sql_drop') \
         AND p.pronamespace = {namespace}), \
         EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname IN ('{WATCH_FUNCTION}', '{HISTORY_FUNCTION}') \
         AND p.pronamespace = {namespace} \
         AND (p.prosrc NOT LIKE '%pg_advisory_xact_lock_shared%' \
         OR NOT coalesce('{NO_LOCK_TIMEOUT}' = ANY(p.proconfig), false))), \
         coalesce((SELECT c.relhastriggers FROM pg_class c WHERE c.relname = '{HISTORY_TABLE}' \
         AND c.relnamespace = {namespace}), false) \
         AND EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = '{HISTORY_FUNCTION}' \
         AND p.pronamespace = {namespace})"
    );
    let messages = client
        .simple_query(&probe)
        .await
        .map_err(|e| Error::db("check for the schema watch", &e))?;
    let Some(row) = first_row(&messages) else {
        return Ok(Presence::Absent);
    };
    Ok(presence_of([
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
    ]))
}

/// [`Presence`] from the probe's row: the current schema, whether the watch's event trigger is
/// there, whether its functions are older than this bluefox's, whether the history table has
/// triggers and the history trigger's function is there.
fn presence_of(row: [Option<&str>; 4]) -> Presence {
    match row {
        [Some(schema), Some("t"), outdated, history_trigger] => {
            let repair = Repair {
                schema: schema.to_string(),
                functions: outdated == Some("t"),
                history_trigger: history_trigger != Some("t"),
            };
            Presence::Installed {
                repair: (repair.functions || repair.history_trigger).then_some(repair),
            }
        }
        [Some(schema), ..] => Presence::Installable {
            schema: schema.to_string(),
        },
        [None, ..] => Presence::Absent,
    }
}

/// Whether the server refused a statement for want of a privilege (SQLSTATE 42501): a role
/// that may not create event triggers, or that does not own the watch's functions.
fn refused_for_privilege(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
}

/// What is logged when the role may not install or upgrade the watch (at debug level: every
/// migration session of such a role meets it, and nothing is wrong).
pub const REFUSED: &str = "this role may not, which is expected unless it is a superuser or a \
                           managed service's admin role that may create event triggers";

/// Runs `sql` (one transaction of the watch's statements); when it fails, rolls it back and
/// logs why: at debug level when the role lacks the privilege ([`REFUSED`]), as a warning
/// otherwise.
async fn run_watch_transaction(client: &Client, sql: &str, doing: &'static str, without: &str) {
    let Err(e) = client.batch_execute(sql).await else {
        return;
    };
    let _ = client.batch_execute("ROLLBACK").await;
    let error = Error::db(doing, &e);
    if refused_for_privilege(&e) {
        tracing::debug!("{error}; {REFUSED}; {without}");
    } else {
        tracing::warn!("{error}; {without}");
    }
}

/// What a migration session does about the watch, decided before its first migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionWatch {
    /// The watch is installed and its generation was advanced for this session: the session
    /// may mark its work as migrating ([`MIGRATING_SETTING`]), so the triggers leave it alone.
    Marked,
    /// No watch yet and this session may install it: it does after its migrations (they then
    /// run without any trigger, and the first boot after them verifies and stamps).
    InstallAfter {
        /// The schema to install it in.
        schema: String,
    },
    /// No watch (or it could not be advanced): the session's DDL advances the generation, if
    /// any, as anyone's does.
    Unmarked,
}

impl SessionWatch {
    /// Whether the session's work is marked as migrating.
    pub fn marks(&self) -> bool {
        matches!(self, SessionWatch::Marked)
    }
}

/// What a migration session does about the watch before its first migration: when it is
/// installed, advances the generation once (so every stamp taken before the session is stale,
/// whatever the session then does); when it is not and `install` allows, leaves the
/// installation to [`finish_session`]. Never fails the session: the watch is an
/// optimisation, so a failure is logged and the session goes on without it, its DDL then
/// advancing the generation statement by statement as anyone's does.
pub async fn prepare_session(client: &Client, install: bool) -> SessionWatch {
    let presence = match install {
        true => presence(client).await,
        // Not ours to install; advance it if someone did.
        false => Ok(Presence::Installed { repair: None }),
    };
    match presence {
        Ok(Presence::Installed { repair: None }) => {}
        Ok(Presence::Installed {
            repair: Some(repair),
        }) => {
            let (doing, without) = match repair.history_trigger {
                true => (
                    "restore the schema watch's trigger on the history table",
                    "edits of the history that run no DDL will not make the stamp stale",
                ),
                false => (
                    "upgrade the schema watch",
                    "the schema watch keeps its older trigger functions",
                ),
            };
            run_watch_transaction(client, &repair_sql(&repair), doing, without).await;
        }
        Ok(Presence::Installable { schema }) => return SessionWatch::InstallAfter { schema },
        Ok(Presence::Absent) => return SessionWatch::Unmarked,
        Err(e) => {
            tracing::warn!(
                "{e}; going on without the schema watch (every boot then does the full check)"
            );
            return SessionWatch::Unmarked;
        }
    }
    match advance(client).await {
        Ok(()) => SessionWatch::Marked,
        Err(e) => {
            tracing::debug!("{e}; this session's DDL advances the generation as anyone's does");
            SessionWatch::Unmarked
        }
    }
}

/// What a migration session does about the watch after its migrations (whether they all
/// applied or not): installs it when [`prepare_session`] left that to now. Never fails the
/// session: a refused installation (the history "table" in this schema is a view, say) is
/// rolled back and logged.
pub async fn finish_session(client: &Client, watch: &SessionWatch) {
    let schema = match watch {
        SessionWatch::Marked => return end_run(client).await,
        SessionWatch::InstallAfter { schema } => schema,
        SessionWatch::Unmarked => return,
    };
    run_watch_transaction(
        client,
        &install_sql(schema),
        "install the schema watch",
        "going on without the schema watch (every boot then does the full check)",
    )
    .await;
}

/// Advances the generation once for a whole migration session, before its first migration: the
/// session then marks itself as migrating ([`MIGRATING_SETTING`]), so the triggers do not
/// run their work once per statement, and every stamp taken before the session is stale from
/// here on (whether the session then applies everything, part, or nothing).
///
/// # Errors
/// [`Error::Database`] when the statement fails.
async fn advance(client: &Client) -> Result<(), Error> {
    // The watch lock, shared, for the session's run (before the advance, as the triggers take
    // it): no boot stamps a catalog that the run's later migrations change without counting.
    let advanced = client
        .batch_execute(&format!(
            "SELECT pg_advisory_lock_shared({key});\nSELECT nextval('{GENERATION_SEQUENCE}');",
            key = watch_lock_key("current_schema()"),
        ))
        .await;
    if let Err(e) = advanced {
        // A session lock outlives the failed statement: the run will not end it.
        end_run(client).await;
        return Err(Error::db("advance the schema watch's generation", &e));
    }
    Ok(())
}

/// Releases the watch lock [`advance`] took for the session's run.
async fn end_run(client: &Client) {
    let sql = format!(
        "SELECT pg_advisory_unlock_shared({key})",
        key = watch_lock_key("current_schema()")
    );
    if let Err(e) = client.batch_execute(&sql).await {
        // The server releases it with the connection, which the session closes.
        tracing::debug!(error = %e, "could not release the schema watch's lock");
    }
}

/// The statements that install the watch in `schema`, in one transaction. It commits without
/// waiting for the WAL flush: an installation a crash loses is only a watch that is not there
/// (every boot then does the full check until the next migration session installs it again).
///
/// The installation is part of the first migrating boot of every new database (each test
/// database of an application's suite), so it is kept cheap: the state table's columns have a
/// maximum length, so the server gives it no TOAST table and index (two files fewer, about a
/// third of the installation), and the function bodies, fixed and tested here, are not checked
/// again (`check_function_bodies = off`, as pg_dump restores functions).
///
/// It also installs over what is left of a watch partly removed by hand (the event triggers
/// dropped but not the history trigger, or one event trigger of two): every object is made
/// with `IF NOT EXISTS` or `OR REPLACE`, or dropped (`IF EXISTS`) and made again.
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
         SET LOCAL synchronous_commit = off;\n\
         SET LOCAL check_function_bodies = off;\n\
         {history_table}\
         DROP TRIGGER IF EXISTS {HISTORY_TRIGGER} ON {s}.{HISTORY_TABLE};\n\
         CREATE SEQUENCE IF NOT EXISTS {sequence};\n\
         CREATE TABLE IF NOT EXISTS {s}.{STATE_TABLE} (\n    \
             fingerprint varchar(128) NOT NULL,\n    \
             history_digest varchar(128) NOT NULL,\n    \
             generation bigint NOT NULL,\n    \
             verified_at timestamptz\n);\n\
         INSERT INTO {s}.{STATE_TABLE} SELECT '', '', 0, NULL \
         WHERE NOT EXISTS (SELECT FROM {s}.{STATE_TABLE});\n\
         GRANT USAGE, SELECT ON SEQUENCE {sequence} TO PUBLIC;\n\
         GRANT SELECT, INSERT, UPDATE ON {s}.{STATE_TABLE} TO PUBLIC;\n\
         {functions}\
         DROP EVENT TRIGGER IF EXISTS {ddl};\n\
         DROP EVENT TRIGGER IF EXISTS {drop};\n\
         CREATE EVENT TRIGGER {ddl} ON ddl_command_end EXECUTE FUNCTION {function}();\n\
         CREATE EVENT TRIGGER {drop} ON sql_drop EXECUTE FUNCTION {function}();\n\
         {history_trigger}\
         COMMIT;",
        history_table = history_table_sql(schema),
        functions = functions_sql(schema),
        history_trigger = history_trigger_sql(schema),
        ddl = name("ddl"),
        drop = name("drop"),
    )
}

/// The statements that make good what an installed watch lacks ([`Repair`]), in one
/// transaction. The trigger functions are made again also when only the history trigger is
/// missing, as a `DROP FUNCTION ... CASCADE` takes the trigger with its function.
fn repair_sql(repair: &Repair) -> String {
    let mut sql = String::from("BEGIN;\nSET LOCAL check_function_bodies = off;\n");
    sql.push_str(&functions_sql(&repair.schema));
    if repair.history_trigger {
        sql.push_str(&history_table_sql(&repair.schema));
        sql.push_str(&history_trigger_sql(&repair.schema));
    }
    sql.push_str("COMMIT;");
    sql
}

/// The history table in `schema`: refinery's own DDL (`IF NOT EXISTS`), so the history trigger
/// has its table before the first migration.
fn history_table_sql(schema: &str) -> String {
    let qualified = format!("{}.{HISTORY_TABLE}", quote_ident(schema));
    let mut sql = crate::offline::history_table_ddl().replacen(HISTORY_TABLE, &qualified, 1);
    sql.push('\n');
    sql
}

/// The statement trigger on the history table that advances the generation after any change
/// to the history. The table and the function must exist.
fn history_trigger_sql(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        "CREATE TRIGGER {HISTORY_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE \
         ON {s}.{HISTORY_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION {s}.{HISTORY_FUNCTION}();\n"
    )
}

/// The triggers' two functions for `schema` (`CREATE OR REPLACE`, so an installation of an
/// older bluefox gets them too, see [`prepare_session`]).
fn functions_sql(schema: &str) -> String {
    let s = quote_ident(schema);
    let sequence = format!("{s}.{GENERATION_SEQUENCE}");
    let function = format!("{s}.{WATCH_FUNCTION}");
    let history_function = format!("{s}.{HISTORY_FUNCTION}");
    format!(
        "CREATE OR REPLACE FUNCTION {function}() RETURNS event_trigger\n\
         LANGUAGE plpgsql SET search_path = pg_catalog SET lock_timeout = 0 AS $bluefox$\n\
         BEGIN\n    \
             IF current_setting('{MIGRATING_SETTING}', true) = 'on' THEN\n        \
                 RETURN;\n    \
             END IF;\n    \
             BEGIN\n        \
                 IF tg_event = 'sql_drop' THEN\n            \
                     IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE NOT is_temporary) THEN\n                \
                         RETURN;\n            \
                     END IF;\n        \
                 ELSIF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()\n                \
                     WHERE schema_name IS NULL OR schema_name NOT LIKE 'pg\\_temp%') THEN\n            \
                     RETURN;\n        \
                 END IF;\n        \
                 PERFORM pg_advisory_xact_lock_shared({lock_key});\n        \
                 PERFORM nextval({sequence_literal}::regclass);\n    \
             EXCEPTION WHEN OTHERS THEN\n        \
                 RETURN;\n    \
             END;\n\
         END\n\
         $bluefox$;\n\
         CREATE OR REPLACE FUNCTION {history_function}() RETURNS trigger\n\
         LANGUAGE plpgsql SET search_path = pg_catalog SET lock_timeout = 0 AS $bluefox$\n\
         BEGIN\n    \
             IF current_setting('{MIGRATING_SETTING}', true) = 'on' THEN\n        \
                 RETURN NULL;\n    \
             END IF;\n    \
             BEGIN\n        \
                 PERFORM pg_advisory_xact_lock_shared({lock_key});\n        \
                 PERFORM nextval({sequence_literal}::regclass);\n    \
             EXCEPTION WHEN OTHERS THEN\n        \
                 NULL;\n    \
             END;\n    \
             RETURN NULL;\n\
         END\n\
         $bluefox$;\n",
        sequence_literal = bluefox_core::schema::quote_literal(&sequence),
        lock_key = watch_lock_key(&bluefox_core::schema::quote_literal(schema)),
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
    use bluefox_core::embedded::{EmbeddedSnapshot, Migrations};

    static EMBEDDED: Embedded = Embedded {
        dialect: "postgresql",
        migrations: Migrations::EMPTY,
        snapshot: EmbeddedSnapshot {
            fingerprint: 42,
            ..EmbeddedSnapshot::EMPTY
        },
        history_digest: "abc",
    };

    #[test]
    fn a_stamp_for_these_migrations_and_the_current_generation_is_current() {
        let state = |row| stamp_state(row, &EMBEDDED);
        // A sequence advanced to 7 (is_called) is generation 8; one never advanced is its start.
        assert_eq!(
            state([Some("7"), Some("t"), Some("42"), Some("abc"), Some("8")]),
            StampCheck::Current
        );
        assert_eq!(
            state([Some("1"), Some("f"), Some("42"), Some("abc"), Some("1")]),
            StampCheck::Current
        );
        // DDL since the stamp, another snapshot, another history, no stamp row.
        for row in [
            [Some("8"), Some("t"), Some("42"), Some("abc"), Some("8")],
            [Some("7"), Some("t"), Some("43"), Some("abc"), Some("8")],
            [Some("7"), Some("t"), Some("42"), Some("abd"), Some("8")],
            [Some("7"), Some("t"), None, None, None],
        ] {
            assert_eq!(state(row), StampCheck::Stale, "{row:?}");
        }
        // No sequence row (or an unreadable one): no watch to trust.
        assert_eq!(state([None; 5]), StampCheck::Unwatched);
        assert_eq!(
            state([Some("x"), Some("t"), Some("42"), Some("abc"), Some("8")]),
            StampCheck::Unwatched
        );
    }

    #[test]
    fn any_role_tries_to_install_or_upgrade_the_watch_in_its_schema() {
        // No superuser column: whether the role may is found out by trying.
        assert_eq!(
            presence_of([Some("app"), Some("f"), Some("f"), Some("f")]),
            Presence::Installable {
                schema: "app".into()
            }
        );
        let repair = |functions, history_trigger| Presence::Installed {
            repair: Some(Repair {
                schema: "app".into(),
                functions,
                history_trigger,
            }),
        };
        assert_eq!(
            presence_of([Some("app"), Some("t"), Some("t"), Some("t")]),
            repair(true, false)
        );
        // The history table lost its trigger (dropped by hand and made again).
        assert_eq!(
            presence_of([Some("app"), Some("t"), Some("f"), Some("f")]),
            repair(false, true)
        );
        assert_eq!(
            presence_of([Some("app"), Some("t"), Some("t"), Some("f")]),
            repair(true, true)
        );
        assert_eq!(
            presence_of([Some("app"), Some("t"), Some("f"), Some("t")]),
            Presence::Installed { repair: None }
        );
        assert_eq!(
            presence_of([None, Some("f"), Some("f"), Some("f")]),
            Presence::Absent
        );
    }

    #[test]
    fn a_repair_restores_the_history_trigger_with_its_table_and_functions() {
        let sql = repair_sql(&Repair {
            schema: "app".into(),
            functions: false,
            history_trigger: true,
        });
        let table = sql.find("CREATE TABLE IF NOT EXISTS \"app\".refinery_schema_history");
        let function = sql.find("CREATE OR REPLACE FUNCTION \"app\".bluefox_history_changed()");
        let trigger = sql.find("CREATE TRIGGER bluefox_history_watch AFTER INSERT");
        assert!(
            table.is_some() && function.is_some() && table < trigger && function < trigger,
            "{sql}"
        );
        assert!(
            sql.starts_with("BEGIN;") && sql.ends_with("COMMIT;"),
            "{sql}"
        );
        let functions_only = repair_sql(&Repair {
            schema: "app".into(),
            functions: true,
            history_trigger: false,
        });
        assert!(
            !functions_only.contains("CREATE TRIGGER"),
            "{functions_only}"
        );
    }

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
