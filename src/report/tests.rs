use super::*;

#[test]
fn report_document_round_trips_through_json() {
    let apply = ApplyReport {
        digest: "sha256:00".into(),
        start: 1_705_400_430_000_000_000,
        end: None,
        pending: vec![FileRef { name: "1_a.sql".into(), version: "1".into(), description: "a".into() }],
        ..ApplyReport::default()
    };
    let doc = Report::new(ReportBody::Apply(Box::new(apply)));
    let json = serde_json::to_string(&doc).unwrap();
    assert!(json.starts_with(r#"{"format":"strata.report/v1","generator":"strata "#), "{json}");
    assert!(json.contains(r#""kind":"apply","apply":{"#), "{json}");
    assert!(json.contains(r#""start":"2024-01-16T10:20:30Z","end":null"#), "{json}");
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, doc);
}

#[test]
fn documents_of_another_format_or_without_their_report_are_refused() {
    let mut doc = Report::new(ReportBody::Apply(Box::default()));
    assert!(doc.body().is_ok());
    doc.format = "strata.report/v2".into();
    assert_eq!(doc.body().unwrap_err().code, "report-format");
    doc.format = REPORT_FORMAT.into();
    doc.apply = None;
    assert_eq!(doc.body().unwrap_err().code, "invalid-report");
}

#[test]
fn plan_errors_are_flat_json_with_message_and_hint() {
    let e = crate::plan::PlanError::HistoryChanged { file: "2_x.sql".into(), statement: 3, line: Some(7) };
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"kind":"history-changed","code":"history-changed","message":{},"hint":{},"file":"2_x.sql","line":7,"statement":3}}"#,
            serde_json::to_string(&e.to_string()).unwrap(),
            serde_json::to_string(&e.hint()).unwrap()
        )
    );
    let back: crate::plan::PlanError = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    let e = crate::plan::PlanError::NonLinear { out_of_order: vec!["2.sql".into()], pending: vec!["3.sql".into()] };
    let back: crate::plan::PlanError = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
    assert!(serde_json::from_str::<crate::plan::PlanError>(r#"{"kind":"nope"}"#).is_err());
}

mod html {
    use super::super::*;
    use crate::plan::{plan, DbState, ExecOptions, Executor, Outcome, PlanOptions, Step};
    use crate::test_util::text_of;

    const HOSTILE: &str = "\"><img src=x onerror=alert(1)><script>alert(2)</script>";

    /// Every tag the markup opens is one the renderer writes.
    fn assert_inert(html: &str) {
        let allowed =
            ["section", "dl", "dt", "dd", "p", "strong", "article", "h3", "span", "ol", "li", "pre", "code", "/"];
        for (i, _) in html.match_indices('<') {
            let name: String = html[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
            let name = name.trim_start_matches('/');
            assert!(allowed.contains(&name) || name.is_empty(), "unexpected tag <{name} in {html}");
        }
        assert!(!html.contains("<img") && !html.contains("<script"), "{html}");
    }

    #[test]
    fn highlighting_keeps_the_text_and_escapes_it() {
        for sql in [
            "SELECT 1;",
            "CREATE TABLE \"we\"\"ird\" (a int DEFAULT 'it''s');",
            "INSERT INTO t VALUES ('<script>alert(1)</script>'); -- <b>\n/* </code> */ SELECT $x$ a $ b $x$, $1;",
            "unterminated 'string <i>",
            "/* unterminated comment <i>",
            "select `tick` from é日本 where x = 1.5e3",
            HOSTILE,
            "",
        ] {
            let h = highlight_sql(sql);
            assert_eq!(text_of(&h), sql, "{h}");
            assert_inert(&h);
        }
        assert!(highlight_sql("create table").contains("<span class=\"st-kw\">create</span>"));
        assert!(highlight_sql("x1 = 2").starts_with("x1 = <span class=\"st-num\">2</span>"));
    }

    #[test]
    fn plans_and_reports_render_hostile_names_and_sql_inert() {
        let name = format!("2_{}.sql", HOSTILE.replace('/', ""));
        let dir = crate::test_util::dir_with_sum(&[
            ("1_a.sql", "CREATE TABLE a (id int);\n"),
            (&name, "INSERT INTO a VALUES ('<script>alert(3)</script>');\nSELECT '\"><img src=x onerror=alert(4)>';\n"),
        ]);
        let p = plan(&dir, &DbState::default(), &PlanOptions::default()).unwrap();
        let h = plan_html(&p);
        assert_inert(&h);
        let t = text_of(&h);
        assert!(t.contains(&name) && t.contains("<script>alert(3)</script>") && t.contains(&p.digest), "{t}");

        // Run it, the last statement failing with a hostile message.
        let mut ex = Executor::new(p, ExecOptions::default(), 1_000);
        let mut now = 1_000;
        loop {
            let outcome = match ex.next() {
                Step::Done => break,
                Step::Execute { sql, .. } if sql.contains("SELECT") => {
                    Outcome::Err(format!("syntax error at {HOSTILE}"))
                }
                _ => Outcome::Ok,
            };
            now += 1_500_000;
            ex.record(outcome, now);
        }
        let r = ex.into_report();
        assert!(r.failed());
        let h = apply_html(&r);
        assert_inert(&h);
        let t = text_of(&h);
        assert!(t.contains(&format!("syntax error at {HOSTILE}")), "{t}");
        assert!(h.contains("<li class=\"st-failed\">"), "the failing statement is marked: {h}");
        assert!(t.contains("1.5ms"), "statement durations are shown: {t}");

        let mut doc = Report::new(ReportBody::Apply(Box::new(r)));
        doc.directory = Some(HOSTILE.into());
        let page = report_page(&doc).unwrap();
        assert!(page.starts_with("<!doctype html>") && page.contains("default-src 'none'"), "{page}");
        assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("<link"), "{page}");
        assert!(text_of(&page).contains(&format!("Apply of {HOSTILE}")));
    }

    #[test]
    fn an_up_to_date_plan_says_so() {
        let dir = crate::test_util::dir_with_sum(&[("1_a.sql", "CREATE TABLE a (id int);\n")]);
        let mut state = DbState::default();
        let p = plan(&dir, &state, &PlanOptions::default()).unwrap();
        assert!(text_of(&plan_html(&p)).contains("Statements1"));
        // Run it and keep the revision rows it writes: nothing is left.
        let mut ex = Executor::new(p, ExecOptions::default(), 1_000);
        loop {
            match ex.next() {
                Step::Done => break,
                Step::WriteRevision(r) => {
                    state.revisions.retain(|x| x.version != r.version);
                    state.revisions.push(r.clone());
                }
                _ => {}
            }
            ex.record(Outcome::Ok, 2_000);
        }
        let p = plan(&dir, &state, &PlanOptions::default()).unwrap();
        assert!(p.is_empty());
        assert!(text_of(&plan_html(&p)).contains("Nothing to apply"), "{}", plan_html(&p));
    }
}
