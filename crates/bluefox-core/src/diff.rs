//! The diff between two schemas: what changed from the snapshot (`old`) to the models (`new`).
//!
//! [`diff`] returns a list of [`Change`]s in a deterministic order: tables by name and, within a
//! table, renames, then additions, then alterations, then drops. Every change carries the data
//! needed to render it in both directions ([`crate::render`]), so a dropped table carries the whole
//! old [`Table`] and a type change carries the old and the new [`Column`].
//!
//! Renames come only from `renamed_from` hints on the new side: a table (or column) whose hint names
//! one that exists in `old` and no longer exists in `new` is a RENAME. Without a hint, a name that
//! disappears and one that appears are a drop and an add, as in Alembic.
//!
//! Naming convention inside a change: `table` is the table's name in the schema the change leads
//! to (after any rename in the same list); names of things being removed (a dropped column, index,
//! constraint) are their names before the change.

use crate::schema::{Column, ForeignKey, Index, Schema, Table, UniqueConstraint};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One difference between two schemas, with everything needed to apply it and to undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A table that exists only in the new schema.
    TableAdded(Table),
    /// A table that exists only in the old schema; carries it whole so down can recreate it.
    TableDropped(Table),
    /// A table renamed through a `renamed_from` hint.
    TableRenamed {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// True when the table has the same, non-empty primary key under both names, so its
        /// `<table>_pkey` constraint is renamed along with the table.
        keeps_primary_key: bool,
    },
    /// A column added to an existing table.
    ColumnAdded {
        /// The table (new name).
        table: String,
        /// The new column.
        column: Column,
    },
    /// A column dropped from an existing table; carries it so down can add it back.
    ColumnDropped {
        /// The table (new name).
        table: String,
        /// The old column.
        column: Column,
    },
    /// A column renamed through a `renamed_from` hint.
    ColumnRenamed {
        /// The table (new name).
        table: String,
        /// The old column name.
        from: String,
        /// The new column name.
        to: String,
    },
    /// The column's SQL type changed.
    ColumnTypeChanged {
        /// The table (new name).
        table: String,
        /// The column as it was.
        old: Column,
        /// The column as it becomes.
        new: Column,
    },
    /// The column became nullable or NOT NULL.
    NullabilityChanged {
        /// The table (new name).
        table: String,
        /// The column as it was.
        old: Column,
        /// The column as it becomes.
        new: Column,
    },
    /// The column's default was added, removed or changed.
    DefaultChanged {
        /// The table (new name).
        table: String,
        /// The column as it was.
        old: Column,
        /// The column as it becomes.
        new: Column,
    },
    /// The column became, or stopped being, an identity column.
    IdentityChanged {
        /// The table (new name).
        table: String,
        /// The column as it was.
        old: Column,
        /// The column as it becomes.
        new: Column,
    },
    /// The primary key's columns changed (possibly from or to none).
    PrimaryKeyChanged {
        /// The table (new name).
        table: String,
        /// The old key columns (old column names); empty when there was none.
        old: Vec<String>,
        /// The new key columns; empty when there is none.
        new: Vec<String>,
    },
    /// A secondary index was added.
    IndexAdded {
        /// The table (new name).
        table: String,
        /// The new index.
        index: Index,
    },
    /// A secondary index was dropped.
    IndexDropped {
        /// The table (new name).
        table: String,
        /// The old index.
        index: Index,
    },
    /// A unique constraint was added.
    UniqueAdded {
        /// The table (new name).
        table: String,
        /// The new constraint.
        unique: UniqueConstraint,
    },
    /// A unique constraint was dropped.
    UniqueDropped {
        /// The table (new name).
        table: String,
        /// The old constraint.
        unique: UniqueConstraint,
    },
    /// A foreign key was added (a changed foreign key is a drop and an add).
    ForeignKeyAdded {
        /// The table (new name).
        table: String,
        /// The new foreign key.
        foreign_key: ForeignKey,
    },
    /// A foreign key was dropped.
    ForeignKeyDropped {
        /// The table (new name).
        table: String,
        /// The old foreign key.
        foreign_key: ForeignKey,
    },
}

