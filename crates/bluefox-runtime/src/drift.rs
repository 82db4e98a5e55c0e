//! The drift check: the live schema (pg_catalog) against the embedded snapshot, table by table
//! and column by column, so a schema changed by hand is reported instead of silently diverging.
//!
//! Only the current schema is read; refinery's and bluefox's history tables (and the schema
//! watch's state table) are left out. Types
//! are compared in bluefox's canonical spelling (`BIGINT`, `VARCHAR(80)`, `TEXT[]`).

use crate::error::Error;
use crate::history::{DOWN_TABLE, HISTORY_TABLE};
use crate::schema_watch::STATE_TABLE;
use bluefox_core::embedded::{EmbeddedTable, Tables};
use std::collections::BTreeMap;
use std::fmt;
use tokio_postgres::{Client, SimpleQueryMessage};

/// One difference between the live schema and the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A snapshot table the database lacks.
    MissingTable {
        /// The table.
        table: String,
    },
    /// A table in the database the snapshot does not have.
    ExtraTable {
        /// The table.
        table: String,
    },
    /// A snapshot column the database lacks.
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column in the database the snapshot does not have.
    ExtraColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column whose type differs.
    TypeMismatch {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The snapshot's type.
        expected: String,
        /// The database's type, canonical.
        actual: String,
    },
    /// A column whose nullability differs.
    NullabilityMismatch {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the snapshot allows NULL.
        expected_nullable: bool,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = |n: bool| if n { "NULL" } else { "NOT NULL" };
        match self {
            Drift::MissingTable { table } => write!(f, "table {table} is in the models' snapshot but not in the database"),
            Drift::ExtraTable { table } => write!(f, "table {table} is in the database but not in the models' snapshot"),
            Drift::MissingColumn { table, column } => write!(f, "column {table}.{column} is in the models' snapshot but not in the database"),
            Drift::ExtraColumn { table, column } => write!(f, "column {table}.{column} is in the database but not in the models' snapshot"),
            Drift::TypeMismatch { table, column, expected, actual } => write!(f, "column {table}.{column} is {actual} in the database but {expected} in the models' snapshot"),
            Drift::NullabilityMismatch { table, column, expected_nullable } => write!(f, "column {table}.{column} is {} in the database but {} in the models' snapshot", null(!expected_nullable), null(*expected_nullable)),
        }
    }
}

/// Every difference found, in table then column order; empty when the schema matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    /// The differences.
    pub findings: Vec<Drift>,
}

impl DriftReport {
    /// Whether the live schema matches the snapshot.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Logs each finding as a warning (what boot does).
    pub fn warn(&self) {
        for finding in &self.findings {
            tracing::warn!(
                "schema drift: {finding}. Capture the change with bluefox make, or undo it"
            );
        }
    }
}

/// A live column: its canonical type and nullability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    /// The column's name.
    pub name: String,
    /// Its canonical type.
    pub sql_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
}

/// Reads the live tables of the current schema (without the history tables), one round trip.
/// The rows are taken as they arrive rather than gathered first: a schema of 1000 tables is
/// thousands of rows, and holding them all beside the map put the heap peak of a run applying
/// 1000 table migrations at 0.84 MB instead of 0.58 MB (massif).
///
/// # Errors
/// [`Error::Database`] when the catalog query fails.
pub async fn live_schema(client: &Client) -> Result<BTreeMap<String, Vec<LiveColumn>>, Error> {
    use futures_util::StreamExt;
    let query = format!(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         AND c.relname NOT IN ('{HISTORY_TABLE}', '{DOWN_TABLE}', '{STATE_TABLE}') \
         ORDER BY c.relname, a.attnum"
    );
    let failed =
        |e: tokio_postgres::Error| Error::db("read the live schema for the drift check", &e);
    let mut messages = std::pin::pin!(client.simple_query_raw(&query).await.map_err(failed)?);
    let mut tables: BTreeMap<String, Vec<LiveColumn>> = BTreeMap::new();
    while let Some(message) = messages.next().await {
        if let SimpleQueryMessage::Row(row) = message.map_err(failed)? {
            let Some(table) = row.get(0) else { continue };
            // A table's name is copied once, not for each of its columns.
            if !tables.contains_key(table) {
                tables.insert(table.to_string(), Vec::new());
            }
            let Some(columns) = tables.get_mut(table) else {
                continue;
            };
            if let (Some(name), Some(ty)) = (row.get(1), row.get(2)) {
                columns.push(LiveColumn {
                    name: name.to_string(),
                    sql_type: canonical_type(ty),
                    nullable: row.get(3) != Some("t"),
                });
            }
        }
    }
    Ok(tables)
}

/// Reads the live schema and compares it with the snapshot; skipped (clean) when the snapshot
/// has no tables.
///
/// # Errors
/// [`Error::Database`] when the catalog query fails.
pub async fn check(client: &Client, snapshot: Tables) -> Result<DriftReport, Error> {
    if snapshot.is_empty() {
        return Ok(DriftReport::default());
    }
    Ok(compare(snapshot, &live_schema(client).await?))
}

