//! The rerun-if set at work: a build in which nothing bluefox reads changed does not run the
//! build script; a new migration file or a new models file does.

use bluefox_tests::{serial, Fixture};

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
