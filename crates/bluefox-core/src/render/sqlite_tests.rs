//! Unit tests for `render::sqlite`: the exact DDL, and (with the bundled SQLite) that it runs,
//! rows and foreign keys included.

use super::sqlite::{create_table_sql, default_sql, down_sql, up_sql};
use crate::diff::diff;
use crate::schema::{
    Column, ColumnDefault, FkAction, ForeignKey, Index, Schema, Table, UniqueConstraint,
};

fn col(name: &str, sql_type: &str, nullable: bool) -> Column {
    Column {
        name: name.into(),
        sql_type: sql_type.into(),
        nullable,
        default: None,
        identity: false,
        renamed_from: None,
    }
}

fn id() -> Column {
    Column {
        identity: true,
        ..col("id", "BIGINT", false)
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    Schema {
        tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
    }
}

fn users() -> Table {
    Table {
        name: "users".into(),
        columns: vec![id(), col("email", "TEXT", false), col("bio", "TEXT", true)],
        primary_key: vec!["id".into()],
        uniques: vec![UniqueConstraint {
            name: "uq_users_email".into(),
            columns: vec!["email".into()],
        }],
        ..Table::default()
    }
}

fn posts() -> Table {
    Table {
        name: "posts".into(),
        columns: vec![
            id(),
            col("user_id", "BIGINT", false),
            col("title", "VARCHAR(80)", false),
            Column {
                default: Some(ColumnDefault::Bool(false)),
                ..col("published", "BOOLEAN", false)
            },
            Column {
                default: Some(ColumnDefault::Expression("now()".into())),
                ..col("created_at", "TIMESTAMPTZ", false)
            },
        ],
        primary_key: vec!["id".into()],
        indexes: vec![Index {
            name: "ix_posts_user_id".into(),
            columns: vec!["user_id".into()],
        }],
        foreign_keys: vec![ForeignKey {
            name: "fk_posts_user_id_users".into(),
            columns: vec!["user_id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
        }],
        ..Table::default()
    }
}

const CREATE_POSTS: &str = "CREATE TABLE \"posts\" (
    \"id\" INTEGER PRIMARY KEY,
    \"user_id\" INTEGER NOT NULL,
    \"title\" TEXT NOT NULL,
    \"published\" INTEGER NOT NULL DEFAULT 0 CHECK (\"published\" IN (0, 1)),
    \"created_at\" TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT \"fk_posts_user_id_users\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE
);";

const CREATE_USERS: &str = "CREATE TABLE \"users\" (
    \"id\" INTEGER PRIMARY KEY,
    \"email\" TEXT NOT NULL,
    \"bio\" TEXT,
    CONSTRAINT \"uq_users_email\" UNIQUE (\"email\")
);";

#[test]
fn new_tables_carry_their_keys_inline() {
    let new = schema(vec![users(), posts()]);
    let changes = diff(&Schema::default(), &new);
    assert_eq!(
        up_sql(&Schema::default(), &new, &changes),
        [
            CREATE_POSTS,
            CREATE_USERS,
            "CREATE INDEX \"ix_posts_user_id\" ON \"posts\" (\"user_id\");",
        ]
    );
    assert_eq!(
        down_sql(&Schema::default(), &new, &changes),
        ["DROP TABLE \"users\";", "DROP TABLE \"posts\";"]
    );
    assert_eq!(
        create_table_sql(&posts()),
        [
            CREATE_POSTS,
            "CREATE INDEX \"ix_posts_user_id\" ON \"posts\" (\"user_id\");"
        ]
    );
}

#[test]
fn composite_and_non_identity_keys_are_table_constraints() {
    let table = Table {
        name: "tags".into(),
        columns: vec![col("post_id", "BIGINT", false), col("tag", "TEXT", false)],
        primary_key: vec!["post_id".into(), "tag".into()],
        ..Table::default()
    };
    assert_eq!(
        create_table_sql(&table),
        ["CREATE TABLE \"tags\" (\n    \"post_id\" INTEGER NOT NULL,\n    \"tag\" TEXT NOT NULL,\n    PRIMARY KEY (\"post_id\", \"tag\")\n);"]
    );
}

#[test]
fn defaults() {
    assert_eq!(default_sql(&ColumnDefault::Bool(true)), "1");
    assert_eq!(
        default_sql(&ColumnDefault::String("it's".into())),
        "'it''s'"
    );
    assert_eq!(default_sql(&ColumnDefault::Number("-1.5".into())), "-1.5");
    assert_eq!(
        default_sql(&ColumnDefault::Expression("CURRENT_TIMESTAMP".into())),
        "CURRENT_TIMESTAMP"
    );
    assert_eq!(
        default_sql(&ColumnDefault::Expression("lower('X')".into())),
        "(lower('X'))"
    );
}

