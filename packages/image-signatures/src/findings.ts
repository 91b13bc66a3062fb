/** The two layouts cosign writes signatures in. */
export type SignatureFormat = 'sigstore-bundle' | 'simple-signing';

/**
 * What one signature artifact (a `.sig` layer, a bundle, or an artifact around them) told
 * us. Artifacts that are not signatures (an SBOM referrer, an attestation, a foreign layer)
 * leave no finding at all. `where` names the artifact for humans, e.g.
 * `sha256-….sig layer 0` or `referrer sha256:aa34… layer 0`.
 *
 * - `valid`: a configured key signed exactly this digest.
 * - `digest-mismatch`: a configured key's valid signature names another digest.
 * - `signed-malformed`: a configured key signed a payload we cannot read as a signature.
 * - `unverified`: a readable signature no configured key made (another key, or altered bytes).
 * - `malformed`: a signature artifact we cannot parse at all.
 */
export type SignatureFinding =
  | {
      readonly kind: 'valid';
      readonly format: SignatureFormat;
      readonly keyId: string;
      readonly where: string;
    }
  | {
      readonly kind: 'digest-mismatch';
      readonly format: SignatureFormat;
      readonly keyId: string;
      readonly signedDigests: readonly string[];
      readonly where: string;
    }
  | {
      readonly kind: 'signed-malformed';
      readonly format: SignatureFormat;
      readonly keyId: string;
      readonly problem: string;
      readonly where: string;
    }
  | { readonly kind: 'unverified'; readonly format: SignatureFormat; readonly where: string }
  | {
      readonly kind: 'malformed';
      readonly format: SignatureFormat;
      readonly problem: string;
      readonly where: string;
    };

/** A finding for an artifact that cannot be parsed. */
export function malformed(
  format: SignatureFormat,
  where: string,
  problem: string,
): SignatureFinding {
  return { kind: 'malformed', format, where, problem };
}
