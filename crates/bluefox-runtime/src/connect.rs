//! Opening the database connection from a [`DatabaseUrl`]: a `tokio_postgres::Config` (never
//! refinery's), TLS per `sslmode` (see [`crate::tls`]), the connection task spawned on tokio (or
//! handed back unspawned, [`connect_unspawned`]), and typed errors that name host, port, user and database but never the password.
//!
//! `sslmode` behaviour (with the `tls` feature, on by default):
//! - `disable`: plaintext.
//! - `allow`: plaintext first; if the server refuses it (SQLSTATE 28000, e.g. a `hostssl`
//!   pg_hba rule), once more with TLS when the server offers it.
//! - `prefer` (the default): TLS when the server offers it, plaintext when it declines. A failed
//!   handshake is an error, not a fall back (stricter than libpq).
//! - `require`, `verify-ca`, `verify-full`: TLS or no connection, never plaintext.
//!
//! Built without the `tls` feature (`default-features = false`), there is no TLS at all, as in
//! a libpq built without SSL support: `disable`, `allow` and `prefer` (the default) connect in
//! plaintext without asking the server for TLS, and `require`, `verify-ca` and `verify-full`
//! are refused before anything is sent ([`ConnectError::TlsNotBuilt`]).
//!
//! No user in the URL means the operating-system user (as libpq and tokio-postgres do);
//! `application_name` is `bluefox` unless the URL sets one.

use std::error::Error as _;
use std::future::Future;
use std::io;
use std::pin::Pin;

use bluefox_core::db_url::{DatabaseUrl, DbUrlError, Dialect, Host, SslMode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Socket};

#[cfg(feature = "tls")]
use crate::tls::{self, TlsConfigError};

/// The `application_name` bluefox sets unless the URL names one.
pub const APPLICATION_NAME: &str = "bluefox";

/// The task that drives the connection; it ends when the [`Client`] is dropped.
pub type ConnectionTask = JoinHandle<()>;

