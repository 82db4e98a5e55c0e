//! `--migrations DIR` on a copy of example-app, which carries one set per dialect:
//! `migrations/` (PostgreSQL) and `migrations-sqlite/` (SQLite). Every verb reads, writes and
//! names the directory the command line chose. No server: SQLite files and offline SQL only.

mod support;

use support::{bluefox, copy_example_app, migration_files, version_of, Run};

const SQLITE: &str = "migrations-sqlite";

/// `bluefox --migrations migrations-sqlite ARGS` in `dir`, with `DATABASE_URL` when given.
fn sqlite_set(dir: &std::path::Path, args: &[&str], url: Option<&str>) -> Run {
    let mut all = vec!["--migrations", SQLITE];
    all.extend_from_slice(args);
    bluefox(dir, &all, url)
}

/// The files of a directory of the crate with their contents, to see that nothing changed.
fn contents(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("read a directory")
        .map(|e| {
            let e = e.expect("dir entry");
            let text = std::fs::read_to_string(e.path()).expect("read a file");
            (e.file_name().to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn reporting_verbs_and_offline_sql_read_the_chosen_directory() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    copy_example_app(dir);
    let sqlite_files = migration_files(&dir.join(SQLITE));
    let pg_files = migration_files(&dir.join("migrations"));
    let head = sqlite_files.last().expect("a SQLite migration");
    let head_version = version_of(head);
    assert!(
        pg_files.iter().all(|f| version_of(f) != head_version),
        "the test needs the two sets to differ: {pg_files:?} {sqlite_files:?}"
    );
    let head_name = head
        .trim_end_matches(".sql")
        .split_once("__")
        .expect("V<version>__<name>.sql")
        .1;

    assert_eq!(
        sqlite_set(dir, &["heads"], None).ok(),
        format!("{head_version} {head_name} (head)\n")
    );
    // Without --migrations the PostgreSQL set is read: another head.
    let pg_head = version_of(pg_files.last().expect("a PostgreSQL migration"));
    assert!(bluefox(dir, &["heads"], None)
        .ok()
        .starts_with(&format!("{pg_head} ")));

    // history on a fresh SQLite file: the SQLite set, every one pending.
    let url = format!("sqlite://{}", dir.join("app.db").display());
    let history = sqlite_set(dir, &["--format", "json", "history"], Some(&url));
    let value: serde_json::Value = serde_json::from_str(history.ok()).expect("JSON");
    let listed: Vec<(i64, String)> = value["migrations"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| {
            (
                m["version"].as_i64().expect("a version"),
                m["status"].as_str().expect("a status").to_string(),
            )
        })
        .collect();
    let expected: Vec<(i64, String)> = sqlite_files
        .iter()
        .map(|f| (version_of(f), "pending".to_string()))
        .collect();
    assert_eq!(listed, expected);

    // Offline SQL in the set's dialect, with no DATABASE_URL at all.
    let script = sqlite_set(dir, &["upgrade", "head", "--sql"], None);
    assert!(
        script.ok().starts_with(&format!(
            "-- bluefox upgrade from base to head: {} migration(s), one transaction each \
             (SQLite).\n",
            sqlite_files.len()
        )),
        "{script:#?}"
    );
    assert!(script.stdout.contains(&head_version.to_string()));
    assert!(pg_files
        .iter()
        .all(|f| !script.stdout.contains(&version_of(f).to_string())));

    // Upgrade the file, then current says so and check --db is satisfied.
    assert!(sqlite_set(dir, &["upgrade"], Some(&url))
        .ok()
        .contains(&format!("Applied {head_version} {head_name} (")));
    assert_eq!(
        sqlite_set(dir, &["current"], Some(&url)).ok(),
        format!("{head_version} {head_name} (head)\n")
    );
    assert_eq!(
        sqlite_set(dir, &["check", "--db"], Some(&url)).ok(),
        "No pending model changes; the database has every migration.\n"
    );
}

#[test]
fn make_writes_into_the_chosen_directory_and_messages_name_it() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    copy_example_app(dir);
    let pg_before = contents(&dir.join("migrations"));
    let before = migration_files(&dir.join(SQLITE));

    let models = dir.join("src/users/models.rs");
    let text = std::fs::read_to_string(&models).expect("read the users model");
    let changed = text.replace(
        "    pub nickname: Option<String>,\n",
        "    pub nickname: Option<String>,\n    pub motto: Option<String>,\n",
    );
    assert_ne!(text, changed, "the users model has a nickname field");
    std::fs::write(&models, changed).expect("write the users model");

    let check = sqlite_set(dir, &["check"], None);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_eq!(
        check.stdout,
        "Pending model changes not captured by a migration:\n  column users.motto added\n\
         Run bluefox --migrations migrations-sqlite make \"<message>\" to capture them in \
         migrations-sqlite.\n"
    );

    let made = sqlite_set(dir, &["make", "add motto"], None);
    let after = migration_files(&dir.join(SQLITE));
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let new = after.last().expect("the new migration");
    assert!(new.ends_with("__add_motto.sql"), "{new}");
    assert_eq!(
        made.ok(),
        format!(
            "Plan for \"add motto\":\n  column users.motto added\n\
             Wrote migrations-sqlite/{new}\nWrote migrations-sqlite/bluefox_snapshot.json\n\
             Review the migration before applying it (bluefox --migrations migrations-sqlite \
             upgrade head): autogenerate is good but not perfect.\n"
        )
    );
    assert_eq!(made.stderr, "");
    let written =
        std::fs::read_to_string(dir.join(SQLITE).join(new)).expect("read the new migration");
    assert!(
        written.contains(&format!(
            "-- parent: {}\n",
            version_of(before.last().expect("a SQLite migration"))
        )),
        "{written}"
    );
    assert!(
        std::fs::read_to_string(dir.join(SQLITE).join("bluefox_snapshot.json"))
            .expect("read the snapshot")
            .contains("\"motto\""),
        "the SQLite snapshot has the new column"
    );
    // The PostgreSQL set is untouched (and now lags, as check says for it).
    assert_eq!(contents(&dir.join("migrations")), pg_before);
    assert_eq!(
        sqlite_set(dir, &["check"], None).ok(),
        "No pending model changes.\n"
    );
    assert_eq!(bluefox(dir, &["check"], None).code, 1);

    // A second head in the SQLite set: check and make name the directory.
    let first = before.first().expect("a SQLite migration");
    let branch = format!("V{}__branch.sql", version_of(new) + 1);
    std::fs::write(
        dir.join(SQLITE).join(&branch),
        format!(
            "-- bluefox: branch\n-- parent: {}\n-- bluefox:up\nSELECT 1;\n",
            version_of(first)
        ),
    )
    .expect("write a branch");
    let heads = format!("{}, {}", version_of(new), version_of(new) + 1);
    let check = sqlite_set(dir, &["check"], None);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_eq!(
        check.stdout,
        format!(
            "migrations-sqlite has 2 heads ({heads}): set the `-- parent:` line of the newer \
             one to the version of the other to merge them.\n"
        )
    );
    assert_eq!(check.stderr, "");
    std::fs::write(&models, &text).expect("restore the users model");
    let refused = sqlite_set(dir, &["make", "drop motto"], None);
    assert_eq!(refused.code, 3, "{refused:#?}");
    assert_eq!(
        refused.stderr,
        format!(
            "error: migrations-sqlite has 2 heads ({} ({new}), {} ({branch})): merge them first \
             by setting the `-- parent:` line of the newer one to the version of the other, \
             then run bluefox --migrations migrations-sqlite make again. Nothing was written\n",
            version_of(new),
            version_of(new) + 1
        )
    );
}

#[test]
fn an_empty_directory_is_named_in_the_error() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    copy_example_app(dir);
    let run = bluefox(
        dir,
        &["--migrations", "migrations-next", "downgrade", "--sql"],
        None,
    );
    assert_eq!(run.code, 3, "{run:#?}");
    assert_eq!(
        run.stderr,
        "error: there are no migrations in migrations-next, so there is no SQL to downgrade; \
         run bluefox --migrations migrations-next make first\n"
    );
    assert_eq!(
        bluefox(dir, &["--migrations", "migrations-next", "heads"], None).ok(),
        "No migrations yet (base).\n"
    );
    // The first migration of a new set lands in it, in the dialect asked for.
    let made = bluefox(
        dir,
        &[
            "--migrations",
            "migrations-next",
            "make",
            "start",
            "--dialect",
            "sqlite",
        ],
        None,
    );
    let files = migration_files(&dir.join("migrations-next"));
    assert_eq!(files.len(), 1, "{made:#?}");
    assert!(made
        .ok()
        .contains(&format!("Wrote migrations-next/{}\n", files[0])));
    assert!(
        std::fs::read_to_string(dir.join("migrations-next/bluefox_snapshot.json"))
            .expect("read the snapshot")
            .contains("\"dialect\": \"sqlite\"")
    );
}
