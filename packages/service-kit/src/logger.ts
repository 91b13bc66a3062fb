/**
 * pino, JSON lines; pretty when writing to a terminal (pino-pretty is loaded only then).
 * Secrets are redacted by path as a second line of defence: the code never logs credentials
 * in the first place, and request URLs are logged with their query values redacted.
 */
import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import type { LogLevel } from './env/variables.js';

export type { Logger } from 'pino';

/** Field paths whose values never reach a log line, in either service. */
export const REDACT_PATHS = [
  'token',
  'password',
  'authorization',
  'adminToken',
  'hookToken',
  'githubSecret',
  'identityToken',
  'registryAuth',
  'databaseUrl',
  'headers.authorization',
  'headers["x-registry-auth"]',
  'req.headers.authorization',
  'req.headers["x-registry-auth"]',
  '*.token',
  '*.password',
  '*.authorization',
  '*.adminToken',
  '*.hookToken',
  '*.githubSecret',
  '*.identityToken',
  '*.registryAuth',
  '*.databaseUrl',
  '*["x-registry-auth"]',
  '*.headers.authorization',
];

/** Query parameters whose values request logs may show (SPEC "Logs"); every other is redacted. */
export const LOGGED_QUERY_KEYS: ReadonlySet<string> = new Set(['runtime', 'recreate', 'digest']);

export const REDACTED = '[redacted]';

/**
 * A request URL as logs may show it: the path, and the query with every value redacted but
 * those of `LOGGED_QUERY_KEYS` (a client may put a token in the URL; it must not reach a log).
 *
 * @example
 * redactUrl('/admin/x?runtime=codex&token=s3cret'); // '/admin/x?runtime=codex&token=[redacted]'
 */
export function redactUrl(url: string, allowed: ReadonlySet<string> = LOGGED_QUERY_KEYS): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const path = url.slice(0, mark);
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        name = key;
      }
      if (allowed.has(name)) return pair;
      // The key is kept (it helps to see *what* was sent); a key that is not a plain name is
      // redacted too, as it could be a value sent without `=`.
      return /^[\w.-]{1,64}$/.test(key) ? `${key}=${REDACTED}` : REDACTED;
    })
    .join('&');
  return `${path}?${query}`;
}

interface RequestLike {
  method?: string;
  url?: string;
  hostname?: string;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** The `req` serializer of both services' request logs (fastify's, with the URL redacted). */
export function serializeRequest(request: RequestLike): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url ?? ''),
    host: request.hostname,
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
    remotePort: request.socket?.remotePort,
  };
}

export interface LoggerOptions {
  /** `service` field of every line. */
  service: string;
  level?: LogLevel | string;
  /** Where to write; default stdout. */
  destination?: DestinationStream & { isTTY?: boolean };
  /** Force pretty or JSON; default: pretty when the destination is a TTY. */
  pretty?: boolean;
}

const requireCjs = createRequire(import.meta.url);

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const usePretty = options.pretty ?? Boolean((destination as { isTTY?: boolean }).isTTY);
  const base = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: serializeRequest, err: stdSerializers.err },
  };
  if (usePretty) {
    // Loaded on demand: pino-pretty and its dependencies cost memory a service in a
    // container (no TTY) never needs.
    const pretty = requireCjs('pino-pretty') as (options: object) => DestinationStream;
    return pino(base, pretty({ destination, colorize: true, sync: true }));
  }
  return pino(base, destination);
}
