//! Lint throughput (`strata::lint::lint`, feature `lint`): a generated
//! directory of 1,000 PostgreSQL migration files, all of them new, each
//! split by the core's splitter, parsed by sqlparser and run through every
//! analyzer and the PostgreSQL locking checks against the schema model the
//! earlier files build.
//!
//! The files come from `common::lint_fixture`: a table with its primary
//! key, indexes, columns and foreign keys, then statements on tables of
//! earlier files (columns added with and without defaults, indexes with
//! and without CONCURRENTLY, INSERTs, now and then a plpgsql function in
//! dollar quotes, a rename, a dropped column or table), 5 to 10 statements
//! a file. Before timing, the benchmark checks that sqlparser parses every
//! statement and that the run reports the codes the mix is meant to
//! trigger.
//!
//! A second case lints the planning fixture's 1,000 files, the input of
//! the wasm figure (`node benches/wasm.mjs --only lint`).
//!
//! Throughput is in files (criterion's elements); the input's size is
//! printed beside it.
//!
//! Run: `cargo bench --features lint --bench lint`.

// criterion is a dev-dependency for native targets only: built for wasm32
// (`make lint` checks every target there too), the benchmark is an empty
// program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(not(target_arch = "wasm32"))]
mod common;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::common::{lint_fixture, plan_fixture};
    use criterion::{criterion_group, Criterion, Throughput};
    use std::collections::BTreeMap;
    use std::hint::black_box;
    use std::time::Duration;
    use strata::dir::{DirOptions, Directory};
    use strata::lex::Dialect;
    use strata::lint::lint;

    const FILES: usize = 1_000;

    fn bench_lint(c: &mut Criterion) {
        let entries = lint_fixture(FILES);
        let bytes: usize = entries.iter().map(|(_, b)| b.len()).sum();
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        let opts = DirOptions { dialect: Dialect::Postgres, ..DirOptions::default() };
        let dir = Directory::with_options(entries.clone(), opts).unwrap();

        // Check the fixture once: everything parses, and the mix reports
        // what it is meant to.
        let report = lint(&dir, &names, Dialect::Postgres);
        assert_eq!(report.unparsed, [], "sqlparser rejects part of the fixture");
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &report.findings {
            *by_code.entry(f.code.as_str()).or_default() += 1;
        }
        for code in ["DS102", "DS103", "MF103", "BC102", "PG101", "PG302", "PG901"] {
            assert!(by_code.contains_key(code), "no {code} in {by_code:?}");
        }
        let statements: usize = dir.files().iter().map(|f| f.statements(Dialect::Postgres).unwrap().len()).sum();
        eprintln!(
            "lint input: {FILES} files, {bytes} bytes ({:.0} bytes a file), {statements} statements; {} findings {by_code:?}",
            bytes as f64 / FILES as f64,
            report.findings.len(),
        );

        let mut g = c.benchmark_group("lint");
        g.throughput(Throughput::Elements(FILES as u64));
        g.bench_function("1000_new_files", |b| b.iter(|| lint(black_box(&dir), black_box(&names), Dialect::Postgres)));

        // The files `node benches/wasm.mjs --only lint` lints in wasm (the
        // planning fixture, byte for byte): the like-for-like native figure.
        let plan = plan_fixture(FILES, 0);
        let plan_names: Vec<&str> =
            plan.entries.iter().map(|(n, _)| n.as_str()).filter(|n| n.ends_with(".sql")).collect();
        let plan_dir = Directory::with_options(plan.entries.clone(), opts).unwrap();
        assert_eq!(lint(&plan_dir, &plan_names, Dialect::Postgres).unparsed, []);
        g.bench_function("1000_plan_files", |b| {
            b.iter(|| lint(black_box(&plan_dir), black_box(&plan_names), Dialect::Postgres))
        });
        g.finish();
    }

    criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        targets = bench_lint
    }
}
