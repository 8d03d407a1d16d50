//! Planning (`strata::plan::plan`) over a directory of 10,000 small
//! migration files (1 to 4 statements each, about 3.3 MB in all, from
//! `common::plan_fixture`) against its revisions table:
//!
//! * `all_applied`: 10,000 revisions, nothing pending (the common case:
//!   a deploy with nothing new). Planning still validates `atlas.sum`
//!   against every file's bytes and computes the digest over every row.
//! * `1000_pending`: 9,000 revisions, the last 1,000 files pending, their
//!   statements split and hashed.
//!
//! A `Directory` keeps its sum once computed, so these measure planning a
//! loaded directory; `all_applied_first` is the first plan of a freshly
//! built one, which also hashes every file. Beside them, for scale:
//! `checksum` (the directory's `atlas.sum`, the SHA-256 of every byte) and
//! `fresh_db` (no revisions: all 10,000 files planned).
//!
//! Targets: ≤ 5 ms native, ≤ 20 ms in wasm (`node benches/wasm.mjs --only
//! plan`).
//!
//! Run: `cargo bench --bench plan`.

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
    use super::common::plan_fixture;
    use criterion::{criterion_group, Criterion};
    use std::hint::black_box;
    use std::time::Duration;
    use strata::dir::{DirOptions, Directory};
    use strata::lex::Dialect;
    use strata::plan::{plan, DbState, PlanOptions};

    const FILES: usize = 10_000;

    fn bench_plan(c: &mut Criterion) {
        let fx = plan_fixture(FILES, FILES);
        let bytes: usize = fx.entries[..FILES].iter().map(|(_, b)| b.len()).sum();
        let opts = DirOptions { dialect: Dialect::Postgres, ..DirOptions::default() };
        let dir = Directory::with_options(fx.entries.clone(), opts).unwrap();
        let all = DbState { revisions: fx.revisions.clone(), ..DbState::default() };
        let some = DbState { revisions: fx.revisions[..FILES - 1_000].to_vec(), ..DbState::default() };
        let none = DbState::default();
        let o = PlanOptions::default();

        // Check the fixture once: the rows agree with the files.
        let p = plan(&dir, &all, &o).unwrap();
        assert!(p.files.is_empty());
        let p = plan(&dir, &some, &o).unwrap();
        assert_eq!(p.files.len(), 1_000);
        assert!(p.files.iter().all(|f| f.error.is_none() && f.skip == 0));
        let stmts = p.statement_count();
        let fresh = plan(&dir, &none, &o).unwrap();
        assert_eq!(fresh.files.len(), FILES);
        for (f, r) in fresh.files.iter().zip(&fx.revisions) {
            assert_eq!((f.statements.len() as u64, f.hash.as_str()), (r.total, r.hash.as_str()), "{}", f.name);
        }
        eprintln!(
            "plan input: {FILES} files, {bytes} bytes ({:.0} bytes a file), {} statements; 1000_pending plans {stmts} statements",
            bytes as f64 / FILES as f64,
            fresh.statement_count(),
        );

        let mut g = c.benchmark_group("plan");
        g.bench_function("checksum", |b| b.iter(|| black_box(&dir).checksum()));
        g.bench_function("all_applied", |b| b.iter(|| plan(black_box(&dir), black_box(&all), &o).unwrap()));
        // The first plan of a directory also hashes every file (the sum is
        // kept afterwards): a fresh `Directory` each time, built outside
        // the measurement.
        g.bench_function("all_applied_first", |b| {
            b.iter_batched(
                || Directory::with_options(fx.entries.clone(), opts).unwrap(),
                |d| plan(black_box(&d), black_box(&all), &o).unwrap(),
                criterion::BatchSize::PerIteration,
            )
        });
        g.bench_function("1000_pending", |b| b.iter(|| plan(black_box(&dir), black_box(&some), &o).unwrap()));
        g.bench_function("fresh_db", |b| b.iter(|| plan(black_box(&dir), black_box(&none), &o).unwrap()));
        g.finish();
    }

    criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(50)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        targets = bench_plan
    }
}
