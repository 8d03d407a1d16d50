// A throwaway PostgreSQL cluster on loopback for a benchmark (initdb and
// pg_ctl in a temp directory, as scripts/services.sh starts one for the
// tests, but its own: a benchmark never stops another run's server).

import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster; `settings` are extra `-c name=value` server settings.
 * Returns its admin URL, `url(db)`, `createdb(name)`, `psql(args)` and `stop()`.
 */
export async function startPostgres(settings = []) {
  // PostgreSQL refuses to run as root: run it as the postgres user then.
  const asRoot = process.getuid?.() === 0;
  const pg = (cmd, args) => (asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]);
  const run = (cmd, args) => {
    const [c, a] = pg(cmd, args);
    const r = spawnSync(c, a, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-pg-"));
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const conf = ["-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1", ...settings.flatMap((s) => ["-c", s])].join(" ");
  run("pg_ctl", ["-D", join(dir, "data"), "-l", join(dir, "server.log"), "-w", "-t", "60", "-o", conf, "start"]);
  const url = (db) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const psql = (args) => {
    const r = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`psql ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
    return r.stdout;
  };
  return {
    port,
    url,
    psql,
    createdb(name) {
      psql(["-d", url("postgres"), "-c", `CREATE DATABASE "${name}"`]);
      return url(name);
    },
    stop() {
      run("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
