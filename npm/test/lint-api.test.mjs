// lint() and preview() of the npm package (npm/lint.mjs over the lint
// module, pkg/lint/), in Node: results, errors, rendering, and that
// importing the package does not load the lint module.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Directory, lint, preview } from "../../pkg/node.mjs";
import * as lintEntry from "../../pkg/lint.mjs";
import { PKG, SHOW, launchChromium, needDevTools, page, runPage, serve } from "./helpers.mjs";

const enc = new TextEncoder();
const file = (name, text) => ({ name, bytes: enc.encode(text) });
const INIT = file("1_init.sql", "CREATE TABLE users (id int, name text);\n");
const dir = (...files) => ({ files: [INIT, ...files], dialect: "postgres" });
const withSum = (files) => [...files, file("atlas.sum", new Directory(files).sum())];

function throwsStrata(fn, code, pattern) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, "StrataError");
    assert.equal(e.code, code);
    if (pattern) assert.match(e.message, pattern);
    assert.ok(e.hint, "every error says what to do");
    return true;
  });
}

describe("lint()", () => {
  test("a DROP TABLE is DS102, an error with file, line, statement and hint", () => {
    const r = lint(dir(file("2_drop.sql", "SELECT 1;\nDROP TABLE users;\n")), { files: ["2_drop.sql"] });
    assert.equal(r.findings.length, 1);
    const [f] = r.findings;
    assert.equal(f.code, "DS102");
    assert.equal(f.analyzer, "destructive");
    assert.equal(f.severity, "error");
    assert.equal(f.file, "2_drop.sql");
    assert.equal(f.line, 2);
    assert.equal(f.statement, "DROP TABLE users;");
    assert.match(f.message, /users/);
    assert.ok(f.hint.length > 0);
    assert.deepEqual([r.errors, r.warnings, r.unparsed], [1, 0, []]);
    // The methods are not part of the document.
    assert.deepEqual(Object.keys(r), ["findings", "unparsed", "errors", "warnings"]);
    assert.equal(JSON.parse(JSON.stringify(r)).findings[0].code, "DS102");
  });

  test("files defaults to all; the others are the existing schema", () => {
    const d = dir(file("2_drop.sql", "DROP TABLE users;\n"));
    assert.equal(lint(d).findings[0].code, "DS102");
    // users is created in 1_init.sql: linting both files, it is no longer an existing table.
    assert.equal(lint(d, { files: ["1_init.sql"] }).findings.length, 0);
  });

  test("atlas:nolint is honoured", () => {
    const r = lint(dir(file("2_drop.sql", "-- atlas:nolint DS102\nDROP TABLE users;\n")), { files: ["2_drop.sql"] });
    assert.deepEqual(r.findings, []);
    assert.equal(r.errors, 0);
  });

  test("an unparsable statement is an ST001 warning, not a throw", () => {
    const r = lint(dir(file("2_bad.sql", "SELEKT 1;\nDROP TABLE users;\n")), { files: ["2_bad.sql"] });
    assert.equal(r.unparsed.length, 1);
    assert.equal(r.unparsed[0].code, "ST001");
    assert.equal(r.unparsed[0].severity, "warning");
    assert.equal(r.unparsed[0].file, "2_bad.sql");
    assert.equal(r.findings[0].code, "DS102", "the run goes on after it");
    assert.deepEqual([r.errors, r.warnings], [1, 1]);
  });

  test("a Directory of the main module and a plain object give the same result", () => {
    const files = withSum([INIT, file("2_drop.sql", "ALTER TABLE users DROP COLUMN name;\n")]);
    const d = new Directory(files, { dialect: "postgres" });
    const a = lint(d, { files: ["2_drop.sql"] });
    const b = lint({ files, dialect: "postgres" }, { files: ["2_drop.sql"] });
    assert.equal(a.findings[0].code, "DS103");
    assert.deepEqual(a, b);
    assert.equal(a.toMarkdown(), b.toMarkdown());
    // The option overrides the directory's dialect; without either, generic.
    assert.equal(lint(d, { dialect: "mysql" }).findings[0].code, "DS103");
    d.free();
  });

  test("toMarkdown() and toText() are the core's renderings of the findings", () => {
    const r = lint(dir(file("2_drop.sql", "DROP TABLE users;\n")), { files: ["2_drop.sql"] });
    const md = r.toMarkdown();
    assert.ok(md.startsWith("### Lint\n\n❌ **1 error.**\n\n| | Code | Where | Finding | Fix |\n"), md);
    assert.match(md, /\| ❌ error \| `DS102` \| `2_drop\.sql:1` \| Dropping table "users" \|/);
    assert.match(r.toText(), /^  2_drop\.sql:1: error DS102 \(destructive\): Dropping table "users"\n    hint: .*\n1 error, 0 warnings\n$/);
    assert.equal(r.toMarkdown(), md, "rendered once, kept");
  });

  test("bad input throws a StrataError saying what and what to do", () => {
    throwsStrata(() => lint(null), "invalid-directory", /the directory is null/);
    throwsStrata(() => lint("migrations/"), "invalid-directory", /is string/);
    throwsStrata(() => lint({ files: "x" }), "invalid-directory", /no `files` array/);
    throwsStrata(() => lint({ files: [{ name: "1.sql", bytes: "SELECT 1;" }] }), "invalid-directory", /files\[0\]/);
    throwsStrata(() => lint(dir(), { dialekt: "pg" }), "invalid-options", /unknown field `dialekt`/);
    throwsStrata(() => lint(dir(), "postgres"), "invalid-options", /must be an object/);
    throwsStrata(() => lint(dir(), { dialect: "oracle" }), "unknown-dialect", /oracle/);
    throwsStrata(() => lint(dir(), { files: ["2_x.sql"] }), "unknown-file", /2_x\.sql/);
    throwsStrata(() => lint({ files: [INIT, INIT] }), "duplicate-file-name");
  });
});

