use super::*;

const CANARY: &str = "Zx9CanaryPw";

fn parse(input: &str) -> DatabaseUrl {
    match DatabaseUrl::parse(input) {
        Ok(url) => url,
        Err(e) => panic!("{input:?} should parse: {e}"),
    }
}

fn err(input: &str) -> DbUrlError {
    match DatabaseUrl::parse(input) {
        Ok(url) => panic!("{input:?} should fail, parsed as {url}"),
        Err(e) => e,
    }
}

fn tcp(host: &str, port: Option<u16>) -> HostPort {
    HostPort {
        host: Host::Tcp(host.to_owned()),
        port,
    }
}

/// The canary never appears in Display, Debug or the redacted form.
fn assert_hidden(url: &DatabaseUrl) {
    for text in [url.to_string(), format!("{url:?}"), url.redacted()] {
        assert!(!text.contains(CANARY), "password leaked: {text}");
    }
}

#[test]
fn every_postgres_scheme_normalises_to_the_same_url() {
    let expected = parse("postgresql://app:pw@db.example.com:5433/shop");
    for scheme in [
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg",
        "postgresql+psycopg2",
        "postgres+anything",
        "PostgreSQL",
    ] {
        let url = parse(&format!("{scheme}://app:pw@db.example.com:5433/shop"));
        assert_eq!(url, expected, "{scheme}");
        assert_eq!(url.dialect(), Dialect::Postgres);
        assert_eq!(
            url.redacted(),
            "postgresql://app:***@db.example.com:5433/shop"
        );
    }
    assert_eq!(expected.user(), Some("app"));
    assert_eq!(expected.password().map(Password::expose), Some("pw"));
    assert_eq!(expected.dbname(), Some("shop"));
    assert_eq!(expected.hosts(), &[tcp("db.example.com", Some(5433))]);
    assert_eq!(expected.sslmode(), SslMode::Prefer);
    assert_eq!(expected.application_name(), None);
}

#[test]
fn defaults_fill_host_and_leave_the_rest_empty() {
    let url = parse("postgresql://");
    assert_eq!(url.hosts(), &[tcp("localhost", None)]);
    assert_eq!(url.hosts()[0].port_or_default(), 5432);
    assert_eq!(url.user(), None);
    assert_eq!(url.password(), None);
    assert_eq!(url.dbname(), None);
    assert_eq!(url.redacted(), "postgresql://localhost/");
    assert_eq!(url.endpoints(), "localhost:5432");
    let url = parse("postgres:///app");
    assert_eq!(url.dbname(), Some("app"));
    assert_eq!(url.hosts(), &[tcp("localhost", None)]);
}

#[test]
fn percent_encoded_userinfo_is_decoded_and_redacted() {
    let url = parse(&format!(
        "postgresql://us%40er:{CANARY}%2F%3A%40%25%20x@localhost/d%20b"
    ));
    assert_eq!(url.user(), Some("us@er"));
    assert_eq!(
        url.password().map(Password::expose),
        Some(format!("{CANARY}/:@% x").as_str())
    );
    assert_eq!(url.dbname(), Some("d b"));
    assert_eq!(url.redacted(), "postgresql://us%40er:***@localhost/d%20b");
    assert_hidden(&url);
}

#[test]
fn unencoded_at_sign_in_the_password_splits_at_the_last_at() {
    let url = parse(&format!("postgresql://app:{CANARY}@x@localhost/app"));
    assert_eq!(
        url.password().map(Password::expose),
        Some(format!("{CANARY}@x").as_str())
    );
    assert_eq!(url.hosts(), &[tcp("localhost", None)]);
}

