import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** One line of the connection recorder's log (see connection-recorder.preload.mjs). */
export type ConnectionEvent =
  | { type: 'connect'; pid: number; path: string }
  | { type: 'connect'; pid: number; host: string; port: number }
  | { type: 'lookup'; pid: number; hostname: string };

export interface ConnectionAudit {
  readonly events: readonly ConnectionEvent[];
  /** Events that reached, or tried to resolve, anything but loopback or an allowed socket path. */
  readonly violations: readonly ConnectionEvent[];
}

/** Loopback as the registry-client's plain-http rule defines it: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

export function parseConnectionLog(text: string): ConnectionEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ConnectionEvent);
}

/**
 * Judges a connection log: a connect to a non-loopback host, a unix socket other than the
 * allowed ones, or a DNS lookup of any name but localhost is a violation.
 */
export function auditConnections(
  events: readonly ConnectionEvent[],
  allowedSocketPaths: readonly string[],
): ConnectionAudit {
  const violations = events.filter((event) => {
    if (event.type === 'lookup') return !isLoopbackHost(event.hostname);
    if ('path' in event) return !allowedSocketPaths.includes(event.path);
    return !isLoopbackHost(event.host);
  });
  return { events, violations };
}

export function readConnectionAudit(
  logFile: string,
  allowedSocketPaths: readonly string[],
): ConnectionAudit {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return auditConnections(parseConnectionLog(text), allowedSocketPaths);
}
