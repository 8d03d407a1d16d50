//! The `expect` matchers of `atlas-apply` (README "`expect` and
//! `derived`") and the duration-tolerant comparison of `derived` texts.

use regex::Regex;
use serde_json::Value;
use strata_conformance::apply::mismatch;

/// A Go `time.Duration` string, in the two positions of the apply report
/// that hold one (README "Timing-dependent output").
pub const DURATION: &str = r"-?(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?(?:ns|µs|ms|s)|0s";

/// Whether `actual` equals a `derived` text in which `<duration>` stands
/// for any Go duration.
pub fn matches_derived(expected: &str, actual: &str) -> Result<bool, String> {
    if !expected.contains("<duration>") {
        return Ok(expected == actual);
    }
    let pattern: Vec<String> = expected.split("<duration>").map(regex::escape).collect();
    let re = Regex::new(&format!("^{}$", pattern.join(&format!("(?:{DURATION})")))).map_err(|e| e.to_string())?;
    Ok(re.is_match(actual))
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Checks one matcher against `stream` (the whole output of one command);
/// `None` when it holds, else the mismatch.
pub fn check(label: &str, stream_name: &str, m: &Value, stream: &str) -> Option<String> {
    let negate = m.get("negate").and_then(Value::as_bool).unwrap_or(false);
    let line = m.get("line").and_then(Value::as_u64).map(|l| format!(" (upstream line {l})")).unwrap_or_default();
    let what = |kind: &str| format!("{stream_name} {kind}{}{line}", if negate { " (negated)" } else { "" });
    let text = s(m, "text").unwrap_or("");
    let (held, kind, expected) = match s(m, "type") {
        Some("regex") => {
            let pattern = s(m, "pattern").unwrap_or("");
            let flags = s(m, "flags").unwrap_or("");
            match Regex::new(&format!("{flags}{pattern}")) {
                Ok(re) => (re.is_match(stream), "regex", format!("{flags}{pattern}")),
                Err(e) => return Some(format!("{label}: bad regex {pattern:?}: {e}")),
            }
        }
        Some("exact") => (stream == text, "exact", text.to_string()),
        Some("contains") => (stream.contains(text), "contains", text.to_string()),
        Some("prefix") => (stream.starts_with(text), "prefix", text.to_string()),
        Some("nonempty") => (!stream.is_empty(), "nonempty", "(anything)".into()),
        Some("valid_json") => (
            serde_json::from_str::<Value>(stream).is_ok_and(|v| v.is_object()),
            "valid_json",
            "(one JSON object)".into(),
        ),
        other => return Some(format!("{label}: unknown matcher type {other:?}")),
    };
    if held == negate {
        Some(mismatch(label, &what(kind), &expected, stream))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_durations() {
        let want = "  -- ok (<duration>)\n  -- <duration>\n";
        for d in ["0s", "5ms", "1.234567ms", "812.5µs", "12ns", "1.5s", "2m3.5s", "1h0m0s", "-2562047h47m16.854775808s"]
        {
            assert!(matches_derived(want, &format!("  -- ok ({d})\n  -- {d}\n")).unwrap(), "{d}");
        }
        assert!(!matches_derived(want, "  -- ok (soon)\n  -- 1ms\n").unwrap());
        assert!(!matches_derived(want, "  -- ok (1ms)\n  -- 1ms\nextra").unwrap());
        // Without placeholders the comparison is exact.
        assert!(matches_derived("a.b\n", "a.b\n").unwrap());
        assert!(!matches_derived("a.b\n", "axb\n").unwrap());
    }

    #[test]
    fn matcher_kinds() {
        let m = |v: serde_json::Value| v;
        let out = "Migrating to version 4 (4 migrations in total):\nline two\n";
        assert!(check(
            "t",
            "stdout",
            &m(serde_json::json!({"type": "regex", "pattern": "^line two$", "flags": "(?m)"})),
            out
        )
        .is_none());
        assert!(check(
            "t",
            "stdout",
            &m(serde_json::json!({"type": "regex", "pattern": "^line two$", "flags": ""})),
            out
        )
        .is_some());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "contains", "text": "version 4"})), out).is_none());
        assert!(check(
            "t",
            "stdout",
            &m(serde_json::json!({"type": "contains", "text": "version 4", "negate": true})),
            out
        )
        .is_some());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "prefix", "text": "Migrating"})), out).is_none());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "exact", "text": out})), out).is_none());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "nonempty"})), "").is_some());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "valid_json"})), "{\"a\":1}").is_none());
        assert!(check("t", "stdout", &m(serde_json::json!({"type": "what"})), out).is_some());
    }
}
