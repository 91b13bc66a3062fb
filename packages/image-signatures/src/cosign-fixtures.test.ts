/**
 * The verifier against real cosign output (shared/fixtures/cosign, read in place: never
 * copied into the repository). index.json says, per fixture, which key must verify it and
 * which must not.
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  cosignFixturesGate,
  cosignReferrersTag,
  cosignSignatureTag,
  createReferringManifest,
  createSigManifest,
  generateCosignKeyPair,
  OCI_INDEX,
} from '@molecule/real-parts';
import { describe, expect, it } from 'vitest';
import { createFakeSource, sha256 } from '../test/fake-signature-source.js';
import { verifierKey } from '../test/signing.js';
import { findSigner } from './signature-check.js';
import { parseSigningKeys, type SigningKey } from './signing-keys.js';
import { preAuthEncoding } from './sigstore-bundle.js';
import { verifyImageSignatures } from './verify-image-signatures.js';

interface LegacyFixture {
  dir: string;
  payload: string;
  signatures: string[];
  key: string | null;
  wrongKey?: string;
  certificate?: string;
  sigManifest: string | null;
  sigManifestTag?: string;
  imageManifest: string | null;
  imageDigest: string;
  layerDigest: string;
}

interface BundleFixture {
  dir: string;
  bundle: string;
  keyBased: boolean;
  key: string | null;
  wrongKey?: string;
  referringManifest?: string;
  referringManifestDigest?: string;
  referrersIndex?: string;
  subjectDigest: string;
}

const fixtures = cosignFixturesGate();
const root = fixtures.dir ?? '';
const read = (...path: string[]) => readFileSync(join(root, ...path));
const index: { simplesigning: LegacyFixture[]; bundles: BundleFixture[] } = fixtures.dir
  ? JSON.parse(read('index.json').toString())
  : { simplesigning: [], bundles: [] };
const keyAt = (dir: string, file: string) => parseSigningKeys(read(dir, file).toString(), file);
const generated = verifierKey(generateCosignKeyPair());
const OTHER_DIGEST = sha256('not the signed image');

/** Every .pub key of the fixtures, for the artifacts no .pub key may verify. */
function everyPubKey(): SigningKey[] {
  const found: SigningKey[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.pub'))
        found.push(...parseSigningKeys(readFileSync(path, 'utf8'), relative(root, path)));
    }
  };
  walk(root);
  return found;
}

/**
 * A registry holding a legacy signature at `digest`'s `.sig` tag: the captured manifest when
 * there is one, else one built as cosign writes it from payload.json and the signatures.
 */
function legacySource(fixture: LegacyFixture, options: { digest?: string; payload?: Buffer } = {}) {
  const fake = createFakeSource();
  const payload = options.payload ?? read(fixture.dir, fixture.payload);
  const tag = cosignSignatureTag(options.digest ?? fixture.imageDigest);
  if (fixture.sigManifest && options.payload === undefined) {
    fake.putManifest(tag, read(fixture.dir, fixture.sigManifest));
    fake.putBlob(payload);
  } else {
    const signatures = fixture.signatures.map((file) => ({
      payload,
      signature: read(fixture.dir, file).toString(),
    }));
    fake.push(createSigManifest(signatures), tag);
  }
  return fake;
}

function verify(fake: ReturnType<typeof createFakeSource>, digest: string, keys: SigningKey[]) {
  return verifyImageSignatures({ source: fake.source, digest, policy: { keys, threshold: 1 } });
}

/** The payload with one byte changed (inside the docker-reference, so it still parses). */
function flipOneByte(payload: Buffer): Buffer {
  const flipped = Buffer.from(payload);
  const at = payload.indexOf('docker-reference') + 20;
  flipped[at] = flipped[at]! ^ 0x01;
  return flipped;
}

