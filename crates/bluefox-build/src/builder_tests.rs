//! The whole pipeline on temp crates: the exact lines a build script prints, the rerun set,
//! MODELS_MODULE, errors, determinism.

use crate::{Builder, Error};
use std::fs;
use std::path::Path;

const USERS: &str = r#"use bluefox_runtime::BluefoxBase;

#[derive(BluefoxBase)]
#[bluefox(table = "users")]
pub struct User {
    #[bluefox(primary_key)]
    pub id: i64,
    pub email: String,
}
"#;

const POSTS: &str = r#"use sqlx::FromRow;

#[derive(Debug, FromRow)]
pub struct Post {
    pub id: i64,
}
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "Cargo.toml",
        "[package]\nname = \"example-app\"\nversion = \"0.1.0\"\n\n[workspace]\n",
    );
    for (rel, text) in files {
        write(tmp.path(), rel, text);
    }
    tmp
}

fn lines(builder: &Builder) -> String {
    let generated = builder.generate().unwrap();
    let mut out = Vec::new();
    generated.emit_to(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn fresh_crate_prints_rerun_set_and_warnings_in_order() {
    let tmp = app(&[
        ("src/main.rs", "mod users;\nfn main() {}\n"),
        ("src/users/models.rs", USERS),
        ("src/posts/models.rs", POSTS),
        (
            "src/lib.rs",
            "#[derive(bluefox_runtime::BluefoxBase)]\npub struct Orphan { pub id: i64 }\n",
        ),
        ("migrations/v1_x.sql", "SELECT 1;\n"),
        (".env", "DATABASE_URL=postgres://localhost/x\n"),
    ]);
    let builder = Builder::new().crate_dir(tmp.path());
    assert_eq!(
        lines(&builder),
        "cargo:rerun-if-env-changed=MODELS_MODULE\n\
         cargo:rerun-if-env-changed=DATABASE_URL\n\
         cargo:rerun-if-changed=.env\n\
         cargo:rerun-if-changed=migrations\n\
         cargo:rerun-if-changed=src\n\
         cargo:rerun-if-changed=src/posts/models.rs\n\
         cargo:rerun-if-changed=src/users/models.rs\n\
         cargo:warning=bluefox: migrations/v1_x.sql: this file is ignored: refinery and bluefox \
         read only migrations named V{version}__{name}.sql (and bluefox_snapshot.json) in \
         migrations. Rename it to that pattern or move it out of migrations.\n\
         cargo:warning=bluefox: src/lib.rs:2: Model example_app::Orphan derives BluefoxBase but \
         src/lib.rs is not a models file, so it won't be tracked by Bluefox migrations. Move it \
         into src/models.rs (or src/<module>/models.rs), or set MODELS_MODULE to the module that \
         holds your models.\n\
         cargo:warning=bluefox: src/posts/models.rs:4: Model example_app::posts::models::Post \
         derives sqlx::FromRow but not BluefoxBase. It won't be tracked by Bluefox migrations. \
         Derive BluefoxBase instead.\n\
         cargo:warning=bluefox: pending model change not captured by a migration: table users \
         added\n\
         cargo:warning=bluefox: run `bluefox make \"<message>\"` (make migrate-make \
         m=\"<message>\") to capture it\n"
    );
}

#[test]
fn models_matching_the_snapshot_are_silent_and_embedded() {
    let tmp = app(&[("src/models.rs", USERS)]);
    let project = Builder::new().crate_dir(tmp.path()).load().unwrap();
    let snapshot = bluefox_core::snapshot::Snapshot::new(project.schema.clone());
    write(
        tmp.path(),
        "migrations/bluefox_snapshot.json",
        &snapshot.to_text(),
    );
    write(
        tmp.path(),
        "migrations/V20260101000000__add_users.sql",
        "-- bluefox: add users\n-- parent: base\n-- bluefox:up\nCREATE TABLE \"users\" ();\n",
    );
    let generated = Builder::new().crate_dir(tmp.path()).generate().unwrap();
    assert_eq!(generated.warnings, []);
    // The migration's entry, a record in the entries' byte string.
    let entries = generated
        .code
        .lines()
        .find_map(|line| line.trim().strip_prefix("entries: "))
        .map(|literal| literal.trim_end_matches(','))
        .and_then(|literal| syn::parse_str::<syn::LitByteStr>(literal).ok())
        .map(|literal| literal.value())
        .unwrap_or_else(|| panic!("no entries in {}", generated.code));
    let entry = bluefox_core::embedded::MigrationEntry::from_bytes(&entries);
    assert_eq!(entry.version, 20260101000000);
    assert_eq!(entries.len(), bluefox_core::embedded::MigrationEntry::SIZE);
    assert!(
        generated.code.contains(
            "text: \"add_usersadd usersV20260101000000__add_users.sql\
             CREATE TABLE \\\"users\\\" ();\","
        ),
        "{}",
        generated.code
    );
    // The snapshot's table and its column, each name and type once.
    assert!(
        generated.code.contains("text: \"usersidBIGINTemailTEXT\","),
        "{}",
        generated.code
    );
}

#[test]
fn generate_is_deterministic_ten_times() {
    let tmp = app(&[
        ("src/models.rs", USERS),
        ("src/posts/models.rs", POSTS),
        ("migrations/V1__a.sql", "SELECT 1;\r\n"),
        (
            "migrations/V2__b.sql",
            "-- bluefox: b\n-- parent: 1\n-- bluefox:up\nSELECT 2;\n",
        ),
    ]);
    let builder = Builder::new().crate_dir(tmp.path());
    let first = builder.generate().unwrap();
    for _ in 0..10 {
        assert_eq!(builder.generate().unwrap(), first);
    }
    let path = tmp.path().to_string_lossy().to_string();
    assert!(!first.code.contains(&path));
    assert!(first.rerun_if_changed.iter().all(|p| !p.starts_with('/')));
}

#[test]
fn models_module_in_dotenv_skips_the_convention() {
    let tmp = app(&[
        ("src/models.rs", USERS),
        (
            "src/db/models.rs",
            &USERS.replace("\"users\"", "\"accounts\""),
        ),
        (".env", "MODELS_MODULE=crate::db::models\n"),
    ]);
    let generated = Builder::new().crate_dir(tmp.path()).generate().unwrap();
    assert_eq!(
        generated.rerun_if_changed,
        [".env", "src", "src/db/models.rs"]
    );
    assert_eq!(generated.rerun_if_created, ["migrations"]);
    let warnings: Vec<String> = generated.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "bluefox: src/models.rs:5: Model example_app::models::User derives BluefoxBase but \
             src/models.rs is outside MODELS_MODULE=crate::db::models (from .env), so it won't be \
             tracked by Bluefox migrations. Move it into that module, or change MODELS_MODULE.",
            "bluefox: pending model change not captured by a migration: table accounts added",
            "bluefox: run `bluefox make \"<message>\"` (make migrate-make m=\"<message>\") to \
             capture it",
        ]
    );
}

