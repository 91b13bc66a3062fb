/**
 * Signature artifacts in exactly the layouts cosign writes, made with node:crypto (there is
 * no cosign binary here). Checked byte for byte against real cosign output in
 * `shared/fixtures/cosign` (see cosign.test.ts). Push them with `pushArtifact`.
 *
 * - Legacy (`cosign sign --key`, classic attached format): tag `sha256-<hex>.sig`, an OCI
 *   manifest whose simple-signing layers carry the signature in an annotation.
 *   Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
 * - Bundle (cosign 3 default): a sigstore bundle v0.3 (DSSE over an in-toto statement) as
 *   the one layer of an OCI 1.1 referrer, plus the referrers tag schema index.
 *   Spec: https://github.com/sigstore/cosign/blob/main/specs/BUNDLE_SPEC.md
 */
import {
  createHash,
  constants as cryptoConstants,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { sha256Digest } from './image.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** The OCI empty descriptor's type; its blob is the two bytes `{}`. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const SIMPLE_SIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

const EMPTY_BLOB = Buffer.from('{}');

export type CosignKeyAlgorithm = 'ecdsa-p256' | 'ed25519' | 'rsa';

export interface CosignKeyPair {
  readonly algorithm: CosignKeyAlgorithm;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** `-----BEGIN PUBLIC KEY-----` (SPKI), as in cosign.pub. */
  readonly publicKeyPem: string;
  /** `sha256:<hex of the SPKI DER>`: the verifier's key id. */
  readonly keyId: string;
}

/** A pushable artifact: manifest bytes, their digest and media type, and the blobs they name. */
export interface CosignArtifact {
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly digest: string;
  readonly blobs: Map<string, Buffer>;
}

/**
 * A fresh key pair, ECDSA P-256 by default (what `cosign generate-key-pair` makes).
 *
 * @example
 * const key = generateCosignKeyPair(); writeFileSync('cosign.pub', key.publicKeyPem);
 */
export function generateCosignKeyPair(algorithm: CosignKeyAlgorithm = 'ecdsa-p256'): CosignKeyPair {
  const { publicKey, privateKey } =
    algorithm === 'ecdsa-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : algorithm === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    algorithm,
    publicKey,
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: `sha256:${createHash('sha256').update(spki).digest('hex')}`,
  };
}

/** cosign's `verificationMaterial.publicKey.hint`: base64 of sha256(SPKI DER). */
export function publicKeyHint(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * cosign's signature over `data`: ECDSA P-256 with SHA-256, ASN.1 DER; Ed25519 over the
 * message; RSA with SHA-256, PKCS#1 v1.5 unless `rsaPadding: 'pss'`.
 */
export function signWithKey(
  key: CosignKeyPair,
  data: Buffer,
  options: { rsaPadding?: 'pkcs1' | 'pss' } = {},
): Buffer {
  switch (key.algorithm) {
    case 'ecdsa-p256':
      return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'der' });
    case 'ed25519':
      return sign(null, data, key.privateKey);
    case 'rsa':
      return sign('sha256', data, {
        key: key.privateKey,
        padding:
          options.rsaPadding === 'pss'
            ? cryptoConstants.RSA_PKCS1_PSS_PADDING
            : cryptoConstants.RSA_PKCS1_PADDING,
      });
  }
}

/** `sha256-<hex>.sig`: where cosign puts the legacy signature manifest of `digest`. */
export function cosignSignatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** `sha256-<hex>`: the referrers tag schema's tag for `digest`. */
export function cosignReferrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * The simple-signing payload exactly as cosign writes it (key order, no whitespace,
 * `"optional":null`, no trailing newline).
 */
export function simpleSigningPayload(options: { digest: string; dockerReference: string }): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': options.dockerReference },
        image: { 'docker-manifest-digest': options.digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** One legacy signature: the layer blob and its annotation value. */
export interface SimpleSignature {
  readonly payload: Buffer;
  /** base64 of the signature over the exact `payload` bytes. */
  readonly signature: string;
}

/**
 * A legacy signature of `digest` by `key`. `payload` replaces the payload cosign would write
 * (to sign something malformed); `dockerReference` defaults to `registry.invalid/image`.
 */
export function createSimpleSignature(options: {
  key: CosignKeyPair;
  digest: string;
  dockerReference?: string;
  payload?: Buffer;
}): SimpleSignature {
  const payload =
    options.payload ??
    simpleSigningPayload({
      digest: options.digest,
      dockerReference: options.dockerReference ?? 'registry.invalid/image',
    });
  return { payload, signature: signWithKey(options.key, payload).toString('base64') };
}

/**
 * The `.sig` OCI manifest with one simple-signing layer per signature, and cosign v3's config
 * (go-containerregistry's empty image plus the layers: zero `created` times, `diff_ids` = the
 * layer digests). `annotations` replaces a layer's annotations (index-aligned), e.g. to write
 * a bad one; by default each layer has only the signature.
 */
export function createSigManifest(
  signatures: readonly SimpleSignature[],
  options: { annotations?: readonly (Record<string, string> | undefined)[] } = {},
): CosignArtifact {
  const blobs = new Map<string, Buffer>();
  const layers = signatures.map((signature, index) => {
    const digest = sha256Digest(signature.payload);
    blobs.set(digest, signature.payload);
    return {
      mediaType: SIMPLE_SIGNING_LAYER,
      size: signature.payload.length,
      digest,
      annotations: options.annotations?.[index] ?? {
        [COSIGN_SIGNATURE_ANNOTATION]: signature.signature,
      },
    };
  });
  const zeroTime = '0001-01-01T00:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: zeroTime,
      history: layers.map(() => ({ created: zeroTime })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
      config: {},
    }),
  );
  const configDigest = sha256Digest(config);
  blobs.set(configDigest, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, size: config.length, digest: configDigest },
      layers,
    }),
  );
  return { manifest, mediaType: OCI_MANIFEST, digest: sha256Digest(manifest), blobs };
}

