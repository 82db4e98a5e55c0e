//! Fault suite, scenario 7 (integrity of the history): an applied migration that was edited is
//! refused with both checksums; CRLF and BOM checkouts embed the same checksums as LF (through
//! real fixture builds); a corrupt history row is a report, never a panic; an applied version
//! the binary does not know is a warning (or, strict, a refusal); a new migration older than
//! the newest applied one is refused. Every refusal applies nothing. The example app's
//! checksums are pinned, so a dependency bump cannot change them silently.

use bluefox_runtime::{Migrator, Target};
use bluefox_tests::herd::{self, Run};
use bluefox_tests::pg::{embedded_from_files, history_versions, TestDb};
use bluefox_tests::{serial, Fixture};
use std::process::Command;

fn refinery_checksum(version: i64, name: &str, up: &str) -> u64 {
    refinery_core::Migration::unapplied(&format!("V{version}__{name}"), up)
        .expect("refinery reads the name")
        .checksum()
}

/// A database with every migration applied by the app itself.
async fn migrated() -> (TestDb, tokio_postgres::Client) {
    let db = TestDb::new("bluefox_f");
    let client = db.client().await;
    boot(&db, &[]).await.assert_booted();
    assert_eq!(history_versions(&client).await.len(), herd::MIGRATIONS);
    (db, client)
}

async fn boot(db: &TestDb, envs: &[(&'static str, &'static str)]) -> Run {
    let url = db.url.clone();
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

#[tokio::test]
async fn an_edited_applied_migration_is_refused_with_both_checksums() {
    let db = TestDb::new("bluefox_f");
    let client = db.client().await;
    let mut files = herd::migrations();
    let original = files[2].1.clone();
    files[2].1 = original.replace("CREATE INDEX", "-- reviewed\nCREATE INDEX");
    let edited_up = bluefox_core::migration_file::MigrationFile::parse(&files[2].0, &files[2].1)
        .unwrap()
        .up;
    let original_up = bluefox_core::migration_file::MigrationFile::parse(&files[2].0, &original)
        .unwrap()
        .up;
    // The database applied the edited copy of migration 3 (and 4 and 5 after it).
    Migrator::new(&client, embedded_from_files(&files))
        .upgrade(Target::Version(herd::version(5)))
        .await
        .unwrap();
    let v3 = herd::version(3);
    let line = failure_line(&boot(&db, &[]).await);
    assert!(
        line.starts_with(&format!(
            "boot failed: migration {v3} (V{v3}__step_03.sql) was edited after it was applied: the database stored checksum {} (name \"step_03\"), the binary embeds checksum {} (name \"step_03\")",
            refinery_checksum(v3, "step_03", &edited_up),
            refinery_checksum(v3, "step_03", &original_up)
        )),
        "{line}"
    );
    let five: Vec<i64> = (1..=5).map(herd::version).collect();
    assert_eq!(history_versions(&client).await, five, "nothing applied");
}

#[test]
fn crlf_and_bom_checkouts_embed_the_same_checksums_as_lf() {
    let _serial = serial();
    let fixture = Fixture::copy("app");
    for (name, text) in herd::migrations().into_iter().take(3) {
        // Parents chained onto the app's own newest migration: one head, no warning.
        let text = text.replace("-- parent: base", "-- parent: 20260102000000");
        let name = name.replace("V2026010100", "V2026010300");
        let text = text.replace("-- parent: 2026010100", "-- parent: 2026010300");
        fixture.write(&format!("migrations/{name}"), &text);
    }
    let run_binary = |fixture: &Fixture| {
        fixture.build(&[]).assert_success();
        let output = Command::new(fixture.binary())
            .output()
            .expect("run the fixture");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let lf = run_binary(&fixture);
    let migration_lines: Vec<&str> = lf.lines().filter(|l| l.starts_with("migration ")).collect();
    assert_eq!(migration_lines.len(), 5, "{lf}");
    // Each checksum is refinery's over the LF text.
    for (name, text) in herd::migrations().into_iter().take(3) {
        let name = name.replace("V2026010100", "V2026010300");
        let file = bluefox_core::migration_file::MigrationFile::parse(&name, &text).unwrap();
        let expected = format!(
            "migration {} {} {} ",
            file.version,
            file.name,
            refinery_checksum(file.version, &file.name, &file.up)
        );
        assert!(
            migration_lines.iter().any(|l| l.starts_with(&expected)),
            "{expected} not in {lf}"
        );
    }
    let dir = fixture.path().join("migrations");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "sql") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
        }
    }
    let crlf = run_binary(&fixture);
    assert_eq!(
        crlf, lf,
        "a CRLF + BOM checkout must embed exactly what LF does"
    );
}

