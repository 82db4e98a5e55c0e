//! Building the packed form of an [`Embedded`]: build.rs fills these buffers and writes what they
//! hold as literals; code that assembles an `Embedded` at run time (the CLI, tests) fills them and
//! leaks them with [`embedded`].

use super::{
    history_digest, ColumnEntry, Embedded, EmbeddedColumn, EmbeddedMigration, EmbeddedSnapshot,
    MigrationEntry, Migrations, TableEntry, Tables,
};
use std::collections::HashMap;

/// Packing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The text passed the 4 GiB that `u32` offsets can address.
    #[error("the embedded {what} pass 4 GiB, more than offsets into them can address; split the migrations into fewer, smaller files")]
    TooLarge {
        /// Which text (`migrations`, `snapshot tables`).
        what: &'static str,
    },
}

/// One migration's parts, borrowed, for [`MigrationsBuf::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationParts<'a> {
    /// The version from the file name.
    pub version: i64,
    /// The name from the file name.
    pub name: &'a str,
    /// The header's message; empty when there is none.
    pub message: &'a str,
    /// The parent version; `None` for `base` or no header.
    pub parent: Option<i64>,
    /// The file name inside `migrations/`.
    pub file: &'a str,
    /// The up SQL.
    pub up: &'a str,
    /// The down SQL, if the file has a down section.
    pub down: Option<&'a str>,
    /// refinery's checksum of (name, version, up).
    pub checksum: u64,
}

impl From<EmbeddedMigration> for MigrationParts<'static> {
    fn from(m: EmbeddedMigration) -> Self {
        MigrationParts {
            version: m.version,
            name: m.name,
            message: m.message,
            parent: m.parent,
            file: m.file,
            up: m.up,
            down: m.down,
            checksum: m.checksum,
        }
    }
}

/// Packs and leaks migrations given as views (tests and tools that spell them out).
///
/// # Errors
///
/// [`PackError::TooLarge`] when their text passes 4 GiB.
pub fn leak_migrations(
    migrations: impl IntoIterator<Item = EmbeddedMigration>,
) -> Result<Migrations, PackError> {
    let mut buf = MigrationsBuf::default();
    for m in migrations {
        buf.push(m.into())?;
    }
    Ok(buf.leak())
}

/// Packs and leaks tables given as `(name, columns)` (tests and tools that spell them out).
///
/// # Errors
///
/// [`PackError::TooLarge`] when their text passes 4 GiB.
pub fn leak_tables<'a>(
    tables: impl IntoIterator<Item = (&'a str, &'a [EmbeddedColumn])>,
) -> Result<Tables, PackError> {
    let mut buf = TablesBuf::default();
    for (name, columns) in tables {
        buf.push(
            name,
            columns.iter().map(|c| (c.name, c.sql_type, c.nullable)),
        )?;
    }
    Ok(buf.leak())
}

/// The migrations being packed: their text and entries, in the order pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationsBuf {
    /// Every pushed migration's name, message, file name, up and down SQL, one after another.
    pub text: String,
    /// One entry per pushed migration.
    pub entries: Vec<MigrationEntry>,
}

impl MigrationsBuf {
    /// An empty buffer with room for `count` migrations of `text_len` bytes in all.
    pub fn with_capacity(count: usize, text_len: usize) -> MigrationsBuf {
        MigrationsBuf {
            text: String::with_capacity(text_len),
            entries: Vec::with_capacity(count),
        }
    }

    /// Appends a migration (callers push them in ascending version order).
    ///
    /// # Errors
    ///
    /// [`PackError::TooLarge`] when the text would pass 4 GiB.
    pub fn push(&mut self, m: MigrationParts<'_>) -> Result<(), PackError> {
        let mut bounds = [0u32; 6];
        bounds[0] = offset(&self.text, "migrations")?;
        for (bound, part) in
            bounds[1..]
                .iter_mut()
                .zip([m.name, m.message, m.file, m.up, m.down.unwrap_or("")])
        {
            self.text.push_str(part);
            *bound = offset(&self.text, "migrations")?;
        }
        self.entries.push(MigrationEntry {
            version: m.version,
            parent: m.parent,
            checksum: m.checksum,
            bounds,
            has_down: m.down.is_some(),
        });
        Ok(())
    }

    /// The pushed migrations, borrowed from the buffer, in the order pushed.
    pub fn parts(&self) -> impl Iterator<Item = MigrationParts<'_>> + '_ {
        // The bounds are offsets this buffer recorded as it appended, so they slice it.
        let text = |from: u32, to: u32| &self.text[from as usize..to as usize];
        self.entries.iter().map(move |entry| {
            let [name, message, file, up, down, end] = entry.bounds;
            MigrationParts {
                version: entry.version,
                name: text(name, message),
                message: text(message, file),
                parent: entry.parent,
                file: text(file, up),
                up: text(up, down),
                down: entry.has_down.then(|| text(down, end)),
                checksum: entry.checksum,
            }
        })
    }