#[test]
fn unresolved_models_module_is_an_error_with_what_was_tried() {
    let tmp = app(&[("src/models.rs", USERS)]);
    let err = Builder::new()
        .crate_dir(tmp.path())
        .models_module("crate::nowhere")
        .generate()
        .unwrap_err();
    assert!(
        matches!(err, Error::ModelsModuleUnresolved { .. }),
        "{err:?}"
    );
    let report = err.report(tmp.path());
    assert_eq!(
        report[0],
        "bluefox: MODELS_MODULE=crate::nowhere (from Builder::models_module) names no module: \
         tried src/nowhere.rs, src/nowhere/mod.rs"
    );
    assert!(report[1].starts_with("help: set MODELS_MODULE to a module path"));
}

#[test]
fn model_error_report_has_place_line_and_caret() {
    let tmp = app(&[(
        "src/models.rs",
        "#[derive(bluefox_runtime::BluefoxBase)]\npub struct User {\n    pub avatar: Image,\n}\n",
    )]);
    let err = Builder::new().crate_dir(tmp.path()).generate().unwrap_err();
    assert!(matches!(err, Error::Model(_)), "{err:?}");
    let mut out = Vec::new();
    crate::emit_error_to(&err, tmp.path(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("cargo::error=bluefox: src/models.rs:3:"),
        "{text}"
    );
    assert_eq!(lines[1], "cargo::error=3 |     pub avatar: Image,");
    assert!(lines[2].starts_with("cargo::error=  |"), "{text}");
    assert!(lines[2].ends_with('^'), "{text}");
}

#[test]
fn run_writes_only_when_bytes_change() {
    let tmp = app(&[("src/models.rs", USERS)]);
    let out_dir = tempfile::tempdir().unwrap();
    let builder = Builder::new().crate_dir(tmp.path()).out_dir(out_dir.path());
    let mut sink = Vec::new();
    builder.run_to(&mut sink).unwrap();
    let file = out_dir.path().join(crate::EMBEDDED_FILE_NAME);
    let first = fs::metadata(&file).unwrap().modified().unwrap();
    // Make any rewrite visible in the modification time, whatever the file system's resolution.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(old)
        .unwrap();
    builder.run_to(&mut sink).unwrap();
    assert_eq!(fs::metadata(&file).unwrap().modified().unwrap(), old);
    assert_ne!(first, old);
    write(tmp.path(), "migrations/V1__a.sql", "SELECT 1;\n");
    builder.run_to(&mut sink).unwrap();
    assert_ne!(fs::metadata(&file).unwrap().modified().unwrap(), old);
}

/// The `rerun-if-changed` paths `run_to` printed.
fn rerun_lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        .map(str::to_string)
        .collect()
}

