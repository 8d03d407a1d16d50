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
    assert!(json.contains(r#""kind":"apply","report":{"#), "{json}");
    assert!(json.contains(r#""start":"2024-01-16T10:20:30Z","end":null"#), "{json}");
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, doc);
}
