// Planning, status, the executor and report documents through the
// JavaScript API of the npm package (plain JavaScript: no TypeScript).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Directory, plan, status, Executor, Revisions, revisionsTableSql, renderReport } from "../../pkg/node.mjs";
import { ROOT, entries } from "./helpers.mjs";
import initSqlJs from "sql.js";

const EXAMPLE = join(ROOT, "examples", "migrations");
const enc = new TextEncoder();

/** The example directory (PostgreSQL), or a copy with `edit(name, text)` applied and re-hashed. */
function example({ dialect = "postgres", edit } = {}) {
  let files = entries(EXAMPLE);
  if (!edit) return new Directory(files, { dialect });
  files = files.filter((f) => f.name !== "atlas.sum").map((f) => ({ ...f, bytes: edit(f.name, f.bytes) ?? f.bytes }));
  const sum = new Directory(files, { dialect }).sum();
  return new Directory([...files, { name: "atlas.sum", bytes: enc.encode(sum) }], { dialect });
}

/** A small directory with its atlas.sum. */
function small(files, dialect = "sqlite") {
  const list = Object.entries(files).map(([name, text]) => ({ name, bytes: enc.encode(text) }));
  const sum = new Directory(list, { dialect }).sum();
  return new Directory([...list, { name: "atlas.sum", bytes: enc.encode(sum) }], { dialect });
}

/** Completed revision rows for the planned files `files` (from a plan on an empty database). */
function applied(files) {
  return files.map((f) => ({
    version: f.version,
    description: f.description,
    type: 2,
    applied: f.statements.length,
    total: f.statements.length,
    executedAt: "2024-01-16T10:20:30Z",
    executionTime: 1000,
    error: "",
    errorStmt: "",
    hash: f.hash,
    partialHashes: null,
    operatorVersion: "Atlas CLI v0.30.0",
  }));
}

const FRESH = plan(example(), []).files;
const V = FRESH.map((f) => f.version);

function throws(fn, fields) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, "an Error");
    assert.equal(e.name, "StrataError");
    for (const [k, v] of Object.entries(fields)) {
      if (v instanceof RegExp) assert.match(e[k], v, k);
      else assert.equal(e[k], v, k);
    }
    assert.equal(typeof e.hint, "string");
    assert.ok(e.hint.length > 0, "a hint");
    return true;
  });
}