/// The links in a watch directory: name -> target.
#[cfg(unix)]
fn links(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut links: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read_link(e.path()).unwrap(),
            )
        })
        .collect();
    links.sort();
    links
}

#[cfg(unix)]
#[test]
fn missing_inputs_are_watched_for_their_creation_not_listed() {
    let tmp = app(&[("src/models.rs", USERS)]);
    let crate_dir = tmp.path();
    let out_dir = tempfile::tempdir().unwrap();
    let watch = out_dir.path().join("bluefox_embedded.watch");
    let builder = Builder::new().crate_dir(crate_dir).out_dir(out_dir.path());

    // No migrations, no .env: neither is a rerun path (cargo would count it as changed on
    // every build); the watch directory in OUT_DIR stands for both.
    let mut out = Vec::new();
    let generated = builder.run_to(&mut out).unwrap();
    let watch_line = watch.to_str().unwrap().to_string();
    assert_eq!(rerun_lines(&out), ["src", "src/models.rs", &watch_line]);
    assert_eq!(generated.rerun_paths(), rerun_lines(&out));
    assert_eq!(generated.rerun_if_created, [".env", "migrations"]);
    assert_eq!(
        links(&watch),
        [
            (".env".to_string(), crate_dir.join(".env")),
            ("migrations".to_string(), crate_dir.join("migrations")),
        ]
    );
    let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
    assert_eq!(fs::metadata(&watch).unwrap().modified().unwrap(), long_ago);

    // The first migration: listed itself; the watch keeps standing for .env.
    write(crate_dir, "migrations/V1__a.sql", "SELECT 1;\n");
    let mut out = Vec::new();
    builder.run_to(&mut out).unwrap();
    assert_eq!(
        rerun_lines(&out),
        ["migrations", "src", "src/models.rs", &watch_line]
    );
    assert_eq!(
        links(&watch),
        [(".env".to_string(), crate_dir.join(".env"))]
    );
    assert_eq!(fs::metadata(&watch).unwrap().modified().unwrap(), long_ago);

    // Nothing missing: no watch directory.
    write(crate_dir, ".env", "DATABASE_URL=postgres://localhost/x\n");
    let mut out = Vec::new();
    builder.run_to(&mut out).unwrap();
    assert_eq!(
        rerun_lines(&out),
        [".env", "migrations", "src", "src/models.rs"]
    );
    assert!(!watch.exists());

    // Another migrations directory has a watch directory of its own.
    let sqlite = builder.clone().migrations_dir("migrations-sqlite");
    let mut out = Vec::new();
    sqlite.run_to(&mut out).unwrap();
    let sqlite_watch = out_dir
        .path()
        .join("bluefox_embedded.migrations-sqlite.watch");
    assert_eq!(
        rerun_lines(&out),
        [
            ".env",
            "src",
            "src/models.rs",
            sqlite_watch.to_str().unwrap()
        ]
    );
    assert_eq!(
        links(&sqlite_watch),
        [(
            "migrations-sqlite".to_string(),
            crate_dir.join("migrations-sqlite")
        )]
    );
}

