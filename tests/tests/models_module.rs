//! MODELS_MODULE from `.env` reads only that module (the convention file is skipped and warned
//! about); a value that names nothing fails the build with every path tried.

use bluefox_tests::{serial, Fixture};

#[test]
fn dotenv_models_module_overrides_the_convention_and_unresolved_fails() {
    let _serial = serial();
    let fixture = Fixture::copy("models_module");
    fixture.write(".env", "MODELS_MODULE=crate::db::models\n");
    let run = fixture.build(&[]);
    run.assert_success();
    assert_eq!(
        run.bluefox_warnings(),
        [
            "bluefox: src/models.rs:7: Model fixture::models::User derives BluefoxBase but \
             src/models.rs is outside MODELS_MODULE=crate::db::models (from .env), so it won't \
             be tracked by Bluefox migrations. Move it into that module, or change MODELS_MODULE.",
            "bluefox: pending model change not captured by a migration: table accounts added",
            "bluefox: run `bluefox make \"<message>\"` (make migrate-make m=\"<message>\") to \
             capture it",
        ]
    );

    // The environment wins over .env, and a change to it reruns build.rs.
    let run = fixture.cargo(&["build"], &[("MODELS_MODULE", "src/models.rs")]);
    run.assert_success();
    assert!(
        run.bluefox_warnings().contains(
            &"bluefox: pending model change not captured by a migration: table users added"
                .to_string()
        ),
        "{}",
        run.stderr
    );

    fixture.write(".env", "MODELS_MODULE=crate::nowhere\n");
    let run = fixture.build(&[]);
    run.assert_failure();
    assert_eq!(
        run.build_errors(),
        [
            "bluefox: MODELS_MODULE=crate::nowhere (from .env) names no module: tried \
             src/nowhere.rs, src/nowhere/mod.rs",
            "help: set MODELS_MODULE to a module path such as crate::db::models or a file path \
             such as src/db/models.rs, or remove it to use the convention (src/models.rs, \
             src/models/, src/*/models.rs)",
        ]
    );
}
