//! `boot` against a real PostgreSQL: apply, re-boot, verify and off modes, strictness, the DDL
//! lock_timeout, and drift warnings (captured from `tracing`).

mod support;

use bluefox_runtime::drift::{self, Drift};
use bluefox_runtime::error::Error;
use bluefox_runtime::settings::{MigrateMode, Settings};
use bluefox_runtime::{boot_with, pack, EmbeddedColumn, Migrator, Target};
use std::time::Duration;
use support::log::{capture, lines};
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
    EmbeddedColumn {
        name: "bio",
        sql_type: "TEXT",
        nullable: true,
    },
];
static POSTS_COLUMNS: &[EmbeddedColumn] = &[
    EmbeddedColumn {
        name: "id",
        sql_type: "BIGINT",
        nullable: false,
    },
    EmbeddedColumn {
        name: "user_id",
        sql_type: "BIGINT",
        nullable: false,
    },
    EmbeddedColumn {
        name: "title",
        sql_type: "VARCHAR(80)",
        nullable: false,
    },
];
static TABLES: Tables = &[("posts", POSTS_COLUMNS), ("users", USERS_COLUMNS)];

fn settings(db: &TestDb, mode: &str, strict: bool) -> Settings {
    let url = db.url.clone();
    let mode = mode.to_string();
    Settings::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "BLUEFOX_MIGRATE" => Some(mode.clone()),
        "BLUEFOX_STRICT" => Some(strict.to_string()),
        _ => None,
    })
    .expect("test settings")
}

#[tokio::test(flavor = "current_thread")]
async fn boot_applies_logs_and_then_applies_nothing() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_t");
    let embedded = embedded(&[USERS, POSTS, BIO], TABLES);
    let client = boot_with(&settings(&db, "apply", false), embedded)
        .await
        .unwrap();
    let applied = lines(&log, Level::INFO, "applied migration");
    assert_eq!(applied.len(), 3, "{applied:?}");
    assert!(
        applied[0].contains(&format!("version={V1} name=\"add_users\" elapsed_ms=")),
        "{}",
        applied[0]
    );
    assert!(
        lines(&log, Level::WARN, "").is_empty(),
        "{:?}",
        lines(&log, Level::WARN, "")
    );
    assert_eq!(history_rows(&client).await.len(), 3);

    // The migration session ran on this connection: nothing of it is left on it.
    assert_eq!(
        session_state(&client).await,
        session_state(&db.client().await).await
    );

    log.lock().unwrap().clear();
    boot_with(&settings(&db, "apply", false), embedded)
        .await
        .unwrap();
    assert!(lines(&log, Level::INFO, "applied migration").is_empty());
    assert_eq!(history_rows(&client).await.len(), 3);
}

/// The settings a migration session changes (`lock_timeout`, `synchronous_commit`,
/// `client_connection_check_interval`, `bluefox.applied`, `bluefox.migrating`) and the number
/// of advisory locks the session holds; compared with a new connection's.
async fn session_state(client: &tokio_postgres::Client) -> Vec<String> {
    let row = client
        .query_one(
            "SELECT current_setting('lock_timeout'), current_setting('synchronous_commit'), \
             current_setting('client_connection_check_interval'), \
             coalesce(current_setting('bluefox.applied', true), ''), \
             coalesce(current_setting('bluefox.migrating', true), ''), \
             (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
              AND pid = pg_backend_pid())::text",
            &[],
        )
        .await
        .unwrap();
    (0..6).map(|i| row.get::<_, String>(i)).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn boot_migrates_on_the_one_connection_it_hands_out() {
    // A role that may hold one connection: a migration session on a second one is refused.
    let db = TestDb::new("bluefox_t");
    let role = db.migrating_role("bluefox_t_one", "CONNECTION LIMIT 1");
    // The URL's own settings are what the connection keeps once the session is reset.
    let url = db.url_as(&role);
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20lock_timeout%3D4321");
    let settings =
        Settings::from_lookup(move |name| (name == "DATABASE_URL").then(|| url.clone())).unwrap();
    let client = boot_with(&settings, three()).await.unwrap();
    assert_eq!(history_rows(&client).await.len(), 3);
    let mut expected = session_state(&db.client().await).await;
    expected[0] = "4321ms".to_string();
    assert_eq!(session_state(&client).await, expected);
}

#[tokio::test]
async fn verify_mode_refuses_pending_and_applies_nothing() {
    let db = TestDb::new("bluefox_t");
    let embedded = three();
    let err = boot_with(&settings(&db, "verify", false), embedded)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Pending { versions } if versions == &[V1, V2, V3]),
        "{err}"
    );
    assert!(err.to_string().contains("BLUEFOX_MIGRATE=verify"), "{err}");
    let client = db.client().await;
    let exists: Option<String> = client
        .query_one("SELECT to_regclass('refinery_schema_history')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(exists, None);

    Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .unwrap();
    boot_with(&settings(&db, "verify", false), embedded)
        .await
        .unwrap();
}

