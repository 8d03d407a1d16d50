// The web viewer end to end: a real strata-server serving target/www (make
// www) with a SQLite target, the demo directories of examples/demo pushed
// with the CLI, and the Debian Chromium driven through playwright-core like a
// user: browse, diff, plan, apply, watch, read the report and the history,
// sign in, open a folder locally, survive hostile names and SQL. Each view is
// saved to target/e2e/screenshots/<view>.png; timings (measured, not
// asserted) go to target/e2e/perf.json.
//
//   make test-e2e   (builds target/www and the server first)
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import {
  ROOT,
  launchChromium,
  migrationDir,
  needDevTools,
  needServer,
  scratchDir,
  startServer,
  strata,
} from "../../npm/test/helpers.mjs";

const WWW = join(ROOT, "target", "www");
// sql.js (SQLite compiled to wasm), a dev dependency in npm/: reads the target databases.
const SQL = existsSync(join(ROOT, "npm", "node_modules", "sql.js")) ? await createRequire(join(ROOT, "npm", "/"))("sql.js")() : null;

/** The rows of `sql` on the SQLite database file `db`, as objects (none if the file does not exist). */
function sqlite(db, sql) {
  if (!existsSync(db)) return [];
  const d = new SQL.Database(readFileSync(db));
  try {
    const [r] = d.exec(sql);
    return r ? r.values.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]]))) : [];
  } finally {
    d.close();
  }
}
const OUT = join(ROOT, "target", "e2e");
const SHOTS = join(OUT, "screenshots");
const DEMO = join(ROOT, "examples", "demo");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** How long a view may take to appear (a 1,000-file plan included): a bound on hangs, not a timing assertion. */
const VIEW_TIMEOUT = 60_000;

mkdirSync(join(SHOTS, "window"), { recursive: true });

/** Skips (saying how to fix it) unless the server, the viewer's files, playwright-core and Chromium are there. */
function prerequisites(t) {
  if (!needDevTools(t, "playwright-core", "sql.js") || !needServer(t)) return false;
  for (const f of ["index.html", "main.js", "strata.js", "strata_bg.wasm", "report.css", "lint/strata_lint.js", "lint/strata_lint_bg.wasm"]) {
    if (!existsSync(join(WWW, f))) {
      t.skip(`${join(WWW, f)} missing: run \`make www\``);
      return false;
    }
  }
  return true;
}

/**
 * strata-server with the viewer (--www target/www) and SQLite targets
 * (`demo` and any of `targets`), each a new database with foreign keys on;
 * Atlas's lock file in a temp directory of its own (the server's TMPDIR).
 * Returns the server of `startServer` with `db(name)`, a push token and a
 * browsing token (read, deploy).
 */
