//! Reads `migrations/`: every `V{version}__{name}.sql` through the one migration-file parser of
//! bluefox-core, the schema snapshot, and a warning for anything else refinery would skip.

use crate::discover::read_dir_sorted;
use crate::error::Error;
use crate::lint;
use crate::warning::Warning;
use bluefox_core::embedded::pack::{MigrationParts, MigrationsBuf, TablesBuf};
use bluefox_core::migration_file::{normalize_sql, MigrationFile, Parent};
use bluefox_core::migration_set::MigrationSet;
use bluefox_core::snapshot::{fingerprint, Snapshot, SNAPSHOT_FILE_NAME};
use std::collections::BTreeMap;
use std::path::Path;

/// What `migrations/` holds.
#[derive(Debug, Clone)]
pub struct MigrationsDir {
    /// The migrations, checked as a set and in version order.
    pub set: MigrationSet,
    /// The file name of each migration, by version (as found on disk).
    pub file_names: BTreeMap<i64, String>,
    /// The snapshot; [`Snapshot::empty`] when there is no snapshot file yet.
    pub snapshot: Snapshot,
    /// Whether the snapshot file exists.
    pub has_snapshot_file: bool,
    /// Files refinery would skip, and more than one head.
    pub warnings: Vec<Warning>,
}

/// What was worked out while a [`MigrationsDir`] was read, handed over beside it (it holds for
/// the directory as read, so it is kept out of the directory's public fields, which a caller
/// may change): what [`MigrationsDir::embedded_with`] and
/// [`MigrationsDir::embedded_snapshot_with`] would otherwise compute again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadAhead {
    /// Each migration's checksum, by version.
    checksums: BTreeMap<i64, u64>,
    /// The snapshot file's normalised text and its fingerprint: what is embedded.
    snapshot_text: Option<(String, u64)>,
}

/// Reads the migrations directory `rel_dir` (relative to `crate_dir`). A directory that does not
/// exist is an empty one.
///
/// # Errors
///
/// [`Error::Io`] naming the file, [`Error::MigrationFile`] for a malformed migration,
/// [`Error::MigrationSet`] for two migrations with one version (or a dangling parent),
/// [`Error::Snapshot`] for a malformed snapshot.
pub fn read(crate_dir: &Path, rel_dir: &str) -> Result<MigrationsDir, Error> {
    read_files(crate_dir, rel_dir, false)?
        .finish()
        .map(|(dir, _)| dir)
}

/// A migrations directory read up to its snapshot, which is parsed by
/// [`MigrationFiles::finish`].
#[derive(Debug)]
pub(crate) struct MigrationFiles {
    rel_dir: String,
    files: Vec<MigrationFile>,
    file_names: BTreeMap<i64, String>,
    checksums: BTreeMap<i64, u64>,
    snapshot_text: Option<String>,
    /// The fingerprint of the normalised snapshot text, when asked for.
    snapshot_fingerprint: Option<u64>,
    warnings: Vec<Warning>,
}

