//! Cases 1, 2 and 5 of the benchmark: applying N migrations to an empty database, and booting
//! with N applied and nothing to do, each contender a process on a fresh database, contenders
//! alternated round by round; peak memory from the same runs; round trips in an extra, untimed
//! pass through the counting relay.

use crate::apps::{Apps, Profile};
use crate::gen::{self, Shape};
use crate::pg::{Admin, Work};
use crate::process;
use crate::proxy;
use crate::report::{Row, Table};
use std::path::PathBuf;
use std::process::Command;

/// How a contender is started.
#[derive(Debug, Clone)]
pub enum Contender {
    /// An app binary reading `DATABASE_URL`.
    Binary {
        /// Row name.
        name: &'static str,
        /// The binary.
        path: PathBuf,
        /// Extra environment variables.
        env: &'static [(&'static str, &'static str)],
    },
    /// `psql -1 -f file` (one transaction), or `psql -f file` of a script with a transaction per
    /// migration.
    Psql {
        /// The SQL file.
        file: PathBuf,
        /// With `-1`.
        single: bool,
    },
}

impl Contender {
    /// The row name.
    pub fn name(&self) -> &'static str {
        match self {
            Contender::Binary { name, .. } => name,
            Contender::Psql { single: true, .. } => "psql -1",
            Contender::Psql { single: false, .. } => "psql, txn each",
        }
    }

    fn command(&self, url: &str, cwd: &std::path::Path) -> Command {
        let mut command = match self {
            Contender::Binary { path, .. } => {
                let mut c = Command::new(path);
                c.env("DATABASE_URL", url);
                c
            }
            Contender::Psql { file, single } => {
                let mut c = Command::new("psql");
                c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
                if *single {
                    c.arg("-1");
                }
                c.arg("-f").arg(file);
                c
            }
        };
        command
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .env_remove("BLUEFOX_MIGRATE")
            .env_remove("BLUEFOX_SCHEMA_WATCH")
            .env_remove("PGOPTIONS");
        if let Contender::Binary { env, .. } = self {
            // After the removals above, so a contender's own settings stay.
            command.envs(env.iter().copied());
        }
        command
    }
}

/// The binaries of one migration set.
#[derive(Debug, Clone)]
pub struct Set {
    /// Its shape.
    pub shape: Shape,
    /// Its size.
    pub n: usize,
    /// bluefox, refinery, sqlx, psql -1, psql with a transaction per migration (in that order).
    pub appliers: Vec<Contender>,
}

/// Writes the set in every layout and builds the three apps for it.
pub fn prepare(apps: &Apps, shape: Shape, n: usize, profile: Profile) -> Result<Set, String> {
    let set = gen::migrations(shape, n);
    let tag = format!("{}-{n}", shape.slug());
    gen::write_bluefox(&apps.dir("bluefox-app").join("migrations"), shape, &set)?;
    gen::write_refinery(&apps.dir("refinery-app").join("migrations"), &set)?;
    gen::write_sqlx(&apps.dir("sqlx-app").join("migrations"), &set)?;
    let file = apps.work(&format!("psql-{tag}.sql"));
    gen::write_psql(&file, &set)?;
    let each = apps.work(&format!("psql-each-{tag}.sql"));
    gen::write_psql_each(&each, &set)?;
    let mut appliers = Vec::new();
    for (name, app) in [
        ("bluefox", "bluefox-app"),
        ("refinery", "refinery-app"),
        ("sqlx", "sqlx-app"),
    ] {
        let path = apps.build_copy(app, profile, &tag)?;
        appliers.push(Contender::Binary {
            name,
            path,
            env: &[],
        });
    }
    appliers.push(Contender::Psql { file, single: true });
    appliers.push(Contender::Psql {
        file: each,
        single: false,
    });
    Ok(Set { shape, n, appliers })
}

fn database(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("bluefox_bench_{slug}")
}

async fn count_objects(admin: &Admin, db: &str, shape: Shape) -> Result<usize, String> {
    let sql = match shape {
        Shape::Function => "SELECT count(*) FROM pg_proc WHERE proname LIKE 'bench\\_f\\_%'",
        Shape::Table => {
            "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'bench\\_t\\_%'"
        }
    };
    let text = admin.query_in(db, sql).await?;
    text.parse().map_err(|_| format!("{sql}: got {text:?}"))
}

/// Runs `contender` once on database `db`; returns the run and the server's work.
async fn run_once(
    admin: &Admin,
    apps: &Apps,
    contender: &Contender,
    db: &str,
    port: Option<u16>,
) -> Result<(process::Run, Work), String> {
    let server = admin.server();
    let url = match port {
        Some(port) => server.url_via(db, port),
        None => server.url(db),
    };
    let before = admin.counters(db).await?;
    let mut command = contender.command(&url, &apps.work_dir);
    let log = apps.work(&format!("run-{}.log", database(contender.name())));
    let run = tokio::task::spawn_blocking(move || process::run(&mut command, &log))
        .await
        .map_err(|e| format!("run task: {e}"))??;
    let work = admin.work_since(db, before).await?;
    Ok((run, work))
}

