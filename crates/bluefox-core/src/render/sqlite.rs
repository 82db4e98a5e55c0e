//! SQLite DDL for a list of [`Change`]s, in both directions.
//!
//! SQLite's `ALTER TABLE` can rename a table, rename a column and add a simple column (nullable,
//! or with a literal default); indexes are created and dropped on their own. Everything else
//! (dropping a column, changing its type, nullability, default or identity, the primary key,
//! unique constraints, foreign keys) rebuilds the table the way SQLite documents it: create the
//! new table under a temporary name, copy the rows of the columns both versions share, drop the
//! old table, rename the new one, and recreate its indexes. Foreign keys are written inside
//! `CREATE TABLE` (SQLite cannot add them later), so they are preserved by the rebuild, and
//! other tables' foreign keys that reference the rebuilt table still name it and so point at
//! the new one.
//!
//! The rebuild needs `PRAGMA foreign_keys = OFF` while it runs: with foreign keys on, dropping
//! the old table would delete (or cascade through) the rows that reference it. That pragma is
//! a no-op inside a transaction, so the migration cannot set it: bluefox's SQLite runner turns
//! it off before it opens a migration's transaction, runs `PRAGMA foreign_key_check` before
//! committing (a violation fails the migration), and turns it back on afterwards; the offline
//! script starts with the pragma. Views and triggers on a rebuilt table are not recreated.
//!
//! Statements come in phases, as for PostgreSQL: dropped indexes, dropped tables, table and
//! column renames, new tables, added columns, rebuilds (by table name), then new indexes. The
//! phases need the whole schemas: `changes` must be `diff(old, new)`.

use super::{column_list, create_index, foreign_key_clause, unique_clause};
use crate::dialect::{is_boolean, sqlite_type};
use crate::diff::{invert, Change};
use crate::schema::{quote_ident, Column, ColumnDefault, Schema, Table};
use std::collections::{BTreeMap, BTreeSet};

/// The prefix of the temporary name a table is rebuilt under.
pub const REBUILD_PREFIX: &str = "_bluefox_rebuild_";

/// The statements that lead from `old` to `new` (`changes` is `diff(old, new)`), each ending
/// with `;`.
pub fn up_sql(old: &Schema, new: &Schema, changes: &[Change]) -> Vec<String> {
    render(old, new, changes)
}

/// The statements that undo [`up_sql`]: from `new` back to `old`.
pub fn down_sql(old: &Schema, new: &Schema, changes: &[Change]) -> Vec<String> {
    render(new, old, &invert(changes))
}

/// `CREATE TABLE` (columns, primary key, unique constraints and foreign keys inline), then its
/// indexes.
pub fn create_table_sql(table: &Table) -> Vec<String> {
    let mut out = vec![create_table(table, &table.name)];
    out.extend(table.indexes.iter().map(|i| create_index(&table.name, i)));
    out
}