#[test]
fn workspace_dotenv_is_watched_relative_to_the_crate() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"apps/web\"]\n",
    );
    write(tmp.path(), ".env", "MODELS_MODULE=crate::db::models\n");
    let web = tmp.path().join("apps/web");
    write(
        &web,
        "Cargo.toml",
        "[package]\nname = \"web\"\nversion = \"0.1.0\"\n",
    );
    write(&web, "src/db/models.rs", USERS);
    write(&web, "src/models.rs", "");
    let generated = Builder::new().crate_dir(&web).generate().unwrap();
    assert_eq!(
        generated.rerun_if_changed,
        ["../../.env", "src", "src/db/models.rs"]
    );
    // The crate's own .env and migrations do not exist yet: watched for their creation.
    assert_eq!(generated.rerun_if_created, [".env", "migrations"]);
    assert_eq!(
        generated.rerun_if_env_changed,
        ["MODELS_MODULE", "DATABASE_URL"]
    );
    // The crate name comes from its Cargo.toml when not set.
    assert_eq!(
        generated.warnings[0].to_string(),
        "bluefox: pending model change not captured by a migration: table users added"
    );
    let project = Builder::new().crate_dir(&web).load().unwrap();
    assert_eq!(project.models[0].rust_path, "web::db::models::User");
}

const SQLITE_SNAPSHOT: &str =
    "{\n  \"format\": 1,\n  \"dialect\": \"sqlite\",\n  \"schema\": {\n    \"tables\": {}\n  }\n}\n";

