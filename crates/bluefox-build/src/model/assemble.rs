//! All models of a crate -> one [`Schema`], with the checks that need every table at once.

use super::error::ModelErrorKind;
use super::{ModelError, ModelStruct};
use bluefox_core::schema::Schema;
use std::collections::BTreeMap;

/// Builds the schema from every model of every models file.
///
/// # Errors
/// Two models with one table name (the error points at the second and names the first), or a
/// `references` naming a table no model has, a column that table lacks, or a column that is
/// neither its primary key nor unique.
pub fn assemble(models: &[ModelStruct]) -> Result<Schema, ModelError> {
    let by_table = check(models)?;
    let mut schema = Schema::default();
    for (name, model) in by_table {
        schema.tables.insert(name.to_string(), model.table.clone());
    }
    Ok(schema)
}

/// The models by table name, once no two have one name and every `references` names a key of
/// a table there.
fn check(models: &[ModelStruct]) -> Result<BTreeMap<&str, &ModelStruct>, ModelError> {
    let mut by_table: BTreeMap<&str, &ModelStruct> = BTreeMap::new();
    for model in models {
        if let Some(first) = by_table.insert(&model.table.name, model) {
            let kind = ModelErrorKind::DuplicateTable {
                table: model.table.name.clone(),
                first: first.rust_path.clone(),
                first_location: first.location.clone(),
                second: model.rust_path.clone(),
            };
            return Err(ModelError::new(
                model.location.clone(),
                model.source_line.clone(),
                kind,
            ));
        }
    }
    for model in models {
        for fk in &model.table.foreign_keys {
            check_reference(model, fk, &by_table)?;
        }
    }
    Ok(by_table)
}

fn check_reference(
    model: &ModelStruct,
    fk: &bluefox_core::schema::ForeignKey,
    by_table: &BTreeMap<&str, &ModelStruct>,
) -> Result<(), ModelError> {
    let column = fk.columns.first().cloned().unwrap_or_default();
    let ref_column = fk.ref_columns.first().cloned().unwrap_or_default();
    let field = model.fields.iter().find(|f| f.column == column);
    let fail = |kind: ModelErrorKind| match field {
        Some(f) => ModelError::new(f.location.clone(), f.source_line.clone(), kind),
        None => ModelError::new(model.location.clone(), model.source_line.clone(), kind),
    };
    let model_name = short_name(&model.rust_path);
    let field_name = field.map(|f| f.rust_name.clone()).unwrap_or(column.clone());
    let Some(target) = by_table.get(fk.ref_table.as_str()) else {
        return Err(fail(ModelErrorKind::UnknownReferencedTable {
            model: model_name,
            field: field_name,
            table: fk.ref_table.clone(),
            column: ref_column,
            known: by_table.keys().copied().collect::<Vec<_>>().join(", "),
        }));
    };
    let target_name = short_name(&target.rust_path);
    if target.table.column(&ref_column).is_none() {
        return Err(fail(ModelErrorKind::UnknownReferencedColumn {
            model: model_name,
            field: field_name,
            table: fk.ref_table.clone(),
            column: ref_column,
            target: target_name,
            known: target
                .table
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }));
    }
    let single = std::slice::from_ref(&ref_column);
    let keyed = target.table.primary_key == single
        || target.table.uniques.iter().any(|u| u.columns == single);
    if !keyed {
        return Err(fail(ModelErrorKind::ReferencedNotUnique {
            model: model_name,
            field: field_name,
            table: fk.ref_table.clone(),
            target_field: target
                .fields
                .iter()
                .find(|f| f.column == ref_column)
                .map_or(ref_column.clone(), |f| f.rust_name.clone()),
            column: ref_column,
            target: target_name,
        }));
    }
    Ok(())
}

fn short_name(rust_path: &str) -> String {
    rust_path
        .rsplit("::")
        .next()
        .unwrap_or(rust_path)
        .to_string()
}
