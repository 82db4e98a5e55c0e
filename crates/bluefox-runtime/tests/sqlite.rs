//! The runtime on SQLite files in temporary directories: the behaviours the PostgreSQL suite
//! checks, on the bundled SQLite (no server needed).
#![cfg(feature = "sqlite")]

use bluefox_core::embedded::{
    pack, Embedded, EmbeddedColumn, EmbeddedMigration, EmbeddedSnapshot, Tables,
};
use bluefox_runtime::error::Error;
use bluefox_runtime::settings::Settings;
use bluefox_runtime::sqlite::{self, SqliteMigrator};
use bluefox_runtime::Target;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

const USERS: &str = "CREATE TABLE \"users\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"email\" TEXT NOT NULL,\n    CONSTRAINT \"uq_users_email\" UNIQUE (\"email\")\n);";
const POSTS: &str = "CREATE TABLE \"posts\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"user_id\" INTEGER NOT NULL,\n    \"title\" TEXT NOT NULL,\n    CONSTRAINT \"fk_posts_user_id_users\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE\n);";

/// `users`' email becomes nullable with a rebuild, as bluefox make writes it for SQLite.
const REBUILD_UP: &str = "CREATE TABLE \"_bluefox_rebuild_users\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"email\" TEXT,\n    CONSTRAINT \"uq_users_email\" UNIQUE (\"email\")\n);\nINSERT INTO \"_bluefox_rebuild_users\" (\"id\", \"email\") SELECT \"id\", \"email\" FROM \"users\";\nDROP TABLE \"users\";\nALTER TABLE \"_bluefox_rebuild_users\" RENAME TO \"users\";";
const REBUILD_DOWN: &str = "CREATE TABLE \"_bluefox_rebuild_users\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"email\" TEXT NOT NULL,\n    CONSTRAINT \"uq_users_email\" UNIQUE (\"email\")\n);\nINSERT INTO \"_bluefox_rebuild_users\" (\"id\", \"email\") SELECT \"id\", \"email\" FROM \"users\";\nDROP TABLE \"users\";\nALTER TABLE \"_bluefox_rebuild_users\" RENAME TO \"users\";";

fn migration(
    version: i64,
    name: &'static str,
    up: &'static str,
    down: Option<&'static str>,
) -> EmbeddedMigration {
    let checksum = refinery_core::Migration::unapplied(&format!("V{version}__{name}"), up)
        .unwrap()
        .checksum();
    EmbeddedMigration {
        version,
        name,
        message: name,
        parent: (version > 1).then_some(version - 1),
        file: Box::leak(format!("V{version}__{name}.sql").into_boxed_str()),
        up,
        down,
        checksum,
    }
}

fn standard() -> Vec<EmbeddedMigration> {
    vec![
        migration(1, "users", USERS, Some("DROP TABLE \"users\";")),
        migration(2, "posts", POSTS, Some("DROP TABLE \"posts\";")),
        migration(3, "nullable_email", REBUILD_UP, Some(REBUILD_DOWN)),
    ]
}

const POSTS_COLUMNS: &[EmbeddedColumn] = &[
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
const USERS_COLUMNS: &[EmbeddedColumn] = &[
    EmbeddedColumn {
        name: "id",
        sql_type: "BIGINT",
        nullable: false,
    },
    EmbeddedColumn {
        name: "email",
        sql_type: "TEXT",
        nullable: true,
    },
];

/// The snapshot's tables, packed as build.rs packs them.
fn tables() -> Tables {
    pack::leak_tables([("posts", POSTS_COLUMNS), ("users", USERS_COLUMNS)]).unwrap()
}

fn embedded(migrations: Vec<EmbeddedMigration>) -> &'static Embedded {
    Box::leak(Box::new(Embedded {
        dialect: "sqlite",
        migrations: pack::leak_migrations(migrations).unwrap(),
        snapshot: EmbeddedSnapshot {
            text: "",
            fingerprint: 0,
            tables: tables(),
        },
        history_digest: "",
    }))
}

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        Db { _dir: dir, path }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn open(&self) -> Connection {
        let conn = Connection::open(&self.path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        conn
    }
}

