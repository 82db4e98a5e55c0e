//! The verbs that report: `current`, `history`, `heads` and `check`, as text or JSON. The JSON
//! shapes are the structs below (documented in `bluefox --help`); their field names are stable.

use crate::cli::Format;
use crate::db;
use crate::error::CliError;
use crate::project::{self, Context, Env};
use crate::sqlite;
use bluefox_core::embedded::Embedded;
use bluefox_runtime::history::HistoryEntry;
use bluefox_runtime::Migrator;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Write;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What a reporting verb found: `check` maps [`Found::Something`] to exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing to report (or a verb that always exits 0).
    Nothing,
    /// `check` found pending changes, several heads or unapplied migrations.
    Something,
}

/// `current` as JSON.
#[derive(Debug, Serialize)]
pub struct CurrentJson {
    /// The newest applied migration; `null` at base.
    pub current: Option<AppliedJson>,
    /// Whether no migration of `migrations/` is pending.
    pub at_head: bool,
    /// How many migrations of `migrations/` are not applied.
    pub pending: usize,
}

/// An applied migration in `current`.
#[derive(Debug, Serialize)]
pub struct AppliedJson {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// When it was applied (RFC 3339, UTC).
    pub applied_on: String,
}

/// `history` as JSON.
#[derive(Debug, Serialize)]
pub struct HistoryJson {
    /// Every migration of `migrations/` or the database, ascending.
    pub migrations: Vec<HistoryItemJson>,
}

/// One migration in `history`.
#[derive(Debug, Serialize)]
pub struct HistoryItemJson {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Its file in `migrations/`; `null` when only the database knows it.
    pub file: Option<String>,
    /// Its header message; `null` for a hand-written file or one only the database knows.
    pub message: Option<String>,
    /// The version it was made on top of; `null` for the first.
    pub parent: Option<i64>,
    /// When it was applied (RFC 3339, UTC); `null` when pending.
    pub applied_on: Option<String>,
    /// `applied` or `pending`.
    pub status: &'static str,
    /// Whether it is a head of `migrations/`.
    pub is_head: bool,
    /// Whether `migrations/` has it.
    pub in_files: bool,
    /// Whether its file changed since it was applied (the checksums differ).
    pub edited: bool,
}

/// `heads` as JSON.
#[derive(Debug, Serialize)]
pub struct HeadsJson {
    /// The heads, ascending.
    pub heads: Vec<HeadJson>,
}

/// One head.
#[derive(Debug, Serialize)]
pub struct HeadJson {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// Its file in `migrations/`.
    pub file: String,
    /// Its header message, if any.
    pub message: Option<String>,
}

/// `check` as JSON.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    /// Whether nothing was found (exit 0).
    pub ok: bool,
    /// Model changes no migration captures, in diff order.
    pub pending_changes: Vec<ChangeJson>,
    /// The head versions of `migrations/` (more than one is a finding).
    pub heads: Vec<i64>,
    /// With `--db`: migrations not applied to the database; `null` without `--db`.
    pub unapplied: Option<Vec<UnappliedJson>>,
}

/// A pending model change.
#[derive(Debug, Serialize)]
pub struct ChangeJson {
    /// The change as the plan shows it (`column users.bio added`).
    pub change: String,
    /// The table it is about.
    pub table: String,
    /// Why it may lose data, or `null`.
    pub destructive: Option<&'static str>,
}

/// A migration the database does not have yet.
#[derive(Debug, Serialize)]
pub struct UnappliedJson {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
}

fn json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

fn head_versions(embedded: &Embedded) -> BTreeSet<i64> {
    bluefox_runtime::history::heads(embedded)
        .iter()
        .map(|m| m.version)
        .collect()
}

/// Reads the history of the database the crate's settings name.
fn read_history(ctx: &Context, embedded: &'static Embedded) -> Result<Vec<HistoryEntry>, CliError> {
    let settings = Env::read(ctx.dir())?.settings()?;
    project::check_dialect(embedded, &settings.database_url)?;
    if sqlite::is_sqlite(&settings) {
        return sqlite::history(&settings, embedded);
    }
    db::block_on(async {
        let client = db::connect(&settings).await?;
        Ok(Migrator::new(&client, embedded).history().await?)
    })
}