impl Change {
    /// The table this change is about (its new name; the old name for a dropped table).
    pub fn table(&self) -> &str {
        match self {
            Change::TableAdded(t) | Change::TableDropped(t) => &t.name,
            Change::TableRenamed { to, .. } => to,
            Change::ColumnAdded { table, .. }
            | Change::ColumnDropped { table, .. }
            | Change::ColumnRenamed { table, .. }
            | Change::ColumnTypeChanged { table, .. }
            | Change::NullabilityChanged { table, .. }
            | Change::DefaultChanged { table, .. }
            | Change::IdentityChanged { table, .. }
            | Change::PrimaryKeyChanged { table, .. }
            | Change::IndexAdded { table, .. }
            | Change::IndexDropped { table, .. }
            | Change::UniqueAdded { table, .. }
            | Change::UniqueDropped { table, .. }
            | Change::ForeignKeyAdded { table, .. }
            | Change::ForeignKeyDropped { table, .. } => table,
        }
    }

    /// Why this change may lose data or fail on a populated database, or `None` when it is safe.
    /// `bluefox make` marks such steps in its plan.
    pub fn is_destructive(&self) -> Option<&'static str> {
        match self {
            Change::TableDropped(_) => Some("drops the table and every row in it"),
            Change::ColumnDropped { .. } => Some("drops the column and the data it holds"),
            Change::ColumnTypeChanged { old, new, .. }
                if !is_widening(&old.sql_type, &new.sql_type) =>
            {
                Some("narrows the type: values that do not fit make it fail or lose data")
            }
            Change::NullabilityChanged { new, .. } if !new.nullable => {
                Some("makes the column NOT NULL: it fails if any row holds NULL")
            }
            Change::ColumnAdded { column, .. }
                if !column.nullable && column.default.is_none() && !column.identity =>
            {
                Some(
                    "adds a NOT NULL column without a default: it fails on a table that has rows \
                     (give it a default or make it nullable)",
                )
            }
            _ => None,
        }
    }

    /// The change that undoes this one. `back` maps a table's new name to its old one (for tables
    /// renamed in the same list); see [`invert`].
    fn inverse(&self, back: &dyn Fn(&str) -> String) -> Change {
        let swap =
            |table: &str, old: &Column, new: &Column| (back(table), new.clone(), old.clone());
        match self {
            Change::TableAdded(t) => Change::TableDropped(t.clone()),
            Change::TableDropped(t) => Change::TableAdded(t.clone()),
            Change::TableRenamed {
                from,
                to,
                keeps_primary_key,
            } => Change::TableRenamed {
                from: to.clone(),
                to: from.clone(),
                keeps_primary_key: *keeps_primary_key,
            },
            Change::ColumnAdded { table, column } => Change::ColumnDropped {
                table: back(table),
                column: column.clone(),
            },
            Change::ColumnDropped { table, column } => Change::ColumnAdded {
                table: back(table),
                column: column.clone(),
            },
            Change::ColumnRenamed { table, from, to } => Change::ColumnRenamed {
                table: back(table),
                from: to.clone(),
                to: from.clone(),
            },
            Change::ColumnTypeChanged { table, old, new } => {
                let (table, old, new) = swap(table, old, new);
                Change::ColumnTypeChanged { table, old, new }
            }
            Change::NullabilityChanged { table, old, new } => {
                let (table, old, new) = swap(table, old, new);
                Change::NullabilityChanged { table, old, new }
            }
            Change::DefaultChanged { table, old, new } => {
                let (table, old, new) = swap(table, old, new);
                Change::DefaultChanged { table, old, new }
            }
            Change::IdentityChanged { table, old, new } => {
                let (table, old, new) = swap(table, old, new);
                Change::IdentityChanged { table, old, new }
            }
            Change::PrimaryKeyChanged { table, old, new } => Change::PrimaryKeyChanged {
                table: back(table),
                old: new.clone(),
                new: old.clone(),
            },
            Change::IndexAdded { table, index } => Change::IndexDropped {
                table: back(table),
                index: index.clone(),
            },
            Change::IndexDropped { table, index } => Change::IndexAdded {
                table: back(table),
                index: index.clone(),
            },
            Change::UniqueAdded { table, unique } => Change::UniqueDropped {
                table: back(table),
                unique: unique.clone(),
            },
            Change::UniqueDropped { table, unique } => Change::UniqueAdded {
                table: back(table),
                unique: unique.clone(),
            },
            Change::ForeignKeyAdded { table, foreign_key } => Change::ForeignKeyDropped {
                table: back(table),
                foreign_key: foreign_key.clone(),
            },
            Change::ForeignKeyDropped { table, foreign_key } => Change::ForeignKeyAdded {
                table: back(table),
                foreign_key: foreign_key.clone(),
            },
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::TableAdded(t) => write!(f, "table {} added", t.name),
            Change::TableDropped(t) => write!(f, "table {} dropped", t.name),
            Change::TableRenamed { from, to, .. } => write!(f, "table {to} renamed from {from}"),
            Change::ColumnAdded { table, column } => {
                write!(f, "column {table}.{} added", column.name)
            }
            Change::ColumnDropped { table, column } => {
                write!(f, "column {table}.{} dropped", column.name)
            }
            Change::ColumnRenamed { table, from, to } => {
                write!(f, "column {table}.{to} renamed from {from}")
            }
            Change::ColumnTypeChanged { table, old, new } => write!(
                f,
                "column {table}.{} type {} -> {}",
                new.name, old.sql_type, new.sql_type
            ),
            Change::NullabilityChanged { table, new, .. } => {
                let now = if new.nullable { "nullable" } else { "NOT NULL" };
                write!(f, "column {table}.{} now {now}", new.name)
            }
            Change::DefaultChanged { table, old, new } => {
                let what = match (&old.default, &new.default) {
                    (None, _) => "added",
                    (_, None) => "removed",
                    _ => "changed",
                };
                write!(f, "column {table}.{} default {what}", new.name)
            }
            Change::IdentityChanged { table, new, .. } => {
                let what = if new.identity { "added" } else { "removed" };
                write!(f, "column {table}.{} identity {what}", new.name)
            }
            Change::PrimaryKeyChanged { table, .. } => write!(f, "primary key of {table} changed"),
            Change::IndexAdded { table, index } => {
                write!(f, "index {} on {table} added", index.name)
            }
            Change::IndexDropped { table, index } => {
                write!(f, "index {} on {table} dropped", index.name)
            }
            Change::UniqueAdded { table, unique } => {
                write!(f, "unique {} on {table} added", unique.name)
            }
            Change::UniqueDropped { table, unique } => {
                write!(f, "unique {} on {table} dropped", unique.name)
            }
            Change::ForeignKeyAdded { table, foreign_key } => {
                write!(f, "foreign key {} on {table} added", foreign_key.name)
            }
            Change::ForeignKeyDropped { table, foreign_key } => {
                write!(f, "foreign key {} on {table} dropped", foreign_key.name)
            }
        }
    }
}

