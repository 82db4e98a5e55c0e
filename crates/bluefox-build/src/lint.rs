//! The lints: models that bluefox would silently leave out of migrations, model changes no
//! migration captures, and a migrations directory that refinery would read differently.
//! Each takes plain data and returns [`Warning`]s; nothing here reads files.

use crate::discover::Mode;
use crate::model::{OtherStruct, StrayModel};
use crate::warning::{Warning, WarningKind};
use std::fmt::Display;

/// The seed's words after the model's name.
const NOT_TRACKED: &str = "It won't be tracked by Bluefox migrations. Derive BluefoxBase instead.";

/// Derives (last path segment) that make a struct another ORM's table.
const FOREIGN_DERIVES: &[&str] = &[
    "FromRow",
    "Queryable",
    "QueryableByName",
    "Insertable",
    "Selectable",
    "Identifiable",
    "DeriveEntityModel",
];

/// Structs of models files that carry another ORM's derive or table attribute but do not derive
/// `BluefoxBase`: one warning each, in the seed's words.
pub fn wrong_base(others: &[OtherStruct]) -> Vec<Warning> {
    others
        .iter()
        .filter_map(|other| {
            let what = if let Some(derive) = other.derives.iter().find(|d| is_foreign_derive(d)) {
                format!("derives {derive} but not BluefoxBase")
            } else {
                let attr = other.attributes.iter().find(|a| is_table_attribute(a))?;
                format!("has #[{attr}] but does not derive BluefoxBase")
            };
            Some(Warning::at(
                WarningKind::WrongBase,
                other.location.file.clone(),
                Some(other.location.line),
                format!("Model {} {what}. {NOT_TRACKED}", other.rust_path),
            ))
        })
        .collect()
}

fn is_foreign_derive(path: &str) -> bool {
    let last = path.rsplit("::").next().unwrap_or_default().trim();
    let first = path.split("::").next().unwrap_or_default().trim();
    if first.starts_with("bluefox") {
        return false;
    }
    FOREIGN_DERIVES.contains(&last) || last == "Model"
}

fn is_table_attribute(attr: &str) -> bool {
    let attr = attr.replace(' ', "");
    attr == "table_name" || attr.ends_with("(table_name)")
}

/// `BluefoxBase` structs outside the files discovery reads: one warning each, with the fix.
pub fn stray_models(strays: &[StrayModel], mode: &Mode) -> Vec<Warning> {
    strays
        .iter()
        .map(|stray| {
            let (why, fix) = match mode {
                Mode::Convention => (
                    format!("{} is not a models file", stray.location.file),
                    "Move it into src/models.rs (or src/<module>/models.rs), or set MODELS_MODULE \
                     to the module that holds your models."
                        .to_string(),
                ),
                Mode::Explicit(setting) => (
                    format!(
                        "{} is outside MODELS_MODULE={} ({})",
                        stray.location.file, setting.value, setting.origin
                    ),
                    "Move it into that module, or change MODELS_MODULE.".to_string(),
                ),
            };
            Warning::at(
                WarningKind::StrayModel,
                stray.location.file.clone(),
                Some(stray.location.line),
                format!(
                    "Model {} derives BluefoxBase but {why}, so it won't be tracked by Bluefox \
                     migrations. {fix}",
                    stray.rust_path
                ),
            )
        })
        .collect()
}

/// One warning per model change that the snapshot does not have, then one with the command that
/// captures them; nothing when there are none.
pub fn pending<C: Display>(changes: &[C]) -> Vec<Warning> {
    if changes.is_empty() {
        return Vec::new();
    }
    let mut warnings: Vec<Warning> = changes
        .iter()
        .map(|change| {
            Warning::new(
                WarningKind::PendingChange,
                format!("pending model change not captured by a migration: {change}"),
            )
        })
        .collect();
    warnings.push(Warning::new(
        WarningKind::PendingCommand,
        "run `bluefox make \"<message>\"` (make migrate-make m=\"<message>\") to capture it",
    ));
    warnings
}

