// The Registry class in Chromium: a page on one loopback origin fetches and
// verifies a directory from a strata-server on another port, which allows
// that origin (--cors-origin); a page on an origin it does not allow gets a
// clear error. The Debian Chromium through playwright-core, as in
// browser.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Directory, Registry, plan } from "../../pkg/node.mjs";
import { PKG, SHOW, entries, launchChromium, migrationDir, needDevTools, needServer, page, runPage, serve, startServer } from "./helpers.mjs";

/** The page's script: fetch `app@latest` twice, verify and plan it. */
const main = (registry, token) => `import init, { Registry, plan } from "/pkg/strata.js";
import { show } from "/show.js";
try {
  await init();
  const registry = new Registry(${JSON.stringify(registry)}, { token: ${JSON.stringify(token)} });
  const f = await registry.fetch("app", "latest", { dialect: "sqlite" });
  const again = await registry.fetch("app", "latest", { dialect: "sqlite" });
  const p = plan(f.directory, []);
  show({
    version: f.version,
    files: f.directory.files.map((x) => x.name),
    verify: f.directory.verify(),
    plan: p.files.map((x) => x.name),
    digest: p.digest,
    notModified: again.notModified,
    stats: registry.stats,
  });
} catch (e) {
  show({ error: { name: e.name, code: e.code, message: e.message, hint: e.hint } });
}
`;

test("a page fetches and verifies a directory from a registry on another origin (CORS)", { timeout: 90_000 }, async (t) => {
  if (!needDevTools(t, "playwright-core") || !needServer(t)) return;
  const files = { "/": page("/main.js"), "/show.js": SHOW };
  const allowed = await serve(PKG, files, "/pkg/");
  t.after(allowed.close);
  const other = await serve(PKG, files, "/pkg/");
  t.after(other.close);
  const server = await startServer(t, ["--cors-origin", allowed.url]);
  const token = server.token("read,push");

  const src = migrationDir(6);
  const pushed = await new Registry(server.url, { token }).push(new Directory(entries(src)), "app");
  const expected = plan(new Directory(entries(src), { dialect: "sqlite" }), []);
  files["/main.js"] = main(server.url, token);
  const browser = await launchChromium(t);

  // The allowed origin: the same bytes, verified and planned in the page.
  const result = await runPage(browser, `${allowed.url}/`);
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.version, pushed.version);
  assert.deepEqual(result.files, expected.files.map((x) => x.name));
  assert.deepEqual(result.verify, { ok: true });
  assert.deepEqual(result.plan, result.files);
  assert.equal(result.digest, expected.digest, "the plan computed in the page is the one computed in Node");
  // The second fetch: a conditional request answered 304 (the ETag is exposed to the page).
  assert.equal(result.notModified, true);
  assert.equal(result.stats.notModified, 1);

  // Another origin: the browser refuses the answer; the error says what to do.
  const refused = await runPage(browser, `${other.url}/`, { allow: /blocked by CORS policy|net::ERR_FAILED|Failed to load resource/ });
  assert.ok(refused.error, JSON.stringify(refused));
  assert.equal(refused.error.name, "StrataError");
  assert.equal(refused.error.code, "request-failed");
  assert.equal(refused.error.message, `GET ${server.url}/v1/dirs/app/tags/latest: TypeError: Failed to fetch`);
  assert.match(refused.error.hint, /allow its origin \(strata-server serve --cors-origin\)/);
});
