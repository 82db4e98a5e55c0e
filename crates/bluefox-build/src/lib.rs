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
//! 5. prints a complete `rerun-if-changed` set (`src`, each model file, `migrations`, each `.env`
//!    that exists) and `rerun-if-env-changed` for `MODELS_MODULE` and `DATABASE_URL`, so a build
//!    where none of those changed does not run the build script again.
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

pub use bluefox_core::dialect::Dialect;
pub use builder::{
    embedded_file_name, Builder, Project, DEFAULT_MIGRATIONS_DIR, EMBEDDED_FILE_NAME,
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
