//! The names bluefox gives things: tables from struct names, columns from fields, and the
//! generated constraint and index names.
//!
//! [`snake_case`] and [`unraw`] live in `bluefox_core::naming`, which `bluefox-macros` uses too,
//! so the derive and this parser name tables and columns by one rule.

pub use bluefox_core::naming::{snake_case, unraw};
use bluefox_core::schema::MAX_IDENTIFIER_BYTES;

/// A generated constraint or index name: `<prefix>_<table>_<parts...>`, made to fit PostgreSQL's
/// 63 bytes (see [`fit_identifier`]).
pub fn constraint_name(prefix: &str, table: &str, parts: &[&str]) -> String {
    let mut name = format!("{prefix}_{table}");
    for part in parts {
        name.push('_');
        name.push_str(part);
    }
    fit_identifier(name)
}

/// A generated name longer than 63 bytes, cut at a character boundary and ended with `_` and
/// eight hex digits of a hash of the whole name: deterministic across builds and platforms, and
/// two long names that share a prefix still differ.
pub fn fit_identifier(name: String) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name;
    }
    let hash = format!("{:08x}", fnv1a(name.as_bytes()) as u32);
    let mut cut = MAX_IDENTIFIER_BYTES - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

/// FNV-1a, 64 bits: tiny, stable, and fixed by its specification (std's hashers are not).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(constraint_name("ix", "users", &["email"]), "ix_users_email");
        assert_eq!(
            constraint_name("fk", "posts", &["author_id", "users"]),
            "fk_posts_author_id_users"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long_a = "a".repeat(40);
        let name = constraint_name("ix", "some_rather_long_table_name", &[&long_a]);
        assert_eq!(name.len(), 63);
        assert_eq!(
            &name[..54],
            "ix_some_rather_long_table_name_aaaaaaaaaaaaaaaaaaaaaaa"
        );
        assert_eq!(&name[54..55], "_");
        assert!(name[55..].chars().all(|c| c.is_ascii_hexdigit()));
        // Deterministic, and a different tail gives a different name.
        assert_eq!(
            name,
            constraint_name("ix", "some_rather_long_table_name", &[&long_a])
        );
        let long_b = format!("{long_a}b");
        assert_ne!(
            name,
            constraint_name("ix", "some_rather_long_table_name", &[&long_b])
        );
        // Exactly 63 bytes stays as is.
        let exact = format!("ix_{}", "t".repeat(60));
        assert_eq!(fit_identifier(exact.clone()), exact);
    }

    #[test]
    fn cut_respects_char_boundaries() {
        let name = fit_identifier("é".repeat(40));
        assert!(name.len() <= 63);
        assert!(name.starts_with("éééé"));
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
