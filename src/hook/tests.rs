//! The hook protocol: request bodies, events and the stream decoder.

use super::*;
use crate::plan::{ExecOrder, TxMode};
use crate::registry::client::HttpResponse;

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

fn every_event() -> Vec<Event> {
    let report = crate::report::ApplyReport {
        digest: "sha256:d".into(),
        sum: "h1:s".into(),
        current: Some("1".into()),
        error: Some("boom".into()),
        ..Default::default()
    };
    vec![
        Event::Planned {
            target: "prod".into(),
            digest: "sha256:d".into(),
            dry_run: false,
            current: None,
            to_version: Some("2".into()),
            files: vec![PlannedFileInfo {
                name: "2_b.sql".into(),
                version: "2".into(),
                statements: 2,
                skip: 1,
                tx_mode: "file".into(),
            }],
            statements: 1,
        },
        Event::FileStarted { file: "2_b.sql".into(), version: "2".into(), statements: 1, skip: 1 },
        Event::StatementDone { file: "2_b.sql".into(), statement: 2, line: 3, duration_ns: 81_234 },
        Event::FileDone { file: "2_b.sql".into(), duration_ns: 912_345 },
        Event::Error(Failure {
            file: Some("2_b.sql".into()),
            statement: Some(StatementRef { index: 2, line: 2, pos: 28, text: "INSERT INTO nope VALUES (1);".into() }),
            message: "no such table: nope".into(),
            error: "sql/migrate: executing statement".into(),
        }),
        Event::Finished { report: Box::new(report) },
    ]
}

