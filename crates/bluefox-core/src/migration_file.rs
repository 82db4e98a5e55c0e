//! One migration file of `migrations/`: its name, its header and its up and down sections.
//!
//! A generated file reads, top to bottom:
//!
//! ```sql
//! -- bluefox: add users table
//! -- parent: base
//! -- bluefox:up
//! CREATE TABLE "users" ("id" BIGINT NOT NULL);
//! -- bluefox:down
//! DROP TABLE "users";
//! ```
//!
//! A file with no `-- bluefox` line at all is a plain hand-written migration: its whole text is
//! the up SQL (byte for byte, so its checksum is the one refinery itself would compute), it has
//! no down section and its parent is the previous version ([`Parent::Implicit`]).
//!
//! An irreversible generated migration is written with its down marker followed only by the
//! comment lines of [`IRREVERSIBLE_NOTE`]: the reviewer sees that nothing undoes it, and a down
//! section that holds only comments and whitespace parses as "no down SQL".
//!
//! Every text is passed through [`normalize_sql`] before it is split, embedded or hashed, so a
//! checkout with CRLF line ends or a byte-order mark yields the same migration and checksum.

use siphasher::sip::SipHasher13;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// The longest name [`slugify`] produces, in bytes (it only produces ASCII).
pub const MAX_SLUG_LEN: usize = 60;

/// The comment written as the down section of an irreversible migration.
pub const IRREVERSIBLE_NOTE: &str =
    "-- irreversible: there is no down SQL, so `bluefox downgrade` \
stops before this migration.\n-- To make it reversible, write SQL here that undoes the up section.";

/// A malformed migration file name or file. Every message starts with `{file}:{line}:` (just
/// `{file}:` for a bad file name) and ends with the fix; [`MigrationFileError::file`] and
/// [`MigrationFileError::line`] give the place without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationFileError {
    /// The file name is not `V{version}__{name}.sql`.
    #[error(
        "{file}: {reason}; migration files are named `V{{version}}__{{name}}.sql`, for example \
         `V20261130052700__add_users_table.sql` (version: digits; name: ASCII letters, digits and `_`)"
    )]
    InvalidFileName {
        /// The file name as given to the parser.
        file: String,
        /// Which part of the name is wrong.
        reason: String,
    },
    /// The first line of a file with bluefox lines is not `-- bluefox: <message>`.
    #[error(
        "{file}:{line}: a bluefox migration starts with `-- bluefox: <message>`; add that line first (the header \
         is `-- bluefox: <message>`, `-- parent: <version>|base`, `-- bluefox:up`), or remove \
         every `-- bluefox` line to make this a plain hand-written migration"
    )]
    MissingMessage {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// A second `-- bluefox: <message>` line.
    #[error(
        "{file}:{line}: a second `-- bluefox: <message>` header (the first is on line {first_line}); a file holds \
         one migration: move the second one into its own file"
    )]
    DuplicateMessage {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The line of the first one.
        first_line: usize,
    },
    /// No `-- parent:` line before `-- bluefox:up`.
    #[error(
        "{file}:{line}: no `-- parent:` line before `-- bluefox:up`; add `-- parent: <version of the migration \
         this one follows>` (or `-- parent: base` for the first migration) below the `-- bluefox:` line"
    )]
    MissingParent {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// A second `-- parent:` line.
    #[error(
        "{file}:{line}: a second `-- parent:` line (the first is on line {first_line}); keep one"
    )]
    DuplicateParent {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The line of the first one.
        first_line: usize,
    },
    /// A `-- parent:` value that is neither `base` nor a version.
    #[error(
        "{file}:{line}: `-- parent: {value}` is neither `base` nor a version; write the version number of the \
         migration this one follows (for example `-- parent: 20261130052700`) or `base`"
    )]
    BadParent {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The value found.
        value: String,
    },
    /// A parent that is not older than the migration itself.
    #[error(
        "{file}:{line}: `-- parent: {parent}` is not older than this migration (version {version}); a parent is \
         an earlier version: fix the parent line or renumber the file"
    )]
    ParentNotOlder {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The version the parent line names.
        parent: i64,
        /// The file's own version.
        version: i64,
    },
    /// SQL in the header, before `-- bluefox:up`.
    #[error(
        "{file}:{line}: SQL before `-- bluefox:up`; only the `-- bluefox:` and `-- parent:` header lines and \
         comments may come before it: move this line below `-- bluefox:up`"
    )]
    SqlBeforeUp {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// The header is never followed by `-- bluefox:up`.
    #[error(
        "{file}:{line}: no `-- bluefox:up` line; add `-- bluefox:up` after the `-- parent:` line and put the \
         migration's SQL below it"
    )]
    MissingUp {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// `-- bluefox:down` before `-- bluefox:up`.
    #[error(
        "{file}:{line}: `-- bluefox:down` comes before `-- bluefox:up`; put the up section first: `-- bluefox:up` \
         and its SQL, then `-- bluefox:down` and its SQL"
    )]
    DownBeforeUp {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// A second up or down marker.
    #[error(
        "{file}:{line}: a second `-- bluefox:{marker}` (the first is on line {first_line}); a file holds one up \
         and at most one down section: merge them, or move the second migration into its own file"
    )]
    DuplicateMarker {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// `up` or `down`.
        marker: &'static str,
        /// The line of the first one.
        first_line: usize,
    },
    /// `-- bluefox:<word>` with an unknown word.
    #[error(
        "{file}:{line}: unknown directive `-- bluefox:{directive}`; the known ones are `-- bluefox:up` and \
         `-- bluefox:down` (a message is written `-- bluefox: <message>`, with a space)"
    )]
    UnknownDirective {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The word after `-- bluefox:`.
        directive: String,
    },
    /// A `-- bluefox` line without its colon.
    #[error(
        "{file}:{line}: `{text}` is not a bluefox line; write `-- bluefox: <message>`, `-- bluefox:up` or \
         `-- bluefox:down`"
    )]
    MalformedMarker {
        /// The file name as given to the parser.
        file: String,
        /// The 1-based line.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
}

