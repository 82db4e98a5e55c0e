//! Build errors through a real `cargo build`: the place, the offending line and the fix, as
//! `error: fixture@0.1.0: ...` lines, and never a panic or a backtrace hint.

use bluefox_tests::{serial, Fixture};

fn errors_after(edit: impl FnOnce(&Fixture)) -> Vec<String> {
    let _serial = serial();
    let fixture = Fixture::copy("errors");
    edit(&fixture);
    let run = fixture.build(&[]);
    run.assert_failure();
    let errors = run.build_errors();
    assert!(!errors.is_empty(), "no bluefox error:\n{}", run.stderr);
    errors
}

fn models_with_field(line: &str) -> String {
    format!(
        "use bluefox_runtime::BluefoxBase;\n\n#[derive(BluefoxBase)]\n#[bluefox(table = \"users\")]\n\
         pub struct User {{\n    #[bluefox(primary_key)]\n    pub id: i64,\n{line}\n}}\n"
    )
}

#[test]
fn unsupported_type_names_the_field_and_the_fix() {
    let errors = errors_after(|f| {
        f.write(
            "src/models.rs",
            &models_with_field("    pub avatar: Image,"),
        )
    });
    assert!(
        errors[0].starts_with("bluefox: src/models.rs:8:17: "),
        "{errors:?}"
    );
    assert!(errors[0].contains("Image"), "{errors:?}");
    assert!(errors[0].contains("sql_type"), "{errors:?}");
    assert_eq!(errors[1], "8 |     pub avatar: Image,");
    assert_eq!(errors[2], "  |                 ^");
}

#[test]
fn unknown_key_is_an_error() {
    let errors = errors_after(|f| {
        f.write(
            "src/models.rs",
            &models_with_field("    #[bluefox(uniq)]\n    pub email: String,"),
        )
    });
    assert!(
        errors[0].starts_with("bluefox: src/models.rs:8:"),
        "{errors:?}"
    );
    assert!(errors[0].contains("unknown key `uniq`"), "{errors:?}");
    assert_eq!(errors[1], "8 |     #[bluefox(uniq)]");
}

#[test]
fn syntax_error_is_an_error() {
    let errors =
        errors_after(|f| f.write("src/models.rs", &models_with_field("    pub email String,")));
    assert!(
        errors[0].starts_with("bluefox: src/models.rs:8:"),
        "{errors:?}"
    );
    assert!(errors[0].contains("does not parse as Rust"), "{errors:?}");
    assert_eq!(errors[1], "8 |     pub email String,");
}

#[test]
fn malformed_migration_names_file_and_line() {
    let errors = errors_after(|f| {
        f.write(
            "migrations/V2__no_parent.sql",
            "-- bluefox: no parent\n-- bluefox:up\nSELECT 1;\n",
        )
    });
    assert!(
        errors[0].starts_with("bluefox: migrations/V2__no_parent.sql:2: "),
        "{errors:?}"
    );
    assert!(errors[0].contains("-- parent:"), "{errors:?}");
    assert_eq!(errors[1], "2 | -- bluefox:up");
}

#[test]
fn two_migrations_with_one_version_are_an_error() {
    let errors = errors_after(|f| f.write("migrations/V1__again.sql", "SELECT 1;\n"));
    assert!(
        errors[0].starts_with("bluefox: two migrations share version 1: "),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("migrations/V1__add_users.sql"),
        "{errors:?}"
    );
    assert!(errors[0].contains("migrations/V1__again.sql"), "{errors:?}");
}
