//! `embed_migrations!` prints no rerun lines; without this a new migration goes unseen.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