impl MigrationFileError {
    /// The file name the error is about, as given to the parser.
    pub fn file(&self) -> &str {
        use MigrationFileError as E;
        match self {
            E::InvalidFileName { file, .. }
            | E::MissingMessage { file, .. }
            | E::DuplicateMessage { file, .. }
            | E::MissingParent { file, .. }
            | E::DuplicateParent { file, .. }
            | E::BadParent { file, .. }
            | E::ParentNotOlder { file, .. }
            | E::SqlBeforeUp { file, .. }
            | E::MissingUp { file, .. }
            | E::DownBeforeUp { file, .. }
            | E::DuplicateMarker { file, .. }
            | E::UnknownDirective { file, .. }
            | E::MalformedMarker { file, .. } => file,
        }
    }

    /// The 1-based line the error is about; `None` when the file name itself is wrong.
    pub fn line(&self) -> Option<usize> {
        use MigrationFileError as E;
        match self {
            E::InvalidFileName { .. } => None,
            E::MissingMessage { line, .. }
            | E::DuplicateMessage { line, .. }
            | E::MissingParent { line, .. }
            | E::DuplicateParent { line, .. }
            | E::BadParent { line, .. }
            | E::ParentNotOlder { line, .. }
            | E::SqlBeforeUp { line, .. }
            | E::MissingUp { line, .. }
            | E::DownBeforeUp { line, .. }
            | E::DuplicateMarker { line, .. }
            | E::UnknownDirective { line, .. }
            | E::MalformedMarker { line, .. } => Some(*line),
        }
    }
}

/// What is wrong at a line, before the file name and line are attached.
enum Fault {
    MissingMessage,
    DuplicateMessage(usize),
    MissingParent,
    DuplicateParent(usize),
    BadParent(String),
    ParentNotOlder(i64, i64),
    SqlBeforeUp,
    MissingUp,
    DownBeforeUp,
    DuplicateMarker(&'static str, usize),
    UnknownDirective(String),
    MalformedMarker(String),
}

impl Fault {
    /// The public error for this fault at `file:line`.
    fn at(self, file: &str, line: usize) -> MigrationFileError {
        use MigrationFileError as E;
        let file = file.to_string();
        match self {
            Fault::MissingMessage => E::MissingMessage { file, line },
            Fault::DuplicateMessage(first_line) => E::DuplicateMessage {
                file,
                line,
                first_line,
            },
            Fault::MissingParent => E::MissingParent { file, line },
            Fault::DuplicateParent(first_line) => E::DuplicateParent {
                file,
                line,
                first_line,
            },
            Fault::BadParent(value) => E::BadParent { file, line, value },
            Fault::ParentNotOlder(parent, version) => E::ParentNotOlder {
                file,
                line,
                parent,
                version,
            },
            Fault::SqlBeforeUp => E::SqlBeforeUp { file, line },
            Fault::MissingUp => E::MissingUp { file, line },
            Fault::DownBeforeUp => E::DownBeforeUp { file, line },
            Fault::DuplicateMarker(marker, first_line) => E::DuplicateMarker {
                file,
                line,
                marker,
                first_line,
            },
            Fault::UnknownDirective(directive) => E::UnknownDirective {
                file,
                line,
                directive,
            },
            Fault::MalformedMarker(text) => E::MalformedMarker { file, line, text },
        }
    }
}

/// The version a migration was generated on top of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    /// The first migration (`-- parent: base`).
    Base,
    /// `-- parent: <version>`.
    Version(i64),
    /// A hand-written file without header: its parent is the previous version in order.
    Implicit,
}

