// The Registry class in an edge runtime: a workerd worker fetches a tag
// from a real strata-server on loopback, verifies it and plans it against
// an empty revisions table. workerd's default outbound network ("internet")
// only reaches public addresses; the config gives the worker a network
// service that allows local ones, as a deployment reaching a registry on a
// private network would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Directory, Registry, plan } from "../../pkg/node.mjs";
import { PKG, entries, migrationDir, needDevTools, needServer, poll, startServer, startWorkerd, tempDir } from "./helpers.mjs";

const WORKER = `import { initSync, Registry, plan } from "./strata.js";
import wasm from "./strata_bg.wasm";

initSync({ module: wasm });

export default {
  async fetch(request, env) {
    const registry = new Registry(env.REGISTRY, { token: env.TOKEN });
    const body = {};
    try {
      const f = await registry.fetch("app", new URL(request.url).searchParams.get("tag") ?? "latest", { dialect: "postgres" });
      const p = plan(f.directory, []);
      Object.assign(body, {
        version: f.version,
        files: f.directory.files.map((x) => x.name),
        verify: f.directory.verify(),
        plan: { digest: p.digest, files: p.files.map((x) => x.name), statements: p.statementCount },
        stats: registry.stats,
      });
    } catch (e) {
      body.error = { name: e.name, code: e.code, message: e.message, hint: e.hint };
    }
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  },
};
`;

const config = (registry, token) => `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "strata.js", esModule = embed "strata.js"),
    (name = "strata_bg.wasm", wasm = embed "strata_bg.wasm"),
  ],
  bindings = [
    (name = "REGISTRY", text = ${JSON.stringify(registry)}),
    (name = "TOKEN", text = ${JSON.stringify(token)}),
  ],
  globalOutbound = "loopback",
  compatibilityDate = "2026-11-01",
);
`;

test("a workerd worker fetches a tag from the registry, verifies it and plans it", { timeout: 90_000 }, async (t) => {
  if (!needDevTools(t, "workerd") || !needServer(t)) return;
  const server = await startServer(t);
  const token = server.token("read,push");
  const src = migrationDir(5);
  const pushed = await new Registry(server.url, { token }).push(new Directory(entries(src)), "app", ["v1"]);
  const expected = plan(new Directory(entries(src), { dialect: "postgres" }), []);

  const dir = tempDir("strata-workerd-");
  copyFileSync(join(PKG, "strata.js"), join(dir, "strata.js"));
  copyFileSync(join(PKG, "strata_bg.wasm"), join(dir, "strata_bg.wasm"));
  writeFileSync(join(dir, "worker.js"), WORKER);
  writeFileSync(join(dir, "config.capnp"), config(server.url, server.token("read")));
  let log = "";
  const workerd = startWorkerd(dir, (s) => (log += s));
  t.after(workerd.stop);
  const port = await Promise.race([
    workerd.port,
    new Promise((_, fail) => setTimeout(() => fail(new Error("workerd did not listen within 20 s")), 20_000).unref()),
  ]).catch((e) => assert.fail(`${e.message}\n${log}`));

  const get = async (query) => {
    const res = await poll(`http://127.0.0.1:${port}/${query}`, 10_000);
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${log}`);
    return JSON.parse(text);
  };
  const body = await get("?tag=v1");
  assert.equal(body.error, undefined, `${JSON.stringify(body.error)}\n${log}`);
  assert.equal(body.version, pushed.version);
  assert.deepEqual(body.files, expected.files.map((x) => x.name));
  assert.deepEqual(body.verify, { ok: true });
  assert.deepEqual(body.plan, { digest: expected.digest, files: body.files, statements: expected.statementCount });
  assert.equal(body.stats.requests, 2, "the tag, then the five blobs in one blobs/fetch");

  // The registry's errors reach the worker as StrataErrors.
  const missing = await get("?tag=nope");
  assert.deepEqual([missing.error?.name, missing.error?.code], ["StrataError", "tag-not-found"]);
  assert.doesNotMatch(log, /error|uncaught/i, "workerd's log");
});
