//! The migrator against a real PostgreSQL, each test in its own fresh database.

mod support;

use bluefox_runtime::error::{Direction, Error};
use bluefox_runtime::lock::LOCK_KEY;
use bluefox_runtime::target::TargetError;
use bluefox_runtime::{Migrator, MigratorOptions, Target};
use std::time::Duration;
use support::*;

#[tokio::test]
async fn applies_everything_then_nothing() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let embedded = three();
    let report = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert_eq!(versions(&report.applied, |a| a.version), [V1, V2, V3]);
    let names: Vec<&str> = report.applied.iter().map(|a| a.name).collect();
    assert_eq!(names, ["add_users", "add_posts", "add_users_bio"]);

    let expected: Vec<(i64, String, String)> = embedded
        .migrations
        .iter()
        .map(|m| (m.version, m.name.to_string(), m.checksum.to_string()))
        .collect();
    assert_eq!(history_rows(&client).await, expected);
    let downs: Vec<(i64, String)> = client
        .query(
            "SELECT version, down FROM bluefox_down_sql ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        downs[2],
        (
            V3,
            "ALTER TABLE \"users\" DROP COLUMN \"bio\";\n".to_string()
        )
    );

    let again = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(history_rows(&client).await.len(), 3);
    // refinery itself, run on the same database, agrees that nothing is pending.
    let mut own = db.client().await;
    let runner = refinery_core::Runner::new(
        &embedded
            .migrations
            .iter()
            .map(|m| {
                refinery_core::Migration::unapplied(&format!("V{}__{}", m.version, m.name), m.up)
                    .unwrap()
            })
            .collect::<Vec<_>>(),
    );
    let refinery_report = runner.run_async(&mut own).await.unwrap();
    assert!(refinery_report.applied_migrations().is_empty());
}

#[tokio::test]
async fn upgrades_by_steps_and_to_a_version() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let migrator = Migrator::new(&client, three());
    let one = migrator.upgrade(Target::Forward(1)).await.unwrap();
    assert_eq!(versions(&one.applied, |a| a.version), [V1]);
    let err = migrator.upgrade(Target::Forward(3)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Target(TargetError::PastHead {
                requested: 3,
                pending: 2
            })
        ),
        "{err}"
    );
    let to = migrator.upgrade(Target::Version(V2)).await.unwrap();
    assert_eq!(versions(&to.applied, |a| a.version), [V2]);
    let current = migrator.current().await.unwrap().unwrap();
    assert_eq!(current.version, V2);
    let history = migrator.history().await.unwrap();
    let applied: Vec<(i64, bool)> = history
        .iter()
        .map(|h| (h.version, h.is_applied()))
        .collect();
    assert_eq!(applied, [(V1, true), (V2, true), (V3, false)]);
    let err = migrator.upgrade(Target::Version(42)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Target(TargetError::UnknownVersion { version: 42 })
    ));
}

#[tokio::test]
async fn downgrades_and_upgrades_back_to_the_same_catalog() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let migrator = Migrator::new(&client, three());
    migrator.upgrade(Target::Head).await.unwrap();
    let full = catalog(&client).await;
    assert_eq!(
        full,
        [
            "posts.id bigint NOT NULL",
            "posts.title character varying NOT NULL",
            "posts.user_id bigint NOT NULL",
            "users.bio text NULL",
            "users.email text NOT NULL",
            "users.id bigint NOT NULL",
        ]
    );

    let back = migrator.downgrade(Target::Back(1)).await.unwrap();
    assert_eq!(versions(&back.reverted, |r| r.version), [V3]);
    assert!(!catalog(&client)
        .await
        .contains(&"users.bio text NULL".to_string()));

    let to = migrator.downgrade(Target::Version(V1)).await.unwrap();
    assert_eq!(versions(&to.reverted, |r| r.version), [V2]);
    assert_eq!(
        catalog(&client).await,
        ["users.email text NOT NULL", "users.id bigint NOT NULL"]
    );

    let err = migrator.downgrade(Target::Back(2)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Target(TargetError::BelowBase {
            requested: 2,
            applied: 1
        })
    ));

    let base = migrator.downgrade(Target::Base).await.unwrap();
    assert_eq!(versions(&base.reverted, |r| r.version), [V1]);
    assert!(catalog(&client).await.is_empty());
    assert!(history_rows(&client).await.is_empty());
    let downs: i64 = client
        .query_one("SELECT count(*) FROM bluefox_down_sql", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(downs, 0);

    let up = migrator.upgrade(Target::Head).await.unwrap();
    assert_eq!(up.applied.len(), 3);
    assert_eq!(catalog(&client).await, full);
}

