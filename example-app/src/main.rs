//! example-app: boots with bluefox (which migrates the database), then does a little real work.
//!
//! `DATABASE_URL` comes from the environment, else `.env` beside this crate's Cargo.toml, else
//! the local development server `postgres://postgres@127.0.0.1:5432/postgres`.

mod posts;
mod users;

use bluefox_runtime::settings::{read_dotenv, Settings};
use bluefox_runtime::BluefoxBase;
use posts::models::Post;
use std::path::Path;
use tokio_postgres::Client;
use users::models::User;

/// Where the app looks when neither the environment nor `.env` sets `DATABASE_URL`.
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let settings = settings()?;
    println!("example-app: database {}", settings.database_url);
    let db = bluefox_runtime::boot_with(&settings, bluefox_runtime::embedded!()).await?;

    let embedded = bluefox_runtime::embedded!();
    if let Some(newest) = embedded.migrations.last() {
        println!(
            "example-app: schema at migration {} ({} embedded)",
            newest.version,
            embedded.migrations.len()
        );
    }

    // A little real work: upsert a user, add a post, read back what the tables hold.
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
    println!("example-app: user {user_id} wrote post {post_id}");

    let user = load_user(&db, user_id).await?;
    let posts = load_posts(&db, user.id).await?;
    println!(
        "example-app: {} <{}> (bio: {}, nickname: {}) has {} post(s):",
        user.name,
        user.email,
        user.bio.as_deref().unwrap_or("none"),
        user.nickname.as_deref().unwrap_or("none"),
        posts.len()
    );
    for post in &posts {
        println!(
            "example-app:   #{} by user {}: {:?} ({} chars, {})",
            post.id,
            post.author_id,
            post.title,
            post.body.len(),
            if post.published { "published" } else { "draft" }
        );
    }
    Ok(())
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

/// The environment first, then `.env` beside Cargo.toml, then the local development default.
fn settings() -> Result<Settings, Box<dyn std::error::Error>> {
    let dotenv = read_dotenv(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".env"))?;
    let settings = Settings::from_lookup(|name| {
        std::env::var(name)
            .ok()
            .or_else(|| dotenv.get(name).cloned())
            .or_else(|| (name == "DATABASE_URL").then(|| DEFAULT_DATABASE_URL.to_string()))
    })?;
    Ok(settings)
}
