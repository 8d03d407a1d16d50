#!/usr/bin/env node
// Benchmarks of the npm package (pkg/, built with `make pkg`) in Node 20:
//
//   sum      `new Directory(entries).sum()` over 10,000 generated migration
//            files totalling 100 MB, beside the wasm `sha256()` of every
//            file (one call per file: both cross the JS→wasm boundary per
//            file) and of one concatenated buffer;
//   split    `splitStatements(sql, "postgres")` (and `splitFile`) over a
//            generated ~32 MiB SQL file;
//   plan     `plan(dir, revisions)` over 10,000 small migration files (about
//            430 bytes each) against 10,000 revision rows (nothing pending)
//            and 9,000 (1,000 files pending), beside `dir.sum()` alone;
//   lint     `lint(dir)` (the lint module, pkg/lint/) over 1,000 of the plan's
//            files, every file new; its first call, which instantiates
//            the module, is timed apart.
//
// The data has the shapes and sizes of the generators in benches/sum.rs,
// benches/lex.rs and benches/common/mod.rs (not the same bytes). Each measurement is repeated; the
// table gives the median and the best run, with throughput in MB/s
// (10^6 bytes per second). When `cargo bench` has run, the native figures
// are read from target/criterion for the ratios.
//
//   node benches/wasm.mjs                  everything
//   node benches/wasm.mjs --only sum       only new Directory(...).sum()
//   node benches/wasm.mjs --only split,sha256 --runs 5
//
// Sections for --only: sum, sha256 (per file), sha256-concat, split, plan, lint.
// Peak memory of the sum alone: /usr/bin/time -v node benches/wasm.mjs --only sum
//
//   node benches/wasm.mjs --write-dir DIR  writes the 10,000 generated files
//                                          to DIR and exits (for timing the
//                                          CLI: make bench does this)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";

const root = new URL("../", import.meta.url);
const pkgEntry = new URL("pkg/node.mjs", root);
if (!existsSync(pkgEntry)) {
  console.error("pkg/node.mjs is missing: build the package first with `make pkg`.");
  process.exit(2);
}
const { Directory, sha256, splitStatements, splitFile, statementSpans, plan, Revisions, lint } = await import(pkgEntry.href);

// ---- arguments -------------------------------------------------------------

const SECTIONS = ["sum", "sha256", "sha256-concat", "split", "plan", "lint"];
const args = process.argv.slice(2);
let only = SECTIONS;
let runs = 7;
let writeDir = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--only") {
    only = (args[++i] ?? "").split(",").filter(Boolean);
    const bad = only.filter((s) => !SECTIONS.includes(s));
    if (bad.length || !only.length) {
      console.error(`--only takes a comma-separated list of: ${SECTIONS.join(", ")}`);
      process.exit(2);
    }
  } else if (args[i] === "--write-dir") {
    writeDir = args[++i];
  } else if (args[i] === "--runs") {
    runs = Math.max(1, Number(args[++i]) | 0);
  } else {
    console.error(`unknown argument ${args[i]}; see the header of benches/wasm.mjs`);
    process.exit(2);
  }
}
const want = (s) => only.includes(s);

// ---- deterministic generators ----------------------------------------------

// xorshift32: deterministic and fast without BigInt.
function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    below: (n) => next() % n,
    pick: (xs) => xs[next() % xs.length],
  };
}

const WORDS = [
  "account", "order", "invoice", "customer", "payment", "shipment", "ledger", "tenant", "product", "review",
  "session", "audit", "region", "price", "status", "address", "token", "event", "quota", "report",
];

// -- migration files (benches/sum.rs) --

const SUM_TYPES = ["integer", "bigint", "text", "varchar(255)", "numeric(12, 2)", "boolean", "timestamp", "uuid"];

