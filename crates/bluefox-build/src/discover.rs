//! Which files hold the models: the convention (`src/models.rs`, the files of a `src/models/`
//! module, `src/*/models.rs` and `src/*/models/`), or exactly the module `MODELS_MODULE` names.

use crate::env::Setting;
use crate::error::Error;
use crate::model::SourceFile;
use std::path::Path;

/// How the model files were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// By convention.
    Convention,
    /// Only the module `MODELS_MODULE` names.
    Explicit(Setting),
}

/// The model files of a crate, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// How they were chosen.
    pub mode: Mode,
    /// Their paths relative to the crate root (`src/users/models.rs`), sorted.
    pub files: Vec<String>,
}

/// Finds the model files of the crate at `crate_dir`: the module `setting` names when there is
/// one, else the convention.
///
/// # Errors
///
/// [`Error::ModelsModuleUnresolved`] listing every path tried when `setting` names no file;
/// [`Error::Io`] when a directory cannot be listed.
pub fn discover(
    crate_dir: &Path,
    crate_name: &str,
    setting: Option<&Setting>,
) -> Result<Discovery, Error> {
    let mut files = Vec::new();
    let mode = match setting {
        None => {
            let src = crate_dir.join("src");
            module_files(crate_dir, "src/models", &mut files)?;
            // `src/bin/` holds binaries, not modules of this crate.
            for dir in list_dirs(&src)? {
                if dir != "models" && dir != "bin" {
                    module_files(crate_dir, &format!("src/{dir}/models"), &mut files)?;
                }
            }
            Mode::Convention
        }
        Some(setting) => {
            let candidates = candidates(&setting.value, crate_name);
            for candidate in &candidates {
                if crate_dir.join(candidate).is_file() {
                    files.push(candidate.clone());
                    let dir = module_dir(candidate);
                    files.extend(rs_files_under(crate_dir, &dir)?);
                    break;
                }
            }
            if files.is_empty() {
                return Err(Error::ModelsModuleUnresolved {
                    value: setting.value.clone(),
                    origin: setting.origin.to_string(),
                    tried: candidates,
                });
            }
            Mode::Explicit(setting.clone())
        }
    };
    files.sort();
    files.dedup();
    Ok(Discovery { mode, files })
}

/// The files of the module at `base` (`src/models`): `base.rs` and/or `base/mod.rs` and every
/// `.rs` below `base/`, when the module exists.
fn module_files(crate_dir: &Path, base: &str, out: &mut Vec<String>) -> Result<(), Error> {
    let file = format!("{base}.rs");
    let mod_rs = format!("{base}/mod.rs");
    let has_file = crate_dir.join(&file).is_file();
    if has_file {
        out.push(file);
    }
    if has_file || crate_dir.join(&mod_rs).is_file() {
        out.extend(rs_files_under(crate_dir, base)?);
    }
    Ok(())
}

/// The directory that holds a module file's children: `src/db/models` for both
/// `src/db/models.rs` and `src/db/models/mod.rs`.
fn module_dir(file: &str) -> String {
    match file.strip_suffix("/mod.rs") {
        Some(dir) => dir.to_string(),
        None => file.strip_suffix(".rs").unwrap_or(file).to_string(),
    }
}

/// The paths a `MODELS_MODULE` value may mean, in the order they are tried.
///
/// A value with a `/` or ending in `.rs` is a path relative to the crate root; anything else is a
/// module path (`crate::db::models`, `db::models`, `my_app::db::models`, or the seed's dotted
/// `my_app.db.models`) under `src/`.
pub fn candidates(value: &str, crate_name: &str) -> Vec<String> {
    let value = value.trim();
    if value.contains('/') || value.contains('\\') || value.ends_with(".rs") {
        let path = value.replace('\\', "/");
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if path.ends_with(".rs") {
            return vec![path.to_string()];
        }
        return vec![format!("{path}.rs"), format!("{path}/mod.rs")];
    }
    let separator = if value.contains("::") { "::" } else { "." };
    let crate_ident = crate_name.replace('-', "_");
    let mut segments: Vec<&str> = value.split(separator).map(str::trim).collect();
    if matches!(segments.first(), Some(&first) if first == "crate" || first == crate_ident) {
        segments.remove(0);
    }
    if segments.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Vec::new();
    }
    let base = format!("src/{}", segments.join("/"));
    vec![format!("{base}.rs"), format!("{base}/mod.rs")]
}

