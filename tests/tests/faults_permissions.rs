//! Fault suite, scenario 11 (read-only targets and permissions): a role that may not create
//! the history tables (on an empty database or one whose history exists), and a read-only
//! session, are refused with a clear error before any DDL; a role that can only read the history table gets `current` and `history`, and
//! boots with `BLUEFOX_MIGRATE=verify`.

use bluefox_runtime::{Migrator, Target};
use bluefox_tests::herd::{self, Run};
use bluefox_tests::pg::{connect, embedded_from_files, history_versions, public_tables, TestDb};

async fn boot_as(db: &TestDb, role: &str, envs: &[(&'static str, &'static str)]) -> Run {
    let url = db.url_as(role);
    let envs = envs.to_vec();
    tokio::task::spawn_blocking(move || herd::app().run(&url, &envs))
        .await
        .unwrap()
}

fn failure_line(run: &Run) -> String {
    run.assert_failed();
    run.stderr
        .lines()
        .find(|l| l.starts_with("boot failed: "))
        .unwrap_or_default()
        .to_string()
}

async fn halfway(db: &TestDb) -> tokio_postgres::Client {
    let admin = db.client().await;
    Migrator::new(&admin, embedded_from_files(&herd::migrations()))
        .upgrade(Target::Version(herd::version(15)))
        .await
        .unwrap();
    admin
}

#[tokio::test]
async fn a_role_without_create_is_refused_before_any_ddl() {
    let db = TestDb::new("bluefox_f");
    let role = db.role("bluefox_nocreate", "");
    let line = failure_line(&boot_as(&db, &role, &[]).await);
    assert_eq!(
        line,
        format!(
            "boot failed: cannot apply or revert migrations as user `{role}`: it has no CREATE privilege on schema `public`, which the migration history tables (refinery_schema_history, bluefox_down_sql) need (even when they exist: refinery runs CREATE TABLE IF NOT EXISTS) and so do most migrations; GRANT CREATE ON SCHEMA \"public\" TO \"{role}\", or run migrations as the schema's owner. Nothing was changed"
        )
    );
    let admin = db.client().await;
    assert_eq!(public_tables(&admin).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_read_only_session_is_refused_before_any_ddl() {
    let db = TestDb::new("bluefox_f");
    let admin = halfway(&db).await;
    let role = db.migrating_role("bluefox_readonly", "");
    admin
        .batch_execute(&format!(
            "GRANT SELECT, INSERT ON refinery_schema_history, bluefox_down_sql TO \"{role}\"; \
             ALTER ROLE \"{role}\" IN DATABASE \"{}\" SET default_transaction_read_only = on",
            db.name
        ))
        .await
        .unwrap();
    let line = failure_line(&boot_as(&db, &role, &[]).await);
    assert!(
        line.starts_with(&format!(
            "boot failed: cannot apply or revert migrations as user `{role}`: the session is read-only (default_transaction_read_only is on"
        )),
        "{line}"
    );
    let fifteen: Vec<i64> = (1..=15).map(herd::version).collect();
    assert_eq!(history_versions(&admin).await, fifteen);
    assert!(!public_tables(&admin).await.contains(&"herd_16".to_string()));
}

#[tokio::test]
async fn a_role_without_create_is_refused_even_when_the_history_exists() {
    let db = TestDb::new("bluefox_f");
    let admin = halfway(&db).await;
    let role = db.role("bluefox_nocreate", "");
    admin
        .batch_execute(&format!(
            "GRANT SELECT, INSERT ON refinery_schema_history, bluefox_down_sql TO \"{role}\""
        ))
        .await
        .unwrap();
    let line = failure_line(&boot_as(&db, &role, &[]).await);
    assert!(
        line.starts_with(&format!(
            "boot failed: cannot apply or revert migrations as user `{role}`: it has no CREATE privilege on schema `public`"
        )),
        "{line}"
    );
    let fifteen: Vec<i64> = (1..=15).map(herd::version).collect();
    assert_eq!(history_versions(&admin).await, fifteen);
    assert!(!public_tables(&admin).await.contains(&"herd_16".to_string()));
}

#[tokio::test]
async fn a_role_that_can_only_read_the_history_gets_current_and_history() {
    let db = TestDb::new("bluefox_f");
    let admin = halfway(&db).await;
    let role = db.role("bluefox_reader", "");
    admin
        .batch_execute(&format!(
            "GRANT SELECT ON refinery_schema_history TO \"{role}\""
        ))
        .await
        .unwrap();
    let reader = connect(&db.url_as(&role)).await;
    let embedded = embedded_from_files(&herd::migrations());
    let migrator = Migrator::new(&reader, embedded);
    let current = migrator.current().await.expect("current as a reader");
    assert_eq!(current.map(|c| c.version), Some(herd::version(15)));
    let history = migrator.history().await.expect("history as a reader");
    let shape: Vec<(i64, bool)> = history
        .iter()
        .map(|h| (h.version, h.is_applied()))
        .collect();
    let expected: Vec<(i64, bool)> = (1..=herd::MIGRATIONS)
        .map(|i| (herd::version(i), i <= 15))
        .collect();
    assert_eq!(shape, expected);
    // verify mode: refuses while pending, boots once a migrating job has caught up.
    let line = failure_line(&boot_as(&db, &role, &[("BLUEFOX_MIGRATE", "verify")]).await);
    assert!(
        line.starts_with("boot failed: BLUEFOX_MIGRATE=verify: refusing to start while 15 migration(s) are pending"),
        "{line}"
    );
    Migrator::new(&admin, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    boot_as(&db, &role, &[("BLUEFOX_MIGRATE", "verify")])
        .await
        .assert_booted();
}
