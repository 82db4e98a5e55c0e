//! The names bluefox derives from Rust identifiers, shared by the build script's model parser
//! (`bluefox-build`) and `#[derive(BluefoxBase)]` (`bluefox-macros`), so both name a model's
//! table and columns by one rule.

/// The default table name of a struct: its name in snake_case (`UserProfile` -> `user_profile`,
/// `HTTPLog` -> `http_log`).
pub fn snake_case(name: &str) -> String {
    let name = unraw(name);
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) => p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()),
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An identifier without its raw prefix (`r#type` -> `type`).
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_struct_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("UserProfile"), "user_profile");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Order2Item"), "order2_item");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Mixed_Case"), "mixed_case");
        assert_eq!(snake_case("r#Type"), "type");
    }

    #[test]
    fn unraw_strips_the_prefix() {
        assert_eq!(unraw("r#type"), "type");
        assert_eq!(unraw("name"), "name");
    }
}
