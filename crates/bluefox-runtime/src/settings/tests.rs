use super::*;

const CANARY: &str = "Zx9CanaryPw";

fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn settings(vars: &[(&str, &str)]) -> Settings {
    match Settings::from_lookup(lookup(vars)) {
        Ok(s) => s,
        Err(e) => panic!("{vars:?} should give settings: {e}"),
    }
}

fn error(vars: &[(&str, &str)]) -> String {
    match Settings::from_lookup(lookup(vars)) {
        Ok(s) => panic!("{vars:?} should fail, gave {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_apply_when_only_database_url_is_set() {
    let s = settings(&[("DATABASE_URL", "postgresql://app@localhost/app")]);
    assert_eq!(s.database_url.redacted(), "postgresql://app@localhost/app");
    assert_eq!(s.migrate, MigrateMode::Apply);
    assert!(!s.strict);
    assert_eq!(s.lock_timeout, Duration::from_secs(60));
    assert_eq!(s.statement_lock_timeout, Duration::from_secs(10));
    assert_eq!(s.statement_lock_timeout_sql(), "10000ms");
}

#[test]
fn missing_database_url_says_where_to_set_it() {
    let expected = "DATABASE_URL is not set; set it in the environment or in .env in the current \
                    directory, e.g. DATABASE_URL=postgresql://postgres:secret@localhost:5432/app";
    assert_eq!(error(&[]), expected);
    assert_eq!(error(&[("DATABASE_URL", "  ")]), expected);
}

#[test]
fn malformed_database_url_is_reported_without_the_password() {
    let text = error(&[("DATABASE_URL", &format!("mysql://root:{CANARY}@db/app"))]);
    assert!(
        text.starts_with("DATABASE_URL scheme `mysql:` is not supported"),
        "{text}"
    );
    assert!(!text.contains(CANARY));
}

#[test]
fn pgpassword_fills_in_only_a_missing_password() {
    let s = settings(&[
        ("DATABASE_URL", "postgresql://app@localhost/app"),
        ("PGPASSWORD", CANARY),
    ]);
    assert_eq!(
        s.database_url.password().map(Password::expose),
        Some(CANARY)
    );
    assert!(!format!("{s:?}").contains(CANARY));
    let s = settings(&[
        ("DATABASE_URL", "postgresql://app:own@localhost/app"),
        ("PGPASSWORD", CANARY),
    ]);
    assert_eq!(s.database_url.password().map(Password::expose), Some("own"));
}

#[test]
fn migrate_mode_strict_and_timeouts_parse() {
    let s = settings(&[
        ("DATABASE_URL", "host=localhost"),
        ("BLUEFOX_MIGRATE", "Verify"),
        ("BLUEFOX_STRICT", "yes"),
        ("BLUEFOX_LOCK_TIMEOUT", "2.5"),
        ("BLUEFOX_STATEMENT_LOCK_TIMEOUT", "3s"),
    ]);
    assert_eq!(s.migrate, MigrateMode::Verify);
    assert!(s.strict);
    assert_eq!(s.lock_timeout, Duration::from_millis(2500));
    assert_eq!(s.statement_lock_timeout, Duration::from_secs(3));
    assert_eq!(s.statement_lock_timeout_sql(), "3000ms");
    let off = settings(&[("DATABASE_URL", "host=h"), ("BLUEFOX_MIGRATE", "off")]);
    assert_eq!(off.migrate, MigrateMode::Off);
    let zero = settings(&[
        ("DATABASE_URL", "host=h"),
        ("BLUEFOX_STATEMENT_LOCK_TIMEOUT", "0"),
    ]);
    assert_eq!(zero.statement_lock_timeout_sql(), "0ms");
}

#[test]
fn the_schema_watch_is_on_unless_turned_off_and_reaches_the_migrator() {
    let default = settings(&[("DATABASE_URL", "host=h")]);
    assert!(default.schema_watch && !default.strict);
    assert!(default.migrator_options().schema_watch);
    for off in ["off", "0", "false", "No"] {
        let s = settings(&[("DATABASE_URL", "host=h"), ("BLUEFOX_SCHEMA_WATCH", off)]);
        assert!(!s.schema_watch, "{off}");
        assert!(!s.migrator_options().schema_watch, "{off}");
    }
    let s = settings(&[
        ("DATABASE_URL", "host=h"),
        ("BLUEFOX_STRICT", "on"),
        ("BLUEFOX_LOCK_TIMEOUT", "7"),
    ]);
    let options = s.migrator_options();
    assert!(options.strict && options.schema_watch);
    assert_eq!(options.lock_timeout, Duration::from_secs(7));
    assert_eq!(
        options.statement_lock_timeout,
        Some(Duration::from_secs(10))
    );
}

#[test]
fn invalid_values_name_the_variable_and_what_it_accepts() {
    assert_eq!(
        error(&[("DATABASE_URL", "host=h"), ("BLUEFOX_MIGRATE", "sometimes")]),
        "BLUEFOX_MIGRATE=`sometimes` is not valid; expected apply (the default), verify or off"
    );
    assert_eq!(
        error(&[("DATABASE_URL", "host=h"), ("BLUEFOX_STRICT", "maybe")]),
        "BLUEFOX_STRICT=`maybe` is not valid; expected on or off (true/false, yes/no, 1/0)"
    );
    assert_eq!(
        error(&[
            ("DATABASE_URL", "host=h"),
            ("BLUEFOX_SCHEMA_WATCH", "later")
        ]),
        "BLUEFOX_SCHEMA_WATCH=`later` is not valid; expected on or off (true/false, yes/no, 1/0)"
    );
    assert_eq!(
        error(&[("DATABASE_URL", "host=h"), ("BLUEFOX_LOCK_TIMEOUT", "-1")]),
        "BLUEFOX_LOCK_TIMEOUT=`-1` is not valid; expected a number of seconds, such as 30 or 2.5"
    );
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("bluefox-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn dotenv_is_read_first_entry_wins_and_missing_file_is_empty() {
    let dir = Scratch::new("read");
    let path = dir.0.join(".env");
    assert!(read_dotenv(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    std::fs::write(
        &path,
        "# comment\nDATABASE_URL=postgresql://app@localhost/app\nBLUEFOX_MIGRATE=verify\nBLUEFOX_MIGRATE=off\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let map = read_dotenv(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.get("BLUEFOX_MIGRATE").map(String::as_str),
        Some("verify")
    );
    let s = Settings::from_lookup(|k| map.get(k).cloned()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.migrate, MigrateMode::Verify);
}

#[test]
fn dotenv_parse_errors_never_quote_the_line() {
    let dir = Scratch::new("bad");
    let path = dir.0.join(".env");
    std::fs::write(
        &path,
        format!("DATABASE_URL='postgresql://a:{CANARY}@h/app\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = match read_dotenv(&path) {
        Ok(map) => panic!("should fail, read {} entries", map.len()),
        Err(e) => e.to_string(),
    };
    assert!(
        text.starts_with(&format!(
            "cannot read {}: cannot parse an entry",
            path.display()
        )),
        "{text}"
    );
    assert!(!text.contains(CANARY), "{text}");
}