/// A warning naming every head when the migrations directory `dir` (relative to the crate
/// root, as configured) has more than one; heads are (version, file).
pub fn heads(dir: &str, heads: &[(i64, String)]) -> Vec<Warning> {
    if heads.len() < 2 {
        return Vec::new();
    }
    let list: Vec<String> = heads
        .iter()
        .map(|(version, file)| format!("{version} ({file})"))
        .collect();
    vec![Warning::new(
        WarningKind::MultipleHeads,
        format!(
            "{dir} has {} heads: {}. Two migrations were made on top of the same parent \
             (often on two branches); set the `-- parent:` line of the newer one to the version \
             of the other so they form one line, then run `{}`.",
            heads.len(),
            list.join(", "),
            command(dir, "check")
        ),
    )]
}

/// A file in the migrations directory `dir` that is neither a migration nor the snapshot.
pub fn ignored_file(dir: &str, rel_path: &str, is_dir: bool, snapshot_file: &str) -> Warning {
    let what = if is_dir { "directory" } else { "file" };
    Warning::at(
        WarningKind::IgnoredFile,
        rel_path,
        None,
        format!(
            "this {what} is ignored: refinery and bluefox read only migrations named \
             V{{version}}__{{name}}.sql (and {snapshot_file}) in {dir}. Rename it to that \
             pattern or move it out of {dir}."
        ),
    )
}

