//! Fault suite, scenario 4 (crashes mid-migration): the fixture app is killed with SIGKILL, or
//! its migrating backend is ended with `pg_terminate_backend`, while migration 16 sleeps between
//! two of its statements. The database stays at migration 15 with nothing of 16 left, the lock
//! is free again, the terminated boot reports a clear error (never a panic), and the next boot
//! completes without any repair.

use bluefox_tests::herd::{self, Run};
use bluefox_tests::pg::{columns, history_versions, public_tables, TestDb};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// Waits until a backend of this database sleeps in pg_sleep; returns its pid.
async fn sleeping_backend(client: &Client) -> i32 {
    let started = Instant::now();
    loop {
        let rows = client
            .query(
                "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = rows.first() {
            return row.get(0);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "migration 16 never started sleeping"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until no `bluefox` session is left in this database (the killed app's backends end).
async fn sessions_gone(client: &Client) {
    let started = Instant::now();
    loop {
        let left: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bluefox' AND datname = current_database()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the killed app's backend is still running its migration: the server must notice the lost client and roll back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The database is exactly at migration 15: history, tables, and no column of migration 16.
async fn at_fifteen(client: &Client) {
    let expected: Vec<i64> = (1..=15).map(herd::version).collect();
    assert_eq!(history_versions(client).await, expected);
    let tables = public_tables(client).await;
    assert!(tables.contains(&"herd_15".to_string()), "{tables:?}");
    assert!(
        !tables.contains(&"herd_16".to_string()),
        "a partial migration 16: {tables:?}"
    );
    assert_eq!(columns(client, "herd_15").await, ["id", "note"]);
    let down_rows: i64 = client
        .query_one("SELECT count(*) FROM bluefox_down_sql", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(down_rows, 15);
}

async fn reboot_completes(db: &TestDb, client: &Client) {
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" RESET herd.sleep_16",
            db.name
        ))
        .await
        .unwrap();
    let url = db.url.clone();
    let run = tokio::task::spawn_blocking(move || herd::app().run(&url, &[]))
        .await
        .unwrap();
    run.assert_booted();
    let rest: Vec<i64> = (16..=herd::MIGRATIONS).map(herd::version).collect();
    assert_eq!(run.applied_versions(), rest, "{}", run.all());
    let all: Vec<i64> = (1..=herd::MIGRATIONS).map(herd::version).collect();
    assert_eq!(history_versions(client).await, all);
}

async fn slow_sixteen() -> (TestDb, Client) {
    let db = TestDb::new("bluefox_f");
    let admin = db.client().await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET herd.sleep_16 = '120'",
            db.name
        ))
        .await
        .unwrap();
    (db, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_migration_leaves_the_previous_version() {
    let (db, admin) = slow_sixteen().await;
    let mut child = herd::app().spawn(&db.url, &[]);
    sleeping_backend(&admin).await;
    child.kill().expect("SIGKILL the app");
    let killed = Run::from(child.wait_with_output().unwrap());
    assert_eq!(killed.code, None, "killed by a signal");
    sessions_gone(&admin).await;
    at_fifteen(&admin).await;
    reboot_completes(&db, &admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_backend_is_a_clear_error_and_the_next_boot_completes() {
    let (db, admin) = slow_sixteen().await;
    let child = herd::app().spawn(&db.url, &[]);
    let pid = sleeping_backend(&admin).await;
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let run = tokio::task::spawn_blocking(move || Run::from(child.wait_with_output().unwrap()))
        .await
        .unwrap();
    run.assert_failed();
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("boot failed: "))
        .unwrap_or_default();
    let v16 = herd::version(16);
    assert!(
        line.starts_with(&format!(
            "boot failed: applying migration {v16} (V{v16}__step_16.sql) failed with SQLSTATE 57P01: terminating connection due to administrator command (at line 2: SELECT pg_sleep("
        )),
        "{line}"
    );
    sessions_gone(&admin).await;
    at_fifteen(&admin).await;
    reboot_completes(&db, &admin).await;
}
