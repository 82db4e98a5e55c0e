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
//! sorted order), its path and its content (never a time stamp, so a touched file still replays
//! and a changed one never does); the values of the `rerun-if-env-changed` variables and the
//! builder's settings as digests (so a password in `DATABASE_URL` is never written to disk); and
//! the build script binary's size and time stamp.
//!
//! A file's content is held as its bytes when it is a Rust source, a migration (`.sql`) or the
//! snapshot: the repository and the generated file beside the cache hold those in clear anyway,
//! and comparing bytes is a `memcmp`, where digesting them costs the unoptimised build script
//! about 40 instructions a byte (a replay over 1000 migrations spent nine tenths of its time
//! there). Any other file (`.env`, which may hold a password) is held as its length and a
//! 128-bit SipHash-1-3 digest.
//!
//! One kind of file counts by less than its bytes: a `.rs` file met while walking a directory
//! (every file under `src`) counts by its path and whether it mentions `BluefoxBase`, and by its
//! content only when it does (or is not UTF-8). That is all a full run reads of such a
//! file: the lint for stray `BluefoxBase` structs passes over a file that does not mention the
//! name, and the model files, every byte of which counts, are `rerun-if-changed` paths of their
//! own. So an edit of `main.rs` that adds no `BluefoxBase` replays, and a replay is still exactly
//! the output a full run would give.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cache file inside OUT_DIR.
pub const CACHE_FILE_NAME: &str = "bluefox_build.cache";

const MAGIC: &[u8] = b"bluefox-build cache 3\n";

/// What a `.rs` file under a walked directory counts as when it does not mention `BluefoxBase`.
const RS_WITHOUT_MODELS: &[u8] = b"\0rs without BluefoxBase";

/// The field before a file's bytes, so no content (not even [`RS_WITHOUT_MODELS`]'s bytes)
/// reads as another kind of field.
const BYTES_FOLLOW: &[u8] = b"\0bytes";

/// What decides a build script's output, read from disk and the environment: the key, built
/// to be stored, or compared with a stored one as it is read ([`Inputs::matches`]).
#[derive(Debug, Clone)]
pub struct Inputs {
    key: Key,
    newest: Option<SystemTime>,
    /// Where in the key each file's content field lies, by the path it is shown as: a model
    /// file is met twice (under `src`, and as a path of its own), and is read once.
    counted: BTreeMap<String, Range<usize>>,
    /// Every path looked at, with its time stamp then (`None`: it did not exist), so
    /// [`Inputs::all_older_than`] can tell that none changed after it was read.
    seen: Vec<(PathBuf, Option<SystemTime>)>,
    /// The buffer files are read into, one after the other.
    buffer: Vec<u8>,
}

/// Where the fields of a key go.
#[derive(Debug, Clone)]
enum Key {
    /// Into a key being built.
    Built(Vec<u8>),
    /// Compared with a stored key as they come, rather than gathered and compared at the end: a
    /// replay then holds no second copy of every source and migration, and stops reading at
    /// the first field that differs. `matched` is how far the stored key matched so far;
    /// `None` once a field differed.
    Compared {
        stored: Vec<u8>,
        matched: Option<usize>,
    },
}

impl Key {
    /// Where the next field starts.
    fn len(&self) -> usize {
        match self {
            Key::Built(key) => key.len(),
            Key::Compared { matched, .. } => matched.unwrap_or(0),
        }
    }

    /// Adds a length-prefixed field, so two different sequences never give the same bytes.
    fn put(&mut self, field: &[u8]) {
        match self {
            Key::Built(key) => {
                key.extend_from_slice(&(field.len() as u64).to_le_bytes());
                key.extend_from_slice(field);
            }
            Key::Compared { stored, matched } => {
                *matched = matched.and_then(|at| {
                    let end = at.checked_add(8)?.checked_add(field.len())?;
                    let same = stored.get(at..at + 8)? == (field.len() as u64).to_le_bytes()
                        && stored.get(at + 8..end)? == field;
                    same.then_some(end)
                });
            }
        }
    }

