//! bluefox as a user boots it: settings from the environment, migrate to head, drift check.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _client = bluefox_runtime::boot(bluefox_runtime::embedded!()).await?;
    Ok(())
}
