//! Where `MODELS_MODULE` comes from: the environment, else `.env` in the crate root, else `.env`
//! in the workspace root (the nearest ancestor whose `Cargo.toml` has a `[workspace]` table).

use crate::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

/// The variable that overrides model discovery.
pub const MODELS_MODULE: &str = "MODELS_MODULE";

/// The variable the runtime connects with; build.rs reruns when it changes.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// Where a setting was found, for messages (`MODELS_MODULE=db::models (from .env)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The process environment.
    Environment,
    /// A `.env` file, by its path relative to the crate root (`.env`, `../.env`).
    DotEnv(String),
    /// [`Builder::models_module`](crate::Builder::models_module).
    Builder,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Environment => f.write_str("from the environment"),
            Origin::DotEnv(path) => write!(f, "from {path}"),
            Origin::Builder => f.write_str("from Builder::models_module"),
        }
    }
}

/// A `MODELS_MODULE` value and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value as written (`crate::db::models`, `src/db/models.rs`).
    pub value: String,
    /// Where it was found.
    pub origin: Origin,
}

/// A `.env` file that exists, by its path relative to the crate root and on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEnvFile {
    /// Relative to the crate root with `/` separators: what rerun lines and messages show.
    pub rel_path: String,
    /// On disk.
    pub abs_path: PathBuf,
}

/// The `.env` files that apply to a crate, crate root first, each listed once.
///
/// # Errors
///
/// [`Error::Io`] when a `Cargo.toml` on the way up cannot be read.
pub fn dotenv_files(crate_dir: &Path) -> Result<Vec<DotEnvFile>, Error> {
    Ok(existing_dotenv_files(&dotenv_candidates(crate_dir)?))
}

/// Those of `candidates` (see [`dotenv_candidates`]) that exist: the `.env` files that apply.
pub fn existing_dotenv_files(candidates: &[DotEnvFile]) -> Vec<DotEnvFile> {
    candidates
        .iter()
        .filter(|file| file.abs_path.is_file())
        .cloned()
        .collect()
}

/// Where `.env` files would apply to a crate, whether they exist or not: the crate root, then
/// the workspace root when that is another directory. A build script watches those that do not
/// exist yet for their creation.
///
/// # Errors
///
/// [`Error::Io`] when a `Cargo.toml` on the way up cannot be read.
pub fn dotenv_candidates(crate_dir: &Path) -> Result<Vec<DotEnvFile>, Error> {
    let mut dirs = vec![(String::new(), crate_dir.to_path_buf())];
    if let Some((depth, root)) = workspace_root(crate_dir)? {
        if depth > 0 {
            dirs.push(("../".repeat(depth), root));
        }
    }
    Ok(dirs
        .into_iter()
        .map(|(prefix, dir)| DotEnvFile {
            rel_path: format!("{prefix}.env"),
            abs_path: dir.join(".env"),
        })
        .collect())
}

/// The nearest directory at or above `crate_dir` whose `Cargo.toml` has a `[workspace]` table,
/// with how many levels up it is. A `Cargo.toml` that is not valid TOML is passed over: it is
/// cargo's to report.
///
/// # Errors
///
/// [`Error::Io`] when a `Cargo.toml` exists but cannot be read.
pub fn workspace_root(crate_dir: &Path) -> Result<Option<(usize, PathBuf)>, Error> {
    for (depth, dir) in crate_dir.ancestors().enumerate() {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).map_err(|source| Error::Io {
            path: manifest.display().to_string(),
            source,
        })?;
        let has_workspace = toml::from_str::<toml::Table>(&text)
            .map(|table| table.contains_key("workspace"))
            .unwrap_or(false);
        if has_workspace {
            return Ok(Some((depth, dir.to_path_buf())));
        }
    }
    Ok(None)
}

/// Looks `name` up in the given environment value, then in each `.env` file in order.
///
/// As the runtime and the `bluefox` command read `.env`, the first entry of `name` wins (in the
/// first file that has one; a later entry or file never overrides it), and an empty value counts
/// as unset, so the build and the running app agree on `DATABASE_URL` and its dialect.
///
/// # Errors
///
/// [`Error::Io`] when a `.env` file cannot be read, [`Error::DotEnv`] when it is malformed.
pub fn lookup(
    name: &str,
    from_environment: Option<String>,
    files: &[DotEnvFile],
) -> Result<Option<Setting>, Error> {
    if let Some(value) = from_environment.filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Setting {
            value: value.trim().to_string(),
            origin: Origin::Environment,
        }));
    }
    for file in files {
        if let Some(value) = read_dotenv_var(file, name)? {
            let value = value.trim();
            return Ok((!value.is_empty()).then(|| Setting {
                value: value.to_string(),
                origin: Origin::DotEnv(file.rel_path.clone()),
            }));
        }
    }
    Ok(None)
}