function sumStatement(r, file) {
  const t = r.pick(WORDS);
  switch (r.below(4)) {
    case 0: {
      let s = `-- Create "${t}_${file}": generated for benchmarks.\nCREATE TABLE "${t}_${file}" (\n  "id" bigint NOT NULL,\n`;
      const cols = 2 + r.below(8);
      for (let c = 0; c < cols; c++) s += `  "${r.pick(WORDS)}_${c}" ${r.pick(SUM_TYPES)} NULL,\n`;
      return s + '  PRIMARY KEY ("id")\n);\n';
    }
    case 1:
      return (
        `-- Create index "idx_${t}_${file}" to table: "${t}_${file}"\n` +
        `CREATE INDEX "idx_${t}_${file}" ON "${t}_${file}" ("${r.pick(WORDS)}_0");\n`
      );
    case 2: {
      let s = `INSERT INTO "${t}_${file}" ("id", "name") VALUES`;
      const rows = 1 + r.below(10);
      for (let i = 0; i < rows; i++) {
        s += `${i === 0 ? " " : ","}(${r.below(1_000_000)}, '${r.pick(WORDS)} ${r.pick(WORDS)}''s')`;
      }
      return s + ";\n";
    }
    default:
      return `/* ${r.pick(WORDS)} */\nALTER TABLE "${t}_${file}" ADD COLUMN "${r.pick(WORDS)}" ${r.pick(SUM_TYPES)} NOT NULL DEFAULT 0;\n`;
  }
}

// 10,000 files of 8,000 to 12,000 bytes (in pairs mean ± d): 100,000,000 bytes.
function generateFiles(count = 10_000, mean = 10_000, jitterMax = 2_000) {
  const r = rng(0x5a110002);
  const enc = new TextEncoder();
  const files = [];
  let jitter = 0;
  for (let i = 1; i <= count; i++) {
    jitter = i % 2 === 1 ? r.below(jitterMax + 1) : -jitter;
    const size = mean + jitter;
    let text = "";
    while (text.length < size) text += sumStatement(r, i);
    text = text.slice(0, size - 1) + "\n"; // ASCII: length is bytes
    const name = `${20240101000000 + i}_name_${String(i).padStart(5, "0")}.sql`;
    files.push({ name, bytes: enc.encode(text) });
  }
  return files;
}

// -- one large SQL file (benches/lex.rs) --

const LEX_TYPES = [
  "integer", "bigint", "smallint", "text", "varchar(255)", "numeric(12, 2)", "boolean", "timestamp", "date", "uuid",
  "jsonb",
];

function stringValue(r) {
  switch (r.below(6)) {
    case 0:
      return "'O''Brien; ''quoted'' -- not a comment'";
    case 1:
      return `'${r.pick(WORDS)} (draft) /* not a comment */ ${r.below(100_000)}'`;
    case 2:
      return "'it''s a ''test''; DROP TABLE nothing;'";
    default: {
      const n = 1 + r.below(6);
      const w = [];
      for (let k = 0; k < n; k++) w.push(r.pick(WORDS));
      return `'${w.join(" ")}'`;
    }
  }
}

const pad6 = (n) => String(n).padStart(6, "0");

function createTable(r, n) {
  const t = `t_${pad6(n)}`;
  let s = `-- Table ${t}: ${r.pick(WORDS)} data, generated for benchmarks.\n`;
  if (r.below(2) === 0) {
    s += `/*\n * Holds the ${r.pick(WORDS)} of each ${r.pick(WORDS)}.\n * Keep in sync with the application model; see docs.\n */\n`;
  }
  s += `CREATE TABLE IF NOT EXISTS ${t} (\n    id bigint NOT NULL PRIMARY KEY, -- surrogate key\n`;
  const cols = 3 + r.below(8);
  for (let c = 0; c < cols; c++) {
    const ty = r.pick(LEX_TYPES);
    s += `    ${r.pick(WORDS)}_${c} ${ty}`;
    const k = r.below(5);
    if (k === 0) s += " NOT NULL";
    else if (k === 1 && ty === "text") s += " DEFAULT 'n/a'";
    else if (k === 2) s += " /* nullable */";
    s += ",\n";
  }
  s += "    created_at timestamp NOT NULL DEFAULT now()\n);\n";
  s += `CREATE INDEX idx_${t}_created ON ${t} (created_at);\n`;
  s += `COMMENT ON TABLE ${t} IS 'The ''${r.pick(WORDS)}'' table';\n\n`;
  return s;
}