/// A parsed migration file. `up` and `down` are normalised ([`normalize_sql`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// The version from the file name.
    pub version: i64,
    /// The name from the file name (`add_users_table`), as refinery reads it.
    pub name: String,
    /// The `-- bluefox: <message>` text; `None` for a hand-written file (or an empty message).
    pub message: Option<String>,
    /// What the `-- parent:` line says.
    pub parent: Parent,
    /// The up SQL: what refinery applies and checksums.
    pub up: String,
    /// The down SQL; `None` when the migration is irreversible.
    pub down: Option<String>,
}

/// Makes SQL text platform-independent: strips a leading UTF-8 byte-order mark and turns CRLF
/// and lone CR line ends into LF. Everything bluefox embeds or hashes goes through it.
///
/// Text that is already normalised (no CR anywhere) comes back borrowed, without a copy; a
/// leading byte-order mark alone is stripped by borrowing the rest.
pub fn normalize_sql(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // One byte scan (memchr) in the usual case: a CR is always the single byte 0x0D in UTF-8.
    if !text.as_bytes().contains(&b'\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// refinery's checksum of a migration (with `int8-versions`): SipHash-1-3 with zero keys over
/// the name, the version and the SQL, each fed through [`std::hash::Hash`]. Pass normalised SQL.
pub fn checksum(name: &str, version: i64, up_sql: &str) -> u64 {
    let mut hasher = SipHasher13::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    up_sql.hash(&mut hasher);
    hasher.finish()
}

/// Turns a message into a file-name slug: lower case ASCII letters and digits, every other run
/// of characters one `_`, no `_` at either end, at most [`MAX_SLUG_LEN`] bytes, never empty
/// (`migration` when nothing is left).
pub fn slugify(message: &str) -> String {
    let mut slug = String::new();
    let mut gap = false;
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('_');
            }
            gap = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    slug.truncate(MAX_SLUG_LEN);
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        "migration".to_string()
    } else {
        slug.to_string()
    }
}

/// The file name of a migration: `V{version}__{name}.sql`.
pub fn file_name(version: i64, name: &str) -> String {
    format!("V{version}__{name}.sql")
}

