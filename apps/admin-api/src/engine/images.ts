import { parseImageReference } from '@molecule/registry';
import type Docker from 'dockerode';
import { engineStatusOf } from './engine-errors.js';

export interface LocalImage {
  readonly id: string;
  readonly digest: string | null;
}

/** The RepoDigests entry (`repo@sha256:…`) for the image's own repository. */
export function digestForRepository(repoDigests: readonly string[], image: string): string | null {
  let wanted: string;
  try {
    const ref = parseImageReference(image);
    wanted = `${ref.domain}/${ref.path}`;
  } catch {
    return null;
  }
  for (const entry of repoDigests) {
    try {
      const ref = parseImageReference(entry);
      if (`${ref.domain}/${ref.path}` === wanted && ref.digest) return ref.digest;
    } catch {
      // an entry we cannot parse is not ours
    }
  }
  return null;
}

/** The engine's copy of `image`, or null when it has none. Throws the engine's other errors. */
export async function inspectLocalImage(docker: Docker, image: string): Promise<LocalImage | null> {
  try {
    const info = await docker.getImage(image).inspect();
    return { id: info.Id, digest: digestForRepository(info.RepoDigests ?? [], image) };
  } catch (error) {
    if (engineStatusOf(error) === 404) return null;
    throw error;
  }
}
