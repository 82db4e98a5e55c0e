//! The schema snapshot, `migrations/bluefox_snapshot.json`: the schema the models had when the
//! newest migration was made. build.rs compares the models with it; `bluefox make` rewrites it
//! together with each new migration file.
//!
//! The text is pretty JSON (two-space indent, a trailing newline) with keys in a fixed order:
//! `format`, `dialect`, `schema`, tables sorted by name, columns in declaration order, indexes,
//! unique constraints and foreign keys sorted by name. The same schema always gives the same bytes,
//! so the file reads well in a diff and its [`fingerprint`] is stable.

use crate::dialect::Dialect;
use crate::migration_file::normalize_sql;
use crate::schema::Schema;
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher13;
use std::hash::Hasher;

/// The snapshot's file name inside `migrations/`.
pub const SNAPSHOT_FILE_NAME: &str = "bluefox_snapshot.json";

/// The snapshot format this bluefox reads and writes.
pub const FORMAT: u32 = 1;

/// The default dialect: a snapshot written without one in mind is PostgreSQL's.
pub const DIALECT: &str = "postgresql";

/// Every `dialect` a snapshot may record (see [`crate::dialect::Dialect::name`]).
pub const DIALECTS: [&str; 2] = ["postgresql", "sqlite"];

/// A snapshot file that cannot be read; every message names the file and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The text is not a snapshot (bad JSON, a missing or mistyped field).
    #[error(
        "{SNAPSHOT_FILE_NAME}:{line}:{column}: malformed snapshot: {detail}; the snapshot is \
         written by `bluefox make`: restore it from version control \
         (`git checkout -- {dir}/{SNAPSHOT_FILE_NAME}`) rather than editing it by hand"
    )]
    Malformed {
        /// The migrations directory holding the file, relative to the crate root, for the
        /// command in the message ([`crate::DEFAULT_MIGRATIONS_DIR`] until [`SnapshotError::in_dir`] says).
        dir: String,
        /// The 1-based line.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// What the JSON reader found wrong.
        detail: String,
    },
    /// Merge conflict markers left in the file.
    #[error(
        "{SNAPSHOT_FILE_NAME}:{line}: merge conflict markers; keep one side of the conflict \
         (`git checkout --theirs {dir}/{SNAPSHOT_FILE_NAME}`), then run `bluefox check` and \
         `bluefox make` so the snapshot and a migration capture the merged models"
    )]
    MergeConflict {
        /// The migrations directory holding the file, as for [`SnapshotError::Malformed`].
        dir: String,
        /// The 1-based line of the first marker.
        line: usize,
    },
    /// A `format` this bluefox does not know.
    #[error(
        "{SNAPSHOT_FILE_NAME}: snapshot format {found} is not supported (this bluefox reads format \
         {FORMAT}); it was probably written by a newer bluefox: upgrade bluefox, or restore the \
         snapshot from version control"
    )]
    UnsupportedFormat {
        /// The `format` value found, as JSON.
        found: String,
    },
    /// A `dialect` other than `postgresql` and `sqlite`.
    #[error(
        "{SNAPSHOT_FILE_NAME}: snapshot dialect {found:?} is not supported (bluefox writes \
         \"postgresql\" or \"sqlite\"); restore the snapshot from version control"
    )]
    UnsupportedDialect {
        /// The `dialect` value found.
        found: String,
    },
}

/// The snapshot file's content: a format number, the dialect and the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot format ([`FORMAT`]).
    pub format: u32,
    /// The SQL dialect the migrations of this directory are written in (`postgresql` or
    /// `sqlite`, one of [`DIALECTS`]).
    pub dialect: String,
    /// The schema at the newest migration.
    pub schema: Schema,
}

impl SnapshotError {
    /// The error for a snapshot in the migrations directory `dir` (relative to the crate root),
    /// so the command its message suggests names the right file.
    pub fn in_dir(mut self, dir: &str) -> SnapshotError {
        match &mut self {
            SnapshotError::Malformed { dir: at, .. }
            | SnapshotError::MergeConflict { dir: at, .. } => *at = dir.to_string(),
            SnapshotError::UnsupportedFormat { .. } | SnapshotError::UnsupportedDialect { .. } => {}
        }
        self
    }
}

