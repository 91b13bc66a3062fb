/**
 * A body far over the limit, over a real socket: every format answers 413 (or 401 first for a
 * wrong bearer) rather than closing the connection without a status.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HOOK_BODY_LIMIT } from '../../src/hooks/route.js';
import { GITHUB_SECRET, HOOK_TOKEN, useHookHarness } from './harness.js';

const rig = useHookHarness();
const sockets: Array<() => void> = [];
afterEach(() => {
  for (const destroy of sockets.splice(0)) destroy();
});

function send(port: number, headers: Record<string, string>, size: number) {
  return new Promise<{ status: number | undefined; error?: string }>((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hooks/registry',
        headers: { ...headers, 'content-length': String(size) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
      },
    );
    req.on('error', (error) => resolve({ status: undefined, error: error.message }));
    // Never leave the socket to the app's close: the test ends it either way.
    sockets.push(() => req.destroy());
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('a 5 MB body', () => {
  it.each([
    [
      'GitHub with a bad signature',
      {
        'x-github-event': 'package',
        'x-hub-signature-256': 'sha256=00',
        'content-type': 'application/json',
      },
      [413],
    ],
    [
      'GitHub without a signature',
      { 'x-github-event': 'package', 'content-type': 'application/json' },
      [401],
    ],
    [
      'a bearer format with the right token',
      { authorization: `Bearer ${HOOK_TOKEN}`, 'content-type': 'application/json' },
      [413],
    ],
    [
      'a bearer format with a wrong token',
      { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      [401],
    ],
  ])('%s gets a status, not a reset', async (_name, headers, statuses) => {
    const { app } = await rig.setup({ hookToken: HOOK_TOKEN, githubSecret: GITHUB_SECRET });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const result = await send(port, headers as Record<string, string>, 5 * 1024 * 1024);
    expect(result.error).toBeUndefined();
    expect(statuses).toContain(result.status);
    expect(5 * 1024 * 1024).toBeGreaterThan(DEFAULT_HOOK_BODY_LIMIT);
  });
});
