//! Tests of what models files read into: tables, attributes, other structs, inline modules.

use super::*;
use bluefox_core::schema::{
    Column, ColumnDefault, FkAction, ForeignKey, Index, Schema, UniqueConstraint,
};

pub(super) fn src(text: &str) -> SourceFile {
    SourceFile {
        rel_path: "src/models.rs".to_string(),
        abs_path: PathBuf::from("/app/src/models.rs"),
        module_path: "app::models".to_string(),
        text: text.to_string(),
    }
}

fn parse(text: &str) -> ParsedFile {
    match parse_file(&src(text)) {
        Ok(p) => p,
        Err(e) => panic!("{}", e.render()),
    }
}

fn one_table(text: &str) -> Table {
    let parsed = parse(text);
    assert_eq!(parsed.models.len(), 1, "{parsed:?}");
    parsed.models[0].table.clone()
}

fn col(name: &str, sql_type: &str, nullable: bool) -> Column {
    Column {
        name: name.to_string(),
        sql_type: sql_type.to_string(),
        nullable,
        default: None,
        identity: false,
        renamed_from: None,
    }
}

#[test]
fn the_design_example() {
    let parsed = parse(
        r#"use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(unique)]
    pub email: String,
    pub name: String,
    pub bio: Option<String>,
}
"#,
    );
    assert_eq!(parsed.others, vec![]);
    let model = &parsed.models[0];
    assert_eq!(model.rust_path, "app::models::User");
    assert_eq!(
        model.location,
        Location {
            file: "src/models.rs".to_string(),
            line: 5,
            column: 12
        }
    );
    assert_eq!(model.source_line, "pub struct User {");
    let id = Column {
        identity: true,
        ..col("id", "BIGINT", false)
    };
    let expected = Table {
        name: "users".to_string(),
        columns: vec![
            id,
            col("email", "TEXT", false),
            col("name", "TEXT", false),
            col("bio", "TEXT", true),
        ],
        primary_key: vec!["id".to_string()],
        indexes: vec![],
        uniques: vec![UniqueConstraint {
            name: "uq_users_email".to_string(),
            columns: vec!["email".to_string()],
        }],
        foreign_keys: vec![],
        renamed_from: None,
    };
    assert_eq!(model.table, expected);
    let fields: Vec<(&str, &str, usize)> = model
        .fields
        .iter()
        .map(|f| (f.rust_name.as_str(), f.column.as_str(), f.location.line))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("id", "id", 7),
            ("email", "email", 9),
            ("name", "name", 10),
            ("bio", "bio", 11)
        ]
    );
}

#[test]
fn names_default_to_snake_case_and_field_names() {
    let table = one_table(
        r#"
#[derive(Debug, bluefox_runtime::BluefoxBase)]
struct BlogPostTag {
    r#type: String,
    #[bluefox(column = "label_text")]
    label: String,
    #[bluefox(skip)]
    cache: std::cell::Cell<Image>,
}
"#,
    );
    assert_eq!(table.name, "blog_post_tag");
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["type", "label_text"]);
}

