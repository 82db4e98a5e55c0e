//! Reading and validating refinery's history table before refinery sees it.
//!
//! refinery panics on a row it cannot read (an `applied_on` that is not RFC 3339, a checksum that
//! is not a number) and folds an edited migration into one opaque error. bluefox reads the table
//! itself, as text, so every such row becomes a typed [`Error`] naming it, and compares stored
//! and embedded checksums itself.

use crate::error::Error;
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::{Client, SimpleQueryMessage};

/// refinery's history table (its default name, unqualified: the first schema of `search_path`).
pub const HISTORY_TABLE: &str = "refinery_schema_history";
/// bluefox's table of down SQL, one row per applied migration, written in the same transaction.
pub const DOWN_TABLE: &str = "bluefox_down_sql";

const UNDEFINED_TABLE: &str = "42P01";

/// One row of `refinery_schema_history`, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// The migration's version.
    pub version: i64,
    /// The name refinery stored.
    pub name: String,
    /// When it was applied.
    pub applied_on: OffsetDateTime,
    /// The checksum refinery stored.
    pub checksum: u64,
}

/// The history checked against the embedded migrations.
#[derive(Debug, Clone)]
pub struct Status {
    /// Every history row, ascending by version.
    pub applied: Vec<AppliedRow>,
    /// Embedded migrations not applied yet, ascending.
    pub pending: Vec<EmbeddedMigration>,
    /// Applied versions this binary does not contain, ascending.
    pub unknown: Vec<i64>,
}

impl Status {
    /// The applied versions, ascending.
    pub fn applied_versions(&self) -> Vec<i64> {
        versions(&self.applied)
    }
}

/// The versions of history `rows`, in their order.
fn versions(rows: &[AppliedRow]) -> Vec<i64> {
    rows.iter().map(|r| r.version).collect()
}

/// Reads `refinery_schema_history` in one round trip; a missing table is an empty history.
///
/// # Errors
/// [`Error::HistoryCorrupt`] for a row refinery could not read, [`Error::Database`] when the
/// query fails.
pub async fn read(client: &Client) -> Result<Vec<AppliedRow>, Error> {
    let query = format!(
        "SELECT version::text, name, applied_on, checksum FROM {HISTORY_TABLE} ORDER BY version"
    );
    let messages = match client.simple_query(&query).await {
        Ok(messages) => messages,
        Err(e) if is_undefined_table(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::db("read the migration history", &e)),
    };
    let mut rows = Vec::new();
    for message in messages {
        if let SimpleQueryMessage::Row(row) = message {
            rows.push(parse_row(row.get(0), row.get(1), row.get(2), row.get(3))?);
        }
    }
    // ORDER BY sorts text if someone retyped the column; the checks below need numeric order.
    rows.sort_by_key(|r| r.version);
    Ok(rows)
}

/// The server's [`history_digest`](bluefox_core::embedded::history_digest) of the history table,
/// one row whatever its length: equal to the embedded one exactly when every embedded migration
/// is applied with its name and checksum and nothing else is. `None` when the table is missing
/// or the query fails (the caller then reads the rows, which explains what is wrong).
pub async fn read_digest(client: &Client) -> Option<String> {
    let query = format!(
        "SELECT {} FROM {HISTORY_TABLE}",
        bluefox_core::embedded::HISTORY_DIGEST_SQL
    );
    let messages = client.simple_query(&query).await.ok()?;
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    })
}

/// The down SQL stored in `bluefox_down_sql`, by version (`None` inside: stored as irreversible).
///
/// # Errors
/// [`Error::Database`] when the query fails; a missing table is an empty map.
pub async fn read_down(
    client: &Client,
) -> Result<std::collections::BTreeMap<i64, Option<String>>, Error> {
    let query = format!("SELECT version::text, down FROM {DOWN_TABLE}");
    let messages = match client.simple_query(&query).await {
        Ok(messages) => messages,
        Err(e) if is_undefined_table(&e) => return Ok(Default::default()),
        Err(e) => return Err(Error::db("read the stored down SQL", &e)),
    };
    let mut map = std::collections::BTreeMap::new();
    for message in messages {
        if let SimpleQueryMessage::Row(row) = message {
            if let Some(version) = row.get(0).and_then(|v| v.parse::<i64>().ok()) {
                map.insert(version, row.get(1).map(str::to_string));
            }
        }
    }
    Ok(map)
}

pub(crate) fn is_undefined_table(error: &tokio_postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.code().code() == UNDEFINED_TABLE)
}

