//! bluefox-macros
