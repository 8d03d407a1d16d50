// strata plan --base: a pull request's directory previewed against a real
// strata-server on loopback (and its SQLite target with --hook), compared
// with golden files in npm/test/golden/preview/. STRATA_UPDATE_GOLDEN=1
// rewrites them; review the diff before committing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, needServer, scratchDir, startHookServer, startServer, strata } from "./helpers.mjs";

const GOLDEN = join(ROOT, "npm", "test", "golden", "preview");

/** The CLI with `token` in STRATA_TOKEN, nothing else from the environment. */
function cli(token) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_")));
  if (token) env.STRATA_TOKEN = token;
  return (args) => strata(args, { env, stdio: ["ignore", "pipe", "pipe"] });
}

/** A migration directory of `files` (name → SQL) with its atlas.sum. */
function dir(files, { hash = true } = {}) {
  const d = scratchDir("preview-");
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(d, name), sql);
  if (hash) assert.equal(cli()(["hash", "--dir", d]).status, 0);
  return d;
}

/** Compares `actual` with golden file `name` (or writes it). */
function golden(name, actual) {
  const file = join(GOLDEN, name);
  if (process.env.STRATA_UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `golden file ${file} is missing: run with STRATA_UPDATE_GOLDEN=1 and review it`);
  assert.equal(actual, readFileSync(file, "utf8"), `differs from ${file} (STRATA_UPDATE_GOLDEN=1 rewrites it)`);
}

const V1 = {
  "20240101000001_users.sql": "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  email text NOT NULL,\n  name text\n);\n",
  "20240101000002_posts.sql": "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint, body text);\n",
};

/** A registry with `app` = V1 tagged latest, and a read-only token for the preview. */
async function registry(t, start = startServer) {
  const server = await start(t);
  const push = cli(server.token("read,push"));
  const pushed = push(["push", "--dir", dir(V1), "--name", "app", "--tag", "latest", "--registry", server.url]);
  assert.equal(pushed.status, 0, pushed.stderr);
  const read = cli(server.token("read"));
  return { server, read, push };
}

test("a pull request adding risky migrations: Markdown for the comment, findings, exit 1", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const { server, read } = await registry(t);
  const pr = dir({
    ...V1,
    "20240102000001_drop_name.sql": "ALTER TABLE users DROP COLUMN name;\n",
    "20240102000002_index.sql":
      "-- Reviewers: the index is new.\nCREATE INDEX posts_user_idx ON posts (user_id);\nALTER TABLE posts ADD COLUMN created_at timestamptz DEFAULT clock_timestamp();\nALTER TABLE posts ALTER COLUMN body SET NOT NULL;\n",
  });
  const r = read(["plan", "--dir", pr, "--base", "app@latest", "--registry", server.url, "--dialect", "postgres", "--format", "markdown"]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, "strata: preview of app against app@latest: 1 error, 4 warnings\n");
  assert.ok(r.stdout.startsWith("<!-- strata:preview app -->\n"));
  golden("risky.md", r.stdout);

  // The same as JSON: the structure a workflow reads.
  const j = read(["plan", "--dir", pr, "--base", "app@latest", "--registry", server.url, "--dialect", "postgres", "--format", "json"]);
  assert.equal(j.status, 1, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.format, "strata.preview/v1");
  assert.deepEqual(doc.newFiles.map((f) => f.name), ["20240102000001_drop_name.sql", "20240102000002_index.sql"]);
  assert.deepEqual(doc.lint.findings.map((f) => `${f.code} ${f.file}:${f.line}`), [
    "DS103 20240102000001_drop_name.sql:1",
    "PG101 20240102000002_index.sql:2",
    "PG302 20240102000002_index.sql:3",
    "MF104 20240102000002_index.sql:4",
    "PG303 20240102000002_index.sql:4",
  ]);
  assert.equal(doc.base.version, JSON.parse(read(["tags", "app", "--json", "--registry", server.url]).stdout).tags[0].version);
  assert.equal(doc.exitCode, 1);

  // And as text, every statement in full.
  const text = read(["plan", "--dir", pr, "--base", "app@latest", "--registry", server.url, "--dialect", "postgres"]);
  assert.equal(text.status, 1);
  golden("risky.txt", text.stdout);
});