/// Reads every file of the migrations directory `rel_dir` and parses the migrations; the
/// snapshot's text is kept for [`MigrationFiles::finish`]. With `read_ahead`, what the embedded
/// file needs is worked out on the way ([`ReadAhead`]): each migration's checksum, and the
/// snapshot text's fingerprint. Errors come in the order [`read`] meets them: the migration
/// files sort before the snapshot (their names start with an upper case `V` or `U`, the
/// snapshot's with `b`), so a parse of the snapshot after them comes where it came in the loop.
pub(crate) fn read_files(
    crate_dir: &Path,
    rel_dir: &str,
    read_ahead: bool,
) -> Result<MigrationFiles, Error> {
    let dir = crate_dir.join(rel_dir);
    let mut files = Vec::new();
    let mut file_names = BTreeMap::new();
    let mut checksums = BTreeMap::new();
    let mut snapshot_text = None;
    let mut warnings = Vec::new();
    let entries = if dir.is_dir() {
        read_dir_sorted(&dir, rel_dir)?
    } else {
        Vec::new()
    };
    for (name, is_dir) in entries {
        let rel = format!("{rel_dir}/{name}");
        if name.starts_with('.') {
            continue;
        }
        if !is_dir && name == SNAPSHOT_FILE_NAME {
            snapshot_text = Some(read_text(crate_dir, &rel)?);
        } else if !is_dir && looks_like_migration(&name) {
            let text = read_text(crate_dir, &rel)?;
            let file = MigrationFile::parse(&rel, &text)?;
            file_names.insert(file.version, name);
            if read_ahead {
                checksums.insert(file.version, file.checksum());
            }
            files.push(file);
        } else {
            warnings.push(lint::ignored_file(
                rel_dir,
                &rel,
                is_dir,
                SNAPSHOT_FILE_NAME,
            ));
        }
    }
    let snapshot_fingerprint = match &snapshot_text {
        Some(text) if read_ahead => Some(fingerprint(text)),
        _ => None,
    };
    Ok(MigrationFiles {
        rel_dir: rel_dir.to_string(),
        files,
        file_names,
        checksums,
        snapshot_text,
        snapshot_fingerprint,
        warnings,
    })
}

impl MigrationFiles {
    /// Parses the snapshot and checks the migrations as a set; with what was worked out on the
    /// way.
    ///
    /// # Errors
    ///
    /// As [`read`], for the snapshot and the set.
    pub(crate) fn finish(self) -> Result<(MigrationsDir, ReadAhead), Error> {
        let MigrationFiles {
            rel_dir,
            files,
            file_names,
            checksums,
            snapshot_text,
            snapshot_fingerprint,
            mut warnings,
        } = self;
        let rel_dir = rel_dir.as_str();
        let snapshot = match &snapshot_text {
            Some(text) => {
                Some(Snapshot::from_text(text).map_err(|source| Error::snapshot(rel_dir, source))?)
            }
            None => None,
        };
        // The file's own text is embedded (normalised), not the parsed snapshot written again:
        // it is what `bluefox make` wrote, and writing it costs an unoptimised build script
        // more than parsing it.
        let snapshot_text = snapshot_text
            .zip(snapshot_fingerprint)
            .map(|(text, fingerprint)| (normalize_sql(&text).into_owned(), fingerprint));
        let set = MigrationSet::new(files).map_err(|error| error.in_dir(rel_dir))?;
        let heads: Vec<(i64, String)> = set
            .heads()
            .into_iter()
            .map(|v| (v, file_names.get(&v).cloned().unwrap_or_default()))
            .collect();
        warnings.extend(lint::heads(rel_dir, &heads));
        let dir = MigrationsDir {
            set,
            file_names,
            has_snapshot_file: snapshot.is_some(),
            snapshot: snapshot.unwrap_or_else(Snapshot::empty),
            warnings,
        };
        Ok((
            dir,
            ReadAhead {
                checksums,
                snapshot_text,
            },
        ))
    }
}

/// What refinery would try to read as an SQL migration (`[UV]...__....sql`); the parser then
/// says precisely what is wrong with a name that is close but not right.
fn looks_like_migration(name: &str) -> bool {
    (name.starts_with('V') || name.starts_with('U'))
        && name.contains("__")
        && name.ends_with(".sql")
}

fn read_text(crate_dir: &Path, rel: &str) -> Result<String, Error> {
    std::fs::read_to_string(crate_dir.join(rel)).map_err(|source| Error::Io {
        path: rel.to_string(),
        source,
    })
}

impl MigrationsDir {
    /// The migrations as they are embedded, packed: normalised SQL, checksums computed now.
    ///
    /// # Errors
    ///
    /// [`Error::Pack`] when their text passes 4 GiB.
    pub fn embedded(&self) -> Result<MigrationsBuf, Error> {
        self.embedded_with(&ReadAhead::default())
    }

