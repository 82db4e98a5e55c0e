//! The boot fast path against a real PostgreSQL: the history digest and the schema watch let a
//! boot with nothing pending skip the history rows and the catalog, and any DDL made by hand
//! since the last verification (by any role) still makes the next boot read the catalog and
//! report the drift. Which path a boot took is read from its debug log.

mod support;

use bluefox_runtime::error::Error;
use bluefox_runtime::schema_watch;
use bluefox_runtime::settings::Settings;
use bluefox_runtime::{boot_with, EmbeddedColumn};
use support::log::{capture, lines, Log};
use support::*;
use tracing::Level;

static USERS_COLUMNS: &[EmbeddedColumn] = &[
    EmbeddedColumn {
        name: "id",
        sql_type: "BIGINT",
        nullable: false,
    },
    EmbeddedColumn {
        name: "email",
        sql_type: "TEXT",
        nullable: false,
    },
];
static TABLES: Tables = &[("users", USERS_COLUMNS)];

/// A second migration that creates no table (the snapshot of its test has none).
const BIO_LESS: Spec = (
    20261130000009,
    "add_active_users",
    "CREATE OR REPLACE VIEW \"active_users\" AS SELECT * FROM \"users\";\n",
    Some("DROP VIEW \"active_users\";\n"),
);

/// A third migration, for a third migration session.
const ADD_NOTES: Spec = (
    20261130000010,
    "add_notes",
    "CREATE TABLE \"notes\" (\"id\" BIGINT);\n",
    Some("DROP TABLE \"notes\";\n"),
);

/// A fourth migration, newer than [`ADD_NOTES`], for a session after one that applied it.
const ADD_TAGS: Spec = (
    20261130000011,
    "add_tags",
    "CREATE TABLE \"tags\" (\"id\" BIGINT);\n",
    None,
);

/// The history trigger's function as session 2 wrote it: no watch lock.
const SESSION_2_HISTORY_FUNCTION: &str =
    "CREATE OR REPLACE FUNCTION public.bluefox_history_changed() RETURNS trigger \
     LANGUAGE plpgsql SET search_path = pg_catalog AS $$ BEGIN \
     PERFORM nextval('public.bluefox_schema_generation'::regclass); RETURN NULL; END $$";

/// How many of the watch's trigger functions lack what this bluefox's have (the watch lock,
/// their own `lock_timeout`).
const OUTDATED: &str = "SELECT count(*) FROM pg_proc WHERE proname LIKE 'bluefox_%_changed' \
                        AND (prosrc NOT LIKE '%pg_advisory_xact_lock_shared%' \
                        OR NOT coalesce('lock_timeout=0' = ANY(proconfig), false))";

const SKIPPED: &str = "drift check done without reading the catalog";
const READ: &str = "drift check: reading the catalog";
const NOTHING_PENDING: &str = "history digest matches";
const STAMP_CURRENT: &str = "schema stamp current";

fn settings(url: &str) -> Settings {
    let url = url.to_string();
    Settings::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        _ => None,
    })
    .expect("test settings")
}

/// Boots, then returns which drift path the boot logged: `true` when it read the catalog.
async fn boot_reads_catalog(
    log: &Log,
    url: &str,
    embedded: &'static bluefox_runtime::Embedded,
) -> bool {
    log.lock().unwrap().clear();
    boot_with(&settings(url), embedded).await.expect("boot");
    let read = !lines(log, Level::DEBUG, READ).is_empty();
    let skipped = !lines(log, Level::DEBUG, SKIPPED).is_empty();
    assert!(
        read != skipped,
        "exactly one drift path per boot: read {read}, skipped {skipped}"
    );
    read
}

/// The watch lock's arguments for the `public` schema, as the triggers and boots take it.
fn watch_lock_key() -> String {
    format!(
        "{}, hashtext('public')",
        bluefox_runtime::schema_watch::WATCH_LOCK_CLASS
    )
}

fn generation(db: &TestDb) -> i64 {
    db.column("SELECT last_value + is_called::int FROM bluefox_schema_generation")[0]
        .parse()
        .expect("a number")
}

