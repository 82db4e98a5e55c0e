//! Unit tests for `migration_file`.

use super::*;

const EXAMPLE: &str = "-- bluefox: add users table\n-- parent: base\n-- bluefox:up\n\
        CREATE TABLE \"users\" (\"id\" BIGINT NOT NULL);\n-- bluefox:down\nDROP TABLE \"users\";\n";

fn err(file: &str, text: &str) -> String {
    MigrationFile::parse(file, text).unwrap_err().to_string()
}

fn generated(parent: Parent, message: Option<&str>, up: &str, down: Option<&str>) -> MigrationFile {
    MigrationFile {
        version: 20261130052700,
        name: "add_users_table".into(),
        message: message.map(String::from),
        parent,
        up: up.into(),
        down: down.map(String::from),
    }
}

#[test]
fn file_names_parse() {
    assert_eq!(
        parse_file_name("V20261130052700__add_users_table.sql"),
        Ok((20261130052700, "add_users_table".to_string()))
    );
    assert_eq!(
        parse_file_name("migrations/V1__x.sql"),
        Ok((1, "x".to_string()))
    );
    assert_eq!(parse_file_name("V1___x.sql"), Ok((1, "_x".to_string())));
    assert_eq!(
        file_name(20261130052700, "add_users_table"),
        "V20261130052700__add_users_table.sql"
    );
}

#[test]
fn bad_file_names_say_what_is_wrong() {
    let reason = |f: &str| match parse_file_name(f) {
        Err(MigrationFileError::InvalidFileName { reason, .. }) => reason,
        other => panic!("{f}: {other:?}"),
    };
    assert_eq!(reason("add_users.sql"), "the name does not start with `V`");
    assert_eq!(reason("U1__x.sql"), "the name does not start with `V`");
    assert_eq!(reason("V1__x.txt"), "the name does not end in `.sql`");
    assert_eq!(
        reason("V1_x.sql"),
        "no `__` between the version and the name"
    );
    assert_eq!(
        reason("Vx__y.sql"),
        "the version (between `V` and `__`) is not a whole number"
    );
    assert_eq!(
        reason("V1.5__y.sql"),
        "the version (between `V` and `__`) is not a whole number"
    );
    assert_eq!(
        reason("V99999999999999999999__x.sql"),
        "the version does not fit in 64 bits"
    );
    assert_eq!(reason("V1__.sql"), "the name after `__` is empty");
    assert_eq!(reason("V1__add-users.sql"), "the name contains '-'");
    assert_eq!(reason("V1__café.sql"), "the name contains 'é'");
    assert_eq!(
        parse_file_name("V1__a b.sql").unwrap_err().to_string(),
        "V1__a b.sql: the name contains ' '; migration files are named `V{version}__{name}.sql`, \
             for example `V20261130052700__add_users_table.sql` (version: digits; name: ASCII \
             letters, digits and `_`)"
    );
}

#[test]
fn slugs() {
    assert_eq!(slugify("Add users table!"), "add_users_table");
    assert_eq!(slugify("users.nickname added"), "users_nickname_added");
    assert_eq!(slugify("  __add__  UUID  "), "add_uuid");
    assert_eq!(slugify("Café crème"), "caf_cr_me");
    assert_eq!(slugify(" -- !! "), "migration");
    assert_eq!(slugify(""), "migration");
    assert_eq!(slugify(&"a".repeat(100)), "a".repeat(60));
    // Truncation that ends on a separator drops it.
    assert_eq!(slugify(&format!("{} b", "a".repeat(59))), "a".repeat(59));
}

#[test]
fn normalisation() {
    assert_eq!(normalize_sql("\u{feff}a\r\nb\rc\n"), "a\nb\nc\n");
    assert_eq!(normalize_sql("a\u{feff}"), "a\u{feff}");
}

#[test]
fn parses_the_design_example() {
    let m = MigrationFile::parse("V20261130052700__add_users_table.sql", EXAMPLE).unwrap();
    assert_eq!(
        m,
        generated(
            Parent::Base,
            Some("add users table"),
            "CREATE TABLE \"users\" (\"id\" BIGINT NOT NULL);",
            Some("DROP TABLE \"users\";"),
        )
    );
    assert_eq!(m.file_name(), "V20261130052700__add_users_table.sql");
    assert_eq!(m.render(), EXAMPLE);
}