#[test]
fn password_in_the_query_is_accepted_and_redacted() {
    let url = parse(&format!(
        "postgresql://localhost/app?user=app&password={CANARY}%26"
    ));
    assert_eq!(url.user(), Some("app"));
    assert_eq!(
        url.password().map(Password::expose),
        Some(format!("{CANARY}&").as_str())
    );
    assert_eq!(url.redacted(), "postgresql://app:***@localhost/app");
    assert_hidden(&url);
    let no_user = parse(&format!("postgresql://localhost/app?password={CANARY}"));
    assert_eq!(no_user.redacted(), "postgresql://:***@localhost/app");
}

#[test]
fn query_parameters_are_decoded_and_rendered_in_a_fixed_order() {
    let url = parse(
        "postgresql://app@localhost/app?options=-c%20search_path%3Dshop&connect_timeout=7\
         &application_name=my%20app&sslrootcert=%2Fetc%2Fca.pem&sslmode=verify-full",
    );
    assert_eq!(url.sslmode(), SslMode::VerifyFull);
    assert_eq!(url.sslrootcert(), Some("/etc/ca.pem"));
    assert_eq!(url.application_name(), Some("my app"));
    assert_eq!(url.connect_timeout(), Some(Duration::from_secs(7)));
    assert_eq!(url.options(), Some("-c search_path=shop"));
    assert_eq!(
        url.redacted(),
        "postgresql://app@localhost/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem\
         &application_name=my%20app&connect_timeout=7&options=-c%20search_path%3Dshop"
    );
    assert_eq!(
        parse("postgresql://h/a?connect_timeout=0").connect_timeout(),
        None
    );
}

#[test]
fn every_sslmode_parses_in_both_forms() {
    for mode in SslMode::ALL {
        let url = parse(&format!("postgresql://h/db?sslmode={mode}"));
        assert_eq!(url.sslmode(), mode);
        assert_eq!(
            url.redacted(),
            format!("postgresql://h/db?sslmode={}", mode.as_str())
        );
        let kv = parse(&format!("host=h dbname=db sslmode={mode}"));
        assert_eq!(kv.sslmode(), mode);
        assert_eq!(
            SslMode::from_libpq(&mode.as_str().to_uppercase()),
            Some(mode)
        );
    }
    assert_eq!(
        parse("postgresql+asyncpg://h/db?ssl=require").sslmode(),
        SslMode::Require
    );
    assert!(SslMode::Require.requires_tls());
    assert!(SslMode::VerifyCa.requires_tls());
    assert!(SslMode::VerifyFull.requires_tls());
    assert!(!SslMode::Prefer.requires_tls());
    assert!(!SslMode::Allow.requires_tls());
    assert!(!SslMode::Disable.requires_tls());
}

#[test]
fn invalid_sslmode_names_the_accepted_values() {
    assert_eq!(
        err("postgresql://h/db?sslmode=required").to_string(),
        "DATABASE_URL has an invalid sslmode `required`; accepted: disable, allow, prefer, \
         require, verify-ca, verify-full"
    );
}

#[test]
fn ipv6_hosts_keep_their_port() {
    let url = parse("postgresql://app@[::1]:5433/app");
    assert_eq!(url.hosts(), &[tcp("::1", Some(5433))]);
    assert_eq!(url.redacted(), "postgresql://app@[::1]:5433/app");
    assert_eq!(url.endpoints(), "[::1]:5433");
    let url = parse("postgresql://[2001:db8::1]/app");
    assert_eq!(url.hosts(), &[tcp("2001:db8::1", None)]);
    assert_eq!(err("postgresql://[::1/app"), DbUrlError::UnclosedIpv6);
    let kv = parse("host=::1 port=6000");
    assert_eq!(kv.hosts(), &[tcp("::1", Some(6000))]);
}