/// Parses one history row given as text, the way refinery would read it, without panicking.
///
/// # Errors
/// [`Error::HistoryCorrupt`] naming the row and the column.
pub fn parse_row(
    version: Option<&str>,
    name: Option<&str>,
    applied_on: Option<&str>,
    checksum: Option<&str>,
) -> Result<AppliedRow, Error> {
    let shown = |v: Option<&str>| v.map_or_else(|| "NULL".to_string(), |s| format!("{s:?}"));
    let row_version = version.unwrap_or("NULL").to_string();
    let corrupt = |column: &'static str, value: Option<&str>, reason: &str| Error::HistoryCorrupt {
        version: row_version.clone(),
        column,
        value: shown(value),
        reason: reason.to_string(),
    };
    let parsed_version = version
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| corrupt("version", version, "not a 64-bit integer"))?;
    let name = name.ok_or_else(|| corrupt("name", None, "a migration name is required"))?;
    let applied = applied_on
        .ok_or_else(|| corrupt("applied_on", None, "an RFC 3339 time is required"))
        .and_then(|text| {
            OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
                corrupt(
                    "applied_on",
                    applied_on,
                    &format!("not an RFC 3339 time ({e})"),
                )
            })
        })?;
    let sum = checksum
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or_else(|| corrupt("checksum", checksum, "not an unsigned 64-bit number"))?;
    Ok(AppliedRow {
        version: parsed_version,
        name: name.to_string(),
        applied_on: applied,
        checksum: sum,
    })
}

/// Checks the history against the embedded migrations: every applied migration the binary
/// contains must have its embedded checksum, and no pending migration may be older than the
/// newest applied one. Unknown applied versions are returned, for the caller to warn or refuse.
///
/// # Errors
/// [`Error::ChecksumMismatch`] or [`Error::OutOfOrder`].
pub fn validate(embedded: &Embedded, applied: Vec<AppliedRow>) -> Result<Status, Error> {
    let checked = check(embedded, applied)?;
    let pending = pending_of(embedded, &checked.applied).collect();
    Ok(Status {
        applied: checked.applied,
        pending,
        unknown: checked.unknown,
    })
}

/// The history checked as [`validate`] checks it, with the pending migrations counted rather
/// than listed: all boot and the migrator's upgrade need. The list is a view of 112 bytes per
/// migration; built for a run applying 1000 (twice: before the lock and under it), it was the
/// largest block of heap such a run touched.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Every history row, ascending by version.
    pub applied: Vec<AppliedRow>,
    /// How many embedded migrations are not applied yet.
    pub pending: usize,
    /// Applied versions this binary does not contain, ascending.
    pub unknown: Vec<i64>,
}

impl Checked {
    /// The applied versions, ascending.
    pub fn applied_versions(&self) -> Vec<i64> {
        versions(&self.applied)
    }
}

/// [`validate`] without the list of pending migrations (see [`Checked`]).
///
/// # Errors
/// [`Error::ChecksumMismatch`] or [`Error::OutOfOrder`].
pub(crate) fn check(embedded: &Embedded, applied: Vec<AppliedRow>) -> Result<Checked, Error> {
    let mut unknown = Vec::new();
    for row in &applied {
        match embedded.migration(row.version) {
            Some(m) if m.checksum != row.checksum || m.name != row.name => {
                return Err(Error::ChecksumMismatch {
                    version: m.version,
                    file: m.file,
                    stored: row.checksum,
                    embedded: m.checksum,
                    stored_name: row.name.clone(),
                    embedded_name: m.name,
                });
            }
            Some(_) => {}
            None => unknown.push(row.version),
        }
    }
    // One pass over the embedded migrations: the first pending one, then the count.
    let mut pending_iter = pending_of(embedded, &applied);
    let first_pending = pending_iter.next();
    let pending = first_pending
        .as_ref()
        .map_or(0, |_| 1 + pending_iter.count());
    if let (Some(newest), Some(first)) = (applied.last(), first_pending) {
        if first.version < newest.version {
            return Err(Error::OutOfOrder {
                version: first.version,
                file: first.file,
                newest_applied: newest.version,
            });
        }
    }
    Ok(Checked {
        applied,
        pending,
        unknown,
    })
}

/// The embedded migrations without a row in `applied` (ascending by version), ascending.
pub(crate) fn pending_of<'a>(
    embedded: &'a Embedded,
    applied: &'a [AppliedRow],
) -> impl Iterator<Item = EmbeddedMigration> + 'a {
    embedded.migrations.iter().filter(|m| {
        applied
            .binary_search_by_key(&m.version, |r| r.version)
            .is_err()
    })
}

