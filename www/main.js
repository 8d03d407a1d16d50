// The viewer's loader: fetch and start the wasm module, then hand it the
// page, and a way to load the lint module (lint/, with sqlparser) that
// only views showing findings call. Every view is the module's.
performance.mark("strata:loader");

const main = document.getElementById("st-main");
const loadLint = () => import("/lint/strata_lint.js").then(async (m) => (await m.default(), m));

try {
  const { default: init, mountViewer } = await import("/strata.js");
  await init(); // fetches /strata_bg.wasm
  performance.mark("strata:wasm-ready");
  mountViewer(main, { loadLint });
} catch (e) {
  main.dataset.state = "error";
  const p = document.createElement("p");
  p.className = "st-error";
  p.setAttribute("role", "alert");
  p.textContent =
    `The viewer could not start: ${e?.message ?? e}. ` +
    "Reload the page; if this persists, check that the server serves /strata.js and " +
    "/strata_bg.wasm (as application/wasm) next to index.html (make www builds them into target/www).";
  main.replaceChildren(p);
  console.error(e);
}
