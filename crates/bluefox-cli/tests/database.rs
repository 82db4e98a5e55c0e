//! The runtime verbs end to end against the real PostgreSQL (`TEST_DATABASE_URL`), each test in
//! a fresh database; and `--sql`, which must work with no server at all.

mod support;

use support::{version_of, Fixture, Run, TestDb, USERS};

/// A crate with two migrations: `add_users_table`, then `add_bio`. Returns their versions.
fn two_migrations() -> (Fixture, i64, i64) {
    let fixture = Fixture::new(USERS);
    fixture.bluefox(&["make", "add users table"]).ok();
    fixture.write(
        "src/models.rs",
        &USERS.replace(
            "    pub name: String,\n",
            "    pub name: String,\n    pub bio: Option<String>,\n",
        ),
    );
    fixture.bluefox(&["make", "add bio"]).ok();
    let files = fixture.migrations();
    assert_eq!(files.len(), 2, "{files:?}");
    (fixture, version_of(&files[0]), version_of(&files[1]))
}

/// Asserts a run printed exactly these `Applied`/`Reverted` lines, times aside.
fn assert_steps(run: &Run, expected: &[&str]) {
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), expected.len(), "{run:#?}");
    for (line, prefix) in lines.iter().zip(expected) {
        let time = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(" ("))
            .and_then(|rest| rest.strip_suffix(" ms)"));
        assert!(
            time.is_some_and(|t| t.parse::<u64>().is_ok()),
            "{line:?} is not `{prefix} (N ms)`"
        );
    }
}

fn users_columns(db: &TestDb) -> Vec<String> {
    db.column(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' \
         ORDER BY ordinal_position",
    )
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.ok()).unwrap_or_else(|e| panic!("{e}: {run:#?}"))
}

