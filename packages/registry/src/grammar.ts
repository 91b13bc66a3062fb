/**
 * The distribution reference grammar, as anchored regular expressions.
 * Spec: https://github.com/distribution/reference/blob/main/regexp.go
 */

/** Lowercase alphanumerics with separators `.`, `_`, `__` or any run of `-` between them. */
export const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** The same shape without the lowercase rule, to tell "uppercase" apart from "malformed". */
export const PATH_COMPONENT_ANY_CASE = /^[a-zA-Z0-9]+(?:(?:[._]|__|-+)[a-zA-Z0-9]+)*$/;

/** One DNS-ish label of a registry host (a subset of DNS, as Docker accepts it). */
export const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;

/** A registry host with optional port: a dotted name or a bracketed IPv6 address. */
export const DOMAIN_AND_PORT =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** A tag: a word character, then up to 127 word characters, `.` or `-`. */
export const TAG = /^\w[\w.-]{0,127}$/;

/** A digest's surface syntax; `validateDigest` then checks algorithm and length. */
export const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** A bare 64-hex image ID, which is never a repository name. */
export const IDENTIFIER = /^[a-f0-9]{64}$/;

/** `sha256:` followed by exactly 64 lowercase hex digits. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Longest repository name (host, port and path together). */
export const NAME_TOTAL_LENGTH_MAX = 255;

/** Hex length of the digest algorithms the engine supports (go-digest's registered ones). */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = Object.freeze({
  sha256: 64,
  sha384: 96,
  sha512: 128,
});

/**
 * Why a digest is unusable, or `undefined` when it is valid (known algorithm, exact length,
 * lowercase hex), following go-digest's rules.
 */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return 'not of the form <algorithm>:<hex>';
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `unsupported digest algorithm "${algorithm}"`;
  if (encoded.length !== length) {
    return `a ${algorithm} digest has ${length} hex digits, this one has ${encoded.length}`;
  }
  if (!/^[a-f0-9]+$/.test(encoded)) return 'digest hex must be lowercase';
  return undefined;
}

/**
 * True for a valid tag (`[\w][\w.-]{0,127}`, the distribution reference grammar).
 *
 * @example isValidTag('latest') // true
 */
export function isValidTag(value: string): boolean {
  return TAG.test(value);
}

/**
 * Whether `value` is `sha256:<64 lowercase hex>`.
 *
 * @example isSha256Digest(`sha256:${'a'.repeat(64)}`) // true
 */
export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}
