//! A plan that must have the same digest natively and in WebAssembly: the
//! input, the expected digest, and the native test asserting it. The wasm
//! tests of `src/wasm.rs` plan the same input through the JavaScript API
//! (`plan(dir, JSON.parse(REVISIONS), JSON.parse(OPTIONS))`) and assert the
//! same digest, so the two builds are compared through one value.
//!
//! The input exercises every part of the digest: a file added out of order
//! (`execOrder: "non-linear"`), a `-- atlas:txmode none` header, and a
//! partially applied last file that resumes after its first statement,
//! read from `sqlite3 -json` style rows (column names, `partial_hashes` as
//! JSON text).

/// The dialect the directory is split with.
pub const DIALECT: &str = "postgres";

/// The migration files; `atlas.sum` is computed from them.
pub const FILES: [(&str, &str); 4] = [
    ("1_a.sql", "CREATE TABLE a (id int);\n"),
    ("2_b.sql", "-- atlas:txmode none\n\nCREATE TABLE b (id int);\n"),
    ("3_c.sql", "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n"),
    ("4_d.sql", "CREATE TABLE d (id int);\nINSERT INTO d VALUES (1);\n"),
];

/// The revisions, as `sqlite3 -json` prints them. Version 3 was added
/// below version 4; version 4 failed at its second statement.
pub const REVISIONS: &str = r#"[
  {"version":"1","description":"a","type":2,"applied":1,"total":1,"executed_at":"2024-01-16 10:20:30","execution_time":1000,"error":"","error_stmt":"","hash":"x","partial_hashes":null,"operator_version":"Atlas CLI v0.30.0"},
  {"version":"2","description":"b","type":2,"applied":1,"total":1,"executed_at":"2024-01-16 10:20:31","execution_time":1000,"error":"","error_stmt":"","hash":"y","partial_hashes":null,"operator_version":"Atlas CLI v0.30.0"},
  {"version":"4","description":"d","type":2,"applied":1,"total":2,"executed_at":"2024-01-16 10:20:32","execution_time":1000,"error":"boom","error_stmt":"INSERT INTO d VALUES (1);","hash":"z","partial_hashes":"[\"h1:vbsmdyyllefJp/61W2FmraanTpxGDYLHKI9jo/w0kkk=\"]","operator_version":"Atlas CLI v0.30.0"}
]"#;

/// The plan options, as JSON.
pub const OPTIONS: &str = r#"{"execOrder":"non-linear","txMode":"file"}"#;

/// The digest of that plan, on every platform.
pub const DIGEST: &str = "sha256:669cd33b20a32deb191ac97f491f07aa20ec6702e2823f471a0e9353ec32fa4b";

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_plan_has_the_shared_digest() {
    use crate::dir::{DirOptions, Directory};
    use crate::lex::Dialect;
    use crate::plan::{plan, DbState, PlanOptions, Revision, TxMode};
    use crate::sum::SumFile;

    let sum = SumFile::compute(FILES.iter().map(|(n, c)| (*n, c.as_bytes()))).render();
    let entries = FILES
        .iter()
        .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
        .chain([("atlas.sum".to_string(), sum.into_bytes())]);
    let options = DirOptions { dialect: Dialect::parse(DIALECT).unwrap(), ..DirOptions::default() };
    let dir = Directory::with_options(entries, options).unwrap();
    let revisions: Vec<Revision> = serde_json::from_str(REVISIONS).unwrap();
    let state = DbState { revisions, ..DbState::default() };
    let options: PlanOptions = serde_json::from_str(OPTIONS).unwrap();
    let p = plan(&dir, &state, &options).unwrap();
    // The fixture is what it says it is.
    let files: Vec<_> = p.files.iter().map(|f| (f.name.as_str(), f.out_of_order, f.tx_mode, f.skip)).collect();
    assert_eq!(files, [("3_c.sql", true, TxMode::None, 0), ("4_d.sql", false, TxMode::File, 1)]);
    assert!(p.first_error().is_none());
    assert_eq!(p.digest, DIGEST);
}
