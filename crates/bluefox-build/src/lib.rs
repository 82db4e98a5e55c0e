//! bluefox-build: what a crate's `build.rs` calls so its models become migrations.
//!
//! # Walkthrough
//!
//! Add the build dependency and the runtime:
//!
//! ```toml
//! [dependencies]
//! bluefox-runtime = { path = "../bluefox-runtime" }
//! [build-dependencies]
//! bluefox-build = { path = "../bluefox-build" }
//! ```
//!
//! Call it from `build.rs`:
//!
//! ```no_run
//! fn main() {
//!     bluefox_build::configure();
//! }
//! ```
//!
//! Put `#[derive(BluefoxBase)]` structs in `src/models.rs`, the files of a `src/models/` module,
//! or `src/<module>/models.rs` (or name one module with `MODELS_MODULE`, in the environment or in
//! `.env` at the crate or workspace root). Each `cargo build` then:
//!
//! 1. reads those files with syn into a schema ([`model`]);
//! 2. reads `migrations/`: every `V{version}__{name}.sql` and the schema snapshot;
//! 3. prints one `cargo:warning=bluefox: ...` line per problem, sorted: a struct carrying
//!    another ORM's derive but not `BluefoxBase`, a `BluefoxBase` struct in a file discovery does
//!    not read, model changes no migration captures yet (with the `bluefox make` command), more
//!    than one head, a file in `migrations/` that refinery would skip;
//! 4. writes `bluefox_embedded.rs` into `OUT_DIR`: every migration (normalised SQL, checksum)
//!    and the snapshot, as static data that `bluefox_runtime::embedded!()` hands to the app;
//! 5. prints a complete `rerun-if-changed` set (`src`, each model file, the migrations
//!    directory, the `.env` of the crate root and of the workspace root) and
//!    `rerun-if-env-changed` for `MODELS_MODULE` and `DATABASE_URL`, so a build where none of
//!    those changed does not run the build script again.
//!
//! # When the build script reruns
//!
//! - An input that does not exist yet is watched for its creation, not listed: the migrations
//!   directory before the first `bluefox make`, and a `.env` (crate root or workspace root) that
//!   nobody has written. cargo counts a missing `rerun-if-changed` path as changed, which would
//!   run the script and recompile the crate on every build; watching the crate directory instead
//!   would rerun it for any file in it (cargo watches a directory by everything under it). So the
//!   script keeps, in OUT_DIR, a directory of symbolic links to where the missing paths would be
//!   ([`watch`]): a crate with no migrations yet is fresh on its second build, and the build after
//!   `bluefox make` (or after a `.env` appears, which may set `MODELS_MODULE` or `DATABASE_URL`)
//!   runs the script again. Where there are no symbolic links (outside Unix) a missing
//!   migrations directory is listed itself (the script then reruns on every build until it
//!   exists) and a `.env` that does not exist is not watched.
//! - An edit anywhere under `src` reruns the script (new model files and stray `BluefoxBase`
//!   structs must be seen), but when nothing it read changed in a way that can change its
//!   output, it replays the last run's output instead of running ([`cache`]): an edit of
//!   `main.rs` costs a read of the files under `src`, not a parse of every model.
//! - An edit of anything else in the package (README, tests, benches) does not rerun it.
//!
//! A problem that would make the migrations wrong (a model that does not parse, an unsupported
//! type, an unknown `#[bluefox(...)]` key, a malformed migration, two migrations with one
//! version, a `MODELS_MODULE` that names nothing) stops the build with a report: the place
//! (`src/models.rs:12:5`), the offending line and the fix, printed as `cargo::error=` lines.
//! Never a panic.
//!
//! # Dialects
//!
//! A migrations directory is written for one dialect (PostgreSQL or SQLite), which its snapshot
//! records; the generated file embeds it and the runtime refuses a database of the other one.
//! The build stops with a report when the snapshot's dialect disagrees with
//! [`Builder::dialect`], or, when that is not set, with the dialect the build's `DATABASE_URL`
//! names (environment, then `.env`). A crate that runs on both keeps one directory per dialect
//! and embeds each:
//!
//! ```no_run
//! use bluefox_build::{Builder, Dialect};
//! // migrations/ -> bluefox_runtime::embedded!()
//! Builder::from_env().dialect(Dialect::Postgres).configure();
//! // migrations-sqlite/ -> bluefox_runtime::embedded!("migrations-sqlite")
//! Builder::from_env()
//!     .migrations_dir("migrations-sqlite")
//!     .dialect(Dialect::Sqlite)
//!     .configure();
//! ```
//!
//! # Without cargo
//!
//! [`Builder`] does the same with explicit paths; [`Builder::generate`] returns the file, the
//! warnings and the rerun lines as data ([`Generated`]) and writes nothing, and
//! [`Builder::load`] returns what was read ([`Project`]) for tools such as the `bluefox` command.

#![allow(clippy::needless_doctest_main)] // the walkthrough shows a whole build.rs

pub mod builder;
#[cfg(test)]
mod builder_tests;
pub mod cache;
pub mod codegen;
pub mod discover;
pub mod emit;
pub mod env;
pub mod error;
pub mod lint;
pub mod migrations;
pub mod model;
pub mod warning;
pub mod watch;

pub use bluefox_core::dialect::Dialect;
pub use builder::{
    embedded_file_name, Builder, Project, DEFAULT_MIGRATIONS_DIR, EMBEDDED_FILE_NAME, REPLAYED,
};
pub use emit::{emit_error_to, Generated};
pub use error::Error;
pub use warning::{Warning, WarningKind};

/// The one call a build script makes: reads the crate cargo is building (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, `OUT_DIR`, `MODELS_MODULE`), writes `bluefox_embedded.rs` into `OUT_DIR`
/// and prints the `cargo:` lines.
///
/// On an error it prints the report as `cargo::error=` lines, which makes cargo fail the build
/// after the script exits; it never panics.
pub fn configure() {
    Builder::from_env().configure();
}
