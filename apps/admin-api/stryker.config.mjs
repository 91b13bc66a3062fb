import { strykerConfig } from '../../stryker.shared.mjs';

// Which containers a refresh recreates, and what the refresh answers.
export default strykerConfig({
  dir: 'apps/admin-api',
  mutate: ['src/refresh/recreate-plan.ts', 'src/refresh/result.ts'],
  thresholds: { high: 90, low: 80, break: 0 },
});
