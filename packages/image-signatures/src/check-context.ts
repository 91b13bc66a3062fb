import type { SignatureSource } from './signature-source.js';
import type { SigningKey } from './signing-keys.js';

/** What each format's check needs: where to read, what to verify, with which keys. */
export interface CheckContext {
  readonly source: SignatureSource;
  /** The image digest, `sha256:<64 hex>`. */
  readonly digest: string;
  readonly keys: readonly SigningKey[];
  /** Aborted when the caller aborts, or when the other format's check failed. */
  readonly signal: AbortSignal;
}