/// The module path of a file inside its crate, crate name first (`example_app::users::models`).
/// A file under `src/bin/<name>` belongs to the binary crate `<name>`.
pub fn module_path(crate_name: &str, rel_path: &str) -> String {
    let inner = rel_path.strip_prefix("src/").unwrap_or(rel_path);
    let inner = inner.strip_suffix(".rs").unwrap_or(inner);
    let segments: Vec<&str> = inner.split('/').collect();
    let (root, mut rest) = match segments.as_slice() {
        ["bin", name, rest @ ..] => (name.replace('-', "_"), rest.to_vec()),
        ["lib"] | ["main"] => (crate_name.replace('-', "_"), Vec::new()),
        rest => (crate_name.replace('-', "_"), rest.to_vec()),
    };
    let is_bin = segments.first() == Some(&"bin") && segments.len() > 1;
    if rest.last() == Some(&"mod") || (is_bin && rest.as_slice() == ["main"]) {
        rest.pop();
    }
    let mut path = root;
    for segment in rest {
        path.push_str("::");
        path.push_str(segment);
    }
    path
}

/// Reads one file into a [`SourceFile`].
///
/// # Errors
///
/// [`Error::Io`] naming the file when it cannot be read.
pub fn read_source(
    crate_dir: &Path,
    crate_name: &str,
    rel_path: &str,
) -> Result<SourceFile, Error> {
    let abs_path = crate_dir.join(rel_path);
    let text = std::fs::read_to_string(&abs_path).map_err(|source| Error::Io {
        path: rel_path.to_string(),
        source,
    })?;
    Ok(SourceFile {
        rel_path: rel_path.to_string(),
        abs_path,
        module_path: module_path(crate_name, rel_path),
        text,
    })
}

