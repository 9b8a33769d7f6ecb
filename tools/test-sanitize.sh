#!/usr/bin/env bash
# npm run test:sanitize: the whole GoogleTest suite built with ASan + UBSan (any report fails).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build-asan/CMakeCache.txt ] || cmake -S . -B build-asan -DQG_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-asan -j2 --target core_tests >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