/// The changes that undo `changes`, in reverse order: `invert(&diff(a, b))` leads from `b` back
/// to `a`. [`crate::render::down_sql`] renders this list.
pub fn invert(changes: &[Change]) -> Vec<Change> {
    let renamed: BTreeMap<&str, &str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::TableRenamed { from, to, .. } => Some((to.as_str(), from.as_str())),
            _ => None,
        })
        .collect();
    let back = |table: &str| renamed.get(table).copied().unwrap_or(table).to_string();
    changes.iter().rev().map(|c| c.inverse(&back)).collect()
}

/// Compares two schemas and lists what it takes to go from `old` to `new`, in a deterministic
/// order (see the module docs). `renamed_from` hints are read on `new` only.
///
/// ```
/// use bluefox_core::diff::diff;
/// use bluefox_core::schema::{Column, Schema, Table};
///
/// let column = |name: &str| Column {
///     name: name.into(),
///     sql_type: "TEXT".into(),
///     nullable: true,
///     default: None,
///     identity: false,
///     renamed_from: None,
/// };
/// let table = |columns| Table { name: "users".into(), columns, ..Table::default() };
/// let old = Schema { tables: [("users".into(), table(vec![column("biography")]))].into() };
/// let bio = Column { renamed_from: Some("biography".into()), ..column("bio") };
/// let new = Schema { tables: [("users".into(), table(vec![bio, column("nickname")]))].into() };
///
/// let plan: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
/// assert_eq!(plan, ["column users.bio renamed from biography", "column users.nickname added"]);
/// ```
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    let pairs = match_tables(old, new);
    let renames = Renames::of(&pairs);
    let mut by_table: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for (old_t, new_t) in &pairs {
        let changes = match old_t {
            Some(old_t) => diff_table(old_t, new_t, &renames),
            None => vec![Change::TableAdded(without_hints(new_t))],
        };
        if changes.is_empty() {
            // An unchanged table adds nothing to the list.
            continue;
        }
        by_table
            .entry(new_t.name.clone())
            .or_default()
            .extend(changes);
    }
    let kept: BTreeSet<&str> = pairs
        .iter()
        .filter_map(|(o, _)| o.map(|o| o.name.as_str()))
        .collect();
    for old_t in old
        .tables
        .values()
        .filter(|t| !kept.contains(t.name.as_str()))
    {
        by_table
            .entry(old_t.name.clone())
            .or_default()
            .push(Change::TableDropped(without_hints(old_t)));
    }
    by_table.into_values().flatten().collect()
}

