//! The migration lock: a session-level PostgreSQL advisory lock, taken by polling
//! `pg_try_advisory_lock` until a deadline.
//!
//! A blocking `pg_advisory_lock` would wait forever behind a session that is itself waiting (for
//! example on `CREATE INDEX CONCURRENTLY`, which waits for every other transaction), so bluefox
//! never blocks: it polls with a growing pause and, when the deadline passes, names the session
//! that holds the key. Advisory locks are scoped to the current database, so two databases on one
//! server never contend. The lock belongs to the connection: callers release it explicitly on
//! every path, and closing the connection releases it too.

use crate::error::{Error, LockHolder};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, SimpleQueryMessage};

/// The advisory lock key every bluefox migrator uses: the 64-bit FNV-1a hash of `"bluefox"`.
pub const LOCK_KEY: i64 = fnv1a(b"bluefox") as i64;

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

/// Takes the migration lock on `client`, polling until `timeout` has passed.
///
/// # Errors
/// [`Error::LockTimeout`] naming the holder when the deadline passes; [`Error::Database`] when a
/// query fails.
pub async fn acquire(client: &Client, timeout: Duration) -> Result<(), Error> {
    let started = Instant::now();
    let query = format!("SELECT pg_try_advisory_lock({LOCK_KEY})");
    let mut pause = FIRST_PAUSE;
    loop {
        let taken = first_value(client, &query, "take the migration lock").await?;
        if taken.as_deref() == Some("t") {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                waited,
                key: LOCK_KEY,
                holder: holder(client).await?,
            });
        }
        tokio::time::sleep(pause.min(timeout - waited)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Releases the migration lock taken by [`acquire`] on this connection.
///
/// # Errors
/// [`Error::Database`] when the query fails (the lock is then released when the connection
/// closes).
pub async fn release(client: &Client) -> Result<(), Error> {
    let query = format!("SELECT pg_advisory_unlock({LOCK_KEY})");
    first_value(client, &query, "release the migration lock").await?;
    Ok(())
}

/// The session holding the lock, from `pg_locks` joined with `pg_stat_activity`.
async fn holder(client: &Client) -> Result<Option<LockHolder>, Error> {
    let key = LOCK_KEY as u64;
    let (high, low) = (key >> 32, key & 0xffff_ffff);
    let query = format!(
        "SELECT l.pid, coalesce(a.application_name, ''), \
         extract(epoch FROM now() - a.backend_start)::float8, coalesce(a.state, '') \
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.classid = {high}::oid AND l.objid = {low}::oid AND l.objsubid = 1 \
         AND l.pid <> pg_backend_pid() LIMIT 1"
    );
    let messages = client
        .simple_query(&query)
        .await
        .map_err(|e| Error::db("find the session holding the migration lock", &e))?;
    for message in messages {
        if let SimpleQueryMessage::Row(row) = message {
            let Some(pid) = row.get(0).and_then(|p| p.parse().ok()) else {
                continue;
            };
            return Ok(Some(LockHolder {
                pid,
                application_name: row.get(1).unwrap_or_default().to_string(),
                connected_for: row
                    .get(2)
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64),
                state: row.get(3).unwrap_or_default().to_string(),
            }));
        }
    }
    Ok(None)
}

async fn first_value(
    client: &Client,
    query: &str,
    action: &'static str,
) -> Result<Option<String>, Error> {
    let messages = client
        .simple_query(query)
        .await
        .map_err(|e| Error::db(action, &e))?;
    Ok(messages.into_iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_the_fnv1a_hash_of_bluefox() {
        // FNV-1a 64 of the empty string is the offset basis; of "a" a published test vector.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(LOCK_KEY, fnv1a(b"bluefox") as i64);
    }
}
