//! The SQL bluefox runs, as text: the statements of an upgrade or a downgrade, with no
//! connection (`bluefox upgrade head --sql`), and the pieces the live migrator sends.
//!
//! The offline script creates refinery's history table exactly as refinery does, and inserts
//! the rows refinery would (same version, name and checksum text; `applied_on` is the RFC 3339
//! time at which psql runs the insert), so booting after applying the script applies nothing.

use crate::error::Error;
use crate::history::{DOWN_TABLE, HISTORY_TABLE};
use crate::target::{resolve_downgrade, resolve_upgrade, Target, TargetError};
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use bluefox_core::schema::{push_ident, push_literal, quote_ident, quote_literal};
use std::fmt::Write;

/// refinery's `CREATE TABLE IF NOT EXISTS` for its history table (with `int8-versions`).
pub fn history_table_ddl() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE}(\n    version int8 PRIMARY KEY,\n    name VARCHAR(255),\n    applied_on VARCHAR(255),\n    checksum VARCHAR(255));"
    )
}

/// bluefox's table of down SQL.
pub fn down_table_ddl() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {}(\n    {} int8 PRIMARY KEY,\n    {} TEXT NOT NULL,\n    {} TEXT);",
        quote_ident(DOWN_TABLE),
        quote_ident("version"),
        quote_ident("name"),
        quote_ident("down"),
    )
}

/// The row of `bluefox_down_sql` for a migration being applied (replacing a stale one).
pub fn down_insert(m: &EmbeddedMigration) -> String {
    let mut out = String::new();
    push_down_row(&mut out, m, m.version);
    out
}

/// The session setting a live migration's transaction sets to its version once its history row
/// is written; the next migration of the run checks it (see [`live_upgrade_block`]).
pub(crate) const APPLIED_SETTING: &str = "bluefox.applied";

/// Appends the insert into `bluefox_down_sql` of `m`'s row, its version written as `version`
/// (the number, or an expression that yields it), replacing a stale row of the same version:
/// the one spelling of that statement, for the offline script and the live migrator alike.
fn push_down_row(out: &mut String, m: &EmbeddedMigration, version: impl std::fmt::Display) {
    out.push_str("INSERT INTO ");
    push_ident(out, DOWN_TABLE);
    let _ = write!(out, " ({V}, {N}, {D}) VALUES ({version}, ");
    push_literal(out, m.name);
    out.push_str(", ");
    match m.down {
        Some(down) => push_literal(out, down),
        None => out.push_str("NULL"),
    }
    let _ = write!(
        out,
        ") ON CONFLICT ({V}) DO UPDATE SET {N} = EXCLUDED.{N}, {D} = EXCLUDED.{D};"
    );
}

/// The down table's columns, quoted (as [`quote_ident`] would: written once, not per row).
const V: &str = "\"version\"";
const N: &str = "\"name\"";
const D: &str = "\"down\"";

/// The statements that forget a reverted migration: its history row and its down row.
pub fn forget(version: i64) -> String {
    format!(
        "DELETE FROM {HISTORY_TABLE} WHERE version = {version};\nDELETE FROM {} WHERE {} = {version};",
        quote_ident(DOWN_TABLE),
        quote_ident("version"),
    )
}

/// The line before a migration's SQL in a transaction batch; its length locates error positions.
pub(crate) const BEGIN: &str = "BEGIN;\n";

/// One applied migration's transaction: up SQL, refinery's history row, the down row.
fn upgrade_block(m: &EmbeddedMigration) -> String {
    let history = format!(
        "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) VALUES ({}, {}, {}, {});",
        m.version,
        quote_literal(m.name),
        "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        quote_literal(&m.checksum.to_string()),
    );
    format!(
        "{BEGIN}{}\n;\n{history}\n{}\nCOMMIT;\n",
        m.up,
        down_insert(m)
    )
}

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
        let _ = writeln!(out, "-- {} ({})\n{}", m.version, m.file, upgrade_block(&m));
    }
    Ok(out)
}

/// The script of a downgrade from `from` (the newest applied version) to `to`, assuming the
/// database holds exactly the embedded migrations up to `from`.
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
            "-- {} ({})\n{}",
            m.version,
            m.file,
            downgrade_block(down, m.version)
        );
    }
    Ok(out)
}