/// Warns about applied versions the binary does not contain, or refuses them in strict mode.
///
/// # Errors
/// [`Error::UnknownApplied`] when `strict` and there are any.
pub fn check_unknown(status: &Status, strict: bool) -> Result<(), Error> {
    refuse_unknown(&status.unknown, strict)
}

/// [`check_unknown`] of the `unknown` versions alone.
///
/// # Errors
/// [`Error::UnknownApplied`] when `strict` and there are any.
pub(crate) fn refuse_unknown(unknown: &[i64], strict: bool) -> Result<(), Error> {
    if unknown.is_empty() {
        return Ok(());
    }
    if strict {
        return Err(Error::UnknownApplied {
            versions: unknown.to_vec(),
        });
    }
    tracing::warn!(
        versions = ?unknown,
        "the database has applied migrations this binary does not contain (it was migrated by a newer build); starting anyway"
    );
    Ok(())
}

/// One line of `bluefox history`: a migration known to the binary, the database, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The migration's version.
    pub version: i64,
    /// Its name (embedded, else as stored).
    pub name: String,
    /// When it was applied; `None` when pending.
    pub applied_on: Option<OffsetDateTime>,
    /// The embedded migration; `None` when only the database knows it.
    pub migration: Option<EmbeddedMigration>,
    /// The checksum stored in the history table; `None` when pending.
    pub stored_checksum: Option<u64>,
}

impl HistoryEntry {
    /// Whether the database has applied it.
    pub fn is_applied(&self) -> bool {
        self.applied_on.is_some()
    }

    /// Whether it was applied with a checksum other than the embedded one (an edited file).
    pub fn is_edited(&self) -> bool {
        matches!((self.migration, self.stored_checksum), (Some(m), Some(c)) if m.checksum != c)
    }
}

/// Every migration known to the binary or the database, ascending by version.
pub fn entries(embedded: &Embedded, applied: &[AppliedRow]) -> Vec<HistoryEntry> {
    let mut map: std::collections::BTreeMap<i64, HistoryEntry> = embedded
        .migrations
        .iter()
        .map(|m| {
            let entry = HistoryEntry {
                version: m.version,
                name: m.name.to_string(),
                applied_on: None,
                migration: Some(m),
                stored_checksum: None,
            };
            (m.version, entry)
        })
        .collect();
    for row in applied {
        let entry = map.entry(row.version).or_insert_with(|| HistoryEntry {
            version: row.version,
            name: row.name.clone(),
            applied_on: None,
            migration: None,
            stored_checksum: None,
        });
        entry.applied_on = Some(row.applied_on);
        entry.stored_checksum = Some(row.checksum);
    }
    map.into_values().collect()
}

