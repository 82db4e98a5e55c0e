//! The drift check on SQLite: `pragma_table_info` of every table against the snapshot.
//!
//! The snapshot keeps PostgreSQL's type names; SQLite declares the mapped ones
//! (`bluefox_core::dialect::sqlite_type`). A live column whose declared type is the mapping of
//! the snapshot's type is reported under the snapshot's name, so the shared
//! [`Comparison`](crate::drift::Comparison) finds only real differences. The rowid alias
//! (`INTEGER PRIMARY KEY`) cannot hold NULL, so a primary key column counts as NOT NULL.

use super::store::db_error;
use crate::drift::{canonical_type, Comparison, DriftReport, LiveColumn, TableIndex, TableRows};
use crate::error::Error;
use crate::history::{DOWN_TABLE, HISTORY_TABLE};
use bluefox_core::dialect::sqlite_type;
use bluefox_core::embedded::{EmbeddedTable, Tables};
use rusqlite::Connection;
use std::collections::BTreeMap;

const ACTION: &str = "read the live schema for the drift check";

/// Reads the live tables (not SQLite's own, not the history tables), with each column's
/// declared type as the snapshot would spell it when they agree.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub fn live_schema(
    conn: &Connection,
    snapshot: Tables,
) -> Result<BTreeMap<String, Vec<LiveColumn>>, Error> {
    let index = TableIndex::new(snapshot);
    let mut tables = BTreeMap::new();
    read_live(conn, |name, columns| {
        respell(index.find(name).map(|(_, t)| t), columns);
        tables.insert(name.to_string(), columns.to_vec());
    })?;
    Ok(tables)
}

/// Compares the live schema with the snapshot, table by table as the rows are read; clean when
/// the snapshot has no tables.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub fn check(conn: &Connection, snapshot: Tables) -> Result<DriftReport, Error> {
    if snapshot.is_empty() {
        return Ok(DriftReport::default());
    }
    let mut comparison = Comparison::new(snapshot);
    read_live(conn, |name, columns| {
        respell(comparison.snapshot_table(name), columns);
        comparison.table(name, columns);
    })?;
    Ok(comparison.finish())
}

/// Reads the live tables, ordered by name, and hands each to `each` with all its columns (their
/// declared types canonical), holding only the current table's columns.
fn read_live(
    conn: &Connection,
    mut each: impl FnMut(&str, &mut [LiveColumn]),
) -> Result<(), Error> {
    let query = format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND m.name NOT IN ('{HISTORY_TABLE}', '{DOWN_TABLE}') \
         ORDER BY m.name, p.cid"
    );
    let failed = |e: rusqlite::Error| db_error(ACTION, &e);
    let mut stmt = conn.prepare(&query).map_err(failed)?;
    let mut rows = stmt.query([]).map_err(failed)?;
    let mut tables = TableRows::default();
    while let Some(row) = rows.next().map_err(failed)? {
        let name: String = row.get(0).map_err(failed)?;
        let not_null = row.get::<_, i64>(3).map_err(failed)? != 0
            || row.get::<_, i64>(4).map_err(failed)? != 0;
        let column = LiveColumn {
            name: row.get(1).map_err(failed)?,
            sql_type: canonical_type(&row.get::<_, String>(2).map_err(failed)?),
            nullable: !not_null,
        };
        tables.push(&name, Some(column), &mut each);
    }
    tables.finish(&mut each);
    Ok(())
}

/// Spells each live column's type as the snapshot table `expected` does when SQLite maps the
/// two to the same declared type.
fn respell(expected: Option<EmbeddedTable>, columns: &mut [LiveColumn]) {
    let Some(expected) = expected else { return };
    for column in columns {
        let want = expected.columns.iter().find(|c| c.name == column.name);
        if let Some(want) =
            want.filter(|c| sqlite_type(c.sql_type) == sqlite_type(&column.sql_type))
        {
            column.sql_type = canonical_type(want.sql_type);
        }
    }
}