    /// Adds again the field that lies at `earlier` (a range this key returned before).
    fn put_again(&mut self, earlier: Range<usize>) {
        match self {
            Key::Built(key) => key.extend_from_within(earlier),
            Key::Compared { stored, matched } => {
                *matched = matched.and_then(|at| {
                    let end = at.checked_add(earlier.len())?;
                    (stored.get(at..end)? == stored.get(earlier)?).then_some(end)
                });
            }
        }
    }

    /// Whether a compared key already differs from the stored one.
    fn differs(&self) -> bool {
        matches!(self, Key::Compared { matched: None, .. })
    }
}

impl Inputs {
    /// Reads the inputs: `settings` (the builder's configuration, as text), the build script
    /// binary's size and time stamp, the values of `env_vars`, and every file under each of
    /// `paths` (relative to `crate_dir`, or absolute; directories are walked, in sorted order).
    ///
    /// The settings and the variables' values are kept only as digests, so a password in
    /// `DATABASE_URL` is never written to the cache file.
    pub fn read(crate_dir: &Path, settings: &str, paths: &[String], env_vars: &[String]) -> Inputs {
        Inputs::read_into(
            Key::Built(Vec::with_capacity(4096)),
            crate_dir,
            settings,
            paths,
            env_vars,
        )
    }

    /// Whether reading the inputs as [`Inputs::read`] does gives `stored`, the key of a stored
    /// run; reading stops at the first field that differs.
    pub fn matches(
        crate_dir: &Path,
        settings: &str,
        paths: &[String],
        env_vars: &[String],
        stored: Vec<u8>,
    ) -> bool {
        Inputs::compared(crate_dir, settings, paths, env_vars, stored).matched()
    }

    /// The inputs read as far as they match `stored`.
    fn compared(
        crate_dir: &Path,
        settings: &str,
        paths: &[String],
        env_vars: &[String],
        stored: Vec<u8>,
    ) -> Inputs {
        let key = Key::Compared {
            stored,
            matched: Some(0),
        };
        Inputs::read_into(key, crate_dir, settings, paths, env_vars)
    }

    /// Whether compared inputs matched the whole stored key.
    fn matched(&self) -> bool {
        match &self.key {
            Key::Compared { stored, matched } => *matched == Some(stored.len()),
            Key::Built(_) => false,
        }
    }

    /// The key built (empty for compared inputs).
    #[cfg(test)]
    fn built(&self) -> &[u8] {
        match &self.key {
            Key::Built(key) => key,
            Key::Compared { .. } => &[],
        }
    }