/// The heads of the embedded migrations: those no other migration names as its parent. A
/// hand-written file without a header (no parent, no message) follows the migration before it.
pub fn heads(embedded: &Embedded) -> Vec<EmbeddedMigration> {
    let mut parents = std::collections::BTreeSet::new();
    let mut previous = None;
    for m in embedded.migrations.iter() {
        match (m.parent, previous) {
            (Some(p), _) => {
                parents.insert(p);
            }
            (None, Some(before)) if m.message.is_empty() => {
                parents.insert(before);
            }
            (None, _) => {}
        }
        previous = Some(m.version);
    }
    embedded
        .migrations
        .iter()
        .filter(|m| !parents.contains(&m.version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_refinery_row() {
        let row = parse_row(
            Some("20261130052700"),
            Some("add_users"),
            Some("2026-11-30T05:27:00.123456789Z"),
            Some("18446744073709551615"),
        )
        .unwrap();
        assert_eq!(row.version, 20261130052700);
        assert_eq!(row.checksum, u64::MAX);
        assert_eq!(row.applied_on.unix_timestamp(), 1_796_016_420);
    }

    #[test]
    fn corrupt_rows_are_errors_naming_row_and_column() {
        let e = parse_row(Some("3"), Some("x"), Some("yesterday"), Some("1")).unwrap_err();
        assert!(matches!(
            &e,
            Error::HistoryCorrupt { version, column: "applied_on", value, .. }
                if version == "3" && value == "\"yesterday\""
        ));
        let e = parse_row(
            Some("4"),
            Some("x"),
            Some("2026-11-30T05:27:00Z"),
            Some("abc"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with(
            "corrupt row in refinery_schema_history (version 4): column checksum is \"abc\": not an unsigned 64-bit number"
        ), "{e}");
        let e = parse_row(Some("5"), None, Some("2026-11-30T05:27:00Z"), Some("1")).unwrap_err();
        assert!(matches!(e, Error::HistoryCorrupt { column: "name", .. }));
    }

    fn m(version: i64, parent: Option<i64>, message: &'static str) -> EmbeddedMigration {
        EmbeddedMigration {
            version,
            name: "m",
            message,
            parent,
            file: "V__m.sql",
            up: "",
            down: None,
            checksum: version as u64,
        }
    }

    fn embedded(migrations: Vec<EmbeddedMigration>) -> Embedded {
        Embedded {
            dialect: "postgresql",
            migrations: bluefox_core::embedded::pack::leak_migrations(migrations).unwrap(),
            snapshot: bluefox_core::embedded::EmbeddedSnapshot::EMPTY,
            history_digest: "",
        }
    }

    fn row(version: i64, checksum: u64) -> AppliedRow {
        AppliedRow {
            version,
            name: "m".into(),
            applied_on: OffsetDateTime::UNIX_EPOCH,
            checksum,
        }
    }

    #[test]
    fn heads_follow_parents() {
        let linear = embedded(vec![m(1, None, "a"), m(2, Some(1), "b"), m(3, None, "")]);
        let versions: Vec<i64> = heads(&linear).iter().map(|m| m.version).collect();
        assert_eq!(versions, [3]);
        let forked = embedded(vec![
            m(1, None, "a"),
            m(2, Some(1), "b"),
            m(3, Some(1), "c"),
        ]);
        let versions: Vec<i64> = heads(&forked).iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 3]);
    }

    #[test]
    fn validation_rules() {
        let e = embedded(vec![
            m(1, None, "a"),
            m(2, Some(1), "b"),
            m(3, Some(2), "c"),
        ]);
        let status = validate(&e, vec![row(1, 1), row(9, 5)]).unwrap_err();
        assert!(matches!(
            status,
            Error::OutOfOrder {
                version: 2,
                newest_applied: 9,
                ..
            }
        ));
        let status = validate(&e, vec![row(1, 1), row(2, 2)]).unwrap();
        assert_eq!(status.pending.len(), 1);
        assert!(status.unknown.is_empty());
        let status = validate(&e, vec![row(1, 1), row(2, 2), row(3, 3), row(4, 4)]).unwrap();
        assert_eq!(status.unknown, [4]);
        assert!(
            matches!(check_unknown(&status, true), Err(Error::UnknownApplied { versions }) if versions == [4])
        );
        assert!(check_unknown(&status, false).is_ok());
        let mismatch = validate(&e, vec![row(1, 99)]).unwrap_err();
        assert!(matches!(
            mismatch,
            Error::ChecksumMismatch {
                version: 1,
                stored: 99,
                embedded: 1,
                ..
            }
        ));
        let listed = entries(&e, &[row(1, 1), row(7, 7)]);
        let shape: Vec<(i64, bool, bool)> = listed
            .iter()
            .map(|h| (h.version, h.is_applied(), h.migration.is_some()))
            .collect();
        assert_eq!(
            shape,
            [
                (1, true, true),
                (2, false, true),
                (3, false, true),
                (7, true, false)
            ]
        );
    }
}

/// One migration a downgrade reverts: what it runs and what it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DownStep {
    /// Its version.
    pub version: i64,
    /// Its name, as the history table stores it.
    pub name: String,
    /// Its file, or `(not in this binary)` for one only the database knows.
    pub file: String,
    /// The down SQL: embedded, else stored when it was applied.
    pub down: String,
}

/// The steps of a downgrade `plan` (newest first), for either dialect: each migration's down
/// SQL is the embedded one, else the one `stored` when it was applied. A migration with neither
/// stops the whole plan before anything runs.
///
/// # Errors
/// [`Error::Irreversible`] naming the first migration without down SQL.
pub(crate) fn down_steps(
    embedded: &Embedded,
    status: &Status,
    plan: &[i64],
    stored: &std::collections::BTreeMap<i64, Option<String>>,
) -> Result<Vec<DownStep>, Error> {
    plan.iter()
        .map(|&version| {
            let known = embedded.migration(version);
            let file = known.map_or_else(
                || "(not in this binary)".to_string(),
                |m| m.file.to_string(),
            );
            let down = known
                .and_then(|m| m.down.map(str::to_string))
                .or_else(|| stored.get(&version).cloned().flatten())
                .ok_or_else(|| Error::Irreversible {
                    version,
                    file: file.clone(),
                })?;
            let name = status
                .applied
                .iter()
                .find(|row| row.version == version)
                .map(|row| row.name.clone())
                .unwrap_or_default();
            Ok(DownStep {
                version,
                name,
                file,
                down,
            })
        })
        .collect()
}
