#!/usr/bin/env bash
# The whole test suite: installs what it needs (pnpm packages; Debian's prometheus when missing),
# builds, type-checks, lints and runs every jest test, then prints `tests: N passed, M failed`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh || { echo "setup failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  echo "installing Debian's prometheus (needed by the compatibility tests)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || echo "WARNING: could not install prometheus; the tests that need it will fail"
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Debian's redis-server (needed by the ring and KV tests)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
    || echo "WARNING: could not install redis-server; the tests that need it will fail"
fi

fail=0
echo "== build"
node_modules/.bin/tsc -b packages/server || fail=1
echo "== type-check (sources and tests)"
node_modules/.bin/tsc -p tsconfig.test.json --noEmit || fail=1
echo "== lint"
node_modules/.bin/eslint --max-warnings=0 packages tests || fail=1

echo "== jest"
mkdir -p .test-results
rm -f .test-results/jest.json .test-results/promql-compat.json
node_modules/.bin/jest --json --outputFile=.test-results/jest.json "$@"
jest_rc=$?

node -e '
const fs = require("fs");
try {
  const cases = JSON.parse(fs.readFileSync(".test-results/promql-compat.json", "utf8"));
  const ok = cases.filter((c) => c.ok).length;
  console.log(`promql: ${ok} passed, ${cases.length - ok} failed`);
} catch (e) { console.log("promql: differential suite did not run"); }
'
node -e '
const fs = require("fs");
let passed = 0, failed = 0;
try {
  const r = JSON.parse(fs.readFileSync(".test-results/jest.json", "utf8"));
  passed = r.numPassedTests; failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
} catch (e) { failed = 1; }
const extra = Number(process.argv[1]);
console.log(`tests: ${passed} passed, ${failed + extra} failed`);
process.exit(failed + extra > 0 ? 1 : 0);
' "$fail"
rc=$?
[ $jest_rc -ne 0 ] && rc=1
exit $rc