/// Deletes [`BIO_LESS`]'s history row by hand (no DDL), boots, and checks that the stamp was not
/// trusted and the migration was applied again.
async fn a_deleted_history_row_is_applied_again(
    log: &Log,
    db: &TestDb,
    embedded: &'static bluefox_runtime::Embedded,
) {
    db.client()
        .await
        .batch_execute(&format!(
            "DELETE FROM refinery_schema_history WHERE version = {}",
            BIO_LESS.0
        ))
        .await
        .unwrap();
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert!(lines(log, Level::DEBUG, STAMP_CURRENT).is_empty());
    assert_eq!(
        lines(log, Level::INFO, "applied migration").len(),
        1,
        "{:?}",
        log.lock().unwrap()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_boot_skips_the_catalog_only_while_no_ddl_ran_since_it_was_verified() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS], TABLES);
    // First boot: applies, installs the watch (the test role is a superuser), verifies, stamps.
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert_eq!(
        db.column(
            "SELECT evtevent FROM pg_event_trigger WHERE evtname LIKE 'bluefox_watch_%' ORDER BY 1"
        ),
        ["ddl_command_end", "sql_drop"]
    );
    assert_eq!(
        db.column("SELECT fingerprint || ' ' || (generation = (SELECT last_value + is_called::int FROM bluefox_schema_generation)) FROM bluefox_schema_state"),
        ["0 true"],
        "the stamp holds the snapshot's fingerprint and the current generation"
    );
    // Nothing pending, no DDL since: the stamp is all it needs (the digest is skipped too).
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);
    assert_eq!(lines(&log, Level::DEBUG, STAMP_CURRENT).len(), 1);
    assert!(lines(&log, Level::DEBUG, NOTHING_PENDING).is_empty());
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);

    // Temporary objects (an app's scratch tables) do not count as schema changes.
    let before = generation(&db);
    let client = db.client().await;
    client
        .batch_execute("CREATE TEMP TABLE scratch (x int); ALTER TABLE scratch ADD COLUMN y int; DROP TABLE scratch")
        .await
        .unwrap();
    assert_eq!(generation(&db), before);
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);

    // A column added by hand: the next boot reads the catalog and reports it, every time
    // until the drift is gone; then it stamps again and goes back to the fast path.
    client
        .batch_execute("ALTER TABLE users ADD COLUMN nickname TEXT")
        .await
        .unwrap();
    assert!(generation(&db) > before);
    for _ in 0..2 {
        assert!(boot_reads_catalog(&log, &db.url, embedded).await);
        let warned = lines(&log, Level::WARN, "schema drift");
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].contains(
                "column users.nickname is in the database but not in the models' snapshot"
            ),
            "{}",
            warned[0]
        );
    }
    client
        .batch_execute("ALTER TABLE users DROP COLUMN nickname")
        .await
        .unwrap();
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(lines(&log, Level::WARN, "schema drift").is_empty());
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);

    // A dropped table (sql_drop) counts too.
    client
        .batch_execute("CREATE TABLE audit (id int)")
        .await
        .unwrap();
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    client.batch_execute("DROP TABLE audit").await.unwrap();
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(lines(&log, Level::WARN, "schema drift").is_empty());
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);
}

#[tokio::test(flavor = "current_thread")]
async fn ddl_by_a_role_that_is_not_a_superuser_is_seen_too() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS], TABLES);
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);
    let role = db.migrating_role("bluefox_w_dev", "");
    let admin = db.client().await;
    admin
        .batch_execute(&format!(
            "GRANT SELECT ON refinery_schema_history TO \"{role}\""
        ))
        .await
        .unwrap();
    let dev = connect(&db.url_as(&role)).await;
    dev.batch_execute("CREATE TABLE notes (id int)")
        .await
        .unwrap();
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    let warned = lines(&log, Level::WARN, "schema drift");
    assert!(
        warned.len() == 1
            && warned[0].contains("table notes is in the database but not in the models' snapshot"),
        "{warned:?}"
    );
    // The application may boot as that role: it reads the digest and the stamp too.
    assert!(boot_reads_catalog(&log, &db.url_as(&role), embedded).await);
    dev.batch_execute("DROP TABLE notes").await.unwrap();
    assert!(boot_reads_catalog(&log, &db.url_as(&role), embedded).await);
    assert!(!boot_reads_catalog(&log, &db.url_as(&role), embedded).await);
}

