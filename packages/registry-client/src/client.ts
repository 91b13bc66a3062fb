import { RegistryError } from './errors.js';
import type { CredentialResolver, Env, RegistryClient, RegistryRequestEvent } from './types.js';

export interface RegistryClientOptions {
  readonly credentials: CredentialResolver;
  readonly env?: Env;
  readonly onRequest?: (event: RegistryRequestEvent) => void;
  readonly concurrencyPerHost?: number;
}

export function createRegistryClient(_options: RegistryClientOptions): RegistryClient {
  return {
    async getManifestDigest() {
      throw new RegistryError({ code: 'CONFIG', hint: 'registry client not implemented yet' });
    },
    async close() {},
  };
}
