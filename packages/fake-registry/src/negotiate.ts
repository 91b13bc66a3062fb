import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import type { StoredManifest } from './store.js';

export type Negotiated =
  | { readonly ok: true; readonly manifest: StoredManifest }
  | { readonly ok: false; readonly message: string };

/** Media types named in `Accept` headers, parameters dropped (distribution ignores q=). */
export function acceptedMediaTypes(accept: string | string[] | undefined): Set<string> {
  const values = accept === undefined ? [] : Array.isArray(accept) ? accept : [accept];
  const types = new Set<string>();
  for (const value of values) {
    for (const part of value.split(',')) {
      const type = part.split(';')[0]?.trim().toLowerCase();
      if (type) types.add(type);
    }
  }
  return types;
}

/**
 * Picks what distribution 2.8 serves for a stored manifest given `Accept`
 * (registry/handlers/manifests.go): an OCI manifest or index without its type accepted is
 * "unknown" (404); a Docker manifest list fetched by tag without the list type accepted is
 * replaced by its linux/amd64 child. Docker schema 2 is served as is (2.8 would convert it to
 * schema 1, which no client we test asks for).
 */
export function negotiateManifest(
  manifest: StoredManifest,
  accepted: ReadonlySet<string>,
  byTag: boolean,
  lookup: (digest: string) => StoredManifest | undefined,
): Negotiated {
  if (manifest.mediaType === OCI_MANIFEST && !accepted.has(OCI_MANIFEST)) {
    return {
      ok: false,
      message: 'OCI manifest found, but accept header does not support OCI manifests',
    };
  }
  if (manifest.mediaType === OCI_INDEX && !accepted.has(OCI_INDEX)) {
    return {
      ok: false,
      message: 'OCI index found, but accept header does not support OCI indexes',
    };
  }
  if (byTag && manifest.mediaType === DOCKER_MANIFEST_LIST && !accepted.has(DOCKER_MANIFEST_LIST)) {
    const child = amd64Child(manifest);
    const found = child === undefined ? undefined : lookup(child);
    if (!found) return { ok: false, message: 'manifest list has no linux/amd64 manifest' };
    return { ok: true, manifest: found };
  }
  return { ok: true, manifest };
}

function amd64Child(list: StoredManifest): string | undefined {
  try {
    const parsed = JSON.parse(list.body.toString('utf8')) as {
      manifests?: {
        digest?: string;
        mediaType?: string;
        platform?: { os?: string; architecture?: string };
      }[];
    };
    const child = parsed.manifests?.find(
      (entry) =>
        entry.platform?.os === 'linux' &&
        entry.platform.architecture === 'amd64' &&
        (entry.mediaType === undefined || entry.mediaType === DOCKER_MANIFEST),
    );
    return child?.digest;
  } catch {
    return undefined;
  }
}
