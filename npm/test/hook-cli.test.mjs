// strata status --hook and strata apply, run as a user runs them (child
// processes) against a real strata-server on loopback with a real SQLite
// target database.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { CLI, blobPath, migrationDir, needServer, needSqlite3, sqlite, startHookServer, strata } from "./helpers.mjs";

/** The CLI with `token` in STRATA_TOKEN (none when null), nothing else from the environment. */
function cli(token) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_")));
  if (token) env.STRATA_TOKEN = token;
  return (args, opts = {}) => strata(args, { env, stdio: ["ignore", "pipe", "pipe"], ...opts });
}

const tables = (db) => sqlite(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't%' ORDER BY name").map((r) => r.name);
const revisions = (db) => sqlite(db, "SELECT version, applied, total, error FROM atlas_schema_revisions ORDER BY version");

/** A server with target `local`, directory `app` (3 files) pushed, and a deploy token. */
async function setup(t) {
  const server = await startHookServer(t);
  const token = server.token("read,push,deploy");
  const run = cli(token);
  const src = migrationDir(3);
  const pushed = run(["push", "--dir", src, "--name", "app", "--registry", server.url]);
  assert.equal(pushed.status, 0, pushed.stderr);
  const hook = ["--hook", server.url, "--target", "local"];
  return { server, token, run, src, hook };
}

test("status --hook on a fresh target is pending; apply --yes applies; status is then OK", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook } = await setup(t);

  const before = run(["status", "app", ...hook]);
  assert.equal(before.status, 3, before.stderr);
  assert.match(before.stdout, /^Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    20240101000001\n  -- Executed Files:  0\n  -- Pending Files:   3\n$/);

  const applied = run(["apply", "app@latest", ...hook, "--yes"]);
  assert.equal(applied.status, 0, applied.stderr);
  // The plan: files, statement counts, tx mode, digest; then Atlas's log.
  assert.match(applied.stdout, /^Plan for target local: app sha256:[0-9a-f]{64}\n  from version \(none\) to 20240101000003: 3 files, 3 statements\n/);
  assert.match(applied.stdout, /  20240101000001_t1\.sql  1 statement  tx: file\n/);
  assert.match(applied.stdout, /  digest sha256:[0-9a-f]{64}\n/);
  assert.match(applied.stdout, /Migrating to version 20240101000003 \(3 migrations in total\):\n/);
  assert.match(applied.stdout, /    -> CREATE TABLE t1 \(id int, name text\);\n/);
  assert.match(applied.stdout, /  -- 3 migrations\n  -- 3 sql statements\n/);
  assert.match(applied.stdout, /\ndeployment dep_\w+ \(succeeded\)\n$/);
  // No terminal: plain progress lines on stderr.
  assert.match(applied.stderr, /^applying 3 files \(3 statements\) to target local\n  20240101000001_t1\.sql: 1 statement\n  20240101000001_t1\.sql: ok \(/);
  assert.doesNotMatch(applied.stderr, /\x1b/);

  assert.deepEqual(tables(server.db), ["t1", "t2", "t3"]);
  assert.deepEqual(revisions(server.db).map((r) => [r.version, r.applied, r.total, r.error]), [
    ["20240101000001", 1, 1, ""],
    ["20240101000002", 1, 1, ""],
    ["20240101000003", 1, 1, ""],
  ]);

  const after = run(["status", "app", ...hook]);
  assert.equal(after.status, 0, after.stderr);
  assert.match(after.stdout, /^Migration Status: OK\n  -- Current Version: 20240101000003\n/);
  const json = run(["status", "app", ...hook, "--json"]);
  assert.equal(json.status, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual([doc.kind, doc.status.status, doc.target, doc.directory], ["status", "OK", "local", "app"]);

  // Nothing left to apply.
  const again = run(["apply", "app", ...hook, "--yes"]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /no migration files to execute on target local/);
});

test("apply --dry-run executes nothing; --to-version stops there; --json prints the report", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook } = await setup(t);
  // A database file exists, without the revisions table.
  sqlite(server.db, "SELECT 1");
  writeFileSync(server.db, "");

  // A dry run needs no confirmation.
  const dry = run(["apply", "app", ...hook, "--dry-run", "--json"]);
  assert.equal(dry.status, 0, dry.stderr);
  const d = JSON.parse(dry.stdout);
  assert.equal(d.status, "dry-run");
  assert.equal(d.apply.dryRun, true);
  assert.deepEqual(tables(server.db), []);
  assert.deepEqual(sqlite(server.db, "SELECT name FROM sqlite_master"), [], "not even the revisions table");

  const two = run(["apply", "app", ...hook, "--yes", "--to-version", "20240101000002", "--json"]);
  assert.equal(two.status, 0, two.stderr);
  const r = JSON.parse(two.stdout);
  assert.equal(r.status, "succeeded");
  assert.equal(r.kind, "apply");
  assert.equal(r.apply.error, null);
  assert.deepEqual(r.apply.applied.map((f) => f.file?.name ?? f.name), ["20240101000001_t1.sql", "20240101000002_t2.sql"]);
  assert.match(r.deployment.id, /^dep_/);
  assert.equal(r.deployment.status, "succeeded");
  assert.match(r.version, /^sha256:/);
  assert.deepEqual(tables(server.db), ["t1", "t2"]);
  assert.deepEqual(revisions(server.db).map((x) => x.version), ["20240101000001", "20240101000002"]);

  const status = run(["status", "app", ...hook]);
  assert.equal(status.status, 3);
  assert.match(status.stdout, /Migration Status: PENDING\n  -- Current Version: 20240101000002\n/);
});