describe("preview()", () => {
  const ADD = file("2_add.sql", "CREATE TABLE posts (id int);\n");
  const local = (files) => ({ files: withSum(files), dialect: "postgres" });
  const options = { name: "app", baseRef: "app@latest", baseVersion: "sha256:" + "0".repeat(64) };

  test("new files against a base: the strata.preview/v1 document, exit code 0, the marker first", () => {
    const p = preview(local([INIT, ADD]), { files: [INIT] }, options);
    assert.equal(p.format, "strata.preview/v1");
    assert.equal(p.name, "app");
    assert.deepEqual(p.base, { reference: "app@latest", version: options.baseVersion, found: true, files: 1 });
    assert.deepEqual(p.newFiles.map((f) => f.name), ["2_add.sql"]);
    assert.deepEqual(p.newFiles[0].statements, [{ line: 1, text: "CREATE TABLE posts (id int);" }]);
    assert.equal(p.sumOk, true);
    assert.equal(p.exitCode, 0);
    assert.ok(p.toMarkdown().startsWith("<!-- strata:preview app -->\n"));
    assert.match(p.toText(), /2_add\.sql/);
    assert.ok(!Object.keys(p).includes("toMarkdown"));
  });

  test("a changed base file is an error (exit code 1); a lint error too", () => {
    const edited = file("1_init.sql", "CREATE TABLE users (id bigint, name text);\n");
    const p = preview(local([edited, ADD]), { files: [INIT] }, options);
    assert.equal(p.exitCode, 1);
    assert.deepEqual(p.changed, ["1_init.sql"]);
    assert.equal(p.problems[0].code, "history-rewritten");
    assert.equal(p.problems[0].severity, "error");
    const drop = preview(local([INIT, file("2_drop.sql", "DROP TABLE users;\n")]), { files: [INIT] }, options);
    assert.equal(drop.exitCode, 1);
    assert.equal(drop.lint.findings[0].code, "DS102");
    assert.match(drop.toMarkdown(), /DS102/);
  });

  test("no base (the tag does not exist yet): every file is new, a warning (exit code 4)", () => {
    const p = preview(new Directory(withSum([INIT, ADD]), { dialect: "postgres" }), null, { name: "app" });
    assert.equal(p.base.found, false);
    assert.equal(p.base.reference, "app@latest", "baseRef defaults to NAME@latest");
    assert.equal(p.newFiles.length, 2);
    assert.equal(p.problems[0].code, "base-missing");
    assert.equal(p.exitCode, 4);
  });

  test("a target's revisions, as Hook#revisions resolves them, are planned", () => {
    const revisions = { target: "prod", dialect: "postgres", revisions: [], notClean: null, tableMissing: true };
    const p = preview(local([INIT, ADD]), { files: [INIT] }, { ...options, target: { name: "prod", revisions } });
    assert.equal(p.target.name, "prod");
    assert.equal(p.target.dialect, "postgres");
    assert.deepEqual(p.target.plan.files.map((f) => f.name), ["1_init.sql", "2_add.sql"]);
    assert.match(p.toMarkdown(), /On target `prod` now/);
    // A database refusing the plan (not clean) is an error of the preview.
    const dirty = { ...revisions, notClean: 'found table "x"' };
    const q = preview(local([INIT, ADD]), { files: [INIT] }, { ...options, target: { name: "prod", revisions: dirty } });
    assert.equal(q.exitCode, 1);
    assert.equal(q.target.plan, null);
  });

  test("bad options throw", () => {
    throwsStrata(() => preview(local([INIT]), null, {}), "invalid-options", /need `name`/);
    throwsStrata(() => preview(local([INIT]), null, { name: "app", base: "x" }), "invalid-options", /unknown field `base`/);
    throwsStrata(
      () => preview(local([INIT]), null, { name: "app", target: { name: "prod", revisions: 3 } }),
      "invalid-options",
      /target\.revisions/,
    );
    throwsStrata(() => preview(local([INIT]), 7, { name: "app" }), "invalid-directory", /the base directory is number/);
    throwsStrata(() => preview(local([INIT]), { files: [INIT, INIT] }, { name: "app" }), "duplicate-file-name");
  });
});

