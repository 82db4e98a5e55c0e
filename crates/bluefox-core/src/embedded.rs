//! The static shapes that build.rs generates into OUT_DIR and the runtime reads.
//!
//! Everything is `&'static` so the generated code is pure data: no allocation, parsing or hashing
//! per migration at boot. `bluefox_runtime::embedded!()` evaluates to a `&'static Embedded`.
//!
//! The strings are stored packed: all of the migrations' strings in one text and all of the
//! snapshot's table and column names in another, located by `u32` offsets in fixed-size entries
//! ([`MigrationEntry`], [`TableEntry`], [`ColumnEntry`]), themselves stored as little-endian
//! records in one byte string per kind: rustc reads a byte string literal as one token, where
//! a thousand struct literals each cost it a path, a type check and a constant to evaluate
//! (about 70 ms of every dev rebuild of an app embedding 1000 migrations). A `&'static str` in static data is a
//! pointer, and in a position-independent executable every such pointer is a relocation the
//! dynamic loader applies (and a page it writes) before `main`: with a thousand table
//! migrations and their snapshot that was about 7,000 of them on every start, for data a boot
//! with nothing pending never reads. Offsets need none, and the binary is smaller (11 % there;
//! BENCHMARKS.md has the measurements). Readers get views with plain `&'static str` fields
//! ([`EmbeddedMigration`], [`EmbeddedTable`], [`EmbeddedColumn`]); [`pack`] builds the packed
//! form, for build.rs and for code that assembles an `Embedded` at run time.

pub mod pack;

/// Everything build.rs embedded for one crate: its migrations and the schema they lead to.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The dialect the migrations were written for (`"postgresql"`).
    pub dialect: &'static str,
    /// Every migration of `migrations/`, in ascending version order.
    pub migrations: Migrations,
    /// The schema snapshot of `migrations/` (the schema at the newest migration).
    pub snapshot: EmbeddedSnapshot,
    /// [`history_digest`] of `migrations`, computed at build time: a boot compares it with the
    /// same digest computed by the server over the history table, one row instead of one per
    /// migration.
    pub history_digest: &'static str,
}

/// The embedded migrations, in ascending version order: one text holding every migration's
/// strings and one [`MigrationEntry`] per migration locating them. Read through [`Migrations::iter`],
/// [`Migrations::get`] and [`Migrations::find`], which give [`EmbeddedMigration`] views.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// The strings of every migration, one after another (see [`MigrationEntry::bounds`]).
    pub text: &'static str,
    /// One [`MigrationEntry`] per migration, in ascending version order, as
    /// [`MigrationEntry::SIZE`]-byte records ([`MigrationEntry::to_bytes`]).
    pub entries: &'static [u8],
}

/// Where one migration's strings are in [`Migrations::text`], with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationEntry {
    /// The version from the file name.
    pub version: i64,
    /// The parent version; `None` for `base` or a file without a header.
    pub parent: Option<i64>,
    /// refinery's checksum of (name, version, up).
    pub checksum: u64,
    /// Byte offsets into the text: the name is `bounds[0]..bounds[1]`, the message
    /// `bounds[1]..bounds[2]`, the file name `bounds[2]..bounds[3]`, the up SQL
    /// `bounds[3]..bounds[4]`, the down SQL `bounds[4]..bounds[5]`.
    pub bounds: [u32; 6],
    /// Whether the file has a down section (an empty one is still one).
    pub has_down: bool,
}

/// One migration file, normalised (LF line ends, no BOM) and checksummed at build time: a view
/// of a [`MigrationEntry`] and its text.
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

/// The schema snapshot, both as its canonical text (for a full comparison) and as tables and
/// columns (for the drift check, without parsing).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSnapshot {
    /// The snapshot file's text (JSON), normalised (LF line ends, no BOM): what
    /// `Snapshot::to_text` wrote for `bluefox make`.
    pub text: &'static str,
    /// A stable 64-bit fingerprint of `text`.
    pub fingerprint: u64,
    /// Tables in name order.
    pub tables: Tables,
}

/// The snapshot's tables in name order: one text holding their names and their columns' names
/// and types, a [`TableEntry`] per table and a [`ColumnEntry`] per column. Read through
/// [`Tables::iter`], which gives [`EmbeddedTable`] views.
#[derive(Debug, Clone, Copy)]
pub struct Tables {
    /// The names and types (a type used by many columns is stored once).
    pub text: &'static str,
    /// One [`TableEntry`] per table, in name order, as [`TableEntry::SIZE`]-byte records.
    pub tables: &'static [u8],
    /// Every table's columns, table after table, each table's in declaration order, as
    /// [`ColumnEntry::SIZE`]-byte records.
    pub columns: &'static [u8],
}