#[test]
fn simple_changes_alter_in_place() {
    let old = schema(vec![users()]);
    let mut renamed = users();
    renamed.name = "members".into();
    renamed.renamed_from = Some("users".into());
    renamed.columns[2] = Column {
        renamed_from: Some("bio".into()),
        ..col("about", "TEXT", true)
    };
    renamed.columns.push(col("nickname", "TEXT", true));
    renamed.indexes.push(Index {
        name: "ix_members_nickname".into(),
        columns: vec!["nickname".into()],
    });
    let new = schema(vec![renamed]);
    let changes = diff(&old, &new);
    assert_eq!(
        up_sql(&old, &new, &changes),
        [
            "ALTER TABLE \"users\" RENAME TO \"members\";",
            "ALTER TABLE \"members\" RENAME COLUMN \"bio\" TO \"about\";",
            "ALTER TABLE \"members\" ADD COLUMN \"nickname\" TEXT;",
            "CREATE INDEX \"ix_members_nickname\" ON \"members\" (\"nickname\");",
        ]
    );
    // Down drops a column: SQLite rebuilds the table, under its new name, then renames back.
    let down = down_sql(&old, &new, &changes);
    assert_eq!(
        down,
        [
            "ALTER TABLE \"members\" RENAME TO \"users\";",
            "ALTER TABLE \"users\" RENAME COLUMN \"about\" TO \"bio\";",
            "-- SQLite cannot alter \"users\" in place: rebuild it (new table, copy rows, drop, rename).\n\
             CREATE TABLE \"_bluefox_rebuild_users\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"email\" TEXT NOT NULL,\n    \"bio\" TEXT,\n    CONSTRAINT \"uq_users_email\" UNIQUE (\"email\")\n);",
            "INSERT INTO \"_bluefox_rebuild_users\" (\"id\", \"email\", \"bio\") SELECT \"id\", \"email\", \"bio\" FROM \"users\";",
            "DROP TABLE \"users\";",
            "ALTER TABLE \"_bluefox_rebuild_users\" RENAME TO \"users\";",
        ]
    );
}

#[test]
fn other_changes_rebuild_the_table_with_its_indexes_and_foreign_keys() {
    let old = schema(vec![users(), posts()]);
    let mut changed = posts();
    changed.columns[2] = col("title", "TEXT", true); // type and nullability
    changed.columns.remove(4); // created_at dropped
    changed.columns.push(col("slug", "TEXT", false)); // NOT NULL without default: rebuild
    let new = schema(vec![users(), changed]);
    let changes = diff(&old, &new);
    let rebuilt = "CREATE TABLE \"_bluefox_rebuild_posts\" (
    \"id\" INTEGER PRIMARY KEY,
    \"user_id\" INTEGER NOT NULL,
    \"title\" TEXT,
    \"published\" INTEGER NOT NULL DEFAULT 0 CHECK (\"published\" IN (0, 1)),
    \"slug\" TEXT NOT NULL,
    CONSTRAINT \"fk_posts_user_id_users\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE
);";
    assert_eq!(
        up_sql(&old, &new, &changes),
        [
            format!("-- SQLite cannot alter \"posts\" in place: rebuild it (new table, copy rows, drop, rename).\n{rebuilt}"),
            "INSERT INTO \"_bluefox_rebuild_posts\" (\"id\", \"user_id\", \"title\", \"published\") SELECT \"id\", \"user_id\", \"title\", \"published\" FROM \"posts\";".to_string(),
            "DROP TABLE \"posts\";".to_string(),
            "ALTER TABLE \"_bluefox_rebuild_posts\" RENAME TO \"posts\";".to_string(),
            "CREATE INDEX \"ix_posts_user_id\" ON \"posts\" (\"user_id\");".to_string(),
        ]
    );
    let down = down_sql(&old, &new, &changes);
    assert_eq!(down.len(), 5, "{down:#?}");
    assert!(
        down[0].ends_with(&CREATE_POSTS.replace("\"posts\" (", "\"_bluefox_rebuild_posts\" (")),
        "{}",
        down[0]
    );
    assert_eq!(down[1], "INSERT INTO \"_bluefox_rebuild_posts\" (\"id\", \"user_id\", \"title\", \"published\") SELECT \"id\", \"user_id\", \"title\", \"published\" FROM \"posts\";");
}

#[test]
fn rendering_is_deterministic() {
    let old = schema(vec![users()]);
    let new = schema(vec![users(), posts()]);
    let first = up_sql(&old, &new, &diff(&old, &new));
    for _ in 0..10 {
        assert_eq!(up_sql(&old, &new, &diff(&old, &new)), first);
    }
}

/// Runs the DDL on a real (bundled) SQLite the way bluefox's runner does: foreign keys off
/// around the transaction, `foreign_key_check` before commit.
#[cfg(test)]
mod executed {
    use super::*;
    use rusqlite::Connection;

