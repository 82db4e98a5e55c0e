//! Reads models files with syn: the `BluefoxBase` structs become tables, every other struct is
//! reported with its derives and attributes so the lints can judge it.
//!
//! - [`parse_file`] reads one models file (inline `mod` blocks included) into a [`ParsedFile`];
//! - [`assemble`] joins the models of every file into one [`Schema`](bluefox_core::schema::Schema)
//!   and checks what needs all tables at once (table names, `references`);
//! - [`mentions_bluefox_base`] and [`parse_stray`] find `BluefoxBase` structs in files that
//!   discovery does not read, cheaply and without failing.
//!
//! Names: a table is the struct name in snake_case unless `#[bluefox(table = "...")]` says
//! otherwise; a column is the field name (`r#type` is `type`) unless `column = "..."`; generated
//! constraint names are `uq_<table>_<cols>`, `ix_<table>_<cols>`, `fk_<table>_<col>_<reftable>`,
//! cut to 63 bytes with a hash suffix when longer ([`naming`]).
//!
//! Every error is a [`ModelError`] with a file:line:col, the offending line and the fix.

mod assemble;
mod attrs;
mod error;
pub mod naming;
mod rust_type;
mod sql_expr;
mod table;
mod uses;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

pub use assemble::assemble;
pub use attrs::{FIELD_KEYS, STRUCT_KEYS};
pub use error::{ModelError, ModelErrorKind};
pub use rust_type::rust_type;
pub use sql_expr::check_sql_expression;

use bluefox_core::schema::Table;
use proc_macro2::Span;
use std::fmt;
use std::path::PathBuf;
use syn::Item;

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
    /// The text of the line the struct's name is on, for error reports.
    pub source_line: String,
    /// The fields that became columns, in declaration order (skipped fields left out).
    pub fields: Vec<ModelField>,
}

/// A field of a model that became a column: where it is, for errors found later (by
/// [`assemble`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelField {
    /// The field's name (raw prefix removed).
    pub rust_name: String,
    /// Its column name.
    pub column: String,
    /// Where the field's name is.
    pub location: Location,
    /// The text of that line.
    pub source_line: String,
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

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A struct deriving `BluefoxBase`, found by [`parse_stray`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayModel {
    /// The struct's full path (`example_app::db::User`).
    pub rust_path: String,
    /// Where it is declared.
    pub location: Location,
}

/// The file being read: turns spans into locations and errors.
pub(crate) struct Ctx<'a> {
    src: &'a SourceFile,
    lines: Vec<&'a str>,
}

impl<'a> Ctx<'a> {
    fn new(src: &'a SourceFile) -> Self {
        let text = src.text.strip_prefix('\u{feff}').unwrap_or(&src.text);
        Ctx {
            src,
            lines: text.lines().collect(),
        }
    }

    fn location(&self, span: Span) -> Location {
        let start = span.start();
        Location {
            file: self.src.rel_path.clone(),
            line: start.line.max(1),
            column: start.column + 1,
        }
    }

    fn line(&self, line: usize) -> &'a str {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or("")
    }

    fn error(&self, span: Span, kind: ModelErrorKind) -> ModelError {
        let location = self.location(span);
        let line = self.line(location.line).to_string();
        ModelError::new(location, line, kind)
    }
}

/// Reads one models file: every struct deriving `BluefoxBase` becomes a [`ModelStruct`], every
/// other struct an [`OtherStruct`], walking inline `mod` blocks (their path grows). Items under
/// `#[cfg(test)]` are left out: they are not part of the built crate. Other `cfg`s are read as
/// if enabled.
///
/// # Errors
/// The first problem found, as a [`ModelError`]: the file does not parse, a malformed or unknown
/// `#[bluefox(...)]` key, a bad value, an unsupported field type, a name over 63 bytes, two
/// fields on one column, a tuple, unit or generic model, ...
pub fn parse_file(src: &SourceFile) -> Result<ParsedFile, ModelError> {
    let ctx = Ctx::new(src);
    let file = syn::parse_file(&src.text).map_err(|e| {
        let kind = ModelErrorKind::Syntax {
            message: e.to_string(),
        };
        ctx.error(e.span(), kind)
    })?;
    let mut out = ParsedFile::default();
    walk(&ctx, &file.items, &src.module_path, &mut out)?;
    Ok(out)
}