#[test]
fn field_attributes() {
    let table = one_table(
        r#"
#[derive(BluefoxBase)]
#[bluefox(table = "posts", renamed_from = "articles")]
struct Post {
    #[bluefox(primary_key)]
    id: i32,
    #[bluefox(index)]
    slug: String,
    #[bluefox(default = "draft")]
    status: String,
    #[bluefox(default = 0)]
    views: i64,
    #[bluefox(default = -1)]
    rank: i32,
    #[bluefox(default = 2.5)]
    score: f64,
    #[bluefox(default = -0.5)]
    delta: f32,
    #[bluefox(default = true)]
    visible: bool,
    #[bluefox(default_sql = " now() ")]
    created_at: chrono::DateTime<chrono::Utc>,
    #[bluefox(sql_type = "character varying(80)")]
    title: String,
    #[bluefox(sql_type = "citext")]
    handle: Option<Handle>,
    #[bluefox(references = "users.id", on_delete = "cascade")]
    author_id: i64,
    #[bluefox(references = "users.id")]
    editor_id: Option<i64>,
    #[bluefox(renamed_from = "body_text")]
    body: String,
}
"#,
    );
    assert_eq!(table.name, "posts");
    assert_eq!(table.renamed_from.as_deref(), Some("articles"));
    let summary: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}{}{}{}",
                c.name,
                c.sql_type,
                if c.nullable { " NULL" } else { "" },
                if c.identity { " IDENTITY" } else { "" },
                c.default
                    .as_ref()
                    .map(|d| format!(" DEFAULT {d:?}"))
                    .unwrap_or_default(),
                c.renamed_from
                    .as_ref()
                    .map(|r| format!(" WAS {r}"))
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "id INTEGER IDENTITY",
            "slug TEXT",
            "status TEXT DEFAULT String(\"draft\")",
            "views BIGINT DEFAULT Number(\"0\")",
            "rank INTEGER DEFAULT Number(\"-1\")",
            "score DOUBLE PRECISION DEFAULT Number(\"2.5\")",
            "delta REAL DEFAULT Number(\"-0.5\")",
            "visible BOOLEAN DEFAULT Bool(true)",
            "created_at TIMESTAMPTZ DEFAULT Expression(\"now()\")",
            "title VARCHAR(80)",
            "handle CITEXT NULL",
            "author_id BIGINT",
            "editor_id BIGINT NULL",
            "body TEXT WAS body_text",
        ]
    );
    assert_eq!(
        table.indexes,
        vec![Index {
            name: "ix_posts_slug".to_string(),
            columns: vec!["slug".to_string()]
        }]
    );
    assert_eq!(
        table.foreign_keys,
        vec![
            ForeignKey {
                name: "fk_posts_author_id_users".to_string(),
                columns: vec!["author_id".to_string()],
                ref_table: "users".to_string(),
                ref_columns: vec!["id".to_string()],
                on_delete: FkAction::Cascade,
            },
            ForeignKey {
                name: "fk_posts_editor_id_users".to_string(),
                columns: vec!["editor_id".to_string()],
                ref_table: "users".to_string(),
                ref_columns: vec!["id".to_string()],
                on_delete: FkAction::NoAction,
            },
        ]
    );
}

#[test]
fn default_suffixed_and_string_literals_keep_their_value() {
    let table = one_table(
        r#"
#[derive(BluefoxBase)]
struct T {
    #[bluefox(default = 42i64)]
    a: i64,
    #[bluefox(default = "it's")]
    b: String,
}
"#,
    );
    assert_eq!(
        table.columns[0].default,
        Some(ColumnDefault::Number("42".to_string()))
    );
    assert_eq!(
        table.columns[1].default,
        Some(ColumnDefault::String("it's".to_string()))
    );
}

#[test]
fn identity_only_for_a_sole_plain_integer_key() {
    let identity =
        |text: &str| -> Vec<bool> { one_table(text).columns.iter().map(|c| c.identity).collect() };
    let composite = r#"
#[derive(BluefoxBase)]
struct Membership {
    #[bluefox(primary_key)] user_id: i64,
    #[bluefox(primary_key)] group_id: i64,
}"#;
    assert_eq!(identity(composite), vec![false, false]);
    assert_eq!(
        one_table(composite).primary_key,
        vec!["user_id".to_string(), "group_id".to_string()]
    );
    let uuid = "#[derive(BluefoxBase)] struct A { #[bluefox(primary_key)] id: uuid::Uuid }";
    assert_eq!(identity(uuid), vec![false]);
    let typed =
        r#"#[derive(BluefoxBase)] struct A { #[bluefox(primary_key, sql_type = "int8")] id: i64 }"#;
    assert_eq!(identity(typed), vec![false]);
    let defaulted =
        r#"#[derive(BluefoxBase)] struct A { #[bluefox(primary_key, default = 1)] id: i64 }"#;
    assert_eq!(identity(defaulted), vec![false]);
    let small = "#[derive(BluefoxBase)] struct A { #[bluefox(primary_key)] id: i16, n: i32 }";
    assert_eq!(identity(small), vec![true, false]);
    let none = "#[derive(BluefoxBase)] struct A { id: i64 }";
    assert_eq!(identity(none), vec![false]);
}

