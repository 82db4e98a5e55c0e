//! The `bluefox` binary: parses the command line, sets up logging, runs, maps the outcome to an
//! exit code. Everything else is in the library.

use bluefox_cli::{run, Cli, Found};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// The log filter without RUST_LOG: warnings only (drift, unknown versions). The command prints
/// its own progress lines, so the runtime's per-migration info lines would only repeat them.
const DEFAULT_FILTER: &str = "warn";

fn main() -> ExitCode {
    // Usage errors exit 2 and --help/--version exit 0, both printed by clap.
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .init();

    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let result = run(&cli, &mut stdout.lock(), &mut stderr.lock());
    match result {
        Ok(Found::Nothing) => ExitCode::SUCCESS,
        Ok(Found::Something) => ExitCode::from(1),
        Err(error) => {
            let mut stderr = stderr.lock();
            for line in error.report(&cli.dir) {
                let _ = writeln!(stderr, "{line}");
            }
            ExitCode::from(error.exit_code())
        }
    }
}