test("a failing statement exits 1 naming the file, the statement and the database's error", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook, src } = await setup(t);
  writeFileSync(join(src, "20240101000004_bad.sql"), "CREATE TABLE t4 (id int);\nINSERT INTO nope VALUES (1);\n");
  assert.equal(strata(["hash", "--dir", src]).status, 0);
  assert.equal(run(["push", "--dir", src, "--name", "app", "--registry", server.url]).status, 0);

  const r = run(["apply", "app", ...hook, "--yes"]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /strata: 20240101000004_bad\.sql:2: statement 2 failed: no such table: nope\n  INSERT INTO nope VALUES \(1\);\nhint: /);
  // Atlas's log shows the error too, and the deployment is recorded as failed.
  assert.match(r.stdout, /    -> INSERT INTO nope VALUES \(1\);\n    no such table: nope\n/);
  assert.match(r.stdout, /deployment dep_\w+ \(failed\)/);
  assert.deepEqual(tables(server.db), ["t1", "t2", "t3"], "the failed file was rolled back");

  const json = run(["apply", "app", ...hook, "--yes", "--json"]);
  assert.equal(json.status, 1);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.status, "failed");
  assert.match(doc.apply.error, /no such table: nope/);
});

test("apply refuses without a terminal and without --yes, and asks usage errors", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook } = await setup(t);
  const r = run(["apply", "app", ...hook]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not a terminal: cannot ask for confirmation; pass --yes/);
  assert.deepEqual(tables(server.db), []);

  assert.equal(run(["apply", "app", "--hook", server.url, "--yes"]).status, 2, "--target is required");
  assert.match(run(["apply", "app", "--target", "local", "--yes"]).stderr, /--hook URL is required/);
  const bad = run(["apply", "app", ...hook, "--yes", "--tx-mode", "some"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown tx-mode "some"/);
  assert.equal(run(["apply", "a/b", ...hook, "--yes"]).status, 2, "an invalid directory name");
  const target = run(["apply", "app", "--hook", server.url, "--target", "prod", "--yes"]);
  assert.equal(target.status, 1);
  assert.match(target.stderr, /^strata: this server has no target "prod"\nhint: list the targets/);
  const tag = run(["status", "app@v9", ...hook]);
  assert.equal(tag.status, 1);
  assert.match(tag.stderr, /v9/);
  // The offline status keeps working.
  assert.match(run(["status", "--revisions", "x"]).stderr, /read file "x"/);
});

test("a token without the deploy scope gets a clear error and nothing runs", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, hook } = await setup(t);
  const reader = server.token("read");
  const r = cli(reader)(["apply", "app", ...hook, "--yes"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^strata: .*deploy.*\nhint: /m);
  assert.deepEqual(tables(server.db), []);
  // --token wins over STRATA_TOKEN; --json prints the error as JSON.
  const j = cli(null)(["apply", "app", ...hook, "--yes", "--json", "--token", reader]);
  assert.equal(j.status, 1);
  const e = JSON.parse(j.stdout).error;
  assert.equal(e.code, "forbidden");
  assert.equal(e.status, 403);
  // No token at all.
  const none = cli(null)(["status", "app", ...hook]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /hint: /);
});