/// Case 1: every contender applies all `set.n` migrations to a fresh, empty database.
pub async fn apply(admin: &Admin, apps: &Apps, set: &Set, rounds: usize) -> Result<Table, String> {
    let mut rows: Vec<Row> = set
        .appliers
        .iter()
        .map(|c| Row {
            name: c.name().to_string(),
            ..Row::default()
        })
        .collect();
    for round in 0..rounds {
        for k in 0..set.appliers.len() {
            let i = (k + round) % set.appliers.len();
            let contender = &set.appliers[i];
            let db = database(contender.name());
            admin.fresh(&db).await?;
            let (run, work) = run_once(admin, apps, contender, &db, None).await?;
            if round == 0 {
                let found = count_objects(admin, &db, set.shape).await?;
                if found != set.n {
                    return Err(format!(
                        "{} left {found} of {} objects in {db}",
                        contender.name(),
                        set.n
                    ));
                }
            }
            rows[i].wall_ms.push(run.wall.as_secs_f64() * 1000.0);
            rows[i].rss_kib.push(run.max_rss_kib);
            rows[i].work.push(work);
            admin.drop_db(&db).await?;
        }
    }
    let (port, trips) = proxy::start(&admin.server().host, admin.server().port).await?;
    for (i, contender) in set.appliers.iter().enumerate() {
        let db = database(contender.name());
        admin.fresh(&db).await?;
        let (t0, c0) = (trips.round_trips(), trips.connections());
        run_once(admin, apps, contender, &db, Some(port)).await?;
        rows[i].round_trips = Some((trips.round_trips() - t0, trips.connections() - c0));
        admin.drop_db(&db).await?;
    }
    Ok(Table {
        title: format!(
            "(1) apply {} {} migrations to an empty database",
            set.n,
            set.shape.label()
        ),
        reference: "psql -1".into(),
        migrations: set.n,
        rows,
    })
}

/// Case 2: each app boots on a database where all `set.n` migrations are applied already.
pub async fn boot(
    admin: &Admin,
    apps: &Apps,
    set: &Set,
    bare: &Contender,
    rounds: usize,
) -> Result<Table, String> {
    let mut contenders: Vec<Contender> = set
        .appliers
        .iter()
        .filter(|c| matches!(c, Contender::Binary { .. }))
        .cloned()
        .collect();
    if set.shape == Shape::Table {
        // The same binary on a database whose migrations ran without the schema watch (a
        // migrating role that may not create event triggers): every boot reads the catalog.
        if let Some(Contender::Binary { path, .. }) =
            contenders.iter().find(|c| c.name() == "bluefox")
        {
            contenders.insert(
                1,
                Contender::Binary {
                    name: "bluefox, no schema watch",
                    path: path.clone(),
                    env: &[("BLUEFOX_SCHEMA_WATCH", "off")],
                },
            );
        }
    }
    contenders.push(bare.clone());
    for contender in &contenders {
        let db = database(contender.name());
        admin.fresh(&db).await?;
        // Applies everything (a no-op for the bare binary), then one untimed warm-up boot.
        run_once(admin, apps, contender, &db, None).await?;
        run_once(admin, apps, contender, &db, None).await?;
    }
    let mut rows: Vec<Row> = contenders
        .iter()
        .map(|c| Row {
            name: c.name().to_string(),
            ..Row::default()
        })
        .collect();
    for round in 0..rounds {
        for k in 0..contenders.len() {
            let i = (k + round) % contenders.len();
            let db = database(contenders[i].name());
            let (run, work) = run_once(admin, apps, &contenders[i], &db, None).await?;
            rows[i].wall_ms.push(run.wall.as_secs_f64() * 1000.0);
            rows[i].rss_kib.push(run.max_rss_kib);
            rows[i].work.push(work);
        }
    }
    let (port, trips) = proxy::start(&admin.server().host, admin.server().port).await?;
    for (i, contender) in contenders.iter().enumerate() {
        let db = database(contender.name());
        let (t0, c0) = (trips.round_trips(), trips.connections());
        run_once(admin, apps, contender, &db, Some(port)).await?;
        rows[i].round_trips = Some((trips.round_trips() - t0, trips.connections() - c0));
        admin.drop_db(&db).await?;
    }
    Ok(Table {
        title: format!(
            "(2) boot with {} {} migrations applied, nothing to do",
            set.n,
            set.shape.label()
        ),
        reference: "bare".into(),
        migrations: 0,
        rows,
    })
}
