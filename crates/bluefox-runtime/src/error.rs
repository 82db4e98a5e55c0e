//! The runtime's error type: every failure of connecting, locking or migrating.

/// Everything that can go wrong at boot or in a migrator command. Messages say what to do and
/// never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder while the runtime is built (issue 3).
    #[error("{0}")]
    Other(String),
}
