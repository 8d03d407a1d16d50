// The JavaScript API of the npm package, in Node, on the built wasm module:
// Atlas's conformance data through the API, and the API's contracts.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Directory, DirectoryBuilder, splitStatements, splitFile, statementSpans, sha256, isMigrationFile, sumFileName } from "../../pkg/node.mjs";
import { CONFORMANCE, entries, subdirs, json, scanOptions } from "./helpers.mjs";

const enc = new TextEncoder();
const bytes = (s) => enc.encode(s);
const SUM = join(CONFORMANCE, "atlas-sum");
const LEX = join(CONFORMANCE, "atlas-lex");

describe("conformance through the wasm API", () => {
  const dirs = [...Array.from({ length: 22 }, (_, i) => String(i + 1).padStart(2, "0")), ...subdirs(join(SUM, "synthetic")).map((d) => `synthetic/${d}`)];

  test("atlas.sum of the 22 upstream and 4 synthetic directories is byte-identical", () => {
    assert.equal(dirs.length, 26);
    for (const d of dirs) {
      const dir = new Directory(entries(join(SUM, d)));
      assert.equal(dir.sum(), readFileSync(join(SUM, d, "atlas.sum"), "utf8"), d);
      assert.deepEqual(dir.verify(), { ok: true }, d);
    }
  });

  test("validation outcomes match Atlas's", () => {
    const cases = subdirs(join(SUM, "validate"));
    assert.equal(cases.length, 11);
    for (const c of cases) {
      const want = json(join(SUM, "validate", c, "expected.json"));
      const got = new Directory(entries(join(SUM, "validate", c))).verify();
      if (want.error === null) {
        assert.deepEqual(got, { ok: true }, c);
        continue;
      }
      assert.equal(got.ok, false, c);
      assert.equal(got.message, want.error, c);
      assert.equal(got.atlasKind, want.kind, c);
      if (want.kind === "ChecksumError") {
        assert.deepEqual(
          { line: got.sumLine, total: got.total, pos: got.pos, file: got.file, reason: got.reason },
          { line: want.line, total: want.total, pos: want.pos, file: want.file, reason: want.reason },
          c,
        );
        assert.equal(got.detail, `L${want.line}: ${want.file} was ${want.reason}`);
      }
      assert.ok(got.hint.length > 0, c);
    }
  });

  test("the 28 golden files split identically", () => {
    const suites = json(join(LEX, "suites.json"));
    assert.equal(Object.keys(suites).length, 28);
    for (const [path, opts] of Object.entries(suites)) {
      const got = splitStatements(readFileSync(join(LEX, path), "utf8"), scanOptions(opts));
      assert.equal(got.map((s) => s.text).join("\n-- end --\n"), readFileSync(join(LEX, `${path}.golden`), "utf8"), path);
    }
  });

  const compare = (label, input, c) => {
    const opts = scanOptions(c.options);
    if (c.error !== null) {
      assert.throws(() => splitStatements(input, opts), (e) => e.message === c.error, label);
      return;
    }
    const got = splitStatements(input, opts).map(({ pos, text, comments }) => ({ pos, text, comments }));
    assert.deepEqual(got, c.stmts, label);
  };

  test("generated positions and comments for every upstream input", () => {
    let n = 0;
    for (const suite of subdirs(join(LEX, "generated"))) {
      for (const name of readdirSync(join(LEX, "generated", suite)).filter((n) => n.endsWith(".json")).sort()) {
        const c = json(join(LEX, "generated", suite, name));
        compare(`${suite}/${name}`, readFileSync(join(LEX, c.input), "utf8"), c);
        n++;
      }
    }
    assert.equal(n, 28);
  });

  test("the 328 edge cases", () => {
    const cases = json(join(LEX, "generated", "edge-cases.json"));
    assert.equal(cases.length, 328);
    cases.forEach((c, i) => compare(`edge case ${i} (${c.label})`, c.input, c));
  });
});