    /// [`MigrationsDir::embedded`], with the checksums `ahead` has (worked out as this
    /// directory was read).
    pub(crate) fn embedded_with(&self, ahead: &ReadAhead) -> Result<MigrationsBuf, Error> {
        let migrations = self.set.migrations();
        let text_len = migrations
            .iter()
            .map(|m| m.name.len() + m.up.len() + m.down.as_ref().map_or(0, String::len) + 128)
            .sum();
        let mut packed = MigrationsBuf::with_capacity(migrations.len(), text_len);
        for m in migrations {
            let named;
            let file = match self.file_names.get(&m.version) {
                Some(file) => file.as_str(),
                None => {
                    named = m.file_name();
                    named.as_str()
                }
            };
            // `MigrationFile::parse` normalised the text (LF, no BOM) already.
            packed.push(MigrationParts {
                version: m.version,
                name: &m.name,
                message: m.message.as_deref().unwrap_or_default(),
                parent: match m.parent {
                    Parent::Version(version) => Some(version),
                    Parent::Base | Parent::Implicit => None,
                },
                file,
                up: &m.up,
                down: m.down.as_deref(),
                checksum: match ahead.checksums.get(&m.version) {
                    Some(checksum) => *checksum,
                    None => m.checksum(),
                },
            })?;
        }
        Ok(packed)
    }

    /// The snapshot as it is embedded: its text (here written again from the parsed snapshot,
    /// which gives the file's own text back for any file `bluefox make` wrote), fingerprint
    /// and packed tables.
    ///
    /// # Errors
    ///
    /// [`Error::Pack`] when the tables' names pass 4 GiB.
    pub fn embedded_snapshot(&self) -> Result<crate::codegen::SnapshotData, Error> {
        self.embedded_snapshot_with(&ReadAhead::default())
    }