test("on a terminal, apply asks first and draws a bar per file", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  if (spawnSync("script", ["--version"]).status !== 0) return t.skip("script (util-linux) not found: it gives the CLI a terminal");
  const { server, token, hook } = await setup(t);
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_"))), STRATA_TOKEN: token };
  const onTerminal = (answer) =>
    spawnSync("script", ["-qec", [process.execPath, CLI, "apply", "app", ...hook].join(" "), "/dev/null"], { env, input: `${answer}\n`, encoding: "utf8" });

  const no = onTerminal("n");
  assert.equal(no.status, 1, no.stdout);
  assert.match(no.stdout, /Apply 3 files to target local\? \[y\/N\] /);
  assert.match(no.stdout, /strata: not applied/);
  assert.deepEqual(tables(server.db), []);

  const yes = onTerminal("y");
  assert.equal(yes.status, 0, yes.stdout);
  assert.match(yes.stdout, /\x1b\[K20240101000001_t1\.sql \[#{24}\] 1\/1/);
  assert.match(yes.stdout, /Migrating to version 20240101000003 \(3 migrations in total\)/);
  assert.deepEqual(tables(server.db), ["t1", "t2", "t3"]);
});

test("a target whose lock another process holds: exit 1 naming the holder, nothing executed", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook } = await setup(t);
  // Atlas's lock file in the server's temp directory, expiring in a minute.
  const lock = join(dirname(server.db), "atlas_migrate_execute.lock");
  writeFileSync(lock, String(BigInt(Date.now() + 60_000) * 1_000_000n));
  const r = run(["apply", "app", ...hook, "--yes"]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^strata: .*lock.*\nhint: another apply .*holds the target's lock/m);
  const j = run(["apply", "app", ...hook, "--yes", "--json"]);
  assert.equal(j.status, 1);
  const e = JSON.parse(j.stdout).error;
  assert.deepEqual([e.code, e.status, e.holder.process], ["lock-held", 423, "other"]);
  assert.deepEqual(tables(server.db), []);
  rmSync(lock);
  assert.equal(run(["apply", "app", ...hook, "--yes"]).status, 0);
  assert.deepEqual(tables(server.db), ["t1", "t2", "t3"]);
});

test("a stored version whose bytes were damaged: exit 1 naming the file, nothing executed", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook, src } = await setup(t);
  const name = "20240101000002_t2.sql";
  const digest = `sha256:${createHash("sha256").update(readFileSync(join(src, name))).digest("hex")}`;
  writeFileSync(blobPath(server.data, digest), "DROP TABLE users;\n");
  const r = run(["apply", "app", ...hook, "--yes"]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^strata: .*${name.replace(".", "\\.")}`, "m"));
  assert.match(r.stderr, /\nhint: /);
  assert.deepEqual(tables(server.db), []);
});

test("report ID shows a recorded deployment as text, a self-contained HTML page or JSON; report FILE renders a document", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const { server, run, hook, src } = await setup(t);
  // A hostile statement and error, to show the page keeps them inert.
  writeFileSync(join(src, "20240101000004_bad.sql"), "INSERT INTO \"<script>alert(1)</script>\" VALUES ('\"><img src=x onerror=alert(2)>');\n");
  assert.equal(strata(["hash", "--dir", src]).status, 0);
  assert.equal(run(["push", "--dir", src, "--name", "app", "--registry", server.url]).status, 0);
  const applied = run(["apply", "app", ...hook, "--yes", "--json"]);
  assert.equal(applied.status, 1, applied.stderr);
  const { deployment } = JSON.parse(applied.stdout);
  assert.match(deployment.id, /^dep_\w+$/);
  const withRegistry = (args) => run([...args, "--registry", server.url]);

  const text = withRegistry(["report", deployment.id]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^deployment ${deployment.id}: app on local, failed\\n  version sha256:[0-9a-f]{64}\\n  recorded \\S+ by tok_\\w+\\n\\nMigrating to version 20240101000004 \\(4 migrations in total\\):\\n`));
  assert.match(text.stdout, /no such table: <script>alert\(1\)<\/script>/);

  const html = withRegistry(["report", deployment.id, "--html"]);
  assert.equal(html.status, 0, html.stderr);
  assert.match(html.stdout, /^<!doctype html>/);
  assert.match(html.stdout, /<title>Apply of app on local<\/title>/);
  assert.match(html.stdout, /Content-Security-Policy" content="default-src 'none'/);
  assert.doesNotMatch(html.stdout, /<script|<img|<link|src=["']?http/);
  assert.match(html.stdout, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html.stdout, /<li class="st-failed">/);

  const json = withRegistry(["report", deployment.id, "--json"]);
  assert.equal(json.status, 0, json.stderr);
  const d = JSON.parse(json.stdout);
  assert.equal(d.id, deployment.id);
  assert.equal(d.status, "failed");
  assert.equal(d.report.kind, "apply");

  // A report file renders offline, with no registry.
  const file = join(src, "..", `report-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(d.report));
  const offline = cli(null)(["report", file, "--html"]);
  assert.equal(offline.status, 0, offline.stderr);
  assert.match(offline.stdout, /<title>Apply of app on local<\/title>/);
  rmSync(file);

  // Unknown ids and bad arguments.
  const missing = withRegistry(["report", "dep_0000"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /deployment-not-found|no deployment/);
  assert.equal(withRegistry(["report", "nope.json"]).status, 2);
  assert.equal(withRegistry(["report", deployment.id, "--html", "--json"]).status, 2);
});