/// Only the `format` field, read before the rest so a newer format gets its own error.
#[derive(Deserialize)]
struct FormatProbe {
    #[serde(default)]
    format: Option<serde_json::Value>,
}

impl Snapshot {
    /// The snapshot of an empty schema: what a crate has before its first migration.
    pub fn empty() -> Snapshot {
        Snapshot::new(Schema::default())
    }

    /// A snapshot of `schema` in the current format, for PostgreSQL.
    pub fn new(schema: Schema) -> Snapshot {
        Snapshot::for_dialect(schema, Dialect::Postgres)
    }

    /// A snapshot of `schema` in the current format, for migrations written in `dialect`.
    pub fn for_dialect(schema: Schema, dialect: Dialect) -> Snapshot {
        Snapshot {
            format: FORMAT,
            dialect: dialect.name().to_string(),
            schema,
        }
    }

    /// The dialect the snapshot records (PostgreSQL for a value [`Snapshot::from_text`] would
    /// refuse).
    pub fn dialect(&self) -> Dialect {
        Dialect::from_name(&self.dialect).unwrap_or(Dialect::Postgres)
    }

    /// The file text: pretty JSON, keys in a fixed order, indexes, unique constraints and foreign
    /// keys sorted by name, LF line ends and a trailing newline. Equal schemas give equal bytes.
    ///
    /// The bytes are exactly what `serde_json::to_string_pretty` writes for the snapshot with its
    /// lists sorted (two-space indent, `"key": value`, `[]` and `{}` for empty collections,
    /// serde_json's string escapes), plus a newline; it is written directly from `&self`, without
    /// a copy of the schema or serde's generic machinery, since build.rs renders it on every run.
    pub fn to_text(&self) -> String {
        // Cannot fail: every map key is a string and no Serialize impl here returns an error.
        // The name-sorted lists are sorted as they are written (see `schema::sorted_by_name`),
        // so nothing is cloned.
        let mut text =
            serde_json::to_string_pretty(self).expect("a Snapshot always serializes to JSON");
        text.push('\n');
        text
    }

    /// Reads a snapshot file's text (normalised first, so CRLF and a BOM are accepted).
    ///
    /// # Errors
    /// [`SnapshotError::Malformed`] with line and column, [`SnapshotError::MergeConflict`],
    /// [`SnapshotError::UnsupportedFormat`] or [`SnapshotError::UnsupportedDialect`].
    pub fn from_text(text: &str) -> Result<Snapshot, SnapshotError> {
        let text = normalize_sql(text);
        // One parse in the usual case; the conflict scan and the format probe run only to
        // explain a failure, so a newer format gets its own error rather than a shape complaint.
        // A text with a conflict marker never parses: a marker line starts outside any string
        // (JSON strings hold no raw line break) with `<`, `=` or `>`, which JSON has no place for.
        let snapshot: Snapshot = match serde_json::from_str::<Snapshot>(&text) {
            Ok(snapshot) if snapshot.format == FORMAT => snapshot,
            Ok(snapshot) => {
                return Err(SnapshotError::UnsupportedFormat {
                    found: snapshot.format.to_string(),
                })
            }
            Err(error) => {
                if let Some(line) = conflict_line(&text) {
                    return Err(SnapshotError::MergeConflict {
                        dir: crate::DEFAULT_MIGRATIONS_DIR.to_string(),
                        line,
                    });
                }
                let probe: FormatProbe = serde_json::from_str(&text).map_err(malformed)?;
                return Err(match probe.format {
                    Some(found) if found.as_u64() != Some(u64::from(FORMAT)) => {
                        SnapshotError::UnsupportedFormat {
                            found: found.to_string(),
                        }
                    }
                    _ => malformed(error),
                });
            }
        };
        if !DIALECTS.contains(&snapshot.dialect.as_str()) {
            return Err(SnapshotError::UnsupportedDialect {
                found: snapshot.dialect,
            });
        }
        Ok(snapshot)
    }
}

fn malformed(error: serde_json::Error) -> SnapshotError {
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let detail = full.strip_suffix(&position).unwrap_or(&full).to_string();
    SnapshotError::Malformed {
        dir: crate::DEFAULT_MIGRATIONS_DIR.to_string(),
        line: error.line(),
        column: error.column(),
        detail,
    }
}