describe("plan", () => {
  test("a fresh database: every file, every statement, each file's transaction mode", () => {
    const p = plan(example(), []);
    assert.deepEqual(
      p.files.map((f) => [f.name, f.txMode, f.statements.length, f.skip, f.outOfOrder, f.checkpoint, f.error, f.revision]),
      [
        ["20240101000000_create_users.sql", "file", 2, 0, false, false, null, null],
        ["20240102000000_create_posts.sql", "file", 3, 0, false, false, null, null],
        ["20240103000000_backfill_names.sql", "none", 2, 0, false, false, null, null],
        ["20240104000000_post_count.sql", "file", 2, 0, false, false, null, null],
      ],
    );
    assert.equal(p.statementCount, 9);
    assert.equal(p.isEmpty, false);
    assert.equal(p.current, undefined);
    assert.equal(p.target, "20240104000000");
    assert.equal(p.baseline, undefined);
    assert.equal(p.firstError, undefined);
    assert.equal(p.dialect, "postgres");
    assert.equal(p.sum, "h1:YHFx3Us2oyiiKO611hXTwPpRiJrpqnnxvGY4BrVcMfE=");
    assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(p.options, { baseline: null, allowDirty: false, execOrder: "linear", toVersion: null, amount: null, txMode: "file" });
    const s = p.files[1].statements[1];
    assert.deepEqual(Object.keys(s), ["text", "pos", "line", "hash"]);
    assert.match(s.text, /^CREATE FUNCTION touch_updated_at\(\)[^]*\$\$;$/);
    assert.equal(s.line, 11);
    assert.match(s.hash, /^h1:[A-Za-z0-9+/]{43}=$/);
    // The entry hash is the atlas.sum line's.
    assert.equal(p.files[0].hash, "9807//OR6bl+vpgElZPv+n2enkaYC4HINBu6Lm+mDg0=");
    const text = p.toText();
    assert.ok(text.startsWith("Migrating to version 20240104000000 (4 migrations in total):\n\n  -- migrating version 20240101000000 (tx: file)\n    -> CREATE TABLE users (\n"), text);
    assert.ok(text.endsWith(`  -------------------------\n  -- 4 migrations\n  -- 9 sql statements\n  -- digest ${p.digest}\n`), text);
    assert.match(p.toMarkdown(), /^### Migration plan\n\n\*\*4 files, 9 statements\*\* to apply, from an empty database to version `20240104000000`\./);
  });

  test("nothing pending, and the files after the last revision", () => {
    const none = plan(example(), applied(FRESH));
    assert.equal(none.isEmpty, true);
    assert.equal(none.statementCount, 0);
    assert.equal(none.current, "20240104000000");
    assert.equal(none.toText(), "No migration files to execute\n");
    const two = plan(example(), applied(FRESH.slice(0, 2)));
    assert.deepEqual(two.files.map((f) => f.version), V.slice(2));
    assert.equal(two.current, V[1]);
    assert.ok(two.toText().startsWith(`Migrating to version ${V[3]} from ${V[1]} (2 migrations in total):\n`));
  });

  test("options: amount, toVersion, baseline, allowDirty, txMode", () => {
    const dir = example();
    assert.deepEqual(plan(dir, [], { amount: 2 }).files.map((f) => f.version), V.slice(0, 2));
    assert.deepEqual(plan(dir, [], { toVersion: V[2] }).files.map((f) => f.version), V.slice(0, 3));
    throws(() => plan(dir, [], { toVersion: "2024" }), {
      code: "version-not-found",
      message: 'sql/migrate: migration with version "2024" not found. Did you mean "20240104000000"?',
    });
    throws(() => plan(dir, [], { amount: 0 }), { code: "invalid-amount", message: "cannot apply '0' migration files" });
    // A database with objects but no revisions.
    const dirty = { revisions: [], notClean: 'found table "users" in schema "public"' };
    throws(() => plan(dir, dirty), {
      code: "not-clean",
      message: 'sql/migrate: connected database is not clean: found table "users" in schema "public". baseline version or allow-dirty is required',
    });
    assert.equal(plan(dir, dirty, { allowDirty: true }).files.length, 4);
    const b = plan(dir, dirty, { baseline: V[1] });
    assert.deepEqual(b.files.map((f) => f.version), V.slice(2));
    assert.equal(b.baseline.version, V[1]);
    assert.equal(b.baseline.type, 1);
    assert.equal(b.current, V[1]);
    assert.ok(b.toText().startsWith(`Baseline: version ${V[1]} will be recorded as applied\n\n`));
    throws(() => plan(dir, [], { baseline: "9" }), { code: "baseline-not-found", message: 'baseline version "9" not found' });
    throws(() => plan(dir, [], { baseline: V[0], allowDirty: true }), {
      message: "sql/migrate: baseline and allow-dirty are mutually exclusive",
    });
    // txMode all conflicts with the `-- atlas:txmode none` header of file 3: the run stops there.
    const all = plan(dir, [], { txMode: "all" });
    assert.equal(all.files[2].error.code, "txmode-directive");
    assert.equal(all.firstError.file, "20240103000000_backfill_names.sql");
    assert.equal(all.firstError.message, 'cannot set txmode directive to "none" in "20240103000000_backfill_names.sql" when txmode "all" is set globally');
    assert.equal(all.firstError.kind, "tx-mode-conflict");
    assert.equal(plan(dir, [], { txMode: "none" }).files[0].txMode, "none");
    // Option values and keys are checked.
    throws(() => plan(dir, [], { execOrder: "random" }), { code: "unknown-exec-order", message: 'unknown execution order: "random"' });
    throws(() => plan(dir, [], { txMode: "each" }), { code: "unknown-tx-mode", message: 'unknown tx-mode "each"' });
    throws(() => plan(dir, [], { tx_mode: "none" }), { code: "invalid-options", message: /unknown plan option key "tx_mode"/ });
    throws(() => plan(dir, [], { amount: "2" }), { code: "invalid-options" });
    throws(() => plan(dir, [], "linear"), { code: "invalid-options" });
    // Keys set to undefined are unset.
    assert.equal(plan(dir, [], { baseline: undefined, amount: undefined, execOrder: undefined }).files.length, 4);
  });

  test("files added out of order: refused, skipped or run first", () => {
    const dir = example();
    const rows = applied(FRESH).filter((r) => r.version !== V[2]);
    throws(() => plan(dir, rows), {
      code: "non-linear",
      file: "20240103000000_backfill_names.sql",
      message: "migration file 20240103000000_backfill_names.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error",
    });
    assert.equal(plan(dir, rows, { execOrder: "linear-skip" }).isEmpty, true);
    const nl = plan(dir, rows, { execOrder: "non-linear" });
    assert.deepEqual(nl.files.map((f) => [f.version, f.outOfOrder]), [[V[2], true]]);
  });

  test("a partially applied file resumes after its applied statements; an edited one stops the run", () => {
    const rows = applied(FRESH.slice(0, 1));
    const posts = FRESH[1];
    rows.push({ ...applied([posts])[0], applied: 1, error: "boom", errorStmt: posts.statements[1].text, partialHashes: [posts.statements[0].hash] });
    const p = plan(example(), rows);
    assert.equal(p.files[0].skip, 1);
    assert.equal(p.files[0].revision.applied, 1);
    assert.equal(p.statementCount, 2 + 2 + 2);
    assert.match(p.toText(), /-- migrating version 20240102000000 \(tx: file, resumes at statement 2 of 3\)\n {4}-> CREATE FUNCTION/);
    // The first statement changed since it ran.
    const edited = example({ edit: (name, bytes) => (name.startsWith("20240102") ? enc.encode(Buffer.from(bytes).toString().replace("title      text", "title text")) : null) });
    const q = plan(edited, rows);
    const e = q.firstError;
    assert.deepEqual(
      { code: e.code, kind: e.kind, file: e.file, line: e.line, message: e.message },
      {
        code: "history-changed",
        kind: "history-changed",
        file: "20240102000000_create_posts.sql",
        line: 1,
        message: 'sql/migrate: history changed: statement 1 from file "20240102000000_create_posts.sql" changed',
      },
    );
    assert.match(e.summary, /^20240102000000_create_posts\.sql:1: sql\/migrate: history changed/);
    assert.deepEqual(q.files[0].error, e);
    assert.match(q.toText(), /\n {4}error: sql\/migrate: history changed/);
  });

  test("checksum errors throw Atlas's message with the file", () => {
    const files = entries(EXAMPLE).map((f) => (f.name.startsWith("20240103") ? { ...f, bytes: enc.encode("SELECT 1;\n") } : f));
    throws(() => plan(new Directory(files), []), { code: "checksum-mismatch", message: "checksum mismatch", file: "20240103000000_backfill_names.sql" });
    throws(() => plan(new Directory(files.filter((f) => f.name !== "atlas.sum")), []), { code: "checksum-file-not-found" });
  });
});

describe("revision rows", () => {
  // What `sqlite3 -json app.db 'SELECT * FROM atlas_schema_revisions'` prints.
  const posts = FRESH[1];
  const SQLITE_JSON = `[{"version":"20240101000000","description":"create_users","type":2,"applied":2,"total":2,"executed_at":"2024-01-16 10:20:30.123456+00:00","execution_time":1234567,"error":"","error_stmt":null,"hash":"${FRESH[0].hash}","partial_hashes":null,"operator_version":"Atlas CLI v0.30.0"},
{"version":"20240102000000","description":"create_posts","type":2,"applied":1,"total":3,"executed_at":"2024-01-16 10:20:31+00:00","execution_time":2000,"error":"pq: relation \\"f\\" already exists","error_stmt":"CREATE FUNCTION f()","hash":"${posts.hash}","partial_hashes":"[\\"${posts.statements[0].hash}\\"]","operator_version":"Atlas CLI v0.30.0"}]`;

  test("column names, JSON text and camelCase give the same plan", () => {
    const rows = JSON.parse(SQLITE_JSON);
    const a = plan(example(), rows);
    assert.equal(a.files[0].skip, 1);
    assert.deepEqual(a.files[0].revision.partialHashes, [posts.statements[0].hash]);
    assert.equal(a.files[0].revision.errorStmt, "CREATE FUNCTION f()");
    const camel = rows.map((r) => ({
      version: r.version,
      description: r.description,
      type: r.type === 2 ? "applied" : r.type,
      applied: String(r.applied),
      total: BigInt(r.total),
      executedAt: new Date(Date.parse(r.executed_at.replace(" ", "T"))),
      executionTime: r.execution_time,
      error: r.error,
      errorStmt: r.error_stmt,
      hash: r.hash,
      partialHashes: r.partial_hashes === null ? null : JSON.parse(r.partial_hashes),
      operatorVersion: r.operator_version,
    }));
    const b = plan(example(), { revisions: camel });
    assert.equal(b.digest, a.digest);
    assert.equal(b.files[0].revision.executedAt, "2024-01-16T10:20:31.000Z");
    assert.equal(a.files[0].revision.executedAt, "2024-01-16 10:20:31+00:00");
    // Other columns are ignored.
    assert.equal(plan(example(), rows.map((r) => ({ ...r, id: 7 }))).digest, a.digest);
  });

  test("the JSON text and a Revisions read once plan the same as the objects", () => {
    const a = plan(example(), JSON.parse(SQLITE_JSON));
    assert.equal(plan(example(), SQLITE_JSON).digest, a.digest);
    const db = new Revisions(SQLITE_JSON);
    assert.equal(db.length, 2);
    const dir = example();
    assert.equal(db.plan(dir).digest, a.digest);
    assert.equal(db.plan(dir, { amount: 1 }).files.length, 1, "planned again with other options");
    assert.equal(db.status(dir).toText(), status(dir, JSON.parse(SQLITE_JSON)).toText());
    assert.equal(new Revisions(JSON.parse(SQLITE_JSON)).plan(dir).digest, a.digest);
    throws(() => new Revisions([{ version: "1", applied: -1 }]), { message: /^revisions\[0\]\.applied: / });
  });

  test("bad rows are errors that name the row and the field", () => {
    const rows = JSON.parse(SQLITE_JSON);
    rows[1].applied = "some";
    throws(() => plan(example(), rows), { code: "invalid-revisions", message: /^revisions\[1\]\.applied: / });
    throws(() => plan(example(), [{ version: "1", type: "sometimes" }]), { message: /^revisions\[0\]\.type: unknown revision type "sometimes"/ });
    throws(() => plan(example(), [{ version: "1", partial_hashes: "[1,2]" }]), { message: /^revisions\[0\]\.partial_hashes: / });
    throws(() => plan(example(), [{ version: "1", applied: -1 }]), { message: /^revisions\[0\]\.applied: / });
    throws(() => plan(example(), [null]), { message: "revisions[0] is null, not a revision row object" });
    throws(() => plan(example(), { revisions: {} }), { code: "invalid-revisions" });
    throws(() => plan(example(), { rows: [] }), { code: "invalid-revisions", message: /unknown database state key "rows"/ });
    throws(() => plan(example(), "[{]"), { code: "invalid-revisions", message: /^the revisions are not JSON: / });
    throws(() => plan(example(), '[{"version":"1","applied":1.5}]'), { code: "invalid-revisions", message: /^revisions\[0\]\.applied: / });
    throws(() => plan(example(), '[{"version":"1","applied":"x"}]'), { code: "invalid-revisions", message: /^revisions\[0\]\.applied: / });
    throws(() => plan(example(), '"x"'), { code: "invalid-revisions", message: /an array of rows or a \{revisions, notClean\} object/ });
    throws(() => plan(example(), "7"), { code: "invalid-revisions" });
    assert.equal(plan(example(), '[{"version":"20240101000000","applied":1.0,"total":2.0}]').files[0].skip, 1, "whole floats from the object path");
    assert.equal(plan(example(), "[]").files.length, 4, "JSON text of no rows: a fresh database");
    throws(() => plan(example()), { code: "invalid-revisions" });
  });
});

describe("the plan digest", () => {
  test("is stable, and changes with the directory, a revision row or an option", () => {
    const rows = applied(FRESH.slice(0, 2));
    const base = plan(example(), rows).digest;
    assert.equal(plan(example(), structuredClone(rows)).digest, base, "same inputs");
    assert.equal(plan(example(), rows, {}).digest, base, "default options");
    assert.equal(plan(example(), rows.map((r) => ({ ...r, executedAt: "2030-01-01T00:00:00Z", executionTime: 5, operatorVersion: "x" }))).digest, base, "times and operator are not planning inputs");
    const changed = {
      "a revision's hash": plan(example(), rows.map((r, i) => (i === 1 ? { ...r, hash: "other" } : r))).digest,
      "a revision's description": plan(example(), rows.map((r, i) => (i === 0 ? { ...r, description: "x" } : r))).digest,
      "one revision fewer": plan(example(), rows.slice(0, 1)).digest,
      "a file's bytes": plan(example({ edit: (n, b) => (n.startsWith("20240104") ? enc.encode(Buffer.from(b).toString() + "\n-- more\n") : null) }), rows).digest,
      "the dialect": plan(example({ dialect: "generic" }), rows).digest,
      "an option": plan(example(), rows, { txMode: "none" }).digest,
      "the amount": plan(example(), rows, { amount: 1 }).digest,
    };
    for (const [what, d] of Object.entries(changed)) assert.notEqual(d, base, what);
    assert.equal(new Set(Object.values(changed)).size, Object.keys(changed).length, "all different");
  });
});

describe("status", () => {
  test("Atlas's text for a fresh, a current and a partially applied database", () => {
    const dir = example();
    assert.equal(
      status(dir, []).toText(),
      "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    20240101000000\n  -- Executed Files:  0\n  -- Pending Files:   4\n",
    );
    const ok = status(dir, applied(FRESH));
    assert.equal(ok.toText(), "Migration Status: OK\n  -- Current Version: 20240104000000\n  -- Next Version:    Already at latest version\n  -- Executed Files:  4\n  -- Pending Files:   0\n");
    assert.equal(ok.status, "OK");
    const rows = applied(FRESH.slice(0, 2));
    Object.assign(rows[1], { applied: 1, error: "boom\nline 2", errorStmt: "CREATE FUNCTION\nf()", partialHashes: [FRESH[1].statements[0].hash] });
    const s = status(dir, rows);
    assert.equal(
      s.toText(),
      "Migration Status: PENDING\n  -- Current Version: 20240102000000 (1 statements applied)\n  -- Next Version:    20240102000000 (2 statements left)\n  -- Executed Files:  2 (last one partially)\n  -- Pending Files:   3\n\nLast migration attempt had errors:\n  -- SQL:   CREATE FUNCTION f()\n  -- ERROR: boom line 2\n",
    );
    assert.deepEqual([s.status, s.current, s.next, s.count, s.total, s.error, s.sql, s.fromCheckpoint], ["PENDING", "20240102000000", "20240102000000", 1, 3, "boom line 2", "CREATE FUNCTION f()", false]);
    assert.deepEqual(s.pending.map((f) => f.version), V.slice(1));
    assert.equal(s.available.length, 4);
    assert.equal(s.applied[1].applied, 1);
    assert.deepEqual(s.outOfOrder, []);
  });

  test("out of order is reported, not thrown; a missing table; the document", () => {
    const dir = example();
    const s = status(dir, applied(FRESH).filter((r) => r.version !== V[2]));
    assert.ok(s.toText().endsWith("  -- Pending Files:   1 (out of order)\n\n  ERROR: migration file 20240103000000_backfill_names.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"), s.toText());
    assert.deepEqual(s.outOfOrder.map((f) => f.version), [V[2]]);
    const missing = status(dir, { tableMissing: true, notClean: "found table x" });
    assert.equal(missing.current, "No migration applied yet");
    assert.equal(missing.pending.length, 4);
    throws(() => status(dir, { notClean: "found table x" }), { code: "not-clean" });
    const doc = JSON.parse(JSON.stringify(s));
    assert.equal(doc.format, "strata.report/v1");
    assert.equal(doc.kind, "status");
    assert.equal(doc.status.outOfOrder[0].name, "20240103000000_backfill_names.sql");
    assert.equal(renderReport(doc), s.toText());
  });
});

/**
 * A JavaScript driver on a real SQLite (sql.js: SQLite compiled to wasm):
 * it creates, reads and upserts the revisions table with the core's SQL
 * and runs every statement for real. `log` records the steps.
 */
const SQL = await initSqlJs();
class SqliteDriver {
  constructor() {
    this.db = new SQL.Database();
    this.sql = revisionsTableSql("sqlite");
    this.db.run(this.sql.createTable);
    this.log = [];
  }
  /** Does what a step asks; throws the database's message on failure. */
  run(step, plan) {
    switch (step.kind) {
      case "begin":
      case "commit":
      case "rollback":
        this.log.push(step.kind);
        this.db.run(step.kind.toUpperCase());
        return;
      case "execute":
        assert.equal(step.sql, plan.files[step.file].statements[step.statement].text);
        this.log.push(`execute ${step.file}.${step.statement}`);
        this.db.run(step.sql);
        return;
      case "writeRevision": {
        const r = step.revision;
        // What a driver binds: the row in the upsert's column order.
        const camel = (c) => c.replace(/_(\w)/g, (_, x) => x.toUpperCase());
        const params = this.sql.columns.map((c) => (c === "partial_hashes" ? (r.partialHashes === null ? null : JSON.stringify(r.partialHashes)) : r[camel(c)]));
        this.log.push(`write ${r.version} ${r.applied}/${r.total}`);
        this.db.run(this.sql.upsert, params);
        return;
      }
      default:
        throw new Error(`unexpected step ${step.kind}`);
    }
  }
  /** The rows as the table holds them (column names, as `sqlite3 -json` prints them). */
  rows() {
    const [res] = this.db.exec(this.sql.select);
    return res ? res.values.map((v) => Object.fromEntries(res.columns.map((c, i) => [c, v[i]]))) : [];
  }
  /** The rows with the hash list parsed, for assertions. */
  revisions() {
    return this.rows().map((r) => ({ ...r, partial_hashes: r.partial_hashes === null ? null : JSON.parse(r.partial_hashes) }));
  }
}

/** The driver loop: one step every 2 ms from `t0`. */
function drive(p, db, { t0 = Date.UTC(2024, 0, 16, 10, 20, 30), options } = {}) {
  let t = t0;
  const ex = new Executor(p, options, t);
  for (let step = ex.next(); step.kind !== "done"; step = ex.next()) {
    assert.equal(ex.done, false);
    t += 2;
    try {
      db.run(step, p);
      ex.record(undefined, t);
    } catch (e) {
      ex.record({ error: e.message }, t);
    }
  }
  assert.equal(ex.done, true);
  return ex;
}

describe("the executor with a JavaScript driver", () => {
  test("runs a plan: Atlas's steps, rows and output", () => {
    const dir = small({ "1_a.sql": "CREATE TABLE a (id int);\n", "2_b.sql": "CREATE TABLE b (id int);\nCREATE TABLE c (id int);\n" });
    const p = plan(dir, []);
    const db = new SqliteDriver();
    // A file's time runs from its "started" write to the next file's (Atlas's log).
    const ex = drive(p, db, { options: { operatorVersion: "test 1.0" } });
    assert.deepEqual(db.log, [
      "begin", "write 1 0/1", "execute 0.0", "write 1 1/1", "write 1 1/1", "commit",
      "begin", "write 2 0/2", "execute 1.0", "write 2 1/2", "execute 1.1", "write 2 2/2", "write 2 2/2", "commit",
    ]);
    assert.equal(ex.error, undefined);
    const rows = db.revisions();
    assert.deepEqual(rows.map((r) => [r.version, r.type, r.applied, r.total, r.partial_hashes, r.error, r.operator_version]), [
      ["1", 2, 1, 1, null, "", "test 1.0"],
      ["2", 2, 2, 2, null, "", "test 1.0"],
    ]);
    assert.equal(rows[0].executed_at, "2024-01-16T10:20:30.002Z", "the first write's time is kept");
    assert.equal(rows[0].hash, p.files[0].hash);
    assert.equal(
      ex.toText(),
      "Migrating to version 2 (2 migrations in total):\n\n  -- migrating version 1\n    -> CREATE TABLE a (id int);\n  -- ok (12ms)\n\n  -- migrating version 2\n    -> CREATE TABLE b (id int);\n    -> CREATE TABLE c (id int);\n  -- ok (12ms)\n\n  -------------------------\n  -- 28ms\n  -- 2 migrations\n  -- 3 sql statements\n",
    );
    const doc = ex.report();
    assert.equal(doc.kind, "apply");
    assert.equal(doc.apply.digest, p.digest);
    assert.equal(doc.apply.start, "2024-01-16T10:20:30Z");
    assert.equal(doc.apply.end, "2024-01-16T10:20:30.028Z");
    assert.equal(doc.apply.applied[1].statements[1].text, "CREATE TABLE c (id int);");
    assert.equal(renderReport(doc), ex.toText());
    assert.equal(renderReport(JSON.stringify(doc)), ex.toText());
    // Applied: the next plan is empty.
    assert.equal(plan(dir, db.rows()).isEmpty, true);
    assert.deepEqual(db.db.exec("SELECT name FROM sqlite_master WHERE name IN ('a', 'b', 'c') ORDER BY name")[0].values.flat(), ["a", "b", "c"]);
  });

  test("a failing statement: rollback per file, or a partial row that the next plan resumes", () => {
    const dir = small({
      "1_a.sql": "CREATE TABLE a (id int);\n",
      "2_b.sql": "CREATE TABLE b (id int);\nCREATE TABLE bad;\nCREATE TABLE c (id int);\n",
    });
    // tx mode file: file 2's rows are rolled back; file 1 stays.
    const db = new SqliteDriver();
    const ex = drive(plan(dir, []), db);
    assert.equal(ex.error, 'sql/migrate: executing statement "CREATE TABLE bad;" from version "2": near ";": syntax error');
    assert.deepEqual(db.log.slice(-4), ["write 2 1/3", "execute 1.1", "write 2 1/3", "rollback"]);
    assert.deepEqual(db.revisions().map((r) => r.version), ["1"]);
    assert.ok(ex.toText().endsWith('    -> CREATE TABLE bad;\n    near ";": syntax error\n\n  -------------------------\n  -- 22ms\n  -- 1 migration ok, 1 with errors\n  -- 2 sql statements ok, 1 with errors\n'), ex.toText());
    assert.equal(ex.report().apply.error, ex.error);
    // tx mode none: the row keeps the applied statement and the error.
    const db2 = new SqliteDriver();
    drive(plan(dir, [], { txMode: "none" }), db2);
    assert.ok(!db2.log.includes("begin"));
    const partial = db2.revisions()[1];
    assert.deepEqual([partial.applied, partial.total, partial.error, partial.error_stmt, partial.partial_hashes.length], [1, 3, 'near ";": syntax error', "CREATE TABLE bad;", 1]);
    assert.match(status(dir, db2.rows()).toText(), /Current Version: 2 \(1 statements applied\)/);
    // Fix the statement (the applied one is unchanged) and re-hash: the run resumes.
    const fixed = small({
      "1_a.sql": "CREATE TABLE a (id int);\n",
      "2_b.sql": "CREATE TABLE b (id int);\nCREATE TABLE b2 (id int);\nCREATE TABLE c (id int);\n",
    });
    const resume = plan(fixed, db2.rows(), { txMode: "none" });
    assert.deepEqual(resume.files.map((f) => [f.name, f.skip]), [["2_b.sql", 1]]);
    db2.log = [];
    const ex2 = drive(resume, db2);
    assert.deepEqual(db2.log, ["write 2 1/3", "execute 0.1", "write 2 2/3", "execute 0.2", "write 2 3/3", "write 2 3/3"]);
    assert.deepEqual(db2.revisions().map((r) => [r.version, r.applied, r.total, r.error, r.partial_hashes]), [["1", 1, 1, "", null], ["2", 3, 3, "", null]]);
    assert.match(ex2.toText(), /-- migrating version 2\n {4}-> CREATE TABLE b2 \(id int\);\n {4}-> CREATE TABLE c \(id int\);\n {2}-- ok/);
  });

  test("a dry run asks for nothing; bad outcomes, times and options throw", () => {
    const dir = small({ "1_a.sql": "CREATE TABLE a (id int);\n" });
    const p = plan(dir, []);
    const ex = new Executor(p, { dryRun: true });
    assert.deepEqual(ex.next(), { kind: "done" });
    assert.equal(ex.done, true);
    assert.match(ex.toText(), /^Migrating to version 1 \(1 migrations in total\):\n\n {2}-- migrating version 1\n {4}-> CREATE TABLE a \(id int\);\n {2}-- ok \(0s\)\n/);
    assert.equal(ex.report().apply.dryRun, true);
    const live = new Executor(p);
    assert.deepEqual(live.next(), { kind: "begin" });
    assert.deepEqual(live.next(), { kind: "begin" }, "next() without record() repeats the step");
    for (const bad of ["failed", 5, {}, { error: 5 }, [1]]) throws(() => live.record(bad), { code: "invalid-outcome" });
    throws(() => live.record(undefined, NaN), { code: "invalid-time" });
    throws(() => live.record(undefined, 1e300), { code: "invalid-time" });
    throws(() => new Executor(p, { dry_run: true }), { code: "invalid-options" });
    throws(() => new Executor(p, { operatorVersion: 1 }), { code: "invalid-options" });
    live.record(null, Date.now());
    assert.equal(live.next().kind, "writeRevision");
    assert.equal(live.next().revision.operatorVersion, "strata 0.1.0");
  });
});

describe("report documents", () => {
  test("JSON.stringify(plan) is the document, and renderReport renders it back", () => {
    const rows = applied(FRESH.slice(0, 1));
    const p = plan(example(), rows, { txMode: "all" });
    const doc = JSON.parse(JSON.stringify(p));
    assert.deepEqual(Object.keys(doc), ["format", "generator", "kind", "plan"]);
    assert.equal(doc.format, "strata.report/v1");
    assert.match(doc.generator, /^strata \d+\.\d+\.\d+$/);
    assert.equal(doc.kind, "plan");
    assert.equal(doc.plan.digest, p.digest);
    assert.equal(doc.plan.revisions, 1);
    assert.equal(doc.plan.options.txMode, "all");
    assert.equal(doc.plan.files.length, 3);
    assert.equal(doc.plan.files[1].error.kind, "tx-mode-conflict", "the core's error value");
    assert.deepEqual(doc, p.toJSON());
    assert.equal(renderReport(doc), p.toText());
    assert.equal(renderReport(JSON.stringify(p)), p.toText());
  });

  test("documents of another format or shape are refused", () => {
    const doc = plan(example(), []).toJSON();
    throws(() => renderReport({ ...doc, format: "strata.report/v2" }), { code: "report-format", message: /unsupported report format "strata\.report\/v2"/ });
    throws(() => renderReport({ ...doc, kind: "verdict" }), { code: "invalid-report" });
    throws(() => renderReport({ ...doc, plan: { ...doc.plan, files: 3 } }), { code: "invalid-report" });
    throws(() => renderReport("{"), { code: "invalid-report", message: /^the report is not JSON/ });
    throws(() => renderReport(null), { code: "invalid-report" });
  });
});

describe("revisionsTableSql", () => {
  test("Atlas's table for SQLite, PostgreSQL and MySQL", () => {
    const columns = ["version", "description", "type", "applied", "total", "executed_at", "execution_time", "error", "error_stmt", "hash", "partial_hashes", "operator_version"];
    for (const [d, param] of [["sqlite", "?"], ["generic", "?"], ["postgres", "$12"], ["mysql", "?"]]) {
      const sql = revisionsTableSql(d);
      assert.deepEqual(Object.keys(sql), ["table", "columns", "createTable", "select", "upsert", "delete"], d);
      assert.equal(sql.table, "atlas_schema_revisions");
      assert.deepEqual(sql.columns, columns);
      assert.match(sql.createTable, /^CREATE TABLE IF NOT EXISTS [`"]atlas_schema_revisions[`"]/, d);
      assert.ok(sql.select.includes(`SELECT ${columns.join(", ")}`), d);
      assert.ok(sql.select.endsWith("ORDER BY version"), d);
      assert.ok(sql.upsert.includes(param), d);
      assert.match(sql.delete, /^DELETE FROM /, d);
    }
    throws(() => revisionsTableSql("sqlserver"), { code: "unsupported-dialect" });
    throws(() => revisionsTableSql("oracle"), { code: "unknown-dialect" });
  });
});
