#!/usr/bin/env bash
# `npm start`: installs packages on a fresh clone, builds (the gateway, and the demo page with the
# client kit's browser bundle, into dist/), and runs the gateway. With no PICWISH_API_KEY it runs on
# the built-in local (non-AI) engine, offline. It runs on Node 24 LTS when the machine's node is not
# a supported line (scripts/node-runtime.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-runtime.sh
node_runtime_use_supported
node_runtime_install_packages
npx tsc -p tsconfig.build.json
npm run --silent build:kit
exec node dist/main.js
