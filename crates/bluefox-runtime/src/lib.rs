//! bluefox-runtime
