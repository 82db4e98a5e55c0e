//! Unit tests for `types`.

use super::*;

fn p(path: &str) -> RustType {
    RustType::simple(path)
}

fn g(path: &str, args: Vec<RustType>) -> RustType {
    RustType::path(path, args)
}

fn map(ty: &RustType) -> String {
    match column_type(ty) {
        Ok(c) => format!("{}{}", c.sql_type, if c.nullable { " NULL" } else { "" }),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn mapping_table() {
    let cases = [
        (p("i16"), "SMALLINT"),
        (p("i32"), "INTEGER"),
        (p("i64"), "BIGINT"),
        (p("f32"), "REAL"),
        (p("f64"), "DOUBLE PRECISION"),
        (p("bool"), "BOOLEAN"),
        (p("String"), "TEXT"),
        (p("std::string::String"), "TEXT"),
        (g("Vec", vec![p("u8")]), "BYTEA"),
        (p("Uuid"), "UUID"),
        (p("uuid::Uuid"), "UUID"),
        (p("::uuid::Uuid"), "UUID"),
        (p("NaiveDate"), "DATE"),
        (p("chrono::NaiveDate"), "DATE"),
        (p("chrono::NaiveDateTime"), "TIMESTAMP"),
        (p("NaiveDateTime"), "TIMESTAMP"),
        (p("chrono::NaiveTime"), "TIME"),
        (g("DateTime", vec![p("Utc")]), "TIMESTAMPTZ"),
        (g("chrono::DateTime", vec![p("chrono::Utc")]), "TIMESTAMPTZ"),
        (
            g("DateTime", vec![p("chrono::offset::FixedOffset")]),
            "TIMESTAMPTZ",
        ),
        (p("time::OffsetDateTime"), "TIMESTAMPTZ"),
        (p("OffsetDateTime"), "TIMESTAMPTZ"),
        (p("time::PrimitiveDateTime"), "TIMESTAMP"),
        (p("time::Date"), "DATE"),
        (p("serde_json::Value"), "JSONB"),
        (p("Value"), "JSONB"),
        (p("rust_decimal::Decimal"), "NUMERIC"),
        (p("Decimal"), "NUMERIC"),
    ];
    for (ty, want) in cases {
        assert_eq!(map(&ty), want, "{ty}");
    }
}

#[test]
fn option_is_nullable_and_vec_is_an_array() {
    assert_eq!(map(&g("Option", vec![p("String")])), "TEXT NULL");
    assert_eq!(
        map(&g("std::option::Option", vec![p("i64")])),
        "BIGINT NULL"
    );
    assert_eq!(map(&g("Vec", vec![p("String")])), "TEXT[]");
    assert_eq!(map(&g("Vec", vec![p("uuid::Uuid")])), "UUID[]");
    assert_eq!(
        map(&g("Option", vec![g("Vec", vec![p("i32")])])),
        "INTEGER[] NULL"
    );
    assert_eq!(
        map(&g("Vec", vec![g("Option", vec![p("i32")])])),
        "INTEGER[]"
    );
    assert_eq!(map(&g("Vec", vec![g("Vec", vec![p("u8")])])), "BYTEA[]");
    assert_eq!(
        map(&g("Vec", vec![g("Vec", vec![p("i32")])])),
        "error: type Vec<Vec<i32>> cannot be mapped to a PostgreSQL column type; use \
             Vec<T> of a scalar type, or add #[bluefox(sql_type = \"...\")]"
    );
    assert_eq!(
        map(&g("Option", vec![g("Option", vec![p("i32")])])),
        "error: type Option<Option<i32>> cannot be mapped to a PostgreSQL column type; a \
             column is NULL or a value: use a single Option<T>"
    );
}

#[test]
fn unsupported_types_say_what_to_do() {
    assert_eq!(
        map(&p("Image")),
        "error: type Image cannot be mapped to a PostgreSQL column type; add \
             #[bluefox(sql_type = \"...\")] or #[bluefox(skip)]"
    );
    assert_eq!(
        map(&RustType::Reference(Box::new(p("str")))),
        "error: type &str cannot be mapped to a PostgreSQL column type; a model owns its \
             data: use String instead"
    );
    assert_eq!(
        column_type(&g("Cow", vec![p("str")])).map_err(|e| e.reason),
        Err(TypeErrorReason::BorrowedStr)
    );
    assert_eq!(
        column_type(&p("u32")).map_err(|e| e.reason),
        Err(TypeErrorReason::Unsigned)
    );
    assert_eq!(
        column_type(&p("i8")).map_err(|e| e.reason),
        Err(TypeErrorReason::TinyInt)
    );
    assert_eq!(
        column_type(&g("DateTime", vec![p("Tz")])).map_err(|e| e.reason),
        Err(TypeErrorReason::Unknown)
    );
    assert_eq!(
        column_type(&p("mycrate::Uuid")).map_err(|e| e.reason),
        Err(TypeErrorReason::Unknown)
    );
    assert_eq!(
        column_type(&RustType::Other("(i32, i32)".into())).map_err(|e| e.ty),
        Err("(i32, i32)".to_string())
    );
}

#[test]
fn normalizes_aliases() {
    let cases = [
        ("int", "INTEGER"),
        ("int4", "INTEGER"),
        ("Integer", "INTEGER"),
        ("int8", "BIGINT"),
        ("bigint", "BIGINT"),
        ("int2", "SMALLINT"),
        ("float8", "DOUBLE PRECISION"),
        ("double   precision", "DOUBLE PRECISION"),
        ("float4", "REAL"),
        ("real", "REAL"),
        ("bool", "BOOLEAN"),
        ("boolean", "BOOLEAN"),
        ("varchar(80)", "VARCHAR(80)"),
        ("character varying(80)", "VARCHAR(80)"),
        ("character varying ( 80 )", "VARCHAR(80)"),
        ("timestamptz", "TIMESTAMPTZ"),
        ("timestamp with time zone", "TIMESTAMPTZ"),
        ("timestamp(3) with time zone", "TIMESTAMPTZ(3)"),
        ("timestamp", "TIMESTAMP"),
        ("timestamp without time zone", "TIMESTAMP"),
        ("decimal", "NUMERIC"),
        ("numeric(10, 2)", "NUMERIC(10,2)"),
        ("decimal(10,2)", "NUMERIC(10,2)"),
        ("text", "TEXT"),
        ("uuid", "UUID"),
        ("jsonb", "JSONB"),
        ("json", "JSON"),
        ("bytea", "BYTEA"),
        ("date", "DATE"),
        ("text[]", "TEXT[]"),
        ("int4 [ ]", "INTEGER[]"),
        ("varchar(10)[][]", "VARCHAR(10)[][]"),
        ("  citext ", "CITEXT"),
        ("geometry(Point, 4326)", "GEOMETRY(POINT,4326)"),
        ("user_status", "USER_STATUS"),
    ];
    for (input, want) in cases {
        assert_eq!(normalize_sql_type(input).as_deref(), Ok(want), "{input}");
    }
}

#[test]
fn rejects_what_is_not_a_type() {
    let err = |t: &str| normalize_sql_type(t).map_err(|e| e.reason);
    assert_eq!(
        normalize_sql_type("text; drop table users").map_err(|e| e.to_string()),
        Err(
            "sql_type \"text; drop table users\" is not a PostgreSQL type name: it \
                 contains `;`, which no type name does; write a type such as TEXT, VARCHAR(80), \
                 NUMERIC(10,2) or INTEGER[]"
                .to_string()
        )
    );
    assert_eq!(
        err("text'"),
        Err("it contains `'`, which no type name does".into())
    );
    assert_eq!(
        err("\"text\""),
        Err("it contains `\"`, which no type name does".into())
    );
    assert_eq!(
        err("text -- x"),
        Err("it contains `-`, which no type name does".into())
    );
    assert_eq!(err(""), Err("it is empty".into()));
    assert_eq!(err("varchar(80"), Err("a `(` is never closed".into()));
    assert_eq!(
        err("varchar 80)"),
        Err("unbalanced parentheses or a stray comma".into())
    );
    assert_eq!(
        err("numeric((1))"),
        Err("only one pair of parentheses is allowed".into())
    );
    assert_eq!(
        err("numeric(1,)"),
        Err("an argument in parentheses is empty".into())
    );
    assert_eq!(
        err("text[3]"),
        Err("array brackets must be empty: `[]`".into())
    );
    assert_eq!(
        err("text[]x"),
        Err("array brackets `[]` go at the end".into())
    );
    assert_eq!(
        err("8bit"),
        Err("`8bit` does not start with a letter".into())
    );
    assert_eq!(err("(3)"), Err("it has no type name".into()));
}

#[test]
fn integer_types() {
    assert!(is_integer_type("BIGINT"));
    assert!(is_integer_type("int4"));
    assert!(is_integer_type("smallint"));
    assert!(!is_integer_type("NUMERIC"));
    assert!(!is_integer_type("BIGINT[]"));
    assert!(!is_integer_type("TEXT"));
}

#[test]
fn is_integer_type_agrees_with_normalisation() {
    let reference = |t: &str| {
        matches!(
            normalize_sql_type(t).as_deref(),
            Ok("SMALLINT" | "INTEGER" | "BIGINT")
        )
    };
    let inputs = [
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "int",
        "Int4",
        " int8 ",
        "\tint2\n",
        "\u{a0}bigint\u{a0}",
        "integer[]",
        "INT(4)",
        "big int",
        "BIGINT PRIMARY",
        "TEXT",
        "NUMERIC(10,2)",
        "",
        "   ",
        "int;",
        "ınt",
        "İNT",
        "INT\u{0}",
        "SERIAL",
        "INT16",
        "INTEGER ",
        "INTE GER",
        "smallint[]",
        "VARCHAR(80)",
        "float8",
        "bigint\u{2003}",
    ];
    for input in inputs {
        assert_eq!(is_integer_type(input), reference(input), "{input:?}");
    }
}