#[tokio::test]
async fn corrupt_history_rows_are_reports_not_panics() {
    let (db, client) = migrated().await;
    let v5 = herd::version(5);
    let row = client
        .query_one(
            "SELECT name, applied_on, checksum FROM refinery_schema_history WHERE version = $1",
            &[&v5],
        )
        .await
        .unwrap();
    let (name, applied_on, checksum): (String, String, String) =
        (row.get(0), row.get(1), row.get(2));
    for (set, column, shown) in [
        ("applied_on = 'yesterday'", "applied_on", "\"yesterday\""),
        ("checksum = 'abc'", "checksum", "\"abc\""),
        ("name = NULL", "name", "NULL"),
    ] {
        client
            .batch_execute(&format!(
                "UPDATE refinery_schema_history SET {set} WHERE version = {v5}"
            ))
            .await
            .unwrap();
        let expected = format!(
            "corrupt row in refinery_schema_history (version {v5}): column {column} is {shown}"
        );
        if column == "applied_on" {
            // Boot with nothing pending compares the history's digest (version, name and
            // checksum) and never reads applied_on, which only `history` shows: it starts.
            // Reading the rows (history, current, any run with something to apply) reports it.
            boot(&db, &[]).await.assert_booted();
            let error = bluefox_runtime::history::read(&client).await.unwrap_err();
            assert!(error.to_string().starts_with(&expected), "{error}");
        } else {
            let line = failure_line(&boot(&db, &[]).await);
            assert!(
                line.starts_with(&format!("boot failed: {expected}")),
                "{line}"
            );
        }
        assert_eq!(history_versions(&client).await.len(), herd::MIGRATIONS);
        // Repaired as the message says, the next boot starts and applies nothing.
        client
            .execute(
                "UPDATE refinery_schema_history SET name = $1, applied_on = $2, checksum = $3 WHERE version = $4",
                &[&name, &applied_on, &checksum, &v5],
            )
            .await
            .unwrap();
        let run = boot(&db, &[]).await;
        run.assert_booted();
        assert_eq!(run.applied_versions(), Vec::<i64>::new());
    }
}

#[tokio::test]
async fn an_unknown_applied_version_warns_or_strictly_refuses() {
    let (db, client) = migrated().await;
    client
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (20990101000000, 'from_a_newer_build', '2099-01-01T00:00:00Z', '42')",
        )
        .await
        .unwrap();
    let run = boot(&db, &[]).await;
    run.assert_booted();
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("WARN"))
        .unwrap_or_default();
    assert!(
        warning.contains("the database has applied migrations this binary does not contain")
            && warning.contains("20990101000000"),
        "{}",
        run.all()
    );
    let line = failure_line(&boot(&db, &[("BLUEFOX_STRICT", "1")]).await);
    assert!(
        line.starts_with("boot failed: the database has applied migrations this binary does not contain: 20990101000000."),
        "{line}"
    );
}

#[tokio::test]
async fn a_new_migration_older_than_the_newest_applied_is_refused() {
    let (db, client) = migrated().await;
    let v10 = herd::version(10);
    // The database as a branch without migration 10 left it (10's objects are there: its
    // history row is what tells).
    client
        .batch_execute(&format!(
            "DELETE FROM refinery_schema_history WHERE version = {v10}"
        ))
        .await
        .unwrap();
    let line = failure_line(&boot(&db, &[]).await);
    assert!(
        line.starts_with(&format!(
            "boot failed: migration {v10} (V{v10}__step_10.sql) is not applied but is older than the newest applied migration {}",
            herd::version(30)
        )),
        "{line}"
    );
    assert_eq!(history_versions(&client).await.len(), herd::MIGRATIONS - 1);
}

/// The example app's migrations as they were applied in the field: (file, refinery checksum).
/// A dependency bump (refinery, siphasher, std's `Hash` for str) that changed a checksum would
/// make every deployed database refuse to boot; this table catches it first.
const EXAMPLE_APP_CHECKSUMS: &[(&str, u64)] = &[
    (
        "V20261130070534__add_users_and_posts.sql",
        3_244_229_348_038_713_580,
    ),
    (
        "V20261130070537__add_user_nickname.sql",
        9_873_885_917_199_140_687,
    ),
];

#[test]
fn the_example_apps_checksums_are_pinned() {
    let dir = bluefox_tests::workspace_root().join("example-app/migrations");
    assert!(!EXAMPLE_APP_CHECKSUMS.is_empty());
    for (file_name, pinned) in EXAMPLE_APP_CHECKSUMS {
        let text = std::fs::read_to_string(dir.join(file_name))
            .unwrap_or_else(|e| panic!("example-app/migrations/{file_name}: {e}"));
        let file = bluefox_core::migration_file::MigrationFile::parse(file_name, &text).unwrap();
        assert_eq!(
            refinery_checksum(file.version, &file.name, &file.up),
            *pinned,
            "refinery's checksum of {file_name} changed"
        );
        assert_eq!(
            file.checksum(),
            *pinned,
            "bluefox's checksum of {file_name} changed"
        );
    }
}
