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

/**
 * True when the engine's copy of `image` (`<repository>@<digest>`) lists exactly that
 * `<repository>@<digest>` in its RepoDigests (an image may carry several for one repository).
 */
export async function holdsDigest(docker: Docker, image: string, digest: string): Promise<boolean> {
  const reference = parseImageReference(image);
  const wanted = `${reference.domain}/${reference.path}@${digest}`;
  try {
    const info = await docker.getImage(image).inspect();
    return (info.RepoDigests ?? []).some((entry) => {
      try {
        const parsed = parseImageReference(entry);
        return `${parsed.domain}/${parsed.path}@${parsed.digest}` === wanted;
      } catch {
        return false;
      }
    });
  } catch (error) {
    if (engineStatusOf(error) === 404) return false;
    throw error;
  }
}

/**
 * Tags the engine's `source` image as `target` (`repo:tag`): after a pull by digest, the
 * runtime's `:latest` reference the platform starts containers from points at that image.
 */
export async function tagImage(docker: Docker, source: string, target: string): Promise<void> {
  const reference = parseImageReference(target);
  await docker
    .getImage(source)
    .tag({ repo: `${reference.domain}/${reference.path}`, tag: reference.tag ?? 'latest' });
}
