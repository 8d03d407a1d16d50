// `strata plan` and `strata status`, run as a user runs them: a child
// process on the example directory and revisions files written here.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { Directory, plan, revisionsTableSql } from "../../pkg/node.mjs";
import { ROOT, copyDir, entries, strata, tempDir } from "./helpers.mjs";

const EXAMPLE = join(ROOT, "examples", "migrations");
const FILES = plan(new Directory(entries(EXAMPLE), { dialect: "postgres" }), []).files;
const V = FILES.map((f) => f.version);

/** `rows` as `sqlite3 -json` prints them: column names, one row per line, partial_hashes as JSON text. */
function sqliteJson(rows) {
  if (rows.length === 0) return "";
  const line = (r) =>
    JSON.stringify({
      version: r.version,
      description: r.description,
      type: r.type ?? 2,
      applied: r.applied,
      total: r.total,
      executed_at: "2024-01-16 10:20:30.123456+00:00",
      execution_time: 1234567,
      error: r.error ?? "",
      error_stmt: r.errorStmt ?? null,
      hash: r.hash,
      partial_hashes: r.partialHashes ? JSON.stringify(r.partialHashes) : null,
      operator_version: "Atlas CLI v0.30.0",
    });
  return `[${rows.map(line).join(",\n")}]\n`;
}

/** Completed rows for the first `n` example files. */
const done = (n) => FILES.slice(0, n).map((f) => ({ version: f.version, description: f.description, applied: f.statements.length, total: f.statements.length, hash: f.hash }));

/** Writes `text` to a fresh revisions file; returns its path. */
function revisionsFile(text) {
  const file = join(tempDir(), "revisions.json");
  writeFileSync(file, text);
  return file;
}

const run = (args, opts) => strata([args[0], "--dir", EXAMPLE, "--dialect", "postgres", ...args.slice(1)], opts);

