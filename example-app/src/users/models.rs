//! The `users` table. Found by bluefox's convention: `src/*/models.rs`.

use bluefox_runtime::BluefoxBase;

/// Someone who writes posts.
#[derive(Debug, BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(unique)]
    pub email: String,
    pub name: String,
    pub bio: Option<String>,
    pub nickname: Option<String>,
}
