//! The migrations of one `migrations/` directory, checked as a whole.
//!
//! A set is sorted by version, holds each version once, and every `-- parent:` names a version
//! of the set that is older than the file naming it. `heads` reads the parent links the way
//! `alembic heads` does: two heads mean two branches each added a migration on the same parent.

use crate::migration_file::{MigrationFile, Parent};
use std::collections::BTreeSet;

/// A set of migration files that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationSetError {
    /// Two files carry one version.
    #[error(
        "two migrations share version {version}: {first} and {second}; refinery records one \
         migration per version: renumber one of them (rename it to a newer, unused UTC timestamp \
         such as the current time) and fix any `-- parent: {version}` line that meant it"
    )]
    DuplicateVersion {
        /// The shared version.
        version: i64,
        /// The first file name (in name order).
        first: String,
        /// The second file name.
        second: String,
    },
    /// A `-- parent:` that names no migration of the set.
    #[error(
        "{file}: `-- parent: {parent}` names a migration that is not in {dir}/; set it to \
         the version of the migration this one was generated on top of (`bluefox history` lists \
         them), or `base` for the first migration"
    )]
    UnknownParent {
        /// The file whose parent is missing.
        file: String,
        /// The migrations directory, relative to the crate root ([`crate::DEFAULT_MIGRATIONS_DIR`]
        /// until [`MigrationSetError::in_dir`] says).
        dir: String,
        /// The version its `-- parent:` line names.
        parent: i64,
    },
    /// A `-- parent:` that is not older than the file naming it.
    #[error(
        "{file}: `-- parent: {parent}` is not older than this migration (version {version}); a \
         parent is an earlier version: fix the parent line or renumber the file"
    )]
    ParentNotOlder {
        /// The file whose parent is wrong.
        file: String,
        /// The version its `-- parent:` line names.
        parent: i64,
        /// The file's own version.
        version: i64,
    },
}

impl MigrationSetError {
    /// The error for a set read from the migrations directory `dir` (relative to the crate
    /// root): the files it names are shown with the directory, as a reader finds them.
    pub fn in_dir(mut self, dir: &str) -> MigrationSetError {
        let within = |file: &mut String| *file = format!("{dir}/{file}");
        match &mut self {
            MigrationSetError::DuplicateVersion { first, second, .. } => {
                within(first);
                within(second);
            }
            MigrationSetError::UnknownParent { file, dir: at, .. } => {
                within(file);
                *at = dir.to_string();
            }
            MigrationSetError::ParentNotOlder { file, .. } => within(file),
        }
        self
    }
}

/// Migration files sorted by version, each version once, every parent present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSet {
    migrations: Vec<MigrationFile>,
}

impl MigrationSet {
    /// Sorts `files` by version and checks them.
    ///
    /// # Errors
    /// [`MigrationSetError::DuplicateVersion`] naming both files, or an error naming the file
    /// whose parent is missing or not older than itself.
    pub fn new(mut files: Vec<MigrationFile>) -> Result<Self, MigrationSetError> {
        files.sort_by(|a, b| (a.version, &a.name).cmp(&(b.version, &b.name)));
        if let Some(pair) = files.windows(2).find(|p| p[0].version == p[1].version) {
            return Err(MigrationSetError::DuplicateVersion {
                version: pair[0].version,
                first: pair[0].file_name(),
                second: pair[1].file_name(),
            });
        }
        let set = MigrationSet { migrations: files };
        for m in &set.migrations {
            if let Parent::Version(parent) = m.parent {
                if parent >= m.version {
                    let (file, version) = (m.file_name(), m.version);
                    return Err(MigrationSetError::ParentNotOlder {
                        file,
                        parent,
                        version,
                    });
                }
                if set.get(parent).is_none() {
                    return Err(MigrationSetError::UnknownParent {
                        file: m.file_name(),
                        dir: crate::DEFAULT_MIGRATIONS_DIR.to_string(),
                        parent,
                    });
                }
            }
        }
        Ok(set)
    }

    /// Every migration, in ascending version order.
    pub fn migrations(&self) -> &[MigrationFile] {
        &self.migrations
    }

    /// The number of migrations.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there is no migration at all.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migration with the highest version.
    pub fn newest(&self) -> Option<&MigrationFile> {
        self.migrations.last()
    }

    /// The migration with this version.
    pub fn get(&self, version: i64) -> Option<&MigrationFile> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// The version `migration` follows: its `-- parent:` version, `None` for `base`, and for a
    /// hand-written file ([`Parent::Implicit`]) the highest version of the set below its own
    /// (`None` when it is the oldest).
    pub fn parent_of(&self, migration: &MigrationFile) -> Option<i64> {
        match migration.parent {
            Parent::Base => None,
            Parent::Version(v) => Some(v),
            Parent::Implicit => {
                let below = self
                    .migrations
                    .partition_point(|m| m.version < migration.version);
                below.checked_sub(1).map(|i| self.migrations[i].version)
            }
        }
    }

