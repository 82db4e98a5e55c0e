//! example-app: boots with bluefox (which migrates the database), then does a little real work.
//!
//! `DATABASE_URL` comes from the environment, else `.env` beside this crate's Cargo.toml. Without
//! one (or with `DATABASE_URL=` set empty) the app runs on SQLite, in the file
//! `example-app.db` beside this crate's Cargo.toml (gitignored; `EXAMPLE_APP_SQLITE_FILE` names
//! another), so `cargo run -p example-app` works on a machine with no database server.
//!
//! The crate carries one migration set per dialect, both made by `bluefox make` from the same
//! models: `migrations/` (PostgreSQL, the default directory) and `migrations-sqlite/` (SQLite,
//! `bluefox --migrations migrations-sqlite make ...`). build.rs embeds both; the app picks the
//! one whose dialect `DATABASE_URL` names.

mod pg;
mod posts;
mod sqlite;
mod users;

use bluefox_runtime::settings::{read_dotenv, Settings};
use bluefox_runtime::Embedded;
use std::path::Path;

/// What the app found and did, printed the same way on both databases.
pub struct Work {
    /// The user upserted.
    pub user: users::models::User,
    /// Their posts, oldest first.
    pub posts: Vec<posts::models::Post>,
    /// The id of the post added by this run.
    pub post_id: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let (settings, defaulted) = settings()?;
    let work = if settings.database_url.dialect() == bluefox_runtime::Dialect::Sqlite {
        match defaulted {
            true => println!(
                "example-app: database {} (SQLite: DATABASE_URL is not set; set it to a \
                 postgres:// URL to use PostgreSQL)",
                settings.database_url
            ),
            false => println!("example-app: database {}", settings.database_url),
        }
        let embedded = bluefox_runtime::embedded!("migrations-sqlite");
        let db = bluefox_runtime::boot_sqlite_with(&settings, embedded)?;
        print_schema(embedded);
        sqlite::work(&db)?
    } else {
        println!("example-app: database {}", settings.database_url);
        let embedded = bluefox_runtime::embedded!();
        let db = bluefox_runtime::boot_with(&settings, embedded).await?;
        print_schema(embedded);
        pg::work(&db).await?
    };

    let (user, posts) = (&work.user, &work.posts);
    println!("example-app: user {} wrote post {}", user.id, work.post_id);
    println!(
        "example-app: {} <{}> (bio: {}, nickname: {}) has {} post(s):",
        user.name,
        user.email,
        user.bio.as_deref().unwrap_or("none"),
        user.nickname.as_deref().unwrap_or("none"),
        posts.len()
    );
    for post in posts {
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

fn print_schema(embedded: &Embedded) {
    if let Some(newest) = embedded.migrations.last() {
        println!(
            "example-app: schema at migration {} ({} embedded, {})",
            newest.version,
            embedded.migrations.len(),
            embedded.dialect
        );
    }
}

/// The environment first, then `.env` beside Cargo.toml, then the SQLite file; `true` when the
/// SQLite default was used. An empty `DATABASE_URL` in the environment means "use the default"
/// (without reading `.env`).
fn settings() -> Result<(Settings, bool), Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dotenv = read_dotenv(&crate_dir.join(".env"))?;
    let configured = match std::env::var("DATABASE_URL") {
        Ok(value) => Some(value).filter(|v| !v.trim().is_empty()),
        Err(_) => dotenv.get("DATABASE_URL").cloned(),
    };
    let defaulted = configured.is_none();
    let url = configured.unwrap_or_else(|| {
        let file = std::env::var("EXAMPLE_APP_SQLITE_FILE")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| crate_dir.join("example-app.db").display().to_string());
        format!("sqlite://{file}")
    });
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        _ => std::env::var(name)
            .ok()
            .or_else(|| dotenv.get(name).cloned()),
    })?;
    Ok((settings, defaulted))
}