/// The stream the server sends for [`every_event`], `finished` with its deployment.
fn stream() -> Vec<u8> {
    let mut out = Vec::new();
    for e in every_event() {
        let mut line = serde_json::to_vec(&e).unwrap();
        if matches!(e, Event::Finished { .. }) {
            line.pop();
            line.extend_from_slice(br#","deployment":{"id":"dep_1","status":"failed"}}"#);
        }
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    out
}

#[test]
fn every_event_round_trips_with_its_wire_shape() {
    let wire = [
        r#"{"type":"planned","target":"prod","digest":"sha256:d","dryRun":false,"current":null,"toVersion":"2","files":[{"name":"2_b.sql","version":"2","statements":2,"skip":1,"txMode":"file"}],"statements":1}"#,
        r#"{"type":"fileStarted","file":"2_b.sql","version":"2","statements":1,"skip":1}"#,
        r#"{"type":"statementDone","file":"2_b.sql","statement":2,"line":3,"durationNs":81234}"#,
        r#"{"type":"fileDone","file":"2_b.sql","durationNs":912345}"#,
        r#"{"type":"error","file":"2_b.sql","statement":{"index":2,"line":2,"pos":28,"text":"INSERT INTO nope VALUES (1);"},"message":"no such table: nope","error":"sql/migrate: executing statement"}"#,
    ];
    let events = every_event();
    for (e, w) in events.iter().zip(wire) {
        assert_eq!(serde_json::to_string(e).unwrap(), w);
        assert_eq!(&serde_json::from_str::<Event>(w).unwrap(), e);
    }
    let finished = serde_json::to_string(&events[5]).unwrap();
    assert!(finished.starts_with(r#"{"type":"finished","report":{"digest":"sha256:d","#), "{finished}");
    assert_eq!(serde_json::from_str::<Event>(&finished).unwrap(), events[5]);
}

#[test]
fn decodes_across_every_chunk_boundary() {
    let bytes = stream();
    let want = every_event();
    // Every split into two chunks, and byte by byte.
    for cut in 0..=bytes.len() {
        let mut d = Decoder::new();
        let mut got = d.feed(&bytes[..cut]).unwrap();
        got.extend(d.feed(&bytes[cut..]).unwrap());
        let (rest, fin) = d.end().unwrap();
        assert!(rest.is_empty());
        assert_eq!(got, want, "cut at {cut}");
        assert_eq!(fin.deployment.unwrap().id.as_deref(), Some("dep_1"));
        assert_eq!(fin.report.error.as_deref(), Some("boom"));
    }
    let mut d = Decoder::new();
    let mut got = Vec::new();
    for b in &bytes {
        got.extend(d.feed(std::slice::from_ref(b)).unwrap());
        if got.len() < want.len() {
            assert!(!d.is_finished());
        }
    }
    assert!(d.is_finished());
    assert_eq!(got, want);
    // CRLF, blank lines and a last line without a newline.
    let crlf = String::from_utf8(bytes).unwrap().replace('\n', "\r\n\n");
    let mut d = Decoder::new();
    let got = d.feed(crlf.trim_end().as_bytes()).unwrap();
    assert_eq!(got.len(), want.len() - 1);
    let (rest, fin) = d.end().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(fin.deployment.unwrap().status.as_deref(), Some("failed"));
}

#[test]
fn a_stream_without_finished_is_an_error() {
    let bytes = stream();
    let last = bytes[..bytes.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let mut d = Decoder::new();
    assert_eq!(d.feed(&bytes[..last]).unwrap().len(), 5);
    let e = d.end().unwrap_err();
    assert_eq!(e.code, "stream-ended");
    assert_eq!(
        e.message,
        "the apply stream ended before finished: the connection was lost; check the target's revisions and GET /v1/deployments"
    );
    // Cut inside the finished line: the connection was lost there.
    let mut d = Decoder::new();
    d.feed(&bytes[..last + 10]).unwrap();
    let e = d.end().unwrap_err();
    assert_eq!(e.code, "stream-ended");
    assert_eq!(e.detail.as_deref(), Some(r#"5 lines received, the last one cut: {"type":"f"#));
    // Nothing at all.
    assert_eq!(Decoder::new().end().unwrap_err().code, "stream-ended");
}

#[test]
fn a_line_that_is_not_an_event_is_named_and_sticky() {
    let mut d = Decoder::new();
    let first = serde_json::to_string(&every_event()[1]).unwrap();
    let e = d.feed(format!("{first}\n\n<html>oops</html>\n{first}\n").as_bytes()).unwrap_err();
    assert_eq!((e.code, e.line), ("invalid-event", Some(3)));
    assert!(e.message.starts_with("line 3 of the apply stream is not an event: "), "{}", e.message);
    assert_eq!(e.detail.as_deref(), Some("<html>oops</html>"));
    assert!(!e.hint.is_empty());
    // Sticky.
    assert_eq!(d.feed(b"").unwrap_err(), e);
    assert_eq!(d.end().unwrap_err(), e);
    // An unknown type, bad UTF-8, a line after finished.
    for bad in [&br#"{"type":"exploded"}"#[..], b"\xff\xfe", br#"{"file":"x"}"#] {
        let mut line = bad.to_vec();
        line.push(b'\n');
        assert_eq!(Decoder::new().feed(&line).unwrap_err().code, "invalid-event");
    }
    let mut d = Decoder::new();
    let mut twice = stream();
    twice.extend_from_slice(first.as_bytes());
    twice.push(b'\n');
    let e = d.feed(&twice).unwrap_err();
    assert_eq!(e.message, "line 7 of the apply stream comes after finished");
    // A long line is cut in the detail.
    let long = format!("{}\n", "x".repeat(500));
    let e = Decoder::new().feed(long.as_bytes()).unwrap_err();
    assert_eq!(e.detail.unwrap().chars().count(), 121);
}

#[test]
fn client_requests_and_refusals() {
    assert_eq!(Client::new("ftp://x").unwrap_err().code, "invalid-url");
    assert_eq!(Client::new("http://h/hook/v1").unwrap_err().code, "invalid-url");
    assert_eq!(Client::new("http://h").unwrap().with_token("a b").unwrap_err().code, "invalid-token");
    let c = Client::new("http://127.0.0.1:8080/").unwrap().with_token("tok").unwrap();
    let r = c.targets();
    assert_eq!((r.method.as_str(), r.url.as_str()), ("GET", "http://127.0.0.1:8080/hook/v1/targets"));
    assert_eq!(r.headers, vec![("authorization", "Bearer tok".to_string())]);
    assert_eq!(c.revisions("prod").unwrap().url, "http://127.0.0.1:8080/hook/v1/targets/prod/revisions");
    assert_eq!(c.revisions("a/b").unwrap_err().code, "invalid-name");
    let plan = PlanRequest { dir: "app".into(), tag: Some("latest".into()), ..PlanRequest::default() };
    let r = c.plan("prod", &plan).unwrap();
    assert_eq!(r.body.as_deref(), Some(&br#"{"dir":"app","tag":"latest","options":{}}"#[..]));
    assert!(r.headers.contains(&("content-type", "application/json".to_string())));
    let both = PlanRequest { version: Some("sha256:x".into()), ..plan.clone() };
    assert_eq!(c.plan("prod", &both).unwrap_err().code, "invalid-request");
    let bad = PlanRequest { options: Options { amount: Some(0), ..Options::default() }, ..plan };
    let e = c.plan("prod", &bad).unwrap_err();
    assert_eq!((e.code.as_str(), e.message.as_str()), ("invalid-option", "options.amount is 0"));
    let apply = ApplyRequest { dir: "app".into(), version: "v".into(), plan_digest: "d".into(), ..Default::default() };
    assert_eq!(c.apply("prod", &apply).unwrap().url, "http://127.0.0.1:8080/hook/v1/targets/prod/apply");

    // The server's error keeps its fields.
    let r = c.targets();
    let body = br#"{"code":"stale-plan","message":"m","hint":"h","expected":"sha256:a","actual":"sha256:b"}"#;
    let e = Client::refused(&r, 409, body);
    assert_eq!((e.code.as_str(), e.message.as_str(), e.hint.as_str(), e.status), ("stale-plan", "m", "h", Some(409)));
    assert_eq!(e.extra["expected"], "sha256:a");
    let js = serde_json::to_value(&e).unwrap();
    assert_eq!((js["status"].as_u64(), js["actual"].as_str()), (Some(409), Some("sha256:b")));
    // A body that is not one: what the status says, with the start of the body.
    let e = Client::refused(&r, 502, b"<html>Bad gateway</html>");
    assert_eq!(e.code, "server-error");
    assert_eq!(e.message, "GET http://127.0.0.1:8080/hook/v1/targets answered 502: <html>Bad gateway</html>");
    let e = Client::refused(&r, 403, b"");
    assert_eq!((e.code.as_str(), e.status), ("forbidden", Some(403)));
    let ok = HttpResponse { status: 200, headers: vec![], body: br#"{"items":[]}"#.to_vec() };
    assert_eq!(Client::json(&r, &ok).unwrap()["items"], serde_json::json!([]));
    let e = Client::json(&r, &HttpResponse { body: b"nope".to_vec(), ..ok }).unwrap_err();
    assert_eq!(e.code, "invalid-response");
    let e = Client::failed(&r, crate::registry::client::TransportError::new("connect ECONNREFUSED"));
    assert_eq!(e.message, "GET http://127.0.0.1:8080/hook/v1/targets: connect ECONNREFUSED");
}
