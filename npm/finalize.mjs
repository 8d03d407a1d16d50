// Turns wasm-pack's output in pkg/ into the npm package: adds the Node entry
// point and the `strata` command, the lint module's entry point (`strata/lint`:
// lint.mjs over pkg/lint/, the second wasm module), and the package.json
// fields that expose them. Run after both `wasm-pack build`s (the Makefile
// does).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";

const pkg = new URL("../pkg/", import.meta.url);
const here = new URL("./", import.meta.url);

mkdirSync(new URL("bin/", pkg), { recursive: true });
copyFileSync(new URL("node.mjs", here), new URL("node.mjs", pkg));
copyFileSync(new URL("bin/strata.mjs", here), new URL("bin/strata.mjs", pkg));
chmodSync(new URL("bin/strata.mjs", pkg), 0o755);
copyFileSync(new URL("README.md", here), new URL("README.md", pkg));
copyFileSync(new URL("../LICENSE", here), new URL("LICENSE", pkg));
copyFileSync(new URL("lint.mjs", here), new URL("lint.mjs", pkg));
copyFileSync(new URL("lint.d.ts", here), new URL("lint.d.ts", pkg));
// wasm-pack's package.json and `*` .gitignore of the lint module: the
// module is part of this package, not one of its own (npm would skip the
// files under a .gitignore of `*`).
rmSync(new URL("lint/package.json", pkg), { force: true });
rmSync(new URL("lint/.gitignore", pkg), { force: true });
// Types of the Node entry point: the main module's and lint()/preview().
writeFileSync(
  new URL("node.d.ts", pkg),
  'export * from "./strata.js";\nexport { lint, preview } from "./lint.js";\n',
);

const LINT_FILES = ["lint.mjs", "lint.d.ts", "lint/strata_lint.js", "lint/strata_lint.d.ts", "lint/strata_lint_bg.wasm"];

const file = new URL("package.json", pkg);
const json = JSON.parse(readFileSync(file, "utf8"));
json.files = [
  ...new Set([...(json.files ?? []), "node.mjs", "node.d.ts", "bin/strata.mjs", "README.md", "LICENSE", ...LINT_FILES]),
];
json.bin = { strata: "bin/strata.mjs" };
json.exports = {
  ".": {
    node: { types: "./node.d.ts", default: "./node.mjs" },
    types: "./strata.d.ts",
    default: "./strata.js",
  },
  // lint() and preview() everywhere: Node loads the module on first use,
  // browsers and bundlers call its default export init() first.
  "./lint": { types: "./lint.d.ts", default: "./lint.mjs" },
  "./lint/strata_lint_bg.wasm": "./lint/strata_lint_bg.wasm",
  "./strata.js": { types: "./strata.d.ts", default: "./strata.js" },
  "./strata_bg.wasm": "./strata_bg.wasm",
  "./package.json": "./package.json",
};
json.engines = { node: ">=20" };
writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
