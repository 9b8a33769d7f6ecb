#!/usr/bin/env bash
# npm run bench: builds, then prints one table (native core, wasm engine, gateway vs bare proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh --quiet
node bench/run.js "$@"
