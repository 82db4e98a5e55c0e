//! The drift check on SQLite: `pragma_table_info` of every table against the snapshot.
//!
//! The snapshot keeps PostgreSQL's type names; SQLite declares the mapped ones
//! (`bluefox_core::dialect::sqlite_type`). A live column whose declared type is the mapping of
//! the snapshot's type is reported under the snapshot's name, so [`crate::drift::compare`] finds
//! only real differences. The rowid alias (`INTEGER PRIMARY KEY`) cannot hold NULL, so a primary
//! key column counts as NOT NULL.

use super::store::db_error;
use crate::drift::{canonical_type, compare, DriftReport, LiveColumn};
use crate::error::Error;
use crate::history::{DOWN_TABLE, HISTORY_TABLE};
use bluefox_core::dialect::sqlite_type;
use bluefox_core::embedded::Tables;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Reads the live tables (not SQLite's own, not the history tables), with each column's
/// declared type as the snapshot would spell it when they agree.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub fn live_schema(
    conn: &Connection,
    snapshot: Tables,
) -> Result<BTreeMap<String, Vec<LiveColumn>>, Error> {
    const ACTION: &str = "read the live schema for the drift check";
    let query = format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND m.name NOT IN ('{HISTORY_TABLE}', '{DOWN_TABLE}') \
         ORDER BY m.name, p.cid"
    );
    let mut stmt = conn.prepare(&query).map_err(|e| db_error(ACTION, &e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)? != 0 || row.get::<_, i64>(4)? != 0,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| db_error(ACTION, &e))?;
    let mut tables: BTreeMap<String, Vec<LiveColumn>> = BTreeMap::new();
    for (table, name, declared, not_null) in rows {
        let expected = snapshot
            .iter()
            .find(|t| t.name == table)
            .and_then(|t| t.columns.iter().find(|c| c.name == name));
        let declared = canonical_type(&declared);
        let sql_type = match expected {
            Some(c) if sqlite_type(c.sql_type) == sqlite_type(&declared) => {
                canonical_type(c.sql_type)
            }
            _ => declared,
        };
        tables.entry(table).or_default().push(LiveColumn {
            name,
            sql_type,
            nullable: !not_null,
        });
    }
    Ok(tables)
}

/// Compares the live schema with the snapshot; clean when the snapshot has no tables.
///
/// # Errors
/// [`Error::Database`] when the query fails.
pub fn check(conn: &Connection, snapshot: Tables) -> Result<DriftReport, Error> {
    if snapshot.is_empty() {
        return Ok(DriftReport::default());
    }
    Ok(compare(snapshot, &live_schema(conn, snapshot)?))
}
