//! syn's view of a field type -> core's small, syn-free [`RustType`].

use bluefox_core::types::RustType;
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// The [`RustType`] of a field type: paths keep their segments and the type arguments of their
/// last segment; references keep what they point at; anything else is kept as text.
pub fn rust_type(ty: &Type) -> RustType {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let segments = &p.path.segments;
            let path = match segments.first() {
                // Nearly every field type: one segment (`i64`, `String`, `Option<...>`).
                Some(first) if segments.len() == 1 => first.ident.to_string(),
                _ => segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::"),
            };
            let args = match p.path.segments.last().map(|s| &s.arguments) {
                Some(PathArguments::AngleBracketed(a)) => a
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        GenericArgument::Type(t) => Some(rust_type(t)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            RustType::path(&path, args)
        }
        Type::Reference(r) => RustType::Reference(Box::new(rust_type(&r.elem))),
        Type::Group(g) => rust_type(&g.elem),
        Type::Paren(p) => rust_type(&p.elem),
        other => RustType::Other(other.to_token_stream().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> RustType {
        match syn::parse_str::<Type>(text) {
            Ok(ty) => rust_type(&ty),
            Err(e) => RustType::Other(format!("unparsable: {e}")),
        }
    }

    #[test]
    fn paths_and_arguments() {
        assert_eq!(of("i64"), RustType::simple("i64"));
        assert_eq!(of("::uuid::Uuid"), RustType::simple("uuid::Uuid"));
        assert_eq!(
            of("chrono::DateTime<chrono::Utc>"),
            RustType::path("chrono::DateTime", vec![RustType::simple("chrono::Utc")])
        );
        assert_eq!(
            of("Option<Vec<String>>"),
            RustType::path(
                "Option",
                vec![RustType::path("Vec", vec![RustType::simple("String")])]
            )
        );
        assert_eq!(
            of("&'a str"),
            RustType::Reference(Box::new(RustType::simple("str")))
        );
        assert_eq!(
            of("Cow<'a, str>"),
            RustType::path("Cow", vec![RustType::simple("str")])
        );
        assert_eq!(of("(i32, i32)").to_string(), "(i32 , i32)");
    }
}
