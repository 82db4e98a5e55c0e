//! The Rust type -> PostgreSQL type mapping, and the canonical form of a hand-written SQL type.
//!
//! Core has no syn: callers describe a field's type with a small [`RustType`] tree (a path with
//! its generic arguments, a reference, or anything else as text). A type is recognised with or
//! without its crate path (`Uuid` and `uuid::Uuid`, `DateTime<Utc>` and
//! `chrono::DateTime<chrono::Utc>`).
//!
//! | Rust | PostgreSQL |
//! | --- | --- |
//! | `i16`, `i32`, `i64` | `SMALLINT`, `INTEGER`, `BIGINT` |
//! | `f32`, `f64` | `REAL`, `DOUBLE PRECISION` |
//! | `bool` | `BOOLEAN` |
//! | `String` | `TEXT` |
//! | `Vec<u8>` | `BYTEA` |
//! | `uuid::Uuid` | `UUID` |
//! | `chrono::NaiveDate`, `time::Date` | `DATE` |
//! | `chrono::NaiveTime`, `time::Time` | `TIME` |
//! | `chrono::NaiveDateTime`, `time::PrimitiveDateTime` | `TIMESTAMP` |
//! | `chrono::DateTime<Utc>` (or `FixedOffset`, `Local`), `time::OffsetDateTime` | `TIMESTAMPTZ` |
//! | `serde_json::Value` | `JSONB` |
//! | `rust_decimal::Decimal` | `NUMERIC` |
//! | `Vec<T>` of one of the above | `T[]` (`TEXT[]`) |
//! | `Option<T>` | `T`, nullable |

use std::fmt;

/// A field's Rust type, as much of it as the mapping needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A path type (`i64`, `uuid::Uuid`, `chrono::DateTime<Utc>`): its segments joined by `::`
    /// without a leading `::`, and the type arguments of its last segment (lifetimes left out).
    Path {
        /// `uuid::Uuid`, `Vec`, `Option`.
        path: String,
        /// The generic type arguments, in order.
        args: Vec<RustType>,
    },
    /// A reference `&T` or `&mut T`.
    Reference(Box<RustType>),
    /// Anything else (tuple, array, slice, fn pointer, ...), as its source text.
    Other(String),
}

impl RustType {
    /// A path type with the given generic arguments.
    pub fn path(path: &str, args: Vec<RustType>) -> RustType {
        RustType::Path {
            path: path.trim_start_matches("::").to_string(),
            args,
        }
    }

    /// A path type without generic arguments (`i64`, `uuid::Uuid`).
    pub fn simple(path: &str) -> RustType {
        RustType::path(path, Vec::new())
    }

    /// The inner type when this is `Option<T>` (`std::option::Option` and `core::option::Option`
    /// too), else `None`.
    pub fn option_inner(&self) -> Option<&RustType> {
        match self {
            RustType::Path { path, args }
                if args.len() == 1
                    && matches!(
                        path.as_str(),
                        "Option" | "std::option::Option" | "core::option::Option"
                    ) =>
            {
                args.first()
            }
            _ => None,
        }
    }

    fn vec_inner(&self) -> Option<&RustType> {
        match self {
            RustType::Path { path, args }
                if args.len() == 1
                    && matches!(path.as_str(), "Vec" | "std::vec::Vec" | "alloc::vec::Vec") =>
            {
                args.first()
            }
            _ => None,
        }
    }
}

impl fmt::Display for RustType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RustType::Path { path, args } => {
                f.write_str(path)?;
                if !args.is_empty() {
                    f.write_str("<")?;
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{a}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
            RustType::Reference(inner) => write!(f, "&{inner}"),
            RustType::Other(text) => f.write_str(text),
        }
    }
}

/// The column type a field maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// The canonical PostgreSQL type (`BIGINT`, `TEXT[]`).
    pub sql_type: String,
    /// Whether NULL is allowed (the field is an `Option`).
    pub nullable: bool,
}

