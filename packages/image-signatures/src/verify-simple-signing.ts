import { z } from 'zod';
import { decodeBase64 } from './base64.js';
import type { CheckContext } from './check-context.js';
import { malformed, type SignatureFinding } from './findings.js';
import { MAX_SIGNATURE_BLOB_BYTES, MAX_SIGNATURE_LAYERS } from './limits.js';
import {
  DOCKER_MANIFEST_V2,
  OCI_MANIFEST,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_LAYER,
  SIMPLE_SIGNING_TYPE,
  signatureTag,
} from './media-types.js';
import { DescriptorSchema, firstIssue, ImageManifestSchema, parseJson } from './oci-schemas.js';
import { findSigner } from './signature-check.js';

/**
 * The simple-signing payload, as far as trust needs it. `critical.identity.docker-reference`
 * is deliberately not read: it names wherever the image was signed, so copies on a mirror
 * stay valid. `optional` is `null` from cosign, an object from other writers (containers/image).
 * Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md#simple-signing
 * and https://github.com/containers/image/blob/main/docs/containers-signature.5.md
 */
export const SimpleSigningPayloadSchema = z.object({
  critical: z.object({
    image: z.object({ 'docker-manifest-digest': z.string() }),
    type: z.literal(SIMPLE_SIGNING_TYPE),
  }),
  optional: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type SimpleSigningPayload = z.infer<typeof SimpleSigningPayloadSchema>;

const FORMAT = 'simple-signing';

/**
 * Format 2, legacy: the manifest at tag `sha256-<hex>.sig` (OCI or Docker schema 2), whose
 * `application/vnd.dev.cosign.simplesigning.v1+json` layers are payloads signed in the layer
 * annotation `dev.cosignproject.cosign/signature`. No tag: no finding.
 */
export async function checkSimpleSigning(context: CheckContext): Promise<SignatureFinding[]> {
  const tag = signatureTag(context.digest);
  const manifest = await context.source.getManifest(tag, {
    accept: [OCI_MANIFEST, DOCKER_MANIFEST_V2],
    signal: context.signal,
  });
  if (manifest === undefined) return [];
  const parsed = ImageManifestSchema.safeParse(parseJson(manifest.body));
  if (!parsed.success) {
    return [malformed(FORMAT, tag, `not an image manifest (${firstIssue(parsed.error)})`)];
  }
  const layers = parsed.data.layers
    .map((layer, index) => ({ layer, where: `${tag} layer ${index}` }))
    .filter(({ layer }) => (layer as { mediaType?: unknown })?.mediaType === SIMPLE_SIGNING_LAYER)
    .slice(0, MAX_SIGNATURE_LAYERS);
  if (layers.length === 0) {
    return [malformed(FORMAT, tag, `no ${SIMPLE_SIGNING_LAYER} layer`)];
  }
  return Promise.all(layers.map(({ layer, where }) => checkLayer(context, layer, where)));
}

async function checkLayer(
  context: CheckContext,
  layer: unknown,
  where: string,
): Promise<SignatureFinding> {
  const descriptor = DescriptorSchema.safeParse(layer);
  if (!descriptor.success) {
    return malformed(FORMAT, where, `bad layer descriptor (${firstIssue(descriptor.error)})`);
  }
  const annotation = descriptor.data.annotations?.[SIGNATURE_ANNOTATION];
  if (annotation === undefined) return malformed(FORMAT, where, `no ${SIGNATURE_ANNOTATION}`);
  const signature = decodeBase64(annotation, { whitespace: true });
  if (signature === undefined) {
    return malformed(FORMAT, where, `${SIGNATURE_ANNOTATION} is not base64`);
  }
  if (descriptor.data.size > MAX_SIGNATURE_BLOB_BYTES) {
    return malformed(FORMAT, where, `payload of ${descriptor.data.size} bytes is over the limit`);
  }
  const payload = await context.source.getBlob(descriptor.data.digest, {
    maxBytes: MAX_SIGNATURE_BLOB_BYTES,
    signal: context.signal,
  });
  return judgePayload(context, payload, signature, where);
}

/**
 * The signature is over the exact layer bytes, so they are verified before they are parsed
 * and never re-serialised.
 */
export function judgePayload(
  context: Pick<CheckContext, 'digest' | 'keys'>,
  payload: Buffer,
  signature: Buffer,
  where: string,
): SignatureFinding {
  const signer = findSigner(context.keys, payload, signature);
  if (signer === undefined) return { kind: 'unverified', format: FORMAT, where };
  const parsed = SimpleSigningPayloadSchema.safeParse(parseJson(payload));
  if (!parsed.success) {
    return {
      kind: 'signed-malformed',
      format: FORMAT,
      keyId: signer.id,
      problem: `not a simple-signing payload (${firstIssue(parsed.error)})`,
      where,
    };
  }
  const signed = parsed.data.critical.image['docker-manifest-digest'];
  if (signed !== context.digest) {
    return {
      kind: 'digest-mismatch',
      format: FORMAT,
      keyId: signer.id,
      signedDigests: [signed],
      where,
    };
  }
  return { kind: 'valid', format: FORMAT, keyId: signer.id, where };
}
