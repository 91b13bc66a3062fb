export type RealPartsErrorCode =
  | 'MISSING_BINARY'
  | 'START_FAILED'
  | 'COMMAND_FAILED'
  | 'PUSH_FAILED'
  | 'INVALID_OPTIONS';

/**
 * Every failure of the harness. Messages name the command, URL or status involved and never
 * carry a password, token or Authorization header.
 */
export class RealPartsError extends Error {
  override readonly name = 'RealPartsError';
  readonly code: RealPartsErrorCode;
  readonly status?: number;

  constructor(
    code: RealPartsErrorCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }
}

export function isRealPartsError(value: unknown): value is RealPartsError {
  return value instanceof Error && value.name === 'RealPartsError' && 'code' in value;
}