#[test]
fn multiple_hosts_pair_with_ports() {
    let url = parse("postgresql://a:5433,b,[::1]:5435/app");
    assert_eq!(
        url.hosts(),
        &[tcp("a", Some(5433)), tcp("b", None), tcp("::1", Some(5435))]
    );
    assert_eq!(url.redacted(), "postgresql://a:5433,b,[::1]:5435/app");
    assert_eq!(url.endpoints(), "a:5433, b:5432, [::1]:5435");
    let kv = parse("host=a,b port=6000");
    assert_eq!(kv.hosts(), &[tcp("a", Some(6000)), tcp("b", Some(6000))]);
    let kv = parse("host=a,b port=6000,6001");
    assert_eq!(kv.hosts(), &[tcp("a", Some(6000)), tcp("b", Some(6001))]);
    assert_eq!(
        err("host=a,b port=1,2,3"),
        DbUrlError::PortCount { hosts: 2, ports: 3 }
    );
}

#[test]
fn unix_socket_directories_are_recognised() {
    let url = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/app");
    assert_eq!(
        url.hosts(),
        &[HostPort {
            host: Host::Socket("/var/run/postgresql".to_owned()),
            port: None
        }]
    );
    assert_eq!(url.redacted(), "postgresql://%2Fvar%2Frun%2Fpostgresql/app");
    assert_eq!(
        url.endpoints(),
        "/var/run/postgresql (Unix socket, port 5432)"
    );
    let query = parse("postgresql:///app?host=/tmp&port=5433");
    assert_eq!(
        query.hosts(),
        &[HostPort {
            host: Host::Socket("/tmp".to_owned()),
            port: Some(5433)
        }]
    );
}

#[test]
fn key_value_strings_parse_like_libpq() {
    let url = parse(&format!(
        "host=db.example.com port = 5433 user=app password='{CANARY} it\\'s' dbname=shop \
         sslmode=require application_name=worker connect_timeout=5 options='-c x=1'"
    ));
    assert_eq!(url.dialect(), Dialect::Postgres);
    assert_eq!(url.hosts(), &[tcp("db.example.com", Some(5433))]);
    assert_eq!(url.user(), Some("app"));
    assert_eq!(
        url.password().map(Password::expose),
        Some(format!("{CANARY} it's").as_str())
    );
    assert_eq!(url.dbname(), Some("shop"));
    assert_eq!(url.sslmode(), SslMode::Require);
    assert_eq!(url.application_name(), Some("worker"));
    assert_eq!(url.options(), Some("-c x=1"));
    assert_eq!(
        url.redacted(),
        "postgresql://app:***@db.example.com:5433/shop?sslmode=require\
         &application_name=worker&connect_timeout=5&options=-c%20x%3D1"
    );
    assert_hidden(&url);
    let escaped = parse("user=a\\ b dbname=x");
    assert_eq!(escaped.user(), Some("a b"));
}

#[test]
fn key_value_syntax_errors_say_where() {
    assert_eq!(
        err("host=a dbname"),
        DbUrlError::KeyValueSyntax {
            problem: "a key without `=` and a value",
            position: 7
        }
    );
    assert_eq!(
        err("host='a"),
        DbUrlError::KeyValueSyntax {
            problem: "an unterminated quote",
            position: 5
        }
    );
}

#[test]
fn unknown_parameters_are_rejected_with_the_accepted_list() {
    let e = err("postgresql://h/db?ssl_mode=require");
    assert_eq!(
        e.to_string(),
        format!(
            "DATABASE_URL has an unknown parameter `ssl_mode`; accepted: {ACCEPTED_PARAMETERS}"
        )
    );
    assert_eq!(
        err("host=h frobnicate=1"),
        DbUrlError::UnknownParameter {
            name: Shown(Some("frobnicate".to_owned()))
        }
    );
}

#[test]
fn sqlite_is_recognised_as_a_dialect() {
    for (input, location) in [
        ("sqlite:///app.db", "///app.db"),
        ("sqlite::memory:", ":memory:"),
        ("sqlite+aiosqlite:////abs/app.db", "////abs/app.db"),
        ("sqlite3:app.db", "app.db"),
    ] {
        let url = parse(input);
        assert_eq!(url.dialect(), Dialect::Sqlite, "{input}");
        assert_eq!(url.dbname(), Some(location));
        assert_eq!(url.redacted(), format!("sqlite:{location}"));
    }
    assert_eq!(
        Dialect::from_scheme("SQLITE+pysqlite"),
        Some(Dialect::Sqlite)
    );
    assert_eq!(Dialect::from_scheme("mysql"), None);
    assert_eq!(Dialect::Postgres.to_string(), "postgresql");
}

