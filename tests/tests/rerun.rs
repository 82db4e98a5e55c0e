//! The rerun-if set at work: a build in which nothing bluefox reads changed does not run the
//! build script; a new migration file or a new models file does, and so does the creation of a
//! migrations directory or a `.env` that did not exist, while a crate without them stays fresh.
//! A run after an edit that cannot change the output (main.rs) replays the last one.

use bluefox_build::REPLAYED;
use bluefox_tests::{serial, Fixture, FIXTURE_ID};
use std::path::{Path, PathBuf};

#[test]
fn build_script_reruns_only_when_its_inputs_change() {
    let _serial = serial();
    let fixture = Fixture::copy("lints");
    fixture.build(&[]).assert_success();

    fixture.write("README.md", "Changed: not an input of build.rs.\n");
    fixture.write("notes.txt", "a new file outside src and migrations\n");
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
    assert!(run.fixture_fresh(), "{}", run.stderr);

    fixture.write(
        "migrations/V20260104000000__add_tags.sql",
        "-- bluefox: add tags\n-- parent: 20260103000000\n-- bluefox:up\nSELECT 3;\n",
    );
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(
        run.build_script_ran(),
        "a new migration must rerun build.rs:\n{}",
        run.stderr
    );
    // The new file was read: it is now the head of its branch.
    assert!(
        run.bluefox_warnings()
            .iter()
            .any(|w| w.contains("20260104000000 (V20260104000000__add_tags.sql)")),
        "{}",
        run.stderr
    );

    fixture.write(
        "src/extra/models.rs",
        "#[derive(bluefox_runtime::BluefoxBase)]\n#[bluefox(table = \"notes\")]\npub struct Note {\n    #[bluefox(primary_key)]\n    pub id: i64,\n}\n",
    );
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(
        run.build_script_ran(),
        "a new models file must rerun build.rs:\n{}",
        run.stderr
    );
    let pending = "bluefox: pending model change not captured by a migration: table notes added";
    assert!(
        run.bluefox_warnings().iter().any(|w| w == pending),
        "{}",
        run.stderr
    );

    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
}

