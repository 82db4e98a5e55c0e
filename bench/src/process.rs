//! Running one contender process: wall time from spawn to exit, and its peak memory (max RSS)
//! from `wait4`, which reports them for that child alone.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a process cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
}

/// Runs `command` to completion with stdout and stderr sent to `log` (so a failure can be
/// shown), and fails when it exits unsuccessfully.
pub fn run(command: &mut Command, log: &Path) -> Result<Run, String> {
    let out = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("clone {}: {e}", log.display()))?;
    command.stdin(Stdio::null()).stdout(out).stderr(err);
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("start {:?}: {e}", command.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child `pid`, which std's `Child`
    // has not waited for (it is dropped below without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait for {:?}: {e}", command.get_program()));
        }
    }
    let wall = started.elapsed();
    drop(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{:?} failed (status {status}); its output ({}):\n{}",
            command,
            log.display(),
            tail.join("\n")
        ));
    }
    Ok(Run {
        wall,
        max_rss_kib: usage.ru_maxrss as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child_and_reports_failure_with_its_output() {
        let dir = std::env::temp_dir();
        let log = dir.join(format!("bluefox-bench-test-{}.log", std::process::id()));
        let ok = run(Command::new("true").arg("x"), &log).unwrap();
        assert!(ok.max_rss_kib > 0);
        let failed = run(Command::new("sh").args(["-c", "echo boom; exit 3"]), &log).unwrap_err();
        assert!(failed.contains("boom"), "{failed}");
        let _ = std::fs::remove_file(log);
    }
}