fn column(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            let v: rusqlite::types::Value = r.get(0)?;
            Ok(match v {
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn versions(conn: &Connection) -> Vec<String> {
    column(
        conn,
        "SELECT version FROM refinery_schema_history ORDER BY version",
    )
}

fn schema_text(conn: &Connection) -> Vec<String> {
    column(conn, "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
}

fn applied(report: &bluefox_runtime::migrator::UpgradeReport) -> Vec<i64> {
    report.applied.iter().map(|m| m.version).collect()
}

fn reverted(report: &bluefox_runtime::migrator::DowngradeReport) -> Vec<i64> {
    report.reverted.iter().map(|m| m.version).collect()
}

#[test]
fn applies_then_applies_nothing_then_steps_by_target() {
    let db = Db::new();
    let conn = db.open();
    let e = embedded(standard());
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let m = SqliteMigrator::new(&conn, e);
    assert_eq!(applied(&m.upgrade(Target::Forward(1)).unwrap()), [1]);
    assert_eq!(applied(&m.upgrade(Target::Version(2)).unwrap()), [2]);
    assert_eq!(applied(&m.upgrade(Target::Head).unwrap()), [3]);
    assert!(m.upgrade(Target::Head).unwrap().applied.is_empty());
    assert_eq!(versions(&conn), ["Integer(1)", "Integer(2)", "Integer(3)"]);
    assert_eq!(m.current().unwrap().map(|c| c.version), Some(3));
    let history: Vec<(i64, bool)> = m
        .history()
        .unwrap()
        .iter()
        .map(|h| (h.version, h.is_applied()))
        .collect();
    assert_eq!(history, [(1, true), (2, true), (3, true)]);
    assert_eq!(m.heads().iter().map(|h| h.version).collect::<Vec<_>>(), [3]);
    assert!(sqlite::drift_check(&conn, tables()).unwrap().is_clean());
    // Foreign keys are back to the connection's setting (off here; the bundled SQLite's
    // default is on, see the rebuild test).
    assert_eq!(column(&conn, "PRAGMA foreign_keys"), ["Integer(0)"]);
}

#[test]
fn downgrades_and_comes_back_to_the_same_schema() {
    let db = Db::new();
    let conn = db.open();
    let m = SqliteMigrator::new(&conn, embedded(standard()));
    m.upgrade(Target::Head).unwrap();
    let at_head = schema_text(&conn);
    assert_eq!(reverted(&m.downgrade(Target::Back(1)).unwrap()), [3]);
    assert_eq!(reverted(&m.downgrade(Target::Version(1)).unwrap()), [2]);
    assert_eq!(reverted(&m.downgrade(Target::Base).unwrap()), [1]);
    assert!(versions(&conn).is_empty());
    assert_eq!(
        column(
            &conn,
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ),
        ["bluefox_down_sql", "refinery_schema_history"]
    );
    assert!(m.downgrade(Target::Base).unwrap().reverted.is_empty());
    assert_eq!(applied(&m.upgrade(Target::Head).unwrap()), [1, 2, 3]);
    assert_eq!(schema_text(&conn), at_head);
}

#[test]
fn the_rebuild_keeps_rows_and_foreign_keys() {
    let db = Db::new();
    let conn = db.open();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let m = SqliteMigrator::new(&conn, embedded(standard()));
    m.upgrade(Target::Version(2)).unwrap();
    conn.execute_batch(
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x');
         INSERT INTO posts (user_id, title) VALUES (1, 'one'), (2, 'two'), (2, 'three');",
    )
    .unwrap();
    // With foreign keys on, dropping users would cascade into posts: the migrator turns them off.
    assert_eq!(applied(&m.upgrade(Target::Head).unwrap()), [3]);
    assert_eq!(column(&conn, "SELECT count(*) FROM posts"), ["Integer(3)"]);
    assert_eq!(column(&conn, "PRAGMA foreign_keys"), ["Integer(1)"]);
    conn.execute("INSERT INTO users (email) VALUES (NULL)", [])
        .unwrap();
    conn.execute("DELETE FROM users WHERE id = 2", []).unwrap();
    assert_eq!(column(&conn, "SELECT title FROM posts"), ["one"]);
    assert!(conn
        .execute("INSERT INTO posts (user_id, title) VALUES (9, 'x')", [])
        .is_err());
    // Down refuses to rebuild onto rows that break NOT NULL; nothing of it remains.
    let e = m.downgrade(Target::Back(1)).unwrap_err();
    assert!(
        e.to_string().starts_with("reverting migration 3 (V3__nullable_email.sql) failed with SQLSTATE SQLITE_CONSTRAINT: NOT NULL constraint failed: _bluefox_rebuild_users.email"),
        "{e}"
    );
    assert_eq!(versions(&conn).len(), 3);
    conn.execute("DELETE FROM users WHERE email IS NULL", [])
        .unwrap();
    assert_eq!(reverted(&m.downgrade(Target::Back(1)).unwrap()), [3]);
    assert_eq!(column(&conn, "SELECT email FROM users"), ["a@x"]);
}

#[test]
fn a_rebuild_that_leaves_a_dangling_reference_is_refused() {
    let db = Db::new();
    let conn = db.open();
    let mut migrations = standard();
    migrations[2] = migration(
        3,
        "drop_users_rows",
        "DELETE FROM \"users\" WHERE \"id\" = 2;",
        None,
    );
    let m = SqliteMigrator::new(&conn, embedded(migrations));
    m.upgrade(Target::Version(2)).unwrap();
    conn.execute_batch("INSERT INTO users (email) VALUES ('a@x'), ('b@x'); INSERT INTO posts (user_id, title) VALUES (2, 'two');").unwrap();
    let e = m.upgrade(Target::Head).unwrap_err();
    assert!(
        e.to_string().starts_with("applying migration 3 (V3__drop_users_rows.sql) failed with SQLSTATE SQLITE_CONSTRAINT: foreign key check failed: posts (rowid 1) references a missing row of users"),
        "{e}"
    );
    assert_eq!(versions(&conn).len(), 2);
    assert_eq!(column(&conn, "SELECT count(*) FROM users"), ["Integer(2)"]);
}

#[test]
fn a_failing_migration_rolls_back_whole_and_keeps_the_ones_before() {
    let db = Db::new();
    let conn = db.open();
    let mut migrations = standard();
    migrations[2] = migration(
        3,
        "broken",
        "CREATE TABLE \"t\" (\"a\" INTEGER);\nINSERT INTO nope VALUES (1);",
        None,
    );
    let m = SqliteMigrator::new(&conn, embedded(migrations));
    let e = m.upgrade(Target::Head).unwrap_err();
    assert!(
        matches!(&e, Error::MigrationFailed { version: 3, sqlstate, message, .. } if sqlstate == "SQLITE_ERROR" && message == "no such table: nope"),
        "{e}"
    );
    assert_eq!(versions(&conn), ["Integer(1)", "Integer(2)"]);
    assert!(column(&conn, "SELECT name FROM sqlite_master WHERE name = 't'").is_empty());
}

#[test]
fn irreversible_and_stored_down_sql() {
    let db = Db::new();
    let conn = db.open();
    let mut migrations = standard();
    migrations[1].down = None;
    let m = SqliteMigrator::new(&conn, embedded(migrations));
    m.upgrade(Target::Head).unwrap();
    let e = m.downgrade(Target::Base).unwrap_err();
    assert!(matches!(e, Error::Irreversible { version: 2, .. }), "{e}");
    assert_eq!(versions(&conn).len(), 3, "nothing was reverted");

    // An older binary that lacks migration 3 reverts it with the down SQL stored at apply time.
    let older = embedded(standard()[..2].to_vec());
    let old = SqliteMigrator::new(&conn, older);
    assert_eq!(reverted(&old.downgrade(Target::Back(1)).unwrap()), [3]);
    assert_eq!(
        column(
            &conn,
            "SELECT \"notnull\" FROM pragma_table_info('users') WHERE name = 'email'"
        ),
        ["Integer(1)"]
    );
}

#[test]
fn an_edited_migration_is_refused() {
    let db = Db::new();
    let conn = db.open();
    SqliteMigrator::new(&conn, embedded(standard()))
        .upgrade(Target::Version(1))
        .unwrap();
    let mut edited = standard();
    edited[0] = migration(
        1,
        "users",
        "CREATE TABLE \"users\" (\"id\" INTEGER PRIMARY KEY);",
        None,
    );
    let stored = standard()[0].checksum;
    let e = SqliteMigrator::new(&conn, embedded(edited))
        .upgrade(Target::Head)
        .unwrap_err();
    assert!(
        matches!(&e, Error::ChecksumMismatch { version: 1, stored: s, .. } if *s == stored),
        "{e}"
    );
    assert_eq!(versions(&conn), ["Integer(1)"]);
}

#[test]
fn offline_sql_then_boot_applies_nothing() {
    let db = Db::new();
    let e = embedded(standard());
    let script = sqlite::upgrade_sql(e, None, Target::Head).unwrap();
    assert!(script.starts_with("-- bluefox upgrade from base to head: 3 migration(s), one transaction each (SQLite).\n-- Apply with: sqlite3 -bail <database file> < <this file>\nPRAGMA foreign_keys = OFF;\n"), "{script}");
    let conn = db.open();
    conn.execute_batch(&script).unwrap();
    let m = SqliteMigrator::new(&conn, e);
    assert!(m.status().unwrap().pending.is_empty());
    assert!(m.upgrade(Target::Head).unwrap().applied.is_empty());
    // The rows are refinery's: an RFC 3339 time, the checksum as text.
    assert_eq!(
        column(
            &conn,
            "SELECT checksum FROM refinery_schema_history WHERE version = 1"
        ),
        [e.migrations.get(0).unwrap().checksum.to_string()]
    );
    let down = sqlite::downgrade_sql(e, 3, Target::Version(1)).unwrap();
    conn.execute_batch(&down).unwrap();
    assert_eq!(versions(&conn), ["Integer(1)"]);
    assert_eq!(applied(&m.upgrade(Target::Head).unwrap()), [2, 3]);
}

#[test]
fn concurrent_migrators_apply_each_migration_once() {
    let db = Db::new();
    let e = embedded(standard());
    let barrier = std::sync::Barrier::new(4);
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let conn = db.open();
                    barrier.wait();
                    SqliteMigrator::new(&conn, e)
                        .upgrade(Target::Head)
                        .unwrap()
                        .applied
                        .len()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts.iter().sum::<usize>(), 3, "{counts:?}");
    assert_eq!(versions(&db.open()).len(), 3);
}

#[test]
fn a_second_process_waits_for_the_lock_then_applies_nothing() {
    let db = Db::new();
    let e = embedded(standard());
    let holder = db.open();
    // Another process is migrating: it holds the write lock.
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let conn = db.open();
            tx.send(()).unwrap();
            SqliteMigrator::new(&conn, e)
                .upgrade(Target::Head)
                .unwrap()
                .applied
                .len()
        });
        rx.recv().unwrap();
        // The first one applies everything, then commits.
        sqlite::upgrade_sql(e, None, Target::Head)
            .map(|script| {
                let body = script
                    .replace("BEGIN IMMEDIATE;", "SAVEPOINT s;")
                    .replace("COMMIT;", "RELEASE s;");
                holder.execute_batch(&body).unwrap();
            })
            .unwrap();
        holder.execute_batch("COMMIT").unwrap();
        assert_eq!(waiter.join().unwrap(), 0);
    });
    assert_eq!(versions(&db.open()).len(), 3);
}

