import {
  COSIGN_SIGNATURE_ANNOTATION,
  cosignSignatureTag,
  createSigManifest,
  createSimpleSignature,
  generateCosignKeyPair,
  signWithKey,
  simpleSigningPayload,
} from '@molecule/real-parts';
import { describe, expect, it } from 'vitest';
import { createFakeSource, type FakeSource, sha256 } from '../test/fake-signature-source.js';
import { pushSimpleSignatures, verifierKey } from '../test/signing.js';
import { MAX_SIGNATURE_BLOB_BYTES, MAX_SIGNATURE_LAYERS } from './limits.js';
import { verifyImageSignatures } from './verify-image-signatures.js';
import { checkSimpleSigning } from './verify-simple-signing.js';

const k1 = generateCosignKeyPair();
const k2 = generateCosignKeyPair();
const DIGEST = sha256('image manifest');
const OTHER = sha256('another image');
const TAG = cosignSignatureTag(DIGEST);
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

function verify(fake: FakeSource, threshold = 1) {
  return verifyImageSignatures({
    source: fake.source,
    digest: DIGEST,
    policy: { keys: [verifierKey(k1), verifierKey(k2)], threshold },
  });
}

/** A `.sig` manifest edited as JSON (its blobs kept), stored at the digest's tag. */
function pushEdited(
  fake: FakeSource,
  edit: (manifest: { mediaType: string; layers: Record<string, unknown>[] }) => void,
  ...signatures: ReturnType<typeof createSimpleSignature>[]
) {
  const sig = createSigManifest(signatures);
  const manifest = JSON.parse(sig.manifest.toString());
  edit(manifest);
  fake.push({ ...sig, manifest: Buffer.from(JSON.stringify(manifest)) }, TAG);
}

