//! PostgreSQL DDL for a list of [`Change`]s, in both directions (SQLite's is in [`sqlite`]; both
//! are reached through [`crate::dialect::Dialect`]).
//!
//! [`up_sql`] renders the changes; [`down_sql`] renders [`crate::diff::invert`] of them, so down
//! undoes up. Statements are grouped in phases so the script is valid whatever order the tables
//! come in: foreign keys, constraints and indexes that go away are dropped first, then columns and
//! tables; renames follow; then new tables (columns, primary key and unique constraints inline),
//! new columns, column alterations, new keys, and last the foreign keys and indexes, once every
//! table and key they point at exists.
//!
//! Every identifier goes through [`quote_ident`] and every string default through
//! [`quote_literal`]. A primary key is the constraint `<table>_pkey` (PostgreSQL's own naming,
//! written explicitly), renamed along with its table.

pub mod sqlite;
#[cfg(test)]
mod sqlite_tests;

use crate::diff::{invert, Change};
use crate::schema::{
    quote_ident, quote_literal, Column, ColumnDefault, FkAction, ForeignKey, Index, Table,
    UniqueConstraint, MAX_IDENTIFIER_BYTES,
};
use std::collections::BTreeMap;

/// The statements that apply `changes`, each ending with `;`.
///
/// ```
/// use bluefox_core::diff::Change;
/// use bluefox_core::render::{down_sql, up_sql};
/// use bluefox_core::schema::Column;
///
/// let nickname = Column {
///     name: "nickname".into(),
///     sql_type: "TEXT".into(),
///     nullable: true,
///     default: None,
///     identity: false,
///     renamed_from: None,
/// };
/// let changes = [Change::ColumnAdded { table: "user".into(), column: nickname }];
/// assert_eq!(up_sql(&changes), [r#"ALTER TABLE "user" ADD COLUMN "nickname" TEXT;"#]);
/// assert_eq!(down_sql(&changes), [r#"ALTER TABLE "user" DROP COLUMN "nickname";"#]);
/// ```
pub fn up_sql(changes: &[Change]) -> Vec<String> {
    render(changes)
}

/// The statements that undo `changes` (what [`up_sql`] did), each ending with `;`.
pub fn down_sql(changes: &[Change]) -> Vec<String> {
    render(&invert(changes))
}

/// The statements that create `table` from nothing: `CREATE TABLE` with its columns, primary key
/// and unique constraints, then its foreign keys, then its indexes. The tables its foreign keys
/// reference must exist first.
pub fn create_table_sql(table: &Table) -> Vec<String> {
    let mut out = vec![create_table(table)];
    out.extend(
        table
            .foreign_keys
            .iter()
            .map(|k| add_foreign_key(&table.name, k)),
    );
    out.extend(table.indexes.iter().map(|i| create_index(&table.name, i)));
    out
}

/// The SQL for a column default: an escaped literal for strings (and for a number that does not
/// read as one), `TRUE`/`FALSE`, a number as written, an expression as written.
pub fn default_sql(default: &ColumnDefault) -> String {
    match default {
        ColumnDefault::String(s) => quote_literal(s),
        ColumnDefault::Number(n) if is_number(n) => n.clone(),
        ColumnDefault::Number(n) => quote_literal(n),
        ColumnDefault::Bool(true) => "TRUE".to_string(),
        ColumnDefault::Bool(false) => "FALSE".to_string(),
        ColumnDefault::Expression(e) => e.clone(),
    }
}

/// The name of a table's primary key constraint: `<table>_pkey`, cut to PostgreSQL's 63 bytes.
pub fn primary_key_name(table: &str) -> String {
    let mut name = format!("{table}_pkey");
    let mut end = MAX_IDENTIFIER_BYTES.min(name.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    name
}

/// Execution phases, in order. Statements of one phase keep the order of their changes.
#[derive(Clone, Copy)]
enum Phase {
    DropForeignKeys,
    DropKeysAndIndexes,
    DropColumns,
    DropTables,
    RenameTables,
    RenameColumns,
    CreateTables,
    AddColumns,
    DropIdentity,
    DropDefaults,
    AlterTypes,
    AlterNullability,
    SetDefaults,
    AddIdentity,
    AddKeys,
    AddForeignKeys,
    CreateIndexes,
}

const PHASES: usize = Phase::CreateIndexes as usize + 1;

fn render(changes: &[Change]) -> Vec<String> {
    // Phases before the renames still see a renamed table under its old name.
    let old_names: BTreeMap<&str, &str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::TableRenamed { from, to, .. } => Some((to.as_str(), from.as_str())),
            _ => None,
        })
        .collect();
    let before_rename = |table: &str| old_names.get(table).copied().unwrap_or(table).to_string();
    let mut phases: Vec<Vec<String>> = vec![Vec::new(); PHASES];
    for change in changes {
        for (phase, sql) in statements(change, &before_rename) {
            phases[phase as usize].push(sql);
        }
    }
    phases.into_iter().flatten().collect()
}

