import { strykerConfig } from '../../stryker.shared.mjs';

// The parts of the client that decide: challenge parsing, the token cache, which answers are
// a manifest (media type, body, digest) and the order credentials come from. The transport
// and the ECR/credential-helper I/O are covered by the contract suites, not mutated here.
export default strykerConfig({
  dir: 'packages/registry-client',
  mutate: [
    'src/www-authenticate.ts',
    'src/token-cache.ts',
    'src/manifest-acceptance.ts',
    'src/manifest-digest.ts',
    'src/content-digest.ts',
    'src/media-types.ts',
    'src/credentials/resolver.ts',
    'src/credentials/env.ts',
    'src/credentials/docker-config.ts',
  ],
  thresholds: { high: 95, low: 85, break: 95 },
});
