// Turns wasm-pack's output in pkg/ into the npm package: adds the Node entry
// point and the `strata` command, and the package.json fields that expose
// them. Run after `wasm-pack build` (the Makefile does).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";

const pkg = new URL("../pkg/", import.meta.url);
const here = new URL("./", import.meta.url);

mkdirSync(new URL("bin/", pkg), { recursive: true });
copyFileSync(new URL("node.mjs", here), new URL("node.mjs", pkg));
copyFileSync(new URL("bin/strata.mjs", here), new URL("bin/strata.mjs", pkg));
chmodSync(new URL("bin/strata.mjs", pkg), 0o755);
copyFileSync(new URL("README.md", here), new URL("README.md", pkg));
copyFileSync(new URL("../LICENSE", here), new URL("LICENSE", pkg));

const file = new URL("package.json", pkg);
const json = JSON.parse(readFileSync(file, "utf8"));
json.files = [...new Set([...(json.files ?? []), "node.mjs", "bin/strata.mjs", "README.md", "LICENSE"])];
json.bin = { strata: "bin/strata.mjs" };
json.exports = {
  ".": {
    types: "./strata.d.ts",
    node: "./node.mjs",
    default: "./strata.js",
  },
  "./strata.js": { types: "./strata.d.ts", default: "./strata.js" },
  "./strata_bg.wasm": "./strata_bg.wasm",
  "./package.json": "./package.json",
};
json.engines = { node: ">=20" };
writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
