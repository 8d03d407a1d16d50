// Registry benchmarks against a real strata-server on loopback (make bench
// runs this; figures go in the README):
//
// 1. push and pull of a generated 1,000-file, 10 MB directory with the
//    `strata` CLI: cold, unchanged, and with one file added. For each: wall
//    time (median of --runs, a fresh server and registry per run), the
//    requests and body bytes the client counted.
// 2. manifest GET throughput (a version by digest, and a tag) with wrk,
//    which shares the machine's two cores with the server.
// 3. the server's peak resident memory over the whole run (VmHWM), and
//    around the upload and download of one 60 MB blob.
//
//   node benches/registry.mjs [--runs N] [--server PATH] [--wrk-seconds S]
//
// Needs the npm package (make pkg), a release build of the server
// (cargo build --release -p strata-server) and wrk (Debian's package).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CLI, cli, median, opt, requireBuilt, root, startServer as startWith } from "./common/server.mjs";

const RUNS = Math.max(1, Number(opt("--runs", 3)) | 0);
const SERVER = opt("--server", join(root, "target/release/strata-server"));
const WRK_SECONDS = Number(opt("--wrk-seconds", 10));
requireBuilt([
  [SERVER, "cargo build --release -p strata-server"],
  [CLI, "make pkg"],
]);

// ---- a deterministic 1,000-file, 10 MB directory ----------------------------

function generate(dir, count = 1000, size = 10_000) {
  mkdirSync(dir, { recursive: true });
  let seed = 0x5eed1234;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8);
  for (let i = 1; i <= count; i++) {
    let sql = `-- migration ${i}\nCREATE TABLE t${i} (id bigint PRIMARY KEY, name text NOT NULL);\n`;
    while (sql.length < size) sql += `INSERT INTO t${i} (id, name) VALUES (${rand()}, 'n${rand().toString(36)}');\n`;
    writeFileSync(join(dir, `${20240101000000 + i}_m${String(i).padStart(4, "0")}.sql`), sql.slice(0, size - 1) + "\n");
  }
  cli(["hash", "--dir", dir]);
}

function addFile(dir, i) {
  writeFileSync(join(dir, `${20240101000000 + i}_m${i}.sql`), `CREATE TABLE added${i} (id int);\n`);
  cli(["hash", "--dir", dir]);
}

// ---- processes ----------------------------------------------------------------

const startServer = () => startWith(SERVER);

/** Runs the CLI with --json and returns the wall time and the client's counts. */
function timed(server, argv) {
  const t0 = performance.now();
  const outText = cli([...argv, "--json", "--registry", server.url], { STRATA_TOKEN: server.token });
  const ms = performance.now() - t0;
  const r = JSON.parse(outText);
  return { ms, requests: r.stats.requests, sent: r.stats.bytesSent, received: r.stats.bytesReceived };
}

// ---- push and pull ------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), "strata-bench-dir-"));
const src = join(work, "src");
generate(src);
const scenarios = ["push cold", "push unchanged", "push one file added", "pull cold", "pull unchanged", "pull one file added"];
const results = Object.fromEntries(scenarios.map((s) => [s, []]));
let peakKiB = 0;
for (let run = 0; run < RUNS; run++) {
  rmSync(src, { recursive: true, force: true });
  generate(src);
  const out = join(work, `out${run}`);
  const server = await startServer();
  const push = () => timed(server, ["push", "--dir", src, "--name", "bench"]);
  const pull = () => timed(server, ["pull", "bench@latest", "--out", out, "--force"]);
  results["push cold"].push(push());
  results["pull cold"].push(pull());
  results["push unchanged"].push(push());
  results["pull unchanged"].push(pull());
  addFile(src, 5000 + run);
  results["push one file added"].push(push());
  results["pull one file added"].push(pull());
  peakKiB = Math.max(peakKiB, server.peakKiB());
  await server.stop();
}

