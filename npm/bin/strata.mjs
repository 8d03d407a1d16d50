#!/usr/bin/env node
// The `strata` command. This file only parses arguments and reads and writes
// files; every rule (which files are migrations, the sum, splitting,
// validation, error texts) is in the WebAssembly core.
//
// Exit codes: 0 success, 1 failure, 2 usage error.

import { readdirSync, readFileSync, statSync, writeFileSync, renameSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { DirectoryBuilder, splitFile, isMigrationFile, sumFileName } from "../node.mjs";

const VERSION = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

const HELP = {
  main: `strata ${VERSION}: Atlas-compatible SQL migration directories

Usage:
  strata hash [--dir DIR]                       write DIR/atlas.sum, like 'atlas migrate hash'
  strata verify [--dir DIR] [--json]            check DIR/atlas.sum, like 'atlas migrate validate'
  strata statements FILE [--dialect D] [--json] print the statements of a SQL file

  strata help COMMAND, strata COMMAND --help    help for one command
  strata --version                              print the version

Exit codes: 0 success, 1 failure, 2 usage error.
`,
  hash: `Usage: strata hash [--dir DIR] [--max-file-size SIZE]

Computes the checksum of every migration file in DIR (default: migrations)
and writes DIR/atlas.sum, byte-identical to 'atlas migrate hash'. Migration
files are the *.sql files at the top of DIR; other entries are ignored.

Options:
  --dir DIR              the migration directory (default: migrations)
  --max-file-size SIZE   refuse files larger than SIZE (bytes, or with a
                         k, m or g suffix; default 64m)
  -h, --help             show this help
`,
  verify: `Usage: strata verify [--dir DIR] [--json] [--max-file-size SIZE]

Checks DIR/atlas.sum against the migration files in DIR (default:
migrations), like 'atlas migrate validate'. Exits 0 when it matches and 1
otherwise, printing Atlas's message: which line of atlas.sum, which file,
and whether it was added, edited or removed.

Options:
  --dir DIR              the migration directory (default: migrations)
  --json                 print the result as JSON on stdout
  --max-file-size SIZE   refuse files larger than SIZE (default 64m)
  -h, --help             show this help
`,
  statements: `Usage: strata statements FILE [--dialect D] [--json]

Splits a SQL file into statements exactly as Atlas does and prints them.

Options:
  --dialect D   generic (default), mysql, postgres, sqlite or sqlserver:
                selects Atlas's splitting rules for that database
  --json        print a JSON array of {pos, text, comments}; pos is Atlas's
                byte position
  -h, --help    show this help
`,
};

class UsageError extends Error {}

// A closed pipe (strata statements f.sql | head) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

function out(s) {
  process.stdout.write(s);
}

function err(s) {
  process.stderr.write(s);
}

/** Prints a StrataError (or any error) with its location and hint. */
function report(e) {
  err(`strata: ${e?.summary ?? e?.message ?? e}\n`);
  if (e?.detail) err(`  ${e.detail}\n`);
  if (e?.hint) err(`hint: ${e.hint}\n`);
}

function parseSize(s) {
  const m = /^(\d+)([kmg]?)i?b?$/i.exec(String(s).trim());
  if (!m) throw new UsageError(`invalid size ${JSON.stringify(s)}: use bytes or a number with k, m or g`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
  return Number(m[1]) * mult;
}

class IoError extends Error {
  constructor(message, hint) {
    super(message);
    this.code = "io";
    this.hint = hint;
  }
}

/** Prints a splitter warning: Atlas accepts the input, but it is suspect. */
function warn(file, w) {
  err(`warning: ${file}:${w.line}:${w.column}: ${w.message}\nhint: ${w.hint}\n`);
}

/**
 * Reads the top level of a migration directory into `builder`, one file at a
 * time (each file's bytes go into WebAssembly memory and are dropped here).
 */
function readDirectory(dir, builder) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new IoError(
      `cannot read the migration directory ${JSON.stringify(dir)}: ${e.code ?? e.message}`,
      "pass the folder that holds the .sql files with --dir",
    );
  }
  for (const entry of entries) {
    if (!isMigrationFile(entry.name) && entry.name !== sumFileName()) continue;
    const path = join(dir, entry.name);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new IoError(`read file ${JSON.stringify(entry.name)}: ${e.code ?? e.message}`, "check the file's permissions and links");
    }
    if (!st.isFile()) {
      throw new IoError(
        `read file ${JSON.stringify(entry.name)}: is a ${st.isDirectory() ? "directory" : "special file"}`,
        "a migration directory holds files only; rename or move it so its name does not end in .sql",
      );
    }
    builder.add(entry.name, readFileSync(path));
  }
  return builder.finish();
}

