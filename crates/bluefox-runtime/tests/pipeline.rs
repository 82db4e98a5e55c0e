//! Pipelined upgrades against a real PostgreSQL: migrations are sent ahead of their answers,
//! and a failure still stops the run exactly where it happened: every migration before it
//! applied, nothing of it or after it.

mod support;

use bluefox_runtime::error::Error;
use bluefox_runtime::{Migrator, Target};
use support::*;

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `n` migrations creating tables t1..tn, except that migration `failing` runs `failing_up`.
fn specs(n: i64, failing: i64, failing_up: &'static str) -> Vec<Spec> {
    (1..=n)
        .map(|i| {
            let up = match i == failing {
                true => failing_up,
                false => leak(format!("CREATE TABLE \"t{i}\" (\"id\" BIGINT);\n")),
            };
            let name = leak(format!("step_{i}"));
            (
                20261130000000 + i,
                name,
                up,
                Some(leak(format!("DROP TABLE \"t{i}\";\n"))),
            )
        })
        .collect()
}

/// Up SQL for t2 whose statements all succeed and whose `COMMIT` fails: a deferred foreign key
/// to `referenced` (a table with an `id` key) that its row violates.
fn commit_fails_against(referenced: &str) -> &'static str {
    leak(format!(
        "CREATE TABLE \"t2\" (\"id\" BIGINT REFERENCES \"{referenced}\" (\"id\") DEFERRABLE INITIALLY DEFERRED);\n\
         INSERT INTO \"t2\" VALUES (7);\n"
    ))
}

/// The run stopped at migration 2, whose `COMMIT` failed on the deferred foreign key.
fn assert_commit_of_two_failed(err: &Error) {
    assert!(
        matches!(err, Error::MigrationFailed { version, sqlstate, .. } if *version == 20261130000002 && sqlstate == "23503"),
        "{err}"
    );
}

async fn tables(client: &tokio_postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
             AND tablename LIKE 't%' ORDER BY length(tablename), tablename",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_failure_deep_in_a_long_run_stops_exactly_there() {
    let db = TestDb::new("bluefox_p");
    let client = db.client().await;
    // Past the pipeline's depth, so migrations before and after it are in flight.
    let failing = embedded(
        &specs(
            80,
            45,
            "CREATE TABLE \"t45\" (\"id\" BIGINT);\nSELECT * FROM \"nope\";\n",
        ),
        &[],
    );
    let err = Migrator::new(&client, failing)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    match &err {
        Error::MigrationFailed {
            version,
            sqlstate,
            statement,
            ..
        } => {
            assert_eq!(*version, 20261130000045);
            assert_eq!(sqlstate, "42P01");
            assert_eq!(
                statement.as_deref(),
                Some("line 2: SELECT * FROM \"nope\";")
            );
        }
        other => panic!("expected MigrationFailed, got {other}"),
    }
    let expected: Vec<String> = (1..45).map(|i| format!("t{i}")).collect();
    assert_eq!(tables(&client).await, expected);
    assert_eq!(history_rows(&client).await.len(), 44);
    // The session is usable, and the run goes on from there once the migration is fixed.
    let fixed = embedded(&specs(80, 0, ""), &[]);
    let report = Migrator::new(&client, fixed)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 36);
    assert_eq!(tables(&client).await.len(), 80);
}

