//! One `BluefoxBase` struct -> one table: columns, primary key, identity, uniques, indexes and
//! foreign keys, with the names the rest of bluefox uses.

use super::attrs::{fail, field_attrs, struct_attrs, Named, SpanError, Spanned};
use super::error::ModelErrorKind;
use super::naming::{constraint_name, snake_case, unraw};
use super::rust_type::rust_type;
use super::{Ctx, ModelError, ModelField, ModelStruct};
use bluefox_core::schema::{
    Column, ForeignKey, Index, Table, UniqueConstraint, MAX_IDENTIFIER_BYTES,
};
use bluefox_core::types::{column_type, is_integer_type, normalize_sql_type};
use syn::spanned::Spanned as _;
use syn::{Fields, ItemStruct};

/// Reads a struct that derives `BluefoxBase`.
pub(super) fn model_from_struct(
    ctx: &Ctx<'_>,
    item: &ItemStruct,
    rust_path: String,
) -> Result<ModelStruct, ModelError> {
    let location = ctx.location(item.ident.span());
    let source_line = ctx.line(location.line).to_string();
    let (table, fields) = read_table(ctx, item).map_err(|e| ctx.error(e.span, *e.kind))?;
    Ok(ModelStruct {
        rust_path,
        location,
        table,
        source_line,
        fields,
    })
}

fn read_table(ctx: &Ctx<'_>, item: &ItemStruct) -> Spanned<(Table, Vec<ModelField>)> {
    let model = unraw(&item.ident.to_string()).to_string();
    if !item.generics.params.is_empty() {
        return Err(fail(
            item.generics.span(),
            ModelErrorKind::Generic { model },
        ));
    }
    let named = match &item.fields {
        Fields::Named(named) => named,
        Fields::Unnamed(_) => return Err(not_named(item, &model, "a tuple struct")),
        Fields::Unit => return Err(not_named(item, &model, "a unit struct")),
    };
    let sattrs = struct_attrs(&item.attrs, &model)?;
    let target = format!("struct {model}");
    let table_name = match &sattrs.table {
        Some(t) => t.clone(),
        None => Named {
            value: snake_case(&model),
            span: item.ident.span(),
        },
    };
    check_length(
        "table",
        &table_name,
        &target,
        "shorten it with #[bluefox(table = \"...\")]",
    )?;
    if let Some(old) = &sattrs.renamed_from {
        check_length("former table", old, &target, "shorten renamed_from")?;
    }
    let tname = table_name.value.clone();
    let mut table = Table {
        name: tname.clone(),
        renamed_from: sattrs.renamed_from.as_ref().map(|n| n.value.clone()),
        ..Table::default()
    };
    let mut fields: Vec<ModelField> = Vec::new();
    // (field ident, column, primary key without sql_type/default)
    let mut pk_candidates: Vec<bool> = Vec::new();
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let fname = unraw(&ident.to_string()).to_string();
        let attrs = field_attrs(&field.attrs, &model, &fname)?;
        if attrs.skip {
            continue;
        }
        let ftarget = format!("field {model}.{fname}");
        let column_name = attrs.column.clone().unwrap_or(Named {
            value: fname.clone(),
            span: ident.span(),
        });
        check_length(
            "column",
            &column_name,
            &ftarget,
            "shorten it with #[bluefox(column = \"...\")]",
        )?;
        if let Some(old) = &attrs.renamed_from {
            check_length("former column", old, &ftarget, "shorten renamed_from")?;
        }
        let col = column_name.value.clone();
        if let Some(first) = fields.iter().find(|f| f.column == col) {
            return Err(fail(
                column_name.span,
                ModelErrorKind::DuplicateColumn {
                    model: model.clone(),
                    first: first.rust_name.clone(),
                    second: fname,
                    column: col,
                },
            ));
        }
        let rty = rust_type(&field.ty);
        let (sql_type, nullable) = match &attrs.sql_type {
            Some(given) => {
                let sql = normalize_sql_type(&given.value).map_err(|e| {
                    let kind = ModelErrorKind::BadSqlType {
                        model: model.clone(),
                        field: fname.clone(),
                        message: e.to_string(),
                    };
                    fail(given.span, kind)
                })?;
                (sql, rty.option_inner().is_some())
            }
            None => {
                let mapped = column_type(&rty).map_err(|e| {
                    let kind = ModelErrorKind::UnsupportedType {
                        model: model.clone(),
                        field: fname.clone(),
                        ty: e.ty.clone(),
                        fix: e.fix().to_string(),
                    };
                    fail(field.ty.span(), kind)
                })?;
                (mapped.sql_type, mapped.nullable)
            }
        };
        if attrs.primary_key && nullable {
            let kind = ModelErrorKind::OptionalPrimaryKey {
                model: model.clone(),
                field: fname.clone(),
            };
            return Err(fail(ident.span(), kind));
        }
        let has_default = attrs.default.is_some() || attrs.default_sql.is_some();
        if attrs.primary_key {
            table.primary_key.push(col.clone());
            pk_candidates
                .push(attrs.sql_type.is_none() && !has_default && is_integer_type(&sql_type));
        }
        if attrs.unique {
            table.uniques.push(UniqueConstraint {
                name: constraint_name("uq", &tname, &[&col]),
                columns: vec![col.clone()],
            });
        }
        if attrs.index {
            table.indexes.push(Index {
                name: constraint_name("ix", &tname, &[&col]),
                columns: vec![col.clone()],
            });
        }
        if let Some((ref_table, ref_column, _)) = &attrs.references {
            table.foreign_keys.push(ForeignKey {
                name: constraint_name("fk", &tname, &[&col, ref_table]),
                columns: vec![col.clone()],
                ref_table: ref_table.clone(),
                ref_columns: vec![ref_column.clone()],
                on_delete: attrs.on_delete.unwrap_or_default(),
            });
        }
        let default = match (&attrs.default, &attrs.default_sql) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(expr)) => Some(bluefox_core::schema::ColumnDefault::Expression(
                expr.value.trim().to_string(),
            )),
            (None, None) => None,
        };
        table.columns.push(Column {
            name: col.clone(),
            sql_type,
            nullable,
            default,
            identity: false,
            renamed_from: attrs.renamed_from.as_ref().map(|n| n.value.clone()),
        });
        let location = ctx.location(ident.span());
        fields.push(ModelField {
            rust_name: fname,
            column: col,
            source_line: ctx.line(location.line).to_string(),
            location,
        });
    }
    if let ([true], [pk]) = (pk_candidates.as_slice(), table.primary_key.as_slice()) {
        if let Some(c) = table.columns.iter_mut().find(|c| &c.name == pk) {
            c.identity = true;
        }
    }
    for names in &sattrs.indexes {
        let columns = resolve_list("index", names, &model, &fields)?;
        let parts: Vec<&str> = columns.iter().map(String::as_str).collect();
        let name = constraint_name("ix", &tname, &parts);
        table.indexes.push(Index { name, columns });
    }
    for names in &sattrs.uniques {
        let columns = resolve_list("unique", names, &model, &fields)?;
        let parts: Vec<&str> = columns.iter().map(String::as_str).collect();
        let name = constraint_name("uq", &tname, &parts);
        table.uniques.push(UniqueConstraint { name, columns });
    }
    // Sorted by name, and a field-level `unique` repeated as `unique(field)` counts once.
    table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    table.indexes.dedup_by(|a, b| a.name == b.name);
    table.uniques.sort_by(|a, b| a.name.cmp(&b.name));
    table.uniques.dedup_by(|a, b| a.name == b.name);
    table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((table, fields))
}

