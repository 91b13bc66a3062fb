import type { Env } from '@molecule/registry';

export type { Env };

export type CredentialSource = 'env' | 'env-legacy' | 'docker-config' | 'credential-helper' | 'ecr';

export type RegistryCredential =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'basic';
      readonly username: string;
      readonly password: string;
      readonly source: CredentialSource;
    }
  | {
      readonly kind: 'identity-token';
      readonly username: string;
      readonly identityToken: string;
      readonly source: CredentialSource;
    };

export interface CredentialResolver {
  resolve(host: string, options?: { signal?: AbortSignal }): Promise<RegistryCredential>;
}

export const ANONYMOUS: RegistryCredential = Object.freeze({ kind: 'anonymous' });

export interface ManifestDigest {
  readonly digest: string;
  readonly mediaType: string;
}

export interface RegistryRequestEvent {
  readonly host: string;
  readonly method: string;
  readonly path: string;
  /** `manifest`, `blob` and `referrers` are requests under `/v2/<repository>/`. */
  readonly kind: 'ping' | 'token' | 'manifest' | 'blob' | 'referrers' | 'other';
  readonly status: number | undefined;
  readonly durationMs: number;
}

/** A manifest's exact bytes, their digest (verified) and media type (canonical spelling). */
export interface ManifestContent {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
}

export interface GetManifestOptions {
  readonly signal?: AbortSignal;
  /** Manifest media types asked for and accepted (default: all four the client knows). */
  readonly accept?: readonly string[];
  /** A bound below the client's `maxManifestBytes`. */
  readonly maxBytes?: number;
}

export interface GetBlobOptions {
  readonly signal?: AbortSignal;
  /** A bound below the client's `maxBlobBytes`. */
  readonly maxBytes?: number;
}

export interface RegistryClient {
  /** `{ digest, mediaType }` of `host/path:tag` or `host/path@digest`, one `HEAD` when the registry allows. */
  getManifestDigest(ref: string, options?: { signal?: AbortSignal }): Promise<ManifestDigest>;
  /**
   * The exact bytes of a manifest by tag or digest (`host/path:tag`, `host/path@digest`);
   * the digest is verified when asked by digest, and computed from the body otherwise.
   * `NOT_FOUND` on 404.
   */
  getManifest(ref: string, options?: GetManifestOptions): Promise<ManifestContent>;
  /**
   * A blob of the repository (`host/path@sha256:…`), the body's digest verified; redirects to
   * blob storage are followed (without `Authorization` across origins). `NOT_FOUND` on 404.
   */
  getBlob(ref: string, options?: GetBlobOptions): Promise<Buffer>;
  /**
   * `GET /v2/<path>/referrers/<digest>` (OCI distribution 1.1, `ref` = `host/path@digest`):
   * the OCI index body, or `undefined` when the registry answers 404 (no referrers API).
   */
  getReferrers(ref: string, options?: { signal?: AbortSignal }): Promise<Buffer | undefined>;
  close(): Promise<void>;
}
