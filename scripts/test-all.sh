#!/usr/bin/env bash
# Every check and every test, from a clean checkout: system packages, npm packages, builds, the
# pulumi engine, type check, lint, then unit, integration (real server, btrfs, tgtd) and e2e
# (real pulumi engine) tests. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
bash scripts/setup-node.sh
PATH="$(bash scripts/setup-pulumi.sh | tail -n 1):$PATH"
export PATH

echo "==> tsc --noEmit" >&2
npx tsc --noEmit -p tsconfig.json
echo "==> eslint" >&2
npx eslint --max-warnings=0 .
echo "==> vitest" >&2
npx vitest run "$@"
echo "==> benchmark smoke run (no timing assertions)" >&2
npm run --silent bench -- --smoke
