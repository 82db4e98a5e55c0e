//! `bluefox_runtime::connect` against the real local PostgreSQL (TEST_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres) and against a scripted fake server for what the
//! local one cannot show (a server without TLS, a wrong password).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use bluefox_core::db_url::{DatabaseUrl, Host, Password, SslMode};
use bluefox_runtime::connect::{connect, ConnectError};
use tokio_postgres::Client;

const CANARY: &str = "Zx9CanaryPw";
const HOW_TO_START: &str = "start it with `pg_ctlcluster --skip-systemctl-redirect \
    $(ls /etc/postgresql) main start`, or point TEST_DATABASE_URL at a server";

/// The test server's URL.
fn base() -> DatabaseUrl {
    let text = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    DatabaseUrl::parse(&text).unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"))
}

/// `host`, `port`, `user`, `dbname` of the test server (TCP).
fn parts() -> (String, u16, String, String) {
    let url = base();
    let host = match &url.hosts()[0].host {
        Host::Tcp(name) => name.clone(),
        Host::Socket(dir) => panic!("TEST_DATABASE_URL must use TCP, not the socket in {dir}"),
    };
    (
        host,
        url.hosts()[0].port_or_default(),
        url.user().unwrap_or("postgres").to_owned(),
        url.dbname().unwrap_or("postgres").to_owned(),
    )
}

/// Parses `text` and gives it the test server's password, if any.
fn url(text: &str) -> DatabaseUrl {
    let mut url = DatabaseUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    if let Some(password) = base().password() {
        url.set_password(password.clone());
    }
    url
}

/// Connects or fails the test with how to start the server.
async fn must_connect(url: &DatabaseUrl) -> Client {
    match connect(url).await {
        Ok((client, _task)) => client,
        Err(e) => panic!("cannot connect to the test PostgreSQL with {url}: {e}; {HOW_TO_START}"),
    }
}

async fn uses_tls(client: &Client) -> bool {
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("pg_stat_ssl: {e}"));
    row.get(0)
}

async fn server_ssl() -> bool {
    let client = must_connect(&base()).await;
    let row = client
        .query_one("SHOW ssl", &[])
        .await
        .unwrap_or_else(|e| panic!("SHOW ssl: {e}"));
    row.get::<_, String>(0) == "on"
}

async fn connect_err(url: &DatabaseUrl) -> ConnectError {
    match connect(url).await {
        Ok(_) => panic!("{url} should not connect"),
        Err(e) => e,
    }
}

fn assert_no_canary(error: &ConnectError) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(CANARY), "password leaked: {text}");
    }
}

#[tokio::test]
async fn every_url_form_connects() {
    let (host, port, user, dbname) = parts();
    let forms = [
        format!("postgres://{user}@{host}:{port}/{dbname}"),
        format!("postgresql://{user}@{host}:{port}/{dbname}"),
        format!("postgresql+asyncpg://{user}@{host}:{port}/{dbname}"),
        format!("postgresql+psycopg://{user}@{host}:{port}/{dbname}"),
        format!("postgres+anything://{user}@{host}:{port}/{dbname}?sslmode=prefer"),
        format!("host={host} port={port} user={user} dbname={dbname}"),
        format!("postgresql://{user}@127.0.0.1:1,{host}:{port}/{dbname}"),
    ];
    for form in &forms {
        let client = must_connect(&url(form)).await;
        let row = client
            .query_one("SELECT current_user::text, current_database()::text", &[])
            .await
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(row.get::<_, String>(0), user, "{form}");
        assert_eq!(row.get::<_, String>(1), dbname, "{form}");
    }
}

#[tokio::test]
async fn unix_socket_form_connects_when_the_socket_exists() {
    let (_, port, user, dbname) = parts();
    let socket = format!("/var/run/postgresql/.s.PGSQL.{port}");
    if !std::path::Path::new(&socket).exists() {
        eprintln!("skipped: no Unix socket at {socket} (TEST_DATABASE_URL names another server)");
        return;
    }
    let client = must_connect(&url(&format!(
        "postgresql://{user}@%2Fvar%2Frun%2Fpostgresql:{port}/{dbname}"
    )))
    .await;
    let row = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.get::<_, String>(0), dbname);
}

