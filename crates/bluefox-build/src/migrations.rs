//! Reads `migrations/`: every `V{version}__{name}.sql` through the one migration-file parser of
//! bluefox-core, the schema snapshot, and a warning for anything else refinery would skip.

use crate::discover::read_dir_sorted;
use crate::error::Error;
use crate::lint;
use crate::warning::Warning;
use bluefox_core::migration_file::{MigrationFile, Parent};
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

/// Reads the migrations directory `rel_dir` (relative to `crate_dir`). A directory that does not
/// exist is an empty one.
///
/// # Errors
///
/// [`Error::Io`] naming the file, [`Error::MigrationFile`] for a malformed migration,
/// [`Error::MigrationSet`] for two migrations with one version (or a dangling parent),
/// [`Error::Snapshot`] for a malformed snapshot.
pub fn read(crate_dir: &Path, rel_dir: &str) -> Result<MigrationsDir, Error> {
    let dir = crate_dir.join(rel_dir);
    let mut files = Vec::new();
    let mut file_names = BTreeMap::new();
    let mut snapshot = None;
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
            let text = read_text(crate_dir, &rel)?;
            let parsed =
                Snapshot::from_text(&text).map_err(|source| Error::snapshot(rel_dir, source))?;
            snapshot = Some(parsed);
        } else if !is_dir && looks_like_migration(&name) {
            let text = read_text(crate_dir, &rel)?;
            let file = MigrationFile::parse(&rel, &text)?;
            file_names.insert(file.version, name);
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
    let set = MigrationSet::new(files)?;
    let heads: Vec<(i64, String)> = set
        .heads()
        .into_iter()
        .map(|v| (v, file_names.get(&v).cloned().unwrap_or_default()))
        .collect();
    warnings.extend(lint::heads(rel_dir, &heads));
    Ok(MigrationsDir {
        set,
        file_names,
        has_snapshot_file: snapshot.is_some(),
        snapshot: snapshot.unwrap_or_else(Snapshot::empty),
        warnings,
    })
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
    /// The migrations as they are embedded: normalised SQL, checksums computed now.
    pub fn embedded(&self) -> Vec<crate::codegen::MigrationData> {
        self.set
            .migrations()
            .iter()
            // `MigrationFile::parse` normalised the text (LF, no BOM) already.
            .map(|m| crate::codegen::MigrationData {
                version: m.version,
                name: m.name.clone(),
                message: m.message.clone().unwrap_or_default(),
                parent: match m.parent {
                    Parent::Version(version) => Some(version),
                    Parent::Base | Parent::Implicit => None,
                },
                file: self
                    .file_names
                    .get(&m.version)
                    .cloned()
                    .unwrap_or_else(|| m.file_name()),
                checksum: m.checksum(),
                up: m.up.clone(),
                down: m.down.clone(),
            })
            .collect()
    }

    /// The snapshot as it is embedded: its canonical text, fingerprint and column tree.
    pub fn embedded_snapshot(&self) -> crate::codegen::SnapshotData {
        let text = self.snapshot.to_text();
        crate::codegen::SnapshotData {
            fingerprint: fingerprint(&text),
            tables: self
                .snapshot
                .schema
                .tables
                .values()
                .map(|t| crate::codegen::TableData {
                    name: t.name.clone(),
                    columns: t
                        .columns
                        .iter()
                        .map(|c| crate::codegen::ColumnData {
                            name: c.name.clone(),
                            sql_type: c.sql_type.clone(),
                            nullable: c.nullable,
                        })
                        .collect(),
                })
                .collect(),
            text,
        }
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
        let embedded = read.embedded();
        assert_eq!(embedded.len(), 2);
        assert_eq!(embedded[0].version, 1);
        assert_eq!(embedded[0].file, "V1__add_users.sql");
        assert_eq!(embedded[0].message, "add users");
        assert_eq!(embedded[0].parent, None);
        assert!(!embedded[0].up.contains('\r'));
        assert_eq!(
            embedded[0].checksum,
            bluefox_core::migration_file::checksum("add_users", 1, &embedded[0].up)
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
        assert!(err.to_string().contains("V1__a.sql and V1__b.sql"), "{err}");
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
}
