//! A crate whose models (src/models/, written by the harness) make the 1000-table schema of the
//! build-script and `bluefox make`/`check` cases.

#[allow(dead_code)]
mod models;

fn main() {
    println!("{}", bluefox_runtime::embedded!().migrations.len());
}