/// Reads `V{version}__{name}.sql` (a leading directory is ignored).
///
/// The name is restricted to ASCII letters, digits and `_`, a subset of refinery's `\w+`, so
/// refinery reads the same name.
///
/// # Errors
/// [`MigrationFileError::InvalidFileName`] saying which part is wrong.
pub fn parse_file_name(file: &str) -> Result<(i64, String), MigrationFileError> {
    let invalid = |reason: &str| MigrationFileError::InvalidFileName {
        file: file.to_string(),
        reason: reason.to_string(),
    };
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base
        .strip_suffix(".sql")
        .ok_or_else(|| invalid("the name does not end in `.sql`"))?;
    let rest = stem
        .strip_prefix('V')
        .ok_or_else(|| invalid("the name does not start with `V`"))?;
    let (digits, name) = rest
        .split_once("__")
        .ok_or_else(|| invalid("no `__` between the version and the name"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "the version (between `V` and `__`) is not a whole number",
        ));
    }
    let version: i64 = digits
        .parse()
        .map_err(|_| invalid("the version does not fit in 64 bits"))?;
    if name.is_empty() {
        return Err(invalid("the name after `__` is empty"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(invalid(&format!("the name contains {bad:?}")));
    }
    Ok((version, name.to_string()))
}

/// What a line means to the parser.
enum Marker<'a> {
    /// `-- bluefox: <message>` (the message trimmed).
    Message(&'a str),
    Up,
    Down,
    Unknown(&'a str),
    Malformed,
}

/// Classifies a line that starts with `-- bluefox` (any spacing after `--`); `None` for every
/// other line, including `-- bluefoxes ...`.
fn marker(line: &str) -> Option<Marker<'_>> {
    // Most lines are SQL: a byte search (compiled in the standard library, where the trims
    // below run unoptimised in a build script) passes over them.
    if !line.as_bytes().contains(&b'-') {
        return None;
    }
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("bluefox")?;
    match rest.chars().next() {
        None => Some(Marker::Malformed),
        Some(c) if c.is_whitespace() => Some(Marker::Malformed),
        Some(':') => {
            let after = &rest[1..];
            if after.is_empty() || after.starts_with(char::is_whitespace) {
                Some(Marker::Message(after.trim()))
            } else if after.trim_end().eq_ignore_ascii_case("up") {
                Some(Marker::Up)
            } else if after.trim_end().eq_ignore_ascii_case("down") {
                Some(Marker::Down)
            } else {
                Some(Marker::Unknown(after.trim_end()))
            }
        }
        Some(_) => None,
    }
}

/// The value of a `-- parent: <value>` line, if the line is one.
fn parent_value(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("parent")?.trim_start();
    rest.strip_prefix(':').map(str::trim)
}

/// A section body without its leading and trailing blank lines: `lines` joined by `\n`.
/// `lines` are lines of `text` (`str::lines`), which holds no `\r` (it is normalised), so the
/// lines joined are the text from the first to the end of the last: that is copied at once.
fn body(text: &str, lines: &[&str]) -> String {
    let blank = |l: &&str| l.trim().is_empty();
    let start = lines.iter().position(|l| !blank(l)).unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !blank(l))
        .map_or(start, |i| i + 1);
    let kept = &lines[start..end];
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return String::new();
    };
    let offset = |line: &str| line.as_ptr() as usize - text.as_ptr() as usize;
    text[offset(first)..offset(last) + last.len()].to_string()
}

/// Whether SQL holds nothing but whitespace and `--` comments.
fn has_statements(sql: &str) -> bool {
    sql.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    })
}

/// Where the parser is.
enum State {
    BeforeMessage,
    Header,
    Up { marker_line: usize },
    Down { up_line: usize, marker_line: usize },
}

