// Adds up the JSON results of every test runner (vitest and both Playwright runs) into the
// one closing line CI reads: `tests: N passed, N failed[, N skipped]`. Exits 1 if any failed or
// if no results were found at all.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
let found = false;

// The vitest suite on SQLite, and its integration tests again on PostgreSQL.
for (const vitest of ['test-results/vitest.json', 'test-results/vitest-postgres.json']) {
  if (!existsSync(vitest)) continue;
  const report = JSON.parse(readFileSync(vitest, 'utf8'));
  passed += report.numPassedTests;
  failed +=
    report.numFailedTests +
    (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
  skipped += report.numPendingTests + report.numTodoTests;
  found = true;
}

// The browser console's run and the desktop app's `_electron` run.
for (const playwright of ['test-results/playwright.json', 'test-results/electron.json']) {
  if (!existsSync(playwright)) continue;
  const { stats } = JSON.parse(readFileSync(playwright, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
  found = true;
}

if (!found) failed += 1;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