#[tokio::test(flavor = "current_thread")]
async fn without_a_superuser_there_is_no_watch_and_every_boot_reads_the_catalog() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let role = db.migrating_role("bluefox_w_owner", "");
    let url = db.url_as(&role);
    let embedded = embedded(&[USERS], TABLES);
    assert!(boot_reads_catalog(&log, &url, embedded).await);
    // The session tried (a managed service's admin role may), was refused, rolled back, and
    // said so only at debug level: nothing is wrong.
    let refused = lines(&log, Level::DEBUG, schema_watch::REFUSED);
    assert!(
        refused.len() == 1 && refused[0].contains("install the schema watch"),
        "{refused:?}"
    );
    assert!(
        lines(&log, Level::WARN, "schema watch").is_empty(),
        "{:?}",
        lines(&log, Level::WARN, "")
    );
    assert_eq!(db.column("SELECT count(*) FROM pg_event_trigger"), ["0"]);
    assert_eq!(
        db.column("SELECT count(*) FROM pg_class WHERE relname IN ('bluefox_schema_state', 'bluefox_schema_generation')"),
        ["0"]
    );
    for _ in 0..2 {
        assert!(boot_reads_catalog(&log, &url, embedded).await);
        assert_eq!(lines(&log, Level::DEBUG, NOTHING_PENDING).len(), 1);
    }
    let owner = connect(&url).await;
    owner
        .batch_execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
        .await
        .unwrap();
    assert!(boot_reads_catalog(&log, &url, embedded).await);
    let warned = lines(&log, Level::WARN, "schema drift");
    assert!(
        warned.len() == 1
            && warned[0].contains("column users.email is NULL in the database but NOT NULL"),
        "{warned:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_superuser_with_the_watch_turned_off_installs_nothing() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS], TABLES);
    let url = db.url.clone();
    let off = Settings::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "BLUEFOX_SCHEMA_WATCH" => Some("off".into()),
        _ => None,
    })
    .expect("test settings");
    boot_with(&off, embedded).await.expect("boot");
    assert_eq!(db.column("SELECT count(*) FROM pg_event_trigger"), ["0"]);
    assert_eq!(
        db.column("SELECT count(*) FROM pg_class WHERE relname LIKE 'bluefox_schema_%'"),
        ["0"]
    );
    // Every later boot reads the catalog.
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
}

#[tokio::test(flavor = "current_thread")]
async fn the_stamp_covers_the_history_also_without_tables() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS, BIO_LESS], &[]);
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert_eq!(lines(&log, Level::DEBUG, STAMP_CURRENT).len(), 1);
    // The history changed by hand, and nothing else (no DDL: a row deleted): the trigger on it
    // makes the stamp stale, the digest differs, and boot applies the missing migration again
    // (its view is created or replaced).
    a_deleted_history_row_is_applied_again(&log, &db, embedded).await;
    assert_eq!(db.column("SELECT count(*) FROM active_users"), ["0"]);
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert_eq!(lines(&log, Level::DEBUG, STAMP_CURRENT).len(), 1);
}

/// `DROP TABLE refinery_schema_history` by hand (to start the history over) takes the watch's
/// trigger on it along; the next migration session puts it back, so later edits of the history
/// that run no DDL still make the stamp stale. Before, the probe looked at the event trigger and
/// the functions only, and a row deleted afterwards left the stamp current: boot applied nothing.
#[tokio::test(flavor = "current_thread")]
async fn a_history_table_dropped_by_hand_gets_its_trigger_back() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS, BIO_LESS], &[]);
    let history_triggers = "SELECT count(*) FROM pg_trigger \
                            WHERE tgrelid = 'refinery_schema_history'::regclass \
                            AND tgname = 'bluefox_history_watch'";
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert_eq!(db.column(history_triggers), ["1"]);
    db.client()
        .await
        .batch_execute(
            "DROP VIEW active_users; DROP TABLE users; DROP TABLE refinery_schema_history",
        )
        .await
        .unwrap();
    // The drops advanced the generation: the next boot checks, finds no history, applies both.
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert_eq!(lines(&log, Level::INFO, "applied migration").len(), 2);
    assert_eq!(db.column(history_triggers), ["1"]);
    assert!(
        lines(&log, Level::WARN, "schema watch").is_empty(),
        "{:?}",
        log.lock().unwrap()
    );
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    assert_eq!(lines(&log, Level::DEBUG, STAMP_CURRENT).len(), 1);
    // A history row deleted by hand, no DDL: the restored trigger makes the stamp stale.
    a_deleted_history_row_is_applied_again(&log, &db, embedded).await;
}