#[tokio::test]
async fn application_name_is_bluefox_unless_the_url_sets_one() {
    let (host, port, user, dbname) = parts();
    let query = "SELECT application_name::text FROM pg_stat_activity WHERE pid = pg_backend_pid()";
    let client = must_connect(&url(&format!("postgresql://{user}@{host}:{port}/{dbname}"))).await;
    let row = client
        .query_one(query, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.get::<_, String>(0), "bluefox");
    let client = must_connect(&url(&format!(
        "postgresql://{user}@{host}:{port}/{dbname}?application_name=worker%201"
    )))
    .await;
    let row = client
        .query_one(query, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.get::<_, String>(0), "worker 1");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn sslmodes_against_the_local_server() {
    let (host, port, user, dbname) = parts();
    let ssl = server_ssl().await;
    let with = |mode: SslMode| {
        url(&format!(
            "postgresql://{user}@{host}:{port}/{dbname}?sslmode={mode}"
        ))
    };
    let client = must_connect(&with(SslMode::Disable)).await;
    assert!(!uses_tls(&client).await, "disable must not use TLS");
    let client = must_connect(&with(SslMode::Allow)).await;
    assert!(
        !uses_tls(&client).await,
        "allow starts in plaintext when the server accepts it"
    );
    let client = must_connect(&with(SslMode::Prefer)).await;
    assert_eq!(
        uses_tls(&client).await,
        ssl,
        "prefer uses TLS exactly when the server has it"
    );

    if ssl {
        // The server has TLS (Debian's self-signed snakeoil certificate): require encrypts
        // without verifying; verify-full against the bundled roots must refuse the certificate.
        let client = must_connect(&with(SslMode::Require)).await;
        assert!(uses_tls(&client).await, "require must use TLS");
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let error = connect_err(&with(mode)).await;
            let text = error.to_string();
            assert!(
                matches!(error, ConnectError::Certificate { .. }),
                "{mode}: {text}"
            );
            assert!(
                text.starts_with(&format!(
                    "the TLS certificate of {host}:{port} failed verification under sslmode={mode}: "
                )),
                "{text}"
            );
            assert!(
                text.contains("; point sslrootcert in DATABASE_URL at the CA that signed it"),
                "{text}"
            );
        }
    } else {
        for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
            let error = connect_err(&with(mode)).await;
            assert_eq!(
                error.to_string(),
                format!(
                    "the server at {host}:{port} does not offer TLS, but DATABASE_URL has \
                     sslmode={mode}, so bluefox did not connect; enable ssl on the server, or set \
                     sslmode=prefer or sslmode=disable if an unencrypted connection is acceptable"
                )
            );
        }
    }
}

#[tokio::test]
async fn unknown_database_is_named() {
    let (host, port, user, _) = parts();
    let mut target = url(&format!(
        "postgresql://{user}@{host}:{port}/bluefox_no_such_database"
    ));
    if target.password().is_none() {
        target.set_password(Password::new(CANARY));
    }
    let error = connect_err(&target).await;
    assert_no_canary(&error);
    assert_eq!(
        error.to_string(),
        format!(
            "database `bluefox_no_such_database` does not exist at {host}:{port}; create it \
             (createdb -h HOST -p PORT -U {user} bluefox_no_such_database) or fix the database \
             name in DATABASE_URL"
        )
    );
}

