// strata push, pull and tags, run as a user runs them (child processes on
// real files) against a real strata-server on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { CLI, filesOf, migrationDir, needServer, scratchDir, startServer, strata } from "./helpers.mjs";

/** A loopback port nobody listens on (one that was just free). */
async function closedPort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** The CLI against `server` with `token` (none when null), nothing else from the environment. */
function cli(server, token) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_")));
  if (server) env.STRATA_REGISTRY = server.url;
  if (token) env.STRATA_TOKEN = token;
  return (args, opts = {}) => strata(args, { env, ...opts });
}

test("push, tags and pull round trip: the pulled directory is byte-identical and verifies", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const run = cli(server, server.token("read,push"));
  const src = migrationDir(30);

  const pushed = run(["push", "--dir", src, "--name", "app", "--tag", "v1", "--tag", "abc123"]);
  assert.equal(pushed.status, 0, pushed.stderr);
  assert.equal(pushed.stderr, "", "no progress bar when stderr is not a terminal");
  const version = /version (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  assert.ok(version, pushed.stdout);
  assert.match(pushed.stdout, /30 files, .*; uploaded 30 files/);
  assert.match(pushed.stdout, new RegExp(`^  latest  ${version}  \\(new tag\\)$`, "m"));

  // Tags, as text and JSON.
  const tags = run(["tags", "app", "--json"]);
  assert.equal(tags.status, 0, tags.stderr);
  const listed = JSON.parse(tags.stdout);
  assert.equal(listed.name, "app");
  assert.deepEqual(listed.tags.map((x) => [x.name, x.version]), [["abc123", version], ["latest", version], ["v1", version]]);
  assert.ok(listed.tags.every((x) => typeof x.updated === "string" && x.updatedBy.startsWith("tok_")));
  const text = run(["tags", "app"]);
  assert.match(text.stdout, new RegExp(`^latest  ${version}  \\S+  tok_\\w+$`, "m"));

  // Pull by tag and by digest: the same bytes, atlas.sum included, and strata verify agrees.
  for (const ref of ["app@v1", "app", `app@${version}`]) {
    const out = join(scratchDir(), "pulled");
    const r = run(["pull", ref, "--out", out]);
    assert.equal(r.status, 0, `${ref}: ${r.stderr}`);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`version ${version}\\n  wrote .*: 30 files and atlas\\.sum`));
    assert.deepEqual(filesOf(out), filesOf(src), ref);
    assert.equal(strata(["verify", "--dir", out]).status, 0);
    assert.deepEqual(readdirSync(dirname(out)), ["pulled"], "no temporary directory left beside it");
  }

  // --json on push and pull.
  const again = run(["push", "--dir", src, "--name", "app", "--json"]);
  assert.equal(again.status, 0, again.stderr);
  const j = JSON.parse(again.stdout);
  assert.deepEqual(
    { version: j.version, created: j.created, files: j.files, uploaded: j.uploaded, tags: j.tags.map((x) => x.name), requests: j.stats.requests },
    { version, created: false, files: 30, uploaded: { files: 0, bytes: 0 }, tags: ["latest"], requests: 3 },
    "a second push uploads nothing: blobs/missing, the version, latest",
  );
  const out = join(scratchDir(), "json");
  const pulled = JSON.parse(run(["pull", "app@abc123", "--out", out, "--json"]).stdout);
  assert.deepEqual(
    { version: pulled.version, name: pulled.name, reference: pulled.reference, files: pulled.files, downloaded: pulled.downloaded.files, out: pulled.out },
    { version, name: "app", reference: "abc123", files: 30, downloaded: 30, out },
  );
  assert.equal(pulled.size, j.size);
});

