// docs/github-actions.md, run as printed: its comment script against a local
// stand-in for the GitHub REST API (GitHub cannot be reached here; this
// stand-in is the only fake), and its workflows' `run:` steps, with a
// `strata` on PATH, against a real strata-server with a SQLite target.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { CLI, ROOT, SERVER_BIN, migrationDir, needServer, needSqlite3, scratchDir, sqlite, startServer, strata } from "./helpers.mjs";

const DOC = readFileSync(join(ROOT, "docs", "github-actions.md"), "utf8");

/** The fenced block right after the line `<!-- LABEL -->` in the doc. */
function docBlock(label) {
  const at = DOC.indexOf(`\n<!-- ${label} -->\n`);
  assert.notEqual(at, -1, `docs/github-actions.md has no <!-- ${label} --> line`);
  const m = /^```\w*\n([\s\S]*?)^```$/m.exec(DOC.slice(at + label.length + 11));
  assert.ok(m && DOC.slice(at + label.length + 11).startsWith("```"), `<!-- ${label} --> is not followed by a fenced block`);
  return m[1];
}

const SCRIPT = docBlock("file: upsert-comment.mjs");
const WORKFLOWS = {
  preview: parseYaml(docBlock("file: .github/workflows/strata-preview.yml")),
  push: parseYaml(docBlock("file: .github/workflows/strata-push.yml")),
  deploy: parseYaml(docBlock("file: .github/workflows/strata-deploy.yml")),
};

// --- A YAML reader for the workflows ------------------------------------------

/**
 * Reads the YAML the workflows are written in: block mappings and sequences
 * by indentation, `|` literal blocks, plain, quoted and `{}` / `[a, b]`
 * scalars, comments. Anything else throws, so the doc stays in what this
 * reads (and the test compares it with PyYAML when that is installed).
 */
function parseYaml(text) {
  const lines = text.split("\n");
  let i = 0;
  const indentOf = (s) => s.length - s.trimStart().length;
  const isItem = (s) => /^\s*- /.test(s);
  const skipBlank = () => {
    while (i < lines.length && /^\s*(#.*)?$/.test(lines[i])) i++;
  };
  const where = () => `line ${i + 1}: ${JSON.stringify(lines[i])}`;

  function block(indent) {
    skipBlank();
    return isItem(lines[i]) ? sequence(indent) : mapping(indent);
  }
  function mapping(indent) {
    const out = {};
    for (skipBlank(); i < lines.length && indentOf(lines[i]) === indent && !isItem(lines[i]); skipBlank()) {
      const m = /^([\w.-]+):(?: +(.*))?$/.exec(lines[i].slice(indent));
      if (!m) throw new Error(`not "key: value" at ${where()}`);
      if (Object.hasOwn(out, m[1])) throw new Error(`key ${m[1]} twice at ${where()}`);
      i++;
      out[m[1]] = value(m[2], indent);
    }
    if (i < lines.length && indentOf(lines[i]) > indent) throw new Error(`unexpected indentation at ${where()}`);
    return out;
  }
  function sequence(indent) {
    const out = [];
    for (skipBlank(); i < lines.length && indentOf(lines[i]) === indent && isItem(lines[i]); skipBlank()) {
      const rest = lines[i].slice(indent + 2);
      if (/^[\w.-]+:( |$)/.test(rest)) {
        lines[i] = " ".repeat(indent + 2) + rest; // "- key: v" opens a mapping two columns in
        out.push(mapping(indent + 2));
      } else {
        i++;
        out.push(scalar(rest));
      }
    }
    return out;
  }
  function value(rest, indent) {
    if (rest === undefined || /^#/.test(rest)) {
      skipBlank();
      return i < lines.length && indentOf(lines[i]) > indent ? block(indentOf(lines[i])) : null;
    }
    if (rest === "|") return literal(indent);
    return scalar(rest);
  }
  function literal(indent) {
    const body = [];
    let at;
    for (; i < lines.length; i++) {
      if (lines[i].trim() === "") {
        body.push("");
        continue;
      }
      if (indentOf(lines[i]) <= indent) break;
      at ??= indentOf(lines[i]);
      if (indentOf(lines[i]) < at) throw new Error(`literal block less indented at ${where()}`);
      body.push(lines[i].slice(at));
    }
    while (body.at(-1) === "") body.pop();
    return body.join("\n") + "\n";
  }
  function scalar(s) {
    let m;
    if ((m = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(s))) return JSON.parse(`"${m[1]}"`);
    if ((m = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(s))) return m[1].replaceAll("''", "'");
    s = s.replace(/\s+#.*$/, "");
    if (s === "{}") return {};
    if ((m = /^\[(.*)\]$/.exec(s))) return m[1].trim() ? m[1].split(",").map((x) => scalar(x.trim())) : [];
    if (/^[&*!|>'"%@`{[]/.test(s) || /: |:$/.test(s)) throw new Error(`unsupported scalar ${JSON.stringify(s)}`);
    if (s === "true" || s === "false") return s === "true";
    if (s === "null" || s === "~") return null;
    if (/^-?[0-9]+$/.test(s)) return Number(s);
    return s;
  }

  const doc = block(0);
  skipBlank();
  if (i < lines.length) throw new Error(`unexpected ${where()}`);
  return doc;
}

// --- A job runner for the workflows' `run:` steps -----------------------------

/** `${{ path }}` expressions of a workflow value, looked up in `context` (an unknown one throws). */
function expand(value, context) {
  return String(value).replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, path) => {
    const v = path.split(".").reduce((o, k) => o?.[k], context);
    if (v === undefined) throw new Error(`\${{ ${path} }} is not in the test's context`);
    return String(v);
  });
}

/** A step's `if:`, for the forms the workflows use: `steps.ID.outputs.NAME == 'V'` (or `!=`). */
function condition(expr, steps) {
  const m = /^(?:\$\{\{\s*)?steps\.([\w-]+)\.outputs\.([\w-]+) (==|!=) '([^']*)'(?:\s*\}\})?$/.exec(expr);
  if (!m) throw new Error(`unsupported if: ${expr}`);
  const v = steps[m[1]]?.outputs[m[2]] ?? "";
  return m[3] === "==" ? v === m[4] : v !== m[4];
}

/** Runs a command; resolves with {status, stdout, stderr} (asynchronously: the stand-in lives in this process). */
function run(cmd, args, opts) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", fail);
    child.once("close", (status) => ok({ status, stdout, stderr }));
  });
}