function insert(r, n) {
  let s = `INSERT INTO t_${pad6(n)} (id, name, note, amount) VALUES\n`;
  const rows = 2 + r.below(12);
  for (let i = 0; i < rows; i++) {
    s += `    (${r.below(1_000_000)}, ${stringValue(r)}, ${stringValue(r)}, ${r.below(10_000)}.${String(r.below(100)).padStart(2, "0")})`;
    s += i + 1 === rows ? ";\n" : ",\n";
  }
  return s;
}

function fn(r, n) {
  const tag = r.below(2) === 0 ? "$$" : "$body$";
  const t = `t_${pad6(n)}`;
  return (
    "/* plpgsql: semicolons and BEGIN ... END inside the dollar quote. */\n" +
    `CREATE OR REPLACE FUNCTION f_${pad6(n)}(p_id bigint) RETURNS integer AS ${tag}\n` +
    "DECLARE\n    n integer;\nBEGIN\n    -- count the rows; the body is one string\n" +
    `    SELECT count(*) INTO n FROM ${t} WHERE id = p_id;\n` +
    `    IF n > 0 THEN\n        RAISE NOTICE 'found % rows in ''${t}''', n;\n    END IF;\n` +
    `    RETURN n;\nEND;\n${tag} LANGUAGE plpgsql;\n\n`
  );
}

function misc(r, n) {
  const t = `t_${pad6(n)}`;
  switch (r.below(3)) {
    case 0:
      return `ALTER TABLE ${t} ADD COLUMN ${r.pick(WORDS)}_extra integer DEFAULT 0;\n`;
    case 1:
      return `UPDATE ${t} SET note = ${stringValue(r)} WHERE id = ${r.below(1000)};\n`;
    default:
      return `DELETE FROM ${t} WHERE amount < ${r.below(100)}; -- trailing comment\n`;
  }
}

function generateSql(size = 32 << 20) {
  const r = rng(0x1e550001);
  const parts = [];
  let len = 0;
  for (let n = 1; len < size; n++) {
    let s = createTable(r, n);
    const inserts = r.below(4);
    for (let i = 0; i < inserts; i++) s += insert(r, n);
    if (r.below(3) === 0) s += misc(r, n);
    if (r.below(12) === 0) s += fn(r, n);
    s += "\n";
    parts.push(s);
    len += s.length; // ASCII
  }
  return parts.join("");
}

// -- small migration files and their revisions (benches/common/mod.rs plan_fixture) --

const PLAN_TYPES = ["bigint", "integer", "text", "character varying", "boolean", "timestamptz", "uuid", "jsonb"];

// One file as `atlas migrate diff` writes them for PostgreSQL: 1 to 4
// statements. Returns [text, statement count].
function planFileText(r, i) {
  const n = 1 + r.below(4);
  const t = `${r.pick(WORDS)}_${i}`;
  let s = "";
  for (let k = 0; k < n; k++) {
    const kind = r.below(3);
    if (k === 0) {
      s += `-- Create "${t}" table\nCREATE TABLE "${t}" ("id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY`;
      const cols = 1 + r.below(5);
      for (let c = 0; c < cols; c++) s += `, "${r.pick(WORDS)}_${c}" ${r.pick(PLAN_TYPES)} NOT NULL`;
      s += ', PRIMARY KEY ("id"));\n';
    } else if (kind === 0) {
      const c = r.pick(WORDS);
      s += `-- Create index "${t}_${c}_${k}" to table: "${t}"\nCREATE INDEX "${t}_${c}_${k}" ON "${t}" ("${c}_0");\n`;
    } else if (kind === 1) {
      s += `-- Modify "${t}" table\nALTER TABLE "${t}" ADD COLUMN "${r.pick(WORDS)}_${k}" ${r.pick(PLAN_TYPES)} NULL;\n`;
    } else {
      const o = r.pick(WORDS);
      s +=
        `-- Modify "${t}" table\nALTER TABLE "${t}" ADD CONSTRAINT "${t}_${o}_fk" FOREIGN KEY ("${o}_id") ` +
        `REFERENCES "${o}" ("id") ON UPDATE NO ACTION ON DELETE CASCADE;\n`;
    }
  }
  return [s, n];
}

