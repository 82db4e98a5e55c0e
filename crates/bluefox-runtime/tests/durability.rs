//! The durability guarantees of a migration run whose commits are asynchronous (all but the
//! last): a run reported successful has every migration flushed to the WAL on disk, and a run
//! stopped by a failing migration keeps (and flushes) every migration before it, and leaves
//! nothing of the failing one.

mod support;

use bluefox_runtime::error::Error;
use bluefox_runtime::{Migrator, Target};
use support::*;
use tokio_postgres::Client;

/// Up SQL that records where the WAL stood when it ran: after the commits of every migration
/// before it.
const MARK: &str = "CREATE TABLE \"wal_mark\" AS SELECT pg_current_wal_insert_lsn() AS \"at\";\n";

/// Whether the server's WAL is flushed to disk at least up to the recorded mark, read on a
/// connection of its own.
async fn flushed_past_mark(client: &Client) -> bool {
    client
        .query_one(
            "SELECT pg_current_wal_flush_lsn() >= (SELECT \"at\" FROM \"wal_mark\")",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_successful_run_is_durable_when_it_returns() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let mark = (V3, "mark", MARK, Some("DROP TABLE \"wal_mark\";"));
    let embedded = embedded(&[USERS, POSTS, mark], &[]);
    let report = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert_eq!(versions(&report.applied, |a| a.version), [V1, V2, V3]);
    // Another session sees every row, and the WAL holding the first two migrations' commits
    // (committed asynchronously) is on disk: the last, synchronous commit flushed it.
    let other = db.client().await;
    assert_eq!(versions(&history_rows(&other).await, |r| r.0), [V1, V2, V3]);
    assert!(flushed_past_mark(&other).await);
    let downs: i64 = other
        .query_one("SELECT count(*) FROM bluefox_down_sql", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(downs, 3);
}

#[tokio::test]
async fn a_failing_migration_keeps_and_flushes_the_earlier_ones() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let mark = (V2, "mark", MARK, Some("DROP TABLE \"wal_mark\";"));
    let bad = (
        V3,
        "bad",
        "CREATE TABLE \"half\" (\"id\" INT);\nSELECT 1 / 0;\n",
        Some("DROP TABLE \"half\";"),
    );
    let embedded = embedded(&[USERS, mark, bad], &[]);
    let err = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MigrationFailed { version, sqlstate, .. } if *version == V3 && sqlstate == "22012"),
        "{err}"
    );
    let other = db.client().await;
    assert_eq!(versions(&history_rows(&other).await, |r| r.0), [V1, V2]);
    let half: bool = other
        .query_one("SELECT to_regclass('half') IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(half, "nothing of the failing migration remains");
    assert!(flushed_past_mark(&other).await);
    // The second migration committed asynchronously; before the error was returned, a
    // synchronous write after it (its history row rewritten) flushed it too.
    let rewritten: bool = other
        .query_one(
            "SELECT h.xmin::text <> d.xmin::text FROM refinery_schema_history h \
             JOIN bluefox_down_sql d ON d.version = h.version WHERE h.version = $1",
            &[&V2],
        )
        .await
        .unwrap()
        .get(0);
    assert!(rewritten);
    // The next run applies the fixed migration on top.
    let fixed = (V3, "bad", "CREATE TABLE \"half\" (\"id\" INT);\n", None);
    let embedded = support::embedded(&[USERS, mark, fixed], &[]);
    let report = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert_eq!(versions(&report.applied, |a| a.version), [V3]);
}

/// `SHOW` of a setting on `client`, which ran the migrations.
async fn show(client: &Client, setting: &str) -> String {
    client
        .query_one(
            "SELECT coalesce(current_setting($1, true), '')",
            &[&setting],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_run_leaves_the_sessions_settings_as_it_found_them_and_is_durable_even_when_they_are_not()
{
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    // An application session that does not wait for the WAL: the run's last commit must wait
    // anyway, and the session must get its own setting back.
    client
        .batch_execute("SET synchronous_commit = off")
        .await
        .unwrap();
    let mark = (V3, "mark", MARK, Some("DROP TABLE \"wal_mark\";"));
    let embedded = embedded(&[USERS, POSTS, mark], &[]);
    Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert!(flushed_past_mark(&db.client().await).await);
    assert_eq!(show(&client, "synchronous_commit").await, "off");
    assert_ne!(show(&client, "bluefox.migrating").await, "on");

    // A run stopped by a failing migration puts them back too.
    client
        .batch_execute("SET synchronous_commit = local")
        .await
        .unwrap();
    let bad = (V3 + 2, "bad", "SELECT 1 / 0;\n", Some("SELECT 1;"));
    let more = (
        V3 + 1,
        "more",
        "CREATE TABLE \"more\" (\"id\" INT);\n",
        None,
    );
    let embedded = support::embedded(&[USERS, POSTS, mark, more, bad], &[]);
    let err = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::MigrationFailed { .. }), "{err}");
    assert_eq!(show(&client, "synchronous_commit").await, "local");
    assert_ne!(show(&client, "bluefox.migrating").await, "on");
    assert_eq!(
        versions(&history_rows(&client).await, |r| r.0),
        [V1, V2, V3, V3 + 1]
    );
}
