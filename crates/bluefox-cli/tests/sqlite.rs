//! The README's command-line workflow on SQLite, with the `bluefox` binary of this build and a
//! SQLite file in the fixture (no server): make, upgrade, a change that SQLite can only apply
//! by rebuilding the table (rows kept), current, history, heads, check, downgrade, offline SQL.

mod support;

use bluefox_runtime::rusqlite::Connection;
use support::{version_of, Fixture, USERS};

fn rows(path: &std::path::Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(path).expect("open the SQLite file");
    let mut stmt = conn.prepare(sql).expect("prepare");
    let mapped = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .expect("query");
    mapped
        .map(|r| r.expect("row").unwrap_or_else(|| "NULL".into()))
        .collect()
}

#[test]
fn the_whole_workflow_runs_on_sqlite() {
    let f = Fixture::new(USERS);
    let db = f.path().join("app.db");
    let url = format!("sqlite://{}", db.display());

    // The first migration is written for the dialect DATABASE_URL names.
    f.bluefox_db(&url, &["make", "add users"]).ok();
    let first = f.migrations()[0].clone();
    let text = f.read(&format!("migrations/{first}"));
    assert!(text.contains("    \"id\" INTEGER PRIMARY KEY,\n"), "{text}");
    assert!(f
        .read("migrations/bluefox_snapshot.json")
        .contains("\"dialect\": \"sqlite\""));

    let up = f.bluefox_db(&url, &["upgrade"]);
    assert!(
        up.ok()
            .starts_with(&format!("Applied {} add_users (", version_of(&first))),
        "{up:#?}"
    );
    assert_eq!(
        f.bluefox_db(&url, &["upgrade"]).ok(),
        "Nothing to upgrade: no pending migration up to head.\n"
    );
    Connection::open(&db)
        .unwrap()
        .execute_batch("INSERT INTO users (email, name) VALUES ('a@x', 'Ada'), ('b@x', 'Bob');")
        .unwrap();

    // email becomes nullable: SQLite cannot ALTER that, so the table is rebuilt, rows kept.
    f.write(
        "src/models.rs",
        &USERS.replace("pub email: String", "pub email: Option<String>"),
    );
    assert_eq!(f.bluefox(&["check"]).code, 1);
    f.bluefox(&["make", "email optional"]).ok();
    let second = f.migrations()[1].clone();
    let text = f.read(&format!("migrations/{second}"));
    assert!(
        text.contains("INSERT INTO \"_bluefox_rebuild_users\" (\"id\", \"email\", \"name\") SELECT \"id\", \"email\", \"name\" FROM \"users\";"),
        "{text}"
    );
    assert!(f
        .bluefox_db(&url, &["upgrade", "+1"])
        .ok()
        .starts_with("Applied "));
    assert_eq!(
        rows(&db, "SELECT name FROM users ORDER BY id"),
        ["Ada", "Bob"]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT CAST(\"notnull\" AS TEXT) FROM pragma_table_info('users') WHERE name = 'email'"
        ),
        ["0"]
    );

    let v2 = version_of(&second);
    assert_eq!(
        f.bluefox_db(&url, &["current"]).ok(),
        format!("{v2} email_optional (head)\n")
    );
    let history = f.bluefox_db(&url, &["--format", "json", "history"]);
    let json: serde_json::Value = serde_json::from_str(history.ok()).unwrap();
    let statuses: Vec<&str> = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "applied"]);
    assert!(f.bluefox(&["heads"]).ok().starts_with(&v2.to_string()));
    assert_eq!(f.bluefox_db(&url, &["check", "--db"]).code, 0);

    // Down rebuilds the table again (NOT NULL), rows kept.
    assert!(f
        .bluefox_db(&url, &["downgrade"])
        .ok()
        .starts_with(&format!("Reverted {v2} email_optional (")));
    assert_eq!(
        rows(&db, "SELECT email FROM users ORDER BY id"),
        ["a@x", "b@x"]
    );
    assert_eq!(f.bluefox_db(&url, &["check", "--db"]).code, 1);

    // Offline SQL for a fresh file, applied with the SQLite library: nothing left to apply.
    let script = f.bluefox_db(&url, &["upgrade", "base:head", "--sql"]);
    let script = script.ok();
    assert!(
        script.starts_with(
            "-- bluefox upgrade from base to head: 2 migration(s), one transaction each (SQLite).\n"
        ),
        "{script}"
    );
    let fresh = f.path().join("fresh.db");
    Connection::open(&fresh)
        .unwrap()
        .execute_batch(script)
        .unwrap();
    let fresh_url = format!("sqlite://{}", fresh.display());
    assert_eq!(
        f.bluefox_db(&fresh_url, &["upgrade"]).ok(),
        "Nothing to upgrade: no pending migration up to head.\n"
    );

    // One directory, one dialect.
    let refused = f.bluefox(&["make", "anything", "--dialect", "postgresql"]);
    assert_eq!(refused.code, 3, "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("migrations holds sqlite migrations"),
        "{refused:#?}"
    );
    let refused = f.bluefox_db("postgres://nobody@127.0.0.1:1/x", &["upgrade"]);
    assert!(
        refused.stderr.contains(
            "the embedded migrations are written for sqlite, but DATABASE_URL names a postgresql database"
        ),
        "{refused:#?}"
    );
}

#[test]
fn processes_migrating_at_once_apply_each_migration_once() {
    let f = Fixture::new(USERS);
    let db = f.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    f.bluefox_db(&url, &["make", "add users"]).ok();
    f.write(
        "src/models.rs",
        &USERS.replace(
            "pub name: String",
            "pub name: String,\n    pub bio: Option<String>",
        ),
    );
    f.bluefox_db(&url, &["make", "add bio"]).ok();

    let children: Vec<std::process::Child> = (0..3)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_bluefox"))
                .current_dir(f.path())
                .args(["upgrade"])
                .env("DATABASE_URL", &url)
                .env_remove("RUST_LOG")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn bluefox")
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wait for bluefox");
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    let applied: usize = outputs.iter().map(|o| o.matches("Applied ").count()).sum();
    assert_eq!(applied, 2, "{outputs:#?}");
    let idle = outputs
        .iter()
        .filter(|o| o.as_str() == "Nothing to upgrade: no pending migration up to head.\n")
        .count();
    assert!(idle >= 2, "{outputs:#?}");
    assert_eq!(
        rows(
            &db,
            "SELECT CAST(version AS TEXT) FROM refinery_schema_history"
        )
        .len(),
        2
    );
}
