import { generateCosignKeyPair } from '@molecule/real-parts';
import { InvalidDigestError } from '@molecule/registry';
import { RegistryError } from '@molecule/registry-client';
import { describe, expect, it } from 'vitest';
import { createFakeSource, type FakeSource, sha256 } from '../test/fake-signature-source.js';
import { signBundle, signSimple, verifierKey } from '../test/signing.js';
import type { SigningKey } from './signing-keys.js';
import { verifyImageSignatures } from './verify-image-signatures.js';

const k1 = generateCosignKeyPair();
const k2 = generateCosignKeyPair();
const stranger = generateCosignKeyPair();
const ed = generateCosignKeyPair('ed25519');
const rsa = generateCosignKeyPair('rsa');
const DIGEST = sha256('image manifest');

function verify(fake: FakeSource, keys: SigningKey[], threshold = 1, digest = DIGEST) {
  return verifyImageSignatures({ source: fake.source, digest, policy: { keys, threshold } });
}

describe('verifyImageSignatures', () => {
  it('trusts a legacy .sig signature by a configured key', async () => {
    const fake = createFakeSource();
    signSimple(fake, DIGEST, k1);
    expect(await verify(fake, [verifierKey(k1)])).toEqual({
      status: 'trusted',
      digest: DIGEST,
      signers: [k1.keyId],
      formats: ['simple-signing'],
    });
  });

  it('trusts a sigstore bundle referrer by a configured key', async () => {
    const fake = createFakeSource();
    signBundle(fake, DIGEST, k1);
    expect(await verify(fake, [verifierKey(k1)])).toEqual({
      status: 'trusted',
      digest: DIGEST,
      signers: [k1.keyId],
      formats: ['sigstore-bundle'],
    });
  });

  it('answers unsigned when neither format has anything for the digest', async () => {
    const fake = createFakeSource();
    signSimple(fake, sha256('another image'), k1);
    const verdict = await verify(fake, [verifierKey(k1)]);
    expect(verdict).toMatchObject({ status: 'unsigned', reason: 'NO_SIGNATURE', digest: DIGEST });
    expect(fake.calls).toEqual(
      expect.arrayContaining([
        `referrers ${DIGEST}`,
        `manifest ${DIGEST.replace(':', '-')}`,
        `manifest ${DIGEST.replace(':', '-')}.sig`,
      ]),
    );
  });

  it('refuses signatures by a key that is not configured', async () => {
    const fake = createFakeSource();
    signSimple(fake, DIGEST, stranger);
    signBundle(fake, DIGEST, stranger);
    expect(await verify(fake, [verifierKey(k1), verifierKey(k2)])).toMatchObject({
      status: 'untrusted',
      reason: 'UNKNOWN_KEY',
      signers: [],
    });
  });

  it('refuses every signature when no key is configured', async () => {
    const fake = createFakeSource();
    signSimple(fake, DIGEST, k1);
    expect(await verify(fake, [])).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
  });

  describe('threshold', () => {
    it('is met by two keys in one .sig manifest', async () => {
      const fake = createFakeSource();
      signSimple(fake, DIGEST, k1, k2);
      const verdict = await verify(fake, [verifierKey(k1), verifierKey(k2)], 2);
      expect(verdict).toMatchObject({ status: 'trusted', signers: [k1.keyId, k2.keyId].sort() });
    });

    it('is not met by the same key twice, in one format or in both', async () => {
      const fake = createFakeSource();
      signSimple(fake, DIGEST, k1, k1);
      signBundle(fake, DIGEST, k1);
      const verdict = await verify(fake, [verifierKey(k1), verifierKey(k2)], 2);
      expect(verdict).toMatchObject({
        status: 'untrusted',
        reason: 'THRESHOLD_NOT_MET',
        signers: [k1.keyId],
      });
      expect(verdict.status === 'untrusted' && verdict.detail).toContain(
        '1 of the 2 required keys',
      );
    });

    it('is met by K1 in a .sig and K2 in a bundle', async () => {
      const fake = createFakeSource();
      signSimple(fake, DIGEST, k1);
      signBundle(fake, DIGEST, k2);
      expect(await verify(fake, [verifierKey(k1), verifierKey(k2)], 2)).toEqual({
        status: 'trusted',
        digest: DIGEST,
        signers: [k1.keyId, k2.keyId].sort(),
        formats: ['sigstore-bundle', 'simple-signing'],
      });
    });

    it('counts K1 in both formats once', async () => {
      const fake = createFakeSource();
      signSimple(fake, DIGEST, k1);
      signBundle(fake, DIGEST, k1);
      expect(await verify(fake, [verifierKey(k1)])).toMatchObject({
        status: 'trusted',
        signers: [k1.keyId],
        formats: ['sigstore-bundle', 'simple-signing'],
      });
    });
  });

  it.each([
    ['Ed25519', ed],
    ['RSA', rsa],
  ])('verifies %s keys in both formats', async (_name, key) => {
    const legacy = createFakeSource();
    signSimple(legacy, DIGEST, key);
    expect(await verify(legacy, [verifierKey(k1), verifierKey(key)])).toMatchObject({
      status: 'trusted',
      signers: [key.keyId],
    });
    const bundle = createFakeSource();
    signBundle(bundle, DIGEST, key);
    expect(await verify(bundle, [verifierKey(key)])).toMatchObject({ status: 'trusted' });
    expect(await verify(bundle, [verifierKey(k1)])).toMatchObject({ reason: 'UNKNOWN_KEY' });
  });

  it('reads both formats concurrently', async () => {
    const fake = createFakeSource({ delayMs: 20 });
    signSimple(fake, DIGEST, k1);
    signBundle(fake, DIGEST, k2);
    const verdict = await verify(fake, [verifierKey(k1), verifierKey(k2)], 2);
    expect(verdict.status).toBe('trusted');
    // Referrers, tag index, .sig manifest, referrer, two blobs: six calls, at most four in a row.
    expect(fake.calls).toHaveLength(6);
    expect(fake.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  describe('registry failures are not verdicts', () => {
    const failure = () =>
      new RegistryError({ code: 'UNAVAILABLE', method: 'GET', status: 503, hint: 'try later' });

    it.each([
      ['the referrers API', (call: string) => call.startsWith('referrers ')],
      ['the .sig manifest', (call: string) => call.endsWith('.sig')],
      ['a signature blob', (call: string) => call.startsWith('blob ')],
    ])('propagates a failure of %s unchanged', async (_name, match) => {
      const fake = createFakeSource();
      signSimple(fake, DIGEST, k1);
      signBundle(fake, DIGEST, k1);
      const error = failure();
      fake.failOn(match, error);
      await expect(verify(fake, [verifierKey(k1)])).rejects.toBe(error);
    });

    it('stops when the caller aborts', async () => {
      const fake = createFakeSource({ delayMs: 50 });
      signSimple(fake, DIGEST, k1);
      const controller = new AbortController();
      const pending = verifyImageSignatures({
        source: fake.source,
        digest: DIGEST,
        policy: { keys: [verifierKey(k1)], threshold: 1 },
        signal: controller.signal,
      });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    });
  });

  it('refuses a digest that is not sha256:<64 hex> and a threshold under 1', async () => {
    const fake = createFakeSource();
    await expect(verify(fake, [verifierKey(k1)], 1, 'latest')).rejects.toBeInstanceOf(
      InvalidDigestError,
    );
    await expect(verify(fake, [verifierKey(k1)], 0)).rejects.toBeInstanceOf(RangeError);
  });

  it('says why it refuses them', async () => {
    const fake = createFakeSource();
    await expect(verify(fake, [verifierKey(k1)], 1, 'latest')).rejects.toThrow(
      '"latest" is not a valid image digest: signatures are looked up by sha256 digest; ',
    );
    await expect(verify(fake, [verifierKey(k1)], 0)).rejects.toThrow(
      'threshold must be an integer ≥ 1, got 0',
    );
  });

  it('releases what it read with when it is done: the signal it passed is aborted', async () => {
    const fake = createFakeSource();
    signSimple(fake, DIGEST, k1);
    const signals: AbortSignal[] = [];
    const source = {
      ...fake.source,
      getManifest: (...args: Parameters<FakeSource['source']['getManifest']>) => {
        if (args[1].signal) signals.push(args[1].signal);
        return fake.source.getManifest(...args);
      },
    };
    const verdict = await verifyImageSignatures({
      source,
      digest: DIGEST,
      policy: { keys: [verifierKey(k1)], threshold: 1 },
    });
    expect(verdict.status).toBe('trusted');
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });
});
