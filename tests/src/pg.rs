//! PostgreSQL helpers for the fault suite: the test server (`TEST_DATABASE_URL`, default the
//! local `postgres` superuser over TCP), a fresh database per test dropped by a guard (also when
//! the test fails; bluefox-testdb's guard), and hand-built `Embedded` values with refinery's checksums.
//!
//! A server that cannot be reached fails the test with how to start one: these tests never pass
//! vacuously.

use bluefox_core::embedded::{pack, Embedded, EmbeddedMigration, EmbeddedSnapshot};
use bluefox_core::migration_file::MigrationFile;
use tokio_postgres::{Client, Config};

pub use bluefox_testdb::{
    admin_url, connect, unique_name, with_dbname, with_user, TestDb, DEFAULT_URL, HOW_TO_START,
};

/// The `host:port` part of `url`, for key=value connection strings.
pub fn host_and_port(url: &str) -> (String, u16) {
    let config: Config = url.parse().expect("TEST_DATABASE_URL must parse");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

/// The user of [`admin_url`] (`postgres` when it names none).
pub fn admin_user() -> String {
    let config: Config = admin_url().parse().expect("TEST_DATABASE_URL must parse");
    config.get_user().unwrap_or("postgres").to_string()
}

/// Leaks a string: `Embedded` holds `&'static str`s, as the generated code does.
pub fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Builds (and leaks) an `Embedded` from migration files `(file name, contents)`, read by the
/// one migration-file parser and checksummed by refinery itself, with an empty snapshot (no
/// drift check). The same files give the same checksums as a fixture build of them.
pub fn embedded_from_files(files: &[(String, String)]) -> &'static Embedded {
    let mut migrations: Vec<EmbeddedMigration> = files
        .iter()
        .map(|(file_name, contents)| {
            let file = MigrationFile::parse(file_name, contents).expect("a valid migration file");
            let checksum = refinery_core::Migration::unapplied(
                &format!("V{}__{}", file.version, file.name),
                &file.up,
            )
            .expect("refinery reads the name")
            .checksum();
            let parent = match file.parent {
                bluefox_core::migration_file::Parent::Version(v) => Some(v),
                _ => None,
            };
            EmbeddedMigration {
                version: file.version,
                name: leak(file.name.clone()),
                message: leak(file.message.clone().unwrap_or_default()),
                parent,
                file: leak(file_name.clone()),
                up: leak(file.up.clone()),
                down: file.down.clone().map(leak),
                checksum,
            }
        })
        .collect();
    migrations.sort_by_key(|m| m.version);
    let history_digest = leak(bluefox_core::embedded::history_digest(
        migrations.iter().map(|m| (m.version, m.name, m.checksum)),
    ));
    Box::leak(Box::new(Embedded {
        dialect: "postgresql",
        migrations: pack::leak_migrations(migrations).expect("kilobytes of SQL pack"),
        snapshot: EmbeddedSnapshot::EMPTY,
        history_digest,
    }))
}

/// A generated migration file `(name, contents)`: version, slug, parent, up and down SQL.
pub fn migration_file(
    version: i64,
    slug: &str,
    parent: Option<i64>,
    up: &str,
    down: &str,
) -> (String, String) {
    let parent = parent.map_or_else(|| "base".to_string(), |p| p.to_string());
    (
        format!("V{version}__{slug}.sql"),
        format!(
            "-- bluefox: {}\n-- parent: {parent}\n-- bluefox:up\n{up}-- bluefox:down\n{down}",
            slug.replace('_', " ")
        ),
    )
}

/// The versions in `refinery_schema_history`, ascending (empty when it does not exist).
pub async fn history_versions(client: &Client) -> Vec<i64> {
    match client
        .query(
            "SELECT version FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
    {
        Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
        Err(_) => Vec::new(),
    }
}

/// The tables of the `public` schema, sorted.
pub async fn public_tables(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .expect("list the tables")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The columns of `public.<table>`, in order.
pub async fn columns(client: &Client, table: &str) -> Vec<String> {
    client
        .query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .expect("list the columns")
        .iter()
        .map(|r| r.get(0))
        .collect()
}
