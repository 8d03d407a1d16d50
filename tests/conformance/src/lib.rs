//! The conformance harness: checks the strata core against data produced by
//! Atlas itself (`../shared/conformance`, see its READMEs). Each `check_*`
//! function returns the list of mismatches, empty when everything agrees;
//! the tests in `tests/` run them natively and in headless Chromium.
//! [`apply`] has the core-level `atlas-apply` cases; the database cases
//! of `atlas-apply` (real SQLite) are in `tests/atlas_apply_sqlite.rs`.

use serde_json::Value;
use strata::dir::Directory;
use strata::lex::{self, ScanOptions};
use strata::sum::{SumError, SumFile};

pub mod apply;

mod corpus {
    include!(concat!(env!("OUT_DIR"), "/corpus.rs"));
}

/// The bytes of a corpus file, if it is there.
pub fn try_file(path: &str) -> Option<&'static [u8]> {
    corpus::FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// The bytes of a corpus file.
pub fn file(path: &str) -> &'static [u8] {
    corpus::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("corpus file {path} missing"))
}

fn text(path: &str) -> &'static str {
    std::str::from_utf8(file(path)).unwrap()
}

fn json(path: &str) -> Value {
    serde_json::from_slice(file(path)).unwrap()
}

/// The files directly inside `dir` (not in its sub-directories), as a
/// directory listing would give them: (name, bytes).
pub fn listing(dir: &str) -> Vec<(String, Vec<u8>)> {
    let prefix = format!("{dir}/");
    corpus::FILES
        .iter()
        .filter_map(|(p, b)| p.strip_prefix(&prefix).map(|rest| (rest, b)))
        .filter(|(rest, _)| !rest.contains('/'))
        .map(|(rest, b)| (rest.to_string(), b.to_vec()))
        .collect()
}

/// The sub-directories of `dir`.
pub fn subdirs(dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    let mut out: Vec<String> = corpus::FILES
        .iter()
        .filter_map(|(p, _)| p.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once('/').map(|(d, _)| d.to_string()))
        .collect();
    out.dedup();
    out
}

/// Scanner options from Atlas's option names (`MatchBegin`, ...).
pub fn options(names: &Value) -> ScanOptions {
    let mut o = ScanOptions::default();
    for n in names.as_array().unwrap() {
        let flag = match n.as_str().unwrap() {
            "MatchBegin" => &mut o.match_begin,
            "MatchBeginAtomic" => &mut o.match_begin_atomic,
            "MatchBeginTryCatch" => &mut o.match_begin_try_catch,
            "MatchDollarQuote" => &mut o.match_dollar_quote,
            "BackslashEscapes" => &mut o.backslash_escapes,
            "EscapedStringExt" => &mut o.escaped_string_ext,
            "HashComments" => &mut o.hash_comments,
            "GoCommand" => &mut o.go_command,
            "BeginEndTerminator" => &mut o.begin_end_terminator,
            "OmitDelimiter" => &mut o.omit_delimiter,
            other => panic!("unknown scanner option {other}"),
        };
        *flag = true;
    }
    o
}

/// Compares one scan against an expectation `{error, stmts: [{pos, text,
/// comments}]}`.
fn compare_scan(label: &str, input: &str, o: &ScanOptions, want: &Value, failures: &mut Vec<String>) {
    let got = lex::split(input, o);
    match (&got, want["error"].as_str()) {
        (Err(e), Some(w)) if e.to_string() == w => {}
        (Err(e), w) => failures.push(format!("{label}: error {:?}, want {:?}", e.to_string(), w)),
        (Ok(_), Some(w)) => failures.push(format!("{label}: no error, want {w:?}")),
        (Ok(stmts), None) => {
            let want = want["stmts"].as_array().unwrap();
            if stmts.len() != want.len() {
                failures.push(format!("{label}: {} statements, want {}", stmts.len(), want.len()));
            }
            for s in stmts {
                if input.get(s.start..s.end) != Some(s.text) {
                    failures.push(format!("{label}: span {}..{} does not slice back to {:?}", s.start, s.end, s.text));
                }
            }
            for (i, (s, w)) in stmts.iter().zip(want).enumerate() {
                let wc: Vec<&str> = w["comments"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
                if s.text != w["text"].as_str().unwrap() {
                    failures.push(format!("{label} #{i}: text {:?}, want {:?}", s.text, w["text"]));
                }
                if s.pos as u64 != w["pos"].as_u64().unwrap() {
                    failures.push(format!("{label} #{i}: pos {}, want {}", s.pos, w["pos"]));
                }
                if s.comments != wc {
                    failures.push(format!("{label} #{i}: comments {:?}, want {:?}", s.comments, wc));
                }
            }
        }
    }
}

/// The 28 upstream golden files, with the options of their test suite.
pub fn check_lex_goldens() -> (usize, Vec<String>) {
    let suites = json("atlas-lex/suites.json");
    let mut failures = Vec::new();
    let mut n = 0;
    for (path, opts) in suites.as_object().unwrap() {
        n += 1;
        let input = text(&format!("atlas-lex/{path}"));
        let golden = text(&format!("atlas-lex/{path}.golden"));
        match lex::split(input, &options(opts)) {
            Err(e) => failures.push(format!("{path}: {e}")),
            Ok(stmts) => {
                let got: Vec<&str> = stmts.iter().map(|s| s.text).collect();
                let got = got.join("\n-- end --\n");
                if got != golden {
                    failures.push(format!("{path}: got\n{got}\nwant\n{golden}"));
                }
            }
        }
    }
    // The upstream negative cases.
    for (path, opt, want) in [
        ("lexescaped/2.pg.sql", "BackslashEscapes", "4:40: unclosed quote '\\''"),
        ("lexescaped/1.my.sql", "EscapedStringExt", "4:42: unclosed quote '\\''"),
    ] {
        n += 1;
        let o = options(&serde_json::json!([opt]));
        match lex::split(text(&format!("atlas-lex/{path}")), &o) {
            Err(e) if e.to_string() == want => {}
            other => failures.push(format!("{path} with {opt}: {:?}, want {want}", other.map(|s| s.len()))),
        }
    }
    (n, failures)
}

/// Every `generated/<suite>/<file>.json`: positions, comments and errors.
pub fn check_lex_generated() -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut n = 0;
    for (path, bytes) in corpus::FILES {
        let Some(rest) = path.strip_prefix("atlas-lex/generated/") else { continue };
        if !rest.contains('/') {
            continue; // edge-cases.json
        }
        n += 1;
        let case: Value = serde_json::from_slice(bytes).unwrap();
        // `input` names the upstream file, relative to the suite folders.
        let input = text(&format!("atlas-lex/{}", case["input"].as_str().unwrap()));
        compare_scan(rest, input, &options(&case["options"]), &case, &mut failures);
    }
    (n, failures)
}

