/**
 * A variable of the environment holds a value the service cannot run with. Both services
 * stop at start on it with exit code 2 and this message, which names the variable and never
 * carries a secret (secret values are not echoed).
 */
const kConfigError = Symbol.for('@molecule/service-kit.ConfigError');

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CONFIG' as const;
  /** The environment variable at fault, e.g. `IMAGE_WATCH_INTERVAL`. */
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super(`${variable}: ${message}`, options);
    Object.defineProperty(this, kConfigError, { value: true });
    this.variable = variable;
  }
}

/** `instanceof` that also holds across duplicate copies of this module (bundled and source). */
export function isConfigError(value: unknown): value is ConfigError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kConfigError] === true
  );
}
