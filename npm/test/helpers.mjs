// Shared helpers of the Node tests: where the conformance data and the
// built package are, and small file utilities.
import { mkdtempSync, readdirSync, readFileSync, statSync, cpSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

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
