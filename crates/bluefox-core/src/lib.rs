//! bluefox-core: the pure heart of bluefox.
//!
//! It holds the schema model ([`schema`]), the Rust-to-PostgreSQL type mapping ([`types`]), the
//! diff between two schemas and its DDL ([`diff`], [`render`]), the migration file format
//! ([`migration_file`]) and the rules for a set of them ([`migration_set`]), the schema snapshot
//! format ([`snapshot`]) and the static shapes build.rs embeds ([`embedded`]).
//!
//! Nothing here does I/O beyond reading a string it is given, and nothing is async: build.rs,
//! the CLI and the runtime all share it, so a file is never parsed two ways.

pub mod base;
pub mod db_url;
pub mod dialect;
pub mod diff;
pub mod embedded;
pub mod migration_file;
pub mod migration_set;
pub mod naming;
pub mod render;
pub mod schema;
pub mod snapshot;
pub mod types;

pub use base::BluefoxBase;

/// The migrations directory, relative to the crate root, unless a build names another: what
/// messages about a directory say until told which (`SnapshotError::in_dir`,
/// `MigrationSetError::in_dir`).
pub const DEFAULT_MIGRATIONS_DIR: &str = "migrations";
