//! The history tables on SQLite: refinery's `refinery_schema_history` and bluefox's
//! `bluefox_down_sql`, read as text so a corrupt row is a typed error (as on PostgreSQL), and the
//! way a SQLite error becomes a bluefox [`Error`].

use crate::error::{Direction, Error};
use crate::history::{parse_row, AppliedRow, DOWN_TABLE, HISTORY_TABLE};
use crate::offline::{down_table_ddl, history_table_ddl};
use rusqlite::types::Value;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// A failed query of bluefox's own, as [`Error::Database`].
pub(crate) fn db_error(action: &'static str, error: &rusqlite::Error) -> Error {
    Error::Database {
        action,
        reason: describe(error),
    }
}

/// `SQLITE_<CODE> (<extended code>): <message>`, or the driver's own text.
pub(crate) fn describe(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(e, message) => format!(
            "{} ({}): {}",
            code_name(e.extended_code),
            e.extended_code,
            message.clone().unwrap_or_else(|| e.to_string())
        ),
        other => other.to_string(),
    }
}

/// The name of SQLite's primary result code (the low byte of the extended one).
pub(crate) fn code_name(extended: i32) -> String {
    let name = match extended & 0xff {
        1 => "SQLITE_ERROR",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        8 => "SQLITE_READONLY",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        23 => "SQLITE_AUTH",
        other => return format!("SQLITE_{other}"),
    };
    name.to_string()
}

/// A migration's SQL failed: [`Error::MigrationFailed`] with SQLite's result code in place of
/// the SQLSTATE.
pub(crate) fn migration_failed(
    direction: Direction,
    version: i64,
    file: &str,
    error: &rusqlite::Error,
) -> Error {
    let (sqlstate, message) = match error {
        rusqlite::Error::SqliteFailure(e, message) => (
            code_name(e.extended_code),
            message.clone().unwrap_or_else(|| e.to_string()),
        ),
        other => ("?????".to_string(), other.to_string()),
    };
    Error::MigrationFailed {
        direction,
        version,
        file: file.to_string(),
        sqlstate,
        message,
        detail: None,
        statement: None,
    }
}

/// Whether a table exists in the main schema.
fn table_exists(conn: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// A cell as refinery would read it: text, or `None` for NULL.
fn text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(r) => Some(r.to_string()),
        Value::Text(t) => Some(t),
        Value::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Reads `refinery_schema_history`, ascending; a missing table is an empty history.
///
/// # Errors
/// [`Error::HistoryCorrupt`] for a row refinery could not read, [`Error::Database`] when the
/// query fails.
pub fn read_history(conn: &Connection) -> Result<Vec<AppliedRow>, Error> {
    const ACTION: &str = "read the migration history";
    if !table_exists(conn, HISTORY_TABLE).map_err(|e| db_error(ACTION, &e))? {
        return Ok(Vec::new());
    }
    let query = format!("SELECT version, name, applied_on, checksum FROM {HISTORY_TABLE}");
    let mut stmt = conn.prepare(&query).map_err(|e| db_error(ACTION, &e))?;
    let raw = stmt
        .query_map([], |row| {
            Ok([row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?].map(text))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| db_error(ACTION, &e))?;
    let mut rows = raw
        .iter()
        .map(|[v, n, a, c]| parse_row(v.as_deref(), n.as_deref(), a.as_deref(), c.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    rows.sort_by_key(|r| r.version);
    Ok(rows)
}

/// The down SQL stored in `bluefox_down_sql`, by version (`None` inside: irreversible).
///
/// # Errors
/// [`Error::Database`] when the query fails; a missing table is an empty map.
pub fn read_down(conn: &Connection) -> Result<BTreeMap<i64, Option<String>>, Error> {
    const ACTION: &str = "read the stored down SQL";
    if !table_exists(conn, DOWN_TABLE).map_err(|e| db_error(ACTION, &e))? {
        return Ok(BTreeMap::new());
    }
    let query = format!("SELECT \"version\", \"down\" FROM \"{DOWN_TABLE}\"");
    let mut stmt = conn.prepare(&query).map_err(|e| db_error(ACTION, &e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, Value>(0)?, row.get::<_, Value>(1)?))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| db_error(ACTION, &e))?;
    Ok(rows
        .into_iter()
        .filter_map(|(v, d)| Some((text(v)?.parse().ok()?, text(d))))
        .collect())
}

/// Creates both history tables when missing (refinery's DDL, which SQLite accepts as is).
///
/// # Errors
/// [`Error::Database`] when the statements fail.
pub fn ensure_tables(conn: &Connection) -> Result<(), Error> {
    let ddl = format!("{}\n{}", history_table_ddl(), down_table_ddl());
    conn.execute_batch(&ddl)
        .map_err(|e| db_error("create the migration history tables", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_as_text_and_refuses_corrupt_ones() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(read_history(&conn).unwrap().is_empty());
        assert!(read_down(&conn).unwrap().is_empty());
        ensure_tables(&conn).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO {HISTORY_TABLE} VALUES (2, 'b', '2026-11-30T05:27:00Z', '7');
             INSERT INTO {HISTORY_TABLE} VALUES (1, 'a', '2026-11-30T05:26:00Z', '18446744073709551615');
             INSERT INTO \"{DOWN_TABLE}\" VALUES (1, 'a', 'DROP TABLE x;'), (2, 'b', NULL);"
        ))
        .unwrap();
        let rows = read_history(&conn).unwrap();
        let shape: Vec<(i64, &str, u64)> = rows
            .iter()
            .map(|r| (r.version, r.name.as_str(), r.checksum))
            .collect();
        assert_eq!(shape, [(1, "a", u64::MAX), (2, "b", 7)]);
        let down = read_down(&conn).unwrap();
        assert_eq!(down.get(&1), Some(&Some("DROP TABLE x;".to_string())));
        assert_eq!(down.get(&2), Some(&None));
        conn.execute_batch(&format!(
            "INSERT INTO {HISTORY_TABLE} VALUES (3, 'c', 'yesterday', '1')"
        ))
        .unwrap();
        assert!(matches!(
            read_history(&conn),
            Err(Error::HistoryCorrupt {
                column: "applied_on",
                ..
            })
        ));
    }

    #[test]
    fn errors_name_the_sqlite_code() {
        let conn = Connection::open_in_memory().unwrap();
        let e = conn.execute_batch("SELECT * FROM nope").unwrap_err();
        assert_eq!(describe(&e), "SQLITE_ERROR (1): no such table: nope");
        let failed = migration_failed(Direction::Up, 3, "V3__x.sql", &e);
        assert!(failed.to_string().starts_with(
            "applying migration 3 (V3__x.sql) failed with SQLSTATE SQLITE_ERROR: no such table: nope."
        ), "{failed}");
    }
}