// `count` files with their atlas.sum, and complete revision rows (plain
// objects, as a driver reads them) for every file.
function generatePlanFixture(count = 10_000) {
  const r = rng(0x91a40003);
  const enc = new TextEncoder();
  const files = [];
  const totals = [];
  for (let i = 1; i <= count; i++) {
    const [text, n] = planFileText(r, i);
    files.push({ name: `${20240101000000 + i}_add_${WORDS[i % WORDS.length]}_${i}.sql`, bytes: enc.encode(text) });
    totals.push(n);
  }
  const d = new Directory(files, { dialect: "postgres" });
  const sum = d.sum();
  d.free();
  const hashes = sum.split("\n").slice(1, -1).map((l) => l.slice(l.indexOf(" h1:") + 4));
  files.push({ name: "atlas.sum", bytes: enc.encode(sum) });
  const pad = (n) => String(n).padStart(2, "0");
  const revisions = totals.map((n, i) => {
    const name = files[i].name.slice(0, -4);
    const u = name.indexOf("_");
    return {
      version: name.slice(0, u),
      description: name.slice(u + 1),
      type: 2,
      applied: n,
      total: n,
      executedAt: `2024-01-${pad(1 + (Math.floor(i / 1440) % 28))}T10:${pad(Math.floor(i / 60) % 60)}:${pad(i % 60)}.${String(i).padStart(6, "0")}Z`,
      executionTime: 1_500_000 + i,
      error: "",
      errorStmt: "",
      hash: hashes[i],
      partialHashes: null,
      operatorVersion: "Atlas CLI v0.30.0",
    };
  });
  return { files, revisions };
}

// ---- measurement -------------------------------------------------------------

// Times several cases, interleaved run by run so that drift in the
// machine's speed affects all of them alike (their ratios are the point).
// Each case is {label, bytes, run(state), before?() → state, after?(state,
// result)}; `before` and `after` (building or freeing a Directory) are not
// timed. One warm-up round first.
function measure(...cases) {
  const times = cases.map(() => []);
  for (let round = -1; round < runs; round++) {
    cases.forEach((c, k) => {
      const state = c.before?.();
      const t0 = performance.now();
      const result = c.run(state);
      const dt = performance.now() - t0;
      c.after?.(state, result);
      if (round >= 0) times[k].push(dt);
    });
  }
  return cases.map((c, k) => {
    const t = times[k].sort((a, b) => a - b);
    const median = t.length % 2 ? t[t.length >> 1] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    const best = t[0];
    const row = { label: c.label, bytes: c.bytes, median, best, mbps: c.bytes / 1e3 / median, bestMbps: c.bytes / 1e3 / best };
    console.error(`  ${c.label}: median ${median.toFixed(1)} ms, best ${best.toFixed(1)} ms, ${row.mbps.toFixed(1)} MB/s`);
    return row;
  });
}

// Memory in use now (MiB): the process RSS, and the ArrayBuffers, which
// include the files' bytes and the wasm memory.
function memory(when) {
  const m = process.memoryUsage();
  const mib = (n) => `${(n / (1 << 20)).toFixed(0)} MiB`;
  const line = `memory ${when}: rss ${mib(m.rss)}, arrayBuffers ${mib(m.arrayBuffers)}, heapUsed ${mib(m.heapUsed)}`;
  console.error(`  ${line}`);
  notes.push(line);
}

// Native figures from the last `cargo bench` (criterion): MB/s (when the
// benchmark has a throughput) and ms.
function native(id) {
  try {
    const dir = new URL(`target/criterion/${id}/new/`, root);
    const est = JSON.parse(readFileSync(new URL("estimates.json", dir), "utf8"));
    const bench = JSON.parse(readFileSync(new URL("benchmark.json", dir), "utf8"));
    const ns = (est.slope ?? est.mean).point_estimate;
    const bytes = bench.throughput?.Bytes ?? bench.throughput?.BytesDecimal;
    return ns ? { mbps: bytes ? (bytes / ns) * 1e3 : null, ms: ns / 1e6 } : null;
  } catch {
    return null;
  }
}

// ---- run -------------------------------------------------------------------

const rows = [];
const notes = [];