/** A directory with an executable `strata` running this repository's CLI: what the install step provides. */
function strataOnPath() {
  const bin = scratchDir("bin-");
  writeFileSync(join(bin, "strata"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(bin, "strata"), 0o755);
  return bin;
}
const BIN = strataOnPath();

const INSTALL = "Install the strata CLI";

/**
 * Runs a job of a workflow as a runner does, in `workspace`: each `run:`
 * step in `bash -e` with the job's and the step's `env:` (expressions from
 * `context`), GITHUB_OUTPUT, and `if:`; a failed step skips the rest
 * unless their `if:` says otherwise. `uses:` steps and the install step
 * are not run (the checkout is `workspace`, the CLI is on PATH).
 */
async function runJob(job, { workspace, context = {}, env = {} }) {
  const steps = {};
  const ran = [];
  let failed = false;
  for (const [k, step] of job.steps.entries()) {
    const name = step.name ?? step.uses;
    if (step.uses || name === INSTALL) {
      ran.push({ name, status: "not run" });
      continue;
    }
    if (!(step.if ? condition(step.if, steps) : !failed)) {
      ran.push({ name, status: "skipped" });
      continue;
    }
    assert.doesNotMatch(step.run, /\$\{\{/, `${name}: expressions go through env:, never into the script`);
    const dir = scratchDir("step-");
    writeFileSync(join(dir, "script.sh"), step.run);
    writeFileSync(join(dir, "output"), "");
    const vars = { ...job.env, ...step.env };
    const r = await run("bash", ["-e", join(dir, "script.sh")], {
      cwd: workspace,
      env: {
        ...runnerEnv(workspace),
        ...env,
        ...Object.fromEntries(Object.entries(vars).map(([key, v]) => [key, expand(v, context)])),
        GITHUB_OUTPUT: join(dir, "output"),
      },
    });
    const outputs = Object.fromEntries(
      readFileSync(join(dir, "output"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    if (step.id) steps[step.id] = { outputs };
    ran.push({ name, status: r.status === 0 ? "success" : "failure", code: r.status, stdout: r.stdout, stderr: r.stderr, outputs, k });
    failed ||= r.status !== 0;
  }
  return { failed, steps: ran, step: (name) => ran.find((s) => s.name === name) };
}

/** What a runner sets, without this machine's STRATA_* variables. */
function runnerEnv(workspace) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRATA_") && !k.startsWith("GITHUB_")));
  return { ...env, PATH: `${BIN}:${env.PATH}`, CI: "true", GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: "acme/shop" };
}

/** Asserts the steps' outcomes by name, with their output when they differ. */
function assertSteps(job, expected) {
  const got = Object.fromEntries(job.steps.map((s) => [s.name, s.status]));
  const detail = job.steps.map((s) => `${s.name}: ${s.status}${s.stderr ? `\n${s.stderr}` : ""}`).join("\n");
  assert.deepEqual(got, expected, detail);
}

// --- The stand-in for the GitHub REST API ---------------------------------------

/**
 * Just the endpoints the comment script uses, with comments in memory:
 * list an issue's comments (honouring per_page up to `maxPerPage`, with
 * GitHub's Link header), create one, edit one. Every request is recorded
 * (method, path, query, headers, body). `failNext(method, status,
 * message)` makes the next such request fail as GitHub fails.
 */
async function startGitHub(t, { maxPerPage = 100, token = "ghs_test_token" } = {}) {
  const comments = [];
  const requests = [];
  const failures = [];
  let ids = 1000;
  const server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url, "http://stand-in");
    requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: raw ? JSON.parse(raw) : undefined });
    const send = (status, data, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(data));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: "Bad credentials" });
    const failure = failures.findIndex((f) => f.method === req.method);
    if (failure !== -1) {
      const [f] = failures.splice(failure, 1);
      return send(f.status, { message: f.message, documentation_url: "https://docs.github.com/rest" });
    }
    const list = /^\/repos\/([\w.-]+\/[\w.-]+)\/issues\/([0-9]+)\/comments$/.exec(url.pathname);
    const one = /^\/repos\/([\w.-]+\/[\w.-]+)\/issues\/comments\/([0-9]+)$/.exec(url.pathname);
    if (list && req.method === "GET") {
      const all = comments.filter((c) => c.repo === list[1] && c.issue === Number(list[2]));
      const per = Math.min(Number(url.searchParams.get("per_page") ?? 30), maxPerPage);
      const page = Number(url.searchParams.get("page") ?? 1);
      const last = Math.max(1, Math.ceil(all.length / per));
      const link = (p) => `<${base}${url.pathname}?per_page=${per}&page=${p}>`;
      const links = [];
      if (page > 1) links.push(`${link(page - 1)}; rel="prev"`);
      if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
      if (page > 1) links.push(`${link(1)}; rel="first"`);
      return send(200, all.slice((page - 1) * per, page * per).map(view), links.length ? { link: links.join(", ") } : {});
    }
    if (list && req.method === "POST") {
      const c = { id: ids++, repo: list[1], issue: Number(list[2]), body: JSON.parse(raw).body, user: "github-actions[bot]" };
      comments.push(c);
      return send(201, view(c));
    }
    if (one && req.method === "PATCH") {
      const c = comments.find((x) => x.repo === one[1] && x.id === Number(one[2]));
      if (!c) return send(404, { message: "Not Found" });
      c.body = JSON.parse(raw).body;
      return send(200, view(c));
    }
    send(404, { message: "Not Found" });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const view = (c) => ({ id: c.id, body: c.body, user: { login: c.user }, html_url: `https://github.com/${c.repo}/pull/${c.issue}#issuecomment-${c.id}` });
  t.after(() => new Promise((ok) => (server.closeAllConnections(), server.close(ok))));
  return {
    url: base,
    token,
    requests,
    /** The comments of pull request `issue` of acme/shop: [{id, body, user}]. */
    comments: (issue = 42) => comments.filter((c) => c.repo === "acme/shop" && c.issue === issue).map(({ id, body, user }) => ({ id, body, user })),
    /** Adds a comment by someone else. */
    seed(body, { issue = 42, user = "octocat" } = {}) {
      comments.push({ id: ids++, repo: "acme/shop", issue, body, user });
      return ids - 1;
    },
    failNext(method, status, message) {
      failures.push({ method, status, message });
    },
  };
}

