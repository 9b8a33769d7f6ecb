#!/usr/bin/env bash
# Builds the native core (tests, vector runner, benchmarks) and the wasm module, incrementally.
# Usage: tools/build.sh [--native|--wasm] [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."
what=all
quiet=0
for arg in "$@"; do
  case "$arg" in
    --native) what=native ;;
    --wasm) what=wasm ;;
    --quiet) quiet=1 ;;
    *) echo "usage: tools/build.sh [--native|--wasm] [--quiet]" >&2; exit 2 ;;
  esac
done
run() { if [ "$quiet" = 1 ]; then "$@" >/tmp/quotagate-build.$$.log 2>&1 || { cat /tmp/quotagate-build.$$.log; rm -f /tmp/quotagate-build.$$.log; exit 1; }; rm -f /tmp/quotagate-build.$$.log; else "$@"; fi; }

# First run on a fresh machine: install what is missing (as root on Debian 12), else say how.
bash tools/setup.sh --if-needed

if [ "$what" != wasm ]; then
  [ -f build/CMakeCache.txt ] || run cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  run cmake --build build -j2
fi
if [ "$what" != native ]; then
  [ -f build-wasm/CMakeCache.txt ] || run emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release
  run cmake --build build-wasm -j2
fi
