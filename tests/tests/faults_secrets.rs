//! Fault suite, scenario 9 (secrets): a canary password, given in every form bluefox accepts
//! (URL userinfo, percent-encoded, `?password=`, key=value, `PGPASSWORD`, a driver-suffixed
//! scheme, with TLS), never appears in the app's stdout or stderr at `RUST_LOG=trace`, in the
//! Debug text of the settings, in any error (unknown database, unreachable port, malformed
//! URL), in `history` or in offline SQL. The local server trusts TCP, so the password is not
//! checked by the server; what is checked is every text bluefox produces.

use bluefox_core::db_url::DatabaseUrl;
use bluefox_runtime::settings::Settings;
use bluefox_runtime::{offline, Migrator, Target};
use bluefox_tests::herd::{self, Run};
use bluefox_tests::pg::{admin_url, embedded_from_files, host_and_port, TestDb};

/// The canary: characters that need percent-encoding in a URL, so both forms are searched.
const CANARY: &str = "Cnry7Pw@x:y/z%Q";
const CANARY_ENCODED: &str = "Cnry7Pw%40x%3Ay%2Fz%25Q";
/// Its distinctive start, in case a form is cut or re-encoded differently.
const CANARY_STEM: &str = "Cnry7Pw";

fn assert_clean(what: &str, text: &str) {
    for needle in [CANARY, CANARY_ENCODED, CANARY_STEM] {
        assert!(
            !text.contains(needle),
            "{what} shows the password ({needle}):\n{text}"
        );
    }
}

struct Forms {
    /// (label, DATABASE_URL, PGPASSWORD, should boot)
    cases: Vec<(&'static str, String, Option<&'static str>, bool)>,
}

fn forms(role: &str, db: &str) -> Forms {
    let (host, port) = host_and_port(&admin_url());
    let cases = vec![
        (
            "userinfo",
            format!("postgresql://{role}:{CANARY_ENCODED}@{host}:{port}/{db}"),
            None,
            true,
        ),
        (
            "postgres scheme",
            format!("postgres://{role}:{CANARY_ENCODED}@{host}:{port}/{db}"),
            None,
            true,
        ),
        (
            "driver suffix",
            format!("postgresql+asyncpg://{role}:{CANARY_ENCODED}@{host}:{port}/{db}"),
            None,
            true,
        ),
        (
            "query password",
            format!("postgresql://{role}@{host}:{port}/{db}?password={CANARY_ENCODED}"),
            None,
            true,
        ),
        (
            "key=value",
            format!("host={host} port={port} user={role} password='{CANARY}' dbname={db}"),
            None,
            true,
        ),
        (
            "PGPASSWORD",
            format!("postgresql://{role}@{host}:{port}/{db}"),
            Some(CANARY),
            true,
        ),
        (
            "TLS",
            format!("postgresql://{role}:{CANARY_ENCODED}@{host}:{port}/{db}?sslmode=require"),
            None,
            true,
        ),
        (
            "unknown database",
            format!("postgresql://{role}:{CANARY_ENCODED}@{host}:{port}/{db}_missing"),
            None,
            false,
        ),
        (
            "unreachable port",
            format!("postgresql://{role}:{CANARY_ENCODED}@127.0.0.1:1/{db}"),
            None,
            false,
        ),
        (
            "malformed port",
            format!("postgresql://{role}:{CANARY_ENCODED}@{host}:notaport/{db}"),
            None,
            false,
        ),
        (
            "malformed key=value",
            format!("host={host} user={role} password='{CANARY} dbname={db}"),
            None,
            false,
        ),
        (
            "unknown sslmode",
            format!("postgresql://{role}:{CANARY_ENCODED}@{host}:{port}/{db}?sslmode=sometimes"),
            None,
            false,
        ),
    ];
    Forms { cases }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_never_shows_in_any_output() {
    let db = TestDb::new("bluefox_f");
    let role = db.role(
        "bluefox_canary",
        &format!("PASSWORD '{}'", CANARY.replace('\'', "''")),
    );
    let admin = db.client().await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{0}\" OWNER TO \"{role}\"; ALTER SCHEMA public OWNER TO \"{role}\"",
            db.name
        ))
        .await
        .unwrap();
    let forms = forms(&role, &db.name);
    let mut booted = 0;
    for (label, url, pgpassword, should_boot) in forms.cases.clone() {
        let run: Run = tokio::task::spawn_blocking(move || {
            let mut envs = vec![("RUST_LOG", "trace"), ("HERD_PRINT_SETTINGS", "1")];
            if let Some(p) = pgpassword {
                envs.push(("PGPASSWORD", p));
            }
            herd::app().run(&url, &envs)
        })
        .await
        .unwrap();
        if should_boot {
            run.assert_booted();
            booted += 1;
        } else {
            assert_ne!(run.code, Some(0), "{label} should fail:\n{}", run.all());
            assert!(!run.stderr.contains("panicked"), "{label}:\n{}", run.all());
        }
        assert!(run.stdout.contains("settings "), "{label}:\n{}", run.all());
        assert_clean(&format!("the app's output ({label})"), &run.all());

        // The same settings in process: Debug, the redacted URL, and connection errors.
        let (_, url, pgpassword, _) = forms.cases.iter().find(|c| c.0 == label).unwrap();
        let settings = Settings::from_lookup(|name| match name {
            "DATABASE_URL" => Some(url.clone()),
            "PGPASSWORD" => pgpassword.map(str::to_string),
            _ => None,
        });
        match settings {
            Ok(settings) => {
                if should_boot {
                    // The server trusts TCP, so a boot alone would not show the password was
                    // read: check it reached the settings, through every form.
                    assert_eq!(
                        settings.database_url.password().map(|p| p.expose()),
                        Some(CANARY),
                        "{label}: the password was not read"
                    );
                }
                assert_clean(label, &format!("{settings:?}"));
                assert_clean(label, &settings.database_url.redacted());
                assert_clean(label, &format!("{:?}", settings.database_url));
                if let Err(e) = bluefox_runtime::connect::connect(&settings.database_url).await {
                    assert_clean(label, &format!("{e} / {e:?}"));
                }
            }
            Err(e) => assert_clean(label, &format!("{e} / {e:?}")),
        }
        if let Err(e) = DatabaseUrl::parse(url) {
            assert_clean(label, &format!("{e} / {e:?}"));
        }
    }
    assert_eq!(booted, 7);

    // history and offline SQL, read through a connection made from the canary URL.
    let url = DatabaseUrl::parse(&forms.cases[0].1).unwrap();
    let (client, _task) = bluefox_runtime::connect::connect(&url).await.unwrap();
    let embedded = embedded_from_files(&herd::migrations());
    let migrator = Migrator::new(&client, embedded);
    assert_clean(
        "history",
        &format!("{:?}", migrator.history().await.unwrap()),
    );
    assert_clean(
        "current",
        &format!("{:?}", migrator.current().await.unwrap()),
    );
    let sql = offline::upgrade_sql(embedded, None, Target::Head).unwrap();
    assert_clean("offline SQL", &sql);
}