/// The connection's I/O as a future not yet spawned: it ends when the [`Client`] is dropped
/// (or the connection fails, which it logs). Polling it on the task that sends the queries
/// saves each answer a hop between threads of a multi-threaded runtime.
pub type ConnectionDriver = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Why no connection could be made. Messages name host, port, user and database, say what to
/// do, and never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `DATABASE_URL` does not parse (for callers that parse and connect in one `?` chain).
    #[error(transparent)]
    Url(#[from] DbUrlError),
    /// The URL names another database family than PostgreSQL (SQLite has its own path).
    #[error("DATABASE_URL names a {dialect} database, and this connection is PostgreSQL's (postgresql://user@host:5432/dbname); open SQLite with bluefox_runtime::sqlite::open, or boot it with bluefox_runtime::boot_sqlite")]
    UnsupportedDialect {
        /// The dialect.
        dialect: Dialect,
    },
    /// The TLS configuration could not be built (root certificates).
    #[cfg(feature = "tls")]
    #[error(transparent)]
    TlsConfig(#[from] TlsConfigError),
    /// SQLSTATE 28P01.
    #[error("password authentication failed for user `{user}` at {endpoint}; check the password in DATABASE_URL (or PGPASSWORD)")]
    WrongPassword {
        /// The user.
        user: String,
        /// `host:port`.
        endpoint: String,
    },
    /// The server asked for a password and none was given.
    #[error("the server at {endpoint} asks for a password for user `{user}` but none was given; put it in DATABASE_URL (postgresql://{user}:PASSWORD@host/dbname) or set PGPASSWORD")]
    PasswordMissing {
        /// The user.
        user: String,
        /// `host:port`.
        endpoint: String,
    },
    /// SQLSTATE 28000: no pg_hba.conf entry, unknown role, and similar refusals.
    #[error("the server at {endpoint} refused user `{user}` for database `{dbname}`: {message}; check the user in DATABASE_URL and the server's pg_hba.conf")]
    Refused {
        /// The user.
        user: String,
        /// The database.
        dbname: String,
        /// `host:port`.
        endpoint: String,
        /// The server's message.
        message: String,
    },
    /// SQLSTATE 3D000.
    #[error("database `{dbname}` does not exist at {endpoint}; create it (createdb -h HOST -p PORT -U {user} {dbname}) or fix the database name in DATABASE_URL")]
    UnknownDatabase {
        /// The database.
        dbname: String,
        /// The user.
        user: String,
        /// `host:port`.
        endpoint: String,
    },
    /// Connection refused, timed out, or the host name does not resolve.
    #[error("cannot reach PostgreSQL at {endpoint}: {reason}; check the host and port in DATABASE_URL, and that the server is running (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, `brew services start postgresql`, or `docker run -p 5432:5432 -e POSTGRES_PASSWORD=... postgres`)")]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// The operating system's reason.
        reason: String,
    },
    /// `sslmode` requires TLS and the server does not offer it. Nothing was sent in plaintext.
    #[error("the server at {endpoint} does not offer TLS, but DATABASE_URL has sslmode={sslmode}, so bluefox did not connect; enable ssl on the server, or set sslmode=prefer or sslmode=disable if an unencrypted connection is acceptable")]
    TlsRefused {
        /// `host:port`.
        endpoint: String,
        /// The mode that required TLS.
        sslmode: SslMode,
    },
    /// `sslmode` requires TLS and this binary was built without bluefox-runtime's `tls` feature.
    /// Nothing was sent: no connection was opened.
    #[error("DATABASE_URL has sslmode={sslmode}, but this binary was built without bluefox-runtime's `tls` feature, so bluefox did not connect to {endpoint}; enable it (bluefox-runtime = {{ ..., features = [\"tls\"] }}, or keep the default features), or set sslmode=prefer or sslmode=disable if an unencrypted connection is acceptable")]
    TlsNotBuilt {
        /// `host:port`.
        endpoint: String,
        /// The mode that required TLS.
        sslmode: SslMode,
    },
    /// The server's certificate failed verification under `verify-ca` or `verify-full`.
    #[error("the TLS certificate of {endpoint} failed verification under sslmode={sslmode}: {reason}; point sslrootcert in DATABASE_URL at the CA that signed it{hint}")]
    Certificate {
        /// `host:port`.
        endpoint: String,
        /// The mode.
        sslmode: SslMode,
        /// rustls's reason.
        reason: String,
        /// Mode-specific advice.
        hint: &'static str,
    },
    /// Another TLS handshake failure.
    #[error("the TLS handshake with {endpoint} failed under sslmode={sslmode}: {reason}")]
    Tls {
        /// `host:port`.
        endpoint: String,
        /// The mode.
        sslmode: SslMode,
        /// What failed.
        reason: String,
    },
    /// Any other error reported by the server.
    #[error("PostgreSQL at {endpoint} refused the connection for user `{user}`, database `{dbname}`: {message} (SQLSTATE {code})")]
    Server {
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The database.
        dbname: String,
        /// SQLSTATE.
        code: String,
        /// The server's message.
        message: String,
    },
    /// Anything else tokio-postgres reports while connecting.
    #[error("cannot connect to PostgreSQL at {endpoint} as user `{user}`, database `{dbname}`: {message}")]
    Other {
        /// `host:port`.
        endpoint: String,
        /// The user.
        user: String,
        /// The database.
        dbname: String,
        /// tokio-postgres's message (which never includes the password).
        message: String,
    },
}

/// The `tokio_postgres::Config` for `url`, without TLS settings (see [`connect`]).
///
/// # Errors
/// [`ConnectError::UnsupportedDialect`] for a non-PostgreSQL URL.
pub fn config(url: &DatabaseUrl) -> Result<Config, ConnectError> {
    if url.dialect() != Dialect::Postgres {
        return Err(ConnectError::UnsupportedDialect {
            dialect: url.dialect(),
        });
    }
    let mut config = Config::new();
    for host in url.hosts() {
        match &host.host {
            Host::Tcp(name) => config.host(name),
            #[cfg(unix)]
            Host::Socket(dir) => config.host_path(dir),
            #[cfg(not(unix))]
            Host::Socket(dir) => config.host(dir),
        };
        config.port(host.port_or_default());
    }
    if let Some(user) = url.user() {
        config.user(user);
    }
    if let Some(password) = url.password() {
        config.password(password.expose());
    }
    if let Some(dbname) = url.dbname() {
        config.dbname(dbname);
    }
    config.application_name(url.application_name().unwrap_or(APPLICATION_NAME));
    if let Some(timeout) = url.connect_timeout() {
        config.connect_timeout(timeout);
    }
    if let Some(options) = url.options() {
        config.options(options);
    }
    Ok(config)
}