/// Every `.rs` file below `rel_dir` (recursively), relative to the crate root, sorted; nothing
/// when the directory does not exist.
///
/// # Errors
///
/// [`Error::Io`] when a directory cannot be listed.
pub fn rs_files_under(crate_dir: &Path, rel_dir: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    walk(crate_dir, rel_dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(crate_dir: &Path, rel_dir: &str, out: &mut Vec<String>) -> Result<(), Error> {
    let dir = crate_dir.join(rel_dir);
    if !dir.is_dir() {
        return Ok(());
    }
    for (name, is_dir) in read_dir_sorted(&dir, rel_dir)? {
        let rel = format!("{rel_dir}/{name}");
        if is_dir {
            walk(crate_dir, &rel, out)?;
        } else if name.ends_with(".rs") {
            out.push(rel);
        }
    }
    Ok(())
}

fn list_dirs(dir: &Path) -> Result<Vec<String>, Error> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(read_dir_sorted(dir, "src")?
        .into_iter()
        .filter(|(_, is_dir)| *is_dir)
        .map(|(name, _)| name)
        .collect())
}

/// The entries of a directory as (name, is a directory), sorted by name; names that are not
/// UTF-8 are skipped (they cannot be Rust modules).
pub(crate) fn read_dir_sorted(dir: &Path, shown_as: &str) -> Result<Vec<(String, bool)>, Error> {
    let io_error = |source| Error::Io {
        path: shown_as.to_string(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        entries.push((name, entry.path().is_dir()));
    }
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Origin;
    use std::fs;

    fn crate_with(files: &[&str]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for file in files {
            let path = tmp.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "// x\n").unwrap();
        }
        tmp
    }

    fn setting(value: &str) -> Setting {
        Setting {
            value: value.into(),
            origin: Origin::DotEnv(".env".into()),
        }
    }

    #[test]
    fn convention_finds_models_files_and_directory_modules() {
        let tmp = crate_with(&[
            "src/main.rs",
            "src/models.rs",
            "src/models/extra.rs",
            "src/models/deep/inner.rs",
            "src/users/models.rs",
            "src/users/handlers.rs",
            "src/posts/models/mod.rs",
            "src/posts/models/comments.rs",
            "src/notes/models",
            "src/a/b/models.rs",
            "src/bin/models.rs",
            "tests/models.rs",
        ]);
        let found = discover(tmp.path(), "example-app", None).unwrap();
        assert_eq!(found.mode, Mode::Convention);
        assert_eq!(
            found.files,
            [
                "src/models.rs",
                "src/models/deep/inner.rs",
                "src/models/extra.rs",
                "src/posts/models/comments.rs",
                "src/posts/models/mod.rs",
                "src/users/models.rs",
            ]
        );
    }

    #[test]
    fn convention_without_models_finds_nothing() {
        let tmp = crate_with(&["src/lib.rs", "src/models/orphan.rs"]);
        assert!(discover(tmp.path(), "x", None).unwrap().files.is_empty());
        let tmp = tempfile::tempdir().unwrap();
        assert!(discover(tmp.path(), "x", None).unwrap().files.is_empty());
    }

    #[test]
    fn models_module_forms_resolve_to_the_same_module() {
        let tmp = crate_with(&[
            "src/models.rs",
            "src/users/models.rs",
            "src/db/models.rs",
            "src/db/models/accounts.rs",
        ]);
        for value in [
            "crate::db::models",
            "db::models",
            "example_app::db::models",
            "example_app.db.models",
            "src/db/models.rs",
            "./src/db/models",
        ] {
            let found = discover(tmp.path(), "example-app", Some(&setting(value))).unwrap();
            assert_eq!(
                found.files,
                ["src/db/models.rs", "src/db/models/accounts.rs"],
                "{value}"
            );
            assert_eq!(found.mode, Mode::Explicit(setting(value)));
        }
    }

    #[test]
    fn models_module_reads_a_mod_rs_directory_module() {
        let tmp = crate_with(&["src/db/models/mod.rs", "src/db/models/a.rs"]);
        let found = discover(tmp.path(), "x", Some(&setting("crate::db::models"))).unwrap();
        assert_eq!(found.files, ["src/db/models/a.rs", "src/db/models/mod.rs"]);
    }

    #[test]
    fn unresolved_models_module_lists_what_was_tried() {
        let tmp = crate_with(&["src/models.rs"]);
        let err = discover(tmp.path(), "x", Some(&setting("crate::db::models"))).unwrap_err();
        match &err {
            Error::ModelsModuleUnresolved { tried, .. } => {
                assert_eq!(tried, &["src/db/models.rs", "src/db/models/mod.rs"])
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "MODELS_MODULE=crate::db::models (from .env) names no module: tried src/db/models.rs, \
             src/db/models/mod.rs"
        );
    }

    #[test]
    fn module_paths_for_messages() {
        assert_eq!(
            module_path("example-app", "src/users/models.rs"),
            "example_app::users::models"
        );
        assert_eq!(module_path("x", "src/models/mod.rs"), "x::models");
        assert_eq!(module_path("x", "src/lib.rs"), "x");
        assert_eq!(module_path("x", "src/main.rs"), "x");
        assert_eq!(module_path("x", "src/a/b.rs"), "x::a::b");
        assert_eq!(module_path("x", "src/bin/tool.rs"), "tool");
        assert_eq!(module_path("x", "src/bin/my-tool/main.rs"), "my_tool");
        assert_eq!(module_path("x", "src/bin/tool/db.rs"), "tool::db");
    }
}