#[test]
fn a_migration_set_is_embedded_for_its_own_dialect_only() {
    use bluefox_core::dialect::Dialect;
    let tmp = app(&[
        ("src/main.rs", "fn main() {}\n"),
        ("migrations-sqlite/bluefox_snapshot.json", SQLITE_SNAPSHOT),
        (".env", "DATABASE_URL=postgres://localhost/x\n"),
    ]);
    // A build script reads DATABASE_URL: it names PostgreSQL, the snapshot says SQLite.
    let from_env = Builder::from_env()
        .crate_dir(tmp.path())
        .migrations_dir("migrations-sqlite");
    let e = from_env.generate().unwrap_err();
    assert!(
        matches!(
            &e,
            Error::DialectMismatch { snapshot: "sqlite", expected: "postgresql", dir, .. }
                if dir == "migrations-sqlite"
        ),
        "{e}"
    );
    // Naming the dialect settles it: DATABASE_URL is not consulted.
    let generated = from_env
        .clone()
        .dialect(Dialect::Sqlite)
        .generate()
        .unwrap();
    assert_eq!(generated.file_name, "bluefox_embedded.migrations-sqlite.rs");
    assert!(
        generated.code.contains("dialect: \"sqlite\","),
        "{}",
        generated.code
    );
    let e = from_env.dialect(Dialect::Postgres).generate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "migrations-sqlite/bluefox_snapshot.json: the migrations in migrations-sqlite are \
         written for sqlite, but Builder::dialect names postgresql; bluefox embeds one dialect \
         per migrations directory. Point DATABASE_URL at a sqlite database, or make a \
         postgresql set in another directory (bluefox --migrations migrations-postgresql make \
         --dialect postgresql \"...\") and embed it with \
         Builder::migrations_dir(\"migrations-postgresql\").dialect(...)"
    );
    // A model that no migration of migrations-sqlite captures: the warning names the set.
    fs::write(tmp.path().join("src/models.rs"), USERS).unwrap();
    let lagging = Builder::new()
        .crate_dir(tmp.path())
        .migrations_dir("migrations-sqlite")
        .dialect(Dialect::Sqlite)
        .generate()
        .unwrap();
    let messages: Vec<String> = lagging.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        messages,
        [
            "pending model change not captured by a migration: table users added (in \
             migrations-sqlite)",
            "run `bluefox --migrations migrations-sqlite make \"<message>\"` to capture it in \
             migrations-sqlite",
        ]
    );
    fs::remove_file(tmp.path().join("src/models.rs")).unwrap();
    // Without a snapshot, the dialect asked for is the one embedded; the default is PostgreSQL.
    let fresh = Builder::new()
        .crate_dir(tmp.path())
        .dialect(Dialect::Sqlite);
    assert!(fresh
        .generate()
        .unwrap()
        .code
        .contains("dialect: \"sqlite\","));
    let default = Builder::new().crate_dir(tmp.path()).generate().unwrap();
    assert_eq!(default.file_name, crate::EMBEDDED_FILE_NAME);
    assert!(default.code.contains("dialect: \"postgresql\","));
}

#[test]
fn errors_keep_their_order_though_models_and_migrations_are_read_at_once() {
    // Twelve model files; the fourth and the ninth are broken, and so is a migration.
    let broken = "#[derive(BluefoxBase)]\npub struct Broken {\n    pub id: Unknown,\n}\n";
    let mut files: Vec<(String, String)> = (0..12)
        .map(|i| {
            let text = match i {
                3 | 8 => broken.replace("Broken", &format!("Broken{i}")),
                _ => USERS
                    .replace("\"users\"", &format!("\"users_{i}\""))
                    .replace("User", &format!("User{i}")),
            };
            (format!("src/models/m{i:02}.rs"), text)
        })
        .collect();
    files.push(("src/models/mod.rs".into(), String::new()));
    files.push(("migrations/V1__bad.sql".into(), "-- bluefox: bad\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let tmp = app(&refs);
    let builder = Builder::new().crate_dir(tmp.path());
    for _ in 0..5 {
        let err = builder.generate().unwrap_err();
        assert!(matches!(err, Error::Model(_)), "{err:?}");
        assert!(
            err.to_string().starts_with("src/models/m03.rs:3:"),
            "the first broken file in path order: {err}"
        );
    }
    // With the models repaired, the migration's error is the one reported.
    write(tmp.path(), "src/models/m03.rs", "");
    write(tmp.path(), "src/models/m08.rs", "");
    let err = builder.generate().unwrap_err();
    assert!(matches!(err, Error::MigrationFile { .. }), "{err:?}");
    // And the models, read by two threads, keep file order.
    fs::remove_file(tmp.path().join("migrations/V1__bad.sql")).unwrap();
    let project = builder.load().unwrap();
    let tables: Vec<&str> = project
        .models
        .iter()
        .map(|m| m.table.name.as_str())
        .collect();
    let expected: Vec<String> = [0, 1, 2, 4, 5, 6, 7, 9, 10, 11]
        .iter()
        .map(|i| format!("users_{i}"))
        .collect();
    assert_eq!(tables, expected);
}