describe('legacy .sig signatures', () => {
  it('ignores the docker-reference, so a copy on a mirror stays valid', async () => {
    const fake = createFakeSource();
    pushSimpleSignatures(fake, DIGEST, [
      createSimpleSignature({
        key: k1,
        digest: DIGEST,
        dockerReference: 'elsewhere.example/other/name:tag',
      }),
    ]);
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it('accepts a Docker schema 2 manifest at the .sig tag', async () => {
    const fake = createFakeSource();
    pushEdited(
      fake,
      (manifest) => {
        manifest.mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
      },
      createSimpleSignature({ key: k1, digest: DIGEST }),
    );
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it('tolerates line breaks in the base64 signature annotation', async () => {
    const fake = createFakeSource();
    const signed = createSimpleSignature({ key: k1, digest: DIGEST });
    pushEdited(
      fake,
      (manifest) => {
        const wrapped = signed.signature.replace(/(.{20})/g, '$1\n') + '\n';
        manifest.layers[0]!.annotations = { [COSIGN_SIGNATURE_ANNOTATION]: wrapped };
      },
      signed,
    );
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it('accepts a non-null optional section and RSA-PSS signatures', async () => {
    const fake = createFakeSource();
    const rsa = generateCosignKeyPair('rsa');
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': 'a/b:tag' },
          image: { 'docker-manifest-digest': DIGEST },
          type: 'cosign container image signature',
        },
        optional: { creator: 'x', timestamp: 1 },
      }),
    );
    pushSimpleSignatures(fake, DIGEST, [
      { payload, signature: signWithKey(rsa, payload, { rsaPadding: 'pss' }).toString('base64') },
    ]);
    const verdict = await verifyImageSignatures({
      source: fake.source,
      digest: DIGEST,
      policy: { keys: [verifierKey(rsa)], threshold: 1 },
    });
    expect(verdict).toMatchObject({ status: 'trusted', signers: [rsa.keyId] });
  });

  it('refuses a valid signature over another digest (a copied .sig)', async () => {
    const fake = createFakeSource();
    pushSimpleSignatures(fake, DIGEST, [createSimpleSignature({ key: k1, digest: OTHER })]);
    const verdict = await verify(fake);
    expect(verdict).toMatchObject({ status: 'untrusted', reason: 'DIGEST_MISMATCH' });
    expect(verdict.status === 'untrusted' && verdict.detail).toContain(OTHER);
  });

  it('refuses a tampered payload', async () => {
    const fake = createFakeSource();
    const signed = createSimpleSignature({
      key: k1,
      digest: DIGEST,
      dockerReference: 'registry.example/a',
    });
    const tampered = Buffer.from(
      signed.payload.toString().replace('registry.example/a', 'registry.example/b'),
    );
    pushSimpleSignatures(fake, DIGEST, [{ payload: tampered, signature: signed.signature }]);
    expect(await verify(fake)).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
  });

  it('verifies the exact layer bytes, never a re-serialisation', async () => {
    const fake = createFakeSource();
    const payload = Buffer.from(
      `${simpleSigningPayload({ digest: DIGEST, dockerReference: 'a/b' }).toString().replace('{"critical"', '{ "critical"')}\n`,
    );
    pushSimpleSignatures(fake, DIGEST, [
      { payload, signature: signWithKey(k1, payload).toString('base64') },
    ]);
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it.each([
    ['a signed payload that is not JSON', Buffer.from('not json')],
    [
      'a signed payload of another type',
      Buffer.from(
        JSON.stringify({
          critical: { image: { 'docker-manifest-digest': DIGEST }, type: 'something else' },
          optional: null,
        }),
      ),
    ],
    [
      'a signed payload without a digest',
      Buffer.from(
        JSON.stringify({ critical: { image: {}, type: 'cosign container image signature' } }),
      ),
    ],
  ])('refuses %s as BAD_PAYLOAD', async (_name, payload) => {
    const fake = createFakeSource();
    pushSimpleSignatures(fake, DIGEST, [
      createSimpleSignature({ key: k1, digest: DIGEST, payload }),
    ]);
    const verdict = await verify(fake);
    expect(verdict).toMatchObject({ status: 'untrusted', reason: 'BAD_PAYLOAD' });
    expect(verdict.status === 'untrusted' && verdict.detail).toMatch(
      new RegExp(
        `^${TAG} layer 0: key ${k1.keyId} signed a payload that is not a simple-signing payload \\(.+\\)$`,
      ),
    );
  });

  it.each([
    [
      'a manifest that is not JSON',
      (fake: FakeSource) => fake.putManifest(TAG, Buffer.from('{oops')),
      `${TAG}: not an image manifest (Invalid input: expected object, received undefined)`,
    ],
    [
      'a manifest without simple-signing layers',
      (fake: FakeSource) =>
        fake.putManifest(TAG, Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [] }))),
      `${TAG}: no ${SIMPLE_SIGNING} layer`,
    ],
    [
      'a manifest with only other layers',
      (fake: FakeSource) =>
        pushEdited(
          fake,
          (m) => {
            m.layers[0]!.mediaType = 'application/octet-stream';
          },
          createSimpleSignature({ key: k1, digest: DIGEST }),
        ),
      `${TAG}: no ${SIMPLE_SIGNING} layer`,
    ],
    [
      'a layer that is not a descriptor',
      (fake: FakeSource) =>
        pushEdited(
          fake,
          (m) => {
            delete m.layers[0]!.digest;
          },
          createSimpleSignature({ key: k1, digest: DIGEST }),
        ),
      `${TAG} layer 0: bad layer descriptor (digest: Invalid input: expected string, received undefined)`,
    ],
    [
      'a layer without the annotation',
      (fake: FakeSource) =>
        pushEdited(
          fake,
          (m) => {
            delete m.layers[0]!.annotations;
          },
          createSimpleSignature({ key: k1, digest: DIGEST }),
        ),
      `${TAG} layer 0: no ${COSIGN_SIGNATURE_ANNOTATION}`,
    ],
    [
      'an annotation that is not base64',
      (fake: FakeSource) =>
        pushEdited(
          fake,
          (m) => {
            m.layers[0]!.annotations = { [COSIGN_SIGNATURE_ANNOTATION]: 'not base64!' };
          },
          createSimpleSignature({ key: k1, digest: DIGEST }),
        ),
      `${TAG} layer 0: ${COSIGN_SIGNATURE_ANNOTATION} is not base64`,
    ],
    [
      'a layer over the size limit',
      (fake: FakeSource) =>
        pushEdited(
          fake,
          (m) => {
            m.layers[0]!.size = MAX_SIGNATURE_BLOB_BYTES + 1;
          },
          createSimpleSignature({ key: k1, digest: DIGEST }),
        ),
      `${TAG} layer 0: payload of ${MAX_SIGNATURE_BLOB_BYTES + 1} bytes is over the limit`,
    ],
  ])('refuses %s as BAD_PAYLOAD', async (_name, arrange, detail) => {
    const fake = createFakeSource();
    arrange(fake);
    expect(await verify(fake)).toMatchObject({
      status: 'untrusted',
      reason: 'BAD_PAYLOAD',
      detail,
    });
    expect(fake.calls.filter((call) => call.startsWith('blob '))).toEqual([]);
  });

  it('does not let a bad layer spoil a good one beside it', async () => {
    const fake = createFakeSource();
    const good = createSimpleSignature({ key: k1, digest: DIGEST });
    pushEdited(
      fake,
      (manifest) => {
        manifest.layers.unshift({
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: 'nonsense',
        });
        manifest.layers.unshift({
          ...manifest.layers[1]!,
          annotations: { [COSIGN_SIGNATURE_ANNOTATION]: 'AAAA' },
        });
        manifest.layers.push({
          mediaType: 'application/octet-stream',
          size: 1,
          digest: sha256('x'),
        });
      },
      good,
    );
    expect(await verify(fake)).toMatchObject({ status: 'trusted', signers: [k1.keyId] });
  });

  it(`reads at most ${MAX_SIGNATURE_LAYERS} signature layers`, async () => {
    const fake = createFakeSource();
    const stranger = generateCosignKeyPair();
    const junk = Array.from({ length: MAX_SIGNATURE_LAYERS }, () =>
      createSimpleSignature({ key: stranger, digest: DIGEST }),
    );
    pushSimpleSignatures(fake, DIGEST, [
      ...junk,
      createSimpleSignature({ key: k1, digest: DIGEST }),
    ]);
    expect(await verify(fake)).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
    expect(fake.calls.filter((call) => call.startsWith('blob '))).toHaveLength(
      MAX_SIGNATURE_LAYERS,
    );
  });

  it('names the layer of a signature no configured key made', async () => {
    const fake = createFakeSource();
    pushSimpleSignatures(fake, DIGEST, [
      createSimpleSignature({ key: generateCosignKeyPair(), digest: DIGEST }),
    ]);
    const verdict = await verify(fake);
    expect(verdict).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
    expect(verdict.status === 'untrusted' && verdict.detail).toContain(`${TAG} layer 0`);
  });

  it('skips a null layer, and fetches a payload of exactly the size limit', async () => {
    const fake = createFakeSource();
    pushEdited(
      fake,
      (manifest) => {
        manifest.layers[0]!.size = MAX_SIGNATURE_BLOB_BYTES;
        manifest.layers.unshift(null as unknown as Record<string, unknown>);
      },
      createSimpleSignature({ key: k1, digest: DIGEST }),
    );
    expect(await verify(fake)).toMatchObject({ status: 'trusted' });
  });

  it('asks for the .sig manifest as an OCI or Docker image manifest, with the caller signal', async () => {
    const fake = createFakeSource();
    pushSimpleSignatures(fake, DIGEST, [createSimpleSignature({ key: k1, digest: DIGEST })]);
    const asked: Array<[string, readonly string[], AbortSignal | undefined]> = [];
    const source = {
      ...fake.source,
      getManifest: (
        reference: string,
        options: { accept: readonly string[]; signal?: AbortSignal },
      ) => {
        asked.push([reference, options.accept, options.signal]);
        return fake.source.getManifest(reference, options);
      },
    };
    const signal = new AbortController().signal;
    const found = await checkSimpleSigning({
      source,
      digest: DIGEST,
      keys: [verifierKey(k1)],
      signal,
    });
    expect(found).toMatchObject([{ kind: 'valid' }]);
    expect(asked).toEqual([
      [
        TAG,
        [
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
        ],
        signal,
      ],
    ]);
  });
});
