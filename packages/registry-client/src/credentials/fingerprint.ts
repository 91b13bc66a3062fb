import { createHash } from 'node:crypto';
import type { RegistryCredential } from '../types.js';

/**
 * A stable identity for caching: who the credential is, and a short hash of its secret so a
 * rotated password gets fresh tokens. Never the secret itself.
 */
export function credentialFingerprint(credential: RegistryCredential): string {
  if (credential.kind === 'anonymous') return 'anonymous';
  // Resolvers hand out the same credential object while it is valid: hash it once, not on
  // every request.
  const known = fingerprints.get(credential);
  if (known !== undefined) return known;
  const secret = credential.kind === 'basic' ? credential.password : credential.identityToken;
  const hash = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  const fingerprint = `${credential.kind}:${credential.source}:${credential.username}:${hash}`;
  fingerprints.set(credential, fingerprint);
  return fingerprint;
}

const fingerprints = new WeakMap<RegistryCredential, string>();