/** A workspace holding the doc's script as .github/scripts/upsert-comment.mjs and a pull_request event. */
function workspace(number = 42) {
  const dir = scratchDir("ws-");
  mkdirSync(join(dir, ".github", "scripts"), { recursive: true });
  writeFileSync(join(dir, ".github", "scripts", "upsert-comment.mjs"), SCRIPT);
  writeFileSync(join(dir, "event.json"), JSON.stringify({ action: "synchronize", pull_request: { number } }));
  return dir;
}

/** Runs the doc's script in `ws` on `markdown` (written to FILE), against the stand-in. */
async function upsert(gh, ws, markdown, { args = [], env = {}, file = "preview.md" } = {}) {
  if (markdown !== null) writeFileSync(join(ws, file), markdown);
  return run(process.execPath, [join(ws, ".github", "scripts", "upsert-comment.mjs"), file, ...args], {
    cwd: ws,
    env: { ...runnerEnv(ws), GITHUB_API_URL: gh.url, GITHUB_EVENT_PATH: join(ws, "event.json"), GITHUB_TOKEN: gh.token, ...env },
  });
}

const preview = (name, text) => `<!-- strata:preview ${name} -->\n## strata: ${name}\n\n${text}\n`;
const writes = (gh) => gh.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);

// --- The comment script ----------------------------------------------------------

