//! `DATABASE_URL`: parsing, normalisation and redaction, with no driver and no I/O.
//!
//! Accepted forms (all normalised into one [`DatabaseUrl`]):
//! - `postgres://`, `postgresql://` and driver-suffixed schemes such as `postgresql+asyncpg://`,
//!   `postgresql+psycopg://` or `postgres+anything://` (the suffix names a Python driver and is
//!   ignored), with percent-decoding of the user, password, host, database and query values;
//! - libpq key=value strings: `host=localhost port=5432 user=app password='s e c' dbname=app`;
//! - `sqlite:` schemes (`sqlite://app.db`, `sqlite:app.db`, `sqlite::memory:`), recognised as
//!   [`Dialect::Sqlite`]; [`crate::dialect::sqlite_location`] says which file they name.
//!
//! Choices worth knowing:
//! - Unknown parameters are **rejected**, naming the accepted ones: a mistyped `ssl_mode=require`
//!   must not silently mean a plaintext connection. `ssl` is accepted as an alias of `sslmode`
//!   because asyncpg URLs carry it.
//! - Several hosts are supported (`postgresql://a:5432,b:5433/db`, `host=a,b port=5432,5433`);
//!   one port applies to every host, or there is one port per host.
//! - No host means `localhost` (TCP), no port means 5432. A host that starts with `/` (written
//!   `%2Ftmp` in a URL) is a Unix-socket directory.
//! - The password is a [`Password`], whose `Debug` and `Display` print `***`. [`DatabaseUrl`]'s
//!   `Display` is [`DatabaseUrl::redacted`], and no [`DbUrlError`] message contains the password:
//!   when a value might be part of a badly encoded password it is left out of the message.

mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The port PostgreSQL listens on unless the URL says otherwise.
pub const DEFAULT_PORT: u16 = 5432;

/// The database family a `DATABASE_URL` scheme names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: `postgres://`, `postgresql://`, `postgresql+<driver>://`, key=value strings.
    Postgres,
    /// SQLite: `sqlite:`, `sqlite3:`, `sqlite+<driver>:`.
    Sqlite,
}

impl Dialect {
    /// The dialect a URL scheme (without `:`) names, ignoring case and a `+driver` suffix.
    pub fn from_scheme(scheme: &str) -> Option<Dialect> {
        let scheme = scheme.to_ascii_lowercase();
        let base = scheme.split('+').next().unwrap_or_default();
        match base {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// The dialect's lower-case name, as used in messages (`postgresql`, `sqlite`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// libpq's `sslmode`: whether TLS is used and what is verified. The default is `prefer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plaintext only.
    Disable,
    /// Plaintext first; TLS only if the server refuses a plaintext connection.
    Allow,
    /// TLS if the server offers it, otherwise plaintext; the certificate is not verified.
    #[default]
    Prefer,
    /// TLS or no connection; the certificate is not verified (libpq semantics).
    Require,
    /// TLS, and the certificate chain must lead to a trusted root; the host name is not checked.
    VerifyCa,
    /// TLS, a trusted chain, and a certificate issued for the host name connected to.
    VerifyFull,
}

impl SslMode {
    /// Every mode, in libpq's order from least to most strict.
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The libpq spelling (`verify-full`).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Parses a libpq spelling (case-insensitive); `None` for anything else.
    pub fn from_libpq(value: &str) -> Option<SslMode> {
        SslMode::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(value))
    }

    /// Whether a connection without TLS is refused.
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A database password. `Debug` and `Display` print `***`; only [`Password::expose`] gives the
/// text, so it cannot end up in a log line or an error by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The password itself, for handing to the driver and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where to reach the server: a host name or IP address, or a Unix-socket directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name or an IP address (IPv6 without brackets).
    Tcp(String),
    /// The directory holding PostgreSQL's Unix socket (`/var/run/postgresql`).
    Socket(String),
}

/// One host with its port (`None`: [`DEFAULT_PORT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The port, if the URL names one.
    pub port: Option<u16>,
}

