#!/usr/bin/env node
// The `strata` command. This file only parses arguments and reads and writes
// files; every rule (which files are migrations, the sum, splitting,
// validation, error texts) is in the WebAssembly core.
//
// Exit codes: 0 success, 1 failure, 2 usage error; plan and status exit 3
// when files are pending.
//
// push, pull and tags talk to a registry (docs/protocol.md) through the
// core's client (the Registry class): the URL from --registry or
// STRATA_REGISTRY, the token from STRATA_TOKEN. status --hook and apply
// talk to a server's deployment hook through the Hook class.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync, mkdirSync, rmSync, rmdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Directory, DirectoryBuilder, Hook, Registry, splitFile, isMigrationFile, sumFileName, plan, preview, status, renderReport, renderReportHtml } from "../node.mjs";

const VERSION = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

const HELP = {
  main: `strata ${VERSION}: Atlas-compatible SQL migration directories

Usage:
  strata hash [--dir DIR]                       write DIR/atlas.sum, like 'atlas migrate hash'
  strata verify [--dir DIR] [--json]            check DIR/atlas.sum, like 'atlas migrate validate'
  strata statements FILE [--dialect D] [--json] print the statements of a SQL file
  strata plan --revisions FILE [--dir DIR] [--json | --markdown] [options]
                                                what 'atlas migrate apply' would run
  strata plan --base NAME@TAG [--dir DIR] [--format markdown|json|text] [--hook URL --target T]
                                                preview a pull request against a registry tag:
                                                new files, statements, lint, atlas.sum
  strata status --revisions FILE [--dir DIR] [--json]
                                                where the database stands, like 'atlas migrate status'
  strata status NAME[@TAG] --hook URL --target T [--json]
                                                the same for a server's target and a pushed version
  strata apply NAME[@TAG] --hook URL --target T [--yes] [--dry-run] [--json] [options]
                                                preview, confirm and apply a version through the server's hook

  strata push --dir DIR --name NAME [--tag T]... [--json]
                                                push a directory to a registry as a new version
  strata pull NAME[@TAG] --out DIR [--force] [--json]
                                                fetch a version, verify every byte, write the files
  strata tags NAME [--json]                     list a directory's tags
  strata report ID|FILE [--html | --json]       show a recorded deployment's report (or a report file)

  strata help COMMAND, strata COMMAND --help    help for one command
  strata --version                              print the version

Registry commands read the registry URL from --registry or STRATA_REGISTRY,
hook commands the server URL from --hook; the token comes from --token or
STRATA_TOKEN.

Exit codes: 0 success, 1 failure, 2 usage error; plan and status exit 3
when files are pending; plan --base exits 4 for warnings only.
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
  plan: `Usage: strata plan --revisions FILE [--dir DIR] [--dialect D] [--json | --markdown]
                   [--baseline V] [--allow-dirty] [--exec-order O] [--to-version V]
                   [--amount N] [--tx-mode M]

Computes what 'atlas migrate apply' would run against a database, from the
rows of its atlas_schema_revisions table, without connecting to it: the
pending files in order, their statements, each file's transaction mode,
where a partially applied file resumes, and the plan digest. Atlas's
refusals are errors with Atlas's message.

Options:
  --revisions FILE       the revisions as JSON ('-' reads stdin): an array of
                         rows, such as the output of
                           sqlite3 -json app.db 'SELECT * FROM atlas_schema_revisions ORDER BY version'
                         (an empty file is no rows), or an object
                         {"revisions": [...], "notClean": "found table \\"users\\""}
                         for a database that has objects but no revisions
  --dir DIR              the migration directory (default: migrations)
  --dialect D            generic (default), mysql, postgres, sqlite or
                         sqlserver: how statements are split
  --baseline V           first run: record version V as applied, start after it
  --allow-dirty          first run: plan even if the database is not clean
  --exec-order O         linear (default: refuse files added below the last
                         applied version), linear-skip (ignore them) or
                         non-linear (run them first)
  --to-version V         plan up to and including version V
  --amount N             plan at most N files
  --tx-mode M            file (default: a transaction per file), all (one for
                         the run) or none
  --json                 print the report document (format strata.report/v1)
  --markdown             print the plan as Markdown, for a pull request
  --max-file-size SIZE   refuse files larger than SIZE (default 64m)
  -h, --help             show this help

Exit codes: 0 nothing to apply, 3 files (or a baseline row) to apply, 1 Atlas
would refuse (checksum, database not clean, files out of order, a file the
run would stop at), 2 usage error.

Preview (a pull request):
  strata plan --base NAME@TAG [--dir DIR] [--registry URL] [--token T]
              [--dialect D] [--format markdown|json|text] [--hook URL --target T]

Compares DIR with version NAME@TAG of the registry (fetched and verified
byte by byte): the files DIR adds and their statements, files of the tag
that DIR changed or removed (an error: history rewritten), new files that
sort before the tag's last file (an error: out of order), whether
atlas.sum is valid, and the lint findings on the new files (Atlas's
analyzers and PostgreSQL locking checks). With --hook and --target it also
plans DIR against the target's revisions: what would run there now. A
directory the registry does not have yet is a warning (every file is new);
a missing tag of a directory it has is an error (exit 1).

  --base NAME@TAG        the registry version to compare with (e.g. app@latest)
  --registry URL         the registry (default: STRATA_REGISTRY)
  --token T              the token (default: STRATA_TOKEN; scope read)
  --format F             text (default), markdown (one pull request comment,
                         under 65,536 characters, first line the hidden
                         marker <!-- strata:preview NAME -->) or json
                         (strata.preview/v1)
  --hook URL --target T  also plan against target T of the server at URL
  --dialect D            how to split and parse (default: the target's
                         dialect with --hook, else generic)
  --exec-order O, --baseline V, --allow-dirty, --to-version V, --amount N,
  --tx-mode M            with --hook: how the deploy will plan (as above)

Exit codes: 0 clean, 1 errors, 4 warnings only, 2 usage error.
`,
  status: `Usage: strata status --revisions FILE [--dir DIR] [--dialect D] [--json]
       strata status NAME[@TAG] --hook URL --target T [--token TOKEN] [--json]

Prints where a database stands against the migration directory, exactly as
'atlas migrate status' does, from the rows of its atlas_schema_revisions
table: the current and next version, executed and pending files, files
added out of order, and the error of a partially applied last file.

Options:
  --revisions FILE       the revisions as JSON ('-' reads stdin), as for
                         'strata plan'; {"tableMissing": true} when the table
                         does not exist
  --dir DIR              the migration directory (default: migrations)
  --dialect D            generic (default), mysql, postgres, sqlite or
                         sqlserver: how statements are split
  --json                 print the report document (format strata.report/v1)
  --max-file-size SIZE   refuse files larger than SIZE (default 64m)
  -h, --help             show this help

With --hook, the revisions are those of target T of the strata server at
URL (GET /hook/v1/targets/T/revisions) and the directory is version TAG
(default: latest; or NAME@sha256:...) of NAME fetched from the server's
registry (or --registry URL), every byte verified.

  --hook URL             the strata server's base URL
  --target T             the target's name on the server
  --token TOKEN          the token (scope read; default: $STRATA_TOKEN)
  --registry URL         where to fetch NAME from (default: the --hook URL)

Exit codes: 0 nothing pending (OK), 3 pending (PENDING), 1 error, 2 usage
error.
`,
  apply: `Usage: strata apply NAME[@TAG] --hook URL --target T [--token TOKEN] [--yes] [--dry-run] [--json]
                    [--baseline V] [--allow-dirty] [--exec-order O] [--to-version V]
                    [--amount N] [--tx-mode M]

Applies version TAG (default: latest; or NAME@sha256:...) of directory NAME
to target T through the deployment hook of the strata server at URL:
1. asks the server for the plan (POST /hook/v1/targets/T/plan) and shows it:
   the files, their statements and transaction mode, and the plan digest;
2. asks for confirmation on a terminal, unless --yes or --dry-run (without
   a terminal, --yes is required);
3. asks the server to apply exactly that plan (POST .../apply, naming the
   digest): the server refuses, with nothing executed, if the database
   moved on since the preview (stale plan) or another apply holds it;
4. shows the progress (a bar per file on a terminal, lines otherwise) and
   prints Atlas's 'migrate apply' log of the run.

Options:
  --hook URL             the strata server's base URL
  --target T             the target's name on the server
  --token TOKEN          the token (scopes read and deploy; default: $STRATA_TOKEN)
  --yes                  do not ask for confirmation
  --dry-run              compute the plan under the lock and report; execute
                         and write nothing (no confirmation needed)
  --json                 print the report document with the deployment and
                         its status on stdout (and nothing else)
  --baseline V, --allow-dirty, --exec-order O, --to-version V, --amount N,
  --tx-mode M            Atlas's 'migrate apply' options, as for 'strata plan'
  -h, --help             show this help

Exit codes: 0 applied (or nothing to apply), 1 failure (a statement failed,
the server refused: stale plan, lock held, checksum, ...) or not confirmed,
2 usage error.
`,
  push: `Usage: strata push --dir DIR --name NAME [--tag T]... [--registry URL] [--json]

Pushes the migration directory DIR (its *.sql files and atlas.sum) to a
registry as a version of directory NAME. Only the files the registry does
not have yet are uploaded. The version is immutable and named by its digest
(sha256:...); pushing the same files again gives the same version. Then the
tag 'latest' and each --tag move to it.

DIR/atlas.sum must match the files (run 'strata hash' first); without one,
the computed sum is pushed.

Options:
  --dir DIR              the migration directory (default: migrations)
  --name NAME            the directory's name in the registry
  --tag T                also point tag T at the version (repeatable), e.g.
                         the commit SHA or a release name
  --registry URL         the registry's base URL (default: $STRATA_REGISTRY)
  --json                 print the result as JSON on stdout
  --max-file-size SIZE   refuse files larger than SIZE (default 64m)
  -h, --help             show this help

The token (scope push) is read from STRATA_TOKEN. A progress bar is shown on
stderr when it is a terminal.
`,
  pull: `Usage: strata pull NAME[@TAG] --out DIR [--force] [--registry URL] [--json]

Fetches a version of directory NAME from a registry: the version tag TAG
points to (default: latest), or the version itself with NAME@sha256:....
Every file is checked against the version's manifest and atlas.sum before
anything is written; the files and atlas.sum are written to a new directory
beside DIR and renamed to DIR, so DIR is never left half written.

Options:
  --out DIR              where to write the files (must not exist or be empty)
  --force                replace DIR if it exists (everything in it goes); its .sql files
                         that the version shares are reused, not downloaded again
  --registry URL         the registry's base URL (default: $STRATA_REGISTRY)
  --json                 print the result as JSON on stdout
  -h, --help             show this help

The token (scope read) is read from STRATA_TOKEN. A progress bar is shown
on stderr when it is a terminal.
`,
  tags: `Usage: strata tags NAME [--registry URL] [--json]

Lists the tags of directory NAME in a registry: each tag, the version it
points to, when it last moved and by which token.

Options:
  --registry URL         the registry's base URL (default: $STRATA_REGISTRY)
  --json                 print {name, tags: [{name, version, updated, updatedBy}]}
  -h, --help             show this help

The token (scope read) is read from STRATA_TOKEN.
`,
  report: `Usage: strata report ID [--registry URL] [--html | --json]
       strata report FILE [--html | --json]

Shows the report of deployment ID (dep_..., as 'strata apply' prints it)
recorded in a registry, or of a report document in FILE (a
strata.report/v1 JSON file, e.g. from 'strata apply --json' or
'strata plan --json'). Without options it prints a summary line and the
report as Atlas prints it ('migrate apply', 'migrate status').

Options:
  --registry URL         the registry's base URL (default: $STRATA_REGISTRY)
  --html                 write a self-contained HTML page (no script, nothing
                         loaded from elsewhere): strata report ID --html > report.html
  --json                 print the deployment (with its report) or the document as JSON
  -h, --help             show this help

The token (scope read) is read from STRATA_TOKEN.
`,
};

class UsageError extends Error {}

/** An error whose text is printed as is (Atlas's multi-line reports). */
class ReportedError extends Error {}

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

/** A usage error for a dialect name the core does not know. */
function checkDialect(dialect) {
  try {
    splitFile("", new Uint8Array(), dialect);
  } catch (e) {
    throw new UsageError(`${e.message}; ${e.hint}`);
  }
}

function openDirectory(values, dialect) {
  const dir = values.dir ?? "migrations";
  const options = {};
  if (values["max-file-size"] != null) options.maxFileSize = parseSize(values["max-file-size"]);
  if (dialect != null) options.dialect = dialect;
  return { dir, directory: readDirectory(dir, new DirectoryBuilder(options)) };
}

const dirOptions = { dir: { type: "string" }, "max-file-size": { type: "string" } };

const REVISIONS_HINT =
  "pass a JSON array of atlas_schema_revisions rows (sqlite3 -json app.db 'SELECT * FROM atlas_schema_revisions ORDER BY version'), or {\"revisions\": [...], \"notClean\": \"...\"}";

/**
 * Reads the --revisions file ('-': stdin), JSON text. An empty file is no rows:
 * `sqlite3 -json` prints nothing for an empty table.
 */
function readRevisions(file) {
  if (file === undefined) throw new UsageError("--revisions FILE is required: the rows of atlas_schema_revisions as JSON ('-' for stdin)");
  const label = file === "-" ? "stdin" : file;
  let text;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw new IoError(`read file ${JSON.stringify(label)}: ${e.code ?? e.message}`, "pass the JSON file of atlas_schema_revisions rows with --revisions ('-' for stdin)");
  }
  // The text goes to the core as is: it reads JSON text faster than objects.
  return { label, state: text.trim() === "" ? "[]" : text };
}

/** Option errors of the core that are usage errors of the command. */
const OPTION_ERRORS = new Set(["unknown-exec-order", "unknown-tx-mode", "baseline-and-allow-dirty", "invalid-amount", "invalid-options"]);

/**
 * Usage errors for plan options the core refuses (an unknown exec order or tx
 * mode, baseline with allow-dirty, amount 0), before any file is read: the
 * core checks them first when planning an empty directory.
 */
function checkPlanOptions(opts) {
  try {
    plan(new Directory([]), [], opts);
  } catch (e) {
    if (OPTION_ERRORS.has(e?.code)) throw new UsageError(`${e.message}; ${e.hint}`);
  }
}

/**
 * Runs `fn` (plan or status) and turns its errors into the CLI's: option
 * errors are usage errors, a bad revisions file names the file, and a
 * checksum error prints Atlas's report as 'strata verify' does.
 */
function planning(fn, directory, label) {
  try {
    return fn();
  } catch (e) {
    if (OPTION_ERRORS.has(e?.code)) throw new UsageError(`${e.message}; ${e.hint}`);
    // The file's hint says how to produce one.
    if (e?.code === "invalid-revisions") throw new IoError(`${label}: ${e.message}`, REVISIONS_HINT);
    if (typeof e?.code === "string" && e.code.startsWith("checksum")) {
      const v = directory.verify();
      if (!v.ok) throw new ReportedError(v.report);
    }
    throw e;
  }
}

const planOptions = {
  ...dirOptions,
  revisions: { type: "string" },
  dialect: { type: "string" },
  json: { type: "boolean" },
};


// --- Registry commands -------------------------------------------------------

const registryOptions = { registry: { type: "string" }, json: { type: "boolean" } };

/** Core errors about what the command line named: usage errors (exit 2). */
const NAME_ERRORS = new Set(["invalid-name", "invalid-digest", "invalid-url", "invalid-token"]);

/** A registry error thrown as a usage error when the command line caused it. */
function registryError(e) {
  if (NAME_ERRORS.has(e?.code)) return new UsageError(`${e.message}; ${e.hint}`);
  return e;
}

/** "1.2 MB": sizes for people. */
function bytes(n) {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let i = -1;
  do {
    n /= 1000;
    i++;
  } while (n >= 1000 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * A progress bar on stderr, redrawn when a whole percent passes; only when
 * stderr is a terminal and the output is not JSON.
 */
function progressBar(enabled) {
  if (!enabled) return { onProgress: undefined, done() {} };
  let shown = -1;
  let drawn = false;
  return {
    onProgress(p) {
      if (p.filesTotal === 0) return;
      const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.filesDone / p.filesTotal;
      const percent = Math.floor(fraction * 100);
      if (percent === shown && p.filesDone !== p.filesTotal) return;
      shown = percent;
      const width = 24;
      const full = Math.round(fraction * width);
      const verb = p.phase === "upload" ? "push" : "pull";
      err(`\r\x1b[K${verb} ${p.name} [${"#".repeat(full)}${"-".repeat(width - full)}] ${p.filesDone}/${p.filesTotal} files, ${bytes(p.bytesDone)}/${bytes(p.bytesTotal)}`);
      drawn = true;
    },
    done() {
      if (drawn) err("\r\x1b[K");
      drawn = false;
    },
  };
}

/** The Registry named by --registry or STRATA_REGISTRY, with STRATA_TOKEN. */
function openRegistry(values, onProgress, cache = false) {
  const url = values.registry ?? process.env.STRATA_REGISTRY;
  if (!url) throw new UsageError("no registry: pass --registry URL or set STRATA_REGISTRY (e.g. http://127.0.0.1:8080)");
  const token = values.token || process.env.STRATA_TOKEN || undefined;
  try {
    // One command, one fetch or push: a blob cache only pays when pull
    // --force seeds it with the files already in --out.
    return new Registry(url, cache ? { token, onProgress } : { token, onProgress, cacheSize: 0 });
  } catch (e) {
    throw registryError(e);
  }
}

/** Runs a registry call with a progress bar, turning name errors into usage errors. */
async function withProgress(bar, fn) {
  try {
    return await fn();
  } catch (e) {
    throw registryError(e);
  } finally {
    bar.done();
  }
}

/** Whether `path` is missing or an empty directory; throws if it is a file. */
function vacant(path) {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if (e.code === "ENOENT") return true;
    throw new IoError(`cannot use --out ${JSON.stringify(path)}: ${e.code ?? e.message}`, "check the path and its permissions");
  }
  if (!st.isDirectory()) throw new IoError(`--out ${JSON.stringify(path)} exists and is not a directory`, "pass the path of a new directory");
  return readdirSync(path).length === 0;
}

/**
 * Writes the fetched directory to `out`: into a new directory beside it,
 * then renamed into place, so that `out` is never half written.
 */
function writeFetched(directory, sum, out, force) {
  const parent = dirname(resolve(out));
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(parent, `.${basename(resolve(out))}.strata-pull-${tag}`);
  try {
    mkdirSync(parent, { recursive: true });
    mkdirSync(tmp);
    for (const f of directory.files) writeFileSync(join(tmp, f.name), f.bytes);
    writeFileSync(join(tmp, sumFileName()), sum);
    if (vacant(out)) {
      try {
        rmdirSync(out);
      } catch (e) {
        if (e.code !== "ENOENT") throw e;
      }
      renameSync(tmp, out);
    } else {
      if (!force) throw new IoError(`--out ${JSON.stringify(out)} is not empty`, "pass a new directory, or --force to replace it");
      const old = join(parent, `.${basename(resolve(out))}.strata-old-${tag}`);
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof IoError) throw e;
    throw new IoError(`cannot write ${JSON.stringify(out)}: ${e.code ?? e.message}`, "check the path, its permissions and free space");
  }
}

/** NAME[@REF] of strata pull. */
function reference(arg) {
  const at = arg.indexOf("@");
  if (at < 0) return { name: arg, ref: "latest" };
  const name = arg.slice(0, at);
  const ref = arg.slice(at + 1);
  if (!name || !ref) throw new UsageError(`${JSON.stringify(arg)} is not NAME or NAME@TAG (or NAME@sha256:...)`);
  return { name, ref };
}

const registryCommands = {
  async push(argv) {
    const { values } = options(argv, { ...dirOptions, ...registryOptions, name: { type: "string" }, tag: { type: "string", multiple: true } });
    if (values.help) return out(HELP.push), 0;
    if (!values.name) throw new UsageError("--name NAME is required: the directory's name in the registry");
    const bar = progressBar(process.stderr.isTTY && !values.json);
    const registry = openRegistry(values, bar.onProgress);
    const { directory } = openDirectory(values);
    const r = await withProgress(bar, () => registry.push(directory, values.name, values.tag ?? []));
    if (values.json) {
      out(JSON.stringify({ registry: registry.url, name: values.name, ...r, stats: registry.stats }, null, 2) + "\n");
      return 0;
    }
    const stored = r.created ? "new version" : "version (already in the registry)";
    out(`${values.name}: ${stored} ${r.version}\n`);
    out(`  ${plural(r.files, "file")}, ${bytes(r.size)}; uploaded ${plural(r.uploaded.files, "file")}, ${bytes(r.uploaded.bytes)}\n`);
    const width = Math.max(...r.tags.map((t) => t.name.length));
    for (const t of r.tags) {
      const was = t.previous === null ? "new tag" : t.previous === t.version ? "unchanged" : `was ${t.previous}`;
      out(`  ${t.name.padEnd(width)}  ${t.version}  (${was})\n`);
    }
    return 0;
  },

  async pull(argv) {
    const { values, positionals } = options(argv, { ...registryOptions, out: { type: "string" }, force: { type: "boolean" } }, { positionals: 1 });
    if (values.help) return out(HELP.pull), 0;
    const { name, ref } = reference(positionals[0]);
    if (!values.out) throw new UsageError("--out DIR is required: where to write the files");
    // Refuse before downloading anything.
    if (!values.force && !vacant(values.out)) throw new IoError(`--out ${JSON.stringify(values.out)} is not empty`, "pass a new directory, or --force to replace it");
    const bar = progressBar(process.stderr.isTTY && !values.json);
    const registry = openRegistry(values, bar.onProgress, values.force);
    // --force over an earlier pull: its files seed the blob cache, so only
    // the files that changed are downloaded (each is still verified).
    if (values.force && !vacant(values.out)) {
      try {
        registry.remember(openDirectory({ dir: values.out }).directory);
      } catch (e) {
        // Not a readable migration folder: download everything.
        if (process.env.STRATA_DEBUG) console.error(e);
      }
    }
    const f = await withProgress(bar, () => registry.fetch(name, ref));
    writeFetched(f.directory, f.manifest.sum, values.out, values.force);
    const size = f.manifest.files.reduce((n, x) => n + x.size, 0);
    if (values.json) {
      const result = { registry: registry.url, name, reference: ref, version: f.version, out: values.out, files: f.manifest.files.length, size, downloaded: f.downloaded, stats: registry.stats };
      out(JSON.stringify(result, null, 2) + "\n");
      return 0;
    }
    out(`${name}@${ref}: version ${f.version}\n  wrote ${values.out}: ${plural(f.manifest.files.length, "file")} and ${sumFileName()}, ${bytes(size)}, verified\n`);
    return 0;
  },

  async tags(argv) {
    const { values, positionals } = options(argv, registryOptions, { positionals: 1 });
    if (values.help) return out(HELP.tags), 0;
    const name = positionals[0];
    const registry = openRegistry(values);
    const tags = await withProgress(progressBar(false), () => registry.tags(name));
    if (values.json) {
      out(JSON.stringify({ registry: registry.url, name, tags }, null, 2) + "\n");
      return 0;
    }
    if (tags.length === 0) {
      out(`${name}: no tags\n`);
      return 0;
    }
    const width = Math.max(...tags.map((t) => t.name.length));
    for (const t of tags) out(`${t.name.padEnd(width)}  ${t.version}  ${t.updated ?? ""}  ${t.updatedBy ?? ""}`.trimEnd() + "\n");
    return 0;
  },

  async report(argv) {
    const { values, positionals } = options(argv, { ...registryOptions, html: { type: "boolean" } }, { positionals: 1 });
    if (values.help) return out(HELP.report), 0;
    if (values.json && values.html) throw new UsageError("--json and --html are mutually exclusive");
    const what = positionals[0];
    // A file when one exists at that path; otherwise a deployment id.
    let deployment = null;
    let doc;
    if (existsSync(what)) {
      try {
        doc = readFileSync(what, "utf8");
      } catch (e) {
        throw new IoError(`read file ${JSON.stringify(what)}: ${e.code ?? e.message}`, "check the path");
      }
    } else {
      if (!/^dep_\w+$/.test(what)) {
        throw new UsageError(`${JSON.stringify(what)} is neither a file nor a deployment id (dep_...)`);
      }
      const registry = openRegistry(values);
      deployment = await withProgress(progressBar(false), () => registry.deployment(what));
      doc = deployment.report;
    }
    if (values.json) {
      out(JSON.stringify(deployment ?? (typeof doc === "string" ? JSON.parse(doc) : doc), null, 2) + "\n");
      return 0;
    }
    if (values.html) {
      out(renderReportHtml(doc));
      return 0;
    }
    if (deployment) {
      const d = deployment;
      out(`deployment ${d.id}: ${d.dir} on ${d.target}, ${d.status}\n  version ${d.version ?? "(unknown)"}\n  recorded ${d.created} by ${d.createdBy}\n\n`);
    }
    out(renderReport(doc));
    return 0;
  },
};

// --- Hook commands -------------------------------------------------------------

const hookOptions = {
  hook: { type: "string" },
  target: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
};

/** Core errors about what the command line asked for: usage errors (exit 2). */
const HOOK_USAGE_ERRORS = new Set([...NAME_ERRORS, "invalid-option", "invalid-request"]);

/** A hook error thrown as a usage error when the command line caused it. */
function hookError(e) {
  if (HOOK_USAGE_ERRORS.has(e?.code) && e?.status === undefined) return new UsageError(`${e.message}; ${e.hint}`);
  return e;
}

/** The Hook of --hook, --target and the token of --token or STRATA_TOKEN. */
function openHook(values) {
  if (!values.hook) throw new UsageError("--hook URL is required: the strata server's base URL (e.g. http://127.0.0.1:8080)");
  if (!values.target) throw new UsageError("--target T is required: the target's name on the server (GET /hook/v1/targets lists them)");
  const token = values.token || process.env.STRATA_TOKEN || undefined;
  try {
    return { hook: new Hook(values.hook, { token }), token };
  } catch (e) {
    throw hookError(e);
  }
}

async function hookCall(fn) {
  try {
    return await fn();
  } catch (e) {
    throw hookError(e);
  }
}

/** Atlas's 'migrate apply' flags, of plan and apply. */
const applyFlags = {
  baseline: { type: "string" },
  "allow-dirty": { type: "boolean" },
  "exec-order": { type: "string" },
  "to-version": { type: "string" },
  amount: { type: "string" },
  "tx-mode": { type: "string" },
};

/** The --baseline ... --tx-mode flags as the core's options; usage errors for values it refuses. */
function applyOptions(values) {
  const opts = {};
  const set = (key, v) => v !== undefined && (opts[key] = v);
  set("baseline", values.baseline);
  if (values["allow-dirty"]) opts.allowDirty = true;
  set("execOrder", values["exec-order"]);
  set("toVersion", values["to-version"]);
  set("txMode", values["tx-mode"]);
  if (values.amount !== undefined) {
    if (!/^\d+$/.test(values.amount)) {
      throw new UsageError(`invalid amount argument ${JSON.stringify(values.amount)} (invalid syntax). Omit the argument or pass a valid integer instead`);
    }
    opts.amount = Number(values.amount);
  }
  checkPlanOptions(opts);
  return opts;
}

/** The plan request for NAME[@REF]: a tag, or a version digest. */
function planRequest(name, ref, options) {
  return ref.startsWith("sha256:") ? { dir: name, version: ref, options } : { dir: name, tag: ref, options };
}

/** Asks "question [y/N]" on the terminal; true for y or yes. */
async function confirm(question) {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** The plan in short: each file with its statements and tx mode, and the digest. */
function planSummary(doc, target) {
  const p = doc.plan;
  const lines = [];
  if (p.baseline) lines.push(`Baseline: version ${p.baseline.version} will be recorded as applied`);
  if (p.files.length === 0) {
    lines.push(`${doc.directory} ${doc.version}: no migration files to execute on target ${target}`);
    return lines.join("\n") + "\n";
  }
  const statements = (f) => f.statements.length - (f.skip ?? 0);
  const total = p.files.reduce((n, f) => n + statements(f), 0);
  lines.push(`Plan for target ${target}: ${doc.directory} ${doc.version}`);
  lines.push(`  from version ${p.current ?? "(none)"} to ${p.target ?? p.files[p.files.length - 1].version}: ${plural(p.files.length, "file")}, ${plural(total, "statement")}`);
  const width = Math.max(...p.files.map((f) => f.name.length));
  for (const f of p.files) {
    const resume = f.skip ? `, resumes after ${f.skip}` : "";
    lines.push(`  ${f.name.padEnd(width)}  ${plural(statements(f), "statement")}  tx: ${f.txMode}${resume}`);
  }
  lines.push(`  digest ${p.digest}`);
  return lines.join("\n") + "\n";
}

/**
 * Shows the events of an apply on stderr: a bar per file on a terminal, one
 * line per file otherwise.
 */
function applyProgress(tty) {
  let file = null;
  let failure = null;
  const draw = (f) => {
    const width = 24;
    const fraction = f.total ? f.done / f.total : 1;
    const full = Math.round(fraction * width);
    err(`\r\x1b[K${f.name} [${"#".repeat(full)}${"-".repeat(width - full)}] ${f.done}/${f.total}`);
  };
  return {
    get failure() {
      return failure;
    },
    onEvent(e) {
      switch (e.type) {
        case "planned":
          if (!tty) err(`applying ${plural(e.files.length, "file")} (${plural(e.statements, "statement")}) to target ${e.target}${e.dryRun ? " (dry run)" : ""}\n`);
          break;
        case "fileStarted":
          file = { name: e.file, done: 0, total: e.statements, start: Date.now() };
          if (tty) draw(file);
          else err(`  ${e.file}: ${plural(e.statements, "statement")}${e.skip ? ` (resuming after ${e.skip})` : ""}\n`);
          break;
        case "statementDone":
          if (file) {
            file.done += 1;
            if (tty) draw(file);
          }
          break;
        case "fileDone":
          if (tty) err(`\r\x1b[K${e.file}: ok (${(e.durationNs / 1e6).toFixed(1)}ms)\n`);
          else err(`  ${e.file}: ok (${(e.durationNs / 1e6).toFixed(1)}ms)\n`);
          file = null;
          break;
        case "error":
          if (tty && file) err("\n");
          failure = e;
          break;
      }
    },
  };
}

/** The failing statement of an `error` event: file, line, statement and the database's message. */
function reportFailure(f) {
  const where = f.file ? `${f.file}${f.statement ? `:${f.statement.line}` : ""}: ` : "";
  const which = f.statement ? `statement ${f.statement.index} failed: ` : "";
  err(`strata: ${where}${which}${f.message}\n`);
  if (f.statement) err(`  ${f.statement.text.split("\n").join("\n  ")}\n`);
  err(`hint: fix the migration (a new file, or edit this one and run 'strata hash' if it never ran elsewhere), push it and apply again; 'strata status --hook' shows where the target stopped\n`);
}

const hookCommands = {
  async apply(argv) {
    const { values, positionals } = options(
      argv,
      { ...hookOptions, ...applyFlags, yes: { type: "boolean", short: "y" }, "dry-run": { type: "boolean" } },
      { positionals: 1 },
    );
    if (values.help) return out(HELP.apply), 0;
    const { name, ref } = reference(positionals[0]);
    const opts = applyOptions(values);
    const { hook } = openHook(values);
    const target = values.target;
    // Without --json the plan and the log go to stdout; with it, only the report does.
    const show = values.json ? err : out;
    const doc = await hookCall(() => hook.plan(target, planRequest(name, ref, opts)));
    show(planSummary(doc, target));
    const refused = doc.plan.files.find((f) => f.error);
    if (refused) {
      report(refused.error);
      return 1;
    }
    if (doc.plan.files.length === 0 && !doc.plan.baseline) {
      if (values.json) out(JSON.stringify({ ...doc, status: "no-changes" }, null, 2) + "\n");
      return 0;
    }
    // A dry run executes nothing: nothing to confirm.
    if (!values.yes && !values["dry-run"]) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) {
        throw new UsageError("not a terminal: cannot ask for confirmation; pass --yes to apply without asking (after reviewing the plan, e.g. with --dry-run)");
      }
      if (!(await confirm(`Apply ${plural(doc.plan.files.length, "file")} to target ${target}?`))) {
        err("strata: not applied\n");
        return 1;
      }
    }
    const progress = applyProgress(process.stderr.isTTY && !values.json);
    const request = { dir: name, version: doc.version, planDigest: doc.plan.digest, options: opts, dryRun: !!values["dry-run"] };
    const finished = await hookCall(() => hook.apply(target, request, { onEvent: (e) => progress.onEvent(e) }));
    const document = { format: doc.format, generator: doc.generator, directory: name, target, kind: "apply", apply: finished.report };
    const failed = finished.report.error != null;
    if (values.json) {
      const status = finished.deployment?.status ?? (failed ? "failed" : values["dry-run"] ? "dry-run" : "succeeded");
      out(JSON.stringify({ ...document, version: doc.version, status, deployment: finished.deployment }, null, 2) + "\n");
    } else {
      out("\n" + renderReport(document));
      const d = finished.deployment;
      if (d?.id) out(`\ndeployment ${d.id} (${d.status})\n`);
    }
    if (finished.deployment && finished.deployment.id === null) err(`warning: ${finished.deployment.error}\n`);
    if (failed) {
      if (progress.failure) reportFailure(progress.failure);
      else report({ message: finished.report.error, hint: "'strata status --hook' shows where the target stopped" });
      return 1;
    }
    return 0;
  },
};

/** strata status NAME[@TAG] --hook URL --target T: the server's revisions and a fetched version. */
async function hookStatus(argv) {
  const { values, positionals } = options(argv, { ...hookOptions, registry: { type: "string" } }, { positionals: 1 });
  if (values.help) return out(HELP.status), 0;
  const { name, ref } = reference(positionals[0]);
  const { hook, token } = openHook(values);
  const revisions = await hookCall(() => hook.revisions(values.target));
  let registry;
  try {
    registry = new Registry(values.registry ?? values.hook, { token, cacheSize: 0 });
  } catch (e) {
    throw registryError(e);
  }
  const fetched = await withProgress(progressBar(false), () => registry.fetch(name, ref, { dialect: revisions.dialect }));
  const state = JSON.stringify({ revisions: revisions.revisions, notClean: revisions.notClean, tableMissing: revisions.tableMissing });
  const s = planning(() => status(fetched.directory, state), fetched.directory, `target ${values.target}`);
  if (values.json) {
    const doc = s.toJSON();
    out(JSON.stringify({ ...doc, directory: name, target: values.target, version: fetched.version }, null, 2) + "\n");
  } else out(s.toText());
  return s.status === "OK" ? 0 : 3;
}

// --- Preview ------------------------------------------------------------------

const PREVIEW_FORMATS = ["markdown", "json", "text"];

/**
 * strata plan --dir DIR --base NAME@TAG: the local directory against a
 * registry tag (and a target's revisions with --hook/--target), printed as
 * Markdown (a pull request comment), JSON or text. Every rule is the core's
 * (strata::preview); this only fetches and prints.
 */
async function previewCommand(argv) {
  const { values } = options(argv, {
    ...dirOptions,
    base: { type: "string" },
    registry: { type: "string" },
    token: { type: "string" },
    dialect: { type: "string" },
    format: { type: "string" },
    hook: { type: "string" },
    target: { type: "string" },
    json: { type: "boolean" },
    markdown: { type: "boolean" },
    ...applyFlags,
  });
  if (values.help) return out(HELP.plan), 0;
  if ([values.format !== undefined, values.json, values.markdown].filter(Boolean).length > 1) {
    throw new UsageError("pass one of --format, --json and --markdown");
  }
  const format = values.format ?? (values.json ? "json" : values.markdown ? "markdown" : "text");
  if (!PREVIEW_FORMATS.includes(format)) throw new UsageError(`--format ${JSON.stringify(format)}: use markdown, json or text`);
  checkDialect(values.dialect);
  const { name, ref } = reference(values.base);
  if (!values.base.includes("@")) throw new UsageError(`--base ${JSON.stringify(values.base)}: pass NAME@TAG, e.g. ${name}@latest`);
  if ((values.hook === undefined) !== (values.target === undefined)) throw new UsageError("--hook URL and --target T go together");
  // Atlas's apply flags say how the deploy will plan on the target.
  const planOpts = applyOptions(values);
  if (!values.hook && Object.keys(planOpts).length > 0) throw new UsageError("--baseline, --exec-order and the other apply options need --hook and --target");

  // The target first: its dialect is how the hook splits the files, so the
  // local directory is read with it unless --dialect says otherwise.
  let target;
  if (values.hook) {
    const { hook } = openHook(values);
    const revisions = await hookCall(() => hook.revisions(values.target));
    target = { name: values.target, dialect: revisions.dialect, revisions, options: planOpts };
  }
  const dialect = values.dialect ?? target?.dialect;
  const { directory } = openDirectory(values, dialect);

  const registry = openRegistry(values);
  let base = null;
  let baseVersion;
  try {
    const f = await registry.fetch(name, ref);
    base = f.directory;
    baseVersion = f.version;
  } catch (e) {
    // A directory never pushed: every file is new, which the preview
    // reports as a warning. A tag missing from a directory that has tags is
    // more likely a typo than a first push: it fails, as anything else does
    // (no access, a damaged blob).
    if (e?.code !== "tag-not-found" && e?.code !== "dir-not-found") throw registryError(e);
    if (e.code === "tag-not-found") {
      let tags = [];
      try {
        tags = await registry.tags(name);
      } catch (t) {
        if (t?.code !== "dir-not-found") throw registryError(t);
      }
      if (tags.length > 0) {
        e.hint = `${name}'s tags are ${tags.map((t) => t.name).join(", ")}; pass one of them in --base`;
        throw e;
      }
    }
  }
  const p = preview(directory, base, { name, baseRef: `${name}@${ref}`, baseVersion, dialect: directory.dialect, target });
  if (format === "markdown") out(p.toMarkdown());
  else if (format === "json") out(JSON.stringify(p, null, 2) + "\n");
  else out(p.toText());
  if (format !== "text") err(`strata: preview of ${name} against ${name}@${ref}: ${plural(p.errors, "error")}, ${plural(p.warnings, "warning")}\n`);
  return p.exitCode;
}