#[test]
fn upgrade_downgrade_current_history_heads_and_check_db() {
    let db = TestDb::new("bluefox_cli");
    let (fixture, v1, v2) = two_migrations();
    let bf = |args: &[&str]| fixture.bluefox_db(&db.url, args);

    assert_eq!(
        bf(&["current"]).ok(),
        "base (nothing applied)\n2 migration(s) pending: bluefox upgrade head applies them\n"
    );
    assert_eq!(
        json(&bf(&["--format", "json", "current"])),
        serde_json::json!({"current": null, "at_head": false, "pending": 2})
    );
    assert_eq!(
        bf(&["history"]).ok(),
        format!("{v1} add_users_table  pending\n{v2} add_bio          pending (head)\n")
    );
    let unapplied = bf(&["check", "--db"]);
    assert_eq!(unapplied.code, 1, "{unapplied:#?}");
    assert_eq!(
        unapplied.stdout,
        format!(
            "Migrations not applied to the database:\n  {v1} add_users_table\n  {v2} add_bio\n\
             Run bluefox upgrade head to apply them.\n"
        )
    );

    assert_steps(
        &bf(&["upgrade", "+1"]),
        &[&format!("Applied {v1} add_users_table")],
    );
    assert_eq!(users_columns(&db), ["id", "email", "name"]);
    assert_eq!(
        bf(&["current"]).ok(),
        format!(
            "{v1} add_users_table\n1 migration(s) pending: bluefox upgrade head applies them\n"
        )
    );
    assert_steps(&bf(&["upgrade"]), &[&format!("Applied {v2} add_bio")]);
    assert_eq!(users_columns(&db), ["id", "email", "name", "bio"]);
    assert_eq!(bf(&["current"]).ok(), format!("{v2} add_bio (head)\n"));
    assert_eq!(
        bf(&["upgrade", "head"]).ok(),
        "Nothing to upgrade: no pending migration up to head.\n"
    );
    assert_eq!(
        bf(&["check", "--db"]).ok(),
        "No pending model changes; the database has every migration.\n"
    );

    let history = bf(&["history"]);
    let lines: Vec<&str> = history.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{history:#?}");
    for (line, (prefix, suffix)) in lines.iter().zip([
        (format!("{v1} add_users_table  applied "), ""),
        (format!("{v2} add_bio          applied "), " (head)"),
    ]) {
        let at = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(at.len(), "2026-11-30T05:27:00Z".len(), "{line:?}");
        assert!(at.ends_with('Z') && at.as_bytes()[10] == b'T', "{line:?}");
    }
    let value = json(&bf(&["history", "--format", "json"]));
    let items = value["migrations"].as_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["version"], v1);
    assert_eq!(items[0]["name"], "add_users_table");
    assert_eq!(items[0]["file"], format!("V{v1}__add_users_table.sql"));
    assert_eq!(items[0]["message"], "add users table");
    assert_eq!(items[0]["parent"], serde_json::Value::Null);
    assert_eq!(items[0]["status"], "applied");
    assert_eq!(items[0]["is_head"], false);
    assert_eq!(items[1]["parent"], v1);
    assert_eq!(items[1]["is_head"], true);
    assert_eq!(items[1]["in_files"], true);
    assert_eq!(items[1]["edited"], false);
    assert!(items[1]["applied_on"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let current = json(&bf(&["current", "--format", "json"]));
    assert_eq!(current["current"]["version"], v2);
    assert_eq!(current["current"]["name"], "add_bio");
    assert_eq!(
        (&current["at_head"], &current["pending"]),
        (&true.into(), &0.into())
    );

    assert_eq!(bf(&["heads"]).ok(), format!("{v2} add_bio (head)\n"));
    assert_eq!(
        json(&bf(&["heads", "--format", "json"])),
        serde_json::json!({"heads": [{"version": v2, "name": "add_bio",
            "file": format!("V{v2}__add_bio.sql"), "message": "add bio"}]})
    );

    assert_steps(&bf(&["downgrade"]), &[&format!("Reverted {v2} add_bio")]);
    assert_eq!(users_columns(&db), ["id", "email", "name"]);
    assert_eq!(
        bf(&["current"]).ok(),
        format!(
            "{v1} add_users_table\n1 migration(s) pending: bluefox upgrade head applies them\n"
        )
    );
    assert_steps(&bf(&["upgrade"]), &[&format!("Applied {v2} add_bio")]);
    assert_steps(
        &bf(&["downgrade", "base"]),
        &[
            &format!("Reverted {v2} add_bio"),
            &format!("Reverted {v1} add_users_table"),
        ],
    );
    assert!(users_columns(&db).is_empty());
    assert_eq!(
        bf(&["current"]).ok(),
        "base (nothing applied)\n2 migration(s) pending: bluefox upgrade head applies them\n"
    );
    let below_base = bf(&["downgrade", "-1"]);
    assert_eq!(below_base.code, 3, "{below_base:#?}");
    assert!(
        below_base
            .stderr
            .starts_with("error: cannot downgrade -1: only 0 migration(s) are applied."),
        "{}",
        below_base.stderr
    );
    assert!(!below_base.stderr.contains("panicked"));
}

#[test]
fn sql_needs_no_server_and_applied_with_psql_leaves_nothing_to_do() {
    let (fixture, v1, v2) = two_migrations();
    let unreachable = "postgresql://app:s3cret@127.0.0.1:1/app";
    let offline = |args: &[&str]| {
        let run = fixture.bluefox_db(unreachable, args);
        assert!(
            !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
            "{run:#?}"
        );
        run
    };

    let upgrade = offline(&["upgrade", "head", "--sql"]);
    let script = upgrade.ok();
    assert!(
        script.starts_with(
            "-- bluefox upgrade from base to head: 2 migration(s), one transaction each.\n\
             -- Apply with: psql -v ON_ERROR_STOP=1 -f <this file>\n"
        ),
        "{script}"
    );
    assert!(script.contains(&format!(
        "-- {v1} (V{v1}__add_users_table.sql)\nBEGIN;\nCREATE TABLE \"users\""
    )));
    assert!(script.contains(&format!(
        "-- {v2} (V{v2}__add_bio.sql)\nBEGIN;\nALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;\n"
    )));
    // Without DATABASE_URL the dialect is PostgreSQL: the same script.
    assert_eq!(fixture.bluefox(&["upgrade", "head", "--sql"]).ok(), script);
    let from_v1 = offline(&["upgrade", &format!("{v1}:head"), "--sql"]);
    assert!(from_v1.ok().starts_with(&format!(
        "-- bluefox upgrade from {v1} to head: 1 migration(s)"
    )));

    let down = offline(&["downgrade", &format!("{v2}:base"), "--sql"]);
    let down_script = down.ok().to_string();
    assert!(
        down_script.starts_with(&format!(
            "-- bluefox downgrade from {v2} to base: 2 migration(s), one transaction each.\n"
        )),
        "{down_script}"
    );
    let bio = down_script
        .find("DROP COLUMN \"bio\"")
        .expect("bio dropped");
    let users = down_script
        .find("DROP TABLE \"users\"")
        .expect("users dropped");
    assert!(bio < users, "newest first: {down_script}");
    let default_down = offline(&["downgrade", "--sql"]);
    assert!(default_down.ok().starts_with(&format!(
        "-- bluefox downgrade from {v2} to -1: 1 migration(s)"
    )));

    // Without --sql the same URL is a connection error that names the endpoint, not the password.
    let online = offline(&["current"]);
    assert_eq!(online.code, 3, "{online:#?}");
    assert!(
        online
            .stderr
            .starts_with("error: cannot reach PostgreSQL at 127.0.0.1:1"),
        "{}",
        online.stderr
    );
    let sqlite = fixture.bluefox_db("sqlite:app.db", &["upgrade", "--sql"]);
    assert_eq!(sqlite.code, 3);
    assert_eq!(
        sqlite.stderr,
        "error: the embedded migrations are written for postgresql, but DATABASE_URL names a \
         sqlite database; point DATABASE_URL at a postgresql database, or embed the migration \
         set made for sqlite (bluefox_build::Builder::dialect) and boot with its function (boot \
         for postgresql, boot_sqlite for sqlite)\n"
    );

    // The script applied by psql is what `upgrade` would have done.
    let db = TestDb::new("bluefox_cli");
    let file = support::scratch(&fixture, "upgrade.sql");
    std::fs::write(&file, script).unwrap();
    db.psql_file(&file);
    assert_eq!(users_columns(&db), ["id", "email", "name", "bio"]);
    let bf = |args: &[&str]| fixture.bluefox_db(&db.url, args);
    assert_eq!(bf(&["current"]).ok(), format!("{v2} add_bio (head)\n"));
    assert_eq!(
        bf(&["upgrade"]).ok(),
        "Nothing to upgrade: no pending migration up to head.\n"
    );
    let file = support::scratch(&fixture, "downgrade.sql");
    std::fs::write(&file, &down_script).unwrap();
    db.psql_file(&file);
    assert!(users_columns(&db).is_empty());
    assert_eq!(
        bf(&["current"]).ok(),
        "base (nothing applied)\n2 migration(s) pending: bluefox upgrade head applies them\n"
    );
}

#[test]
fn database_url_comes_from_the_dir_crates_env_and_the_environment_wins() {
    let db = TestDb::new("bluefox_cli");
    let fixture = Fixture::new(USERS);
    fixture.bluefox(&["make", "add users table"]).ok();
    fixture.write(".env", &format!("DATABASE_URL={}\n", db.url));
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = fixture.path().to_str().unwrap();
    let run = support::bluefox(elsewhere.path(), &["--dir", dir, "upgrade"], None);
    assert!(run.ok().starts_with("Applied "), "{run:#?}");
    let current = support::bluefox(elsewhere.path(), &["current", "--dir", dir], None);
    assert!(
        current.ok().ends_with(" add_users_table (head)\n"),
        "{current:#?}"
    );

    let overridden = support::bluefox(
        elsewhere.path(),
        &["current", "--dir", dir],
        Some("postgresql://app:s3cret@127.0.0.1:1/app"),
    );
    assert_eq!(overridden.code, 3, "{overridden:#?}");
    assert!(
        overridden.stderr.contains("127.0.0.1:1"),
        "{}",
        overridden.stderr
    );
    assert!(!overridden.stderr.contains("s3cret"));

    let missing = Fixture::new(USERS);
    let run = missing.bluefox(&["current"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .starts_with("error: DATABASE_URL is not set: set it in the environment or in ./.env"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_edited_applied_migration_is_reported_by_history_and_refused_by_upgrade() {
    let db = TestDb::new("bluefox_cli");
    let (fixture, v1, v2) = two_migrations();
    let bf = |args: &[&str]| fixture.bluefox_db(&db.url, args);
    assert_steps(
        &bf(&["upgrade", "+1"]),
        &[&format!("Applied {v1} add_users_table")],
    );
    let rel = format!("migrations/V{v1}__add_users_table.sql");
    let text = fixture.read(&rel);
    fixture.write(
        &rel,
        &text.replace("-- bluefox:up\n", "-- bluefox:up\n-- edited\n"),
    );

    let history = bf(&["history"]);
    let lines: Vec<&str> = history.ok().lines().collect();
    assert!(
        lines[0].ends_with(" (EDITED since it was applied)"),
        "{history:#?}"
    );
    assert_eq!(lines[1], format!("{v2} add_bio          pending (head)"));
    let value = json(&bf(&["history", "--format", "json"]));
    assert_eq!(value["migrations"][0]["edited"], true);

    let refused = bf(&["upgrade"]);
    assert_eq!(refused.code, 3, "{refused:#?}");
    assert!(
        refused.stderr.starts_with(&format!(
            "error: migration {v1} (V{v1}__add_users_table.sql) was edited after it was applied"
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(users_columns(&db), ["id", "email", "name"]);
}
