//! Replaying the build script's last output when nothing it reads has changed.
//!
//! cargo reruns the build script whenever anything under `src` changes (the rerun set must
//! include `src` so new model files and stray `BluefoxBase` structs are seen), so editing
//! `main.rs` reruns it. Parsing every model, reading every migration and rendering the embedded
//! file then costs hundreds of milliseconds on every incremental build. Instead, the script keeps
//! in OUT_DIR a key of what it read last time, with the lines it printed; when it reads the same
//! key again it prints those lines and stops.
//!
//! The key holds, for every file under each `rerun-if-changed` path (directories are walked in
//! sorted order), its path, its length and a 128-bit SipHash-1-3 digest of its bytes (never a
//! time stamp, so a touched file still replays and a changed one never does); the values of the
//! `rerun-if-env-changed` variables and the builder's settings as digests (so a password in
//! `DATABASE_URL` is never written to disk); and the build script binary's size and time stamp.
//!
//! One kind of file counts by less than its bytes: a `.rs` file met while walking a directory
//! (every file under `src`) counts by its path and whether it mentions `BluefoxBase`, and by its
//! length and digest only when it does (or is not UTF-8). That is all a full run reads of such a
//! file: the lint for stray `BluefoxBase` structs passes over a file that does not mention the
//! name, and the model files, every byte of which counts, are `rerun-if-changed` paths of their
//! own. So an edit of `main.rs` that adds no `BluefoxBase` replays, and a replay is still exactly
//! the output a full run would give.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cache file inside OUT_DIR.
pub const CACHE_FILE_NAME: &str = "bluefox_build.cache";

const MAGIC: &[u8] = b"bluefox-build cache 2\n";

/// What a `.rs` file under a walked directory counts as when it does not mention `BluefoxBase`.
const RS_WITHOUT_MODELS: &[u8] = b"\0rs without BluefoxBase";

/// What decides a build script's output, read from disk and the environment: a key of a few
/// dozen bytes per file, not the files' bytes.
#[derive(Debug, Clone)]
pub struct Inputs {
    key: Vec<u8>,
    newest: Option<SystemTime>,
    /// The length-and-digest field of each file digested so far, by the path it is shown as: a
    /// model file is met twice (under `src`, and as a path of its own), and digesting a file
    /// costs a pass over its bytes in an unoptimised build script.
    digested: BTreeMap<String, [u8; 24]>,
    /// Every path looked at, with its time stamp then (`None`: it did not exist), so
    /// [`Inputs::all_older_than`] can tell that none changed after it was read.
    seen: Vec<(PathBuf, Option<SystemTime>)>,
}

impl PartialEq for Inputs {
    fn eq(&self, other: &Inputs) -> bool {
        self.key == other.key
    }
}

impl Eq for Inputs {}

impl Inputs {
    /// Reads the inputs: `settings` (the builder's configuration, as text), the build script
    /// binary's size and time stamp, the values of `env_vars`, and every file under each of
    /// `paths` (relative to `crate_dir`, or absolute; directories are walked, in sorted order).
    ///
    /// The settings and the variables' values are kept only as digests, so a password in
    /// `DATABASE_URL` is never written to the cache file.
    pub fn read(crate_dir: &Path, settings: &str, paths: &[String], env_vars: &[String]) -> Inputs {
        let mut inputs = Inputs {
            key: Vec::with_capacity(4096),
            newest: None,
            digested: BTreeMap::new(),
            seen: Vec::new(),
        };
        let key = &mut inputs.key;
        push(key, &digest(settings.as_bytes()));
        let exe = std::env::current_exe().and_then(fs::metadata);
        let exe_id = match exe {
            Ok(meta) => format!("{} {:?}", meta.len(), meta.modified().ok()),
            Err(_) => "unknown".to_string(),
        };
        push(key, exe_id.as_bytes());
        for name in env_vars {
            push(key, name.as_bytes());
            match std::env::var_os(name) {
                Some(value) => push(key, &digest(value.as_encoded_bytes())),
                None => push(key, b"\0unset"),
            }
        }
        inputs.add_paths(crate_dir, paths);
        inputs
    }

