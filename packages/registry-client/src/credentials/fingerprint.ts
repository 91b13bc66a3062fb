import { createHash } from 'node:crypto';
import type { RegistryCredential } from '../types.js';

/**
 * A stable identity for caching: who the credential is, and a short hash of its secret so a
 * rotated password gets fresh tokens. Never the secret itself.
 */
export function credentialFingerprint(credential: RegistryCredential): string {
  if (credential.kind === 'anonymous') return 'anonymous';
  const secret = credential.kind === 'basic' ? credential.password : credential.identityToken;
  const hash = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  return `${credential.kind}:${credential.source}:${credential.username}:${hash}`;
}