const commands = {
  ...registryCommands,
  ...hookCommands,
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
    checkDialect(values.dialect);
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

  plan(argv) {
    // With --base: the preview of a pull request against a registry tag.
    if (argv.some((a) => a === "--base" || a.startsWith("--base="))) return previewCommand(argv);
    const { values } = options(argv, { ...planOptions, ...applyFlags, markdown: { type: "boolean" } });
    if (values.help) return out(HELP.plan), 0;
    if (values.json && values.markdown) throw new UsageError("--json and --markdown are mutually exclusive");
    checkDialect(values.dialect);
    const opts = applyOptions(values);
    const { label, state } = readRevisions(values.revisions);
    const { directory } = openDirectory(values, values.dialect);
    const p = planning(() => plan(directory, state, opts), directory, label);
    if (values.json) out(JSON.stringify(p, null, 2) + "\n");
    else if (values.markdown) out(p.toMarkdown());
    else out(p.toText());
    const stop = p.firstError;
    if (stop) {
      report(stop);
      return 1;
    }
    return p.isEmpty && !p.baseline ? 0 : 3;
  },

  status(argv) {
    // With --hook: a server's target and a pushed version.
    if (argv.some((a) => a === "--hook" || a.startsWith("--hook="))) return hookStatus(argv);
    const { values } = options(argv, planOptions);
    if (values.help) return out(HELP.status), 0;
    checkDialect(values.dialect);
    const { label, state } = readRevisions(values.revisions);
    const { directory } = openDirectory(values, values.dialect);
    const s = planning(() => status(directory, state), directory, label);
    out(values.json ? JSON.stringify(s, null, 2) + "\n" : s.toText());
    return s.status === "OK" ? 0 : 3;
  },
};

async function main(argv) {
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
  return await run(rest);
}

/** With --json, registry and hook commands also print their error as JSON on stdout. */
const hookArgs = process.argv[2] === "apply" || (process.argv[2] === "status" && process.argv.some((a) => a === "--hook" || a.startsWith("--hook=")));
const jsonErrors = (["push", "pull", "tags"].includes(process.argv[2]) || hookArgs) && process.argv.includes("--json");

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (jsonErrors) {
    const { code, message, file, hint } = e ?? {};
    // Hook errors keep the server's fields (status, expected/actual, holder, ...).
    const extra = hookArgs && e && typeof e === "object" ? Object.fromEntries(Object.entries(e).filter(([k]) => !["summary", "name"].includes(k))) : {};
    out(JSON.stringify({ error: { ...extra, code: code ?? (e instanceof UsageError ? "usage" : "error"), message: message ?? String(e), file, hint } }, null, 2) + "\n");
  }
  if (e instanceof UsageError) {
    err(`strata: ${e.message}\nRun 'strata --help' for usage.\n`);
    process.exitCode = 2;
  } else if (e instanceof ReportedError) {
    err(e.message);
    process.exitCode = 1;
  } else {
    report(e);
    process.exitCode = 1;
  }
}
