import { decodeBase64 } from './base64.js';
import type { CheckContext } from './check-context.js';
import { malformed, type SignatureFinding } from './findings.js';
import { MAX_SIGNATURE_BLOB_BYTES } from './limits.js';
import { COSIGN_SIGN_PREDICATE, IN_TOTO_PAYLOAD_TYPE } from './media-types.js';
import { firstIssue, parseJson } from './oci-schemas.js';
import { type BundleLayer, findBundleLayers } from './referrers.js';
import { findSigner } from './signature-check.js';
import type { SigningKey } from './signing-keys.js';
import { InTotoStatementSchema, preAuthEncoding, SigstoreBundleSchema } from './sigstore-bundle.js';

const FORMAT = 'sigstore-bundle';

/**
 * Format 1: sigstore bundles v0.3 attached as OCI 1.1 referrers (`findBundleLayers`), each
 * fetched and judged by `judgeBundle`.
 */
export async function checkSigstoreBundles(context: CheckContext): Promise<SignatureFinding[]> {
  const found = await findBundleLayers(context);
  const judged = await Promise.all(found.layers.map((layer) => checkBundleLayer(context, layer)));
  return [...found.findings, ...judged.flat()];
}

async function checkBundleLayer(
  context: CheckContext,
  layer: BundleLayer,
): Promise<SignatureFinding[]> {
  if (layer.descriptor.size > MAX_SIGNATURE_BLOB_BYTES) {
    return [
      malformed(FORMAT, layer.where, `bundle of ${layer.descriptor.size} bytes is over the limit`),
    ];
  }
  const bundle = await context.source.getBlob(layer.descriptor.digest, {
    maxBytes: MAX_SIGNATURE_BLOB_BYTES,
    signal: context.signal,
  });
  return judgeBundle(context, bundle, layer.where);
}

/**
 * One bundle's findings. The DSSE signature is over the pre-authentication encoding, not the
 * payload, and is checked with every configured key (the bundle's key hint is not read: a
 * hint is never trusted, and trying a handful of keys costs a fraction of a millisecond each).
 * A statement whose predicate is not cosign's signing predicate (an attestation:
 * SBOM, provenance) is not a signature and leaves no finding; that is read before the
 * signature is checked, which is safe because skipping can never make a digest trusted.
 * Then each key that signed counts for this digest only if a statement subject has its
 * sha256.
 */
export function judgeBundle(
  context: Pick<CheckContext, 'digest' | 'keys'>,
  bytes: Buffer,
  where: string,
): SignatureFinding[] {
  const parsed = SigstoreBundleSchema.safeParse(parseJson(bytes));
  if (!parsed.success) {
    return [
      malformed(
        FORMAT,
        where,
        `not a sigstore bundle v0.3 with a DSSE envelope (${firstIssue(parsed.error)})`,
      ),
    ];
  }
  const envelope = parsed.data.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return [
      malformed(
        FORMAT,
        where,
        `DSSE payloadType ${JSON.stringify(envelope.payloadType)} is not in-toto`,
      ),
    ];
  }
  const payload = decodeBase64(envelope.payload);
  if (payload === undefined) return [malformed(FORMAT, where, 'DSSE payload is not base64')];

  const statement = InTotoStatementSchema.safeParse(parseJson(payload));
  if (statement.success && statement.data.predicateType !== COSIGN_SIGN_PREDICATE) return [];

  const signers = dsseSigners(context.keys, envelope.payloadType, payload, envelope.signatures);
  if (signers === 'undecodable') return [malformed(FORMAT, where, 'no DSSE signature is base64')];
  if (signers.length === 0) return [{ kind: 'unverified', format: FORMAT, where }];

  if (!statement.success) {
    const problem = `not an in-toto statement (${firstIssue(statement.error)})`;
    return signers.map((key) => ({
      kind: 'signed-malformed',
      format: FORMAT,
      keyId: key.id,
      problem,
      where,
    }));
  }
  const subjects = statement.data.subject.flatMap((subject) =>
    subject.digest.sha256 === undefined ? [] : [`sha256:${subject.digest.sha256}`],
  );
  if (subjects.includes(context.digest)) {
    return signers.map((key) => ({ kind: 'valid', format: FORMAT, keyId: key.id, where }));
  }
  return signers.map((key) => ({
    kind: 'digest-mismatch',
    format: FORMAT,
    keyId: key.id,
    signedDigests: subjects,
    where,
  }));
}

/**
 * The distinct configured keys that made one of the envelope's signatures over the PAE, or
 * `'undecodable'` when no signature is even base64 (a malformed envelope, not an unknown key).
 */
function dsseSigners(
  keys: readonly SigningKey[],
  payloadType: string,
  payload: Buffer,
  signatures: readonly { sig: string }[],
): SigningKey[] | 'undecodable' {
  const message = preAuthEncoding(payloadType, payload);
  const decoded = signatures
    .map(({ sig }) => decodeBase64(sig))
    .filter((signature) => signature !== undefined);
  if (decoded.length === 0) return 'undecodable';
  const signers = new Map<string, SigningKey>();
  for (const signature of decoded) {
    const signer = findSigner(keys, message, signature);
    if (signer !== undefined) signers.set(signer.id, signer);
  }
  return [...signers.values()];
}
