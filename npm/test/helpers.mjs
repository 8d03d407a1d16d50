// Shared helpers of the Node tests: where the conformance data and the
// built package are, and small file utilities.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, cpSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn, spawnSync } from "node:child_process";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CONFORMANCE = process.env.STRATA_CONFORMANCE ?? join(ROOT, "..", "shared", "conformance");
export const PKG = join(ROOT, "pkg");
export const CLI = join(PKG, "bin", "strata.mjs");

/** The files directly inside `dir`, as `{name, bytes}` entries. */
export function entries(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, bytes: readFileSync(join(dir, e.name)) }));
}

export function subdirs(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function json(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = "strata-test-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let scratchRoot;

/** A fresh directory under one temporary root per process (removed at exit): for tests that need many. */
export function scratchDir(prefix = "d-") {
  scratchRoot ??= tempDir("strata-scratch-");
  return mkdtempSync(join(scratchRoot, prefix));
}

/** Copies the top-level files of `src` into a fresh temporary directory. */
export function copyDir(src, { without = [] } = {}) {
  const dir = tempDir();
  for (const e of readdirSync(src)) {
    if (without.includes(e) || !statSync(join(src, e)).isFile()) continue;
    cpSync(join(src, e), join(dir, e));
  }
  return dir;
}

/** Runs the CLI; returns {status, stdout, stderr}. */
export function strata(args, opts = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Atlas's scanner option names (MatchBegin, ...) as ScanOptions. */
export function scanOptions(names) {
  const o = {};
  for (const n of names) o[n[0].toLowerCase() + n.slice(1)] = true;
  return o;
}

// --- Real runtimes: Chromium (playwright-core), esbuild, workerd ----------

/** Dev-only npm tools of these tests, installed by the Makefile (`npm ci --prefix npm`). */
export const NODE_MODULES = join(ROOT, "npm", "node_modules");
export const CHROMIUM = "/usr/bin/chromium";
// The flags of the wasm-pack browser tests (webdriver.json): no background
// traffic, which would only hit the closed network.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Skips the test (and says how to fix it) when a dev tool is not installed. */
export function needDevTools(t, ...names) {
  const missing = names.filter((n) => !existsSync(join(NODE_MODULES, n)));
  if (missing.length) t.skip(`${missing.join(", ")} missing from npm/node_modules: run \`npm ci --prefix npm\` (the Makefile does)`);
  return missing.length === 0;
}

/** Conformance vector S1's atlas.sum. */
export const S1_SUM = readFileSync(join(CONFORMANCE, "atlas-sum", "synthetic", "s1", "atlas.sum"), "utf8");

/**
 * The app every runtime test runs, as an ES module source: `run(strata)`
 * builds S1 from bytes, sums, verifies, splits, hashes and provokes a
 * StrataError, plans S1 and runs the plan through the executor with a
 * driver that accepts every step, and returns what it saw as plain data.
 */
export const S1_APP = `
const enc = new TextEncoder();
export function run({ Directory, splitStatements, sha256, plan, Executor, renderReport }) {
  const files = [
    { name: "20240101000000_init.sql", bytes: enc.encode("CREATE TABLE t1 (id int);\\n") },
    { name: "20240102000000_add_users.sql", bytes: enc.encode("CREATE TABLE users (id int);\\n") },
  ];
  const dir = new Directory(files);
  const sum = dir.sum();
  const p = plan(new Directory([...files, { name: "atlas.sum", bytes: enc.encode(sum) }]), [{ version: "20240101000000", applied: 1, total: 1 }]);
  let t = 1705400430000;
  const ex = new Executor(p, { operatorVersion: "test" }, t);
  const steps = [];
  for (let step = ex.next(); step.kind !== "done"; step = ex.next()) {
    steps.push(step.kind);
    ex.record(null, (t += 1.25));
  }
  let thrown = null;
  try {
    new Directory([{ name: "a/b.sql", bytes: new Uint8Array() }]);
  } catch (e) {
    thrown = { isError: e instanceof Error, name: e.name, code: e.code, file: e.file, summary: e.summary };
  }
  return {
    sum,
    files: dir.files.map((f) => f.name),
    verify: dir.verify(sum),
    verifyEdited: dir.verify(sum.replace("Q034", "X034")).code,
    statements: splitStatements("SELECT 1; SELECT 2;").map((s) => s.text),
    sha256: sha256(enc.encode("abc")),
    thrown,
    plan: {
      digest: p.digest,
      files: p.files.map((f) => f.name),
      steps,
      apply: ex.toText(),
      document: JSON.parse(JSON.stringify(ex.report())),
      rendered: renderReport(JSON.stringify(p)) === p.toText(),
    },
  };
}
`;

/** What `S1_APP` returns in Node, for the other runtimes to match. */
export const S1_IN_NODE = (await import(`data:text/javascript,${encodeURIComponent(S1_APP)}`)).run(await import("../../pkg/node.mjs"));

/** Asserts what `S1_APP`'s `run` returned in some runtime. */
export function assertS1(result, what) {
  assert.equal(result.failed, undefined, `${what}: ${result.failed}`);
  assert.equal(result.sum, S1_SUM, `${what}: S1's atlas.sum, byte for byte`);
  assert.deepEqual(result.files, ["20240101000000_init.sql", "20240102000000_add_users.sql"], what);
  assert.deepEqual(result.verify, { ok: true }, what);
  assert.equal(result.verifyEdited, "checksum-mismatch", what);
  assert.deepEqual(result.statements, ["SELECT 1;", "SELECT 2;"], what);
  assert.equal(result.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", what);
  assert.deepEqual(
    result.thrown,
    { isError: true, name: "StrataError", code: "invalid-file-name", file: "a/b.sql", summary: result.thrown?.summary },
    what,
  );
  assert.match(result.thrown.summary, /^a\/b\.sql: invalid file name/, what);
  // The plan and the run are the same as in Node: digest, steps, output, document.
  assert.deepEqual(result.plan, S1_IN_NODE.plan, what);
  assert.deepEqual(result.plan.files, ["20240102000000_add_users.sql"], what);
  assert.equal(result.plan.rendered, true, what);
}

/** A page whose module script runs `entry` (which must call `show`). */
export const page = (entry) => `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>strata</title>
<pre id="result">running</pre>
<script type="module" src="${entry}"></script>
`;

/** Browser glue for entries: puts the result on window and in the DOM. */
export const SHOW = `
export function show(result) {
  window.strataResult = result;
  document.getElementById("result").textContent = JSON.stringify(result);
}
`;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Serves `files` (a path → content map) and the files of `dir` under
 * `prefix` on 127.0.0.1:0. `served` records the path, status and
 * Content-Type of every response.
 */
export async function serve(dir, files, prefix = "/") {
  const served = [];
  const root = resolve(dir) + sep;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.startsWith(prefix) ? resolve(root, "." + path.slice(prefix.length - 1)) : null;
    let status = 200;
    let type;
    let body;
    if (files[path] !== undefined) {
      type = TYPES[extname(path)] ?? TYPES[".html"];
      body = files[path];
    } else if (file && file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
      type = TYPES[extname(file)] ?? "application/octet-stream";
      body = readFileSync(file);
    } else {
      status = 404;
      type = "text/plain";
      body = "not found";
    }
    served.push({ path, status, type });
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  const close = () =>
    new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return { url: `http://127.0.0.1:${server.address().port}`, served, close };
}

/** Launches the Debian Chromium; closed after the test. */
export async function launchChromium(t) {
  const { chromium } = await import("playwright-core");
  // launch() gives the browser a fresh temporary profile and removes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  return browser;
}

/**
 * Opens `url` and waits for `window.strataResult`. Fails on any page error,
 * console error or warning (wasm-bindgen warns when it must fall back from
 * streaming compilation), or failed request, except those matching `allow`
 * (a RegExp: e.g. the console error of a request refused by CORS).
 */
export async function runPage(browser, url, { allow } = {}) {
  const page = await browser.newPage();
  const problems = [];
  const problem = (p) => {
    if (!allow?.test(p)) problems.push(p);
  };
  page.on("pageerror", (e) => problem(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problem(`console.${m.type()}: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problem(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.strataResult !== undefined, null, { timeout: 20_000 }).catch((e) => {
      throw new Error(`${url}: ${e.message}\n${problems.join("\n")}`);
    });
    const result = await page.evaluate(() => window.strataResult);
    assert.deepEqual(JSON.parse(await page.textContent("#result")), result, `${url}: the result is in the DOM`);
    assert.deepEqual(problems, [], `${url}: no page errors, console errors or warnings, failed requests`);
    return result;
  } finally {
    await page.close();
  }
}

// --- The registry server (strata-server) ----------------------------------

/** The server binary: STRATA_SERVER_BIN, default target/debug/strata-server (the Makefile builds it). */
export const SERVER_BIN = process.env.STRATA_SERVER_BIN || join(ROOT, "target", "debug", "strata-server");

/** Skips the test, loudly, when the server binary is missing. */
export function needServer(t) {
  if (existsSync(SERVER_BIN)) return true;
  const why = `strata-server not found at ${SERVER_BIN}: run \`cargo build -p strata-server\` or set STRATA_SERVER_BIN`;
  process.stderr.write(`\n*** SKIPPED: ${why}\n\n`);
  t.skip(why);
  return false;
}

/** The environment without STRATA_* variables (the server reads its flags from them). */
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_")));
  return { ...env, RUST_LOG: "warn", ...extra };
}

/**
 * Starts `strata-server serve` with `args` on a fresh data directory,
 * listening on 127.0.0.1 on a free port; stopped after the test. Returns
 * `{url, data, token(scopes, dirs?), log()}`.
 */
export async function startServer(t, args = []) {
  const data = scratchDir("server-");
  const child = spawn(SERVER_BIN, ["serve", "--data", data, "--listen", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv(),
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  const exited = new Promise((ok) => child.once("exit", () => ok()));
  t.after(() => (kill(), exited));
  const url = await new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^listening on (\S+)$/m.exec(out);
      if (m) ok(m[1]);
    });
    child.once("error", fail);
    child.once("exit", (code, signal) => fail(new Error(`strata-server exited (${code ?? signal}) before listening:\n${log}`)));
  });
  return {
    url,
    data,
    log: () => log,
    /** A new token's secret, with `scopes` ("read,push"), on `dirs` (all by default). */
    token(scopes, dirs = []) {
      const r = spawnSync(SERVER_BIN, ["token", "create", "--data", data, "--scope", scopes, ...dirs.flatMap((d) => ["--dir", d])], {
        encoding: "utf8",
        env: cleanEnv(),
      });
      assert.equal(r.status, 0, `token create: ${r.stderr}`);
      return r.stdout.trim();
    },
  };
}

/** The path of blob `digest` (sha256:…) in an embedded server's data directory. */
export function blobPath(data, digest) {
  const hex = digest.replace(/^sha256:/, "");
  return join(data, "blobs", "sha256", hex.slice(0, 2), hex);
}

/**
 * A migration directory of `n` files (unicode, CRLF, a file shared by two
 * names' contents) and its atlas.sum, written by `strata hash`.
 */
export function migrationDir(n, { dir = scratchDir(), first = 1 } = {}) {
  for (let i = first; i < first + n; i++) {
    const v = `20240101${String(i).padStart(6, "0")}`;
    const body = i % 3 === 0 ? `-- zoé ☃\r\nCREATE TABLE t${i} (id int);\r\n` : `CREATE TABLE t${i} (id int, name text);\n`;
    writeFileSync(join(dir, `${v}_t${i}.sql`), body);
  }
  const r = strata(["hash", "--dir", dir]);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

/** The files of `dir` as a name → bytes map (for comparing directories). */
export function filesOf(dir) {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

// --- workerd ----------------------------------------------------------------

export const WORKERD = join(NODE_MODULES, ".bin", "workerd");

/**
 * Starts `workerd serve` in its own process group; resolves with the port
 * the "http" socket listens on, read from workerd's control fd (fd 3).
 */
export function startWorkerd(dir, onLog) {
  const child = spawn(WORKERD, ["serve", join(dir, "config.capnp"), "--control-fd=3"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    detached: true,
  });
  child.stdout.on("data", (d) => onLog(String(d)));
  child.stderr.on("data", (d) => onLog(String(d)));
  let stopped = false;
  const stop = () => {
    if (stopped || child.exitCode !== null || child.signalCode !== null) return;
    stopped = true;
    try {
      process.kill(-child.pid, "SIGKILL"); // the group: workerd and anything it started
    } catch {
      // already gone
    }
  };
  process.once("exit", stop);
  const port = new Promise((ok, fail) => {
    let control = "";
    child.stdio[3].on("data", (d) => {
      control += d;
      for (const line of control.split("\n").slice(0, -1)) {
        const m = JSON.parse(line);
        if (m.event === "listen" && m.socket === "http") ok(m.port);
      }
    });
    child.once("error", fail);
    child.once("exit", (code, signal) => fail(new Error(`workerd exited (${code ?? signal}) before listening`)));
  });
  const exited = new Promise((ok) => (child.exitCode !== null ? ok() : child.once("exit", () => ok())));
  return { port, stop: () => (stop(), exited) };
}

/** GETs `url` until it answers (workerd may listen before the worker is ready). */
export async function poll(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(5_000) });
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

// --- the deployment hook ---------------------------------------------------------

/**
 * A strata-server with one SQLite target `local` (a new database file) and
 * Atlas's lock file in a temp directory of its own. Returns the server of
 * `startServer` with `db`, the database file's path.
 */
export async function startHookServer(t) {
  const dir = scratchDir("hook-");
  const db = join(dir, "app.db");
  const targets = join(dir, "targets.toml");
  writeFileSync(targets, `[targets.local]\nurl = ${JSON.stringify(`sqlite://${db}`)}\nlock_timeout = "1s"\n`);
  // The server's TMPDIR holds the SQLite lock file: one per test server.
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return { ...(await startServer(t, ["--targets", targets])), db };
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
}

/** Skips the test when the sqlite3 command is missing (it reads the target database). */
export function needSqlite3(t) {
  if (spawnSync("sqlite3", ["-version"]).status === 0) return true;
  t.skip("sqlite3 not found: apt-get install sqlite3");
  return false;
}

/** The rows of `sql` on the SQLite database `db` (none if the file does not exist). */
export function sqlite(db, sql) {
  if (!existsSync(db)) return [];
  const r = spawnSync("sqlite3", ["-json", db, sql], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}
