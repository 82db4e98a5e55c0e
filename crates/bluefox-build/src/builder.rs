//! The [`Builder`]: reads a crate's models and migrations ([`Builder::load`]), turns them into
//! the generated file, warnings and rerun lines ([`Builder::generate`], which writes nothing),
//! and, in a build script, writes and prints them ([`Builder::run`]).

use crate::cache::{Cache, Inputs, Stored};
use crate::discover::{self, Discovery};
use crate::emit::Generated;
use crate::env::{self, DotEnvFile, Origin, Setting, DATABASE_URL, MODELS_MODULE};
use crate::error::Error;
use crate::lint;
use crate::migrations::{self, MigrationsDir, ReadAhead};
use crate::model::{self, ModelStruct, ParsedFile, SourceFile};
use crate::warning::{self, Warning, WarningKind};
use crate::watch;
use bluefox_core::db_url::DatabaseUrl;
use bluefox_core::dialect::Dialect;
use bluefox_core::schema::Schema;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The file written into OUT_DIR; `bluefox_runtime::embedded!()` includes it.
pub const EMBEDDED_FILE_NAME: &str = "bluefox_embedded.rs";

/// The migrations directory, relative to the crate root, unless set otherwise.
pub use bluefox_core::DEFAULT_MIGRATIONS_DIR;

/// What [`Builder::configure`] prints to stderr when it replays the last run's output.
pub const REPLAYED: &str =
    "bluefox-build: nothing it reads changed since its last run; replayed that run's output";

/// The file generated into OUT_DIR for a migrations directory: [`EMBEDDED_FILE_NAME`] for
/// `migrations`, `bluefox_embedded.<dir>.rs` for any other, which
/// `bluefox_runtime::embedded!("<dir>")` includes.
pub fn embedded_file_name(migrations_dir: &str) -> String {
    if migrations_dir == DEFAULT_MIGRATIONS_DIR {
        EMBEDDED_FILE_NAME.to_string()
    } else {
        format!("bluefox_embedded.{migrations_dir}.rs")
    }
}

/// Configures and runs bluefox's code generation for one crate. `configure()` is
/// `Builder::from_env().run()` with the error report printed; tests and tools (the `bluefox`
/// command) set the paths themselves and call [`Builder::load`] or [`Builder::generate`].
#[derive(Clone, Default)]
pub struct Builder {
    crate_dir: Option<PathBuf>,
    crate_name: Option<String>,
    out_dir: Option<PathBuf>,
    models_module: Option<Setting>,
    migrations_dir: Option<String>,
    dialect: Option<Dialect>,
    /// `DATABASE_URL` as the environment had it, for the dialect check: set by
    /// [`Builder::from_env`] only, so only a build script consults `DATABASE_URL`.
    database_url: Option<Option<String>>,
}

/// Every setting but `DATABASE_URL`'s value, which may hold a password: it shows only whether
/// one was seen. (This text is also the cache's settings key; the variable's value is an input of
/// its own there, as a hash.)
impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let database_url = match &self.database_url {
            None => "not consulted",
            Some(None) => "unset",
            Some(Some(_)) => "set (value not shown)",
        };
        f.debug_struct("Builder")
            .field("crate_dir", &self.crate_dir)
            .field("crate_name", &self.crate_name)
            .field("out_dir", &self.out_dir)
            .field("models_module", &self.models_module)
            .field("migrations_dir", &self.migrations_dir)
            .field("dialect", &self.dialect)
            .field("database_url", &database_url)
            .finish()
    }
}

