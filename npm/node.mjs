// Entry point for Node.js: loads the WebAssembly module synchronously, so
// that `import { Directory } from "strata"` is ready to use. Browsers and
// bundlers use strata.js, whose default export `init()` fetches the module.
import { readFileSync } from "node:fs";
import { initSync } from "./strata.js";

initSync({ module: readFileSync(new URL("./strata_bg.wasm", import.meta.url)) });

export * from "./strata.js";
// lint() and preview(): the lint module, instantiated from its file on
// their first call (importing this file does not load it), on every Node
// this package supports.
import { lint as lintModule, preview as previewModule, initSync as initLint } from "./lint.mjs";

let lintReady = false;
function loadLint() {
  if (!lintReady) initLint(readFileSync(new URL("./lint/strata_lint_bg.wasm", import.meta.url)));
  lintReady = true;
}

/** See lint.d.ts. */
export function lint(dir, options) {
  loadLint();
  return lintModule(dir, options);
}

/** See lint.d.ts. */
export function preview(local, base, options) {
  loadLint();
  return previewModule(local, base, options);
}
