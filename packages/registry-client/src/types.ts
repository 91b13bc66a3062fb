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
  readonly kind: 'ping' | 'token' | 'manifest' | 'other';
  readonly status: number | undefined;
  readonly durationMs: number;
}

export interface RegistryClient {
  getManifestDigest(ref: string, options?: { signal?: AbortSignal }): Promise<ManifestDigest>;
  close(): Promise<void>;
}