/// Pairs each new table with the old table it continues (same name, or a valid rename hint).
fn match_tables<'a>(old: &'a Schema, new: &'a Schema) -> Vec<(Option<&'a Table>, &'a Table)> {
    let mut claimed = BTreeSet::new();
    new.tables
        .values()
        .map(|new_t| {
            let hinted = new_t
                .renamed_from
                .as_deref()
                .filter(|from| !new.tables.contains_key(*from) && !claimed.contains(*from));
            match hinted.and_then(|from| old.tables.get(from)) {
                Some(old_t) => {
                    claimed.insert(old_t.name.as_str());
                    (Some(old_t), new_t)
                }
                None => (old.tables.get(&new_t.name), new_t),
            }
        })
        .collect()
}

/// Pairs each new column with the old column it continues; the second list holds old columns
/// that nothing continues (dropped).
fn match_columns<'a>(
    old: &'a Table,
    new: &'a Table,
) -> (Vec<(Option<&'a Column>, &'a Column)>, Vec<&'a Column>) {
    let mut claimed = BTreeSet::new();
    let pairs: Vec<_> = new
        .columns
        .iter()
        .map(|new_c| {
            let hinted = new_c
                .renamed_from
                .as_deref()
                .filter(|from| new.column(from).is_none() && !claimed.contains(*from));
            match hinted.and_then(|from| old.column(from)) {
                Some(old_c) => {
                    claimed.insert(old_c.name.as_str());
                    (Some(old_c), new_c)
                }
                None => (old.column(&new_c.name), new_c),
            }
        })
        .collect();
    let dropped = old
        .columns
        .iter()
        .filter(|c| {
            !pairs
                .iter()
                .any(|(o, _)| o.is_some_and(|o| o.name == c.name))
        })
        .collect();
    (pairs, dropped)
}

/// Old names to new names, so keys and indexes over renamed things compare equal; and the tables
/// whose primary key changes, whose incoming foreign keys must be rebuilt around the new key.
/// Only names that change are stored: a name that is not found maps to itself.
struct Renames<'a> {
    /// Keyed by the old table name.
    tables: BTreeMap<&'a str, &'a str>,
    /// Keyed by the old table name, then the old column name.
    columns: BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>,
    /// Keyed by the new table name: the old key (in new column names) and the new key.
    rekeyed: BTreeMap<&'a str, [Vec<String>; 2]>,
}

