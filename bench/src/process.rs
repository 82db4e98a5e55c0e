//! Running one contender process: wall time from spawn to exit, and its peak memory (max RSS)
//! from `wait4`, which reports them for that child alone.
//!
//! A child's max RSS is at least what its parent had resident when it was started: the child
//! begins as a copy of the parent (or, spawned with `vfork`, in the parent's own memory), and
//! the kernel keeps that high-water mark when the child execs. The harness holds several MiB
//! (its async runtime, the results so far), more than a small contender ever uses, so measured
//! directly every small contender read the harness's size (the bare app 5.1 MiB against 3.3
//! under `/usr/bin/time`). So the harness starts each contender through itself, started again
//! as a [`TRAMPOLINE_ARG`] process that has done nothing yet: it times the contender from its
//! spawn to its exit and reads its `wait4`, and hands both back in a file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What one run of a process cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
}

/// The first argument that makes the bench binary a trampoline ([`trampoline`]).
pub const TRAMPOLINE_ARG: &str = "--measure-child";

/// The bench binary to start contenders through, once `main` has said which it is.
static TRAMPOLINE: OnceLock<PathBuf> = OnceLock::new();

/// Starts later contenders through `bench_binary` (the running bench binary).
pub fn use_trampoline(bench_binary: PathBuf) {
    let _ = TRAMPOLINE.set(bench_binary);
}

/// The trampoline's side: `args` are the result file, then the program and its arguments
/// (environment, working directory and output are inherited). Runs it, writes
/// `<wall ns> <max RSS KiB> <wait status>` to the result file, and returns the exit code to
/// exit with.
pub fn trampoline(args: &[String]) -> i32 {
    let [result, program, rest @ ..] = args else {
        eprintln!("usage: bluefox-bench {TRAMPOLINE_ARG} RESULT_FILE PROGRAM [ARGS...]");
        return 2;
    };
    match measure(Command::new(program).args(rest)) {
        Ok((wall, status, max_rss_kib)) => {
            let text = format!("{} {max_rss_kib} {status}\n", wall.as_nanos());
            if let Err(e) = std::fs::write(result, text) {
                eprintln!("bluefox-bench: write {result}: {e}");
                return 2;
            }
            match libc::WIFEXITED(status) {
                true => libc::WEXITSTATUS(status),
                false => 1,
            }
        }
        Err(e) => {
            eprintln!("bluefox-bench: {e}");
            2
        }
    }
}

/// Spawns `command` and waits for it: wall time from spawn to exit, wait status, max RSS (KiB).
fn measure(command: &mut Command) -> Result<(Duration, libc::c_int, u64), String> {
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
    Ok((wall, status, usage.ru_maxrss as u64))
}

/// `command` (program, arguments, environment, working directory) started through the
/// trampoline `bench`, which writes its figures to `result`; the caller sets its output.
fn through_trampoline(bench: &Path, command: &Command, result: &Path) -> Command {
    let mut outer = Command::new(bench);
    outer
        .arg(TRAMPOLINE_ARG)
        .arg(result)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        outer.current_dir(dir);
    }
    outer
}

/// Runs `command` to completion with stdout and stderr sent to `log` (so a failure can be
/// shown), and fails when it exits unsuccessfully; through the trampoline once `main` set it.
pub fn run(command: &mut Command, log: &Path) -> Result<Run, String> {
    let out = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("clone {}: {e}", log.display()))?;
    let (wall, status, max_rss_kib) = match TRAMPOLINE.get() {
        Some(bench) => {
            let result = log.with_extension("measured");
            let _ = std::fs::remove_file(&result);
            let mut outer = through_trampoline(bench, command, &result);
            outer.stdin(Stdio::null()).stdout(out).stderr(err);
            let (_, outer_status, _) = measure(&mut outer)?;
            let text = std::fs::read_to_string(&result).map_err(|e| {
                format!(
                    "{:?} gave no figures ({e}; trampoline status {outer_status})",
                    command.get_program()
                )
            })?;
            let fields: Vec<&str> = text.split_whitespace().collect();
            let [wall, rss, status] = fields[..] else {
                return Err(format!("unreadable figures {text:?}"));
            };
            let number = |f: &str| f.parse::<i64>().map_err(|e| format!("{f:?}: {e}"));
            (
                Duration::from_nanos(number(wall)? as u64),
                number(status)? as libc::c_int,
                number(rss)? as u64,
            )
        }
        None => measure(command.stdin(Stdio::null()).stdout(out).stderr(err))?,
    };
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
    Ok(Run { wall, max_rss_kib })
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
