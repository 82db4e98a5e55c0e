//! Every error a models file can cause: its message, its line and column, the line's text.

use super::tests::src;
use super::*;

/// `line:column: message` of the error `text` causes.
fn err(text: &str) -> String {
    match parse_file(&src(text)) {
        Ok(p) => format!("no error: {p:?}"),
        Err(e) => format!(
            "{}:{}: {}",
            e.location().line,
            e.location().column,
            e.kind()
        ),
    }
}

#[test]
fn syntax_error_points_at_the_token() {
    let e = match parse_file(&src("struct A {\n    a: i32,\n    b i32,\n}\n")) {
        Err(e) => e,
        Ok(p) => panic!("{p:?}"),
    };
    assert_eq!(
        e.to_string(),
        "src/models.rs:3:7: the file does not parse as Rust: expected `:`; fix the syntax error"
    );
    assert_eq!(e.source_line(), "    b i32,");
    assert_eq!(
        e.render(),
        "error: the file does not parse as Rust: expected `:`; fix the syntax error\n \
         --> src/models.rs:3:7\n  |\n3 |     b i32,\n  |       ^\n"
    );
}

#[test]
fn unsupported_type_names_struct_field_and_fix() {
    let text = "#[derive(BluefoxBase)]\nstruct User {\n    id: i64,\n    pub avatar: Image,\n}\n";
    assert_eq!(
        err(text),
        "4:17: field User.avatar has type Image, which bluefox cannot map to a PostgreSQL column \
         type; add #[bluefox(sql_type = \"...\")] or #[bluefox(skip)]"
    );
    let borrowed = "#[derive(BluefoxBase)]\nstruct User<'a> {\n    name: &'a str,\n}\n";
    assert_eq!(
        err(borrowed),
        "2:12: User has generic parameters, but a table has one fixed set of columns; remove \
         the generics from the model"
    );
    let text_ref = "#[derive(BluefoxBase)]\nstruct User {\n    name: &'static str,\n}\n";
    assert_eq!(
        err(text_ref),
        "3:11: field User.name has type &str, which bluefox cannot map to a PostgreSQL column \
         type; a model owns its data: use String instead"
    );
    let unsigned = "#[derive(BluefoxBase)]\nstruct User {\n    n: u32,\n}\n";
    assert_eq!(
        err(unsigned),
        "3:8: field User.n has type u32, which bluefox cannot map to a PostgreSQL column type; \
         PostgreSQL has no unsigned integers: use i16, i32 or i64, or add \
         #[bluefox(sql_type = \"...\")]"
    );
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    let text = "#[derive(BluefoxBase)]\n#[bluefox(tabel = \"x\")]\nstruct User { id: i64 }\n";
    assert_eq!(
        err(text),
        "2:11: unknown key `tabel` in #[bluefox(...)] on struct User; valid keys here: table, \
         index, unique, renamed_from"
    );
    let field = "#[derive(BluefoxBase)]\nstruct User {\n    #[bluefox(primary_key, nullable)]\n    id: i64,\n}\n";
    assert_eq!(
        err(field),
        "3:28: unknown key `nullable` in #[bluefox(...)] on field User.id; valid keys here: \
         primary_key, unique, index, default, default_sql, sql_type, references, on_delete, \
         column, renamed_from, skip"
    );
    let on_field =
        "#[derive(BluefoxBase)]\nstruct User {\n    #[bluefox(table = \"t\")]\n    id: i64,\n}\n";
    assert!(
        err(on_field).starts_with("3:15: unknown key `table` in #[bluefox(...)] on field User.id")
    );
}

