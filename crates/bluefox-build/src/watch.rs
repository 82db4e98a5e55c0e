//! Noticing that a path appears without running the build script on every build until it does.
//!
//! Some inputs may not exist yet: the migrations directory before the first `bluefox make`, a
//! `.env` at the crate or workspace root that nobody has written. cargo counts a missing
//! `rerun-if-changed` path as changed, so listing such a path reruns the build script (and
//! recompiles the crate after it) on every `cargo build` until the path exists. Leaving it out
//! would miss its creation. Watching its parent directory instead does not work either: cargo
//! watches a directory by the newest modification time of everything under it, so the crate
//! directory would rerun the script for an edited README (and, with `target/` inside it, after
//! every build).
//!
//! So the build script makes a directory in OUT_DIR (`bluefox_embedded.watch`) that holds one
//! symbolic link per missing path, pointing at where it would be, and lists that directory
//! instead. The directory's own modification time is set far in the past. cargo walks it
//! following links and skips a link that leads nowhere, so while nothing appears the directory
//! is older than the last run and the build stays fresh; once a path appears, cargo reads the
//! modification time of what the link now leads to (newer than the last run) and reruns the
//! script, which then lists the path itself.
//!
//! Like every `rerun-if-changed` check this goes by modification times: a directory moved into
//! place with an old time stamp (`mv`, `cp -p` of an old one) is not seen until something under
//! it or another input changes. Without symbolic links (other platforms than Unix), or when the
//! directory cannot be made, a missing migrations directory is listed itself, as before (correct,
//! but the script reruns on every build until it exists), and a missing `.env` is not watched
//! (see [`Generated::creation_watch`](crate::Generated::creation_watch)).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The modification time given to the watch directory: long before any build.
fn long_ago() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(86_400)
}

/// The watch directory inside OUT_DIR for the generated file `file_name`
/// (`bluefox_embedded.rs` → `bluefox_embedded.watch`), so two builders that embed two migrations
/// directories into one OUT_DIR keep one each.
pub fn dir_name(file_name: &str) -> String {
    format!(
        "{}.watch",
        file_name.strip_suffix(".rs").unwrap_or(file_name)
    )
}

/// The name of the link for a path relative to the crate root (`../../.env` → `..%..%.env`).
fn link_name(rel_path: &str) -> String {
    rel_path.replace(['/', '\\'], "%")
}

/// Makes `watch_dir` hold exactly one link per path of `missing` (relative to `crate_dir`, which
/// must be absolute), each pointing at where that path would be, with an old modification time;
/// leaves it alone when it already does. Returns whether the directory stands for `missing`
/// (when not, list the paths themselves).
pub fn prepare(watch_dir: &Path, crate_dir: &Path, missing: &[String]) -> bool {
    if !crate_dir.is_absolute() {
        return false;
    }
    let mut links: Vec<(String, PathBuf)> = missing
        .iter()
        .map(|rel| (link_name(rel), crate_dir.join(rel)))
        .collect();
    links.sort();
    if is_current(watch_dir, &links) {
        return true;
    }
    make(watch_dir, &links).is_ok()
}

/// Removes the watch directory once nothing is missing (it only holds links, which
/// `remove_dir_all` removes without following). A directory that cannot be removed costs nothing
/// but the walk of a few links.
pub fn remove(watch_dir: &Path) {
    if fs::symlink_metadata(watch_dir).is_ok() {
        let _ = fs::remove_dir_all(watch_dir);
    }
}

/// Whether `dir` is a directory with the old time stamp holding exactly `links`.
fn is_current(dir: &Path, links: &[(String, PathBuf)]) -> bool {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return false;
    };
    if !meta.is_dir() || meta.modified().ok() != Some(long_ago()) {
        return false;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut found = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else {
            return false;
        };
        let Ok(target) = fs::read_link(entry.path()) else {
            return false;
        };
        found.push((entry.file_name().to_string_lossy().into_owned(), target));
    }
    found.sort();
    found == links
}

#[cfg(unix)]
fn make(dir: &Path, links: &[(String, PathBuf)]) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    fs::create_dir_all(dir)?;
    for (name, target) in links {
        std::os::unix::fs::symlink(target, dir.join(name))?;
    }
    // Made during this run, the directory would be newer than the run's start, which cargo
    // records as the time of the last build: the next build would rerun the script once more.
    fs::File::open(dir)?.set_modified(long_ago())
}

#[cfg(not(unix))]
fn make(_dir: &Path, _links: &[(String, PathBuf)]) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no symbolic links for a build script here",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_point_where_the_paths_would_be_and_the_directory_is_old() {
        let tmp = tempfile::tempdir().unwrap();
        let crate_dir = tmp.path().join("app");
        fs::create_dir_all(&crate_dir).unwrap();
        let watch = tmp.path().join("out").join(dir_name("bluefox_embedded.rs"));
        assert!(watch.ends_with("bluefox_embedded.watch"));
        let missing = vec!["migrations".to_string(), ".env".to_string()];
        assert!(prepare(&watch, &crate_dir, &missing));
        assert_eq!(
            fs::metadata(&watch).unwrap().modified().unwrap(),
            long_ago()
        );
        assert_eq!(
            fs::read_link(watch.join("migrations")).unwrap(),
            crate_dir.join("migrations")
        );
        assert_eq!(
            fs::read_link(watch.join(".env")).unwrap(),
            crate_dir.join(".env")
        );
        // The same set again: nothing is rewritten.
        assert!(is_current(&watch, &{
            let mut links: Vec<_> = missing
                .iter()
                .map(|rel| (link_name(rel), crate_dir.join(rel)))
                .collect();
            links.sort();
            links
        }));
        assert!(prepare(&watch, &crate_dir, &missing));
        // A smaller set replaces the links; the directory is old again.
        assert!(prepare(&watch, &crate_dir, &["../../.env".to_string()]));
        let names: Vec<String> = fs::read_dir(&watch)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["..%..%.env"]);
        assert_eq!(
            fs::metadata(&watch).unwrap().modified().unwrap(),
            long_ago()
        );
        // The links are removed with the directory, never what they point at.
        fs::create_dir_all(crate_dir.join("migrations")).unwrap();
        assert!(prepare(&watch, &crate_dir, &["migrations".to_string()]));
        remove(&watch);
        assert!(!watch.exists());
        assert!(crate_dir.join("migrations").is_dir());
        // A relative crate directory cannot be pointed at from OUT_DIR.
        assert!(!prepare(&watch, Path::new("app"), &missing));
    }
}
