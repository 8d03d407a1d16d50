//! `atlas-apply` database cases, natively only: every `sqlite-*` case
//! folder runs against real SQLite (rusqlite, bundled) through an
//! emulation of Atlas's CLI over the strata core. PostgreSQL and MySQL
//! cases need servers and are skipped here (they run through the server
//! hook), as are the `project-config` and `go-template-format` scopes.
//!
//! `STRATA_KEEP_TMP=1` keeps each case's scratch folder.
#![cfg(not(target_arch = "wasm32"))]

mod sqlite;

use std::path::Path;

#[test]
fn atlas_apply_sqlite_cases() {
    let root = Path::new(env!("STRATA_CONFORMANCE_ROOT")).join("atlas-apply");
    let started = std::time::Instant::now();
    let sum = sqlite::case::run_all(&root);
    println!("atlas-apply database cases ({:.2?}):", started.elapsed());
    for (name, steps, t) in &sum.ran {
        println!("  ran      {name} ({steps} steps, {t:.2?})");
    }
    for (name, why) in &sum.skipped {
        println!("  skipped  {name}: {why}");
    }
    println!("{} cases run, {} skipped, {} mismatches", sum.ran.len(), sum.skipped.len(), sum.failures.len());
    assert!(!sum.ran.is_empty(), "no sqlite case found under {}", root.display());
    assert_eq!(sum.ran.len() + sum.skipped.len(), 23, "every case folder is either run or skipped with a reason");
    if !sum.failures.is_empty() {
        panic!("atlas-apply database cases: {} mismatches:\n\n{}", sum.failures.len(), sum.failures.join("\n\n"));
    }
}