/// The history trigger's function dropped with `CASCADE` (which takes the trigger along, but
/// leaves the table's `relhastriggers` set) is made again with its trigger by the next session.
#[tokio::test(flavor = "current_thread")]
async fn a_history_function_dropped_with_cascade_comes_back_with_its_trigger() {
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    client
        .batch_execute("DROP FUNCTION bluefox_history_changed() CASCADE")
        .await
        .unwrap();
    let restored = "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid \
                    WHERE t.tgrelid = 'refinery_schema_history'::regclass \
                    AND t.tgname = 'bluefox_history_watch' \
                    AND p.proname = 'bluefox_history_changed'";
    assert_eq!(db.column(restored), ["0"]);
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, ADD_NOTES], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(restored), ["1"]);
}

/// The event triggers dropped by hand, their function left (the first step of the README's
/// removal), or one of the two: the next migration session's probe finds the function, looks
/// further, and installs the watch again over what is left of it (the history trigger, the
/// other event trigger), which before failed on the trigger that was still there.
#[tokio::test(flavor = "current_thread")]
async fn event_triggers_dropped_by_hand_are_installed_again() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    let event_triggers =
        "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'bluefox_watch_%'";
    assert_eq!(db.column(event_triggers), ["2"]);
    client
        .batch_execute(
            "DROP EVENT TRIGGER bluefox_watch_ddl_public; DROP EVENT TRIGGER bluefox_watch_drop_public",
        )
        .await
        .unwrap();
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, ADD_NOTES], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(event_triggers), ["2"]);
    client
        .batch_execute("DROP EVENT TRIGGER bluefox_watch_drop_public")
        .await
        .unwrap();
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, ADD_NOTES, ADD_TAGS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(event_triggers), ["2"]);
    // Both count again: a table dropped by hand advances the generation (`sql_drop`).
    let installed = generation(&db);
    client.batch_execute("DROP TABLE \"notes\"").await.unwrap();
    assert!(generation(&db) > installed);
    assert!(
        lines(&log, Level::WARN, "schema watch").is_empty(),
        "{:?}",
        log.lock().unwrap()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_digest_fast_path_still_refuses_an_edited_migration() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    assert!(boot_reads_catalog(&log, &db.url, embedded(&[USERS], TABLES)).await);
    let edited = (
        USERS.0,
        USERS.1,
        "CREATE TABLE \"users\" (\n    \"id\" BIGINT PRIMARY KEY,\n    \"email\" TEXT NOT NULL\n);\n",
        USERS.3,
    );
    let err = boot_with(&settings(&db.url), embedded(&[edited], TABLES))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { version, .. } if *version == USERS.0),
        "{err}"
    );
    // A history row renamed by hand changes the digest as well.
    db.client()
        .await
        .batch_execute("UPDATE refinery_schema_history SET name = 'renamed'")
        .await
        .unwrap();
    let err = boot_with(&settings(&db.url), embedded(&[USERS], TABLES))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::ChecksumMismatch { .. }), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_older_binary_sees_what_a_newer_one_migrated_in_the_meantime() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let older = embedded(&[USERS], &[]);
    boot_with(&settings(&db.url), older).await.expect("boot");
    boot_with(&settings(&db.url), older).await.expect("boot");
    assert_eq!(lines(&log, Level::DEBUG, STAMP_CURRENT).len(), 1);
    // `bluefox upgrade` of a newer build migrates (its migrations do not advance the generation
    // one by one; the session advanced it once before the first), and nothing stamps after it;
    // then the older binary boots again (a rollback deploy): its stamp is stale, and it warns
    // about the version it does not know.
    let client = db.client().await;
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, BIO_LESS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    log.lock().unwrap().clear();
    boot_with(&settings(&db.url), older).await.expect("boot");
    assert!(lines(&log, Level::DEBUG, STAMP_CURRENT).is_empty());
    let warned = lines(&log, Level::WARN, "does not contain");
    assert_eq!(warned.len(), 1, "{:?}", log.lock().unwrap());
    assert!(warned[0].contains(&BIO_LESS.0.to_string()), "{}", warned[0]);
}

