//! Any text (and any file name) as a migration file: `MigrationFile::parse` returns the file or a
//! `MigrationFileError`, never panics; what parses renders and parses back to the same file.

#![no_main]

use bluefox_core::migration_file::MigrationFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the file name, the rest the contents; a fixed name half of the time so
    // the body parser gets most of the inputs.
    let (name, contents) = match text.split_once('\n') {
        Some((name, rest)) if name.starts_with('V') => (name.to_string(), rest),
        _ => ("V20260101000000__fuzz.sql".to_string(), text),
    };
    match MigrationFile::parse(&name, contents) {
        Ok(file) => {
            let rendered = file.render();
            let _ = file.checksum();
            if file.message.is_some() {
                // A generated file must read back as itself.
                let again = MigrationFile::parse(&file.file_name(), &rendered)
                    .expect("a rendered migration file parses");
                assert_eq!(again.up, file.up, "render/parse changed the up SQL");
                assert_eq!(again.down, file.down, "render/parse changed the down SQL");
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.line();
        }
    }
});
