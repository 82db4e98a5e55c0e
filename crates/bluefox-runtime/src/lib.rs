//! bluefox-runtime: applies the migrations that build.rs embedded, when the application boots.
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> Result<(), bluefox_runtime::Error> {
//!     let db = bluefox_runtime::boot(bluefox_runtime::embedded!()).await?;
//!     Ok(())
//! }
//! ```
//!
//! On SQLite (`DATABASE_URL=sqlite://app.db`, migrations made with `bluefox make --dialect
//! sqlite`), [`boot_sqlite`] does the same and hands back a [`rusqlite::Connection`]; see
//! [`sqlite`].

pub mod boot;
pub mod connect;
pub mod drift;
pub mod error;
pub mod history;
pub mod lock;
pub mod migrator;
pub mod offline;
mod refinery_glue;
pub mod schema_watch;
pub mod settings;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod target;
#[cfg(feature = "tls")]
pub mod tls;

pub use bluefox_core::dialect::Dialect;
pub use bluefox_core::embedded::{
    pack, ColumnEntry, Columns, Embedded, EmbeddedColumn, EmbeddedMigration, EmbeddedSnapshot,
    EmbeddedTable, MigrationEntry, Migrations, TableEntry, Tables,
};
pub use bluefox_core::BluefoxBase;
pub use bluefox_macros::BluefoxBase;
pub use boot::{boot, boot_with};
pub use error::Error;
pub use migrator::{Migrator, MigratorOptions};
#[cfg(feature = "sqlite")]
pub use rusqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::{boot_sqlite, boot_sqlite_with, SqliteMigrator};
pub use target::Target;

/// The name of the file build.rs writes into OUT_DIR; [`embedded!`] includes it.
pub const EMBEDDED_FILE_NAME: &str = "bluefox_embedded.rs";

/// Evaluates to the `&'static Embedded` that `bluefox_build::configure()` generated into OUT_DIR:
/// every migration of `migrations/` and the schema snapshot, as static data.
///
/// Use it in the crate whose build.rs calls `bluefox_build::configure()`.
///
/// `embedded!("migrations-sqlite")` includes the set that
/// `Builder::from_env().migrations_dir("migrations-sqlite")` generated: a crate that carries
/// one migration set per dialect embeds each and picks one at boot.
#[macro_export]
macro_rules! embedded {
    () => {{
        // A module, because `include!` of items is not allowed in statement position.
        mod __bluefox_embedded {
            include!(concat!(env!("OUT_DIR"), "/bluefox_embedded.rs"));
        }
        &__bluefox_embedded::BLUEFOX_EMBEDDED
    }};
    ($migrations_dir:literal) => {{
        mod __bluefox_embedded {
            include!(concat!(
                env!("OUT_DIR"),
                "/bluefox_embedded.",
                $migrations_dir,
                ".rs"
            ));
        }
        &__bluefox_embedded::BLUEFOX_EMBEDDED
    }};
}
