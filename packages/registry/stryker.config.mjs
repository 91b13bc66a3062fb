import { strykerConfig } from '../../stryker.shared.mjs';

// Prefix, host, reference grammar, digest pins, platform: all of it decides, so all of it is
// mutated (index.ts only re-exports).
export default strykerConfig({
  dir: 'packages/registry',
  mutate: ['src/**/*.ts', '!src/**/*.test.ts', '!src/index.ts'],
  thresholds: { high: 95, low: 85, break: 95 },
});
