//! The app's work on SQLite (rusqlite, re-exported by bluefox-runtime): the same statements as
//! on PostgreSQL, with `?N` parameters; booleans are stored as 0/1.

use crate::posts::models::Post;
use crate::users::models::User;
use crate::Work;
use bluefox_runtime::rusqlite::{params, Connection, Row};
use bluefox_runtime::BluefoxBase;

/// Upserts a user, adds a post, reads both back.
pub fn work(db: &Connection) -> Result<Work, bluefox_runtime::rusqlite::Error> {
    let insert_user = format!(
        "INSERT INTO \"{}\" (email, name) VALUES (?1, ?2) \
         ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id",
        User::TABLE
    );
    let user_id: i64 = db.query_row(
        &insert_user,
        params!["ada@example.com", "Ada Lovelace"],
        |r| r.get(0),
    )?;
    let insert_post = format!(
        "INSERT INTO \"{}\" (author_id, title, body, published) VALUES (?1, ?2, ?3, true) \
         RETURNING id",
        Post::TABLE
    );
    let post_id: i64 = db.query_row(
        &insert_post,
        params![
            user_id,
            "Notes on the Analytical Engine",
            "It weaves algebra."
        ],
        |r| r.get(0),
    )?;
    let user = db.query_row(
        &format!(
            "SELECT {} FROM \"{}\" WHERE id = ?1",
            User::COLUMNS.join(", "),
            User::TABLE
        ),
        [user_id],
        user,
    )?;
    let mut stmt = db.prepare(&format!(
        "SELECT {} FROM \"{}\" WHERE author_id = ?1 ORDER BY id",
        Post::COLUMNS.join(", "),
        Post::TABLE
    ))?;
    let posts = stmt
        .query_map([user.id], post)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Work {
        user,
        posts,
        post_id,
    })
}

fn user(row: &Row<'_>) -> Result<User, bluefox_runtime::rusqlite::Error> {
    Ok(User {
        id: row.get("id")?,
        email: row.get("email")?,
        name: row.get("name")?,
        bio: row.get("bio")?,
        nickname: row.get("nickname")?,
    })
}

fn post(row: &Row<'_>) -> Result<Post, bluefox_runtime::rusqlite::Error> {
    Ok(Post {
        id: row.get("id")?,
        author_id: row.get("author_id")?,
        title: row.get("title")?,
        body: row.get("body")?,
        published: row.get("published")?,
    })
}
