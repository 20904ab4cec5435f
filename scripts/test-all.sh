#!/usr/bin/env bash
# Every check and every test, from a clean checkout: system packages, npm packages, builds, the
# pulumi engine, type check, lint, then unit, integration (real server, btrfs, tgtd) and e2e
# (real pulumi engine) tests, the benchmark smoke run, and a check that nothing of the run is
# left. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
bash scripts/setup-node.sh
PATH="$(bash scripts/setup-pulumi.sh | tail -n 1):$PATH"
export PATH
# Every process of this run inherits the marker; the last step fails naming any that is left.
DPL_TEST_RUN=${DPL_TEST_RUN:-$(cat /proc/sys/kernel/random/uuid)}
export DPL_TEST_RUN

echo "==> tsc --noEmit" >&2
npx tsc --noEmit -p tsconfig.json
# The TypeScript SDK gen-sdk writes for the native provider (sdk/nodejs) is not linted, but it must compile.
npx tsc --noEmit -p sdk/nodejs
echo "==> eslint" >&2
npx eslint --max-warnings=0 .
if [ "$#" -eq 0 ]; then
  # The unit lane promises to need no root: it runs as nobody, with a plain user's PATH, when
  # nobody can read the checkout (a clone under /root cannot be; then it runs as root).
  # vite's temporary config, its cache and the tests' scratch dir must be writable for nobody.
  install -d -m 1777 node_modules/.vite-temp node_modules/.vite .work
  if runuser -u nobody -- test -r package.json -a -x node_modules/.bin; then
    echo "==> vitest unit lane, as an unprivileged user" >&2
    runuser -u nobody -- env HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin DPL_TEST_RUN="$DPL_TEST_RUN" \
      npx vitest run --project unit
  else
    echo "==> vitest unit lane (as root: user nobody cannot read $(pwd))" >&2
    npx vitest run --project unit
  fi
  echo "==> vitest engines, integration and e2e (root)" >&2
  npx vitest run --project engines --project integration --project e2e
else
  echo "==> vitest $*" >&2
  npx vitest run "$@"
fi
echo "==> benchmark smoke run (no timing assertions)" >&2
npm run --silent bench -- --smoke
echo "==> nothing of this run is left (processes, mounts, loop devices)" >&2
node -r ts-node/register/transpile-only test/support/check-leftovers.ts
