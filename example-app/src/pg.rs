//! The app's work on PostgreSQL (tokio-postgres).

use crate::posts::models::Post;
use crate::users::models::User;
use crate::Work;
use bluefox_runtime::BluefoxBase;
use tokio_postgres::Client;

/// Upserts a user, adds a post, reads both back.
pub async fn work(db: &Client) -> Result<Work, tokio_postgres::Error> {
    let insert_user = format!(
        "INSERT INTO \"{}\" (email, name) VALUES ($1, $2) \
         ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        User::TABLE
    );
    let user_id: i64 = db
        .query_one(&insert_user, &[&"ada@example.com", &"Ada Lovelace"])
        .await?
        .get(0);
    let insert_post = format!(
        "INSERT INTO \"{}\" (author_id, title, body, published) VALUES ($1, $2, $3, true) \
         RETURNING id",
        Post::TABLE
    );
    let post_id: i64 = db
        .query_one(
            &insert_post,
            &[
                &user_id,
                &"Notes on the Analytical Engine",
                &"It weaves algebra.",
            ],
        )
        .await?
        .get(0);
    let user = load_user(db, user_id).await?;
    let posts = load_posts(db, user.id).await?;
    Ok(Work {
        user,
        posts,
        post_id,
    })
}

/// Reads one user back into its model struct.
async fn load_user(db: &Client, id: i64) -> Result<User, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {} FROM \"{}\" WHERE id = $1",
        User::COLUMNS.join(", "),
        User::TABLE
    );
    let row = db.query_one(&sql, &[&id]).await?;
    Ok(User {
        id: row.get("id"),
        email: row.get("email"),
        name: row.get("name"),
        bio: row.get("bio"),
        nickname: row.get("nickname"),
    })
}

/// Reads a user's posts back into their model struct, oldest first.
async fn load_posts(db: &Client, author_id: i64) -> Result<Vec<Post>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {} FROM \"{}\" WHERE author_id = $1 ORDER BY id",
        Post::COLUMNS.join(", "),
        Post::TABLE
    );
    let rows = db.query(&sql, &[&author_id]).await?;
    Ok(rows
        .iter()
        .map(|row| Post {
            id: row.get("id"),
            author_id: row.get("author_id"),
            title: row.get("title"),
            body: row.get("body"),
            published: row.get("published"),
        })
        .collect())
}
