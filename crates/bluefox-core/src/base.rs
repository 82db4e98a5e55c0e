//! The trait `#[derive(BluefoxBase)]` implements: a model's table and column names, at run time.

/// A struct that bluefox tracks as a table. Derive it with `#[derive(BluefoxBase)]`; build.rs
/// reads the same struct to generate migrations, so the names here match the migrated schema.
pub trait BluefoxBase {
    /// The table's SQL name (unquoted).
    const TABLE: &'static str;
    /// The SQL names of the columns (unquoted), in declaration order, skipped fields left out.
    const COLUMNS: &'static [&'static str];
}
