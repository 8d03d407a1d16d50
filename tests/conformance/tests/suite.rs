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