#[test]
fn sections_keep_inner_text_and_drop_outer_blank_lines() {
    let text = "\n-- bluefox: two steps\n\n-- a note\n-- parent: 20261101000000\n\n-- bluefox:up\n\n\
            CREATE TABLE \"a\" (\n    \"id\" BIGINT\n);\n\n-- second\nCREATE INDEX \"i\" ON \"a\" (\"id\");  \n\n\
            -- bluefox:down\n  \nDROP TABLE \"a\";\n\n";
    let m = MigrationFile::parse("V20261130052700__x.sql", text).unwrap();
    assert_eq!(m.message.as_deref(), Some("two steps"));
    assert_eq!(m.parent, Parent::Version(20261101000000));
    assert_eq!(
            m.up,
            "CREATE TABLE \"a\" (\n    \"id\" BIGINT\n);\n\n-- second\nCREATE INDEX \"i\" ON \"a\" (\"id\");  "
        );
    assert_eq!(m.down.as_deref(), Some("DROP TABLE \"a\";"));
}

#[test]
fn down_without_statements_is_irreversible() {
    for text in [
            "-- bluefox: m\n-- parent: base\n-- bluefox:up\nSELECT 1;\n",
            "-- bluefox: m\n-- parent: base\n-- bluefox:up\nSELECT 1;\n-- bluefox:down\n",
            "-- bluefox: m\n-- parent: base\n-- bluefox:up\nSELECT 1;\n-- bluefox:down\n  \n-- nothing\n",
        ] {
            let m = MigrationFile::parse("V2__x.sql", text).unwrap();
            assert_eq!((m.up.as_str(), m.down), ("SELECT 1;", None), "{text}");
        }
}

#[test]
fn lenient_spellings_of_markers() {
    let text = "--bluefox:   spaced  message \n--  parent:BASE\n  -- bluefox:UP\nSELECT 1;\n-- bluefox:Down\nSELECT 2;";
    let m = MigrationFile::parse("V2__x.sql", text).unwrap();
    assert_eq!(m.message.as_deref(), Some("spaced  message"));
    assert_eq!(m.parent, Parent::Base);
    assert_eq!(
        (m.up.as_str(), m.down.as_deref()),
        ("SELECT 1;", Some("SELECT 2;"))
    );
    let empty =
        MigrationFile::parse("V2__x.sql", "-- bluefox:\n-- parent: 1\n-- bluefox:up\n").unwrap();
    assert_eq!(
        (empty.message, empty.parent, empty.up.as_str()),
        (None, Parent::Version(1), "")
    );
}

#[test]
fn a_file_without_bluefox_lines_is_hand_written() {
    let text = "-- bluefoxes are fine in comments\n-- parent: base\nCREATE TABLE t ();\n\n";
    let m = MigrationFile::parse("V3__hand.sql", text).unwrap();
    assert_eq!(
        m,
        MigrationFile {
            version: 3,
            name: "hand".into(),
            message: None,
            parent: Parent::Implicit,
            up: text.to_string(),
            down: None,
        }
    );
    assert_eq!(m.render(), text);
    assert_eq!(m.checksum(), checksum("hand", 3, text));
}

#[test]
fn header_errors_name_file_line_and_fix() {
    let f = "V2__x.sql";
    assert_eq!(
        err(f, "-- bluefox: m\n-- bluefox:up\nSELECT 1;"),
        "V2__x.sql:2: no `-- parent:` line before `-- bluefox:up`; add `-- parent: <version of \
             the migration this one follows>` (or `-- parent: base` for the first migration) below \
             the `-- bluefox:` line"
    );
    assert_eq!(
            err(f, "-- bluefox: m\n-- parent: yesterday\n-- bluefox:up\n"),
            "V2__x.sql:2: `-- parent: yesterday` is neither `base` nor a version; write the version \
             number of the migration this one follows (for example `-- parent: 20261130052700`) or `base`"
        );
    assert_eq!(
        err(f, "-- bluefox: m\n-- parent: base\n"),
        "V2__x.sql:2: no `-- bluefox:up` line; add `-- bluefox:up` after the `-- parent:` line \
             and put the migration's SQL below it"
    );
    assert_eq!(
        err(
            f,
            "-- bluefox: m\n-- parent: base\n-- bluefox:down\n-- bluefox:up\n"
        ),
        "V2__x.sql:3: `-- bluefox:down` comes before `-- bluefox:up`; put the up section first: \
             `-- bluefox:up` and its SQL, then `-- bluefox:down` and its SQL"
    );
    assert_eq!(
        err(
            f,
            "-- bluefox: m\n-- parent: base\n-- bluefox:up\n-- bluefox:upp\n"
        ),
        "V2__x.sql:4: unknown directive `-- bluefox:upp`; the known ones are `-- bluefox:up` and \
             `-- bluefox:down` (a message is written `-- bluefox: <message>`, with a space)"
    );
    assert_eq!(
            err(f, "-- parent: base\n-- bluefox:up\n"),
            "V2__x.sql:1: a bluefox migration starts with `-- bluefox: <message>`; add that line \
             first (the header is `-- bluefox: <message>`, `-- parent: <version>|base`, \
             `-- bluefox:up`), or remove every `-- bluefox` line to make this a plain hand-written migration"
        );
    assert!(err(f, "-- bluefox: m\n-- bluefox up\n")
        .starts_with("V2__x.sql:2: `-- bluefox up` is not a bluefox line;"));
    assert!(err(f, "-- bluefox: m\n-- parent: 2\n")
        .starts_with("V2__x.sql:2: `-- parent: 2` is not older than this migration (version 2);"));
    assert!(err(f, "-- bluefox: m\n-- parent: 1\n-- parent: base\n")
        .starts_with("V2__x.sql:3: a second `-- parent:` line (the first is on line 2)"));
    assert!(
        err(f, "-- bluefox: m\n-- parent: 1\nSELECT 1;\n-- bluefox:up\n")
            .starts_with("V2__x.sql:3: SQL before `-- bluefox:up`;")
    );
    assert!(err(
        f,
        "-- bluefox: m\n-- parent: 1\n-- bluefox:up\n-- bluefox: n\n"
    )
    .starts_with("V2__x.sql:4: a second `-- bluefox: <message>` header (the first is on line 1)"));
}