fn walk(
    ctx: &Ctx<'_>,
    items: &[Item],
    module: &str,
    out: &mut ParsedFile,
) -> Result<(), ModelError> {
    let uses = uses::UseMap::from_items(items);
    for item in items.iter().filter(|i| !is_test_only(i)) {
        match item {
            Item::Struct(s) => {
                let derives = uses::derive_paths(&s.attrs);
                let rust_path = join_path(module, &s.ident.to_string());
                if uses::is_bluefox_base(&derives) {
                    out.models
                        .push(table::model_from_struct(ctx, s, rust_path)?);
                } else {
                    out.others.push(OtherStruct {
                        rust_path,
                        location: ctx.location(s.ident.span()),
                        derives: derives.iter().map(|p| uses.resolve(p)).collect(),
                        attributes: uses::attribute_paths(&s.attrs, &uses),
                    });
                }
            }
            Item::Enum(e) if uses::is_bluefox_base(&uses::derive_paths(&e.attrs)) => {
                return Err(not_a_struct(ctx, &e.ident, "an enum"));
            }
            Item::Union(u) if uses::is_bluefox_base(&uses::derive_paths(&u.attrs)) => {
                return Err(not_a_struct(ctx, &u.ident, "a union"));
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    let path = join_path(module, &m.ident.to_string());
                    walk(ctx, inner, &path, out)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether an item is `#[cfg(test)]`: it never exists in the built crate, so its structs are no
/// tables (test fixtures in a models file stay out of migrations).
fn is_test_only(item: &Item) -> bool {
    let attrs = match item {
        Item::Struct(s) => &s.attrs,
        Item::Enum(e) => &e.attrs,
        Item::Union(u) => &u.attrs,
        Item::Mod(m) => &m.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "test")
    })
}

fn not_a_struct(ctx: &Ctx<'_>, ident: &syn::Ident, shape: &str) -> ModelError {
    let kind = ModelErrorKind::NotNamedStruct {
        model: naming::unraw(&ident.to_string()).to_string(),
        shape: shape.to_string(),
    };
    ctx.error(ident.span(), kind)
}

fn join_path(module: &str, name: &str) -> String {
    let name = naming::unraw(name);
    if module.is_empty() {
        name.to_string()
    } else {
        format!("{module}::{name}")
    }
}

/// A cheap first look before [`parse_stray`]: whether the text mentions `BluefoxBase` at all.
///
/// `text.contains("BluefoxBase")`, written as a search for each `B` (core's precompiled `memchr`)
/// and a byte comparison there: the generic substring search is compiled with the build
/// script's profile, unoptimised by default, and was most of the time of a replay that reads
/// every file under `src` (see [`crate::cache`]).
pub fn mentions_bluefox_base(text: &str) -> bool {
    const NAME: &str = "BluefoxBase";
    let mut rest = text;
    while let Some(at) = rest.find('B') {
        rest = &rest[at..];
        if rest.starts_with(NAME) {
            return true;
        }
        // `B` is one byte: the next one starts a character.
        rest = &rest[1..];
    }
    false
}

/// The structs deriving `BluefoxBase` in any file, inline modules included, for the lint about
/// models outside the files discovery reads. Never fails: a file that does not parse (rustc will
/// say why) gives nothing.
pub fn parse_stray(src: &SourceFile) -> Vec<StrayModel> {
    let Ok(file) = syn::parse_file(&src.text) else {
        return Vec::new();
    };
    let ctx = Ctx::new(src);
    let mut out = Vec::new();
    stray_walk(&ctx, &file.items, &src.module_path, &mut out);
    out
}

fn stray_walk(ctx: &Ctx<'_>, items: &[Item], module: &str, out: &mut Vec<StrayModel>) {
    for item in items.iter().filter(|i| !is_test_only(i)) {
        match item {
            Item::Struct(s) if uses::is_bluefox_base(&uses::derive_paths(&s.attrs)) => {
                out.push(StrayModel {
                    rust_path: join_path(module, &s.ident.to_string()),
                    location: ctx.location(s.ident.span()),
                });
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    stray_walk(ctx, inner, &join_path(module, &m.ident.to_string()), out);
                }
            }
            _ => {}
        }
    }
}
