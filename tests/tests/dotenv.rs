//! The build script, the running app and the `bluefox` command read one `.env` the same way: the
//! first entry of a variable wins, so the dialect the build embeds is the database the app
//! connects to.

use bluefox_build::env::{dotenv_files, lookup};
use bluefox_core::db_url::DatabaseUrl;
use bluefox_core::dialect::Dialect;
use bluefox_runtime::settings::{read_dotenv, Settings};

#[test]
fn build_and_runtime_take_the_same_entry_of_a_repeated_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgres://app@db.example/app\nDATABASE_URL=sqlite://app.db\n",
    )
    .unwrap();

    let files = dotenv_files(dir.path()).unwrap();
    let built = lookup("DATABASE_URL", None, &files).unwrap().unwrap();

    let values = read_dotenv(&dir.path().join(".env")).unwrap();
    let settings = Settings::from_lookup(|name| values.get(name).cloned()).unwrap();

    assert_eq!(built.value, "postgres://app@db.example/app");
    let built = DatabaseUrl::parse(&built.value).unwrap();
    assert_eq!(built.dialect(), Dialect::Postgres);
    // The runtime connects where the build took its dialect from.
    assert_eq!(settings.database_url.dialect(), built.dialect());
    assert_eq!(settings.database_url.hosts(), built.hosts());
    assert_eq!(settings.database_url.dbname(), Some("app"));
}