test("the first run creates the comment; a changed preview edits that comment; an unchanged one sends nothing", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace();
  const first = preview("app", "1 new file: `20240101000004_t4.sql`");
  const r1 = await upsert(gh, ws, first);
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(r1.stdout, "created: https://github.com/acme/shop/pull/42#issuecomment-1000\n");
  assert.deepEqual(writes(gh), ["POST /repos/acme/shop/issues/42/comments"]);
  assert.deepEqual(gh.requests.at(-1).body, { body: first }, "the body is the file, byte for byte");
  assert.deepEqual(gh.comments(), [{ id: 1000, body: first, user: "github-actions[bot]" }]);

  const second = preview("app", "2 new files, 1 warning");
  const r2 = await upsert(gh, ws, second);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(r2.stdout, "updated: https://github.com/acme/shop/pull/42#issuecomment-1000\n");
  assert.deepEqual(writes(gh), ["POST /repos/acme/shop/issues/42/comments", "PATCH /repos/acme/shop/issues/comments/1000"]);
  assert.deepEqual(gh.requests.at(-1).body, { body: second });
  assert.deepEqual(gh.comments(), [{ id: 1000, body: second, user: "github-actions[bot]" }], "still one comment");

  const r3 = await upsert(gh, ws, second);
  assert.equal(r3.status, 0, r3.stderr);
  assert.match(r3.stdout, /^unchanged: /);
  assert.equal(writes(gh).length, 2, "no edit when the body is the same");
});

test("two directories keep a comment each; others' comments are never touched", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace();
  const others = {
    lgtm: gh.seed("LGTM"),
    quoted: gh.seed("The bot's comment starts with <!-- strata:preview app --> and is below."),
    indented: gh.seed(" <!-- strata:preview app -->\nnot at the start"),
    prefix: gh.seed("<!-- strata:preview app2 -->\nanother directory whose name starts with app"),
    otherPr: gh.seed("<!-- strata:preview app -->\non pull request 7", { issue: 7 }),
  };
  const before = gh.comments();

  assert.equal((await upsert(gh, ws, preview("app", "app v1"), { file: "app.md" })).status, 0);
  const billing = await upsert(gh, ws, preview("billing", "billing v1"), { file: "billing.md" });
  assert.equal(billing.status, 0, billing.stderr);
  assert.match(billing.stdout, /^created: /, "another marker: another comment");
  const app2 = await upsert(gh, ws, preview("app", "app v2"), { file: "app.md" });
  assert.equal(app2.status, 0, app2.stderr);
  assert.match(app2.stdout, /^updated: /);

  const ids = gh.comments().slice(before.length).map((c) => c.id);
  assert.deepEqual(gh.comments(), [
    ...before,
    { id: ids[0], body: preview("app", "app v2"), user: "github-actions[bot]" },
    { id: ids[1], body: preview("billing", "billing v1"), user: "github-actions[bot]" },
  ]);
  assert.deepEqual(writes(gh), [
    "POST /repos/acme/shop/issues/42/comments",
    "POST /repos/acme/shop/issues/42/comments",
    `PATCH /repos/acme/shop/issues/comments/${ids[0]}`,
  ]);
  assert.ok(Object.values(others).every((id) => !writes(gh).some((w) => w.endsWith(`/${id}`))));
  assert.equal(gh.comments(7)[0].body, "<!-- strata:preview app -->\non pull request 7", "another pull request's comment");
});