/**
 * cosign 3's `cosign sign` statement: in-toto v1, subjects without `name` (with empty
 * `annotations`), predicate `https://sigstore.dev/cosign/sign/v1` and no predicate body.
 */
export function createInTotoStatement(options: {
  digests: readonly string[];
  predicateType?: string;
}): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: options.digests.map((digest) => ({
        digest: { [digest.slice(0, digest.indexOf(':'))]: digest.slice(digest.indexOf(':') + 1) },
        annotations: {},
      })),
      predicateType: options.predicateType ?? COSIGN_SIGN_PREDICATE,
    }),
  );
}

/** DSSE's pre-authentication encoding, which is what a DSSE signature signs. */
export function dssePreAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

/**
 * A key-based sigstore bundle v0.3 as `cosign sign --key … --tlog-upload=false` writes it:
 * a DSSE envelope over `statement` (default: `createInTotoStatement({ digests: [digest] })`)
 * and `verificationMaterial.publicKey.hint` = base64(sha256(SPKI DER)). No tlog entry and no
 * timestamp. `signers` adds more signatures to the envelope (default: just `key`).
 */
export function createSigstoreBundle(options: {
  key: CosignKeyPair;
  digest: string;
  statement?: Buffer;
  signers?: readonly CosignKeyPair[];
}): Buffer {
  const statement = options.statement ?? createInTotoStatement({ digests: [options.digest] });
  const message = dssePreAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement);
  const signers = options.signers ?? [options.key];
  const hint = publicKeyHint(options.key.publicKey);
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03,
      verificationMaterial: { publicKey: { hint } },
      dsseEnvelope: {
        payload: statement.toString('base64'),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: signers.map((signer) => ({
          sig: signWithKey(signer, message).toString('base64'),
        })),
      },
    }),
  );
}

/** The descriptor of the signed image, as a referrer's `subject`. */
export interface SubjectDescriptor {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * The OCI 1.1 referrer cosign 3 pushes for a bundle: `artifactType` bundle (top level and on
 * the config), the empty config blob `{}`, the bundle as the one layer, cosign's annotations
 * and `subject`. `created` defaults to now, in seconds, like cosign.
 */
export function createReferringManifest(options: {
  subject: SubjectDescriptor;
  bundle: Buffer;
  created?: string;
  predicateType?: string;
  artifactType?: string;
}): CosignArtifact {
  const bundleDigest = sha256Digest(options.bundle);
  const emptyDigest = sha256Digest(EMPTY_BLOB);
  const artifactType = options.artifactType ?? SIGSTORE_BUNDLE_V03;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_EMPTY, size: EMPTY_BLOB.length, digest: emptyDigest, artifactType },
      layers: [
        { mediaType: SIGSTORE_BUNDLE_V03, size: options.bundle.length, digest: bundleDigest },
      ],
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': options.predicateType ?? COSIGN_SIGN_PREDICATE,
        'org.opencontainers.image.created':
          options.created ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      subject: {
        mediaType: options.subject.mediaType,
        size: options.subject.size,
        digest: options.subject.digest,
      },
      artifactType,
    }),
  );
  return {
    manifest,
    mediaType: OCI_MANIFEST,
    digest: sha256Digest(manifest),
    blobs: new Map([
      [emptyDigest, EMPTY_BLOB],
      [bundleDigest, options.bundle],
    ]),
  };
}

/**
 * The referrers tag schema index (push it at `cosignReferrersTag(subject)`), listing
 * `referrers`. Each entry's `artifactType` is `application/vnd.oci.empty.v1+json` unless
 * given: that is what cosign 3 writes, not the bundle type.
 */
export function createReferrersIndex(
  referrers: readonly { digest: string; size: number; mediaType?: string; artifactType?: string }[],
): CosignArtifact {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: referrers.map((referrer) => ({
        mediaType: referrer.mediaType ?? OCI_MANIFEST,
        size: referrer.size,
        digest: referrer.digest,
        artifactType: referrer.artifactType ?? OCI_EMPTY,
      })),
    }),
  );
  return { manifest, mediaType: OCI_INDEX, digest: sha256Digest(manifest), blobs: new Map() };
}

/** The descriptor of an artifact, e.g. to list it in `createReferrersIndex`. */
export function artifactDescriptor(artifact: CosignArtifact): {
  digest: string;
  size: number;
  mediaType: string;
} {
  return { digest: artifact.digest, size: artifact.manifest.length, mediaType: artifact.mediaType };
}