/// The `bluefox` command line for `verb` on the migrations directory `dir`: `--migrations` only
/// for a directory other than the default.
fn command(dir: &str, verb: &str) -> String {
    if dir == crate::DEFAULT_MIGRATIONS_DIR {
        format!("bluefox {verb}")
    } else {
        format!("bluefox --migrations {dir} {verb}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Origin, Setting};
    use crate::model::Location;

    fn other(name: &str, line: usize, derives: &[&str], attributes: &[&str]) -> OtherStruct {
        OtherStruct {
            rust_path: format!("example_app::models::{name}"),
            location: Location {
                file: "src/models.rs".into(),
                line,
                column: 1,
            },
            derives: derives.iter().map(|s| s.to_string()).collect(),
            attributes: attributes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn wrong_base_in_the_seed_words() {
        let others = [
            other("Post", 12, &["Debug", "sqlx::FromRow"], &[]),
            other("Plain", 20, &["Debug", "Clone"], &["serde(rename_all)"]),
            other("Row", 30, &["diesel::Queryable"], &["diesel(table_name)"]),
            other("Entity", 40, &["Clone"], &["sea_orm(table_name)"]),
            other("Thing", 50, &["ormlite::Model"], &[]),
            other("Ours", 60, &["bluefox_runtime::Model"], &[]),
        ];
        let lines: Vec<String> = wrong_base(&others).iter().map(|w| w.to_string()).collect();
        assert_eq!(
            lines,
            [
                "bluefox: src/models.rs:12: Model example_app::models::Post derives sqlx::FromRow \
                 but not BluefoxBase. It won't be tracked by Bluefox migrations. Derive \
                 BluefoxBase instead.",
                "bluefox: src/models.rs:30: Model example_app::models::Row derives \
                 diesel::Queryable but not BluefoxBase. It won't be tracked by Bluefox \
                 migrations. Derive BluefoxBase instead.",
                "bluefox: src/models.rs:40: Model example_app::models::Entity has \
                 #[sea_orm(table_name)] but does not derive BluefoxBase. It won't be tracked by \
                 Bluefox migrations. Derive BluefoxBase instead.",
                "bluefox: src/models.rs:50: Model example_app::models::Thing derives \
                 ormlite::Model but not BluefoxBase. It won't be tracked by Bluefox migrations. \
                 Derive BluefoxBase instead.",
            ]
        );
    }

    #[test]
    fn stray_model_says_why_and_how_to_fix() {
        let strays = [StrayModel {
            rust_path: "fixture::Orphan".into(),
            location: Location {
                file: "src/lib.rs".into(),
                line: 4,
                column: 12,
            },
        }];
        assert_eq!(
            stray_models(&strays, &Mode::Convention)[0].to_string(),
            "bluefox: src/lib.rs:4: Model fixture::Orphan derives BluefoxBase but src/lib.rs is \
             not a models file, so it won't be tracked by Bluefox migrations. Move it into \
             src/models.rs (or src/<module>/models.rs), or set MODELS_MODULE to the module that \
             holds your models."
        );
        let mode = Mode::Explicit(Setting {
            value: "crate::db::models".into(),
            origin: Origin::DotEnv(".env".into()),
        });
        assert_eq!(
            stray_models(&strays, &mode)[0].to_string(),
            "bluefox: src/lib.rs:4: Model fixture::Orphan derives BluefoxBase but src/lib.rs is \
             outside MODELS_MODULE=crate::db::models (from .env), so it won't be tracked by \
             Bluefox migrations. Move it into that module, or change MODELS_MODULE."
        );
    }

    #[test]
    fn pending_changes_then_the_command() {
        assert!(pending::<String>(&[]).is_empty());
        let lines: Vec<String> = pending(&["table users added", "column users.nickname added"])
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(
            lines,
            [
                "bluefox: pending model change not captured by a migration: table users added",
                "bluefox: pending model change not captured by a migration: column \
                 users.nickname added",
                "bluefox: run `bluefox make \"<message>\"` (make migrate-make m=\"<message>\") to \
                 capture it",
            ]
        );
    }

    #[test]
    fn heads_only_when_more_than_one() {
        assert!(heads("migrations", &[(1, "V1__a.sql".into())]).is_empty());
        let w = heads(
            "migrations",
            &[(2, "V2__b.sql".into()), (3, "V3__c.sql".into())],
        );
        assert_eq!(w.len(), 1);
        assert!(
            w[0].to_string().starts_with(
                "bluefox: migrations has 2 heads: 2 (V2__b.sql), 3 (V3__c.sql). Two migrations"
            ),
            "{}",
            w[0]
        );
        assert!(
            w[0].to_string().ends_with("then run `bluefox check`."),
            "{}",
            w[0]
        );
    }

    #[test]
    fn heads_name_the_configured_directory_and_its_command() {
        let w = heads(
            "migrations-sqlite",
            &[(2, "V2__b.sql".into()), (3, "V3__c.sql".into())],
        );
        let text = w[0].to_string();
        assert!(
            text.starts_with("bluefox: migrations-sqlite has 2 heads: 2 (V2__b.sql), 3"),
            "{text}"
        );
        assert!(
            text.ends_with("then run `bluefox --migrations migrations-sqlite check`."),
            "{text}"
        );
    }

    #[test]
    fn ignored_file_names_the_pattern() {
        assert_eq!(
            ignored_file(
                "migrations",
                "migrations/v1_x.sql",
                false,
                "bluefox_snapshot.json"
            )
            .to_string(),
            "bluefox: migrations/v1_x.sql: this file is ignored: refinery and bluefox read only \
             migrations named V{version}__{name}.sql (and bluefox_snapshot.json) in migrations. \
             Rename it to that pattern or move it out of migrations."
        );
        assert_eq!(
            ignored_file(
                "migrations-sqlite",
                "migrations-sqlite/notes",
                true,
                "bluefox_snapshot.json"
            )
            .to_string(),
            "bluefox: migrations-sqlite/notes: this directory is ignored: refinery and bluefox \
             read only migrations named V{version}__{name}.sql (and bluefox_snapshot.json) in \
             migrations-sqlite. Rename it to that pattern or move it out of migrations-sqlite."
        );
    }
}
