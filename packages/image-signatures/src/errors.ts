/**
 * Stable codes of every error this package throws. Callers branch on `code`, never on
 * `message`. Verification outcomes are not errors: they are `TrustVerdict` values.
 */
export type ImageSignatureErrorCode = 'INVALID_SIGNING_KEY' | 'CONFIG';

/** Brand so `isImageSignatureError` works across duplicate copies of this package. */
const kImageSignatureError = Symbol.for('@molecule/image-signatures.ImageSignatureError');

/**
 * Base class of every error thrown by `@molecule/image-signatures`. No message or property
 * carries key material: keys are named by their file and, once parsed, by their id
 * (`sha256:<hex of the SPKI DER>`), which is a fingerprint, not the key.
 */
export abstract class ImageSignatureError extends Error {
  abstract readonly code: ImageSignatureErrorCode;
  override name = 'ImageSignatureError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, kImageSignatureError, { value: true });
  }
}

/**
 * A key file (or directory of key files) cannot be used: missing, unreadable, not PEM, a
 * private key, or a public key of a type or curve we do not verify with.
 *
 * @example
 * new SigningKeyError('/etc/molecule/cosign.key', 'holds a private key; give the public key (cosign.pub)')
 * // message: /etc/molecule/cosign.key holds a private key; give the public key (cosign.pub)
 */
export class SigningKeyError extends ImageSignatureError {
  readonly code = 'INVALID_SIGNING_KEY' as const;
  override name = 'SigningKeyError';
  /** The file or directory at fault, as given. */
  readonly source: string;
  /** Which PEM block of the file (1-based), when one block is at fault. */
  readonly block?: number;
  /** Why it is refused, a verb phrase (`holds a private key…`), without key material. */
  readonly reason: string;

  constructor(source: string, reason: string, options: { block?: number; cause?: unknown } = {}) {
    const where = options.block === undefined ? source : `${source} (PEM block ${options.block})`;
    super(`${where} ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.source = source;
    if (options.block !== undefined) this.block = options.block;
    this.reason = reason;
  }
}

/**
 * An environment variable of the signed-image gate holds a bad value. Services refuse to
 * start on this (exit 2), so the message names the variable, the value (a mode, a number or
 * a path; never key material), the reason and what was expected.
 *
 * @example
 * new SignatureConfigError({ variable: 'MOLECULE_IMAGE_SIGNATURE_THRESHOLD', value: '0',
 *   reason: 'at least one key must sign', expected: 'an integer from 1 to 2 (the number of keys)' })
 */
export class SignatureConfigError extends ImageSignatureError {
  readonly code = 'CONFIG' as const;
  override name = 'SignatureConfigError';
  /** The environment variable's name, e.g. `MOLECULE_IMAGE_SIGNATURES`. */
  readonly variable: string;
  /** The offending value, exactly as it was set. */
  readonly value: string;
  readonly reason: string;
  readonly expected: string;

  constructor(details: {
    variable: string;
    value: string;
    reason: string;
    expected: string;
    cause?: unknown;
  }) {
    super(
      `${details.variable}=${JSON.stringify(details.value)} is not valid: ${details.reason}; expected ${details.expected}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.variable = details.variable;
    this.value = details.value;
    this.reason = details.reason;
    this.expected = details.expected;
  }
}

/** True for any error thrown by this package, whichever copy of the package threw it. */
export function isImageSignatureError(value: unknown): value is ImageSignatureError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kImageSignatureError] === true
  );
}

/** A `SignatureConfigError` from any copy of this package: a bad environment variable. */
export function isSignatureConfigError(value: unknown): value is SignatureConfigError {
  return isImageSignatureError(value) && value.code === 'CONFIG';
}