fn statements(change: &Change, before_rename: &dyn Fn(&str) -> String) -> Vec<(Phase, String)> {
    use Phase::*;
    let alter = |table: &str, column: &Column, action: &str| {
        let (t, c) = (quote_ident(table), quote_ident(&column.name));
        format!("ALTER TABLE {t} ALTER COLUMN {c} {action};")
    };
    match change {
        Change::TableAdded(t) => {
            let mut out = vec![(CreateTables, create_table(t))];
            out.extend(
                t.foreign_keys
                    .iter()
                    .map(|k| (AddForeignKeys, add_foreign_key(&t.name, k))),
            );
            out.extend(
                t.indexes
                    .iter()
                    .map(|i| (CreateIndexes, create_index(&t.name, i))),
            );
            out
        }
        Change::TableDropped(t) => {
            let mut out: Vec<_> = t
                .foreign_keys
                .iter()
                .map(|k| (DropForeignKeys, drop_constraint(&t.name, &k.name)))
                .collect();
            out.push((DropTables, format!("DROP TABLE {};", quote_ident(&t.name))));
            out
        }
        Change::TableRenamed {
            from,
            to,
            keeps_primary_key,
        } => {
            let (f, t) = (quote_ident(from), quote_ident(to));
            let mut out = vec![(RenameTables, format!("ALTER TABLE {f} RENAME TO {t};"))];
            if *keeps_primary_key {
                let (old_pk, new_pk) = (
                    quote_ident(&primary_key_name(from)),
                    quote_ident(&primary_key_name(to)),
                );
                let sql = format!("ALTER TABLE {t} RENAME CONSTRAINT {old_pk} TO {new_pk};");
                out.push((RenameTables, sql));
            }
            out
        }
        Change::ColumnAdded { table, column } => {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {};",
                quote_ident(table),
                column_def(column)
            );
            vec![(AddColumns, sql)]
        }
        Change::ColumnDropped { table, column } => {
            let (t, c) = (
                quote_ident(&before_rename(table)),
                quote_ident(&column.name),
            );
            vec![(DropColumns, format!("ALTER TABLE {t} DROP COLUMN {c};"))]
        }
        Change::ColumnRenamed { table, from, to } => {
            let (t, f, n) = (quote_ident(table), quote_ident(from), quote_ident(to));
            vec![(
                RenameColumns,
                format!("ALTER TABLE {t} RENAME COLUMN {f} TO {n};"),
            )]
        }
        Change::ColumnTypeChanged { table, new, .. } => {
            let using = format!(
                "TYPE {} USING {}::{}",
                new.sql_type,
                quote_ident(&new.name),
                new.sql_type
            );
            vec![(AlterTypes, alter(table, new, &using))]
        }
        Change::NullabilityChanged { table, new, .. } => {
            let action = if new.nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            };
            vec![(AlterNullability, alter(table, new, action))]
        }
        Change::DefaultChanged { table, new, .. } => match &new.default {
            Some(d) => vec![(
                SetDefaults,
                alter(table, new, &format!("SET DEFAULT {}", default_sql(d))),
            )],
            None => vec![(DropDefaults, alter(table, new, "DROP DEFAULT"))],
        },
        Change::IdentityChanged { table, old, new } => {
            if new.identity && is_integer(&new.sql_type) {
                let (t, c) = (quote_ident(table), quote_ident(&new.name));
                // Existing rows keep their values: start the new sequence after the largest one.
                let restart = format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(MAX({c}), 0) + 1, false) \
                     FROM {t};",
                    quote_literal(&t),
                    quote_literal(&new.name),
                );
                vec![
                    (
                        AddIdentity,
                        alter(table, new, "ADD GENERATED BY DEFAULT AS IDENTITY"),
                    ),
                    (AddIdentity, restart),
                ]
            } else if old.identity && is_integer(&old.sql_type) {
                vec![(DropIdentity, alter(table, new, "DROP IDENTITY"))]
            } else {
                vec![]
            }
        }
        Change::PrimaryKeyChanged { table, old, new } => {
            let mut out = Vec::new();
            if !old.is_empty() {
                let old_table = before_rename(table);
                let sql = drop_constraint(&old_table, &primary_key_name(&old_table));
                out.push((DropKeysAndIndexes, sql));
            }
            if !new.is_empty() {
                let sql = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({});",
                    quote_ident(table),
                    quote_ident(&primary_key_name(table)),
                    column_list(new)
                );
                out.push((AddKeys, sql));
            }
            out
        }
        Change::IndexAdded { table, index } => vec![(CreateIndexes, create_index(table, index))],
        Change::IndexDropped { index, .. } => {
            vec![(
                DropKeysAndIndexes,
                format!("DROP INDEX {};", quote_ident(&index.name)),
            )]
        }
        Change::UniqueAdded { table, unique } => {
            let sql = format!(
                "ALTER TABLE {} ADD {};",
                quote_ident(table),
                unique_clause(unique)
            );
            vec![(AddKeys, sql)]
        }
        Change::UniqueDropped { table, unique } => {
            vec![(
                DropKeysAndIndexes,
                drop_constraint(&before_rename(table), &unique.name),
            )]
        }
        Change::ForeignKeyAdded { table, foreign_key } => {
            vec![(AddForeignKeys, add_foreign_key(table, foreign_key))]
        }
        Change::ForeignKeyDropped { table, foreign_key } => {
            vec![(
                DropForeignKeys,
                drop_constraint(&before_rename(table), &foreign_key.name),
            )]
        }
    }
}

