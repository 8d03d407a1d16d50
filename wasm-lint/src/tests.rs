use super::*;

fn input(files: &[(&str, &str)], dialect: Option<&str>) -> Input {
    Input {
        entries: files.iter().map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())).collect(),
        dialect: dialect.map(String::from),
    }
}

#[test]
fn lints_with_the_directory_dialect_and_counts() {
    let dir = input(
        &[("1_init.sql", "CREATE TABLE users (id int);\n"), ("2_drop.sql", "DROP TABLE users;\nSELEKT 1;\n")],
        Some("postgres"),
    );
    let r = lint(&dir, &LintOptions { files: Some(vec!["2_drop.sql".into()]), ..LintOptions::default() }).unwrap();
    assert_eq!(r.report.findings[0].code, "DS102");
    assert_eq!(r.report.unparsed[0].code, "ST001");
    assert_eq!((r.errors, r.warnings), (1, 1));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["findings"][0]["file"], "2_drop.sql");
    assert_eq!(json["errors"], 1);
}

#[test]
fn refuses_bad_options_and_files_with_hints() {
    let dir = input(&[("1_init.sql", "CREATE TABLE t (id int);\n")], None);
    let e =
        options_from_json::<LintOptions>(r#"{"dialekt":"postgres"}"#, "lint options", LINT_OPTIONS_HINT).unwrap_err();
    assert_eq!(e.code, "invalid-options");
    assert!(e.message.starts_with("invalid lint options: unknown field `dialekt`"), "{}", e.message);
    assert!(!e.message.contains("line 1"), "{}", e.message);
    let e = lint(&dir, &LintOptions { dialect: Some("oracle".into()), files: None }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), ("unknown-dialect", "unknown dialect \"oracle\""));
    let e = lint(&dir, &LintOptions { files: Some(vec!["2_x.sql".into()]), ..LintOptions::default() }).unwrap_err();
    assert_eq!(e.code, "unknown-file");
    assert!(e.hint.contains("1_init.sql"), "{}", e.hint);
    let e = lint(&input(&[("../1.sql", "")], None), &LintOptions::default()).unwrap_err();
    assert_eq!(e.file.as_deref(), Some("../1.sql"));
    assert!(options_from_json::<LintOptions>("null", "x", "").is_ok());
}