if (writeDir !== null) {
  mkdirSync(writeDir, { recursive: true });
  for (const f of generateFiles()) writeFileSync(join(writeDir, f.name), f.bytes);
  console.error(`wrote 10,000 files to ${writeDir}`);
  process.exit(0);
}

if (want("sum") || want("sha256") || want("sha256-concat")) {
  const t0 = performance.now();
  const files = generateFiles();
  const total = files.reduce((n, f) => n + f.bytes.length, 0);
  console.error(`generated ${files.length} files, ${total} bytes in ${(performance.now() - t0).toFixed(0)} ms`);
  memory("after generating the files");

  if (want("sum")) {
    // Check once that the API works on this input.
    const d = new Directory(files);
    const text = d.sum();
    d.free();
    console.error(`  atlas.sum: ${text.split("\n").length - 2} entries, ${text.slice(0, 47)}`);
  }
  const cases = [];
  if (want("sum")) {
    const free = (_, dir) => dir?.free();
    cases.push(
      {
        label: "new Directory(entries).sum()",
        run: () => {
          const dir = new Directory(files);
          dir.sum();
          return dir;
        },
        after: free,
      },
      // The same in its two halves: copying the files in, then hashing.
      { label: "  of which new Directory(entries)", run: () => new Directory(files), after: free },
      {
        label: "  of which .sum() on a built Directory",
        before: () => new Directory(files),
        run: (dir) => dir.sum(),
        after: (dir) => dir.free(),
      },
    );
  }
  if (want("sha256")) {
    cases.push({
      label: "sha256(bytes) per file (10,000 calls)",
      run: () => {
        for (const f of files) sha256(f.bytes);
      },
    });
  }
  if (want("sha256-concat")) {
    const all = new Uint8Array(total);
    let off = 0;
    for (const f of files) {
      all.set(f.bytes, off);
      off += f.bytes.length;
    }
    cases.push({ label: "sha256(bytes) over one 100 MB buffer", run: () => sha256(all) });
  }
  rows.push(...measure(...cases.map((c) => ({ bytes: total, ...c }))));
  if (want("sum")) memory("after the sum runs");
}

if (want("split")) {
  const t0 = performance.now();
  const sql = generateSql();
  const bytes = new TextEncoder().encode(sql);
  console.error(`generated ${bytes.length} bytes of SQL in ${(performance.now() - t0).toFixed(0)} ms`);
  const n = splitStatements(sql, "postgres").length;
  console.error(`  ${n} statements (postgres profile)`);
  rows.push(
    ...measure(
      { label: 'splitStatements(sql, "postgres")', bytes: bytes.length, run: () => splitStatements(sql, "postgres") },
      { label: 'splitStatements(sql, "generic")', bytes: bytes.length, run: () => splitStatements(sql, "generic") },
      { label: 'splitFile(name, bytes, "postgres")', bytes: bytes.length, run: () => splitFile("big.sql", bytes, "postgres") },
      // The splitter without one JS object per statement: offsets only.
      { label: 'statementSpans(bytes, "postgres")', bytes: bytes.length, run: () => statementSpans(bytes, "postgres") },
    ),
  );
}

