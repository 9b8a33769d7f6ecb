// Loads the quotagate wasm engine (the same module the dashboard runs) for Node.
// Looks in QUOTAGATE_WASM_DIR, then the packaged wasm/dist, then the local build-wasm output.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const CANDIDATE_DIRS = [
  process.env.QUOTAGATE_WASM_DIR,
  path.join(ROOT, 'wasm', 'dist'),
  path.join(ROOT, 'build-wasm', 'wasm'),
].filter(Boolean);

// The newest complete build wins, so a checkout that also has a staged package copy uses its build.
function wasmDir() {
  let best = null;
  for (const dir of CANDIDATE_DIRS) {
    const wasm = path.join(dir, 'quotagate.wasm');
    if (!fs.existsSync(path.join(dir, 'quotagate.js')) || !fs.existsSync(wasm)) continue;
    if (dir === process.env.QUOTAGATE_WASM_DIR) return dir;
    const mtime = fs.statSync(wasm).mtimeMs;
    if (!best || mtime > best.mtime) best = { dir, mtime };
  }
  if (best) return best.dir;
  const looked = CANDIDATE_DIRS.join(', ');
  throw new Error(`quotagate wasm module not found (looked in ${looked}); run "npm run build" first`);
}

let modulePromise = null;

// Resolves to the Emscripten module: { Engine, parseResponseJson, runVector, parseIsoMs }.
function loadCore() {
  if (!modulePromise) {
    modulePromise = (async () => {
      const dir = wasmDir();
      const createQuotagateModule = require(path.join(dir, 'quotagate.js'));
      return createQuotagateModule({ wasmBinary: fs.readFileSync(path.join(dir, 'quotagate.wasm')) });
    })();
  }
  return modulePromise;
}

module.exports = { loadCore, wasmDir };
