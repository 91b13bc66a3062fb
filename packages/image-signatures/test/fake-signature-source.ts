import { createHash } from 'node:crypto';
import {
  type CosignArtifact,
  cosignReferrersTag,
  createReferrersIndex,
  OCI_INDEX,
} from '@molecule/real-parts';
import type { SignatureSource } from '../src/signature-source.js';

interface StoredManifest {
  readonly body: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

export interface FakeSourceOptions {
  /** Serve `GET /v2/<name>/referrers/<digest>` (built from stored manifests' `subject`); default false (404). */
  readonly referrersApi?: boolean;
  /** Delay of every call, like a registry round trip. */
  readonly delayMs?: number;
}

/** A call the fake received: `manifest <ref>`, `blob <digest>` or `referrers <digest>`. */
export type FakeCall = string;

/**
 * One repository of a registry, in memory: manifests by tag and by digest, blobs by digest,
 * and optionally the referrers API. `failOn` makes matching calls throw like a registry
 * failure would; `maxInFlight` shows whether calls overlapped.
 */
export function createFakeSource(options: FakeSourceOptions = {}) {
  const manifests = new Map<string, StoredManifest>();
  const blobs = new Map<string, Buffer>();
  const calls: FakeCall[] = [];
  let failure: { match: (call: FakeCall) => boolean; error: Error } | undefined;
  let inFlight = 0;
  let maxInFlight = 0;

  const call = async <T>(
    name: FakeCall,
    signal: AbortSignal | undefined,
    answer: () => T,
  ): Promise<T> => {
    calls.push(name);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      signal?.throwIfAborted();
      if (failure?.match(name)) throw failure.error;
      return answer();
    } finally {
      inFlight -= 1;
    }
  };

  const source: SignatureSource = {
    getManifest: (reference, { signal }) =>
      call(`manifest ${reference}`, signal, () => manifests.get(reference)),
    getBlob: (digest, { signal, maxBytes }) =>
      call(`blob ${digest}`, signal, () => {
        const blob = blobs.get(digest);
        if (blob === undefined) throw new Error(`fake registry: blob ${digest} unknown`);
        if (blob.length > maxBytes)
          throw new Error(`fake registry: blob ${digest} over ${maxBytes}`);
        return blob;
      }),
    getReferrers: (digest, { signal }) =>
      call(`referrers ${digest}`, signal, () =>
        options.referrersApi ? referrersAnswer(digest) : undefined,
      ),
  };

  /** Descriptors of every stored manifest whose `subject` is `digest`, with their `artifactType`. */
  function referrersOf(digest: string) {
    const found = new Map<
      string,
      { mediaType: string; digest: string; size: number; artifactType?: string }
    >();
    for (const manifest of manifests.values()) {
      const json = JSON.parse(manifest.body.toString()) as {
        subject?: { digest?: string };
        artifactType?: string;
      };
      if (json.subject?.digest !== digest) continue;
      found.set(manifest.digest, {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.body.length,
        ...(json.artifactType === undefined ? {} : { artifactType: json.artifactType }),
      });
    }
    return [...found.values()];
  }

  /** What a registry with the referrers API answers (entries carry the manifest's own artifactType). */
  function referrersAnswer(digest: string): Buffer {
    return Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: referrersOf(digest) }),
    );
  }

  function push(
    artifact: Pick<CosignArtifact, 'manifest' | 'mediaType' | 'blobs'>,
    tag?: string,
  ): string {
    const digest = sha256(artifact.manifest);
    const stored = { body: artifact.manifest, mediaType: artifact.mediaType, digest };
    manifests.set(digest, stored);
    if (tag !== undefined) manifests.set(tag, stored);
    for (const [blobDigest, blob] of artifact.blobs) blobs.set(blobDigest, blob);
    return digest;
  }

  return {
    source,
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    /** Stores the manifest by its digest (and at `tag`), and its blobs. */
    push,
    /**
     * Writes the referrers tag schema index of `digest` from the stored referrers, as cosign 3
     * does on a registry without the API: entries typed `application/vnd.oci.empty.v1+json`.
     */
    writeTagIndex(digest: string): void {
      const entries = referrersOf(digest).map(({ mediaType, digest, size }) => ({
        mediaType,
        digest,
        size,
      }));
      push(createReferrersIndex(entries), cosignReferrersTag(digest));
    },
    /** Stores raw manifest bytes at `reference` only. */
    putManifest(
      reference: string,
      body: Buffer,
      mediaType = 'application/vnd.oci.image.manifest.v1+json',
    ): void {
      manifests.set(reference, { body, mediaType, digest: sha256(body) });
    },
    putBlob(blob: Buffer): string {
      const digest = sha256(blob);
      blobs.set(digest, blob);
      return digest;
    },
    /** Makes calls matching `match` (e.g. `(c) => c.startsWith('blob ')`) throw `error`. */
    failOn(match: (call: FakeCall) => boolean, error: Error): void {
      failure = { match, error };
    },
  };
}

export type FakeSource = ReturnType<typeof createFakeSource>;

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
