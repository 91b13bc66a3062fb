import { describe, expect, it } from 'vitest';
import type { SignatureFinding } from './findings.js';
import { decideVerdict, TRUST_REASONS } from './verdict.js';

const DIGEST = `sha256:${'1'.repeat(64)}`;
const OTHER = `sha256:${'2'.repeat(64)}`;
const K1 = `sha256:${'a'.repeat(64)}`;
const K2 = `sha256:${'b'.repeat(64)}`;

const valid = (
  keyId: string,
  format: SignatureFinding['format'] = 'simple-signing',
): SignatureFinding => ({
  kind: 'valid',
  format,
  keyId,
  where: 'w',
});
const mismatch: SignatureFinding = {
  kind: 'digest-mismatch',
  format: 'simple-signing',
  keyId: K1,
  signedDigests: [OTHER],
  where: 'sig layer 0',
};
const signedBad: SignatureFinding = {
  kind: 'signed-malformed',
  format: 'sigstore-bundle',
  keyId: K2,
  problem: 'not an in-toto statement',
  where: 'referrer layer 0',
};
const unverified: SignatureFinding = {
  kind: 'unverified',
  format: 'sigstore-bundle',
  where: 'referrer layer 1',
};
const unreadable: SignatureFinding = {
  kind: 'malformed',
  format: 'simple-signing',
  problem: 'not base64',
  where: 'sig layer 1',
};

describe('decideVerdict', () => {
  it('trusts when distinct keys reach the threshold, listing keys and formats sorted', () => {
    expect(
      decideVerdict(
        DIGEST,
        [valid(K2, 'simple-signing'), valid(K1, 'sigstore-bundle'), valid(K2), unverified],
        2,
      ),
    ).toEqual({
      status: 'trusted',
      digest: DIGEST,
      signers: [K1, K2],
      formats: ['sigstore-bundle', 'simple-signing'],
    });
  });

  it.each([
    ['THRESHOLD_NOT_MET', [valid(K1), valid(K1), mismatch, signedBad, unverified, unreadable]],
    ['DIGEST_MISMATCH', [unreadable, unverified, signedBad, mismatch]],
    ['BAD_PAYLOAD', [unreadable, unverified, signedBad]],
    ['UNKNOWN_KEY', [unreadable, unverified]],
    ['BAD_PAYLOAD', [unreadable]],
  ] as const)('answers %s when it is the strongest evidence', (reason, findings) => {
    expect(decideVerdict(DIGEST, findings, 2)).toMatchObject({ status: 'untrusted', reason });
  });

  it('names the evidence in the detail', () => {
    const detail = (findings: SignatureFinding[]) => {
      const verdict = decideVerdict(DIGEST, findings, 1);
      return verdict.status === 'trusted' ? '' : verdict.detail;
    };
    expect(detail([mismatch])).toBe(`key ${K1} signed ${OTHER}, not this digest (sig layer 0)`);
    expect(detail([signedBad])).toContain(
      `key ${K2} signed a payload that is not an in-toto statement`,
    );
    expect(detail([unverified, unverified])).toContain(
      '2 signature(s) found, none made by a configured key',
    );
    expect(detail([unreadable, unreadable])).toBe('sig layer 1: not base64 (and 1 more)');
    expect(detail([])).toContain(`${DIGEST.replace(':', '-')}.sig`);
  });

  it('answers unsigned without findings', () => {
    expect(decideVerdict(DIGEST, [], 1)).toMatchObject({
      status: 'unsigned',
      reason: 'NO_SIGNATURE',
      digest: DIGEST,
    });
  });

  it('lists every reason for metric labels', () => {
    expect([...TRUST_REASONS].sort()).toEqual([
      'BAD_PAYLOAD',
      'DIGEST_MISMATCH',
      'NO_SIGNATURE',
      'THRESHOLD_NOT_MET',
      'UNKNOWN_KEY',
    ]);
  });
});