#[tokio::test]
async fn irreversible_migration_stops_the_downgrade_before_anything_runs() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let (v, n, up, _) = POSTS;
    let embedded = embedded(&[USERS, (v, n, up, None), BIO], &[]);
    let migrator = Migrator::new(&client, embedded);
    migrator.upgrade(Target::Head).await.unwrap();
    let before = catalog(&client).await;
    let err = migrator.downgrade(Target::Base).await.unwrap_err();
    assert!(
        matches!(&err, Error::Irreversible { version, file } if *version == V2 && file == "V20261130000002__add_posts.sql"),
        "{err}"
    );
    assert!(err.to_string().contains("has no down section"), "{err}");
    assert_eq!(catalog(&client).await, before);
    assert_eq!(history_rows(&client).await.len(), 3);
    // Above the irreversible one, downgrade works.
    let ok = migrator.downgrade(Target::Back(1)).await.unwrap();
    assert_eq!(versions(&ok.reverted, |r| r.version), [V3]);
}

#[tokio::test]
async fn an_older_binary_rolls_back_with_the_stored_down_sql() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    Migrator::new(&client, three())
        .upgrade(Target::Head)
        .await
        .unwrap();

    let older = embedded(&[USERS, POSTS], &[]);
    let strict = MigratorOptions {
        strict: true,
        ..MigratorOptions::default()
    };
    let err = Migrator::new(&client, older)
        .with_options(strict)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownApplied { versions } if versions == &[V3]),
        "{err}"
    );
    assert!(err.to_string().contains("20261130000003"), "{err}");

    let migrator = Migrator::new(&client, older);
    assert!(migrator
        .upgrade(Target::Head)
        .await
        .unwrap()
        .applied
        .is_empty());
    let history = migrator.history().await.unwrap();
    assert!(history
        .iter()
        .any(|h| h.version == V3 && h.migration.is_none() && h.is_applied()));
    let back = migrator.downgrade(Target::Back(1)).await.unwrap();
    assert_eq!(versions(&back.reverted, |r| r.version), [V3]);
    assert_eq!(back.reverted[0].name, "add_users_bio");
    assert!(!catalog(&client)
        .await
        .contains(&"users.bio text NULL".to_string()));
    assert_eq!(history_rows(&client).await.len(), 2);
}

#[tokio::test]
async fn edited_migration_is_refused_with_both_checksums() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let original = three();
    Migrator::new(&client, original)
        .upgrade(Target::Forward(1))
        .await
        .unwrap();
    let (v, n, _, down) = USERS;
    let edited = embedded(
        &[
            (v, n, "CREATE TABLE \"users\" (\"id\" BIGINT);\n", down),
            POSTS,
            BIO,
        ],
        &[],
    );
    let err = Migrator::new(&client, edited)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    let (stored, now) = (
        original.migrations.get(0).unwrap().checksum,
        edited.migrations.get(0).unwrap().checksum,
    );
    assert!(
        matches!(&err, Error::ChecksumMismatch { version, stored: s, embedded: e, .. } if *version == V1 && *s == stored && *e == now),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&stored.to_string()) && text.contains(&now.to_string()),
        "{text}"
    );
    assert!(text.contains("V20261130000001__add_users.sql"), "{text}");
    assert_eq!(history_rows(&client).await.len(), 1);
    // A downgrade checks the stored checksum too, before running any down SQL.
    let err = Migrator::new(&client, edited)
        .downgrade(Target::Base)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ChecksumMismatch { version, .. } if *version == V1),
        "{err}"
    );
    assert_eq!(catalog(&client).await.len(), 2);
}

