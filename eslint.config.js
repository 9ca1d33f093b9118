import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'release/**',
      'node_modules/**',
      'playwright-report/**',
      'e2e/artifacts/**',
      'test-results/**',
      'coverage/**',
      'bench/.cache/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The console runs in a browser (or Electron's sandboxed renderer).
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Query keys come from each feature's factory (features/<resource>/queries.ts), so that an
    // invalidation by a factory key reaches every query it concerns; a literal key elsewhere drifts.
    files: ['renderer/src/**'],
    ignores: ['renderer/src/features/*/queries.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "Property[key.name='queryKey'] > ArrayExpression",
          message: 'Use the feature’s query-key factory (features/<resource>/queries.ts), not a literal key.',
        },
        {
          selector: "CallExpression[callee.property.name=/^(get|set)QueryData$/][arguments.0.type='ArrayExpression']",
          message: 'Use the feature’s query-key factory (features/<resource>/queries.ts), not a literal key.',
        },
      ],
    },
  },
  {
    // Tests (unit, integration, e2e) and their harness read untyped JSON responses.
    files: ['**/*.test.ts', '**/*.test.tsx', 'e2e/**', 'daemon/src/testing/**', 'renderer/src/testing/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Imports point one way (STYLE.md): shared ← daemon (http → domain → storage, secrets) ← cli;
    // shared ← renderer; electron reaches the daemon only through its public module (home.ts).
    files: ['shared/src/**', 'daemon/src/**', 'electron/**', 'renderer/src/**'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: 'tsconfig.json', noWarnOnMultipleProjects: true } },
      'boundaries/include': ['shared/src/**', 'daemon/src/**', 'electron/**', 'renderer/src/**'],
      // First match wins: the daemon's folders before its top-level files.
      'boundaries/elements': [
        { type: 'shared', pattern: 'shared/src', partialMatch: false },
        { type: 'daemon-testing', pattern: 'daemon/src/testing', partialMatch: false },
        { type: 'cli', pattern: 'daemon/src/cli', partialMatch: false },
        { type: 'http', pattern: 'daemon/src/http', partialMatch: false },
        { type: 'domain', pattern: 'daemon/src/domain', partialMatch: false },
        { type: 'storage', pattern: 'daemon/src/storage', partialMatch: false },
        { type: 'secrets', pattern: 'daemon/src/secrets', partialMatch: false },
        { type: 'daemon-core', pattern: 'daemon/src', partialMatch: false },
        { type: 'electron', pattern: 'electron', partialMatch: false },
        { type: 'renderer', pattern: 'renderer/src', partialMatch: false },
      ],
      'boundaries/files': [
        { category: 'entry', pattern: 'daemon/src/main.ts' },
        { category: 'public', pattern: 'daemon/src/home.ts' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            { from: { element: { type: 'shared' } }, allow: { to: { element: { type: 'shared' } } } },
            {
              from: { element: { type: 'renderer' } },
              allow: { to: { element: { types: { anyOf: ['renderer', 'shared'] } } } },
            },
            {
              from: { element: { type: 'electron' } },
              allow: { to: { element: { types: { anyOf: ['electron', 'shared'] } } } },
            },
            { from: { element: { type: 'electron' } }, allow: { to: { file: { categories: 'public' } } } },
            {
              from: { element: { type: 'storage' } },
              allow: { to: { element: { types: { anyOf: ['storage', 'daemon-core', 'shared'] } } } },
            },
            {
              from: { element: { type: 'secrets' } },
              allow: { to: { element: { types: { anyOf: ['secrets', 'daemon-core', 'shared'] } } } },
            },
            {
              from: { element: { type: 'domain' } },
              allow: {
                to: { element: { types: { anyOf: ['domain', 'storage', 'secrets', 'daemon-core', 'shared'] } } },
              },
            },
            {
              from: { element: { type: 'http' } },
              allow: {
                to: {
                  element: { types: { anyOf: ['http', 'domain', 'storage', 'secrets', 'daemon-core', 'shared'] } },
                },
              },
            },
            {
              from: { element: { type: 'daemon-core' } },
              allow: {
                to: {
                  element: { types: { anyOf: ['daemon-core', 'http', 'domain', 'storage', 'secrets', 'shared'] } },
                },
              },
            },
            { from: { file: { categories: 'entry' } }, allow: { to: { element: { type: 'cli' } } } },
            {
              from: { element: { type: 'cli' } },
              allow: { to: { element: { types: { anyOf: ['cli', 'daemon-core', 'secrets', 'shared'] } } } },
            },
          ],
        },
      ],
    },
  },
  {
    // Tests may use the daemon's test harness (a real daemon on a temp dir) from anywhere.
    files: ['**/*.test.ts', '**/*.test.tsx', 'daemon/src/testing/**', 'daemon/src/cli/test-cli.ts'],
    rules: { 'boundaries/dependencies': 'off' },
  },
  prettier,
);
