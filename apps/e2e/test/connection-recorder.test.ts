import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConnectionLog } from '../src/connection-audit.js';

const preload = join(
  dirname(fileURLToPath(import.meta.url)),
  '../src/connection-recorder.preload.mjs',
);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the connection recorder preload', () => {
  it('records net connects (also fetch, which goes through undici) and DNS lookups', async () => {
    dir = await mkdtemp(join(tmpdir(), 'recorder-'));
    const logFile = join(dir, 'log.jsonl');
    const script = `
      import http from 'node:http';
      import dns from 'node:dns';
      const server = http.createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', async () => {
        const { port } = server.address();
        await fetch('http://127.0.0.1:' + port + '/');
        await dns.promises.lookup('localhost');
        server.close();
      });`;
    await promisify(execFile)(
      process.execPath,
      [`--import=${preload}`, '--input-type=module', '-e', script],
      {
        env: { PATH: process.env.PATH, MOLECULE_E2E_CONNECTION_LOG: logFile },
      },
    );
    const events = parseConnectionLog(await readFile(logFile, 'utf8'));
    expect(events.filter((e) => e.type === 'connect')).toEqual([
      expect.objectContaining({ type: 'connect', host: '127.0.0.1' }),
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'lookup', hostname: 'localhost' }),
    );
  });
});
