//! A fixture whose models match its snapshot builds without a single bluefox warning, and its
//! binary sees every migration through `bluefox_runtime::embedded!()`, normalised, in version
//! order, with refinery's own checksums.

use bluefox_core::migration_file::MigrationFile;
use bluefox_tests::{serial, Fixture};
use std::process::Command;

/// refinery's checksum, computed by refinery itself.
fn refinery_checksum(file_name: &str, up: &str) -> u64 {
    let stem = file_name.trim_end_matches(".sql");
    refinery_core::Migration::unapplied(stem, up)
        .expect("refinery reads the migration name")
        .checksum()
}

#[test]
fn matching_models_build_silently_and_embed_the_migrations() {
    let _serial = serial();
    let fixture = Fixture::copy("app");
    // A checkout on another OS: CRLF line ends and a byte-order mark must change nothing.
    let generated_name = "V20260101000000__add_users.sql";
    let generated_lf = fixture.read(&format!("migrations/{generated_name}"));
    fixture.write(
        &format!("migrations/{generated_name}"),
        &format!("\u{feff}{}", generated_lf.replace('\n', "\r\n")),
    );
    let hand_name = "V20260102000000__seed_admin.sql";
    let hand_lf = fixture.read(&format!("migrations/{hand_name}"));
    fixture.write(
        &format!("migrations/{hand_name}"),
        &hand_lf.replace('\n', "\r\n"),
    );

    let run = fixture.build(&[]);
    run.assert_success();
    assert!(
        !run.stderr.contains("bluefox:") && !run.stderr.contains("warning"),
        "models match the snapshot, yet bluefox said something:\n{}",
        run.stderr
    );

    let output = Command::new(fixture.binary())
        .output()
        .expect("run the fixture binary");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();

    let generated = MigrationFile::parse(generated_name, &generated_lf).unwrap();
    // A hand-written file is all up SQL, byte for byte, as refinery reads it.
    assert_eq!(
        MigrationFile::parse(hand_name, &hand_lf).unwrap().up,
        hand_lf
    );
    let expected = [
        "dialect postgresql".to_string(),
        "migrations 2".to_string(),
        format!(
            "migration 20260101000000 add_users {} parent=None down=true up={:?}",
            refinery_checksum(generated_name, &generated.up),
            generated.up
        ),
        format!(
            "migration 20260102000000 seed_admin {} parent=None down=false up={:?}",
            refinery_checksum(hand_name, &hand_lf),
            hand_lf
        ),
        "table users id:BIGINT:false,email:TEXT:false,bio:TEXT:true".to_string(),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..expected.len()], expected, "{stdout}");
    let snapshot = fixture.read("migrations/bluefox_snapshot.json");
    assert_eq!(
        lines[expected.len()],
        format!(
            "fingerprint {}",
            bluefox_core::snapshot::fingerprint(&snapshot)
        )
    );
}