/// The value of the first entry of `name` in `file`, if it has one; every line is parsed, so a
/// malformed line anywhere is an error, as it is for the runtime.
fn read_dotenv_var(file: &DotEnvFile, name: &str) -> Result<Option<String>, Error> {
    let bytes = std::fs::read(&file.abs_path).map_err(|source| Error::Io {
        path: file.rel_path.clone(),
        source,
    })?;
    let mut found = None;
    for item in dotenvy::from_read_iter(bytes.as_slice()) {
        let (key, value) = item.map_err(|err| Error::DotEnv {
            path: file.rel_path.clone(),
            message: dotenv_error_text(&err),
        })?;
        if key == name && found.is_none() {
            found = Some(value);
        }
    }
    Ok(found)
}

/// dotenvy's message without the text of the offending line, which may hold a password
/// (`DATABASE_URL=postgres://user:secret@...`).
fn dotenv_error_text(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(_, index) => {
            format!("a line does not parse (error at character {index} of that line); its text is not shown as it may hold a secret")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn finds_crate_and_workspace_dotenv_relative_to_the_crate() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/app\"]\n",
        );
        write(&root.join(".env"), "MODELS_MODULE=crate::db::models\n");
        let app = root.join("crates/app");
        write(&app.join("Cargo.toml"), "[package]\nname = \"app\"\n");
        let files = dotenv_files(&app).unwrap();
        assert_eq!(
            files
                .iter()
                .map(|f| f.rel_path.as_str())
                .collect::<Vec<_>>(),
            ["../../.env"]
        );
        let setting = lookup(MODELS_MODULE, None, &files).unwrap().unwrap();
        assert_eq!(setting.value, "crate::db::models");
        assert_eq!(setting.origin, Origin::DotEnv("../../.env".into()));

        write(
            &app.join(".env"),
            "# app\nMODELS_MODULE=\"src/db/models.rs\"\n",
        );
        let files = dotenv_files(&app).unwrap();
        assert_eq!(
            files
                .iter()
                .map(|f| f.rel_path.as_str())
                .collect::<Vec<_>>(),
            [".env", "../../.env"]
        );
        let setting = lookup(MODELS_MODULE, None, &files).unwrap().unwrap();
        assert_eq!(setting.value, "src/db/models.rs");
        assert_eq!(setting.origin.to_string(), "from .env");

        let setting = lookup(MODELS_MODULE, Some("db::models".into()), &files)
            .unwrap()
            .unwrap();
        assert_eq!(setting.origin, Origin::Environment);
        assert_eq!(setting.value, "db::models");
    }

    #[test]
    fn the_first_entry_wins_as_for_the_runtime_and_an_empty_one_is_unset() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/app\"]\n",
        );
        write(
            &root.join(".env"),
            "DATABASE_URL=sqlite://root.db\nMODELS_MODULE=crate::db\n",
        );
        let app = root.join("crates/app");
        write(&app.join("Cargo.toml"), "[package]\nname = \"app\"\n");
        write(
            &app.join(".env"),
            "DATABASE_URL=postgres://db/app\nDATABASE_URL=sqlite://app.db\nMODELS_MODULE=\n",
        );
        let files = dotenv_files(&app).unwrap();
        let url = lookup("DATABASE_URL", None, &files).unwrap().unwrap();
        assert_eq!(url.value, "postgres://db/app");
        assert_eq!(url.origin.to_string(), "from .env");
        // Set but empty in the crate's .env: unset, not the workspace root's value.
        assert_eq!(lookup(MODELS_MODULE, None, &files).unwrap(), None);
        // tests/tests/dotenv.rs checks that the runtime reads the same.
    }

    #[test]
    fn crate_that_is_its_own_workspace_lists_its_dotenv_once() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\n[workspace]\n",
        );
        write(&tmp.path().join(".env"), "DATABASE_URL=postgres://x\n");
        let files = dotenv_files(tmp.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].rel_path, ".env");
        assert_eq!(lookup(MODELS_MODULE, None, &files).unwrap(), None);
    }

    #[test]
    fn malformed_dotenv_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join(".env"), "MODELS_MODULE='unterminated\n");
        let files = dotenv_files(tmp.path()).unwrap();
        let err = lookup(MODELS_MODULE, None, &files).unwrap_err();
        assert!(
            err.to_string().starts_with(".env: cannot read .env"),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_line_is_reported_without_its_text() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".env");
        fs::write(&path, "DATABASE_URL='postgres://u:canary-secret@h/db\n").unwrap();
        let file = DotEnvFile {
            rel_path: ".env".into(),
            abs_path: path,
        };
        let err = read_dotenv_var(&file, "DATABASE_URL")
            .unwrap_err()
            .to_string();
        assert!(err.contains(".env"), "{err}");
        assert!(!err.contains("canary-secret"), "{err}");
    }
}
