use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    pub email: String,
}