/// Connects to the database `url` names, honouring its `sslmode`, and spawns the connection task
/// on the current tokio runtime.
///
/// # Errors
/// [`ConnectError`], naming host, port, user and database and what to do.
pub async fn connect(url: &DatabaseUrl) -> Result<(Client, ConnectionTask), ConnectError> {
    let (client, driver) = connect_unspawned(url).await?;
    Ok((client, tokio::spawn(driver)))
}

/// [`connect`], handing back the connection's driver instead of spawning it: the caller polls
/// it (alongside its own queries, or with `tokio::spawn`); the client answers nothing while
/// nobody polls it.
///
/// # Errors
/// As [`connect`].
pub async fn connect_unspawned(
    url: &DatabaseUrl,
) -> Result<(Client, ConnectionDriver), ConnectError> {
    let mut config = config(url)?;
    let mode = url.sslmode();
    let context = Context::new(url);
    #[cfg(feature = "tls")]
    let result = {
        let connector = tls::connector(mode, url.sslrootcert())?;
        open_tls(&mut config, mode, connector).await
    };
    #[cfg(not(feature = "tls"))]
    let result = {
        if mode.requires_tls() {
            return Err(ConnectError::TlsNotBuilt {
                endpoint: context.endpoint,
                sslmode: mode,
            });
        }
        // As libpq without SSL support: allow and prefer never ask the server for TLS.
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        open(&config, NoTls).await
    };
    result.map_err(|e| context.classify(&e, mode))
}

/// Connects per `mode` with the connector [`tls::connector`] built for it.
#[cfg(feature = "tls")]
async fn open_tls(
    config: &mut Config,
    mode: SslMode,
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
) -> Result<(Client, ConnectionDriver), tokio_postgres::Error> {
    match (mode, connector) {
        (SslMode::Allow, Some(tls)) => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            match open(config, NoTls).await {
                Err(e)
                    if e.code()
                        == Some(
                            &tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
                        ) =>
                {
                    config.ssl_mode(tokio_postgres::config::SslMode::Prefer);
                    open(config, tls).await
                }
                other => other,
            }
        }
        (_, None) => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            open(config, NoTls).await
        }
        (mode, Some(tls)) => {
            config.ssl_mode(if mode.requires_tls() {
                tokio_postgres::config::SslMode::Require
            } else {
                tokio_postgres::config::SslMode::Prefer
            });
            open(config, tls).await
        }
    }
}

/// Connects; the driver logs how the connection ended.
async fn open<T>(
    config: &Config,
    tls: T,
) -> Result<(Client, ConnectionDriver), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket> + Send,
    T::TlsConnect: Send,
    T::Stream: Send + 'static,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = config.connect(tls).await?;
    Ok((client, driver(connection)))
}

fn driver<S, T>(connection: tokio_postgres::Connection<S, T>) -> ConnectionDriver
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Box::pin(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "bluefox: database connection closed with an error");
        }
    })
}

/// What error messages name: endpoint, user, database.
struct Context {
    endpoint: String,
    user: String,
    dbname: String,
}