    fn read_into(
        key: Key,
        crate_dir: &Path,
        settings: &str,
        paths: &[String],
        env_vars: &[String],
    ) -> Inputs {
        let mut inputs = Inputs {
            key,
            newest: None,
            counted: BTreeMap::new(),
            seen: Vec::new(),
            buffer: Vec::new(),
        };
        let key = &mut inputs.key;
        key.put(&digest(settings.as_bytes()));
        let exe = std::env::current_exe().and_then(fs::metadata);
        let exe_id = match exe {
            Ok(meta) => format!("{} {:?}", meta.len(), meta.modified().ok()),
            Err(_) => "unknown".to_string(),
        };
        key.put(exe_id.as_bytes());
        for name in env_vars {
            key.put(name.as_bytes());
            match std::env::var_os(name) {
                Some(value) => key.put(&digest(value.as_encoded_bytes())),
                None => key.put(b"\0unset"),
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
        if self.key.differs() {
            return;
        }
        self.key.put(shown.as_bytes());
        // A file met before (a model file, under `src` and as a path of its own) counts again
        // as it counted then.
        if let Some(field) = self.counted.get(shown) {
            let field = field.clone();
            return self.key.put_again(field);
        }
        // Opened first, so its metadata and its bytes come through one descriptor (the time
        // stamp read before the bytes: a later change shows in `all_older_than`); where a
        // directory cannot be opened as a file (Windows), or an existing file not at all, the
        // path's metadata says which it is.
        let opened = fs::File::open(full);
        let meta = match &opened {
            Ok(file) => file.metadata(),
            Err(_) => fs::metadata(full),
        };
        let meta = match meta {
            Ok(meta) => meta,
            Err(_) => {
                self.saw(full, None);
                return self.key.put(b"\0missing");
            }
        };
        self.saw(full, meta.modified().ok());
        if !meta.is_dir() {
            let mut content = std::mem::take(&mut self.buffer);
            match opened.and_then(|file| read_file_into(&file, meta.len(), &mut content)) {
                Ok(()) => {
                    let stray_scan = walked && shown.ends_with(".rs");
                    if let Some(field) = self.add_content(&content, shown, stray_scan) {
                        self.counted.insert(shown.to_string(), field);
                    }
                }
                Err(_) => self.key.put(b"\0unreadable"),
            }
            self.buffer = content;
            return;
        }
        let mut entries: Vec<(String, PathBuf)> = match fs::read_dir(full) {
            Ok(entries) => entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect(),
            Err(_) => return self.key.put(b"\0unreadable"),
        };
        entries.sort();
        self.key.put(b"\0dir");
        for (name, path) in entries {
            self.add_path(&path, &format!("{shown}/{name}"), true);
        }
    }

    /// Records a path looked at and its time stamp (`None`: it did not exist), for
    /// [`Inputs::all_older_than`]; only a key being built is stored, so a compared one keeps
    /// nothing.
    fn saw(&mut self, full: &Path, modified: Option<SystemTime>) {
        if let Key::Compared { .. } = self.key {
            return;
        }
        if let Some(modified) = modified {
            self.newest = Some(self.newest.map_or(modified, |n| n.max(modified)));
        }
        self.seen.push((full.to_path_buf(), modified));
    }

    /// Adds a file's content: its bytes or its length and digest (see [`held_as_bytes`]; where
    /// in the key is returned, for a file met again), or for a `.rs` file under a walked
    /// directory (`stray_scan`) that does not mention `BluefoxBase`, only that.
    fn add_content(
        &mut self,
        content: &[u8],
        shown: &str,
        stray_scan: bool,
    ) -> Option<Range<usize>> {
        if stray_scan {
            let no_models = std::str::from_utf8(content)
                .is_ok_and(|text| !crate::model::mentions_bluefox_base(text));
            if no_models {
                self.key.put(RS_WITHOUT_MODELS);
                return None;
            }
        }
        let start = self.key.len();
        if held_as_bytes(shown) {
            self.key.put(BYTES_FOLLOW);
            self.key.put(content);
        } else {
            let mut field = [0u8; 24];
            field[..8].copy_from_slice(&(content.len() as u64).to_le_bytes());
            field[8..].copy_from_slice(&digest(content));
            self.key.put(&field);
        }
        Some(start..self.key.len())
    }
}

/// Reads an open file of `len` bytes (as its metadata said; a file that grew since is read to
/// its end all the same) into `buffer`, replacing what it held: one buffer serves every file,
/// rather than a new allocation (and new pages) for each, and the room reserved up front spares
/// the size probes `fs::read` makes.
fn read_file_into(file: &fs::File, len: u64, buffer: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Read;
    buffer.clear();
    buffer.reserve(usize::try_from(len).unwrap_or(0).saturating_add(64));
    file.take(u64::MAX).read_to_end(buffer)?;
    Ok(())
}

/// Whether a file counts in the key by its bytes rather than by a digest: Rust sources,
/// migrations and the snapshot, whose bytes the repository and the generated file hold in clear
/// anyway. Which it is depends only on the path, so the same path never counts both ways.
fn held_as_bytes(shown: &str) -> bool {
    let name = shown.rsplit('/').next().unwrap_or(shown);
    name.ends_with(".rs")
        || name.ends_with(".sql")
        || name == bluefox_core::snapshot::SNAPSHOT_FILE_NAME
}

/// A 128-bit SipHash-1-3 digest: the same bytes give the same digest on every run and platform.
fn digest(value: &[u8]) -> [u8; 16] {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut hasher = SipHasher13::new();
    hasher.write(value);
    hasher.finish128().as_bytes()
}

/// The cache of one OUT_DIR.
#[derive(Debug, Clone)]
pub struct Cache {
    path: PathBuf,
}

/// What a stored run recorded.
#[derive(Debug, Clone)]
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

    /// The stored output, when what `matches` reads now (given the stored paths, variables and
    /// key; see [`Inputs::matches`]) is the stored key and the generated file is still there.
    pub fn replay(
        &self,
        matches: impl FnOnce(&[String], &[String], Vec<u8>) -> bool,
    ) -> Option<Vec<u8>> {
        let stored = self.load()?;
        let generated = self
            .path
            .parent()
            .is_some_and(|out_dir| out_dir.join(&stored.file_name).is_file());
        (generated && matches(&stored.paths, &stored.env_vars, stored.key)).then_some(stored.output)
    }

    /// Records a successful run. A cache that cannot be written only costs the next run its
    /// shortcut, so the error is returned for the caller to ignore.
    ///
    /// # Errors
    /// Whatever writing the file returns, and `InvalidInput` for inputs that were compared
    /// rather than read.
    pub fn store(&self, stored: &Stored) -> io::Result<()> {
        let Key::Built(key) = &stored.inputs.key else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "inputs compared with a stored key hold no key to store",
            ));
        };
        let mut file = io::BufWriter::new(fs::File::create(&self.path)?);
        file.write_all(MAGIC)?;
        write_field(&mut file, stored.paths.join("\n").as_bytes())?;
        write_field(&mut file, stored.env_vars.join("\n").as_bytes())?;
        write_field(&mut file, stored.file_name.as_bytes())?;
        write_field(&mut file, key)?;
        write_field(&mut file, &stored.output)?;
        file.flush()
    }

    fn load(&self) -> Option<Loaded> {
        let mut bytes = fs::read(&self.path).ok()?;
        let mut at = MAGIC.len();
        if bytes.get(..at)? != MAGIC {
            return None;
        }
        let mut field = || -> Option<Range<usize>> {
            let len = usize::try_from(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
                .ok()?;
            let start = at + 8;
            let end = start.checked_add(len)?;
            bytes.get(start..end)?;
            at = end;
            Some(start..end)
        };
        let (paths, env_vars, file_name) = (field()?, field()?, field()?);
        let (key, output) = (field()?, field()?);
        let lines = |range: Range<usize>| -> Option<Vec<String>> {
            let text = std::str::from_utf8(&bytes[range]).ok()?;
            Some(match text.is_empty() {
                true => Vec::new(),
                false => text.split('\n').map(str::to_string).collect(),
            })
        };
        let paths = lines(paths)?;
        let env_vars = lines(env_vars)?;
        let file_name = std::str::from_utf8(&bytes[file_name]).ok()?.to_string();
        let output = bytes[output].to_vec();
        // The key is most of the file: kept in place rather than copied.
        bytes.truncate(key.end);
        bytes.drain(..key.start);
        Some(Loaded {
            paths,
            env_vars,
            file_name,
            key: bytes,
            output,
        })
    }
}