#[test]
fn errors_are_structured() {
    let error = MigrationFile::parse("V2__x.sql", "-- bluefox: m\n-- parent: nope\n").unwrap_err();
    assert_eq!(
        error,
        MigrationFileError::BadParent {
            file: "V2__x.sql".into(),
            line: 2,
            value: "nope".into(),
        }
    );
    assert_eq!((error.file(), error.line()), ("V2__x.sql", Some(2)));
    let name = parse_file_name("x.sql").unwrap_err();
    assert_eq!((name.file(), name.line()), ("x.sql", None));
}

#[test]
fn duplicate_markers_are_errors() {
    let head = "-- bluefox: m\n-- parent: base\n-- bluefox:up\nSELECT 1;\n";
    assert_eq!(
        err("V2__x.sql", &format!("{head}-- bluefox:up\n")),
        "V2__x.sql:5: a second `-- bluefox:up` (the first is on line 3); a file holds one up and \
             at most one down section: merge them, or move the second migration into its own file"
    );
    assert!(err(
        "V2__x.sql",
        &format!("{head}-- bluefox:down\nSELECT 2;\n-- bluefox:down\n")
    )
    .starts_with("V2__x.sql:7: a second `-- bluefox:down` (the first is on line 5);"));
    assert!(err(
        "V2__x.sql",
        &format!("{head}-- bluefox:down\n-- bluefox:up\n")
    )
    .starts_with("V2__x.sql:6: a second `-- bluefox:up` (the first is on line 3);"));
    assert!(err("bad.sql", head).starts_with("bad.sql: the name does not start with `V`;"));
}

#[test]
fn generated_files_round_trip() {
    let cases = [
        generated(
            Parent::Base,
            Some("add users table"),
            "CREATE TABLE \"u\" ();",
            Some("DROP TABLE \"u\";"),
        ),
        generated(
            Parent::Version(20261101000000),
            Some("drop it"),
            "DROP TABLE \"u\";",
            None,
        ),
        generated(
            Parent::Version(7),
            None,
            "SELECT 1;\n\n  SELECT 2;",
            Some("SELECT 3;\n-- c\nSELECT 4;"),
        ),
        generated(Parent::Base, Some("nothing"), "", None),
    ];
    for m in cases {
        let text = m.render();
        assert!(text.ends_with('\n') && !text.contains('\r'), "{text}");
        assert_eq!(
            MigrationFile::parse(&m.file_name(), &text),
            Ok(m.clone()),
            "{text}"
        );
    }
}

#[test]
fn irreversible_render_is_explicit() {
    let m = generated(
        Parent::Version(5),
        Some("drop\n  users"),
        "DROP TABLE \"users\";",
        None,
    );
    assert_eq!(
            m.render(),
            "-- bluefox: drop users\n-- parent: 5\n-- bluefox:up\nDROP TABLE \"users\";\n-- bluefox:down\n\
             -- irreversible: there is no down SQL, so `bluefox downgrade` stops before this migration.\n\
             -- To make it reversible, write SQL here that undoes the up section.\n"
        );
}

#[test]
fn crlf_and_bom_parse_like_lf() {
    let name = "V20261130052700__add_users_table.sql";
    let lf = MigrationFile::parse(name, EXAMPLE).unwrap();
    let crlf =
        MigrationFile::parse(name, &format!("\u{feff}{}", EXAMPLE.replace('\n', "\r\n"))).unwrap();
    assert_eq!(crlf, lf);
    assert_eq!(crlf.checksum(), lf.checksum());
    let hand = "CREATE TABLE t ();\nSELECT 1;\n";
    let a = MigrationFile::parse("V1__h.sql", hand).unwrap();
    let b = MigrationFile::parse(
        "V1__h.sql",
        &format!("\u{feff}{}", hand.replace('\n', "\r\n")),
    )
    .unwrap();
    assert_eq!((a.up.as_str(), a.checksum()), (b.up.as_str(), b.checksum()));
}

