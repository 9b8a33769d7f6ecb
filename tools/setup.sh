#!/usr/bin/env bash
# Installs what quotagate needs on Debian 12: the toolchain from Debian's packages (apt, as root)
# and the npm dependencies (npm ci). `--if-needed` (npm start / npm run build) does only what is
# missing for building; `--if-needed --for-test` (npm test) also wants Chromium and PostgreSQL. Without options
# (CI) everything is installed or refreshed.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(emscripten nlohmann-json3-dev cmake g++ make libgtest-dev libbenchmark-dev chromium tzdata ca-certificates clang-14 libclang-rt-14-dev postgresql-15 wrk)

need_apt=1
if [ "${1:-}" = "--if-needed" ]; then
  need_apt=0
  tools=(emcc cmake g++)
  if [ "${2:-}" = "--for-test" ]; then
    tools+=(chromium)
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt=1  # the scale-out tests' throwaway server
  fi
  for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || need_apt=1; done
  [ -f /usr/include/nlohmann/json.hpp ] && [ -d /usr/include/gtest ] || need_apt=1
fi
if [ "$need_apt" = 1 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "quotagate setup: missing build tools. On Debian 12, as root: apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
    exit 1
  fi
  echo "quotagate setup: installing Debian packages (${#PACKAGES[@]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi
if [ "${1:-}" != "--if-needed" ] || [ ! -d node_modules/express ] || [ ! -d node_modules/pg ] || [ ! -d node_modules/@playwright/test ]; then
  echo "quotagate setup: npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
# The real CLI clients the suite drives (Claude Code, Codex CLI: about 660 MB, prebuilt binaries
# inside the npm packages), kept in a package of their own so that npm start never installs them.
if [ "${1:-}" != "--if-needed" ] || { [ "${2:-}" = "--for-test" ] && { [ ! -x e2e/clients/node_modules/.bin/claude ] || [ ! -x e2e/clients/node_modules/.bin/codex ]; }; }; then
  echo "quotagate setup: npm ci (e2e/clients: Claude Code, Codex CLI)"
  npm ci --prefix e2e/clients --no-audit --no-fund
fi
