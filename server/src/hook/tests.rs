//! Unit tests of the target configuration.

use super::targets::{parse_duration, Target, TargetDialect, Targets};
use crate::store::redact;
use std::time::Duration;

const FILE: &str = r#"
[targets.prod]
url = "postgres://deploy:s3cret@db.internal:5432/app?search_path=public"
lock_timeout = "1m30s"

[targets.local]
url = "sqlite:///var/lib/app/app.db"
"#;

#[test]
fn a_targets_file_gives_dialects_timeouts_and_hides_passwords() {
    let t = Targets::from_toml(FILE, "targets.toml").expect("parse");
    let prod = t.get("prod").expect("prod");
    assert_eq!(prod.dialect(), TargetDialect::Postgres);
    assert_eq!(prod.lock_timeout(), Duration::from_secs(90));
    assert_eq!(prod.source(), "targets.toml line 2");
    assert!(!format!("{prod:?}").contains("s3cret"));
    assert!(prod.redacted_url().contains("deploy:***@"));
    let local = t.get("local").expect("local");
    assert_eq!(local.dialect(), TargetDialect::Sqlite);
    assert_eq!(local.lock_timeout(), Duration::from_secs(10));
    assert_eq!(t.iter().count(), 2);
}

#[test]
fn errors_say_where_and_what_to_do() {
    let e = Targets::from_toml("[targets.\"bad name\"]\nurl = \"sqlite://a.db\"\n", "t.toml").unwrap_err().0;
    assert!(e.starts_with("t.toml line 1:"), "{e}");
    assert!(e.contains("' '"), "{e}");
    let e = Targets::from_toml("[targets.x]\nurl = \"sqlite://a.db\"\ncolour = 1\n", "t.toml").unwrap_err().0;
    assert!(e.starts_with("t.toml line 3:") && e.contains("colour"), "{e}");
    let e =
        Targets::from_toml("[targets.x]\nurl = \"sqlite://a.db\"\nlock_timeout = \"soon\"\n", "t.toml").unwrap_err().0;
    assert!(e.starts_with("t.toml line 3: lock_timeout:") && e.contains("\"10s\""), "{e}");
    let e = Targets::from_toml("[targets.x]\nurl = \"mysql://root:pw@h/db\"\n", "t.toml").unwrap_err().0;
    assert!(e.contains("not supported yet") && e.contains("sqlite: or postgres:"), "{e}");
    assert!(!e.contains("pw@"), "{e}");
    let e = Targets::from_toml("[targets.x]\nurl = \"sqlite::memory:\"\n", "t.toml").unwrap_err().0;
    assert!(e.contains("in-memory"), "{e}");
    let e = Targets::from_toml("[targets.x]\nurl = \"postgres://u:pw@/db\"\n", "t.toml").unwrap_err().0;
    assert!(e.contains("postgres://user:password@host:5432/database") && !e.contains("pw@"), "{e}");
    let e =
        Targets::from_toml("[targets.x]\nurl = \"sqlite://a.db\"\nrevisions_schema = \"s\"\n", "t.toml").unwrap_err().0;
    assert!(e.contains("separate schema"), "{e}");
    let e = Targets::from_toml("[targets.x]\n", "t.toml").unwrap_err().0;
    assert!(e.contains("url"), "{e}");
}

#[test]
fn environment_variables_add_targets_and_duplicates_are_refused() {
    let env = |k: &str, v: &str| (k.to_string(), v.to_string());
    let t = Targets::load(None, [env("STRATA_TARGET_PROD_EU", "postgres://u:pw@h/db"), env("HOME", "/root")])
        .expect("load");
    assert_eq!(t.get("prod_eu").map(Target::dialect), Some(TargetDialect::Postgres));
    assert_eq!(t.get("prod_eu").map(Target::source), Some("STRATA_TARGET_PROD_EU"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("targets.toml");
    std::fs::write(&file, FILE).expect("write");
    let e = Targets::load(Some(&file), [env("STRATA_TARGET_PROD", "sqlite://x.db")]).unwrap_err().0;
    assert!(e.contains("defined twice") && e.contains("STRATA_TARGET_PROD") && e.contains("line 2"), "{e}");
    let e = Targets::load(Some(&dir.path().join("missing.toml")), []).unwrap_err().0;
    assert!(e.contains("missing.toml") && e.contains("--targets"), "{e}");
    let e = Targets::load(None, [env("STRATA_TARGET_X", "oracle://h")]).unwrap_err().0;
    assert!(e.starts_with("STRATA_TARGET_X:") && e.contains("\"oracle\""), "{e}");
}

#[test]
fn durations_and_redaction() {
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    for bad in ["", "s", "10", "1d", "-1s", "1.5s"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    assert_eq!(redact("postgres://h/db?password=pw&sslmode=disable"), "postgres://h/db?password=***&sslmode=disable");
    assert_eq!(redact("sqlite:///a.db"), "sqlite:///a.db");
}

#[test]
fn events_are_camel_case_json_with_a_type() {
    let e = super::Event::StatementDone { file: "1_a.sql".into(), statement: 2, line: 3, duration_ns: 7 };
    assert_eq!(
        serde_json::to_string(&e).expect("json"),
        r#"{"type":"statementDone","file":"1_a.sql","statement":2,"line":3,"durationNs":7}"#
    );
    let f = super::Failure { file: None, statement: None, message: "m".into(), error: "e".into() };
    assert_eq!(
        serde_json::to_string(&super::Event::Error(f)).expect("json"),
        r#"{"type":"error","file":null,"statement":null,"message":"m","error":"e"}"#
    );
}

#[test]
fn apply_is_send() {
    fn send<T: Send>(_: T) {}
    let t = Target::new("x", "sqlite://a.db", "test").expect("target");
    let d = strata::dir::Directory::new(Vec::<(String, Vec<u8>)>::new()).expect("dir");
    let o = super::ApplyOptions::default();
    let mut cb = |_: &super::Event| {};
    send(super::apply(&t, &d, &o, &mut cb));
}
