//! A loopback TCP relay in front of PostgreSQL that counts round trips: each time the server
//! answers after the client last spoke is one round trip, so a pipelined batch counts once, a
//! query-and-wait loop once per query, and a closing Terminate (no answer) not at all.
//! Connection start-up (startup message, authentication) counts too. Used in a separate,
//! untimed pass.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The counter shared by every relayed connection.
#[derive(Debug, Default)]
pub struct Trips {
    round_trips: AtomicU64,
    connections: AtomicU64,
}

impl Trips {
    /// Round trips counted so far, over all connections.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// Starts the relay to `host:port`; returns the local port and the counter. It runs until the
/// runtime stops.
pub async fn start(host: &str, port: u16) -> Result<(u16, Arc<Trips>), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind the round-trip counter: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("round-trip counter address: {e}"))?
        .port();
    let trips = Arc::new(Trips::default());
    let upstream = format!("{host}:{port}");
    let shared = trips.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            shared.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(relay(client, server, shared.clone()));
        }
    });
    Ok((local, trips))
}

async fn relay(client: TcpStream, server: TcpStream, trips: Arc<Trips>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let last = Arc::new(Mutex::new(Side::Server));
    // The first client message (startup) is awaited by the server's first answer.
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(
        client_read,
        server_write,
        Side::Client,
        last.clone(),
        trips.clone(),
    );
    let down = pump(server_read, client_write, Side::Server, last, trips);
    let _ = tokio::join!(up, down);
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    side: Side,
    last: Arc<Mutex<Side>>,
    trips: Arc<Trips>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Ok(mut last) = last.lock() {
            if side == Side::Server && *last == Side::Client {
                trips.round_trips.fetch_add(1, Ordering::SeqCst);
            }
            *last = side;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
