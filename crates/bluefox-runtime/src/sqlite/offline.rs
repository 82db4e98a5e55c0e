//! Offline SQL for SQLite (`bluefox upgrade head --sql` with a `sqlite:` DATABASE_URL): the
//! history tables, then each migration as one `BEGIN IMMEDIATE; ... COMMIT;` with refinery's
//! history row and bluefox's down row, so booting after applying the script applies nothing.
//!
//! The script starts with `PRAGMA foreign_keys = OFF;` (table rebuilds need it, and it cannot
//! be set inside a transaction); apply it with `sqlite3 -bail app.db < script.sql` so that the
//! first failing statement stops it.

use crate::error::Error;
use crate::history::HISTORY_TABLE;
use crate::offline::{
    down_insert, down_table_ddl, downgrade_steps, forget, history_table_ddl, upgrade_steps,
};
use crate::target::Target;
use bluefox_core::embedded::Embedded;
use bluefox_core::schema::quote_literal;
use std::fmt::Write;

/// SQLite's current UTC time in RFC 3339 (what refinery stores in `applied_on`).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// The script of an upgrade from `from` (the newest applied version; `None` for an empty
/// database) to `to`, assuming the database holds exactly the embedded migrations up to `from`.
///
/// # Errors
/// A `from` the binary does not contain, or a target that does not resolve.
pub fn upgrade_sql(embedded: &Embedded, from: Option<i64>, to: Target) -> Result<String, Error> {
    let steps = upgrade_steps(embedded, from, to)?;
    let mut out = header("upgrade", from, to, steps.len());
    let _ = writeln!(out, "{}\n{}\n", history_table_ddl(), down_table_ddl());
    for m in steps {
        let history = format!(
            "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) VALUES ({}, {}, {NOW}, {});",
            m.version,
            quote_literal(m.name),
            quote_literal(&m.checksum.to_string()),
        );
        let _ = writeln!(
            out,
            "-- {} ({})\nBEGIN IMMEDIATE;\n{}\n;\n{history}\n{}\nCOMMIT;\n",
            m.version,
            m.file,
            m.up,
            down_insert(&m)
        );
    }
    Ok(out)
}

/// The script of a downgrade from `from` (the newest applied version) to `to`.
///
/// # Errors
/// A `from` the binary does not contain, a target that does not resolve, or a migration on the
/// way with no down section ([`Error::Irreversible`]).
pub fn downgrade_sql(embedded: &Embedded, from: i64, to: Target) -> Result<String, Error> {
    let steps = downgrade_steps(embedded, from, to)?;
    let mut out = header("downgrade", Some(from), to, steps.len());
    for (m, down) in steps {
        let _ = writeln!(
            out,
            "-- {} ({})\nBEGIN IMMEDIATE;\n{down}\n;\n{}\nCOMMIT;\n",
            m.version,
            m.file,
            forget(m.version)
        );
    }
    Ok(out)
}

fn header(verb: &str, from: Option<i64>, to: Target, count: usize) -> String {
    let from = from.map_or_else(|| "base".to_string(), |v| v.to_string());
    format!(
        "-- bluefox {verb} from {from} to {to}: {count} migration(s), one transaction each (SQLite).\n-- Apply with: sqlite3 -bail <database file> < <this file>\nPRAGMA foreign_keys = OFF;\n\n"
    )
}