#[test]
fn bad_values() {
    let cases = [
        (
            "#[bluefox(default = now())]",
            "3:25: `default` on field T.a expects a string, number or bool literal, as in \
             default = \"draft\", default = 0 or default = false (use default_sql for an SQL \
             expression), found `now ()`",
        ),
        (
            "#[bluefox(default = -\"x\")]",
            "3:25: `default` on field T.a expects a string, number or bool literal, as in \
             default = \"draft\", default = 0 or default = false (use default_sql for an SQL \
             expression), found `- \"x\"`",
        ),
        (
            "#[bluefox(default = b'x')]",
            "3:25: `default` on field T.a expects a string, number or bool literal, as in \
             default = \"draft\", default = 0 or default = false (use default_sql for an SQL \
             expression), found `b'x'`",
        ),
        (
            "#[bluefox(column = 3)]",
            "3:24: `column` on field T.a expects a non-empty string, as in column = \"name\", \
             found `3`",
        ),
        (
            // A literal that is only the start of an expression is read as the expression.
            "#[bluefox(column = \"a\".to_string())]",
            "3:24: `column` on field T.a expects a non-empty string, as in column = \"name\", \
             found `\"a\" . to_string ()`",
        ),
        (
            "#[bluefox(column = \"\")]",
            "3:24: `column` on field T.a expects a non-empty string, as in column = \"name\", \
             found `\"\"`",
        ),
        (
            "#[bluefox(primary_key = true)]",
            "3:29: `primary_key` on field T.a expects no value (write just `primary_key`), found \
             `true`",
        ),
        (
            "#[bluefox(references = \"users\")]",
            "3:28: `references` on field T.a expects \"table.column\", as in \"users.id\", found \
             `\"users\"`",
        ),
        (
            "#[bluefox(references = \"a.b\", on_delete = \"explode\")]",
            "3:47: `on_delete` on field T.a expects one of \"no action\", \"restrict\", \
             \"cascade\", \"set null\", \"set default\", found `\"explode\"`",
        ),
        (
            "#[bluefox(unique, unique)]",
            "3:23: `unique` is given twice on field T.a; keep one",
        ),
        (
            "#[bluefox(sql_type = \"text; drop table t\")]",
            "3:26: field T.a: sql_type \"text; drop table t\" is not a PostgreSQL type name: it \
             contains `;`, which no type name does; write a type such as TEXT, VARCHAR(80), \
             NUMERIC(10,2) or INTEGER[]",
        ),
        (
            "#[bluefox(\"x\")]",
            "3:15: malformed #[bluefox(...)] attribute on field T.a: unexpected literal in nested \
             attribute, expected ident; write \
             keys as `key`, `key = \"value\"` or `key(a, b)`",
        ),
        (
            "#[bluefox]",
            "3:5: malformed #[bluefox(...)] attribute on field T.a: expected a list of keys in \
             parentheses; write keys as `key`, `key = \"value\"` or `key(a, b)`",
        ),
    ];
    for (attr, want) in cases {
        let text = format!("#[derive(BluefoxBase)]\nstruct T {{\n    {attr}\n    a: i64,\n}}\n");
        assert_eq!(err(&text), want, "{attr}");
    }
}

#[test]
fn default_sql_is_checked() {
    let text = "#[derive(BluefoxBase)]\nstruct T {\n    #[bluefox(default_sql = \"now(); drop table t\")]\n    a: i64,\n}\n";
    assert_eq!(
        err(text),
        "3:29: default_sql = \"now(); drop table t\" on field T.a is not one SQL expression: it \
         contains `;` outside quotes; write a single expression such as \"now()\""
    );
    let both = "#[derive(BluefoxBase)]\nstruct T {\n    #[bluefox(default = 1, default_sql = \"2\")]\n    a: i64,\n}\n";
    assert_eq!(
        err(both),
        "3:15: field T.a has both `default` and `default_sql`; keep one: `default` for a \
         literal, `default_sql` for an SQL expression"
    );
}

#[test]
fn field_combinations() {
    let on_delete = "#[derive(BluefoxBase)]\nstruct T {\n    #[bluefox(on_delete = \"cascade\")]\n    a: i64,\n}\n";
    assert_eq!(
        err(on_delete),
        "3:15: field T.a has `on_delete` but no `references`; add \
         #[bluefox(references = \"table.column\")] or remove `on_delete`"
    );
    let skip = "#[derive(BluefoxBase)]\nstruct T {\n    #[bluefox(skip, column = \"x\")]\n    a: i64,\n}\n";
    assert_eq!(
        err(skip),
        "3:21: field T.a has `skip` together with `column`; a skipped field has no column: \
         remove one of them"
    );
    let opt_pk = "#[derive(BluefoxBase)]\nstruct T {\n    #[bluefox(primary_key)]\n    id: Option<i64>,\n}\n";
    assert_eq!(
        err(opt_pk),
        "4:5: primary key field T.id is an Option, but a primary key column is never NULL; \
         remove the Option"
    );
}

#[test]
fn names_too_long_or_colliding() {
    let long = "x".repeat(64);
    let table =
        format!("#[derive(BluefoxBase)]\n#[bluefox(table = \"{long}\")]\nstruct T {{ a: i64 }}\n");
    assert_eq!(
        err(&table),
        format!(
            "2:19: table name \"{long}\" of struct T is 64 bytes long, over PostgreSQL's limit of \
             63 bytes; shorten it with #[bluefox(table = \"...\")]"
        )
    );
    let default_table = format!(
        "#[derive(BluefoxBase)]\nstruct {} {{ a: i64 }}\n",
        "X".repeat(64)
    );
    assert!(err(&default_table).starts_with("2:8: table name \"xxxx"));
    let column =
        format!("#[derive(BluefoxBase)]\nstruct T {{\n    id: i64,\n    {long}: i64,\n}}\n");
    assert_eq!(
        err(&column),
        format!(
            "4:5: column name \"{long}\" of field T.{long} is 64 bytes long, over PostgreSQL's \
             limit of 63 bytes; shorten it with #[bluefox(column = \"...\")]"
        )
    );
    let old = format!("#[derive(BluefoxBase)]\nstruct T {{\n    #[bluefox(renamed_from = \"{long}\")]\n    a: i64,\n}}\n");
    assert_eq!(
        err(&old),
        format!(
            "3:30: former column name \"{long}\" of field T.a is 64 bytes long, over PostgreSQL's \
             limit of 63 bytes; shorten renamed_from"
        )
    );
    let old_table = format!(
        "#[derive(BluefoxBase)]\n#[bluefox(renamed_from = \"{long}\")]\nstruct T {{ a: i64 }}\n"
    );
    assert!(err(&old_table).starts_with("2:26: former table name"));
    let clash = "#[derive(BluefoxBase)]\nstruct T {\n    name: String,\n    #[bluefox(column = \"name\")]\n    title: String,\n}\n";
    assert_eq!(
        err(clash),
        "4:24: fields T.name and T.title both map to column \"name\"; give one of them another \
         name with #[bluefox(column = \"...\")]"
    );
}

