//! The example app as a user runs it: against a fresh database it migrates at boot, does its
//! work, and a second boot applies nothing.

use bluefox_testdb::TestDb;
use std::process::{Command, Output};

fn run_app(db: &TestDb) -> Output {
    Command::new(env!("CARGO_BIN_EXE_example-app"))
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .env_remove("BLUEFOX_MIGRATE")
        .output()
        .expect("run example-app")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The versions of the committed migration files, oldest first.
fn committed_versions() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut versions: Vec<String> = std::fs::read_dir(dir)
        .expect("example-app/migrations")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix('V')?;
            Some(rest.split("__").next()?.to_string())
        })
        .collect();
    versions.sort();
    versions
}

#[test]
fn boots_migrates_and_works_then_reboots_applying_nothing() {
    let db = TestDb::new("bluefox_example");
    let versions = committed_versions();
    assert!(
        versions.len() >= 2,
        "example-app has its migrations: {versions:?}"
    );

    let first = run_app(&db);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert!(
        first.status.success(),
        "first boot failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.starts_with("example-app: database postgresql://"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ada Lovelace <ada@example.com>"),
        "{stdout}"
    );
    assert!(stdout.contains("has 1 post(s)"), "{stdout}");
    for version in &versions {
        assert!(
            stderr.contains(&format!("applied migration version={version}")),
            "boot logs each applied migration ({version}):\n{stderr}"
        );
    }
    assert_eq!(
        db.column("SELECT version::text FROM refinery_schema_history ORDER BY version"),
        versions
    );

    let second = run_app(&db);
    let (stdout, stderr) = (text(&second.stdout), text(&second.stderr));
    assert!(
        second.status.success(),
        "second boot failed:\n{stdout}\n{stderr}"
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
}