#[tokio::test]
async fn unreachable_port_says_how_to_start_postgresql() {
    let error = connect_err(&url(&format!(
        "postgresql://app:{CANARY}@127.0.0.1:1/app?sslmode=disable"
    )))
    .await;
    assert_no_canary(&error);
    let text = error.to_string();
    assert!(matches!(error, ConnectError::Unreachable { .. }), "{text}");
    assert!(
        text.starts_with("cannot reach PostgreSQL at 127.0.0.1:1: "),
        "{text}"
    );
    assert!(
        text.contains("pg_ctlcluster --skip-systemctl-redirect"),
        "{text}"
    );
    // prefer sends the TLS request first, over the same refused socket: same error.
    let error = connect_err(&url("postgresql://app@127.0.0.1:1/app")).await;
    assert!(matches!(error, ConnectError::Unreachable { .. }), "{error}");
}

/// Parses `text` as is (the fake server's URLs carry their own password, or none).
fn plain(text: &str) -> DatabaseUrl {
    DatabaseUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// What the fake server saw.
#[derive(Debug, Default)]
struct Seen {
    ssl_requested: bool,
    startup: bool,
    password: Option<String>,
}

/// A one-connection fake PostgreSQL without TLS: it answers `N` to an SSLRequest, asks for a
/// cleartext password, and refuses it with SQLSTATE 28P01.
fn fake_server() -> (u16, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    let handle = std::thread::spawn(move || {
        let mut seen = Seen::default();
        let (mut stream, _) = listener.accept().unwrap_or_else(|e| panic!("accept: {e}"));
        let Some(mut first) = read_untyped(&mut stream) else {
            return seen;
        };
        if first == [4, 210, 22, 47] {
            seen.ssl_requested = true;
            stream.write_all(b"N").unwrap_or_else(|e| panic!("{e}"));
            match read_untyped(&mut stream) {
                Some(body) => first = body,
                None => return seen,
            }
        }
        seen.startup = !first.is_empty();
        stream
            .write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut tag = [0u8; 1];
        if stream.read_exact(&mut tag).is_err() {
            return seen;
        }
        if let Some(body) = read_untyped(&mut stream) {
            seen.password = Some(
                String::from_utf8_lossy(&body)
                    .trim_end_matches('\0')
                    .to_owned(),
            );
        }
        let mut fields = Vec::new();
        for (code, value) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"app\""),
        ] {
            fields.push(code);
            fields.extend_from_slice(value.as_bytes());
            fields.push(0);
        }
        fields.push(0);
        let mut message = vec![b'E'];
        message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(&fields);
        let _ = stream.write_all(&message);
        seen
    });
    (port, handle)
}

/// Reads a length-prefixed message without a type byte; `None` at end of stream.
fn read_untyped(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).ok()?;
    let len = u32::from_be_bytes(len) as usize;
    let mut body = vec![0u8; len.saturating_sub(4)];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