impl<'a> Renames<'a> {
    fn of(pairs: &[(Option<&'a Table>, &'a Table)]) -> Renames<'a> {
        let mut renames = Renames {
            tables: BTreeMap::new(),
            columns: BTreeMap::new(),
            rekeyed: BTreeMap::new(),
        };
        for (old_t, new_t) in pairs {
            let Some(old_t) = old_t else { continue };
            if old_t.name != new_t.name {
                renames
                    .tables
                    .insert(old_t.name.as_str(), new_t.name.as_str());
            }
            // A column changes its name only through a hint.
            if new_t.columns.iter().any(|c| c.renamed_from.is_some()) {
                let (cols, _) = match_columns(old_t, new_t);
                let map: BTreeMap<&str, &str> = cols
                    .iter()
                    .filter_map(|(o, n)| o.map(|o| (o.name.as_str(), n.name.as_str())))
                    .filter(|(o, n)| o != n)
                    .collect();
                if !map.is_empty() {
                    renames.columns.insert(old_t.name.as_str(), map);
                }
            }
            if !renames.same_columns(&old_t.name, &old_t.primary_key, &new_t.primary_key) {
                let old_key = renames.columns(&old_t.name, &old_t.primary_key);
                let keys = [old_key, new_t.primary_key.clone()];
                renames.rekeyed.insert(new_t.name.as_str(), keys);
            }
        }
        renames
    }

    /// True when `fk` (new side) points at a primary key that changes: PostgreSQL cannot drop a
    /// key that a foreign key depends on, so the foreign key is dropped and added around it.
    fn key_changes_under(&self, fk: &ForeignKey) -> bool {
        self.rekeyed
            .get(fk.ref_table.as_str())
            .is_some_and(|keys| keys.contains(&fk.ref_columns))
    }

    /// The new name of the old table `old_table`.
    fn table<'s>(&'s self, old_table: &'s str) -> &'s str {
        self.tables.get(old_table).copied().unwrap_or(old_table)
    }

    /// The new name of column `column` of the old table `old_table`.
    fn column<'s>(&'s self, old_table: &str, column: &'s str) -> &'s str {
        self.columns
            .get(old_table)
            .and_then(|m| m.get(column))
            .copied()
            .unwrap_or(column)
    }

    fn columns(&self, old_table: &str, cols: &[String]) -> Vec<String> {
        cols.iter()
            .map(|c| self.column(old_table, c).to_string())
            .collect()
    }

    /// `columns(old_table, old) == new`, without building the list.
    fn same_columns(&self, old_table: &str, old: &[String], new: &[String]) -> bool {
        old.len() == new.len()
            && old
                .iter()
                .zip(new)
                .all(|(o, n)| self.column(old_table, o) == n.as_str())
    }
}