test("the comment is found on page 3 of the listing (Link rel=next), and every request carries auth and the API version", async (t) => {
  const gh = await startGitHub(t, { maxPerPage: 2 });
  const ws = workspace();
  for (const body of ["first", "second", "third", "fourth"]) gh.seed(body);
  const ours = gh.seed(preview("app", "old"));
  const r = await upsert(gh, ws, preview("app", "new"));
  assert.equal(r.status, 0, r.stderr);

  assert.deepEqual(
    gh.requests.map((q) => [q.method, q.path, q.query]),
    [
      ["GET", "/repos/acme/shop/issues/42/comments", { per_page: "100" }],
      ["GET", "/repos/acme/shop/issues/42/comments", { per_page: "2", page: "2" }],
      ["GET", "/repos/acme/shop/issues/42/comments", { per_page: "2", page: "3" }],
      ["PATCH", `/repos/acme/shop/issues/comments/${ours}`, {}],
    ],
  );
  assert.equal(gh.comments().length, 5);
  assert.equal(gh.comments().at(-1).body, preview("app", "new"));
  for (const q of gh.requests) {
    assert.equal(q.headers.authorization, `Bearer ${gh.token}`);
    assert.equal(q.headers.accept, "application/vnd.github+json");
    assert.equal(q.headers["x-github-api-version"], "2022-11-28");
    assert.match(q.headers["user-agent"], /\S/);
  }
  assert.equal(gh.requests.at(-1).headers["content-type"], "application/json");
});

test("several comments with the marker: the oldest is edited, the others are left and named", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace();
  const a = gh.seed(preview("app", "copy 1"), { user: "github-actions[bot]" });
  const b = gh.seed(preview("app", "copy 2"), { user: "github-actions[bot]" });
  const r = await upsert(gh, ws, preview("app", "now"));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, `upsert-comment: 2 comments start with <!-- strata:preview app -->: updating the oldest, ${a}; leaving ${b}\n`);
  assert.deepEqual(writes(gh), [`PATCH /repos/acme/shop/issues/comments/${a}`]);
  assert.deepEqual(gh.comments().map((c) => c.body), [preview("app", "now"), preview("app", "copy 2")]);
});

test("the pull request number comes from the argument, else from GITHUB_EVENT_PATH", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace(42);
  assert.equal((await upsert(gh, ws, preview("app", "x"), { args: ["7"] })).status, 0);
  assert.equal(gh.comments(7).length, 1);
  assert.equal(gh.comments(42).length, 0);
  const none = await upsert(gh, ws, preview("app", "x"), { env: { GITHUB_EVENT_PATH: "" } });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no pull request number: pass it after FILE, or run on a pull_request event/);
  writeFileSync(join(ws, "push.json"), JSON.stringify({ ref: "refs/heads/main" }));
  const push = await upsert(gh, ws, preview("app", "x"), { env: { GITHUB_EVENT_PATH: join(ws, "push.json") } });
  assert.equal(push.status, 1);
  assert.match(push.stderr, /push\.json has no pull_request\.number/);
});

test("a 403 exits 1 with the status, GitHub's message and the permissions hint; nothing is stored", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace();
  gh.failNext("POST", 403, "Resource not accessible by integration");
  const r = await upsert(gh, ws, preview("app", "x"));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `upsert-comment: POST ${gh.url}/repos/acme/shop/issues/42/comments: 403 Resource not accessible by integration\n` +
      "hint: the workflow's token may not comment on pull requests: give the job 'permissions: pull-requests: write' (a pull request from a fork only gets a read-only token)\n",
  );
  assert.deepEqual(gh.comments(), []);

  // The listing failing stops it too; a bad token is GitHub's 401.
  gh.failNext("GET", 404, "Not Found");
  const listing = await upsert(gh, ws, preview("app", "x"));
  assert.equal(listing.status, 1);
  assert.match(listing.stderr, /^upsert-comment: GET \S+\/issues\/42\/comments\?per_page=100: 404 Not Found\n$/);
  const bad = await upsert(gh, ws, preview("app", "x"), { env: { GITHUB_TOKEN: "wrong" } });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /: 401 Bad credentials\nhint: GITHUB_TOKEN is not a valid token/);
  assert.deepEqual(writes(gh), ["POST /repos/acme/shop/issues/42/comments"], "only the refused POST was a write");
});

