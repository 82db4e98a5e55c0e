//! `#[bluefox(...)]` attributes: read with syn into keys and values, then checked against the
//! keys each level accepts.

use super::error::ModelErrorKind;
use super::naming::unraw;
use super::sql_expr::check_sql_expression;
use bluefox_core::schema::{ColumnDefault, FkAction};
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::ParseStream;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Lit, Meta, Token, UnOp};

/// The keys `#[bluefox(...)]` accepts on a struct.
pub const STRUCT_KEYS: &[&str] = &["table", "index", "unique", "renamed_from"];

/// The keys `#[bluefox(...)]` accepts on a field.
pub const FIELD_KEYS: &[&str] = &[
    "primary_key",
    "unique",
    "index",
    "default",
    "default_sql",
    "sql_type",
    "references",
    "on_delete",
    "column",
    "renamed_from",
    "skip",
];

/// An error with the span it points at.
pub(super) type Spanned<T> = Result<T, SpanError>;

/// What went wrong and where; boxed, so results stay small on the happy path.
#[derive(Debug)]
pub(super) struct SpanError {
    pub span: Span,
    pub kind: Box<ModelErrorKind>,
}

/// A [`SpanError`].
pub(super) fn fail(span: Span, kind: ModelErrorKind) -> SpanError {
    SpanError {
        span,
        kind: Box::new(kind),
    }
}

/// A string value with where it was written.
#[derive(Debug, Clone)]
pub(super) struct Named {
    pub value: String,
    pub span: Span,
}

/// The struct-level keys.
#[derive(Debug, Default)]
pub(super) struct StructAttrs {
    pub table: Option<Named>,
    pub renamed_from: Option<Named>,
    /// Each `index(...)`, its names in order.
    pub indexes: Vec<Vec<Named>>,
    /// Each `unique(...)`, its names in order.
    pub uniques: Vec<Vec<Named>>,
}

/// The field-level keys.
#[derive(Debug, Default)]
pub(super) struct FieldAttrs {
    pub primary_key: bool,
    pub unique: bool,
    pub index: bool,
    pub skip: bool,
    pub default: Option<ColumnDefault>,
    pub default_sql: Option<Named>,
    pub sql_type: Option<Named>,
    /// `references = "table.column"`, split.
    pub references: Option<(String, String, Span)>,
    pub on_delete: Option<FkAction>,
    pub column: Option<Named>,
    pub renamed_from: Option<Named>,
}

enum Value {
    Flag,
    Expr(Box<Expr>),
    List(Vec<Named>),
}

struct Item {
    key: String,
    span: Span,
    value: Value,
}

/// Reads every `#[bluefox(...)]` of `attrs` into its keys, in order.
fn raw_items(attrs: &[Attribute], target: &str) -> Spanned<Vec<Item>> {
    let malformed = |span: Span, message: String| {
        fail(
            span,
            ModelErrorKind::MalformedAttribute {
                target: target.to_string(),
                message,
            },
        )
    };
    let mut items = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("bluefox")) {
        if !matches!(attr.meta, Meta::List(_)) {
            return Err(malformed(
                attr.span(),
                "expected a list of keys in parentheses".to_string(),
            ));
        }
        attr.parse_nested_meta(|meta| {
            let span = path_start(&meta.path);
            let key = match meta.path.get_ident() {
                // Nearly every key: one plain word.
                Some(ident) => unraw(&ident.to_string()).to_string(),
                None => meta
                    .path
                    .segments
                    .iter()
                    .map(|s| unraw(&s.ident.to_string()).to_string())
                    .collect::<Vec<_>>()
                    .join("::"),
            };
            let value = if meta.input.peek(Token![=]) {
                Value::Expr(Box::new(value_expr(meta.value()?)?))
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let mut names = Vec::new();
                while !content.is_empty() {
                    let name = if content.peek(syn::LitStr) {
                        let lit: syn::LitStr = content.parse()?;
                        Named {
                            value: lit.value(),
                            span: lit.span(),
                        }
                    } else {
                        let ident = syn::Ident::parse_any(&content)?;
                        Named {
                            value: unraw(&ident.to_string()).to_string(),
                            span: ident.span(),
                        }
                    };
                    names.push(name);
                    if !content.is_empty() {
                        content.parse::<Token![,]>()?;
                    }
                }
                Value::List(names)
            } else {
                Value::Flag
            };
            items.push(Item { key, span, value });
            Ok(())
        })
        .map_err(|e| malformed(e.span(), e.to_string()))?;
    }
    Ok(items)
}

