//! What both drivers (PostgreSQL's async one, SQLite's sync one) hand refinery: its `Migration`
//! values built from the embedded migrations and from the history rows bluefox already read.

use crate::error::Error;
use crate::history::AppliedRow;
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use refinery_core::Migration;

/// refinery's view of every embedded migration, each checked to get the checksum and name the
/// binary embeds (they are computed at build time; a mismatch is a bluefox bug, named).
///
/// # Errors
/// [`Error::Embedded`] naming the migration refinery reads differently.
pub(crate) fn unapplied(embedded: &Embedded) -> Result<Vec<Migration>, Error> {
    embedded.migrations.iter().map(to_refinery).collect()
}

/// refinery's view of the history rows read and validated by bluefox.
pub(crate) fn applied(rows: &[AppliedRow]) -> Vec<Migration> {
    rows.iter()
        .map(|r| Migration::applied(r.version, r.name.clone(), r.applied_on, r.checksum))
        .collect()
}

fn to_refinery(m: EmbeddedMigration) -> Result<Migration, Error> {
    let embedded_error = |reason: String| Error::Embedded {
        version: m.version,
        file: m.file,
        reason,
    };
    let migration = Migration::unapplied(&format!("V{}__{}", m.version, m.name), m.up)
        .map_err(|e| embedded_error(e.to_string()))?;
    if migration.checksum() != m.checksum || migration.name() != m.name {
        return Err(embedded_error(format!(
            "refinery computes checksum {} for name {:?}, the binary embeds {} for {:?}",
            migration.checksum(),
            migration.name(),
            m.checksum,
            m.name
        )));
    }
    Ok(migration)
}
