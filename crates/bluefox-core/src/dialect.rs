//! The SQL dialects bluefox writes migrations for: PostgreSQL and SQLite.
//!
//! A migration set is written for one dialect, recorded in its snapshot (`"dialect"`). The
//! schema model keeps one spelling of types, PostgreSQL's (`BIGINT`, `BOOLEAN`, `TIMESTAMPTZ`):
//! it is what the models map to and what the snapshot stores, whatever the dialect. Each dialect
//! renders it: PostgreSQL as written ([`crate::render`]), SQLite through [`sqlite_type`] and its
//! own DDL ([`crate::render::sqlite`]).
//!
//! SQLite type mapping (SQLite has five storage classes; the declared type only picks an
//! affinity):
//!
//! | schema type | SQLite |
//! | --- | --- |
//! | `SMALLINT`, `INTEGER`, `BIGINT` | `INTEGER` |
//! | `REAL`, `DOUBLE PRECISION` | `REAL` |
//! | `BOOLEAN` | `INTEGER` with `CHECK ("col" IN (0, 1))`; defaults `TRUE`/`FALSE` become `1`/`0` |
//! | `NUMERIC(p,s)` | `NUMERIC` |
//! | `BYTEA` | `BLOB` |
//! | `TEXT`, `VARCHAR(n)`, `CHAR(n)`, `UUID`, `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ`, `JSON`, `JSONB` | `TEXT` |
//! | arrays (`TEXT[]`) | `TEXT` (the application stores JSON text) |
//! | anything else | as written (SQLite accepts any type name) |
//!
//! An identity primary key of one integer column is `"id" INTEGER PRIMARY KEY`, SQLite's alias
//! of the rowid: it is assigned on insert like PostgreSQL's identity. Identity on any other
//! column has no SQLite equivalent and is left out. Booleans are `INTEGER` with a `CHECK`
//! rather than SQLite's `BOOLEAN` affinity (which is `NUMERIC` and accepts `2` or `'yes'`),
//! so only `0`, `1` and `NULL` are stored, as rusqlite's `bool` reads and writes them.

use crate::db_url::DatabaseUrl;
pub use crate::db_url::Dialect;
use crate::diff::Change;
use crate::schema::{Schema, Table};

impl Dialect {
    /// The dialect a snapshot's `"dialect"` field (or a `--dialect` flag) names: `postgresql`
    /// (or `postgres`) and `sqlite`, ignoring case.
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name.trim().to_ascii_lowercase().as_str() {
            "postgresql" | "postgres" => Some(Dialect::Postgres),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// Every dialect, in a fixed order (for messages that list them).
    pub const ALL: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

    /// The column type this dialect declares for a schema type (`BIGINT` stays `BIGINT` in
    /// PostgreSQL and is `INTEGER` in SQLite).
    pub fn column_type(self, sql_type: &str) -> String {
        match self {
            Dialect::Postgres => sql_type.to_string(),
            Dialect::Sqlite => sqlite_type(sql_type),
        }
    }

    /// The statements that lead from `old` to `new`, where `changes` is `diff(old, new)`.
    /// PostgreSQL needs only the changes ([`crate::render::up_sql`], byte for byte); SQLite also
    /// needs the whole tables, to rebuild one that `ALTER TABLE` cannot change.
    pub fn up_sql(self, old: &Schema, new: &Schema, changes: &[Change]) -> Vec<String> {
        match self {
            Dialect::Postgres => crate::render::up_sql(changes),
            Dialect::Sqlite => crate::render::sqlite::up_sql(old, new, changes),
        }
    }

    /// The statements that undo [`Dialect::up_sql`]: from `new` back to `old`.
    pub fn down_sql(self, old: &Schema, new: &Schema, changes: &[Change]) -> Vec<String> {
        match self {
            Dialect::Postgres => crate::render::down_sql(changes),
            Dialect::Sqlite => crate::render::sqlite::down_sql(old, new, changes),
        }
    }

    /// The statements that create `table` from nothing, with its keys and indexes.
    pub fn create_table_sql(self, table: &Table) -> Vec<String> {
        match self {
            Dialect::Postgres => crate::render::create_table_sql(table),
            Dialect::Sqlite => crate::render::sqlite::create_table_sql(table),
        }
    }
}

/// The SQLite declared type of a schema type (see the module docs for the table).
pub fn sqlite_type(sql_type: &str) -> String {
    let canonical = crate::diff::canonical_type(sql_type);
    if canonical.ends_with("[]") {
        return "TEXT".to_string();
    }
    let base = canonical.split('(').next().unwrap_or_default().trim();
    let mapped = match base {
        "SMALLINT" | "INTEGER" | "BIGINT" | "INT" | "INT2" | "INT4" | "INT8" | "SERIAL"
        | "BIGSERIAL" | "SMALLSERIAL" | "BOOLEAN" | "BOOL" => "INTEGER",
        "REAL" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT4" | "FLOAT8" => "REAL",
        "NUMERIC" | "DECIMAL" => "NUMERIC",
        "BYTEA" | "BLOB" => "BLOB",
        "TEXT" | "VARCHAR" | "CHARACTER VARYING" | "CHAR" | "CHARACTER" | "UUID" | "DATE"
        | "TIME" | "TIMETZ" | "TIMESTAMP" | "TIMESTAMPTZ" | "JSON" | "JSONB" | "CITEXT"
        | "INTERVAL" => "TEXT",
        _ => return canonical.into_owned(),
    };
    mapped.to_string()
}

/// Whether a schema type is a boolean (stored by SQLite as `INTEGER` 0/1 with a `CHECK`).
pub fn is_boolean(sql_type: &str) -> bool {
    matches!(&*crate::diff::canonical_type(sql_type), "BOOLEAN" | "BOOL")
}

/// Where a `sqlite:` URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// `sqlite::memory:`: a private in-memory database, gone when the connection closes.
    Memory,
    /// A database file, created when missing; relative paths are relative to the current
    /// directory of the process.
    File(String),
}