/// Why a Rust type has no column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeErrorReason {
    /// Not a type bluefox knows.
    Unknown,
    /// `&str` or `Cow<str>`: borrowed text.
    BorrowedStr,
    /// Any other reference.
    Borrowed,
    /// `u8`..`u128`, `usize`: PostgreSQL has no unsigned integers.
    Unsigned,
    /// `i8`: PostgreSQL has no one-byte integer.
    TinyInt,
    /// `Option<Option<T>>`.
    NestedOption,
    /// `Vec<Vec<T>>` (other than `Vec<Vec<u8>>`, a `BYTEA[]`).
    NestedArray,
}

/// A Rust type that the mapping cannot turn into a PostgreSQL column type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("type {ty} cannot be mapped to a PostgreSQL column type; {}", self.fix())]
pub struct TypeError {
    /// The offending type as written (`Image`, `&str`).
    pub ty: String,
    /// Why it has no mapping.
    pub reason: TypeErrorReason,
}

impl TypeError {
    fn new(ty: &RustType, reason: TypeErrorReason) -> TypeError {
        TypeError {
            ty: ty.to_string(),
            reason,
        }
    }

    /// What the user can do about it, as one clause.
    pub fn fix(&self) -> &'static str {
        match self.reason {
            TypeErrorReason::Unknown => "add #[bluefox(sql_type = \"...\")] or #[bluefox(skip)]",
            TypeErrorReason::BorrowedStr => "a model owns its data: use String instead",
            TypeErrorReason::Borrowed => "a model owns its data: use the owned type instead",
            TypeErrorReason::Unsigned => {
                "PostgreSQL has no unsigned integers: use i16, i32 or i64, or add \
                 #[bluefox(sql_type = \"...\")]"
            }
            TypeErrorReason::TinyInt => "PostgreSQL has no one-byte integer: use i16 (SMALLINT)",
            TypeErrorReason::NestedOption => "a column is NULL or a value: use a single Option<T>",
            TypeErrorReason::NestedArray => {
                "use Vec<T> of a scalar type, or add #[bluefox(sql_type = \"...\")]"
            }
        }
    }
}

/// The column type of a field's Rust type: `Option<T>` is `T`, nullable; everything else is NOT
/// NULL.
///
/// # Errors
/// A [`TypeError`] saying why the type has no mapping and what to write instead.
pub fn column_type(ty: &RustType) -> Result<ColumnType, TypeError> {
    match ty.option_inner() {
        Some(inner) => {
            if inner.option_inner().is_some() {
                return Err(TypeError::new(ty, TypeErrorReason::NestedOption));
            }
            Ok(ColumnType {
                sql_type: sql_type(inner)?,
                nullable: true,
            })
        }
        None => Ok(ColumnType {
            sql_type: sql_type(ty)?,
            nullable: false,
        }),
    }
}

/// The PostgreSQL type of a non-`Option` Rust type (`Vec<String>` is `TEXT[]`).
///
/// # Errors
/// A [`TypeError`] for an `Option`, or a type that has no mapping.
pub fn sql_type(ty: &RustType) -> Result<String, TypeError> {
    if ty.option_inner().is_some() {
        return Err(TypeError::new(ty, TypeErrorReason::NestedOption));
    }
    if let Some(elem) = ty.vec_inner() {
        // PostgreSQL arrays may hold NULLs, so Vec<Option<T>> is still T[].
        let elem = elem.option_inner().unwrap_or(elem);
        if is_u8(elem) {
            return Ok("BYTEA".to_string());
        }
        if elem.vec_inner().is_some_and(|inner| !is_u8(inner)) || elem.option_inner().is_some() {
            return Err(TypeError::new(ty, TypeErrorReason::NestedArray));
        }
        return Ok(format!("{}[]", sql_type(elem)?));
    }
    scalar(ty)
}

fn is_u8(ty: &RustType) -> bool {
    matches!(ty, RustType::Path { path, args } if path == "u8" && args.is_empty())
}

