//! Users of the app.

pub mod models;
