export { createRegistryClient, type RegistryClientOptions } from './client.js';
export {
  type CredentialResolverOptions,
  createCredentialResolver,
} from './credentials/resolver.js';
export {
  isRegistryError,
  REGISTRY_ERROR_CODES,
  RegistryError,
  type RegistryErrorCode,
} from './errors.js';
export { normalizeRegistryHost } from './host-key.js';
export type { HostPort } from './http-policy.js';
export { dockerRegistryAuth } from './registry-auth-header.js';
export { loadRegistrySettings, type RegistrySettings } from './settings.js';
export type {
  CredentialResolver,
  CredentialSource,
  Env,
  GetBlobOptions,
  GetManifestOptions,
  ManifestContent,
  ManifestDigest,
  RegistryClient,
  RegistryCredential,
  RegistryRequestEvent,
} from './types.js';