async function startViewerServer(t, targets = ["demo"]) {
  const dir = scratchDir("viewer-");
  const db = (name) => join(dir, `${name}.db`);
  const toml = targets.map((n) => `[targets.${n}]\nurl = ${JSON.stringify(`sqlite://${db(n)}?_fk=1`)}\nlock_timeout = "2s"\n`).join("\n");
  writeFileSync(join(dir, "targets.toml"), toml);
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  let server;
  try {
    server = await startServer(t, ["--targets", join(dir, "targets.toml"), "--www", WWW]);
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
  const pushToken = server.token("read,push");
  return {
    ...server,
    db,
    pushToken,
    token: server.token("read,deploy"),
    readToken: server.token("read"),
    /** `strata push --dir dir --name name --tag tag` with the push token. */
    push(dir, name, tag) {
      const r = strata(["push", "--dir", dir, "--name", name, "--tag", tag], {
        env: { ...process.env, STRATA_REGISTRY: server.url, STRATA_TOKEN: pushToken },
      });
      assert.equal(r.status, 0, `push ${dir} as ${name}@${tag}: ${r.stderr}`);
    },
  };
}

/** Pushes examples/demo: app v1, v2, v3 (latest), billing v1. */
function pushDemo(server) {
  for (const v of ["v1", "v2", "v3"]) server.push(join(DEMO, "app", v), "app", v);
  server.push(join(DEMO, "billing", "v1"), "billing", "v1");
}

/**
 * A page of a fresh browser context on `server` (its token in localStorage
 * unless `token` is null) that records what must never happen: page errors,
 * console errors, requests to another origin, JavaScript dialogs. `check()`
 * asserts none happened.
 */
async function openViewer(browser, server, { token = server.token, allowConsole } = {}) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  if (token !== null) await page.addInitScript((t) => localStorage.setItem("strata.token", t), token);
  const origin = new URL(server.url).origin;
  const seen = { errors: [], foreign: [], dialogs: [], requests: [] };
  page.on("pageerror", (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !allowConsole?.test(m.text())) seen.errors.push(`console.error: ${m.text()}`);
  });
  page.on("request", (r) => {
    const url = r.url();
    seen.requests.push(url);
    if (!url.startsWith("data:") && !url.startsWith("blob:") && new URL(url).origin !== origin) seen.foreign.push(url);
  });
  page.on("dialog", (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return {
    page,
    seen,
    origin,
    check(what) {
      assert.deepEqual(seen.dialogs, [], `${what}: no JavaScript dialog`);
      assert.deepEqual(seen.foreign, [], `${what}: no request to another origin than ${origin}`);
      assert.deepEqual(seen.errors, [], `${what}: no page or console error`);
    },
  };
}

/** A server with the demo pushed, Chromium, and a viewer page on it (`openViewer`'s options). */
async function demo(t, options) {
  const server = await startViewerServer(t);
  pushDemo(server);
  const browser = await launchChromium(t);
  const v = await openViewer(browser, server, options);
  return { server, v, page: v.page };
}

/** Waits until main#st-main shows `view` in a settled state; asserts `state` (ready by default; or one of a list). */
async function view(page, name, state = "ready") {
  const main = page.locator("main#st-main");
  try {
    await page.waitForFunction(
      (v) => {
        const m = document.getElementById("st-main");
        return m?.dataset.view === v && ["ready", "error", "sign-in"].includes(m.dataset.state);
      },
      name,
      { timeout: VIEW_TIMEOUT },
    );
  } catch (e) {
    const [v, s] = [await main.getAttribute("data-view"), await main.getAttribute("data-state")];
    throw new Error(`${page.url()}: waited for data-view=${name}, it is ${v} (${s}): ${(await main.innerText()).slice(0, 600)}`, { cause: e });
  }
  const got = await main.getAttribute("data-state");
  if (![state].flat().includes(got)) assert.fail(`${page.url()}: view ${name} is ${got}, expected ${state}: ${(await main.innerText()).slice(0, 800)}`);
  return main;
}

/**
 * Waits until the view's lint section (section#st-lint) has settled; asserts
 * `state` (ready by default). Returns the section.
 */
async function lintSection(page, state = "ready") {
  const section = page.locator("main#st-main section#st-lint");
  await page.waitForFunction(() => ["ready", "error"].includes(document.getElementById("st-lint")?.dataset.state), null, {
    timeout: VIEW_TIMEOUT,
  });
  const got = await section.getAttribute("data-state");
  if (got !== state) assert.fail(`${page.url()}: the lint section is ${got}, expected ${state}: ${(await section.innerText()).slice(0, 800)}`);
  return section;
}

/** The requests of `seen` (openViewer's) for the lint module's files (lint/…), from index `from` on. */
const lintRequests = (seen, from = 0) => seen.requests.slice(from).filter((u) => new URL(u).pathname.startsWith("/lint/"));

/**
 * Saves the whole page as target/e2e/screenshots/<name>.png, and what the
 * window shows as screenshots/window/<name>.png (the README's pictures,
 * docs/screenshots, are copies of some of those).
 */
async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await page.screenshot({ path: join(SHOTS, "window", `${name}.png`) });
}

/** At 390×844: saves `<name>-mobile.png` and asserts nothing overflows the body sideways. */
async function phone(page, name) {
  await page.setViewportSize(PHONE);
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    const innerWidth = window.innerWidth;
    // The outermost elements that reach past the viewport's right edge, to say what overflows.
    const over = [...document.body.querySelectorAll("*")].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5);
    const outer = over.filter((e) => !over.includes(e.parentElement));
    const describe = (e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : ""} (${Math.round(e.getBoundingClientRect().right)}px)`;
    return {
      scrollWidth: Math.max(document.body.scrollWidth, document.documentElement.scrollWidth),
      innerWidth,
      widest: outer.slice(0, 5).map(describe),
    };
  });
  await shot(page, `${name}-mobile`);
  await page.setViewportSize(DESKTOP);
  assert.ok(scrollWidth <= innerWidth, `${name} at 390×844: the body is ${scrollWidth}px wide, wider than the ${innerWidth}px viewport: ${widest.join(", ")}`);
}

/** The path (and query) the page shows. */
const path = (page) => {
  const u = new URL(page.url());
  return decodeURI(u.pathname) + u.search;
};

/** Follows the link to `href` in main (a real click, as a user would). */
async function follow(page, href) {
  const link = page.locator(`main#st-main a[href="${href}"]`).first();
  assert.ok((await link.count()) > 0, `${page.url()}: a link to ${href}`);
  await link.click();
}

