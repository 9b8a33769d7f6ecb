#!/usr/bin/env bash
# The whole suite (npm test): native GoogleTest via ctest, the dashboard in Chromium (Playwright),
# then the wasm module and the Node host via node --test (whose golden vectors must match the
# native output byte for byte). node --test runs last so its summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --if-needed --for-test
bash tools/build.sh
echo "== native core (ctest)"
ctest --test-dir build --output-on-failure -j2
echo "== dashboard in Chromium (playwright)"
npx playwright test
echo "== wasm engine and Node host (node --test)"
node --test --test-concurrency=2 host-node/test/*.test.js
