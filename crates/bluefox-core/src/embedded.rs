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
    /// The canonical snapshot file text (JSON), exactly as `Snapshot::to_text` writes it.
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