test("importing the package does not instantiate the lint module; the first lint() does", () => {
  // A child process, to watch every instantiation from the start.
  const script = `
    const seen = [];
    const Instance = WebAssembly.Instance;
    WebAssembly.Instance = class extends Instance {
      constructor(m, i) { super(m, i); seen.push(WebAssembly.Module.exports(m).some((e) => e.name === "lint")); }
    };
    const strata = await import(${JSON.stringify(new URL("../../pkg/node.mjs", import.meta.url).href)});
    await import(${JSON.stringify(new URL("../../pkg/lint.mjs", import.meta.url).href)});
    const before = [...seen];
    strata.lint({ files: [] });
    strata.lint({ files: [] });
    console.log(JSON.stringify({ before, after: seen }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.deepEqual(out, { before: [false], after: [false, true] });
});

test("strata/lint exports lint, preview, init and initSync; the Node entry's lint and preview give the same results", () => {
  const files = [
    { name: "1_init.sql", bytes: new TextEncoder().encode("CREATE TABLE users (id int);\n") },
    { name: "2_drop.sql", bytes: new TextEncoder().encode("DROP TABLE users;\n") },
  ];
  const d = { files, dialect: "postgres" };
  assert.deepEqual(lintEntry.lint(d, { files: ["2_drop.sql"] }), lint(d, { files: ["2_drop.sql"] }));
  assert.equal(lintEntry.preview(d, null, { name: "app" }).toMarkdown(), preview(d, null, { name: "app" }).toMarkdown());
  assert.equal(typeof lintEntry.default, "function");
  assert.equal(typeof lintEntry.initSync, "function");
});

const BROWSER_MAIN = `import init, { lint } from "/pkg/lint.mjs";
import { show } from "/show.js";
try {
  let before;
  try {
    lint({ files: [] });
  } catch (e) {
    before = e.code;
  }
  await init();
  const enc = new TextEncoder();
  const files = [
    { name: "1_init.sql", bytes: enc.encode("CREATE TABLE users (id int);\\n") },
    { name: "2_drop.sql", bytes: enc.encode("DROP TABLE users;\\n") },
  ];
  const r = lint({ files, dialect: "postgres" }, { files: ["2_drop.sql"] });
  show({ before, codes: r.findings.map((f) => f.code), heading: r.toMarkdown().split("\\n")[0] });
} catch (e) {
  show({ failed: String((e && e.stack) || e) });
}
`;

test("strata/lint in Chromium: init() fetches the lint module (and not the main one), then lint() works", { timeout: 60_000 }, async (t) => {
  if (!needDevTools(t, "playwright-core")) return;
  const server = await serve(PKG, { "/": page("/main.js"), "/main.js": BROWSER_MAIN, "/show.js": SHOW }, "/pkg/");
  t.after(server.close);
  const browser = await launchChromium(t);
  const result = await runPage(browser, `${server.url}/`);
  assert.deepEqual(result, { before: "lint-not-loaded", codes: ["DS102"], heading: "### Lint" });
  const wasm = server.served.filter((r) => r.path.endsWith(".wasm"));
  assert.deepEqual(wasm, [{ path: "/pkg/lint/strata_lint_bg.wasm", status: 200, type: "application/wasm" }]);
});