/// The fixture's OUT_DIR, from the `build-script-executed` message cargo prints (for a fresh
/// build too) with `--message-format=json`.
fn out_dir(fixture: &Fixture) -> PathBuf {
    let run = fixture.cargo(&["build", "--message-format=json"], &[]);
    run.assert_success();
    let key = "\"out_dir\":\"";
    run.stdout
        .lines()
        .filter(|line| line.contains("\"reason\":\"build-script-executed\""))
        .filter(|line| line.contains(&format!("#{FIXTURE_ID}\"")))
        .find_map(|line| {
            let start = line.find(key)? + key.len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .unwrap_or_else(|| panic!("no out_dir in cargo's messages:\n{}", run.stdout))
}

/// The fixture's generated file.
fn generated(out_dir: &Path) -> String {
    let path = out_dir.join(bluefox_build::EMBEDDED_FILE_NAME);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn an_edit_of_main_rs_replays_the_build_scripts_output() {
    let _serial = serial();
    let fixture = Fixture::copy("replay");
    // A password in `.env`: the cache compares `.env` by a digest, never by its bytes.
    fixture.write(
        ".env",
        "DATABASE_URL=postgres://app:hunter2@127.0.0.1:5432/app\n",
    );
    let first = fixture.build(&["-vv"]);
    first.assert_success();
    assert!(!first.stderr.contains(REPLAYED), "{}", first.stderr);
    let warnings = first.bluefox_warnings();
    // One of each: an ignored file, another ORM's struct in a models file, a stray model, a
    // pending change and its command.
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    let out = out_dir(&fixture);
    let code = generated(&out);
    // The migration is embedded: its file name in the text, its entry a record.
    assert!(code.contains("V20260101000000__add_users.sql"), "{code}");
    assert!(!code.contains("entries: b\"\","), "{code}");
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(7).any(|w| w == b"hunter2"),
                "the password of .env is in {}",
                path.display()
            );
        }
    }

    // main.rs is under `src`, which the build script watches, but holds no models.
    fixture.write(
        "src/main.rs",
        &fixture
            .read("src/main.rs")
            .replace("fn main() {", "fn main() {\n    println!(\"edited\");"),
    );
    let run = fixture.build(&["-vv"]);
    run.assert_success();
    assert!(run.build_script_ran(), "{}", run.stderr);
    assert!(
        run.stderr.contains(REPLAYED),
        "the build script ran in full:\n{}",
        run.stderr
    );
    assert_eq!(run.bluefox_warnings(), warnings);
    assert_eq!(out_dir(&fixture), out);
    assert_eq!(generated(&out), code);

    // What was replayed is what a full run prints: without the cache, the same lines.
    std::fs::remove_file(out.join(bluefox_build::cache::CACHE_FILE_NAME)).unwrap();
    fixture.write(
        "src/main.rs",
        &fixture
            .read("src/main.rs")
            .replace("edited", "edited twice"),
    );
    let run = fixture.build(&["-vv"]);
    run.assert_success();
    assert!(run.build_script_ran(), "{}", run.stderr);
    assert!(!run.stderr.contains(REPLAYED), "{}", run.stderr);
    assert_eq!(run.bluefox_warnings(), warnings);
    assert_eq!(generated(&out), code);

    // An edit of the models file changes the output: no replay.
    fixture.write(
        "src/models.rs",
        &format!(
            "{}\n#[derive(BluefoxBase)]\n#[bluefox(table = \"notes\")]\npub struct Note {{\n    \
             #[bluefox(primary_key)]\n    pub id: i64,\n}}\n",
            fixture.read("src/models.rs")
        ),
    );
    let run = fixture.build(&["-vv"]);
    run.assert_success();
    assert!(run.build_script_ran(), "{}", run.stderr);
    assert!(!run.stderr.contains(REPLAYED), "{}", run.stderr);
    let changed = run.bluefox_warnings();
    assert_ne!(changed, warnings);
    assert!(
        changed
            .iter()
            .any(|w| w
                == "bluefox: pending model change not captured by a migration: table notes added"),
        "{changed:#?}"
    );
}

#[test]
fn a_crate_without_migrations_is_fresh_until_they_or_a_dotenv_appear() {
    let _serial = serial();
    let fixture = Fixture::copy("replay");
    std::fs::remove_dir_all(fixture.path().join("migrations")).unwrap();
    fixture.build(&[]).assert_success();

    // Nothing changed: the missing migrations directory does not count as changed.
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
    assert!(run.fixture_fresh(), "{}", run.stderr);
    // Nor does the README: the crate directory itself is not watched.
    fixture.write("README.md", "Changed: not an input of build.rs.\n");
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
    assert!(run.fixture_fresh(), "{}", run.stderr);

    // A .env written after the first build is read: it names the models module.
    fixture.write(".env", "MODELS_MODULE=crate::extra\n");
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(
        run.build_script_ran(),
        "a new .env must rerun build.rs:\n{}",
        run.stderr
    );
    let pending = "bluefox: pending model change not captured by a migration: table orphans added";
    assert!(
        run.bluefox_warnings().iter().any(|w| w == pending),
        "{}",
        run.stderr
    );
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
    assert!(run.fixture_fresh(), "{}", run.stderr);

    // The first migration: the directory appears, the build script runs and embeds it.
    fixture.write(
        "migrations/V20260101000000__add_orphans.sql",
        "-- bluefox: add orphans\n-- parent: base\n-- bluefox:up\nSELECT 1;\n",
    );
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(
        run.build_script_ran(),
        "a new migrations directory must rerun build.rs:\n{}",
        run.stderr
    );
    let run = fixture.cargo(&["run"], &[]);
    run.assert_success();
    assert_eq!(run.stdout, "migrations 1\n");
    let run = fixture.build(&["-v"]);
    run.assert_success();
    assert!(!run.build_script_ran(), "{}", run.stderr);
    assert!(run.fixture_fresh(), "{}", run.stderr);
}