/// The migrations an upgrade script from `from` to `to` applies, in order (both dialects'
/// scripts are written from it).
///
/// # Errors
/// A `from` the binary does not contain, or a target that does not resolve.
pub(crate) fn upgrade_steps(
    embedded: &Embedded,
    from: Option<i64>,
    to: Target,
) -> Result<Vec<EmbeddedMigration>, Error> {
    let applied = applied_up_to(embedded, from)?;
    let known: Vec<i64> = embedded.migrations.iter().map(|m| m.version).collect();
    resolve_upgrade(to, &known, &applied)?
        .into_iter()
        .map(|version| migration(embedded, version))
        .collect()
}

/// The migrations a downgrade script from `from` to `to` reverts, newest first, each with its
/// down SQL; an irreversible one on the way refuses the whole script before anything is written.
///
/// # Errors
/// As [`downgrade_sql`].
pub(crate) fn downgrade_steps(
    embedded: &Embedded,
    from: i64,
    to: Target,
) -> Result<Vec<(EmbeddedMigration, &'static str)>, Error> {
    let applied = applied_up_to(embedded, Some(from))?;
    resolve_downgrade(to, &applied)?
        .into_iter()
        .map(|version| {
            let m = migration(embedded, version)?;
            let down = m.down.ok_or_else(|| Error::Irreversible {
                version: m.version,
                file: m.file.to_string(),
            })?;
            Ok((m, down))
        })
        .collect()
}

/// One reverted migration's transaction: down SQL, then its rows forgotten.
pub(crate) fn downgrade_block(down: &str, version: i64) -> String {
    format!("{BEGIN}{down}\n;\n{}\nCOMMIT;\n", forget(version))
}

/// One migration's transaction as the live migrator sends it, and where its up SQL starts.
#[cfg(test)]
pub(crate) struct LiveBlock {
    /// The whole batch.
    pub sql: String,
    /// Characters before the up SQL (to locate the server's error positions).
    pub prefix_chars: usize,
    /// Statements before the up SQL (to locate a failure from the completed statements).
    pub prefix_statements: usize,
}

/// [`write_live_upgrade_block`] into a new string.
#[cfg(test)]
pub(crate) fn live_upgrade_block(
    m: &EmbeddedMigration,
    refinery_insert: &str,
    final_commit: &str,
    after: Option<i64>,
) -> LiveBlock {
    let mut sql = String::new();
    let (prefix_chars, prefix_statements) =
        write_live_upgrade_block(&mut sql, m, refinery_insert, final_commit, after);
    LiveBlock {
        sql,
        prefix_chars,
        prefix_statements,
    }
}

/// Writes into `out` (cleared first) the transaction the live migrator sends for one
/// migration: `BEGIN`, up SQL, refinery's own history insert and the down row (one statement:
/// the history insert rides in a `WITH`, so the server parses, plans and acknowledges one
/// statement instead of two), `final_commit` (what the run's last migration sets so that its
/// commit is durable; empty otherwise), `COMMIT`. Returns the characters and the statements
/// before the up SQL (to locate the server's error positions, and a failure from the completed
/// statements). The migrator reuses one `out` for a whole run: a batch built anew for each
/// migration (with its quoted down SQL and name) left each one a little higher on the heap than
/// the last, above the small allocations the pipelined batches hold, and so grew the heap.
///
/// Migrations are pipelined (sent before the previous one's answer), so with `after` (the
/// migration sent just before, in the same run) the batch first checks that `after` committed:
/// it fails (division by zero) unless the session's [`APPLIED_SETTING`] is `after`, which only
/// `after`'s own transaction sets, after its history row, and which its rollback undoes (a
/// session setting changed in a transaction is transactional). A failed transaction block
/// already makes the server refuse everything that follows until `ROLLBACK`; the check also
/// covers a `COMMIT` that fails (a deferred constraint) and up SQL that ends its transaction
/// itself and then fails. The check reads no table, so it costs the server no plan.
///
/// The down row is [`down_insert`]'s, but its version is the value that setting
/// [`APPLIED_SETTING`] to it returns, so the statement that writes the history row and the down
/// row also records the version for the next migration's check (and a rollback of its
/// transaction undoes that). A function call in the row costs the server less than a `SELECT`
/// from the history insert's `RETURNING` (measured: about 10 % of a one-statement migration).
pub(crate) fn write_live_upgrade_block(
    out: &mut String,
    m: &EmbeddedMigration,
    refinery_insert: &str,
    final_commit: &str,
    after: Option<i64>,
) -> (usize, usize) {
    out.clear();
    out.push_str(BEGIN);
    let prefix_statements = match after {
        Some(version) => {
            let _ = writeln!(
                out,
                "SELECT 1 / coalesce((current_setting('{APPLIED_SETTING}', true) = '{version}')::int, 0);"
            );
            2
        }
        None => 1,
    };
    let prefix_chars = out.chars().count();
    out.push_str(m.up);
    out.push_str("\n;\nWITH \"refinery_row\" AS (");
    out.push_str(refinery_insert);
    out.push_str(")\n");
    push_down_row(
        out,
        m,
        format_args!(
            "set_config('{APPLIED_SETTING}', '{}', false)::int8",
            m.version
        ),
    );
    out.push('\n');
    out.push_str(final_commit);
    out.push_str("COMMIT;");
    (prefix_chars, prefix_statements)
}

