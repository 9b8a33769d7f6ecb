#!/usr/bin/env bash
# The whole suite (npm test): native GoogleTest via ctest, then the wasm module and the Node host
# via node --test (the golden vectors there must match the native output byte for byte).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
echo "== native core (ctest)"
ctest --test-dir build --output-on-failure -j2
echo "== wasm engine and Node host (node --test)"
node --test --test-concurrency=2 host-node/test/*.test.js
echo "== dashboard in Chromium (playwright)"
npx playwright test
