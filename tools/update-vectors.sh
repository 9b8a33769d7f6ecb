#!/usr/bin/env bash
# Regenerates tests/vectors/*.expected.json from the native build. Review the diff before
# committing: these files are the contract that native and wasm builds must both print.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target qg_vectors >/dev/null
for f in tests/vectors/*.json; do
  case "$f" in *.expected.json) continue ;; esac
  build/qg_vectors "$f" > "${f%.json}.expected.json"
done
git --no-pager diff --stat -- tests/vectors || true