#[test]
fn unknown_schemes_name_the_scheme_and_the_accepted_forms() {
    let e = err(&format!("mysql://root:{CANARY}@localhost/app"));
    assert_eq!(
        e.to_string(),
        format!("DATABASE_URL scheme `mysql:` is not supported; accepted: {ACCEPTED_FORMS}")
    );
    assert!(!e.to_string().contains(CANARY));
}

#[test]
fn malformed_input_is_a_typed_error() {
    assert_eq!(err("   "), DbUrlError::Empty);
    assert_eq!(err("just words"), DbUrlError::NotAUrl);
    assert_eq!(
        err("postgresql:localhost/app"),
        DbUrlError::MissingSlashes {
            scheme: "postgresql".to_owned()
        }
    );
    assert_eq!(
        err("postgresql://h:99999/app").to_string(),
        "DATABASE_URL has an invalid port `99999`: expected a number from 1 to 65535"
    );
    assert_eq!(
        err("postgresql://h:0/app"),
        DbUrlError::InvalidPort {
            value: Shown(Some("0".to_owned())),
            hint: ""
        }
    );
    assert_eq!(
        err("postgresql://u:p%zz@h/app"),
        DbUrlError::InvalidPercentEncoding {
            component: "password"
        }
    );
    assert_eq!(
        err("postgresql://u:%ff@h/app"),
        DbUrlError::InvalidUtf8 {
            component: "password"
        }
    );
    assert_eq!(
        err("postgresql://h/app?connect_timeout=soon").to_string(),
        "DATABASE_URL has an invalid connect_timeout `soon`: expected whole seconds, such as 10"
    );
}

#[test]
fn errors_never_quote_a_password_fragment() {
    // Each input carries the canary somewhere a sloppy parser would echo it.
    let inputs = [
        format!("postgresql://app:{CANARY}/x@localhost/app"),
        format!("postgresql://app:pw@localhost/app?password=a&{CANARY}"),
        format!("postgresql://app:pw@localhost/app?sslmode={CANARY}"),
        format!("postgresql://app:pw@localhost/app?{CANARY}=1"),
        format!("postgresql://localhost/app?password=x&{CANARY}=1"),
        format!("host=h password=a {CANARY}"),
        format!("host=h password=a {CANARY}=b"),
        format!("host=h password=x sslmode={CANARY}"),
        format!("host=h port={CANARY} password=x"),
        format!("postgresql://app:x@h/app?connect_timeout={CANARY}"),
    ];
    for input in &inputs {
        let e = err(input);
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(CANARY), "{input:?} leaked: {text}");
        }
    }
    assert_eq!(
        err(&format!("postgresql://app:{CANARY}/x@localhost/app")).to_string(),
        "DATABASE_URL has an invalid port (value not shown: DATABASE_URL carries a password): \
         expected a number from 1 to 65535; if the password contains / ? # @ : or %, \
         percent-encode it (/ is %2F)"
    );
}

#[test]
fn password_wrapper_never_prints_itself() {
    let password = Password::new(CANARY);
    assert_eq!(format!("{password}"), "***");
    assert_eq!(format!("{password:?}"), "***");
    assert_eq!(password.expose(), CANARY);
    let mut url = parse("postgresql://app@localhost/app");
    url.set_password(password);
    assert_eq!(url.redacted(), "postgresql://app:***@localhost/app");
    assert_hidden(&url);
    assert!(format!("{url:?}").contains("password: Some(***)"));
}
