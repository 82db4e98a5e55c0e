//! Fault suite, scenario 8 (hostile models): names that are SQL keywords, mixed case, a `"` and
//! a space, non-ASCII, exactly 63 bytes, go through the real parser, diff and render and are
//! applied to PostgreSQL as written; 64 bytes is a build error; a `default` that tries to break
//! out of its literal stays one literal and the table it names survives. Malformed models
//! files stop a real fixture build with file:line and no panic or backtrace.

use bluefox_build::Builder;
use bluefox_tests::pg::{columns, public_tables, TestDb};
use bluefox_tests::{serial, Fixture};

const INJECTION: &str = "x'); DROP TABLE users; --";

fn name_of_bytes(bytes: usize) -> String {
    // Two-byte characters up to the limit, so a cut in the middle of one would show.
    let mut name = "é".repeat(bytes / 2);
    if bytes % 2 == 1 {
        name.push('x');
    }
    assert_eq!(name.len(), bytes);
    name
}

fn models(long_column: &str) -> String {
    format!(
        r#"use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct Users {{
    #[bluefox(primary_key)]
    pub id: i64,
}}

#[derive(BluefoxBase)]
#[bluefox(table = "user")]
pub struct User {{
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(column = "select")]
    pub select_: Option<String>,
    #[bluefox(column = "MixedCase")]
    pub mixed: Option<i32>,
    #[bluefox(column = "has \"quote\" and space")]
    pub quoted: Option<String>,
    pub prénom_日本: Option<String>,
    #[bluefox(column = "{long_column}")]
    pub long: Option<i64>,
    #[bluefox(default = "x'); DROP TABLE users; --")]
    pub note: String,
}}

#[derive(BluefoxBase)]
#[bluefox(table = "order")]
pub struct Order {{
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(references = "user.id")]
    pub user_id: i64,
    #[bluefox(column = "Order")]
    pub order: Option<String>,
}}
"#
    )
}

fn crate_with(models_rs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a crate directory");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/models.rs"), models_rs).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "mod models;\nfn main() {}\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn hostile_names_and_defaults_are_applied_as_written() {
    let long = name_of_bytes(63);
    let dir = crate_with(&models(&long));
    let project = Builder::new()
        .crate_dir(dir.path())
        .crate_name("hostile")
        .load()
        .unwrap_or_else(|e| panic!("the hostile models must build: {e}"));
    let changes =
        bluefox_core::diff::diff(&bluefox_core::schema::Schema::default(), &project.schema);
    let up = bluefox_core::render::up_sql(&changes).join("\n");
    let down = bluefox_core::render::down_sql(&changes).join("\n");

    let db = TestDb::new("bluefox_f");
    let client = db.client().await;
    client
        .batch_execute(&up)
        .await
        .unwrap_or_else(|e| panic!("the rendered SQL must apply: {e}\n{up}"));
    assert_eq!(public_tables(&client).await, ["order", "user", "users"]);
    assert_eq!(
        columns(&client, "user").await,
        [
            "id",
            "select",
            "MixedCase",
            "has \"quote\" and space",
            "prénom_日本",
            long.as_str(),
            "note"
        ]
    );
    assert_eq!(columns(&client, "order").await, ["id", "user_id", "Order"]);
    // The default is one literal: a row takes it verbatim, and "users" is still there.
    let row = client
        .query_one(
            "INSERT INTO \"user\" DEFAULT VALUES RETURNING \"id\", \"note\"",
            &[],
        )
        .await
        .unwrap();
    let (id, note): (i64, String) = (row.get(0), row.get(1));
    assert_eq!(note, INJECTION);
    client
        .execute(
            "INSERT INTO \"order\" (\"user_id\", \"Order\") VALUES ($1, 'first')",
            &[&id],
        )
        .await
        .unwrap();
    client
        .execute("INSERT INTO \"users\" DEFAULT VALUES", &[])
        .await
        .unwrap();
    let users: i64 = client
        .query_one("SELECT count(*) FROM \"users\"", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
    // And the down SQL undoes all of it.
    client
        .batch_execute(&down)
        .await
        .unwrap_or_else(|e| panic!("the rendered down SQL must apply: {e}\n{down}"));
    assert_eq!(public_tables(&client).await, Vec::<String>::new());
}

#[test]
fn a_64_byte_name_is_a_build_error_naming_the_place() {
    let dir = crate_with(&models(&name_of_bytes(64)));
    let error = Builder::new()
        .crate_dir(dir.path())
        .crate_name("hostile")
        .load()
        .expect_err("64 bytes is over PostgreSQL's limit");
    let text = error.to_string();
    assert!(
        text.starts_with("src/models.rs:22:24: column name"),
        "{text}"
    );
    assert!(text.contains("63 bytes"), "{text}");
}

/// Builds the `errors` fixture with `models_rs` and returns the bluefox error lines.
fn build_errors(models_rs: &str) -> Vec<String> {
    let _serial = serial();
    let fixture = Fixture::copy("errors");
    fixture.write("src/models.rs", models_rs);
    let run = fixture.build(&[]);
    run.assert_failure();
    let errors = run.build_errors();
    assert!(!errors.is_empty(), "no bluefox error:\n{}", run.stderr);
    errors
}

#[test]
fn malformed_models_stop_the_build_with_file_and_line() {
    let header = "use bluefox_runtime::BluefoxBase;\n\n#[derive(BluefoxBase)]\n#[bluefox(table = \"users\")]\npub struct User {\n    #[bluefox(primary_key)]\n    pub id: i64,\n";
    let cases = [
        // A syntax error: the struct never closes.
        (format!("{header}    pub name: String,\n"), "src/models.rs:5:17:"),
        // An attribute without its value.
        (format!("{header}    #[bluefox(default = )]\n    pub name: String,\n}}\n"), "src/models.rs:8:25:"),
        // A default of the wrong kind.
        (format!("{header}    #[bluefox(default = [1, 2])]\n    pub name: String,\n}}\n"), "src/models.rs:8:25:"),
        // An empty column name.
        (format!("{header}    #[bluefox(column = \"\")]\n    pub name: String,\n}}\n"), "src/models.rs:8:24:"),
        // A default_sql that is two statements.
        (format!("{header}    #[bluefox(default_sql = \"now(); DROP TABLE users\")]\n    pub at: String,\n}}\n"), "src/models.rs:8:29:"),
    ];
    for (models_rs, place) in cases {
        let errors = build_errors(&models_rs);
        assert!(
            errors[0].starts_with(&format!("bluefox: {place}")),
            "{models_rs}\n=> {errors:?}"
        );
    }
}