/// A stable 64-bit fingerprint of a snapshot text: SipHash-1-3 with zero keys over the bytes of
/// the normalised text, the same on every platform and release.
pub fn fingerprint(text: &str) -> u64 {
    let mut hasher = SipHasher13::new();
    // Borrowed, not copied, when the text is normalised already (as `to_text` writes it).
    hasher.write(normalize_sql(text).as_bytes());
    hasher.finish()
}

/// The 1-based line of the first merge conflict marker, if any.
fn conflict_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            ["<<<<<<<", "=======", ">>>>>>>"]
                .iter()
                .any(|m| l.starts_with(m))
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{
        Column, ColumnDefault, FkAction, ForeignKey, Index, Schema, Table, UniqueConstraint,
    };

    fn column(name: &str, sql_type: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: sql_type.into(),
            nullable,
            default: None,
            identity: false,
            renamed_from: None,
        }
    }

    fn sample() -> Snapshot {
        let mut id = column("id", "BIGINT", false);
        id.identity = true;
        let mut active = column("active", "BOOLEAN", false);
        active.default = Some(ColumnDefault::Bool(true));
        let users = Table {
            name: "users".into(),
            columns: vec![id, column("email", "TEXT", false), active],
            primary_key: vec!["id".into()],
            uniques: vec![UniqueConstraint {
                name: "uq_users_email".into(),
                columns: vec!["email".into()],
            }],
            ..Table::default()
        };
        let posts = Table {
            name: "posts".into(),
            columns: vec![
                column("id", "BIGINT", false),
                column("user_id", "BIGINT", true),
            ],
            indexes: vec![
                Index {
                    name: "ix_posts_z".into(),
                    columns: vec!["id".into()],
                },
                Index {
                    name: "ix_posts_a".into(),
                    columns: vec!["user_id".into()],
                },
            ],
            foreign_keys: vec![ForeignKey {
                name: "fk_posts_user_id_users".into(),
                columns: vec!["user_id".into()],
                ref_table: "users".into(),
                ref_columns: vec!["id".into()],
                on_delete: FkAction::Cascade,
            }],
            ..Table::default()
        };
        let mut schema = Schema::default();
        schema.tables.insert("users".into(), users);
        schema.tables.insert("posts".into(), posts);
        Snapshot::new(schema)
    }

    #[test]
    fn empty_snapshot_text() {
        let text = Snapshot::empty().to_text();
        assert_eq!(
            text,
            "{\n  \"format\": 1,\n  \"dialect\": \"postgresql\",\n  \"schema\": {\n    \"tables\": {}\n  }\n}\n"
        );
        assert_eq!(Snapshot::from_text(&text), Ok(Snapshot::empty()));
    }

    #[test]
    fn text_is_sorted_and_round_trips() {
        let snapshot = sample();
        let text = snapshot.to_text();
        let posts = text.find("\"posts\"").unwrap();
        let users = text.find("\"users\"").unwrap();
        assert!(posts < users, "tables sorted by name:\n{text}");
        assert!(text.find("ix_posts_a").unwrap() < text.find("ix_posts_z").unwrap());
        assert!(text.contains(
            "        \"foreign_keys\": [\n          {\n            \"name\": \"fk_posts_user_id_users\",\n"
        ));
        assert!(
            text.contains("\"default\": {\n              \"bool\": true\n            }"),
            "{text}"
        );
        let back = Snapshot::from_text(&text).unwrap();
        let mut expected = snapshot.clone();
        expected
            .schema
            .tables
            .get_mut("posts")
            .unwrap()
            .indexes
            .reverse();
        assert_eq!(back, expected);
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn rendering_is_byte_deterministic() {
        let first = sample().to_text();
        for _ in 0..10 {
            assert_eq!(sample().to_text(), first);
        }
        assert_eq!(fingerprint(&first), fingerprint(&sample().to_text()));
    }

    #[test]
    fn fingerprint_ignores_line_ends_and_bom_only() {
        let text = sample().to_text();
        let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        assert_eq!(fingerprint(&crlf), fingerprint(&text));
        assert_ne!(
            fingerprint(&text.replace("BIGINT", "INTEGER")),
            fingerprint(&text)
        );
        assert_eq!(Snapshot::from_text(&crlf), Ok(sample_sorted()));
        // Pinned: the value is embedded in binaries and stored in databases.
        assert_eq!(fingerprint(""), 0xd1fb_a762_150c_532c);
    }

    fn sample_sorted() -> Snapshot {
        Snapshot::from_text(&sample().to_text()).unwrap()
    }

    #[test]
    fn malformed_text_has_position_and_hint() {
        let text = "{\n  \"format\": 1,\n  \"dialect\": \"postgresql\"\n  \"schema\": {}\n}\n";
        assert_eq!(
            Snapshot::from_text(text).unwrap_err().to_string(),
            "bluefox_snapshot.json:4:3: malformed snapshot: expected `,` or `}`; the snapshot is \
             written by `bluefox make`: restore it from version control \
             (`git checkout -- migrations/bluefox_snapshot.json`) rather than editing it by hand"
        );
        let missing = "{\n  \"format\": 1,\n  \"dialect\": \"postgresql\"\n}\n";
        assert_eq!(
            Snapshot::from_text(missing),
            Err(SnapshotError::Malformed {
                dir: crate::DEFAULT_MIGRATIONS_DIR.into(),
                line: 4,
                column: 1,
                detail: "missing field `schema`".into()
            })
        );
    }

    #[test]
    fn the_hint_names_the_migrations_directory_it_is_given() {
        let text = "{\n  \"format\": 1\n  \"dialect\": \"sqlite\"\n}\n";
        let error = Snapshot::from_text(text).unwrap_err();
        assert!(error
            .to_string()
            .contains("(`git checkout -- migrations/bluefox_snapshot.json`)"));
        let error = error.in_dir("db/migrations-sqlite");
        assert!(
            error
                .to_string()
                .contains("(`git checkout -- db/migrations-sqlite/bluefox_snapshot.json`)"),
            "{error}"
        );
        let conflict = Snapshot::from_text("<<<<<<< ours\n{}\n")
            .unwrap_err()
            .in_dir("migrations-sqlite");
        assert!(
            conflict
                .to_string()
                .contains("(`git checkout --theirs migrations-sqlite/bluefox_snapshot.json`)"),
            "{conflict}"
        );
    }

    #[test]
    fn conflicts_formats_and_dialects() {
        let text = sample()
            .to_text()
            .replacen("  \"dialect\"", "<<<<<<< HEAD\n  \"dialect\"", 1);
        assert_eq!(
            Snapshot::from_text(&text),
            Err(SnapshotError::MergeConflict {
                dir: crate::DEFAULT_MIGRATIONS_DIR.into(),
                line: 3
            })
        );
        let newer = "{\"format\": 2, \"future\": [1, 2]}";
        assert_eq!(
            Snapshot::from_text(newer).unwrap_err().to_string(),
            "bluefox_snapshot.json: snapshot format 2 is not supported (this bluefox reads format 1); \
             it was probably written by a newer bluefox: upgrade bluefox, or restore the snapshot \
             from version control"
        );
        let sqlite = Snapshot::for_dialect(Schema::default(), Dialect::Sqlite);
        let text = sqlite.to_text();
        assert_eq!(
            text,
            "{\n  \"format\": 1,\n  \"dialect\": \"sqlite\",\n  \"schema\": {\n    \"tables\": {}\n  }\n}\n"
        );
        assert_eq!(
            Snapshot::from_text(&text).map(|s| s.dialect()),
            Ok(Dialect::Sqlite)
        );
        assert_eq!(Snapshot::empty().dialect(), Dialect::Postgres);
        let mysql = "{\"format\": 1, \"dialect\": \"mysql\", \"schema\": {\"tables\": {}}}";
        assert_eq!(
            Snapshot::from_text(mysql),
            Err(SnapshotError::UnsupportedDialect {
                found: "mysql".into()
            })
        );
    }

    /// The text as `to_text` wrote it before it was written by hand: serde_json's pretty printer
    /// over a sorted copy. The reference for byte-identical output.
    fn serde_text(snapshot: &Snapshot) -> String {
        let mut canonical = snapshot.clone();
        for table in canonical.schema.tables.values_mut() {
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            table.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let mut text = serde_json::to_string_pretty(&canonical).unwrap();
        text.push('\n');
        text
    }

    /// A snapshot with every field, every default and action kind, unsorted lists with equal
    /// names, and names that need every JSON escape.
    fn everything() -> Snapshot {
        let mut snapshot = sample();
        let tricky = "q\"b\\s/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f} é ü 😀 </script>";
        let mut defaults = Vec::new();
        for (i, default) in [
            ColumnDefault::String(tricky.into()),
            ColumnDefault::Number("-1.5e3".into()),
            ColumnDefault::Bool(false),
            ColumnDefault::Expression("now() AT TIME ZONE 'utc'".into()),
        ]
        .into_iter()
        .enumerate()
        {
            let mut c = column(&format!("d{i}"), "TEXT", i % 2 == 0);
            c.default = Some(default);
            c.renamed_from = Some("never written".into());
            defaults.push(c);
        }
        defaults.push(column(tricky, "VARCHAR(80)[]", true));
        let keys = [
            FkAction::NoAction,
            FkAction::Restrict,
            FkAction::Cascade,
            FkAction::SetNull,
            FkAction::SetDefault,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, on_delete)| ForeignKey {
            name: format!("fk_{}", 5 - i),
            columns: vec!["d0".into(), tricky.into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into(), "email".into()],
            on_delete,
        })
        .collect();
        let index = |name: &str, column: &str| Index {
            name: name.into(),
            columns: vec![column.into()],
        };
        let unique = |name: &str, column: &str| UniqueConstraint {
            name: name.into(),
            columns: vec![column.into(), "d1".into()],
        };
        let all = Table {
            name: tricky.into(),
            columns: defaults,
            primary_key: vec!["d0".into(), "d1".into()],
            indexes: vec![
                index("ix_b", "d1"),
                index("ix_a", "d2"),
                index("ix_b", "d0"),
            ],
            uniques: vec![
                unique("uq_z", "d3"),
                unique("uq_a", "d0"),
                unique("uq_z", "d1"),
            ],
            foreign_keys: keys,
            renamed_from: Some("old".into()),
        };
        snapshot.schema.tables.insert(tricky.into(), all);
        // A table with no columns, and a map key that is not the table's name.
        snapshot.schema.tables.insert(
            "a_empty".into(),
            Table {
                name: "other".into(),
                ..Table::default()
            },
        );
        snapshot
    }

    #[test]
    fn text_is_byte_identical_to_serde_json_pretty() {
        let snapshot = everything();
        let text = snapshot.to_text();
        assert_eq!(text, serde_text(&snapshot));
        assert!(text.contains("\"columns\": []"), "{text}");
        assert!(text.contains("\\u0000\\u001f\u{7f}"), "{text}");
        for snapshot in [
            Snapshot::empty(),
            sample(),
            Snapshot::for_dialect(everything().schema, Dialect::Sqlite),
        ] {
            assert_eq!(snapshot.to_text(), serde_text(&snapshot));
        }
        // Read back: the same schema with its lists sorted and without hints.
        let back = Snapshot::from_text(&text).unwrap();
        assert_eq!(back.to_text(), text);
        assert_eq!(back, Snapshot::from_text(&serde_text(&snapshot)).unwrap());
    }

    #[test]
    fn conflict_markers_are_found_on_any_line() {
        let text = sample().to_text();
        for marker in ["<<<<<<< ours", "=======", ">>>>>>> theirs"] {
            let first = format!("{marker}\n{text}");
            assert_eq!(
                Snapshot::from_text(&first),
                Err(SnapshotError::MergeConflict {
                    dir: crate::DEFAULT_MIGRATIONS_DIR.into(),
                    line: 1
                })
            );
            let inside = text.replacen("    \"tables\"", &format!("{marker}\n    \"tables\""), 1);
            let crlf = format!("\u{feff}{}", inside.replace('\n', "\r\n"));
            assert_eq!(
                Snapshot::from_text(&crlf),
                Err(SnapshotError::MergeConflict {
                    dir: crate::DEFAULT_MIGRATIONS_DIR.into(),
                    line: 5
                })
            );
        }
    }
}
