// The Hook class of the npm package against a real strata-server on
// loopback with a real SQLite target: targets, revisions, plan, apply with
// its events as they arrive, and refusals as thrown errors with the
// server's fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Directory, Hook, Registry, renderReport } from "../../pkg/node.mjs";
import { entries, migrationDir, needServer, needSqlite3, sqlite, startHookServer } from "./helpers.mjs";

/** The error `fn` throws or rejects with. */
const failure = (fn) => Promise.resolve().then(fn).then(() => assert.fail("expected an error"), (e) => e);

test("Hook: plan, apply with events in order, stale plan, errors with the server's fields", { timeout: 60_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const server = await startHookServer(t);
  const token = server.token("read,push,deploy");
  await new Registry(server.url, { token }).push(new Directory(entries(migrationDir(2))), "app");
  const hook = new Hook(server.url, { token });
  assert.equal(hook.url, server.url);

  assert.deepEqual(await hook.targets(), { items: [{ name: "local", dialect: "sqlite" }] });
  const before = await hook.revisions("local");
  assert.deepEqual([before.target, before.dialect, before.revisions, before.tableMissing], ["local", "sqlite", [], true]);

  const doc = await hook.plan("local", { dir: "app", tag: "latest" });
  assert.equal(doc.kind, "plan");
  assert.match(doc.version, /^sha256:/);
  assert.deepEqual(doc.plan.files.map((f) => f.name), ["20240101000001_t1.sql", "20240101000002_t2.sql"]);
  assert.match(renderReport(doc), /^Migrating to version 20240101000002 \(2 migrations in total\):/);

  const events = [];
  const request = { dir: "app", version: doc.version, planDigest: doc.plan.digest };
  const finished = await hook.apply("local", request, { onEvent: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.type), [
    "planned",
    "fileStarted",
    "statementDone",
    "fileDone",
    "fileStarted",
    "statementDone",
    "fileDone",
    "finished",
  ]);
  assert.equal(events[0].digest, doc.plan.digest);
  assert.deepEqual(events[0].files.map((f) => [f.name, f.statements, f.txMode]), [
    ["20240101000001_t1.sql", 1, "file"],
    ["20240101000002_t2.sql", 1, "file"],
  ]);
  assert.deepEqual([events[2].file, events[2].statement, events[2].line], ["20240101000001_t1.sql", 1, 1]);
  assert.equal(events[7].deployment.id, finished.deployment.id);
  assert.match(finished.deployment.id, /^dep_/);
  assert.equal(finished.deployment.status, "succeeded");
  assert.equal(finished.report.error, null);
  assert.equal(finished.report.applied.length, 2);
  assert.match(renderReport({ format: "strata.report/v1", kind: "apply", apply: finished.report }), /  -- 2 migrations\n  -- 2 sql statements\n$/);
  assert.deepEqual(sqlite(server.db, "SELECT version FROM atlas_schema_revisions ORDER BY version").map((r) => r.version), ["20240101000001", "20240101000002"]);
  assert.equal((await hook.revisions("local")).revisions.length, 2);

  // The same request again: the database moved on; nothing runs.
  const stale = await failure(() => hook.apply("local", request));
  assert.equal(stale.name, "StrataError");
  assert.deepEqual([stale.code, stale.status, stale.expected], ["stale-plan", 409, doc.plan.digest]);
  assert.match(stale.actual, /^sha256:/);
  assert.ok(stale.hint.length > 0);

  // Errors: a target the server does not have, a read token, bad input.
  const missing = await failure(() => hook.plan("prod", { dir: "app", tag: "latest" }));
  assert.deepEqual([missing.code, missing.status], ["target-not-found", 404]);
  const reader = new Hook(server.url, { token: server.token("read") });
  const forbidden = await failure(() => reader.apply("local", request));
  assert.deepEqual([forbidden.code, forbidden.status], ["forbidden", 403]);
  assert.equal((await failure(() => hook.plan("local", { dir: "app", tag: "latest", url: "x" }))).code, "invalid-options");
  assert.equal((await failure(() => hook.plan("local", { dir: "app" }))).code, "invalid-request");
  assert.equal((await failure(() => hook.apply("local", { ...request, options: { txMode: "some" } }))).code, "invalid-option");
  assert.equal((await failure(() => hook.apply("local", request, { onEvent: 5 }))).code, "invalid-options");
  assert.equal((await failure(() => new Hook("localhost:8080"))).code, "invalid-url");
  assert.equal((await failure(() => new Hook(server.url, { tokn: "x" }))).code, "invalid-options");
  const down = await failure(() => new Hook("http://127.0.0.1:9").targets());
  assert.equal(down.code, "request-failed");
});
