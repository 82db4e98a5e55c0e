//! Test support shared by bluefox's suites: a fresh PostgreSQL database per test, created on
//! the server `TEST_DATABASE_URL` names (default the local development server) and dropped by a
//! guard, also when the test panics.
//!
//! The guard works from synchronous and asynchronous tests alike: its database work runs on a
//! thread of its own with its own runtime, so it never blocks on, or nests inside, the test's.
//! An unreachable server makes the test fail with how to start one: never a vacuous pass.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

/// The server the tests use when `TEST_DATABASE_URL` is unset.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// What a failing test says when the server cannot be reached.
pub const HOW_TO_START: &str = "start PostgreSQL with `pg_ctlcluster --skip-systemctl-redirect \
     $(ls /etc/postgresql) main start`, or point TEST_DATABASE_URL at a server";

/// The administrative URL of the test server (`TEST_DATABASE_URL`, else [`DEFAULT_URL`]).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `url` with its database name replaced by `name` (query parameters kept).
pub fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{authority}/{name}{query}")
}

/// Runs `work` on a thread of its own with a current-thread runtime, and waits for it.
fn on_own_runtime<T: Send + 'static>(
    work: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>
        + Send
        + 'static,
) -> T {
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the test database");
        runtime.block_on(work())
    });
    match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Connects to `url`, panicking with [`HOW_TO_START`] when the server is unreachable.
pub async fn connect(url: &str) -> Client {
    let config: Config = match url.parse() {
        Ok(config) => config,
        Err(e) => panic!("TEST_DATABASE_URL does not parse: {e}"),
    };
    let (client, connection) = match config.connect(NoTls).await {
        Ok(pair) => pair,
        Err(e) => panic!("cannot connect to the test PostgreSQL ({e}); {HOW_TO_START}"),
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test uses at the same time: `<prefix>_<pid>_<nanos>_<counter>`.
pub fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its user replaced by `user`, without a password (the local server trusts TCP).
pub fn with_user(url: &str, user: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = match rest.find('@') {
        Some(at) if at < rest.find('/').unwrap_or(rest.len()) => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{user}@{host}", &url[..scheme_end])
}

/// A fresh database, dropped (with `FORCE`, so open sessions do not keep it) when this guard
/// goes out of scope, together with the roles made through [`TestDb::role`].
#[derive(Debug)]
pub struct TestDb {
    /// The database's name: `<prefix>_<pid>_<nanos>_<n>`.
    pub name: String,
    /// A URL for it, on the test server, as the admin user.
    pub url: String,
    roles: std::sync::Mutex<Vec<String>>,
}

impl TestDb {
    /// Creates a database named after `prefix`; panics with how to start the server when it
    /// is unreachable.
    pub fn new(prefix: &str) -> TestDb {
        let name = unique_name(prefix);
        admin_execute(format!("CREATE DATABASE \"{name}\""));
        let url = with_dbname(&admin_url(), &name);
        TestDb {
            name,
            url,
            roles: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Creates a login role `<prefix>_<unique>` with `attributes` (e.g. `PASSWORD '...'`),
    /// dropped with the database; returns its name.
    pub fn role(&self, prefix: &str, attributes: &str) -> String {
        let role = unique_name(prefix);
        admin_execute(format!("CREATE ROLE \"{role}\" LOGIN {attributes}"));
        self.roles
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(role.clone());
        role
    }

    /// [`TestDb::role`], granted `CREATE` on this database's `public` schema: what a role
    /// needs to migrate there (PostgreSQL 15 grants it to no one but the owner).
    pub fn migrating_role(&self, prefix: &str, attributes: &str) -> String {
        let role = self.role(prefix, attributes);
        self.column(&format!("GRANT CREATE ON SCHEMA public TO \"{role}\""));
        role
    }

    /// The URL of this database as `user`.
    pub fn url_as(&self, user: &str) -> String {
        with_user(&self.url, user)
    }

    /// Connects to this database (from an async test).
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    /// The first column of every row `sql` returns, as text (`NULL` for a null), in order.
    pub fn column(&self, sql: &str) -> Vec<String> {
        let url = self.url.clone();
        let sql = sql.to_string();
        on_own_runtime(move || {
            Box::pin(async move {
                let client = connect(&url).await;
                let messages = match client.simple_query(&sql).await {
                    Ok(messages) => messages,
                    Err(e) => panic!("test query {sql:?} failed: {e}"),
                };
                messages
                    .into_iter()
                    .filter_map(|message| match message {
                        SimpleQueryMessage::Row(row) => {
                            Some(row.get(0).unwrap_or("NULL").to_string())
                        }
                        _ => None,
                    })
                    .collect()
            })
        })
    }

    /// Runs a script with `psql -v ON_ERROR_STOP=1`, as a user applying offline SQL would.
    pub fn psql_file(&self, file: &Path) {
        let output = Command::new("psql")
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-X", "-f"])
            .arg(file)
            .arg(&self.url)
            .output()
            .expect("run psql (install the PostgreSQL client)");
        assert!(
            output.status.success(),
            "psql -f {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Runs one statement on the admin database, failing the test when it fails.
fn admin_execute(sql: String) {
    on_own_runtime(move || {
        Box::pin(async move {
            let admin = connect(&admin_url()).await;
            if let Err(e) = admin.batch_execute(&sql).await {
                panic!("{sql} failed on the test server: {e}");
            }
        })
    });
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let roles = std::mem::take(
            &mut *self
                .roles
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        // One statement each: DROP DATABASE cannot run inside the implicit transaction of a
        // multi-statement batch, and the roles can only go once the database is gone.
        let mut statements = vec![format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )];
        statements.extend(
            roles
                .iter()
                .map(|role| format!("DROP ROLE IF EXISTS \"{role}\"")),
        );
        // Never panic here: Drop may run while a failing test unwinds.
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
                    for statement in statements {
                        let _ = client.batch_execute(&statement).await;
                    }
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbname_is_replaced_and_query_kept() {
        assert_eq!(
            with_dbname("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn a_database_is_created_and_dropped() {
        let db = TestDb::new("bluefox_testdb");
        let name = db.name.clone();
        assert_eq!(db.column("SELECT current_database()"), vec![name.clone()]);
        drop(db);
        let admin = TestDb::new("bluefox_testdb_admin");
        let left = admin.column(&format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
        ));
        assert_eq!(left, vec!["0".to_string()]);
    }

    #[test]
    fn roles_are_dropped_with_the_database() {
        let db = TestDb::new("bluefox_testdb");
        let name = db.name.clone();
        let role = db.role("bluefox_testdb_role", "");
        assert_eq!(
            db.column(&format!(
                "SELECT count(*) FROM pg_roles WHERE rolname = '{role}'"
            )),
            vec!["1".to_string()]
        );
        drop(db);
        let admin = TestDb::new("bluefox_testdb_admin");
        let left = admin.column(&format!(
            "SELECT (SELECT count(*) FROM pg_database WHERE datname = '{name}') \
             + (SELECT count(*) FROM pg_roles WHERE rolname = '{role}')"
        ));
        assert_eq!(left, vec!["0".to_string()]);
    }
}