describe("Directory", () => {
  const S1 = [
    { name: "20240101000000_init.sql", bytes: bytes("CREATE TABLE t1 (id int);\n") },
    { name: "20240102000000_add_users.sql", bytes: bytes("CREATE TABLE users (id int);\n") },
  ];

  test("orders files bytewise, ignores non-migrations, keeps atlas.sum", () => {
    const dir = new Directory([
      { name: "9.sql", bytes: bytes("") },
      { name: "10.sql", bytes: bytes("") },
      { name: "notes.txt", bytes: bytes("x") },
      { name: "atlas.sum", bytes: bytes("h1:x\n") },
    ]);
    assert.deepEqual(dir.files.map((f) => f.name), ["10.sql", "9.sql"]);
    assert.equal(dir.sumFile, "h1:x\n");
    assert.equal(dir.dialect, "generic");
    assert.equal(dir.file("nope.sql"), undefined);
  });

  test("files expose version, description, directives, statements and bytes", () => {
    const dir = new Directory(
      [{ name: "20240101000000_add_users.sql", bytes: bytes("-- atlas:txmode none\n\n-- users\nCREATE TABLE u (id int);\nDROP TABLE v;") }],
      { dialect: "postgres" },
    );
    const [f] = dir.files;
    assert.equal(f.version, "20240101000000");
    assert.equal(f.description, "add_users");
    assert.deepEqual(f.directives, [{ name: "txmode", args: "none" }]);
    assert.equal(f.isCheckpoint, false);
    assert.equal(f.sumIgnored, false);
    assert.deepEqual(f.statements, [
      { pos: 31, line: 4, start: 31, end: 55, text: "CREATE TABLE u (id int);", comments: ["-- users\n"] },
      { pos: 56, line: 5, start: 56, end: 69, text: "DROP TABLE v;", comments: [] },
    ]);
    assert.ok(f.bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(f.bytes).length, 69);
    assert.deepEqual(f.warnings, []);
    assert.deepEqual(f.statementsFor("mysql").length, 2);
  });

  test("verify names the file and the reason", () => {
    const sum = new Directory(S1).sum();
    const edited = new Directory([S1[0], { name: S1[1].name, bytes: bytes("x") }]);
    const r = edited.verify(sum);
    assert.equal(r.ok, false);
    assert.equal(r.file, "20240102000000_add_users.sql");
    assert.equal(r.reason, "edited");
    assert.equal(r.sumLine, 3);
    assert.equal(r.code, "checksum-mismatch");
    // Bytes work as well as text.
    assert.deepEqual(new Directory(S1).verify(bytes(sum)), { ok: true });
    assert.equal(new Directory(S1).verify().atlasKind, "ErrChecksumNotFound");
  });

  test("bad entries throw StrataErrors naming the file", () => {
    const throwsCode = (fn, code, file) =>
      assert.throws(fn, (e) => e.name === "StrataError" && e.code === code && (file === undefined || e.file === file) && e.hint.length > 0);
    throwsCode(() => new Directory([{ name: "a/1.sql", bytes: bytes("") }]), "invalid-file-name", "a/1.sql");
    throwsCode(() => new Directory([{ name: "../1.sql", bytes: bytes("") }]), "invalid-file-name", "../1.sql");
    throwsCode(() => new Directory([{ name: "1.sql", bytes: bytes("") }, { name: "1.sql", bytes: bytes("") }]), "duplicate-file-name");
    throwsCode(() => new Directory([{ name: "1.sql", bytes: "text" }]), "invalid-entries");
    throwsCode(() => new Directory("nope"), "invalid-entries");
    throwsCode(() => new Directory([{ name: "1.sql", bytes: bytes("12345") }], { maxFileSize: 4 }), "file-too-large", "1.sql");
  });

  test("DirectoryBuilder adds entries one at a time", () => {
    const b = new DirectoryBuilder({ dialect: "mysql" });
    for (const e of S1) b.add(e.name, e.bytes);
    const dir = b.finish();
    assert.equal(dir.sum(), new Directory(S1).sum());
    assert.equal(dir.dialect, "mysql");
    assert.throws(() => b.add("x.sql", bytes("")), "a finished builder is used up");
    const small = new DirectoryBuilder({ maxFileSize: 2 });
    assert.throws(() => small.add("1.sql", bytes("123")), (e) => e.code === "file-too-large" && e.file === "1.sql");
    const dup = new DirectoryBuilder();
    dup.add("1.sql", bytes(""));
    dup.add("1.sql", bytes(""));
    assert.throws(() => dup.finish(), (e) => e.code === "duplicate-file-name");
  });

  test("a 100 MB file is refused by the default limit, naming it", () => {
    const big = new Uint8Array(100 * 1024 * 1024);
    assert.throws(
      () => new Directory([{ name: "1_big.sql", bytes: big }]),
      (e) => e.code === "file-too-large" && e.file === "1_big.sql" && /104857600 bytes/.test(e.message),
    );
  });

  test("statements of a non-UTF-8 file throw with file, line and column", () => {
    const dir = new Directory([{ name: "1.sql", bytes: Uint8Array.from([...bytes("SELECT 1;\nSELECT '"), 0xff, ...bytes("';")]) }]);
    assert.throws(
      () => dir.files[0].statements,
      (e) => e.code === "not-utf8" && e.file === "1.sql" && e.line === 2 && e.column === 9 && e.summary === "1.sql:2:9: invalid UTF-8 at byte 18",
    );
    // The sum covers raw bytes and does not care.
    assert.match(dir.sum(), /^h1:/);
  });

  test("unterminated strings are errors; unterminated comments and blocks are warnings", () => {
    const dir = new Directory([
      { name: "1.sql", bytes: bytes("SELECT 1;\nSELECT 'oops;\n") },
      { name: "2.sql", bytes: bytes("SELECT 1; /* oops\nSELECT 2;") },
      { name: "3.sql", bytes: bytes("CREATE TRIGGER t AFTER INSERT ON x BEGIN\nSELECT 1;") },
    ], { dialect: "sqlite" });
    assert.throws(() => dir.file("1.sql").statements, (e) => e.message === "2:8: unclosed quote '\\''" && e.file === "1.sql" && e.line === 2);
    assert.deepEqual(dir.file("2.sql").warnings.map((w) => [w.code, w.line, w.column]), [["unterminated-comment", 1, 11]]);
    assert.deepEqual(dir.file("3.sql").warnings.map((w) => [w.code, w.line, w.column]), [["unclosed-block", 1, 36]]);
  });
});

