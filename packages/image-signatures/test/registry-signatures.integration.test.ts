import {
  artifactDescriptor,
  type BuiltImage,
  buildImage,
  type CosignArtifact,
  type CosignKeyPair,
  cosignReferrersTag,
  cosignSignatureTag,
  createInTotoStatement,
  createReferrersIndex,
  createReferringManifest,
  createSigManifest,
  createSigstoreBundle,
  createSimpleSignature,
  type Distribution,
  generateCosignKeyPair,
  pushArtifact,
  pushImage,
  realPartsGate,
  type SimpleSignature,
  type SubjectDescriptor,
  startDistribution,
} from '@molecule/real-parts';
import {
  createCredentialResolver,
  createRegistryClient,
  isRegistryError,
  type RegistryClient,
  type RegistryRequestEvent,
} from '@molecule/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistrySignatureSource } from '../src/registry-signature-source.js';
import type { SigningKey } from '../src/signing-keys.js';
import type { TrustVerdict } from '../src/verdict.js';
import { verifyImageSignatures } from '../src/verify-image-signatures.js';
import { verifierKey } from './signing.js';

// Skips locally without docker-registry (and openssl for the token server's key, busybox for
// the image); fails under CI=true.
const gate = realPartsGate(['docker-registry', 'openssl', 'busybox']);
const USER = { username: 'molecule-signer', password: 'sig-Secret-7e6d5c4b' };
const APP = 'molecule-ai/workspace-template-langgraph';
const MIRROR = 'mirror/workspace-template-langgraph';
const ELSEWHERE = 'molecule-ai/workspace-template-crewai';

const k1 = generateCosignKeyPair();
const k2 = generateCosignKeyPair();
const stranger = generateCosignKeyPair();
const KEYS: SigningKey[] = [verifierKey(k1), verifierKey(k2)];

/** A pushed image: its digest and its descriptor, as a referrer's `subject`. */
interface Pushed {
  readonly digest: string;
  readonly subject: SubjectDescriptor;
}