fn diff_table(old: &Table, new: &Table, renames: &Renames<'_>) -> Vec<Change> {
    let table = new.name.clone();
    let (pairs, dropped) = match_columns(old, new);
    let pk_same = renames.same_columns(&old.name, &old.primary_key, &new.primary_key);
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(Change::TableRenamed {
            from: old.name.clone(),
            to: new.name.clone(),
            keeps_primary_key: pk_same && !new.primary_key.is_empty(),
        });
    }
    for (old_c, new_c) in &pairs {
        if let Some(old_c) = old_c.filter(|o| o.name != new_c.name) {
            out.push(Change::ColumnRenamed {
                table: table.clone(),
                from: old_c.name.clone(),
                to: new_c.name.clone(),
            });
        }
    }
    for (_, new_c) in pairs.iter().filter(|(o, _)| o.is_none()) {
        out.push(Change::ColumnAdded {
            table: table.clone(),
            column: column(new_c),
        });
    }

    let same_unique = |o: &UniqueConstraint, n: &UniqueConstraint| {
        renames.same_columns(&old.name, &o.columns, &n.columns)
    };
    let same_index = |o: &Index, n: &Index| renames.same_columns(&old.name, &o.columns, &n.columns);
    let same_fk = |o: &ForeignKey, n: &ForeignKey| {
        renames.same_columns(&old.name, &o.columns, &n.columns)
            && renames.table(&o.ref_table) == n.ref_table
            && renames.same_columns(&o.ref_table, &o.ref_columns, &n.ref_columns)
            && !renames.key_changes_under(n)
            && o.on_delete == n.on_delete
    };
    let (uq_added, uq_dropped) = by_name(&old.uniques, &new.uniques, |u| &u.name, same_unique);
    let (ix_added, ix_dropped) = by_name(&old.indexes, &new.indexes, |i| &i.name, same_index);
    let (fk_added, fk_dropped) =
        by_name(&old.foreign_keys, &new.foreign_keys, |k| &k.name, same_fk);
    let t = || table.clone();
    out.extend(uq_added.into_iter().map(|u| Change::UniqueAdded {
        table: t(),
        unique: u.clone(),
    }));
    out.extend(ix_added.into_iter().map(|i| Change::IndexAdded {
        table: t(),
        index: i.clone(),
    }));
    out.extend(fk_added.into_iter().map(|k| Change::ForeignKeyAdded {
        table: t(),
        foreign_key: k.clone(),
    }));

    for (old_c, new_c) in &pairs {
        if let Some(old_c) = old_c {
            out.extend(diff_column(&table, old_c, new_c));
        }
    }
    if !pk_same {
        out.push(Change::PrimaryKeyChanged {
            table: t(),
            old: old.primary_key.clone(),
            new: new.primary_key.clone(),
        });
    }

    out.extend(fk_dropped.into_iter().map(|k| Change::ForeignKeyDropped {
        table: t(),
        foreign_key: k.clone(),
    }));
    out.extend(ix_dropped.into_iter().map(|i| Change::IndexDropped {
        table: t(),
        index: i.clone(),
    }));
    out.extend(uq_dropped.into_iter().map(|u| Change::UniqueDropped {
        table: t(),
        unique: u.clone(),
    }));
    out.extend(dropped.into_iter().map(|c| Change::ColumnDropped {
        table: t(),
        column: column(c),
    }));
    out
}

fn diff_column(table: &str, old: &Column, new: &Column) -> Vec<Change> {
    let same_type = old.sql_type == new.sql_type
        || canonical_type(&old.sql_type) == canonical_type(&new.sql_type);
    if same_type
        && old.nullable == new.nullable
        && old.default == new.default
        && old.identity == new.identity
    {
        // The usual case: nothing to copy.
        return Vec::new();
    }
    let (table, o, n) = (table.to_string(), column(old), column(new));
    let mut out = Vec::new();
    if !same_type {
        out.push(Change::ColumnTypeChanged {
            table: table.clone(),
            old: o.clone(),
            new: n.clone(),
        });
    }
    if old.nullable != new.nullable {
        out.push(Change::NullabilityChanged {
            table: table.clone(),
            old: o.clone(),
            new: n.clone(),
        });
    }
    if old.default != new.default {
        out.push(Change::DefaultChanged {
            table: table.clone(),
            old: o.clone(),
            new: n.clone(),
        });
    }
    if old.identity != new.identity {
        out.push(Change::IdentityChanged {
            table,
            old: o,
            new: n,
        });
    }
    out
}

/// Items only in `new` (added) and items only in `old` (dropped), matched by name; an item whose
/// name stays but whose content differs is both dropped and added.
fn by_name<'a, T>(
    old: &'a [T],
    new: &'a [T],
    name: impl Fn(&T) -> &String,
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<&'a T>, Vec<&'a T>) {
    let find = |list: &'a [T], n: &String| list.iter().find(|x| name(x) == n);
    let added = new
        .iter()
        .filter(|n| find(old, name(n)).is_none_or(|o| !same(o, n)))
        .collect();
    let dropped = old
        .iter()
        .filter(|o| find(new, name(o)).is_none_or(|n| !same(o, n)))
        .collect();
    (added, dropped)
}