    /// [`MigrationsDir::embedded_snapshot`], with the snapshot file's own text and fingerprint
    /// `ahead` has (worked out as this directory was read).
    pub(crate) fn embedded_snapshot_with(
        &self,
        ahead: &ReadAhead,
    ) -> Result<crate::codegen::SnapshotData, Error> {
        let (text, fingerprint) = match &ahead.snapshot_text {
            Some((text, fingerprint)) => (text.clone(), *fingerprint),
            None => {
                let text = self.snapshot.to_text();
                let fingerprint = fingerprint(&text);
                (text, fingerprint)
            }
        };
        let mut tables = TablesBuf::default();
        for t in self.snapshot.schema.tables.values() {
            let columns = t
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.sql_type.as_str(), c.nullable));
            tables.push(&t.name, columns)?;
        }
        Ok(crate::codegen::SnapshotData {
            text,
            fingerprint,
            tables,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        dir_with_in("migrations", files)
    }

    /// A crate directory whose migrations directory `dir` holds `files`.
    fn dir_with_in(dir: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = tmp.path().join(dir).join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        tmp
    }

    const FIRST: &str = "-- bluefox: add users\r\n-- parent: base\r\n-- bluefox:up\r\n\
                         CREATE TABLE \"users\" (\"id\" BIGINT);\r\n-- bluefox:down\r\n\
                         DROP TABLE \"users\";\r\n";

    #[test]
    fn missing_directory_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let read = read(tmp.path(), "migrations").unwrap();
        assert!(read.set.is_empty());
        assert!(!read.has_snapshot_file);
        assert!(read.warnings.is_empty());
        assert_eq!(read.snapshot, Snapshot::empty());
    }

    #[test]
    fn migrations_are_normalised_and_checksummed() {
        let tmp = dir_with(&[
            ("V2__plain.sql", "\u{feff}SELECT 1;\r\n"),
            ("V1__add_users.sql", FIRST),
            (".gitkeep", ""),
        ]);
        let read = read(tmp.path(), "migrations").unwrap();
        let packed = read.embedded().unwrap();
        let embedded: Vec<_> = packed.parts().collect();
        assert_eq!(embedded.len(), 2);
        assert_eq!(embedded[0].version, 1);
        assert_eq!(embedded[0].file, "V1__add_users.sql");
        assert_eq!(embedded[0].message, "add users");
        assert_eq!(embedded[0].parent, None);
        assert!(!embedded[0].up.contains('\r'));
        assert_eq!(
            embedded[0].checksum,
            bluefox_core::migration_file::checksum("add_users", 1, embedded[0].up)
        );
        // A hand-written file names no parent.
        assert_eq!(embedded[1].parent, None);
        assert_eq!(embedded[1].up, "SELECT 1;\n");
        assert_eq!(embedded[1].down, None);
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    }

    #[test]
    fn other_files_are_warned_about() {
        let tmp = dir_with(&[("v1_x.sql", "SELECT 1;"), ("notes/readme.md", "x")]);
        let read = read(tmp.path(), "migrations").unwrap();
        let files: Vec<_> = read
            .warnings
            .iter()
            .map(|w| w.file.clone().unwrap())
            .collect();
        assert_eq!(files, ["migrations/notes", "migrations/v1_x.sql"]);
    }

    #[test]
    fn malformed_and_duplicate_migrations_are_errors() {
        let tmp = dir_with(&[("V1__a.sql", "-- bluefox: a\n-- bluefox:up\nSELECT 1;\n")]);
        let err = read(tmp.path(), "migrations").unwrap_err();
        assert!(matches!(err, Error::MigrationFile { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("migrations/V1__a.sql:"),
            "{err}"
        );

        let tmp = dir_with(&[("V1__a.sql", "SELECT 1;"), ("V1__b.sql", "SELECT 2;")]);
        let err = read(tmp.path(), "migrations").unwrap_err();
        assert!(matches!(err, Error::MigrationSet(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains("migrations/V1__a.sql and migrations/V1__b.sql"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_migrations_directory_read() {
        let tmp = dir_with_in(
            "migrations-sqlite",
            &[("bluefox_snapshot.json", "{\n  \"format\": 1\n}\n")],
        );
        let err = read(tmp.path(), "migrations-sqlite").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("migrations-sqlite/bluefox_snapshot.json:3:1: malformed snapshot"),
            "{text}"
        );
        assert!(
            text.contains("(`git checkout -- migrations-sqlite/bluefox_snapshot.json`)"),
            "{text}"
        );

        let tmp = dir_with_in(
            "migrations-sqlite",
            &[(
                "V2__b.sql",
                "-- bluefox: b\n-- parent: 1\n-- bluefox:up\nSELECT 1;\n",
            )],
        );
        let text = read(tmp.path(), "migrations-sqlite")
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with(
                "migrations-sqlite/V2__b.sql: `-- parent: 1` names a migration that is not in \
                 migrations-sqlite/;"
            ),
            "{text}"
        );
    }

    /// Two migrations on top of the first: two heads.
    const TWO_HEADS: [(&str, &str); 3] = [
        (
            "V1__a.sql",
            "-- bluefox: a\n-- parent: base\n-- bluefox:up\nSELECT 1;\n",
        ),
        (
            "V2__b.sql",
            "-- bluefox: b\n-- parent: 1\n-- bluefox:up\nSELECT 2;\n",
        ),
        (
            "V3__c.sql",
            "-- bluefox: c\n-- parent: 1\n-- bluefox:up\nSELECT 3;\n",
        ),
    ];

    #[test]
    fn two_heads_are_a_warning() {
        let tmp = dir_with(&TWO_HEADS);
        let read = read(tmp.path(), "migrations").unwrap();
        assert_eq!(read.warnings.len(), 1);
        assert!(
            read.warnings[0]
                .to_string()
                .starts_with("bluefox: migrations has 2 heads: 2 (V2__b.sql), 3 (V3__c.sql)."),
            "{}",
            read.warnings[0]
        );
    }

    #[test]
    fn warnings_name_the_configured_directory() {
        let mut files = TWO_HEADS.to_vec();
        files.push(("notes.txt", "x"));
        let tmp = dir_with_in("migrations-sqlite", &files);
        let read = read(tmp.path(), "migrations-sqlite").unwrap();
        let texts: Vec<String> = read.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert!(
            texts[0].starts_with("bluefox: migrations-sqlite/notes.txt: this file is ignored")
                && texts[0].ends_with("move it out of migrations-sqlite."),
            "{}",
            texts[0]
        );
        assert!(
            texts[1].starts_with("bluefox: migrations-sqlite has 2 heads: 2 (V2__b.sql)")
                && texts[1].ends_with("`bluefox --migrations migrations-sqlite check`."),
            "{}",
            texts[1]
        );
        assert!(
            texts.iter().all(|t| !t.contains("in migrations.")
                && !t.contains("out of migrations.")
                && !t.contains("bluefox: migrations has")),
            "{texts:#?}"
        );
    }

    #[test]
    fn malformed_snapshot_is_an_error_with_its_path() {
        let tmp = dir_with(&[(SNAPSHOT_FILE_NAME, "{ nope")]);
        let err = read(tmp.path(), "migrations").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("migrations/bluefox_snapshot.json:1:"),
            "{err}"
        );
    }

    /// A schema of one table, and the snapshot text `bluefox make` writes for it.
    fn users() -> (bluefox_core::schema::Schema, String) {
        use bluefox_core::schema::{Column, Index, Table};
        let column = |name: &str, renamed_from: Option<&str>| Column {
            name: name.into(),
            sql_type: "BIGINT".into(),
            nullable: false,
            default: None,
            identity: false,
            renamed_from: renamed_from.map(str::to_string),
        };
        let table = Table {
            name: "users".into(),
            columns: vec![column("id", None), column("age", Some("years"))],
            indexes: vec![Index {
                name: "ix_users_age".into(),
                columns: vec!["age".into()],
            }],
            renamed_from: Some("people".into()),
            ..Table::default()
        };
        let mut schema = bluefox_core::schema::Schema::default();
        schema.tables.insert("users".into(), table);
        let text = Snapshot::new(schema.clone()).to_text();
        (schema, text)
    }

    #[test]
    fn what_is_read_ahead_is_what_the_directory_alone_gives() {
        let (_, text) = users();
        let crlf = text.replace('\n', "\r\n");
        for snapshot_text in [&text, &crlf] {
            let tmp = dir_with(&[("V1__a.sql", FIRST), (SNAPSHOT_FILE_NAME, snapshot_text)]);
            let parsed = read(tmp.path(), "migrations").unwrap();
            let (dir, ahead) = read_files(tmp.path(), "migrations", true)
                .unwrap()
                .finish()
                .unwrap();
            assert_eq!(dir.snapshot, parsed.snapshot);
            assert_eq!(ahead.snapshot_text.as_ref().map(|(t, _)| t), Some(&text));
            assert_eq!(ahead.checksums.len(), 1);
            assert_eq!(
                dir.embedded_snapshot_with(&ahead).unwrap(),
                parsed.embedded_snapshot().unwrap()
            );
            assert_eq!(
                dir.embedded_with(&ahead).unwrap(),
                parsed.embedded().unwrap()
            );
        }
    }

    #[test]
    fn errors_keep_their_order_when_the_snapshot_is_read_last() {
        // A malformed migration comes before a malformed snapshot, which comes before two
        // migrations with one version.
        let files = [
            ("V1__a.sql", "-- bluefox: a\n-- bluefox:up\nSELECT 1;\n"),
            (SNAPSHOT_FILE_NAME, "{ nope"),
        ];
        let tmp = dir_with(&files);
        let err = read_files(tmp.path(), "migrations", true).unwrap_err();
        assert!(matches!(err, Error::MigrationFile { .. }), "{err:?}");
        let tmp = dir_with(&[
            ("V1__a.sql", "SELECT 1;"),
            ("V1__b.sql", "SELECT 2;"),
            (SNAPSHOT_FILE_NAME, "{ nope"),
        ]);
        let err = read_files(tmp.path(), "migrations", true)
            .unwrap()
            .finish()
            .unwrap_err();
        assert!(matches!(err, Error::Snapshot { .. }), "{err:?}");
    }
}
