import { isImageSignatureError, SignatureConfigError } from './errors.js';
import { loadSigningKeys, type SigningKey } from './signing-keys.js';

/** The environment as this package reads it; the caller passes it (services: their config). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Path of a PEM file of public keys, or of a directory of `*.pub` / `*.pem` files. */
export const SIGNING_KEYS_VARIABLE = 'MOLECULE_IMAGE_SIGNING_KEYS';
/** `enforce`, `warn` or `off`. */
export const SIGNATURES_VARIABLE = 'MOLECULE_IMAGE_SIGNATURES';
/** How many distinct configured keys must have signed a digest. */
export const THRESHOLD_VARIABLE = 'MOLECULE_IMAGE_SIGNATURE_THRESHOLD';

/**
 * `enforce`: only trusted digests are rolled out / pulled. `warn`: verify and report, roll out
 * anyway. `off`: no verification.
 */
export type SignatureMode = 'enforce' | 'warn' | 'off';

const MODES: readonly SignatureMode[] = ['enforce', 'warn', 'off'];

export interface SignaturePolicy {
  readonly mode: SignatureMode;
  /** Distinct keys (by id), in file order. Loaded and checked even when `mode` is `off`. */
  readonly keys: readonly SigningKey[];
  /** At least 1 and, when keys are configured, at most their number. */
  readonly threshold: number;
}

/**
 * The signed-image gate's configuration, from the environment (the product contract (SPEC), "Signed-image gate"):
 *
 * - `MOLECULE_IMAGE_SIGNING_KEYS`: keys, read now (see `loadSigningKeys`).
 * - `MOLECULE_IMAGE_SIGNATURES`: `enforce` (default with keys), `warn`, `off` (default
 *   without keys); trimmed, any case.
 * - `MOLECULE_IMAGE_SIGNATURE_THRESHOLD`: an integer from 1 to the number of keys; default 1.
 *
 * Empty or blank values count as unset. A bad value throws `SignatureConfigError` naming the
 * variable at fault; services exit 2 on it. Keys are validated whatever the mode, so a broken
 * key file is found at start, not on the day someone switches to `enforce`.
 *
 * @example
 * parseSignaturePolicy({ MOLECULE_IMAGE_SIGNING_KEYS: '/etc/molecule/cosign.pub' })
 * // { mode: 'enforce', keys: [{ id: 'sha256:…', algorithm: 'ecdsa-p256', … }], threshold: 1 }
 */
export function parseSignaturePolicy(env: Env): SignaturePolicy {
  const keysPath = setValue(env[SIGNING_KEYS_VARIABLE]);
  const modeText = setValue(env[SIGNATURES_VARIABLE]);
  const thresholdText = setValue(env[THRESHOLD_VARIABLE]);

  const mode = parseMode(modeText, keysPath !== undefined);
  const keys = keysPath === undefined ? [] : readKeys(keysPath);
  if (mode !== 'off' && keys.length === 0) {
    throw new SignatureConfigError({
      variable: SIGNATURES_VARIABLE,
      value: env[SIGNATURES_VARIABLE] ?? '',
      reason: `${mode} needs public keys, and ${SIGNING_KEYS_VARIABLE} is not set`,
      expected: `${SIGNING_KEYS_VARIABLE}=<PEM file or directory>, or ${SIGNATURES_VARIABLE}=off`,
    });
  }
  const threshold = parseThreshold(thresholdText, env[THRESHOLD_VARIABLE] ?? '', keys.length);
  return Object.freeze({ mode, keys: Object.freeze(keys), threshold });
}

/** Trimmed value, or `undefined` when unset, empty or blank. */
function setValue(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseMode(text: string | undefined, hasKeys: boolean): SignatureMode {
  if (text === undefined) return hasKeys ? 'enforce' : 'off';
  const mode = MODES.find((candidate) => candidate === text.toLowerCase());
  if (mode !== undefined) return mode;
  throw new SignatureConfigError({
    variable: SIGNATURES_VARIABLE,
    value: text,
    reason: 'unknown mode',
    expected: MODES.join(', '),
  });
}

function readKeys(path: string): SigningKey[] {
  try {
    return loadSigningKeys(path);
  } catch (error) {
    if (!isImageSignatureError(error)) throw error;
    // The key error's message names the file and the problem, never key material.
    throw new SignatureConfigError({
      variable: SIGNING_KEYS_VARIABLE,
      value: path,
      reason: error.message,
      expected:
        'a PEM file of public keys (ECDSA P-256, Ed25519, RSA) or a directory of *.pub files',
      cause: error,
    });
  }
}

function parseThreshold(text: string | undefined, raw: string, keyCount: number): number {
  if (text === undefined) return 1;
  const range =
    keyCount > 0 ? `an integer from 1 to ${keyCount} (the number of keys)` : 'an integer ≥ 1';
  const fail = (reason: string): never => {
    throw new SignatureConfigError({
      variable: THRESHOLD_VARIABLE,
      value: raw,
      reason,
      expected: range,
    });
  };
  if (!/^\d+$/.test(text)) return fail('not a whole number');
  const threshold = Number(text);
  if (!Number.isSafeInteger(threshold)) return fail('too large');
  if (threshold < 1) return fail('at least one key must sign');
  if (keyCount > 0 && threshold > keyCount) {
    return fail(`only ${keyCount} distinct key(s) are configured in ${SIGNING_KEYS_VARIABLE}`);
  }
  return threshold;
}