#[test]
fn shapes_that_cannot_be_tables() {
    assert_eq!(
        err("#[derive(BluefoxBase)]\nstruct T(i64);\n"),
        "2:8: T is a tuple struct, but BluefoxBase needs a struct with named fields \
         (`struct T { id: i64, ... }`); change it or remove the derive"
    );
    assert!(err("#[derive(BluefoxBase)]\nstruct T;\n").starts_with("2:8: T is a unit struct"));
    assert!(
        err("mod m {\n#[derive(BluefoxBase)]\nenum E { A }\n}\n").starts_with("3:6: E is an enum")
    );
    assert_eq!(
        err("#[derive(BluefoxBase)]\nstruct T<X> {\n    a: X,\n}\n"),
        "2:9: T has generic parameters, but a table has one fixed set of columns; remove the \
         generics from the model"
    );
}

#[test]
fn index_lists_name_real_fields() {
    let text = "#[derive(BluefoxBase)]\n#[bluefox(index(a, nope))]\nstruct T { a: i64, #[bluefox(skip)] s: i64 }\n";
    assert_eq!(
        err(text),
        "2:20: `index(...)` on struct T names `nope`, which is no field or column of T; name a \
         field that is not skipped"
    );
    let skipped = "#[derive(BluefoxBase)]\n#[bluefox(unique(s))]\nstruct T { a: i64, #[bluefox(skip)] s: i64 }\n";
    assert!(err(skipped).starts_with("2:18: `unique(...)` on struct T names `s`"));
    let empty = "#[derive(BluefoxBase)]\n#[bluefox(index())]\nstruct T { a: i64 }\n";
    assert_eq!(
        err(empty),
        "2:11: `index` on struct T expects a list of fields, as in index(a, b), found a list"
    );
}

fn models(text: &str) -> Vec<ModelStruct> {
    match parse_file(&src(text)) {
        Ok(p) => p.models,
        Err(e) => panic!("{}", e.render()),
    }
}

fn assemble_err(text: &str) -> String {
    let models = models(text);
    match assemble(&models) {
        Ok(s) => format!("no error: {s:?}"),
        Err(e) => format!(
            "{}:{}: {} | {}",
            e.location().line,
            e.location().column,
            e.kind(),
            e.source_line()
        ),
    }
}

#[test]
fn assemble_errors() {
    let dup = "#[derive(BluefoxBase)]\nstruct User { id: i64 }\n#[derive(BluefoxBase)]\n#[bluefox(table = \"user\")]\nstruct Account { id: i64 }\n";
    assert_eq!(
        assemble_err(dup),
        "5:8: table \"user\" is declared by both app::models::User (src/models.rs:2:8) and \
         app::models::Account; give one of them another name with #[bluefox(table = \"...\")] \
         | struct Account { id: i64 }"
    );
    let base = "#[derive(BluefoxBase)]\n#[bluefox(table = \"users\")]\nstruct User { #[bluefox(primary_key)] id: i64, name: String }\n";
    let no_table = format!("{base}#[derive(BluefoxBase)]\nstruct Post {{\n    #[bluefox(references = \"people.id\")]\n    author_id: i64,\n}}\n");
    assert_eq!(
        assemble_err(&no_table),
        "7:5: field Post.author_id references people.id, but no model has table \"people\"; \
         name the table of a BluefoxBase struct (known: post, users) |     author_id: i64,"
    );
    let no_column = no_table.replace("people.id", "users.uid");
    assert_eq!(
        assemble_err(&no_column),
        "7:5: field Post.author_id references users.uid, but table \"users\" (User) has no \
         column \"uid\"; name one of its columns: id, name |     author_id: i64,"
    );
    let not_unique = no_table.replace("people.id", "users.full_name").replace(
        "name: String",
        "#[bluefox(column = \"full_name\")] name: String",
    );
    assert_eq!(
        assemble_err(&not_unique),
        "7:5: field Post.author_id references users.full_name, which is neither the primary key \
         nor unique, so PostgreSQL cannot use it for a foreign key; reference the primary key or \
         mark User.name #[bluefox(unique)] |     author_id: i64,"
    );
}
