// Adds up the JSON results of every test runner (vitest and both Playwright runs) into the
// one closing line CI reads: `tests: N passed, N failed[, N skipped]`, after the name and the
// first line of each failure (CI keeps only the end of a long log). Exits 1 if any failed or if
// no results were found at all.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
let found = false;
const failures = [];
const firstLine = (text = '') => text.trim().split('\n')[0].slice(0, 300);

// The vitest suite on SQLite, and its integration tests again on PostgreSQL.
for (const [vitest, run] of [
  ['test-results/vitest.json', 'SQLite'],
  ['test-results/vitest-postgres.json', 'PostgreSQL'],
]) {
  if (!existsSync(vitest)) continue;
  const report = JSON.parse(readFileSync(vitest, 'utf8'));
  passed += report.numPassedTests;
  failed +=
    report.numFailedTests +
    (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
  skipped += report.numPendingTests + report.numTodoTests;
  found = true;
  for (const file of report.testResults) {
    const name = relative(process.cwd(), file.name);
    const tests = file.assertionResults.filter((test) => test.status === 'failed');
    for (const test of tests)
      failures.push(`${run}: ${name} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    if (file.status === 'failed' && tests.length === 0) failures.push(`${run}: ${name}: ${firstLine(file.message)}`);
  }
}

// The browser console's run and the desktop app's `_electron` run.
const failedSpecs = (suite) => [
  ...(suite.specs ?? [])
    .filter((spec) => !spec.ok)
    .map((spec) => {
      const error = spec.tests.flatMap((test) => test.results).find((result) => result.error)?.error;
      return `${spec.file} > ${spec.title}: ${firstLine(error?.message)}`;
    }),
  ...(suite.suites ?? []).flatMap(failedSpecs),
];
for (const playwright of ['test-results/playwright.json', 'test-results/electron.json']) {
  if (!existsSync(playwright)) continue;
  const report = JSON.parse(readFileSync(playwright, 'utf8'));
  passed += report.stats.expected + report.stats.flaky;
  failed += report.stats.unexpected;
  skipped += report.stats.skipped;
  found = true;
  for (const suite of report.suites) failures.push(...failedSpecs(suite).map((line) => `browser: ${line}`));
}

if (!found) failed += 1;
if (failures.length > 0) console.log(`failed:\n${failures.map((line) => `  ${line}`).join('\n')}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
