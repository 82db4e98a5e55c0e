//! `#[derive(BluefoxBase)]` (bluefox-macros) and the build script's parser (bluefox-build) must
//! name tables and columns the same way: the structs below are compiled with the derive and their
//! source text, from `stringify!`, is read by `parse_file`.

use bluefox_build::model::{parse_file, SourceFile};
use bluefox_runtime::BluefoxBase;
use std::path::PathBuf;

/// Compiles the items and keeps their text in `SOURCE`.
macro_rules! models {
    ($($item:tt)*) => {
        $($item)*
        const SOURCE: &str = stringify!($($item)*);
    };
}

models! {
    #[derive(BluefoxBase)]
    #[bluefox(table = "people", index(last_name, first_name))]
    #[allow(dead_code)]
    pub struct Person {
        #[bluefox(primary_key)]
        pub id: i64,
        pub first_name: String,
        #[bluefox(column = "surname", renamed_from = "family_name")]
        pub last_name: String,
        #[bluefox(skip)]
        pub cache: std::cell::Cell<Option<PathBuf>>,
        pub r#type: Option<String>,
    }

    #[derive(Debug, BluefoxBase)]
    #[allow(dead_code)]
    pub struct HTTPRequestLog {
        #[bluefox(primary_key, sql_type = "bigint")]
        pub id: i64,
        #[bluefox(references = "people.id", on_delete = "set null")]
        pub person_id: Option<i64>,
        #[bluefox(default_sql = "now()")]
        #[bluefox(index)]
        pub at: i64,
        #[bluefox(default = -1)]
        pub status: i32,
    }

    #[derive(bluefox_runtime::BluefoxBase)]
    #[allow(dead_code)]
    struct OrderLine {
        #[bluefox(skip)]
        note: String,
        #[bluefox(primary_key)]
        r#ref: i32,
        #[bluefox(primary_key)]
        line_no: i16,
    }
}

fn names<T: BluefoxBase>() -> (String, Vec<String>) {
    (
        T::TABLE.to_string(),
        T::COLUMNS.iter().map(|c| c.to_string()).collect(),
    )
}

#[test]
fn derive_and_parser_name_things_alike() {
    let src = SourceFile {
        rel_path: "src/models.rs".to_string(),
        abs_path: PathBuf::from("src/models.rs"),
        module_path: "agree".to_string(),
        text: SOURCE.to_string(),
    };
    let parsed = match parse_file(&src) {
        Ok(p) => p,
        Err(e) => panic!("{}", e.render()),
    };
    let from_parser: Vec<(String, Vec<String>)> = parsed
        .models
        .iter()
        .map(|m| {
            (
                m.table.name.clone(),
                m.table.columns.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .collect();
    let from_derive = vec![
        names::<Person>(),
        names::<HTTPRequestLog>(),
        names::<OrderLine>(),
    ];
    assert_eq!(from_derive, from_parser);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        from_derive,
        vec![
            (
                "people".to_string(),
                s(&["id", "first_name", "surname", "type"])
            ),
            (
                "http_request_log".to_string(),
                s(&["id", "person_id", "at", "status"])
            ),
            ("order_line".to_string(), s(&["ref", "line_no"])),
        ]
    );
}
