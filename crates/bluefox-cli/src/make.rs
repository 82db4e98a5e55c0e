//! `bluefox make MESSAGE`: the models against the snapshot, the plan, and a new migration file
//! with the new snapshot, written together.
//!
//! The refusals come before anything is written: dropping every table of a non-empty snapshot
//! (the models were most likely not found; `--allow-drop-all` overrides) and more than one head.
//! The migration file is created with `create_new`, so an existing file is never overwritten;
//! the snapshot is written to a hidden temporary file first and renamed over the old one only
//! once the migration file exists.

use crate::error::CliError;
use crate::project::{self, Context};
use bluefox_core::db_url::DatabaseUrl;
use bluefox_core::dialect::Dialect;
use bluefox_core::diff::Change;
use bluefox_core::migration_file::{slugify, MigrationFile, Parent};
use bluefox_core::schema::Schema;
use bluefox_core::snapshot::{Snapshot, SNAPSHOT_FILE_NAME};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// What `bluefox make` was asked to do.
#[derive(Debug, Clone)]
pub struct MakeOptions {
    /// The migration's message (`add users table`).
    pub message: String,
    /// Allow a migration that drops every table of the snapshot.
    pub allow_drop_all: bool,
    /// `--dialect`: the dialect of a new migrations directory (must match an existing one).
    pub dialect: Option<String>,
}

/// Runs `bluefox make` on the crate and migrations directory of `ctx`, printing to `out` and
/// warnings to `err`.
///
/// # Errors
/// A model or migration that cannot be read, a refusal ([`CliError::DropAll`],
/// [`CliError::MultipleHeads`]), or a file that cannot be written.
pub fn make(
    ctx: &Context,
    options: &MakeOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    if options.message.trim().is_empty() {
        return Err(CliError::Usage(
            "the migration message is empty: say what it does, e.g. bluefox make \"add users \
             table\""
                .to_string(),
        ));
    }
    ctx.check_crate()?;
    let project = ctx.load()?;
    // The one diff (bluefox-build's): the plan, the refusals and the SQL all come from it.
    let changes = &project.changes;
    let refusal = refusal(ctx, &project, changes, options.allow_drop_all);
    // A refusal for several heads says so itself; the warning would repeat it.
    let reported = project::Reported {
        pending_changes: true,
        heads: matches!(refusal, Some(CliError::MultipleHeads { .. })),
    };
    for warning in project::warnings(&project, reported) {
        writeln!(err, "warning: {warning}")?;
    }
    let dialect = choose_dialect(&project, options.dialect.as_deref())?;
    if changes.is_empty() {
        writeln!(out, "No changes in models; nothing to do.")?;
        return Ok(());
    }
    writeln!(out, "Plan for \"{}\":", options.message.trim())?;
    for line in plan_lines(changes) {
        writeln!(out, "  {line}")?;
    }
    if let Some(refusal) = refusal {
        return Err(refusal);
    }

    let set = &project.migrations.set;
    let newest = set.newest().map(|m| m.version);
    let version = next_version(OffsetDateTime::now_utc(), newest);
    let parent = set
        .heads()
        .first()
        .map_or(Parent::Base, |v| Parent::Version(*v));
    let migration = new_migration(
        version,
        &options.message,
        parent,
        dialect,
        (&project.migrations.snapshot.schema, &project.schema),
        changes,
    );
    let rel_dir = ctx.migrations_dir();
    let migration_rel = format!("{rel_dir}/{}", migration.file_name());
    let snapshot_rel = format!("{rel_dir}/{SNAPSHOT_FILE_NAME}");
    write_files(
        &ctx.dir().join(rel_dir),
        &migration.file_name(),
        &migration.render(),
        &Snapshot::for_dialect(project.schema.clone(), dialect).to_text(),
    )?;
    writeln!(out, "Wrote {}", ctx.shown_path(&migration_rel))?;
    writeln!(out, "Wrote {}", ctx.shown_path(&snapshot_rel))?;
    writeln!(
        out,
        "Review the migration before applying it ({}): autogenerate is good but not perfect.",
        ctx.suggest("upgrade head")
    )?;
    Ok(())
}