/// Where a path starts: the span of its first token. A message shows only where the offending
/// key starts (`src/models.rs:12:15`), which is where syn's span of the whole path (its tokens
/// joined) starts too; this skips turning the path back into tokens to join them.
fn path_start(path: &syn::Path) -> Span {
    match (&path.leading_colon, path.segments.first()) {
        (Some(colon), _) => colon.spans[0],
        (None, Some(first)) => first.ident.span(),
        (None, None) => path.span(),
    }
}

/// The expression after `key =`. A lone literal (`table = "users"`, nearly every value) is
/// read as one directly: the same `Expr::Lit` syn's expression parser gives, without its cost
/// in an unoptimised build script. (Parsing the literal on a fork is what `peek(Lit)` does, so
/// it is done once, not peeked and then parsed.)
fn value_expr(input: ParseStream<'_>) -> syn::Result<Expr> {
    let fork = input.fork();
    if let Ok(lit) = fork.parse::<Lit>() {
        if fork.is_empty() || fork.peek(Token![,]) {
            input.advance_to(&fork);
            return Ok(Expr::Lit(syn::ExprLit {
                attrs: Vec::new(),
                lit,
            }));
        }
    }
    input.parse()
}

fn describe(value: &Value) -> String {
    match value {
        Value::Flag => "no value".to_string(),
        Value::List(_) => "a list".to_string(),
        Value::Expr(e) => format!("`{}`", e.to_token_stream()),
    }
}

fn bad(item: &Item, target: &str, expected: &str) -> SpanError {
    let span = match &item.value {
        Value::Expr(e) => e.span(),
        _ => item.span,
    };
    fail(
        span,
        ModelErrorKind::BadValue {
            key: item.key.clone(),
            target: target.to_string(),
            expected: expected.to_string(),
            found: describe(&item.value),
        },
    )
}

fn unknown(item: &Item, target: &str, valid: &[&str]) -> SpanError {
    fail(
        item.span,
        ModelErrorKind::UnknownKey {
            key: item.key.clone(),
            target: target.to_string(),
            valid: valid.join(", "),
        },
    )
}

/// A literal with an optional leading minus: `"x"`, `42`, `-1.5`, `true`.
fn literal(expr: &Expr) -> Option<(bool, &Lit)> {
    match expr {
        Expr::Lit(l) => Some((false, &l.lit)),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) => Some((true, &l.lit)),
            _ => None,
        },
        Expr::Group(g) => literal(&g.expr),
        _ => None,
    }
}

fn string(item: &Item, target: &str, example: &str) -> Spanned<Named> {
    let expected = format!("a non-empty string, as in {example}");
    if let Value::Expr(e) = &item.value {
        if let Some((false, Lit::Str(s))) = literal(e) {
            let value = s.value();
            if !value.is_empty() {
                return Ok(Named {
                    value,
                    span: s.span(),
                });
            }
        }
    }
    Err(bad(item, target, &expected))
}

fn flag(item: &Item, target: &str) -> Spanned<bool> {
    match item.value {
        Value::Flag => Ok(true),
        _ => Err(bad(
            item,
            target,
            &format!("no value (write just `{}`)", item.key),
        )),
    }
}

fn once<T>(slot: &Option<T>, item: &Item, target: &str) -> Spanned<()> {
    match slot {
        Some(_) => Err(duplicate(item, target)),
        None => Ok(()),
    }
}

fn duplicate(item: &Item, target: &str) -> SpanError {
    fail(
        item.span,
        ModelErrorKind::DuplicateKey {
            key: item.key.clone(),
            target: target.to_string(),
        },
    )
}

/// Reads the struct-level keys of `#[bluefox(...)]`.
pub(super) fn struct_attrs(attrs: &[Attribute], model: &str) -> Spanned<StructAttrs> {
    let target = format!("struct {model}");
    let mut out = StructAttrs::default();
    for item in raw_items(attrs, &target)? {
        match item.key.as_str() {
            "table" => {
                once(&out.table, &item, &target)?;
                out.table = Some(string(&item, &target, "table = \"users\"")?);
            }
            "renamed_from" => {
                once(&out.renamed_from, &item, &target)?;
                out.renamed_from = Some(string(&item, &target, "renamed_from = \"old_name\"")?);
            }
            "index" | "unique" => {
                let names = match item.value {
                    Value::List(names) if !names.is_empty() => names,
                    _ => {
                        let example = format!("a list of fields, as in {}(a, b)", item.key);
                        return Err(bad(&item, &target, &example));
                    }
                };
                if item.key == "index" {
                    out.indexes.push(names);
                } else {
                    out.uniques.push(names);
                }
            }
            _ => return Err(unknown(&item, &target, STRUCT_KEYS)),
        }
    }
    Ok(out)
}

