import {
  cosignReferrersTag,
  createReferringManifest,
  createSigstoreBundle,
  generateCosignKeyPair,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from '@molecule/real-parts';
import { describe, expect, it } from 'vitest';
import { createFakeSource, type FakeSource, sha256 } from '../test/fake-signature-source.js';
import { signBundle, verifierKey } from '../test/signing.js';
import { MAX_SIGNATURE_BLOB_BYTES, MAX_SIGNATURE_LAYERS } from './limits.js';
import { findBundleLayers } from './referrers.js';
import type { SignatureSource } from './signature-source.js';
import { verifyImageSignatures } from './verify-image-signatures.js';

const k1 = generateCosignKeyPair();
const stranger = generateCosignKeyPair();
const DIGEST = sha256('image for referrers');
const TAG = cosignReferrersTag(DIGEST);

function verify(source: SignatureSource) {
  return verifyImageSignatures({
    source,
    digest: DIGEST,
    policy: { keys: [verifierKey(k1)], threshold: 1 },
  });
}

async function detailOf(source: SignatureSource): Promise<string> {
  const verdict = await verify(source);
  if (verdict.status === 'trusted') throw new Error('expected a verdict with a detail');
  return verdict.detail;
}

/** A bundle referrer of DIGEST whose manifest JSON `edit` changes; returns its digest. */
function pushReferrer(
  fake: FakeSource,
  edit: (manifest: { layers: unknown[] }) => void,
  bundle = createSigstoreBundle({ key: k1, digest: DIGEST }),
): string {
  const referrer = createReferringManifest({
    subject: { digest: DIGEST, mediaType: OCI_MANIFEST, size: 500 },
    bundle,
    created: '2026-01-01T00:00:00Z',
  });
  const json = JSON.parse(referrer.manifest.toString()) as { layers: unknown[] };
  edit(json);
  const digest = fake.push({ ...referrer, manifest: Buffer.from(JSON.stringify(json)) });
  fake.writeTagIndex(DIGEST);
  return digest;
}

describe('findBundleLayers', () => {
  it('passes the caller signal and the right Accept on every read', async () => {
    const fake = createFakeSource();
    signBundle(fake, DIGEST, k1);
    const reads: Array<[string, unknown, AbortSignal | undefined]> = [];
    const source: SignatureSource = {
      getReferrers: (digest, options) => {
        reads.push([`referrers ${digest}`, undefined, options.signal]);
        return fake.source.getReferrers(digest, options);
      },
      getManifest: (reference, options) => {
        reads.push([`manifest ${reference}`, options.accept, options.signal]);
        return fake.source.getManifest(reference, options);
      },
      getBlob: fake.source.getBlob,
    };
    const signal = new AbortController().signal;
    const found = await findBundleLayers({ source, digest: DIGEST, keys: [], signal });
    expect(found.layers).toHaveLength(1);
    expect(reads.map(([call, accept]) => [call.split(' ')[0], accept])).toEqual([
      ['referrers', undefined],
      ['manifest', [OCI_INDEX]],
      ['manifest', [OCI_MANIFEST]],
    ]);
    expect(reads.every(([, , given]) => given === signal)).toBe(true);
  });

  it('names the referrers API answer or the tag it read when the index is unreadable', async () => {
    const fake = createFakeSource();
    const api: SignatureSource = { ...fake.source, getReferrers: async () => Buffer.from('[]') };
    expect(await detailOf(api)).toBe(
      'referrers API answer: not an OCI index (Invalid input: expected object, received array)',
    );
    fake.putManifest(TAG, Buffer.from('{"schemaVersion":2}'));
    expect(await detailOf(fake.source)).toBe(
      `tag ${TAG}: not an OCI index (manifests: Invalid input: expected array, received undefined)`,
    );
  });

  it('names the referrer whose bundle manifest is unreadable', async () => {
    const fake = createFakeSource();
    const digest = pushReferrer(fake, (manifest) => {
      (manifest as { layers: unknown }).layers = 'no';
    });
    expect(await detailOf(fake.source)).toBe(
      `referrer ${digest}: bad bundle manifest (layers: Invalid input: expected array, received string)`,
    );
  });

  it('says a bundle referrer without a bundle layer has none', async () => {
    const fake = createFakeSource();
    const digest = pushReferrer(fake, (manifest) => {
      manifest.layers = [{ mediaType: 'application/octet-stream', size: 1, digest: sha256('x') }];
    });
    expect(await detailOf(fake.source)).toBe(`referrer ${digest}: no ${SIGSTORE_BUNDLE_V03} layer`);
    expect(fake.calls.filter((call) => call.startsWith('blob '))).toEqual([]);
  });

  it('names a bad bundle layer by its index, once', async () => {
    const fake = createFakeSource();
    const digest = pushReferrer(fake, (manifest) => {
      manifest.layers = [null, { mediaType: SIGSTORE_BUNDLE_V03, size: 1 }];
    });
    expect(await detailOf(fake.source)).toBe(
      `referrer ${digest} layer 1: bad layer (digest: Invalid input: expected string, received undefined)`,
    );
  });

  it('names the layer of a bundle no configured key signed', async () => {
    const fake = createFakeSource();
    const digest = pushReferrer(
      fake,
      () => {},
      createSigstoreBundle({ key: stranger, digest: DIGEST }),
    );
    expect(await detailOf(fake.source)).toContain(`referrer ${digest} layer 0`);
  });

  it(`fetches at most ${MAX_SIGNATURE_LAYERS} bundle layers`, async () => {
    const fake = createFakeSource();
    pushReferrer(
      fake,
      (manifest) => {
        manifest.layers = Array.from(
          { length: MAX_SIGNATURE_LAYERS + 3 },
          () => manifest.layers[0],
        );
      },
      createSigstoreBundle({ key: stranger, digest: DIGEST }),
    );
    await verify(fake.source);
    expect(fake.calls.filter((call) => call.startsWith('blob '))).toHaveLength(
      MAX_SIGNATURE_LAYERS,
    );
  });

  it('fetches a bundle of exactly the size limit, and refuses a larger one unread', async () => {
    const fake = createFakeSource();
    const resize = (size: number) => (manifest: { layers: unknown[] }) => {
      (manifest.layers[0] as { size: number }).size = size;
    };
    pushReferrer(fake, resize(MAX_SIGNATURE_BLOB_BYTES));
    expect(await verify(fake.source)).toMatchObject({ status: 'trusted' });

    const over = createFakeSource();
    const digest = pushReferrer(over, resize(MAX_SIGNATURE_BLOB_BYTES + 1));
    expect(await detailOf(over.source)).toBe(
      `referrer ${digest} layer 0: bundle of ${MAX_SIGNATURE_BLOB_BYTES + 1} bytes is over the limit`,
    );
    expect(over.calls.filter((call) => call.startsWith('blob '))).toEqual([]);
  });
});