/// Why the migration of `changes` must not be written, checked before anything is: dropping
/// every table of a non-empty snapshot (unless `allow_drop_all`), then more than one head. No
/// changes, no refusal (nothing would be written anyway).
fn refusal(
    ctx: &Context,
    project: &bluefox_build::Project,
    changes: &[Change],
    allow_drop_all: bool,
) -> Option<CliError> {
    if changes.is_empty() {
        return None;
    }
    let old = &project.migrations.snapshot.schema;
    let dropped: Vec<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::TableDropped(t) => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    if !old.tables.is_empty() && dropped.len() == old.tables.len() && !allow_drop_all {
        return Some(CliError::DropAll {
            tables: dropped.join(", "),
        });
    }
    let heads = project.migrations.set.heads();
    if heads.len() > 1 {
        let names: Vec<String> = heads
            .iter()
            .map(|v| {
                let file = project.migrations.file_names.get(v).cloned();
                format!("{v} ({})", file.unwrap_or_default())
            })
            .collect();
        return Some(CliError::MultipleHeads {
            dir: ctx.migrations_dir().to_string(),
            count: heads.len(),
            heads: names.join(", "),
            make: ctx.suggest("make"),
        });
    }
    None
}

/// The dialect of the new migration: the project's when its directory has a snapshot (a
/// different `--dialect` is refused); for the first migration, `--dialect`, else the dialect
/// `DATABASE_URL` names (environment, then the `.env` files the project lists), else
/// PostgreSQL.
///
/// # Errors
/// [`CliError::UnknownDialect`], [`CliError::DialectMismatch`], a `.env` file that cannot be
/// parsed.
pub fn choose_dialect(
    project: &bluefox_build::Project,
    requested: Option<&str>,
) -> Result<Dialect, CliError> {
    let requested = requested
        .map(|name| Dialect::from_name(name).ok_or_else(|| CliError::UnknownDialect(name.into())))
        .transpose()?;
    if project.migrations.has_snapshot_file {
        return match requested {
            Some(requested) if requested != project.dialect => Err(CliError::DialectMismatch {
                dir: project.migrations_dir.clone(),
                snapshot: project.dialect.name(),
                requested: requested.name(),
            }),
            _ => Ok(project.dialect),
        };
    }
    if let Some(requested) = requested {
        return Ok(requested);
    }
    let from_url = project::Env::from_files(&project.crate_dir, &project.dotenv_files)?
        .get("DATABASE_URL")
        .and_then(|raw| DatabaseUrl::parse(&raw).ok())
        .map(|url| url.dialect());
    Ok(from_url.unwrap_or(Dialect::Postgres))
}

/// One line per change; a destructive one ends with `DESTRUCTIVE (why)`.
pub fn plan_lines(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| match change.is_destructive() {
            Some(reason) => format!("{change}  DESTRUCTIVE ({reason})"),
            None => change.to_string(),
        })
        .collect()
}

/// The UTC timestamp `YYYYMMDDHHMMSS` of `now` as a version, bumped to one more than `newest`
/// when it is not greater (a clock behind, or two migrations within a second).
pub fn next_version(now: OffsetDateTime, newest: Option<i64>) -> i64 {
    let now = now.to_offset(time::UtcOffset::UTC);
    let stamp = i64::from(now.year()) * 10_000_000_000
        + i64::from(u8::from(now.month())) * 100_000_000
        + i64::from(now.day()) * 1_000_000
        + i64::from(now.hour()) * 10_000
        + i64::from(now.minute()) * 100
        + i64::from(now.second());
    match newest {
        Some(newest) if newest >= stamp => newest.saturating_add(1),
        _ => stamp,
    }
}

/// The new migration: header (message, parent), up and down SQL rendered in `dialect` from the
/// changes between `schemas` (old, new), one statement per paragraph.
pub fn new_migration(
    version: i64,
    message: &str,
    parent: Parent,
    dialect: Dialect,
    schemas: (&Schema, &Schema),
    changes: &[Change],
) -> MigrationFile {
    let (old, new) = schemas;
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    MigrationFile {
        version,
        name: slugify(&message),
        message: Some(message),
        parent,
        up: dialect.up_sql(old, new, changes).join("\n\n"),
        down: Some(dialect.down_sql(old, new, changes).join("\n\n")),
    }
}

