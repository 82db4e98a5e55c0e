//! The static shapes that build.rs generates into OUT_DIR and the runtime reads.
//!
//! Everything is `&'static` so the generated code is pure data: no allocation, parsing or hashing
//! per migration at boot. `bluefox_runtime::embedded!()` evaluates to a `&'static Embedded`.

/// Everything build.rs embedded for one crate: its migrations and the schema they lead to.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The dialect the migrations were written for (`"postgresql"`).
    pub dialect: &'static str,
    /// Every migration of `migrations/`, in ascending version order.
    pub migrations: &'static [EmbeddedMigration],
    /// The schema snapshot of `migrations/` (the schema at the newest migration).
    pub snapshot: EmbeddedSnapshot,
    /// [`history_digest`] of `migrations`, computed at build time: a boot compares it with the
    /// same digest computed by the server over the history table, one row instead of one per
    /// migration.
    pub history_digest: &'static str,
}

/// One migration file, normalised (LF line ends, no BOM) and checksummed at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedMigration {
    /// The version from the file name (`V{version}__{name}.sql`).
    pub version: i64,
    /// The name from the file name, as refinery reads it (`add_users_table`).
    pub name: &'static str,
    /// The message of the `-- bluefox:` header; empty for a hand-written file without one.
    pub message: &'static str,
    /// The version this migration was generated on top of; `None` for `base` or a file without
    /// a header.
    pub parent: Option<i64>,
    /// The file name inside `migrations/`.
    pub file: &'static str,
    /// The up SQL: what refinery applies.
    pub up: &'static str,
    /// The down SQL; `None` when the file has no down section (irreversible).
    pub down: Option<&'static str>,
    /// refinery's checksum of (name, version, up), computed at build time.
    pub checksum: u64,
}

/// The schema snapshot, both as its canonical text (for a full comparison) and as a tree of
/// tables and columns (for the drift check, without parsing).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSnapshot {
    /// The snapshot file's text (JSON), normalised (LF line ends, no BOM): what
    /// `Snapshot::to_text` wrote for `bluefox make`.
    pub text: &'static str,
    /// A stable 64-bit fingerprint of `text`.
    pub fingerprint: u64,
    /// Tables in name order.
    pub tables: &'static [EmbeddedTable],
}

/// A table of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedTable {
    /// The table's SQL name.
    pub name: &'static str,
    /// Its columns in declaration order.
    pub columns: &'static [EmbeddedColumn],
}

/// A column of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedColumn {
    /// The column's SQL name.
    pub name: &'static str,
    /// The canonical SQL type (`BIGINT`, `TEXT[]`).
    pub sql_type: &'static str,
    /// Whether NULL is allowed.
    pub nullable: bool,
}

impl Embedded {
    /// The migration with this version, if embedded.
    pub fn migration(&self, version: i64) -> Option<&'static EmbeddedMigration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }
}

/// The digest of a migration history: lowercase hex SHA-256 of one line per migration, ascending
/// by version, `{version}:{name}:{checksum}\n`. The server computes the same over
/// `refinery_schema_history` ([`HISTORY_DIGEST_SQL`]), so a boot learns that every embedded
/// migration is applied, unedited, and nothing else is, from one row.
pub fn history_digest<'a>(migrations: impl IntoIterator<Item = (i64, &'a str, u64)>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (version, name, checksum) in migrations {
        hasher.update(format!("{version}:{name}:{checksum}\n").as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The SQL expression computing [`history_digest`] over refinery's history table (its columns
/// `version`, `name`, `checksum`); an empty table gives the digest of nothing.
pub const HISTORY_DIGEST_SQL: &str = "encode(sha256(convert_to(coalesce(string_agg(\
     version::text || ':' || name || ':' || checksum || E'\\n', '' ORDER BY version), ''), 'UTF8')), 'hex')";

#[cfg(test)]
mod tests {
    use super::history_digest;

    #[test]
    fn digest_of_nothing_is_sha256_of_empty_input() {
        assert_eq!(
            history_digest([]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digest_covers_version_name_and_checksum() {
        let base = history_digest([(1, "a", 7), (2, "b", 8)]);
        assert_eq!(base.len(), 64);
        assert_ne!(base, history_digest([(1, "a", 7), (2, "b", 9)]));
        assert_ne!(base, history_digest([(1, "a", 7), (2, "c", 8)]));
        assert_ne!(base, history_digest([(1, "a", 7), (3, "b", 8)]));
        assert_ne!(base, history_digest([(1, "a", 7)]));
    }
}