test("the demo from the directories to the deployment report, as a user clicks through it", { timeout: 240_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const { server, v, page } = await demo(t);

  // Directories: both pushed, linked.
  await page.goto(`${server.url}/`);
  let main = await view(page, "dirs");
  assert.match(await main.innerText(), /app/);
  assert.match(await main.innerText(), /billing/);
  await shot(page, "dirs");
  await phone(page, "dirs");

  // A directory: its tags, and the compare form.
  await follow(page, "/d/app");
  main = await view(page, "dir");
  assert.equal(path(page), "/d/app");
  for (const tag of ["latest", "v1", "v2", "v3"]) assert.match(await main.innerText(), new RegExp(`\\b${tag}\\b`));
  await shot(page, "dir");
  await phone(page, "dir");

  // The moves of latest: created at v1, then v2, then v3; back to the directory.
  await follow(page, "/d/app/tags/latest");
  main = await view(page, "tag-history");
  assert.equal(await main.locator("tbody tr").count(), 3, "latest moved three times");
  const moves = await main.locator("tbody tr").allInnerTexts();
  assert.match(moves[0], /\+1 ~0 −0/, `v2 → v3 added one file: ${moves[0]}`);
  assert.match(moves[1], /\+1 ~0 −0/, `v1 → v2 added one file: ${moves[1]}`);
  assert.match(moves[2], /\(created\)/, moves[2]);
  assert.doesNotMatch(moves.join("\n"), /history rewritten/, "the demo only adds files");
  await shot(page, "tag-history");
  await page.goBack();
  await view(page, "dir");

  // The diff of two tags, chosen in the form.
  const form = page.locator('form[data-action="diff"]');
  await form.locator('select[name="base"]').selectOption("v1");
  await form.locator('select[name="head"]').selectOption("v3");
  await form.locator('button[type="submit"], input[type="submit"]').first().click();
  main = await view(page, "diff");
  assert.equal(path(page), "/d/app/diff/v1/v3");
  const diff = await main.innerText();
  assert.match(diff, /20240201000000_add_post_status\.sql/, "v2's file is added");
  assert.match(diff, /20240301000000_reactions_replace_likes\.sql/, "v3's file is added");
  await lintSection(page);
  await shot(page, "diff");
  await phone(page, "diff");

  // Back returns to the directory, forward to the diff.
  await page.goBack();
  await view(page, "dir");
  assert.equal(path(page), "/d/app");
  await page.goForward();
  await view(page, "diff");

  // A version: its files and their statements.
  await page.goto(`${server.url}/d/app/v/v3`);
  main = await view(page, "version");
  const version = await main.innerText();
  for (const f of readdirSql(join(DEMO, "app", "v3"))) assert.ok(version.includes(f), `the version page lists ${f}`);
  assert.match(version, /DROP TABLE post_likes/);
  await lintSection(page);
  await shot(page, "version");
  await phone(page, "version");

  // Plan against the SQLite target, from the version's form.
  await page.locator('form[data-action="plan"] select[name="target"]').selectOption("demo");
  await page.locator('form[data-action="plan"] button[type="submit"]').click();
  main = await view(page, "plan");
  assert.equal(path(page), "/d/app/v/v3/plan/demo");
  const plan = await main.innerText();
  assert.match(plan, /14 (sql )?statements?|14 statement/i, "the plan counts v3's 14 statements");
  await shot(page, "plan");
  await phone(page, "plan");

  // Apply: the confirmation names the target and the statement count; Cancel runs nothing.
  const apply = page.locator("button#st-apply");
  const dialog = page.locator("dialog#st-confirm");
  await apply.click();
  await dialog.waitFor({ state: "visible" });
  const confirm = await dialog.innerText();
  assert.match(confirm, /\bdemo\b/, "the dialog names the target");
  assert.match(confirm, /\b14\b/, "the dialog gives the statement count");
  await shot(page, "confirm");
  await dialog.locator('button[data-action="cancel"]').click();
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(sqlite(server.db("demo"), "SELECT name FROM sqlite_master WHERE name = 'users'"), [], "Cancel ran nothing");

  await apply.click();
  await dialog.waitFor({ state: "visible" });
  await dialog.locator('button[data-action="confirm-apply"]').click();
  const run = page.locator("div#st-run");
  await run.locator('section.st-progress[data-state="succeeded"]').waitFor({ timeout: VIEW_TIMEOUT });
  const report = await run.innerText();
  assert.match(report, /20240301000000/);
  // The database has v3's schema, and Atlas's revisions.
  const tables = sqlite(server.db("demo"), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((r) => r.name);
  assert.ok(tables.includes("reactions") && !tables.includes("post_likes"), `tables: ${tables}`);
  assert.equal(sqlite(server.db("demo"), "SELECT count(*) AS n FROM atlas_schema_revisions")[0].n, 5);
  await shot(page, "report");
  await phone(page, "report");

  // The target's deployments, from the nav, and the report from there.
  await page.locator('header nav a[href="/targets"]').click();
  main = await view(page, "targets");
  assert.match(await main.innerText(), /\bdemo\b/);
  await shot(page, "targets");
  await follow(page, "/targets/demo");
  main = await view(page, "history");
  const row = main.locator('table a[href^="/deployments/"]').first();
  assert.ok((await row.count()) > 0, "the history links the deployment");
  const href = await row.getAttribute("href");
  assert.match(href, /^\/deployments\/dep_/);
  assert.match(await main.innerText(), /succeeded/);
  // Who deployed: the tokens here have no name (token create without --name), so their id.
  const by = await main.evaluate((m) => {
    const heads = [...m.querySelectorAll("table thead th")].map((th) => th.textContent.trim());
    const cell = m.querySelector("table tbody tr")?.children[heads.indexOf("By")];
    return cell?.textContent.trim();
  });
  assert.match(by ?? "(no By column)", /^tok_[0-9a-f]+$/, "the history says who deployed: a token without a name by its id");
  await shot(page, "history");
  await phone(page, "history");
  await row.click();
  main = await view(page, "deployment");
  assert.equal(path(page), href);
  const stored = await main.innerText();
  assert.match(stored, /succeeded/i);
  assert.match(stored, /20240301000000/);
  await shot(page, "deployment");
  await phone(page, "deployment");

  // Back: the history again.
  await page.goBack();
  await view(page, "history");
  assert.equal(path(page), "/targets/demo");

  // A path no view has.
  await page.goto(`${server.url}/nowhere/at/all`);
  main = await view(page, "not-found", ["ready", "error"]);
  assert.match(await main.innerText(), /not found/i);
  await follow(page, "/");
  await view(page, "dirs");
  v.check("the demo");
});

test("keyboard: Tab reaches the navigation, and focus is visible", { timeout: 90_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const { server, v, page } = await demo(t);
  await page.goto(`${server.url}/`);
  await view(page, "dirs");
  const reached = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      const s = getComputedStyle(e);
      return {
        tag: e.tagName,
        href: e.getAttribute("href"),
        inNav: !!e.closest("header nav"),
        focusVisible: e.matches(":focus-visible"),
        outline: `${s.outlineStyle} ${s.outlineWidth}`,
        ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
        shadow: s.boxShadow,
      };
    });
    reached.push(f);
    assert.ok(f.focusVisible, `Tab ${i + 1}: ${f.tag} ${f.href} matches :focus-visible`);
    assert.ok(f.ring || f.shadow !== "none", `Tab ${i + 1}: ${f.tag} ${f.href} shows its focus (outline ${f.outline}, box-shadow ${f.shadow})`);
    if (f.inNav && f.href === "/local") break;
  }
  const nav = reached.filter((f) => f.inNav).map((f) => f.href);
  assert.deepEqual(nav.slice(0, 3), ["/", "/targets", "/local"], `the nav links in order by Tab: ${JSON.stringify(reached)}`);
  // Enter on a focused nav link follows it.
  await page.keyboard.press("Enter");
  await view(page, "local");
  v.check("keyboard");
});

