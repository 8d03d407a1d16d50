// The JavaScript Registry class in Node (its global fetch) against a real
// strata-server on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { Directory, Registry, plan } from "../../pkg/node.mjs";
import { blobPath, entries, migrationDir, needServer, startServer } from "./helpers.mjs";

const enc = new TextEncoder();

/** A Directory of the files of `dir` (its .sql files and atlas.sum). */
const open = (dir, options) => new Directory(entries(dir), options);

/** What `fn` throws or rejects with. */
async function failure(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

test("push and fetch a Directory; fetch again costs one 304; a moved tag downloads only new files", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const token = server.token("read,push");
  const progress = [];
  const registry = new Registry(`${server.url}/`, { token, onProgress: (p) => progress.push(p) });
  assert.equal(registry.url, server.url);

  const src = open(migrationDir(10));
  const pushed = await registry.push(src, "app", ["v1"]);
  assert.match(pushed.version, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    { created: pushed.created, files: pushed.files, uploaded: pushed.uploaded.files, tags: pushed.tags.map((x) => [x.name, x.version, x.previous]) },
    { created: true, files: 10, uploaded: 10, tags: [["latest", pushed.version, null], ["v1", pushed.version, null]] },
  );
  assert.equal(progress.length, 11, "the totals, then one per blob");
  assert.deepEqual(progress[0], { phase: "upload", name: "app", filesDone: 0, filesTotal: 10, bytesDone: 0, bytesTotal: pushed.size });
  assert.deepEqual(progress.at(-1), { phase: "upload", name: "app", filesDone: 10, filesTotal: 10, bytesDone: pushed.size, bytesTotal: pushed.size });

  // Another Registry fetches it: a Directory that plans like the original.
  const reader = new Registry(server.url, { token: server.token("read") });
  const f = await reader.fetch("app", "v1", { dialect: "sqlite" });
  assert.ok(f.directory instanceof Directory);
  assert.equal(f.version, pushed.version);
  assert.equal(f.directory.dialect, "sqlite");
  assert.deepEqual(f.directory.verify(), { ok: true });
  assert.deepEqual(
    f.directory.files.map((x) => [x.name, Buffer.from(x.bytes).toString("base64")]),
    src.files.map((x) => [x.name, Buffer.from(x.bytes).toString("base64")]),
  );
  assert.equal(f.directory.sumFile, src.sumFile);
  assert.deepEqual(f.manifest.files.map((x) => x.name), src.files.map((x) => x.name));
  assert.deepEqual({ notModified: f.notModified, downloaded: f.downloaded.files }, { notModified: false, downloaded: 10 });
  const p = plan(f.directory, []);
  assert.equal(p.files.length, 10);
  assert.equal(p.digest, plan(open(migrationDir(10), { dialect: "sqlite" }), []).digest, "the same plan as the pushed files'");

  // The same tag again: one request, answered 304, no body.
  let before = reader.stats;
  const again = await reader.fetch("app", "v1", { dialect: "sqlite" });
  let after = reader.stats;
  assert.deepEqual(
    { requests: after.requests - before.requests, notModified: after.notModified - before.notModified, received: after.bytesReceived - before.bytesReceived },
    { requests: 1, notModified: 1, received: 0 },
  );
  assert.equal(again.notModified, true);
  assert.equal(again.version, f.version);

  // latest moves to a version with one more file: the manifest and that file.
  const v2 = await registry.push(open(migrationDir(11)), "app");
  assert.equal(v2.uploaded.files, 1, "only the new file is uploaded");
  before = reader.stats;
  const moved = await reader.fetch("app");
  after = reader.stats;
  assert.equal(moved.version, v2.version);
  assert.equal(moved.downloaded.files, 1);
  assert.equal(after.requests - before.requests, 2);
  assert.equal(moved.directory.files.length, 11);

  const tags = await reader.tags("app");
  assert.deepEqual(tags.map((x) => [x.name, x.version]), [["latest", v2.version], ["v1", pushed.version]]);
});

test("errors are StrataErrors with the registry's code, message and hint", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const token = server.token("read,push");
  const registry = new Registry(server.url, { token });
  await registry.push(open(migrationDir(3)), "app");

  let e = await failure(() => registry.fetch("app", "nope"));
  assert.ok(e instanceof Error);
  assert.deepEqual([e.name, e.code, e.message], ["StrataError", "tag-not-found", 'directory "app" has no tag "nope"']);
  assert.ok(e.hint.length > 10);
  e = await failure(() => new Registry(server.url).tags("app"));
  assert.equal(e.code, "unauthorized");
  e = await failure(() => registry.fetch("../app"));
  assert.equal(e.code, "invalid-name");
  e = await failure(() => registry.push(open(migrationDir(1)), "app", ["ok", 7]));
  assert.equal(e.code, "invalid-options");

  // A directory whose atlas.sum does not match: refused before any request.
  const dir = migrationDir(2);
  const sum = readFileSync(`${dir}/atlas.sum`, "utf8");
  const edited = new Directory([
    { name: "20240101000001_t1.sql", bytes: enc.encode("CREATE TABLE edited (id int);\n") },
    { name: "20240101000002_t2.sql", bytes: readFileSync(`${dir}/20240101000002_t2.sql`) },
    { name: "atlas.sum", bytes: enc.encode(sum) },
  ]);
  const before = registry.stats.requests;
  e = await failure(() => registry.push(edited, "app"));
  assert.deepEqual([e.code, e.file], ["checksum-mismatch", "20240101000001_t1.sql"]);
  assert.equal(registry.stats.requests, before);

  // Synchronous refusals of the constructor.
  assert.equal((await failure(() => new Registry("localhost:8080"))).code, "invalid-url");
  assert.equal((await failure(() => new Registry(server.url, { tokn: "x" }))).code, "invalid-options");
  assert.equal((await failure(() => new Registry(server.url, { onProgress: 1 }))).code, "invalid-options");
  assert.equal((await failure(() => new Registry(server.url, { token: "a b" }))).code, "invalid-token");
  assert.equal((await failure(() => registry.fetch("app", "latest", { dialect: "oracle" }))).code, "unknown-dialect");
});

test("a damaged blob in the registry's storage fails the fetch, naming the file", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const registry = new Registry(server.url, { token: server.token("read,push") });
  const src = open(migrationDir(4));
  await registry.push(src, "app");

  const victim = src.files[2];
  const path = blobPath(server.data, (await registry.fetch("app")).manifest.files[2].digest);
  const bytes = readFileSync(path);
  assert.deepEqual(new Uint8Array(bytes), victim.bytes);
  bytes[0] ^= 0x20;
  writeFileSync(path, bytes);

  const fresh = new Registry(server.url, { token: server.token("read") });
  const e = await failure(() => fresh.fetch("app"));
  assert.deepEqual([e.code, e.file], ["digest-mismatch", victim.name]);
  assert.match(e.summary, new RegExp(`^${victim.name}: the bytes of ${victim.name} do not match the manifest`));
});