/// Everything read from a crate: its model files, the schema they describe, its migrations and
/// the warnings about them.
#[derive(Debug, Clone)]
pub struct Project {
    /// The crate root.
    pub crate_dir: PathBuf,
    /// The `.env` files that apply (crate root, then workspace root).
    pub dotenv_files: Vec<DotEnvFile>,
    /// Which files hold the models, and why.
    pub discovery: Discovery,
    /// The models, in file order.
    pub models: Vec<ModelStruct>,
    /// The schema the models describe.
    pub schema: Schema,
    /// `migrations/`.
    pub migrations: MigrationsDir,
    /// The migrations directory, relative to the crate root.
    pub migrations_dir: String,
    /// Every warning, sorted.
    pub warnings: Vec<Warning>,
    /// The dialect the migrations are written in: the snapshot's, or for a directory with no
    /// snapshot yet, the one asked for (PostgreSQL when nothing asks).
    pub dialect: Dialect,
    /// What changed from the snapshot to the models: what a new migration would capture (the
    /// pending-change warnings say the same in words).
    pub changes: Vec<bluefox_core::diff::Change>,
}

/// `MODELS_MODULE` from the process environment, when set to something.
fn models_module_from_env() -> Option<Setting> {
    std::env::var(MODELS_MODULE)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .map(|value| Setting {
            value,
            origin: Origin::Environment,
        })
}

impl Builder {
    /// A builder with nothing set: set at least [`Builder::crate_dir`].
    pub fn new() -> Builder {
        Builder::default()
    }

    /// A builder from what cargo gives a build script: `CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`,
    /// `OUT_DIR`, and `MODELS_MODULE` when set in the environment (else `.env` is read later).
    pub fn from_env() -> Builder {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Builder {
            crate_dir: var("CARGO_MANIFEST_DIR").map(PathBuf::from),
            crate_name: var("CARGO_PKG_NAME"),
            out_dir: var("OUT_DIR").map(PathBuf::from),
            models_module: models_module_from_env(),
            migrations_dir: None,
            dialect: None,
            database_url: Some(var(DATABASE_URL)),
        }
    }

