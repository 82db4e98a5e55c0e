use bluefox_runtime::BluefoxBase;
use sqlx::FromRow;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    pub email: String,
    pub nickname: Option<String>,
}

#[derive(Debug, FromRow)]
pub struct Post {
    pub id: i64,
    pub title: String,
}

#[derive(diesel::Queryable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i64,
}

#[derive(Clone)]
#[sea_orm(table_name = "tags")]
pub struct Tag {
    pub id: i64,
}

/// Not a table: no warning.
#[derive(Debug, Clone)]
pub struct Pagination {
    pub page: u32,
}
