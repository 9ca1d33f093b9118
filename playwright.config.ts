import { defineConfig } from '@playwright/test';

/*
 * The console in a real browser (Debian's Chromium) against a real daemon and the real keychain.
 * Run inside a keyring: scripts/with-keyring.sh npx playwright test  (scripts/test.sh does).
 * The desktop app's `_electron` story has its own config in e2e/electron/.
 */
export default defineConfig({
  testDir: 'e2e',
  testIgnore: 'electron/**',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  workers: 1,
  reporter: process.env.CI ? [['list'], ['json', { outputFile: 'test-results/playwright.json' }]] : 'list',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Without the networking flags Chromium keeps trying hosts this machine cannot reach.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    permissions: ['clipboard-read', 'clipboard-write'],
    viewport: { width: 1280, height: 800 },
  },
});
