#!/usr/bin/env bash
# `npm start`: installs packages on a fresh clone, builds (the gateway, and the client kit bundle
# the demo page loads), and runs the gateway. With no PICWISH_API_KEY it runs on the built-in
# local (non-AI) engine, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.build.json
npm run --silent build:kit
exec node dist/main.js
