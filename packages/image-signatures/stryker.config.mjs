import { strykerConfig } from '../../stryker.shared.mjs';

// The verifier: what counts as a valid signature, which keys and policy apply, and which
// referrers are looked at.
export default strykerConfig({
  dir: 'packages/image-signatures',
  mutate: [
    'src/verify-*.ts',
    '!src/**/*.test.ts',
    'src/signature-check.ts',
    'src/signature-policy.ts',
    'src/signing-keys.ts',
    'src/referrers.ts',
  ],
  thresholds: { high: 95, low: 85, break: 92 },
});