#[test]
fn lock_timeout_is_an_error_that_says_what_to_do() {
    let db = Db::new();
    let e = embedded(standard());
    let holder = db.open();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let conn = db.open();
    let options = bluefox_runtime::MigratorOptions {
        lock_timeout: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let err = SqliteMigrator::new(&conn, e)
        .with_options(options)
        .upgrade(Target::Head)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("another process is migrating or holds a write transaction"),
        "{err}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
}

fn settings(url: &str, extra: &[(&str, &str)]) -> Settings {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.to_string()),
        other => extra
            .iter()
            .find(|(k, _)| k == other)
            .map(|(_, v)| v.clone()),
    })
    .unwrap()
}

#[test]
fn boot_migrates_a_file_or_memory_and_hands_back_the_connection() {
    let db = Db::new();
    let e = embedded(standard());
    let conn = bluefox_runtime::boot_sqlite_with(&settings(&db.url(), &[]), e).unwrap();
    assert_eq!(versions(&conn).len(), 3);
    assert_eq!(column(&conn, "PRAGMA foreign_keys"), ["Integer(1)"]);
    drop(conn);
    let verify = settings(&db.url(), &[("BLUEFOX_MIGRATE", "verify")]);
    assert!(bluefox_runtime::boot_sqlite_with(&verify, e).is_ok());

    let memory = bluefox_runtime::boot_sqlite_with(&settings("sqlite::memory:", &[]), e).unwrap();
    assert_eq!(
        column(
            &memory,
            "SELECT name FROM sqlite_master WHERE name = 'posts'"
        ),
        ["posts"]
    );

    let fresh = Db::new();
    let pending = bluefox_runtime::boot_sqlite_with(
        &settings(&fresh.url(), &[("BLUEFOX_MIGRATE", "verify")]),
        e,
    )
    .unwrap_err();
    assert!(
        matches!(pending, Error::Pending { ref versions } if versions == &[1, 2, 3]),
        "{pending}"
    );
}

