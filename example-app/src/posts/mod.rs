//! Posts, written by users.

pub mod models;
