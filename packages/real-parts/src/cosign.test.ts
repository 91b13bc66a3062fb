import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  artifactDescriptor,
  cosignReferrersTag,
  cosignSignatureTag,
  createInTotoStatement,
  createReferrersIndex,
  createReferringManifest,
  createSigManifest,
  createSigstoreBundle,
  createSimpleSignature,
  dssePreAuthEncoding,
  generateCosignKeyPair,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_INDEX,
  publicKeyHint,
  signWithKey,
  simpleSigningPayload,
} from './cosign.js';
import { COSIGN_FIXTURES_VARIABLE, cosignFixturesGate } from './cosign-fixtures.js';
import { sha256Digest } from './image.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('cosign builders (node:crypto)', () => {
  it.each(['ecdsa-p256', 'ed25519', 'rsa'] as const)(
    'a %s key pair signs as cosign does',
    (algorithm) => {
      const key = generateCosignKeyPair(algorithm);
      expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      const data = Buffer.from('payload');
      const signature = signWithKey(key, data);
      const publicKey = createPublicKey(key.publicKeyPem);
      const ok =
        algorithm === 'ed25519'
          ? verify(null, data, publicKey, signature)
          : verify(
              'sha256',
              data,
              algorithm === 'ecdsa-p256' ? { key: publicKey, dsaEncoding: 'der' } : publicKey,
              signature,
            );
      expect(ok).toBe(true);
      expect(key.keyId).toMatch(/^sha256:[a-f0-9]{64}$/);
    },
  );

  it('signs the exact payload bytes of a legacy signature', () => {
    const key = generateCosignKeyPair();
    const signed = createSimpleSignature({ key, digest: DIGEST, dockerReference: 'r.example/a' });
    expect(JSON.parse(signed.payload.toString()).critical.image['docker-manifest-digest']).toBe(
      DIGEST,
    );
    expect(
      verify(
        'sha256',
        signed.payload,
        { key: key.publicKey, dsaEncoding: 'der' },
        Buffer.from(signed.signature, 'base64'),
      ),
    ).toBe(true);
  });

  it('lists every blob a .sig manifest names', () => {
    const key = generateCosignKeyPair();
    const sig = createSigManifest([
      createSimpleSignature({ key, digest: DIGEST }),
      createSimpleSignature({ key, digest: DIGEST, dockerReference: 'mirror.example/a' }),
    ]);
    const manifest = JSON.parse(sig.manifest.toString());
    const named = [
      manifest.config.digest,
      ...manifest.layers.map((l: { digest: string }) => l.digest),
    ];
    expect([...sig.blobs.keys()].sort()).toEqual([...new Set(named)].sort());
    for (const [digest, blob] of sig.blobs) expect(sha256Digest(blob)).toBe(digest);
    expect(sig.digest).toBe(sha256Digest(sig.manifest));
    expect(cosignSignatureTag(DIGEST)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
  });

  it('makes a bundle whose DSSE signature is over the PAE and whose hint is the key', () => {
    const key = generateCosignKeyPair();
    const bundle = JSON.parse(createSigstoreBundle({ key, digest: DIGEST }).toString());
    expect(Object.keys(bundle)).toEqual(['mediaType', 'verificationMaterial', 'dsseEnvelope']);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(publicKeyHint(key.publicKey));
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    const pae = dssePreAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload);
    expect(verify('sha256', pae, { key: key.publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
    expect(verify('sha256', payload, { key: key.publicKey, dsaEncoding: 'der' }, sig)).toBe(false);
    expect(JSON.parse(payload.toString()).subject[0].digest.sha256).toBe('ab'.repeat(32));
  });

  it('makes a referrer with the empty config blob and the bundle, and a tag index listing it', () => {
    const bundle = createSigstoreBundle({ key: generateCosignKeyPair(), digest: DIGEST });
    const referrer = createReferringManifest({
      subject: { digest: DIGEST, mediaType: OCI_INDEX, size: 100 },
      bundle,
    });
    expect([...referrer.blobs.values()].map(String)).toEqual(['{}', bundle.toString()]);
    const manifest = JSON.parse(referrer.manifest.toString());
    expect(manifest.subject.digest).toBe(DIGEST);
    expect(manifest.annotations['org.opencontainers.image.created']).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    const index = JSON.parse(
      createReferrersIndex([artifactDescriptor(referrer)]).manifest.toString(),
    );
    expect(index.manifests).toEqual([
      {
        mediaType: referrer.mediaType,
        size: referrer.manifest.length,
        digest: referrer.digest,
        artifactType: 'application/vnd.oci.empty.v1+json',
      },
    ]);
    expect(cosignReferrersTag(DIGEST)).toBe(`sha256-${'ab'.repeat(32)}`);
  });
});

describe('cosignFixturesGate', () => {
  it('skips locally and fails under CI when the fixtures are missing', () => {
    const missing = { [COSIGN_FIXTURES_VARIABLE]: '/nonexistent/cosign' };
    expect(cosignFixturesGate(missing)).toMatchObject({ dir: undefined, skip: true });
    expect(cosignFixturesGate({ ...missing, CI: 'true' })).toMatchObject({
      dir: undefined,
      skip: false,
    });
    expect(cosignFixturesGate(missing).reason).toContain(COSIGN_FIXTURES_VARIABLE);
  });
});

const fixtures = cosignFixturesGate();

describe.skipIf(fixtures.skip)(
  `cosign builders match real cosign output ${fixtures.reason ?? ''}`,
  () => {
    const dir = fixtures.dir ?? '';
    const read = (path: string) => readFileSync(join(dir, path));
    const index = () => JSON.parse(read('index.json').toString());

    it('finds the fixtures', () => {
      expect(fixtures.dir, fixtures.reason).toBeDefined();
    });

    it('writes the simple-signing payload byte for byte as cosign did', () => {
      const cosignMade = index().simplesigning.filter(
        (entry: { madeBy: string }) => !entry.madeBy.startsWith('NOT cosign'),
      );
      expect(cosignMade.length).toBeGreaterThanOrEqual(5);
      for (const entry of cosignMade) {
        const payload = simpleSigningPayload({
          digest: entry.imageDigest,
          dockerReference: entry.dockerReference,
        });
        expect(payload.equals(read(join(entry.dir, entry.payload))), entry.dir).toBe(true);
      }
    });

    it("writes cosign v3.0.4's .sig manifest and config byte for byte", () => {
      const base = 'simplesigning/tobby-fetch-cosign-v3.0.4';
      const sig = createSigManifest([
        {
          payload: read(`${base}/payload.json`),
          signature: read(`${base}/signature.b64`).toString(),
        },
      ]);
      expect(sig.manifest.equals(read(`${base}/sig-manifest.json`))).toBe(true);
      expect(sig.digest).toBe(
        'sha256:b6872674fc1bef936d1400f22f94b090f3e3eaf53c1b26362d39f3701cd08053',
      );
      // The config blob was not captured; its digest in the real manifest matches ours.
      expect(
        sig.blobs.has('sha256:2122b6ad0794d3fdae43a4b477cf1d95d4a38d3c5f10631e199676039b876e37'),
      ).toBe(true);
    });

    it("writes cosign v3.0.4's statement, referrer and referrers tag index byte for byte", () => {
      const base = 'bundle-v03/tobby-fetch-cosign-v3.0.4-key';
      const bundle = read(`${base}/bundle.sigstore.json`);
      const subject = 'sha256:d7d5640c741c60b47fa4b5530daa20a6469b55754a89dd42adbadadb59f9093c';
      const statement = Buffer.from(JSON.parse(bundle.toString()).dsseEnvelope.payload, 'base64');
      expect(createInTotoStatement({ digests: [subject] }).equals(statement)).toBe(true);

      const referrer = createReferringManifest({
        subject: { digest: subject, mediaType: OCI_INDEX, size: 928 },
        bundle,
        created: '2026-08-12T20:53:28Z',
      });
      expect(referrer.manifest.equals(read(`${base}/referring-manifest.json`))).toBe(true);
      expect(referrer.digest).toBe(
        'sha256:aa34dbe1db5336a0a85e4cc7eced2f5dc91f0062322972fe29c4002372a7adff',
      );
      const tagIndex = createReferrersIndex([artifactDescriptor(referrer)]);
      expect(tagIndex.manifest.equals(read(`${base}/referrers-index.json`))).toBe(true);
    });

    it("computes the PAE and the key hint as cosign's bundle has them", () => {
      const base = 'bundle-v03/tobby-fetch-cosign-v3.0.4-key';
      const bundle = JSON.parse(read(`${base}/bundle.sigstore.json`).toString());
      const publicKey = createPublicKey(read(`${base}/cosign.pub`));
      expect(publicKeyHint(publicKey)).toBe(bundle.verificationMaterial.publicKey.hint);
      const envelope = bundle.dsseEnvelope;
      const pae = dssePreAuthEncoding(
        envelope.payloadType,
        Buffer.from(envelope.payload, 'base64'),
      );
      const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
      expect(verify('sha256', pae, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
    });
  },
);