fn not_named(item: &ItemStruct, model: &str, shape: &str) -> SpanError {
    let kind = ModelErrorKind::NotNamedStruct {
        model: model.to_string(),
        shape: shape.to_string(),
    };
    fail(item.ident.span(), kind)
}

fn check_length(what: &str, name: &Named, target: &str, fix: &str) -> Spanned<()> {
    if name.value.len() <= MAX_IDENTIFIER_BYTES {
        return Ok(());
    }
    let kind = ModelErrorKind::IdentifierTooLong {
        what: what.to_string(),
        name: name.value.clone(),
        bytes: name.value.len(),
        target: target.to_string(),
        fix: fix.to_string(),
    };
    Err(fail(name.span, kind))
}

/// The columns a struct-level `index(...)`/`unique(...)` names: each entry is a field name, or
/// else a column name.
fn resolve_list(
    list: &str,
    names: &[Named],
    model: &str,
    fields: &[ModelField],
) -> Spanned<Vec<String>> {
    names
        .iter()
        .map(|n| {
            fields
                .iter()
                .find(|f| f.rust_name == n.value)
                .or_else(|| fields.iter().find(|f| f.column == n.value))
                .map(|f| f.column.clone())
                .ok_or_else(|| {
                    let kind = ModelErrorKind::UnknownIndexField {
                        list: list.to_string(),
                        model: model.to_string(),
                        name: n.value.clone(),
                    };
                    fail(n.span, kind)
                })
        })
        .collect()
}
