// Entry point for Node.js: loads the WebAssembly module synchronously, so
// that `import { Directory } from "strata"` is ready to use. Browsers and
// bundlers use strata.js, whose default export `init()` fetches the module.
import { readFileSync } from "node:fs";
import { initSync } from "./strata.js";

initSync({ module: readFileSync(new URL("./strata_bg.wasm", import.meta.url)) });

export * from "./strata.js";
// lint() and preview(): the lint module, instantiated on their first call
// (importing this file does not load it).
export { lint, preview } from "./lint.mjs";
