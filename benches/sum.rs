//! `atlas.sum` throughput over a generated directory of 10,000 migration
//! files totalling 100 MB (100,000,000 bytes, 8 to 12 KB each), beside the
//! minimum work: one SHA-256 hasher fed every file's bytes in order.
//!
//! The files are generated deterministically (xorshift, fixed seed) from
//! SQL-shaped text; their names (`20240101000000_name_00001.sql`, ...)
//! sort bytewise in file order.
//!
//! Run: `cargo bench --bench sum`.

// criterion is a dev-dependency for native targets only:
// built for wasm32 (`make lint` checks every target there too), the
// benchmark is an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(not(target_arch = "wasm32"))]
mod common;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{criterion_group, BatchSize, Criterion, SamplingMode, Throughput};
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    use std::hint::black_box;
    use std::time::Duration;
    use strata::dir::Directory;

    const FILES: u64 = 10_000;
    /// Mean file size: 10,000 files of 10,000 bytes on average make 100 MB.
    const MEAN_SIZE: usize = 10_000;
    /// File sizes vary by up to this much around the mean (in pairs that
    /// cancel, so the total is exact).
    const JITTER: u64 = 2_000;

    use super::common::{Rng, WORDS};

    const TYPES: &[&str] =
        &["integer", "bigint", "text", "varchar(255)", "numeric(12, 2)", "boolean", "timestamp", "uuid"];

    /// One statement of SQL-shaped text.
    fn statement(r: &mut Rng, file: u64, out: &mut String) {
        let t = r.pick(WORDS);
        match r.below(4) {
            0 => {
                let _ = writeln!(out, "-- Create \"{t}_{file}\": generated for benchmarks.");
                let _ = writeln!(out, "CREATE TABLE \"{t}_{file}\" (\n  \"id\" bigint NOT NULL,");
                for c in 0..2 + r.below(8) {
                    let _ = writeln!(out, "  \"{}_{c}\" {} NULL,", r.pick(WORDS), r.pick(TYPES));
                }
                out.push_str("  PRIMARY KEY (\"id\")\n);\n");
            }
            1 => {
                let _ = writeln!(out, "-- Create index \"idx_{t}_{file}\" to table: \"{t}_{file}\"");
                let _ = writeln!(out, "CREATE INDEX \"idx_{t}_{file}\" ON \"{t}_{file}\" (\"{}_0\");", r.pick(WORDS));
            }
            2 => {
                let _ = write!(out, "INSERT INTO \"{t}_{file}\" (\"id\", \"name\") VALUES");
                for i in 0..1 + r.below(10) {
                    let sep = if i == 0 { ' ' } else { ',' };
                    let _ = write!(out, "{sep}({}, '{} {}''s')", r.below(1_000_000), r.pick(WORDS), r.pick(WORDS));
                }
                out.push_str(";\n");
            }
            _ => {
                let _ = writeln!(
                    out,
                    "/* {} */\nALTER TABLE \"{t}_{file}\" ADD COLUMN \"{}\" {} NOT NULL DEFAULT 0;",
                    r.pick(WORDS),
                    r.pick(WORDS),
                    r.pick(TYPES)
                );
            }
        }
    }

    /// The directory's entries, in name order: 10,000 files, 100,000,000 bytes.
    fn generate_files() -> Vec<(String, Vec<u8>)> {
        let mut r = Rng(0x5eed_5a11_0000_0002);
        let mut files = Vec::with_capacity(FILES as usize);
        let mut jitter = 0;
        for i in 1..=FILES {
            // Sizes in pairs: mean + d, mean - d.
            if i % 2 == 1 {
                jitter = r.below(JITTER + 1) as i64;
            } else {
                jitter = -jitter;
            }
            let size = (MEAN_SIZE as i64 + jitter) as usize;
            let mut text = String::with_capacity(size + 1024);
            while text.len() < size {
                statement(&mut r, i, &mut text);
            }
            text.truncate(size - 1);
            text.push('\n');
            let name = format!("{}_name_{i:05}.sql", 20240101000000u64 + i);
            files.push((name, text.into_bytes()));
        }
        files
    }

    fn bench_sum(c: &mut Criterion) {
        let files = generate_files();
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        assert_eq!(files.len(), FILES as usize);
        assert!(files.windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        let dir = Directory::new(files.clone()).unwrap();
        assert_eq!(dir.files().len(), files.len());
        let sum = dir.checksum();
        assert_eq!(sum.entries().len(), files.len());
        eprintln!(
            "sum input: {} files, {total} bytes ({:.2} MiB); total h1:{}",
            files.len(),
            total as f64 / (1 << 20) as f64,
            sum.total()
        );

        let mut g = c.benchmark_group("sum");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(total as u64));

        // The minimum work: every byte through one SHA-256.
        g.bench_function("sha2_bare", |b| {
            b.iter(|| {
                let mut h = Sha256::new();
                for (_, bytes) in &files {
                    h.update(bytes);
                }
                h.finalize()
            })
        });
        // The sum of a directory already built.
        g.bench_function("checksum", |b| b.iter(|| black_box(&dir).checksum()));
        // Checksum and render the atlas.sum text.
        g.bench_function("checksum_render", |b| b.iter(|| black_box(&dir).checksum().render()));
        // Building the directory from owned entries (no copy; the clone is
        // set-up, not timed), then the sum.
        g.bench_function("new_owned+checksum", |b| {
            b.iter_batched(|| files.clone(), |f| Directory::new(f).unwrap().checksum(), BatchSize::PerIteration)
        });
        // Building it from borrowed bytes, which copies every file (as the wasm
        // API copies each file into its memory), then the sum.
        g.bench_function("new_copy+checksum", |b| {
            b.iter(|| {
                let d = Directory::new(files.iter().map(|(n, b)| (n.as_str(), b.as_slice()))).unwrap();
                d.checksum()
            })
        });
        g.finish();
    }

    criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        targets = bench_sum
    }
}
