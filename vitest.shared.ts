import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Tests run on `src` of every workspace package through the `@molecule/source` export
 * condition, so no build is needed before `vitest`. Each test file writes nothing outside
 * its own temporary directories.
 */
export function sharedVitestConfig(overrides: ViteUserConfig['test'] = {}) {
  return defineConfig({
    resolve: { conditions: ['@molecule/source', 'module', 'node', 'import', 'default'] },
    // Not `import` for SSR: with it, node loads the ESM build of CommonJS-first packages (pg's
    // pg-pool) for their internal `require`, and `import pg from 'pg'` fails.
    ssr: { resolve: { conditions: ['@molecule/source', 'node'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 120_000,
      reporters: ['default', ['json', { outputFile: 'test-report.json' }]],
      ...overrides,
    },
  });
}
