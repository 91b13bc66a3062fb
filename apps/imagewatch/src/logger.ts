/**
 * pino, JSON lines; pretty when writing to a terminal. Secrets are redacted by path as a
 * second line of defence — the code never logs credentials in the first place.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export const REDACT_PATHS = [
  'token',
  'password',
  'authorization',
  'adminToken',
  'hookToken',
  'githubSecret',
  'headers.authorization',
  'config.adminToken',
  '*.token',
  '*.password',
  '*.authorization',
  '*.adminToken',
  '*.hookToken',
  '*.githubSecret',
  '*.identityToken',
  '*.headers.authorization',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Where to write; default stdout (stderr for the CLI's `check`). */
  destination?: DestinationStream & { isTTY?: boolean };
  /** Force pretty or JSON; default: pretty when the destination is a TTY. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const usePretty = options.pretty ?? Boolean((destination as { isTTY?: boolean }).isTTY);
  const base = {
    level: options.level ?? 'info',
    base: { service: 'imagewatch' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (usePretty) {
    return pino(
      base,
      pretty({ destination: destination as NodeJS.WritableStream, colorize: true, sync: true }),
    );
  }
  return pino(base, destination);
}