test("sign in: the page asks for a token, keeps it, and forgets it on request", { timeout: 90_000 }, async (t) => {
  if (!prerequisites(t)) return;
  // Without a token the API answers 401, which Chromium logs as a failed resource.
  const { server, v, page } = await demo(t, { token: null, allowConsole: /status of 401|Failed to load resource/ });
  await page.goto(`${server.url}/d/app`);
  let main = await view(page, "dir", "sign-in");
  const form = page.locator('form[data-action="sign-in"]');
  assert.equal(await form.count(), 1);
  await shot(page, "sign-in");

  // A wrong token: still asked.
  await form.locator('input[name="token"]').fill("strata_not-a-token");
  await form.locator('button[type="submit"], input[type="submit"]').first().click();
  main = await view(page, "dir", "sign-in");
  assert.equal(await page.locator('form[data-action="sign-in"]').count(), 1);

  // The read token: the view it was asked for, the token kept.
  await page.locator('form[data-action="sign-in"] input[name="token"]').fill(server.readToken);
  await page.locator('form[data-action="sign-in"] button[type="submit"], form[data-action="sign-in"] input[type="submit"]').first().click();
  main = await view(page, "dir");
  assert.equal(path(page), "/d/app");
  assert.equal(await page.evaluate(() => localStorage.getItem("strata.token")), server.readToken);
  // Kept across a reload.
  await page.reload();
  await view(page, "dir");

  // Forget it: asked again.
  const out = page.locator("#st-sign-out");
  assert.ok(await out.isVisible(), "Forget token is shown while a token is kept");
  await out.click();
  await view(page, "dir", "sign-in");
  assert.equal(await page.evaluate(() => localStorage.getItem("strata.token")), null);
  v.check("sign in");
});

