//! bluefox-build
pub mod model;