/// Where a table's name is in [`Tables::text`] and which of [`Tables::columns`] are its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableEntry {
    /// Byte offsets of the name: `name[0]..name[1]`.
    pub name: [u32; 2],
    /// Its columns: `columns[0]..columns[1]` of [`Tables::columns`].
    pub columns: [u32; 2],
}

/// Where a column's name and type are in [`Tables::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnEntry {
    /// Byte offsets of the name.
    pub name: [u32; 2],
    /// Byte offsets of the canonical SQL type.
    pub sql_type: [u32; 2],
    /// Whether NULL is allowed.
    pub nullable: bool,
}

/// A table of the snapshot (a view of a [`TableEntry`]).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedTable {
    /// The table's SQL name.
    pub name: &'static str,
    /// Its columns in declaration order.
    pub columns: Columns,
}

/// A table's columns in declaration order; [`Columns::iter`] gives [`EmbeddedColumn`] views.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    text: &'static str,
    entries: &'static [u8],
}

/// A column of the snapshot (a view of a [`ColumnEntry`]).
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
    pub fn migration(&self, version: i64) -> Option<EmbeddedMigration> {
        self.migrations.find(version)
    }
}

/// The text between two offsets. The offsets come from [`pack`] (directly or through the code
/// build.rs generated with it), which only records offsets of what it appended, so they are
/// always in bounds and on character boundaries; an `Embedded` assembled by hand with other
/// offsets is a bug in that code, and this panics naming it.
fn slice(text: &'static str, start: u32, end: u32) -> &'static str {
    match text.get(start as usize..end as usize) {
        Some(part) => part,
        None => panic!(
            "embedded data is inconsistent: {start}..{end} is not a string of its {}-byte text; \
             build it with bluefox_core::embedded::pack",
            text.len()
        ),
    }
}

impl Migrations {
    /// No migrations.
    pub const EMPTY: Migrations = Migrations {
        text: "",
        entries: &[],
    };

    /// The number of migrations.
    pub fn len(&self) -> usize {
        self.entries.len() / MigrationEntry::SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The migration at `index` (in version order).
    pub fn get(&self, index: usize) -> Option<EmbeddedMigration> {
        let size = MigrationEntry::SIZE;
        let record = self.entries.get(index * size..(index + 1) * size)?;
        Some(view(self.text, record))
    }

    /// The newest migration.
    pub fn last(&self) -> Option<EmbeddedMigration> {
        self.get(self.len().checked_sub(1)?)
    }

    /// The migration with this version.
    pub fn find(&self, version: i64) -> Option<EmbeddedMigration> {
        let (records, _) = self.entries.as_chunks::<{ MigrationEntry::SIZE }>();
        let index = records
            .binary_search_by_key(&version, |record| MigrationEntry::version_of(record))
            .ok()?;
        self.get(index)
    }

    /// Every migration, in version order.
    pub fn iter(&self) -> MigrationsIter {
        MigrationsIter {
            text: self.text,
            entries: self.entries.chunks_exact(MigrationEntry::SIZE),
        }
    }

    /// The versions, in order (no strings are looked at).
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + 'static {
        self.entries
            .chunks_exact(MigrationEntry::SIZE)
            .map(MigrationEntry::version_of)
    }
}

fn view(text: &'static str, record: &[u8]) -> EmbeddedMigration {
    let entry = MigrationEntry::from_bytes(record);
    let [name, message, file, up, down, end] = entry.bounds;
    EmbeddedMigration {
        version: entry.version,
        name: slice(text, name, message),
        message: slice(text, message, file),
        parent: entry.parent,
        file: slice(text, file, up),
        up: slice(text, up, down),
        down: entry.has_down.then(|| slice(text, down, end)),
        checksum: entry.checksum,
    }
}

/// The little-endian bytes `at..at + N` of a record. Records come from [`pack`], which writes
/// them whole; a shorter one is a bug in code that assembled an `Embedded` by hand.
fn le<const N: usize>(record: &[u8], at: usize) -> [u8; N] {
    match record
        .get(at..at + N)
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
    {
        Some(bytes) => bytes,
        None => panic!(
            "embedded data is inconsistent: a record of {} bytes has no bytes {at}..{}; build \
             it with bluefox_core::embedded::pack",
            record.len(),
            at + N
        ),
    }
}

fn u32_at(record: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(le(record, at))
}

fn pair_at(record: &[u8], at: usize) -> [u32; 2] {
    [u32_at(record, at), u32_at(record, at + 4)]
}

impl MigrationEntry {
    /// The bytes of one record: version, parent (0 when none), checksum (8 bytes each), the six
    /// bounds (4 bytes each), then a byte of flags (1: has a parent, 2: has a down section).
    pub const SIZE: usize = 8 + 8 + 8 + 6 * 4 + 1;

    /// The record of this entry, little-endian.
    pub fn to_bytes(&self) -> [u8; MigrationEntry::SIZE] {
        let mut record = [0u8; MigrationEntry::SIZE];
        record[0..8].copy_from_slice(&self.version.to_le_bytes());
        record[8..16].copy_from_slice(&self.parent.unwrap_or(0).to_le_bytes());
        record[16..24].copy_from_slice(&self.checksum.to_le_bytes());
        for (i, bound) in self.bounds.iter().enumerate() {
            record[24 + 4 * i..28 + 4 * i].copy_from_slice(&bound.to_le_bytes());
        }
        record[48] = u8::from(self.parent.is_some()) | (u8::from(self.has_down) << 1);
        record
    }

    /// The entry a record holds (see [`MigrationEntry::to_bytes`]).
    ///
    /// # Panics
    /// When `record` is shorter than [`MigrationEntry::SIZE`].
    pub fn from_bytes(record: &[u8]) -> MigrationEntry {
        let flags = le::<1>(record, 48)[0];
        let mut bounds = [0u32; 6];
        for (i, bound) in bounds.iter_mut().enumerate() {
            *bound = u32_at(record, 24 + 4 * i);
        }
        MigrationEntry {
            version: MigrationEntry::version_of(record),
            parent: (flags & 1 != 0).then(|| i64::from_le_bytes(le(record, 8))),
            checksum: u64::from_le_bytes(le(record, 16)),
            bounds,
            has_down: flags & 2 != 0,
        }
    }

    fn version_of(record: &[u8]) -> i64 {
        i64::from_le_bytes(le(record, 0))
    }
}

impl TableEntry {
    /// The bytes of one record: the name's two offsets, then the columns' two indexes.
    pub const SIZE: usize = 4 * 4;

    /// The record of this entry, little-endian.
    pub fn to_bytes(&self) -> [u8; TableEntry::SIZE] {
        let mut record = [0u8; TableEntry::SIZE];
        for (i, value) in self.name.iter().chain(&self.columns).enumerate() {
            record[4 * i..4 * i + 4].copy_from_slice(&value.to_le_bytes());
        }
        record
    }

    /// The entry a record holds (see [`TableEntry::to_bytes`]).
    ///
    /// # Panics
    /// When `record` is shorter than [`TableEntry::SIZE`].
    pub fn from_bytes(record: &[u8]) -> TableEntry {
        TableEntry {
            name: pair_at(record, 0),
            columns: pair_at(record, 8),
        }
    }
}

impl ColumnEntry {
    /// The bytes of one record: the name's two offsets, the type's two, then 1 when nullable.
    pub const SIZE: usize = 4 * 4 + 1;

    /// The record of this entry, little-endian.
    pub fn to_bytes(&self) -> [u8; ColumnEntry::SIZE] {
        let mut record = [0u8; ColumnEntry::SIZE];
        for (i, value) in self.name.iter().chain(&self.sql_type).enumerate() {
            record[4 * i..4 * i + 4].copy_from_slice(&value.to_le_bytes());
        }
        record[16] = u8::from(self.nullable);
        record
    }

    /// The entry a record holds (see [`ColumnEntry::to_bytes`]).
    ///
    /// # Panics
    /// When `record` is shorter than [`ColumnEntry::SIZE`].
    pub fn from_bytes(record: &[u8]) -> ColumnEntry {
        ColumnEntry {
            name: pair_at(record, 0),
            sql_type: pair_at(record, 8),
            nullable: le::<1>(record, 16)[0] != 0,
        }
    }
}

impl EmbeddedSnapshot {
    /// A snapshot with no text and no tables (a crate without a snapshot file).
    pub const EMPTY: EmbeddedSnapshot = EmbeddedSnapshot {
        text: "",
        fingerprint: 0,
        tables: Tables::EMPTY,
    };
}

impl Tables {
    /// No tables.
    pub const EMPTY: Tables = Tables {
        text: "",
        tables: &[],
        columns: &[],
    };

    /// The number of tables.
    pub fn len(&self) -> usize {
        self.tables.len() / TableEntry::SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table at `index` (in name order), without walking the ones before it: the drift
    /// check looks tables up by name through an index of positions.
    pub fn get(&self, index: usize) -> Option<EmbeddedTable> {
        let size = TableEntry::SIZE;
        let record = self.tables.get(index * size..(index + 1) * size)?;
        Some(table_view(self.text, self.columns, record))
    }

    /// Every table, in name order.
    pub fn iter(&self) -> TablesIter {
        TablesIter {
            text: self.text,
            tables: self.tables.chunks_exact(TableEntry::SIZE),
            columns: self.columns,
        }
    }
}

impl Columns {
    /// The number of columns.
    pub fn len(&self) -> usize {
        self.entries.len() / ColumnEntry::SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every column, in declaration order.
    pub fn iter(&self) -> ColumnsIter {
        ColumnsIter {
            text: self.text,
            entries: self.entries.chunks_exact(ColumnEntry::SIZE),
        }
    }
}

/// Implements the iterator traits and `IntoIterator` (for the collection by value and by
/// reference) for an iterator of views over records.
macro_rules! views {
    ($collection:ty, $iter:ident, $field:ident, $item:ty, $view:expr) => {
        impl Iterator for $iter {
            type Item = $item;

            fn next(&mut self) -> Option<$item> {
                let entry = self.$field.next()?;
                Some($view(&*self, entry))
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.$field.size_hint()
            }
        }

        impl DoubleEndedIterator for $iter {
            fn next_back(&mut self) -> Option<$item> {
                let entry = self.$field.next_back()?;
                Some($view(&*self, entry))
            }
        }

        impl ExactSizeIterator for $iter {}

        impl IntoIterator for $collection {
            type Item = $item;
            type IntoIter = $iter;

            fn into_iter(self) -> $iter {
                self.iter()
            }
        }

        impl IntoIterator for &$collection {
            type Item = $item;
            type IntoIter = $iter;

            fn into_iter(self) -> $iter {
                self.iter()
            }
        }
    };
}

/// The migrations in version order, as [`EmbeddedMigration`] views.
#[derive(Debug, Clone)]
pub struct MigrationsIter {
    text: &'static str,
    entries: std::slice::ChunksExact<'static, u8>,
}

views!(
    Migrations,
    MigrationsIter,
    entries,
    EmbeddedMigration,
    |it: &MigrationsIter, entry| view(it.text, entry)
);

/// The tables in name order, as [`EmbeddedTable`] views.
#[derive(Debug, Clone)]
pub struct TablesIter {
    text: &'static str,
    tables: std::slice::ChunksExact<'static, u8>,
    columns: &'static [u8],
}

views!(
    Tables,
    TablesIter,
    tables,
    EmbeddedTable,
    |it: &TablesIter, record: &[u8]| table_view(it.text, it.columns, record)
);

/// The [`EmbeddedTable`] view of a [`TableEntry`] record, its columns found in `columns`.
fn table_view(text: &'static str, columns: &'static [u8], record: &[u8]) -> EmbeddedTable {
    let table = TableEntry::from_bytes(record);
    let [first, end] = table.columns;
    let bytes = first as usize * ColumnEntry::SIZE..end as usize * ColumnEntry::SIZE;
    let entries = match columns.get(bytes) {
        Some(entries) => entries,
        None => panic!(
            "embedded data is inconsistent: columns {first}..{end} of {}; build it with \
             bluefox_core::embedded::pack",
            columns.len() / ColumnEntry::SIZE
        ),
    };
    EmbeddedTable {
        name: slice(text, table.name[0], table.name[1]),
        columns: Columns { text, entries },
    }
}

/// A table's columns in declaration order, as [`EmbeddedColumn`] views.
#[derive(Debug, Clone)]
pub struct ColumnsIter {
    text: &'static str,
    entries: std::slice::ChunksExact<'static, u8>,
}

views!(
    Columns,
    ColumnsIter,
    entries,
    EmbeddedColumn,
    |it: &ColumnsIter, record: &[u8]| {
        let column = ColumnEntry::from_bytes(record);
        EmbeddedColumn {
            name: slice(it.text, column.name[0], column.name[1]),
            sql_type: slice(it.text, column.sql_type[0], column.sql_type[1]),
            nullable: column.nullable,
        }
    }
);

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