impl Context {
    fn new(url: &DatabaseUrl) -> Context {
        let user = url
            .user()
            .map(str::to_owned)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "(your operating-system user)".to_owned());
        let dbname = url.dbname().map_or_else(|| user.clone(), str::to_owned);
        Context {
            endpoint: url.endpoints(),
            user,
            dbname,
        }
    }

    fn classify(&self, error: &tokio_postgres::Error, mode: SslMode) -> ConnectError {
        let endpoint = self.endpoint.clone();
        let user = self.user.clone();
        let dbname = self.dbname.clone();
        if let Some(db) = error.as_db_error() {
            return match db.code().code() {
                "28P01" => ConnectError::WrongPassword { user, endpoint },
                "3D000" => ConnectError::UnknownDatabase {
                    dbname,
                    user,
                    endpoint,
                },
                "28000" => ConnectError::Refused {
                    user,
                    dbname,
                    endpoint,
                    message: db.message().to_owned(),
                },
                code => ConnectError::Server {
                    endpoint,
                    user,
                    dbname,
                    code: code.to_owned(),
                    message: db.message().to_owned(),
                },
            };
        }
        #[cfg(feature = "tls")]
        if let Some(rustls_error) = find::<rustls::Error>(error) {
            return match rustls_error {
                rustls::Error::InvalidCertificate(reason) => ConnectError::Certificate {
                    endpoint,
                    sslmode: mode,
                    reason: describe(reason),
                    hint: if mode == SslMode::VerifyFull {
                        ", and check that the certificate names the host in DATABASE_URL (or use sslmode=verify-ca to skip the host-name check)"
                    } else {
                        ""
                    },
                },
                other => ConnectError::Tls {
                    endpoint,
                    sslmode: mode,
                    reason: other.to_string(),
                },
            };
        }
        let top = error.to_string();
        let source = error.source().map(ToString::to_string).unwrap_or_default();
        if source == "server does not support TLS" {
            return ConnectError::TlsRefused {
                endpoint,
                sslmode: mode,
            };
        }
        if let Some(io_error) = find::<io::Error>(error) {
            let unreachable = matches!(
                io_error.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::NetworkUnreachable
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::NotFound
            ) || top.starts_with("error connecting to server");
            if unreachable {
                return ConnectError::Unreachable {
                    endpoint,
                    reason: io_error.to_string(),
                };
            }
        }
        if source == "password missing" {
            return ConnectError::PasswordMissing { user, endpoint };
        }
        if top.starts_with("error performing TLS handshake") {
            return ConnectError::Tls {
                endpoint,
                sslmode: mode,
                reason: source,
            };
        }
        ConnectError::Other {
            endpoint,
            user,
            dbname,
            message: top,
        }
    }
}

/// A certificate problem in words, with rustls's name for it.
#[cfg(feature = "tls")]
fn describe(reason: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    let words = match reason {
        E::UnknownIssuer => "it is not signed by a trusted certificate authority",
        E::Expired => "it has expired",
        E::NotValidYet => "it is not valid yet",
        E::Revoked => "it has been revoked",
        E::BadSignature => "its signature is invalid",
        _ => return reason.to_string(),
    };
    format!("{words} ({reason:?})")
}

/// The first error of type `E` in `error`'s source chain, looking inside `io::Error`s too.
fn find<E: std::error::Error + 'static>(error: &tokio_postgres::Error) -> Option<&E> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        if let Some(inner) = err
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<E>())
        {
            return Some(inner);
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn config_carries_every_url_field_and_defaults_the_application_name() {
        let config = config(&url(
            "postgresql://app:pw@db:5433,[::1]/shop?connect_timeout=4&options=-c%20x%3D1",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.get_user(), Some("app"));
        assert_eq!(config.get_password(), Some(&b"pw"[..]));
        assert_eq!(config.get_dbname(), Some("shop"));
        assert_eq!(config.get_application_name(), Some("bluefox"));
        assert_eq!(config.get_ports(), &[5433, 5432]);
        assert_eq!(
            config.get_hosts(),
            &[
                tokio_postgres::config::Host::Tcp("db".to_owned()),
                tokio_postgres::config::Host::Tcp("::1".to_owned())
            ]
        );
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(4))
        );
        assert_eq!(config.get_options(), Some("-c x=1"));
        let named = config_of("postgresql://h/db?application_name=worker");
        assert_eq!(named.get_application_name(), Some("worker"));
    }

    fn config_of(text: &str) -> Config {
        config(&url(text)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sqlite_urls_are_refused_by_name() {
        let err = match config(&url("sqlite:///app.db")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("sqlite must be refused"),
        };
        assert_eq!(
            err,
            "DATABASE_URL names a sqlite database, and this connection is PostgreSQL's \
             (postgresql://user@host:5432/dbname); open SQLite with bluefox_runtime::sqlite::open, \
             or boot it with bluefox_runtime::boot_sqlite"
        );
    }
}
