import { strykerConfig } from '../../stryker.shared.mjs';

// Which containers a refresh recreates (the plan, and what the engine's listing tells of each),
// and what the refresh answers.
export default strykerConfig({
  dir: 'apps/admin-api',
  mutate: ['src/refresh/recreate-plan.ts', 'src/refresh/result.ts', 'src/engine/containers.ts'],
  thresholds: { high: 95, low: 85, break: 95 },
});
