import { raceSignal } from '../abort.js';
import { isRegistryError, RegistryError } from '../errors.js';
import { normalizeRegistryHost } from '../host-key.js';
import { loadRegistrySettings, type RegistrySettings } from '../settings.js';
import { ANONYMOUS, type CredentialResolver, type Env, type RegistryCredential } from '../types.js';
import { getHelperCredential } from './credential-helper.js';
import { authEntryCredential, credentialHelperFor, readDockerConfig } from './docker-config.js';
import { createEcrCredentialSource, type EcrClientFactory, parseEcrHost } from './ecr.js';
import { resolveEnvCredential } from './env.js';

export interface CredentialResolverOptions {
  /** The registry variables, parsed at start by `loadRegistrySettings`. */
  readonly settings?: RegistrySettings;
  /** Shorthand for `settings: loadRegistrySettings(env)` (throws on a bad value). */
  readonly env?: Env;
  /** Docker config file (default: `settings.dockerConfigPath`). */
  readonly dockerConfigPath?: string;
  /** Bound on one credential helper run (default 10 s). */
  readonly helperTimeoutMs?: number;
  /** How long a Docker-config/helper answer is reused (default 60 s; 0 disables). */
  readonly cacheTtlMs?: number;
  /** Build the ECR SDK client for a region (tests inject one). */
  readonly ecrClientFactory?: EcrClientFactory;
  /** ECR endpoint override for the default SDK client (tests point it at a local fake). */
  readonly ecrEndpoint?: string;
  readonly now?: () => number;
}

/**
 * The one place credentials come from, for the watcher and the engine alike. For `host`:
 *
 * 1. `MOLECULE_REGISTRY_USERNAME` + `MOLECULE_REGISTRY_PASSWORD` (configured registry host only)
 * 2. `GHCR_USER` + `GHCR_TOKEN` (legacy; configured registry host only)
 * 3. the Docker config: `credHelpers[host]`, else `credsStore` (docker-credential-helpers
 *    protocol), else the `auths` entry (`auth`, `username`/`password`, `identitytoken`)
 * 4. for an ECR host, `GetAuthorizationToken` via the AWS SDK
 * 5. anonymous
 *
 * @example
 * const credentials = createCredentialResolver({ env: process.env });
 * const credential = await credentials.resolve(registryHost());
 */
export function createCredentialResolver(
  options: CredentialResolverOptions = {},
): CredentialResolver {
  const settings = options.settings ?? loadRegistrySettings(options.env ?? process.env);
  const env = settings.env;
  const now = options.now ?? Date.now;
  const configPath = options.dockerConfigPath ?? settings.dockerConfigPath;
  const helperTimeoutMs = options.helperTimeoutMs ?? 10_000;
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const ecr = createEcrCredentialSource({
    env,
    ...(options.ecrClientFactory ? { clientFactory: options.ecrClientFactory } : {}),
    ...(options.ecrEndpoint ? { endpoint: options.ecrEndpoint } : {}),
    now,
  });
  const cache = new Map<
    string,
    { value: Promise<RegistryCredential | undefined>; until: number }
  >();

  async function fromDockerConfig(host: string): Promise<RegistryCredential | undefined> {
    const config = await readDockerConfig(configPath);
    if (config === undefined) return undefined;
    const helper = credentialHelperFor(config, host);
    if (helper !== undefined) {
      const fromHelper = await getHelperCredential({
        helper,
        host,
        env,
        timeoutMs: helperTimeoutMs,
      });
      if (fromHelper !== undefined) return fromHelper;
    }
    return authEntryCredential(config, host, configPath);
  }

  /** Shared by concurrent callers, so no one caller's signal is tied to it. */
  function cachedDockerConfig(host: string): Promise<RegistryCredential | undefined> {
    const key = normalizeRegistryHost(host);
    const hit = cache.get(key);
    if (hit !== undefined && hit.until > now()) return hit.value;
    const value = fromDockerConfig(host);
    if (cacheTtlMs > 0) {
      cache.set(key, { value, until: now() + cacheTtlMs });
      value.catch(() => cache.delete(key));
    }
    return value;
  }

  return {
    async resolve(host, resolveOptions = {}) {
      try {
        const fromEnv = resolveEnvCredential(host, settings);
        if (fromEnv !== undefined) return fromEnv;
        const fromConfig = await raceSignal(cachedDockerConfig(host), resolveOptions.signal);
        if (fromConfig !== undefined) return fromConfig;
        const ecrHost = parseEcrHost(host);
        if (ecrHost !== undefined) return await ecr.get(ecrHost, resolveOptions.signal);
        return ANONYMOUS;
      } catch (error) {
        if (isRegistryError(error) || resolveOptions.signal?.aborted) throw error;
        throw new RegistryError({
          code: 'CONFIG',
          method: 'CREDENTIALS',
          target: host,
          host,
          hint: `resolving credentials failed (${(error as Error).name}); check MOLECULE_IMAGE_REGISTRY and the Docker config`,
          cause: error,
        });
      }
    },
  };
}