impl HostPort {
    /// The port to connect to: the one named, or [`DEFAULT_PORT`].
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }
}

/// `host:port` as a person reads it in a message: `[::1]:5432`, `/tmp (Unix socket, port 5432)`.
impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = self.port_or_default();
        match &self.host {
            Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]:{port}"),
            Host::Tcp(name) => write!(f, "{name}:{port}"),
            Host::Socket(dir) => write!(f, "{dir} (Unix socket, port {port})"),
        }
    }
}

/// A parsed, normalised `DATABASE_URL`. Its `Display` and `Debug` never show the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    dialect: Dialect,
    hosts: Vec<HostPort>,
    user: Option<String>,
    password: Option<Password>,
    dbname: Option<String>,
    sslmode: Option<SslMode>,
    sslrootcert: Option<String>,
    application_name: Option<String>,
    connect_timeout: Option<u64>,
    options: Option<String>,
}

impl DatabaseUrl {
    /// Parses any accepted form (see the module docs).
    ///
    /// # Errors
    /// A [`DbUrlError`] naming what is wrong and how to write it; never containing the password.
    pub fn parse(input: &str) -> Result<DatabaseUrl, DbUrlError> {
        parse::parse(input)
    }

    /// The database family the scheme names.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The hosts to try, in order; never empty for PostgreSQL (`localhost` when none is named).
    pub fn hosts(&self) -> &[HostPort] {
        &self.hosts
    }

    /// The user name, if the URL names one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, if the URL carries one.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// Sets the password (the runtime uses it for `PGPASSWORD` when the URL has none).
    pub fn set_password(&mut self, password: Password) {
        self.password = Some(password);
    }

    /// The database name; for SQLite, the location after `sqlite:`.
    pub fn dbname(&self) -> Option<&str> {
        self.dbname.as_deref()
    }

    /// The `sslmode`, `prefer` unless the URL names one.
    pub fn sslmode(&self) -> SslMode {
        self.sslmode.unwrap_or_default()
    }

    /// The PEM file of trusted root certificates (`sslrootcert`), if named.
    pub fn sslrootcert(&self) -> Option<&str> {
        self.sslrootcert.as_deref()
    }

    /// The `application_name` the URL sets, if any.
    pub fn application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    /// The `connect_timeout` (whole seconds; `0` or absent means none).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout.map(Duration::from_secs)
    }

    /// The `options` string sent to the server (`-c search_path=app`).
    pub fn options(&self) -> Option<&str> {
        self.options.as_deref()
    }

    /// Every host as `host:port`, comma-separated, for messages.
    pub fn endpoints(&self) -> String {
        let hosts: Vec<String> = self.hosts.iter().map(HostPort::to_string).collect();
        hosts.join(", ")
    }

    /// The normalised URL with the password replaced by `***`: safe to log and to show.
    pub fn redacted(&self) -> String {
        parse::render_redacted(self)
    }
}

impl FromStr for DatabaseUrl {
    type Err = DbUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

/// Renders [`DatabaseUrl::redacted`].
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A value quoted in an error message, or a note that it is withheld because the input carries a
/// password and the value might be a piece of it (a password with an unencoded `&`, `/` or space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown(Option<String>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(value) => write!(f, "`{value}`"),
            None => f.write_str("(value not shown: DATABASE_URL carries a password)"),
        }
    }
}

/// The accepted schemes and forms, for messages.
pub const ACCEPTED_FORMS: &str = "postgres://, postgresql://, postgresql+<driver>:// (such as \
    postgresql+asyncpg:// or postgresql+psycopg://), a libpq key=value string (host=localhost \
    user=app dbname=app), or sqlite: (sqlite://app.db, sqlite:app.db, sqlite::memory:)";

