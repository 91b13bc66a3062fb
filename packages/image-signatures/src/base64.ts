/**
 * Strict base64 for signatures and envelopes. `Buffer.from(text, 'base64')` skips characters
 * it does not know and never fails, which would let garbage pass as a (wrong) signature and
 * hide a malformed artifact; these functions answer `undefined` instead.
 */

const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** URL-safe alphabet, padding optional: protobuf's JSON mapping of `bytes` accepts both forms. */
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes standard base64, or unpadded URL-safe base64 (protobuf JSON `bytes`). Whitespace is
 * removed first when `whitespace` is true: a `.sig` annotation written by hand or by
 * `cosign attach` may carry line breaks (sigstore-rs tolerates them too).
 */
export function decodeBase64(
  text: string,
  options: { whitespace?: boolean } = {},
): Buffer | undefined {
  const compact = options.whitespace ? text.replace(/\s+/g, '') : text;
  if (compact.length === 0) return undefined;
  if (STANDARD.test(compact)) return Buffer.from(compact, 'base64');
  if (URL_SAFE.test(compact) && compact.length % 4 !== 1) return Buffer.from(compact, 'base64url');
  return undefined;
}
