//! What both drivers (PostgreSQL's async one, SQLite's sync one) hand refinery: its `Migration`
//! values built from the embedded migrations and from the history rows bluefox already read.

use crate::error::Error;
use crate::history::AppliedRow;
use bluefox_core::embedded::{Embedded, EmbeddedMigration};
use refinery_core::Migration;

/// What refinery is handed for a run.
pub(crate) struct RunInput {
    /// The history as refinery should see it: the newest applied row, when the binary embeds it.
    pub applied: Vec<Migration>,
    /// refinery's view of that migration and of the queue, in version order.
    pub migrations: Vec<Migration>,
}

/// refinery's input for applying `queue` after `newest`, the newest history row: not every
/// embedded migration and history row, only the newest applied one and the queue. bluefox read
/// and validated the whole history (every checksum, nothing unknown or out of order) and
/// planned the queue before this; refinery compares the newest applied migration with its row,
/// starts after it and applies the queue (the driver checks that it sends exactly that). Handing it everything cost, on every run, a
/// refinery `Migration` (an owned copy of the SQL and a hash of it) per embedded migration and
/// a comparison of every history row with every migration, a million with a thousand of each.
///
/// # Errors
/// [`Error::Embedded`] naming a migration refinery reads differently.
pub(crate) fn for_run<'q>(
    embedded: &Embedded,
    newest: Option<&AppliedRow>,
    queue: impl IntoIterator<Item = &'q EmbeddedMigration>,
) -> Result<RunInput, Error> {
    let newest = newest.and_then(|row| Some((row, embedded.migration(row.version)?)));
    let mut input = RunInput {
        applied: Vec::with_capacity(1),
        migrations: Vec::new(),
    };
    if let Some((row, migration)) = newest {
        input.applied.push(Migration::applied(
            row.version,
            row.name.clone(),
            row.applied_on,
            row.checksum,
        ));
        input.migrations.push(to_refinery(migration)?);
    }
    for m in queue {
        input.migrations.push(to_refinery(*m)?);
    }
    Ok(input)
}

/// refinery's `Migration` for an embedded one, built from what the build already computed
/// (version, name, checksum) rather than by `Migration::unapplied`, which parses the name with
/// a regex and hashes the SQL again: that regex's compilation alone cost about 0.9 MiB of heap
/// and its code's pages in every run that applies anything (refinery keeps it for good). The
/// value goes through refinery's own `Deserialize` (its `serde` feature), the form refinery
/// gives its migrations to other programs; what refinery then reads back is checked field by
/// field, so a refinery whose form differs is named as an error rather than trusted.
fn to_refinery(m: EmbeddedMigration) -> Result<Migration, Error> {
    let embedded_error = |reason: String| Error::Embedded {
        version: m.version,
        file: m.file,
        reason,
    };
    let form = serde_json::json!({
        "state": "Unapplied",
        "name": m.name,
        "checksum": m.checksum,
        "version": m.version,
        "prefix": "Versioned",
        "sql": m.up,
        "applied_on": null,
    });
    let migration: Migration = serde_json::from_value(form).map_err(|e| {
        embedded_error(format!(
            "refinery does not take the migration in the form bluefox hands it ({e}); \
             bluefox-runtime requires the refinery-core it was tested with (see its Cargo.toml)"
        ))
    })?;
    let reads_back = migration.version() == m.version
        && migration.name() == m.name
        && migration.checksum() == m.checksum
        && migration.sql() == Some(m.up)
        && migration.applied_on().is_none()
        && migration.prefix().to_string() == "V";
    if !reads_back {
        return Err(embedded_error(format!(
            "refinery reads it back as version {}, name {:?}, checksum {} (the binary embeds {}, \
             {:?}, {}); bluefox-runtime requires the refinery-core it was tested with (see its Cargo.toml)",
            migration.version(),
            migration.name(),
            migration.checksum(),
            m.version,
            m.name,
            m.checksum
        )));
    }
    Ok(migration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluefox_core::embedded::{pack, EmbeddedSnapshot};
    use time::OffsetDateTime;

    fn embedded(versions: std::ops::RangeInclusive<i64>) -> Embedded {
        let migrations = versions.map(|version| {
            let up: &'static str = Box::leak(format!("SELECT {version};").into_boxed_str());
            let checksum = Migration::unapplied(&format!("V{version}__m"), up)
                .unwrap()
                .checksum();
            EmbeddedMigration {
                version,
                name: "m",
                message: "m",
                parent: None,
                file: "V__m.sql",
                up,
                down: None,
                checksum,
            }
        });
        Embedded {
            dialect: "postgresql",
            migrations: pack::leak_migrations(migrations).unwrap(),
            snapshot: EmbeddedSnapshot::EMPTY,
            history_digest: "",
        }
    }

    fn row(m: EmbeddedMigration) -> AppliedRow {
        AppliedRow {
            version: m.version,
            name: m.name.into(),
            applied_on: OffsetDateTime::UNIX_EPOCH,
            checksum: m.checksum,
        }
    }

    #[test]
    fn refinery_sees_the_newest_applied_migration_and_the_queue_only() {
        let embedded = embedded(1..=1000);
        let applied: Vec<AppliedRow> = embedded.migrations.iter().take(998).map(row).collect();
        let queue: Vec<EmbeddedMigration> = embedded.migrations.iter().skip(998).collect();
        let input = for_run(&embedded, applied.last(), &queue).unwrap();
        let versions = |ms: &[Migration]| ms.iter().map(Migration::version).collect::<Vec<_>>();
        assert_eq!(versions(&input.applied), [998]);
        assert_eq!(versions(&input.migrations), [998, 999, 1000]);
        // refinery's own comparison of the applied migration with its row holds.
        assert!(input.applied[0] == input.migrations[0]);
    }

    #[test]
    fn an_empty_history_hands_refinery_the_queue_alone() {
        let embedded = embedded(1..=3);
        let queue: Vec<EmbeddedMigration> = embedded.migrations.iter().collect();
        let input = for_run(&embedded, None, &queue).unwrap();
        assert!(input.applied.is_empty());
        assert_eq!(input.migrations.len(), 3);
    }

    #[test]
    fn the_migration_handed_to_refinery_is_the_one_refinery_makes_of_the_file() {
        let embedded = embedded(20261130052700..=20261130052702);
        for m in embedded.migrations.iter() {
            let ours = to_refinery(m).unwrap();
            let refinerys =
                Migration::unapplied(&format!("V{}__{}", m.version, m.name), m.up).unwrap();
            // Debug shows every field, the state (unapplied) included.
            assert_eq!(format!("{ours:?}"), format!("{refinerys:?}"));
            assert!(format!("{ours:?}").contains("Unapplied"), "{ours:?}");
        }
    }

    #[test]
    fn the_checksum_is_the_one_the_build_computed_not_computed_again() {
        let embedded = embedded(1..=1);
        let mut m = embedded.migrations.get(0).unwrap();
        m.checksum += 1;
        let input = for_run(&embedded, None, &[m]).unwrap();
        assert_eq!(input.migrations[0].checksum(), m.checksum);
    }
}