/// The accepted parameter names, for messages.
pub const ACCEPTED_PARAMETERS: &str = "host, port, user, password, dbname, sslmode (or ssl), \
    sslrootcert, application_name, connect_timeout, options";

/// Why a `DATABASE_URL` was refused. No message contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbUrlError {
    /// The string is empty or blank.
    #[error(
        "DATABASE_URL is empty; set it to a URL such as postgresql://app:secret@localhost:5432/app"
    )]
    Empty,
    /// A scheme that names no supported database.
    #[error("DATABASE_URL scheme `{scheme}:` is not supported; accepted: {ACCEPTED_FORMS}")]
    UnknownScheme {
        /// The scheme as written (letters, digits, `+`, `-`, `.` only).
        scheme: String,
    },
    /// Neither `scheme:` nor `key=value`.
    #[error("DATABASE_URL is neither a URL nor a key=value string; accepted: {ACCEPTED_FORMS}")]
    NotAUrl,
    /// A PostgreSQL scheme not followed by `//`.
    #[error("DATABASE_URL `{scheme}:` must be followed by `//`, as in {scheme}://user@localhost:5432/app")]
    MissingSlashes {
        /// The scheme as written.
        scheme: String,
    },
    /// A port that is not a number from 1 to 65535.
    #[error("DATABASE_URL has an invalid port {value}: expected a number from 1 to 65535{hint}")]
    InvalidPort {
        /// The port text, or withheld.
        value: Shown,
        /// Extra advice (percent-encoding), possibly empty.
        hint: &'static str,
    },
    /// Neither one port nor one port per host.
    #[error("DATABASE_URL names {hosts} hosts but {ports} ports; give one port for all hosts or one per host")]
    PortCount {
        /// How many hosts.
        hosts: usize,
        /// How many ports.
        ports: usize,
    },
    /// An IPv6 address opened with `[` and never closed.
    #[error("DATABASE_URL has an IPv6 host without its closing `]`; write it as [::1]:5432")]
    UnclosedIpv6,
    /// A `%` not followed by two hex digits.
    #[error("DATABASE_URL has invalid percent-encoding in the {component}: `%` must be followed by two hex digits (write a literal % as %25)")]
    InvalidPercentEncoding {
        /// Which part (`password`, `user`, `database name`, `query`).
        component: &'static str,
    },
    /// Percent-decoded bytes that are not UTF-8.
    #[error("DATABASE_URL's {component} is not valid UTF-8 once percent-decoded")]
    InvalidUtf8 {
        /// Which part.
        component: &'static str,
    },
    /// A query parameter or key that bluefox does not know.
    #[error("DATABASE_URL has an unknown parameter {name}; accepted: {ACCEPTED_PARAMETERS}")]
    UnknownParameter {
        /// The parameter name, or withheld.
        name: Shown,
    },
    /// A query parameter without `=`.
    #[error("DATABASE_URL has a query parameter without `=` ({name}); write name=value, and percent-encode `&` in values as %26")]
    ParameterWithoutValue {
        /// The text, or withheld.
        name: Shown,
    },
    /// An `sslmode` outside libpq's six values.
    #[error("DATABASE_URL has an invalid sslmode {value}; accepted: disable, allow, prefer, require, verify-ca, verify-full")]
    InvalidSslMode {
        /// The value, or withheld.
        value: Shown,
    },
    /// A `connect_timeout` that is not a whole number of seconds.
    #[error(
        "DATABASE_URL has an invalid connect_timeout {value}: expected whole seconds, such as 10"
    )]
    InvalidConnectTimeout {
        /// The value, or withheld.
        value: Shown,
    },
    /// A key=value string that does not follow libpq's syntax.
    #[error("DATABASE_URL key=value string: {problem} at byte {position}; write key=value pairs separated by spaces, quoting values with spaces as 'like this'")]
    KeyValueSyntax {
        /// What is wrong.
        problem: &'static str,
        /// Byte offset in the string.
        position: usize,
    },
}
