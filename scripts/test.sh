#!/usr/bin/env bash
# The whole check, as CI runs it: install everything, typecheck, lint, then every test inside a
# private throwaway keyring (tests never touch a real user's keychain), the integration tests a
# second time on a throwaway PostgreSQL (scripts/with-postgres.sh). Ends with one line
# `tests: N passed, N failed` and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1

status=0
echo "== typecheck"
npm run --silent typecheck || status=1
echo "== lint"
npm run --silent lint || status=1

echo "== tests"
rm -rf test-results && mkdir -p test-results
GATEHOUSE_PRIVATE_KEYRING=1 bash scripts/with-keyring.sh \
  npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json || status=1

echo "== integration tests again on PostgreSQL (a throwaway server; a fresh database per test daemon)"
# The integration tests are the files that start a real daemon or open the real database.
mapfile -t integration < <(grep -rlE 'startTestDaemon|startWithAdmin|spawnGatehouse|startDaemon\(|Database\.open' \
  --include='*.test.ts' --include='*.test.tsx' daemon electron renderer | sort)
GATEHOUSE_PRIVATE_KEYRING=1 bash scripts/with-postgres.sh bash scripts/with-keyring.sh \
  npx vitest run "${integration[@]}" --reporter=default --reporter=json \
  --outputFile.json=test-results/vitest-postgres.json || status=1

echo "== browser tests (the console in Chromium against a real daemon; screenshots in e2e/artifacts/)"
CI=true GATEHOUSE_PRIVATE_KEYRING=1 bash scripts/with-keyring.sh npx playwright test || status=1

echo "== desktop tests (Playwright _electron; skipped with the reason where Electron cannot run)"
CI=true GATEHOUSE_PRIVATE_KEYRING=1 bash scripts/with-keyring.sh npx playwright test -c e2e/electron || status=1

node scripts/test-summary.mjs || status=1
exit $status