/// Reads the field-level keys of `#[bluefox(...)]` and checks that they fit together.
pub(super) fn field_attrs(attrs: &[Attribute], model: &str, field: &str) -> Spanned<FieldAttrs> {
    let target = format!("field {model}.{field}");
    let mut out = FieldAttrs::default();
    let mut first_other: Option<(String, Span)> = None;
    let mut on_delete_span = None;
    let mut default_span = None;
    let items = raw_items(attrs, &target)?;
    for item in &items {
        let set_flag = |slot: &mut bool| -> Spanned<()> {
            if *slot {
                return Err(duplicate(item, &target));
            }
            *slot = flag(item, &target)?;
            Ok(())
        };
        match item.key.as_str() {
            "primary_key" => set_flag(&mut out.primary_key)?,
            "unique" => set_flag(&mut out.unique)?,
            "index" => set_flag(&mut out.index)?,
            "skip" => set_flag(&mut out.skip)?,
            "default" => {
                once(&out.default, item, &target)?;
                out.default = Some(default_value(item, &target)?);
                default_span = Some(item.span);
            }
            "default_sql" => {
                once(&out.default_sql, item, &target)?;
                let expr = string(item, &target, "default_sql = \"now()\"")?;
                check_sql_expression(&expr.value).map_err(|reason| {
                    fail(
                        expr.span,
                        ModelErrorKind::BadDefaultSql {
                            model: model.to_string(),
                            field: field.to_string(),
                            expr: expr.value.clone(),
                            reason,
                        },
                    )
                })?;
                out.default_sql = Some(expr);
            }
            "sql_type" => {
                once(&out.sql_type, item, &target)?;
                out.sql_type = Some(string(item, &target, "sql_type = \"VARCHAR(80)\"")?);
            }
            "references" => {
                once(&out.references, item, &target)?;
                let text = string(item, &target, "references = \"users.id\"")?;
                let split = text
                    .value
                    .split_once('.')
                    .filter(|(t, c)| !t.is_empty() && !c.is_empty() && !c.contains('.'));
                let Some((table, column)) = split else {
                    return Err(bad(item, &target, "\"table.column\", as in \"users.id\""));
                };
                out.references = Some((table.to_string(), column.to_string(), text.span));
            }
            "on_delete" => {
                once(&out.on_delete, item, &target)?;
                let text = string(item, &target, "on_delete = \"cascade\"")?;
                let expected = "one of \"no action\", \"restrict\", \"cascade\", \"set null\", \
                                \"set default\"";
                out.on_delete = Some(FkAction::parse(&text.value).ok_or_else(|| {
                    let mut err = bad(item, &target, expected);
                    err.span = text.span;
                    err
                })?);
                on_delete_span = Some(item.span);
            }
            "column" => {
                once(&out.column, item, &target)?;
                out.column = Some(string(item, &target, "column = \"name\"")?);
            }
            "renamed_from" => {
                once(&out.renamed_from, item, &target)?;
                out.renamed_from = Some(string(item, &target, "renamed_from = \"old_name\"")?);
            }
            _ => return Err(unknown(item, &target, FIELD_KEYS)),
        }
        if item.key != "skip" && first_other.is_none() {
            first_other = Some((item.key.clone(), item.span));
        }
    }
    let names = || (model.to_string(), field.to_string());
    if let (true, Some((other, span))) = (out.skip, first_other) {
        let (model, field) = names();
        return Err(fail(
            span,
            ModelErrorKind::SkipWithOthers {
                model,
                field,
                other,
            },
        ));
    }
    if let (Some(span), Some(_)) = (default_span, &out.default_sql) {
        let (model, field) = names();
        return Err(fail(
            span,
            ModelErrorKind::DefaultAndDefaultSql { model, field },
        ));
    }
    if let (Some(span), None) = (on_delete_span, &out.references) {
        let (model, field) = names();
        return Err(fail(
            span,
            ModelErrorKind::OnDeleteWithoutReferences { model, field },
        ));
    }
    Ok(out)
}

fn default_value(item: &Item, target: &str) -> Spanned<ColumnDefault> {
    let expected = "a string, number or bool literal, as in default = \"draft\", default = 0 \
                    or default = false (use default_sql for an SQL expression)";
    let Value::Expr(expr) = &item.value else {
        return Err(bad(item, target, expected));
    };
    let sign = |neg: bool| if neg { "-" } else { "" };
    match literal(expr) {
        Some((false, Lit::Str(s))) => Ok(ColumnDefault::String(s.value())),
        Some((neg, Lit::Int(i))) => Ok(ColumnDefault::Number(format!(
            "{}{}",
            sign(neg),
            i.base10_digits()
        ))),
        Some((neg, Lit::Float(f))) => Ok(ColumnDefault::Number(format!(
            "{}{}",
            sign(neg),
            f.base10_digits()
        ))),
        Some((false, Lit::Bool(b))) => Ok(ColumnDefault::Bool(b.value)),
        _ => Err(bad(item, target, expected)),
    }
}
