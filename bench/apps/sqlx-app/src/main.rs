//! sqlx's migrator, as its docs show it: `migrate!()` over one connection.

use sqlx::Connection;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let mut connection = sqlx::PgConnection::connect(&url).await?;
    MIGRATOR.run(&mut connection).await?;
    Ok(())
}