test("open locally: a folder renders and plans with no request to any server", { timeout: 90_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const server = await startViewerServer(t);
  const browser = await launchChromium(t);
  const v = await openViewer(browser, server);
  const { page } = v;
  await page.goto(`${server.url}/`);
  await view(page, "dirs");
  await page.locator('header nav a[href="/local"]').click();
  await view(page, "local");
  assert.equal(path(page), "/local");
  const loaded = v.seen.requests.length;

  await page.locator("#st-local-folder").setInputFiles(join(DEMO, "app", "v3"));
  const result = page.locator("#st-local-result");
  await result.locator("text=20240301000000_reactions_replace_likes.sql").first().waitFor({ timeout: VIEW_TIMEOUT });
  const shown = await result.innerText();
  for (const f of readdirSql(join(DEMO, "app", "v3"))) assert.ok(shown.includes(f), `the local view lists ${f}`);
  assert.match(shown, /DROP TABLE post_likes/);
  assert.doesNotMatch(shown, /checksum|mismatch/i, "the committed atlas.sum verifies");
  await shot(page, "local");

  // A database at v1: the plan is v2's and v3's files.
  const revisions = readdirSql(join(DEMO, "app", "v1")).map((name) => ({
    version: name.slice(0, 14),
    description: name.slice(15, -4),
    type: 2,
    applied: 1,
    total: 1,
    hash: "x",
  }));
  // Statement counts of v1's files (their totals), so the rows say "fully applied".
  const counts = { "20240101000000": 2, "20240102000000": 2, "20240103000000": 3 };
  for (const r of revisions) r.applied = r.total = counts[r.version];
  const planForm = page.locator('form[data-action="local-plan"]');
  await planForm.locator('textarea[name="revisions"]').fill(JSON.stringify(revisions));
  await planForm.locator('button[type="submit"]').click();
  const planned = page.locator("#st-local-plan");
  await planned.locator("text=20240301000000").first().waitFor({ timeout: VIEW_TIMEOUT });
  const text = await planned.innerText();
  assert.match(text, /20240201000000/);
  assert.doesNotMatch(text, /20240101000000_create_users/, "v1's files are applied");
  await shot(page, "local-plan");

  // Dropped on the page: files (not a folder) are read as one, and an
  // atlas.sum that does not match them is shown, not trusted.
  const drop = (files) =>
    page.evaluate((files) => {
      const dt = new DataTransfer();
      for (const [name, text] of files) dt.items.add(new File([text], name));
      const zone = document.getElementById("st-drop");
      for (const type of ["dragover", "drop"]) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
  const v1 = join(DEMO, "app", "v1");
  const tampered = readdirSql(v1).map((f) => [f, readFileSync(join(v1, f), "utf8")]);
  tampered.push(["atlas.sum", readFileSync(join(DEMO, "app", "v2", "atlas.sum"), "utf8")]);
  await drop(tampered);
  // The dropped files' view, named "dropped files"; "Loading dropped
  // files…" comes first, and the folder's view before it.
  await page.waitForFunction(() => {
    const text = document.getElementById("st-local-result")?.innerText ?? "";
    return text.includes("dropped files") && !text.includes("Loading dropped files");
  }, null, { timeout: VIEW_TIMEOUT });
  const checked = await result.innerText();
  assert.match(checked, /20240103000000_create_comments\.sql/);
  assert.match(checked, /mismatch|not in atlas\.sum/i, "the wrong atlas.sum is reported");

  // A report JSON dropped on the page renders offline.
  const none = join(scratchDir(), "none.json");
  writeFileSync(none, "[]");
  const doc = strata(["plan", "--dir", join(DEMO, "app", "v3"), "--dialect", "sqlite", "--revisions", none, "--json"]);
  assert.equal(doc.status, 3, doc.stderr);
  await drop([["plan.json", doc.stdout]]);
  await result.locator("h1", { hasText: "Plan" }).waitFor({ timeout: VIEW_TIMEOUT });
  assert.match(await result.innerText(), /20240301000000_reactions_replace_likes\.sql/);
  await shot(page, "local-report");
  assert.deepEqual(v.seen.requests.slice(loaded), [], "opening, planning and rendering locally requested nothing");
  v.check("open locally");
});

// --- Lint findings -------------------------------------------------------------

const V3_FILE = "20240301000000_reactions_replace_likes.sql";

test("lint: the version and diff pages show findings; only they load the lint module, once per page load", { timeout: 120_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const { server, v, page } = await demo(t);

  // The first view and the directory page load no lint/ resource.
  await page.goto(`${server.url}/`);
  await view(page, "dirs");
  await follow(page, "/d/app");
  await view(page, "dir");
  assert.deepEqual(lintRequests(v.seen), [], "the directories and the directory page fetch nothing under lint/");
  assert.ok(v.seen.requests.some((u) => u.endsWith("/strata_bg.wasm")), "the main module was fetched (the recording works)");

  // The diff v1 → v3: the findings of the added files, as a preview would say.
  const form = page.locator('form[data-action="diff"]');
  await form.locator('select[name="base"]').selectOption("v1");
  await form.locator('select[name="head"]').selectOption("v3");
  await form.locator('button[type="submit"]').click();
  await view(page, "diff");
  let lint = await lintSection(page);
  assert.match(await lint.locator("h2").innerText(), /Lint of the added files/);
  let text = await lint.innerText();
  assert.match(text, /DS102/, text);
  assert.match(text, /DS103/, text);
  assert.ok(text.includes(`${V3_FILE}:12`) && text.includes(`${V3_FILE}:13`), `file:line of both: ${text}`);
  assert.match(text, /Dropping table "post_likes"/);
  assert.match(text, /Dropping non-virtual column "nickname"/);
  assert.match(text, /2 error\(s\)/);
  assert.doesNotMatch(text, /20240101000000_create_users\.sql:/, "files v1 has are not linted as new");
  assert.equal(lintRequests(v.seen).filter((u) => u.endsWith("/strata_lint_bg.wasm")).length, 1, "the diff loaded the lint module");

  // The version page of v3 (in the same page load): every file linted.
  await page.locator("main#st-main h1 a").first().click();
  await view(page, "dir");
  await follow(page, "/d/app/v/v3");
  const main = await view(page, "version");
  lint = await lintSection(page);
  text = await lint.innerText();
  assert.match(await lint.locator("h2").innerText(), /^Lint$/);
  assert.match(text, /error\s+DS102\s+20240301000000_reactions_replace_likes\.sql:12\s+Dropping table "post_likes"/, text);
  assert.match(text, /error\s+DS103\s+20240301000000_reactions_replace_likes\.sql:13\s+Dropping non-virtual column "nickname"/, text);
  assert.match(text, /atlas:nolint DS102/, "the hint says how to proceed");
  assert.match(text, /in 5 file\(s\)/, "every file of v3 was linted");
  const order = await main.evaluate((m) => {
    const all = [...m.querySelectorAll("section#st-lint, article.st-file")];
    return all[0]?.id;
  });
  assert.equal(order, "st-lint", "the lint section comes before the files");
  await shot(page, "version-lint");
  await phone(page, "version-lint");

  // Back to the diff: linted again, the module not fetched again.
  await page.goBack();
  await view(page, "dir");
  await page.goBack();
  await view(page, "diff");
  await lintSection(page);
  const fetched = lintRequests(v.seen);
  assert.equal(fetched.filter((u) => u.endsWith("/strata_lint_bg.wasm")).length, 1, `one fetch of the module per page load: ${fetched}`);
  assert.equal(fetched.filter((u) => u.endsWith("/strata_lint.js")).length, 1, `one fetch of its glue: ${fetched}`);

  // Views without findings load nothing more.
  const before = v.seen.requests.length;
  await page.goto(`${server.url}/d/app/v/v3/plan/demo`);
  await view(page, "plan");
  await page.locator('header nav a[href="/targets"]').click();
  await view(page, "targets");
  assert.deepEqual(lintRequests(v.seen, before), [], "the plan and targets views fetch nothing under lint/");
  v.check("lint");
});

test("lint: while the module loads the section says so, and a module that fails to load leaves the page working", { timeout: 90_000 }, async (t) => {
  if (!prerequisites(t)) return;
  // The blocked module is a failed resource load, which Chromium logs.
  const { server, v, page } = await demo(t, { allowConsole: /Failed to load resource|net::ERR_FAILED/ });
  let release;
  const held = new Promise((r) => (release = r));
  await page.route("**/lint/strata_lint_bg.wasm", async (route) => {
    await held;
    await route.abort("failed");
  });
  await page.goto(`${server.url}/d/app/v/v3`);
  const main = await view(page, "version");
  const lint = page.locator("section#st-lint");
  await lint.locator("text=Linting…").waitFor({ timeout: VIEW_TIMEOUT });
  assert.equal(await lint.getAttribute("data-state"), "loading");
  assert.equal(await main.getAttribute("data-state"), "ready", "the page is ready while lint loads");
  await shot(page, "version-linting");
  release();
  await lintSection(page, "error");
  const error = await lint.locator('[role="alert"]').innerText();
  assert.match(error, /Lint is not available: the lint module could not be loaded/, error);
  assert.match(error, /\/lint\/strata_lint_bg\.wasm/, "the hint names the file to check");
  // The rest of the page is intact.
  assert.equal(await main.getAttribute("data-state"), "ready");
  assert.equal(await main.locator("article.st-file").count(), 5);
  assert.match(await main.innerText(), /DROP TABLE post_likes/);
  await shot(page, "version-lint-error");

  // A later view tries again (the failure is not kept): it loads now.
  await page.unroute("**/lint/strata_lint_bg.wasm");
  await page.locator("main#st-main h1 a").first().click();
  await view(page, "dir");
  await follow(page, "/d/app/v/v3");
  await view(page, "version");
  assert.match(await (await lintSection(page)).innerText(), /DS102/);
  v.check("lint failure");
});

// --- Hostile names and SQL ---------------------------------------------------

const SCRIPT = "<script>alert(1)</script>";
const IMG = `"><img src=x onerror=alert(1)>`;
const JS = "javascript:alert(1)";

/**
 * A directory whose file names (the description part: a name cannot hold
 * `/`), comments, identifiers, string literals and one failing statement
 * carry markup and a javascript: URL. v1 creates; v2 adds a file that
 * fails on the database with an error quoting the hostile name, and drops
 * a table of that name (a lint finding).
 */
function hostileDirs() {
  const v1 = scratchDir("hostile-");
  writeFileSync(
    join(v1, `20240101000000_<script>alert(1).sql`),
    `-- ${SCRIPT} ${IMG} ${JS}\nCREATE TABLE "${SCRIPT}" (id INTEGER PRIMARY KEY, "${IMG.replaceAll('"', '""')}" TEXT DEFAULT '${JS}');\n`,
  );
  writeFileSync(
    join(v1, `20240102000000_"><img src=x onerror=alert(1)>.sql`),
    `/* ${IMG} */\nINSERT INTO "${SCRIPT}" (id) VALUES (1);\nCREATE INDEX "${JS}" ON "${SCRIPT}" (id);\n`,
  );
  let r = strata(["hash", "--dir", v1]);
  assert.equal(r.status, 0, r.stderr);
  const v2 = scratchDir("hostile-");
  for (const f of ["20240101000000_<script>alert(1).sql", `20240102000000_"><img src=x onerror=alert(1)>.sql`]) {
    writeFileSync(join(v2, f), readFileSync(join(v1, f)));
  }
  writeFileSync(
    join(v2, `20240103000000_javascript:alert(1).sql`),
    // The DROP (never reached: the INSERT fails) is a lint finding quoting the name.
    `-- ${JS}\nUPDATE "${SCRIPT}" SET id = 2;\nINSERT INTO "${IMG.replaceAll('"', '""')}" VALUES ('${SCRIPT}');\nDROP TABLE "${SCRIPT}";\n`,
  );
  r = strata(["hash", "--dir", v2]);
  assert.equal(r.status, 0, r.stderr);
  return [v1, v2];
}

/** Asserts nothing executable reached the DOM of main. */
async function inert(page, what) {
  const found = await page.evaluate(() => {
    const main = document.getElementById("st-main");
    const all = [...main.querySelectorAll("*")];
    return {
      elements: [...main.querySelectorAll("script, img, iframe, object, embed, svg, math, base, meta, link, style")].map((e) => e.outerHTML.slice(0, 120)),
      handlers: all.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName} ${a.name}`)),
      links: [...document.querySelectorAll("a[href], form[action], [formaction]")]
        .map((e) => e.getAttribute("href") ?? e.getAttribute("action") ?? e.getAttribute("formaction"))
        .filter((h) => /^\s*(javascript|data|vbscript):/i.test(h)),
    };
  });
  assert.deepEqual(found, { elements: [], handlers: [], links: [] }, `${what}: no script, img, iframe, handler or javascript: link`);
}

test("hostile names and SQL stay text in every view", { timeout: 180_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const server = await startViewerServer(t);
  const [v1, v2] = hostileDirs();
  server.push(v1, "evil", "v1");
  server.push(v2, "evil", "v2");
  const browser = await launchChromium(t);
  const v = await openViewer(browser, server);
  const { page } = v;
  const markup = async (what, pattern = /<script>alert\(1\)|<img src=x onerror/) => {
    await inert(page, what);
    assert.match(await page.locator("main#st-main").innerText(), pattern, `${what}: the hostile text is shown as text`);
  };

  await page.goto(`${server.url}/`);
  await view(page, "dirs");
  await inert(page, "dirs");
  await page.goto(`${server.url}/d/evil`);
  await view(page, "dir");
  await inert(page, "dir");
  await page.goto(`${server.url}/d/evil/tags/latest`);
  await view(page, "tag-history");
  await inert(page, "tag history");
  await page.goto(`${server.url}/d/evil/diff/v1/v2`);
  await view(page, "diff");
  await lintSection(page);
  await markup("diff", /javascript:alert\(1\)\.sql/);
  await page.goto(`${server.url}/d/evil/v/v2`);
  await view(page, "version");
  const hostileLint = await lintSection(page);
  await markup("version");
  assert.match(await hostileLint.innerText(), /<script>alert\(1\)/, "the lint section shows hostile statements as text");
  await shot(page, "hostile-version");

  // The plan, then an apply that fails on the hostile statement.
  await page.goto(`${server.url}/d/evil/v/v2/plan/demo`);
  await view(page, "plan");
  await markup("plan");
  await page.locator("button#st-apply").click();
  await page.locator("dialog#st-confirm").waitFor({ state: "visible" });
  await inert(page, "confirmation");
  await page.locator('dialog#st-confirm button[data-action="confirm-apply"]').click();
  const run = page.locator("div#st-run");
  await run.locator('section.st-progress[data-state="failed"]').waitFor({ timeout: VIEW_TIMEOUT });
  const failed = await run.innerText();
  assert.match(failed, /no such table: "?><img src=x onerror=alert\(1\)>|no such table/, "the database's error is shown");
  await markup("failed apply and its report");
  await shot(page, "hostile-report");

  await page.goto(`${server.url}/targets/demo`);
  let main = await view(page, "history");
  await inert(page, "history");
  assert.match(await main.innerText(), /failed/);
  await main.locator('a[href^="/deployments/"]').first().click();
  main = await view(page, "deployment");
  await markup("deployment");

  // A push that edits a file v2 already has: the tag's history and the
  // diff say history was rewritten, naming the hostile file as text.
  const v3 = scratchDir("hostile-");
  for (const f of readdirSql(v2)) writeFileSync(join(v3, f), readFileSync(join(v2, f)));
  const edited = "20240101000000_<script>alert(1).sql";
  writeFileSync(join(v3, edited), readFileSync(join(v2, edited), "utf8") + "-- edited after release\n");
  const hashed = strata(["hash", "--dir", v3]);
  assert.equal(hashed.status, 0, hashed.stderr);
  server.push(v3, "evil", "v3");
  await page.goto(`${server.url}/d/evil/tags/latest`);
  main = await view(page, "tag-history");
  await inert(page, "tag history with a rewrite");
  const moves = await main.locator("tbody tr").allInnerTexts();
  assert.match(moves[0], /\+0 ~1 −0\s*history rewritten/, moves[0]);
  await page.goto(`${server.url}/d/evil/diff/v2/v3`);
  main = await view(page, "diff");
  await markup("diff that rewrites history", /<script>alert\(1\)\.sql/);
  assert.match(await main.locator('[role="alert"]').innerText(), /History rewritten/);
  await shot(page, "history-rewritten");
  v.check("hostile input");
});

// --- Performance (measured, not asserted) --------------------------------------

test("performance: a 1,000-file plan in the viewer, the lint section, and the modules' sizes", { timeout: 300_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const server = await startViewerServer(t, ["fresh"]);
  const dir = migrationDir(1000);
  server.push(dir, "big", "v1");
  const browser = await launchChromium(t);
  const v = await openViewer(browser, server);
  const { page } = v;
  // The usual landing first: the directories, from a page load.
  await page.goto(`${server.url}/`);
  await view(page, "dirs");
  const landing = await page.evaluate(() => {
    const e = performance.getEntriesByName("strata:first-view").at(-1);
    return e ? Math.round(e.startTime * 10) / 10 : null;
  });
  // Then a page load straight onto the plan of 1,000 files.
  await page.goto(`${server.url}/d/big/v/v1/plan/fresh`);
  const main = await view(page, "plan");
  assert.match(await main.innerText(), /1,?000/);
  const perf = await page.evaluate(() => {
    const last = (name) => performance.getEntriesByName(name).at(-1);
    const ms = (e) => (e ? Math.round((e.entryType === "measure" ? e.duration : e.startTime) * 10) / 10 : null);
    return {
      loaderMs: ms(last("strata:loader")),
      wasmReadyMs: ms(last("strata:wasm-ready")),
      firstViewMs: ms(last("strata:first-view")),
      loadPlanMs: ms(last("strata:load")),
      computePlanMs: ms(last("strata:compute:plan")),
      renderPlanMs: ms(last("strata:render:plan")),
      domNodes: document.getElementsByTagName("*").length,
    };
  });
  assert.deepEqual(lintRequests(v.seen), [], "neither the landing nor the plan fetches the lint module");

  // The lint section of a version page, from a page load: the module's
  // fetch and instantiation, then lint; on the demo's app v3, then on the
  // 1,000 files (in the same page load: the module is loaded already).
  server.push(join(DEMO, "app", "v3"), "app", "v3");
  const lintFigures = async () => {
    await lintSection(page);
    return page.evaluate(() => {
      const last = (name) => performance.getEntriesByName(name).at(-1);
      const ms = (e) => (e ? Math.round(e.duration * 10) / 10 : null);
      return { loadMs: ms(last("strata:lint:load")), runMs: ms(last("strata:lint:run")), sectionMs: ms(last("strata:lint")) };
    });
  };
  await page.goto(`${server.url}/d/app/v/v3`);
  await view(page, "version");
  const lintDemo = await lintFigures();
  await page.evaluate(() => {
    history.pushState(null, "", "/d/big/v/v1");
    dispatchEvent(new PopStateEvent("popstate"));
  });
  await view(page, "version");
  const lintBig = await lintFigures();
  const lintWasm = readFileSync(join(WWW, "lint", "strata_lint_bg.wasm"));
  const wasm = readFileSync(join(WWW, "strata_bg.wasm"));
  const figures = {
    files: 1000,
    statements: 1000,
    firstViewDirsMs: landing,
    ...perf,
    moduleBytes: statSync(join(WWW, "strata_bg.wasm")).size,
    moduleGzipBytes: gzipSync(wasm, { level: 9 }).length,
    lintDemoV3: lintDemo,
    lint1000Files: lintBig,
    lintModuleBytes: lintWasm.length,
    lintModuleGzipBytes: gzipSync(lintWasm, { level: 9 }).length,
    measured: new Date().toISOString(),
  };
  writeFileSync(join(OUT, "perf.json"), JSON.stringify(figures, null, 2) + "\n");
  console.log(`viewer performance (target/e2e/perf.json): ${JSON.stringify(figures)}`);
  // They must exist (the viewer records them); their values are not judged.
  assert.notEqual(perf.firstViewMs, null, "performance mark strata:first-view");
  assert.notEqual(perf.renderPlanMs, null, "performance measure strata:render:plan");
  v.check("performance");
});

/** The migration file names of a directory on disk, as its atlas.sum lists them. */
function readdirSql(dir) {
  return readFileSync(join(dir, "atlas.sum"), "utf8")
    .split("\n")
    .slice(1)
    .filter(Boolean)
    .map((l) => l.slice(0, l.lastIndexOf(" h1:")));
}
