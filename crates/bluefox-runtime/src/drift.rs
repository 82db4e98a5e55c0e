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
use bluefox_core::types::normalize_sql_type;
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

impl Drift {
    /// The table the finding is about (the report is ordered by it).
    pub fn table(&self) -> &str {
        match self {
            Drift::MissingTable { table }
            | Drift::ExtraTable { table }
            | Drift::MissingColumn { table, .. }
            | Drift::ExtraColumn { table, .. }
            | Drift::TypeMismatch { table, .. }
            | Drift::NullabilityMismatch { table, .. } => table,
        }
    }
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

/// Reads the live tables of the current schema (without the history tables) into a map, one
/// round trip. The drift check itself ([`check`]) does not hold them all: it compares each table
/// as its rows arrive.
///
/// # Errors
/// [`Error::Database`] when the catalog query fails.
pub async fn live_schema(client: &Client) -> Result<BTreeMap<String, Vec<LiveColumn>>, Error> {
    let mut tables = BTreeMap::new();
    read_live(client, |name, columns| {
        tables.insert(name.to_string(), columns.to_vec());
    })
    .await?;
    Ok(tables)
}

/// Reads the live tables of the current schema in one round trip, without the history tables,
/// the partitions of a partitioned table (the model is the parent) and the tables an extension
/// owns (PostGIS puts `spatial_ref_sys` in `public`; no model declares it; one hashed list of
/// them, which keeps a 1000-table read at its 7.5-8.5 ms where a lookup per table cost 1.5 ms),
/// and hands each to `each` with all its columns, in attribute order, as the catalog's rows
/// arrive (ordered by table): only the current table's columns are held. A schema of 1000
/// tables is thousands of rows; gathering them all first (as a map of every table) made the
/// drift check the largest part of the memory a run applying 1000 table migrations touched.
async fn read_live(
    client: &Client,
    mut each: impl FnMut(&str, &mut [LiveColumn]),
) -> Result<(), Error> {
    use futures_util::StreamExt;
    let query = format!(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
         AND c.relname NOT IN ('{HISTORY_TABLE}', '{DOWN_TABLE}', '{STATE_TABLE}') \
         AND c.oid NOT IN (SELECT d.objid FROM pg_depend d \
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e') \
         ORDER BY c.relname, a.attnum"
    );
    let failed =
        |e: tokio_postgres::Error| Error::db("read the live schema for the drift check", &e);
    let mut messages = std::pin::pin!(client.simple_query_raw(&query).await.map_err(failed)?);
    let mut tables = TableRows::default();
    while let Some(message) = messages.next().await {
        let SimpleQueryMessage::Row(row) = message.map_err(failed)? else {
            continue;
        };
        let Some(name) = row.get(0) else { continue };
        // A table without columns is one row of NULLs.
        let column = match (row.get(1), row.get(2)) {
            (Some(column), Some(ty)) => Some(LiveColumn {
                name: column.to_string(),
                sql_type: canonical_type(ty),
                nullable: row.get(3) != Some("t"),
            }),
            _ => None,
        };
        tables.push(name, column, &mut each);
    }
    tables.finish(&mut each);
    Ok(())
}

/// Catalog rows (ordered by table) grouped into tables as they arrive: a table is handed on
/// with all its columns once the next table's first row, or the end, shows it complete, so
/// only the current table's columns are held. PostgreSQL's and SQLite's readers both use it.
#[derive(Debug, Default)]
pub(crate) struct TableRows {
    /// The table whose rows are arriving.
    table: Option<String>,
    /// Its columns so far.
    columns: Vec<LiveColumn>,
}

impl TableRows {
    /// A row of table `name` with its `column` (`None` for a table without columns); hands the
    /// previous table to `each` when this row starts another.
    pub(crate) fn push(
        &mut self,
        name: &str,
        column: Option<LiveColumn>,
        each: &mut impl FnMut(&str, &mut [LiveColumn]),
    ) {
        if self.table.as_deref() != Some(name) {
            if let Some(done) = self.table.replace(name.to_string()) {
                each(&done, &mut self.columns);
            }
            self.columns.clear();
        }
        self.columns.extend(column);
    }

    /// Hands the last table to `each`, once every row was pushed.
    pub(crate) fn finish(mut self, each: &mut impl FnMut(&str, &mut [LiveColumn])) {
        if let Some(done) = self.table.take() {
            each(&done, &mut self.columns);
        }
    }
}

/// Reads the live schema and compares it with the snapshot, table by table as the catalog's
/// rows arrive; skipped (clean) when the snapshot has no tables.
///
/// # Errors
/// [`Error::Database`] when the catalog query fails.
pub async fn check(client: &Client, snapshot: Tables) -> Result<DriftReport, Error> {
    if snapshot.is_empty() {
        return Ok(DriftReport::default());
    }
    let mut comparison = Comparison::new(snapshot);
    read_live(client, |name, columns| comparison.table(name, columns)).await?;
    Ok(comparison.finish())
}

/// Compares the snapshot's tables with the live ones (see [`Comparison`]).
pub fn compare(snapshot: Tables, live: &BTreeMap<String, Vec<LiveColumn>>) -> DriftReport {
    let mut comparison = Comparison::new(snapshot);
    for (name, columns) in live {
        comparison.table(name, columns);
    }
    comparison.finish()
}

/// The snapshot's tables looked up by name: their positions sorted by name (a few bytes per
/// table), whatever order the snapshot and the live schema list them in.
pub(crate) struct TableIndex {
    tables: Tables,
    by_name: Vec<usize>,
}

impl TableIndex {
    /// The index of `tables`.
    pub(crate) fn new(tables: Tables) -> TableIndex {
        let mut by_name: Vec<usize> = (0..tables.len()).collect();
        by_name.sort_by_key(|&i| tables.get(i).map(|t| t.name));
        TableIndex { tables, by_name }
    }

    /// The snapshot table named `name`, with its position in the snapshot.
    pub(crate) fn find(&self, name: &str) -> Option<(usize, EmbeddedTable)> {
        let found = self
            .by_name
            .binary_search_by(|&i| self.tables.get(i).map(|t| t.name).cmp(&Some(name)))
            .ok()?;
        let index = *self.by_name.get(found)?;
        Some((index, self.tables.get(index)?))
    }
}

/// The drift comparison fed one live table at a time, so a caller reading the catalog holds
/// only the current table's columns: [`Comparison::table`] for every live table, then
/// [`Comparison::finish`], which reports the snapshot tables never fed as missing and orders
/// the findings by table, then column (what [`DriftReport`] promises), whatever order the
/// tables came in. PostgreSQL's and SQLite's drift checks both use it.
pub struct Comparison {
    index: TableIndex,
    /// Which snapshot tables (by position) the live schema has.
    seen: Vec<bool>,
    findings: Vec<Drift>,
}

impl Comparison {
    /// A comparison with the snapshot's `tables`, no live table fed yet.
    pub fn new(tables: Tables) -> Comparison {
        Comparison {
            index: TableIndex::new(tables),
            seen: vec![false; tables.len()],
            findings: Vec::new(),
        }
    }

    /// The snapshot's table named `name`, if it has one.
    pub fn snapshot_table(&self, name: &str) -> Option<EmbeddedTable> {
        self.index.find(name).map(|(_, table)| table)
    }

    /// Compares the live table `name` (fed once, with all its `columns`) with the snapshot's.
    pub fn table(&mut self, name: &str, columns: &[LiveColumn]) {
        let Some((index, want)) = self.index.find(name) else {
            self.findings.push(Drift::ExtraTable {
                table: name.to_string(),
            });
            return;
        };
        if let Some(seen) = self.seen.get_mut(index) {
            *seen = true;
        }
        let findings = &mut self.findings;
        for column in want.columns.iter() {
            let Some(live_column) = columns.iter().find(|c| c.name == column.name) else {
                findings.push(Drift::MissingColumn {
                    table: name.to_string(),
                    column: column.name.to_string(),
                });
                continue;
            };
            let expected_type = canonical_type(column.sql_type);
            if expected_type != live_column.sql_type {
                findings.push(Drift::TypeMismatch {
                    table: name.to_string(),
                    column: column.name.to_string(),
                    expected: expected_type,
                    actual: live_column.sql_type.clone(),
                });
            }
            if column.nullable != live_column.nullable {
                findings.push(Drift::NullabilityMismatch {
                    table: name.to_string(),
                    column: column.name.to_string(),
                    expected_nullable: column.nullable,
                });
            }
        }
        for live_column in columns {
            if !want.columns.iter().any(|c| c.name == live_column.name) {
                findings.push(Drift::ExtraColumn {
                    table: name.to_string(),
                    column: live_column.name.clone(),
                });
            }
        }
    }

    /// The report: every table fed compared, every snapshot table not fed missing, in table
    /// then column order.
    pub fn finish(self) -> DriftReport {
        let Comparison {
            index,
            seen,
            mut findings,
        } = self;
        let missing = seen.iter().enumerate().filter(|(_, seen)| !**seen);
        for (position, _) in missing {
            if let Some(table) = index.tables.get(position) {
                findings.push(Drift::MissingTable {
                    table: table.name.to_string(),
                });
            }
        }
        // Stable: a table's findings keep their column order.
        findings.sort_by(|a, b| a.table().cmp(b.table()));
        DriftReport { findings }
    }
}

/// Spells a type the way bluefox's snapshot does, so the catalog's type and the snapshot's
/// compare equal whenever PostgreSQL stores the one as the other. Both sides go through
/// [`normalize_sql_type`], the spelling the snapshot is written in (`format_type`'s
/// `character varying(80)`, `time(3) without time zone` and `timestamp with time zone[]` become
/// `VARCHAR(80)`, `TIME(3)` and `TIMESTAMPTZ[]`); then what the server only takes as another
/// type is folded into it: the serials into their integers, `float(p)` into `REAL` or `DOUBLE
/// PRECISION`, `varbit` into `BIT VARYING`, `bpchar(n)` into `CHAR(n)`, `char` and `bit`
/// without a length into their one-long forms, and any number of array dimensions into one
/// `[]` (the server keeps none). A type name it refuses (one in quotes, as `format_type` writes
/// `"char"`) is compared as written, in upper case.
pub fn canonical_type(text: &str) -> String {
    if let Some(name) = common_type(text) {
        return name.to_string();
    }
    let Ok(spelled) = normalize_sql_type(text) else {
        return text.trim().to_ascii_uppercase();
    };
    let element_end = spelled.find('[').unwrap_or(spelled.len());
    let (element, arrays) = spelled.split_at(element_end);
    // The server keeps no array dimensions: `INTEGER[][]` is stored, and read back, as `integer[]`.
    let arrays = if arrays.is_empty() { "" } else { "[]" };
    let (name, args) = match element.find('(') {
        Some(open) => element.split_at(open),
        None => (element, ""),
    };
    let folded = match (name, args) {
        ("BIGSERIAL" | "SERIAL8", "") => "BIGINT",
        ("SERIAL" | "SERIAL4", "") => "INTEGER",
        ("SMALLSERIAL" | "SERIAL2", "") => "SMALLINT",
        ("FLOAT", precision) => match precision
            .trim_start_matches('(')
            .trim_end_matches(')')
            .parse::<u8>()
        {
            Ok(1..=24) => "REAL",
            Ok(25..=53) => "DOUBLE PRECISION",
            _ => element,
        },
        // Without a length, `char` and `bit` are one long; `bpchar` alone has no limit.
        ("CHAR", "") => "CHAR(1)",
        ("BIT", "") => "BIT(1)",
        ("VARBIT", _) => return format!("BIT VARYING{args}{arrays}"),
        ("BPCHAR", args) if !args.is_empty() => return format!("CHAR{args}{arrays}"),
        _ => element,
    };
    format!("{folded}{arrays}")
}

/// The canonical name of the types nearly every column has, in the two spellings a drift check
/// meets (`format_type`'s and the snapshot's): a boot reading a thousand tables' catalog spells
/// thousands of types, and these skip [`normalize_sql_type`]'s general parse.
fn common_type(text: &str) -> Option<&'static str> {
    Some(match text {
        "bigint" | "BIGINT" => "BIGINT",
        "integer" | "INTEGER" => "INTEGER",
        "smallint" | "SMALLINT" => "SMALLINT",
        "text" | "TEXT" => "TEXT",
        "boolean" | "BOOLEAN" => "BOOLEAN",
        "real" | "REAL" => "REAL",
        "double precision" | "DOUBLE PRECISION" => "DOUBLE PRECISION",
        "numeric" | "NUMERIC" => "NUMERIC",
        "date" | "DATE" => "DATE",
        "time without time zone" | "TIME" => "TIME",
        "timestamp without time zone" | "TIMESTAMP" => "TIMESTAMP",
        "timestamp with time zone" | "TIMESTAMPTZ" => "TIMESTAMPTZ",
        "uuid" | "UUID" => "UUID",
        "jsonb" | "JSONB" => "JSONB",
        "bytea" | "BYTEA" => "BYTEA",
        _ => return None,
    })
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
            ("int", "INTEGER"),
            ("bigserial", "BIGINT"),
            ("serial4", "INTEGER"),
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
            ("float(20)", "REAL"),
            ("float(40)[]", "DOUBLE PRECISION[]"),
            ("varbit(5)", "BIT VARYING(5)"),
            ("bpchar", "BPCHAR"),
            ("bpchar(3)", "CHAR(3)"),
            ("char", "CHAR(1)"),
            ("bit", "BIT(1)"),
            ("int[][]", "INTEGER[]"),
            ("\"char\"", "\"CHAR\""),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_type(input), want, "{input}");
        }
    }

    #[test]
    fn the_common_types_are_spelled_as_the_general_path_spells_them() {
        for text in [
            "bigint",
            "BIGINT",
            "integer",
            "INTEGER",
            "smallint",
            "SMALLINT",
            "text",
            "TEXT",
            "boolean",
            "BOOLEAN",
            "real",
            "REAL",
            "double precision",
            "DOUBLE PRECISION",
            "numeric",
            "NUMERIC",
            "date",
            "DATE",
            "time without time zone",
            "TIME",
            "timestamp without time zone",
            "TIMESTAMP",
            "timestamp with time zone",
            "TIMESTAMPTZ",
            "uuid",
            "UUID",
            "jsonb",
            "JSONB",
            "bytea",
            "BYTEA",
        ] {
            assert_eq!(
                common_type(text),
                Some(normalize_sql_type(text).unwrap().as_str()),
                "{text}"
            );
        }
    }

    /// What `format_type` prints for each type, read back as the snapshot spells what a model
    /// asks for (the type mapping's, or `sql_type = "..."` through `normalize_sql_type`): the
    /// two meet, so no boot reports drift for a column that is as the models say.
    #[test]
    fn the_catalogs_spelling_meets_the_snapshots() {
        let cases = [
            ("time without time zone", "TIME"),
            ("time with time zone", "timetz"),
            ("time(3) without time zone", "time(3)"),
            ("timestamp(3) without time zone", "timestamp(3)"),
            ("timestamp(3) with time zone", "timestamptz(3)"),
            ("timestamp with time zone[]", "TIMESTAMPTZ[]"),
            ("time without time zone[]", "TIME[]"),
            ("interval day to second(2)", "interval day to second(2)"),
            ("bit varying(5)", "varbit(5)"),
            ("character(2)", "char(2)"),
            ("real", "float4"),
            ("real", "float(10)"),
            ("double precision", "float"),
            ("bigint[]", "int8[]"),
            ("numeric(10,2)", "decimal(10, 2)"),
            ("character(1)", "char"),
            ("bit(1)", "bit"),
            ("integer[]", "int[][]"),
            ("character(1)[]", "character[]"),
        ];
        for (catalog, model) in cases {
            let snapshot = normalize_sql_type(model).expect("a type bluefox accepts");
            assert_eq!(
                canonical_type(catalog),
                canonical_type(&snapshot),
                "{catalog} vs {model} ({snapshot})"
            );
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

    fn live_users() -> Vec<LiveColumn> {
        vec![
            col("id", "INTEGER", false),
            col("email", "TEXT", true),
            col("age", "INTEGER", true),
        ]
    }

    const FINDINGS: [&str; 6] = [
        "table audit is in the database but not in the models' snapshot",
        "table posts is in the models' snapshot but not in the database",
        "column users.id is INTEGER in the database but BIGINT in the models' snapshot",
        "column users.email is NULL in the database but NOT NULL in the models' snapshot",
        "column users.bio is in the models' snapshot but not in the database",
        "column users.age is in the database but not in the models' snapshot",
    ];

    fn texts(report: &DriftReport) -> Vec<String> {
        report.findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reports_by_table_and_column() {
        let mut live = BTreeMap::new();
        live.insert("users".to_string(), live_users());
        live.insert("audit".to_string(), vec![]);
        let report = compare(tables(), &live);
        assert_eq!(texts(&report), FINDINGS);
    }

    #[test]
    fn tables_fed_in_another_order_are_reported_in_table_then_column_order() {
        // The live tables arrive out of name order (a catalog collating differently from
        // Rust's byte order), and the snapshot lists its tables out of name order too.
        let snapshot = bluefox_core::embedded::pack::leak_tables([
            ("users", USERS),
            ("zebras", &[][..]),
            ("posts", &[][..]),
        ])
        .unwrap();
        let mut comparison = Comparison::new(snapshot);
        comparison.table("zebras", &[]);
        comparison.table("users", &live_users());
        comparison.table("audit", &[]);
        comparison.table("bears", &[col("id", "BIGINT", false)]);
        let report = comparison.finish();
        let mut expected: Vec<String> = FINDINGS.iter().map(ToString::to_string).collect();
        expected.insert(
            1,
            "table bears is in the database but not in the models' snapshot".to_string(),
        );
        assert_eq!(texts(&report), expected);
        assert_eq!(
            report.findings[2],
            Drift::MissingTable {
                table: "posts".into()
            }
        );
    }

    #[test]
    fn every_snapshot_table_fed_and_matching_is_clean() {
        let mut comparison = Comparison::new(tables());
        comparison.table(
            "users",
            &[
                col("id", "BIGINT", false),
                col("email", "TEXT", false),
                col("bio", "TEXT", true),
            ],
        );
        assert!(comparison.snapshot_table("posts").is_some());
        assert!(comparison.snapshot_table("audit").is_none());
        comparison.table("posts", &[]);
        assert!(comparison.finish().is_clean());
    }
}
