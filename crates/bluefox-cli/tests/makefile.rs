//! example-app's Makefile, target by target, as the seed document uses it: on a copy of the
//! example app, against a fresh database, with the `bluefox` binary of this build.

use bluefox_testdb::TestDb;
use std::path::Path;
use std::process::Command;

/// Copies the files of example-app that the Makefile and the command read.
fn copy_example_app(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../example-app");
    for rel in ["Cargo.toml", "Makefile", "build.rs"] {
        std::fs::copy(from.join(rel), to.join(rel)).expect("copy an example-app file");
    }
    for dir in ["src", "src/users", "src/posts", "migrations"] {
        std::fs::create_dir_all(to.join(dir)).expect("create a directory");
        for entry in std::fs::read_dir(from.join(dir)).expect("read an example-app directory") {
            let entry = entry.expect("a directory entry");
            if entry.file_type().expect("a file type").is_file() {
                std::fs::copy(entry.path(), to.join(dir).join(entry.file_name()))
                    .expect("copy an example-app file");
            }
        }
    }
}

struct Make {
    code: i32,
    stdout: String,
    stderr: String,
}

fn make(dir: &Path, db: &TestDb, args: &[&str]) -> Make {
    let output = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(dir)
        .args(args)
        .arg(format!("BLUEFOX={}", env!("CARGO_BIN_EXE_bluefox")))
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run make (install GNU make)");
    Make {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ok(run: Make) -> String {
    assert_eq!(run.code, 0, "make failed:\n{}\n{}", run.stdout, run.stderr);
    run.stdout
}

#[test]
fn the_seed_targets_work_on_the_example_app() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    copy_example_app(dir);
    let db = TestDb::new("bluefox_make");
    let files: Vec<String> = {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("migrations"))
            .expect("migrations")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('V'))
            .collect();
        names.sort();
        names
    };
    let version = |file: &str| file[1..].split("__").next().unwrap_or("").to_string();
    let newest = version(&files[files.len() - 1]);

    let status = ok(make(dir, &db, &["migrate-status"]));
    assert!(status.contains("base (nothing applied)"), "{status}");

    let migrate = ok(make(dir, &db, &["migrate"]));
    for file in &files {
        assert!(
            migrate.contains(&format!("Applied {}", version(file))),
            "{migrate}"
        );
    }
    let status = ok(make(dir, &db, &["migrate-status"]));
    assert!(
        status.contains(&format!("{newest} ")) && status.contains("(head)"),
        "{status}"
    );

    let history = ok(make(dir, &db, &["migrate-history"]));
    assert_eq!(
        history.lines().filter(|l| l.contains("applied")).count(),
        files.len(),
        "{history}"
    );

    let down = ok(make(dir, &db, &["migrate-down"]));
    assert!(down.contains(&format!("Reverted {newest}")), "{down}");
    let status = ok(make(dir, &db, &["migrate-status"]));
    assert!(!status.contains(&newest), "{status}");
    // One step down: the migration before the newest is current.
    let previous = version(&files[files.len() - 2]);
    assert!(status.contains(&previous), "{status}");
    assert_eq!(
        db.column("SELECT count(*) FROM refinery_schema_history"),
        vec![(files.len() - 1).to_string()]
    );

    // No model change: nothing is written.
    let nothing = ok(make(dir, &db, &["migrate-make", "m=nothing changed"]));
    assert!(nothing.contains("No changes in models"), "{nothing}");
    // A model change: a new migration on top of the newest.
    let users = dir.join("src/users/models.rs");
    let text = std::fs::read_to_string(&users).expect("users model");
    std::fs::write(
        &users,
        text.replace(
            "    pub nickname: Option<String>,\n",
            "    pub nickname: Option<String>,\n    pub karma: Option<i32>,\n",
        ),
    )
    .expect("edit the users model");
    let made = ok(make(dir, &db, &["migrate-make", "m=add user karma"]));
    assert!(made.contains("column users.karma added"), "{made}");
    let written: Vec<_> = std::fs::read_dir(dir.join("migrations"))
        .expect("migrations")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("__add_user_karma.sql"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let body = std::fs::read_to_string(dir.join("migrations").join(&written[0])).expect("file");
    assert!(body.contains(&format!("-- parent: {newest}")), "{body}");
    assert!(
        body.contains("ALTER TABLE \"users\" ADD COLUMN \"karma\" INTEGER;"),
        "{body}"
    );

    // The usage error names the argument.
    let usage = make(dir, &db, &["migrate-make"]);
    assert_ne!(usage.code, 0);
    assert!(
        usage.stderr.contains("usage: make migrate-make m="),
        "{}",
        usage.stderr
    );

    let migrate = ok(make(dir, &db, &["migrate"]));
    assert!(migrate.contains(&format!("Applied {newest}")), "{migrate}");
    assert!(migrate.contains("add_user_karma"), "{migrate}");
}
