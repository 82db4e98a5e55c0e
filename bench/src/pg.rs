//! The PostgreSQL side of the harness: the server's address, fresh databases, and the counters
//! read around each run (transactions of the database, WAL bytes and syncs of the server).

use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Where the server is, parsed from a `postgres://user[:password]@host[:port]/db` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `user` or `user:password`.
    pub userinfo: String,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The database the harness administers from (creates and drops the others).
    pub admin_db: String,
}

impl Server {
    /// Parses the URL (only the forms above; query parameters are ignored).
    pub fn parse(url: &str) -> Result<Server, String> {
        let bad = || {
            format!(
                "cannot read database URL {:?}: expected postgres://user@host:port/db",
                redact(url)
            )
        };
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(bad)?;
        let rest = rest.split('?').next().unwrap_or_default();
        let (authority, db) = rest.split_once('/').unwrap_or((rest, "postgres"));
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .unwrap_or(("postgres", authority));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (hostport, 5432),
        };
        Ok(Server {
            userinfo: userinfo.to_string(),
            host: host.to_string(),
            port,
            admin_db: if db.is_empty() {
                "postgres".into()
            } else {
                db.to_string()
            },
        })
    }

    /// The URL of database `db` on this server (TLS off, so every contender speaks plain TCP).
    pub fn url(&self, db: &str) -> String {
        self.url_via(db, self.port)
    }

    /// The URL of `db` through another port on the same host (the round-trip counter).
    pub fn url_via(&self, db: &str, port: u16) -> String {
        format!(
            "postgres://{}@{}:{port}/{db}?sslmode=disable",
            self.userinfo, self.host
        )
    }
}

/// `url` with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The admin connection.
pub struct Admin {
    client: Client,
    server: Server,
}

/// Server counters read before and after a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// `pg_current_wal_lsn()` as a byte position.
    pub wal_lsn: u64,
    /// `pg_stat_wal.wal_sync`: WAL flushes to disk.
    pub wal_sync: u64,
    /// `pg_stat_database.xact_commit` of the run's database.
    pub commits: u64,
}

/// What the server did for one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Work {
    /// Transactions committed in the run's database (read-only ones included).
    pub commits: u64,
    /// WAL syncs of the whole server during the run.
    pub wal_syncs: u64,
    /// WAL bytes of the whole server during the run.
    pub wal_bytes: u64,
}

impl Admin {
    /// Connects to the admin database.
    pub async fn connect(server: &Server) -> Result<Admin, String> {
        let url = server.url(&server.admin_db);
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.map_err(|e| {
            format!(
                "cannot connect to {}: {e}; start PostgreSQL or pass --url (or BENCH_DATABASE_URL)",
                redact(&url)
            )
        })?;
        tokio::spawn(connection);
        Ok(Admin {
            client,
            server: server.clone(),
        })
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    async fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or_default().to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    async fn number(&self, sql: &str) -> Result<u64, String> {
        let rows = self.rows(sql).await?;
        let text = rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or_default();
        text.parse::<u64>()
            .map_err(|_| format!("{sql}: expected a number, got {text:?}"))
    }

    /// The server's version line.
    pub async fn version(&self) -> Result<String, String> {
        let rows = self.rows("SELECT version()").await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or_default())
    }

    /// A setting's value.
    pub async fn setting(&self, name: &str) -> Result<String, String> {
        let rows = self.rows(&format!("SHOW {name}")).await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or_default())
    }

    /// Drops `db` if it exists (ending its sessions) and creates it empty.
    pub async fn fresh(&self, db: &str) -> Result<(), String> {
        self.drop_db(db).await?;
        self.client
            .batch_execute(&format!("CREATE DATABASE \"{db}\""))
            .await
            .map_err(|e| format!("create database {db}: {e}"))
    }

    /// Drops `db` if it exists.
    pub async fn drop_db(&self, db: &str) -> Result<(), String> {
        self.client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .await
            .map_err(|e| format!("drop database {db}: {e}"))
    }

    /// Reads the server-wide counters and the commits of database `db`.
    pub async fn counters(&self, db: &str) -> Result<Counters, String> {
        let rows = self
            .rows(&format!(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, \
                 (SELECT wal_sync FROM pg_stat_wal), \
                 coalesce((SELECT xact_commit FROM pg_stat_database WHERE datname = '{db}'), 0)"
            ))
            .await?;
        let row = rows.first().cloned().unwrap_or_default();
        let n = |i: usize| row.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(Counters {
            wal_lsn: n(0),
            wal_sync: n(1),
            commits: n(2),
        })
    }

    /// Waits (up to 5 s) until no session is connected to `db`, so its statistics are flushed,
    /// then returns what the run did: the database's commits and the server's WAL since `before`.
    pub async fn work_since(&self, db: &str, before: Counters) -> Result<Work, String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let active = format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'");
        while self.number(&active).await? > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let after = self.counters(db).await?;
        Ok(Work {
            commits: after.commits.saturating_sub(before.commits),
            wal_syncs: after.wal_sync.saturating_sub(before.wal_sync),
            wal_bytes: after.wal_lsn.saturating_sub(before.wal_lsn),
        })
    }

    /// Runs one query in `db` over a connection of its own and returns the first column of
    /// the first row (used to check what a contender left behind).
    pub async fn query_in(&self, db: &str, sql: &str) -> Result<String, String> {
        let (client, connection) = tokio_postgres::connect(&self.server.url(db), NoTls)
            .await
            .map_err(|e| format!("connect to {db}: {e}"))?;
        tokio::spawn(connection);
        let messages = client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        Ok(messages
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rebuilds_urls() {
        let s = Server::parse("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
        assert_eq!(
            s.url("bench_a"),
            "postgres://postgres@127.0.0.1:5432/bench_a?sslmode=disable"
        );
        assert_eq!(
            s.url_via("x", 40000),
            "postgres://postgres@127.0.0.1:40000/x?sslmode=disable"
        );
        let s = Server::parse("postgresql://u:p@db/app?sslmode=require").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.admin_db.as_str()),
            ("db", 5432, "app")
        );
        assert!(Server::parse("mysql://x").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