    /// The crate root (where `Cargo.toml`, `src/` and `migrations/` are).
    pub fn crate_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.crate_dir = Some(dir.into());
        self
    }

    /// The package name, used for module paths in messages (`-` becomes `_`). Defaults to
    /// `[package] name` of the crate's `Cargo.toml`.
    pub fn crate_name(mut self, name: impl Into<String>) -> Builder {
        self.crate_name = Some(name.into());
        self
    }

    /// Where [`Builder::run`] writes the generated file.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Reads only this module (`crate::db::models` or `src/db/models.rs`), as `MODELS_MODULE`
    /// would; overrides the environment and `.env`.
    pub fn models_module(mut self, value: impl Into<String>) -> Builder {
        self.models_module = Some(Setting {
            value: value.into(),
            origin: Origin::Builder,
        });
        self
    }

    /// Takes `MODELS_MODULE` from the process environment when it is set there (as
    /// [`Builder::from_env`] does), so messages say it came from the environment; otherwise
    /// `.env` is read when loading, as for a build script.
    pub fn models_module_from_env(mut self) -> Builder {
        if let Some(setting) = models_module_from_env() {
            self.models_module = Some(setting);
        }
        self
    }

    /// The migrations directory relative to the crate root (default `migrations`).
    pub fn migrations_dir(mut self, dir: impl Into<String>) -> Builder {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// The dialect the migrations directory must hold (`postgresql` or `sqlite`); a snapshot of
    /// another dialect is a build error. Without it, a build script checks the dialect that
    /// `DATABASE_URL` names (environment, then `.env`) when one is set; with it, `DATABASE_URL`
    /// is not consulted, so one crate can embed one set per dialect.
    pub fn dialect(mut self, dialect: Dialect) -> Builder {
        self.dialect = Some(dialect);
        self
    }

    /// Runs the builder in a build script ([`Builder::run`]) and, on an error, prints the
    /// report as `cargo::error=` lines (which fails the build) instead of returning it: what
    /// [`crate::configure`] does with `Builder::from_env()`.
    ///
    /// When nothing the last successful run read has changed in a way that can change its output
    /// (model files, migrations, `.env`, the variables, these settings, the names of the files
    /// under `src` and those that mention `BluefoxBase`), its output is replayed instead (see
    /// [`crate::cache`]): a build after an edit of `main.rs` pays a read of the files under
    /// `src`, not a run. The replay says so on stderr, which `cargo build -vv` shows.
    pub fn configure(&self) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let settings = format!("{self:?}");
        let cache = match (&self.out_dir, &self.crate_dir) {
            (Some(out_dir), Some(crate_dir)) => {
                let migrations_dir = self
                    .migrations_dir
                    .as_deref()
                    .unwrap_or(DEFAULT_MIGRATIONS_DIR);
                Some((
                    Cache::for_migrations_dir(out_dir, migrations_dir),
                    crate_dir,
                ))
            }
            _ => None,
        };
        // Taken before anything is read: a file modified after it may not be what the run saw.
        let started = std::time::SystemTime::now();
        if let Some((cache, crate_dir)) = &cache {
            let matches = |paths: &[String], vars: &[String], stored: Vec<u8>| {
                Inputs::matches(crate_dir, &settings, paths, vars, stored)
            };
            if let Some(output) = cache.replay(matches) {
                if out.write_all(&output).is_ok() {
                    // Shown by `cargo build -vv` only: why this run was so quick.
                    eprintln!("{REPLAYED}");
                    return;
                }
            }
        }
        let mut buffer = Vec::new();
        // The inputs of the rerun set the run is expected to print are read on a thread of
        // their own while it runs, rather than after it, from when the models are parsed: until
        // then the run keeps both cores busy, after that mostly one.
        let (parsed, models_parsed) = std::sync::mpsc::channel::<Vec<String>>();
        let settings_text = &settings;
        let (result, early) = std::thread::scope(|scope| {
            let early = match &cache {
                Some((_, crate_dir)) => std::thread::Builder::new()
                    .name("bluefox-cache-inputs".to_string())
                    .spawn_scoped(scope, move || {
                        // No word: the run stopped before it parsed the models.
                        let paths = models_parsed.recv().ok()?;
                        let env_vars = rerun_if_env_changed();
                        let inputs = Inputs::read(crate_dir, settings_text, &paths, &env_vars);
                        Some((paths, env_vars, inputs))
                    })
                    .ok(),
                None => None,
            };
            let result = {
                let notify = move |paths: Vec<String>| {
                    let _ = parsed.send(paths);
                };
                // `notify`, and with it the sender, is dropped once the run is over.
                self.run_to_notifying(&mut buffer, &notify)
            };
            let early = early.and_then(|thread| thread.join().ok()).flatten();
            (result, early)
        });
        if out.write_all(&buffer).is_err() {
            eprintln!("error: bluefox: cannot write the build script's output to stdout");
            std::process::exit(1);
        }
        if let (Ok(generated), Some((cache, crate_dir))) = (&result, &cache) {
            // Inputs read while the run went on serve when the run printed the paths expected,
            // then what else it printed (the watch directory).
            let paths = generated.rerun_paths();
            let env_vars = &generated.rerun_if_env_changed;
            let inputs = match early {
                Some((early_paths, early_vars, mut inputs))
                    if paths.starts_with(&early_paths) && early_vars == *env_vars =>
                {
                    inputs.add_paths(crate_dir, &paths[early_paths.len()..]);
                    inputs
                }
                _ => Inputs::read(crate_dir, &settings, &paths, env_vars),
            };
            let stored = Stored {
                inputs,
                paths,
                env_vars: generated.rerun_if_env_changed.clone(),
                file_name: generated.file_name.clone(),
                output: buffer,
            };
            // A file changed while the run read it: its output may not match these bytes. A
            // cache that cannot be written only costs the next run its shortcut.
            if stored.inputs.all_older_than(started) {
                let _ = cache.store(&stored);
            }
        }
        if let Err(error) = result {
            let crate_dir = self
                .crate_dir_path()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            if crate::emit_error_to(&error, &crate_dir, &mut out).is_err() {
                // stdout is gone: stderr plus a failing exit code is the only way left to stop
                // the build with the message.
                eprintln!("error: bluefox: {error}");
                std::process::exit(1);
            }
        }
    }

    /// The dialect the migrations must hold, and who asks for it.
    fn expected_dialect(
        &self,
        dotenv_files: &[DotEnvFile],
    ) -> Result<Option<(Dialect, String)>, Error> {
        if let Some(dialect) = self.dialect {
            return Ok(Some((dialect, "Builder::dialect".to_string())));
        }
        let Some(from_env) = &self.database_url else {
            return Ok(None);
        };
        let Some(setting) = env::lookup(DATABASE_URL, from_env.clone(), dotenv_files)? else {
            return Ok(None);
        };
        // A malformed URL is the runtime's to report (with the fix); here it names nothing.
        Ok(DatabaseUrl::parse(&setting.value)
            .ok()
            .map(|url| (url.dialect(), format!("DATABASE_URL ({})", setting.origin))))
    }

    fn dir(&self) -> Result<&Path, Error> {
        self.crate_dir.as_deref().ok_or(Error::MissingEnv {
            name: "CARGO_MANIFEST_DIR",
        })
    }

    fn name(&self, crate_dir: &Path) -> String {
        if let Some(name) = &self.crate_name {
            return name.clone();
        }
        let from_manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml"))
            .ok()
            .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
            .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_string));
        from_manifest.unwrap_or_else(|| "crate".to_string())
    }

    /// Reads the crate: discovers and parses the model files, reads `migrations/`, and collects
    /// every warning. Reads files, writes nothing.
    ///
    /// # Errors
    ///
    /// An [`Error`] naming the file (and line) for anything that would make the migrations
    /// wrong: an unresolved `MODELS_MODULE`, a model that cannot be read, a malformed
    /// migration or snapshot, two migrations with one version, an unreadable file.
    pub fn load(&self) -> Result<Project, Error> {
        self.load_with(|_, _, _| Ok(()), &|_| {})
            .map(|loaded| loaded.project)
    }

    /// [`Builder::load`], calling `with_migrations` on the migrations directory and its dialect.
    /// The migrations directory (files and snapshot) is read on a thread of its own, which then
    /// helps parse the models, and `with_migrations` runs on a thread of its own while the
    /// models are compared with the snapshot. `models_parsed` is called once every model file is
    /// parsed, with the `rerun-if-changed` paths the run is expected to print (so a build script
    /// can read its cache inputs while the run goes on). Errors keep their order: a
    /// model error first, then one from the migrations, then one from `with_migrations`.
    fn load_with<R: Send>(
        &self,
        with_migrations: impl FnOnce(&MigrationsDir, &ReadAhead, Dialect) -> Result<R, Error> + Send,
        models_parsed: &(dyn Fn(Vec<String>) + Sync),
    ) -> Result<Loaded<R>, Error> {
        let crate_dir = self.dir()?;
        let crate_name = self.name(crate_dir);
        let migrations_dir = self.migrations_dir_name();
        let dotenv_candidates = env::dotenv_candidates(crate_dir)?;
        let dotenv_files = env::existing_dotenv_files(&dotenv_candidates);
        let setting = match &self.models_module {
            Some(setting) => Some(setting.clone()),
            None => env::lookup(MODELS_MODULE, None, &dotenv_files)?,
        };
        let discovery = discover::discover(crate_dir, &crate_name, setting.as_ref())?;
        let model_files = ModelFiles::new(crate_dir, &crate_name, &discovery.files);
        let read_migration_files = || {
            migrations::read_files(crate_dir, &migrations_dir, true)
                .and_then(migrations::MigrationFiles::finish)
        };
        // The migration files on a thread of their own, which then helps with the model files;
        // this thread parses model files and scans `src`.
        let (strays, migration_files) = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("bluefox-migrations".to_string())
                .spawn_scoped(scope, || {
                    let files = read_migration_files();
                    model_files.parse_all();
                    files
                })
                .ok();
            model_files.parse_all();
            let strays = stray_models(crate_dir, &crate_name, &discovery);
            let files = helper.map(|helper| match helper.join() {
                Ok(files) => files,
                Err(panic) => std::panic::resume_unwind(panic),
            });
            (strays, files)
        });
        let (expected_rerun, _) = rerun_paths(
            crate_dir,
            &dotenv_candidates,
            &dotenv_files,
            &migrations_dir,
            &discovery.files,
        );
        models_parsed(expected_rerun);
        // Errors in the order of a run in turn: the model files, their schema, the scan of
        // `src`, then the migrations.
        let mut warnings = Vec::new();
        let mut models = Vec::new();
        for parsed in model_files.into_results()? {
            warnings.extend(lint::wrong_base(&parsed.others));
            models.extend(parsed.models);
        }
        let schema = model::assemble(&models)?;
        warnings.extend(lint::stray_models(&strays?, &discovery.mode));
        // Without a thread (the system refused one), the migration files are read now.
        let migration_files = match migration_files {
            Some(files) => files?,
            None => read_migration_files()?,
        };
        let (migrations, ahead) = migration_files;
        let dialect = self.dialect_of(&migrations, &migrations_dir, &dotenv_files)?;
        warnings.extend(migrations.warnings.iter().cloned());
        // What is made of the migrations on a thread of its own while this one compares the
        // snapshot with the models; called once, there or (when no thread can be had) here.
        let with_migrations = Mutex::new(Some(with_migrations));
        let make = || {
            let with_migrations = with_migrations
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            match with_migrations {
                Some(with_migrations) => with_migrations(&migrations, &ahead, dialect),
                None => unreachable!("what is made of the migrations is made once"),
            }
        };
        let (extra, changes) = std::thread::scope(|scope| {
            let maker = std::thread::Builder::new()
                .name("bluefox-codegen".to_string())
                .spawn_scoped(scope, make)
                .ok();
            let changes = bluefox_core::diff::diff(&migrations.snapshot.schema, &schema);
            let extra = match maker.map(|maker| maker.join()) {
                Some(Ok(extra)) => extra,
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => make(),
            };
            (extra, changes)
        });
        let extra = extra?;
        let mut pending = lint::pending(&changes);
        if migrations_dir != DEFAULT_MIGRATIONS_DIR {
            // A crate with one set per dialect: say which set lags and how to make its migration.
            for warning in &mut pending {
                match warning.kind {
                    WarningKind::PendingChange => {
                        warning.message.push_str(&format!(" (in {migrations_dir})"));
                    }
                    WarningKind::PendingCommand => {
                        warning.message = format!(
                            "run `bluefox --migrations {migrations_dir} make \"<message>\"` to \
                             capture it in {migrations_dir}"
                        );
                    }
                    _ => {}
                }
            }
        }
        warnings.extend(pending);
        warning::sort(&mut warnings);

        let project = Project {
            crate_dir: crate_dir.to_path_buf(),
            dotenv_files,
            discovery,
            models,
            schema,
            migrations,
            migrations_dir,
            warnings,
            dialect,
            changes,
        };
        Ok(Loaded {
            project,
            extra,
            dotenv_candidates,
        })
    }

    /// The migrations directory, relative to the crate root.
    fn migrations_dir_name(&self) -> String {
        self.migrations_dir
            .clone()
            .unwrap_or_else(|| DEFAULT_MIGRATIONS_DIR.to_string())
    }

    /// The dialect of a migrations directory: its snapshot's, checked against the one asked
    /// for; for a directory with no snapshot yet, the one asked for (PostgreSQL when nothing
    /// asks).
    fn dialect_of(
        &self,
        migrations: &MigrationsDir,
        migrations_dir: &str,
        dotenv_files: &[DotEnvFile],
    ) -> Result<Dialect, Error> {
        let expected = self.expected_dialect(dotenv_files)?;
        Ok(match (&expected, migrations.has_snapshot_file) {
            (Some((expected, asked_by)), true) if *expected != migrations.snapshot.dialect() => {
                return Err(Error::DialectMismatch {
                    dir: migrations_dir.to_string(),
                    snapshot: migrations.snapshot.dialect().name(),
                    expected: expected.name(),
                    asked_by: asked_by.clone(),
                })
            }
            (_, true) => migrations.snapshot.dialect(),
            (Some((expected, _)), false) => *expected,
            (None, false) => Dialect::Postgres,
        })
    }

    /// Produces the generated file, the sorted warnings and the rerun lines, without writing
    /// anything.
    ///
    /// The rerun set is `src` (a directory, so new files anywhere in it are seen), each model
    /// file, the migrations directory and the `.env` of the crate root and of the workspace
    /// root, relative to the crate root; plus `MODELS_MODULE` and `DATABASE_URL`. Those that
    /// exist are [`Generated::rerun_if_changed`]; those that do not yet (no migrations before
    /// the first `bluefox make`, no `.env`) are [`Generated::rerun_if_created`], which
    /// [`Builder::run`] watches through a directory in OUT_DIR (see [`crate::watch`]) so that
    /// a build where none appeared does not run the build script.
    ///
    /// # Errors
    ///
    /// As [`Builder::load`].
    pub fn generate(&self) -> Result<Generated, Error> {
        self.generate_notifying(&|_| {})
    }

    /// [`Builder::generate`], calling `models_parsed` once every model file is parsed.
    fn generate_notifying(
        &self,
        models_parsed: &(dyn Fn(Vec<String>) + Sync),
    ) -> Result<Generated, Error> {
        let Loaded {
            project,
            extra: code,
            dotenv_candidates,
        } = self.load_with(
            |migrations, ahead, dialect| {
                crate::codegen::render(
                    &migrations.embedded_with(ahead)?,
                    &migrations.embedded_snapshot_with(ahead)?,
                    dialect,
                )
            },
            models_parsed,
        )?;
        let (rerun_if_changed, rerun_if_created) = rerun_paths(
            &project.crate_dir,
            &dotenv_candidates,
            &project.dotenv_files,
            &project.migrations_dir,
            &project.discovery.files,
        );
        Ok(Generated {
            file_name: embedded_file_name(&project.migrations_dir),
            code,
            warnings: project.warnings,
            rerun_if_changed,
            rerun_if_created,
            creation_watch: None,
            rerun_if_env_changed: rerun_if_env_changed(),
        })
    }

    /// [`Builder::generate`], then writes the file into OUT_DIR (only when its bytes changed, so
    /// nothing downstream recompiles for nothing), makes the watch directory for the inputs that
    /// do not exist yet ([`crate::watch`]), and prints the `cargo:` lines to stdout.
    ///
    /// # Errors
    ///
    /// As [`Builder::load`], plus [`Error::MissingEnv`] without OUT_DIR and [`Error::Io`] when
    /// the file cannot be written.
    pub fn run(&self) -> Result<Generated, Error> {
        self.run_to(&mut std::io::stdout().lock())
    }

    /// [`Builder::run`], printing to `out` instead of stdout.
    ///
    /// # Errors
    ///
    /// As [`Builder::run`].
    pub fn run_to(&self, out: &mut impl Write) -> Result<Generated, Error> {
        self.run_to_notifying(out, &|_| {})
    }

    /// [`Builder::run_to`], calling `models_parsed` once every model file is parsed.
    fn run_to_notifying(
        &self,
        out: &mut impl Write,
        models_parsed: &(dyn Fn(Vec<String>) + Sync),
    ) -> Result<Generated, Error> {
        let mut generated = self.generate_notifying(models_parsed)?;
        let out_dir = self
            .out_dir
            .as_deref()
            .ok_or(Error::MissingEnv { name: "OUT_DIR" })?;
        let watch_dir = out_dir.join(watch::dir_name(&generated.file_name));
        if generated.rerun_if_created.is_empty() {
            watch::remove(&watch_dir);
        } else if let Some(shown) = watch_dir.to_str() {
            if watch::prepare(&watch_dir, self.dir()?, &generated.rerun_if_created) {
                generated.creation_watch = Some(shown.to_string());
            }
        }
        let path = out_dir.join(&generated.file_name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let unchanged = std::fs::read(&path).is_ok_and(|old| old == generated.code.as_bytes());
        if !unchanged {
            std::fs::write(&path, &generated.code).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        generated.emit_to(out).map_err(|source| Error::Io {
            path: "stdout".to_string(),
            source,
        })?;
        Ok(generated)
    }

    /// The crate root as set, for error reports.
    pub fn crate_dir_path(&self) -> Option<&Path> {
        self.crate_dir.as_deref()
    }
}

/// The variables every run prints as `rerun-if-env-changed`, in order.
fn rerun_if_env_changed() -> Vec<String> {
    vec![MODELS_MODULE.to_string(), DATABASE_URL.to_string()]
}

/// What [`Builder::load_with`] read, and the `.env` files that would apply (read or not).
struct Loaded<R> {
    project: Project,
    extra: R,
    dotenv_candidates: Vec<DotEnvFile>,
}

/// A run's rerun set, relative to the crate root and sorted: every `.env` that would apply,
/// read or not (one that appears changes what is read), the migrations directory, `src` and each
/// model file; split into those that exist (`rerun-if-changed`) and those that do not yet
/// (watched for their creation).
fn rerun_paths(
    crate_dir: &Path,
    dotenv_candidates: &[DotEnvFile],
    dotenv_files: &[DotEnvFile],
    migrations_dir: &str,
    model_files: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut paths: Vec<String> = dotenv_candidates
        .iter()
        .chain(dotenv_files)
        .map(|f| f.rel_path.clone())
        .chain([migrations_dir.to_string(), "src".to_string()])
        .chain(model_files.iter().cloned())
        .collect();
    paths.sort();
    paths.dedup();
    // A path that appeared since it was read is listed as existing: newer than this run's
    // start, it reruns the next build.
    paths
        .into_iter()
        .partition(|path| crate_dir.join(path).exists())
}

/// The model files of a load, parsed by whichever thread takes each next.
struct ModelFiles<'a> {
    crate_dir: &'a Path,
    crate_name: &'a str,
    files: &'a [String],
    next: AtomicUsize,
    parsed: Mutex<Vec<(usize, Result<ParsedFile, Error>)>>,
}

