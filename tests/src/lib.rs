//! Shared helpers for bluefox's integration tests.