    /// The entries as the records [`Migrations::entries`] holds.
    pub fn entry_bytes(&self) -> Vec<u8> {
        records(&self.entries, MigrationEntry::to_bytes)
    }

    /// The migrations as `'static` data, leaked (for a process that builds one and keeps it).
    pub fn leak(self) -> Migrations {
        Migrations {
            entries: Box::leak(self.entry_bytes().into_boxed_slice()),
            text: Box::leak(self.text.into_boxed_str()),
        }
    }
}

/// The snapshot's tables being packed: text, table and column entries, in the order pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablesBuf {
    /// The names, and each distinct SQL type once.
    pub text: String,
    /// One entry per pushed table.
    pub tables: Vec<TableEntry>,
    /// Every pushed table's columns, table after table.
    pub columns: Vec<ColumnEntry>,
    types: HashMap<String, [u32; 2]>,
}

impl TablesBuf {
    /// Appends a table and its columns `(name, sql_type, nullable)` in declaration order
    /// (callers push tables in name order).
    ///
    /// # Errors
    ///
    /// [`PackError::TooLarge`] when the text or the column count would pass `u32`.
    pub fn push<'a>(
        &mut self,
        name: &str,
        columns: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Result<(), PackError> {
        let name = self.append(name)?;
        let first = count(self.columns.len())?;
        for (column, sql_type, nullable) in columns {
            let column = self.append(column)?;
            let sql_type = match self.types.get(sql_type) {
                Some(&at) => at,
                None => {
                    let at = self.append(sql_type)?;
                    self.types.insert(sql_type.to_string(), at);
                    at
                }
            };
            self.columns.push(ColumnEntry {
                name: column,
                sql_type,
                nullable,
            });
        }
        let end = count(self.columns.len())?;
        self.tables.push(TableEntry {
            name,
            columns: [first, end],
        });
        Ok(())
    }

    fn append(&mut self, part: &str) -> Result<[u32; 2], PackError> {
        let start = offset(&self.text, "snapshot tables")?;
        self.text.push_str(part);
        Ok([start, offset(&self.text, "snapshot tables")?])
    }

    /// The table entries as the records [`Tables::tables`] holds.
    pub fn table_bytes(&self) -> Vec<u8> {
        records(&self.tables, TableEntry::to_bytes)
    }

    /// The column entries as the records [`Tables::columns`] holds.
    pub fn column_bytes(&self) -> Vec<u8> {
        records(&self.columns, ColumnEntry::to_bytes)
    }

    /// The tables as `'static` data, leaked.
    pub fn leak(self) -> Tables {
        Tables {
            tables: Box::leak(self.table_bytes().into_boxed_slice()),
            columns: Box::leak(self.column_bytes().into_boxed_slice()),
            text: Box::leak(self.text.into_boxed_str()),
        }
    }
}

/// Entries as one run of their records.
fn records<T, const N: usize>(entries: &[T], to_bytes: impl Fn(&T) -> [u8; N]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(entries.len() * N);
    for entry in entries {
        bytes.extend_from_slice(&to_bytes(entry));
    }
    bytes
}

fn offset(text: &str, what: &'static str) -> Result<u32, PackError> {
    u32::try_from(text.len()).map_err(|_| PackError::TooLarge { what })
}

fn count(n: usize) -> Result<u32, PackError> {
    u32::try_from(n).map_err(|_| PackError::TooLarge {
        what: "snapshot columns",
    })
}