#[tokio::test]
async fn off_mode_skips_everything() {
    let db = TestDb::new("bluefox_t");
    let s = settings(&db, "off", false);
    assert_eq!(s.migrate, MigrateMode::Off);
    let client = boot_with(&s, three()).await.unwrap();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_database_ahead_of_the_binary_warns_or_refuses_in_strict_mode() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_t");
    boot_with(&settings(&db, "apply", false), three())
        .await
        .unwrap();
    let older = embedded(&[USERS, POSTS], &[]);
    boot_with(&settings(&db, "apply", false), older)
        .await
        .unwrap();
    let warned = lines(&log, Level::WARN, "does not contain");
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains(&format!("versions=[{V3}]")),
        "{}",
        warned[0]
    );
    let err = boot_with(&settings(&db, "apply", true), older)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownApplied { versions } if versions == &[V3]),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn drift_is_reported_by_table_and_column() {
    let (log, _guard) = capture();
    let db = TestDb::new("bluefox_t");
    let embedded = embedded(&[USERS, POSTS, BIO], TABLES);
    let client = boot_with(&settings(&db, "apply", false), embedded)
        .await
        .unwrap();
    assert!(
        drift::check(&client, pack::leak_tables(TABLES.iter().copied()).unwrap())
            .await
            .unwrap()
            .is_clean()
    );
    client
        .batch_execute(
            "ALTER TABLE \"users\" ADD COLUMN \"nickname\" TEXT; \
             ALTER TABLE \"users\" ALTER COLUMN \"email\" DROP NOT NULL; \
             ALTER TABLE \"posts\" ALTER COLUMN \"title\" TYPE VARCHAR(120); \
             CREATE TABLE \"audit\" (\"id\" INT)",
        )
        .await
        .unwrap();
    let report = drift::check(&client, pack::leak_tables(TABLES.iter().copied()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.findings,
        [
            Drift::ExtraTable {
                table: "audit".into()
            },
            Drift::TypeMismatch {
                table: "posts".into(),
                column: "title".into(),
                expected: "VARCHAR(80)".into(),
                actual: "VARCHAR(120)".into(),
            },
            Drift::NullabilityMismatch {
                table: "users".into(),
                column: "email".into(),
                expected_nullable: false
            },
            Drift::ExtraColumn {
                table: "users".into(),
                column: "nickname".into()
            },
        ]
    );
    log.lock().unwrap().clear();
    boot_with(&settings(&db, "apply", false), embedded)
        .await
        .unwrap();
    let warned = lines(&log, Level::WARN, "schema drift");
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(
        warned[3]
            .contains("column users.nickname is in the database but not in the models' snapshot"),
        "{}",
        warned[3]
    );
}

#[tokio::test]
async fn ddl_waits_at_most_the_statement_lock_timeout() {
    let db = TestDb::new("bluefox_t");
    let client = db.client().await;
    Migrator::new(&client, embedded(&[USERS, POSTS], &[]))
        .upgrade(Target::Head)
        .await
        .unwrap();
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE \"users\" IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut s = settings(&db, "apply", false);
    s.statement_lock_timeout = Duration::from_millis(200);
    let err = boot_with(&s, three()).await.unwrap_err();
    assert!(
        matches!(&err, Error::MigrationFailed { version, sqlstate, .. } if *version == V3 && sqlstate == "55P03"),
        "{err}"
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    boot_with(&s, three()).await.unwrap();
    assert_eq!(history_rows(&client).await.len(), 3);
}

/// The README's `main`: boot, then the app's own queries with `?` into `bluefox_runtime::Error`.
async fn readme_main(settings: &Settings) -> Result<i64, Error> {
    let db = boot_with(settings, three()).await?;
    let row = db
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await?;
    Ok(row.get::<_, i64>(0))
}

#[tokio::test]
async fn the_readme_main_boots_and_queries_with_question_marks() {
    let db = TestDb::new("bluefox_t");
    let applied = readme_main(&settings(&db, "apply", false)).await;
    assert_eq!(applied.expect("the README's main runs"), 3);

    let failing = async {
        let client = boot_with(&settings(&db, "apply", false), three()).await?;
        client.query_one("SELECT * FROM no_such_table", &[]).await?;
        Ok::<(), Error>(())
    }
    .await;
    let message = failing
        .expect_err("a failing query is an Error")
        .to_string();
    assert!(
        message.starts_with("database query failed:") && message.contains("no_such_table"),
        "{message}"
    );
}

/// Every type a model can have, created as bluefox's DDL spells it, reads back from the catalog
/// without drift: the types the mapping gives Rust types, and hand-written `sql_type`s as the
/// snapshot spells them. (`format_type` spells `TIME` `time without time zone` and `TIMESTAMPTZ(3)`
/// `timestamp(3) with time zone`; such columns used to be reported as drift at every full boot.)
#[tokio::test(flavor = "current_thread")]
async fn every_type_a_model_can_have_reads_back_without_drift() {
    use bluefox_core::types::{normalize_sql_type, sql_type, RustType};
    let path = |path: &str, args: Vec<RustType>| RustType::Path {
        path: path.to_string(),
        args,
    };
    let mapped = [
        path("i16", vec![]),
        path("i32", vec![]),
        path("i64", vec![]),
        path("f32", vec![]),
        path("f64", vec![]),
        path("bool", vec![]),
        path("String", vec![]),
        path("Vec", vec![path("u8", vec![])]),
        path("uuid::Uuid", vec![]),
        path("chrono::NaiveDate", vec![]),
        path("chrono::NaiveTime", vec![]),
        path("chrono::NaiveDateTime", vec![]),
        path("chrono::DateTime", vec![path("chrono::Utc", vec![])]),
        path("serde_json::Value", vec![]),
        path("rust_decimal::Decimal", vec![]),
        path("Vec", vec![path("chrono::NaiveTime", vec![])]),
        path("Vec", vec![path("time::OffsetDateTime", vec![])]),
    ]
    .iter()
    .map(|ty| sql_type(ty).expect("a mapped type"))
    .collect::<Vec<_>>();
    let written = [
        "varchar(80)",
        "numeric(10, 2)",
        "timestamptz(3)",
        "timestamp(6)",
        "time(3)",
        "timetz",
        "char(2)",
        "interval",
        "interval day to second(2)",
        "bit varying(5)",
        "varbit(7)",
        "float4",
        "float(10)",
        "float",
        "int4[]",
        "bigserial",
        "inet",
        "tsvector",
        "char",
        "bit",
        "int[][]",
        "character(3)[]",
    ]
    .iter()
    .map(|ty| normalize_sql_type(ty).expect("a type bluefox accepts"))
    .collect::<Vec<_>>();
    let columns: Vec<EmbeddedColumn> = mapped
        .into_iter()
        .chain(written)
        .enumerate()
        .map(|(i, ty)| EmbeddedColumn {
            name: Box::leak(format!("c{i}").into_boxed_str()),
            // A serial column is NOT NULL in the catalog, as a model's snapshot would say.
            nullable: ty != "BIGSERIAL",
            sql_type: Box::leak(ty.into_boxed_str()),
        })
        .collect();
    let columns: &'static [EmbeddedColumn] = Box::leak(columns.into_boxed_slice());
    let ddl = columns
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, c.sql_type))
        .collect::<Vec<_>>()
        .join(", ");
    let db = TestDb::new("bluefox_t");
    let client = connect(&db.url).await;
    client
        .batch_execute(&format!("CREATE TABLE \"every_type\" ({ddl})"))
        .await
        .unwrap();
    let tables = pack::leak_tables([("every_type", columns)]).unwrap();
    let report = drift::check(&client, tables).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
}