describe.skipIf(fixtures.skip)(`real cosign artifacts ${fixtures.reason ?? ''}`, () => {
  it('finds the fixtures', () => {
    expect(fixtures.dir, fixtures.reason).toBeDefined();
    expect(index.simplesigning.filter((fixture) => fixture.key).length).toBeGreaterThanOrEqual(5);
  });

  describe.each(index.simplesigning.filter((fixture) => fixture.key))('legacy $dir', (fixture) => {
    const key = keyAt(fixture.dir, fixture.key!);
    const wrongKey = fixture.wrongKey ? keyAt(fixture.dir, fixture.wrongKey) : [generated];

    it('is accepted with its key, each signature on its own', async () => {
      if (fixture.imageManifest)
        expect(sha256(read(fixture.dir, fixture.imageManifest))).toBe(fixture.imageDigest);
      expect(sha256(read(fixture.dir, fixture.payload))).toBe(fixture.layerDigest);
      expect(await verify(legacySource(fixture), fixture.imageDigest, key)).toEqual({
        status: 'trusted',
        digest: fixture.imageDigest,
        signers: [key[0]!.id],
        formats: ['simple-signing'],
      });
      for (const signature of fixture.signatures) {
        const alone = legacySource({ ...fixture, signatures: [signature], sigManifest: null });
        expect(await verify(alone, fixture.imageDigest, key), signature).toMatchObject({
          status: 'trusted',
        });
      }
    });

    it('is refused with the wrong key', async () => {
      expect(await verify(legacySource(fixture), fixture.imageDigest, wrongKey)).toMatchObject({
        status: 'untrusted',
        reason: 'UNKNOWN_KEY',
      });
    });

    it('is refused with one byte of the payload flipped', async () => {
      const payload = flipOneByte(read(fixture.dir, fixture.payload));
      expect(JSON.parse(payload.toString())).toBeTruthy();
      expect(
        await verify(legacySource(fixture, { payload }), fixture.imageDigest, key),
      ).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
    });

    it('is refused for another digest, also when copied to its .sig tag', async () => {
      expect(await verify(legacySource(fixture), OTHER_DIGEST, key)).toMatchObject({
        status: 'unsigned',
      });
      expect(
        await verify(legacySource(fixture, { digest: OTHER_DIGEST }), OTHER_DIGEST, key),
      ).toMatchObject({ status: 'untrusted', reason: 'DIGEST_MISMATCH' });
    });
  });

  describe.each(index.simplesigning.filter((fixture) => !fixture.key))(
    'legacy $dir (no public key)',
    (fixture) => {
      it('is refused by every .pub key of the fixtures', async () => {
        expect(
          await verify(legacySource(fixture), fixture.imageDigest, everyPubKey()),
        ).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
      });
    },
  );

  describe.each(index.simplesigning.filter((fixture) => fixture.certificate))(
    'legacy $dir (keyless)',
    (fixture) => {
      it("is accepted with its certificate's key (so the refusal above is about the key)", async () => {
        const certificateKey = new X509Certificate(read(fixture.dir, fixture.certificate!))
          .publicKey;
        const key = parseSigningKeys(
          certificateKey.export({ type: 'spki', format: 'pem' }).toString(),
          'leaf',
        );
        expect(await verify(legacySource(fixture), fixture.imageDigest, key)).toMatchObject({
          status: 'trusted',
        });
      });
    },
  );

  describe.each(index.bundles.filter((fixture) => fixture.keyBased))('bundle $dir', (fixture) => {
    const key = keyAt(fixture.dir, fixture.key!);
    const wrongKey = keyAt(fixture.dir, fixture.wrongKey!);
    const bundle = read(fixture.dir, fixture.bundle);

    /** What cosign left in the registry: the tag schema index, the referrer and the bundle. */
    function bundleSource(
      options: { referrersApi?: boolean; bundle?: Buffer; tagFor?: string } = {},
    ) {
      const fake = createFakeSource({ referrersApi: options.referrersApi ?? false });
      const tagIndex = read(fixture.dir, fixture.referrersIndex!);
      if (options.bundle === undefined) {
        fake.putManifest(
          fixture.referringManifestDigest!,
          read(fixture.dir, fixture.referringManifest!),
        );
        fake.putBlob(bundle);
        fake.putManifest(
          cosignReferrersTag(options.tagFor ?? fixture.subjectDigest),
          tagIndex,
          OCI_INDEX,
        );
      } else {
        const referrer = createReferringManifest({
          subject: { digest: fixture.subjectDigest, mediaType: OCI_INDEX, size: 928 },
          bundle: options.bundle,
        });
        fake.push(referrer);
        fake.writeTagIndex(fixture.subjectDigest);
      }
      return fake;
    }

    it('is accepted with its key, found through the referrers tag schema', async () => {
      expect(sha256(bundle)).toBe(
        JSON.parse(read(fixture.dir, fixture.referringManifest!).toString()).layers[0].digest,
      );
      const hint = JSON.parse(bundle.toString()).verificationMaterial.publicKey.hint;
      expect(key[0]!.id).toBe(`sha256:${Buffer.from(hint, 'base64').toString('hex')}`);
      expect(await verify(bundleSource(), fixture.subjectDigest, key)).toEqual({
        status: 'trusted',
        digest: fixture.subjectDigest,
        signers: [key[0]!.id],
        formats: ['sigstore-bundle'],
      });
    });

    it('is accepted through the referrers API', async () => {
      const fake = createFakeSource({ referrersApi: true });
      fake.putManifest(
        fixture.referringManifestDigest!,
        read(fixture.dir, fixture.referringManifest!),
      );
      fake.putBlob(bundle);
      expect(await verify(fake, fixture.subjectDigest, key)).toMatchObject({ status: 'trusted' });
    });

    it('is refused with the wrong key', async () => {
      expect(await verify(bundleSource(), fixture.subjectDigest, wrongKey)).toMatchObject({
        status: 'untrusted',
        reason: 'UNKNOWN_KEY',
      });
    });

    it('is refused with one byte of the statement flipped', async () => {
      const json = JSON.parse(bundle.toString());
      const statement = Buffer.from(json.dsseEnvelope.payload, 'base64');
      const at = statement.indexOf('"sha256":"') + 12;
      statement[at] = statement[at]! ^ 0x01;
      json.dsseEnvelope.payload = statement.toString('base64');
      const tampered = Buffer.from(JSON.stringify(json));
      expect(
        await verify(bundleSource({ bundle: tampered }), fixture.subjectDigest, key),
      ).toMatchObject({ status: 'untrusted', reason: 'UNKNOWN_KEY' });
      // The untouched bundle in a referrer of our making still verifies: the flip is what fails.
      expect(await verify(bundleSource({ bundle }), fixture.subjectDigest, key)).toMatchObject({
        status: 'trusted',
      });
    });

    it('is refused for another digest', async () => {
      // The tag index copied to another digest's tag: the referrer's subject is not that digest.
      expect(await verify(bundleSource({ tagFor: OTHER_DIGEST }), OTHER_DIGEST, key)).toMatchObject(
        { status: 'unsigned' },
      );
      // A referrer of the other digest carrying this bundle: the signed statement names the real one.
      const fake = createFakeSource();
      fake.push(
        createReferringManifest({
          subject: { digest: OTHER_DIGEST, mediaType: OCI_INDEX, size: 928 },
          bundle,
        }),
      );
      fake.writeTagIndex(OTHER_DIGEST);
      expect(await verify(fake, OTHER_DIGEST, key)).toMatchObject({
        status: 'untrusted',
        reason: 'DIGEST_MISMATCH',
      });
    });
  });

  describe.each(index.bundles.filter((fixture) => !fixture.keyBased))(
    'bundle $dir (keyless)',
    (fixture) => {
      const bundle = read(fixture.dir, fixture.bundle);
      const envelope = JSON.parse(bundle.toString()).dsseEnvelope;
      const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
      const signature = Buffer.from(envelope.signatures[0].sig, 'base64');

      it('is refused by every .pub key of the fixtures', async () => {
        const keys = everyPubKey();
        expect(findSigner(keys, pae, signature)).toBeUndefined();
        const fake = createFakeSource();
        fake.push(
          createReferringManifest({
            subject: {
              digest: fixture.subjectDigest,
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              size: 264,
            },
            bundle,
          }),
        );
        fake.writeTagIndex(fixture.subjectDigest);
        // It is an attestation (predicate cosign.sigstore.dev/attestation/v1), not a signature.
        expect(await verify(fake, fixture.subjectDigest, keys)).toMatchObject({
          status: 'unsigned',
          reason: 'NO_SIGNATURE',
        });
      });

      it("verifies over the PAE with its certificate's key (so the refusal above is about the key)", () => {
        const certificate = new X509Certificate(
          Buffer.from(
            JSON.parse(bundle.toString()).verificationMaterial.certificate.rawBytes,
            'base64',
          ),
        );
        const key = parseSigningKeys(
          certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          'leaf',
        );
        expect(findSigner(key, pae, signature)?.id).toBe(key[0]!.id);
      });
    },
  );
});
