//! The floor under any build script that reads models with syn, measured beside bluefox-build's
//! (case 3): read the models crate's files (`../models-app/src/models/*.rs`, written by the
//! harness) and `syn::parse_file` each, on two threads as bluefox-build does. Nothing else: no
//! walk of the structs, no migrations, no snapshot, no generated code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(manifest).join("../models-app/src/models");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let next = AtomicUsize::new(0);
    let items = AtomicUsize::new(0);
    let parse = || {
        while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
            let text = std::fs::read_to_string(path).expect("read a models file");
            let file = syn::parse_file(&text).expect("the models files parse");
            items.fetch_add(file.items.len(), Ordering::Relaxed);
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(parse);
        parse();
    });
    println!("cargo:rustc-env=SYN_FLOOR_ITEMS={}", items.into_inner());
}