/// Compares the snapshot's tables with the live ones.
pub fn compare(snapshot: Tables, live: &BTreeMap<String, Vec<LiveColumn>>) -> DriftReport {
    let mut findings = Vec::new();
    let expected: BTreeMap<&str, EmbeddedTable> = snapshot.iter().map(|t| (t.name, t)).collect();
    let names: std::collections::BTreeSet<&str> = expected
        .keys()
        .copied()
        .chain(live.keys().map(String::as_str))
        .collect();
    for name in names {
        let table = name.to_string();
        let (want, have) = match (expected.get(name), live.get(name)) {
            (Some(want), Some(have)) => (want, have),
            (Some(_), None) => {
                findings.push(Drift::MissingTable { table });
                continue;
            }
            (None, _) => {
                findings.push(Drift::ExtraTable { table });
                continue;
            }
        };
        for column in want.columns.iter() {
            let Some(live_column) = have.iter().find(|c| c.name == column.name) else {
                findings.push(Drift::MissingColumn {
                    table: table.clone(),
                    column: column.name.to_string(),
                });
                continue;
            };
            let expected_type = canonical_type(column.sql_type);
            if expected_type != live_column.sql_type {
                findings.push(Drift::TypeMismatch {
                    table: table.clone(),
                    column: column.name.to_string(),
                    expected: expected_type,
                    actual: live_column.sql_type.clone(),
                });
            }
            if column.nullable != live_column.nullable {
                findings.push(Drift::NullabilityMismatch {
                    table: table.clone(),
                    column: column.name.to_string(),
                    expected_nullable: column.nullable,
                });
            }
        }
        for live_column in have {
            if !want.columns.iter().any(|c| c.name == live_column.name) {
                findings.push(Drift::ExtraColumn {
                    table: table.clone(),
                    column: live_column.name.clone(),
                });
            }
        }
    }
    DriftReport { findings }
}

/// Spells a type the way bluefox's snapshot does: `format_type` output (`character varying(80)`,
/// `timestamp with time zone`, `integer[]`) and common aliases (`int8`, `varchar(80)`) become
/// `VARCHAR(80)`, `TIMESTAMPTZ`, `INTEGER[]`, `BIGINT`.
pub fn canonical_type(text: &str) -> String {
    let trimmed = text.trim();
    if let Some(element) = trimmed.strip_suffix("[]") {
        return format!("{}[]", canonical_type(element));
    }
    let lower = trimmed.to_ascii_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let (base, args) = match lower.find('(') {
        Some(i) => (lower[..i].trim_end(), lower[i..].replace(' ', "")),
        None => (lower.as_str(), String::new()),
    };
    let name = match base {
        "bigint" | "int8" | "bigserial" | "serial8" => "BIGINT",
        "integer" | "int" | "int4" | "serial" | "serial4" => "INTEGER",
        "smallint" | "int2" | "smallserial" | "serial2" => "SMALLINT",
        "text" => "TEXT",
        "character varying" | "varchar" => "VARCHAR",
        "character" | "char" | "bpchar" => "CHAR",
        "boolean" | "bool" => "BOOLEAN",
        "double precision" | "float8" => "DOUBLE PRECISION",
        "real" | "float4" => "REAL",
        "timestamp with time zone" | "timestamptz" => "TIMESTAMPTZ",
        "timestamp without time zone" | "timestamp" => "TIMESTAMP",
        "date" => "DATE",
        "uuid" => "UUID",
        "jsonb" => "JSONB",
        "json" => "JSON",
        "bytea" => "BYTEA",
        "numeric" | "decimal" => "NUMERIC",
        _ => return trimmed.to_ascii_uppercase(),
    };
    format!("{name}{args}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluefox_core::embedded::EmbeddedColumn;

    #[test]
    fn canonical_names() {
        let cases = [
            ("bigint", "BIGINT"),
            ("integer", "INTEGER"),
            ("character varying(80)", "VARCHAR(80)"),
            ("VARCHAR(80)", "VARCHAR(80)"),
            ("timestamp with time zone", "TIMESTAMPTZ"),
            ("timestamp without time zone", "TIMESTAMP"),
            ("numeric(10,2)", "NUMERIC(10,2)"),
            ("NUMERIC(10, 2)", "NUMERIC(10,2)"),
            ("double precision", "DOUBLE PRECISION"),
            ("text[]", "TEXT[]"),
            ("character varying(3)[]", "VARCHAR(3)[]"),
            ("jsonb", "JSONB"),
            ("tsvector", "TSVECTOR"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_type(input), want, "{input}");
        }
    }

    static USERS: &[EmbeddedColumn] = &[
        EmbeddedColumn {
            name: "id",
            sql_type: "BIGINT",
            nullable: false,
        },
        EmbeddedColumn {
            name: "email",
            sql_type: "TEXT",
            nullable: false,
        },
        EmbeddedColumn {
            name: "bio",
            sql_type: "TEXT",
            nullable: true,
        },
    ];
    fn tables() -> Tables {
        bluefox_core::embedded::pack::leak_tables([("posts", &[][..]), ("users", USERS)]).unwrap()
    }

    fn col(name: &str, ty: &str, nullable: bool) -> LiveColumn {
        LiveColumn {
            name: name.into(),
            sql_type: ty.into(),
            nullable,
        }
    }

    #[test]
    fn reports_by_table_and_column() {
        let mut live = BTreeMap::new();
        live.insert(
            "users".to_string(),
            vec![
                col("id", "INTEGER", false),
                col("email", "TEXT", true),
                col("age", "INTEGER", true),
            ],
        );
        live.insert("audit".to_string(), vec![]);
        let report = compare(tables(), &live);
        let text: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "table audit is in the database but not in the models' snapshot",
                "table posts is in the models' snapshot but not in the database",
                "column users.id is INTEGER in the database but BIGINT in the models' snapshot",
                "column users.email is NULL in the database but NOT NULL in the models' snapshot",
                "column users.bio is in the models' snapshot but not in the database",
                "column users.age is in the database but not in the models' snapshot",
            ]
        );
    }
}
