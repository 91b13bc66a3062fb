/**
 * Test helpers for the apps' suites (the `@molecule/service-kit/testing` entry; never part of
 * a service's runtime): a logger into memory, and a stop signal a test fires by hand.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from './logger.js';

/** A JSON logger writing into memory, so tests can read (and search for secrets in) the logs. */
export function memoryLogger(options: { service?: string; level?: string } = {}): {
  logger: Logger;
  text: () => string;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({
    service: options.service ?? 'test',
    level: options.level ?? 'debug',
    destination,
    pretty: false,
  });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A `stop` promise for `serve()` and `fire(reason)` to resolve it. */
export function manualStop(): { stop: Promise<string>; fire: (reason: string) => void } {
  let fire!: (reason: string) => void;
  const stop = new Promise<string>((resolve) => {
    fire = resolve;
  });
  return { stop, fire };
}
