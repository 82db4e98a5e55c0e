//! Usage errors exit 2 with a message; help documents exit codes and JSON fields.

mod support;

use support::{Fixture, USERS};

#[test]
fn usage_errors_exit_2_and_change_nothing() {
    let fixture = Fixture::new(USERS);
    for (args, message) in [
        (vec![], "Usage: bluefox"),
        (vec!["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (vec!["make"], "required arguments were not provided"),
        (vec!["--format", "yaml", "heads"], "invalid value 'yaml'"),
        (
            vec!["upgrade", "sideways"],
            "error: invalid target \"sideways\": use head, base, +N, -N (N at least 1) or a \
             migration version such as 20261130052700\n",
        ),
        (
            vec!["upgrade", "base"],
            "error: base is not a target for upgrade: use head, +N or a version (bluefox \
             downgrade goes the other way)\n",
        ),
        (
            vec!["--format", "json", "make", "x"],
            "error: --format json is available for current, history, heads and check, not make\n",
        ),
        (
            vec!["downgrade", "20261130052700:base"],
            "error: FROM:TO (20261130052700:base) is only for --sql: against a database, bluefox \
             reads where it is; give just the target, e.g. bluefox downgrade base\n",
        ),
        (
            vec!["make", "  "],
            "error: the migration message is empty: say what it does, e.g. bluefox make \"add \
             users table\"\n",
        ),
    ] {
        let run = fixture.bluefox(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert!(fixture.migration_dir().is_empty());
}

#[test]
fn help_documents_exit_codes_and_json_fields() {
    let fixture = Fixture::new(USERS);
    let help = fixture.bluefox(&["--help"]);
    let text = help.ok();
    for needle in [
        "make",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "check",
        "--dir <CRATE>",
        "--format <FORMAT>",
        "2  usage error",
        "current  {\"current\": null | {\"version\": int, \"name\": str, \"applied_on\": str},",
        "check    {\"ok\": bool, \"pending_changes\"",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}
