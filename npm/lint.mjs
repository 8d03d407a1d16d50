// `strata/lint`: lint() and preview() from the lint module, a second
// WebAssembly module (lint/strata_lint_bg.wasm, with sqlparser) that
// nothing loads until it is used: importing "strata" or "strata/lint"
// instantiates nothing.
//
// In Node (20.16 and later) the first call reads and instantiates the
// module synchronously. Elsewhere (browsers, bundlers, edge runtimes), call
// `await init()` first: it fetches lint/strata_lint_bg.wasm next to
// lint/strata_lint.js, or takes what you pass (a URL, a Response, bytes, a
// WebAssembly.Module); `initSync(module)` takes bytes or a Module.
//
// Every rule and rendering is the core's (strata::lint, strata::preview);
// this file only adds the methods to the results. Types: lint.d.ts.
import initAsync, {
  initSync as initGlue,
  lint as lintRaw,
  preview as previewRaw,
} from "./lint/strata_lint.js";

const WASM = new URL("./lint/strata_lint_bg.wasm", import.meta.url);
let ready = false;

/** Instantiates the lint module from `input` (default: fetches the .wasm beside the glue). */
export default async function init(input) {
  if (!ready) await initAsync(input === undefined ? undefined : { module_or_path: input });
  ready = true;
}

/** Instantiates the lint module from bytes or a `WebAssembly.Module`, synchronously. */
export function initSync(module) {
  if (!ready) initGlue({ module });
  ready = true;
}

function load() {
  if (ready) return;
  const fs = globalThis.process?.getBuiltinModule?.("node:fs");
  if (!fs) {
    const e = new Error("the lint module is not loaded yet");
    e.name = "StrataError";
    Object.assign(e, {
      code: "lint-not-loaded",
      hint: 'call `await init()` from "strata/lint" once before lint() or preview() (Node 20.16+ loads it by itself)',
      summary: e.message,
    });
    throw e;
  }
  initSync(fs.readFileSync(WASM));
}

// The methods, not enumerable: the result stays its JSON document.
function withMethods(result, methods) {
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(result, name, { value, enumerable: false, configurable: true, writable: true });
  }
  return result;
}

/**
 * Lints a directory (a `Directory` of the main module, or
 * `{files: [{name, bytes}], dialect}`) with the core's analyzers.
 * `options.files` names the new files (default: all); the others only tell
 * which tables exist. Throws a `StrataError` on input that is not a
 * directory; statements that cannot be parsed are warnings (`unparsed`).
 * `toMarkdown()` and `toText()` are the core's renderings of the same
 * findings (one pull request comment; text for a terminal).
 */
export function lint(dir, options) {
  load();
  const { result, rendering } = lintRaw(dir, options);
  return withMethods(result, {
    toMarkdown: () => rendering.markdown,
    toText: () => rendering.text,
  });
}

/**
 * A pull request's preview: `local` against `base` (`null` when the base
 * tag does not exist yet), as the `strata.preview/v1` document with
 * `toMarkdown()` (one PR comment, first line `<!-- strata:preview NAME -->`),
 * `toText()` and `exitCode` (0 clean, 1 errors, 4 warnings only).
 */
export function preview(local, base, options) {
  load();
  const { result, rendering } = previewRaw(local, base, options);
  return withMethods(result, {
    toMarkdown: () => rendering.markdown,
    toText: () => rendering.text,
  });
}
