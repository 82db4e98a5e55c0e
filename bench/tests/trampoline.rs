//! The trampoline the harness starts contenders through: a contender's max RSS is its own, not
//! the harness's (a child's high-water mark starts at its parent's resident memory).

use std::process::Command;

/// This process's peak resident memory, KiB (`VmHWM`).
fn own_peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn figures(result: &std::path::Path) -> (u64, u64, i32) {
    let text = std::fs::read_to_string(result).expect("the trampoline's figures");
    let fields: Vec<&str> = text.split_whitespace().collect();
    (
        fields[0].parse().expect("wall ns"),
        fields[1].parse().expect("max RSS"),
        fields[2].parse().expect("status"),
    )
}

#[test]
fn a_contender_measured_through_the_trampoline_reads_its_own_memory() {
    // Hold more than a small program uses, as the harness does, so a floor would show.
    let ballast: Vec<u8> = vec![1; 32 << 20];
    let result = std::env::temp_dir().join(format!(
        "bluefox-bench-trampoline-{}.figures",
        std::process::id()
    ));
    let status = Command::new(env!("CARGO_BIN_EXE_bluefox-bench"))
        .arg("--measure-child")
        .arg(&result)
        .arg("true")
        .status()
        .expect("run the trampoline");
    assert!(status.success());
    let (wall_ns, rss_kib, wait_status) = figures(&result);
    assert!(wall_ns > 0);
    assert_eq!(wait_status, 0);
    let own = own_peak_kib();
    assert!(
        rss_kib < 16 * 1024 && rss_kib < own,
        "`true` measured {rss_kib} KiB; this test holds {own} KiB"
    );
    assert_eq!(ballast.iter().map(|&b| b as u64).sum::<u64>(), 32 << 20);

    // A failing contender: its status in the figures, its exit code passed on.
    let status = Command::new(env!("CARGO_BIN_EXE_bluefox-bench"))
        .arg("--measure-child")
        .arg(&result)
        .args(["sh", "-c", "exit 3"])
        .status()
        .expect("run the trampoline");
    assert_eq!(status.code(), Some(3));
    let (_, _, wait_status) = figures(&result);
    assert_ne!(wait_status, 0);
    let _ = std::fs::remove_file(&result);
}
