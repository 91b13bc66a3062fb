import type { SignatureFinding, SignatureFormat } from './findings.js';
import { signatureTag } from './media-types.js';

/**
 * Why a digest is not trusted: stable codes, also used as metric labels.
 *
 * - `NO_SIGNATURE`: no signature artifact of either format for this digest.
 * - `UNKNOWN_KEY`: signatures were found, none verifies with a configured key (another key,
 *   or altered bytes: the two cannot be told apart).
 * - `DIGEST_MISMATCH`: a configured key's valid signature names another digest.
 * - `BAD_PAYLOAD`: a signature artifact or a signed payload cannot be parsed.
 * - `THRESHOLD_NOT_MET`: fewer distinct configured keys signed than the threshold (at least one did).
 */
export type TrustReason =
  | 'NO_SIGNATURE'
  | 'UNKNOWN_KEY'
  | 'DIGEST_MISMATCH'
  | 'BAD_PAYLOAD'
  | 'THRESHOLD_NOT_MET';

/** Every reason, e.g. to register metric label values up front. */
export const TRUST_REASONS: readonly TrustReason[] = [
  'NO_SIGNATURE',
  'UNKNOWN_KEY',
  'DIGEST_MISMATCH',
  'BAD_PAYLOAD',
  'THRESHOLD_NOT_MET',
];

/**
 * The outcome of verifying one digest. A value, not an error: only a registry failure throws.
 * `signers` are key ids (`sha256:<hex of SPKI DER>`), sorted; `detail` is for humans and
 * names artifacts, digests and key ids, never key material.
 */
export type TrustVerdict =
  | {
      readonly status: 'trusted';
      readonly digest: string;
      readonly signers: readonly string[];
      /** The formats the counted signatures were found in, sorted. */
      readonly formats: readonly SignatureFormat[];
    }
  | {
      readonly status: 'untrusted';
      readonly digest: string;
      readonly reason: Exclude<TrustReason, 'NO_SIGNATURE'>;
      /** Keys that did sign this digest (non-empty only for `THRESHOLD_NOT_MET`). */
      readonly signers: readonly string[];
      readonly detail: string;
    }
  | {
      readonly status: 'unsigned';
      readonly digest: string;
      readonly reason: 'NO_SIGNATURE';
      readonly detail: string;
    };

/**
 * The verdict for `digest` from every finding of both formats. Distinct keys count, however
 * many signatures or formats each made. When the threshold is not met, the strongest evidence
 * names the reason, in this order:
 *
 * 1. `THRESHOLD_NOT_MET`: at least one configured key signed this digest.
 * 2. `DIGEST_MISMATCH`: a configured key signed another digest (a copied or misplaced signature).
 * 3. `BAD_PAYLOAD`, signed: a configured key signed something that is not a signature payload.
 * 4. `UNKNOWN_KEY`: readable signatures, none by a configured key.
 * 5. `BAD_PAYLOAD`, unsigned: only unreadable signature artifacts.
 * 6. `NO_SIGNATURE`: nothing at all.
 *
 * What a configured key said outranks what an unknown signer said, and a readable signature
 * outranks an unreadable artifact, because it tells the operator more about what to fix.
 */
export function decideVerdict(
  digest: string,
  findings: readonly SignatureFinding[],
  threshold: number,
): TrustVerdict {
  const valid = findings.filter((finding) => finding.kind === 'valid');
  const signers = [...new Set(valid.map((finding) => finding.keyId))].sort();
  if (signers.length >= threshold) {
    const formats = [...new Set(valid.map((finding) => finding.format))].sort();
    return { status: 'trusted', digest, signers, formats };
  }
  const untrusted = (
    reason: Exclude<TrustReason, 'NO_SIGNATURE'>,
    detail: string,
  ): TrustVerdict => ({
    status: 'untrusted',
    digest,
    reason,
    signers,
    detail,
  });
  if (signers.length > 0) {
    return untrusted(
      'THRESHOLD_NOT_MET',
      `${signers.length} of the ${threshold} required keys signed this digest (${signers.join(', ')})`,
    );
  }
  const mismatch = findings.find((finding) => finding.kind === 'digest-mismatch');
  if (mismatch !== undefined) {
    return untrusted(
      'DIGEST_MISMATCH',
      `key ${mismatch.keyId} signed ${mismatch.signedDigests.join(', ') || 'no sha256 digest'}, not this digest (${mismatch.where})${more(findings, 'digest-mismatch')}`,
    );
  }
  const signedBad = findings.find((finding) => finding.kind === 'signed-malformed');
  if (signedBad !== undefined) {
    return untrusted(
      'BAD_PAYLOAD',
      `${signedBad.where}: key ${signedBad.keyId} signed a payload that is ${signedBad.problem}`,
    );
  }
  const unverified = findings.filter((finding) => finding.kind === 'unverified');
  if (unverified.length > 0) {
    return untrusted(
      'UNKNOWN_KEY',
      `${unverified.length} signature(s) found, none made by a configured key (signed by another key, or altered): ${unverified
        .slice(0, 3)
        .map((finding) => finding.where)
        .join('; ')}${unverified.length > 3 ? '; …' : ''}`,
    );
  }
  const bad = findings.find((finding) => finding.kind === 'malformed');
  if (bad !== undefined) {
    return untrusted('BAD_PAYLOAD', `${bad.where}: ${bad.problem}${more(findings, 'malformed')}`);
  }
  return {
    status: 'unsigned',
    digest,
    reason: 'NO_SIGNATURE',
    detail: `no sigstore bundle referrer and no ${signatureTag(digest)} signature for this digest`,
  };
}

function more(findings: readonly SignatureFinding[], kind: SignatureFinding['kind']): string {
  const count = findings.filter((finding) => finding.kind === kind).length - 1;
  return count > 0 ? ` (and ${count} more)` : '';
}
