//! The warnings a real `cargo build` prints for the lints fixture, exactly and in order.

use bluefox_tests::{serial, Fixture};

#[test]
fn cargo_prints_every_lint_once_sorted_with_file_and_line() {
    let _serial = serial();
    let fixture = Fixture::copy("lints");
    let run = fixture.build(&[]);
    run.assert_success();
    assert_eq!(
        run.bluefox_warnings(),
        [
            "bluefox: migrations/v1_x.sql: this file is ignored: refinery and bluefox read only \
             migrations named V{version}__{name}.sql (and bluefox_snapshot.json) in migrations. \
             Rename it to that pattern or move it out of migrations.",
            "bluefox: src/lib.rs:9: Model fixture::Orphan derives BluefoxBase but src/lib.rs is \
             not a models file, so it won't be tracked by Bluefox migrations. Move it into \
             src/models.rs (or src/<module>/models.rs), or set MODELS_MODULE to the module that \
             holds your models.",
            "bluefox: src/models.rs:14: Model fixture::models::Post derives sqlx::FromRow but not \
             BluefoxBase. It won't be tracked by Bluefox migrations. Derive BluefoxBase instead.",
            "bluefox: src/models.rs:21: Model fixture::models::Comment derives diesel::Queryable \
             but not BluefoxBase. It won't be tracked by Bluefox migrations. Derive BluefoxBase \
             instead.",
            "bluefox: src/models.rs:27: Model fixture::models::Tag has #[sea_orm(table_name)] but \
             does not derive BluefoxBase. It won't be tracked by Bluefox migrations. Derive \
             BluefoxBase instead.",
            "bluefox: migrations has 2 heads: 20260102000000 (V20260102000000__branch_a.sql), \
             20260103000000 (V20260103000000__branch_b.sql). Two migrations were made on top of \
             the same parent (often on two branches); set the `-- parent:` line of the newer one \
             to the version of the other so they form one line, then run `bluefox check`.",
            "bluefox: pending model change not captured by a migration: column users.nickname \
             added",
            "bluefox: run `bluefox make \"<message>\"` (make migrate-make m=\"<message>\") to \
             capture it",
        ]
    );
}
