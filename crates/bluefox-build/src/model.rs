//! Reads one models file with syn: the `BluefoxBase` structs become tables, every other struct is
//! reported with its derives and attributes so the lints can judge it.
//!
//! (interface stub: the parser is being written)

use bluefox_core::schema::Table;
use std::path::PathBuf;

/// A Rust source file to read, with where it sits in its crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the crate root, with `/` separators (`src/users/models.rs`): what every
    /// message shows.
    pub rel_path: String,
    /// Absolute path on disk.
    pub abs_path: PathBuf,
    /// The module path of the file inside its crate, with the crate name first
    /// (`example_app::users::models`).
    pub module_path: String,
    /// The file's text.
    pub text: String,
}

/// A position in a source file, for messages (`src/models.rs:12:5`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Path relative to the crate root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A struct that derives `BluefoxBase`, read into a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStruct {
    /// The struct's full path (`example_app::models::User`).
    pub rust_path: String,
    /// Where the struct is declared.
    pub location: Location,
    /// The table it describes.
    pub table: Table,
}

/// Any other struct of the file, with what the lints need to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherStruct {
    /// The struct's full path (`example_app::models::Post`).
    pub rust_path: String,
    /// Where the struct is declared.
    pub location: Location,
    /// Its derives, each resolved through the file's `use` items to the path a reader would
    /// recognise (`sqlx::FromRow`, `diesel::Queryable`; as written when no `use` names it).
    pub derives: Vec<String>,
    /// The paths of its attributes other than `derive`, `doc`, `cfg*` and `allow`-style lints,
    /// with the first key inside when it is a list (`diesel(table_name)`, `sea_orm(table_name)`,
    /// `table_name`).
    pub attributes: Vec<String>,
}

/// What one models file holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFile {
    /// The `BluefoxBase` structs, in file order.
    pub models: Vec<ModelStruct>,
    /// Every other struct, in file order (including those in inline `mod` blocks).
    pub others: Vec<OtherStruct>,
}
