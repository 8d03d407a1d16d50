// What the Node benchmarks share: options, the `strata` CLI, a release
// strata-server on loopback with a fresh data directory, medians.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const root = new URL("../../", import.meta.url).pathname;
export const CLI = join(root, "pkg/bin/strata.mjs");

/** `--name value` from the command line, else `dflt`. */
export function opt(name, dflt, args = process.argv.slice(2)) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}

/** Exits with a hint when a build product the benchmark needs is missing. */
export function requireBuilt(pairs) {
  for (const [path, how] of pairs) {
    if (!existsSync(path)) {
      console.error(`${path} is missing: build it with \`${how}\``);
      process.exit(2);
    }
  }
}

/** Runs the `strata` CLI; its stdout, or throws with its stderr. */
export function cli(argv, env = {}) {
  const r = spawnSync(process.execPath, [CLI, ...argv], { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`strata ${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Starts `server serve` on a free loopback port with a fresh data directory
 * and a token of `scopes`; `env` adds variables (e.g. STRATA_TARGET_*).
 */
export async function startServer(server, { scopes = "read,push", env = {} } = {}) {
  const data = mkdtempSync(join(tmpdir(), "strata-bench-"));
  const token = spawnSync(server, ["token", "create", "--scope", scopes, "--data", data], { encoding: "utf8" });
  if (token.status !== 0) throw new Error(token.stderr);
  const child = spawn(server, ["serve", "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json"], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, RUST_LOG: "warn", ...env },
  });
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`strata-server exited ${code}`)));
  });
  return {
    url: line.replace("listening on ", "").trim(),
    token: token.stdout.trim(),
    pid: child.pid,
    /** The server's peak resident memory so far (VmHWM), KiB. */
    peakKiB() {
      const m = readFileSync(`/proc/${child.pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
      return Number(m[1]);
    },
    stop() {
      child.kill("SIGTERM");
      return new Promise((r) => child.once("exit", () => (rmSync(data, { recursive: true, force: true }), r())));
    },
  };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
