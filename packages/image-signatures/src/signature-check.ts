import { constants, verify } from 'node:crypto';
import type { SigningKey } from './signing-keys.js';

/**
 * Whether `signature` is `key`'s signature over `data`, as cosign signs: ECDSA P-256 over
 * SHA-256 with an ASN.1 DER signature; Ed25519 over the message itself (no pre-hash); RSA
 * over SHA-256 with PKCS#1 v1.5 (cosign's default) or PSS (any salt length). A malformed
 * signature is simply not valid: it never throws.
 */
export function isValidSignature(key: SigningKey, data: Buffer, signature: Buffer): boolean {
  try {
    switch (key.algorithm) {
      case 'ecdsa-p256':
        return verify('sha256', data, { key: key.key, dsaEncoding: 'der' }, signature);
      case 'ed25519':
        return verify(null, data, key.key, signature);
      case 'rsa':
        return (
          verify(
            'sha256',
            data,
            { key: key.key, padding: constants.RSA_PKCS1_PADDING },
            signature,
          ) ||
          verify(
            'sha256',
            data,
            {
              key: key.key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_AUTO,
            },
            signature,
          )
        );
    }
  } catch {
    return false;
  }
}

/**
 * The configured key that made `signature`, or `undefined`. Every key is tried, in order; a
 * key hint in the signature (a bundle's `publicKey.hint`, a DSSE `keyid`) is never read.
 */
export function findSigner(
  keys: readonly SigningKey[],
  data: Buffer,
  signature: Buffer,
): SigningKey | undefined {
  return keys.find((key) => isValidSignature(key, data, signature));
}
