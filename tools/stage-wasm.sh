#!/usr/bin/env bash
# Copies the built wasm modules into the package layout (npm prepack): wasm/dist for Node,
# wasm/web-dist for the dashboard. An installed package needs no emscripten, cmake or compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p wasm/dist wasm/web-dist
cp build-wasm/wasm/quotagate.js build-wasm/wasm/quotagate.wasm build-wasm/wasm/package.json wasm/dist/
cp build-wasm/web/quotagate.js build-wasm/web/quotagate.wasm wasm/web-dist/