/// A copy without `renamed_from` hints, which belong to the models and never to a change.
fn without_hints(table: &Table) -> Table {
    Table {
        renamed_from: None,
        columns: table.columns.iter().map(column).collect(),
        ..table.clone()
    }
}

fn column(c: &Column) -> Column {
    Column {
        renamed_from: None,
        ..c.clone()
    }
}

/// A type name in one spelling: upper case, single spaces, none around parentheses and commas.
/// A name already in that spelling (every type bluefox writes) comes back borrowed.
pub(crate) fn canonical_type(sql_type: &str) -> Cow<'_, str> {
    if is_canonical_type(sql_type) {
        Cow::Borrowed(sql_type)
    } else {
        Cow::Owned(spell_type(sql_type))
    }
}

/// True when [`spell_type`] would return `sql_type` unchanged: ASCII without lower-case letters
/// or whitespace other than single spaces between words, and no space after `(` or `,` or before
/// `(`, `)` or `,` (the joins and replacements of [`spell_type`] then change nothing).
fn is_canonical_type(sql_type: &str) -> bool {
    let bytes = sql_type.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte.is_ascii_lowercase() || !byte.is_ascii() || (0x09..=0x0d).contains(&byte) {
            return false;
        }
        if byte == b' ' {
            let before = if i == 0 { b' ' } else { bytes[i - 1] };
            let after = bytes.get(i + 1).copied().unwrap_or(b' ');
            if matches!(before, b' ' | b'(' | b',') || matches!(after, b' ' | b'(' | b')' | b',') {
                return false;
            }
        }
        i += 1;
    }
    true
}

/// The general case of [`canonical_type`].
fn spell_type(sql_type: &str) -> String {
    let upper = sql_type
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    upper
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(", ", ",")
}

/// True when every value of `old` fits `new` unchanged: the same type, or a known widening
/// (SMALLINT -> INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, VARCHAR(n) -> VARCHAR(m >= n),
/// VARCHAR -> TEXT). Anything else counts as narrowing.
pub(crate) fn is_widening(old: &str, new: &str) -> bool {
    let (old, new) = (canonical_type(old), canonical_type(new));
    if old == new {
        return true;
    }
    let int_rank = |t: &str| match t {
        "SMALLINT" | "INT2" => Some(1),
        "INTEGER" | "INT" | "INT4" => Some(2),
        "BIGINT" | "INT8" => Some(3),
        _ => None,
    };
    let float_rank = |t: &str| match t {
        "REAL" | "FLOAT4" => Some(1),
        "DOUBLE PRECISION" | "FLOAT8" => Some(2),
        _ => None,
    };
    if let (Some(o), Some(n)) = (int_rank(&old), int_rank(&new)) {
        return n >= o;
    }
    if let (Some(o), Some(n)) = (float_rank(&old), float_rank(&new)) {
        return n >= o;
    }
    match (varchar_length(&old), varchar_length(&new)) {
        (Some(_), _) if new == "TEXT" => true,
        (Some(_), Some(None)) => true,
        (Some(Some(o)), Some(Some(n))) => n >= o,
        _ => false,
    }
}

/// `Some(Some(n))` for `VARCHAR(n)`, `Some(None)` for an unbounded `VARCHAR`, `None` otherwise.
fn varchar_length(canonical: &str) -> Option<Option<u64>> {
    let rest = canonical
        .strip_prefix("VARCHAR")
        .or_else(|| canonical.strip_prefix("CHARACTER VARYING"))?;
    if rest.is_empty() {
        return Some(None);
    }
    let n = rest.strip_prefix('(')?.strip_suffix(')')?.parse().ok()?;
    Some(Some(n))
}

#[cfg(test)]
mod tests;
