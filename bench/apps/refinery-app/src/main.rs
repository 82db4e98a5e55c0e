//! refinery alone, as its README shows it: `embed_migrations!` and `run_async`.

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    embedded::migrations::runner()
        .run_async(&mut client)
        .await?;
    Ok(())
}