test("editing a pushed file rewrites history; a sum not updated is invalid", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const { server, read } = await registry(t);
  const edited = dir({ ...V1, "20240101000002_posts.sql": "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);\n" });
  // Added after hashing: atlas.sum does not list it.
  writeFileSync(join(edited, "20240102000001_more.sql"), "CREATE TABLE tags (id int);\n");
  const r = read(["plan", "--dir", edited, "--base", "app@latest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(r.status, 1, r.stderr);
  golden("history-rewritten.md", r.stdout);
});

test("warnings only exit 4; a clean pull request exits 0; a new directory is all new, a missing tag an error", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const { server, read } = await registry(t);
  const warn = dir({ ...V1, "20240102000001_email.sql": "ALTER TABLE users ADD COLUMN phone text NOT NULL;\n" });
  const w = read(["plan", "--dir", warn, "--base", "app@latest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(w.status, 4, w.stderr);
  golden("warnings.md", w.stdout);

  const clean = dir({ ...V1, "20240102000001_tags.sql": "CREATE TABLE tags (id int, name text);\n" });
  const c = read(["plan", "--dir", clean, "--base", "app@latest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(c.status, 0, c.stderr);
  golden("clean.md", c.stdout);

  // A directory never pushed: a warning, every file new, its own marker.
  const n = read(["plan", "--dir", clean, "--base", "billing@latest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(n.status, 4, n.stderr);
  assert.ok(n.stdout.startsWith("<!-- strata:preview billing -->\n"));
  assert.match(n.stdout, /- ⚠️ warning `base-missing`: billing@latest does not exist in the registry: every file is new/);
  assert.match(n.stdout, /\*\*3 files, 3 statements\*\* new against `billing@latest` \(does not exist yet\)/);

  // A tag the directory does not have: a typo more likely than a first push.
  const typo = read(["plan", "--dir", clean, "--base", "app@lastest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(typo.status, 1, typo.stderr);
  assert.equal(typo.stdout, "");
  assert.match(typo.stderr, /has no tag "lastest"/);
  assert.match(typo.stderr, /app's tags are latest; pass one of them in --base/);
});

test("with --hook and --target: what would run on the target now", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const { server, read, push } = await registry(t, startHookServer);
  const deploy = cli(server.token("read,deploy"));
  const applied = deploy(["apply", "app@latest", "--hook", server.url, "--target", "local", "--yes"]);
  assert.equal(applied.status, 0, applied.stderr);
  const pr = dir({ ...V1, "20240102000001_tags.sql": "CREATE TABLE tags (id integer PRIMARY KEY, name text);\nCREATE INDEX tags_name ON tags (name);\n" });
  const args = ["plan", "--dir", pr, "--base", "app@latest", "--registry", server.url, "--hook", server.url, "--target", "local"];
  const r = read([...args, "--format", "markdown"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /#### On target `local` now\n\n\*\*1 file, 2 statements\*\* to apply, from version `20240101000002` to version `20240102000001`\./);
  golden("target.md", r.stdout);
  const text = read([...args, "--format", "text"]);
  assert.match(text.stdout, /\nOn target local now:\n/);
  // Atlas's apply flags reach the plan, and its refusals are errors.
  const upTo = read([...args, "--format", "json", "--to-version", "20240102000001"]);
  assert.equal(upTo.status, 0, upTo.stdout);
  assert.equal(JSON.parse(upTo.stdout).target.plan.options.toVersion, "20240102000001");
  const refused = read([...args, "--format", "json", "--to-version", "20240101000002"]);
  assert.equal(refused.status, 1);
  assert.deepEqual(JSON.parse(refused.stdout).problems.map((p) => [p.code, p.message]), [
    ["version-not-found", 'on target local: sql/migrate: migration with version "20240101000002" not found'],
  ]);
  assert.equal(push(["push", "--dir", pr, "--name", "app", "--registry", server.url]).status, 0);
});

test("the comment stays under GitHub's limit with a 5 MB migration", { timeout: 120_000 }, async (t) => {
  if (!needServer(t)) return;
  const { server, read } = await registry(t);
  const row = "INSERT INTO users (id, email) VALUES (1, 'someone@example.com');\n";
  const big = row.repeat(Math.ceil((5 * 1024 * 1024) / row.length));
  const pr = dir({ ...V1, "20240102000001_seed.sql": big });
  const r = read(["plan", "--dir", pr, "--base", "app@latest", "--registry", server.url, "--format", "markdown"]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.length <= 65_536, `${r.stdout.length} characters`);
  assert.ok(r.stdout.startsWith("<!-- strata:preview app -->\n"));
  assert.match(r.stdout, /-- … \d+ more statements not shown\n/);
  assert.match(r.stdout, /Not shown, to stay under GitHub's 65536-character limit: part of the SQL of 1 file\./);
});

test("usage errors exit 2 and say what to pass", async () => {
  const run = cli();
  const d = dir(V1);
  for (const [args, message] of [
    [["--base", "app@latest", "--format", "html"], /--format "html": use markdown, json or text/],
    [["--base", "app"], /--base "app": pass NAME@TAG, e\.g\. app@latest/],
    [["--base", "app@latest", "--hook", "http://127.0.0.1:9"], /--hook URL and --target T go together/],
    [["--base", "app@latest", "--json", "--markdown"], /pass one of --format, --json and --markdown/],
    [["--base", "app@latest"], /no registry: pass --registry URL or set STRATA_REGISTRY/],
    [["--base", "app@latest", "--exec-order", "non-linear"], /need --hook and --target/],
  ]) {
    const r = run(["plan", "--dir", d, ...args]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
