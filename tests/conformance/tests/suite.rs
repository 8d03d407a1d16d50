//! The conformance suites. The same tests run natively (`cargo test`) and
//! in headless Chromium (`wasm-pack test --headless --chrome`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use strata_conformance::*;

#[test]
fn lex_golden_files() {
    let r = check_lex_goldens();
    assert_eq!(r.0, 30, "28 golden files and the 2 negative cases");
    assert_clean("atlas-lex goldens", r);
}

#[test]
fn lex_generated_positions_and_comments() {
    let r = check_lex_generated();
    assert_eq!(r.0, 28);
    assert_clean("atlas-lex/generated", r);
}

#[test]
fn lex_edge_cases() {
    let r = check_lex_edge_cases();
    assert_eq!(r.0, 328);
    assert_clean("atlas-lex/generated/edge-cases.json", r);
}

#[test]
fn sum_directories() {
    let r = check_sum_dirs();
    assert_eq!(r.0, 26, "22 upstream and 4 synthetic directories");
    assert_clean("atlas-sum directories", r);
}

#[test]
fn sum_validation_outcomes() {
    let r = check_validate();
    assert_eq!(r.0, 11);
    assert_clean("atlas-sum/validate", r);
}

#[test]
fn formats_in_atlas_layout() {
    assert_clean("atlas-sum/formats", check_formats_atlas_layout());
}

// atlas-apply: the core-level cases (no database). The database cases run
// natively only, in tests/atlas_apply_sqlite.rs.

#[test]
fn apply_pending_cases() {
    let r = apply::check_pending_cases().into_pair();
    assert_eq!(r.0, 18);
    assert_clean("atlas-apply executor-cases.json pending_cases", r);
}

#[test]
fn apply_constructor_cases() {
    let o = apply::check_constructor_cases();
    assert_eq!(o.skipped.len(), 3, "the nil driver/dir/store cases are not expressible in Rust");
    assert_clean("atlas-apply executor-cases.json constructor_cases", o.into_pair());
}

#[test]
fn apply_execute_sequence() {
    let r = apply::check_execute_sequence().into_pair();
    assert_eq!(r.0, 21);
    assert_clean("atlas-apply executor-cases.json execute_sequence", r);
}

#[test]
fn apply_execute_cases() {
    let r = apply::check_execute_cases().into_pair();
    assert_eq!(r.0, 4);
    assert_clean("atlas-apply executor-cases.json execute_cases", r);
}

#[test]
fn apply_revision_type_text() {
    let r = apply::check_revision_type_text().into_pair();
    assert_eq!(r.0, 7);
    assert_clean("atlas-apply executor-cases.json revision_type_text", r);
}

#[test]
fn apply_render_apply_text() {
    let o = apply::check_render_apply();
    assert_eq!(o.skipped.len(), 3, "the three cases with (commercial) checks");
    let r = o.into_pair();
    assert_eq!(r.0, 4);
    assert_clean("atlas-apply render-cases.json migrate_apply", r);
}

#[test]
fn apply_render_set_text() {
    let r = apply::check_render_set().into_pair();
    assert_eq!(r.0, 5);
    assert_clean("atlas-apply render-cases.json migrate_set", r);
}

/// The plan digests are stable (same inputs, same digest; a change to a
/// revision or an option changes it).
#[test]
fn apply_plan_digest_stability() {
    assert_clean("plan digest stability", apply::check_digest_stability().into_pair());
}

/// The digests equal the golden file, generated natively: run in wasm too,
/// this shows both builds compute the same digests. Regenerate natively with
/// `STRATA_BLESS=1 cargo test -p strata-conformance apply_plan_digests`.
#[test]
fn apply_plan_digests_golden() {
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("STRATA_BLESS").is_some() {
        let d = apply::plan_digests().expect("digests");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/plan-digests.txt");
        std::fs::write(path, apply::render_digests(&d)).expect("write golden/plan-digests.txt");
        println!("blessed {path} ({} digests)", d.len());
        return;
    }
    assert_clean("golden plan digests", apply::check_digests_golden().into_pair());
}