fn scalar(ty: &RustType) -> Result<String, TypeError> {
    let (path, args) = match ty {
        RustType::Path { path, args } => (path.as_str(), args.as_slice()),
        RustType::Reference(inner) => {
            let reason = if is_str(inner) {
                TypeErrorReason::BorrowedStr
            } else {
                TypeErrorReason::Borrowed
            };
            return Err(TypeError::new(ty, reason));
        }
        RustType::Other(_) => return Err(TypeError::new(ty, TypeErrorReason::Unknown)),
    };
    let mapped = match (path, args) {
        ("i16", []) => "SMALLINT",
        ("i32", []) => "INTEGER",
        ("i64", []) => "BIGINT",
        ("f32", []) => "REAL",
        ("f64", []) => "DOUBLE PRECISION",
        ("bool", []) => "BOOLEAN",
        ("String" | "std::string::String" | "alloc::string::String", []) => "TEXT",
        ("Uuid" | "uuid::Uuid", []) => "UUID",
        ("NaiveDate" | "chrono::NaiveDate" | "chrono::naive::NaiveDate", []) => "DATE",
        ("Date" | "time::Date", []) => "DATE",
        ("NaiveTime" | "chrono::NaiveTime" | "chrono::naive::NaiveTime", []) => "TIME",
        ("Time" | "time::Time", []) => "TIME",
        ("NaiveDateTime" | "chrono::NaiveDateTime" | "chrono::naive::NaiveDateTime", []) => {
            "TIMESTAMP"
        }
        ("PrimitiveDateTime" | "time::PrimitiveDateTime", []) => "TIMESTAMP",
        ("OffsetDateTime" | "time::OffsetDateTime", []) => "TIMESTAMPTZ",
        ("DateTime" | "chrono::DateTime", [tz]) if is_time_zone(tz) => "TIMESTAMPTZ",
        ("Value" | "serde_json::Value", []) => "JSONB",
        ("Decimal" | "rust_decimal::Decimal", []) => "NUMERIC",
        ("u8" | "u16" | "u32" | "u64" | "u128" | "usize", []) => {
            return Err(TypeError::new(ty, TypeErrorReason::Unsigned))
        }
        ("i8", []) => return Err(TypeError::new(ty, TypeErrorReason::TinyInt)),
        ("Cow" | "std::borrow::Cow" | "alloc::borrow::Cow", [inner]) if is_str(inner) => {
            return Err(TypeError::new(ty, TypeErrorReason::BorrowedStr))
        }
        _ => return Err(TypeError::new(ty, TypeErrorReason::Unknown)),
    };
    Ok(mapped.to_string())
}

fn is_str(ty: &RustType) -> bool {
    matches!(ty, RustType::Path { path, args } if args.is_empty() && matches!(path.as_str(), "str" | "std::primitive::str"))
}

fn is_time_zone(ty: &RustType) -> bool {
    match ty {
        RustType::Path { path, args } if args.is_empty() => {
            let last = path.rsplit("::").next().unwrap_or(path);
            let prefix_ok = path == last
                || *path == format!("chrono::{last}")
                || *path == format!("chrono::offset::{last}");
            prefix_ok && matches!(last, "Utc" | "FixedOffset" | "Local")
        }
        _ => false,
    }
}

/// A `sql_type = "..."` that is not a type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "sql_type \"{text}\" is not a PostgreSQL type name: {reason}; write a type such as TEXT, \
     VARCHAR(80), NUMERIC(10,2) or INTEGER[]"
)]
pub struct SqlTypeError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Canonical form of a hand-written SQL type: upper case, single spaces, PostgreSQL's aliases
/// folded to one spelling (`int4` -> `INTEGER`, `character varying(80)` -> `VARCHAR(80)`,
/// `timestamp with time zone` -> `TIMESTAMPTZ`, `numeric(10, 2)` -> `NUMERIC(10,2)`), array
/// brackets kept (`text[]` -> `TEXT[]`). Unknown names are kept, upper-cased, so that the
/// snapshot and the diff compare like with like.
///
/// Only letters, digits, `_`, `.`, spaces, one pair of parentheses with comma-separated
/// arguments, and trailing `[]` are accepted: the result is pasted into DDL, so anything that
/// could end or extend a statement (`;`, quotes, comments) is refused.
///
/// # Errors
/// A [`SqlTypeError`] naming what is wrong.
pub fn normalize_sql_type(text: &str) -> Result<String, SqlTypeError> {
    let fail = |reason: String| SqlTypeError {
        text: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail("it is empty".to_string()));
    }
    if let Some(c) = trimmed.chars().find(|c| {
        !(c.is_ascii_alphanumeric()
            || c.is_ascii_whitespace()
            || matches!(c, '(' | ')' | ',' | '[' | ']' | '_' | '.'))
    }) {
        return Err(fail(format!("it contains `{c}`, which no type name does")));
    }
    let mut rest = trimmed;
    let mut dims = 0;
    while let Some(before) = rest.trim_end().strip_suffix(']') {
        match before.trim_end().strip_suffix('[') {
            Some(b) => {
                dims += 1;
                rest = b.trim_end();
            }
            None => return Err(fail("array brackets must be empty: `[]`".to_string())),
        }
    }
    if rest.contains(['[', ']']) {
        return Err(fail("array brackets `[]` go at the end".to_string()));
    }
    let (words, args) = split_args(rest).map_err(fail)?;
    let name = words
        .iter()
        .map(|w| w.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return Err(fail("it has no type name".to_string()));
    }
    if let Some(w) = words
        .iter()
        .find(|w| !w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
    {
        return Err(fail(format!("`{w}` does not start with a letter")));
    }
    let canonical = canonical_name(&name, args.is_some());
    let mut out = canonical.to_string();
    if let Some(args) = args {
        out.push('(');
        out.push_str(&args.join(","));
        out.push(')');
    }
    for _ in 0..dims {
        out.push_str("[]");
    }
    Ok(out)
}

