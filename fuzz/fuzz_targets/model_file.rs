//! Any text as a models file: `bluefox_build::model::parse_file` (syn, then bluefox's attribute
//! reader) and, when it parses, the schema assembly and the render of its DDL must return a
//! value or a `ModelError`, never panic.

#![no_main]

use bluefox_build::model::{assemble, parse_file, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile {
        rel_path: "src/models.rs".to_string(),
        abs_path: "/fuzz/src/models.rs".into(),
        module_path: "fuzz::models".to_string(),
        text: text.to_string(),
    };
    // Errors render with the offending line and a caret: that path slices the text by a span.
    let parsed = match parse_file(&source) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.render();
            return;
        }
    };
    match assemble(&parsed.models) {
        Ok(schema) => {
            let empty = bluefox_core::schema::Schema::default();
            let changes = bluefox_core::diff::diff(&empty, &schema);
            let _ = bluefox_core::render::up_sql(&changes);
            let _ = bluefox_core::render::down_sql(&changes);
        }
        Err(e) => {
            let _ = e.render();
        }
    }
});
