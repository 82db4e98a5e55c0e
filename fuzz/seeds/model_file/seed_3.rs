//! A convention file that MODELS_MODULE makes bluefox skip (and warn about).

use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
}