    /// The versions no other migration names as its parent, ascending: one for a linear history,
    /// none for an empty set, more than one when branches each added a migration on the same
    /// parent (callers warn and ask for a migration that joins them).
    pub fn heads(&self) -> Vec<i64> {
        let parents: BTreeSet<i64> = self
            .migrations
            .iter()
            .filter_map(|m| self.parent_of(m))
            .collect();
        self.migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| !parents.contains(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: i64, name: &str, parent: Parent) -> MigrationFile {
        MigrationFile {
            version,
            name: name.into(),
            message: None,
            parent,
            up: format!("SELECT {version};"),
            down: None,
        }
    }

    fn versions(set: &MigrationSet) -> Vec<i64> {
        set.migrations().iter().map(|m| m.version).collect()
    }

    #[test]
    fn sorted_by_version_with_lookups() {
        let set = MigrationSet::new(vec![
            file(30, "c", Parent::Version(20)),
            file(10, "a", Parent::Base),
            file(20, "b", Parent::Version(10)),
        ])
        .unwrap();
        assert_eq!(versions(&set), [10, 20, 30]);
        assert_eq!((set.len(), set.is_empty()), (3, false));
        assert_eq!(set.newest().map(|m| m.name.as_str()), Some("c"));
        assert_eq!(set.get(20).map(|m| m.name.as_str()), Some("b"));
        assert_eq!(set.get(25), None);
        assert_eq!(set.heads(), [30]);
        assert_eq!(set.parent_of(&set.migrations()[0]), None);
        assert_eq!(set.parent_of(&set.migrations()[2]), Some(20));
    }

    #[test]
    fn empty_set_has_no_heads() {
        let set = MigrationSet::new(Vec::new()).unwrap();
        assert_eq!(
            (set.heads(), set.newest(), set.is_empty()),
            (vec![], None, true)
        );
    }

    #[test]
    fn duplicate_version_names_both_files() {
        let error = MigrationSet::new(vec![
            file(20261130052700, "add_users", Parent::Base),
            file(20261130052700, "add_posts", Parent::Base),
        ])
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "two migrations share version 20261130052700: V20261130052700__add_posts.sql and \
             V20261130052700__add_users.sql; refinery records one migration per version: renumber \
             one of them (rename it to a newer, unused UTC timestamp such as the current time) and \
             fix any `-- parent: 20261130052700` line that meant it"
        );
    }

    #[test]
    fn parent_must_exist_and_be_older() {
        let missing = MigrationSet::new(vec![
            file(10, "a", Parent::Base),
            file(20, "b", Parent::Version(15)),
        ]);
        assert_eq!(
            missing.unwrap_err().to_string(),
            "V20__b.sql: `-- parent: 15` names a migration that is not in migrations/; set it to \
             the version of the migration this one was generated on top of (`bluefox history` \
             lists them), or `base` for the first migration"
        );
        let newer = MigrationSet::new(vec![
            file(10, "a", Parent::Version(20)),
            file(20, "b", Parent::Base),
        ]);
        assert_eq!(
            newer.unwrap_err(),
            MigrationSetError::ParentNotOlder {
                file: "V10__a.sql".into(),
                parent: 20,
                version: 10
            }
        );
    }

    #[test]
    fn errors_name_the_directory_they_are_given() {
        let missing = MigrationSet::new(vec![file(20, "b", Parent::Version(15))])
            .unwrap_err()
            .in_dir("migrations-sqlite");
        assert!(
            missing.to_string().starts_with(
                "migrations-sqlite/V20__b.sql: `-- parent: 15` names a migration that is not in \
                 migrations-sqlite/;"
            ),
            "{missing}"
        );
        let twice = MigrationSet::new(vec![file(1, "a", Parent::Base), file(1, "b", Parent::Base)])
            .unwrap_err()
            .in_dir("db");
        assert!(
            twice
                .to_string()
                .starts_with("two migrations share version 1: db/V1__a.sql and db/V1__b.sql;"),
            "{twice}"
        );
        let newer = MigrationSet::new(vec![file(10, "a", Parent::Version(20))])
            .unwrap_err()
            .in_dir("db");
        assert!(newer.to_string().starts_with("db/V10__a.sql: "), "{newer}");
    }

    #[test]
    fn two_branches_make_two_heads() {
        let set = MigrationSet::new(vec![
            file(10, "base", Parent::Base),
            file(20, "branch_a", Parent::Version(10)),
            file(30, "branch_b", Parent::Version(10)),
        ])
        .unwrap();
        assert_eq!(set.heads(), [20, 30]);
        let joined = MigrationSet::new(
            set.migrations()
                .iter()
                .cloned()
                .chain([file(40, "join", Parent::Version(30))])
                .collect(),
        )
        .unwrap();
        assert_eq!(joined.heads(), [20, 40]);
    }

    #[test]
    fn implicit_parents_follow_version_order() {
        let set = MigrationSet::new(vec![
            file(5, "first_by_hand", Parent::Implicit),
            file(10, "generated", Parent::Version(5)),
            file(15, "by_hand", Parent::Implicit),
            file(20, "again", Parent::Implicit),
        ])
        .unwrap();
        let parents: Vec<Option<i64>> = set.migrations().iter().map(|m| set.parent_of(m)).collect();
        assert_eq!(parents, [None, Some(5), Some(10), Some(15)]);
        assert_eq!(set.heads(), [20]);
        // A file outside the set resolves against the set's versions.
        assert_eq!(set.parent_of(&file(12, "x", Parent::Implicit)), Some(10));
        // A hand-written file next to a branch sits on the version just below it.
        let branched = MigrationSet::new(vec![
            file(10, "a", Parent::Base),
            file(20, "b", Parent::Version(10)),
            file(30, "c", Parent::Version(10)),
            file(40, "hand", Parent::Implicit),
        ])
        .unwrap();
        assert_eq!(branched.heads(), [20, 40]);
    }
}
