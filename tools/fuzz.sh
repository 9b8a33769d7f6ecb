#!/usr/bin/env bash
# npm run fuzz -- SECONDS: builds the libFuzzer targets with clang 14 (ASan + UBSan) and runs each
# for SECONDS (default 30), seeded from tests/vectors and fuzz/seeds. A crash fails the run and
# leaves its input in build-fuzz/artifacts/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
[ -f build-fuzz/CMakeCache.txt ] || CXX=clang++-14 cmake -S . -B build-fuzz -DQG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 >/dev/null
node tools/fuzz-seeds.js build-fuzz/seeds
mkdir -p build-fuzz/artifacts
status=0
for target in header_parser catalog structured_fields time_parsers usage_events; do
  mkdir -p "build-fuzz/corpus/$target"
  log="build-fuzz/$target.log"
  if build-fuzz/fuzz_$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$target-" "build-fuzz/corpus/$target" "build-fuzz/seeds/$target" >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz $target: ${seconds}s, ${execs} executions, no crash"
  else
    echo "fuzz $target: FAILED (see $log and build-fuzz/artifacts/)"; tail -30 "$log"; status=1
  fi
done
exit $status
