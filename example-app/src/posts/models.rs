//! The `posts` table, with a foreign key to `users`.

use bluefox_runtime::BluefoxBase;

/// A post by one user; deleting the user deletes their posts.
#[derive(Debug, BluefoxBase)]
#[bluefox(table = "posts", index(author_id, published))]
pub struct Post {
    #[bluefox(primary_key)]
    pub id: i64,
    #[bluefox(references = "users.id", on_delete = "cascade")]
    pub author_id: i64,
    #[bluefox(sql_type = "VARCHAR(200)")]
    pub title: String,
    pub body: String,
    #[bluefox(default = false)]
    pub published: bool,
}
