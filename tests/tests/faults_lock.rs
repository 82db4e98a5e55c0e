//! Fault suite, the migration lock:
//! - scenario 2: the advisory lock is held by the very backend that runs the DDL, from before
//!   the history read that decides what to apply until the last migration has committed;
//! - scenario 3: a boot that cannot get the lock gives up at its deadline, names the holder's
//!   pid and application_name, and runs no DDL;
//! - scenario 6: a migration whose `ALTER TABLE` waits on a table another session holds gives up
//!   after `BLUEFOX_STATEMENT_LOCK_TIMEOUT` and names the session that blocks it.

use bluefox_runtime::lock::LOCK_KEY;
use bluefox_runtime::{Migrator, Target};
use bluefox_tests::herd;
use bluefox_tests::pg::{
    embedded_from_files, history_versions, migration_file, public_tables, TestDb,
};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

async fn connect_as_app(url: &str, application_name: &str) -> Client {
    let mut config: Config = url.parse().expect("a test URL");
    config.application_name(application_name);
    let (client, connection) = config.connect(NoTls).await.expect("connect");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

async fn backend_pid(client: &Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

fn key_parts() -> (i64, i64) {
    let key = LOCK_KEY as u64;
    ((key >> 32) as i64, (key & 0xffff_ffff) as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ddl_backend_holds_the_lock_from_the_history_read_to_the_last_commit() {
    let db = TestDb::new("bluefox_f");
    let (high, low) = key_parts();
    let admin = db.client().await;
    // A log written from inside the migrating backend: each history read (through a view that
    // calls probe() per row), each migration's statements, each history insert and, through a
    // deferred trigger, each commit, with whether that backend held the advisory lock then.
    admin
        .batch_execute(&format!(
            "CREATE TABLE public.lock_probe_log (id serial PRIMARY KEY, pid int NOT NULL, what text NOT NULL, holds bool NOT NULL);
             CREATE FUNCTION public.probe_holds() RETURNS bool LANGUAGE sql VOLATILE AS $$
               SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                 AND pid = pg_backend_pid() AND classid = {high}::oid AND objid = {low}::oid AND objsubid = 1) $$;
             CREATE FUNCTION public.probe(what text) RETURNS bool LANGUAGE plpgsql VOLATILE AS $$
               BEGIN INSERT INTO public.lock_probe_log (pid, what, holds)
                 VALUES (pg_backend_pid(), what, public.probe_holds()); RETURN true; END $$;
             CREATE FUNCTION public.probe_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN PERFORM public.probe(TG_ARGV[0]); RETURN NULL; END $$;"
        ))
        .await
        .expect("install the probe");
    let slow = |n: i64, seconds: &str| {
        migration_file(
            20_261_201_000_000 + n,
            &format!("slow_{n}"),
            Some(20_261_201_000_000 + n - 1),
            &format!(
                "SELECT public.probe('ddl-start');\nCREATE TABLE \"slow_{n}\" (\"id\" BIGINT);\nSELECT pg_sleep({seconds});\nSELECT public.probe('ddl-end');\n"
            ),
            &format!("DROP TABLE \"slow_{n}\";\n"),
        )
    };
    let mut files = vec![migration_file(
        20_261_201_000_001,
        "first",
        None,
        "CREATE TABLE \"first\" (\"id\" BIGINT);\n",
        "DROP TABLE \"first\";\n",
    )];
    files.push(slow(2, "1.0"));
    files.push(slow(3, "0.5"));
    let embedded = embedded_from_files(&files);
    let migrating = db.client().await;
    let pid = backend_pid(&migrating).await;
    Migrator::new(&migrating, embedded)
        .upgrade(Target::Version(20_261_201_000_001))
        .await
        .expect("apply the first migration");
    admin
        .batch_execute(
            "CREATE SCHEMA probe;
             CREATE VIEW probe.refinery_schema_history AS
               SELECT * FROM public.refinery_schema_history WHERE public.probe('read');
             CREATE TRIGGER probe_insert AFTER INSERT ON public.refinery_schema_history
               FOR EACH ROW EXECUTE FUNCTION public.probe_trigger('insert');
             CREATE CONSTRAINT TRIGGER probe_commit AFTER INSERT ON public.refinery_schema_history
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.probe_trigger('commit');",
        )
        .await
        .expect("install the history probe");
    migrating
        .batch_execute("SET search_path TO probe, public")
        .await
        .unwrap();

    // Another session watches pg_locks and pg_stat_activity while the migrations sleep.
    let observer = db.client().await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watching = {
        let done = done.clone();
        tokio::spawn(async move {
            let query = format!(
                "SELECT coalesce((SELECT array_agg(pid ORDER BY pid) FROM pg_locks WHERE locktype = 'advisory' \
                   AND granted AND classid = {high}::oid AND objid = {low}::oid AND objsubid = 1 \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), '{{}}'), \
                 coalesce((SELECT array_agg(pid ORDER BY pid) FROM pg_stat_activity \
                   WHERE wait_event = 'PgSleep' AND datname = current_database()), '{{}}')"
            );
            let mut samples = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let row = observer.query_one(&query, &[]).await.expect("observe");
                samples.push((row.get::<_, Vec<i32>>(0), row.get::<_, Vec<i32>>(1)));
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            samples
        })
    };
    let report = Migrator::new(&migrating, embedded)
        .upgrade(Target::Head)
        .await
        .expect("apply the slow migrations");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let samples = watching.await.expect("the observer");
    assert_eq!(report.applied.len(), 2);

    let during_sleep: Vec<&(Vec<i32>, Vec<i32>)> = samples
        .iter()
        .filter(|(_, sleepers)| !sleepers.is_empty())
        .collect();
    assert!(
        during_sleep.len() >= 5,
        "the observer should have seen the migrations sleep: {samples:?}"
    );
    for (holders, sleepers) in during_sleep {
        assert_eq!(sleepers, &vec![pid], "only the migrating backend sleeps");
        assert_eq!(
            holders,
            &vec![pid],
            "the sleeping (DDL) backend {pid} must hold the lock"
        );
    }

    let log: Vec<(i32, String, bool)> = admin
        .query(
            "SELECT pid, what, holds FROM public.lock_probe_log ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let steps: Vec<(String, bool)> = log.iter().map(|(_, w, h)| (w.clone(), *h)).collect();
    assert!(log.iter().all(|(p, _, _)| *p == pid), "{log:?}");
    let expected: Vec<(String, bool)> = [
        ("read", false), // the optimistic read, before deciding to take the lock
        ("read", true),  // the read that decides what to apply: under the lock
        ("ddl-start", true),
        ("ddl-end", true),
        ("insert", true),
        ("commit", true),
        // The next (pipelined) batch checks that the one before it committed through a session
        // setting, not by reading the history.
        ("ddl-start", true),
        ("ddl-end", true),
        ("insert", true),
        ("commit", true), // the last commit: still under the lock
    ]
    .iter()
    .map(|(w, h)| (w.to_string(), *h))
    .collect();
    assert_eq!(steps, expected);
    // Released once the last migration committed.
    let left: i64 = admin
        .query_one(
            &format!("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = {high}::oid AND objid = {low}::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_that_cannot_get_the_lock_gives_up_at_its_deadline_and_names_the_holder() {
    let db = TestDb::new("bluefox_f");
    let holder = connect_as_app(&db.url, "fault-holder").await;
    let holder_pid = backend_pid(&holder).await;
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({LOCK_KEY})"))
        .await
        .unwrap();
    let url = db.url.clone();
    let run = tokio::task::spawn_blocking(move || {
        herd::app().run_within(
            &url,
            &[("BLUEFOX_LOCK_TIMEOUT", "2")],
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    run.assert_failed();
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("boot failed: "))
        .unwrap_or_default();
    assert!(
        line.starts_with("boot failed: timed out after 2."),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "it is held by pid {holder_pid} (application_name \"fault-holder\", state \"idle\""
        )),
        "{line}"
    );
    let admin = db.client().await;
    assert_eq!(
        public_tables(&admin).await,
        Vec::<String>::new(),
        "no DDL ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_waiting_on_a_busy_table_gives_up_and_names_the_blocker() {
    let db = TestDb::new("bluefox_f");
    let admin = db.client().await;
    let embedded = embedded_from_files(&herd::migrations());
    Migrator::new(&admin, embedded)
        .upgrade(Target::Version(herd::version(15)))
        .await
        .expect("apply the first 15");
    let blocker = connect_as_app(&db.url, "fault-blocker").await;
    let blocker_pid = backend_pid(&blocker).await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE \"herd_15\" IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let url = db.url.clone();
    let run = tokio::task::spawn_blocking(move || {
        herd::app().run_within(
            &url,
            &[("BLUEFOX_STATEMENT_LOCK_TIMEOUT", "1")],
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    run.assert_failed();
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("boot failed: "))
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!(
            "boot failed: applying migration {} (V{}__step_16.sql) failed with SQLSTATE 55P03: canceling statement due to lock timeout (at line 4: ALTER TABLE \"herd_15\" ADD COLUMN \"next_id\" BIGINT)",
            herd::version(16),
            herd::version(16)
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "waiting for locks held by pid {blocker_pid} (application_name \"fault-blocker\", state \"idle in transaction\", holding AccessShareLock on herd_15)"
        )),
        "{line}"
    );
    let expected: Vec<i64> = (1..=15).map(herd::version).collect();
    assert_eq!(history_versions(&admin).await, expected);
    assert!(!public_tables(&admin).await.contains(&"herd_16".to_string()));
    // Once the blocker is gone, the next boot completes.
    blocker.batch_execute("COMMIT").await.unwrap();
    let url = db.url.clone();
    let run = tokio::task::spawn_blocking(move || herd::app().run(&url, &[]))
        .await
        .unwrap();
    run.assert_booted();
    assert_eq!(history_versions(&admin).await.len(), herd::MIGRATIONS);
}