#[test]
fn checksum_is_refinerys() {
    let cases: [(&str, i64, &str); 5] = [
        (
            "add_users_table",
            20261130052700,
            "CREATE TABLE \"users\" (\"id\" BIGINT);",
        ),
        ("x", 1, ""),
        ("_odd_name_2", i64::MAX, "SELECT 'é';\n\n-- comment\n"),
        (
            "initial",
            0,
            "CREATE TABLE t ();\nINSERT INTO t VALUES (1);",
        ),
        ("hand", 3, "-- parent: base\nCREATE TABLE t ();\n\n"),
    ];
    for (name, version, sql) in cases {
        let refinery =
            refinery_core::Migration::unapplied(&format!("V{version}__{name}"), sql).unwrap();
        assert_eq!(
            checksum(name, version, sql),
            refinery.checksum(),
            "{name} {version}"
        );
    }
    let m = MigrationFile::parse("V20261130052700__add_users_table.sql", EXAMPLE).unwrap();
    let refinery =
        refinery_core::Migration::unapplied("V20261130052700__add_users_table", &m.up).unwrap();
    assert_eq!(m.checksum(), refinery.checksum());
}

/// The normalisation as it was written before the borrowed fast path: the reference.
fn normalize_reference(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[test]
fn normalisation_borrows_normalised_text_and_matches_the_reference() {
    let inputs = [
        "",
        "SELECT 1;\n",
        "no newline at all",
        "\u{feff}SELECT 1;\n",
        "\u{feff}",
        "a\u{feff}b\n",
        "a\r\nb\r\n",
        "\u{feff}a\r\nb\rc\n",
        "\r",
        "\r\n\r\r\n\n",
        "trailing\r",
        "é\r\nü\r",
    ];
    for input in inputs {
        let normalised = normalize_sql(input);
        assert_eq!(normalised, normalize_reference(input), "{input:?}");
        let untouched = !input.contains('\r');
        assert_eq!(
            matches!(normalised, Cow::Borrowed(_)),
            untouched,
            "{input:?}: borrowed exactly when there is no CR"
        );
    }
    // The same migration, and the same checksum, from an LF and a CRLF + BOM checkout.
    let crlf = format!("\u{feff}{}", EXAMPLE.replace('\n', "\r\n"));
    let a = MigrationFile::parse("V1__add_users_table.sql", EXAMPLE).unwrap();
    let b = MigrationFile::parse("V1__add_users_table.sql", &crlf).unwrap();
    assert_eq!(a, b);
    let plain = "SELECT 1;\r\nSELECT 2;\n";
    let hand = MigrationFile::parse("V2__hand.sql", plain).unwrap();
    assert_eq!(hand.up, "SELECT 1;\nSELECT 2;\n");
    let hand = MigrationFile::parse("V2__hand.sql", "SELECT 1;\n").unwrap();
    assert_eq!(hand.up, "SELECT 1;\n");
}

#[test]
fn sections_are_their_lines_joined_without_blank_ends() {
    // The lines between the markers, blank ones at either end left out, joined by `\n`: what
    // the body is, however the text is laid out.
    let sections = [
        "SELECT 1;",
        "\n\n  SELECT 1;\n\n  SELECT 2;  \n \n",
        "-- only a comment - with dashes\n\tSELECT '--';\n",
        "\n \n",
        "",
        "a\n\n\nb\n-- c -\n",
    ];
    for up in sections {
        for down in sections {
            for line_end in ["\n", "\r\n"] {
                let text = format!(
                    "-- bluefox: m\n-- parent: base\n-- bluefox:up\n{up}\n-- bluefox:down\n{down}\n"
                )
                .replace('\n', line_end);
                let file = MigrationFile::parse("V1__m.sql", &text).unwrap();
                let joined = |section: &str| {
                    let lines: Vec<&str> = section.lines().collect();
                    let start = lines.iter().position(|l| !l.trim().is_empty());
                    let end = lines.iter().rposition(|l| !l.trim().is_empty());
                    match (start, end) {
                        (Some(start), Some(end)) => lines[start..=end].join("\n"),
                        _ => String::new(),
                    }
                };
                assert_eq!(file.up, joined(up), "{text:?}");
                let down = Some(joined(down)).filter(|d| has_statements(d));
                assert_eq!(file.down, down, "{text:?}");
            }
        }
    }
}