test("pull never leaves a half directory and replaces one only with --force", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const run = cli(server, server.token("read,push"));
  const src = migrationDir(3);
  assert.equal(run(["push", "--dir", src, "--name", "app"]).status, 0);

  const parent = scratchDir();
  const out = join(parent, "migrations");
  mkdirSync(out);
  writeFileSync(join(out, "old.sql"), "SELECT 1;");
  let r = run(["pull", "app", "--out", out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--out ".*migrations" is not empty\nhint: pass a new directory, or --force to replace it\n/);
  assert.deepEqual(readdirSync(out), ["old.sql"], "left as it was");

  r = run(["pull", "app", "--out", out, "--force"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(filesOf(out), filesOf(src), "replaced entirely");
  assert.deepEqual(readdirSync(parent), ["migrations"]);

  // A tag that does not exist: nothing written.
  const missing = join(parent, "none");
  r = run(["pull", "app@nope", "--out", missing]);
  assert.equal(r.status, 1);
  assert.equal(existsSync(missing), false);
  assert.deepEqual(readdirSync(parent), ["migrations"]);
});

test("errors: the registry's message and hint, --json errors, usage errors exit 2", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const token = server.token("read,push");
  const run = cli(server, token);
  const src = migrationDir(2);
  assert.equal(run(["push", "--dir", src, "--name", "app"]).status, 0);

  // No token: the server's 401, word for word.
  const answer = await fetch(`${server.url}/v1/dirs/app/tags`);
  assert.equal(answer.status, 401);
  const expected = await answer.json();
  let r = cli(server, null)(["tags", "app"]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `strata: ${expected.message}\nhint: ${expected.hint}\n`);
  r = cli(server, null)(["pull", "app", "--out", join(scratchDir(), "x"), "--json"]);
  assert.equal(r.status, 1);
  assert.deepEqual(JSON.parse(r.stdout), { error: { code: "unauthorized", message: expected.message, hint: expected.hint } });

  // An unknown tag.
  r = run(["pull", "app@nope", "--out", join(scratchDir(), "x"), "--json"]);
  assert.equal(r.status, 1);
  assert.equal(JSON.parse(r.stdout).error.code, "tag-not-found");
  assert.match(r.stderr, /^strata: directory "app" has no tag "nope"\nhint: /);

  // A read-only token cannot push.
  r = cli(server, server.token("read"))(["push", "--dir", src, "--name", "app"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /this request needs push\nhint: /);

  // A directory whose atlas.sum does not match its files: refused before any upload.
  const edited = migrationDir(2);
  appendFileSync(join(edited, "20240101000002_t2.sql"), "-- edited\n");
  r = run(["push", "--dir", edited, "--name", "edited", "--json"]);
  assert.equal(r.status, 1);
  assert.deepEqual(
    (({ code, file }) => ({ code, file }))(JSON.parse(r.stdout).error),
    { code: "checksum-mismatch", file: "20240101000002_t2.sql" },
  );
  assert.equal(run(["tags", "edited"]).status, 1, "nothing was pushed");

  // Usage errors.
  for (const [args, message] of [
    [["push", "--dir", src], /--name NAME is required/],
    [["push", "--dir", src, "--name", "a/b"], /"a\/b" is not a valid directory name: it contains '\/'/],
    [["push", "--dir", src, "--name", "app", "--tag", "no:pe"], /"no:pe" is not a valid tag name/],
    [["pull", "app@", "--out", "x"], /"app@" is not NAME or NAME@TAG/],
    [["pull", "app"], /--out DIR is required/],
    [["pull", "app@sha256:123", "--out", join(scratchDir(), "x")], /is not a blob digest/],
    [["tags"], /expected 1 argument/],
    [["tags", "app", "--registry", "localhost:1"], /"localhost:1" is not a registry URL: it does not start with http/],
  ]) {
    r = run(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
  r = cli(null, token)(["tags", "app"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no registry: pass --registry URL or set STRATA_REGISTRY/);

  // Nobody listening: which URL, why, and what to do.
  const port = await closedPort();
  r = run(["tags", "app", "--registry", `http://127.0.0.1:${port}`]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(`^strata: GET http://127\\.0\\.0\\.1:${port}/v1/dirs/app/tags: TypeError: fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\nhint: check the registry URL`),
  );
});

test("push and pull draw a progress bar on a terminal", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  if (spawnSync("script", ["--version"]).status !== 0) return t.skip("util-linux `script` (a pseudo-terminal) is not installed");
  const server = await startServer(t);
  const token = server.token("read,push");
  const src = migrationDir(12);
  const out = join(scratchDir(), "tty");
  const env = { ...process.env, STRATA_REGISTRY: server.url, STRATA_TOKEN: token };
  const quote = (a) => `'${a.replaceAll("'", "'\\''")}'`;
  // `script` runs the command on a pseudo-terminal: stdout and stderr are a TTY.
  const onTerminal = (args) => spawnSync("script", ["-qec", [process.execPath, CLI, ...args].map(quote).join(" "), "/dev/null"], { env, encoding: "utf8" });
  let r = onTerminal(["push", "--dir", src, "--name", "app"]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /\r\x1b\[Kpush app \[#{24}\] 12\/12 files, [\d.]+ \w?B\/[\d.]+ \w?B/);
  assert.match(r.stdout, /\r\x1b\[Kapp: new version sha256:/, "the bar is cleared before the result");
  r = onTerminal(["pull", "app", "--out", out]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /\r\x1b\[Kpull app \[-{24}\] 0\/12 files/);
  assert.match(r.stdout, /\r\x1b\[Kpull app \[#{24}\] 12\/12 files/);
  assert.deepEqual(filesOf(out), filesOf(src));
  // Not with --json.
  r = onTerminal(["pull", "app", "--out", join(scratchDir(), "json"), "--json"]);
  assert.equal(r.status, 0, r.stdout);
  assert.doesNotMatch(r.stdout, /\[#+/);
  assert.equal(JSON.parse(r.stdout.replaceAll("\r\n", "\n")).files, 12);
});

test("help for the registry commands", () => {
  for (const cmd of ["push", "pull", "tags"]) {
    const r = strata([cmd, "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^Usage: strata ${cmd} `));
    assert.match(r.stdout, /STRATA_TOKEN/);
  }
  assert.match(strata(["--help"]).stdout, /strata push --dir DIR --name NAME/);
  assert.ok(readFileSync(CLI, "utf8").includes("STRATA_REGISTRY"));
});

test("pull --force over an earlier pull downloads only the files that changed", { timeout: 60_000 }, async (t) => {
  if (!needServer(t)) return;
  const server = await startServer(t);
  const run = cli(server, server.token("read,push"));
  const src = migrationDir(20);
  assert.equal(run(["push", "--dir", src, "--name", "app"]).status, 0);
  const out = join(scratchDir(), "pulled");
  const first = JSON.parse(run(["pull", "app", "--out", out, "--json"]).stdout);
  assert.equal(first.downloaded.files, 20);

  // Unchanged: the manifest, and no blob.
  const same = JSON.parse(run(["pull", "app", "--out", out, "--force", "--json"]).stdout);
  assert.deepEqual([same.downloaded.files, same.stats.requests], [0, 1], JSON.stringify(same));
  assert.deepEqual(filesOf(out), filesOf(src));

  // One file added upstream: only that one is downloaded.
  writeFileSync(join(src, "20990101000000_added.sql"), "CREATE TABLE added (id int);\n");
  assert.equal(strata(["hash", "--dir", src]).status, 0);
  assert.equal(run(["push", "--dir", src, "--name", "app"]).status, 0);
  const next = JSON.parse(run(["pull", "app", "--out", out, "--force", "--json"]).stdout);
  assert.deepEqual([next.downloaded.files, next.stats.requests], [1, 2], JSON.stringify(next));
  assert.deepEqual(filesOf(out), filesOf(src));

  // A local file edited by hand is not what the version holds: it is
  // downloaded again, and the pull writes the registry's bytes.
  appendFileSync(join(out, readdirSync(out).find((f) => f.endsWith(".sql"))), "-- local edit\n");
  const repaired = JSON.parse(run(["pull", "app", "--out", out, "--force", "--json"]).stdout);
  assert.equal(repaired.downloaded.files, 1, JSON.stringify(repaired));
  assert.deepEqual(filesOf(out), filesOf(src));
});
