import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../src/logger.js';

/** A JSON logger into memory, so tests can read (and search for secrets in) every line. */
export function memoryLogger(level = 'debug'): {
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
  const logger = createLogger({ service: 'test', level, destination, pretty: false });
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
