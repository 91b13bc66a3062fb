import type { Env } from './types.js';

/**
 * The registry host the operator configured (`MOLECULE_IMAGE_REGISTRY`, default ghcr.io).
 * Temporary local reading until @molecule/registry's `registryHost()` lands.
 */
export function configuredRegistryHost(env: Env): string {
  const value = (env.MOLECULE_IMAGE_REGISTRY ?? '').trim().replace(/\/+$/, '');
  if (value === '') return 'ghcr.io';
  return value.split('/')[0] ?? 'ghcr.io';
}
