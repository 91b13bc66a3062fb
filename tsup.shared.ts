import { defineConfig, type Options } from 'tsup';

/**
 * The one build config every published package and app uses: ESM for Node 20+, type
 * declarations, source maps. Packages pass only what differs (extra entries, a banner).
 */
export function sharedTsupConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    ...overrides,
  });
}