#[tokio::test(flavor = "current_thread")]
async fn the_first_session_installs_the_watch_after_its_migrations_and_later_ones_advance_it_once()
{
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, BIO_LESS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    // Installed once the migrations ran (its objects are newer than theirs), so none of their
    // DDL went through a trigger.
    assert_eq!(
        db.column(
            "SELECT bool_and(oid > 'active_users'::regclass::oid)::text FROM pg_event_trigger \
             WHERE evtname LIKE 'bluefox_watch_%' HAVING count(*) = 2"
        ),
        ["true"]
    );
    // Its state table has no TOAST table: a third of what installing costs a new database.
    assert_eq!(
        db.column(
            "SELECT (reltoastrelid = 0)::text FROM pg_class WHERE relname = 'bluefox_schema_state'"
        ),
        ["true"]
    );
    let installed = generation(&db);
    // A later session advances it once for all its DDL (three statements here), and gives the
    // session back unmarked: DDL on it afterwards counts as anyone's.
    let three_ddl = (
        20261130000010,
        "three_ddl",
        "CREATE TABLE \"a\" (\"id\" INT);\nCREATE TABLE \"b\" (\"id\" INT);\nCREATE INDEX \"ix_a\" ON \"a\" (\"id\");\n",
        None,
    );
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, BIO_LESS, three_ddl], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(generation(&db), installed + 1);
    client
        .batch_execute("CREATE TABLE \"by_hand\" (\"id\" INT)")
        .await
        .unwrap();
    assert_eq!(generation(&db), installed + 2);
}

/// The triggers advance the generation when DDL runs, not when it commits; a boot that
/// verified while a DDL transaction was still open must not stamp a catalog without its
/// changes (the triggers hold the watch lock shared until their transaction ends, and a boot
/// stamps only with a generation read while it could take that lock exclusively).
#[tokio::test(flavor = "current_thread")]
async fn ddl_still_open_while_a_boot_verifies_is_reported_once_it_commits() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS], TABLES);
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);
    let open = db.client().await;
    open.batch_execute("BEGIN; ALTER TABLE users ADD COLUMN nickname TEXT")
        .await
        .unwrap();
    // Verifies while the column is not visible yet: no drift.
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    open.batch_execute("COMMIT").await.unwrap();
    // The column is there now: this boot must read the catalog and report it.
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert_eq!(lines(&log, Level::WARN, "schema drift").len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_stamp_is_only_taken_while_no_ddl_transaction_or_migration_run_holds_the_watch_lock() {
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    let embedded = embedded(&[USERS], TABLES);
    boot_with(&settings(&db.url), embedded).await.expect("boot");
    let current = bluefox_runtime::schema_watch::verification_generation(&client).await;
    assert_eq!(current, Some(generation(&db)));
    // Held shared, as a DDL transaction's triggers or a migration run hold it.
    let holder = db.client().await;
    let key = watch_lock_key();
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock_shared({key})"))
        .await
        .unwrap();
    assert_eq!(
        bluefox_runtime::schema_watch::verification_generation(&client).await,
        None
    );
    holder
        .batch_execute(&format!("SELECT pg_advisory_unlock_shared({key})"))
        .await
        .unwrap();
    assert!(
        bluefox_runtime::schema_watch::verification_generation(&client)
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_migration_session_upgrades_trigger_functions_an_older_bluefox_installed() {
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    client
        .batch_execute(SESSION_2_HISTORY_FUNCTION)
        .await
        .unwrap();
    assert_eq!(db.column(OUTDATED), ["1"]);
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, BIO_LESS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(OUTDATED), ["0"]);
    // As session 5 wrote it: the watch lock, but the DDL session's lock_timeout.
    let function = db.column("SELECT pg_get_functiondef('public.bluefox_schema_changed'::regproc)")
        [0]
    .replace(" SET lock_timeout TO '0'\n", "\n");
    client.batch_execute(&function).await.unwrap();
    assert_eq!(db.column(OUTDATED), ["1"]);
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS, BIO_LESS, ADD_NOTES], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(OUTDATED), ["0"]);
}

