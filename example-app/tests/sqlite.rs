//! The example app on a machine with no database server: without DATABASE_URL it migrates a
//! SQLite file, says so on its first line, does its work, and a second run applies nothing.
//! (`DATABASE_URL=` empty means "not set" and keeps a developer's `.env` out of the test;
//! `EXAMPLE_APP_SQLITE_FILE` puts the file in a temp directory instead of the crate's.)

use bluefox_runtime::rusqlite::Connection;
use std::path::Path;
use std::process::{Command, Output};

fn run_app(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_example-app"))
        .env("DATABASE_URL", "")
        .env("EXAMPLE_APP_SQLITE_FILE", file)
        .env("RUST_LOG", "info")
        .env_remove("BLUEFOX_MIGRATE")
        .output()
        .expect("run example-app")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn runs_on_a_sqlite_file_without_database_url() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("example-app.db");

    let first = run_app(&file);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert!(
        first.status.success(),
        "first run failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout.lines().next(),
        Some(
            format!(
                "example-app: database sqlite://{} (SQLite: DATABASE_URL is not set; set it to a \
                 postgres:// URL to use PostgreSQL)",
                file.display()
            )
            .as_str()
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ada Lovelace <ada@example.com>"),
        "{stdout}"
    );
    assert!(stdout.contains("has 1 post(s)"), "{stdout}");
    assert!(stderr.contains("applied migration"), "{stderr}");

    let second = run_app(&file);
    let (stdout, stderr) = (text(&second.stdout), text(&second.stderr));
    assert!(
        second.status.success(),
        "second run failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("has 2 post(s)"), "{stdout}");
    assert!(
        !stderr.contains("applied migration"),
        "nothing to apply:\n{stderr}"
    );
    assert!(
        !stderr.contains("drift"),
        "the schema matches the snapshot:\n{stderr}"
    );

    // The file holds the SQLite set's history and the work.
    let conn = Connection::open(&file).expect("open the file");
    let applied: i64 = conn
        .query_row("SELECT count(*) FROM refinery_schema_history", [], |r| {
            r.get(0)
        })
        .unwrap();
    let sqlite_set =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations-sqlite"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('V')
            })
            .count();
    assert_eq!(applied as usize, sqlite_set);
    let posts: i64 = conn
        .query_row("SELECT count(*) FROM posts WHERE published = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(posts, 2);
}
