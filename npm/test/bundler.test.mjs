// The npm package through a bundler, as a browser app would use it: the
// packed package (`npm pack pkg/`, exactly what would be published) is
// unpacked into a temporary project's node_modules/strata, an app imports it
// by its name, esbuild bundles the app for the browser, and the bundle runs in
// the Debian Chromium (playwright-core from npm/node_modules). Loopback only.
//
// What esbuild needs: nothing for the JavaScript (the "exports" map's
// "default" condition selects strata.js for platform "browser"), but it does
// not rewrite `new URL("strata_bg.wasm", import.meta.url)` in strata.js
// (esbuild issue #795), so:
//  - main.js calls plain `await init()`, as the README shows; strata.js's
//    import.meta.url is kept in the ESM bundle and becomes the bundle's URL,
//    so the app must copy strata_bg.wasm next to the bundle. This test does
//    that copy, as an app's build would.
//  - asset.js needs no copy: it imports "strata/strata_bg.wasm" with the
//    "file" loader, which emits the wasm as a hashed asset and gives its URL,
//    and hands that URL to init().
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PKG, S1_APP, SHOW, assertS1, launchChromium, needDevTools, page, runPage, serve, tempDir } from "./helpers.mjs";

const ENTRIES = {
  "main.js": `import init, * as strata from "strata";
import { run } from "./app.js";
import { show } from "./show.js";
try {
  await init();
  show(run(strata));
} catch (e) {
  show({ failed: String((e && e.stack) || e) });
}
`,
  "asset.js": `import init, * as strata from "strata";
import wasmUrl from "strata/strata_bg.wasm";
import { run } from "./app.js";
import { show } from "./show.js";
try {
  await init({ module_or_path: new URL(wasmUrl, import.meta.url) });
  show({ wasmUrl, ...run(strata) });
} catch (e) {
  show({ failed: String((e && e.stack) || e) });
}
`,
  // The edge runtimes' form from the README: only resolved, not run here
  // (workerd.test.mjs runs it).
  "edge.js": `import { initSync, Directory } from "strata/strata.js";
import wasm from "strata/strata_bg.wasm";
initSync({ module: wasm });
export const sum = () => new Directory([]).sum();
`,
};

/** The package as npm would install it: `npm pack pkg/`, unpacked. */
function install(project) {
  const packs = join(project, ".packs");
  mkdirSync(packs);
  const pack = spawnSync("npm", ["pack", PKG, "--pack-destination", packs, "--json", "--silent"], { encoding: "utf8" });
  assert.equal(pack.status, 0, pack.stderr);
  const [{ filename }] = JSON.parse(pack.stdout);
  const into = join(project, "node_modules", "strata");
  mkdirSync(into, { recursive: true });
  const tar = spawnSync("tar", ["-xzf", join(packs, filename), "-C", into, "--strip-components=1"], { encoding: "utf8" });
  assert.equal(tar.status, 0, tar.stderr);
}

test("an esbuild bundle of an app importing \"strata\" runs in Chromium", { timeout: 60_000 }, async (t) => {
  if (!needDevTools(t, "esbuild", "playwright-core")) return;
  const esbuild = await import("esbuild");

  const project = tempDir("strata-bundler-");
  install(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(join(project, "app.js"), S1_APP);
  writeFileSync(join(project, "show.js"), SHOW);
  for (const [name, code] of Object.entries(ENTRIES)) writeFileSync(join(project, name), code);
  const out = join(project, "dist");
  const built = await esbuild.build({
    absWorkingDir: project,
    entryPoints: ["main.js", "asset.js"],
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    loader: { ".wasm": "file" },
    metafile: true,
    logLevel: "silent",
  });
  assert.deepEqual(built.warnings, [], "esbuild warnings");
  const inputs = Object.keys(built.metafile.inputs);
  assert.ok(inputs.includes("node_modules/strata/strata.js"), `the browser entry of the package: ${inputs}`);
  assert.ok(!inputs.some((i) => i.endsWith("node.mjs")), `not the Node entry: ${inputs}`);
  // The README's `await init()` fetches strata_bg.wasm next to the bundle.
  copyFileSync(join(project, "node_modules", "strata", "strata_bg.wasm"), join(out, "strata_bg.wasm"));
  const asset = readdirSync(out).find((f) => /^strata_bg-\w+\.wasm$/.test(f));
  assert.ok(asset, `the file loader emitted the wasm: ${readdirSync(out)}`);

  // The edge runtimes' subpaths resolve through the "exports" map.
  const edge = await esbuild.build({
    absWorkingDir: project,
    entryPoints: ["edge.js"],
    bundle: true,
    write: false,
    outdir: join(project, "edge"),
    format: "esm",
    platform: "neutral",
    loader: { ".wasm": "file" },
    metafile: true,
    logLevel: "silent",
  }).catch((e) => assert.fail(`README's "strata/strata.js" + "strata/strata_bg.wasm" imports: ${e.message}`));
  const edgeInputs = Object.keys(edge.metafile.inputs);
  assert.ok(edgeInputs.includes("node_modules/strata/strata.js"), `${edgeInputs}`);
  assert.ok(edgeInputs.includes("node_modules/strata/strata_bg.wasm"), `${edgeInputs}`);

  const server = await serve(out, { "/main.html": page("/main.js"), "/asset.html": page("/asset.js") });
  t.after(server.close);
  const browser = await launchChromium(t);

  assertS1(await runPage(browser, `${server.url}/main.html`), "init() with the wasm copied next to the bundle");
  const viaAsset = await runPage(browser, `${server.url}/asset.html`);
  assertS1(viaAsset, "init() given the URL of the wasm asset");
  assert.equal(viaAsset.wasmUrl, `./${asset}`);

  const wasm = server.served.filter((r) => r.path.endsWith(".wasm"));
  assert.deepEqual(
    wasm.map((r) => r.path),
    ["/strata_bg.wasm", `/${asset}`],
    "each page fetched its wasm once",
  );
  for (const r of wasm) assert.equal(r.type, "application/wasm");
  assert.deepEqual(server.served.filter((r) => r.status !== 200), [], "no missing files");
});