impl MigrationFile {
    /// Parses a migration file. `file_name` gives the version and name (and is quoted in errors);
    /// `contents` is normalised first.
    ///
    /// # Errors
    /// A [`MigrationFileError`] naming `file_name`, the 1-based line and the fix.
    pub fn parse(file_name: &str, contents: &str) -> Result<MigrationFile, MigrationFileError> {
        let (version, name) = parse_file_name(file_name)?;
        let text = normalize_sql(contents);
        let lines: Vec<&str> = text.lines().collect();
        if !lines.iter().any(|l| marker(l).is_some()) {
            return Ok(MigrationFile {
                version,
                name,
                message: None,
                parent: Parent::Implicit,
                up: text.into_owned(),
                down: None,
            });
        }
        let fail = |line: usize, fault: Fault| fault.at(file_name, line);
        let mut state = State::BeforeMessage;
        let (mut message, mut message_line) = (None, 0);
        let mut parent: Option<(Parent, usize)> = None;
        let (mut up_range, mut down_range) = (None, None);
        for (index, line) in lines.iter().enumerate() {
            let n = index + 1;
            let found = marker(line);
            match &found {
                Some(Marker::Message(_)) if !matches!(state, State::BeforeMessage) => {
                    return Err(fail(n, Fault::DuplicateMessage(message_line)));
                }
                Some(Marker::Unknown(word)) => {
                    return Err(fail(n, Fault::UnknownDirective(word.to_string())));
                }
                Some(Marker::Malformed) => {
                    return Err(fail(n, Fault::MalformedMarker(line.trim().to_string())));
                }
                _ => {}
            }
            state = match (state, found) {
                (State::BeforeMessage, _) if line.trim().is_empty() => State::BeforeMessage,
                (State::BeforeMessage, Some(Marker::Message(text))) => {
                    message = Some(text.to_string()).filter(|m| !m.is_empty());
                    message_line = n;
                    State::Header
                }
                (State::BeforeMessage, _) => return Err(fail(n, Fault::MissingMessage)),
                (State::Header, Some(Marker::Up)) if parent.is_none() => {
                    return Err(fail(n, Fault::MissingParent));
                }
                (State::Header, Some(Marker::Up)) => State::Up { marker_line: n },
                (State::Header, Some(_)) => return Err(fail(n, Fault::DownBeforeUp)),
                (State::Header, None) => {
                    if let Some(value) = parent_value(line) {
                        if let Some((_, first)) = parent {
                            return Err(fail(n, Fault::DuplicateParent(first)));
                        }
                        let parsed = parse_parent(value, version).map_err(|kind| fail(n, kind))?;
                        parent = Some((parsed, n));
                    } else if !line.trim().is_empty() && !line.trim_start().starts_with("--") {
                        return Err(fail(n, Fault::SqlBeforeUp));
                    }
                    State::Header
                }
                (State::Up { marker_line }, Some(Marker::Down)) => {
                    up_range = Some(marker_line..index);
                    State::Down {
                        up_line: marker_line,
                        marker_line: n,
                    }
                }
                (State::Up { marker_line }, Some(_)) => {
                    return Err(fail(n, Fault::DuplicateMarker("up", marker_line)));
                }
                (
                    State::Down {
                        up_line,
                        marker_line,
                    },
                    Some(found),
                ) => {
                    let kind = match found {
                        Marker::Up => Fault::DuplicateMarker("up", up_line),
                        _ => Fault::DuplicateMarker("down", marker_line),
                    };
                    return Err(fail(n, kind));
                }
                (state, None) => state,
            };
        }
        match state {
            State::BeforeMessage | State::Header => {
                let kind = match parent {
                    None => Fault::MissingParent,
                    Some(_) => Fault::MissingUp,
                };
                return Err(fail(lines.len().max(1), kind));
            }
            State::Up { marker_line } => up_range = Some(marker_line..lines.len()),
            State::Down { marker_line, .. } => down_range = Some(marker_line..lines.len()),
        }
        let up = up_range.map_or_else(String::new, |r| body(&text, &lines[r]));
        let down = down_range
            .map(|r| body(&text, &lines[r]))
            .filter(|d| has_statements(d));
        let parent = parent.map_or(Parent::Base, |(p, _)| p);
        Ok(MigrationFile {
            version,
            name,
            message,
            parent,
            up,
            down,
        })
    }

    /// The text written to disk: LF line ends and a trailing newline.
    ///
    /// A file with a header renders its message (on one line), parent, up section and a down
    /// section, which is [`IRREVERSIBLE_NOTE`] when `down` is `None`; `parse(render(x)) == x` for
    /// such files when the message is one trimmed line and the sections are trimmed. A
    /// hand-written file ([`Parent::Implicit`]) renders as its up SQL, unchanged, so its
    /// checksum stays the same; it has no place for a message or down SQL.
    pub fn render(&self) -> String {
        if self.parent == Parent::Implicit {
            return self.up.clone();
        }
        let mut out = String::from("-- bluefox:");
        if let Some(message) = &self.message {
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            if !message.is_empty() {
                out.push(' ');
                out.push_str(&message);
            }
        }
        out.push_str("\n-- parent: ");
        match self.parent {
            Parent::Version(v) => out.push_str(&v.to_string()),
            Parent::Base | Parent::Implicit => out.push_str("base"),
        }
        out.push_str("\n-- bluefox:up\n");
        let down = self.down.as_deref().unwrap_or(IRREVERSIBLE_NOTE);
        for (section, next) in [(self.up.as_str(), "-- bluefox:down\n"), (down, "")] {
            if !section.is_empty() {
                out.push_str(section);
                out.push('\n');
            }
            out.push_str(next);
        }
        out
    }

    /// The file name: `V{version}__{name}.sql`.
    pub fn file_name(&self) -> String {
        file_name(self.version, &self.name)
    }

    /// refinery's checksum of this migration (see [`checksum`]).
    pub fn checksum(&self) -> u64 {
        checksum(&self.name, self.version, &self.up)
    }
}

/// Reads the value of a `-- parent:` line of the migration with version `version`.
fn parse_parent(value: &str, version: i64) -> Result<Parent, Fault> {
    if value.eq_ignore_ascii_case("base") {
        return Ok(Parent::Base);
    }
    let parent = value
        .parse::<i64>()
        .ok()
        .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Fault::BadParent(value.to_string()))?;
    if parent >= version {
        return Err(Fault::ParentNotOlder(parent, version));
    }
    Ok(Parent::Version(parent))
}

#[cfg(test)]
mod tests;
