//! The check on `default_sql = "..."`: the text is pasted into DDL as written, so it must be one
//! expression that cannot end the statement or comment out the rest of it.

/// Checks that `expr` is a single SQL expression: not empty, no `;`, `--` or `/*` outside quoted
/// text, quotes closed (`'...'`, `E'...'` with backslash escapes, `"..."`) and parentheses
/// balanced. Returns what is wrong.
pub fn check_sql_expression(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("it is empty".to_string());
    }
    let chars: Vec<char> = expr.chars().collect();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ';' => return Err("it contains `;` outside quotes".to_string()),
            '-' if next == Some('-') => return Err("it contains a `--` comment".to_string()),
            '/' if next == Some('*') => return Err("it contains a `/*` comment".to_string()),
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "a `)` has no matching `(`".to_string())?;
            }
            '\'' => {
                let escapes = i > 0
                    && matches!(chars[i - 1], 'E' | 'e')
                    && (i < 2 || !(chars[i - 2].is_alphanumeric() || chars[i - 2] == '_'));
                i = closing(&chars, i, '\'', escapes)
                    .ok_or_else(|| "a single quote is never closed".to_string())?;
            }
            '"' => {
                i = closing(&chars, i, '"', false)
                    .ok_or_else(|| "a double quote is never closed".to_string())?;
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err("a `(` is never closed".to_string());
    }
    Ok(())
}

/// The index of the quote that closes the one at `open`. A doubled quote (`''`) is part of the
/// text and simply reads as a close followed by a new open, so it needs no special case.
fn closing(chars: &[char], open: usize, quote: char, backslash_escapes: bool) -> Option<usize> {
    let mut i = open + 1;
    while i < chars.len() {
        if backslash_escapes && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_single_expressions() {
        for ok in [
            "now()",
            "gen_random_uuid()",
            "'it''s'",
            "'a;b'",
            "\"weird;name\"",
            "(1 + 2) * 3",
            "E'it\\'s; fine'",
            "coalesce(NULL, 'x')",
            "CURRENT_TIMESTAMP",
            "1 - 2",
        ] {
            assert_eq!(check_sql_expression(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_what_could_escape() {
        let cases = [
            ("now(); DROP TABLE users", "it contains `;` outside quotes"),
            ("now() -- comment", "it contains a `--` comment"),
            ("now() /* x */", "it contains a `/*` comment"),
            ("now(", "a `(` is never closed"),
            ("now())", "a `)` has no matching `(`"),
            ("'abc", "a single quote is never closed"),
            ("'it''s", "a single quote is never closed"),
            ("\"abc", "a double quote is never closed"),
            ("E'abc\\'", "a single quote is never closed"),
            ("  ", "it is empty"),
        ];
        for (text, reason) in cases {
            assert_eq!(
                check_sql_expression(text),
                Err(reason.to_string()),
                "{text}"
            );
        }
    }
}
