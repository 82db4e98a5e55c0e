//! Fault suite, scenario 5 (failing migration k of n): the migrations before k stay applied,
//! k leaves nothing behind (no table, no history row, no down row), later ones do not run, and
//! the error names the version, the file, the SQLSTATE and the failing statement, both when the
//! server gives an error position and when it does not (a duplicate key).

use bluefox_runtime::{Error, Migrator, Target};
use bluefox_tests::pg::{
    embedded_from_files, history_versions, migration_file, public_tables, TestDb,
};

const BASE: i64 = 20_261_202_000_000;

fn files(failing_up: &str) -> Vec<(String, String)> {
    (1..=5)
        .map(|i| {
            let up = if i == 3 {
                failing_up.to_string()
            } else {
                format!("CREATE TABLE \"k{i}\" (\"id\" BIGINT);\n")
            };
            migration_file(
                BASE + i,
                &format!("step_{i}"),
                (i > 1).then(|| BASE + i - 1),
                &up,
                &format!("DROP TABLE \"k{i}\";\n"),
            )
        })
        .collect()
}

async fn fail_third(failing_up: &str) -> Error {
    let db = TestDb::new("bluefox_f");
    let client = db.client().await;
    let embedded = embedded_from_files(&files(failing_up));
    let error = Migrator::new(&client, embedded)
        .upgrade(Target::Head)
        .await
        .expect_err("migration 3 fails");
    assert_eq!(history_versions(&client).await, [BASE + 1, BASE + 2]);
    assert_eq!(
        public_tables(&client).await,
        [
            "bluefox_down_sql",
            "bluefox_schema_state",
            "k1",
            "k2",
            "refinery_schema_history"
        ],
        "migration 3 must leave nothing, 4 and 5 must not run"
    );
    let down_rows: Vec<i64> = client
        .query("SELECT version FROM bluefox_down_sql ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(down_rows, [BASE + 1, BASE + 2]);
    error
}

#[tokio::test]
async fn a_failing_statement_with_a_position_is_named() {
    let error = fail_third(
        "CREATE TABLE \"k3_a\" (\"id\" BIGINT);\nINSERT INTO \"k3_a\" VALUES (1);\nSELECT * FROM \"no_such_table\";\nCREATE TABLE \"k3_b\" (\"id\" BIGINT);\n",
    )
    .await;
    let Error::MigrationFailed {
        version,
        file,
        sqlstate,
        statement,
        ..
    } = &error
    else {
        panic!("not a migration failure: {error}");
    };
    assert_eq!(*version, BASE + 3);
    assert_eq!(file, &format!("V{}__step_3.sql", BASE + 3));
    assert_eq!(sqlstate, "42P01");
    assert_eq!(
        statement.as_deref(),
        Some("line 3: SELECT * FROM \"no_such_table\";")
    );
    assert!(error.to_string().starts_with(&format!(
        "applying migration {} (V{}__step_3.sql) failed with SQLSTATE 42P01: relation \"no_such_table\" does not exist (at line 3: SELECT * FROM \"no_such_table\";)",
        BASE + 3,
        BASE + 3
    )), "{error}");
}

#[tokio::test]
async fn a_failing_statement_without_a_position_is_named() {
    let error = fail_third(
        "CREATE TABLE \"k3_a\" (\"id\" BIGINT PRIMARY KEY, \"note\" TEXT DEFAULT 'a;b');\n-- a comment; with a semicolon\nINSERT INTO \"k3_a\" (\"id\") VALUES (1);\nINSERT INTO \"k3_a\" (\"id\")\n    VALUES (1);\nCREATE TABLE \"k3_b\" (\"id\" BIGINT);\n",
    )
    .await;
    assert!(error.to_string().starts_with(&format!(
        "applying migration {} (V{}__step_3.sql) failed with SQLSTATE 23505: duplicate key value violates unique constraint \"k3_a_pkey\" (at line 4: INSERT INTO \"k3_a\" (\"id\") ...) (Key (id)=(1) already exists.)",
        BASE + 3,
        BASE + 3
    )), "{error}");
}