console.log(`\n## push and pull: 1,000 files, ${(10_000_000 / 1e6).toFixed(0)} MB (median of ${RUNS}; ${cpus().length} × ${cpus()[0].model})\n`);
console.log("| | time | requests | sent | received |");
console.log("|---|---|---|---|---|");
const kb = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
for (const s of scenarios) {
  const rs = results[s];
  const m = median(rs.map((r) => r.ms));
  const r = rs[0];
  console.log(`| ${s} | ${m.toFixed(0)} ms | ${r.requests} | ${kb(r.sent)} | ${kb(r.received)} |`);
}

// ---- manifest GET throughput --------------------------------------------------

const server = await startServer();
const pushed = JSON.parse(cli(["push", "--dir", src, "--name", "bench", "--json", "--registry", server.url], { STRATA_TOKEN: server.token }));
const small = join(work, "small");
mkdirSync(small);
for (let i = 1; i <= 10; i++) writeFileSync(join(small, `${20240101000000 + i}_s${i}.sql`), `CREATE TABLE s${i} (id int);\n`);
cli(["hash", "--dir", small]);
const smallPushed = JSON.parse(cli(["push", "--dir", small, "--name", "small", "--json", "--registry", server.url], { STRATA_TOKEN: server.token }));
console.log(`\n## manifest GET throughput (wrk, 2 threads, 64 connections, ${WRK_SECONDS} s, on the same 2 cores)\n`);
console.log("| request | manifest | requests/s | p99 latency |");
console.log("|---|---|---|---|");
for (const [what, path, size] of [
  ["version by digest", `/v1/dirs/small/versions/${smallPushed.version}`, "10 files"],
  ["tag", "/v1/dirs/small/tags/latest", "10 files"],
  ["version by digest", `/v1/dirs/bench/versions/${pushed.version}`, "1,001 files"],
  ["tag", "/v1/dirs/bench/tags/latest", "1,001 files"],
]) {
  const w = spawnSync("wrk", ["-t2", "-c64", `-d${WRK_SECONDS}s`, "--latency", "-H", `Authorization: Bearer ${server.token}`, server.url + path], {
    encoding: "utf8",
  });
  if (w.status !== 0) throw new Error(`wrk: ${w.stderr || w.error}`);
  const rps = Number(w.stdout.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const p99 = w.stdout.match(/99%\s+([\d.]+\w+)/)?.[1] ?? "?";
  const non2xx = w.stdout.match(/Non-2xx or 3xx responses: (\d+)/);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} errors on ${path}`);
  console.log(`| ${what} | ${size} | ${Math.round(rps).toLocaleString("en")} | ${p99} |`);
}
peakKiB = Math.max(peakKiB, server.peakKiB());
await server.stop();
console.log(`\nserver peak resident memory over the run: ${(peakKiB / 1024).toFixed(1)} MiB`);

// ---- one large blob: memory stays bounded -------------------------------------

{
  const big = await startServer();
  const bytes = new Uint8Array(60_000_000);
  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65536, bytes.length)));
  const digest = "sha256:" + createHash("sha256").update(bytes).digest("hex");
  const url = `${big.url}/v1/dirs/big/blobs/${digest}`;
  const auth = { authorization: `Bearer ${big.token}` };
  const before = big.peakKiB();
  const put = await fetch(url, { method: "PUT", headers: auth, body: bytes });
  if (put.status !== 201) throw new Error(`PUT of the 60 MB blob: ${put.status} ${await put.text()}`);
  const get = await fetch(url, { headers: auth });
  const back = new Uint8Array(await get.arrayBuffer());
  if (back.length !== bytes.length) throw new Error(`GET of the 60 MB blob returned ${back.length} bytes`);
  console.log(
    `one 60 MB blob uploaded and downloaded: server peak resident memory ${(before / 1024).toFixed(1)} MiB before, ${(big.peakKiB() / 1024).toFixed(1)} MiB after`,
  );
  await big.stop();
}
rmSync(work, { recursive: true, force: true });
