//! The hook protocol: request bodies, events and the stream decoder.

use super::*;
use crate::plan::{ExecOrder, TxMode};

#[test]
fn options_are_checked_naming_the_option() {
    let o: Options = serde_json::from_str(r#"{"execOrder":"linear-skip","txMode":"all","amount":2}"#).unwrap();
    let p = o.plan_options().unwrap();
    assert_eq!((p.exec_order, p.tx_mode, p.amount), (ExecOrder::LinearSkip, TxMode::All, Some(2)));
    let err = |json: &str| serde_json::from_str::<Options>(json).unwrap().plan_options().unwrap_err();
    let e = err(r#"{"txMode":"some"}"#);
    assert_eq!((e.option, e.message.as_str()), ("txMode", "options.txMode: unknown tx-mode \"some\""));
    assert!(!e.hint.is_empty());
    assert_eq!(err(r#"{"execOrder":"up"}"#).option, "execOrder");
    assert_eq!(err(r#"{"baseline":""}"#).message, "options.baseline is empty");
    assert_eq!(err(r#"{"toVersion":""}"#).message, "options.toVersion is empty");
    assert_eq!(err(r#"{"amount":0}"#).message, "options.amount is 0");
    // No way to smuggle a URL in.
    assert!(serde_json::from_str::<Options>(r#"{"url":"sqlite://x"}"#).is_err());
    assert!(serde_json::from_str::<PlanRequest>(r#"{"dir":"a","url":"x"}"#).is_err());
}

#[test]
fn requests_serialize_as_the_protocol_says() {
    let p = PlanRequest { dir: "app".into(), tag: Some("latest".into()), ..PlanRequest::default() };
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"dir":"app","tag":"latest","options":{}}"#);
    let a = ApplyRequest {
        dir: "app".into(),
        version: "sha256:v".into(),
        plan_digest: "sha256:p".into(),
        options: Options { to_version: Some("2".into()), allow_dirty: true, ..Options::default() },
        dry_run: true,
    };
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(
        json,
        r#"{"dir":"app","version":"sha256:v","planDigest":"sha256:p","options":{"allowDirty":true,"toVersion":"2"},"dryRun":true}"#
    );
    assert_eq!(serde_json::from_str::<ApplyRequest>(&json).unwrap(), a);
    // Defaults: no options, not a dry run.
    let a: ApplyRequest = serde_json::from_str(r#"{"dir":"a","version":"v","planDigest":"p"}"#).unwrap();
    assert_eq!((a.options, a.dry_run), (Options::default(), false));
}
