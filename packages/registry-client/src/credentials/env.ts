import { registryHost } from '@molecule/registry';
import { normalizeRegistryHost } from '../host-key.js';
import type { Env, RegistryCredential } from '../types.js';

/**
 * Credentials from the environment, for the configured registry host only (never handed to
 * another host): `MOLECULE_REGISTRY_USERNAME` + `MOLECULE_REGISTRY_PASSWORD`, then the legacy
 * `GHCR_USER` + `GHCR_TOKEN`. `undefined` when neither pair is complete or the host differs.
 */
export function resolveEnvCredential(host: string, env: Env): RegistryCredential | undefined {
  if (normalizeRegistryHost(host) !== normalizeRegistryHost(registryHost(env))) {
    return undefined;
  }
  const username = env.MOLECULE_REGISTRY_USERNAME;
  const password = env.MOLECULE_REGISTRY_PASSWORD;
  if (username && password) return { kind: 'basic', username, password, source: 'env' };
  const legacyUser = env.GHCR_USER;
  const legacyToken = env.GHCR_TOKEN;
  if (legacyUser && legacyToken) {
    return { kind: 'basic', username: legacyUser, password: legacyToken, source: 'env-legacy' };
  }
  return undefined;
}
