/** Stable codes of every error this package throws. Callers branch on `code`, never on `message`. */
export type RegistryCoreErrorCode =
  /** A bad environment variable: the same code as every other configuration error here. */
  'CONFIG' | 'INVALID_REFERENCE' | 'INVALID_DIGEST' | 'UNKNOWN_RUNTIME';

/** Brand so `isRegistryCoreError` works across duplicate copies of this package. */
const kRegistryCoreError = Symbol.for('@molecule/registry.RegistryCoreError');

/** Base class of every error thrown by `@molecule/registry`. */
export abstract class RegistryCoreError extends Error {
  abstract readonly code: RegistryCoreErrorCode;
  override name = 'RegistryCoreError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, kRegistryCoreError, { value: true });
  }
}

/**
 * An environment variable holds a value that would otherwise surface as a confusing pull
 * failure much later. Services read the variables once at start and refuse to start on this.
 *
 * @example
 * new RegistryConfigError({ variable: 'MOLECULE_IMAGE_REGISTRY', value: 'https://ghcr.io/org',
 *   reason: 'remove the scheme', expected: '<host>[:port]/<path>' })
 */
export class RegistryConfigError extends RegistryCoreError {
  readonly code = 'CONFIG' as const;
  override name = 'RegistryConfigError';
  /** The environment variable's name, e.g. `MOLECULE_IMAGE_REGISTRY`. */
  readonly variable: string;
  /** The offending value, exactly as it was set (`undefined` for a secret, never kept). */
  readonly value: string | undefined;
  /** Why the value is rejected, e.g. `remove the scheme`. */
  readonly reason: string;
  /** What a valid value looks like. */
  readonly expected: string;

  constructor(details: {
    variable: string;
    value: string;
    reason: string;
    expected: string;
    description?: string;
    /** A secret (a password, a token): the message and the error never carry the value. */
    secret?: boolean;
    cause?: unknown;
  }) {
    const shown = details.secret
      ? details.variable
      : `${details.variable}=${JSON.stringify(details.value)}`;
    super(
      `${shown} is not ${details.description ?? 'valid'}: ${details.reason}; expected ${details.expected}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.variable = details.variable;
    this.value = details.secret ? undefined : details.value;
    this.reason = details.reason;
    this.expected = details.expected;
  }
}

/** A string is not a valid image reference under the distribution reference grammar. */
export class ImageReferenceError extends RegistryCoreError {
  readonly code = 'INVALID_REFERENCE' as const;
  override name = 'ImageReferenceError';
  /** The reference that failed to parse. */
  readonly reference: string;
  readonly reason: string;

  constructor(reference: string, reason: string) {
    super(
      `${JSON.stringify(reference)} is not a valid image reference: ${reason}; expected [<host>[:port]/]<path>[:<tag>][@<algorithm>:<hex>], e.g. ghcr.io/molecule-ai/workspace-template-langgraph:latest`,
    );
    this.reference = reference;
    this.reason = reason;
  }
}

/** A digest given to pin an image is not `sha256:` followed by 64 lowercase hex digits. */
export class InvalidDigestError extends RegistryCoreError {
  readonly code = 'INVALID_DIGEST' as const;
  override name = 'InvalidDigestError';
  readonly digest: string;

  constructor(digest: string, reason: string) {
    super(
      `${JSON.stringify(digest)} is not a valid image digest: ${reason}; expected sha256:<64 lowercase hex digits>, e.g. sha256:${'0'.repeat(64)}`,
    );
    this.digest = digest;
  }
}

/** A runtime name that is not one of `KNOWN_RUNTIMES` where a known one is required. */
export class UnknownRuntimeError extends RegistryCoreError {
  readonly code = 'UNKNOWN_RUNTIME' as const;
  override name = 'UnknownRuntimeError';
  readonly runtime: string;
  readonly knownRuntimes: readonly string[];

  constructor(runtime: string, knownRuntimes: readonly string[]) {
    super(
      `unknown runtime: ${JSON.stringify(runtime)}; expected one of ${knownRuntimes.join(', ')}`,
    );
    this.runtime = runtime;
    this.knownRuntimes = knownRuntimes;
  }
}

/** True for any error thrown by this package (any subclass of `RegistryCoreError`). */
export function isRegistryCoreError(value: unknown): value is RegistryCoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kRegistryCoreError] === true
  );
}

/** A `RegistryConfigError` from any copy of this package: a bad environment variable. */
export function isRegistryConfigError(value: unknown): value is RegistryConfigError {
  return isRegistryCoreError(value) && value.code === 'CONFIG';
}