/// The 328 edge cases of `generated/edge-cases.json`.
pub fn check_lex_edge_cases() -> (usize, Vec<String>) {
    let cases = json("atlas-lex/generated/edge-cases.json");
    let mut failures = Vec::new();
    let cases = cases.as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let label = format!("edge case {i} ({})", case["label"].as_str().unwrap_or(""));
        compare_scan(&label, case["input"].as_str().unwrap(), &options(&case["options"]), case, &mut failures);
    }
    (cases.len(), failures)
}

fn dir_of(path: &str) -> Directory {
    Directory::new(listing(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The 22 upstream directories and the synthetic ones: the computed sum is
/// byte-identical to their `atlas.sum`, and each validates.
pub fn check_sum_dirs() -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut dirs: Vec<String> = (1..=22).map(|i| format!("atlas-sum/{i:02}")).collect();
    dirs.extend(subdirs("atlas-sum/synthetic").into_iter().map(|d| format!("atlas-sum/synthetic/{d}")));
    for d in &dirs {
        let dir = dir_of(d);
        let want = file(&format!("{d}/atlas.sum"));
        let got = dir.checksum().render();
        if got.as_bytes() != want {
            failures.push(format!("{d}: computed\n{got}want\n{}", String::from_utf8_lossy(want)));
        }
        if let Err(e) = dir.verify(None) {
            failures.push(format!("{d}: verify: {e}"));
        }
        match SumFile::parse(want) {
            Ok(s) if s.render().as_bytes() == want => {}
            other => failures.push(format!("{d}: parse/render round trip: {other:?}")),
        }
    }
    (dirs.len(), failures)
}

/// `validate/<case>`: each outcome in its `expected.json`.
pub fn check_validate() -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let cases = subdirs("atlas-sum/validate");
    for c in &cases {
        let d = format!("atlas-sum/validate/{c}");
        let want = json(&format!("{d}/expected.json"));
        let got = dir_of(&d).verify(None);
        let got_json = match &got {
            Ok(()) => serde_json::json!({"error": null}),
            Err(e) => {
                let mut v = serde_json::json!({"error": e.to_string(), "kind": e.atlas_kind()});
                if let SumError::Checksum(c) = e {
                    v["line"] = c.line.into();
                    v["total"] = c.total.into();
                    v["pos"] = c.pos.into();
                    v["file"] = c.file.clone().into();
                    v["reason"] = c.reason.as_str().into();
                }
                v
            }
        };
        // Compare the fields the expectation states.
        let want_obj = want.as_object().unwrap();
        for (k, v) in want_obj {
            if k == "kind" && v.is_null() {
                continue;
            }
            let g = got_json.get(k).cloned().unwrap_or(Value::Null);
            if &g != v {
                failures.push(format!("{c}: {k} = {g}, want {v}"));
            }
        }
    }
    (cases.len(), failures)
}

/// `formats/`: the Atlas-layout reading of each foreign-format folder (the
/// liquibase folder is in the Atlas layout and must match its expectations
/// entirely).
pub fn check_formats_atlas_layout() -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let d = "atlas-sum/formats/liquibase";
    let dir = dir_of(d);
    let want_sum = file(&format!("{d}/expected-atlas.sum"));
    if dir.checksum().render().as_bytes() != want_sum {
        failures.push(format!("{d}: sum differs"));
    }
    let want = json(&format!("{d}/expected-files.json"));
    let want = want.as_array().unwrap();
    if want.len() != dir.files().len() {
        failures.push(format!("{d}: {} files, want {}", dir.files().len(), want.len()));
    }
    for (f, w) in dir.files().iter().zip(want) {
        if f.name() != w["Name"] || f.version() != w["Version"] || f.description() != w["Description"] {
            failures.push(format!("{d}: file {} / {} / {} vs {w}", f.name(), f.version(), f.description()));
        }
        // Foreign-format files use the generic profile.
        let stmts: Vec<String> =
            f.statements(lex::Dialect::Generic).unwrap().iter().map(|s| s.text.to_string()).collect();
        let ws: Vec<String> = w["Stmts"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
        if stmts != ws {
            failures.push(format!("{d}/{}: statements {stmts:?}, want {ws:?}", f.name()));
        }
    }
    (1, failures)
}

/// Panics with every mismatch, one per paragraph, if there are any.
pub fn assert_clean(what: &str, (n, failures): (usize, Vec<String>)) {
    assert!(n > 0, "{what}: no cases found");
    if !failures.is_empty() {
        panic!("{what}: {} of the cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
    }
}