/// Writes the migration (never over an existing file) and then the snapshot; on a failure
/// nothing new is left behind.
fn write_files(
    dir: &Path,
    migration_name: &str,
    migration_text: &str,
    snapshot_text: &str,
) -> Result<(), CliError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let snapshot = dir.join(SNAPSHOT_FILE_NAME);
    let staged: PathBuf = dir.join(format!(".{SNAPSHOT_FILE_NAME}.tmp"));
    std::fs::write(&staged, snapshot_text).map_err(failed(&staged))?;
    let migration = dir.join(migration_name);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&migration)
        .and_then(|mut file| {
            file.write_all(migration_text.as_bytes())?;
            file.sync_all()
        });
    if let Err(source) = created {
        let _ = std::fs::remove_file(&staged);
        if source.kind() != std::io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(&migration);
        }
        return Err(CliError::Write {
            path: migration,
            source,
        });
    }
    if let Err(source) = std::fs::rename(&staged, &snapshot) {
        let _ = std::fs::remove_file(&staged);
        let _ = std::fs::remove_file(&migration);
        return Err(CliError::Write {
            path: snapshot,
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluefox_core::schema::{Column, Table};

    fn column(name: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: "TEXT".into(),
            nullable,
            default: None,
            identity: false,
            renamed_from: None,
        }
    }

    #[test]
    fn versions_are_utc_timestamps_and_always_increase() {
        let at = OffsetDateTime::from_unix_timestamp(1_796_016_420).unwrap(); // 2026-11-30 05:27:00 UTC
        assert_eq!(next_version(at, None), 20261130052700);
        assert_eq!(next_version(at, Some(20261130052659)), 20261130052700);
        assert_eq!(next_version(at, Some(20261130052700)), 20261130052701);
        assert_eq!(next_version(at, Some(20991231000000)), 20991231000001);
        let east = at.to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
        assert_eq!(next_version(east, None), 20261130052700);
    }

    #[test]
    fn plan_marks_destructive_steps() {
        let changes = [
            Change::ColumnAdded {
                table: "users".into(),
                column: column("bio", true),
            },
            Change::ColumnDropped {
                table: "users".into(),
                column: column("nickname", true),
            },
        ];
        assert_eq!(
            plan_lines(&changes),
            [
                "column users.bio added",
                "column users.nickname dropped  DESTRUCTIVE (drops the column and the data it \
                 holds)"
            ]
        );
    }

    #[test]
    fn new_migration_renders_header_up_and_down() {
        let table = Table {
            name: "notes".into(),
            columns: vec![column("body", false)],
            ..Table::default()
        };
        let new = Schema {
            tables: [("notes".to_string(), table.clone())].into(),
        };
        let changes = [Change::TableAdded(table)];
        let m = new_migration(
            20261130052700,
            "  add\nnotes  ",
            Parent::Version(20261129000000),
            Dialect::Postgres,
            (&Schema::default(), &new),
            &changes,
        );
        assert_eq!(m.file_name(), "V20261130052700__add_notes.sql");
        assert_eq!(
            m.render(),
            "-- bluefox: add notes\n-- parent: 20261129000000\n-- bluefox:up\nCREATE TABLE \
             \"notes\" (\n    \"body\" TEXT NOT NULL\n);\n-- bluefox:down\nDROP TABLE \
             \"notes\";\n"
        );
    }

    #[test]
    fn existing_migration_file_is_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("V1__a.sql"), "keep").unwrap();
        std::fs::write(dir.join(SNAPSHOT_FILE_NAME), "old").unwrap();
        let e = write_files(&dir, "V1__a.sql", "new", "new snapshot").unwrap_err();
        assert!(matches!(e, CliError::Write { .. }), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.join("V1__a.sql")).unwrap(),
            "keep"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(SNAPSHOT_FILE_NAME)).unwrap(),
            "old"
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        write_files(&dir, "V2__b.sql", "new", "new snapshot").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("V2__b.sql")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(SNAPSHOT_FILE_NAME)).unwrap(),
            "new snapshot"
        );
    }
}