/// `bluefox current`: the newest applied migration, or `base (nothing applied)`.
///
/// # Errors
/// Unreadable migrations, missing settings, or a database that cannot be read.
pub fn current(ctx: &Context, format: Format, out: &mut dyn Write) -> Result<Found, CliError> {
    ctx.check_crate()?;
    let embedded = project::embedded(&ctx.read_migrations()?)?;
    let history = read_history(ctx, embedded)?;
    let newest = history.iter().rev().find(|e| e.is_applied());
    let pending = history
        .iter()
        .filter(|e| !e.is_applied() && e.migration.is_some())
        .count();
    if format == Format::Json {
        json(
            out,
            &CurrentJson {
                current: newest.map(|e| AppliedJson {
                    version: e.version,
                    name: e.name.clone(),
                    applied_on: e.applied_on.map(rfc3339).unwrap_or_default(),
                }),
                at_head: pending == 0,
                pending,
            },
        )?;
        return Ok(Found::Nothing);
    }
    match newest {
        None => writeln!(out, "base (nothing applied)")?,
        Some(entry) => {
            let mut notes = Vec::new();
            if head_versions(embedded).contains(&entry.version) {
                notes.push(" (head)".to_string());
            }
            if entry.migration.is_none() {
                notes.push(format!(" (not in {}/)", ctx.migrations_dir()));
            }
            writeln!(out, "{} {}{}", entry.version, entry.name, notes.concat())?;
        }
    }
    if pending > 0 {
        writeln!(
            out,
            "{pending} migration(s) pending: {} applies them",
            ctx.suggest("upgrade head")
        )?;
    }
    Ok(Found::Nothing)
}