#[tokio::test]
async fn a_failing_down_sql_is_rolled_back_and_names_the_migration() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let (v, n, up, _) = BIO;
    let embedded = embedded(
        &[
            USERS,
            POSTS,
            (
                v,
                n,
                up,
                Some("ALTER TABLE \"users\" DROP COLUMN \"bio\";\nSELECT \"nope\" FROM \"users\";"),
            ),
        ],
        &[],
    );
    let migrator = Migrator::new(&client, embedded);
    migrator.upgrade(Target::Head).await.unwrap();
    let before = catalog(&client).await;
    let err = migrator.downgrade(Target::Base).await.unwrap_err();
    match &err {
        Error::MigrationFailed {
            direction,
            version,
            sqlstate,
            statement,
            ..
        } => {
            assert_eq!(
                (*direction, *version, sqlstate.as_str()),
                (Direction::Down, V3, "42703")
            );
            assert_eq!(
                statement.as_deref(),
                Some("line 2: SELECT \"nope\" FROM \"users\";")
            );
        }
        other => panic!("expected MigrationFailed, got {other}"),
    }
    assert!(
        err.to_string()
            .starts_with("reverting migration 20261130000003"),
        "{err}"
    );
    assert_eq!(catalog(&client).await, before);
    assert_eq!(history_rows(&client).await.len(), 3);
}

#[tokio::test]
async fn corrupt_history_rows_are_typed_errors() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let migrator = Migrator::new(&client, three());
    migrator.upgrade(Target::Forward(2)).await.unwrap();
    client
        .batch_execute(&format!(
            "UPDATE refinery_schema_history SET applied_on = 'yesterday' WHERE version = {V1}"
        ))
        .await
        .unwrap();
    let err = migrator.upgrade(Target::Head).await.unwrap_err();
    assert!(
        matches!(&err, Error::HistoryCorrupt { version, column: "applied_on", value, .. } if version == &V1.to_string() && value == "\"yesterday\""),
        "{err}"
    );
    client
        .batch_execute(&format!("UPDATE refinery_schema_history SET applied_on = '2026-11-30T00:00:00Z', checksum = 'abc' WHERE version = {V1}"))
        .await
        .unwrap();
    let err = migrator.history().await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::HistoryCorrupt {
                column: "checksum",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(catalog(&client).await.len(), 5);
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_and_keeps_earlier_ones() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let bad = (
        V2,
        "bad",
        "CREATE TABLE \"half\" (\"id\" INT);\nSELECT * FROM \"nope\";\n",
        Some("DROP TABLE \"half\";"),
    );
    let embedded = embedded(&[USERS, bad, BIO], &[]);
    let err = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    match &err {
        Error::MigrationFailed {
            direction,
            version,
            file,
            sqlstate,
            statement,
            ..
        } => {
            assert_eq!(*direction, Direction::Up);
            assert_eq!(*version, V2);
            assert_eq!(file, "V20261130000002__bad.sql");
            assert_eq!(sqlstate, "42P01");
            assert_eq!(
                statement.as_deref(),
                Some("line 2: SELECT * FROM \"nope\";")
            );
        }
        other => panic!("expected MigrationFailed, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("SQLSTATE 42P01: relation \"nope\" does not exist"),
        "{err}"
    );
    assert_eq!(versions(&history_rows(&client).await, |r| r.0), [V1]);
    assert_eq!(
        catalog(&client).await,
        ["users.email text NOT NULL", "users.id bigint NOT NULL"]
    );
    // The session is usable afterwards (the failed transaction was rolled back).
    let downs: i64 = client
        .query_one("SELECT count(*) FROM bluefox_down_sql", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(downs, 1);
}

#[tokio::test]
async fn a_pending_migration_older_than_the_newest_applied_is_refused() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    Migrator::new(&client, embedded(&[USERS, BIO], &[]))
        .upgrade(Target::Head)
        .await
        .unwrap();
    let err = Migrator::new(&client, three())
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OutOfOrder { version, newest_applied, .. } if *version == V2 && *newest_applied == V3),
        "{err}"
    );
}

