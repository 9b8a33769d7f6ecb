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

missing=()
command -v cmake >/dev/null || missing+=(cmake)
if [ "$what" != wasm ]; then command -v g++ >/dev/null || missing+=(g++); fi
if [ "$what" != native ]; then command -v emcc >/dev/null || missing+=(emscripten); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "quotagate build: missing ${missing[*]}. On Debian 12: apt-get install -y --no-install-recommends emscripten nlohmann-json3-dev cmake g++ libgtest-dev libbenchmark-dev" >&2
  exit 1
fi

if [ "$what" != wasm ]; then
  [ -f build/CMakeCache.txt ] || run cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  run cmake --build build -j2
fi
if [ "$what" != native ]; then
  [ -f build-wasm/CMakeCache.txt ] || run emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release
  run cmake --build build-wasm -j2
fi
