import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

function sink() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { destination, text: () => chunks.join('') };
}

describe('redactUrl', () => {
  it.each([
    ['/admin/x', '/admin/x'],
    ['/admin/x?runtime=codex&recreate=false', '/admin/x?runtime=codex&recreate=false'],
    [
      '/admin/x?runtime=codex&token=s3cret&digest=sha256:ab',
      '/admin/x?runtime=codex&token=[redacted]&digest=sha256:ab',
    ],
    ['/x?access_token=abc', '/x?access_token=[redacted]'],
    ['/x?s3cret', '/x?s3cret=[redacted]'],
    ['/x?a%20b=s3cret', '/x?[redacted]'],
    ['/x?run%74ime=codex', '/x?run%74ime=codex'],
    ['/x?', '/x?'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('createLogger', () => {
  it('writes JSON with the service name and redacts secret fields', () => {
    const { destination, text } = sink();
    const logger = createLogger({ service: 'test', destination, pretty: false });
    logger.info(
      {
        token: 't0ken',
        config: { adminToken: 'adm1n', password: 'pa55' },
        headers: { authorization: 'Bearer x', 'x-registry-auth': 'eyJ' },
        req: { method: 'POST', url: '/a?token=s3cret&runtime=codex' },
      },
      'hello',
    );
    const line = JSON.parse(text()) as Record<string, unknown>;
    expect(line.service).toBe('test');
    expect(line.msg).toBe('hello');
    const raw = text();
    for (const secret of ['t0ken', 'adm1n', 'pa55', 'Bearer x', 'eyJ', 's3cret']) {
      expect(raw).not.toContain(secret);
    }
    expect((line.req as { url: string }).url).toBe('/a?token=[redacted]&runtime=codex');
  });

  it('honours the level', () => {
    const { destination, text } = sink();
    const logger = createLogger({ service: 'test', destination, pretty: false, level: 'warn' });
    logger.info('quiet');
    logger.warn('loud');
    expect(text()).not.toContain('quiet');
    expect(text()).toContain('loud');
  });
});
