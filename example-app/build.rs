//! Reads the models, warns about what no migration captures, and embeds both migration sets:
//! `migrations/` (PostgreSQL, `embedded!()`) and `migrations-sqlite/` (SQLite,
//! `embedded!("migrations-sqlite")`). Naming each set's dialect means DATABASE_URL is not
//! consulted here: the app picks a set at run time.

use bluefox_build::{Builder, Dialect};

fn main() {
    Builder::from_env().dialect(Dialect::Postgres).configure();
    Builder::from_env()
        .migrations_dir("migrations-sqlite")
        .dialect(Dialect::Sqlite)
        .configure();
}
