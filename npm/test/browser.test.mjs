// The npm package in a real browser, as the README tells browser apps to use
// it: pkg/ served as is over HTTP, `import init, {...} from ".../strata.js";
// await init();`, which fetches strata_bg.wasm next to strata.js. Runs the
// Debian Chromium through playwright-core (npm/node_modules, installed by the
// Makefile); everything stays on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PKG, S1_APP, SHOW, assertS1, launchChromium, needDevTools, page, runPage, serve } from "./helpers.mjs";

const MAIN = `import init, * as strata from "/pkg/strata.js";
import { run } from "/app.js";
import { show } from "/show.js";
try {
  await init();
  show(run(strata));
} catch (e) {
  show({ failed: String((e && e.stack) || e) });
}
`;

test("the package works in Chromium: init() fetches the wasm, sum/verify/split/errors", { timeout: 60_000 }, async (t) => {
  if (!needDevTools(t, "playwright-core")) return;
  const server = await serve(PKG, { "/": page("/main.js"), "/main.js": MAIN, "/app.js": S1_APP, "/show.js": SHOW }, "/pkg/");
  t.after(server.close);
  const browser = await launchChromium(t);

  assertS1(await runPage(browser, `${server.url}/`), "Chromium");

  const wasm = server.served.filter((r) => r.path === "/pkg/strata_bg.wasm");
  assert.equal(wasm.length, 1, `strata_bg.wasm fetched once: ${JSON.stringify(server.served)}`);
  // As application/wasm, so that init() can compile while it downloads.
  assert.equal(wasm[0].type, "application/wasm");
  assert.deepEqual(server.served.filter((r) => r.status !== 200), [], "no missing files");
});