    /// Reads more paths into the key, after those read already: `read` with `paths` then
    /// `add_paths` with `more` gives the key `read` gives with both lists joined.
    pub fn add_paths(&mut self, crate_dir: &Path, paths: &[String]) {
        for path in paths {
            self.add_path(&crate_dir.join(path), path, false);
        }
    }

    /// Whether every file read was last modified before `time`, both when it was read and now,
    /// and every path that did not exist still does not (so none changed after the run that
    /// started at `time` began, whether the run read it before or after this key did, and this
    /// key is of what the run saw).
    pub fn all_older_than(&self, time: SystemTime) -> bool {
        self.newest.is_none_or(|newest| newest < time)
            && self.seen.iter().all(|(path, then)| {
                let now = fs::metadata(path).and_then(|meta| meta.modified());
                match (then, now) {
                    (Some(_), Ok(now)) => now < time,
                    (None, Err(_)) => true,
                    _ => false,
                }
            })
    }

    /// Adds a path: a file by its content, a directory by its entries; `walked` when it was met
    /// while walking a directory.
    fn add_path(&mut self, full: &Path, shown: &str, walked: bool) {
        push(&mut self.key, shown.as_bytes());
        let meta = match fs::metadata(full) {
            Ok(meta) => meta,
            Err(_) => {
                self.seen.push((full.to_path_buf(), None));
                return push(&mut self.key, b"\0missing");
            }
        };
        let modified = meta.modified().ok();
        if let Some(modified) = modified {
            self.newest = Some(self.newest.map_or(modified, |n| n.max(modified)));
        }
        self.seen.push((full.to_path_buf(), modified));
        if !meta.is_dir() {
            if let Some(field) = self.digested.get(shown) {
                let field = *field;
                return push(&mut self.key, &field);
            }
            match fs::read(full) {
                Ok(content) => {
                    let stray_scan = walked && shown.ends_with(".rs");
                    if let Some(field) = self.add_content(&content, stray_scan) {
                        self.digested.insert(shown.to_string(), field);
                    }
                }
                Err(_) => push(&mut self.key, b"\0unreadable"),
            }
            return;
        }
        let mut entries: Vec<(String, PathBuf)> = match fs::read_dir(full) {
            Ok(entries) => entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect(),
            Err(_) => return push(&mut self.key, b"\0unreadable"),
        };
        entries.sort();
        push(&mut self.key, b"\0dir");
        for (name, path) in entries {
            self.add_path(&path, &format!("{shown}/{name}"), true);
        }
    }

    /// Adds a file's content: its length and digest (returned, for a file met again), or for a
    /// `.rs` file under a walked directory (`stray_scan`) that does not mention `BluefoxBase`,
    /// only that.
    fn add_content(&mut self, content: &[u8], stray_scan: bool) -> Option<[u8; 24]> {
        if stray_scan {
            let no_models = std::str::from_utf8(content)
                .is_ok_and(|text| !crate::model::mentions_bluefox_base(text));
            if no_models {
                push(&mut self.key, RS_WITHOUT_MODELS);
                return None;
            }
        }
        let mut field = [0u8; 24];
        field[..8].copy_from_slice(&(content.len() as u64).to_le_bytes());
        field[8..].copy_from_slice(&digest(content));
        push(&mut self.key, &field);
        Some(field)
    }
}

/// A 128-bit SipHash-1-3 digest: the same bytes give the same digest on every run and platform.
fn digest(value: &[u8]) -> [u8; 16] {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut hasher = SipHasher13::new();
    hasher.write(value);
    hasher.finish128().as_bytes()
}

/// Appends a length-prefixed field, so two different sequences never give the same bytes.
fn push(bytes: &mut Vec<u8>, field: &[u8]) {
    bytes.extend_from_slice(&(field.len() as u64).to_le_bytes());
    bytes.extend_from_slice(field);
}