/// The SQL for a column default in SQLite: literals escaped, booleans as `1`/`0`, PostgreSQL's
/// clock functions (`now()`, `current_timestamp`) as `CURRENT_TIMESTAMP`, and any other
/// expression in parentheses, as SQLite requires.
pub fn default_sql(default: &ColumnDefault) -> String {
    match default {
        ColumnDefault::String(_) | ColumnDefault::Number(_) => super::default_sql(default),
        ColumnDefault::Bool(b) => u8::from(*b).to_string(),
        ColumnDefault::Expression(e) => {
            let folded = e.trim().to_ascii_lowercase().replace(' ', "");
            match folded.as_str() {
                "now()"
                | "current_timestamp"
                | "current_timestamp()"
                | "localtimestamp"
                | "transaction_timestamp()"
                | "statement_timestamp()"
                | "clock_timestamp()" => "CURRENT_TIMESTAMP".to_string(),
                "current_date" => "CURRENT_DATE".to_string(),
                "current_time" => "CURRENT_TIME".to_string(),
                _ => format!("({})", e.trim()),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Phase {
    DropIndexes,
    DropTables,
    RenameTables,
    RenameColumns,
    CreateTables,
    AddColumns,
    Rebuilds,
    CreateIndexes,
}

const PHASES: usize = Phase::CreateIndexes as usize + 1;

fn render(old: &Schema, new: &Schema, changes: &[Change]) -> Vec<String> {
    use Phase::*;
    let rebuilt: BTreeSet<&str> = changes
        .iter()
        .filter(|c| !alters_in_place(c))
        .map(Change::table)
        .collect();
    let mut phases: Vec<Vec<String>> = vec![Vec::new(); PHASES];
    let mut push = |phase: Phase, sql: String| phases[phase as usize].push(sql);
    for change in changes {
        let in_rebuild = rebuilt.contains(change.table());
        match change {
            Change::TableAdded(t) => {
                push(CreateTables, create_table(t, &t.name));
                for index in &t.indexes {
                    push(CreateIndexes, create_index(&t.name, index));
                }
            }
            Change::TableDropped(t) => {
                push(DropTables, format!("DROP TABLE {};", quote_ident(&t.name)))
            }
            Change::TableRenamed { from, to, .. } => push(
                RenameTables,
                format!(
                    "ALTER TABLE {} RENAME TO {};",
                    quote_ident(from),
                    quote_ident(to)
                ),
            ),
            Change::ColumnRenamed { table, from, to } => push(
                RenameColumns,
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    quote_ident(table),
                    quote_ident(from),
                    quote_ident(to)
                ),
            ),
            Change::ColumnAdded { table, column } if !in_rebuild => push(
                AddColumns,
                format!(
                    "ALTER TABLE {} ADD COLUMN {};",
                    quote_ident(table),
                    column_def(column, false)
                ),
            ),
            Change::IndexAdded { table, index } if !in_rebuild => {
                push(CreateIndexes, create_index(table, index))
            }
            Change::IndexDropped { index, .. } if !in_rebuild => push(
                DropIndexes,
                format!("DROP INDEX {};", quote_ident(&index.name)),
            ),
            _ => {}
        }
    }
    for table in &rebuilt {
        let Some(target) = new.tables.get(*table) else {
            continue;
        };
        let before = columns_before_rebuild(old, changes, table);
        let (rebuild, indexes) = rebuild_table(target, &before);
        for sql in rebuild {
            push(Rebuilds, sql);
        }
        for sql in indexes {
            push(CreateIndexes, sql);
        }
    }
    phases.into_iter().flatten().collect()
}

/// Whether SQLite can apply this change without rebuilding its table.
fn alters_in_place(change: &Change) -> bool {
    match change {
        Change::TableAdded(_)
        | Change::TableDropped(_)
        | Change::TableRenamed { .. }
        | Change::ColumnRenamed { .. }
        | Change::IndexAdded { .. }
        | Change::IndexDropped { .. } => true,
        // SQLite's ADD COLUMN refuses NOT NULL without a default and non-constant defaults.
        Change::ColumnAdded { column, .. } => {
            !column.identity
                && !matches!(column.default, Some(ColumnDefault::Expression(_)))
                && (column.nullable || column.default.is_some())
        }
        _ => false,
    }
}

/// The column names `table` (its new name) has when its rebuild starts: the old table's, after
/// the renames of the earlier phases. Added columns are not there yet: the rebuild adds them.
fn columns_before_rebuild(old: &Schema, changes: &[Change], table: &str) -> BTreeSet<String> {
    let old_name = changes
        .iter()
        .find_map(|c| match c {
            Change::TableRenamed { from, to, .. } if to == table => Some(from.as_str()),
            _ => None,
        })
        .unwrap_or(table);
    let renamed: BTreeMap<&str, &str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::ColumnRenamed {
                table: t, from, to, ..
            } if t == table => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    old.tables
        .get(old_name)
        .map(|t| {
            t.columns
                .iter()
                .map(|c| {
                    renamed
                        .get(c.name.as_str())
                        .unwrap_or(&c.name.as_str())
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The rebuild of `target` from a table holding the columns `before`, and its indexes.
fn rebuild_table(target: &Table, before: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let name = quote_ident(&target.name);
    let temp_name = format!("{REBUILD_PREFIX}{}", target.name);
    let temp = quote_ident(&temp_name);
    let create = format!(
        "-- SQLite cannot alter {name} in place: rebuild it (new table, copy rows, drop, rename).\n{}",
        create_table(target, &temp_name)
    );
    let mut out = vec![create];
    let shared: Vec<String> = target
        .columns
        .iter()
        .filter(|c| before.contains(&c.name))
        .map(|c| quote_ident(&c.name))
        .collect();
    if !shared.is_empty() {
        let list = shared.join(", ");
        out.push(format!(
            "INSERT INTO {temp} ({list}) SELECT {list} FROM {name};"
        ));
    }
    out.push(format!("DROP TABLE {name};"));
    out.push(format!("ALTER TABLE {temp} RENAME TO {name};"));
    let indexes = target
        .indexes
        .iter()
        .map(|i| create_index(&target.name, i))
        .collect();
    (out, indexes)
}

/// The column that is SQLite's rowid alias: the one identity column of a one-column primary key.
fn rowid_alias(table: &Table) -> Option<&str> {
    match table.primary_key.as_slice() {
        [key] => table
            .column(key)
            .filter(|c| c.identity && sqlite_type(&c.sql_type) == "INTEGER")
            .map(|c| c.name.as_str()),
        _ => None,
    }
}

/// `CREATE TABLE` named `name` with `table`'s columns, primary key, unique constraints and
/// foreign keys, one item a line.
fn create_table(table: &Table, name: &str) -> String {
    let alias = rowid_alias(table);
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_def(c, alias == Some(c.name.as_str())))
        .collect();
    if alias.is_none() && !table.primary_key.is_empty() {
        items.push(format!("PRIMARY KEY ({})", column_list(&table.primary_key)));
    }
    items.extend(table.uniques.iter().map(unique_clause));
    items.extend(table.foreign_keys.iter().map(foreign_key_clause));
    format!(
        "CREATE TABLE {} (\n    {}\n);",
        quote_ident(name),
        items.join(",\n    ")
    )
}

/// A column as `CREATE TABLE` and `ADD COLUMN` write it; `rowid` for the rowid alias.
fn column_def(column: &Column, rowid: bool) -> String {
    let name = quote_ident(&column.name);
    let mut sql = format!("{name} {}", sqlite_type(&column.sql_type));
    if rowid {
        sql.push_str(" PRIMARY KEY");
    } else if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&default_sql(default));
    }
    if is_boolean(&column.sql_type) {
        sql.push_str(&format!(" CHECK ({name} IN (0, 1))"));
    }
    sql
}
