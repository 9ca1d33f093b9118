import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,daemon,electron,renderer}/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'dist/**'],
    // Integration tests start real daemons (scrypt, keychain over D-Bus): give them room on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