#[tokio::test]
async fn a_run_handed_to_refinery_in_pieces_applies_every_migration_once_and_in_order() {
    let db = TestDb::new("bluefox_p");
    let client = db.client().await;
    // refinery is handed 64 migrations at a time: 200 is four pieces, the failure in the third,
    // with the pieces before it still in flight.
    let failing = embedded(
        &specs(
            200,
            150,
            "CREATE TABLE \"t150\" (\"id\" BIGINT);\nSELECT * FROM \"nope\";\n",
        ),
        &[],
    );
    let err = Migrator::new(&client, failing)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::MigrationFailed {
                version: 20261130000150,
                ..
            }
        ),
        "{err}"
    );
    let versions = |rows: &[(i64, String, String)]| rows.iter().map(|r| r.0).collect::<Vec<_>>();
    let expected: Vec<i64> = (1..150).map(|i| 20261130000000 + i).collect();
    assert_eq!(versions(&history_rows(&client).await), expected);
    assert_eq!(tables(&client).await.len(), 149);
    // From the middle of a piece, up to a target in a later one, then the rest.
    let fixed = embedded(&specs(200, 0, ""), &[]);
    let report = Migrator::new(&client, fixed)
        .upgrade(Target::Version(20261130000190))
        .await
        .unwrap();
    let applied: Vec<i64> = report.applied.iter().map(|m| m.version).collect();
    assert_eq!(
        applied,
        (150..=190).map(|i| 20261130000000 + i).collect::<Vec<_>>()
    );
    let report = Migrator::new(&client, fixed)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 10);
    // Every row as the binary embeds it: version, name and the checksum computed at build time.
    let embedded_rows: Vec<(i64, String, String)> = fixed
        .migrations
        .iter()
        .map(|m| (m.version, m.name.to_string(), m.checksum.to_string()))
        .collect();
    assert_eq!(history_rows(&client).await, embedded_rows);
    assert_eq!(embedded_rows.len(), 200);
    assert_eq!(tables(&client).await.len(), 200);
}

#[tokio::test]
async fn a_migration_that_commits_itself_and_then_fails_stops_the_run() {
    let db = TestDb::new("bluefox_p");
    let client = db.client().await;
    // Its own COMMIT ends bluefox's transaction; the failure after it leaves the session outside
    // any transaction block, so only the chain check keeps migration 3 from running.
    let embedded = embedded(
        &specs(
            4,
            2,
            "COMMIT;\nCREATE TABLE \"t2\" (\"id\" BIGINT);\nSELECT * FROM \"nope\";\n",
        ),
        &[],
    );
    let err = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MigrationFailed { version, sqlstate, .. } if *version == 20261130000002 && sqlstate == "42P01"),
        "{err}"
    );
    assert_eq!(tables(&client).await, ["t1"]);
    assert_eq!(history_rows(&client).await.len(), 1);
}

#[tokio::test]
async fn a_migration_whose_commit_fails_stops_the_run() {
    let db = TestDb::new("bluefox_p");
    let client = db.client().await;
    // A deferred foreign key is checked at COMMIT: the batch's statements all succeed, its
    // COMMIT fails and ends the transaction, and migration 3 (already sent) must not run.
    // t1 exists already (made by hand), so the run starts at migration 2.
    let from_two = embedded(&specs(4, 2, commit_fails_against("t1"))[1..], &[]);
    client
        .batch_execute("CREATE TABLE \"t1\" (\"id\" BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let err = Migrator::new(&client, from_two)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert_commit_of_two_failed(&err);
    assert_eq!(tables(&client).await, ["t1"]);
    assert!(history_rows(&client).await.is_empty());
}

#[tokio::test]
async fn a_check_never_passes_on_what_an_earlier_run_of_the_session_left() {
    let db = TestDb::new("bluefox_p");
    let client = db.client().await;
    // Run one applies migrations 1 and 2 (the session then remembers 2 as the last applied);
    // 2 is reverted; run two re-applies a 2 whose COMMIT fails. Migration 3, sent behind it,
    // must not pass its check on run one's memory of 2.
    let first = embedded(&specs(2, 0, ""), &[]);
    let migrator = Migrator::new(&client, first);
    migrator.upgrade(Target::Head).await.unwrap();
    migrator.downgrade(Target::Back(1)).await.unwrap();
    client
        .batch_execute("CREATE TABLE \"p\" (\"id\" BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let again = embedded(&specs(3, 2, commit_fails_against("p")), &[]);
    let err = Migrator::new(&client, again)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert_commit_of_two_failed(&err);
    assert_eq!(tables(&client).await, ["t1"]);
    assert_eq!(
        versions(&history_rows(&client).await, |r| r.0),
        [20261130000001]
    );
}