#[test]
fn struct_level_index_and_unique() {
    let table = one_table(
        r#"
#[derive(BluefoxBase)]
#[bluefox(index(last_name, first_name))]
#[bluefox(unique(org_id, "mail"), index(org_id))]
#[bluefox(unique(email))]
struct Person {
    #[bluefox(unique)]
    email: String,
    first_name: String,
    last_name: String,
    #[bluefox(column = "mail")]
    work_email: String,
    org_id: i64,
}
"#,
    );
    assert_eq!(
        table.indexes,
        vec![
            Index {
                name: "ix_person_last_name_first_name".to_string(),
                columns: vec!["last_name".to_string(), "first_name".to_string()],
            },
            Index {
                name: "ix_person_org_id".to_string(),
                columns: vec!["org_id".to_string()],
            },
        ]
    );
    assert_eq!(
        table.uniques,
        vec![
            UniqueConstraint {
                name: "uq_person_email".to_string(),
                columns: vec!["email".to_string()],
            },
            UniqueConstraint {
                name: "uq_person_org_id_mail".to_string(),
                columns: vec!["org_id".to_string(), "mail".to_string()],
            },
        ]
    );
}

#[test]
fn long_generated_names_are_cut_deterministically() {
    let text = r#"
#[derive(BluefoxBase)]
#[bluefox(table = "a_table_with_a_rather_long_name_for_testing")]
struct T {
    #[bluefox(index)]
    a_column_with_an_even_longer_name_one: i32,
    #[bluefox(index)]
    a_column_with_an_even_longer_name_two: i32,
}"#;
    let table = one_table(text);
    let names: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.iter().all(|n| n.len() == 63), "{names:?}");
    assert_ne!(names[0], names[1]);
    assert!(names[0].starts_with("ix_a_table_with_a_rather_long_name_for_testing_a_colum"));
    assert_eq!(one_table(text).indexes, table.indexes);
}

#[test]
fn several_bluefox_attributes_add_up() {
    let table = one_table(
        r#"
#[derive(BluefoxBase)]
#[bluefox(table = "things")]
#[bluefox(index(b))]
struct Thing {
    #[bluefox(primary_key)]
    #[bluefox(column = "thing_id")]
    id: i64,
    b: bool,
}"#,
    );
    assert_eq!(table.name, "things");
    assert_eq!(table.primary_key, vec!["thing_id".to_string()]);
    assert_eq!(table.indexes[0].name, "ix_things_b");
}

