import type { Env } from './env.js';
import { InvalidDigestError, UnknownRuntimeError } from './errors.js';
import { isSha256Digest } from './grammar.js';
import { registryPrefix } from './prefix.js';
import {
  DEFAULT_RUNTIME,
  isKnownRuntime,
  KNOWN_RUNTIMES,
  type Runtime,
  TEMPLATE_REPOSITORY_PREFIX,
} from './runtimes.js';

/** The tag the platform provisions workspaces from. */
export const RUNTIME_IMAGE_TAG = 'latest';

/**
 * The repository (no tag, no digest) of a known runtime's template image, `undefined` otherwise.
 *
 * @example runtimeRepository('codex', {}) // 'ghcr.io/molecule-ai/workspace-template-codex'
 */
export function runtimeRepository(runtime: string, env: Env = process.env): string | undefined {
  if (!isKnownRuntime(runtime)) return undefined;
  return `${registryPrefix(env)}/${TEMPLATE_REPOSITORY_PREFIX}${runtime}`;
}

/**
 * `<prefix>/workspace-template-<runtime>:latest` for a known runtime, `undefined` otherwise.
 *
 * @example runtimeImage('hermes', { MOLECULE_IMAGE_REGISTRY: 'localhost:5000' }) // 'localhost:5000/workspace-template-hermes:latest'
 */
export function runtimeImage(runtime: string, env: Env = process.env): string | undefined {
  const repository = runtimeRepository(runtime, env);
  return repository === undefined ? undefined : `${repository}:${RUNTIME_IMAGE_TAG}`;
}

/**
 * Every known runtime's image, keyed by runtime, in `KNOWN_RUNTIMES` order.
 *
 * @example runtimeImages({})['claude-code'] // 'ghcr.io/molecule-ai/workspace-template-claude-code:latest'
 */
export function runtimeImages(env: Env = process.env): Record<Runtime, string> {
  const prefix = registryPrefix(env);
  const images = {} as Record<Runtime, string>;
  for (const runtime of KNOWN_RUNTIMES) {
    images[runtime] = `${prefix}/${TEMPLATE_REPOSITORY_PREFIX}${runtime}:${RUNTIME_IMAGE_TAG}`;
  }
  return images;
}

/**
 * The default runtime's (`langgraph`) image.
 *
 * @example defaultImage({}) // 'ghcr.io/molecule-ai/workspace-template-langgraph:latest'
 */
export function defaultImage(env: Env = process.env): string {
  return runtimeImage(DEFAULT_RUNTIME, env)!;
}

/**
 * A known runtime's image pinned to a digest: `<prefix>/workspace-template-<runtime>@sha256:<hex>`.
 * Throws `InvalidDigestError` unless `digest` is `sha256:` + 64 lowercase hex digits, and
 * `UnknownRuntimeError` for a runtime not in `KNOWN_RUNTIMES`.
 *
 * @example pinnedImage('codex', `sha256:${'ab'.repeat(32)}`, {}) // 'ghcr.io/molecule-ai/workspace-template-codex@sha256:abab…'
 */
export function pinnedImage(runtime: string, digest: string, env: Env = process.env): string {
  const repository = runtimeRepository(runtime, env);
  if (repository === undefined) throw new UnknownRuntimeError(runtime, KNOWN_RUNTIMES);
  if (!isSha256Digest(digest)) {
    throw new InvalidDigestError(
      digest,
      digest.startsWith('sha256:')
        ? 'the hex part must be 64 lowercase hex digits'
        : 'it must start with "sha256:"',
    );
  }
  return `${repository}@${digest}`;
}
