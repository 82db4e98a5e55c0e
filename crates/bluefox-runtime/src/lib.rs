//! bluefox-runtime: applies the migrations that build.rs embedded, when the application boots.
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> Result<(), bluefox_runtime::Error> {
//!     let db = bluefox_runtime::boot(bluefox_runtime::embedded!()).await?;
//!     Ok(())
//! }
//! ```

pub mod boot;
pub mod connect;
pub mod drift;
pub mod error;
pub mod history;
pub mod lock;
pub mod migrator;
pub mod offline;
pub mod settings;
pub mod target;
pub mod tls;

pub use bluefox_core::embedded::{
    Embedded, EmbeddedColumn, EmbeddedMigration, EmbeddedSnapshot, EmbeddedTable,
};
pub use bluefox_core::BluefoxBase;
pub use bluefox_macros::BluefoxBase;
pub use boot::{boot, boot_with};
pub use error::Error;
pub use migrator::{Migrator, MigratorOptions};
pub use target::Target;

/// The name of the file build.rs writes into OUT_DIR; [`embedded!`] includes it.
pub const EMBEDDED_FILE_NAME: &str = "bluefox_embedded.rs";

/// Evaluates to the `&'static Embedded` that `bluefox_build::configure()` generated into OUT_DIR:
/// every migration of `migrations/` and the schema snapshot, as static data.
///
/// Use it in the crate whose build.rs calls `bluefox_build::configure()`.
#[macro_export]
macro_rules! embedded {
    () => {{
        // A module, because `include!` of items is not allowed in statement position.
        mod __bluefox_embedded {
            include!(concat!(env!("OUT_DIR"), "/bluefox_embedded.rs"));
        }
        &__bluefox_embedded::BLUEFOX_EMBEDDED
    }};
}
