#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm packages, Debian's chromium for the browser tests,
# Debian's redis-server for the Redis tests), runs the checks that keep the code honest, then the
# whole suite.
# It needs only npm and bash to start, so it works on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages"
  npm ci --no-audit --no-fund
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> /usr/bin/chromium is missing and cannot be installed here: browser tests will be skipped"
  fi
fi

# The Redis tests start throwaway redis-servers of their own on ports the OS picks (or use
# TEST_REDIS_URL): they need the binary, not a running server, and leave nothing running.
if [ -z "${TEST_REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's redis-server for the Redis tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "==> redis-server is missing and cannot be installed here: the Redis tests will fail"
  fi
fi

echo "==> type-check";  npx tsc --noEmit
echo "==> lint and format check"; npx biome ci .
if [ -f scripts/check-codegen.sh ]; then
  echo "==> codegen drift check"; bash scripts/check-codegen.sh
fi
echo "==> tests"
mkdir -p test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=$?
node -e '
  const r = require("./test-results/vitest.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