/// `CREATE TABLE` with columns, primary key and unique constraints, one item a line.
fn create_table(table: &Table) -> String {
    let mut items: Vec<String> = table.columns.iter().map(column_def).collect();
    if !table.primary_key.is_empty() {
        items.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&primary_key_name(&table.name)),
            column_list(&table.primary_key)
        ));
    }
    items.extend(table.uniques.iter().map(unique_clause));
    let name = quote_ident(&table.name);
    if items.is_empty() {
        format!("CREATE TABLE {name} ();")
    } else {
        format!("CREATE TABLE {name} (\n    {}\n);", items.join(",\n    "))
    }
}

/// A column as `CREATE TABLE` and `ADD COLUMN` write it. An identity column is NOT NULL by
/// definition, so NOT NULL is only spelled out for the others.
fn column_def(column: &Column) -> String {
    let mut sql = format!("{} {}", quote_ident(&column.name), column.sql_type);
    if column.identity && is_integer(&column.sql_type) {
        sql.push_str(" GENERATED BY DEFAULT AS IDENTITY");
    } else if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&default_sql(default));
    }
    sql
}

pub(crate) fn unique_clause(unique: &UniqueConstraint) -> String {
    format!(
        "CONSTRAINT {} UNIQUE ({})",
        quote_ident(&unique.name),
        column_list(&unique.columns)
    )
}

fn add_foreign_key(table: &str, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD {};",
        quote_ident(table),
        foreign_key_clause(fk)
    )
}

/// `CONSTRAINT "fk_..." FOREIGN KEY (...) REFERENCES "t" (...) [ON DELETE ...]`: the clause both
/// dialects write (PostgreSQL after `ALTER TABLE ... ADD`, SQLite inside `CREATE TABLE`).
pub(crate) fn foreign_key_clause(fk: &ForeignKey) -> String {
    let mut sql = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}",
        quote_ident(&fk.name),
        column_list(&fk.columns),
        quote_ident(&fk.ref_table)
    );
    if !fk.ref_columns.is_empty() {
        sql.push_str(&format!(" ({})", column_list(&fk.ref_columns)));
    }
    if fk.on_delete != FkAction::NoAction {
        sql.push_str(" ON DELETE ");
        sql.push_str(fk.on_delete.as_sql());
    }
    sql
}

pub(crate) fn create_index(table: &str, index: &Index) -> String {
    format!(
        "CREATE INDEX {} ON {} ({});",
        quote_ident(&index.name),
        quote_ident(table),
        column_list(&index.columns)
    )
}

fn drop_constraint(table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {};",
        quote_ident(table),
        quote_ident(name)
    )
}

pub(crate) fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether PostgreSQL accepts an identity on this type (`smallint`, `integer`, `bigint`).
fn is_integer(sql_type: &str) -> bool {
    matches!(
        &*crate::diff::canonical_type(sql_type),
        "SMALLINT" | "INTEGER" | "BIGINT" | "INT" | "INT2" | "INT4" | "INT8"
    )
}

/// A plain decimal number (`42`, `-1.5`, `1e10`), safe to write unquoted.
pub(crate) fn is_number(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int) || int.is_empty()) && (digits(frac) || frac.is_empty()) && mantissa != "."
        }
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

#[cfg(test)]
mod tests;