/// What [`Cache::replay`] found.
#[derive(Debug)]
pub enum Replay {
    /// The stored output, to print instead of running.
    Hit(Vec<u8>),
    /// Nothing to replay; the inputs it read to find out, if a run was stored, so a run whose
    /// rerun set is the same need not read them again to store itself.
    Miss(Option<ReadInputs>),
}

impl Replay {
    /// The output to replay, if any.
    pub fn output(self) -> Option<Vec<u8>> {
        match self {
            Replay::Hit(output) => Some(output),
            Replay::Miss(_) => None,
        }
    }
}

/// Inputs read for the rerun set of a stored run.
#[derive(Debug)]
pub struct ReadInputs {
    /// The `rerun-if-changed` paths they were read for.
    pub paths: Vec<String>,
    /// The `rerun-if-env-changed` variables they were read for.
    pub env_vars: Vec<String>,
    /// What was read.
    pub inputs: Inputs,
}

/// The cache of one OUT_DIR.
#[derive(Debug, Clone)]
pub struct Cache {
    path: PathBuf,
}

/// What a stored run recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The `rerun-if-changed` paths of the run.
    pub paths: Vec<String>,
    /// The `rerun-if-env-changed` variables of the run.
    pub env_vars: Vec<String>,
    /// The generated file the run wrote (inside OUT_DIR).
    pub file_name: String,
    /// The inputs it read.
    pub inputs: Inputs,
    /// Everything it printed.
    pub output: Vec<u8>,
}

impl Cache {
    /// The cache in `out_dir` of a build script that embeds the default migrations directory.
    pub fn new(out_dir: &Path) -> Cache {
        Cache {
            path: out_dir.join(CACHE_FILE_NAME),
        }
    }

    /// The cache in `out_dir` for the migrations directory `migrations_dir`:
    /// [`CACHE_FILE_NAME`] for the default one, `bluefox_build.<dir>.cache` for another, so a
    /// build script that embeds two directories (one per dialect) keeps a cache for each instead
    /// of each run replacing the other's.
    pub fn for_migrations_dir(out_dir: &Path, migrations_dir: &str) -> Cache {
        if migrations_dir == crate::DEFAULT_MIGRATIONS_DIR {
            return Cache::new(out_dir);
        }
        let name = migrations_dir.replace(['/', '\\'], "%");
        Cache {
            path: out_dir.join(format!("bluefox_build.{name}.cache")),
        }
    }

    /// The stored output, when the stored inputs are what `read` reads now (given the stored
    /// paths and variables) and the generated file is still there.
    pub fn replay(&self, read: impl FnOnce(&[String], &[String]) -> Inputs) -> Replay {
        let Some(stored) = self.load() else {
            return Replay::Miss(None);
        };
        let generated = self
            .path
            .parent()
            .is_some_and(|out_dir| out_dir.join(&stored.file_name).is_file());
        let inputs = read(&stored.paths, &stored.env_vars);
        if generated && inputs == stored.inputs {
            return Replay::Hit(stored.output);
        }
        Replay::Miss(Some(ReadInputs {
            paths: stored.paths,
            env_vars: stored.env_vars,
            inputs,
        }))
    }

    /// Records a successful run. A cache that cannot be written only costs the next run its
    /// shortcut, so the error is returned for the caller to ignore.
    ///
    /// # Errors
    /// Whatever writing the file returns.
    pub fn store(&self, stored: &Stored) -> io::Result<()> {
        let mut bytes = MAGIC.to_vec();
        push(&mut bytes, stored.paths.join("\n").as_bytes());
        push(&mut bytes, stored.env_vars.join("\n").as_bytes());
        push(&mut bytes, stored.file_name.as_bytes());
        push(&mut bytes, &stored.inputs.key);
        push(&mut bytes, &stored.output);
        fs::write(&self.path, bytes)
    }