/// A role that is not a superuser but owns the watch's functions (as a managed service's admin
/// role that installed the watch does) upgrades them; one that does not is refused quietly.
#[tokio::test(flavor = "current_thread")]
async fn the_owner_of_an_older_watch_upgrades_it_without_being_a_superuser() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let admin = db.client().await;
    bluefox_runtime::Migrator::new(&admin, embedded(&[USERS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    let owner = db.migrating_role("bluefox_w_owner", "");
    let other = db.migrating_role("bluefox_w_other", "");
    admin
        .batch_execute(&format!(
            "{SESSION_2_HISTORY_FUNCTION}; \
             ALTER FUNCTION public.bluefox_history_changed() OWNER TO \"{owner}\"; \
             ALTER FUNCTION public.bluefox_schema_changed() OWNER TO \"{owner}\"; \
             GRANT ALL ON ALL TABLES IN SCHEMA public TO \"{owner}\", \"{other}\""
        ))
        .await
        .unwrap();
    assert_eq!(db.column(OUTDATED), ["1"]);
    let as_other = connect(&db.url_as(&other)).await;
    bluefox_runtime::Migrator::new(&as_other, embedded(&[USERS, BIO_LESS], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(OUTDATED), ["1"]);
    let refused = lines(&log, Level::DEBUG, schema_watch::REFUSED);
    assert!(
        refused.len() == 1 && refused[0].contains("upgrade the schema watch"),
        "{refused:?}"
    );
    assert!(lines(&log, Level::WARN, "schema watch").is_empty());
    let as_owner = connect(&db.url_as(&owner)).await;
    bluefox_runtime::Migrator::new(&as_owner, embedded(&[USERS, BIO_LESS, ADD_NOTES], &[]))
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    assert_eq!(db.column(OUTDATED), ["0"]);
    assert!(lines(&log, Level::WARN, "schema watch").is_empty());
}

/// A DDL session with a `lock_timeout` shorter than a boot's verification statement still
/// counts its DDL: the triggers wait for the watch lock instead of giving up (and swallowing
/// the error), which left the DDL out of the generation and a later boot trusting its stamp.
#[tokio::test(flavor = "current_thread")]
async fn ddl_in_a_session_with_a_short_lock_timeout_is_still_counted() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_w");
    let embedded = embedded(&[USERS], TABLES);
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert!(!boot_reads_catalog(&log, &db.url, embedded).await);
    let before = generation(&db);
    // Holds the watch lock exclusively, as a boot's verification statement does, but longer.
    let holder = db.client().await;
    let key = watch_lock_key();
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({key})"))
        .await
        .unwrap();
    let ddl = db.client().await;
    let altered = tokio::spawn(async move {
        ddl.batch_execute("SET lock_timeout = '20ms'; ALTER TABLE users ADD COLUMN nickname TEXT")
            .await
    });
    // Released only once the DDL's trigger is seen waiting for it, well past its 20 ms.
    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
    let started = std::time::Instant::now();
    while db.column(waiting) != ["1"] {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the DDL never waited for the watch lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(db.column(waiting), ["1"], "the DDL gave up waiting");
    holder
        .batch_execute(&format!("SELECT pg_advisory_unlock({key})"))
        .await
        .unwrap();
    altered.await.unwrap().expect("the DDL waits and succeeds");
    assert!(generation(&db) > before, "the DDL was not counted");
    // So the next boot reads the catalog and reports the column.
    assert!(boot_reads_catalog(&log, &db.url, embedded).await);
    assert_eq!(lines(&log, Level::WARN, "schema drift").len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_session_that_cannot_advance_a_watch_holds_no_watch_lock_afterwards() {
    let db = TestDb::new("bluefox_w");
    let client = db.client().await;
    // Told not to install, on a database without a watch: the session tries to advance a
    // generation that does not exist.
    let options = bluefox_runtime::MigratorOptions {
        schema_watch: false,
        ..Default::default()
    };
    bluefox_runtime::Migrator::new(&client, embedded(&[USERS], &[]))
        .with_options(options)
        .upgrade(bluefox_runtime::Target::Head)
        .await
        .expect("upgrade");
    let held = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() \
             AND classid = $1::int4::oid",
            &[&bluefox_runtime::schema_watch::WATCH_LOCK_CLASS],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(
        held, 0,
        "the watch lock taken before the failed advance is released"
    );
}
