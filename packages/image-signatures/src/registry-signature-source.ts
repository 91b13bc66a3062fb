import { ImageReferenceError, parseImageReference } from '@molecule/registry';
import { isRegistryError, type RegistryClient } from '@molecule/registry-client';
import type { ReferrersSupport } from './referrers-support.js';
import type { SignatureSource } from './signature-source.js';

/**
 * The `SignatureSource` of one repository, read through `@molecule/registry-client` (its
 * credentials, token cache, limits and retries). `repository` is `host/path` without a tag
 * or digest: the image's own repository, so signatures kept anywhere else are never seen.
 *
 * A manifest the registry answers 404 for (`NOT_FOUND`) is `undefined`: no such signature
 * artifact. Every other failure (401, 5xx, a timeout, a body that is not a manifest) is
 * thrown unchanged, and verification passes it on: a registry failure is not a verdict.
 *
 * @example
 * const source = createRegistrySignatureSource(client, 'registry.example.com/molecule-ai/workspace-template-langgraph');
 * const verdict = await verifyImageSignatures({ source, digest, policy });
 */
export function createRegistrySignatureSource(
  client: Pick<RegistryClient, 'getManifest' | 'getBlob' | 'getReferrers'>,
  repository: string,
  /** Registries known to have no referrers API: not asked again (see referrers-support.ts). */
  referrers?: ReferrersSupport,
): SignatureSource {
  const base = repositoryOf(repository);
  const host = base.slice(0, base.indexOf('/'));
  const byDigest = (digest: string) => `${base}@${digest}`;
  // A tag never holds ':' (distribution's tag grammar), a digest always does.
  const at = (reference: string) =>
    reference.includes(':') ? byDigest(reference) : `${base}:${reference}`;

  return {
    async getManifest(reference, { signal, accept }) {
      try {
        return await client.getManifest(at(reference), { accept, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (isRegistryError(error) && error.code === 'NOT_FOUND') return undefined;
        throw error;
      }
    },
    getBlob: (digest, { signal, maxBytes }) =>
      client.getBlob(byDigest(digest), { maxBytes, ...(signal ? { signal } : {}) }),
    async getReferrers(digest, { signal }) {
      if (referrers?.knownAbsent(host)) return undefined;
      const body = await client.getReferrers(byDigest(digest), signal ? { signal } : {});
      if (body === undefined) referrers?.markAbsent(host);
      return body;
    },
  };
}

/** `host/path`, normalised; a tag or digest is refused (signatures are looked up by digest). */
function repositoryOf(repository: string): string {
  const parsed = parseImageReference(repository);
  if (parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new ImageReferenceError(
      repository,
      'a signature source reads one repository: give host/path without a tag or digest',
    );
  }
  return `${parsed.domain}/${parsed.path}`;
}