impl<'a> ModelFiles<'a> {
    fn new(crate_dir: &'a Path, crate_name: &'a str, files: &'a [String]) -> Self {
        ModelFiles {
            crate_dir,
            crate_name,
            files,
            next: AtomicUsize::new(0),
            parsed: Mutex::new(Vec::with_capacity(files.len())),
        }
    }

    /// Reads and parses files until none is left.
    fn parse_all(&self) {
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(rel) = self.files.get(index) else {
                return;
            };
            let parsed = discover::read_source(self.crate_dir, self.crate_name, rel)
                .and_then(|source| Ok(model::parse_file(&source)?));
            self.parsed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((index, parsed));
        }
    }

    /// Every file's models in file order, or the error of the first file that has one (what
    /// reading them in turn would report). Call once every [`ModelFiles::parse_all`] returned.
    fn into_results(self) -> Result<Vec<ParsedFile>, Error> {
        let mut parsed = self
            .parsed
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        parsed.sort_by_key(|(index, _)| *index);
        parsed.into_iter().map(|(_, parsed)| parsed).collect()
    }
}

/// `BluefoxBase` structs in `.rs` files under `src` that discovery did not pick: a text scan
/// first, a parse only of the files that mention the name.
fn stray_models(
    crate_dir: &Path,
    crate_name: &str,
    discovery: &Discovery,
) -> Result<Vec<model::StrayModel>, Error> {
    let mut strays = Vec::new();
    for rel in discover::rs_files_under(crate_dir, "src")? {
        if discovery.files.contains(&rel) {
            continue;
        }
        let source: SourceFile = discover::read_source(crate_dir, crate_name, &rel)?;
        if model::mentions_bluefox_base(&source.text) {
            strays.extend(model::parse_stray(&source));
        }
    }
    Ok(strays)
}