fn header(verb: &str, from: Option<i64>, to: Target, count: usize) -> String {
    let from = from.map_or_else(|| "base".to_string(), |v| v.to_string());
    format!(
        "-- bluefox {verb} from {from} to {to}: {count} migration(s), one transaction each.\n-- Apply with: psql -v ON_ERROR_STOP=1 -f <this file>\n\n"
    )
}

/// The versions applied when the newest applied one is `from` (`None`: nothing), assuming the
/// database holds exactly the embedded migrations up to it; both dialects' scripts start there.
pub(crate) fn applied_up_to(embedded: &Embedded, from: Option<i64>) -> Result<Vec<i64>, Error> {
    let Some(from) = from else {
        return Ok(Vec::new());
    };
    migration(embedded, from)?;
    Ok(embedded
        .migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| *v <= from)
        .collect())
}

/// The embedded migration `version`, or the unknown-version error a script target gives.
pub(crate) fn migration(embedded: &Embedded, version: i64) -> Result<EmbeddedMigration, Error> {
    embedded
        .migration(version)
        .ok_or(Error::Target(TargetError::UnknownVersion { version }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluefox_core::embedded::EmbeddedSnapshot;

    const MIGRATIONS: [EmbeddedMigration; 2] = [
        EmbeddedMigration {
            version: 1,
            name: "users",
            message: "users",
            parent: None,
            file: "V1__users.sql",
            up: "CREATE TABLE \"users\" (\"id\" BIGINT);",
            down: Some("DROP TABLE \"users\";"),
            checksum: 11,
        },
        EmbeddedMigration {
            version: 2,
            name: "seed",
            message: "seed",
            parent: Some(1),
            file: "V2__seed.sql",
            up: "INSERT INTO \"users\" VALUES (1);",
            down: None,
            checksum: 22,
        },
    ];
    static EMBEDDED: std::sync::LazyLock<Embedded> = std::sync::LazyLock::new(|| Embedded {
        dialect: "postgresql",
        migrations: bluefox_core::embedded::pack::leak_migrations(MIGRATIONS).unwrap(),
        snapshot: EmbeddedSnapshot::EMPTY,
        history_digest: "",
    });

    #[test]
    fn upgrade_script_has_refinery_rows() {
        let sql = upgrade_sql(&EMBEDDED, Some(1), Target::Head).unwrap();
        let expected = "-- bluefox upgrade from 1 to head: 1 migration(s), one transaction each.
-- Apply with: psql -v ON_ERROR_STOP=1 -f <this file>

CREATE TABLE IF NOT EXISTS refinery_schema_history(
    version int8 PRIMARY KEY,
    name VARCHAR(255),
    applied_on VARCHAR(255),
    checksum VARCHAR(255));
CREATE TABLE IF NOT EXISTS \"bluefox_down_sql\"(
    \"version\" int8 PRIMARY KEY,
    \"name\" TEXT NOT NULL,
    \"down\" TEXT);

-- 2 (V2__seed.sql)
BEGIN;
INSERT INTO \"users\" VALUES (1);
;
INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (2, 'seed', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '22');
INSERT INTO \"bluefox_down_sql\" (\"version\", \"name\", \"down\") VALUES (2, 'seed', NULL) ON CONFLICT (\"version\") DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"down\" = EXCLUDED.\"down\";
COMMIT;

";
        assert_eq!(sql, expected);
    }

    #[test]
    fn live_block_ends_with_what_the_run_asks_before_commit() {
        let insert = "INSERT INTO refinery_schema_history VALUES (2)";
        let down_row = "INSERT INTO \"bluefox_down_sql\" (\"version\", \"name\", \"down\") VALUES (set_config('bluefox.applied', '2', false)::int8, 'seed', NULL) ON CONFLICT (\"version\") DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"down\" = EXCLUDED.\"down\";";
        let plain = live_upgrade_block(&MIGRATIONS[1], insert, "", None);
        assert_eq!(
            plain.sql,
            format!("BEGIN;\nINSERT INTO \"users\" VALUES (1);\n;\nWITH \"refinery_row\" AS ({insert})\n{down_row}\nCOMMIT;")
        );
        assert_eq!((plain.prefix_chars, plain.prefix_statements), (7, 1));
        let last = live_upgrade_block(
            &MIGRATIONS[1],
            insert,
            "SET LOCAL synchronous_commit = 'on';\n",
            None,
        );
        assert_eq!(
            last.sql,
            format!("BEGIN;\nINSERT INTO \"users\" VALUES (1);\n;\nWITH \"refinery_row\" AS ({insert})\n{down_row}\nSET LOCAL synchronous_commit = 'on';\nCOMMIT;")
        );
    }

    #[test]
    fn the_down_tables_columns_are_quoted_as_quote_ident_quotes_them() {
        assert_eq!(
            [V, N, D].map(str::to_string),
            ["version", "name", "down"].map(quote_ident)
        );
    }

    #[test]
    fn the_live_down_row_is_down_inserts_with_the_setting_as_its_version() {
        for m in MIGRATIONS.iter() {
            let block = live_upgrade_block(m, "INSERT", "", None);
            let down_row = down_insert(m).replacen(
                &format!("VALUES ({}, ", m.version),
                &format!(
                    "VALUES (set_config('bluefox.applied', '{}', false)::int8, ",
                    m.version
                ),
                1,
            );
            assert!(
                block
                    .sql
                    .ends_with(&format!("(INSERT)\n{down_row}\nCOMMIT;")),
                "{}",
                block.sql
            );
        }
        // A buffer used before is cleared.
        let mut out = String::from("left over");
        write_live_upgrade_block(&mut out, &MIGRATIONS[0], "INSERT", "", None);
        assert!(out.starts_with("BEGIN;\n"), "{out}");
    }

    #[test]
    fn a_pipelined_block_first_checks_that_the_one_before_committed() {
        let insert = "INSERT INTO refinery_schema_history VALUES (2)";
        let block = live_upgrade_block(&MIGRATIONS[1], insert, "", Some(1));
        let guard = "BEGIN;\nSELECT 1 / coalesce((current_setting('bluefox.applied', true) = '1')::int, 0);\n";
        assert!(block.sql.starts_with(guard), "{}", block.sql);
        assert_eq!(block.prefix_chars, guard.chars().count());
        assert_eq!(block.prefix_statements, 2);
        assert_eq!(&block.sql[guard.len()..guard.len() + 8], "INSERT I");
    }

    #[test]
    fn downgrade_script_and_its_refusals() {
        let sql = downgrade_sql(&EMBEDDED, 1, Target::Base).unwrap();
        assert!(sql.ends_with("-- 1 (V1__users.sql)\nBEGIN;\nDROP TABLE \"users\";\n;\nDELETE FROM refinery_schema_history WHERE version = 1;\nDELETE FROM \"bluefox_down_sql\" WHERE \"version\" = 1;\nCOMMIT;\n\n"), "{sql}");
        let e = downgrade_sql(&EMBEDDED, 2, Target::Back(1)).unwrap_err();
        assert!(matches!(e, Error::Irreversible { version: 2, .. }));
        let e = upgrade_sql(&EMBEDDED, Some(9), Target::Head).unwrap_err();
        assert!(matches!(
            e,
            Error::Target(TargetError::UnknownVersion { version: 9 })
        ));
    }
}