/// `bluefox history`: every migration of `migrations/` or the database, oldest first.
///
/// # Errors
/// As [`current`].
pub fn history(ctx: &Context, format: Format, out: &mut dyn Write) -> Result<Found, CliError> {
    ctx.check_crate()?;
    let embedded = project::embedded(&ctx.read_migrations()?)?;
    let history = read_history(ctx, embedded)?;
    let heads = head_versions(embedded);
    let items: Vec<HistoryItemJson> = history
        .iter()
        .map(|e| HistoryItemJson {
            version: e.version,
            name: e.name.clone(),
            file: e.migration.map(|m| m.file.to_string()),
            message: e
                .migration
                .map(|m| m.message.to_string())
                .filter(|m| !m.is_empty()),
            parent: e.migration.and_then(|m| m.parent),
            applied_on: e.applied_on.map(rfc3339),
            status: if e.is_applied() { "applied" } else { "pending" },
            is_head: heads.contains(&e.version),
            in_files: e.migration.is_some(),
            edited: e.is_edited(),
        })
        .collect();
    if format == Format::Json {
        json(out, &HistoryJson { migrations: items })?;
        return Ok(Found::Nothing);
    }
    if items.is_empty() {
        writeln!(
            out,
            "No migrations yet: {} creates the first.",
            ctx.suggest("make \"<message>\"")
        )?;
    }
    let width = items.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for (item, entry) in items.iter().zip(&history) {
        // Seconds are enough to read; the JSON keeps the stored precision.
        let state = match entry.applied_on {
            Some(at) => format!(
                "applied {}",
                rfc3339(at.replace_nanosecond(0).unwrap_or(at))
            ),
            None => "pending".to_string(),
        };
        let mut notes = String::new();
        if item.is_head {
            notes.push_str(" (head)");
        }
        if !item.in_files {
            notes.push_str(&format!(" (not in {}/)", ctx.migrations_dir()));
        }
        if item.edited {
            notes.push_str(" (EDITED since it was applied)");
        }
        let line = format!("{} {:<width$}  {state}{notes}", item.version, item.name);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(Found::Nothing)
}

/// `bluefox heads`: the migrations of `migrations/` that no other one builds on.
///
/// # Errors
/// Unreadable migrations.
pub fn heads(ctx: &Context, format: Format, out: &mut dyn Write) -> Result<Found, CliError> {
    ctx.check_crate()?;
    let embedded = project::embedded(&ctx.read_migrations()?)?;
    let heads: Vec<HeadJson> = bluefox_runtime::history::heads(embedded)
        .iter()
        .map(|m| HeadJson {
            version: m.version,
            name: m.name.to_string(),
            file: m.file.to_string(),
            message: Some(m.message.to_string()).filter(|m| !m.is_empty()),
        })
        .collect();
    if format == Format::Json {
        json(out, &HeadsJson { heads })?;
        return Ok(Found::Nothing);
    }
    if heads.is_empty() {
        writeln!(out, "No migrations yet (base).")?;
    }
    for head in &heads {
        writeln!(out, "{} {} (head)", head.version, head.name)?;
    }
    if heads.len() > 1 {
        writeln!(
            out,
            "{} heads: set the `-- parent:` line of the newer one to the version of the other \
             to merge them.",
            heads.len()
        )?;
    }
    Ok(Found::Nothing)
}

/// `bluefox check [--db]`: pending model changes (and more than one head; with `--db`,
/// migrations not applied) are findings, reported and mapped to exit 1.
///
/// # Errors
/// Unreadable models or migrations; with `--db`, missing settings, a database that cannot be
/// read, or a history that does not match the files (an edited applied migration).
pub fn check(
    ctx: &Context,
    db_too: bool,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Found, CliError> {
    ctx.check_crate()?;
    let project = ctx.load()?;
    if format == Format::Text {
        // Pending changes and several heads are findings, reported below once.
        let reported = project::Reported {
            pending_changes: true,
            heads: true,
        };
        for warning in project::warnings(&project, reported) {
            writeln!(err, "warning: {warning}")?;
        }
    }
    let changes = &project.changes;
    let heads = project.migrations.set.heads();
    let unapplied = if db_too {
        let embedded = project::embedded(&project.migrations)?;
        let settings = Env::from_files(ctx.dir(), &project.dotenv_files)?.settings()?;
        project::check_dialect(embedded, &settings.database_url)?;
        let pending = if sqlite::is_sqlite(&settings) {
            sqlite::pending(&settings, embedded)?
        } else {
            db::block_on(async {
                let client = db::connect(&settings).await?;
                Ok(Migrator::new(&client, embedded).status().await?.pending)
            })?
        };
        Some(
            pending
                .iter()
                .map(|m| UnappliedJson {
                    version: m.version,
                    name: m.name.to_string(),
                })
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let report = CheckJson {
        ok: changes.is_empty() && heads.len() <= 1 && unapplied.as_ref().is_none_or(Vec::is_empty),
        pending_changes: changes
            .iter()
            .map(|c| ChangeJson {
                change: c.to_string(),
                table: c.table().to_string(),
                destructive: c.is_destructive(),
            })
            .collect(),
        heads: heads.clone(),
        unapplied,
    };
    let found = if report.ok {
        Found::Nothing
    } else {
        Found::Something
    };
    if format == Format::Json {
        json(out, &report)?;
        return Ok(found);
    }
    if !changes.is_empty() {
        writeln!(out, "Pending model changes not captured by a migration:")?;
        for line in crate::make::plan_lines(changes) {
            writeln!(out, "  {line}")?;
        }
        let make = ctx.suggest("make \"<message>\"");
        if ctx.is_default_migrations_dir() {
            writeln!(
                out,
                "Run {make} (make migrate-make m=\"<message>\") to capture them."
            )?;
        } else {
            writeln!(
                out,
                "Run {make} to capture them in {}.",
                ctx.migrations_dir()
            )?;
        }
    }
    if heads.len() > 1 {
        let list: Vec<String> = heads.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "{} has {} heads ({}): set the `-- parent:` line of the newer one to the version of \
             the other to merge them.",
            ctx.migrations_dir(),
            heads.len(),
            list.join(", ")
        )?;
    }
    if let Some(unapplied) = report.unapplied.as_ref().filter(|u| !u.is_empty()) {
        writeln!(out, "Migrations not applied to the database:")?;
        for m in unapplied {
            writeln!(out, "  {} {}", m.version, m.name)?;
        }
        writeln!(out, "Run {} to apply them.", ctx.suggest("upgrade head"))?;
    }
    if report.ok {
        match db_too {
            true => writeln!(
                out,
                "No pending model changes; the database has every migration."
            )?,
            false => writeln!(out, "No pending model changes.")?,
        }
    }
    Ok(found)
}
