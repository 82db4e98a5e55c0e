//! What a derive or attribute path means in its module: `use sqlx::FromRow;` makes `FromRow` read
//! `sqlx::FromRow`, so the lints can recognise another ORM however it was imported.

use std::collections::BTreeMap;
use syn::{Attribute, Item, Meta, Path, UseTree};

/// The derives a glob import of these crates brings in, for `use diesel::prelude::*` and the like.
const GLOB_DERIVES: &[(&str, &[&str])] = &[
    (
        "diesel",
        &[
            "Queryable",
            "QueryableByName",
            "Insertable",
            "Selectable",
            "AsChangeset",
            "Identifiable",
            "Associations",
        ],
    ),
    (
        "sea_orm",
        &[
            "DeriveEntityModel",
            "DeriveActiveModel",
            "DeriveModel",
            "DeriveEntity",
            "DeriveRelation",
            "DerivePrimaryKey",
            "DeriveColumn",
            "DeriveActiveModelBehavior",
        ],
    ),
    ("sqlx", &["FromRow"]),
];

/// The names a module's `use` items bring into scope.
#[derive(Debug, Default)]
pub(super) struct UseMap {
    /// Local name -> full path (`FromRow` -> `sqlx::FromRow`).
    names: BTreeMap<String, String>,
    /// The paths of glob imports (`diesel::prelude`).
    globs: Vec<String>,
}

impl UseMap {
    /// The `use` items directly in `items` (not in nested modules, which have their own scope).
    pub(super) fn from_items(items: &[Item]) -> UseMap {
        let mut map = UseMap::default();
        for item in items {
            if let Item::Use(u) = item {
                map.add(&u.tree, &mut Vec::new());
            }
        }
        map
    }

    fn add(&mut self, tree: &UseTree, prefix: &mut Vec<String>) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add(&p.tree, prefix);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        self.names.insert(last.clone(), prefix.join("::"));
                    }
                } else {
                    self.names.insert(name.clone(), joined(prefix, &name));
                }
            }
            UseTree::Rename(r) => {
                let name = r.ident.to_string();
                let full = if name == "self" {
                    prefix.join("::")
                } else {
                    joined(prefix, &name)
                };
                if r.rename != "_" {
                    self.names.insert(r.rename.to_string(), full);
                }
            }
            UseTree::Glob(_) => self.globs.push(prefix.join("::")),
            UseTree::Group(g) => {
                for t in &g.items {
                    self.add(t, prefix);
                }
            }
        }
    }

    /// The path a reader would recognise: the first segment replaced by what `use` made it
    /// mean; a single name found through a glob of a known ORM; else the path as written.
    pub(super) fn resolve(&self, path: &Path) -> String {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some((first, rest)) = segments.split_first() else {
            return String::new();
        };
        if path.leading_colon.is_none() {
            if let Some(full) = self.names.get(first) {
                let mut out = full.clone();
                for s in rest {
                    out.push_str("::");
                    out.push_str(s);
                }
                return out;
            }
            if rest.is_empty() {
                for glob in &self.globs {
                    let krate = glob.split("::").next().unwrap_or_default();
                    let known = GLOB_DERIVES
                        .iter()
                        .find(|(k, _)| *k == krate)
                        .is_some_and(|(_, names)| names.contains(&first.as_str()));
                    if known {
                        return format!("{krate}::{first}");
                    }
                }
            }
        }
        segments.join("::")
    }
}

fn joined(prefix: &[String], name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{}::{name}", prefix.join("::"))
    }
}

/// The paths in the `#[derive(...)]` attributes, as written.
pub(super) fn derive_paths(attrs: &[Attribute]) -> Vec<Path> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let parsed = attr
            .parse_args_with(syn::punctuated::Punctuated::<Path, syn::Token![,]>::parse_terminated);
        // A malformed derive is rustc's to report; it names no table either way.
        if let Ok(paths) = parsed {
            out.extend(paths);
        }
    }
    out
}

/// Whether one of these derives is `BluefoxBase` (by its last segment, however it was imported).
pub(super) fn is_bluefox_base(derives: &[Path]) -> bool {
    derives
        .iter()
        .any(|p| p.segments.last().is_some_and(|s| s.ident == "BluefoxBase"))
}

/// The attributes other than derives, docs, `cfg`s and lint levels, resolved through `uses`,
/// with the first key inside a list (`diesel(table_name)`, `sea_orm(table_name)`, `table_name`).
pub(super) fn attribute_paths(attrs: &[Attribute], uses: &UseMap) -> Vec<String> {
    const IGNORED: &[&str] = &[
        "derive", "doc", "cfg", "cfg_attr", "allow", "warn", "deny", "forbid", "expect",
    ];
    let mut out = Vec::new();
    for attr in attrs {
        if IGNORED.iter().any(|i| attr.path().is_ident(i)) {
            continue;
        }
        let path = uses.resolve(attr.path());
        match &attr.meta {
            Meta::List(list) => match first_key(list.tokens.clone()) {
                Some(key) => out.push(format!("{path}({key})")),
                None => out.push(path),
            },
            _ => out.push(path),
        }
    }
    out
}

/// The leading path of an attribute's arguments: `table_name` in `(table_name = "posts")`.
fn first_key(tokens: proc_macro2::TokenStream) -> Option<String> {
    let mut key = String::new();
    for tt in tokens {
        match tt {
            // Two words in a row (`(a b)`) are not one path: stop after the first.
            proc_macro2::TokenTree::Ident(_) if !key.is_empty() && !key.ends_with(':') => break,
            proc_macro2::TokenTree::Ident(i) => key.push_str(&i.to_string()),
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => key.push(':'),
            _ => break,
        }
    }
    (!key.is_empty()).then_some(key)
}
