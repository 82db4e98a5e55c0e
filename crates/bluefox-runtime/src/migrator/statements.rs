//! Finding the statement of a migration that failed when the server gives no error position
//! (a duplicate key, a division by zero, a lock timeout): the server reports each statement of
//! a batch as it completes, so the count of completed ones names the failing one, and this
//! module finds that statement in the SQL text.
//!
//! The split follows PostgreSQL's lexer where it matters for `;`: quoted literals (`'...'`,
//! `E'...'` with backslash escapes), quoted identifiers, dollar-quoted bodies (`$tag$...$tag$`),
//! `--` comments and nested `/* */` comments. A statement that is only blanks and comments is
//! not sent by the server's parser, so it is not counted either.

/// The statements of `sql`, each as `(line of its first character, its text without the `;`)`.
pub(crate) fn split(sql: &str) -> Vec<(usize, &str)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut line = 1;
    let mut start_line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &bytes[i..];
        if b == b'-' && rest.starts_with(b"--") {
            i = skip_to(bytes, i, b"\n").map_or(bytes.len(), |end| end - 1);
            continue;
        }
        if b == b'/' && rest.starts_with(b"/*") {
            let end = skip_block_comment(bytes, i);
            line += count_newlines(&bytes[i..end]);
            i = end;
            continue;
        }
        if b == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b';' {
            if let Some(s) = start.take() {
                out.push((start_line, sql[s..i].trim_end()));
            }
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some(i);
            start_line = line;
        }
        let end = match b {
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident_byte(bytes[i - 2]));
                skip_quoted(bytes, i, b'\'', escapes)
            }
            b'"' => skip_quoted(bytes, i, b'"', false),
            b'$' => dollar_tag(bytes, i)
                .map(|tag| skip_to(bytes, i + tag.len(), tag).unwrap_or(bytes.len()))
                .unwrap_or(i + 1),
            _ => i + 1,
        };
        line += count_newlines(&bytes[i..end]);
        i = end;
    }
    if let Some(s) = start {
        out.push((start_line, sql[s..].trim_end()));
    }
    out
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The index just past the first `needle` at or after `from`.
fn skip_to(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p + needle.len())
}

/// The index just past the quoted text opening at `from` (doubled quotes stay inside).
fn skip_quoted(bytes: &[u8], from: usize, quote: u8, backslash: bool) -> usize {
    let mut i = from + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index just past the (nested) block comment opening at `from`.
fn skip_block_comment(bytes: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The dollar-quote tag (`$$`, `$body$`) opening at `from`, if one does (`$1` is a parameter).
fn dollar_tag(bytes: &[u8], from: usize) -> Option<&[u8]> {
    if from > 0 && is_ident_byte(bytes[from - 1]) {
        return None;
    }
    let mut i = from + 1;
    while i < bytes.len() && bytes[i] != b'$' {
        let b = bytes[i];
        let ok = b.is_ascii_alphabetic()
            || b == b'_'
            || b >= 0x80
            || (i > from + 1 && b.is_ascii_digit());
        if !ok {
            return None;
        }
        i += 1;
    }
    (i < bytes.len()).then(|| &bytes[from..=i])
}

/// `line N: <first line of the statement>` for statement `index` (0-based) of `sql`.
pub(crate) fn describe(sql: &str, index: usize) -> Option<Box<str>> {
    let (line, text) = *split(sql).get(index)?;
    let first = text.lines().next().unwrap_or_default().trim();
    let more = if text.contains('\n') { " ..." } else { "" };
    Some(format!("line {line}: {first}{more}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "-- a comment; not a statement\nCREATE TABLE \"a;b\" (x text DEFAULT 'it''s; here');\n\n/* one; /* nested; */ */\nINSERT INTO t VALUES (E'\\'; still');\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nDO $$ BEGIN PERFORM 1; END $$;\n;;\nSELECT $1 FROM x;\nSELECT 2";
        let lines: Vec<usize> = split(sql).iter().map(|(l, _)| *l).collect();
        let texts: Vec<&str> = split(sql).iter().map(|(_, t)| *t).collect();
        assert_eq!(
            texts,
            [
                "CREATE TABLE \"a;b\" (x text DEFAULT 'it''s; here')",
                "INSERT INTO t VALUES (E'\\'; still')",
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
                "DO $$ BEGIN PERFORM 1; END $$",
                "SELECT $1 FROM x",
                "SELECT 2",
            ]
        );
        assert_eq!(lines, [2, 5, 6, 7, 9, 10]);
    }

    #[test]
    fn describes_a_statement_by_its_first_line() {
        let sql = "CREATE TABLE a (id int);\nINSERT INTO a\n  VALUES (1);\n";
        assert_eq!(
            describe(sql, 0).as_deref(),
            Some("line 1: CREATE TABLE a (id int)")
        );
        assert_eq!(
            describe(sql, 1).as_deref(),
            Some("line 2: INSERT INTO a ...")
        );
        assert_eq!(describe(sql, 2), None);
    }

    #[test]
    fn unterminated_text_is_one_statement() {
        assert_eq!(split("SELECT 'open; still"), [(1, "SELECT 'open; still")]);
        assert_eq!(split("SELECT $x$ open;"), [(1, "SELECT $x$ open;")]);
        assert_eq!(split("/* open; "), []);
    }
}