#[test]
fn inline_modules_and_others() {
    let parsed = parse(
        r#"
use sqlx::FromRow;
use diesel::prelude::*;
use sea_orm::{self as orm, entity::prelude::*};
use serde::{Serialize as Ser, Deserialize};

#[derive(Debug, Clone, FromRow, Ser)]
pub struct Post { id: i64 }

#[derive(Queryable, Insertable, Selectable, AsChangeset, Identifiable)]
#[diesel(table_name = posts)]
#[doc = "ignored"]
#[allow(dead_code)]
pub struct Comment { id: i64 }

#[derive(DeriveEntityModel, orm::DeriveRelation)]
#[sea_orm(table_name = "tags")]
pub struct Tag { id: i64 }

#[derive(sqlx::FromRow, ::diesel::Queryable, Deserialize)]
#[table_name = "legacy"]
pub struct Legacy { id: i64 }

pub mod inner {
    use sqlx as db;
    use super::*;

    #[derive(db::FromRow, FromRow, bluefox_runtime::BluefoxBase)]
    pub struct Model { id: i64 }

    #[derive(FromRow)]
    pub struct Unresolved { id: i64 }

    mod deeper {
        #[derive(Model)]
        struct Foreign;
    }
}
"#,
    );
    assert_eq!(parsed.models.len(), 1);
    assert_eq!(parsed.models[0].rust_path, "app::models::inner::Model");
    assert_eq!(parsed.models[0].table.name, "model");
    let others: Vec<(String, usize, Vec<String>, Vec<String>)> = parsed
        .others
        .iter()
        .map(|o| {
            (
                o.rust_path.clone(),
                o.location.line,
                o.derives.clone(),
                o.attributes.clone(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        others,
        vec![
            (
                "app::models::Post".to_string(),
                8,
                s(&["Debug", "Clone", "sqlx::FromRow", "serde::Serialize"]),
                s(&[])
            ),
            (
                "app::models::Comment".to_string(),
                14,
                s(&[
                    "diesel::Queryable",
                    "diesel::Insertable",
                    "diesel::Selectable",
                    "diesel::AsChangeset",
                    "diesel::Identifiable"
                ]),
                s(&["diesel(table_name)"])
            ),
            (
                "app::models::Tag".to_string(),
                18,
                s(&["sea_orm::DeriveEntityModel", "sea_orm::DeriveRelation"]),
                s(&["sea_orm(table_name)"])
            ),
            (
                "app::models::Legacy".to_string(),
                22,
                s(&["sqlx::FromRow", "diesel::Queryable", "serde::Deserialize"]),
                s(&["table_name"])
            ),
            (
                "app::models::inner::Unresolved".to_string(),
                32,
                // `use super::*` is not followed: the name stays as written.
                s(&["FromRow"]),
                s(&[])
            ),
            (
                "app::models::inner::deeper::Foreign".to_string(),
                36,
                s(&["Model"]),
                s(&[])
            ),
        ]
    );
}

#[test]
fn use_self_and_nested_groups() {
    let parsed = parse(
        r#"
use sqlx::{self, FromRow as Row};
use ::diesel::{prelude::{Queryable}, Insertable as Ins};
#[derive(sqlx::Type, Row, Queryable, Ins)]
struct S { a: i32 }
"#,
    );
    assert_eq!(
        parsed.others[0].derives,
        vec![
            "sqlx::Type",
            "sqlx::FromRow",
            "diesel::prelude::Queryable",
            "diesel::Insertable"
        ]
    );
}

#[test]
fn assemble_builds_the_schema_in_name_order() {
    let parsed = parse(
        r#"
#[derive(BluefoxBase)]
#[bluefox(table = "users")]
struct User { #[bluefox(primary_key)] id: i64, #[bluefox(unique)] email: String }

#[derive(BluefoxBase)]
#[bluefox(table = "posts")]
struct Post {
    #[bluefox(primary_key)] id: i64,
    #[bluefox(references = "users.id")] author_id: i64,
    #[bluefox(references = "users.email")] author_email: String,
}
"#,
    );
    let schema = match assemble(&parsed.models) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render()),
    };
    let names: Vec<&String> = schema.tables.keys().collect();
    assert_eq!(names, vec!["posts", "users"]);
    assert_eq!(schema.tables["users"], parsed.models[0].table);
    assert_eq!(assemble(&[]), Ok(Schema::default()));
}

#[test]
fn same_input_same_output_ten_times() {
    let text = r#"
use sqlx::FromRow;
#[derive(BluefoxBase)]
#[bluefox(index(b, a), unique(c), unique(a, b))]
struct Z { #[bluefox(index, unique)] a: i32, b: String, #[bluefox(index)] c: Vec<String> }
#[derive(BluefoxBase)]
struct A { #[bluefox(primary_key)] id: i64, #[bluefox(references = "z.c")] c: Vec<String> }
#[derive(FromRow)]
struct Other { a: i32 }
"#;
    let first = parse(text);
    let schema = assemble(&first.models);
    for _ in 0..10 {
        let again = parse(text);
        assert_eq!(again, first);
        assert_eq!(assemble(&again.models), schema);
    }
    let z = &first.models[0].table;
    let ix: Vec<&str> = z.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(ix, vec!["ix_z_a", "ix_z_b_a", "ix_z_c"]);
    let uq: Vec<&str> = z.uniques.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(uq, vec!["uq_z_a", "uq_z_a_b", "uq_z_c"]);
}

#[test]
fn mentions_bluefox_base_is_a_substring_test() {
    for text in [
        "",
        "B",
        "BluefoxBas",
        "BluefoxBase",
        "BBluefoxBase",
        "Bluefox Base BluefoxBase",
        "Box<BTreeMap<é, B>> // ÿBluefoxBase",
        "Box<BTreeMap<é, B>> // BluefoxBasé",
        "ends with B",
        "BÉ",
    ] {
        assert_eq!(
            mentions_bluefox_base(text),
            text.contains("BluefoxBase"),
            "{text:?}"
        );
    }
}

#[test]
fn stray_models_are_found_without_failing() {
    assert!(mentions_bluefox_base("#[derive(BluefoxBase)] struct A;"));
    assert!(!mentions_bluefox_base("#[derive(Debug)] struct A;"));
    let text = r#"
fn helper() {}
#[derive(Clone, bluefox_runtime::BluefoxBase)]
pub struct Loose { id: i64, weird: Image }
mod nested {
    #[derive(BluefoxBase)]
    struct Tuple(i64);
}
"#;
    let found = parse_stray(&src(text));
    assert_eq!(
        found,
        vec![
            StrayModel {
                rust_path: "app::models::Loose".to_string(),
                location: Location {
                    file: "src/models.rs".to_string(),
                    line: 4,
                    column: 12
                },
            },
            StrayModel {
                rust_path: "app::models::nested::Tuple".to_string(),
                location: Location {
                    file: "src/models.rs".to_string(),
                    line: 7,
                    column: 12
                },
            },
        ]
    );
    assert_eq!(parse_stray(&src("#[derive(BluefoxBase)] struct {")), vec![]);
}

#[test]
fn location_displays_as_file_line_column() {
    let loc = Location {
        file: "src/models.rs".to_string(),
        line: 12,
        column: 5,
    };
    assert_eq!(loc.to_string(), "src/models.rs:12:5");
}

#[test]
fn test_only_items_are_not_tables() {
    let text = r#"
#[derive(BluefoxBase)]
struct Real { id: i64 }

#[cfg(test)]
mod tests {
    #[derive(BluefoxBase)]
    struct Fixture(i64);
}

#[cfg(test)]
#[derive(BluefoxBase, sqlx::FromRow)]
struct AlsoFixture { id: i64 }

#[cfg(feature = "extra")]
#[derive(BluefoxBase)]
struct Featured { id: i64 }
"#;
    let parsed = parse(text);
    let paths: Vec<&str> = parsed.models.iter().map(|m| m.rust_path.as_str()).collect();
    assert_eq!(paths, vec!["app::models::Real", "app::models::Featured"]);
    assert_eq!(parsed.others, vec![]);
    let strays: Vec<String> = parse_stray(&src(text))
        .into_iter()
        .map(|s| s.rust_path)
        .collect();
    assert_eq!(strays, vec!["app::models::Real", "app::models::Featured"]);
}

#[test]
fn renamed_from_on_struct_and_field() {
    let table = one_table(
        r#"
#[derive(BluefoxBase)]
#[bluefox(renamed_from = "people")]
struct Person {
    #[bluefox(renamed_from = "full_name", column = "display_name")]
    name: String,
}"#,
    );
    assert_eq!(table.name, "person");
    assert_eq!(table.renamed_from.as_deref(), Some("people"));
    assert_eq!(table.columns[0].name, "display_name");
    assert_eq!(table.columns[0].renamed_from.as_deref(), Some("full_name"));
}