#[test]
fn boot_refuses_migrations_of_another_dialect() {
    let db = Db::new();
    let postgres = Box::leak(Box::new(Embedded {
        dialect: "postgresql",
        ..*embedded(standard())
    }));
    let e = bluefox_runtime::boot_sqlite_with(&settings(&db.url(), &[]), postgres).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the embedded migrations are written for postgresql, but DATABASE_URL names a sqlite database; point DATABASE_URL at a postgresql database, or embed the migration set made for sqlite (bluefox_build::Builder::dialect) and boot with its function (boot for postgresql, boot_sqlite for sqlite)"
    );
    assert!(!Path::new(&db.path).exists(), "nothing was created");
}

#[test]
fn drift_is_reported_by_table_and_column() {
    let db = Db::new();
    let conn = db.open();
    SqliteMigrator::new(&conn, embedded(standard()))
        .upgrade(Target::Head)
        .unwrap();
    conn.execute_batch("ALTER TABLE posts ADD COLUMN extra BLOB; CREATE TABLE stray (x INTEGER);")
        .unwrap();
    let report = sqlite::drift_check(&conn, tables()).unwrap();
    let lines: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        lines,
        [
            "column posts.extra is in the database but not in the models' snapshot",
            "table stray is in the database but not in the models' snapshot",
        ]
    );
}