/// The drift check leaves out what no model declares but the database keeps beside the models:
/// the partitions of a model's partitioned table, and a table an extension owns (PostGIS's
/// `spatial_ref_sys` in `public`; here a table added to `citext`). A table made by hand is
/// still reported.
#[tokio::test(flavor = "current_thread")]
async fn partitions_and_extension_tables_are_not_drift() {
    static EVENTS: &[EmbeddedColumn] = &[
        EmbeddedColumn {
            name: "id",
            sql_type: "BIGINT",
            nullable: false,
        },
        EmbeddedColumn {
            name: "at",
            sql_type: "DATE",
            nullable: false,
        },
    ];
    let db = TestDb::new("bluefox_t");
    let client = connect(&db.url).await;
    client
        .batch_execute(
            "CREATE TABLE \"events\" (\"id\" BIGINT NOT NULL, \"at\" DATE NOT NULL) \
             PARTITION BY RANGE (\"at\"); \
             CREATE TABLE \"events_2026\" PARTITION OF \"events\" \
             FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); \
             CREATE TABLE \"events_2027\" PARTITION OF \"events\" \
             FOR VALUES FROM ('2027-01-01') TO ('2028-01-01'); \
             CREATE EXTENSION IF NOT EXISTS citext; \
             CREATE TABLE \"spatial_ref_sys\" (\"srid\" INT); \
             ALTER EXTENSION citext ADD TABLE \"spatial_ref_sys\"",
        )
        .await
        .unwrap();
    let tables = || pack::leak_tables([("events", EVENTS)]).unwrap();
    let report = drift::check(&client, tables()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    client
        .batch_execute("CREATE TABLE \"audit\" (\"id\" INT)")
        .await
        .unwrap();
    let report = drift::check(&client, tables()).await.unwrap();
    assert_eq!(
        report.findings,
        [Drift::ExtraTable {
            table: "audit".into()
        }]
    );
}