describe("functions", () => {
  test("splitStatements takes a dialect name or scanner options", () => {
    assert.deepEqual(splitStatements("# c\nSELECT 1;").map((s) => s.text), ["# c\nSELECT 1;"]);
    assert.deepEqual(splitStatements("# c\nSELECT 1;", "mysql").map((s) => s.text), ["SELECT 1;"]);
    assert.deepEqual(splitStatements("# c\nSELECT 1;", { hashComments: true }).map((s) => s.text), ["SELECT 1;"]);
    assert.throws(() => splitStatements("x", "oracle"), (e) => e.code === "unknown-dialect");
    assert.throws(() => splitStatements("x", { matchbegin: true }), (e) => e.code === "invalid-options" && /matchbegin/.test(e.message));
    assert.throws(() => splitStatements("x", { matchBegin: "yes" }), (e) => e.code === "invalid-options");
    assert.throws(() => splitStatements("(x"), (e) => e.message === "1:1: unclosed '('" && e.line === 1);
  });

  test("splitFile returns statements and warnings", () => {
    const r = splitFile("a.sql", bytes("SELECT $$ x;"), "postgres");
    assert.deepEqual(r.statements.map((s) => s.text), ["SELECT $$ x;"]);
    assert.equal(r.warnings[0].code, "unterminated-dollar-quote");
  });

  test("statementSpans gives the same places as splitFile, as numbers", () => {
    const sql = bytes("-- a\nSELECT 'é';\n\nCREATE TABLE t (x int);\n");
    const spans = statementSpans(sql, "postgres");
    assert.ok(spans instanceof Uint32Array);
    const full = splitFile("x.sql", sql, "postgres").statements;
    assert.deepEqual(Array.from(spans), full.flatMap((s) => [s.start, s.end, s.line, s.pos]));
    assert.equal(new TextDecoder().decode(sql.subarray(spans[0], spans[1])), "SELECT 'é';");
    assert.throws(() => statementSpans(Uint8Array.of(0xff), "generic"), (e) => e.code === "not-utf8");
  });

  test("sha256, isMigrationFile, sumFileName", () => {
    assert.equal(sha256(bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(isMigrationFile("1_a.sql"), true);
    assert.equal(isMigrationFile("1_a.SQL"), false);
    assert.equal(sumFileName(), "atlas.sum");
  });
});
