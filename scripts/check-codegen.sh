#!/usr/bin/env bash
# Fails when schema/schema.graphql, test/generated/ or client/generated/ are stale: regenerates them
# the one way (`npm run codegen`: print the schema from the Pothos code, then graphql-codegen) and
# asks git whether anything changed, including new or deleted files.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent codegen >/dev/null

drift="$(git status --porcelain -- schema test/generated client/generated)"
if [[ -n "$drift" ]]; then
  echo "Generated files are out of date; run \`npm run codegen\` and commit the result:" >&2
  echo "$drift" >&2
  git --no-pager diff --stat -- schema test/generated client/generated >&2 || true
  exit 1
fi
echo "schema/schema.graphql, test/generated/ and client/generated/ are up to date."