#[tokio::test]
async fn lock_timeout_names_the_holder() {
    let db = TestDb::new("bluefox_t");
    let holder = db.client().await;
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({LOCK_KEY})"))
        .await
        .unwrap();
    let client = db.client().await;
    let options = MigratorOptions {
        lock_timeout: Duration::from_secs(1),
        ..MigratorOptions::default()
    };
    let err = Migrator::new(&client, three())
        .with_options(options)
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    match &err {
        Error::LockTimeout {
            holder: Some(h), ..
        } => assert_eq!(h.pid, pid),
        other => panic!("expected LockTimeout with a holder, got {other}"),
    }
    assert!(
        err.to_string().contains(&format!("held by pid {pid}")),
        "{err}"
    );
    assert!(history_rows(&client).await.is_empty());
}

#[tokio::test]
async fn five_concurrent_migrators_apply_each_migration_once() {
    let db = TestDb::new("bluefox_t");
    let embedded = three();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let url = db.url.clone();
        tasks.push(tokio::spawn(async move {
            let client = connect(&url).await;
            Migrator::new(&client, embedded)
                .upgrade(Target::Head)
                .await
                .map(|r| r.applied.len())
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap().unwrap();
    }
    assert_eq!(total, 3);
    let client = db.client().await;
    assert_eq!(
        versions(&history_rows(&client).await, |r| r.0),
        [V1, V2, V3]
    );
}

#[tokio::test]
async fn the_lock_is_released_after_a_failure() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let bad = (V2, "bad", "SELECT 1/0;", None);
    let err = Migrator::new(&client, embedded(&[USERS, bad], &[]))
        .upgrade(Target::Head)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MigrationFailed { sqlstate, .. } if sqlstate == "22012"),
        "{err}"
    );
    let other = db.client().await;
    let taken: bool = other
        .query_one(&format!("SELECT pg_try_advisory_lock({LOCK_KEY})"), &[])
        .await
        .unwrap()
        .get(0);
    assert!(taken);
}

/// Runs `sql` through `psql -v ON_ERROR_STOP=1` against `url`.
fn psql(url: &str, sql: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("psql")
        .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql must be installed (apt-get install postgresql-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn offline_sql_applied_with_psql_leaves_nothing_pending() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    let embedded = three();
    let first = bluefox_runtime::offline::upgrade_sql(embedded, None, Target::Version(V2)).unwrap();
    psql(&db.url, &first);
    let rest = bluefox_runtime::offline::upgrade_sql(embedded, Some(V2), Target::Head).unwrap();
    psql(&db.url, &rest);

    let migrator = Migrator::new(&client, embedded);
    assert!(migrator
        .upgrade(Target::Head)
        .await
        .unwrap()
        .applied
        .is_empty());
    let history = migrator.history().await.unwrap();
    assert!(
        history.iter().all(|h| h.is_applied() && !h.is_edited()),
        "{history:?}"
    );
    let live_catalog = catalog(&client).await;
    assert_eq!(live_catalog.len(), 6);

    // refinery agrees nothing is pending, and can parse the applied_on psql stored.
    let mut own = db.client().await;
    let all: Vec<_> = embedded
        .migrations
        .iter()
        .map(|m| {
            refinery_core::Migration::unapplied(&format!("V{}__{}", m.version, m.name), m.up)
                .unwrap()
        })
        .collect();
    let report = refinery_core::Runner::new(&all)
        .run_async(&mut own)
        .await
        .unwrap();
    assert!(report.applied_migrations().is_empty());

    // And an offline downgrade leaves the live migrator at the same place as its own would.
    let down = bluefox_runtime::offline::downgrade_sql(embedded, V3, Target::Version(V1)).unwrap();
    psql(&db.url, &down);
    assert_eq!(versions(&history_rows(&client).await, |r| r.0), [V1]);
    assert_eq!(
        catalog(&client).await,
        ["users.email text NOT NULL", "users.id bigint NOT NULL"]
    );
    let again = migrator.upgrade(Target::Head).await.unwrap();
    assert_eq!(versions(&again.applied, |a| a.version), [V2, V3]);
    assert_eq!(catalog(&client).await, live_catalog);
}