describe.skipIf(gate.skip)(
  `signatures on the real distribution registry, token auth ${gate.reason ?? ''}`,
  () => {
    let registry: Distribution;
    let client: RegistryClient;
    const envFor = (password = USER.password) => ({
      MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
      DOCKER_CONFIG: '/nonexistent-docker-config',
      MOLECULE_REGISTRY_USERNAME: USER.username,
      MOLECULE_REGISTRY_PASSWORD: password,
    });
    const clientFor = (
      options: { password?: string; onRequest?: (e: RegistryRequestEvent) => void } = {},
    ) => {
      const env = envFor(options.password);
      return createRegistryClient({
        credentials: createCredentialResolver({ env }),
        env,
        ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      });
    };

    beforeAll(async () => {
      registry = await startDistribution({ auth: 'token', users: [USER] });
      client = clientFor();
    });
    afterAll(async () => {
      await client?.close();
      await registry?.close();
    });

    async function pushNewImage(...repositories: string[]): Promise<Pushed> {
      const image: BuiltImage = await buildImage();
      for (const repository of repositories) {
        const digest = await pushImage({
          registryUrl: registry.url,
          repository,
          tag: 'latest',
          image,
          credentials: USER,
        });
        expect(digest).toBe(image.digest);
      }
      const { mediaType, body } = image.manifest;
      return {
        digest: image.digest,
        subject: { digest: image.digest, mediaType, size: body.length },
      };
    }

    function push(repository: string, reference: string, artifact: CosignArtifact) {
      return pushArtifact({
        registryUrl: registry.url,
        repository,
        reference,
        manifest: artifact.manifest,
        mediaType: artifact.mediaType,
        blobs: artifact.blobs,
        credentials: USER,
      });
    }

    /** cosign's legacy layout: one `.sig` manifest holding every signature. */
    function pushSig(repository: string, image: Pushed, signatures: SimpleSignature[]) {
      return push(repository, cosignSignatureTag(image.digest), createSigManifest(signatures));
    }

    /**
     * cosign 3's layout on a registry without the referrers API: each bundle as a referrer
     * pushed by digest, and the referrers tag schema index listing them.
     */
    async function pushBundles(repository: string, image: Pushed, bundles: Buffer[]) {
      const referrers = bundles.map((bundle) =>
        createReferringManifest({ subject: image.subject, bundle }),
      );
      for (const referrer of referrers) await push(repository, referrer.digest, referrer);
      const index = createReferrersIndex(referrers.map(artifactDescriptor));
      await push(repository, cosignReferrersTag(image.digest), index);
    }

    const legacy = (key: CosignKeyPair, image: Pushed, repository = APP) =>
      createSimpleSignature({
        key,
        digest: image.digest,
        dockerReference: `${registry.host}/${repository}`,
      });
    const bundle = (key: CosignKeyPair, image: Pushed) =>
      createSigstoreBundle({ key, digest: image.digest });

    function verify(
      repository: string,
      image: Pushed,
      threshold = 1,
      through: RegistryClient = client,
    ): Promise<TrustVerdict> {
      return verifyImageSignatures({
        source: createRegistrySignatureSource(through, `${registry.host}/${repository}`),
        digest: image.digest,
        policy: { keys: KEYS, threshold },
      });
    }

    it('the registry has no referrers API (404), so bundles are found through the tag schema', async () => {
      const image = await pushNewImage(APP);
      expect(await client.getReferrers(`${registry.host}/${APP}@${image.digest}`)).toBeUndefined();
    });

    it('a legacy .sig by one configured key: trusted', async () => {
      const image = await pushNewImage(APP);
      await pushSig(APP, image, [legacy(k1, image)]);
      expect(await verify(APP, image)).toEqual({
        status: 'trusted',
        digest: image.digest,
        signers: [k1.keyId],
        formats: ['simple-signing'],
      });
    });

    it('a sigstore bundle by one configured key, via the referrers tag schema: trusted', async () => {
      const image = await pushNewImage(APP);
      await pushBundles(APP, image, [bundle(k1, image)]);
      expect(await verify(APP, image)).toEqual({
        status: 'trusted',
        digest: image.digest,
        signers: [k1.keyId],
        formats: ['sigstore-bundle'],
      });
    });

    it('threshold 2: met by two keys (K1 .sig, K2 bundle), not by one key in both formats', async () => {
      const twoKeys = await pushNewImage(APP);
      await pushSig(APP, twoKeys, [legacy(k1, twoKeys)]);
      await pushBundles(APP, twoKeys, [bundle(k2, twoKeys)]);
      expect(await verify(APP, twoKeys, 2)).toEqual({
        status: 'trusted',
        digest: twoKeys.digest,
        signers: [k1.keyId, k2.keyId].sort(),
        formats: ['sigstore-bundle', 'simple-signing'],
      });

      const oneKeyTwice = await pushNewImage(APP);
      await pushSig(APP, oneKeyTwice, [legacy(k1, oneKeyTwice), legacy(k1, oneKeyTwice)]);
      await pushBundles(APP, oneKeyTwice, [bundle(k1, oneKeyTwice)]);
      expect(await verify(APP, oneKeyTwice, 2)).toMatchObject({
        status: 'untrusted',
        reason: 'THRESHOLD_NOT_MET',
        signers: [k1.keyId],
      });
    });

    it('signatures by a key that is not configured: untrusted, UNKNOWN_KEY', async () => {
      const image = await pushNewImage(APP);
      await pushSig(APP, image, [legacy(stranger, image)]);
      await pushBundles(APP, image, [bundle(stranger, image)]);
      expect(await verify(APP, image)).toMatchObject({
        status: 'untrusted',
        reason: 'UNKNOWN_KEY',
        signers: [],
      });
    });

    it('a configured key signing another digest: untrusted, DIGEST_MISMATCH, in both formats', async () => {
      const other = await pushNewImage(APP);
      const legacyImage = await pushNewImage(APP);
      await pushSig(APP, legacyImage, [legacy(k1, other)]);
      expect(await verify(APP, legacyImage)).toMatchObject({
        status: 'untrusted',
        reason: 'DIGEST_MISMATCH',
      });
      const bundleImage = await pushNewImage(APP);
      await pushBundles(APP, bundleImage, [bundle(k1, other)]);
      expect(await verify(APP, bundleImage)).toMatchObject({
        status: 'untrusted',
        reason: 'DIGEST_MISMATCH',
      });
    });

    it('a tampered payload does not verify: untrusted, UNKNOWN_KEY, in both formats', async () => {
      const legacyImage = await pushNewImage(APP);
      const signed = legacy(k1, legacyImage);
      const tampered = Buffer.from(
        signed.payload.toString().replace(`${registry.host}/${APP}`, 'evil.example/app'),
      );
      expect(tampered.equals(signed.payload)).toBe(false);
      await pushSig(APP, legacyImage, [{ payload: tampered, signature: signed.signature }]);
      expect(await verify(APP, legacyImage)).toMatchObject({
        status: 'untrusted',
        reason: 'UNKNOWN_KEY',
      });

      const bundleImage = await pushNewImage(APP);
      const json = JSON.parse(bundle(k1, bundleImage).toString()) as {
        dsseEnvelope: { payload: string };
      };
      json.dsseEnvelope.payload = createInTotoStatement({
        digests: [bundleImage.digest, `sha256:${'e'.repeat(64)}`],
      }).toString('base64');
      await pushBundles(APP, bundleImage, [Buffer.from(JSON.stringify(json))]);
      expect(await verify(APP, bundleImage)).toMatchObject({
        status: 'untrusted',
        reason: 'UNKNOWN_KEY',
      });
    });

    it('a .sig copied to another repository of the registry stays valid there (docker-reference ignored)', async () => {
      const image = await pushNewImage(APP, MIRROR);
      await pushSig(APP, image, [legacy(k1, image, APP)]);
      await copySignature(client, registry, cosignSignatureTag(image.digest), APP, MIRROR);
      expect(await verify(MIRROR, image)).toMatchObject({
        status: 'trusted',
        signers: [k1.keyId],
        formats: ['simple-signing'],
      });
    });

    it('signatures kept only in another repository do not count: unsigned', async () => {
      const image = await pushNewImage(APP, ELSEWHERE);
      await pushSig(APP, image, [legacy(k1, image)]);
      await pushBundles(APP, image, [bundle(k2, image)]);
      expect(await verify(APP, image, 2)).toMatchObject({ status: 'trusted' });
      expect(await verify(ELSEWHERE, image)).toMatchObject({
        status: 'unsigned',
        reason: 'NO_SIGNATURE',
      });
    });

    it('an unsigned image: unsigned, NO_SIGNATURE', async () => {
      const image = await pushNewImage(APP);
      expect(await verify(APP, image)).toMatchObject({
        status: 'unsigned',
        reason: 'NO_SIGNATURE',
        digest: image.digest,
      });
    });

    it('a registry that refuses the credentials is an error, not a verdict', async () => {
      const image = await pushNewImage(APP);
      await pushSig(APP, image, [legacy(k1, image)]);
      const refused = clientFor({ password: 'Wrong-Pass-1a2b' });
      try {
        const error = await verify(APP, image, 1, refused).then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(isRegistryError(error) && error.code).toBe('UNAUTHORIZED');
      } finally {
        await refused.close();
      }
    });

    /**
     * What one verification costs. Cold (a new client): the ping and one token (shared by
     * every request: one repository, one scope), then per format: bundles = referrers API
     * (404) + tag index + R referrer manifests + B bundle blobs; legacy = `.sig` manifest +
     * L payload blobs. So at most 2 + 3 + R + B + L requests, and 3 + R + B + L warm.
     */
    describe.each([
      { format: 'legacy .sig', referrers: 0, bundles: 0, layers: 1 },
      { format: 'sigstore bundle', referrers: 1, bundles: 1, layers: 0 },
      { format: 'both', referrers: 1, bundles: 1, layers: 1 },
    ])('requests per verification, $format', ({ referrers, bundles, layers }) => {
      const warm = 3 + referrers + bundles + layers;
      it(`at most ${warm + 2} cold and ${warm} warm, each named by kind`, async () => {
        const image = await pushNewImage(APP);
        if (layers > 0) await pushSig(APP, image, [legacy(k1, image)]);
        if (bundles > 0) await pushBundles(APP, image, [bundle(k2, image)]);
        const events: RegistryRequestEvent[] = [];
        const counted = clientFor({ onRequest: (event) => events.push(event) });
        try {
          expect(await verify(APP, image, 1, counted)).toMatchObject({ status: 'trusted' });
          const cold = events.splice(0);
          expect(cold.length).toBeLessThanOrEqual(warm + 2);
          expect(cold.filter((e) => e.kind === 'ping' || e.kind === 'token')).toHaveLength(2);

          expect(await verify(APP, image, 1, counted)).toMatchObject({ status: 'trusted' });
          expect(events.length).toBeLessThanOrEqual(warm);
          const byKind = (kind: string) => events.filter((e) => e.kind === kind).length;
          expect(byKind('referrers')).toBe(1);
          expect(byKind('manifest')).toBe(2 + referrers);
          expect(byKind('blob')).toBe(bundles + layers);
          expect(byKind('ping') + byKind('token')).toBe(0);
        } finally {
          await counted.close();
        }
      });
    });
  },
);

/**
 * What `cosign copy` does for a legacy signature: read the `.sig` manifest and every blob it
 * names from one repository, and push the same bytes to the same tag of another.
 */
async function copySignature(
  client: RegistryClient,
  registry: Distribution,
  tag: string,
  from: string,
  to: string,
): Promise<void> {
  const manifest = await client.getManifest(`${registry.host}/${from}:${tag}`);
  const json = JSON.parse(manifest.body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const blobs = new Map<string, Buffer>();
  for (const digest of [json.config.digest, ...json.layers.map((layer) => layer.digest)]) {
    blobs.set(digest, await client.getBlob(`${registry.host}/${from}@${digest}`));
  }
  await pushArtifact({
    registryUrl: registry.url,
    repository: to,
    reference: tag,
    manifest: manifest.body,
    mediaType: manifest.mediaType,
    blobs,
    credentials: USER,
  });
}
