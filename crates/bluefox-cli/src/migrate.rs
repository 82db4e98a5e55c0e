//! `bluefox upgrade` and `bluefox downgrade`: against the database, or with `--sql` as a script
//! printed to stdout with no connection at all.

use crate::db;
use crate::error::CliError;
use crate::project::{self, Context, Env};
use crate::sqlite;
use bluefox_core::dialect::Dialect;
use bluefox_core::embedded::Embedded;
use bluefox_runtime::migrator::{DowngradeReport, UpgradeReport};
use bluefox_runtime::{offline, Migrator, Target};
use std::io::Write;

/// Which way a command moves the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `bluefox upgrade`.
    Upgrade,
    /// `bluefox downgrade`.
    Downgrade,
}

impl Direction {
    fn verb(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// Runs `bluefox upgrade TARGET` or `bluefox downgrade TARGET` (with `--sql` when `sql`) on the
/// crate and migrations directory of `ctx`.
///
/// # Errors
/// A malformed target ([`CliError::Usage`]), a migration that cannot be read, missing settings,
/// or whatever the runtime reports (connection, lock, history, failing SQL).
pub fn run(
    ctx: &Context,
    direction: Direction,
    target: &str,
    sql: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    ctx.check_crate()?;
    let (from, to) = split_range(target);
    if from.is_some() && !sql {
        return Err(CliError::Usage(format!(
            "FROM:TO ({target}) is only for --sql: against a database, bluefox reads where it \
             is; give just the target, e.g. {}",
            ctx.suggest(&format!("{} {to}", direction.verb()))
        )));
    }
    let to = check_direction(direction, parse_target(to)?)?;
    let env = Env::read(ctx.dir())?;
    let embedded = project::embedded(&ctx.read_migrations()?)?;
    if sql {
        let dialect = env.offline_dialect(embedded)?;
        let script = offline_script(ctx, embedded, dialect, direction, from, to)?;
        out.write_all(script.as_bytes())?;
        return Ok(());
    }
    let settings = env.settings()?;
    project::check_dialect(embedded, &settings.database_url)?;
    if sqlite::is_sqlite(&settings) {
        return match direction {
            Direction::Upgrade => {
                print_upgrade(&sqlite::upgrade(&settings, embedded, to)?, to, out)
            }
            Direction::Downgrade => {
                print_downgrade(&sqlite::downgrade(&settings, embedded, to)?, to, out)
            }
        };
    }
    let options = settings.migrator_options();
    db::block_on(async {
        let client = db::connect(&settings).await?;
        let migrator = Migrator::new(&client, embedded).with_options(options);
        match direction {
            Direction::Upgrade => print_upgrade(&migrator.upgrade(to).await?, to, out),
            Direction::Downgrade => print_downgrade(&migrator.downgrade(to).await?, to, out),
        }
    })
}

/// Prints what an upgrade applied (or that nothing was pending).
fn print_upgrade(report: &UpgradeReport, to: Target, out: &mut dyn Write) -> Result<(), CliError> {
    if report.applied.is_empty() {
        writeln!(out, "Nothing to upgrade: no pending migration up to {to}.")?;
    }
    for m in &report.applied {
        let ms = m.elapsed.as_millis();
        writeln!(out, "Applied {} {} ({ms} ms)", m.version, m.name)?;
    }
    Ok(())
}

/// Prints what a downgrade reverted (or that nothing was applied above the target).
fn print_downgrade(
    report: &DowngradeReport,
    to: Target,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if report.reverted.is_empty() {
        writeln!(
            out,
            "Nothing to downgrade: no applied migration above {to}."
        )?;
    }
    for m in &report.reverted {
        let ms = m.elapsed.as_millis();
        writeln!(out, "Reverted {} {} ({ms} ms)", m.version, m.name)?;
    }
    Ok(())
}

/// `FROM:TO` split at the colon; a plain target has no `FROM`.
fn split_range(text: &str) -> (Option<&str>, &str) {
    match text.split_once(':') {
        Some((from, to)) => (Some(from.trim()), to.trim()),
        None => (None, text.trim()),
    }
}

fn parse_target(text: &str) -> Result<Target, CliError> {
    text.parse::<Target>()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Refuses a target that points the other way (`upgrade base`, `downgrade head`, `+N`/`-N`
/// mixed up) before anything is read or connected.
fn check_direction(direction: Direction, target: Target) -> Result<Target, CliError> {
    let fits = matches!(
        (direction, target),
        (_, Target::Version(_))
            | (Direction::Upgrade, Target::Head | Target::Forward(_))
            | (Direction::Downgrade, Target::Base | Target::Back(_))
    );
    if fits {
        return Ok(target);
    }
    let accepted = match direction {
        Direction::Upgrade => "head, +N or a version (bluefox downgrade goes the other way)",
        Direction::Downgrade => "-N, base or a version (bluefox upgrade goes the other way)",
    };
    Err(CliError::Usage(format!(
        "{target} is not a target for {}: use {accepted}",
        direction.verb()
    )))
}

/// The script of an offline upgrade or downgrade. `from` is where the database is assumed to
/// be: for an upgrade `base` unless given, for a downgrade the newest migration unless given.
fn offline_script(
    ctx: &Context,
    embedded: &Embedded,
    dialect: Dialect,
    direction: Direction,
    from: Option<&str>,
    to: Target,
) -> Result<String, CliError> {
    let newest = embedded.migrations.last().map(|m| m.version);
    let from = match from.map(parse_target).transpose()? {
        None if direction == Direction::Upgrade => None,
        None | Some(Target::Head) => newest,
        Some(Target::Base) => None,
        Some(Target::Version(v)) => Some(v),
        Some(other) => {
            return Err(CliError::Usage(format!(
                "FROM in FROM:TO must be base, head or a version, not {other}"
            )))
        }
    };
    Ok(match direction {
        Direction::Upgrade if dialect == Dialect::Sqlite => {
            bluefox_runtime::sqlite::upgrade_sql(embedded, from, to)?
        }
        Direction::Upgrade => offline::upgrade_sql(embedded, from, to)?,
        Direction::Downgrade => {
            let Some(from) = from else {
                if newest.is_none() {
                    return Err(CliError::NoMigrations {
                        dir: ctx.migrations_dir().to_string(),
                        make: ctx.suggest("make"),
                    });
                }
                // From base there is nothing applied to revert: an empty script says so.
                return Ok(format!(
                    "-- bluefox downgrade from base to {to}: 0 migration(s); nothing is applied \
                     at base.\n"
                ));
            };
            match dialect {
                Dialect::Sqlite => bluefox_runtime::sqlite::downgrade_sql(embedded, from, to)?,
                Dialect::Postgres => offline::downgrade_sql(embedded, from, to)?,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_at_the_colon() {
        assert_eq!(split_range("head"), (None, "head"));
        assert_eq!(
            split_range("20261130052700:base"),
            (Some("20261130052700"), "base")
        );
        assert_eq!(split_range(" base : head "), (Some("base"), "head"));
    }

    #[test]
    fn bad_targets_are_usage_errors() {
        let e = parse_target("sideways").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("invalid target \"sideways\""),
            "{e}"
        );
        assert_eq!(parse_target("-2").unwrap(), Target::Back(2));
    }

    #[test]
    fn targets_must_point_the_right_way() {
        use Direction::{Downgrade, Upgrade};
        for (direction, target) in [
            (Upgrade, Target::Head),
            (Upgrade, Target::Forward(2)),
            (Upgrade, Target::Version(7)),
            (Downgrade, Target::Base),
            (Downgrade, Target::Back(1)),
            (Downgrade, Target::Version(7)),
        ] {
            assert_eq!(check_direction(direction, target).unwrap(), target);
        }
        let e = check_direction(Upgrade, Target::Back(1)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "-1 is not a target for upgrade: use head, +N or a version (bluefox downgrade goes \
             the other way)"
        );
        let e = check_direction(Downgrade, Target::Head).unwrap_err();
        assert_eq!(
            e.to_string(),
            "head is not a target for downgrade: use -N, base or a version (bluefox upgrade goes \
             the other way)"
        );
    }

    #[test]
    fn offline_from_must_be_a_place() {
        let ctx = Context::new("/nonexistent", "migrations-sqlite");
        let embedded = project::embedded(&ctx.read_migrations().unwrap()).unwrap();
        let e = offline_script(
            &ctx,
            embedded,
            Dialect::Postgres,
            Direction::Upgrade,
            Some("+1"),
            Target::Head,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        let e = offline_script(
            &ctx,
            embedded,
            Dialect::Postgres,
            Direction::Downgrade,
            None,
            Target::Base,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "there are no migrations in migrations-sqlite, so there is no SQL to downgrade; run \
             bluefox --migrations migrations-sqlite make first"
        );
        let script = offline_script(
            &ctx,
            embedded,
            Dialect::Postgres,
            Direction::Upgrade,
            None,
            Target::Head,
        )
        .unwrap();
        assert!(
            script.starts_with("-- bluefox upgrade from base to head: 0 migration(s)"),
            "{script}"
        );
    }
}