function options(argv, spec, { positionals = 0 } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" }, ...spec }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
  if (!parsed.values.help && parsed.positionals.length !== positionals) {
    throw new UsageError(
      positionals ? `expected ${positionals} argument(s), got ${parsed.positionals.length}` : `unexpected argument ${JSON.stringify(parsed.positionals[0])}`,
    );
  }
  return parsed;
}

function openDirectory(values) {
  const dir = values.dir ?? "migrations";
  const maxFileSize = values["max-file-size"] != null ? parseSize(values["max-file-size"]) : undefined;
  return { dir, directory: readDirectory(dir, new DirectoryBuilder(maxFileSize != null ? { maxFileSize } : undefined)) };
}

const dirOptions = { dir: { type: "string" }, "max-file-size": { type: "string" } };

const commands = {
  hash(argv) {
    const { values } = options(argv, dirOptions);
    if (values.help) return out(HELP.hash), 0;
    const { dir, directory } = openDirectory(values);
    const target = join(dir, sumFileName());
    // Write next to it and rename, so a crash never leaves half a sum.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, directory.sum(), { mode: 0o644 });
    renameSync(tmp, target);
    return 0;
  },

  verify(argv) {
    const { values } = options(argv, { ...dirOptions, json: { type: "boolean" } });
    if (values.help) return out(HELP.verify), 0;
    const { dir, directory } = openDirectory(values);
    const result = directory.verify();
    const count = directory.files.length;
    if (values.json) {
      out(JSON.stringify({ dir, files: count, ...result }, null, 2) + "\n");
      return result.ok ? 0 : 1;
    }
    if (result.ok) {
      out(`${join(dir, sumFileName())}: ok (${count} migration file${count === 1 ? "" : "s"})\n`);
      return 0;
    }
    // Atlas's output for the failure, naming strata's command.
    err(result.report);
    return 1;
  },

  statements(argv) {
    const { values, positionals } = options(argv, { dialect: { type: "string" }, json: { type: "boolean" } }, { positionals: 1 });
    if (values.help) return out(HELP.statements), 0;
    const file = positionals[0];
    try {
      splitFile("", new Uint8Array(), values.dialect); // checks the dialect name first
    } catch (e) {
      throw new UsageError(`${e.message}; ${e.hint}`);
    }
    let bytes;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new IoError(`read file ${JSON.stringify(file)}: ${e.code ?? e.message}`, "check the path");
    }
    const { statements: stmts, warnings } = splitFile(basename(file), bytes, values.dialect);
    for (const w of warnings) warn(file, w);
    if (values.json) {
      out(JSON.stringify(stmts.map(({ pos, text, comments }) => ({ pos, text, comments })), null, 2) + "\n");
      return 0;
    }
    stmts.forEach((s, i) => {
      const comments = s.comments.map((c) => (c.endsWith("\n") ? c : `${c}\n`)).join("");
      out(`-- statement ${i + 1} (line ${s.line})\n${comments}${s.text}\n\n`);
    });
    return 0;
  },
};

function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    err(HELP.main);
    return 2;
  }
  if (cmd === "--help" || cmd === "-h") {
    out(HELP.main);
    return 0;
  }
  if (cmd === "--version" || cmd === "-V") {
    out(`strata ${VERSION}\n`);
    return 0;
  }
  if (cmd === "help") {
    const topic = rest[0] ?? "main";
    if (!HELP[topic]) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
    out(HELP[topic]);
    return 0;
  }
  const run = commands[cmd];
  if (!run) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  return run(rest);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    err(`strata: ${e.message}\nRun 'strata --help' for usage.\n`);
    process.exitCode = 2;
  } else {
    report(e);
    process.exitCode = 1;
  }
}
