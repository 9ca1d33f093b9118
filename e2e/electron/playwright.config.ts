import { defineConfig } from '@playwright/test';

/*
 * The desktop app's end-to-end story, driven through Playwright's `_electron` (a project of its
 * own: the browser console's config is ../../playwright.config.ts). It needs a built app and a
 * keychain:  npm run build && scripts/with-keyring.sh npx playwright test -c e2e/electron
 * Where no Electron binary can run, every test reports itself skipped with the reason.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../../test-results/electron',
  timeout: 120_000,
  workers: 1,
  reporter: process.env.CI ? [['list'], ['json', { outputFile: '../../test-results/electron.json' }]] : 'list',
});