/// Assembles and leaks an [`Embedded`] (computing its history digest), for a process that
/// builds one at run time and keeps it, as build.rs's generated static is kept.
pub fn embedded(
    dialect: &'static str,
    migrations: MigrationsBuf,
    snapshot_text: String,
    fingerprint: u64,
    tables: TablesBuf,
) -> &'static Embedded {
    let migrations = migrations.leak();
    let digest = history_digest(migrations.iter().map(|m| (m.version, m.name, m.checksum)));
    Box::leak(Box::new(Embedded {
        dialect,
        migrations,
        snapshot: EmbeddedSnapshot {
            text: Box::leak(snapshot_text.into_boxed_str()),
            fingerprint,
            tables: tables.leak(),
        },
        history_digest: Box::leak(digest.into_boxed_str()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        version: i64,
        name: &'static str,
        down: Option<&'static str>,
    ) -> MigrationParts<'static> {
        MigrationParts {
            version,
            name,
            message: "a message ✓",
            parent: None,
            file: "V1__a.sql",
            up: "CREATE TABLE \"a\" ();\n",
            down,
            checksum: 7,
        }
    }

    #[test]
    fn migrations_read_back_as_pushed() {
        let mut buf = MigrationsBuf::default();
        let pushed = [
            parts(1, "a", Some("DROP TABLE \"a\";\n")),
            parts(2, "b", None),
            parts(3, "c", Some("")),
        ];
        for p in pushed {
            buf.push(p).unwrap();
        }
        assert_eq!(buf.parts().collect::<Vec<_>>(), pushed);
        let migrations = buf.leak();
        assert_eq!(migrations.len(), 3);
        let read: Vec<MigrationParts<'static>> =
            migrations.iter().map(MigrationParts::from).collect();
        assert_eq!(read, pushed);
        assert_eq!(migrations.find(2).map(|m| m.name), Some("b"));
        assert_eq!(migrations.find(4), None);
        assert_eq!(migrations.last().map(|m| m.version), Some(3));
        assert_eq!(migrations.versions().collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn tables_read_back_as_pushed_with_each_type_stored_once() {
        let mut buf = TablesBuf::default();
        buf.push("posts", [("id", "BIGINT", false), ("title", "TEXT", true)])
            .unwrap();
        buf.push("tags", []).unwrap();
        buf.push("users", [("id", "BIGINT", false), ("bio", "TEXT", true)])
            .unwrap();
        assert_eq!(buf.text.matches("BIGINT").count(), 1);
        let tables = buf.leak();
        type Column = (&'static str, &'static str, bool);
        let read: Vec<(&str, Vec<Column>)> = tables
            .iter()
            .map(|t| {
                let columns = t.columns.iter().map(|c| (c.name, c.sql_type, c.nullable));
                (t.name, columns.collect())
            })
            .collect();
        assert_eq!(
            read,
            [
                (
                    "posts",
                    vec![("id", "BIGINT", false), ("title", "TEXT", true)]
                ),
                ("tags", vec![]),
                (
                    "users",
                    vec![("id", "BIGINT", false), ("bio", "TEXT", true)]
                ),
            ]
        );
        let third = tables.get(2).map(|t| (t.name, t.columns.iter().count()));
        assert_eq!(third, Some(("users", 2)));
        assert_eq!(tables.get(1).map(|t| t.name), Some("tags"));
        assert!(tables.get(3).is_none());
    }

    #[test]
    #[should_panic(expected = "embedded data is inconsistent")]
    fn offsets_outside_the_text_are_named_as_inconsistent_data() {
        let migrations = Migrations {
            text: "abc",
            entries: Box::leak(Box::new(
                MigrationEntry {
                    version: 1,
                    parent: None,
                    checksum: 0,
                    bounds: [0, 1, 2, 3, 4, 5],
                    has_down: false,
                }
                .to_bytes(),
            )),
        };
        let _ = migrations.get(0);
    }

    #[test]
    fn entries_read_back_from_their_records() {
        let entries = [
            MigrationEntry {
                version: i64::MAX,
                parent: Some(-1),
                checksum: u64::MAX,
                bounds: [0, 1, u32::MAX, 3, 4, 5],
                has_down: true,
            },
            MigrationEntry {
                version: 20261130052700,
                parent: None,
                checksum: 0,
                bounds: [7; 6],
                has_down: false,
            },
            MigrationEntry {
                version: 2,
                parent: Some(0),
                checksum: 1,
                bounds: [0; 6],
                has_down: false,
            },
        ];
        for entry in entries {
            assert_eq!(MigrationEntry::from_bytes(&entry.to_bytes()), entry);
        }
        let table = TableEntry {
            name: [1, u32::MAX],
            columns: [0, 3],
        };
        assert_eq!(TableEntry::from_bytes(&table.to_bytes()), table);
        for nullable in [true, false] {
            let column = ColumnEntry {
                name: [u32::MAX, 2],
                sql_type: [3, 4],
                nullable,
            };
            assert_eq!(ColumnEntry::from_bytes(&column.to_bytes()), column);
        }
    }

    #[test]
    #[should_panic(expected = "embedded data is inconsistent")]
    fn a_short_record_is_named_as_inconsistent_data() {
        let _ = MigrationEntry::from_bytes(&[0; MigrationEntry::SIZE - 1]);
    }

    #[test]
    fn embedded_carries_the_digest_of_its_migrations() {
        let mut migrations = MigrationsBuf::default();
        migrations.push(parts(1, "a", None)).unwrap();
        let embedded = embedded(
            "postgresql",
            migrations,
            "{}".to_string(),
            9,
            TablesBuf::default(),
        );
        assert_eq!(embedded.history_digest, history_digest([(1, "a", 7)]));
        assert_eq!(embedded.snapshot.text, "{}");
        assert!(embedded.snapshot.tables.is_empty());
    }
}
