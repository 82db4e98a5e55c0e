//! The error a models file can cause: what happened, where (file:line:col and the line's text),
//! and what to do.

use super::Location;

/// A models file that bluefox cannot turn into tables. `Display` gives one line
/// (`src/models.rs:12:5: field User.avatar has type Image, ...`); [`ModelError::render`] gives the
/// multi-line report the build driver prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct ModelError {
    location: Location,
    source_line: String,
    kind: Box<ModelErrorKind>,
}

impl ModelError {
    /// An error at `location`, whose source line reads `source_line`.
    pub fn new(location: Location, source_line: impl Into<String>, kind: ModelErrorKind) -> Self {
        ModelError {
            location,
            source_line: source_line.into(),
            kind: Box::new(kind),
        }
    }

    /// Where it happened.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The text of the offending source line (without its line end).
    pub fn source_line(&self) -> &str {
        &self.source_line
    }

    /// What happened, with the fix.
    pub fn kind(&self) -> &ModelErrorKind {
        &self.kind
    }

    /// The report a build prints, in rustc's shape:
    ///
    /// ```text
    /// error: field User.avatar has type Image, which bluefox cannot map ...
    ///   --> src/models.rs:9:17
    ///    |
    ///  9 |     pub avatar: Image,
    ///    |                 ^
    /// ```
    pub fn render(&self) -> String {
        let line_no = self.location.line.to_string();
        let pad = " ".repeat(line_no.len());
        let caret_pad: String = self
            .source_line
            .chars()
            .take(self.location.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!(
            "error: {kind}\n{pad}--> {loc}\n{pad} |\n{line_no} | {text}\n{pad} | {caret_pad}^\n",
            kind = self.kind,
            loc = self.location,
            text = self.source_line,
        )
    }
}

/// Every way a models file can be wrong. Each message names the struct and field and ends with
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelErrorKind {
    /// The file is not valid Rust.
    #[error("the file does not parse as Rust: {message}; fix the syntax error")]
    Syntax {
        /// syn's message.
        message: String,
    },
    /// A `#[bluefox(...)]` attribute that is not a list of keys.
    #[error(
        "malformed #[bluefox(...)] attribute on {target}: {message}; write keys as `key`, \
         `key = \"value\"` or `key(a, b)`"
    )]
    MalformedAttribute {
        /// `struct User` or `field User.email`.
        target: String,
        /// What syn found.
        message: String,
    },
    /// A field type with no PostgreSQL mapping.
    #[error(
        "field {model}.{field} has type {ty}, which bluefox cannot map to a PostgreSQL column \
         type; {fix}"
    )]
    UnsupportedType {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The type as written.
        ty: String,
        /// What to do.
        fix: String,
    },
    /// A key bluefox does not know.
    #[error("unknown key `{key}` in #[bluefox(...)] on {target}; valid keys here: {valid}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// `struct User` or `field User.email`.
        target: String,
        /// The keys allowed at this level, comma-separated.
        valid: String,
    },
    /// A key with a value of the wrong shape.
    #[error("`{key}` on {target} expects {expected}, found {found}")]
    BadValue {
        /// The key.
        key: String,
        /// `struct User` or `field User.email`.
        target: String,
        /// What it takes, with an example.
        expected: String,
        /// What was written.
        found: String,
    },
    /// A key given twice on one item.
    #[error("`{key}` is given twice on {target}; keep one")]
    DuplicateKey {
        /// The key.
        key: String,
        /// `struct User` or `field User.email`.
        target: String,
    },
    /// A table or column name over PostgreSQL's 63-byte limit.
    #[error(
        "{what} name \"{name}\" of {target} is {bytes} bytes long, over PostgreSQL's limit of \
         63 bytes; {fix}"
    )]
    IdentifierTooLong {
        /// `table`, `column` or `former column`.
        what: String,
        /// The name.
        name: String,
        /// Its length in bytes.
        bytes: usize,
        /// `struct User` or `field User.email`.
        target: String,
        /// What to do.
        fix: String,
    },
    /// Two fields of one struct that map to the same column.
    #[error(
        "fields {model}.{first} and {model}.{second} both map to column \"{column}\"; give one \
         of them another name with #[bluefox(column = \"...\")]"
    )]
    DuplicateColumn {
        /// The struct.
        model: String,
        /// The first field.
        first: String,
        /// The second field.
        second: String,
        /// The shared column name.
        column: String,
    },
    /// `default` and `default_sql` on one field.
    #[error(
        "field {model}.{field} has both `default` and `default_sql`; keep one: `default` for a \
         literal, `default_sql` for an SQL expression"
    )]
    DefaultAndDefaultSql {
        /// The struct.
        model: String,
        /// The field.
        field: String,
    },
    /// A `default_sql` that is not a single expression.
    #[error(
        "default_sql = \"{expr}\" on field {model}.{field} is not one SQL expression: {reason}; \
         write a single expression such as \"now()\""
    )]
    BadDefaultSql {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The text.
        expr: String,
        /// What is wrong.
        reason: String,
    },
    /// A `sql_type` that is not a type name.
    #[error("field {model}.{field}: {message}")]
    BadSqlType {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The type check's message.
        message: String,
    },
    /// `on_delete` without `references`.
    #[error(
        "field {model}.{field} has `on_delete` but no `references`; add \
         #[bluefox(references = \"table.column\")] or remove `on_delete`"
    )]
    OnDeleteWithoutReferences {
        /// The struct.
        model: String,
        /// The field.
        field: String,
    },
    /// `skip` together with keys that describe a column.
    #[error(
        "field {model}.{field} has `skip` together with `{other}`; a skipped field has no \
         column: remove one of them"
    )]
    SkipWithOthers {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The first other key.
        other: String,
    },
    /// An `Option` primary key.
    #[error(
        "primary key field {model}.{field} is an Option, but a primary key column is never \
         NULL; remove the Option"
    )]
    OptionalPrimaryKey {
        /// The struct.
        model: String,
        /// The field.
        field: String,
    },
    /// `BluefoxBase` on a tuple struct, unit struct, enum or union.
    #[error(
        "{model} is {shape}, but BluefoxBase needs a struct with named fields \
         (`struct {model} {{ id: i64, ... }}`); change it or remove the derive"
    )]
    NotNamedStruct {
        /// The item.
        model: String,
        /// `a tuple struct`, `a unit struct`, `an enum`, `a union`.
        shape: String,
    },
    /// `BluefoxBase` on a generic struct.
    #[error(
        "{model} has generic parameters, but a table has one fixed set of columns; remove the \
         generics from the model"
    )]
    Generic {
        /// The struct.
        model: String,
    },
    /// A struct-level `index(...)` or `unique(...)` naming nothing.
    #[error(
        "`{list}(...)` on struct {model} names `{name}`, which is no field or column of \
         {model}; name a field that is not skipped"
    )]
    UnknownIndexField {
        /// `index` or `unique`.
        list: String,
        /// The struct.
        model: String,
        /// The name as written.
        name: String,
    },
    /// Two models with one table name.
    #[error(
        "table \"{table}\" is declared by both {first} ({first_location}) and {second}; give \
         one of them another name with #[bluefox(table = \"...\")]"
    )]
    DuplicateTable {
        /// The table.
        table: String,
        /// The model seen first.
        first: String,
        /// Where the first one is.
        first_location: Location,
        /// The model seen second.
        second: String,
    },
    /// A `references` naming a table no model has.
    #[error(
        "field {model}.{field} references {table}.{column}, but no model has table \"{table}\"; \
         name the table of a BluefoxBase struct (known: {known})"
    )]
    UnknownReferencedTable {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The referenced table.
        table: String,
        /// The referenced column.
        column: String,
        /// The known tables, comma-separated.
        known: String,
    },
    /// A `references` naming a column the table does not have.
    #[error(
        "field {model}.{field} references {table}.{column}, but table \"{table}\" ({target}) \
         has no column \"{column}\"; name one of its columns: {known}"
    )]
    UnknownReferencedColumn {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The referenced table.
        table: String,
        /// The referenced column.
        column: String,
        /// The struct of the referenced table.
        target: String,
        /// Its columns, comma-separated.
        known: String,
    },
    /// A `references` naming a column that is neither the primary key nor unique.
    #[error(
        "field {model}.{field} references {table}.{column}, which is neither the primary key \
         nor unique, so PostgreSQL cannot use it for a foreign key; reference the primary key \
         or mark {target}.{target_field} #[bluefox(unique)]"
    )]
    ReferencedNotUnique {
        /// The struct.
        model: String,
        /// The field.
        field: String,
        /// The referenced table.
        table: String,
        /// The referenced column.
        column: String,
        /// The struct of the referenced table.
        target: String,
        /// The field of that struct behind the column.
        target_field: String,
    },
}