/// A `sqlite:` URL that names no database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqliteUrlError {
    /// Not a `sqlite:` URL.
    #[error("DATABASE_URL names {dialect}, not SQLite; use sqlite://path/to/app.db, sqlite:app.db or sqlite::memory:")]
    NotSqlite {
        /// The dialect it names.
        dialect: Dialect,
    },
    /// Nothing after `sqlite:`.
    #[error("DATABASE_URL `{url}` names no SQLite file; write sqlite://path/to/app.db, sqlite:app.db or sqlite::memory:")]
    NoPath {
        /// The URL as given.
        url: String,
    },
    /// A query parameter other than `mode=rwc`.
    #[error("DATABASE_URL `{url}`: SQLite parameter `{parameter}` is not supported; bluefox opens the file read-write and creates it when missing, so leave the parameters out (mode=rwc is accepted)")]
    Parameter {
        /// The URL as given.
        url: String,
        /// The parameter.
        parameter: String,
    },
}

/// Where a SQLite `DATABASE_URL` points. `sqlite::memory:` is in memory; otherwise the text
/// after `sqlite:` (and after `//` when present, as sqlx reads it) is the file path:
/// `sqlite://app.db` and `sqlite:app.db` are `app.db` in the current directory,
/// `sqlite:///var/lib/app.db` is absolute. SQLAlchemy's absolute form `sqlite:////var/app.db`
/// gives `//var/app.db`, the same file on Unix; its relative form `sqlite:///app.db` means
/// `/app.db` here. A `?mode=rwc` parameter (sqlx) is accepted; any other is refused.
///
/// # Errors
/// A [`SqliteUrlError`] for a non-SQLite URL, an empty path or an unknown parameter.
pub fn sqlite_location(url: &DatabaseUrl) -> Result<SqliteLocation, SqliteUrlError> {
    if url.dialect() != Dialect::Sqlite {
        return Err(SqliteUrlError::NotSqlite {
            dialect: url.dialect(),
        });
    }
    let raw = url.dbname().unwrap_or_default();
    let shown = format!("sqlite:{raw}");
    let (path, query) = match raw.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (raw, None),
    };
    for parameter in query.into_iter().flat_map(|q| q.split('&')) {
        if !parameter.is_empty() && !parameter.eq_ignore_ascii_case("mode=rwc") {
            return Err(SqliteUrlError::Parameter {
                url: shown,
                parameter: parameter.to_string(),
            });
        }
    }
    let path = path.strip_prefix("//").unwrap_or(path);
    if path == ":memory:" {
        return Ok(SqliteLocation::Memory);
    }
    if path.is_empty() {
        return Err(SqliteUrlError::NoPath { url: shown });
    }
    Ok(SqliteLocation::File(path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dialect::ALL {
            assert_eq!(Dialect::from_name(d.name()), Some(d));
        }
        assert_eq!(Dialect::from_name("Postgres"), Some(Dialect::Postgres));
        assert_eq!(Dialect::from_name("mysql"), None);
    }

    #[test]
    fn sqlite_types() {
        let cases = [
            ("BIGINT", "INTEGER"),
            ("SMALLINT", "INTEGER"),
            ("BOOLEAN", "INTEGER"),
            ("DOUBLE PRECISION", "REAL"),
            ("REAL", "REAL"),
            ("NUMERIC(10, 2)", "NUMERIC"),
            ("BYTEA", "BLOB"),
            ("VARCHAR(80)", "TEXT"),
            ("TIMESTAMPTZ", "TEXT"),
            ("UUID", "TEXT"),
            ("JSONB", "TEXT"),
            ("TEXT[]", "TEXT"),
            ("geometry", "GEOMETRY"),
        ];
        for (schema, sqlite) in cases {
            assert_eq!(sqlite_type(schema), sqlite, "{schema}");
            assert_eq!(Dialect::Sqlite.column_type(schema), sqlite, "{schema}");
        }
        assert_eq!(Dialect::Postgres.column_type("BIGINT"), "BIGINT");
        assert!(is_boolean("bool") && !is_boolean("INTEGER"));
    }

    #[test]
    fn postgres_renders_exactly_as_render_does() {
        use crate::schema::{Column, Table};
        let table = Table {
            name: "users".into(),
            columns: vec![Column {
                name: "id".into(),
                sql_type: "BIGINT".into(),
                nullable: false,
                default: None,
                identity: true,
                renamed_from: None,
            }],
            primary_key: vec!["id".into()],
            ..Table::default()
        };
        let new = Schema {
            tables: [("users".to_string(), table.clone())].into(),
        };
        let changes = crate::diff::diff(&Schema::default(), &new);
        let old = Schema::default();
        assert_eq!(
            Dialect::Postgres.up_sql(&old, &new, &changes),
            crate::render::up_sql(&changes)
        );
        assert_eq!(
            Dialect::Postgres.down_sql(&old, &new, &changes),
            crate::render::down_sql(&changes)
        );
        assert_eq!(
            Dialect::Postgres.create_table_sql(&table),
            crate::render::create_table_sql(&table)
        );
        assert_eq!(
            Dialect::Sqlite.create_table_sql(&table),
            ["CREATE TABLE \"users\" (\n    \"id\" INTEGER PRIMARY KEY\n);"]
        );
    }

    fn location(url: &str) -> Result<SqliteLocation, SqliteUrlError> {
        sqlite_location(&DatabaseUrl::parse(url).unwrap())
    }

    #[test]
    fn sqlite_urls() {
        let file = |p: &str| Ok(SqliteLocation::File(p.to_string()));
        assert_eq!(location("sqlite::memory:"), Ok(SqliteLocation::Memory));
        assert_eq!(location("sqlite://:memory:"), Ok(SqliteLocation::Memory));
        assert_eq!(location("sqlite://app.db"), file("app.db"));
        assert_eq!(location("sqlite:app.db"), file("app.db"));
        assert_eq!(location("sqlite:data/app.db"), file("data/app.db"));
        assert_eq!(
            location("sqlite:///var/lib/app.db"),
            file("/var/lib/app.db")
        );
        assert_eq!(location("sqlite://app.db?mode=rwc"), file("app.db"));
        assert_eq!(
            location("sqlite://app.db?cache=shared"),
            Err(SqliteUrlError::Parameter {
                url: "sqlite://app.db?cache=shared".into(),
                parameter: "cache=shared".into()
            })
        );
        assert_eq!(
            location("sqlite:").unwrap_err().to_string(),
            "DATABASE_URL `sqlite:` names no SQLite file; write sqlite://path/to/app.db, \
             sqlite:app.db or sqlite::memory:"
        );
        assert_eq!(
            location("postgres://localhost/app"),
            Err(SqliteUrlError::NotSqlite {
                dialect: Dialect::Postgres
            })
        );
    }
}
