#!/usr/bin/env bash
# Installs npm dependencies and builds every package. A finished node_modules is kept in a cache
# outside the clone, keyed by the lock file, because better-sqlite3 compiles from source here
# (minutes on two cores) and CI starts from a fresh clone each time.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sha256sum package-lock.json | cut -d' ' -f1)
cache=${DPL_NODE_MODULES_CACHE:-/var/cache/dpl-node-modules}/$want
stamp=node_modules/.package-lock.sha
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ -f "$cache/node_modules/.package-lock.sha" ]; then
    echo "setup-node: node_modules from cache $cache" >&2
    rm -rf node_modules
    cp -a "$cache/node_modules" node_modules
  else
    echo "setup-node: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$want" > "$stamp"
    # Workspace links inside node_modules are relative, so the copy works in any clone.
    mkdir -p "$cache" && rm -rf "$cache/node_modules.tmp" &&
      cp -a node_modules "$cache/node_modules.tmp" && mv "$cache/node_modules.tmp" "$cache/node_modules" || true
  fi
fi
echo "setup-node: building provider, sdk, server" >&2
npx tsc -b provider sdk server >&2
