//! The app's models; they match `migrations/bluefox_snapshot.json`, so the build is silent.

use bluefox_runtime::BluefoxBase;

/// A user of the app.
#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(unique)]
    pub email: String,
    pub bio: Option<String>,
}
