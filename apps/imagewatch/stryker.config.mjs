import { strykerConfig } from '../../stryker.shared.mjs';

// The watcher's decisions: what a digest move means, the rollout state machine and its waves,
// and which hook payloads match a watched image.
export default strykerConfig({
  dir: 'apps/imagewatch',
  mutate: [
    'src/watch/decide.ts',
    'src/rollouts/transitions.ts',
    'src/rollouts/waves.ts',
    'src/hooks/matcher.ts',
  ],
  thresholds: { high: 95, low: 85, break: 95 },
});