    fn load(&self) -> Option<Stored> {
        let bytes = fs::read(&self.path).ok()?;
        let mut rest = bytes.strip_prefix(MAGIC)?;
        let mut field = || -> Option<Vec<u8>> {
            let len = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?) as usize;
            let end = len.checked_add(8)?;
            let value = rest.get(8..end)?.to_vec();
            rest = &rest[end..];
            Some(value)
        };
        let lines = |v: Vec<u8>| -> Option<Vec<String>> {
            let text = String::from_utf8(v).ok()?;
            Some(match text.is_empty() {
                true => Vec::new(),
                false => text.split('\n').map(str::to_string).collect(),
            })
        };
        let paths = lines(field()?)?;
        let env_vars = lines(field()?)?;
        let file_name = String::from_utf8(field()?).ok()?;
        let inputs = Inputs {
            key: field()?,
            newest: None,
            digested: BTreeMap::new(),
            seen: Vec::new(),
        };
        let output = field()?;
        Some(Stored {
            paths,
            env_vars,
            file_name,
            inputs,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let crate_dir = dir.path().join("app");
        let out_dir = dir.path().join("out");
        fs::create_dir_all(crate_dir.join("src/models")).unwrap();
        fs::create_dir_all(crate_dir.join("migrations")).unwrap();
        fs::create_dir_all(&out_dir).unwrap();
        fs::write(crate_dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        fs::write(crate_dir.join("src/models/a.rs"), "struct A;\n").unwrap();
        fs::write(crate_dir.join("migrations/V1__a.sql"), "SELECT 1;\n").unwrap();
        fs::write(out_dir.join("gen.rs"), "// generated\n").unwrap();
        (dir, crate_dir, out_dir)
    }

    /// The rerun set a build script prints for `setup`: the directories and the model file.
    fn paths() -> Vec<String> {
        ["migrations", "src", "src/models/a.rs"]
            .map(str::to_string)
            .to_vec()
    }

    fn store(crate_dir: &Path, cache: &Cache) {
        let env_vars = vec!["BLUEFOX_CACHE_TEST_UNSET".to_string()];
        let inputs = Inputs::read(crate_dir, "settings", &paths(), &env_vars);
        cache
            .store(&Stored {
                paths: paths(),
                env_vars,
                file_name: "gen.rs".into(),
                inputs,
                output: b"cargo:rerun-if-changed=src\n".to_vec(),
            })
            .unwrap();
    }

    #[test]
    fn replays_only_while_every_input_is_the_same() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        assert_eq!(cache.replay(read).output(), None, "nothing stored yet");
        store(&crate_dir, &cache);
        assert_eq!(
            cache.replay(read).output().as_deref(),
            Some(&b"cargo:rerun-if-changed=src\n"[..])
        );
        // Rewriting a file with the same bytes (a touch) still replays.
        fs::write(crate_dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        assert!(cache.replay(read).output().is_some());
        // Other settings, an edited model, a new migration, a removed generated file: no replay.
        let other = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "other", p, e);
        assert_eq!(cache.replay(other).output(), None);
        fs::write(crate_dir.join("src/models/a.rs"), "struct B;\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("migrations/V2__b.sql"), "SELECT 2;\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        assert!(cache.replay(read).output().is_some());
        fs::remove_file(out_dir.join("gen.rs")).unwrap();
        assert_eq!(cache.replay(read).output(), None);
    }

    #[test]
    fn a_change_of_the_same_length_misses() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("migrations/V1__a.sql"), "SELECT 2;\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
        fs::write(crate_dir.join("migrations/V1__a.sql"), "SELECT 1;\n").unwrap();
        assert!(
            cache.replay(read).output().is_some(),
            "the same bytes again"
        );
        fs::write(crate_dir.join("src/models/a.rs"), "struct Z;\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
    }

    #[test]
    fn a_file_under_src_counts_only_by_what_the_stray_lint_reads() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        fs::write(
            crate_dir.join("src/lib.rs"),
            "#[derive(BluefoxBase)]\npub struct Orphan { id: i64 }\n",
        )
        .unwrap();
        store(&crate_dir, &cache);
        // An edit of main.rs that adds no BluefoxBase: a full run would print the same.
        fs::write(
            crate_dir.join("src/main.rs"),
            "fn main() {\n    println!(\"hi\");\n}\n",
        )
        .unwrap();
        assert!(cache.replay(read).output().is_some());
        // A file that mentions BluefoxBase counts by its bytes: the lint parses it.
        fs::write(
            crate_dir.join("src/lib.rs"),
            "#[derive(BluefoxBase)]\npub struct Orphan { id: i32 }\n",
        )
        .unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        // So does main.rs once it mentions the name, and a new file, and a file that is not
        // UTF-8 (a full run stops on it).
        fs::write(
            crate_dir.join("src/main.rs"),
            "// BluefoxBase\nfn main() {}\n",
        )
        .unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), "pub fn f() {}\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), b"pub fn f() {}\xff\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), b"pub fn f() {}\xfe\n").unwrap();
        assert_eq!(cache.replay(read).output(), None);
    }

    #[test]
    fn the_cache_file_holds_digests_not_file_bytes() {
        let (_dir, crate_dir, out_dir) = setup();
        let big = "// BluefoxBase\n".repeat(100_000);
        fs::write(crate_dir.join("src/big.rs"), &big).unwrap();
        fs::write(crate_dir.join("migrations/V2__big.sql"), &big).unwrap();
        let cache = Cache::new(&out_dir);
        store(&crate_dir, &cache);
        let size = fs::metadata(out_dir.join(CACHE_FILE_NAME)).unwrap().len();
        assert!(
            size < 4096,
            "{size} bytes for {} bytes of input",
            2 * big.len()
        );
        let stored = cache.load().unwrap();
        assert!(
            !stored
                .inputs
                .key
                .windows(14)
                .any(|w| w == b"// BluefoxBase"),
            "file bytes in the cache"
        );
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        assert!(cache.replay(read).output().is_some());
        fs::write(crate_dir.join("src/big.rs"), big.replacen("//", "/*", 1)).unwrap();
        assert_eq!(cache.replay(read).output(), None);
    }

    #[test]
    fn two_migrations_directories_keep_a_cache_each() {
        let (_dir, crate_dir, out_dir) = setup();
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        let default = Cache::for_migrations_dir(&out_dir, "migrations");
        assert_eq!(default.path, out_dir.join(CACHE_FILE_NAME));
        store(&crate_dir, &default);
        let sqlite = Cache::for_migrations_dir(&out_dir, "migrations-sqlite");
        assert_eq!(sqlite.replay(read).output(), None);
        store(&crate_dir, &sqlite);
        assert!(out_dir
            .join("bluefox_build.migrations-sqlite.cache")
            .is_file());
        assert!(default.replay(read).output().is_some());
        assert!(sqlite.replay(read).output().is_some());
    }

    #[test]
    fn a_model_file_met_twice_is_read_once_into_the_same_key() {
        let (_dir, crate_dir, _out_dir) = setup();
        fs::write(
            crate_dir.join("src/models/a.rs"),
            "#[derive(BluefoxBase)]\nstruct A { id: i64 }\n",
        )
        .unwrap();
        let read = |paths: &[&str]| {
            let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            Inputs::read(&crate_dir, "settings", &paths, &[])
        };
        let together = read(&["src", "src/models/a.rs"]);
        assert_eq!(together.digested.len(), 1, "{:?}", together.digested);
        // The bytes of each path read on its own, after the common start.
        let start = read(&[]).key.len();
        let mut apart = read(&["src"]).key;
        apart.extend_from_slice(&read(&["src/models/a.rs"]).key[start..]);
        assert_eq!(together.key, apart);
        // Both places count the content.
        fs::write(crate_dir.join("src/models/a.rs"), "// BluefoxBase\n").unwrap();
        assert_ne!(read(&["src", "src/models/a.rs"]).key, together.key);
    }

    #[test]
    fn a_damaged_cache_file_is_a_miss() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        store(&crate_dir, &cache);
        let bytes = fs::read(out_dir.join(CACHE_FILE_NAME)).unwrap();
        fs::write(out_dir.join(CACHE_FILE_NAME), &bytes[..bytes.len() / 2]).unwrap();
        let read = |p: &[String], e: &[String]| Inputs::read(&crate_dir, "settings", p, e);
        assert_eq!(cache.replay(read).output(), None);
    }
}