if (want("plan")) {
  const t0 = performance.now();
  const { files, revisions } = generatePlanFixture();
  const bytes = files.slice(0, -1).reduce((n, f) => n + f.bytes.length, 0);
  const dir = new Directory(files, { dialect: "postgres" });
  const some = revisions.slice(0, revisions.length - 1_000);
  const revisionsText = JSON.stringify(revisions);
  const someText = JSON.stringify(some);
  // Check the fixture once: nothing pending against every row, the last
  // 1,000 files against the first 9,000 rows, and the totals agree.
  const check = (p, n) => {
    if (p.files.length !== n) throw new Error(`plan: ${p.files.length} files pending, expected ${n}`);
    const files = p.files;
    p.free();
    return files;
  };
  check(plan(dir, revisions), 0);
  const pending = check(plan(dir, some), 1_000);
  // The JSON text gives the same plans, to the digest.
  const same = (a, b) => {
    const [x, y] = [plan(dir, a), plan(dir, b)];
    if (x.digest !== y.digest) throw new Error("plan: objects and JSON text disagree");
    x.free();
    y.free();
  };
  same(revisions, revisionsText);
  same(some, someText);
  for (const [k, f] of pending.entries()) {
    const r = revisions[some.length + k];
    if (f.statements.length !== r.total || f.hash !== r.hash || f.error) throw new Error(`plan fixture: ${f.name} disagrees`);
  }
  console.error(
    `generated ${files.length - 1} files, ${bytes} bytes (${(bytes / (files.length - 1)).toFixed(0)} a file), ` +
      `${revisions.length} revisions in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  // Times are what counts here; the MB/s column is over the files' bytes.
  const digest = (p) => {
    const d = p.digest;
    p.free();
    return d;
  };
  rows.push(
    ...measure(
      { label: "dir.sum() (the hashing planning cannot skip)", bytes, run: () => dir.sum() },
      { label: "plan(dir, 10,000 revisions): nothing pending", bytes, run: () => digest(plan(dir, revisions)) },
      { label: "plan(dir, 9,000 revisions): 1,000 files pending", bytes, run: () => digest(plan(dir, some)) },
      // The rows read once (`new Revisions(rows)`), then planned.
      {
        label: "revisions.plan(dir): 10,000 revisions loaded once, nothing pending",
        bytes,
        before: () => new Revisions(revisionsText),
        run: (db) => digest(db.plan(dir)),
        after: (db) => db.free(),
      },
      {
        label: "revisions.plan(dir): 9,000 revisions loaded once, 1,000 files pending",
        bytes,
        before: () => new Revisions(someText),
        run: (db) => digest(db.plan(dir)),
        after: (db) => db.free(),
      },
      // The rows as JSON text, as a revisions response body arrives.
      { label: "plan(dir, JSON text of 10,000 revisions): nothing pending", bytes, run: () => digest(plan(dir, revisionsText)) },
      { label: "plan(dir, JSON text of 9,000 revisions): 1,000 files pending", bytes, run: () => digest(plan(dir, someText)) },
      {
        label: "  the same, and .files (1,000 JS objects)",
        bytes,
        run: () => {
          const p = plan(dir, some);
          const n = p.files.length;
          p.free();
          return n;
        },
      },
      { label: "plan(dir, []): fresh database, 10,000 files", bytes, run: () => digest(plan(dir, [])) },
      // No files: what reading 10,000 rows from JS (and digesting them) costs.
      {
        label: "plan(empty dir, 10,000 revisions): the rows alone",
        bytes,
        before: () => new Directory([], { dialect: "postgres" }),
        run: (empty) => digest(plan(empty, revisions)),
        after: (empty) => empty.free(),
      },
      {
        label: "plan(empty dir, JSON text of 10,000 revisions): the rows alone",
        bytes,
        before: () => new Directory([], { dialect: "postgres" }),
        run: (empty) => digest(plan(empty, revisionsText)),
        after: (empty) => empty.free(),
      },
    ),
  );
  dir.free();
}

if (want("lint")) {
  const { files } = generatePlanFixture(1_000);
  const bytes = files.slice(0, -1).reduce((n, f) => n + f.bytes.length, 0);
  const dir = new Directory(files, { dialect: "postgres" });
  // The first call reads and instantiates the lint module.
  const t0 = performance.now();
  const first = lint(dir);
  const load = performance.now() - t0;
  console.error(
    `lint: ${files.length - 1} files, ${bytes} bytes; first call ${load.toFixed(0)} ms (module load included); ` +
      `${first.findings.length} findings, ${first.unparsed.length} unparsed`,
  );
  notes.push(`lint(dir) first call, lint module instantiated: ${load.toFixed(1)} ms`);
  const [row] = measure({ label: "lint(dir): 1,000 files, all new", bytes, run: () => lint(dir) });
  rows.push(row);
  notes.push(`wasm lint of 1,000 files: ${row.median.toFixed(1)} ms a run, ${Math.round(1_000 / (row.median / 1e3))} files/s (median)`);
  const lintWasm = new URL("pkg/lint/strata_lint_bg.wasm", root);
  if (existsSync(lintWasm)) notes.push(`pkg/lint/strata_lint_bg.wasm: ${readFileSync(lintWasm).length} bytes`);
  dir.free();
}

// ---- report ----------------------------------------------------------------

const byLabel = (l) => rows.find((r) => r.label === l);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "n/a");

const fmt = (x, d = 1) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const out = [];
out.push(`Machine: ${cpus()[0].model}, ${cpus().length} CPUs; Node ${process.version}; ${process.platform}/${process.arch}`);
out.push(`Runs per measurement: ${runs}, interleaved with the other rows of the same section (after 1 warm-up round); MB = 10^6 bytes.`);
out.push("");
out.push("| benchmark | bytes | median (ms) | best (ms) | median MB/s | best MB/s |");
out.push("|---|---:|---:|---:|---:|---:|");
for (const r of rows) {
  out.push(`| ${r.label} | ${r.bytes.toLocaleString("en-US")} | ${fmt(r.median)} | ${fmt(r.best)} | ${fmt(r.mbps)} | ${fmt(r.bestMbps)} |`);
}

const sum = byLabel("new Directory(entries).sum()");
const sumOnly = byLabel("  of which .sum() on a built Directory");
const shaFiles = byLabel("sha256(bytes) per file (10,000 calls)");
const shaConcat = byLabel("sha256(bytes) over one 100 MB buffer");
const split = byLabel('splitStatements(sql, "postgres")');
const spans = byLabel('statementSpans(bytes, "postgres")');
if (sum && shaFiles) {
  const r = sum.mbps / shaFiles.mbps;
  notes.push(
    `wasm sum vs bare wasm sha256 per file: ${ratio(sum.mbps, shaFiles.mbps)} (median; target ≥ 0.9×: ${r >= 0.9 ? "met" : "MISSED"})`,
  );
}
if (sumOnly && shaFiles) notes.push(`wasm .sum() alone vs sha256 per file: ${ratio(sumOnly.mbps, shaFiles.mbps)}`);
if (sum && shaConcat) notes.push(`wasm sum vs sha256 over one buffer: ${ratio(sum.mbps, shaConcat.mbps)}`);
if (split) {
  const nat = native("lex/split_postgres");
  if (nat) {
    const r = split.mbps / nat.mbps;
    notes.push(
      `wasm splitStatements vs native lex/split_postgres (${fmt(nat.mbps)} MB/s, from target/criterion): ${ratio(split.mbps, nat.mbps)} (target ≥ 0.5×: ${r >= 0.5 ? "met" : "MISSED"})`,
    );
    if (spans) {
      const rs = spans.mbps / nat.mbps;
      notes.push(`wasm statementSpans (the splitter alone) vs native: ${ratio(spans.mbps, nat.mbps)} (target ≥ 0.5×: ${rs >= 0.5 ? "met" : "MISSED"})`);
    }
  } else {
    notes.push("native split figure not found: run `cargo bench --bench lex` first for the ratio");
  }
}
if (sum) {
  const nat = native("sum/new_copy+checksum");
  if (nat) notes.push(`wasm sum vs native sum/new_copy+checksum (${fmt(nat.mbps)} MB/s): ${ratio(sum.mbps, nat.mbps)}`);
}
const planNone = byLabel("plan(dir, 10,000 revisions): nothing pending");
const planSome = byLabel("plan(dir, 9,000 revisions): 1,000 files pending");
if (planNone && planSome) {
  const verdict = (r) => (r.median <= 20 ? "met" : "MISSED");
  notes.push(
    `wasm plan, nothing pending: ${fmt(planNone.median)} ms; 1,000 pending: ${fmt(planSome.median)} ms (target ≤ 20 ms: ${verdict(planNone)} / ${verdict(planSome)})`,
  );
  for (const [id, r] of [["plan/all_applied", planNone], ["plan/1000_pending", planSome]]) {
    const nat = native(id);
    if (nat) notes.push(`${id}: native ${fmt(nat.ms, 2)} ms (from target/criterion), wasm ${ratio(r.median, nat.ms)} slower`);
  }
}
const wasmFile = new URL("pkg/strata_bg.wasm", root);
if (existsSync(wasmFile)) notes.push(`pkg/strata_bg.wasm: ${readFileSync(wasmFile).length} bytes`);

console.log(out.join("\n"));
if (notes.length) console.log("\n" + notes.map((n) => `- ${n}`).join("\n"));
