#!/usr/bin/env bash
# Packs the native provider plugin as the tarball `pulumi plugin install` takes:
#
#   bash scripts/pack-native-provider.sh            # prints the tarball's path (last line)
#   pulumi plugin install resource dpl 0.1.0 --file <that path>
#
# The tarball holds the `pulumi-resource-dpl` launcher at its root and a production
# node_modules with the plugin, the provider hooks and their dependencies (no dev packages).
# It needs `node` (20+) on the machine that runs the engine, as the Node SDK does.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
version=$(node -p "require('./native-provider/package.json').version")
out=${1:-$repo/.work/plugin}
tarball="$out/pulumi-resource-dpl-v$version-linux-amd64.tar.gz"

log() { printf 'pack-native-provider: %s\n' "$*" >&2; }

npx tsc -b provider native-provider
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Workspace packages as npm would publish them, then installed together so the plugin's
# dependency on the provider resolves to this checkout's provider, not a registry copy.
npm pack --silent --pack-destination "$stage" --workspace provider --workspace native-provider >/dev/null
(cd "$stage" && printf '{"name":"pulumi-resource-dpl-bundle","private":true}\n' >package.json \
  && npm install --silent --omit=dev --prefer-offline --no-audit --no-fund --no-package-lock ./*.tgz >&2 && rm -f ./*.tgz package.json)
cat >"$stage/pulumi-resource-dpl" <<'LAUNCHER'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec node "$here/node_modules/@prophetstor/pulumi-resource-dpl/dist/main.js" "$@"
LAUNCHER
chmod 0755 "$stage/pulumi-resource-dpl"
mkdir -p "$out"
tar -C "$stage" -czf "$tarball.tmp" .
mv -f "$tarball.tmp" "$tarball"
log "packed $(du -h "$tarball" | cut -f1) plugin $version"
printf '%s\n' "$tarball"
