#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm packages, Debian's chromium for the browser tests,
# a running PostgreSQL for the PostgreSQL tests), runs the checks that keep the code honest, then
# the whole suite on each supported Node line: 24 LTS (or the machine's node when it is a
# supported line), then 22 and 26. A machine with an older node (say 20) gets Node 24 from the npm
# registry (scripts/node-runtime.sh says how). It needs only npm and bash to start, so it works on
# a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/node-runtime.sh
node_runtime_use_supported
node_runtime_install_packages

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> /usr/bin/chromium is missing and cannot be installed here: browser tests will be skipped"
  fi
fi

# The PostgreSQL tests create (and drop) a throwaway database each on TEST_DATABASE_URL, by
# default the local server at 127.0.0.1:5432 (trust auth, user postgres). If nothing answers
# there, start Debian's cluster, installing Debian's postgresql first if it is absent.
pg_answers() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if [ -z "${TEST_DATABASE_URL:-}" ] && ! pg_answers; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      echo "==> installing Debian's postgresql for the PostgreSQL tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    conf="/etc/postgresql/$version/main"
    # Loopback only, trust auth for the test user, and a `test` database, as the tests expect.
    if ! grep -q '^# pwg-tests' "$conf/pg_hba.conf"; then
      printf '# pwg-tests\nhost all postgres 127.0.0.1/32 trust\n' | cat - "$conf/pg_hba.conf" > "$conf/pg_hba.tmp"
      mv "$conf/pg_hba.tmp" "$conf/pg_hba.conf"
      chown postgres:postgres "$conf/pg_hba.conf" && chmod 640 "$conf/pg_hba.conf"
    fi
    echo "==> starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
    su postgres -c "psql -h 127.0.0.1 -tAc \"select 1 from pg_database where datname = 'test'\"" | grep -q 1 \
      || su postgres -c "createdb -h 127.0.0.1 test"
  else
    echo "==> nothing answers on 127.0.0.1:5432 and PostgreSQL cannot be started here: the PostgreSQL tests will fail"
  fi
fi

echo "==> type-check";  npx tsc --noEmit
echo "==> lint and format check"; npx biome ci .
echo "==> settings drift check"; npx tsx scripts/settings-example.ts --check
if [ -f scripts/check-codegen.sh ]; then
  echo "==> codegen drift check"; bash scripts/check-codegen.sh
fi
# The suite runs on the runtime chosen above, then on each other supported line in a copy of the
# tree (scripts/with-node.sh); TEST_OTHER_NODES lists those lines (default "22 24 26" minus the
# main one; empty skips them). The type-check, lint and drift checks do not depend on the runtime
# and run once.
rm -rf test-results && mkdir -p test-results
main="$(node -p 'process.versions.node.split(".")[0]')"
reports=("test-results/vitest-node-$main.json")
status=0
bash scripts/run-tests.sh "$PWD/${reports[0]}" "$@" || status=$?
for major in ${TEST_OTHER_NODES-22 24 26}; do
  [ "$major" = "$main" ] && continue
  reports+=("test-results/vitest-node-$major.json")
  bash scripts/with-node.sh "$major" bash scripts/run-tests.sh "$PWD/test-results/vitest-node-$major.json" "$@" || status=$?
done
node -e '
  const fs = require("node:fs");
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const file of process.argv.slice(1)) {
    const runtime = file.replace(/^.*vitest-|\.json$/g, "");
    if (!fs.existsSync(file)) { console.log(`${runtime}: no report (that run did not finish)`); sum.failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    // A test file that fails before its tests run (an import or a hook) counts as one failure.
    const failed = r.numFailedTests + r.numFailedTestSuites;
    console.log(`${runtime}: passed ${r.numPassedTests}, failed ${failed}, skipped ${skipped}`);
    sum.passed += r.numPassedTests; sum.failed += failed; sum.skipped += skipped;
  }
  console.log(`${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
' "${reports[@]}" || true
exit $status
