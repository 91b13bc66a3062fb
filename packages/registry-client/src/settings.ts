/**
 * Every registry variable, parsed once at start: `loadRegistrySettings(env)` is what both
 * services' config modules call, and what the client and credential factories take. A bad
 * value throws `RegistryConfigError` naming the variable (never a secret's value), so a
 * service refuses to start instead of, say, pulling anonymously hours later because a
 * password was missing.
 *
 * Contract: the product contract (SPEC), "Inputs that must be refused at start".
 */
import { readFileSync } from 'node:fs';
import {
  type Env,
  imagePlatform,
  RegistryConfigError,
  registryHost,
  registryPrefix,
} from '@molecule/registry';
import { dockerConfigPath, parseDockerConfig } from './credentials/docker-config.js';
import { type HostPort, parseInsecureRegistries } from './http-policy.js';
import type { RegistryCredential } from './types.js';

export interface RegistrySettings {
  /** `MOLECULE_IMAGE_REGISTRY`, normalised (`registryPrefix()`). */
  readonly prefix: string;
  /** The prefix's host[:port] (`registryHost()`): the only host env credentials go to. */
  readonly host: string;
  /** `MOLECULE_IMAGE_PLATFORM` (`imagePlatform()`); `''` = the engine's default. */
  readonly platform: string;
  /** `MOLECULE_REGISTRY_USERNAME`/`_PASSWORD`, else legacy `GHCR_USER`/`GHCR_TOKEN`. */
  readonly envCredential: Extract<RegistryCredential, { kind: 'basic' }> | undefined;
  /** `MOLECULE_INSECURE_REGISTRIES`: hosts that may be spoken to over plain http. */
  readonly insecureRegistries: readonly HostPort[];
  /** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (checked when it exists). */
  readonly dockerConfigPath: string;
  /** The environment handed to credential helpers and the AWS SDK's credential chain. */
  readonly env: Env;
}

/**
 * @example
 * const settings = loadRegistrySettings(process.env);
 * const client = createRegistryClient({ settings, credentials: createCredentialResolver({ settings }) });
 * @throws RegistryConfigError naming the variable at fault.
 */
export function loadRegistrySettings(env: Env = process.env): RegistrySettings {
  const snapshot: Env = Object.freeze({ ...env });
  const prefix = registryPrefix(snapshot);
  const host = registryHost(snapshot);
  const platform = imagePlatform(snapshot);
  // Both pairs are checked, so half a legacy pair is refused even beside a full new one.
  const current = credentialPair(
    snapshot,
    'MOLECULE_REGISTRY_USERNAME',
    'MOLECULE_REGISTRY_PASSWORD',
    'env',
  );
  const legacy = credentialPair(snapshot, 'GHCR_USER', 'GHCR_TOKEN', 'env-legacy');
  const envCredential = current ?? legacy;
  const insecureRegistries = parseInsecureRegistries(snapshot.MOLECULE_INSECURE_REGISTRIES);
  const configPath = dockerConfigPath(snapshot);
  checkDockerConfig(configPath, snapshot);
  return Object.freeze({
    prefix,
    host,
    platform,
    envCredential,
    insecureRegistries,
    dockerConfigPath: configPath,
    env: snapshot,
  });
}

/** Both variables of a pair, or neither: one without the other is a mistake, not anonymity. */
function credentialPair(
  env: Env,
  userVariable: string,
  secretVariable: string,
  source: 'env' | 'env-legacy',
): Extract<RegistryCredential, { kind: 'basic' }> | undefined {
  const username = env[userVariable]?.trim() ?? '';
  const password = env[secretVariable] ?? '';
  if (username === '' && password.trim() === '') return undefined;
  if (username === '' || password.trim() === '') {
    const missing = username === '' ? userVariable : secretVariable;
    const present = username === '' ? secretVariable : userVariable;
    throw new RegistryConfigError({
      variable: missing,
      value: '',
      secret: true,
      description: 'set',
      reason: `${present} is set without it`,
      expected: `both ${userVariable} and ${secretVariable}, or neither`,
    });
  }
  return { kind: 'basic', username, password, source };
}

/** A Docker config that exists must be readable JSON of the expected shape. */
function checkDockerConfig(path: string, env: Env): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw dockerConfigError(path, env, `cannot be read (${code ?? 'error'})`, error);
  }
  const problem = parseDockerConfig(text).problem;
  if (problem !== undefined) throw dockerConfigError(path, env, problem);
}

function dockerConfigError(path: string, env: Env, reason: string, cause?: unknown) {
  const variable = env.DOCKER_CONFIG ? 'DOCKER_CONFIG' : 'HOME';
  return new RegistryConfigError({
    variable,
    value: env[variable] ?? '',
    description: 'usable',
    reason: `${path} ${reason}`,
    expected: 'a directory whose config.json, when present, is valid Docker config JSON',
    ...(cause === undefined ? {} : { cause }),
  });
}