fn join(handle: JoinHandle<Seen>) -> Seen {
    handle
        .join()
        .unwrap_or_else(|_| panic!("the fake server panicked"))
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn require_refuses_a_server_without_tls_and_sends_nothing_in_plaintext() {
    for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
        let (port, server) = fake_server();
        let error = connect_err(&plain(&format!(
            "postgresql://app:{CANARY}@127.0.0.1:{port}/app?sslmode={mode}"
        )))
        .await;
        assert_no_canary(&error);
        assert!(matches!(error, ConnectError::TlsRefused { .. }), "{error}");
        assert!(
            error.to_string().starts_with(&format!(
                "the server at 127.0.0.1:{port} does not offer TLS, but DATABASE_URL has sslmode={mode}"
            )),
            "{error}"
        );
        let seen = join(server);
        assert!(seen.ssl_requested);
        assert!(
            !seen.startup,
            "{mode}: a startup message was sent in plaintext"
        );
        assert_eq!(seen.password, None);
    }
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn prefer_falls_back_to_plaintext_when_the_server_declines_tls() {
    let (port, server) = fake_server();
    let error = connect_err(&plain(&format!(
        "postgresql://app:{CANARY}@127.0.0.1:{port}/app?sslmode=prefer"
    )))
    .await;
    let seen = join(server);
    assert!(seen.ssl_requested && seen.startup, "{seen:?}");
    assert!(
        matches!(error, ConnectError::WrongPassword { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_password_names_user_and_endpoint_but_not_the_password() {
    let (port, server) = fake_server();
    let error = connect_err(&plain(&format!(
        "postgresql://app:{CANARY}@127.0.0.1:{port}/app?sslmode=disable"
    )))
    .await;
    let seen = join(server);
    assert!(!seen.ssl_requested);
    assert_eq!(
        seen.password.as_deref(),
        Some(CANARY),
        "the password reaches the server"
    );
    assert_no_canary(&error);
    assert_eq!(
        error.to_string(),
        format!(
            "password authentication failed for user `app` at 127.0.0.1:{port}; check the \
             password in DATABASE_URL (or PGPASSWORD)"
        )
    );
}

#[tokio::test]
async fn a_missing_password_says_where_to_put_it() {
    let (port, server) = fake_server();
    let error = connect_err(&plain(&format!(
        "postgresql://app@127.0.0.1:{port}/app?sslmode=disable"
    )))
    .await;
    let _ = join(server);
    assert_eq!(
        error.to_string(),
        format!(
            "the server at 127.0.0.1:{port} asks for a password for user `app` but none was \
             given; put it in DATABASE_URL (postgresql://app:PASSWORD@host/dbname) or set PGPASSWORD"
        )
    );
}

/// Built without the `tls` feature: the modes that need TLS are refused before any connection
/// is opened, with a message that says why and what to do.
#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn without_the_tls_feature_modes_that_need_tls_are_refused_before_connecting() {
    for mode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let error = connect_err(&plain(&format!(
            "postgresql://app:{CANARY}@127.0.0.1:{port}/app?sslmode={mode}"
        )))
        .await;
        assert_no_canary(&error);
        assert!(
            matches!(error, ConnectError::TlsNotBuilt { sslmode, .. } if sslmode == mode),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "DATABASE_URL has sslmode={mode}, but this binary was built without \
                 bluefox-runtime's `tls` feature, so bluefox did not connect to 127.0.0.1:{port}; \
                 enable it (bluefox-runtime = {{ ..., features = [\"tls\"] }}, or keep the default \
                 features), or set sslmode=prefer or sslmode=disable if an unencrypted connection \
                 is acceptable"
            )
        );
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("{e}"));
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
            Ok(_) => panic!("{mode}: a connection was opened without TLS"),
        }
    }
}

/// Built without the `tls` feature, `prefer` (the default) and `allow` connect in plaintext
/// without asking for TLS, as a libpq built without SSL does; `prefer` is plaintext even
/// against a server that has TLS.
#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn without_the_tls_feature_prefer_and_allow_connect_in_plaintext() {
    for mode in [SslMode::Prefer, SslMode::Allow] {
        let (port, server) = fake_server();
        let error = connect_err(&plain(&format!(
            "postgresql://app:{CANARY}@127.0.0.1:{port}/app?sslmode={mode}"
        )))
        .await;
        let seen = join(server);
        assert!(!seen.ssl_requested, "{mode}: asked for TLS: {seen:?}");
        assert!(seen.startup, "{mode}: {seen:?}");
        assert!(
            matches!(error, ConnectError::WrongPassword { .. }),
            "{error}"
        );
    }
    let (host, port, user, dbname) = parts();
    let ssl = server_ssl().await;
    for mode in [SslMode::Disable, SslMode::Allow, SslMode::Prefer] {
        let client = must_connect(&url(&format!(
            "postgresql://{user}@{host}:{port}/{dbname}?sslmode={mode}"
        )))
        .await;
        assert!(
            !uses_tls(&client).await,
            "{mode} must not use TLS (the server has ssl={ssl})"
        );
    }
    // No sslmode in the URL is prefer.
    let client = must_connect(&url(&format!("postgresql://{user}@{host}:{port}/{dbname}"))).await;
    assert!(!uses_tls(&client).await, "the server has ssl={ssl}");
}
