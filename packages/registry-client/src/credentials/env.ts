import { normalizeRegistryHost } from '../host-key.js';
import type { RegistrySettings } from '../settings.js';
import type { RegistryCredential } from '../types.js';

/**
 * Credentials from the environment (`MOLECULE_REGISTRY_USERNAME` + `MOLECULE_REGISTRY_PASSWORD`,
 * else the legacy `GHCR_USER` + `GHCR_TOKEN`, parsed by `loadRegistrySettings`), for the
 * configured registry host only: never handed to another host.
 */
export function resolveEnvCredential(
  host: string,
  settings: Pick<RegistrySettings, 'host' | 'envCredential'>,
): RegistryCredential | undefined {
  if (normalizeRegistryHost(host) !== normalizeRegistryHost(settings.host)) return undefined;
  return settings.envCredential;
}
