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
    let r =
        lint(dir.clone(), &LintOptions { files: Some(vec!["2_drop.sql".into()]), ..LintOptions::default() }).unwrap();
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
    let e = lint(dir.clone(), &LintOptions { dialect: Some("oracle".into()), files: None }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), ("unknown-dialect", "unknown dialect \"oracle\""));
    let e =
        lint(dir.clone(), &LintOptions { files: Some(vec!["2_x.sql".into()]), ..LintOptions::default() }).unwrap_err();
    assert_eq!(e.code, "unknown-file");
    assert!(e.hint.contains("1_init.sql"), "{}", e.hint);
    let e = lint(input(&[("../1.sql", "")], None), &LintOptions::default()).unwrap_err();
    assert_eq!(e.file.as_deref(), Some("../1.sql"));
    assert!(options_from_json::<LintOptions>("null", "x", "").is_ok());
}

#[test]
fn previews_with_a_target_from_the_hook_answer_or_rows() {
    let init = ("1_init.sql", "CREATE TABLE t (id int);\n");
    let sum = Directory::new([(init.0, init.1.as_bytes().to_vec())]).unwrap().checksum().render();
    let local = input(&[init, ("atlas.sum", &sum)], Some("postgres"));
    let args = |revisions: &str| {
        options_from_json::<PreviewArgs>(
            &format!(r#"{{"name":"app","target":{{"name":"prod","revisions":{revisions}}}}}"#),
            "preview options",
            PREVIEW_OPTIONS_HINT,
        )
    };
    // The hook's answer names the dialect; the rows alone take the directory's.
    for revisions in [r#"{"target":"prod","dialect":"postgres","revisions":[],"tableMissing":true}"#, "[]"] {
        let r = preview(local.clone(), None, &args(revisions).unwrap()).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(doc["format"], "strata.preview/v1");
        assert_eq!(doc["base"]["reference"], "app@latest");
        assert_eq!(doc["target"]["dialect"], "postgres", "{revisions}");
        assert_eq!(doc["target"]["plan"]["files"][0]["name"], "1_init.sql");
        assert!(r.markdown.starts_with("<!-- strata:preview app -->\n"));
    }
    let e = preview(local.clone(), None, &args("3").unwrap()).unwrap_err();
    assert!(e.message.contains("target.revisions"), "{}", e.message);
    let e = preview(local.clone(), None, &args(r#"[{"type":"nonsense"}]"#).unwrap()).unwrap_err();
    assert_eq!(e.code, "invalid-options");
    let e = preview(
        local.clone(),
        Some(input(&[("a/1.sql", "")], None)),
        &PreviewArgs { name: "app".into(), ..PreviewArgs::default() },
    )
    .unwrap_err();
    assert_eq!(e.detail.as_deref(), Some("in the base directory app@latest"));
    let e = preview(local.clone(), None, &PreviewArgs::default()).unwrap_err();
    assert!(e.message.contains("`name`"), "{}", e.message);
}