test("a file whose first line is not a strata marker is refused before any request", async (t) => {
  const gh = await startGitHub(t);
  const ws = workspace();
  for (const [markdown, shown] of [
    ["", '""'],
    ["strata: cannot reach the registry\n", '"strata: cannot reach the registry"'],
    ["\n<!-- strata:preview app -->\n", '""'],
    ["<!-- strata:preview -->\n", '"<!-- strata:preview -->"'],
    ["<!-- strata:preview a/b -->\n", '"<!-- strata:preview a/b -->"'],
    ["<!-- strata:preview app --> trailing\n", '"<!-- strata:preview app --> trailing"'],
  ]) {
    const r = await upsert(gh, ws, markdown);
    assert.equal(r.status, 1, JSON.stringify(markdown));
    assert.equal(
      r.stderr,
      `upsert-comment: preview.md: the first line is not a strata preview marker (<!-- strata:preview NAME -->) but ${shown}; post only what 'strata plan --format markdown' wrote\n`,
    );
  }
  const missing = await upsert(gh, ws, null, { file: "nope.md" });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^upsert-comment: cannot read nope\.md: ENOENT/);
  const usage = await run(process.execPath, [join(ws, ".github", "scripts", "upsert-comment.mjs")], { env: runnerEnv(ws) });
  assert.equal(usage.status, 1);
  assert.equal(usage.stderr, "upsert-comment: usage: node upsert-comment.mjs FILE [PR_NUMBER]\n");
  // A Windows line ending after the marker is fine.
  assert.equal((await upsert(gh, ws, "<!-- strata:preview app -->\r\nbody\r\n")).status, 0);
  assert.equal(gh.requests.filter((r) => r.method !== "GET").length, 1, "only the last, valid file was posted");
});

// --- The workflows ---------------------------------------------------------------

test("the workflows are YAML as GitHub reads it, with the permissions, triggers and steps the doc describes", (t) => {
  const py = spawnSync("python3", ["-c", "import yaml"], { encoding: "utf8" });
  if (py.status !== 0) {
    t.diagnostic("python3 with PyYAML not found: the workflows are read by this test's reader only");
  } else {
    for (const [name, parsed] of Object.entries(WORKFLOWS)) {
      // PyYAML reads `on` as true (YAML 1.1); GitHub reads it as the key "on".
      const r = spawnSync(
        "python3",
        ["-c", "import sys, json, yaml\nd = yaml.safe_load(sys.stdin)\nd['on'] = d.pop(True)\nprint(json.dumps(d))"],
        { input: docBlock(`file: .github/workflows/strata-${name}.yml`), encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), parsed, `${name}: PyYAML reads the same document`);
    }
  }
  const { preview, push, deploy } = WORKFLOWS;
  assert.deepEqual(preview.permissions, { contents: "read", "pull-requests": "write" });
  assert.deepEqual(Object.keys(preview.on), ["pull_request"]);
  assert.deepEqual(push.on, { push: { branches: ["main"] } });
  assert.deepEqual(push.permissions, { contents: "read" });
  assert.deepEqual(deploy.permissions, {});
  assert.equal(deploy.jobs.deploy.environment, "production");
  assert.deepEqual(Object.keys(deploy.on), ["workflow_dispatch"]);
  for (const [name, w] of Object.entries(WORKFLOWS)) {
    const [job] = Object.values(w.jobs);
    const setup = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    assert.equal(setup?.with?.["node-version"], 20, `${name}: Node 20`);
    const install = job.steps.find((s) => s.name === INSTALL);
    assert.equal(install?.run, "npm install --global strata@0.1.0\nstrata --version\n", `${name}: the install step`);
    const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    if (checkout) assert.equal(checkout.with["fetch-depth"], 1, name);
    assert.ok(w.concurrency.group, name);
  }
  assert.equal(WORKFLOWS.deploy.concurrency["cancel-in-progress"], false, "never cancel an apply");
  assert.equal(WORKFLOWS.push.concurrency["cancel-in-progress"], false);
});

/**
 * A strata-server with one SQLite target named `production`, as the doc's
 * deploy step names it, and Atlas's lock file in a temp directory of its
 * own; `tokens` are the doc's `strata-server token create` lines, run on
 * its data directory, by --name.
 */
