import { isValidTag } from '@molecule/registry';
import { isDigest, sha256Digest } from './digest.js';

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
}

interface Repository {
  readonly tags: Map<string, string>;
  readonly manifests: Set<string>;
}

// https://github.com/distribution/distribution/blob/main/reference/regexp.go
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
export const REPOSITORY_PATTERN = `${COMPONENT}(?:/${COMPONENT})*`;
const REPOSITORY = new RegExp(`^${REPOSITORY_PATTERN}$`);

export function isRepositoryName(name: string): boolean {
  return REPOSITORY.test(name);
}

export function isTag(tag: string): boolean {
  return isValidTag(tag);
}

/** Blobs (shared by all repositories, as if mounted) and manifests linked to repositories. */
export class ContentStore {
  readonly #blobs = new Map<string, Buffer>();
  readonly #manifests = new Map<string, StoredManifest>();
  readonly #repositories = new Map<string, Repository>();

  putBlob(content: Buffer | string): string {
    const body = Buffer.from(content);
    const digest = sha256Digest(body);
    this.#blobs.set(digest, body);
    return digest;
  }

  getBlob(digest: string): Buffer | undefined {
    return this.#blobs.get(digest);
  }

  /** Links a manifest to a repository; `reference` is a tag (which moves) or its digest. */
  putManifest(repository: string, reference: string, mediaType: string, content: Buffer | string) {
    if (!isRepositoryName(repository)) {
      throw new TypeError(`invalid repository name: ${JSON.stringify(repository)}`);
    }
    const body = Buffer.from(content);
    const digest = sha256Digest(body);
    if (isDigest(reference)) {
      if (reference !== digest) {
        throw new TypeError(`manifest digest ${digest} does not match reference ${reference}`);
      }
    } else if (!isTag(reference)) {
      throw new TypeError(`invalid tag: ${JSON.stringify(reference)}`);
    }
    this.#manifests.set(digest, { digest, mediaType, body });
    const repo = this.#repository(repository);
    repo.manifests.add(digest);
    if (!isDigest(reference)) repo.tags.set(reference, digest);
    return digest;
  }

  hasRepository(repository: string): boolean {
    return this.#repositories.has(repository);
  }

  /** The digest a tag points at, or the reference itself when it is a digest. */
  resolve(repository: string, reference: string): string | undefined {
    if (isDigest(reference)) return reference;
    return this.#repositories.get(repository)?.tags.get(reference);
  }

  /** A manifest linked to `repository` by digest. */
  getManifest(repository: string, digest: string): StoredManifest | undefined {
    if (!this.#repositories.get(repository)?.manifests.has(digest)) return undefined;
    return this.#manifests.get(digest);
  }

  tags(repository: string): string[] | undefined {
    const repo = this.#repositories.get(repository);
    return repo ? [...repo.tags.keys()].sort() : undefined;
  }

  repositories(): string[] {
    return [...this.#repositories.keys()].sort();
  }

  #repository(name: string): Repository {
    let repo = this.#repositories.get(name);
    if (!repo) {
      repo = { tags: new Map(), manifests: new Set() };
      this.#repositories.set(name, repo);
    }
    return repo;
  }
}
