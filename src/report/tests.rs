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
