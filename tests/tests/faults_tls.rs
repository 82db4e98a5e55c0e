//! Fault suite, scenario 10 (TLS): against the local server (ssl=on with Debian's snakeoil
//! certificate, `CN=localhost`), `sslmode=require` encrypts; `verify-full` with that certificate
//! as root works for `localhost` and fails for another name (`127.0.0.1`); `verify-ca` and
//! `verify-full` without a root that signed it fail. Against a server that declines TLS,
//! `sslmode=require` fails and sends nothing in plaintext.

use bluefox_core::db_url::DatabaseUrl;
use bluefox_runtime::connect::{connect, ConnectError};
use bluefox_tests::pg::{admin_url, admin_user, host_and_port, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

async fn try_connect(url: &str) -> Result<bool, ConnectError> {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    let (client, _task) = connect(&url).await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("query pg_stat_ssl");
    Ok(row.get(0))
}

#[tokio::test]
async fn tls_modes_against_a_server_with_a_self_signed_certificate() {
    let db = TestDb::new("bluefox_f");
    let admin = db.client().await;
    let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(
        ssl, "on",
        "the test server must have ssl=on (Debian: ssl = on with ssl_cert_file = '{SNAKEOIL}' in postgresql.conf, then restart); this test does not pass without TLS"
    );
    assert!(
        std::path::Path::new(SNAKEOIL).exists(),
        "{SNAKEOIL} is missing: install ssl-cert (make-ssl-cert generate-default-snakeoil)"
    );
    let (_, port) = host_and_port(&admin_url());
    let user = admin_user();
    let url =
        |host: &str, query: &str| format!("postgresql://{user}@{host}:{port}/{}?{query}", db.name);

    assert!(try_connect(&url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap());
    assert!(
        try_connect(&url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}")
        ))
        .await
        .unwrap(),
        "the certificate names localhost and is its own root"
    );
    assert!(
        try_connect(&url(
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}")
        ))
        .await
        .unwrap(),
        "verify-ca does not check the name"
    );

    let wrong_host = try_connect(&url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    ))
    .await
    .expect_err("the certificate does not name 127.0.0.1");
    assert!(
        matches!(wrong_host, ConnectError::Certificate { .. }),
        "{wrong_host:?}"
    );
    let text = wrong_host.to_string();
    assert!(
        text.contains("failed verification under sslmode=verify-full"),
        "{text}"
    );
    for (mode, roots) in [
        ("verify-ca", ""),
        ("verify-full", ""),
        ("verify-ca", "&sslrootcert=system"),
        ("verify-full", "&sslrootcert=system"),
    ] {
        let e = try_connect(&url("localhost", &format!("sslmode={mode}{roots}")))
            .await
            .expect_err("no trusted root signed the snakeoil certificate");
        assert!(
            matches!(e, ConnectError::Certificate { .. }),
            "{mode}: {e:?}"
        );
        assert!(
            e.to_string()
                .contains(&format!("failed verification under sslmode={mode}")),
            "{e}"
        );
    }
}

#[tokio::test]
async fn require_against_a_server_without_tls_fails_and_sends_nothing() {
    // A server that answers the SSLRequest with 'N' (no TLS), then records what follows.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        socket.write_all(b"N").await.unwrap();
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.read_to_end(&mut rest),
        )
        .await;
        (request, rest)
    });
    let e = try_connect(&format!(
        "postgresql://app:Secret123@127.0.0.1:{port}/app?sslmode=require"
    ))
    .await
    .expect_err("no TLS, no connection");
    assert!(matches!(e, ConnectError::TlsRefused { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("does not offer TLS, but DATABASE_URL has sslmode=require"),
        "{e}"
    );
    let (request, rest) = server.await.unwrap();
    // SSLRequest: length 8, code 80877103.
    assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47]);
    assert!(
        rest.is_empty(),
        "sent in plaintext after the refusal: {rest:?}"
    );
}
