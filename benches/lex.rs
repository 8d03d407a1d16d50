//! Statement splitting throughput: `strata::lex::split` with the postgres,
//! generic and mysql profiles over one generated ~32 MiB SQL file, beside
//! sqlparser's full parse (PostgreSqlDialect) of a slice of the same text,
//! and pathological inputs at growing sizes to show the cost stays linear.
//!
//! The SQL is generated deterministically (xorshift, fixed seed): CREATE
//! TABLE with line and block comments, CREATE INDEX, COMMENT ON, INSERTs
//! whose strings hold doubled quotes, semicolons and comment markers,
//! UPDATE/ALTER, and now and then a dollar-quoted plpgsql function. Before
//! timing, the benchmark checks that sqlparser parses all of it and finds
//! as many statements as the splitter does.
//!
//! Run: `cargo bench --bench lex`.

// criterion and sqlparser are dev-dependencies for native targets only:
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
    use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    use std::fmt::Write;
    use std::hint::black_box;
    use std::time::Duration;
    use strata::lex::{split, Dialect, LexErrorKind};

    /// Size of the large SQL file.
    const SQL_SIZE: usize = 32 << 20;
    /// Size of the slice that sqlparser parses in the timed loop.
    const PARSE_SLICE: usize = 4 << 20;

    use super::common::{Rng, WORDS};

    const TYPES: &[&str] = &[
        "integer",
        "bigint",
        "smallint",
        "text",
        "varchar(255)",
        "numeric(12, 2)",
        "boolean",
        "timestamp",
        "date",
        "uuid",
        "jsonb",
    ];

    /// Text for a string literal: doubled quotes, semicolons, parentheses and
    /// comment markers, none of which may end a statement.
    fn string_value(r: &mut Rng, out: &mut String) {
        out.push('\'');
        match r.below(6) {
            0 => out.push_str("O''Brien; ''quoted'' -- not a comment"),
            1 => {
                let _ = write!(out, "{} (draft) /* not a comment */ {}", r.pick(WORDS), r.below(100_000));
            }
            2 => out.push_str("it''s a ''test''; DROP TABLE nothing;"),
            _ => {
                for k in 0..1 + r.below(6) {
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(r.pick(WORDS));
                }
            }
        }
        out.push('\'');
    }

    fn create_table(r: &mut Rng, n: u64, out: &mut String) {
        let _ = writeln!(out, "-- Table t_{n:06}: {} data, generated for benchmarks.", r.pick(WORDS));
        if r.below(2) == 0 {
            let _ = writeln!(
                out,
                "/*\n * Holds the {} of each {}.\n * Keep in sync with the application model; see docs.\n */",
                r.pick(WORDS),
                r.pick(WORDS)
            );
        }
        let _ = writeln!(out, "CREATE TABLE IF NOT EXISTS t_{n:06} (");
        out.push_str("    id bigint NOT NULL PRIMARY KEY, -- surrogate key\n");
        for c in 0..3 + r.below(8) {
            let ty = r.pick(TYPES);
            let _ = write!(out, "    {}_{c} {ty}", r.pick(WORDS));
            match r.below(5) {
                0 => out.push_str(" NOT NULL"),
                1 if ty == "text" => out.push_str(" DEFAULT 'n/a'"),
                2 => out.push_str(" /* nullable */"),
                _ => {}
            }
            out.push_str(",\n");
        }
        out.push_str("    created_at timestamp NOT NULL DEFAULT now()\n);\n");
        let _ = writeln!(out, "CREATE INDEX idx_t_{n:06}_created ON t_{n:06} (created_at);");
        let _ = writeln!(out, "COMMENT ON TABLE t_{n:06} IS 'The ''{}'' table';\n", r.pick(WORDS));
    }

    fn insert(r: &mut Rng, n: u64, out: &mut String) {
        let _ = writeln!(out, "INSERT INTO t_{n:06} (id, name, note, amount) VALUES");
        let rows = 2 + r.below(12);
        for i in 0..rows {
            let _ = write!(out, "    ({}, ", r.below(1_000_000));
            string_value(r, out);
            out.push_str(", ");
            string_value(r, out);
            let _ = write!(out, ", {}.{:02})", r.below(10_000), r.below(100));
            out.push_str(if i + 1 == rows { ";\n" } else { ",\n" });
        }
    }

    fn function(r: &mut Rng, n: u64, out: &mut String) {
        let tag = if r.below(2) == 0 { "$$" } else { "$body$" };
        let _ = write!(
            out,
            "/* plpgsql: semicolons and BEGIN ... END inside the dollar quote. */\n\
         CREATE OR REPLACE FUNCTION f_{n:06}(p_id bigint) RETURNS integer AS {tag}\n\
         DECLARE\n    n integer;\n\
         BEGIN\n    -- count the rows; the body is one string\n\
         \x20   SELECT count(*) INTO n FROM t_{n:06} WHERE id = p_id;\n\
         \x20   IF n > 0 THEN\n        RAISE NOTICE 'found % rows in ''t_{n:06}''', n;\n    END IF;\n\
         \x20   RETURN n;\nEND;\n{tag} LANGUAGE plpgsql;\n\n"
        );
    }

    fn misc(r: &mut Rng, n: u64, out: &mut String) {
        match r.below(3) {
            0 => {
                let _ = writeln!(out, "ALTER TABLE t_{n:06} ADD COLUMN {}_extra integer DEFAULT 0;", r.pick(WORDS));
            }
            1 => {
                let _ = write!(out, "UPDATE t_{n:06} SET note = ");
                string_value(r, out);
                let _ = writeln!(out, " WHERE id = {};", r.below(1000));
            }
            _ => {
                let _ = writeln!(out, "DELETE FROM t_{n:06} WHERE amount < {}; -- trailing comment", r.below(100));
            }
        }
    }

    /// The SQL text and the offsets where a generated unit ends (statement
    /// boundaries, for slicing).
    fn generate_sql(size: usize, seed: u64) -> (String, Vec<usize>) {
        let mut r = Rng(seed);
        let mut out = String::with_capacity(size + 4096);
        let mut ends = Vec::new();
        let mut n = 0u64;
        while out.len() < size {
            n += 1;
            create_table(&mut r, n, &mut out);
            for _ in 0..r.below(4) {
                insert(&mut r, n, &mut out);
            }
            if r.below(3) == 0 {
                misc(&mut r, n, &mut out);
            }
            if r.below(12) == 0 {
                function(&mut r, n, &mut out);
            }
            out.push('\n');
            ends.push(out.len());
        }
        (out, ends)
    }

    /// The longest prefix of `sql` ending at a unit boundary, at most `max` bytes.
    fn prefix<'a>(sql: &'a str, ends: &[usize], max: usize) -> &'a str {
        let end = ends.iter().copied().take_while(|&e| e <= max).last().unwrap_or(0);
        &sql[..end]
    }

    fn mib(n: usize) -> String {
        format!("{:.2} MiB", n as f64 / (1 << 20) as f64)
    }

    fn bench_split(c: &mut Criterion) {
        let (sql, ends) = generate_sql(SQL_SIZE, 0x5eed_1e55_0000_0001);
        let slice = prefix(&sql, &ends, PARSE_SLICE);

        // Outside the timed loops: the input is valid for sqlparser, and the
        // splitter agrees with it on the number of statements.
        let full = Parser::parse_sql(&PostgreSqlDialect {}, &sql).expect("sqlparser rejects the generated SQL");
        let stmts = split(&sql, &Dialect::Postgres.options()).expect("the splitter rejects the generated SQL");
        assert_eq!(stmts.len(), full.len(), "splitter and sqlparser disagree on the statement count");
        let sliced = Parser::parse_sql(&PostgreSqlDialect {}, slice).unwrap().len();
        eprintln!(
            "lex input: {} ({} bytes), {} statements; sqlparser slice: {} ({} bytes), {sliced} statements",
            mib(sql.len()),
            sql.len(),
            stmts.len(),
            mib(slice.len()),
            slice.len()
        );
        drop((full, stmts));

        let mut g = c.benchmark_group("lex");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(sql.len() as u64));
        for d in [Dialect::Postgres, Dialect::Generic, Dialect::Mysql] {
            let opts = d.options();
            g.bench_function(format!("split_{}", d.name()), |b| b.iter(|| split(black_box(&sql), &opts).unwrap()));
        }
        g.throughput(Throughput::Bytes(slice.len() as u64));
        let opts = Dialect::Postgres.options();
        g.bench_function("split_postgres_slice", |b| b.iter(|| split(black_box(slice), &opts).unwrap()));
        g.bench_function("sqlparser_parse_postgres_slice", |b| {
            b.iter(|| Parser::parse_sql(&PostgreSqlDialect {}, black_box(slice)).unwrap())
        });
        g.finish();
    }

    /// Inputs Atlas's scanner handles badly, at growing sizes: the time per
    /// byte must not grow with the size.
    fn bench_pathological(c: &mut Criterion) {
        let mut g = c.benchmark_group("lex_pathological");
        g.sampling_mode(SamplingMode::Flat);
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(1));
        let fill = |unit: &str, size: usize| unit.repeat(size.div_ceil(unit.len()));
        for size in [256 << 10, 1 << 20, 4 << 20] {
            // A `--` / `/*` whose end never comes, again and again.
            let line = "x ".to_string() + &fill("-- ", size);
            let block = "x ".to_string() + &fill("/* ", size);
            // One long white-space run before the T-SQL END terminator.
            let spaces = "x".to_string() + &" ".repeat(size) + "END";
            // 30 unterminated `BEGIN TRANSACTION;` blocks (each one scans the
            // rest of the file, about 30 times the input in all), then plain
            // statements.
            let head = "BEGIN TRANSACTION;\nSELECT 1;\nCOMMIT;\n".repeat(30);
            let begins30 = head.clone() + &fill("SELECT 1;\n", size - head.len());
            // Unterminated `BEGIN TRANSACTION;` lines all the way: refused as
            // too complex once 48 blocks are open, whatever the size.
            let begins = fill("BEGIN TRANSACTION;\nSELECT 1;\nCOMMIT;\n", size);
            let cases: [(&str, &String, Dialect, bool); 5] = [
                ("line_comment_run_generic", &line, Dialect::Generic, true),
                ("block_comment_run_generic", &block, Dialect::Generic, true),
                ("space_run_sqlserver", &spaces, Dialect::Sqlserver, true),
                ("begin_tx_x30_sqlite", &begins30, Dialect::Sqlite, true),
                ("begin_tx_all_sqlite_refused", &begins, Dialect::Sqlite, false),
            ];
            for (name, input, d, ok) in cases {
                let opts = d.options();
                match split(input, &opts) {
                    Ok(_) => assert!(ok, "{name}: expected a refusal"),
                    Err(e) => assert!(!ok && e.kind() == LexErrorKind::TooComplex, "{name}: {e}"),
                }
                g.throughput(Throughput::Bytes(input.len() as u64));
                g.bench_with_input(
                    BenchmarkId::new(name, format!("{}KiB", input.len() >> 10)),
                    input.as_str(),
                    |b, i| b.iter(|| split(black_box(i), &opts)),
                );
            }
        }
        g.finish();
    }

    criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        targets = bench_split, bench_pathological
    }
}
