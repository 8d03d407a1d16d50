// The npm package in an edge runtime: workerd (Cloudflare's runtime, from
// npm/node_modules) serving a module worker on loopback. Like the edge,
// workerd refuses to compile WebAssembly from bytes at run time, so the
// worker does what the README tells edge runtimes to do: the config declares
// strata_bg.wasm as a wasm module, the worker imports it (a compiled
// WebAssembly.Module) and hands it to initSync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PKG, S1_APP, assertS1, needDevTools, poll, startWorkerd, tempDir } from "./helpers.mjs";

const WORKER = `import { initSync } from "./strata.js";
import * as strata from "./strata.js";
import wasm from "./strata_bg.wasm";
import { run } from "./app.js";

initSync({ module: wasm });

export default {
  async fetch() {
    // The restriction that makes initSync({module}) necessary here.
    let compileFromBytes = "allowed";
    try {
      new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    } catch (e) {
      compileFromBytes = String(e.message);
    }
    const body = { ...run(strata), wasmIsModule: wasm instanceof WebAssembly.Module, compileFromBytes };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  },
};
`;

// Port 0: workerd picks a free port and reports it on the control fd.
// The compatibility date must not be later than the workerd release's own.
const CONFIG = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "strata.js", esModule = embed "strata.js"),
    (name = "app.js", esModule = embed "app.js"),
    (name = "strata_bg.wasm", wasm = embed "strata_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
);
`;

test("the package works in workerd: initSync with the imported WebAssembly.Module", { timeout: 60_000 }, async (t) => {
  if (!needDevTools(t, "workerd")) return;
  const dir = tempDir("strata-workerd-");
  copyFileSync(join(PKG, "strata.js"), join(dir, "strata.js"));
  copyFileSync(join(PKG, "strata_bg.wasm"), join(dir, "strata_bg.wasm"));
  writeFileSync(join(dir, "worker.js"), WORKER);
  writeFileSync(join(dir, "app.js"), S1_APP);
  writeFileSync(join(dir, "config.capnp"), CONFIG);

  let log = "";
  const workerd = startWorkerd(dir, (s) => (log += s));
  t.after(workerd.stop);

  const port = await Promise.race([
    workerd.port,
    new Promise((_, fail) => setTimeout(() => fail(new Error("workerd did not listen within 20 s")), 20_000).unref()),
  ]).catch((e) => assert.fail(`${e.message}\n${log}`));
  const res = await poll(`http://127.0.0.1:${port}/`, 10_000);
  const text = await res.text();
  assert.equal(res.status, 200, `${text}\n${log}`);
  const body = JSON.parse(text);

  assertS1(body, "workerd");
  assert.equal(body.wasmIsModule, true, "the config's wasm module arrives as a WebAssembly.Module");
  assert.notEqual(body.compileFromBytes, "allowed", "workerd forbids compiling wasm from bytes, as the edge does");
  assert.doesNotMatch(log, /error|uncaught/i, "workerd's log");
});
