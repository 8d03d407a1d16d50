//! The `atlas-apply` conformance cases through the deployment hook, over
//! HTTP against the real binary: every `sqlite-*` case of scope `core` on
//! SQLite files in a temp dir, and every `postgres-*` one on fresh
//! databases of the PostgreSQL server `STRATA_TEST_METADATA` names (an admin
//! URL; without it they are skipped with a note). See `conformance/mod.rs`
//! for how each step maps onto `/v1` and `/hook/v1`.
//!
//! The corpus is `$STRATA_CONFORMANCE` or `../shared/conformance` beside the
//! checkout.

mod common;
mod conformance;
// The sqlite harness's matchers and duration-tolerant comparison, as they are.
#[path = "../../tests/conformance/tests/sqlite/matchers.rs"]
mod matchers;

/// Cases that run without PostgreSQL: the `sqlite-*` `core` cases that use
/// no `migrate set`.
const SQLITE_CASES: usize = 13;
/// The `postgres-*` `core` cases.
const POSTGRES_CASES: usize = 4;

#[tokio::test(flavor = "multi_thread")]
async fn atlas_apply_cases_through_the_hook() {
    let root = conformance::corpus_root();
    assert!(
        root.join("atlas-apply").is_dir(),
        "conformance data not found at {}: it lives in ../shared/conformance next to the checkout, or set \
         STRATA_CONFORMANCE",
        root.display()
    );
    let admin = std::env::var("STRATA_TEST_METADATA").ok().filter(|a| !a.is_empty());
    if admin.is_none() {
        eprintln!("note: STRATA_TEST_METADATA is not set; the postgres-* cases are skipped");
    }
    let started = std::time::Instant::now();
    let sum = conformance::run_all(&root, admin.as_deref()).await;
    println!("atlas-apply through the hook ({:.2?}):", started.elapsed());
    for (name, driver, steps, t) in &sum.ran {
        println!("  ran      {name} ({driver}, {steps} steps, {t:.2?})");
    }
    for (name, why) in &sum.skipped {
        println!("  skipped  {name}: {why}");
    }
    for why in &sum.skipped_steps {
        println!("  not compared: {why}");
    }
    println!(
        "{} cases run ({:?} apply/status steps through the hook), {} skipped, {} mismatches",
        sum.ran.len(),
        sum.hook_steps,
        sum.skipped.len(),
        sum.failures.len()
    );
    let want = SQLITE_CASES + if admin.is_some() { POSTGRES_CASES } else { 0 };
    assert_eq!(sum.ran.len(), want, "cases run: {:?}", sum.ran.iter().map(|r| &r.0).collect::<Vec<_>>());
    assert_eq!(sum.ran.len() + sum.skipped.len(), 23, "every case folder is either run or skipped with a reason");
    if !sum.failures.is_empty() {
        panic!("atlas-apply through the hook: {} mismatches:\n\n{}", sum.failures.len(), sum.failures.join("\n\n"));
    }
}
