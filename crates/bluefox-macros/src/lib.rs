//! `#[derive(BluefoxBase)]`: a model's table and column names at run time.
//!
//! ```ignore
//! use bluefox_runtime::BluefoxBase;
//!
//! #[derive(BluefoxBase)]
//! #[bluefox(table = "users")]
//! pub struct User {
//!     #[bluefox(primary_key)]
//!     pub id: i64,
//!     #[bluefox(column = "mail")]
//!     pub email: String,
//!     #[bluefox(skip)]
//!     pub cache: Vec<u8>,
//! }
//!
//! assert_eq!(User::TABLE, "users");
//! assert_eq!(User::COLUMNS, &["id", "mail"]);
//! ```
//!
//! The schema itself (types, keys, indexes) is read by `bluefox-build` from the same source, in
//! build.rs; this derive only names things, with the same rules: the table is the struct name in
//! snake_case unless `table = "..."`, a column is the field name (`r#type` is `type`) unless
//! `column = "..."`, and `skip`ped fields have no column. Unknown keys are compile errors at the
//! key, listing the valid ones, in the same words as the build script's report.

use bluefox_core::naming::{snake_case, unraw};
use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Token};

/// The keys `#[bluefox(...)]` accepts on a struct (same list as `bluefox-build`).
const STRUCT_KEYS: &[&str] = &["table", "index", "unique", "renamed_from"];

/// The keys `#[bluefox(...)]` accepts on a field (same list as `bluefox-build`).
const FIELD_KEYS: &[&str] = &[
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

/// Derives `bluefox_runtime::BluefoxBase` (`TABLE` and `COLUMNS`) for a struct with named fields,
/// reading the `#[bluefox(...)]` helper attributes.
#[proc_macro_derive(BluefoxBase, attributes(bluefox))]
pub fn derive_bluefox_base(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let model = unraw(&ident.to_string()).to_string();
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            format!(
                "{model} has generic parameters, but a table has one fixed set of columns; \
                 remove the generics from the model"
            ),
        ));
    }
    let shape = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Ok(named),
            Fields::Unnamed(_) => Err("a tuple struct"),
            Fields::Unit => Err("a unit struct"),
        },
        Data::Enum(_) => Err("an enum"),
        Data::Union(_) => Err("a union"),
    };
    let named = shape.map_err(|shape| {
        syn::Error::new(
            ident.span(),
            format!(
                "{model} is {shape}, but BluefoxBase needs a struct with named fields \
                 (`struct {model} {{ id: i64, ... }}`); change it or remove the derive"
            ),
        )
    })?;

    let struct_keys = keys(&input.attrs, &format!("struct {model}"), STRUCT_KEYS)?;
    let table = string_value(&struct_keys, "table")?.unwrap_or_else(|| snake_case(&model));

    let mut columns = Vec::new();
    for field in &named.named {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let fname = unraw(&field_ident.to_string()).to_string();
        let field_keys = keys(&field.attrs, &format!("field {model}.{fname}"), FIELD_KEYS)?;
        if field_keys.iter().any(|k| k.key == "skip") {
            continue;
        }
        columns.push(string_value(&field_keys, "column")?.unwrap_or(fname));
    }

    Ok(quote! {
        impl ::bluefox_runtime::BluefoxBase for #ident {
            const TABLE: &'static str = #table;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
        }
    })
}

/// One key of a `#[bluefox(...)]` attribute, with its string value when it has one.
struct Key {
    key: String,
    span: Span,
    value: Option<syn::Expr>,
}

/// Reads every key of the `#[bluefox(...)]` attributes, refusing those not in `valid`.
fn keys(attrs: &[Attribute], target: &str, valid: &[&str]) -> syn::Result<Vec<Key>> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("bluefox")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .segments
                .iter()
                .map(|s| unraw(&s.ident.to_string()).to_string())
                .collect::<Vec<_>>()
                .join("::");
            let span = meta.path.span();
            if !valid.contains(&key.as_str()) {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "unknown key `{key}` in #[bluefox(...)] on {target}; valid keys here: {}",
                        valid.join(", ")
                    ),
                ));
            }
            let value = if meta.input.peek(Token![=]) {
                Some(meta.value()?.parse::<syn::Expr>()?)
            } else {
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    while !content.is_empty() {
                        if content.peek(LitStr) {
                            content.parse::<LitStr>()?;
                        } else {
                            syn::Ident::parse_any(&content)?;
                        }
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                }
                None
            };
            out.push(Key { key, span, value });
            Ok(())
        })?;
    }
    Ok(out)
}