    fn apply(conn: &Connection, statements: &[String]) {
        conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;")
            .unwrap();
        conn.execute_batch(&statements.join("\n")).unwrap();
        let violations: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0);
        conn.execute_batch("COMMIT; PRAGMA foreign_keys = ON;")
            .unwrap();
    }

    fn rows(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let mapped = stmt
            .query_map([], |r| {
                let n = r.as_ref().column_count();
                let mut cells = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    cells.push(format!("{v:?}"));
                }
                Ok(cells.join("|"))
            })
            .unwrap();
        mapped.map(Result::unwrap).collect()
    }

    fn schema_sql(conn: &Connection) -> Vec<String> {
        rows(
            conn,
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
        )
    }

    #[test]
    fn rebuild_keeps_rows_and_foreign_keys_both_ways() {
        let conn = Connection::open_in_memory().unwrap();
        let v1 = schema(vec![users(), posts()]);
        apply(
            &conn,
            &up_sql(&Schema::default(), &v1, &diff(&Schema::default(), &v1)),
        );
        conn.execute_batch(
            "INSERT INTO users (email) VALUES ('a@x'), ('b@x');
             INSERT INTO posts (user_id, title, published) VALUES (1, 'one', 1), (2, 'two', 0);",
        )
        .unwrap();
        let before = schema_sql(&conn);

        // A rebuild of the referenced table (users) and of the referencing one (posts).
        let mut users2 = users();
        users2.columns[2] = col("bio", "VARCHAR(200)", false);
        users2.columns[2].default = Some(ColumnDefault::String(String::new()));
        let mut posts2 = posts();
        posts2.columns.remove(4);
        let v2 = schema(vec![users2, posts2]);
        let changes = diff(&v1, &v2);
        conn.execute("UPDATE users SET bio = 'hi'", []).unwrap();
        apply(&conn, &up_sql(&v1, &v2, &changes));
        assert_eq!(
            rows(&conn, "SELECT id, email, bio FROM users ORDER BY id"),
            [
                "Integer(1)|Text(\"a@x\")|Text(\"hi\")",
                "Integer(2)|Text(\"b@x\")|Text(\"hi\")"
            ]
        );
        assert_eq!(
            rows(
                &conn,
                "SELECT id, user_id, title, published FROM posts ORDER BY id"
            ),
            [
                "Integer(1)|Integer(1)|Text(\"one\")|Integer(1)",
                "Integer(2)|Integer(2)|Text(\"two\")|Integer(0)"
            ]
        );
        // Foreign keys still hold after the rebuild: cascade from users to posts.
        assert_eq!(
            rows(
                &conn,
                "SELECT \"table\", \"from\", \"on_delete\" FROM pragma_foreign_key_list('posts')"
            ),
            ["Text(\"users\")|Text(\"user_id\")|Text(\"CASCADE\")"]
        );
        assert!(conn
            .execute("INSERT INTO posts (user_id, title) VALUES (9, 'x')", [])
            .is_err());
        assert!(conn.execute("UPDATE posts SET published = 2", []).is_err());
        conn.execute("DELETE FROM users WHERE id = 2", []).unwrap();
        assert_eq!(rows(&conn, "SELECT id FROM posts"), ["Integer(1)"]);
        // A new row still gets its id from the rowid alias (max + 1: SQLite reuses a deleted newest id).
        conn.execute("INSERT INTO users (email) VALUES ('c@x')", [])
            .unwrap();
        assert_eq!(rows(&conn, "SELECT max(id) FROM users"), ["Integer(2)"]);

        // And down again: the same schema text as before, rows kept.
        conn.execute("DELETE FROM users WHERE id = 2", []).unwrap();
        apply(&conn, &down_sql(&v1, &v2, &changes));
        assert_eq!(schema_sql(&conn), before);
        assert_eq!(rows(&conn, "SELECT count(*) FROM posts"), ["Integer(1)"]);
    }

    #[test]
    fn a_rebuild_that_breaks_a_foreign_key_is_caught() {
        let conn = Connection::open_in_memory().unwrap();
        let v1 = schema(vec![users(), posts()]);
        apply(
            &conn,
            &up_sql(&Schema::default(), &v1, &diff(&Schema::default(), &v1)),
        );
        conn.execute_batch(
            "INSERT INTO users (email) VALUES ('a@x');
             INSERT INTO posts (user_id, title) VALUES (1, 'one');",
        )
        .unwrap();
        let mut users2 = users();
        users2.columns[0].name = "key".into(); // a renamed key without a hint: drop and add
        users2.primary_key = vec!["key".into()];
        let v2 = schema(vec![users2, posts()]);
        conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;")
            .unwrap();
        conn.execute_batch(&up_sql(&v1, &v2, &diff(&v1, &v2)).join("\n"))
            .unwrap();
        // posts now references a column that is no key: the check refuses to commit this.
        let check = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get::<_, i64>(0)
        });
        assert_eq!(
            check.unwrap_err().to_string(),
            "foreign key mismatch - \"posts\" referencing \"users\""
        );
        conn.execute_batch("ROLLBACK").unwrap();
    }
}