/// What [`Cache::load`] read of a stored run.
struct Loaded {
    paths: Vec<String>,
    env_vars: Vec<String>,
    file_name: String,
    key: Vec<u8>,
    output: Vec<u8>,
}

/// Writes a length-prefixed field, so two different sequences never give the same bytes.
fn write_field(to: &mut impl io::Write, field: &[u8]) -> io::Result<()> {
    to.write_all(&(field.len() as u64).to_le_bytes())?;
    to.write_all(field)
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
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
        assert_eq!(cache.replay(read), None, "nothing stored yet");
        store(&crate_dir, &cache);
        assert_eq!(
            cache.replay(read).as_deref(),
            Some(&b"cargo:rerun-if-changed=src\n"[..])
        );
        // Rewriting a file with the same bytes (a touch) still replays.
        fs::write(crate_dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        assert!(cache.replay(read).is_some());
        // Other settings, an edited model, a new migration, a removed generated file: no replay.
        let other = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "other", p, e, k);
        assert_eq!(cache.replay(other), None);
        fs::write(crate_dir.join("src/models/a.rs"), "struct B;\n").unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("migrations/V2__b.sql"), "SELECT 2;\n").unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        assert!(cache.replay(read).is_some());
        fs::remove_file(out_dir.join("gen.rs")).unwrap();
        assert_eq!(cache.replay(read), None);
    }

    #[test]
    fn a_change_of_the_same_length_misses() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("migrations/V1__a.sql"), "SELECT 2;\n").unwrap();
        assert_eq!(cache.replay(read), None);
        fs::write(crate_dir.join("migrations/V1__a.sql"), "SELECT 1;\n").unwrap();
        assert!(cache.replay(read).is_some(), "the same bytes again");
        fs::write(crate_dir.join("src/models/a.rs"), "struct Z;\n").unwrap();
        assert_eq!(cache.replay(read), None);
    }

    #[test]
    fn a_file_under_src_counts_only_by_what_the_stray_lint_reads() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
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
        assert!(cache.replay(read).is_some());
        // A file that mentions BluefoxBase counts by its bytes: the lint parses it.
        fs::write(
            crate_dir.join("src/lib.rs"),
            "#[derive(BluefoxBase)]\npub struct Orphan { id: i32 }\n",
        )
        .unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        // So does main.rs once it mentions the name, and a new file, and a file that is not
        // UTF-8 (a full run stops on it).
        fs::write(
            crate_dir.join("src/main.rs"),
            "// BluefoxBase\nfn main() {}\n",
        )
        .unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), "pub fn f() {}\n").unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), b"pub fn f() {}\xff\n").unwrap();
        assert_eq!(cache.replay(read), None);
        store(&crate_dir, &cache);
        fs::write(crate_dir.join("src/util.rs"), b"pub fn f() {}\xfe\n").unwrap();
        assert_eq!(cache.replay(read), None);
    }

    #[test]
    fn sources_and_migrations_count_by_their_bytes_and_env_by_a_digest() {
        let (_dir, crate_dir, out_dir) = setup();
        let big = "// BluefoxBase\n".repeat(100_000);
        fs::write(crate_dir.join("src/big.rs"), &big).unwrap();
        fs::write(crate_dir.join("migrations/V2__big.sql"), &big).unwrap();
        let secret = "DATABASE_URL=postgres://app:hunter2@db/app\n";
        fs::write(crate_dir.join(".env"), secret).unwrap();
        let mut paths = paths();
        paths.push(".env".to_string());
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
        let cache = Cache::new(&out_dir);
        cache
            .store(&Stored {
                inputs: Inputs::read(&crate_dir, "settings", &paths, &[]),
                paths: paths.clone(),
                env_vars: Vec::new(),
                file_name: "gen.rs".into(),
                output: b"out\n".to_vec(),
            })
            .unwrap();
        let stored = fs::read(out_dir.join(CACHE_FILE_NAME)).unwrap();
        let holds = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
        assert!(
            !holds(b"hunter2"),
            "the password of .env is in the cache file"
        );
        assert!(holds(big.as_bytes()), "the source is not held as its bytes");
        assert!(stored.len() > 2 * big.len(), "{} bytes", stored.len());
        assert!(cache.replay(read).is_some());
        // A change of one byte in the middle of either, or of .env at the same length, misses.
        let middle = big.len() / 2;
        let mut edited = big.clone().into_bytes();
        edited[middle] = b'#';
        fs::write(crate_dir.join("migrations/V2__big.sql"), &edited).unwrap();
        assert_eq!(cache.replay(read), None);
        fs::write(crate_dir.join("migrations/V2__big.sql"), &big).unwrap();
        assert!(cache.replay(read).is_some());
        fs::write(crate_dir.join("src/big.rs"), &edited).unwrap();
        assert_eq!(cache.replay(read), None);
        fs::write(crate_dir.join("src/big.rs"), &big).unwrap();
        fs::write(crate_dir.join(".env"), secret.replace("hunter2", "hunter3")).unwrap();
        assert_eq!(cache.replay(read), None);
        fs::write(crate_dir.join(".env"), secret).unwrap();
        assert!(cache.replay(read).is_some());
    }

    #[test]
    fn no_content_reads_as_the_mark_of_a_file_without_models() {
        let (_dir, crate_dir, _out_dir) = setup();
        let key = || Inputs::read(&crate_dir, "settings", &paths(), &[]);
        fs::write(crate_dir.join("src/odd.rs"), "fn odd() {}\n").unwrap();
        let without = key();
        // Mentions BluefoxBase, so it counts by its bytes: the mark's own bytes.
        fs::write(crate_dir.join("src/odd.rs"), RS_WITHOUT_MODELS).unwrap();
        assert_ne!(key().built(), without.built());
    }

    #[test]
    fn which_files_count_by_their_bytes() {
        for shown in [
            "src/main.rs",
            "src/models/a.rs",
            "migrations/V1__a.sql",
            "migrations/bluefox_snapshot.json",
            "migrations-sqlite/bluefox_snapshot.json",
        ] {
            assert!(held_as_bytes(shown), "{shown}");
        }
        for shown in [
            ".env",
            "../.env",
            "migrations/notes.json",
            "migrations/README",
        ] {
            assert!(!held_as_bytes(shown), "{shown}");
        }
    }

    #[test]
    fn two_migrations_directories_keep_a_cache_each() {
        let (_dir, crate_dir, out_dir) = setup();
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
        let default = Cache::for_migrations_dir(&out_dir, "migrations");
        assert_eq!(default.path, out_dir.join(CACHE_FILE_NAME));
        store(&crate_dir, &default);
        let sqlite = Cache::for_migrations_dir(&out_dir, "migrations-sqlite");
        assert_eq!(sqlite.replay(read), None);
        store(&crate_dir, &sqlite);
        assert!(out_dir
            .join("bluefox_build.migrations-sqlite.cache")
            .is_file());
        assert!(default.replay(read).is_some());
        assert!(sqlite.replay(read).is_some());
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
        assert_eq!(together.counted.len(), 1, "{:?}", together.counted);
        // The bytes of each path read on its own, after the common start.
        let start = read(&[]).built().len();
        let mut apart = read(&["src"]).built().to_vec();
        apart.extend_from_slice(&read(&["src/models/a.rs"]).built()[start..]);
        assert_eq!(together.built(), apart);
        let paths = ["src", "src/models/a.rs"].map(str::to_string);
        let compared = Inputs::compared(&crate_dir, "settings", &paths, &[], apart.clone());
        assert!(compared.matched());
        // Both places count the content.
        fs::write(crate_dir.join("src/models/a.rs"), "// BluefoxBase\n").unwrap();
        assert_ne!(read(&["src", "src/models/a.rs"]).built(), together.built());
        let compared = Inputs::compared(&crate_dir, "settings", &paths, &[], apart);
        assert!(!compared.matched());
    }

    #[test]
    fn a_damaged_cache_file_is_a_miss() {
        let (_dir, crate_dir, out_dir) = setup();
        let cache = Cache::new(&out_dir);
        store(&crate_dir, &cache);
        let bytes = fs::read(out_dir.join(CACHE_FILE_NAME)).unwrap();
        fs::write(out_dir.join(CACHE_FILE_NAME), &bytes[..bytes.len() / 2]).unwrap();
        let read = |p: &[String], e: &[String], k| Inputs::matches(&crate_dir, "settings", p, e, k);
        assert_eq!(cache.replay(read), None);
    }
}