/// The string literal given to `key`, if the key is present.
fn string_value(keys: &[Key], key: &str) -> syn::Result<Option<String>> {
    let Some(found) = keys.iter().find(|k| k.key == key) else {
        return Ok(None);
    };
    match &found.value {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) if !s.value().is_empty() => Ok(Some(s.value())),
        other => Err(syn::Error::new(
            other.as_ref().map_or(found.span, |e| e.span()),
            format!("`{key}` expects a non-empty string, as in {key} = \"name\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_text(text: &str) -> Result<String, (String, usize, usize)> {
        let input: DeriveInput = match syn::parse_str(text) {
            Ok(i) => i,
            Err(e) => return Err((format!("unparsable: {e}"), 0, 0)),
        };
        expand(&input).map(|t| t.to_string()).map_err(|e| {
            let start = e.span().start();
            (e.to_string(), start.line, start.column + 1)
        })
    }

    #[test]
    fn emits_table_and_columns() {
        let out = expand_text(
            "#[bluefox(table = \"users\", index(a, \"b\"))]\nstruct User {\n    \
             #[bluefox(primary_key)] id: i64,\n    #[bluefox(column = \"mail\")] email: String,\n    \
             #[bluefox(skip)] cache: Vec<u8>,\n    r#type: String,\n    \
             #[bluefox(default = -1, default_sql = \"now()\", references = \"a.b\")] n: i32,\n}",
        );
        assert_eq!(
            out,
            Ok(
                "impl :: bluefox_runtime :: BluefoxBase for User { const TABLE : & 'static str = \
                \"users\" ; const COLUMNS : & 'static [& 'static str] = & [\"id\" , \"mail\" , \
                \"type\" , \"n\"] ; }"
                    .to_string()
            )
        );
        let default_name = expand_text("struct HTTPRequestLog { at: i64 }");
        assert!(
            default_name
                .as_deref()
                .is_ok_and(|t| t.contains("const TABLE : & 'static str = \"http_request_log\"")),
            "{default_name:?}"
        );
    }

    #[test]
    fn unknown_keys_point_at_the_key() {
        assert_eq!(
            expand_text("#[bluefox(tabel = \"x\")]\nstruct User { id: i64 }"),
            Err((
                "unknown key `tabel` in #[bluefox(...)] on struct User; valid keys here: table, \
                 index, unique, renamed_from"
                    .to_string(),
                1,
                11
            ))
        );
        assert_eq!(
            expand_text("struct User {\n    #[bluefox(primary_key, nullable)]\n    id: i64,\n}"),
            Err((
                "unknown key `nullable` in #[bluefox(...)] on field User.id; valid keys here: \
                 primary_key, unique, index, default, default_sql, sql_type, references, \
                 on_delete, column, renamed_from, skip"
                    .to_string(),
                2,
                28
            ))
        );
    }

    #[test]
    fn shapes_and_values_it_refuses() {
        assert_eq!(
            expand_text("struct T(i64);").map_err(|e| e.0),
            Err(
                "T is a tuple struct, but BluefoxBase needs a struct with named fields \
                 (`struct T { id: i64, ... }`); change it or remove the derive"
                    .to_string()
            )
        );
        assert_eq!(
            expand_text("enum E { A }").map_err(|e| e.0),
            Err(
                "E is an enum, but BluefoxBase needs a struct with named fields \
                 (`struct E { id: i64, ... }`); change it or remove the derive"
                    .to_string()
            )
        );
        assert_eq!(
            expand_text("struct T<X> { a: X }").map_err(|e| e.0),
            Err(
                "T has generic parameters, but a table has one fixed set of columns; remove the \
                 generics from the model"
                    .to_string()
            )
        );
        assert_eq!(
            expand_text("#[bluefox(table = 3)]\nstruct T { a: i64 }"),
            Err((
                "`table` expects a non-empty string, as in table = \"name\"".to_string(),
                1,
                19
            ))
        );
    }

    #[test]
    fn naming_rules() {
        assert_eq!(snake_case("UserProfile"), "user_profile");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Order2Item"), "order2_item");
        assert_eq!(snake_case("r#Type"), "type");
        assert_eq!(unraw("r#type"), "type");
    }
}
