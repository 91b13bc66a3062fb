import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { RegistryError } from '../errors.js';
import { normalizeRegistryHost } from '../host-key.js';
import type { Env, RegistryCredential } from '../types.js';

/**
 * The parts of Docker's `config.json` that hold registry credentials.
 * Reference: https://docs.docker.com/reference/cli/docker/login/#credential-stores
 */
export const DockerConfigSchema = z.object({
  auths: z
    .record(
      z.string(),
      z.object({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        identitytoken: z.string().optional(),
      }),
    )
    .optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
export type DockerConfig = z.infer<typeof DockerConfigSchema>;

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (`HOME` from `env` first). */
export function dockerConfigPath(env: Env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

/** The parsed config, or `undefined` when there is no file. A broken file is a CONFIG error. */
export async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return undefined;
    }
    throw configError(path, 'cannot be read; check its permissions', error);
  }
  const parsed = parseDockerConfig(text);
  if (parsed.problem !== undefined) throw configError(path, `${parsed.problem}; fix or remove it`);
  return parsed.config;
}

/** `config.json` text → its credential parts, or what is wrong with it (no secret in it). */
export function parseDockerConfig(
  text: string,
): { config: DockerConfig; problem?: undefined } | { config?: undefined; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'is not valid JSON' };
  }
  const parsed = DockerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    return { problem: `has unexpected auths/credHelpers/credsStore entries${where}` };
  }
  return { config: parsed.data };
}

/** The credential helper for `host`: `credHelpers[host]`, else `credsStore`. */
export function credentialHelperFor(config: DockerConfig, host: string): string | undefined {
  const key = normalizeRegistryHost(host);
  for (const [entry, helper] of Object.entries(config.credHelpers ?? {})) {
    if (normalizeRegistryHost(entry) === key && helper) return helper;
  }
  return config.credsStore || undefined;
}

/** The `auths` entry for `host` (keys may carry a scheme or path, as `docker login` writes them). */
export function authEntryCredential(
  config: DockerConfig,
  host: string,
  path: string,
): RegistryCredential | undefined {
  const key = normalizeRegistryHost(host);
  for (const [entry, value] of Object.entries(config.auths ?? {})) {
    if (normalizeRegistryHost(entry) !== key) continue;
    let username = value.username;
    let password = value.password;
    if (value.auth) {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) {
        throw configError(
          path,
          `has an auths entry for ${entry} whose "auth" is not base64 of user:password`,
        );
      }
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    if (value.identitytoken) {
      return {
        kind: 'identity-token',
        username: username ?? '',
        identityToken: value.identitytoken,
        source: 'docker-config',
      };
    }
    if (username && password) return { kind: 'basic', username, password, source: 'docker-config' };
  }
  return undefined;
}

function configError(path: string, problem: string, cause?: unknown): RegistryError {
  return new RegistryError({
    code: 'CONFIG',
    method: 'READ',
    target: path,
    hint: `Docker config ${problem}`,
    ...(cause === undefined ? {} : { cause }),
  });
}
