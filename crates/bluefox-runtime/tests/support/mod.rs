//! Shared helpers for the PostgreSQL tests: a fresh database per test (dropped by a guard, also
//! on failure), hand-built `Embedded` values with refinery's checksums, and a catalog dump.
#![allow(dead_code)]

use bluefox_runtime::{Embedded, EmbeddedMigration, EmbeddedSnapshot, EmbeddedTable};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_postgres::{Client, Config, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const HOW_TO_START: &str = "start PostgreSQL with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set TEST_DATABASE_URL)";

/// The server the tests use (`TEST_DATABASE_URL`, default the local postgres).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// Connects with `NoTls`, panicking with how to start the server when it is unreachable.
pub async fn connect(url: &str) -> Client {
    let config: Config = url.parse().expect("TEST_DATABASE_URL must parse");
    let (client, connection) = match config.connect(NoTls).await {
        Ok(pair) => pair,
        Err(e) => panic!("cannot connect to the test PostgreSQL ({e}); {HOW_TO_START}"),
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A fresh database `bluefox_t_<random>`, dropped when the guard goes out of scope.
pub struct TestDb {
    /// The database's name.
    pub name: String,
    /// A URL for it.
    pub url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// Creates the database.
    pub async fn new() -> TestDb {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "bluefox_t_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("CREATE DATABASE for the test");
        let url = with_dbname(&admin_url(), &name);
        TestDb { name, url }
    }

    /// A new connection to the test database.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(config) = admin_url().parse::<Config>() else {
                    return;
                };
                if let Ok((client, connection)) = config.connect(NoTls).await {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A migration for a hand-built `Embedded`: version, name, up, down.
pub type Spec = (i64, &'static str, &'static str, Option<&'static str>);

/// Builds (and leaks) an `Embedded` from specs, with refinery's checksums and a linear parent
/// chain, plus a snapshot of `tables`.
pub fn embedded(specs: &[Spec], tables: &'static [EmbeddedTable]) -> &'static Embedded {
    let mut parent = None;
    let migrations: Vec<EmbeddedMigration> = specs
        .iter()
        .map(|&(version, name, up, down)| {
            let checksum = refinery_core::Migration::unapplied(&format!("V{version}__{name}"), up)
                .expect("valid refinery name")
                .checksum();
            let file: &'static str = Box::leak(format!("V{version}__{name}.sql").into_boxed_str());
            let m = EmbeddedMigration {
                version,
                name,
                message: name,
                parent,
                file,
                up,
                down,
                checksum,
            };
            parent = Some(version);
            m
        })
        .collect();
    Box::leak(Box::new(Embedded {
        dialect: "postgresql",
        migrations: Box::leak(migrations.into_boxed_slice()),
        snapshot: EmbeddedSnapshot {
            text: "",
            fingerprint: 0,
            tables,
        },
    }))
}

pub const V1: i64 = 20261130000001;
pub const V2: i64 = 20261130000002;
pub const V3: i64 = 20261130000003;

pub const USERS: Spec = (
    V1,
    "add_users",
    "CREATE TABLE \"users\" (\n    \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n    \"email\" TEXT NOT NULL\n);\n",
    Some("DROP TABLE \"users\";\n"),
);
pub const POSTS: Spec = (
    V2,
    "add_posts",
    "CREATE TABLE \"posts\" (\n    \"id\" BIGINT PRIMARY KEY,\n    \"user_id\" BIGINT NOT NULL REFERENCES \"users\" (\"id\"),\n    \"title\" VARCHAR(80) NOT NULL\n);\n",
    Some("DROP TABLE \"posts\";\n"),
);
pub const BIO: Spec = (
    V3,
    "add_users_bio",
    "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;\n",
    Some("ALTER TABLE \"users\" DROP COLUMN \"bio\";\n"),
);

/// The three standard migrations, no snapshot.
pub fn three() -> &'static Embedded {
    embedded(&[USERS, POSTS, BIO], &[])
}

/// Every table and column of the public schema except the history tables:
/// `table.column type NULL|NOT NULL`, sorted.
pub async fn catalog(client: &Client) -> Vec<String> {
    let rows = client
        .query(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text \
             FROM information_schema.columns c \
             WHERE c.table_schema = 'public' \
             AND c.table_name NOT IN ('refinery_schema_history', 'bluefox_down_sql') \
             ORDER BY 1, 2",
            &[],
        )
        .await
        .expect("catalog query");
    rows.iter()
        .map(|r| {
            let nullable: String = r.get(3);
            format!(
                "{}.{} {} {}",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                if nullable == "YES" {
                    "NULL"
                } else {
                    "NOT NULL"
                }
            )
        })
        .collect()
}

/// The history table's (version, name, checksum) rows, ascending.
pub async fn history_rows(client: &Client) -> Vec<(i64, String, String)> {
    client
        .query(
            "SELECT version, name, checksum FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        })
        .unwrap_or_default()
}

/// Versions of a report list.
pub fn versions<T>(items: &[T], version: impl Fn(&T) -> i64) -> Vec<i64> {
    items.iter().map(version).collect()
}