/// Splits `name words (args) more words` into the words of the name and the arguments.
#[allow(clippy::type_complexity)]
fn split_args(text: &str) -> Result<(Vec<&str>, Option<Vec<String>>), String> {
    let Some(open) = text.find('(') else {
        if text.contains([')', ',']) {
            return Err("unbalanced parentheses or a stray comma".to_string());
        }
        return Ok((text.split_ascii_whitespace().collect(), None));
    };
    let after_open = &text[open + 1..];
    let Some(close) = after_open.find(')') else {
        return Err("a `(` is never closed".to_string());
    };
    let inside = &after_open[..close];
    let after = &after_open[close + 1..];
    if inside.contains('(') || after.contains(['(', ')', ',']) || text[..open].contains([')', ','])
    {
        return Err("only one pair of parentheses is allowed".to_string());
    }
    let mut args = Vec::new();
    for arg in inside.split(',') {
        let words: Vec<&str> = arg.split_ascii_whitespace().collect();
        if words.is_empty() {
            return Err("an argument in parentheses is empty".to_string());
        }
        args.push(words.join(" ").to_ascii_uppercase());
    }
    let mut words: Vec<&str> = text[..open].split_ascii_whitespace().collect();
    words.extend(after.split_ascii_whitespace());
    Ok((words, Some(args)))
}

fn canonical_name(name: &str, has_args: bool) -> &str {
    match name {
        "INT" | "INT4" | "INTEGER" => "INTEGER",
        "INT8" | "BIGINT" => "BIGINT",
        "INT2" | "SMALLINT" => "SMALLINT",
        "FLOAT8" | "DOUBLE PRECISION" => "DOUBLE PRECISION",
        "FLOAT" if !has_args => "DOUBLE PRECISION",
        "FLOAT4" | "REAL" => "REAL",
        "BOOL" | "BOOLEAN" => "BOOLEAN",
        "VARCHAR" | "CHARACTER VARYING" => "VARCHAR",
        "CHAR" | "CHARACTER" => "CHAR",
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => "TIMESTAMPTZ",
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => "TIMESTAMP",
        "TIMETZ" | "TIME WITH TIME ZONE" => "TIMETZ",
        "TIME" | "TIME WITHOUT TIME ZONE" => "TIME",
        "DECIMAL" | "NUMERIC" => "NUMERIC",
        other => other,
    }
}

/// Whether a SQL type (any spelling [`normalize_sql_type`] accepts) is `SMALLINT`, `INTEGER` or
/// `BIGINT`: the types an identity column may have.
pub fn is_integer_type(sql_type: &str) -> bool {
    // What `normalize_sql_type` turns into one of the three: a single word (no arguments, no
    // array brackets) that `canonical_name` folds to it, in any case and with surrounding
    // whitespace. Compared in place, without normalising (and allocating) the whole text.
    let word = sql_type.trim();
    [
        "INTEGER", "BIGINT", "SMALLINT", "INT", "INT4", "INT8", "INT2",
    ]
    .iter()
    .any(|name| word.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;