async function productionServer(t) {
  const dir = scratchDir("gha-");
  const db = join(dir, "production.db");
  writeFileSync(join(dir, "targets.toml"), `[targets.production]\nurl = ${JSON.stringify(`sqlite://${db}`)}\n`);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir; // the server's temp directory holds the SQLite lock file
  let server;
  try {
    server = await startServer(t, ["--targets", join(dir, "targets.toml")]);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const tokens = {};
  for (const line of docBlock("test: tokens").trim().split("\n")) {
    const [cmd, ...args] = line.split(/ +/);
    assert.equal(cmd, "strata-server", line);
    const r = spawnSync(SERVER_BIN, [...args, "--data", server.data], { encoding: "utf8", env: runnerEnv(dir) });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
    tokens[args[args.indexOf("--name") + 1]] = r.stdout.trim();
  }
  assert.deepEqual(Object.keys(tokens), ["github-preview", "github-push", "github-deploy"]);
  return { ...server, db, tokens };
}

/** A repository checkout: `migrations/` with `n` files (and atlas.sum), and the doc's script. */
function checkout(n) {
  const ws = workspace();
  mkdirSync(join(ws, "migrations"));
  migrationDir(n, { dir: join(ws, "migrations") });
  return ws;
}

const SHA1 = "1111111111111111111111111111111111111111";
const SHA2 = "2222222222222222222222222222222222222222";

test("push on merge, then deploy by hand: the doc's steps with its tokens against a real server and SQLite target", { timeout: 120_000 }, async (t) => {
  if (!needServer(t) || !needSqlite3(t)) return;
  const server = await productionServer(t);
  const tags = () => {
    const r = strata(["tags", "app", "--json", "--registry", server.url], { env: { ...runnerEnv(scratchDir()), STRATA_TOKEN: server.tokens["github-preview"] } });
    assert.equal(r.status, 0, r.stderr);
    return Object.fromEntries(JSON.parse(r.stdout).tags.map((x) => [x.name, x.version]));
  };
  const push = (ws, sha) =>
    runJob(WORKFLOWS.push.jobs.push, {
      workspace: ws,
      context: { vars: { STRATA_REGISTRY: server.url }, secrets: { STRATA_PUSH_TOKEN: server.tokens["github-push"] } },
      env: { GITHUB_SHA: sha, GITHUB_REF: "refs/heads/main", GITHUB_EVENT_NAME: "push" },
    });

  // A merge with 3 files; then one that adds a fourth.
  const ws = checkout(3);
  const first = await push(ws, SHA1);
  assertSteps(first, { "actions/checkout@v4": "not run", "actions/setup-node@v4": "not run", [INSTALL]: "not run", Push: "success" });
  assert.match(first.step("Push").stdout, /^app: new version sha256:/);
  const v1 = tags();
  assert.deepEqual(Object.keys(v1), [SHA1, "latest"]);
  assert.equal(v1[SHA1], v1.latest);

  migrationDir(1, { dir: join(ws, "migrations"), first: 4 });
  assertSteps(await push(ws, SHA2), { "actions/checkout@v4": "not run", "actions/setup-node@v4": "not run", [INSTALL]: "not run", Push: "success" });
  const v2 = tags();
  assert.deepEqual(Object.keys(v2), [SHA1, SHA2, "latest"]);
  assert.equal(v2[SHA1], v1.latest, "the first commit's tag stays");
  assert.equal(v2.latest, v2[SHA2]);
  assert.notEqual(v2.latest, v1.latest);

  const deploy = (tag, token = server.tokens["github-deploy"], ws = scratchDir("deploy-")) =>
    runJob(WORKFLOWS.deploy.jobs.deploy, {
      workspace: ws, // no checkout
      context: { vars: { STRATA_HOOK: server.url }, secrets: { STRATA_DEPLOY_TOKEN: token }, inputs: { tag } },
      env: { GITHUB_EVENT_NAME: "workflow_dispatch" },
    });
  const tables = () => sqlite(server.db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't%' ORDER BY name").map((r) => r.name);

  // Deploy the first commit by its SHA: 3 tables; then latest: the fourth.
  const d1 = await deploy(SHA1);
  assertSteps(d1, { "actions/setup-node@v4": "not run", [INSTALL]: "not run", Apply: "success" });
  assert.match(d1.step("Apply").stdout, /^Plan for target production: app sha256:/);
  assert.match(d1.step("Apply").stdout, /\ndeployment dep_\w+ \(succeeded\)\n$/);
  assert.deepEqual(tables(), ["t1", "t2", "t3"]);
  // With t4 pending: the preview's and the push's tokens cannot deploy; an unknown tag fails; a hostile input stays a string.
  for (const token of [server.tokens["github-preview"], server.tokens["github-push"]]) {
    const refused = await deploy("latest", token);
    assert.equal(refused.failed, true);
    assert.equal(refused.step("Apply").code, 1);
    assert.match(refused.step("Apply").stderr, /forbidden|scope/i);
  }
  const unknown = await deploy("v9");
  assert.equal(unknown.step("Apply").code, 1);
  assert.match(unknown.step("Apply").stderr, /v9/);
  const d2 = await deploy("latest");
  assert.equal(d2.failed, false, d2.step("Apply").stderr);
  assert.deepEqual(tables(), ["t1", "t2", "t3", "t4"]);
  assert.deepEqual(
    sqlite(server.db, "SELECT version FROM atlas_schema_revisions ORDER BY version").map((r) => r.version),
    ["20240101000001", "20240101000002", "20240101000003", "20240101000004"],
  );

  const empty = scratchDir("deploy-");
  const hostile = await deploy("x; touch pwned", undefined, empty);
  assert.equal(hostile.step("Apply").code, 2, hostile.step("Apply").stderr);
  assert.deepEqual(readdirSync(empty), [], "the input ran no command");
  const pushRefused = await runJob(WORKFLOWS.push.jobs.push, {
    workspace: ws,
    context: { vars: { STRATA_REGISTRY: server.url }, secrets: { STRATA_PUSH_TOKEN: server.tokens["github-preview"] } },
    env: { GITHUB_SHA: SHA2 },
  });
  assert.equal(pushRefused.step("Push").code, 1, "a read token cannot push");
});

/** Whether this build's `strata plan` has --base (the preview the pull request workflow runs). */
function planHasBase() {
  return / --base /.test(strata(["plan", "--help"]).stdout);
}

test("pull request: the preview step against a real registry, the comment step against the stand-in, the job's verdict", { timeout: 120_000 }, async (t) => {
  if (!planHasBase()) return t.skip("strata plan --base not built yet");
  if (!needServer(t)) return;
  const server = await productionServer(t);
  const gh = await startGitHub(t);
  const previewJob = (ws, registry = server.url, token = server.tokens["github-preview"]) =>
    runJob(WORKFLOWS.preview.jobs.preview, {
      workspace: ws,
      context: { vars: { STRATA_REGISTRY: registry }, secrets: { STRATA_READ_TOKEN: token }, github: { token: gh.token } },
      env: { GITHUB_API_URL: gh.url, GITHUB_EVENT_PATH: join(ws, "event.json"), GITHUB_EVENT_NAME: "pull_request" },
    });
  const notRun = { "actions/checkout@v4": "not run", "actions/setup-node@v4": "not run", [INSTALL]: "not run" };
  /** Runs the job on `ws`; asserts the preview's exit code, the comment call and the verdict; returns the Markdown. */
  const commented = async (ws, { code, call }) => {
    const job = await previewJob(ws);
    const verdict = code === "1" ? "failure" : "skipped";
    assertSteps(job, { ...notRun, Preview: "success", Comment: "success", "Fail on preview errors": verdict });
    assert.equal(job.step("Preview").outputs.code, code);
    assert.match(job.step("Comment").stdout, new RegExp(`^${call}: `));
    const md = readFileSync(join(ws, "preview.md"), "utf8");
    assert.ok(md.startsWith("<!-- strata:preview app -->\n"), md.slice(0, 200));
    assert.ok(md.length < 65_536);
    assert.deepEqual(gh.comments().map((c) => c.body), [md], "one comment: the preview");
    return md;
  };

  // Before main's first push the registry has no app@latest: warnings only (exit 4), commented, the job passes.
  const ws = checkout(3);
  await commented(ws, { code: "4", call: "created" });

  // main pushes its 3 files as latest; the pull request adds a fourth: clean (exit 0), the same comment edited.
  const main = checkout(3);
  const pushed = strata(["push", "--dir", join(main, "migrations"), "--name", "app", "--registry", server.url], {
    env: { ...runnerEnv(main), STRATA_TOKEN: server.tokens["github-push"] },
  });
  assert.equal(pushed.status, 0, pushed.stderr);
  migrationDir(1, { dir: join(ws, "migrations"), first: 4 });
  const md = await commented(ws, { code: "0", call: "updated" });
  assert.match(md, /20240101000004_t4\.sql/);

  // A later commit edits a file latest has (history rewritten): exit 1, the comment is edited, then the job fails.
  writeFileSync(join(ws, "migrations", "20240101000001_t1.sql"), "CREATE TABLE t1 (id bigint);\n");
  assert.equal(strata(["hash", "--dir", join(ws, "migrations")]).status, 0);
  assert.notEqual(await commented(ws, { code: "1", call: "updated" }), md);
  assert.deepEqual(writes(gh).map((w) => w.split(" ")[0]), ["POST", "PATCH", "PATCH"]);

  // The registry does not answer, or refuses the token: no preview, no comment, the job fails at the preview step.
  const before = gh.requests.length;
  for (const job of [await previewJob(ws, "http://127.0.0.1:9"), await previewJob(ws, server.url, server.tokens["github-push"])]) {
    assertSteps(job, { ...notRun, Preview: "failure", Comment: "skipped", "Fail on preview errors": "skipped" });
    assert.match(job.step("Preview").stdout, /^::error::strata plan wrote no preview \(exit 1\): its error is above\n$/);
    assert.match(job.step("Preview").stderr, /^strata: /);
  }
  assert.equal(gh.requests.length, before, "nothing sent to GitHub");
});
