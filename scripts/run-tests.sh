#!/usr/bin/env bash
# One run of the test suite on whichever `node` is first on PATH, writing vitest's JSON report to
# the file named by the first argument (the rest go to vitest). scripts/test.sh calls it once per
# supported runtime and sums the reports into the one closing line.
set -euo pipefail
report="$1"
shift
echo "==> tests on node $(node --version)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