describe("strata plan", () => {
  test("a fresh database: the plan as text, exit 3", () => {
    const r = run(["plan", "--revisions", revisionsFile("[]")]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stderr, "");
    assert.ok(r.stdout.startsWith("Migrating to version 20240104000000 (4 migrations in total):\n\n  -- migrating version 20240101000000 (tx: file)\n    -> CREATE TABLE users (\n"), r.stdout);
    assert.match(r.stdout, /\n {2}-- migrating version 20240103000000 \(tx: none\)\n/);
    assert.match(r.stdout, /\n {2}-------------------------\n {2}-- 4 migrations\n {2}-- 9 sql statements\n {2}-- digest sha256:[0-9a-f]{64}\n$/);
  });

  test("nothing to apply: exit 0", () => {
    const r = run(["plan", "--revisions", revisionsFile(sqliteJson(done(4)))]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "No migration files to execute\n");
  });

  test("sqlite3 -json output as is: the partially applied file resumes", () => {
    const rows = done(1);
    const posts = FILES[1];
    rows.push({ ...done(2)[1], applied: 1, error: 'pq: function "touch_updated_at" already exists', errorStmt: posts.statements[1].text, partialHashes: [posts.statements[0].hash] });
    const r = run(["plan", "--revisions", revisionsFile(sqliteJson(rows))]);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.stdout.startsWith("Migrating to version 20240104000000 from 20240102000000 (3 migrations in total):\n\n  -- migrating version 20240102000000 (tx: file, resumes at statement 2 of 3)\n    -> CREATE FUNCTION touch_updated_at()"), r.stdout);
    assert.match(r.stdout, /-- 6 sql statements\n/);
  });

  test("an empty revisions file is no rows (what sqlite3 -json prints for an empty table)", () => {
    const r = run(["plan", "--revisions", revisionsFile("")]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /\(4 migrations in total\)/);
  });

  test("the rows of a real SQLite database, on stdin", (t) => {
    if (spawnSync("sqlite3", ["-version"]).status !== 0) return t.skip("sqlite3 is not installed");
    const db = join(tempDir(), "app.db");
    const sql = revisionsTableSql("sqlite");
    const values = done(3).map((r) => `('${r.version}', '${r.description}', 2, ${r.applied}, ${r.total}, '2024-01-16 10:20:30', 1000, '', NULL, '${r.hash}', NULL, 'Atlas CLI v0.30.0')`);
    const setup = spawnSync("sqlite3", [db, `${sql.createTable}; INSERT INTO atlas_schema_revisions VALUES ${values.join(", ")};`], { encoding: "utf8" });
    assert.equal(setup.status, 0, setup.stderr);
    const dump = spawnSync("sqlite3", ["-json", db, "SELECT * FROM atlas_schema_revisions"], { encoding: "utf8" });
    assert.equal(dump.status, 0, dump.stderr);
    const r = run(["plan", "--revisions", "-", "--json"], { input: dump.stdout });
    assert.equal(r.status, 3, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.plan.revisions, 3);
    assert.deepEqual(doc.plan.files.map((f) => f.version), [V[3]]);
    assert.equal(doc.plan.current, V[2]);
    // The same database, all applied and empty.
    const status = run(["status", "--revisions", "-"], { input: dump.stdout });
    assert.equal(status.status, 3);
    assert.match(status.stdout, /^Migration Status: PENDING\n {2}-- Current Version: 20240103000000\n/);
    const empty = spawnSync("sqlite3", ["-json", db, "DELETE FROM atlas_schema_revisions; SELECT * FROM atlas_schema_revisions"], { encoding: "utf8" });
    assert.equal(empty.stdout, "");
    assert.equal(run(["plan", "--revisions", "-"], { input: empty.stdout }).status, 3);
  });

  test("--json prints the report document; its digest is the API's", () => {
    const rows = done(2);
    const r = run(["plan", "--revisions", revisionsFile(JSON.stringify({ revisions: rows })), "--json"]);
    assert.equal(r.status, 3, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.format, "strata.report/v1");
    assert.equal(doc.kind, "plan");
    assert.deepEqual(doc.plan.files.map((f) => f.name), FILES.slice(2).map((f) => f.name));
    assert.equal(doc.plan.digest, plan(new Directory(entries(EXAMPLE), { dialect: "postgres" }), rows).digest);
  });

  test("--markdown prints the plan for a pull request", () => {
    const r = run(["plan", "--revisions", revisionsFile("[]"), "--markdown", "--amount", "2"]);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.stdout.startsWith("### Migration plan\n\n**2 files, 5 statements** to apply, from an empty database to version `20240102000000`.\n"), r.stdout);
    assert.match(r.stdout, /<details><summary><code>20240101000000_create_users\.sql<\/code><\/summary>/);
  });

  test("options reach the planner", () => {
    const f = revisionsFile("[]");
    const versions = (args) => JSON.parse(run(["plan", "--revisions", f, "--json", ...args]).stdout).plan.files.map((x) => x.version);
    assert.deepEqual(versions(["--to-version", V[1]]), V.slice(0, 2));
    assert.deepEqual(versions(["--amount", "3"]), V.slice(0, 3));
    assert.deepEqual(versions(["--baseline", V[0]]), V.slice(1));
    const txNone = JSON.parse(run(["plan", "--revisions", f, "--json", "--tx-mode", "none"]).stdout).plan;
    assert.deepEqual(txNone.files.map((x) => x.txMode), ["none", "none", "none", "none"]);
    // A database with objects and no revisions.
    const dirty = revisionsFile(JSON.stringify({ revisions: [], notClean: 'found table "users"' }));
    assert.equal(run(["plan", "--revisions", dirty, "--allow-dirty"]).status, 3);
    // A baseline row is something to apply even without files after it.
    const b = run(["plan", "--revisions", dirty, "--baseline", V[3]]);
    assert.equal(b.status, 3, b.stderr);
    assert.equal(b.stdout, `Baseline: version ${V[3]} will be recorded as applied\n\nNo migration files to execute\n`);
    // Files out of order.
    const ooo = revisionsFile(sqliteJson(done(4).filter((r) => r.version !== V[2])));
    assert.equal(run(["plan", "--revisions", ooo, "--exec-order", "linear-skip"]).status, 0);
    const nl = run(["plan", "--revisions", ooo, "--exec-order", "non-linear"]);
    assert.equal(nl.status, 3);
    assert.match(nl.stdout, /-- migrating version 20240103000000 \(tx: none, out of order\)/);
  });

  test("Atlas's refusals: exit 1 with the message, the file and a hint", () => {
    const cases = [
      [JSON.stringify({ notClean: 'found table "users" in schema "public"' }), [], /^strata: sql\/migrate: connected database is not clean: found table "users" in schema "public"\. baseline version or allow-dirty is required\nhint: /],
      [sqliteJson(done(4).filter((r) => r.version !== V[1])), [], /^strata: 20240102000000_create_posts\.sql: migration file 20240102000000_create_posts\.sql was added out of order\. See: https:\/\/atlasgo\.io\/versioned\/apply#non-linear-error\nhint: /],
      ["[]", ["--to-version", "2024"], /^strata: sql\/migrate: migration with version "2024" not found\. Did you mean "20240104000000"\?\n/],
      ["[]", ["--baseline", "7"], /^strata: baseline version "7" not found\n/],
    ];
    for (const [rows, args, want] of cases) {
      const r = run(["plan", "--revisions", revisionsFile(rows), ...args]);
      assert.equal(r.status, 1, `${args}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, want);
    }
  });

  test("a file the run would stop at: the plan on stdout, the error on stderr, exit 1", () => {
    // The applied statement of the partial file differs from the file.
    const rows = [...done(1), { ...done(2)[1], applied: 1, partialHashes: ["h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] }];
    const r = run(["plan", "--revisions", revisionsFile(sqliteJson(rows))]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /\n {4}error: sql\/migrate: history changed: statement 1 from file "20240102000000_create_posts\.sql" changed\n/);
    assert.match(
      r.stderr,
      /^strata: 20240102000000_create_posts\.sql:1: sql\/migrate: history changed: statement 1 from file "20240102000000_create_posts\.sql" changed\nhint: .+\n$/,
    );
    // Also with --json: the document, then exit 1.
    const j = run(["plan", "--revisions", revisionsFile(sqliteJson(rows)), "--json"]);
    assert.equal(j.status, 1);
    assert.equal(JSON.parse(j.stdout).plan.files[0].error.kind, "history-changed");
    // --tx-mode all against the txmode header of file 3.
    const all = run(["plan", "--revisions", revisionsFile("[]"), "--tx-mode", "all"]);
    assert.equal(all.status, 1);
    assert.match(all.stderr, /^strata: 20240103000000_backfill_names\.sql: cannot set txmode directive to "none" in "20240103000000_backfill_names\.sql" when txmode "all" is set globally\n/);
  });

  test("a checksum error prints Atlas's report, exit 1", () => {
    const dir = copyDir(EXAMPLE);
    appendFileSync(join(dir, "20240102000000_create_posts.sql"), "\n-- edited\n");
    for (const cmd of ["plan", "status"]) {
      const r = strata([cmd, "--dir", dir, "--revisions", revisionsFile("[]")]);
      assert.equal(r.status, 1, cmd);
      assert.equal(r.stdout, "", cmd);
      assert.equal(
        r.stderr,
        "You have a checksum error in your migration directory.\n\n\tL3: 20240102000000_create_posts.sql was edited\n\nPlease check your migration files and run 'strata hash' to re-hash the contents\n\nError: checksum mismatch\n",
        cmd,
      );
    }
  });

  test("a revisions file that cannot be read: exit 1 naming it", () => {
    const bad = revisionsFile("[{");
    const r = run(["plan", "--revisions", bad]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.startsWith(`strata: ${bad}: the revisions are not JSON: `), r.stderr);
    assert.match(r.stderr, /\nhint: pass a JSON array of atlas_schema_revisions rows/);
    const row = revisionsFile('[{"version":"20240101000000","applied":"two"}]');
    const r2 = run(["plan", "--revisions", row]);
    assert.equal(r2.status, 1);
    assert.ok(r2.stderr.startsWith(`strata: ${row}: revisions[0].applied: `), r2.stderr);
    const r3 = run(["status", "--revisions", "-"], { input: '{"revisions": 3}' });
    assert.equal(r3.status, 1);
    assert.ok(r3.stderr.startsWith("strata: stdin: `revisions` must be an array"), r3.stderr);
    const missing = run(["plan", "--revisions", "/nonexistent/revisions.json"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^strata: read file "\/nonexistent\/revisions\.json": ENOENT\n/);
  });

  test("usage errors: exit 2", () => {
    const f = revisionsFile("[]");
    for (const args of [
      ["plan"],
      ["plan", "--revisions", f, "--json", "--markdown"],
      ["plan", "--revisions", f, "--exec-order", "sideways"],
      ["plan", "--revisions", f, "--tx-mode", "some"],
      ["plan", "--revisions", f, "--amount", "x"],
      ["plan", "--revisions", f, "--amount", "0"],
      ["plan", "--revisions", f, "--baseline", V[0], "--allow-dirty"],
      ["plan", "--revisions", f, "--dialect", "oracle"],
      ["plan", "--revisions", f, "--nope"],
      ["plan", "--revisions", f, "extra"],
      ["status"],
      ["status", "--revisions", f, "--markdown"],
    ]) {
      const r = strata([args[0], "--dir", EXAMPLE, ...args.slice(1)]);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "", args.join(" "));
      assert.match(r.stderr, /^strata: .+\nRun 'strata --help' for usage\.\n$/, args.join(" "));
    }
    assert.match(strata(["plan"]).stderr, /--revisions FILE is required/);
    assert.match(strata(["plan", "--revisions", f, "--amount", "x"]).stderr, /invalid amount argument "x" \(invalid syntax\)/);
    assert.match(strata(["plan", "--revisions", f, "--exec-order", "x"]).stderr, /^strata: unknown execution order: "x"; use linear, linear-skip or non-linear\n/);
  });
});

describe("strata status", () => {
  test("Atlas's text: pending (exit 3) and up to date (exit 0)", () => {
    const r = run(["status", "--revisions", revisionsFile(sqliteJson(done(1)))]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, "Migration Status: PENDING\n  -- Current Version: 20240101000000\n  -- Next Version:    20240102000000\n  -- Executed Files:  1\n  -- Pending Files:   3\n");
    const ok = run(["status", "--revisions", revisionsFile(sqliteJson(done(4)))]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "Migration Status: OK\n  -- Current Version: 20240104000000\n  -- Next Version:    Already at latest version\n  -- Executed Files:  4\n  -- Pending Files:   0\n");
  });

  test("a partially applied file, files out of order, no table", () => {
    const rows = [...done(1), { ...done(2)[1], applied: 1, error: "pq: boom", errorStmt: "CREATE FUNCTION\ntouch_updated_at()", partialHashes: [FILES[1].statements[0].hash] }];
    const p = run(["status", "--revisions", revisionsFile(sqliteJson(rows))]);
    assert.equal(p.status, 3);
    assert.equal(
      p.stdout,
      "Migration Status: PENDING\n  -- Current Version: 20240102000000 (1 statements applied)\n  -- Next Version:    20240102000000 (2 statements left)\n  -- Executed Files:  2 (last one partially)\n  -- Pending Files:   3\n\nLast migration attempt had errors:\n  -- SQL:   CREATE FUNCTION touch_updated_at()\n  -- ERROR: pq: boom\n",
    );
    const ooo = run(["status", "--revisions", revisionsFile(sqliteJson(done(4).filter((r) => r.version !== V[1])))]);
    assert.equal(ooo.status, 3);
    assert.ok(ooo.stdout.endsWith("  -- Pending Files:   1 (out of order)\n\n  ERROR: migration file 20240102000000_create_posts.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"), ooo.stdout);
    const none = run(["status", "--revisions", revisionsFile('{"tableMissing": true}')]);
    assert.equal(none.status, 3);
    assert.match(none.stdout, /^Migration Status: PENDING\n {2}-- Current Version: No migration applied yet\n/);
  });

  test("--json prints the report document; a dirty database without revisions is an error", () => {
    const r = run(["status", "--revisions", revisionsFile(sqliteJson(done(2))), "--json"]);
    assert.equal(r.status, 3);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, "status");
    assert.equal(doc.status.status, "PENDING");
    assert.equal(doc.status.next, V[2]);
    assert.equal(doc.status.applied.length, 2);
    const dirty = run(["status", "--revisions", revisionsFile('{"notClean": "found table \\"t\\""}')]);
    assert.equal(dirty.status, 1);
    assert.match(dirty.stderr, /^strata: sql\/migrate: connected database is not clean: found table "t"\./);
  });
});

describe("plan and status help", () => {
  test("--help, help COMMAND and the top-level help", () => {
    for (const args of [["plan", "--help"], ["status", "-h"], ["help", "plan"], ["help", "status"]]) {
      const r = strata(args);
      assert.equal(r.status, 0, args.join(" "));
      assert.match(r.stdout, /^Usage: strata (plan|status) --revisions FILE/, args.join(" "));
      assert.match(r.stdout, /Exit codes: 0 .*3 /s, args.join(" "));
    }
    const main = strata(["--help"]).stdout;
    assert.match(main, /\n {2}strata plan --revisions FILE/);
    assert.match(main, /\n {2}strata status --revisions FILE/);
  });
});
