// The `strata` command, run as a user runs it: a child process on real files.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync, appendFileSync, existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { CONFORMANCE, copyDir, json, strata, subdirs, tempDir } from "./helpers.mjs";

const SUM = join(CONFORMANCE, "atlas-sum");
const LEX = join(CONFORMANCE, "atlas-lex");

describe("strata hash", () => {
  test("writes atlas.sum byte-identical to Atlas for every conformance directory", () => {
    const dirs = [...Array.from({ length: 22 }, (_, i) => String(i + 1).padStart(2, "0")), ...subdirs(join(SUM, "synthetic")).map((d) => `synthetic/${d}`)];
    for (const d of dirs) {
      const dir = copyDir(join(SUM, d), { without: ["atlas.sum"] });
      const r = strata(["hash", "--dir", dir]);
      assert.equal(r.status, 0, `${d}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.deepEqual(readFileSync(join(dir, "atlas.sum")), readFileSync(join(SUM, d, "atlas.sum")), d);
    }
  });

  test("overwrites a stale sum and defaults to ./migrations", () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, "migrations"));
    writeFileSync(join(cwd, "migrations", "1_a.sql"), "SELECT 1;");
    writeFileSync(join(cwd, "migrations", "atlas.sum"), "stale");
    const r = strata(["hash"], { cwd });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(cwd, "migrations", "atlas.sum"), "utf8"), // Independently: base64(sha256("1_a.sql" "SELECT 1;")), and the total over name and hash.
      "h1:HsCV3ocx4bNYNSE7l4dXr4Wd0Qf3cfmlJvlqlDevJ+Y=\n1_a.sql h1:KM4OGmi0DEXiHMqoAbfLYUDaQelcRs/ZJLaef6tji4g=\n");
  });
});

describe("strata verify", () => {
  test("exits 0 on the conformance directories", () => {
    for (const d of ["01", "14", "22", "synthetic/s2", "synthetic/s4"]) {
      const r = strata(["verify", "--dir", join(SUM, d)]);
      assert.equal(r.status, 0, `${d}: ${r.stderr}`);
      assert.match(r.stdout, /atlas\.sum: ok/);
    }
  });

  test("exits 1 with Atlas's message for every validation case", () => {
    for (const c of subdirs(join(SUM, "validate"))) {
      const want = json(join(SUM, "validate", c, "expected.json"));
      const r = strata(["verify", "--dir", join(SUM, "validate", c)]);
      if (want.error === null) {
        assert.equal(r.status, 0, `${c}: ${r.stderr}`);
        continue;
      }
      assert.equal(r.status, 1, c);
      let expected = "You have a checksum error in your migration directory.\n";
      if (want.kind === "ChecksumError") expected += `\n\tL${want.line}: ${want.file} was ${want.reason}\n\n`;
      expected += "Please check your migration files and run 'strata hash' to re-hash the contents\n\n";
      expected += `Error: ${want.error}\n`;
      assert.equal(r.stderr, expected, c);
    }
  });

  test("--json prints the structured result", () => {
    const r = strata(["verify", "--json", "--dir", join(SUM, "validate", "removed")]);
    assert.equal(r.status, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.file, "20240102000000_add_users.sql");
    assert.equal(out.reason, "removed");
    assert.equal(out.sumLine, 3);
  });
});

describe("strata statements", () => {
  test("--json equals Atlas's splitter output (generated cases whose options are a dialect profile)", () => {
    const profiles = {
      generic: ["MatchBeginAtomic", "MatchDollarQuote"],
      mysql: ["BackslashEscapes", "HashComments", "MatchBegin"],
      postgres: ["EscapedStringExt", "MatchBegin", "MatchBeginAtomic", "MatchDollarQuote"],
      sqlite: ["MatchBegin"],
    };
    const dialectOf = (opts) => Object.keys(profiles).find((d) => JSON.stringify(profiles[d]) === JSON.stringify([...opts].sort()));
    const dir = tempDir();
    let n = 0;
    const cases = [
      ...json(join(LEX, "generated", "edge-cases.json")).slice(0, 28),
      ...["1_trigger", "2_function", "3_delimiter"].map((f) => {
        const c = json(join(LEX, "generated", "lexgroup", `${f}.sql.json`));
        return { ...c, input: readFileSync(join(LEX, c.input), "utf8") };
      }),
    ];
    for (const c of cases) {
      const dialect = dialectOf(c.options);
      if (!dialect || c.error !== null) continue;
      const file = join(dir, `case${n++}.sql`);
      writeFileSync(file, c.input);
      const r = strata(["statements", file, "--dialect", dialect, "--json"]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), c.stmts, c.input);
    }
    assert.ok(n >= 15, `${n} cases`);
  });

  test("prints statements as text with their comments and lines", () => {
    const file = join(tempDir(), "1.sql");
    writeFileSync(file, "-- one\nSELECT 1;\n\nSELECT 2;\n");
    const r = strata(["statements", file]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, "-- statement 1 (line 2)\n-- one\nSELECT 1;\n\n-- statement 2 (line 4)\nSELECT 2;\n\n");
  });

  test("an unterminated string is an error naming the file and position", () => {
    const file = join(tempDir(), "3_bad.sql");
    writeFileSync(file, "SELECT 1;\nSELECT 'oops;\n");
    const r = strata(["statements", file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^strata: 3_bad\.sql: 2:8: unclosed quote '\\''\nhint: /);
  });

  test("unterminated comments, dollar quotes and blocks are warnings with positions", () => {
    const dir = tempDir();
    const cases = [
      ["c.sql", "SELECT 1; /* oops\nSELECT 2;", "generic", "1:11: unterminated /* comment"],
      ["d.sql", "SELECT 1;\nSELECT $x$ y;", "postgres", "2:8: unterminated dollar quote"],
      ["b.sql", "CREATE TRIGGER t AFTER INSERT ON x BEGIN\nSELECT 1;", "sqlite", "1:36: BEGIN opens a block that no END closes"],
    ];
    for (const [name, sql, dialect, want] of cases) {
      writeFileSync(join(dir, name), sql);
      const r = strata(["statements", join(dir, name), "--dialect", dialect]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stderr.startsWith(`warning: ${join(dir, name)}:${want}`), r.stderr);
      assert.match(r.stderr, /\nhint: /);
    }
  });

  test("non-UTF-8 bytes are an error with file, line and column", () => {
    const file = join(tempDir(), "2_latin1.sql");
    writeFileSync(file, Buffer.from([...Buffer.from("SELECT 1;\nSELECT '"), 0xe9, ...Buffer.from("';\n")]));
    const r = strata(["statements", file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^strata: 2_latin1\.sql:2:9: invalid UTF-8 at byte 18\nhint: save the file as UTF-8\n$/);
  });
});

describe("bad directories", () => {
  test("a directory entry named x.sql is an error naming it", () => {
    const dir = copyDir(join(SUM, "synthetic", "s1"));
    mkdirSync(join(dir, "x.sql"));
    for (const cmd of ["hash", "verify"]) {
      const r = strata([cmd, "--dir", dir]);
      assert.equal(r.status, 1, cmd);
      assert.match(r.stderr, /^strata: read file "x\.sql": is a directory\nhint: /, cmd);
    }
  });

  test("a 100 MB file is refused with its name, and --max-file-size raises the limit", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "1_big.sql"), Buffer.alloc(100 * 1024 * 1024, 0x20));
    const r = strata(["hash", "--dir", dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^strata: 1_big\.sql: 1_big\.sql: file is 104857600 bytes, over the limit of 67108864 bytes/);
    assert.ok(!existsSync(join(dir, "atlas.sum")));
    const ok = strata(["hash", "--dir", dir, "--max-file-size", "128m"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(readFileSync(join(dir, "atlas.sum"), "utf8"), /^h1:.*\n1_big\.sql h1:/);
    unlinkSync(join(dir, "1_big.sql"));
  });

  test("a missing directory, and a sum that is missing", () => {
    const r = strata(["verify", "--dir", "/nonexistent/strata"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read the migration directory "\/nonexistent\/strata": ENOENT/);
    const dir = copyDir(join(SUM, "synthetic", "s1"), { without: ["atlas.sum"] });
    const v = strata(["verify", "--dir", dir]);
    assert.equal(v.status, 1);
    assert.match(v.stderr, /Error: checksum file not found\n$/);
    appendFileSync(join(dir, "atlas.sum"), "");
    assert.equal(strata(["verify", "--dir", dir]).status, 1);
  });
});

describe("usage", () => {
  test("every command has --help, exit 0", () => {
    for (const args of [["--help"], ["hash", "--help"], ["verify", "-h"], ["statements", "--help"], ["plan", "--help"], ["status", "--help"], ["help", "verify"]]) {
      const r = strata(args);
      assert.equal(r.status, 0, args.join(" "));
      assert.match(r.stdout, /Usage:/, args.join(" "));
    }
    assert.match(strata(["--version"]).stdout, /^strata \d+\.\d+\.\d+\n$/);
  });

  test("usage errors go to stderr with exit 2", () => {
    for (const args of [[], ["frobnicate"], ["hash", "--nope"], ["statements"], ["plan"], ["status", "--dir"], ["statements", "a.sql", "b.sql"], ["statements", "a.sql", "--dialect", "oracle"], ["hash", "--max-file-size", "lots"], ["help", "nope"]]) {
      const r = strata(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "", args.join(" "));
      assert.ok(r.stderr.length > 0, args.join(" "));
    }
  });
});
