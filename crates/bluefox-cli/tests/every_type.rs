//! Every field type and column option a model can have, end to end against the real
//! PostgreSQL and a SQLite file: `bluefox make` writes the migration, `upgrade head` applies it,
//! the live schema reads back as the snapshot says (the drift check boot runs finds nothing),
//! `downgrade base` removes it all and `upgrade head` applies it again.

mod support;

use bluefox_cli::Context;
use support::{Fixture, TestDb};

const MODELS: &str = r#"use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
pub struct Author {
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(unique)]
    pub email: String,
}

#[derive(BluefoxBase)]
#[bluefox(index(kind, created_on))]
pub struct EveryType {
    #[bluefox(primary_key)]
    pub id: i64,
    pub small: i16,
    pub medium: i32,
    pub single: f32,
    pub double: f64,
    pub flag: bool,
    pub text: String,
    pub maybe_text: Option<String>,
    pub bytes: Vec<u8>,
    pub uid: uuid::Uuid,
    pub day: chrono::NaiveDate,
    pub at_time: chrono::NaiveTime,
    pub local_at: chrono::NaiveDateTime,
    pub created_on: chrono::DateTime<chrono::Utc>,
    pub offset_at: Option<time::OffsetDateTime>,
    pub doc: serde_json::Value,
    pub amount: rust_decimal::Decimal,
    pub tags: Vec<String>,
    pub times: Vec<chrono::NaiveTime>,
    #[bluefox(sql_type = "varchar(80)", index)]
    pub kind: String,
    #[bluefox(sql_type = "timestamptz(3)")]
    pub precise: chrono::DateTime<chrono::Utc>,
    #[bluefox(sql_type = "numeric(10, 2)", default = 0)]
    pub price: rust_decimal::Decimal,
    #[bluefox(sql_type = "time(3)")]
    pub precise_time: Option<chrono::NaiveTime>,
    #[bluefox(default = "draft")]
    pub status: String,
    #[bluefox(default = true)]
    pub active: bool,
    #[bluefox(default = -0.5)]
    pub ratio: f64,
    #[bluefox(default_sql = "now()")]
    pub stamped: chrono::DateTime<chrono::Utc>,
    #[bluefox(references = "author.id", on_delete = "cascade")]
    pub author_id: i64,
    #[bluefox(references = "author.id")]
    pub editor_id: Option<i64>,
    #[bluefox(skip)]
    pub cache: Vec<u8>,
}
"#;

#[test]
fn every_type_migrates_up_down_and_up_and_reads_back_without_drift() {
    let db = TestDb::new("bluefox_cli");
    let fixture = Fixture::new(MODELS);
    fixture.bluefox(&["make", "every type"]).ok();
    let bf = |args: &[&str]| fixture.bluefox_db(&db.url, args);
    bf(&["upgrade", "head"]).ok();
    let tables = || {
        db.column(
            "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' \
             AND relname NOT LIKE 'refinery%' AND relname NOT LIKE 'bluefox%'",
        )
    };
    assert_eq!(tables(), ["author,every_type"]);
    assert_eq!(live_drift(&fixture, &db.url), Vec::<String>::new());

    bf(&["downgrade", "base"]).ok();
    assert_eq!(tables(), [""]);
    bf(&["upgrade", "head"]).ok();
    assert_eq!(live_drift(&fixture, &db.url), Vec::<String>::new());
    assert_eq!(
        bf(&["check", "--db"]).ok(),
        "No pending model changes; the database has every migration.\n"
    );
}

#[test]
fn every_type_migrates_up_down_and_up_on_sqlite_and_reads_back_without_drift() {
    let fixture = Fixture::new(MODELS);
    let db = fixture.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let bf = |args: &[&str]| fixture.bluefox_db(&url, args);
    bf(&["make", "every type"]).ok();
    bf(&["upgrade", "head"]).ok();
    let drift = || {
        let conn = bluefox_runtime::rusqlite::Connection::open(&db).expect("the SQLite file");
        let report = bluefox_runtime::sqlite::drift_check(&conn, snapshot_tables(&fixture))
            .expect("the drift check");
        report
            .findings
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(drift(), Vec::<String>::new());
    bf(&["downgrade", "base"]).ok();
    bf(&["upgrade", "head"]).ok();
    assert_eq!(drift(), Vec::<String>::new());
}

/// The findings of the runtime's drift check on the database, against the snapshot `make` wrote.
fn live_drift(fixture: &Fixture, url: &str) -> Vec<String> {
    let tables = snapshot_tables(fixture);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = bluefox_testdb::connect(url).await;
        let report = bluefox_runtime::drift::check(&client, tables)
            .await
            .expect("the drift check");
        report.findings.iter().map(|f| f.to_string()).collect()
    })
}

/// The tables of the snapshot `make` wrote, packed as a build embeds them (the command's own
/// embedding of the migrations directory).
fn snapshot_tables(fixture: &Fixture) -> bluefox_core::embedded::Tables {
    let dir = Context::new(fixture.path(), "migrations")
        .read_migrations()
        .expect("the migrations directory");
    bluefox_cli::project::embedded(&dir)
        .expect("the embedded migrations")
        .snapshot
        .tables
}
