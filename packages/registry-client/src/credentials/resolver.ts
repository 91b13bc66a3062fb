import { ANONYMOUS, type CredentialResolver, type Env, type RegistryCredential } from '../types.js';
import { resolveEnvCredential } from './env.js';

export interface CredentialResolverOptions {
  /** Environment to read (default `process.env`); never mutated. */
  readonly env?: Env;
}

/**
 * The one place credentials come from, for the watcher and the engine alike.
 * Order: env (`MOLECULE_REGISTRY_*`), legacy env (`GHCR_*`), Docker config, ECR, anonymous.
 */
export function createCredentialResolver(
  options: CredentialResolverOptions = {},
): CredentialResolver {
  const env = options.env ?? process.env;
  return {
    async resolve(host: string): Promise<RegistryCredential> {
      return resolveEnvCredential(host, env) ?? ANONYMOUS;
    },
  };
}
