//! Fault suite, scenario 1 (the herd): 20 processes of the fixture app boot at the same moment
//! against one database, first empty and then halfway; every one starts, every migration is
//! applied exactly once (by exactly one process), and no log shows a duplicate object
//! (`42P07`), a duplicate key (`23505`) or a deadlock.

use bluefox_runtime::{Migrator, Target};
use bluefox_tests::herd::{self, Run};
use bluefox_tests::pg::{embedded_from_files, history_versions, TestDb};
use std::process::Child;

const REPLICAS: usize = 20;

/// Starts `REPLICAS` processes held at a gate, opens the gate, and collects every run. One
/// stampede at a time: each opens up to two connections per replica, and the server's
/// `max_connections` (100 by default) is shared with every other test.
fn stampede(url: &str) -> Vec<Run> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let app = herd::app();
    let gate_dir = tempfile::tempdir().expect("a directory for the gate file");
    let gate = gate_dir.path().join("go");
    let gate_text = gate.to_string_lossy().into_owned();
    let children: Vec<Child> = (0..REPLICAS)
        .map(|_| app.spawn(url, &[("HERD_GATE", &gate_text)]))
        .collect();
    std::fs::write(&gate, "go").expect("open the gate");
    children
        .into_iter()
        .map(|child| Run::from(child.wait_with_output().expect("wait for a replica")))
        .collect()
}

fn check_herd(runs: &[Run], expected_applied: &[i64]) {
    let mut applied = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        run.assert_booted();
        for bad in ["42P07", "23505", "deadlock", "panicked", "ERROR", "WARN"] {
            assert!(
                !run.all().contains(bad),
                "replica {i} logged {bad}:\n{}",
                run.all()
            );
        }
        applied.extend(run.applied_versions());
    }
    applied.sort_unstable();
    assert_eq!(
        applied, expected_applied,
        "every pending version must be applied by exactly one replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_replicas_boot_at_once_on_an_empty_database() {
    let db = TestDb::new("bluefox_f");
    let url = db.url.clone();
    let runs = tokio::task::spawn_blocking(move || stampede(&url))
        .await
        .expect("the stampede");
    let all: Vec<i64> = (1..=herd::MIGRATIONS).map(herd::version).collect();
    check_herd(&runs, &all);
    let client = db.client().await;
    assert_eq!(history_versions(&client).await, all);
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'herd\\_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, herd::MIGRATIONS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_replicas_boot_at_once_on_a_halfway_database() {
    let db = TestDb::new("bluefox_f");
    let half = herd::MIGRATIONS / 2;
    {
        // The first half, applied by the migrator from the same files: the binary must agree
        // with those history rows (same checksums) and apply only the rest.
        let client = db.client().await;
        let embedded = embedded_from_files(&herd::migrations());
        let report = Migrator::new(&client, embedded)
            .upgrade(Target::Version(herd::version(half)))
            .await
            .expect("apply the first half");
        assert_eq!(report.applied.len(), half);
    }
    let url = db.url.clone();
    let runs = tokio::task::spawn_blocking(move || stampede(&url))
        .await
        .expect("the stampede");
    let rest: Vec<i64> = (half + 1..=herd::MIGRATIONS).map(herd::version).collect();
    check_herd(&runs, &rest);
    let client = db.client().await;
    let all: Vec<i64> = (1..=herd::MIGRATIONS).map(herd::version).collect();
    assert_eq!(history_versions(&client).await, all);
}
